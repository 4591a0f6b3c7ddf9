"""Run a command and measure its wall time and the peak resident memory of its whole process tree."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

import psutil


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_measured(cmd: list[str], *, poll: float = 0.02, timeout: float | None = None) -> Measured:
    """Start ``cmd``, sample the summed RSS of it and its children every ``poll`` seconds."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            members = [root, *root.children(recursive=True)]
            peak = max(peak, sum(_rss(p) for p in members))
        except psutil.NoSuchProcess:
            pass
        if timeout is not None and time.perf_counter() - started > timeout:
            proc.kill()
            break
        time.sleep(poll)
    out, err = proc.communicate()
    return Measured(time.perf_counter() - started, peak / 2**20, proc.returncode, out, err)


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.NoSuchProcess:
        return 0
