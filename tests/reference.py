"""An independent, deliberately plain implementation of the lane rules and the optimality checks.

Loops over every (offer, demand row) pair with the standard library's math: nothing from harvestmatch
is reused, so a shared mistake cannot hide. Only for small test instances.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

RANK = {"A": 3, "B": 2, "C": 1}


@dataclass(frozen=True)
class RefLane:
    offer: int  # row position in the offers frame
    row: int  # row position in the demand frame
    distance_km: float
    transit_days: int
    cost_per_kg: float
    margin: float


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


def is_open(offer: dict, date: dt.date) -> bool:
    expiry = offer["ready_date"] + dt.timedelta(days=offer["shelf_life_days"])
    return offer["ready_date"] <= date <= expiry


def reference_lanes(
    offers: pl.DataFrame,
    demand: pl.DataFrame,
    hubs: dict[str, tuple[float, float]],
    date: dt.date,
    *,
    circuity: float = 1.3,
    km_per_day: float = 600.0,
    freight_per_kg_km: float = 0.0005,
    handling_per_kg: float = 0.10,
    given: dict[tuple[str, str], dict] | None = None,
) -> list[RefLane]:
    """Every feasible lane, whatever its margin (docs/design.md section 1)."""
    lanes = []
    rows = demand.to_dicts()
    for i, o in enumerate(offers.to_dicts()):
        if not is_open(o, date):
            continue
        expiry = o["ready_date"] + dt.timedelta(days=o["shelf_life_days"])
        for j, d in enumerate(rows):
            if d["product"] != o["product"] or RANK[o["grade"]] < RANK[d["min_grade"]]:
                continue
            if given is not None:
                g = given.get((o["offer_id"], d["region_id"]))
                if g is None:
                    continue
                km = g["distance_km"]
                days = g.get("transit_days")
                days = math.ceil(km / km_per_day) if days is None else days
                cost = g.get("cost_per_kg")
                cost = freight_per_kg_km * km + handling_per_kg if cost is None else cost
            else:
                hlat, hlon = hubs[d["region_id"]]
                km = circuity * haversine(o["lat"], o["lon"], hlat, hlon)
                days = math.ceil(km / km_per_day)
                cost = freight_per_kg_km * km + handling_per_kg
            arrive = date + dt.timedelta(days=days)
            if arrive > expiry or arrive > d["due_date"]:
                continue
            lanes.append(RefLane(i, j, km, days, cost, d["price_per_kg"] - o["ask_per_kg"] - cost))
    return lanes


def lp_inputs(offers: pl.DataFrame, demand: pl.DataFrame, lanes: list[RefLane]) -> tuple:
    """Arguments for the HiGHS oracle: the profitable lanes only (others never carry flow)."""
    good = [lane for lane in lanes if lane.margin > 0]
    return (
        offers.height,
        demand.height,
        np.array([lane.offer for lane in good], dtype=np.int64),
        np.array([lane.row for lane in good], dtype=np.int64),
        np.array([lane.margin for lane in good], dtype=np.float64),
        offers["quantity_kg"].to_numpy().astype(np.int64),
        demand["quantity_kg"].to_numpy().astype(np.int64),
    )
