"""Day-to-day warm starts: a 7-day national sequence, each day solved cold and warm from the day before.

``python bench/run.py warm [--products P] [--offers N] [--regions R] [--days D] [--write bench/RESULTS.md]`` writes a sequence of
days (:func:`write_sequence`): day 1 is a national day of :mod:`matcher.synthetic` (as ``bench/run.py
national``), and each next day keeps about 80 % of the open offers (their dates moved on by a day), replaces the
rest with new offers of the same products from the same generator, and moves each demand row's kg by a
factor drawn from [0.8, 1.2]. A last day repeats the final day unchanged. Each day runs through the CLI
twice, one after the other: cold, and ``--warm-start`` from the previous day's warm result. The table
gives each day's solve stage (``summary.json``'s ``seconds.solve``, wall time in the workers' pool), the
welfare of both runs (equal to the cent: both are exact), the pivots, and how far the published prices
moved from the day before (farm-gate per offer that carries over, clearing per demand row).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
DATE = dt.date(2026, 11, 23)

#: the share of open offers that carry over from one day to the next, and how far a row's kg may move
CARRY = 0.8
DEMAND_MOVE = 0.2


def write_sequence(folder: Path, *, days: int, n_offers: int, n_regions: int, n_products: int, seed: int, date: dt.date) -> list[dict[str, Path]]:
    """Write ``days`` days of offers and demand (and one set of regions) under ``folder``; day ``k``
    (from 0) is dated ``date + k``. Returns each day's paths and its date under ``"date"``."""
    from matcher.synthetic import synthetic_day
    from regions.synthetic import grid_regions

    folder.mkdir(parents=True, exist_ok=True)
    regions = grid_regions(n_regions, seed=seed)
    pts = regions.geometry.representative_point()
    lat = np.where(regions["hub_lat"].isna(), pts.y, regions["hub_lat"])
    lon = np.where(regions["hub_lon"].isna(), pts.x, regions["hub_lon"])
    fresh = int(round(n_offers * (1 - CARRY)))
    # one pool of offers from one generator: new offers each day are the next unused ones, so they
    # share the products' prices and farm towns with the first day's
    pool, demand = synthetic_day(
        n_offers=n_offers + fresh * (days - 1),
        n_products=n_products,
        region_ids=list(regions["region_id"]),
        region_lat=lat,
        region_lon=lon,
        date=date,
        seed=seed,
        towns=(30, 300),
        freight_hint=0.0005,
        demand_ratio=n_offers / (n_offers + fresh * (days - 1)),  # a day's demand against a day's supply
    )
    # everything open on the day it joins: sequences measure carry-over, not expiry
    pool = pool.with_columns(ready_date=pl.lit(date), shelf_life_days=pl.col("shelf_life_days").clip(3))
    regions_path = folder / "regions.gpkg"
    regions.to_file(regions_path, driver="GPKG")
    rng = np.random.default_rng(seed + 1)
    offers = pool.head(n_offers)
    used = n_offers
    out = []
    for k in range(days):
        if k > 0:
            keep = rng.random(offers.height) < CARRY
            new = pool.slice(used, fresh).with_columns(ready_date=pl.lit(date + dt.timedelta(days=k)))
            used += fresh
            offers = pl.concat([offers.filter(pl.Series(keep)).with_columns(ready_date=pl.col("ready_date") + pl.duration(days=1)), new])
            move = rng.uniform(1 - DEMAND_MOVE, 1 + DEMAND_MOVE, demand.height)
            demand = demand.with_columns(
                quantity_kg=pl.Series(np.maximum(np.rint(demand["quantity_kg"].to_numpy() * move), 1).astype(np.int64)),
                due_date=pl.col("due_date") + pl.duration(days=1),
            )
        day = folder / f"day{k + 1}"
        day.mkdir(exist_ok=True)
        paths = {"offers": day / "offers.parquet", "demand": day / "demand.parquet", "regions": regions_path}
        offers.write_parquet(paths["offers"])
        demand.write_parquet(paths["demand"])
        out.append({**paths, "date": date + dt.timedelta(days=k)})  # type: ignore[dict-item]
    return out


def bench_warm(args: argparse.Namespace) -> str:
    """The ``warm`` section: every day cold and warm, side by side (module docstring)."""
    from measure import run_measured
    from run import harvest_cmd, section

    folder = HERE / "data" / "warm"
    started = time.perf_counter()
    days = write_sequence(folder, days=args.days, n_offers=args.offers, n_regions=args.regions, n_products=args.products, seed=5, date=DATE)
    days.append(days[-1])  # the unchanged day: the last day once more, warm from itself
    generated = time.perf_counter() - started
    workers = ["--workers", str(args.workers)] if args.workers else []
    # one run not counted: the first process after an edit loads (or compiles) numba's cache, and the
    # files come into the page cache
    run_measured(_command(harvest_cmd, days[0], folder / "out-uncounted", ["--freight", "linear", *workers]))
    rows, loads = [], []
    previous: Path | None = None
    for k, day in enumerate(days):
        runs = {}
        for kind in ("cold", "warm"):
            out = folder / f"out{k + 1}-{kind}"
            extra = ["--freight", "linear", *workers]
            if kind == "warm" and previous is not None:
                extra += ["--warm-start", str(previous)]
            loads.append(os.getloadavg()[0])
            run = run_measured(_command(harvest_cmd, day, out, extra))
            if run.returncode != 0:
                raise SystemExit(run.stderr)
            runs[kind] = (json.loads((out / "summary.json").read_text()), run.seconds, out, run.cpu_seconds or 0.0)
        rows.append(_day_row(k + 1, runs, previous, unchanged=k == len(days) - 1))
        previous = runs["warm"][2]
    loads.append(os.getloadavg()[0])
    n_days = len(days) - 1
    lines = [
        f"A {n_days}-day sequence (`bench/warm.py`): day 1 a national-shaped day of `matcher.synthetic` ({args.products} products, "
        f"{args.offers:,} offers, {args.regions:,} regions x 2 tiers), then each day keeps about {CARRY:.0%} of the offers, takes new ones "
        f"for the rest and moves each demand row's kg by up to {DEMAND_MOVE:.0%}; day {n_days + 1} repeats day {n_days} unchanged. "
        f"Generated in {generated:.0f} s. Each day runs `harvest match --freight linear` cold, then warm (`--warm-start` the previous "
        "day's warm result), one after the other, after one uncounted run of day 1. "
        "Solve: the solve stage (`summary.json` `seconds.solve`, wall, products on the pool); "
        "price moves: against the previous day's warm result, offers in both days (farm-gate) and every demand row (clearing), "
        f"moved by more than half a cent. CPU: the whole process tree's user and system time. "
        f"Load average (1 min) from {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} cores.",
        "",
        "| day | solve cold s | solve warm s | warm / cold | welfare cold | welfare warm | pivots cold | pivots warm | end to end cold / warm s "
        "| CPU cold / warm s | farm-gate prices moved | clearing prices moved |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *[r["line"] for r in rows],
    ]
    lines += [
        "",
        "Where the solve goes, summed over the products in the workers (seconds per stage, wall in each worker: `summary.json` `solver_seconds`; "
        "`lanes` builds the dense margins and the start, warm or cold; `solve` is the simplex's pivots; `pricing` the "
        "pricing rounds' scans; `prices` the price rule and certificates), with the pricing rounds in all:",
        "",
        "| day | cold: lanes / solve / pricing / prices s | warm: lanes / solve / pricing / prices s | rounds cold / warm |",
        "|---|---|---|---|",
        *[r["stages"] for r in rows],
    ]
    later = rows[1:-1]
    if later:
        cold = sum(r["cold"] for r in later)
        warm = sum(r["warm"] for r in later)
        lines += [
            "",
            f"Days 2 to {n_days}: warm / cold solve {warm / cold:.2f} in all (target at most 0.5), per day "
            f"{min(r['ratio'] for r in later):.2f} to {max(r['ratio'] for r in later):.2f}; welfare equal to the cent on every day: "
            f"{all(r['equal'] for r in rows)}; pivots warm / cold {sum(r['pivots'][1] for r in later) / sum(r['pivots'][0] for r in later):.2f}; "
            "whole-process CPU (all processes of the run, robust to the load) warm / cold "
            f"{sum(r['cpu'][1] for r in later) / sum(r['cpu'][0] for r in later):.2f}. "
            f"The unchanged day: {rows[-1]['moved']} prices moved (must be 0).",
        ]
    return section("warm", "day-to-day warm starts", args, lines)


def _command(harvest_cmd, day: dict, out: Path, extra: list[str]) -> list[str]:
    cmd = harvest_cmd({k: v for k, v in day.items() if k != "date"}, out, *extra)
    cmd[cmd.index("--date") + 1] = day["date"].isoformat()
    return cmd


def _day_row(number: int, runs: dict, previous: Path | None, *, unchanged: bool) -> dict:
    (cs, c_wall, _, c_cpu), (ws, w_wall, w_out, w_cpu) = runs["cold"], runs["warm"]
    equal = round(cs["welfare"], 2) == round(ws["welfare"], 2)
    moved_offers = moved_rows = "-"
    moved = 0
    if previous is not None:
        a, b = (
            _moves(previous, w_out, "offers_out.csv", "offer_id", "farm_gate_price"),
            _moves(previous, w_out, "demand_out.csv", "demand_id", "clearing_price"),
        )
        moved = a[0] + b[0]
        moved_offers = f"{a[0]:,} of {a[1]:,} (mean move {a[2]:.3f})"
        moved_rows = f"{b[0]:,} of {b[1]:,} (mean move {b[2]:.3f})"
    cold, warm = cs["seconds"]["solve"], ws["seconds"]["solve"]
    label = f"{number} (unchanged)" if unchanged else str(number)
    line = (
        f"| {label} | {cold:.1f} | {warm:.1f} | {warm / cold:.2f} | {cs['welfare']:,.2f} | {ws['welfare']:,.2f} | {cs['pivots']:,} | {ws['pivots']:,} "
        f"| {c_wall:.1f} / {w_wall:.1f} | {c_cpu:.1f} / {w_cpu:.1f} | {moved_offers} | {moved_rows} |"
    )

    def stages(summary: dict) -> str:
        return " / ".join(f"{summary['solver_seconds'].get(k, 0.0):.1f}" for k in ("lanes", "solve", "pricing", "prices"))

    breakdown = f"| {label} | {stages(cs)} | {stages(ws)} | {cs['rounds_total']:,} / {ws['rounds_total']:,} |"
    return {
        "line": line,
        "stages": breakdown,
        "cold": cold,
        "warm": warm,
        "ratio": warm / cold,
        "equal": equal,
        "moved": moved,
        "pivots": (cs["pivots"], ws["pivots"]),
        "cpu": (c_cpu, w_cpu),
    }


def _moves(before: Path, after: Path, name: str, key: str, price: str) -> tuple[int, int, float]:
    """(prices that moved by more than half a cent, prices compared, mean absolute move) between two results."""
    joined = pl.read_csv(before / name).select(key, price).join(pl.read_csv(after / name).select(key, price), on=key, suffix="_after").drop_nulls()
    delta = (joined[price] - joined[f"{price}_after"]).abs()
    return int((delta > 0.005).sum()), joined.height, float(delta.mean() or 0.0)
