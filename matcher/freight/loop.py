"""Freight the trucks achieve: a match that pays for tours, not for kg (docs/freight.md).

A linear rate per kg-km is the relaxation of the per-truck problem: a match on it spreads small flows
over many corridors that trucks then run part-empty. The ``trucks`` model prices every lane from the
fleets the plan uses and refines those prices from the plan's own tours, round by round (slope scaling
in the manner of Kim and Pardalos, with the tours as the step function)::

    round 0   every leg at its cheapest full vehicle's rate (matcher.freight.costs.fleet_costs): the
              relaxation; its welfare bounds every plan's realized welfare from above
    round k   match exactly at the round's lane costs (a transportation problem: prices certified for
              those costs); route the flows (first mile and line haul; the last mile in round 0, from
              whose tours later rounds price it); realized welfare = sum kg x (value - ask) - the tours'
              cost - handling; next costs = the tours' costs per kg (matcher.freight.costs.tour_costs),
              damped: the first step goes all the way, later ones DAMPING of it, so rounds do not oscillate
    stop      when a round's flows repeat the previous round's, when its realized welfare falls below the
              best consistent round's so far (see keep), or after ``freight_rounds`` rounds
    paths     with crossdocks, a lane's line haul runs through its crossdock where that is cheaper at
              the round's costs; a crossdock past its capacity_kg sends the lanes that save least
              per kg direct (matcher.freight.loop.assign_paths); the plan routes both hops
    keep      the round with the best realized welfare among those whose tours cost at most
              CONSISTENT_WITHIN times what their lanes assumed (else of all rounds); route it
              whole (every leg, the plan's budget)
    repair    kg the plan could not collect, carry or deliver are taken out (the offer, the corridor,
              the pickup point's orders), the kept round's costs re-solved and re-routed, at most
              MAX_REPAIRS times: every kg published as sold is on a tour of every leg it needs; what is
              taken out carries the reason ``not_routable``

Rounds route with a smaller search budget than the published plan: at most :data:`ROUND_ITERATIONS`
per problem, and :data:`ROUND_BUDGET_SHARE` of the plan's ``budget`` of stop-iterations
(:meth:`matcher.routing.vrp.SolveSettings.per_problem`), so that a day of many stops searches less per
problem, the same for every problem. Both depend on the day's size only: the same day gives the same
rounds and plan on any machine.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from matcher.cycle import Sources, match
from matcher.freight.corridors import CROSSDOCK, Corridors, build_corridors, lane_table
from matcher.freight.costs import LegCosts, first_mile_full_load, fleet_costs, last_mile_km, line_haul_full_load, tour_costs
from matcher.params import MatchParams
from matcher.results import MatchResult
from matcher.routing.plan import Plan, PlanInputs, PlanSettings, plan_inputs, plan_routes
from regions.polygons import Regions

if TYPE_CHECKING:
    from matcher.fanout import Executor

#: rounds route each problem with at most this many search iterations (the published plan: the plan's own)
ROUND_ITERATIONS = 100
#: and a round's routing has this share of the plan's search budget (``SolveSettings.budget``): on a day
#: of many stops, rounds search less per problem than the published plan
ROUND_BUDGET_SHARE = 0.25
#: after the first round, costs move this share of the way towards the last tours' costs
DAMPING = 0.5
#: a leg's calibration (its tours' cost over what its lanes assumed, carried into the next round's
#: prices) stays within this factor either way
MAX_BIAS = 3.0
#: a round is kept only if its tours cost at most this many times what its lanes assumed (prices are
#: computed on freight the trucks nearly deliver); if no round is, the best of all is kept
CONSISTENT_WITHIN = 1.25
#: at most this many re-solves take out kg the plan could not route
MAX_REPAIRS = 3

NOT_ROUTABLE = "not_routable"
ROUND_LEGS = ("first_mile", "line_haul")


@dataclass(frozen=True)
class Demand:
    """What a round's match is given: pooled demand rows, and the orders placed into them (None: rows
    were given)."""

    rows: pl.DataFrame
    placed: pl.DataFrame | None


@dataclass
class Round:
    number: int
    result: MatchResult
    orders_out: pl.DataFrame | None
    inputs: PlanInputs
    plan: Plan
    costs: LegCosts
    report: dict[str, Any]
    realized: float
    #: the lanes a full crossdock sent direct this round (``offer_id, region_id``)
    overflow: pl.DataFrame | None = None


@dataclass(frozen=True)
class FreightOutcome:
    """The kept round: its match, order fills and demand, its whole plan, and the ``freight`` report."""

    result: MatchResult
    demand: Demand
    orders_out: pl.DataFrame | None
    plan: Plan
    inputs: PlanInputs
    report: dict[str, Any]
    freight_paid: float  # what the plan's tours cost, with handling: the settlement pays it to freight


def consolidate(
    offers: pl.DataFrame,
    regions: Regions,
    *,
    date: dt.date,
    params: MatchParams,
    demand: Demand,
    orders: pl.DataFrame | None,
    lanes: pl.DataFrame | None,
    sources: Sources | None,
    cooperatives: pl.DataFrame | None,
    quality: pl.DataFrame | None,
    plan: PlanSettings,
    warehouses: pl.DataFrame | None,
    executor: Executor,
    publish: bool = True,
    crossdocks: pl.DataFrame | None = None,
    previous: pl.DataFrame | None = None,
) -> FreightOutcome:
    """The rounds of the module docstring, on one executor (products and routing problems alike).

    ``orders`` are the typed input orders (for the last mile's stops and for re-pooling without the
    orders a repair takes out); ``demand`` the rows pooled from them (or given). With ``publish``, the
    kept round is routed whole at ``plan``'s search budget (the plan is published); else at the rounds'.
    ``previous`` (the previous cycle's prices, :mod:`matcher.previous`) warm-starts every round's match.
    """
    from matcher.cycle import check_references

    clock = time.perf_counter()
    hubs = regions.hubs
    check_references(offers, demand.rows, hubs, lanes, sources=sources or Sources())  # before any lane is built from them
    lm_km = last_mile_km(demand.placed, hubs, plan.travel.circuity)
    corridors = build_corridors(
        offers,
        demand.rows,
        regions,
        date=date,
        circuity=plan.travel.circuity,
        lanes=lanes,
        warehouses=warehouses,
        crossdocks=crossdocks,
        lower_cost=(partial(first_mile_full_load, plan.fleets), partial(line_haul_full_load, plan.fleets)),
    )
    bound_costs = fleet_costs(corridors, plan.fleets, lm_km)
    depots = _depots(hubs, warehouses, crossdocks)
    round_settings = replace(
        plan,
        solve=replace(plan.solve, iterations=min(plan.solve.iterations, ROUND_ITERATIONS), budget=max(1, int(plan.solve.budget * ROUND_BUDGET_SHARE))),
    )
    handling = params.handling_per_kg

    def solve_round(number: int, costs: LegCosts, demand_now: Demand, exclude: pl.DataFrame | None, settings: PlanSettings, legs: tuple[str, ...]) -> Round:
        began = time.perf_counter()
        costs = costs.direct_only(no_via)
        table = lane_table(corridors, costs.total(handling), exclude=exclude)
        result = match(
            offers,
            demand_now.rows,
            hubs,
            date=date,
            params=params,
            lanes=table,
            sources=sources,
            cooperatives=cooperatives,
            quality=quality,
            executor=executor,
            previous=previous,
        )
        orders_out = _fills(demand_now, result, params, date)
        overflow = None
        if corridors.has_crossdocks:
            paths, overflow = assign_paths(result.allocations, corridors, costs)
            result = replace(result, allocations=paths)
        inputs = plan_inputs(
            date=date,
            allocations=result.allocations,
            offers=offers,
            regions=regions,
            orders_in=orders,
            orders_out=orders_out,
            warehouses=warehouses,
            crossdocks=corridors.crossdocks,
        )
        matched = time.perf_counter()
        routed = plan_routes(inputs, settings, executor=executor, legs=legs)
        done = _evaluate(number, result, orders_out, inputs, routed, costs, corridors, handling, legs)
        done.report["seconds"] = {"match": round(matched - began, 3), "route": round(time.perf_counter() - matched, 3)}
        done.overflow = overflow
        return done

    rounds: list[Round] = []
    costs = bound_costs
    stopped = "max_rounds"
    lm_from: Round | None = None
    exclude = pl.DataFrame(schema={"offer_id": pl.String, "region_id": pl.String})
    left_out = pl.DataFrame(schema={"order_id": pl.String})
    demand_now = demand
    # lanes barred from their crossdock: a full crossdock sent them direct, or a hop could not be routed
    no_via = np.zeros(corridors.size, bool)

    def leave_out(done: Round) -> bool:
        """Take what ``done``'s plan could not route out of the next solve; whether anything was new."""
        nonlocal exclude, left_out, demand_now, no_via
        more_pairs, more_orders, via_failed = _unroutable(done, corridors)
        barred = (
            pl.concat([f for f in (via_failed, done.overflow) if f is not None and f.height])
            if via_failed.height or (done.overflow is not None and done.overflow.height)
            else None
        )
        via_changed = False
        if barred is not None:
            hit = (
                corridors.pairs.select("offer_id", "region_id")
                .join(barred.with_columns(_hit=pl.lit(True)).unique(), on=["offer_id", "region_id"], how="left", maintain_order="left")["_hit"]
                .fill_null(False)
                .to_numpy()
            )
            via_changed = bool((hit & ~no_via).any())
            no_via = no_via | hit
        before = (exclude.height, left_out.height)
        exclude = pl.concat([exclude, more_pairs]).unique(maintain_order=True)
        left_out = pl.concat([left_out, more_orders]).unique(maintain_order=True)
        if left_out.height > before[1] and orders is not None:
            demand_now = _repool(orders.join(left_out, on="order_id", how="anti"), regions, params)
        return (exclude.height, left_out.height) != before or via_changed

    bias = dict.fromkeys(ROUND_LEGS, 1.0)
    for number in range(params.freight_rounds):
        legs = ("first_mile", "line_haul", "last_mile") if number == 0 else ROUND_LEGS
        current = solve_round(number, costs, demand_now, exclude, round_settings, legs)
        if number == 0:
            lm_from = current
        rounds.append(current)
        changed = leave_out(current)
        if number > 0 and not changed and _same_flows(rounds[-2].result, current.result):
            stopped = "flows_repeated"
            break
        if number == params.freight_rounds - 1:  # the last round: no prices wanted for another
            break
        consistent = [r.realized for r in rounds[:-1] if _consistent(r)]
        if number > 0 and consistent and current.realized < max(consistent):
            stopped = "no_better"  # the refinement has stopped paying: the best round is kept
            break
        priced = tour_costs(corridors, current.plan.routes, current.plan.stops, depots, plan.travel.circuity, costs, plan.fleets["line_haul"])
        if "last_mile" not in legs and lm_from is not None:
            priced = replace(priced, last_mile=tour_costs(corridors, lm_from.plan.routes, lm_from.plan.stops, depots, plan.travel.circuity, costs).last_mile)
        if number > 0:  # how far this round's tours ran over what its lanes assumed, leg by leg
            for leg in ROUND_LEGS:
                assumed_leg, routed_leg = current.report["assumed"][leg], current.report["routed"][leg]
                if assumed_leg > 0 and routed_leg > 0:
                    bias[leg] = float(np.clip(bias[leg] * routed_leg / assumed_leg, 1 / MAX_BIAS, MAX_BIAS))
        priced = priced.scaled(bias["first_mile"], bias["line_haul"], corridors.via_handling())
        costs = priced if number == 0 else costs.damped(priced, DAMPING)
    best = keep(rounds)

    # the kept round routed whole (the published plan's budget), then repaired until every kg sold is on
    # a tour of every leg
    final_settings = plan if publish else round_settings
    final = _route_whole(best, final_settings, executor, corridors, handling) if not exclude.height and not left_out.height else None
    repairs = 0
    while final is None or (final.plan.unserved.height and repairs < MAX_REPAIRS):
        if final is not None:
            repairs += 1
            leave_out(final)
        final = solve_round(best.number, best.costs, demand_now, exclude, final_settings, ("first_mile", "line_haul", "last_mile"))
    result, orders_out = _mark_not_routable(final, exclude, left_out, orders, demand.placed)
    report = _report(rounds, best, final, bound_costs, corridors, stopped, repairs, exclude, left_out, lanes, warehouses, plan, time.perf_counter() - clock)
    kg = int(result.allocations["quantity_kg"].sum())
    paid = float(final.plan.routes["cost"].sum()) + _site_handling(final.plan.summary) + handling * kg
    report["paid"] = paid  # what the books pay freight: the tours, warehouse handling and handling, unrounded
    return FreightOutcome(result, demand_now, orders_out, final.plan, final.inputs, report, paid)


def keep(rounds: list[Round]) -> Round:
    """The round with the best realized welfare among those that trade, route everything they sold
    (tours that leave kg behind cost less than they should) and whose tours cost at most
    :data:`CONSISTENT_WITHIN` times what their lanes assumed; if there is none, the best realized of
    all (ties: the earlier)."""
    consistent = [r for r in rounds if _consistent(r)]
    return max(consistent or rounds, key=lambda r: (r.realized, -r.number))


def _consistent(r: Round) -> bool:
    """Whether a round trades, routes all it sold, and its tours cost at most CONSISTENT_WITHIN times
    what its lanes assumed."""
    return _ratio(r) <= CONSISTENT_WITHIN and not r.report.get("unserved_kg")


def _ratio(r: Round) -> float:
    """What a round's tours cost over what its lanes assumed (infinite for a round without trade)."""
    assumed, routed = float(r.report["assumed"]["total"]), float(r.report["routed"]["total"])
    return routed / assumed if assumed > 0 else float("inf")


def _depots(hubs: pl.DataFrame, warehouses: pl.DataFrame | None, crossdocks: pl.DataFrame | None) -> pl.DataFrame:
    frames = [hubs.select(("hub:" + pl.col("region_id")).alias("depot_id"), pl.col("hub_lat").alias("lat"), pl.col("hub_lon").alias("lon"))]
    if warehouses is not None:
        frames.append(warehouses.select(("warehouse:" + pl.col("warehouse_id")).alias("depot_id"), "lat", "lon"))
    if crossdocks is not None:
        frames.append(crossdocks.select((CROSSDOCK + pl.col("crossdock_id")).alias("depot_id"), "lat", "lon"))
    return pl.concat(frames)


def _site_handling(summary: dict[str, Any]) -> float:
    """What a plan's warehouses and crossdocks charge for handling (money)."""
    return float(summary.get("warehouse_handling_cost", 0.0)) + float(summary.get("crossdock_handling_cost", 0.0))


def assign_paths(allocations: pl.DataFrame, corridors: Corridors, costs: LegCosts) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The allocations with ``via``: the crossdock each lane's line haul runs through (null: direct),
    and the lanes a full crossdock sent direct (``offer_id, region_id``).

    A lane goes through its crossdock where that is cheaper at ``costs``; a crossdock whose lanes weigh
    more than its ``capacity_kg`` takes them in order of what they save per kg (ties by offer and
    region), each that still fits, and sends the others direct. A lane's kg all take one path."""
    assert corridors.crossdocks is not None
    cheaper = costs.through_crossdock()
    via_haul = costs.via_haul if costs.via_haul is not None else np.full(len(cheaper), np.inf)
    pairs = corridors.pairs.select("offer_id", "region_id", "via").with_columns(
        _through=pl.Series(cheaper), _saving=pl.Series(costs.line_haul - np.where(cheaper, via_haul, 0.0))
    )
    lanes = (
        allocations.group_by("offer_id", "region_id")
        .agg(pl.col("quantity_kg").sum().alias("_kg"))
        .join(pairs, on=["offer_id", "region_id"], how="inner")
        .filter(pl.col("_through"))
        .join(corridors.crossdocks.select(pl.col("crossdock_id").alias("via"), "capacity_kg"), on="via", how="left")
        .sort(["via", "_saving", "offer_id", "region_id"], descending=[False, True, False, False])
    )
    # in each crossdock's order, a lane fits if the lanes kept before it leave room: a pass in order
    kept = np.zeros(lanes.height, bool)
    room: dict[str, int] = {}
    for i, (via, kg, capacity) in enumerate(zip(lanes["via"].to_list(), lanes["_kg"].to_list(), lanes["capacity_kg"].to_list(), strict=True)):
        left = room.setdefault(via, int(capacity))
        if kg <= left:
            room[via] = left - kg
            kept[i] = True
    through = lanes.filter(pl.Series(kept)).select("offer_id", "region_id", "via")
    overflow = lanes.filter(~pl.Series(kept)).select("offer_id", "region_id")
    return allocations.join(through, on=["offer_id", "region_id"], how="left", maintain_order="left"), overflow


def _fills(demand: Demand, result: MatchResult, params: MatchParams, date: dt.date) -> pl.DataFrame | None:
    from regions.pooling import fill_orders

    if demand.placed is None:
        return None
    arrival = "created_at" if "created_at" in demand.placed.columns else None
    return fill_orders(demand.placed, result.demand, arrival=arrival, rule=params.fill_rule, date=date)


def _repool(orders: pl.DataFrame, regions: Regions, params: MatchParams) -> Demand:
    from regions.pooling import pool

    rows, placed = pool(orders, regions, max_snap_km=params.max_snap_km, price_step=params.price_step)
    return Demand(rows, placed)


def _same_flows(a: MatchResult, b: MatchResult) -> bool:
    """The same kg on the same lanes (and through the same crossdocks)."""
    key = ["offer_id", "demand_id", "quantity_kg"] + (["via"] if "via" in a.allocations.columns and "via" in b.allocations.columns else [])
    return a.allocations.select(key).sort(key).equals(b.allocations.select(key).sort(key))


def _lane_parts(result: MatchResult, corridors: Corridors, costs: LegCosts) -> dict[str, float]:
    """What the match assumed per leg for the kg it allocated (money); a lane through a crossdock counts
    its two hops under the line haul and the crossdock's handling apart."""
    via = costs.via_haul if costs.via_haul is not None else np.full(corridors.size, np.inf)
    fee = corridors.via_handling()
    parts = corridors.pairs.select("offer_id", "region_id").with_columns(
        _fm=pl.Series(costs.first_mile),
        _lh=pl.Series(costs.line_haul),
        _via=pl.Series(np.where(np.isfinite(via), via - fee, np.nan)).fill_nan(None),
        _fee=pl.Series(fee),
        _lm=pl.Series(costs.last_mile),
    )
    columns = ["offer_id", "region_id", "quantity_kg", "cost_per_kg"] + (["via"] if "via" in result.allocations.columns else [])
    kg = result.allocations.select(columns).join(parts, on=["offer_id", "region_id"], how="left", maintain_order="left")
    through = kg["via"].is_not_null() if "via" in kg.columns else pl.Series([False] * kg.height)
    q = kg["quantity_kg"].cast(pl.Float64)
    total = float((q * kg["cost_per_kg"]).sum())
    fm, lm = (float((q * kg[c].fill_null(0.0)).sum()) for c in ("_fm", "_lm"))
    lh = float((q * pl.Series(np.where(through.to_numpy(), kg["_via"].fill_null(0.0).to_numpy(), kg["_lh"].fill_null(0.0).to_numpy()))).sum())
    docks = float((q * pl.Series(np.where(through.to_numpy(), kg["_fee"].fill_null(0.0).to_numpy(), 0.0))).sum())
    parts_out = {"first_mile": fm, "line_haul": lh, "last_mile": lm}
    if corridors.has_crossdocks:
        parts_out["crossdock_handling"] = docks
    parts_out["handling"] = total - fm - lh - lm - docks
    parts_out["total"] = total
    return parts_out


def _evaluate(
    number: int,
    result: MatchResult,
    orders_out: pl.DataFrame | None,
    inputs: PlanInputs,
    routed_plan: Plan,
    costs: LegCosts,
    corridors: Corridors,
    handling: float,
    legs: tuple[str, ...],
) -> Round:
    kg = int(result.allocations["quantity_kg"].sum())
    assumed = _lane_parts(result, corridors, costs)
    by_leg = routed_plan.summary["legs"]
    routed: dict[str, Any] = {leg: round(float(by_leg[leg]["cost"]), 2) for leg in ("first_mile", "line_haul", "last_mile")}
    estimated = [leg for leg in ("first_mile", "line_haul", "last_mile") if leg not in legs]
    for leg in estimated:  # not routed this round: as the match assumed
        routed[leg] = round(assumed[leg], 2)
    warehouse = float(routed_plan.summary.get("warehouse_handling_cost", 0.0))
    routed["warehouse_handling"] = round(warehouse, 2)
    crossdock = float(routed_plan.summary.get("crossdock_handling_cost", 0.0))
    if crossdock or "via" in result.allocations.columns:
        routed["crossdock_handling"] = round(crossdock, 2)
    routed["handling"] = round(handling * kg, 2)
    total = sum(float(routed.get(k, 0.0)) for k in ("first_mile", "line_haul", "last_mile", "warehouse_handling", "crossdock_handling", "handling"))
    routed["total"] = round(total, 2)
    welfare = float(result.summary["welfare"])
    realized = welfare + assumed["total"] - total
    unserved = routed_plan.unserved
    report = {
        "round": number,
        "welfare": round(welfare, 2),
        "realized_welfare": round(realized, 2),
        "kg": kg,
        "corridors": int(routed_plan.stops.filter(pl.col("leg") == "line_haul")["stop_id"].n_unique()) if "line_haul" in legs else None,
        "lanes_shipped": result.allocations.height,
        "assumed": {k: round(v, 2) for k, v in assumed.items()},
        "routed": routed,
        "estimated_legs": estimated,
        "unserved_kg": int(unserved["kg"].sum()) if unserved.height else 0,
        "iterations": routed_plan.summary["settings"]["iterations_per_problem"],
    }
    if "via" in result.allocations.columns:
        through = result.allocations.filter(pl.col("via").is_not_null())
        report["crossdock_kg"] = int(through["quantity_kg"].sum()) if through.height else 0
    return Round(number, result, orders_out, inputs, routed_plan, costs, report, realized)


def _route_whole(best: Round, plan: PlanSettings, executor: Executor, corridors: Corridors, handling: float) -> Round:
    routed = plan_routes(best.inputs, plan, executor=executor)
    return _evaluate(best.number, best.result, best.orders_out, best.inputs, routed, best.costs, corridors, handling, ("first_mile", "line_haul", "last_mile"))


def _unroutable(final: Round, corridors: Corridors) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The pairs (``offer_id, region_id``) and the orders (``order_id``) behind the plan's unserved stops,
    and the pairs that lose only their crossdock: an offer not collected loses every lane; a direct
    corridor not carried loses its lanes from the node; a hop to or from a crossdock not carried bars
    its lanes from that crossdock (they may still go direct); a pickup point not reached loses its
    orders."""
    unserved = final.plan.unserved
    pairs = corridors.pairs.select("offer_id", "region_id", "node")
    frames = []
    via_frames = []
    first = unserved.filter(pl.col("leg") == "first_mile")
    if first.height:
        frames.append(pairs.join(first.select(pl.col("stop_id").alias("offer_id")), on="offer_id", how="semi").select("offer_id", "region_id"))
    haul = unserved.filter(pl.col("leg") == "line_haul")
    if haul.height:
        at = haul.select(pl.col("problem_id").str.strip_prefix("line_haul:").alias("depot"), "stop_id")
        direct = at.filter(~pl.col("depot").str.starts_with(CROSSDOCK) & pl.col("stop_id").str.starts_with("hub:"))
        lost = direct.select(pl.col("depot").alias("node"), pl.col("stop_id").str.strip_prefix("hub:").alias("region_id"))
        if "via" in final.inputs.allocations.columns:  # a direct corridor is the node's lanes that do not go through a crossdock
            routed_via = final.inputs.allocations.select("offer_id", "region_id", "via").unique()
            lanes = pairs.join(routed_via, on=["offer_id", "region_id"], how="left")
            frames.append(lanes.filter(pl.col("via").is_null()).join(lost, on=["node", "region_id"], how="semi").select("offer_id", "region_id"))
            # hop 1 (node -> crossdock) and hop 2 (crossdock -> hub) not carried: the lanes through them
            hop1 = at.filter(pl.col("stop_id").str.starts_with(CROSSDOCK)).select(
                pl.col("depot").alias("node"), pl.col("stop_id").str.strip_prefix(CROSSDOCK).alias("via")
            )
            hop2 = at.filter(pl.col("depot").str.starts_with(CROSSDOCK)).select(
                pl.col("depot").str.strip_prefix(CROSSDOCK).alias("via"), pl.col("stop_id").str.strip_prefix("hub:").alias("region_id")
            )
            via_frames.append(lanes.join(hop1, on=["node", "via"], how="semi").select("offer_id", "region_id"))
            via_frames.append(lanes.join(hop2, on=["via", "region_id"], how="semi").select("offer_id", "region_id"))
        else:
            frames.append(pairs.join(lost, on=["node", "region_id"], how="semi").select("offer_id", "region_id"))
    pairs_out = pl.concat(frames) if frames else pl.DataFrame(schema={"offer_id": pl.String, "region_id": pl.String})
    orders_out = pl.DataFrame(schema={"order_id": pl.String})
    last = unserved.filter(pl.col("leg") == "last_mile")
    if last.height and final.inputs.orders is not None:
        o = final.inputs.orders
        key = pl.format("{},{}", pl.col("lat").round(5), pl.col("lon").round(5))
        if "pickup_point_id" in o.columns:
            key = pl.coalesce(pl.col("pickup_point_id").cast(pl.String), key)
        lost = last.select(pl.col("problem_id").str.split(":").list.get(1).alias("region_id"), pl.col("stop_id").alias("_point"))
        orders_out = o.filter(pl.col("filled_kg") > 0).with_columns(_point=key).join(lost, on=["region_id", "_point"], how="semi").select("order_id")
    schema = pl.Schema({"offer_id": pl.String(), "region_id": pl.String()})
    via_out = pl.concat(via_frames).cast(schema) if via_frames else pl.DataFrame(schema=schema)
    return pairs_out.cast(schema), orders_out, via_out


def _mark_not_routable(
    final: Round, exclude: pl.DataFrame, left_out: pl.DataFrame, orders: pl.DataFrame | None, placed: pl.DataFrame | None
) -> tuple[MatchResult, pl.DataFrame | None]:
    """The kept result with ``not_routable`` where a repair took kg out: an offer that lost lanes and
    sold nothing, and the orders taken out (unfilled, with their regions)."""
    result, orders_out = final.result, final.orders_out
    if exclude.height:
        hit = exclude.select("offer_id").unique()
        offers_out = result.offers.with_columns(
            reason=pl.when(pl.col("offer_id").is_in(hit["offer_id"].implode()) & (pl.col("sold_kg") == 0))
            .then(pl.lit(NOT_ROUTABLE))
            .otherwise(pl.col("reason"))
        )
        result = replace(result, offers=offers_out)
    if left_out.height and orders_out is not None and placed is not None:
        gone = placed.join(left_out, on="order_id", how="semi").select(
            "order_id",
            "region_id",
            pl.lit(None, pl.String).alias("demand_id"),
            pl.lit(0, pl.Int64).alias("filled_kg"),
            pl.col("quantity_kg").alias("unfilled_kg"),
            pl.lit(None, pl.Float64).alias("clearing_price"),
            pl.lit("unfilled").alias("status"),
            pl.lit(NOT_ROUTABLE).alias("reason"),
            "_row",
        )
        order_rank = placed.select("order_id", "_row")
        kept = orders_out.join(order_rank, on="order_id", how="left", maintain_order="left")
        orders_out = pl.concat([kept, gone.cast(kept.schema)]).sort("_row").drop("_row")
    return result, orders_out


def _report(
    rounds: list[Round],
    best: Round,
    final: Round,
    bound_costs: LegCosts,
    corridors: Corridors,
    stopped: str,
    repairs: int,
    exclude: pl.DataFrame,
    left_out: pl.DataFrame,
    lanes: pl.DataFrame | None,
    warehouses: pl.DataFrame | None,
    plan: PlanSettings,
    seconds: float,
) -> dict[str, Any]:
    # the first round's welfare bounds every plan's realized welfare when its costs are the fleets' (no
    # given costs, great-circle km without a matrix, offers at their regions' hubs)
    exact_bound = (lanes is None or "cost_per_kg" not in lanes.columns) and plan.travel.matrix is None and (warehouses is None or warehouses.height == 0)
    bound = rounds[0].report["welfare"] if exact_bound else None
    realized = round(final.realized, 2)
    assumed, routed = final.report["assumed"], final.report["routed"]
    return {
        "model": "trucks",
        "rounds": [r.report for r in rounds],
        "stopped": stopped,
        "kept_round": best.number,
        "repairs": repairs,
        "realized_welfare": realized,
        "welfare": final.report["welfare"],
        "bound": bound,
        "gap": round((bound - realized) / abs(bound), 4) if bound else None,
        "assumed": assumed,
        "routed": routed,
        "routed_vs_assumed": round(routed["total"] / assumed["total"], 4) if assumed["total"] else None,
        "corridors": corridors.size,
        "not_routable": {
            "offers": int(exclude["offer_id"].n_unique()) if exclude.height else 0,
            "orders": left_out.height,
            "unserved_kg": final.report["unserved_kg"],
        },
        "seconds": round(seconds, 3),
    }


__all__ = [
    "CONSISTENT_WITHIN",
    "DAMPING",
    "MAX_REPAIRS",
    "NOT_ROUTABLE",
    "ROUND_BUDGET_SHARE",
    "ROUND_ITERATIONS",
    "Demand",
    "FreightOutcome",
    "assign_paths",
    "consolidate",
    "keep",
]
