"""The two ratio targets, whole process against whole process, side by side in one run.

``python bench/run.py ratios [--runs N]``:

- national shape: 30 products x about 500 open offers x 4,000 demand rows (2,000 regions x 2 tiers),
  ``harvest match --freight linear`` (its defaults: a pool of workers on every core) against
  every-lane OR-Tools (``bench/ortools_worker.py``: every feasible profitable lane of every product
  built at once and solved by OR-Tools' min-cost flow, no pricing rounds);
- a million dense lanes: one product, about 1,000 open offers x 4,000 demand rows, every profitable
  cell a lane (about a million); ``harvest match`` (dense pricing) against PuLP + CBC given those lanes
  (``bench/lp_worker.py``).

Both days' regions are written as GeoJSON: a GeoPackage is read through pyogrio, whose import loads
pandas and geopandas (about 0.5 s of start-up, reported by ``bench/run.py startup``).

Each command runs RUNS times, the two alternating (A B A B ...); the ratio is taken per pair and its
median reported, with each side's median wall time, the welfare of both, and for ``harvest match`` its
own stages (start-up before the first stage = whole wall time minus its summary's total).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent


def bench_ratios(args: argparse.Namespace) -> str:
    from measure import run_measured
    from run import DATE, harvest_cmd, section, write_instance

    load_before = os.getloadavg()
    lines = []
    # national shape: 500 open offers per product need about 18,000 offers (some are not open on the day);
    # dense: about 1,000 open offers, of whose 4 million cells about a million are profitable lanes.
    # Regions as GeoJSON, the format a GeoPackage-free start-up reads without pyogrio (docs/design.md)
    national = write_instance(HERE / "data" / "ratios-national", n_offers=18_000, n_regions=2_000, n_products=30, seed=23, regions_as="GeoJSON")
    dense = write_instance(HERE / "data" / "ratios-dense", n_offers=1_200, n_regions=2_000, n_products=1, seed=29, regions_as="GeoJSON")
    lp_file = _dense_lp(dense, HERE / "data" / "ratios-dense" / "lp.npz")

    cases = [
        (
            "national shape: every-lane OR-Tools",
            national,
            [sys.executable, str(HERE / "ortools_worker.py"), str(national["offers"]), str(national["demand"]), str(national["regions"]), DATE.isoformat()],
            5.0,
        ),
        ("a million dense lanes: PuLP + CBC", dense, [sys.executable, str(HERE / "lp_worker.py"), str(lp_file), "pulp-cbc", "1800"], 50.0),
    ]
    lines += [
        "| comparison | instance | `harvest match` wall s (median) | its start-up s | baseline wall s (median) "
        "| ratio (median of pairs) | target | welfare harvest / baseline |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for name, paths, baseline, target in cases:
        out = paths["offers"].parent / "out"
        ours, theirs, ratios, starts = [], [], [], []
        summary: dict = {}
        result: dict = {}
        for _ in range(args.runs):
            a = run_measured(harvest_cmd(paths, out, "--freight", "linear"))
            if a.returncode != 0:
                raise SystemExit(a.stderr)
            summary = json.loads((out / "summary.json").read_text())
            b = run_measured(baseline, timeout=3600)
            if b.returncode != 0:
                raise SystemExit(f"{name} baseline failed:\n{b.stderr}")
            result = json.loads(b.stdout.strip().splitlines()[-1])
            ours.append(a.seconds)
            theirs.append(b.seconds)
            ratios.append(b.seconds / a.seconds)
            starts.append(a.seconds - summary["seconds"]["total"])
        welfare_b = result.get("welfare", result.get("objective"))
        shape = f"{summary['products']} products, {summary['offers']:,} open offers, {summary['demand_rows']:,} demand rows" + (
            f", {result['lanes']:,} lanes given to OR-Tools" if "lanes" in result else f", {_lanes(lp_file):,} lanes given to CBC"
        )
        lines.append(
            f"| {name} | {shape} | {statistics.median(ours):.2f} | {statistics.median(starts):.2f} | {statistics.median(theirs):.2f} | "
            f"{statistics.median(ratios):.1f}x (pairs: {', '.join(f'{r:.1f}' for r in ratios)}) | {target:g}x | "
            f"{summary['welfare']:,.2f} / {welfare_b:,.2f} |"
        )
        stages = ", ".join(f"{k} {v:.2f}" for k, v in summary["seconds"].items())
        solver = ", ".join(f"{k} {v:.2f}" for k, v in summary["solver_seconds"].items())
        notes.append(
            f"- {name}: `harvest match` stages (last run, s): {stages}; solver CPU summed over products: {solver}; "
            f"{summary['workers']} worker(s). Baseline (last run): "
            + ", ".join(f"{k} {result[k]:.2f} s" for k in ("build_seconds", "solve_seconds", "seconds") if k in result)
            + "."
        )
    load_after = os.getloadavg()
    lines += [
        "",
        *notes,
        "",
        f"{args.runs} pairs per comparison. Load average (1, 5, 15 min) {', '.join(f'{x:.2f}' for x in load_before)} at the start, "
        f"{', '.join(f'{x:.2f}' for x in load_after)} at the end (2 cores). Start-up is the whole wall time less the stages the "
        "summary times (process start, imports, reading the arguments, writing the summary).",
    ]
    return section("ratios", "Ratio targets: every-lane OR-Tools and PuLP + CBC, whole process", args, lines)


def _dense_lp(paths: dict[str, Path], target: Path) -> Path:
    """The dense day's every profitable lane as the LP ``bench/lp_worker.py`` reads."""
    from run import DATE

    from matcher.cycle import cost_scale
    from matcher.day import Day
    from matcher.params import MatchParams
    from regions.lanes import lanes_for_pairs
    from regions.polygons import read_regions

    day = Day.build(pl.read_parquet(paths["offers"]), pl.read_parquet(paths["demand"]), read_regions(paths["regions"]).hubs, None, DATE)
    problem = day.problems[0]
    regions = np.unique(problem.demand.region)
    n = len(problem.supply_kg)
    lanes = lanes_for_pairs(
        np.repeat(np.arange(n, dtype=np.int64), len(regions)), np.tile(regions, n), problem.supply, problem.demand, problem.hubs, MatchParams().costs
    )
    good = lanes.margin > 0
    scale = cost_scale(day.max_margin, day.max_nodes, day.max_flow)
    # the margins as harvest match sees them (scaled to integers), back in money: the same optimum
    margin = np.rint(lanes.margin[good] * scale) / scale
    np.savez(target, lane_offer=lanes.offer[good], lane_demand=lanes.demand[good], margin=margin, supply_kg=problem.supply_kg, demand_kg=problem.demand_kg)
    return target


def _lanes(lp_file: Path) -> int:
    return len(np.load(lp_file)["margin"])
