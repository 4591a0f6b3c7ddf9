"""Start-up: the whole ``harvest`` process on a tiny day, repeated, and where its imports go.

``python bench/run.py startup [--runs N] [--before REV]`` runs each command RUNS times (after one
run that is not counted: it fills numba's cache when a checkout's is cold) and reports the minimum and
the median wall time and the median CPU time of the whole process, with the load average beside them;
then one run under ``python -X importtime`` of ``harvest match``, summed by top-level package, and
which of the heavy packages it loaded. With ``--before REV`` the same commands run in a temporary git
worktree of REV first (the comparison of a change).

The tiny day: three offers of two products, three demand rows, two square regions (one without a
hub), written to ``bench/data/startup/``; the same shape as the tests' small day.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: packages a tiny match does not need, or needs only in part: loaded or not, after each run
HEAVY = ("pandas", "geopandas", "pyproj", "pyarrow", "scipy", "numba", "ortools", "pyvrp", "flask", "sqlalchemy", "matplotlib")


def write_tiny_day(folder: Path) -> dict[str, Path]:
    """The tiny day's files (CSV offers and demand, GeoJSON regions), written without geopandas."""
    folder.mkdir(parents=True, exist_ok=True)
    header = "offer_id,cooperative_id,product,grade,quantity_kg,lat,lon,ready_date,shelf_life_days,ask_per_kg\n"
    offers = [
        "o0,coop,apple,A,100,30.1,110.1,2026-11-23,10,1.0",
        "o1,coop,apple,B,100,31.0,111.0,2026-11-23,10,1.0",
        "o2,coop,kale,A,40,30.0,110.0,2026-11-23,10,1.0",
    ]
    demand = [
        "d0,r0,apple,C,100,3.0,2026-11-28",
        "d1,r1,apple,C,250,3.0,2026-11-28",
        "d2,r1,kale,C,100,3.0,2026-11-28",
    ]
    paths = {"offers": folder / "offers.csv", "demand": folder / "demand.csv", "regions": folder / "regions.geojson"}
    paths["offers"].write_text(header + "\n".join(offers) + "\n")
    paths["demand"].write_text("demand_id,region_id,product,min_grade,quantity_kg,price_per_kg,due_date\n" + "\n".join(demand) + "\n")

    def square(x0: float, y0: float, x1: float, y1: float) -> dict:
        return {"type": "Polygon", "coordinates": [[[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]]]}

    features = [
        {"type": "Feature", "properties": {"region_id": "r0", "hub_lat": 30.0, "hub_lon": 110.0}, "geometry": square(109, 29, 111, 31)},
        {"type": "Feature", "properties": {"region_id": "r1", "hub_lat": None, "hub_lon": None}, "geometry": square(111, 30, 113, 32)},
    ]
    paths["regions"].write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return paths


def commands(paths: dict[str, Path], out: Path) -> dict[str, list[str]]:
    """The measured commands, each a whole ``python -m harvest`` process."""
    day = ["--offers", str(paths["offers"]), "--demand", str(paths["demand"]), "--regions", str(paths["regions"]), "--date", "2026-11-23"]
    harvest = [sys.executable, "-m", "harvest"]
    return {
        "harvest --help": [*harvest, "--help"],
        "harvest match --freight linear": [*harvest, "match", *day, "--out", str(out / "linear"), "--freight", "linear", "--quiet"],
        "harvest match (trucks, the default)": [*harvest, "match", *day, "--out", str(out / "trucks"), "--quiet"],
        "harvest plan --result (the trucks run's)": [*harvest, "plan", "--result", str(out / "trucks"), "--quiet"],
    }


def measure(cmds: dict[str, list[str]], runs: int) -> dict[str, dict[str, float]]:
    """Wall and CPU seconds of ``runs`` whole runs of each command (after one run not counted), the
    commands taking turns run by run (A B A B ...), so that a machine whose speed drifts slows all alike.
    ``cmds``: a name -> (the command, its working directory as its last item)."""
    walls: dict[str, list[float]] = {name: [] for name in cmds}
    cpus: dict[str, list[float]] = {name: [] for name in cmds}
    for k in range(runs + 1):
        for name, (*cmd, cwd) in cmds.items():
            before = os.times()
            started = time.perf_counter()
            done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
            wall = time.perf_counter() - started
            after = os.times()
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
            if k:
                walls[name].append(wall)
                cpus[name].append((after.children_user - before.children_user) + (after.children_system - before.children_system))
    return {name: {"min": min(walls[name]), "median": statistics.median(walls[name]), "cpu": statistics.median(cpus[name])} for name in cmds}


def import_breakdown(cmd: list[str], cwd: Path) -> tuple[float, list[tuple[str, float]], list[str]]:
    """One run under ``-X importtime``: the imports' total seconds, seconds per top-level package
    (self times summed, largest first) and the heavy packages loaded (:data:`HEAVY`)."""
    done = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], cwd=cwd, capture_output=True, text=True)
    per: dict[str, float] = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m:
            top = m[4].split(".")[0]
            per[top] = per.get(top, 0.0) + int(m[1]) / 1e6
    ranked = sorted(per.items(), key=lambda kv: -kv[1])
    return sum(per.values()), ranked, [name for name in HEAVY if name in per]


def run_all(checkouts: dict[str, Path], paths: dict[str, Path], runs: int) -> dict[str, tuple[dict[str, dict[str, float]], tuple]]:
    """Every command at every checkout, the checkouts taking turns (:func:`measure`); then the imports."""
    with tempfile.TemporaryDirectory() as out:
        for key in checkouts:
            (Path(out) / key).mkdir()
        cmds = {key: commands(paths, Path(out) / key) for key in checkouts}
        names = list(cmds[next(iter(checkouts))])
        timed: dict[str, dict[str, dict[str, float]]] = {key: {} for key in checkouts}
        for name in names:
            turns = measure({key: [*cmds[key][name], str(checkouts[key])] for key in checkouts}, runs)
            for key in checkouts:
                timed[key][name] = turns[key]
        return {key: (timed[key], import_breakdown(cmds[key]["harvest match --freight linear"], checkouts[key])) for key in checkouts}


def bench_startup(args: argparse.Namespace) -> str:
    from run import section

    paths = write_tiny_day(HERE / "data" / "startup")
    runs = args.runs
    load_before = os.getloadavg()
    if args.before:
        with tempfile.TemporaryDirectory() as tmp:
            old = Path(tmp) / "before"
            subprocess.run(["git", "worktree", "add", "--detach", str(old), args.before], cwd=ROOT, check=True, capture_output=True)
            try:
                results = run_all({"before": old, "now": ROOT}, paths, runs)
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=True, capture_output=True)
    else:
        results = run_all({"now": ROOT}, paths, runs)
    load_after = os.getloadavg()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    keys = list(results)
    label = {"before": f"before ({args.before})", "now": f"now ({head})"}
    lines = [
        f"The tiny day (3 offers of 2 products, 3 demand rows, 2 regions; `bench/startup.py`), each command run {runs} times "
        f"after one run not counted (before and now taking turns); wall seconds min / median, CPU seconds (user + system) median. Load average "
        f"(1, 5, 15 min) {', '.join(f'{x:.2f}' for x in load_before)} at the start, {', '.join(f'{x:.2f}' for x in load_after)} at the end "
        "(2 cores: above 2 the runs wait for a core, and wall time says more about the machine than about the command).",
        "",
        "| command | " + " | ".join(f"{label[k]} wall min / median s | CPU s" for k in keys) + " |",
        "|---|" + "---|---|" * len(keys),
    ]
    for name in results["now"][0]:
        cells = []
        for k in keys:
            m = results[k][0][name]
            cells += [f"{m['min']:.2f} / {m['median']:.2f}", f"{m['cpu']:.2f}"]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Imports of `harvest match --freight linear` (one run under `python -X importtime`; self times summed per top-level package over "
        "every process of the run: a pool's spawned workers import too):",
        "",
    ]
    for k in keys:
        total, ranked, heavy = results[k][1]
        top = ", ".join(f"{name} {sec:.3f}" for name, sec in ranked[:12])
        absent = [name for name in HEAVY if name not in heavy]
        lines.append(
            f"- {label[k]}: {total:.2f} s in all; largest: {top}. Loaded: {', '.join(heavy) or 'none of them'}; not loaded: {', '.join(absent) or 'none'}."
        )
    return section("startup", "Start-up: the whole process on a tiny day", args, lines)
