"""A cycle's result as a transport plan: first-mile milk runs, line haul between hubs, last-mile deliveries.

The matching decides which offer ships how many kg to which region (one allocation ``x_od`` per offer
``o`` and demand row ``d`` of region ``r(d)``). The plan moves those kg through hubs (hub and spoke)::

    origin node  n(o)  the hub of the region containing offer o (a point outside every region: the
                       nearest hub), or with warehouses W the nearest warehouse w (capacity K_w, handling
                       h_w per kg) that still has room, taking offers in id order; an offer fitting none of
                       its nearest few is listed unserved (reason: warehouse capacity)
    first mile         one problem per origin node n, collecting:  stops o with n(o) = n,
                       kg q_o = sum_d x_od, tours from n and back to n (the cycle date)
    line haul          one problem per origin node n, delivering:  stops = destination hubs r != n with
                       kg q_nr = sum of x_od over o with n(o) = n and r(d) = r; a stop heavier than the
                       largest truck is split into full truckloads, each a direct trip, and the remainders
                       are consolidated on multi-stop tours. Tours are open-ended: a truck ends at its
                       last hub and takes a backhaul from there, so the way back is not costed.
                       With crossdocks C (capacity, handling h_c per kg), an allocation whose ``via``
                       names crossdock c runs in two hops: from n to c (a stop ``crossdock:c`` of n's
                       problem, its kg all of n's kg through c), then one problem per crossdock c
                       delivering: stops = destination hubs with the kg through c (hub ``crossdock:c``)
    last mile          one problem per destination hub r and delivery date t, delivering: stops = the
                       pickup points p of r's filled orders (an order's ``pickup_point_id``, else its
                       location), kg = the orders' filled kg; t = the cycle date + the longest transit
                       of the lanes into the order's demand row (when the matching has it at the hub);
                       due at DUE_CUTOFF_MIN into the working day of the earliest due date among the
                       point's orders (later days: the shift bounds it)

Each problem is a capacitated vehicle routing problem with time windows (:mod:`matcher.routing.vrp`),
solved with a fixed seed and checked; problems are independent and run on the same worker fan-out as
products (:func:`matcher.fanout.open_executor`: local processes or a Dask cluster). Times are minutes from the start of each leg's working day.

The plan's cost per kg is the check on the matching's assumed freight: the summary sets the routed cost
(vehicles' fixed and per-km costs, plus warehouse handling) beside the cost the matching assumed for the
same kg (``cost_per_kg x quantity_kg`` summed over the allocations).

Without orders (pooled demand rows carry no pickup locations) the last mile is not planned, and the
summary says so.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from matcher.fanout import Executor, Progress
from matcher.params import ExecutorKind, MatchParams
from matcher.routing.geojson import feature_collection, route_features
from matcher.routing.tables import DEFAULT_FLEETS, LEGS, Travel
from matcher.routing.tours import ROUTE_SCHEMA, STOP_SCHEMA, UNSERVED_SCHEMA
from matcher.routing.vrp import RoutingOutcome, RoutingProblem, SolveSettings, solve_routing
from regions.polygons import Regions

#: service minutes at a stop, per leg: loading at a farm, unloading at a hub, handing over at a pickup point
SERVICE_MIN = {"first_mile": 15.0, "line_haul": 30.0, "last_mile": 5.0}

#: an order due on the delivery day is due this many minutes into the working day (06:00 + 12 h = 18:00)
DUE_CUTOFF_MIN = 720.0

#: a warehouse is chosen among an offer's this many nearest
WAREHOUSE_CANDIDATES = 5

WAREHOUSE_REASON = "no warehouse among the nearest has room left for it (capacity_kg)"

PLAN_ROUTE_SCHEMA = {"leg": pl.String, "hub": pl.String, **ROUTE_SCHEMA}
PLAN_STOP_SCHEMA = {"leg": pl.String, "problem_id": pl.String, **STOP_SCHEMA, "region_id": pl.String}
PLAN_UNSERVED_SCHEMA = {"leg": pl.String, **UNSERVED_SCHEMA}


@dataclass(frozen=True)
class PlanSettings:
    """How to plan: the search budget per problem, travel, one fleet per leg, and where the problems
    run (:mod:`matcher.fanout`: ``local`` with ``workers`` processes, or ``dask`` at ``scheduler``)."""

    solve: SolveSettings = field(default_factory=SolveSettings)
    travel: Travel = field(default_factory=Travel)
    fleets: Mapping[str, pl.DataFrame] = field(default_factory=lambda: {leg: DEFAULT_FLEETS[leg] for leg in LEGS})
    workers: int = 1
    executor: ExecutorKind = "local"
    scheduler: str | None = None

    @classmethod
    def for_cycle(
        cls,
        params: MatchParams,
        *,
        solve: SolveSettings,
        speed_kmh: float,
        matrix: pl.DataFrame | None = None,
        fleets: Mapping[str, pl.DataFrame] | None = None,
        workers: int | None = None,
    ) -> PlanSettings:
        """How to plan a cycle run with ``params``: the same rule for ``harvest match --plan``,
        ``harvest plan`` and the service. Distances are great circle times the cycle's ``circuity``
        (unless a ``matrix`` is given); the problems run where the cycle's products ran (its
        ``executor`` and ``scheduler``) on ``workers`` processes, else the cycle's ``workers``, else the
        cores available; ``fleets`` default to :data:`~matcher.routing.tables.DEFAULT_FLEETS`."""
        from matcher.fanout import available_cores

        return cls(
            solve=solve,
            travel=Travel(circuity=params.circuity, speed_kmh=speed_kmh, matrix=matrix),
            fleets=fleets if fleets is not None else {leg: DEFAULT_FLEETS[leg] for leg in LEGS},
            workers=workers or params.workers or available_cores(),
            executor=params.executor,
            scheduler=params.scheduler,
        )


@dataclass(frozen=True)
class PlanInputs:
    """What a plan is derived from (all typed frames).

    Attributes
    ----------
    date
        The cycle date.
    allocations
        ``offer_id, demand_id, region_id, quantity_kg, transit_days, cost_per_kg`` (the cycle's).
    offers
        ``offer_id, lat, lon`` of at least every allocated offer.
    offer_region
        ``offer_id, region_id``: the region each offer lies in (:func:`offer_regions`).
    hubs
        ``region_id, hub_lat, hub_lon``.
    orders
        ``order_id, lat, lon, due_date, demand_id, filled_kg`` and optionally ``pickup_point_id``; None
        when the cycle was given pooled demand rows.
    warehouses
        ``warehouse_id, lat, lon, capacity_kg, handling_per_kg``, or None: offers go to their region's hub.
    crossdocks
        ``crossdock_id, lat, lon, capacity_kg, handling_per_kg``, or None; allocations with a ``via``
        naming one run their line haul through it.
    """

    date: dt.date
    allocations: pl.DataFrame
    offers: pl.DataFrame
    offer_region: pl.DataFrame
    hubs: pl.DataFrame
    orders: pl.DataFrame | None = None
    warehouses: pl.DataFrame | None = None
    crossdocks: pl.DataFrame | None = None


@dataclass(frozen=True)
class LegProblem:
    leg: str
    hub: str
    problem: RoutingProblem
    regions: pl.DataFrame  # stop_id, region_id


@dataclass(frozen=True)
class Plan:
    """The plan's tables (each with a ``leg`` column) and its summary."""

    routes: pl.DataFrame
    stops: pl.DataFrame
    unserved: pl.DataFrame
    summary: dict[str, Any]


def plan_inputs(
    *,
    date: dt.date,
    allocations: pl.DataFrame,
    offers: pl.DataFrame,
    regions: Regions,
    orders_in: pl.DataFrame | None,
    orders_out: pl.DataFrame | None,
    warehouses: pl.DataFrame | None,
    crossdocks: pl.DataFrame | None = None,
) -> PlanInputs:
    """A cycle's plan inputs from its frames: the input offers and orders (an optional
    ``pickup_point_id`` is kept), the result's allocations and order fills, and the validated regions
    (:class:`regions.polygons.Regions`)."""
    hubs = regions.hubs.select("region_id", "hub_lat", "hub_lon")
    sold = offers.join(allocations.select("offer_id").unique(), on="offer_id", how="semi")
    orders = None
    if orders_in is not None and orders_out is not None:
        keep = ["order_id", "lat", "lon", "due_date"] + (["pickup_point_id"] if "pickup_point_id" in orders_in.columns else [])
        orders = orders_out.select("order_id", "region_id", "demand_id", "filled_kg").join(orders_in.select(keep), on="order_id", how="inner")
    return PlanInputs(date, allocations, sold, offer_regions(sold, regions, hubs), hubs, orders, warehouses, crossdocks)


def offer_regions(offers: pl.DataFrame, shapes: Any, hubs: pl.DataFrame) -> pl.DataFrame:
    """``offer_id, region_id``: the region containing each offer, else the one with the nearest hub."""
    from regions.geodesy import nearest, unit_vectors
    from regions.pooling import assign_regions

    lat, lon = offers["lat"].to_numpy(), offers["lon"].to_numpy()
    index = assign_regions(lat, lon, shapes, max_snap_km=0.0).region.copy()
    outside = np.flatnonzero(index < 0)
    if len(outside) and hubs.height:
        targets = unit_vectors(hubs["hub_lat"].to_numpy(), hubs["hub_lon"].to_numpy())
        index[outside] = nearest(unit_vectors(lat[outside], lon[outside]), targets, 1)[0][:, 0]
    return pl.DataFrame({"offer_id": offers["offer_id"], "region_id": hubs["region_id"].gather(index.tolist())})


def build_problems(inputs: PlanInputs, settings: PlanSettings, legs: tuple[str, ...] = LEGS) -> tuple[list[LegProblem], pl.DataFrame, dict[str, Any]]:
    """Every routing problem of the plan's ``legs``, the stops refused before routing (warehouse
    capacity), and notes for the summary (the warehouse handling cost, a leg not planned and why)."""
    alloc = inputs.allocations.filter(pl.col("quantity_kg") > 0)
    hubs = inputs.hubs.select("region_id", pl.col("hub_lat").alias("lat"), pl.col("hub_lon").alias("lon"))
    sold = (
        alloc.group_by("offer_id")
        .agg(pl.col("quantity_kg").sum().alias("kg"))
        .join(inputs.offers.select("offer_id", "lat", "lon"), on="offer_id", how="left")
        .join(inputs.offer_region, on="offer_id", how="left")
        .sort("offer_id")
    )
    notes: dict[str, Any] = {}
    refused = pl.DataFrame(schema=PLAN_UNSERVED_SCHEMA)
    if inputs.warehouses is not None and inputs.warehouses.height:
        sold, refused, notes["warehouse_handling_cost"] = _to_warehouses(sold, inputs.warehouses)
        nodes = inputs.warehouses.select(pl.col("warehouse_id").alias("node"), "lat", "lon")
        node_prefix = "warehouse:"
    else:
        sold = sold.with_columns(node=pl.col("region_id"))
        nodes = hubs.rename({"region_id": "node"})
        node_prefix = "hub:"
    problems: list[LegProblem] = []

    where = {n: (lat, lon) for n, lat, lon in nodes.select("node", "lat", "lon").iter_rows()}

    def depot(node: str, prefix: str) -> pl.DataFrame:
        lat, lon = where[node]
        return pl.DataFrame({"depot_id": [prefix + node], "lat": [lat], "lon": [lon]}, schema={"depot_id": pl.String, "lat": pl.Float64, "lon": pl.Float64})

    for (node,), stops in sold.group_by("node", maintain_order=True) if "first_mile" in legs else ():
        frame = stops.select(pl.col("offer_id").alias("stop_id"), "lat", "lon", "kg", service_min=pl.lit(SERVICE_MIN["first_mile"]))
        problems.append(
            _leg(
                "first_mile",
                str(node),
                depot(str(node), node_prefix),
                frame,
                stops.select(pl.col("offer_id").alias("stop_id"), "region_id"),
                settings,
                collect=True,
                prefix=f"FM.{node}.",
            )
        )
    # line haul: kg per (origin node, destination region), leaving out what stays at its own hub; with
    # crossdocks, kg through one are a stop at the crossdock, then its own problem's stops
    via = pl.col("via") if "via" in alloc.columns and inputs.crossdocks is not None else pl.lit(None, pl.String)
    routed = alloc.join(sold.select("offer_id", "node"), on="offer_id", how="inner").with_columns(_via=via)
    flows = (
        routed.filter(pl.col("_via").is_null())
        .group_by("node", "region_id")
        .agg(pl.col("quantity_kg").sum().alias("kg"))
        .filter((pl.col("node") != pl.col("region_id")) | pl.lit(node_prefix != "hub:"))
        .join(hubs, on="region_id", how="left")
        .select(("hub:" + pl.col("region_id")).alias("stop_id"), "node", "region_id", "lat", "lon", "kg")
    )
    docks = (
        inputs.crossdocks.select(pl.col("crossdock_id").alias("_via"), "lat", "lon", "handling_per_kg")
        if inputs.crossdocks is not None
        else pl.DataFrame(schema={"_via": pl.String, "lat": pl.Float64, "lon": pl.Float64, "handling_per_kg": pl.Float64})
    )
    through = routed.filter(pl.col("_via").is_not_null())
    if through.height:
        hop1 = through.group_by("node", "_via").agg(pl.col("quantity_kg").sum().alias("kg")).join(docks, on="_via", how="left")
        flows = pl.concat(
            [flows, hop1.select(("crossdock:" + pl.col("_via")).alias("stop_id"), "node", pl.lit(None, pl.String).alias("region_id"), "lat", "lon", "kg")]
        )
        handled = through.join(docks, on="_via", how="left")
        notes["crossdock_handling_cost"] = round(float((handled["quantity_kg"] * handled["handling_per_kg"]).sum()), 2)
    elif inputs.crossdocks is not None:
        notes["crossdock_handling_cost"] = 0.0
    flows = flows.sort("node", "stop_id")
    for (node,), stops in flows.group_by("node", maintain_order=True) if "line_haul" in legs else ():
        frame = stops.select("stop_id", "lat", "lon", "kg", service_min=pl.lit(SERVICE_MIN["line_haul"]))
        problems.append(
            _leg(
                "line_haul",
                str(node),
                depot(str(node), node_prefix),
                frame,
                stops.select("stop_id", "region_id"),
                settings,
                collect=False,
                prefix=f"LH.{node}.",
                open_end=True,
            )
        )
    hop2 = through.group_by("_via", "region_id").agg(pl.col("quantity_kg").sum().alias("kg")).join(hubs, on="region_id", how="left").sort("_via", "region_id")
    for (dock,), stops in hop2.group_by("_via", maintain_order=True) if "line_haul" in legs else ():
        place = docks.filter(pl.col("_via") == dock)
        frame = stops.select(("hub:" + pl.col("region_id")).alias("stop_id"), "lat", "lon", "kg", service_min=pl.lit(SERVICE_MIN["line_haul"]))
        problems.append(
            _leg(
                "line_haul",
                f"crossdock:{dock}",
                pl.DataFrame({"depot_id": [f"crossdock:{dock}"], "lat": place["lat"], "lon": place["lon"]}),
                frame,
                stops.select(("hub:" + pl.col("region_id")).alias("stop_id"), "region_id"),
                settings,
                collect=False,
                prefix=f"LX.{dock}.",
                open_end=True,
            )
        )
    if "last_mile" not in legs:
        pass
    elif inputs.orders is None:
        notes["last_mile"] = "not planned: the cycle was given pooled demand rows, which carry no pickup locations (give orders)"
    else:
        problems += _last_mile(inputs, alloc, hubs, settings)
    return problems, refused, notes


def _leg(
    leg: str,
    hub: str,
    depots: pl.DataFrame,
    stops: pl.DataFrame,
    regions: pl.DataFrame,
    settings: PlanSettings,
    *,
    collect: bool,
    prefix: str,
    problem_id: str | None = None,
    open_end: bool = False,
) -> LegProblem:
    problem = RoutingProblem(
        problem_id or f"{leg}:{hub}", stops, depots, settings.fleets[leg], collect=collect, travel=settings.travel, route_prefix=prefix, open_end=open_end
    )
    return LegProblem(leg, hub, problem, regions)


def _to_warehouses(sold: pl.DataFrame, warehouses: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, float]:
    """Each sold offer's warehouse: the nearest of its nearest few with room left, offers in id order."""
    from regions.geodesy import nearest, unit_vectors

    wh = warehouses.sort("warehouse_id")
    k = min(WAREHOUSE_CANDIDATES, wh.height)
    index, _ = nearest(unit_vectors(sold["lat"].to_numpy(), sold["lon"].to_numpy()), unit_vectors(wh["lat"].to_numpy(), wh["lon"].to_numpy()), k)
    room = wh["capacity_kg"].to_numpy().astype(np.int64).copy()
    kg = sold["kg"].to_numpy()
    chosen = np.full(sold.height, -1, np.int64)
    for i in range(sold.height):  # one pass per offer over a few candidates: capacities are shared, so in order
        for w in index[i]:
            if room[w] >= kg[i]:
                room[w] -= kg[i]
                chosen[i] = w
                break
    fits = chosen >= 0
    ids = wh["warehouse_id"]
    placed = sold.filter(pl.Series(fits)).with_columns(node=ids.gather(chosen[fits].tolist()))
    out = sold.filter(pl.Series(~fits))
    refused = pl.DataFrame(
        {"leg": "first_mile", "problem_id": "first_mile:warehouses", "stop_id": out["offer_id"], "kg": out["kg"], "reason": WAREHOUSE_REASON},
        schema=PLAN_UNSERVED_SCHEMA,
    )
    handling = placed.join(wh.select(pl.col("warehouse_id").alias("node"), "handling_per_kg"), on="node")
    return placed, refused, round(float((handling["kg"] * handling["handling_per_kg"]).sum()), 2)


def _last_mile(inputs: PlanInputs, alloc: pl.DataFrame, hubs: pl.DataFrame, settings: PlanSettings) -> list[LegProblem]:
    assert inputs.orders is not None
    arrival = alloc.group_by("demand_id").agg(pl.col("transit_days").max().alias("days"))
    orders = inputs.orders.filter(pl.col("filled_kg") > 0)
    key = pl.format("{},{}", pl.col("lat").round(5), pl.col("lon").round(5))
    if "pickup_point_id" in orders.columns:
        key = pl.coalesce(pl.col("pickup_point_id").cast(pl.String), key)
    orders = (
        orders.join(arrival, on="demand_id", how="inner")
        .with_columns(deliver=pl.lit(inputs.date) + pl.duration(days=pl.col("days")), point=key)
        .sort("order_id")
    )
    points = (
        orders.group_by("region_id", "deliver", "point", maintain_order=True)
        .agg(pl.col("lat").first(), pl.col("lon").first(), pl.col("filled_kg").sum().alias("kg"), pl.col("due_date").min().alias("due"))
        .with_columns(due_min=(pl.col("due") - pl.col("deliver")).dt.total_days() * 1440.0 + DUE_CUTOFF_MIN)
        .sort("region_id", "deliver", "point")
    )
    problems: list[LegProblem] = []
    for (region, day), stops in points.group_by("region_id", "deliver", maintain_order=True):
        when = day.isoformat() if isinstance(day, dt.date) else str(day)
        hub = hubs.filter(pl.col("region_id") == region)
        depots = pl.DataFrame({"depot_id": [f"hub:{region}"], "lat": hub["lat"], "lon": hub["lon"]})
        frame = stops.select(pl.col("point").alias("stop_id"), "lat", "lon", "kg", "due_min", service_min=pl.lit(SERVICE_MIN["last_mile"]))
        problems.append(
            _leg(
                "last_mile",
                str(region),
                depots,
                frame,
                stops.select(pl.col("point").alias("stop_id"), "region_id"),
                settings,
                collect=False,
                prefix=f"LM.{region}.{when}.",
                problem_id=f"last_mile:{region}:{when}",
            )
        )
    return problems


def _solve_one(problem: LegProblem, settings: SolveSettings) -> RoutingOutcome:
    return solve_routing(problem.problem, settings)


def _stops(problem: LegProblem) -> int:
    return problem.problem.stops.height


def plan_routes(
    inputs: PlanInputs,
    settings: PlanSettings = PlanSettings(),
    progress: Progress | None = None,
    *,
    executor: Executor | None = None,
    legs: tuple[str, ...] = LEGS,
) -> Plan:
    """Build and solve every problem of the plan's ``legs`` (all three unless told); see the module
    docstring.

    The problems run on ``executor`` when one is given (the caller closes it), else on one opened here
    as ``settings`` say (``settings.executor``, ``workers``, ``scheduler``) and closed again;
    ``progress`` is called with problems done and problems.

    Raises
    ------
    InputError
        A matrix lacks a pair a problem needs.
    SolverError
        A routing solution broke a condition (a bug; nothing is published).
    """
    from matcher.fanout import Work, open_executor

    clock = time.perf_counter()
    problems, refused, notes = build_problems(inputs, settings, legs)
    stop_count = sum(_stops(p) for p in problems)
    solve = settings.solve.per_problem(len(problems), stop_count)  # the plan's budget spread over its stops
    built = time.perf_counter()
    own = executor is None
    runner = (
        open_executor(settings.executor, workers=settings.workers, scheduler=settings.scheduler, problems=len(problems), warm=False, work=Work(0, stop_count))
        if executor is None
        else executor
    )
    try:
        outcomes = runner.map_ordered(_solve_one, problems, solve, size=_stops, progress=progress)
        workers = runner.workers
    finally:
        if own:
            runner.close()
    solved = time.perf_counter()
    routes = _gathered([o.routes for o in outcomes], problems, ROUTE_SCHEMA, PLAN_ROUTE_SCHEMA)
    stops = _gathered([o.stops for o in outcomes], problems, STOP_SCHEMA, PLAN_STOP_SCHEMA)
    unserved = pl.concat([refused, _gathered([o.unserved for o in outcomes], problems, UNSERVED_SCHEMA, PLAN_UNSERVED_SCHEMA)], how="vertical")
    summary = _summary(problems, outcomes, routes, unserved, inputs, notes)
    summary["seconds"] = {"build": round(built - clock, 3), "route": round(solved - built, 3), "workers": workers}
    summary["settings"] = {
        "iterations": settings.solve.iterations,
        "budget": settings.solve.budget,
        "problems": len(problems),
        "stops": stop_count,
        "iterations_per_problem": solve.iterations,
        "seconds_per_problem": settings.solve.seconds,
        "seed": settings.solve.seed,
        "circuity": settings.travel.circuity,
        "speed_kmh": settings.travel.speed_kmh,
        "matrix": settings.travel.matrix is not None,
    }
    return Plan(routes, stops, unserved, summary)


def _gathered(frames: list[pl.DataFrame], problems: list[LegProblem], schema: Mapping[str, Any], out: Mapping[str, Any]) -> pl.DataFrame:
    """One problem's frames after another (``schema``), each row with its problem's ``leg``, ``hub``,
    ``problem_id`` and its stop's ``region_id`` as ``out`` asks: one concatenation and one join for
    the whole plan, not one per problem."""
    rows = np.array([f.height for f in frames], np.int64)
    which = np.repeat(np.arange(len(frames), dtype=np.int64), rows)
    whole = pl.concat([pl.DataFrame(schema=schema), *frames], how="vertical").with_columns(
        _problem=pl.Series(which, dtype=pl.Int64),
        leg=pl.Series([p.leg for p in problems], dtype=pl.String).gather(which),
        hub=pl.Series([p.hub for p in problems], dtype=pl.String).gather(which),
        problem_id=pl.Series([p.problem.problem_id for p in problems], dtype=pl.String).gather(which),
    )
    if "region_id" in out:
        regions = pl.concat(
            [pl.DataFrame(schema={"stop_id": pl.String, "region_id": pl.String})] + [p.regions.select("stop_id", "region_id") for p in problems],
            how="vertical",
        ).with_columns(_problem=pl.Series(np.repeat(np.arange(len(problems), dtype=np.int64), [p.regions.height for p in problems]), dtype=pl.Int64))
        whole = whole.join(regions, on=["_problem", "stop_id"], how="left", maintain_order="left")
    return whole.select(list(out))


def _summary(
    problems: list[LegProblem], outcomes: list[RoutingOutcome], routes: pl.DataFrame, unserved: pl.DataFrame, inputs: PlanInputs, notes: dict[str, Any]
) -> dict[str, Any]:
    legs: dict[str, Any] = {}
    for leg in LEGS:
        r = routes.filter(pl.col("leg") == leg)
        u = unserved.filter(pl.col("leg") == leg)
        mine = [o for p, o in zip(problems, outcomes, strict=True) if p.leg == leg]
        kg, capacity, cost = int(r["kg"].sum()), int(r["capacity_kg"].sum()), float(r["cost"].sum())
        legs[leg] = {
            "problems": len(mine),
            "statuses": {s: sum(o.status == s for o in mine) for s in ("served", "partial", "infeasible", "empty") if any(o.status == s for o in mine)},
            "time_limited": sum(o.time_limited for o in mine),
            "vehicles": r.height,
            "kg": kg,
            "km": round(float(r["km"].sum()), 1),
            "cost": round(cost, 2),
            "load_factor": round(kg / capacity, 4) if capacity else None,
            "cost_per_kg": round(cost / kg, 4) if kg else None,
            "unserved_stops": u.height,
            "unserved_kg": int(u["kg"].sum()),
            "seconds": round(sum(o.seconds for o in mine), 3),
        }
    moved = int(inputs.allocations["quantity_kg"].sum())
    handling = float(notes.get("warehouse_handling_cost", 0.0)) + float(notes.get("crossdock_handling_cost", 0.0))
    routed = sum(v["cost"] for v in legs.values()) + handling
    assumed = float((inputs.allocations["cost_per_kg"] * inputs.allocations["quantity_kg"]).sum())
    return {
        "date": inputs.date.isoformat(),
        "status": "served" if unserved.height == 0 else "partial",
        "legs": legs,
        "kg_matched": moved,
        "routed_cost": round(routed, 2),
        "routed_cost_per_kg": round(routed / moved, 4) if moved else None,
        "assumed_cost": round(assumed, 2),
        "assumed_cost_per_kg": round(assumed / moved, 4) if moved else None,
        "routed_vs_assumed": round(routed / assumed, 4) if assumed else None,
        **notes,
    }


def plan_geojson(plan: Plan, places: pl.DataFrame) -> str:
    """A FeatureCollection: one LineString per route, from its depot through its stops in order (and back,
    except on the open-ended line haul), with the route's columns as properties. ``places`` holds
    ``depot_id, lat, lon`` of every depot."""
    return feature_collection(route_features(plan.routes, plan.stops, places))


def depot_places(inputs: PlanInputs) -> pl.DataFrame:
    """``depot_id, lat, lon`` of every hub, warehouse and crossdock a plan's routes can start from."""
    frames = [inputs.hubs.select(("hub:" + pl.col("region_id")).alias("depot_id"), pl.col("hub_lat").alias("lat"), pl.col("hub_lon").alias("lon"))]
    if inputs.warehouses is not None:
        frames.append(inputs.warehouses.select(("warehouse:" + pl.col("warehouse_id")).alias("depot_id"), "lat", "lon"))
    if inputs.crossdocks is not None:
        frames.append(inputs.crossdocks.select(("crossdock:" + pl.col("crossdock_id")).alias("depot_id"), "lat", "lon"))
    return pl.concat(frames)


__all__ = [
    "DUE_CUTOFF_MIN",
    "SERVICE_MIN",
    "LegProblem",
    "Plan",
    "PlanInputs",
    "PlanSettings",
    "build_problems",
    "depot_places",
    "offer_regions",
    "plan_geojson",
    "plan_inputs",
    "plan_routes",
]
