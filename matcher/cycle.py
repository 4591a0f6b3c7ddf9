"""The solve of one cycle: typed frames in, allocations, prices and reasons out.

:func:`match` takes validated polars frames (see :mod:`matcher.schemas`), pooled demand rows and the
region hubs, splits the day into one problem per product, solves each exactly (:mod:`matcher.product`)
on the executor it is handed, and assembles the result frames. The whole cycle around it (pooling,
fills, settlement, the plan) is :func:`matcher.pipeline.compute_cycle`. No files, no clock but the
stage timer, no environment.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import asdict, dataclass

import polars as pl

from harvestmatch.errors import InputError, Problem, SolverError, first_problems
from matcher.day import Day
from matcher.fanout import Executor, Progress, Work, open_executor, solve_products
from matcher.floor import BONUS_LIMIT, deepest_loss
from matcher.flow import INT_BUDGET
from matcher.params import MatchParams
from matcher.product import SolveOptions
from matcher.quality import account as quality_account
from matcher.quality import refund_rates
from matcher.results import MatchResult, assemble
from matcher.safety_net import FloorPolicy, account
from matcher.schemas import duplicate_problems

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


def match(
    offers: pl.DataFrame,
    demand: pl.DataFrame,
    hubs: pl.DataFrame,
    *,
    date: dt.date,
    params: MatchParams | None = None,
    lanes: pl.DataFrame | None = None,
    sources: Sources | None = None,
    progress: Progress | None = None,
    cooperatives: pl.DataFrame | None = None,
    quality: pl.DataFrame | None = None,
    executor: Executor | None = None,
    dense: bool = True,
    previous: pl.DataFrame | None = None,
) -> MatchResult:
    """The solve of one cycle: the welfare-maximizing allocation of open offers to demand rows, with prices.

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
    executor
        Where the products are solved (:mod:`matcher.fanout`; the caller closes it). ``None``: one is
        opened here as ``params.executor``, ``workers`` and ``scheduler`` say, and closed again. The
        result is the same on any.
    dense
        Whether a product small enough for a dense margin matrix is priced densely
        (:mod:`matcher.dense`); ``False`` prices every product by bounded pricing. Both reach the same
        optimum; the tests run each path on small days.
    progress
        Called with (products solved, products) as the solve goes.
    cooperatives
        ``cooperative_id, small`` (typed by ``COOPERATIVES``): who the safety net treats as small
        (:mod:`matcher.safety_net`); others by the ``small_kg`` rule. Only read when
        ``params.small_share`` is above 0.
    quality
        ``cooperative_id, product, refund_rate`` (typed by ``QUALITY``): expected refunds that lower the
        value of a cooperative's lanes (:mod:`matcher.quality`). Only read when ``params.refund_adjust``.
    previous
        ``offer_id, farm_gate_price``: the previous cycle's prices (:mod:`matcher.previous`), from which
        each product's solve starts (:mod:`matcher.warm`). The optimum and the published prices are
        the same with or without it; only the time to reach them changes.

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
    if executor is not None:
        return _match(offers, demand, hubs, date, params, lanes, sources, started, executor, progress, cooperatives, quality, dense, previous)
    # workers start (and load their compiled kernels) while the day is checked and split into products
    own = open_executor(
        params.executor, workers=params.workers, scheduler=params.scheduler, problems=offers["product"].n_unique(), work=Work.of(offers, demand)
    )
    try:
        return _match(offers, demand, hubs, date, params, lanes, sources, started, own, progress, cooperatives, quality, dense, previous)
    finally:
        own.close()


def _match(
    offers: pl.DataFrame,
    demand: pl.DataFrame,
    hubs: pl.DataFrame,
    date: dt.date,
    params: MatchParams,
    lanes: pl.DataFrame | None,
    sources: Sources,
    started: float,
    executor: Executor,
    progress: Progress | None,
    cooperatives: pl.DataFrame | None,
    quality: pl.DataFrame | None,
    dense: bool,
    previous: pl.DataFrame | None = None,
) -> MatchResult:
    check_references(offers, demand, hubs, lanes, sources=sources)
    problems: list[Problem] = []
    for frame, key, name in ((cooperatives, ["cooperative_id"], "cooperatives"), (quality, ["cooperative_id", "product"], "quality")):
        if frame is not None:
            problems += duplicate_problems(frame, key if len(key) > 1 else key[0], name)
    if problems:
        raise InputError(problems)
    policy = FloorPolicy(params.small_share, params.max_subsidy_per_kg, params.small_kg, cooperatives)
    if params.refund_adjust and quality is None:
        quality = pl.DataFrame(schema={"cooperative_id": pl.String, "product": pl.String, "refund_rate": pl.Float64})
    day = Day.build(offers, demand, hubs, lanes, date, floor=policy, quality=quality if params.refund_adjust else None, previous=previous)
    margin, nodes, ceiling = day.max_margin, day.max_nodes, float(MAX_SCALE)
    if policy.on and bool(day.floor_kg.any()):
        # a floor node's margins carry a bonus of (nodes + 1) * (|margin| + 1) (matcher.floor), which must
        # stay within the integer budget and within exact float duals (BONUS_LIMIT)
        max_ask = float(offers["ask_per_kg"].to_numpy().max(initial=0.0))
        per_kg = max(day.max_margin, min(params.max_subsidy_per_kg, deepest_loss(max_ask, params.costs, lanes))) + 1.0
        nodes = 2 * day.max_nodes + 1
        margin = (nodes + 1) * per_kg
        ceiling = BONUS_LIMIT / 4 / margin
    scale = cost_scale(margin, nodes, day.max_flow, ceiling=ceiling)
    options = SolveOptions.of(params, scale=scale, dense=dense)
    prepared = time.perf_counter()
    solutions, workers = solve_products(day.problems, options, executor=executor, progress=progress)
    solved = time.perf_counter()
    tables = assemble(day, solutions, scale=scale)
    done = time.perf_counter()

    stage: dict[str, float] = {}
    for s in solutions:
        for name, sec in s.seconds.items():
            stage[name] = stage.get(name, 0.0) + sec
    summary = {
        "status": "optimal",  # a solve that cannot prove its optimum raised SolverError above
        **tables.counts,
        "date": date.isoformat(),
        "solver": params.solver,
        "pivots": int(sum(s.pivots for s in solutions)),
        "warm_start": previous is not None,
        "pricing": {mode: sum(s.pricing == mode for s in solutions) for mode in ("dense", "bounded", "given")},
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
        "safety_net": account(policy, day.open_offers, tables.offers, solutions, scale),
        "quality": quality_account(
            params.refund_adjust,
            day.open_offers,
            day.refund_rate if params.refund_adjust else refund_rates(day.open_offers, quality),
            tables.allocations,
            solutions,
            tables.counts["welfare"],
        ),
        "solver_seconds": stage,
        # each product's solve in its worker: the longest is the floor of any fan-out's wall time
        "product_seconds": {s.product: round(sum(s.seconds.values()), 4) for s in solutions},
    }
    rates = None
    if params.refund_adjust:
        rates = pl.DataFrame({"offer_id": day.open_offers["offer_id"], "refund_rate": day.refund_rate}).filter(pl.col("refund_rate") > 0)
    return MatchResult(tables.allocations, tables.offers, tables.demand, summary, rates)


def cost_scale(max_margin: float, max_nodes: int, max_flow: int, *, ceiling: float = MAX_SCALE) -> int:
    """The integer cost scale: the largest power of ten, at most :data:`MAX_SCALE` and ``ceiling``,
    that keeps every scaled quantity (OR-Tools multiplies costs by the node count; objectives are margin
    times flow) below :data:`matcher.flow.INT_BUDGET`.

    Raises
    ------
    SolverError
        When even one unit per currency would not keep them there (the schema's limits keep a day
        without floors inside; a safety net's bonus on a huge day may not be).
    """
    bound = max(max_margin, 1e-12) * max(max_nodes + 1, max_flow, 1)
    room = min(INT_BUDGET / bound, ceiling)
    if room < 1:
        raise SolverError(
            f"the day's kg times its margins ({bound:.3g} with the safety net's bonus, if any) are too large for exact "
            "integer money even at one unit per currency: split the day, or run it without the safety net"
        )
    exponent = math.floor(math.log10(room))
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
        listed = (Problem(sources.offers, int(r), "min_lot_kg", f"{v} kg: {why}") for r, v in lots.iter_rows())
        problems += first_problems(listed, source=sources.offers, column="min_lot_kg", rest=f"rows: {why}", total=lots.height)
    known = hubs.select("region_id")
    problems += _unknown(demand, "region_id", known, sources.demand, "region_id", f"not a region in {sources.regions}")
    if lanes is not None:
        problems += _unknown(lanes, "offer_id", offers.select("offer_id"), sources.lanes, "offer_id", f"not an offer in {sources.offers}")
        problems += _unknown(lanes, "region_id", known, sources.lanes, "region_id", f"not a region in {sources.regions}")
        problems += duplicate_problems(lanes, ["offer_id", "region_id"], sources.lanes)
    if problems:
        raise InputError(problems)


def _unknown(frame: pl.DataFrame, column: str, known: pl.DataFrame, source: str, name: str, why: str) -> list[Problem]:
    bad = frame.select(column).with_row_index("_row", offset=1).join(known.unique(), left_on=column, right_on=known.columns[0], how="anti")
    listed = (Problem(source, int(r), name, f"{v!r} is {why}") for r, v in bad.iter_rows())
    return first_problems(listed, source=source, column=name, rest=f"rows {why}", total=bad.height)
