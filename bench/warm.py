"""Day-to-day warm starts: a 7-day national sequence, each day solved cold and warm from the day before.

``python bench/run.py warm [--products P] [--offers N] [--regions R] [--days D]`` writes a sequence of
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
