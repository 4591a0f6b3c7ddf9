"""``harvest routes`` as a user runs it: files in, the four outputs, exit 2 on bad input with nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest


def _harvest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harvest", *args], capture_output=True, text=True, timeout=300)


def _inputs(tmp_path: Path) -> list[str]:
    stops = tmp_path / "stops.csv"
    stops.write_text("stop_id,lat,lon,kg,due_min\na,39.95,116.40,800,\nb,39.90,116.50,1200,300\nc,39.85,116.35,700,\nfar,45.0,126.0,100,30\n")
    depots = tmp_path / "depots.csv"
    depots.write_text("depot_id,lat,lon\nhub,39.90,116.40\n")
    fleet = tmp_path / "fleet.csv"
    fleet.write_text("vehicle_type,capacity_kg,count,fixed_cost,cost_per_km,max_duration_min\nvan,1500,,100,2.5,480\n")
    return ["--stops", str(stops), "--depots", str(depots), "--fleet", str(fleet)]


def test_routes_writes_the_four_outputs_and_lists_what_cannot_be_served(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _harvest("routes", *_inputs(tmp_path), "--out", str(out))
    assert done.returncode == 0, done.stderr
    routes, stops = pl.read_csv(out / "routes.csv"), pl.read_csv(out / "stops.csv")
    unserved = pl.read_csv(out / "unserved.csv")
    assert unserved["stop_id"].to_list() == ["far"]
    assert stops.group_by("stop_id").agg(pl.col("kg").sum()).sort("stop_id").rows() == [("a", 800), ("b", 1200), ("c", 700)]
    assert (routes["kg"] <= routes["capacity_kg"]).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "partial" and summary["vehicles"] == routes.height
    features = json.loads((out / "routes.geojson").read_text())["features"]
    assert len(features) == routes.height
    assert all(f["geometry"]["coordinates"][0] == f["geometry"]["coordinates"][-1] == [116.40, 39.90] for f in features)
    # the same input gives the same bytes
    again = tmp_path / "again"
    assert _harvest("routes", *_inputs(tmp_path), "--out", str(again), "--quiet").returncode == 0
    for name in ("routes.csv", "stops.csv", "unserved.csv", "routes.geojson"):
        assert (out / name).read_bytes() == (again / name).read_bytes()


def test_bad_input_exits_2_naming_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    args = _inputs(tmp_path)
    (tmp_path / "stops.csv").write_text("stop_id,lat,lon,kg\na,95,116.4,10\nb,39.9,116.4,-3\n")
    (tmp_path / "fleet.csv").write_text("vehicle_type,capacity_kg,fixed_cost,cost_per_km,max_duration_min,depot\nvan,1000,1,1,480,nowhere\n")
    out = tmp_path / "out"
    done = _harvest("routes", *args, "--out", str(out))
    assert done.returncode == 2
    assert "stops.csv: row 1: column 'lat'" in done.stderr
    assert "stops.csv: row 2: column 'kg'" in done.stderr
    assert "fleet.csv: row 1: column 'depot': 'nowhere' is not a depot" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["A-n32-k5", "E-n22-k4"])
def test_published_optimum_through_the_command_and_a_matrix(name: str, tmp_path: Path) -> None:
    from tests.matcher.test_routing import A_N32_K5, E_N22_K4, _cvrplib

    instance = {"A-n32-k5": A_N32_K5, "E-n22-k4": E_N22_K4}[name]
    problem = _cvrplib(instance)
    assert problem.travel.matrix is not None
    files = {"stops": problem.stops, "depots": problem.depots, "fleet": problem.fleet, "matrix": problem.travel.matrix}
    for key, frame in files.items():
        frame.write_csv(tmp_path / f"{key}.csv")
    args = [f"--{key}={tmp_path / f'{key}.csv'}" for key in files]
    done = _harvest("routes", *args, "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "served" and instance[3] - 1e-9 <= summary["cost"] <= instance[3] * 1.01
