"""One cycle from typed frames to every result: pool the orders (if any), match, fill the orders, settle
the books, and plan the transport.

:func:`compute_cycle` is the one function that ``harvest match`` (:mod:`matcher.batch`, with or without
``--plan``) and the service (:mod:`api.runner`) run for a day: frames and regions in, frames, a plan
and a summary out; ``harvest plan`` runs its planning half (:func:`plan_cycle`) on a result written
before. Reading and validating the files or rows, opening the executor, and writing the results stay
with the callers; the executor, the parameters and the stage callback are handed in.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from harvestmatch.errors import ParameterError
from matcher.cycle import Sources, match
from matcher.params import MatchParams
from matcher.results import MatchResult
from regions.polygons import Regions

if TYPE_CHECKING:
    from matcher.fanout import Executor
    from matcher.freight.loop import FreightOutcome
    from matcher.routing.plan import Plan, PlanInputs, PlanSettings


@dataclass(frozen=True)
class CycleResult:
    """Everything one cycle produces.

    Attributes
    ----------
    match
        The allocations, offers and demand rows out, status and the solve's summary.
    demand
        The demand rows that were solved: pooled from the orders (contract columns and ``orders``, the
        count pooled into each row) or as given.
    orders
        With orders: ``order_id, region_id, demand_id, filled_kg, unfilled_kg, clearing_price, status,
        reason`` per order, in the given order; ``None`` when demand rows were given. An order not
        rejected, not filled, and due after the cycle date is ``pending``: a later cycle may still
        serve its ``unfilled_kg``.
    summary
        The whole cycle: the solve's summary, the pooling counts (with orders), the regions, hubs
        derived, warnings, the settlement's totals, and seconds per stage.
    settlement
        The cycle's books (:func:`matcher.settlement.settle`): one line per buyer (an order's
        ``buyer_id`` when the orders have one, else the order; the demand row when rows were given),
        cooperative, freight and the platform, in decimal money, balanced to the cent.
    plan
        The transport plan, when the cycle was asked to plan.
    """

    match: MatchResult
    demand: pl.DataFrame
    orders: pl.DataFrame | None
    summary: Mapping[str, Any]
    settlement: pl.DataFrame
    plan: CyclePlan | None = None


@dataclass(frozen=True)
class CyclePlan:
    """A cycle's transport plan (:func:`matcher.routing.plan.plan_routes`) and the inputs it was made
    from (the writers need their depots)."""

    plan: Plan
    inputs: PlanInputs


def compute_cycle(
    offers: pl.DataFrame,
    regions: Regions,
    *,
    date: dt.date,
    params: MatchParams,
    orders: pl.DataFrame | None = None,
    demand: pl.DataFrame | None = None,
    lanes: pl.DataFrame | None = None,
    sources: Sources | None = None,
    cooperatives: pl.DataFrame | None = None,
    quality: pl.DataFrame | None = None,
    plan: PlanSettings | None = None,
    warehouses: pl.DataFrame | None = None,
    executor: Executor | None = None,
    stage: Callable[[Literal["planning"]], None] | None = None,
    publish_plan: bool = True,
    crossdocks: pl.DataFrame | None = None,
    previous: pl.DataFrame | None = None,
) -> CycleResult:
    """Run one cycle on typed frames: pool the orders into demand rows (or take the rows given),
    solve, hand each row's filled kg back to its orders, settle, and (with ``plan``) plan the transport.

    Parameters
    ----------
    offers, orders, demand, lanes
        Frames typed by :func:`matcher.schemas.parse_table` with ``OFFERS``, ``ORDERS``, ``DEMAND``,
        ``LANES``. Exactly one of ``orders`` and ``demand``. Orders are filled in order of arrival:
        ``created_at`` when that column is present, then their order in the frame; a row's kg go to its
        orders by ``params.fill_rule``. Orders due after ``date`` that are not filled come out
        ``pending`` (:func:`regions.pooling.fill_orders`).
    regions
        The validated regions (:func:`regions.polygons.read_regions` or
        :func:`regions.polygons.regions_from_stored`).
    date
        The cycle date.
    params
        The cycle's parameters; ``max_snap_km`` and ``price_step`` drive the pooling.
    cooperatives
        ``cooperative_id, small`` for the safety net (:func:`matcher.cycle.match`).
    quality
        ``cooperative_id, product, refund_rate``: expected refunds (:func:`matcher.cycle.match`).
    sources
        Names of the inputs, for messages.
    plan, warehouses
        How to plan the cycle's transport (:class:`matcher.routing.plan.PlanSettings`), and the
        warehouses offers are collected to (``WAREHOUSES``; ``None``: their regions' hubs). ``None``:
        no plan.
    crossdocks
        Consolidation centres the ``trucks`` model's line haul may run through (``CROSSDOCKS``;
        :mod:`matcher.freight.loop`); the allocations then carry ``via``. The ``linear`` model takes none.
    publish_plan
        Whether the plan is made and returned (``False``: ``plan`` and ``warehouses`` only price the
        ``trucks`` model's freight, and the result carries no plan).
    executor
        Where the products and the routing problems run (:mod:`matcher.fanout`; the caller opens and
        closes it). ``None``: each stage opens its own as ``params`` and ``plan`` say.
    stage
        Called with ``"planning"`` when the match is done and the plan begins.
    previous
        ``offer_id, farm_gate_price`` of the previous cycle: a warm start for every solve of the cycle
        (:mod:`matcher.warm`). Same result, sooner.

    Raises
    ------
    ParameterError
        Neither or both of ``orders`` and ``demand``; crossdocks with the ``linear`` model.
    InputError
        Demand rows or lanes naming unknown regions or offers (see :func:`matcher.cycle.match`).
    SolverError
        The solve did not end in a proven optimum, or a routing solution broke a condition.
    """
    from matcher.settlement import settle
    from regions.pooling import fill_orders, pool

    started = time.perf_counter()
    pooled: dict[str, Any] = {}
    placed: pl.DataFrame | None = None
    if orders is not None and demand is None:
        rows, placed = pool(orders, regions, max_snap_km=params.max_snap_km, price_step=params.price_step)
    elif demand is not None and orders is None:
        rows = demand
    else:
        raise ParameterError("give exactly one of demand (pooled rows) and orders")
    if crossdocks is not None and params.freight != "trucks":
        raise ParameterError("crossdocks are priced and routed by the trucks freight model only: give freight trucks, or no crossdocks")
    pooled_at = time.perf_counter()

    freight: dict[str, Any]
    planned: CyclePlan | None = None
    paid: float | None = None
    if params.freight == "trucks":
        outcome = _trucks(
            offers,
            regions,
            rows,
            placed,
            orders,
            date,
            params,
            lanes,
            sources,
            cooperatives,
            quality,
            plan,
            warehouses,
            executor,
            stage,
            publish_plan,
            crossdocks,
            previous,
        )
        result, rows, placed, orders_out = outcome.result, outcome.demand.rows, outcome.demand.placed, outcome.orders_out
        freight, paid = outcome.report, outcome.freight_paid
        if plan is not None and publish_plan:
            planned = CyclePlan(outcome.plan, outcome.inputs)
    else:
        result = match(
            offers,
            rows,
            regions.hubs,
            date=date,
            params=params,
            lanes=lanes,
            sources=sources,
            cooperatives=cooperatives,
            quality=quality,
            executor=executor,
            previous=previous,
        )
        orders_out = None
        if placed is not None:
            arrival = "created_at" if "created_at" in placed.columns else None
            orders_out = fill_orders(placed, result.demand, arrival=arrival, rule=params.fill_rule, date=date)
        freight = {"model": "linear"}
    if placed is not None and orders_out is not None:
        pooled = {
            "orders": orders_out.height,
            "orders_rejected": int((orders_out["status"] == "rejected").sum()),
            "orders_snapped": int((placed["snapped_km"] > 0).sum()),
            "pooled_demand_rows": rows.height,
            "max_snap_km": params.max_snap_km,
            "price_step": params.price_step,
            "order_status": _counts(orders_out["status"]),
        }

    if orders_out is not None and orders is not None:
        who = "buyer_id" if "buyer_id" in orders.columns else "order_id"
        buyers = (
            orders_out.join(orders.select("order_id", pl.col(who).alias("buyer_id")), on="order_id", how="left")
            if who == "buyer_id"
            else orders_out.with_columns(buyer_id=pl.col("order_id"))
        )
    else:
        buyers = result.demand.select(pl.col("demand_id").alias("buyer_id"), "demand_id", "filled_kg")
    settling = time.perf_counter()
    books, totals = settle(
        result.allocations,
        result.offers,
        buyers.select("buyer_id", "demand_id", "filled_kg"),
        scale=int(result.summary["cost_scale"]),
        refund_rate=result.refund_rate,
        freight_paid=paid,
    )

    summary = {key: value for key, value in result.summary.items() if key != "seconds"}
    summary["settlement"] = totals
    summary["freight"] = freight
    summary.update(pooled)
    summary["hubs_derived"] = int(regions.hubs["hub_derived"].sum())
    summary["regions"] = regions.hubs.height
    summary["warnings"] = list(regions.warnings)
    seconds = {"pool": pooled_at - started} if placed is not None else {}
    summary["seconds"] = {**seconds, **result.summary["seconds"], "settle": time.perf_counter() - settling}
    if plan is not None and publish_plan and planned is None:
        if stage is not None:
            stage("planning")
        plan_started = time.perf_counter()
        planned = plan_cycle(
            date=date,
            allocations=result.allocations,
            offers=offers,
            regions=regions,
            orders_in=orders,
            orders_out=orders_out,
            warehouses=warehouses,
            settings=plan,
            executor=executor,
        )
        summary["seconds"]["plan"] = time.perf_counter() - plan_started
        freight.update(realized(result.allocations, planned.plan, float(result.summary["welfare"]), params.handling_per_kg))
    elif planned is not None:
        summary["seconds"]["plan"] = freight["seconds"]
    return CycleResult(result, rows, orders_out, summary, books, planned)


def realized(allocations: pl.DataFrame, plan: Plan, welfare: float, handling_per_kg: float) -> dict[str, Any]:
    """A linear match's welfare once its plan's tours are paid: ``welfare + assumed cost - routed cost -
    handling`` (the same definition as the ``trucks`` model's ``realized_welfare``)."""
    kg = int(allocations["quantity_kg"].sum())
    assumed = float((allocations["cost_per_kg"] * allocations["quantity_kg"]).sum())
    routed = float(plan.summary["routed_cost"]) + handling_per_kg * kg
    return {
        "realized_welfare": round(welfare + assumed - routed, 2),
        "assumed": {"total": round(assumed, 2)},
        "routed": {"total": round(routed, 2)},
        "routed_vs_assumed": round(routed / assumed, 4) if assumed else None,
    }


def _trucks(
    offers: pl.DataFrame,
    regions: Regions,
    rows: pl.DataFrame,
    placed: pl.DataFrame | None,
    orders: pl.DataFrame | None,
    date: dt.date,
    params: MatchParams,
    lanes: pl.DataFrame | None,
    sources: Sources | None,
    cooperatives: pl.DataFrame | None,
    quality: pl.DataFrame | None,
    plan: PlanSettings | None,
    warehouses: pl.DataFrame | None,
    executor: Executor | None,
    stage: Callable[[Literal["planning"]], None] | None,
    publish_plan: bool,
    crossdocks: pl.DataFrame | None,
    previous: pl.DataFrame | None = None,
) -> FreightOutcome:
    """The ``trucks`` freight model's rounds (:func:`matcher.freight.loop.consolidate`) on one executor:
    the one handed in, else one opened here for every round's products and routing problems."""
    from matcher.fanout import Work, open_executor
    from matcher.freight.loop import Demand, consolidate
    from matcher.routing.plan import PlanSettings
    from matcher.routing.tables import Travel
    from matcher.routing.vrp import SolveSettings

    settings = plan if plan is not None else PlanSettings.for_cycle(params, solve=SolveSettings(), speed_kmh=Travel.speed_kmh)
    if stage is not None:
        stage("planning")
    own = executor is None
    # a small day's rounds (products and routing problems) run in this process (matcher.fanout.Work)
    stops = offers.height + (orders.height if orders is not None else rows.height)
    work = Work(Work.of(offers, rows).cells, stops)
    runner = open_executor(params.executor, workers=params.workers, scheduler=params.scheduler, work=work) if executor is None else executor
    try:
        return consolidate(
            offers,
            regions,
            date=date,
            params=params,
            demand=Demand(rows, placed),
            orders=orders,
            lanes=lanes,
            sources=sources,
            cooperatives=cooperatives,
            quality=quality,
            plan=settings,
            warehouses=warehouses,
            executor=runner,
            publish=plan is not None and publish_plan,
            crossdocks=crossdocks,
            previous=previous,
        )
    finally:
        if own:
            runner.close()


def plan_cycle(
    *,
    date: dt.date,
    allocations: pl.DataFrame,
    offers: pl.DataFrame,
    regions: Regions,
    orders_in: pl.DataFrame | None,
    orders_out: pl.DataFrame | None,
    warehouses: pl.DataFrame | None,
    settings: PlanSettings,
    executor: Executor | None = None,
    crossdocks: pl.DataFrame | None = None,
) -> CyclePlan:
    """The transport plan of a cycle's result (:func:`matcher.routing.plan.plan_routes`): its
    allocations, the offers and orders it was computed from, the order fills, the regions.

    Raises
    ------
    InputError
        A matrix lacks a pair a problem needs.
    SolverError
        A routing solution broke a condition.
    """
    from matcher.routing.plan import plan_inputs, plan_routes

    inputs = plan_inputs(
        date=date,
        allocations=allocations,
        offers=offers,
        regions=regions,
        orders_in=orders_in,
        orders_out=orders_out,
        warehouses=warehouses,
        crossdocks=crossdocks,
    )
    return CyclePlan(plan_routes(inputs, settings, executor=executor), inputs)


def _counts(status: pl.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in status.value_counts().sort("status").iter_rows()}
