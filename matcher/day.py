"""The day split into one transportation problem per product.

Offers open on the cycle date and demand rows are sorted (by product, then offer id; by product,
region, then demand id), so that every product is one contiguous slice of numpy columns, and the same
input in any row order gives the same problems.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from harvestmatch.kinds import GRADES
from matcher.product import GivenLanes, ProductProblem
from matcher.quality import refund_rates
from matcher.safety_net import FloorPolicy, floor_kg
from regions.lanes import Demand, Hubs, Supply


@dataclass(frozen=True)
class Day:
    """The day split into products: sorted frames, their numpy columns, and one problem per product.

    Build it with :meth:`Day.build`; :func:`matcher.results.assemble` maps the per-product solutions
    back onto its frames through the starts recorded here.
    """

    date: dt.date
    offers: pl.DataFrame  # every offer, sorted by offer_id, with _open, _pos (position among open)
    open_offers: pl.DataFrame  # open offers sorted by product, offer_id
    demand: pl.DataFrame  # sorted by product, region index, demand_id
    hubs: pl.DataFrame
    problems: list[ProductProblem]
    offer_start: list[int]  # first open-offer position of each problem
    demand_start: list[int]
    max_margin: float
    max_nodes: int
    max_flow: int
    floor_kg: np.ndarray  # each open offer's floor (matcher.safety_net), 0 without one
    refund_rate: np.ndarray  # each open offer's expected refund rate steering the matching (matcher.quality), 0 without one

    @classmethod
    def build(
        cls,
        offers: pl.DataFrame,
        demand: pl.DataFrame,
        hubs: pl.DataFrame,
        lanes: pl.DataFrame | None,
        date: dt.date,
        floor: FloorPolicy | None = None,
        quality: pl.DataFrame | None = None,
        previous: pl.DataFrame | None = None,
    ) -> Day:
        """Split the day into products. ``previous`` (``offer_id, farm_gate_price``: the previous
        cycle's prices, :mod:`matcher.previous`) gives each offer that carries over its warm start."""
        hubs = hubs.sort("region_id").with_row_index("_region")
        expiry = pl.col("ready_date") + pl.duration(days=pl.col("shelf_life_days"))
        everything = offers.with_columns(
            _expiry_days=(expiry - pl.lit(date)).dt.total_days(),
            _open=(pl.col("ready_date") <= date) & (expiry >= date),
            _not_ready=pl.col("ready_date") > date,
        ).sort("offer_id")
        open_offers = everything.filter("_open").sort("product", "offer_id").with_row_index("_pos")
        everything = everything.join(open_offers.select("offer_id", "_pos"), on="offer_id", how="left")
        demand = (
            demand.join(hubs.select("region_id", "_region"), on="region_id", how="left")
            .sort("product", "_region", "demand_id")
            .with_columns(_due_days=(pl.col("due_date") - pl.lit(date)).dt.total_days())
        )

        lat, lon = hubs["hub_lat"].to_numpy(), hubs["hub_lon"].to_numpy()
        hub_arrays = Hubs(np.ascontiguousarray(lat, np.float64), np.ascontiguousarray(lon, np.float64))
        if previous is not None:
            start_price = open_offers.select("offer_id").join(previous.select("offer_id", "farm_gate_price"), on="offer_id", how="left", maintain_order="left")
            o_cols_previous = start_price["farm_gate_price"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        o_prod = _runs(open_offers["product"])
        d_prod = _runs(demand["product"])
        grade = dict(GRADES)
        o_cols = {
            "lat": open_offers["lat"].to_numpy(),
            "lon": open_offers["lon"].to_numpy(),
            "ask": open_offers["ask_per_kg"].to_numpy(),
            "grade": open_offers["grade"].replace_strict(grade, return_dtype=pl.Int8).to_numpy(),
            "expiry": open_offers["_expiry_days"].to_numpy().astype(np.int64),
            "kg": open_offers["quantity_kg"].to_numpy().astype(np.int64),
            "floor": floor_kg(open_offers, floor) if floor is not None else np.zeros(open_offers.height, np.int64),
        }
        floors_on = floor is not None and floor.on
        # expected refunds (matcher.quality): a quality table, turned into each open offer's kept share
        rates = refund_rates(open_offers, quality) if quality is not None else None
        keep = None if rates is None else 1.0 - rates
        d_cols = {
            "region": demand["_region"].to_numpy().astype(np.int64),
            "bid": demand["price_per_kg"].to_numpy(),
            "grade": demand["min_grade"].replace_strict(grade, return_dtype=pl.Int8).to_numpy(),
            "due": demand["_due_days"].to_numpy().astype(np.int64),
            "kg": demand["quantity_kg"].to_numpy().astype(np.int64),
        }
        given = _given_by_product(lanes, open_offers, hubs) if lanes is not None else None

        problems, o_start, d_start = [], [], []
        max_nodes = max_flow = 0
        for product in sorted(set(o_prod) & set(d_prod)):
            (oa, ob), (da, db) = o_prod[product], d_prod[product]
            supply = Supply(
                o_cols["lat"][oa:ob],
                o_cols["lon"][oa:ob],
                o_cols["ask"][oa:ob],
                o_cols["grade"][oa:ob],
                o_cols["expiry"][oa:ob],
                None if keep is None else keep[oa:ob],
                None if previous is None else o_cols_previous[oa:ob],
            )
            rows = Demand(d_cols["region"][da:db], d_cols["bid"][da:db], d_cols["grade"][da:db], d_cols["due"][da:db])
            g = None
            if given is not None:
                g = given.get(product) or GivenLanes(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
                g = GivenLanes(g.offer - oa, g.region, g.distance_km, g.transit_days, g.cost_per_kg)
            floors = o_cols["floor"][oa:ob] if floors_on else None
            problems.append(ProductProblem(product, supply, o_cols["kg"][oa:ob], rows, d_cols["kg"][da:db], hub_arrays, g, floor_kg=floors))
            o_start.append(oa)
            d_start.append(da)
            max_nodes = max(max_nodes, (ob - oa) + (db - da) + 1)
            max_flow = max(max_flow, min(int(o_cols["kg"][oa:ob].sum()), int(d_cols["kg"][da:db].sum())))
        bids = d_cols["bid"]
        asks = o_cols["ask"]
        max_margin = float(bids.max() - asks.min()) if len(bids) and len(asks) else 0.0
        return cls(
            date,
            everything,
            open_offers,
            demand,
            hubs,
            problems,
            o_start,
            d_start,
            max_margin,
            max_nodes,
            max_flow,
            o_cols["floor"],
            np.zeros(open_offers.height) if rates is None else rates,
        )


def _runs(series: pl.Series) -> dict[str, tuple[int, int]]:
    """For a sorted column: value -> (start, stop) of its run."""
    values = series.to_numpy()
    if len(values) == 0:
        return {}
    cut = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.r_[0, cut]
    stops = np.r_[cut, len(values)]
    return {str(values[a]): (int(a), int(b)) for a, b in zip(starts, stops, strict=True)}


def _given_by_product(lanes: pl.DataFrame, open_offers: pl.DataFrame, hubs: pl.DataFrame) -> dict[str, GivenLanes]:
    """The lane table mapped to open-offer positions and region indices, split by product.

    Lanes of offers that are not open on the cycle date are dropped: they cannot ship today.
    """
    table = (
        lanes.join(open_offers.select("offer_id", "_pos", "product"), on="offer_id", how="inner")
        .join(hubs.select("region_id", "_region"), on="region_id", how="inner")
        .sort("product", "_pos", "_region")
    )
    out = {}
    has_days, has_cost = "transit_days" in table.columns, "cost_per_kg" in table.columns
    for product, (a, b) in _runs(table["product"]).items():
        part = table.slice(a, b - a)
        days = part["transit_days"] if has_days else None
        cost = part["cost_per_kg"] if has_cost else None
        out[product] = GivenLanes(
            part["_pos"].to_numpy().astype(np.int64),
            part["_region"].to_numpy().astype(np.int64),
            part["distance_km"].to_numpy().astype(np.float64),
            _filled(days, "days"),
            _filled(cost, "cost"),
        )
    return out


def _filled(column: pl.Series | None, kind: str) -> np.ndarray | None:
    """A given column as numpy, or None; cells left empty keep the computed value (NaN / -1 marks them)."""
    if column is None:
        return None
    if kind == "days":
        return column.fill_null(-1).to_numpy().astype(np.int64)
    return column.fill_null(np.nan).to_numpy().astype(np.float64)
