"""One matching cycle: typed frames in, allocations, prices and reasons out.

:func:`match` is the pure core that the CLI and the API share: it takes validated polars frames (see
:mod:`matcher.schemas`) and the region hubs, splits the day into one problem per product, solves each
exactly (:mod:`matcher.product`), and assembles the result frames. No files, no clock but the stage
timer, no environment.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from matcher.fanout import solve_products
from matcher.flow import INT_BUDGET
from matcher.params import MatchParams
from matcher.product import GivenLanes, ProductProblem, SolveOptions
from matcher.results import assemble
from matcher.schemas import GRADES
from harvestmatch.errors import InputError, Problem
from regions.lanes import Demand, Hubs, Supply

#: the solver's money unit is at least 1e-7 per kg: rounding then moves welfare by at most 1e-7 per kg
#: traded (1e-6 of it at a margin of 0.1 per kg); finer units only slow the cost-scaling solver
MAX_SCALE = 10**7


@dataclass(frozen=True)
class Sources:
    """Names of the inputs, used in messages."""

    offers: str = "offers"
    demand: str = "demand"
    regions: str = "regions"
    lanes: str = "lanes"


@dataclass(frozen=True)
class MatchResult:
    """What a cycle produces (docs/design.md section 3)."""

    allocations: pl.DataFrame
    offers: pl.DataFrame
    demand: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def match(
    offers: pl.DataFrame,
    demand: pl.DataFrame,
    hubs: pl.DataFrame,
    *,
    date: dt.date,
    params: MatchParams | None = None,
    lanes: pl.DataFrame | None = None,
    sources: Sources | None = None,
) -> MatchResult:
    """Run one cycle: the welfare-maximizing allocation of open offers to demand rows, with prices.

    Parameters
    ----------
    offers, demand, lanes
        Frames typed by :func:`matcher.schemas.parse_table` with ``OFFERS``, ``DEMAND``, ``LANES``.
        ``lanes``, when given, is the complete list of lanes, and its values replace computed ones.
    hubs
        ``region_id, hub_lat, hub_lon`` (from :class:`regions.polygons.Regions`).
    date
        The cycle date ``T``: offers open on ``T`` are matched.
    params
        :class:`MatchParams`; defaults when ``None``.

    Raises
    ------
    InputError
        Demand naming an unknown region, a lane naming an unknown offer or region, or a duplicate lane.
    SolverError
        The solve did not end in a proven optimum.
    """
    params = params or MatchParams()
    sources = sources or Sources()
    started = time.perf_counter()
    check_references(offers, demand, hubs, lanes, sources=sources)
    day = _Day.build(offers, demand, hubs, lanes, date)
    scale = cost_scale(day.max_margin, day.max_nodes, day.max_flow)
    options = SolveOptions(
        costs=params.costs,
        scale=scale,
        k_nearest=params.k_nearest,
        price_rule=params.price_rule,
        max_rounds=params.max_rounds,
    )
    prepared = time.perf_counter()
    solutions, workers = solve_products(day.problems, options, workers=params.workers)
    solved = time.perf_counter()
    result = assemble(day, solutions, scale=scale)
    done = time.perf_counter()

    stage: dict[str, float] = {}
    for s in solutions:
        for name, sec in s.seconds.items():
            stage[name] = stage.get(name, 0.0) + sec
    result.summary.update(
        {
            "date": date.isoformat(),
            "solver": "ortools-min-cost-flow+pricing",
            "cost_scale": scale,
            "cost_unit": f"1/{scale} currency per kg",
            "workers": workers,
            "params": asdict(params),
            "seconds": {
                "prepare": prepared - started,
                "solve": solved - prepared,
                "assemble": done - solved,
                "match": done - started,
            },
            "solver_seconds": stage,
        }
    )
    return result


def cost_scale(max_margin: float, max_nodes: int, max_flow: int) -> int:
    """The integer cost scale: the largest power of ten, at most :data:`MAX_SCALE`, that keeps every
    scaled quantity (OR-Tools multiplies costs by the node count; objectives are margin times flow)
    below :data:`matcher.flow.INT_BUDGET`."""
    bound = max(max_margin, 1e-12) * max(max_nodes + 1, max_flow, 1)
    exponent = math.floor(math.log10(INT_BUDGET / bound))
    return int(10 ** max(0, min(exponent, round(math.log10(MAX_SCALE)))))


def check_references(
    offers: pl.DataFrame,
    demand: pl.DataFrame,
    hubs: pl.DataFrame,
    lanes: pl.DataFrame | None,
    *,
    sources: Sources,
) -> None:
    """Every region a demand row or lane names exists, every lane's offer exists, lanes are unique."""
    from matcher.schemas import duplicate_problems

    problems: list[Problem] = []
    if "min_lot_kg" in offers.columns:
        # lots make the problem a MIP, which this solver does not do yet: refuse rather than ignore them
        lots = offers.select("min_lot_kg").with_row_index("_row", offset=1).filter(pl.col("min_lot_kg") > 1)
        why = "minimum lots are not supported yet (they need the MIP solver); leave it empty, 0 or 1"
        problems += [Problem(sources.offers, int(r), "min_lot_kg", f"{v} kg: {why}") for r, v in lots.head(10).iter_rows()]
        if lots.height > 10:
            problems.append(Problem(sources.offers, None, "min_lot_kg", f"... and {lots.height - 10} more rows: {why}"))
    known = hubs.select("region_id")
    problems += _unknown(demand, "region_id", known, sources.demand, "region_id", f"not a region in {sources.regions}")
    if lanes is not None:
        problems += _unknown(lanes, "offer_id", offers.select("offer_id"), sources.lanes, "offer_id", f"not an offer in {sources.offers}")
        problems += _unknown(lanes, "region_id", known, sources.lanes, "region_id", f"not a region in {sources.regions}")
        problems += duplicate_problems(lanes, ["offer_id", "region_id"], sources.lanes)
    if problems:
        raise InputError(problems)


def _unknown(frame: pl.DataFrame, column: str, known: pl.DataFrame, source: str, name: str, why: str) -> list[Problem]:
    from matcher.schemas import MAX_LISTED

    bad = (
        frame.select(column)
        .with_row_index("_row", offset=1)
        .join(known.unique(), left_on=column, right_on=known.columns[0], how="anti")
    )
    listed = [Problem(source, int(r), name, f"{v!r} is {why}") for r, v in bad.head(MAX_LISTED).iter_rows()]
    if bad.height > MAX_LISTED:
        listed.append(Problem(source, None, name, f"... and {bad.height - MAX_LISTED} more rows {why}"))
    return listed


@dataclass
class _Day:
    """The day split into products: sorted frames, their numpy columns, and one problem per product."""

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

    @classmethod
    def build(
        cls, offers: pl.DataFrame, demand: pl.DataFrame, hubs: pl.DataFrame, lanes: pl.DataFrame | None, date: dt.date
    ) -> _Day:
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
        }
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
                o_cols["lat"][oa:ob], o_cols["lon"][oa:ob], o_cols["ask"][oa:ob], o_cols["grade"][oa:ob], o_cols["expiry"][oa:ob]
            )
            rows = Demand(d_cols["region"][da:db], d_cols["bid"][da:db], d_cols["grade"][da:db], d_cols["due"][da:db])
            g = None
            if given is not None:
                g = given.get(product) or GivenLanes(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
                g = GivenLanes(g.offer - oa, g.region, g.distance_km, g.transit_days, g.cost_per_kg)
            problems.append(ProductProblem(product, supply, o_cols["kg"][oa:ob], rows, d_cols["kg"][da:db], hub_arrays, g))
            o_start.append(oa)
            d_start.append(da)
            max_nodes = max(max_nodes, (ob - oa) + (db - da) + 1)
            max_flow = max(max_flow, min(int(o_cols["kg"][oa:ob].sum()), int(d_cols["kg"][da:db].sum())))
        bids = d_cols["bid"]
        asks = o_cols["ask"]
        max_margin = float(bids.max() - asks.min()) if len(bids) and len(asks) else 0.0
        return cls(date, everything, open_offers, demand, hubs, problems, o_start, d_start, max_margin, max_nodes, max_flow)


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
