"""Run a command and measure its wall and CPU time and the peak resident memory of its process tree."""

from __future__ import annotations

import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float  # the whole tree's summed RSS at its peak
    returncode: int | None
    stdout: str
    stderr: str
    cpu_seconds: float | None = None  # CPU of the reaped tree (None when stopped by the timeout)
    driver_mb: float = 0.0  # the command's own process at its peak
    worker_mb: float = 0.0  # its largest descendant at its peak
    timed_out: bool = False


def run_measured(cmd: list[str], *, poll: float = 0.02, timeout: float | None = None, cwd: Path | None = None) -> Measured:
    """Start ``cmd``, sample the RSS of it and its descendants every ``poll`` seconds; past ``timeout``
    seconds, kill the whole tree (children first)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    root = psutil.Process(proc.pid)
    peak = driver = worker = 0
    timed_out = False
    members = [root]
    while proc.poll() is None:
        try:
            members = [root, *root.children(recursive=True)]
            sizes = [_rss(p) for p in members]
            peak, driver, worker = max(peak, sum(sizes)), max(driver, sizes[0]), max(worker, max(sizes[1:], default=0))
        except psutil.NoSuchProcess:
            pass
        if timeout is not None and time.perf_counter() - started > timeout:
            timed_out = True
            for p in reversed(members):
                try:
                    p.kill()
                except psutil.NoSuchProcess:
                    pass
            break
        time.sleep(poll)
    out, err = proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = None if timed_out else (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(time.perf_counter() - started, peak / 2**20, proc.returncode, out, err, cpu, driver / 2**20, worker / 2**20, timed_out)


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.NoSuchProcess:
        return 0
