"""The day's problems on a Dask cluster: the same bytes as on local workers, in process and on a real
scheduler with two worker processes, a worker killed mid-run, and clear failures."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

pytest.importorskip("distributed", reason="the dask extra is not installed")

from harvestmatch.errors import ExecutionError, ParameterError  # noqa: E402
from matcher.fanout import DaskCluster, open_executor  # noqa: E402
from matcher.synthetic import synthetic_day  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATE = dt.date(2026, 6, 1)
OUTPUTS = ("allocations.csv", "offers_out.csv", "demand_out.csv")


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A synthetic day of 12 products over a 5 x 5 grid of regions, on disk."""
    folder = tmp_path_factory.mktemp("day")
    lat, lon = np.meshgrid(np.linspace(25, 40, 5), np.linspace(105, 120, 5), indexing="ij")
    ids = [f"r{k:02d}" for k in range(25)]
    offers, demand = synthetic_day(n_offers=600, n_products=12, region_ids=ids, region_lat=lat.ravel(), region_lon=lon.ravel(), date=DATE, seed=3)
    boxes = [shapely.box(x - 1.8, y - 1.8, x + 1.8, y + 1.8) for y, x in zip(lat.ravel(), lon.ravel(), strict=True)]
    gpd.GeoDataFrame({"region_id": ids, "hub_lat": lat.ravel(), "hub_lon": lon.ravel()}, geometry=boxes, crs=4326).to_file(
        folder / "regions.geojson", driver="GeoJSON"
    )
    offers.write_csv(folder / "offers.csv")
    demand.write_csv(folder / "demand.csv")
    return {"offers": folder / "offers.csv", "demand": folder / "demand.csv", "regions": folder / "regions.geojson"}


def _match(day: dict[str, Path], out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "harvest",
            "match",
            "--offers",
            str(day["offers"]),
            "--demand",
            str(day["demand"]),
            "--regions",
            str(day["regions"]),
            "--date",
            DATE.isoformat(),
            "--out",
            str(out),
            "--quiet",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


def _outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A real ``dask scheduler`` and worker processes on loopback, started and stopped by the test."""

    def __init__(self, workers: int) -> None:
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.workers = [
            subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        self._wait_for(workers)

    def _wait_for(self, workers: int) -> None:
        from distributed import Client

        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(self.address, timeout=5) as client:
                    client.wait_for_workers(workers, timeout=max(1.0, deadline - time.monotonic()))
                    return
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise

    def stop(self) -> None:
        for p in [*self.workers, self.scheduler]:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=30)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    c = Cluster(workers=2)
    try:
        yield c
    finally:
        c.stop()


@pytest.mark.slow
def test_a_day_on_a_real_cluster_gives_the_bytes_of_local_workers(day: dict[str, Path], tmp_path: Path, cluster: Cluster) -> None:
    one, two, dask = tmp_path / "one", tmp_path / "two", tmp_path / "dask"
    for out, extra in ((one, ["--workers", "1"]), (two, ["--workers", "2"]), (dask, ["--executor", "dask", "--scheduler", cluster.address])):
        done = _match(day, out, *extra)
        assert done.returncode == 0, done.stderr
    assert _outputs(one) == _outputs(two) == _outputs(dask)
    # the address may come from the environment instead
    env_out = tmp_path / "env"
    os.environ["HARVEST_DASK_SCHEDULER"] = cluster.address
    try:
        assert _match(day, env_out, "--executor", "dask").returncode == 0
    finally:
        del os.environ["HARVEST_DASK_SCHEDULER"]
    assert _outputs(env_out) == _outputs(one)


def _slow_square(x: int, pause: float) -> int:
    time.sleep(pause)
    return x * x


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_replaced_and_the_result_is_the_same(cluster: Cluster) -> None:
    executor = open_executor("dask", scheduler=cluster.address, warm=False)
    seen: list[int] = []
    killed = threading.Event()

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done >= 3 and not killed.is_set():
            os.kill(cluster.workers[0].pid, signal.SIGKILL)  # a worker dies with tasks in hand
            killed.set()

    try:
        got = executor.map_ordered(_slow_square, list(range(40)), 0.25, size=lambda x: 1, progress=progress)
    finally:
        executor.close()
    assert killed.is_set() and cluster.workers[0].wait(timeout=30) == -signal.SIGKILL
    assert got == [x * x for x in range(40)]
    assert seen[-1] == 40


def test_a_day_on_an_in_process_cluster_gives_the_bytes_of_local_workers(day: dict[str, Path], tmp_path: Path) -> None:
    from distributed import LocalCluster

    from matcher.batch import run_batch
    from matcher.params import MatchParams

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as local:
        run_batch(
            offers=day["offers"],
            demand=day["demand"],
            regions=day["regions"],
            date=DATE,
            out=tmp_path / "dask",
            params=MatchParams(executor="dask", scheduler=local.scheduler_address),
        )
    run_batch(offers=day["offers"], demand=day["demand"], regions=day["regions"], date=DATE, out=tmp_path / "local", params=MatchParams(workers=1))
    assert _outputs(tmp_path / "dask") == _outputs(tmp_path / "local")


@pytest.mark.slow
def test_an_unreachable_scheduler_fails_clearly_and_writes_nothing(day: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _match(day, out, "--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{_free_port()}")
    assert done.returncode == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_dask_without_an_address_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARVEST_DASK_SCHEDULER", raising=False)
    with pytest.raises(ParameterError, match="HARVEST_DASK_SCHEDULER"):
        open_executor("dask")
    with pytest.raises(ParameterError, match="executor must be one of"):
        open_executor("ray")


@pytest.mark.slow
def test_a_cluster_that_loses_every_worker_fails_the_day(cluster: Cluster) -> None:
    executor = DaskCluster(cluster.address, warm=False, grace_seconds=3.0)

    def progress(done: int, total: int) -> None:
        for p in cluster.workers:
            if p.poll() is None:
                p.kill()

    try:
        with pytest.raises(ExecutionError, match="no worker|lost its workers"):
            executor.map_ordered(_slow_square, list(range(20)), 0.5, size=lambda x: 1, progress=progress)
    finally:
        executor.close()


def test_a_plan_on_a_cluster_is_the_plan_on_local_workers() -> None:
    from distributed import LocalCluster

    from matcher.routing.plan import PlanSettings, plan_routes
    from tests.matcher.test_plan import QUICK, day

    inputs = day(4)
    local = plan_routes(inputs, QUICK)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        remote = plan_routes(inputs, PlanSettings(solve=QUICK.solve, executor="dask", scheduler=cluster.scheduler_address))
    assert remote.routes.equals(local.routes) and remote.stops.equals(local.stops) and remote.unserved.equals(local.unserved)


def test_progress_lines_say_done_of_total_elapsed_and_an_estimate(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from matcher.fanout import ProgressLog

    caplog.set_level(logging.INFO, logger="harvestmatch.progress")
    log = ProgressLog("products", every=0.0)
    log(1, 4)
    log(4, 4)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("products: 1 of 4 done, ") and "s left" in lines[0]
    assert lines[1].startswith("products: 4 of 4 done, ") and "left" not in lines[1]
    assert caplog.records[0].progress["done"] == 1 and caplog.records[0].progress["total"] == 4  # type: ignore[attr-defined]
    assert caplog.records[1].progress["left_s"] is None  # type: ignore[attr-defined]
    quiet = ProgressLog("products", every=3600.0)
    caplog.clear()
    quiet(1, 4)  # too soon after the start: nothing
    quiet(4, 4)  # the end is always said
    assert len(caplog.records) == 1
