"""The routing benchmark, run by hand: ``.venv/bin/python bench/routing.py [NAME ...] [--write bench/RESULTS.md]``.

What it measures (each NAME prints a Markdown section; ``--write FILE`` replaces that section in FILE):

- ``cvrplib``: solution quality at a fixed time. Published CVRPLIB instances with a proven optimum
  (A-n32-k5, E-n22-k4, X-n101-k25, X-n148-k46; the text is in ``bench/data/cvrplib/``, sources in its
  README) fed through the same matrix of rounded Euclidean distances to (a) the project's
  ``solve_routing`` (PyVRP; a ``Travel(matrix=...)`` frame, one vehicle type, no fixed cost, no fleet
  limit, the iteration budget raised so that the time limit binds) and (b) OR-Tools routing
  (``pywrapcp``, the same integer matrix, a capacity dimension, PATH_CHEAPEST_ARC then
  GUIDED_LOCAL_SEARCH, the same time limit). Per run: cost, gap to the optimum in %, wall and CPU
  seconds, vehicles. Every solution is checked (each customer once, capacities) and its cost
  recomputed from the matrix before it is reported. Where the project's solver finds no plan, a
  diagnostic run follows with every cost it sees 100 times smaller (the matrix read as 0.01 km per unit).
- ``demo``: the demo day (``build_demo_inputs``, the inputs ``harvest demo`` writes) matched with
  ``harvest match``, then planned end to end with ``harvest plan --result`` at the default budget and
  at ``--route-iterations 200``: per leg the problems and their sizes, the routing seconds (summed over
  problems, in the workers), vehicles, kg, load factor, cost per kg, unserved kg; the routed cost
  against the matching's assumed freight; wall time, CPU time and the peak RSS of the process tree.
- ``national``: the national day on real geography (``build_national_inputs``: 200,000 offers,
  China's 2,875 counties, pooled demand rows, so no last mile) matched, then ``harvest plan`` with a
  wall-clock cap (``--plan-timeout``, default 20 minutes). When the cap stops it, the section reports
  the routing problems' sizes per leg and times samples in this process (the largest first-mile
  problems, the largest line-haul problems and a random sample of each leg) to estimate the whole,
  marked as an estimate.

Timings are wall time on a shared machine; the CPU seconds beside them show how much of the machine
the run had (a CPU/wall ratio well under the workers' count means other work competed for the cores).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import Measured, run_measured  # noqa: E402

INSTANCES = ("A-n32-k5", "E-n22-k4", "X-n101-k25", "X-n148-k46")
CVRPLIB = HERE / "data" / "cvrplib"
WORK = HERE / "data" / "routing"  # scratch: inputs, results and plans (git-ignored with bench/data/)
HARVEST = [sys.executable, "-m", "harvest"]


@dataclass(frozen=True)
class Instance:
    """A CVRPLIB instance: node 0 is the depot."""

    name: str
    xy: NDArray[np.float64]
    demand: NDArray[np.int64]
    capacity: int
    optimum: int


@dataclass(frozen=True)
class Run:
    """One solve of one instance: the checked cost (recomputed from the matrix)."""

    solver: str
    instance: str
    limit: float
    cost: int | None  # None: no solution serving every customer
    vehicles: int
    seconds: float
    cpu_seconds: float
    status: str


# --------------------------------------------------------------------------------------- cvrplib
def bench_cvrplib(args: argparse.Namespace) -> str:
    """Each instance with each solver at each time limit, side by side."""
    import pyvrp  # noqa: F401  (imports before the clock starts)
    from ortools.constraint_solver import pywrapcp  # noqa: F401

    instances = {name: read_instance(CVRPLIB / f"{name}.vrp", CVRPLIB / f"{name}.sol") for name in args.instances}
    runs: list[Run] = []
    for name, instance in instances.items():
        matrix = rounded_euclid(instance.xy)
        for limit in args.limits:
            first = len(runs)
            runs.append(solve_with_project(instance, matrix, limit))
            if runs[-1].cost is None:  # a diagnosis, not a comparison: the same tours with every cost 100 times smaller
                runs.append(solve_with_project(instance, matrix, limit, km_per_unit=0.01))
            runs.append(solve_with_ortools(instance, matrix, limit))
            print(f"  {name} {limit:g} s: " + ", ".join(f"{r.solver} {r.cost}" for r in runs[first:]), file=sys.stderr)
    lines = [
        "Each instance's distances are the rounded Euclidean distances between its points (CVRPLIB's EUC_2D), one "
        "integer matrix given to both solvers; the optimum is CVRPLIB's proven optimum (the `.sol` beside the instance). "
        "`harvest` is `matcher.routing.vrp.solve_routing` (PyVRP 0.14, seed 1) through a `Travel(matrix=...)` frame with one "
        "vehicle type (cost 1 per km, no fixed cost, no limit on the count) and `SolveSettings(iterations=10**9, seconds=limit)`, "
        "so the time limit stops it; its seconds include building the matrices from the frame. `ortools` is "
        f"`pywrapcp` ({_ortools_version()}) with the same matrix (`RegisterTransitMatrix`), a capacity dimension, "
        "PATH_CHEAPEST_ARC then GUIDED_LOCAL_SEARCH and the same time limit, with ceil(1.2 x total demand / capacity) + 1 "
        "vehicles (unused ones cost nothing). Each run once, one after the other in one process; CPU s is this process's "
        "CPU time during the solve (both solvers are single-threaded).",
        "",
        "| instance | customers | optimum | limit s | solver | cost | gap % | vehicles | wall s | CPU s | stopped by |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        inst = instances[r.instance]
        cost, gap = ("-", "-") if r.cost is None else (f"{r.cost:,}", f"{100.0 * (r.cost - inst.optimum) / inst.optimum:.2f}")
        lines.append(
            f"| {r.instance} | {len(inst.demand) - 1} | {inst.optimum:,} | {r.limit:g} | {r.solver} | {cost} | {gap} | "
            f"{r.vehicles} | {r.seconds:.1f} | {r.cpu_seconds:.1f} | {r.status} |"
        )
    if any(r.solver.startswith("harvest, ") for r in runs):
        lines += [
            "",
            "Rows `harvest, 1 unit = 0.01 km` are a diagnosis, run only where `harvest` found no plan serving every customer: "
            "the same matrix read as 0.01 km per unit, so that every cost the solver sees is 100 times smaller while its load "
            "penalties are not; the cost is reported in matrix units.",
        ]
    return section("routing-cvrplib", "Routing: CVRPLIB instances, harvest (PyVRP) against OR-Tools at the same time limit", lines)


def read_instance(vrp: Path, sol: Path) -> Instance:
    """A CVRP instance and its optimum, read with ``vrplib`` (PyVRP's reader, installed with it)."""
    import vrplib

    data = vrplib.read_instance(str(vrp))
    if [int(d) for d in data["depot"]] != [0]:
        raise ValueError(f"{vrp.name}: expected one depot, the first node; got depots {list(data['depot'])}")
    if data["edge_weight_type"] != "EUC_2D":
        raise ValueError(f"{vrp.name}: expected EDGE_WEIGHT_TYPE EUC_2D, got {data['edge_weight_type']}")
    optimum = vrplib.read_solution(str(sol))["cost"]
    return Instance(str(data["name"]), np.asarray(data["node_coord"], np.float64), np.asarray(data["demand"], np.int64), int(data["capacity"]), int(optimum))


def rounded_euclid(xy: NDArray[np.float64]) -> NDArray[np.int64]:
    """CVRPLIB's EUC_2D: the Euclidean distance rounded to the nearest integer."""
    return np.rint(np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])).astype(np.int64)


def solve_with_project(instance: Instance, matrix: NDArray[np.int64], limit: float, *, km_per_unit: float = 1.0) -> Run:
    """``solve_routing`` on the instance, a matrix unit read as ``km_per_unit`` km at a cost of 1 per km
    (so the solver's costs scale with ``km_per_unit`` while its load penalties do not); the cost is
    reported in matrix units."""
    from matcher.routing.tables import Travel
    from matcher.routing.vrp import RoutingProblem, SolveSettings, solve_routing

    n = len(instance.xy)
    ids = np.array([f"n{k}" for k in range(n)])
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    frame = pl.DataFrame({"from_id": ids[i.ravel()], "to_id": ids[j.ravel()], "distance_km": matrix.ravel() * km_per_unit, "duration_min": np.zeros(n * n)})
    # coordinates only place the stops for PyVRP's neighbourhoods; every distance comes from the matrix
    stops = pl.DataFrame({"stop_id": ids[1:], "lat": instance.xy[1:, 1] / 1000, "lon": instance.xy[1:, 0] / 1000, "kg": instance.demand[1:]})
    depots = pl.DataFrame({"depot_id": [ids[0]], "lat": [instance.xy[0, 1] / 1000], "lon": [instance.xy[0, 0] / 1000]})
    fleet = pl.DataFrame(
        {"vehicle_type": ["truck"], "capacity_kg": [instance.capacity], "fixed_cost": [0.0], "cost_per_km": [1.0], "max_duration_min": [10_000.0]}
    )
    problem = RoutingProblem(instance.name, stops, depots, fleet, travel=Travel(matrix=frame))
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = solve_routing(problem, SolveSettings(iterations=10**9, seconds=limit, seed=1))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    solver = "harvest" if km_per_unit == 1.0 else f"harvest, 1 unit = {km_per_unit:g} km"
    stopped = f"time ({outcome.iterations:,} iterations)" if outcome.time_limited else "iterations"
    if outcome.status != "served":  # no plan serving every customer within the limit: reported, not costed
        return Run(solver, instance.name, limit, None, 0, wall, cpu, f"{stopped}; status {outcome.status}, {outcome.unserved.height} customers unserved")
    # the outcome is already checked by solve_routing; the cost is recomputed here as well, from this matrix
    index = {f"n{k}": k for k in range(n)}
    tours = [[index[s] for s in tour] for tour in outcome.stops.group_by("route_id", maintain_order=True).agg("stop_id")["stop_id"].to_list()]
    cost = _checked_cost(instance, matrix, tours)
    if abs(cost * km_per_unit - outcome.cost) > 1e-6:
        raise RuntimeError(f"{instance.name}: solve_routing reports cost {outcome.cost}, the matrix gives {cost * km_per_unit}")
    return Run(solver, instance.name, limit, cost, len(tours), wall, cpu, stopped)


def solve_with_ortools(instance: Instance, matrix: NDArray[np.int64], limit: float) -> Run:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(instance.xy)
    vehicles = int(np.ceil(1.2 * instance.demand.sum() / instance.capacity)) + 1
    wall, cpu = time.perf_counter(), time.process_time()
    manager = pywrapcp.RoutingIndexManager(n, vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    arc = routing.RegisterTransitMatrix(matrix.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    load = routing.RegisterUnaryTransitVector(instance.demand.tolist())
    routing.AddDimensionWithVehicleCapacity(load, 0, [instance.capacity] * vehicles, True, "load")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(round(limit * 1000)))
    solution = routing.SolveWithParameters(params)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    # GLS never proves a local optimum: a run that used its time ends as SUCCESS or PARTIAL_SUCCESS
    if solution is None or status not in ("ROUTING_SUCCESS", "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED", "ROUTING_OPTIMAL"):
        raise RuntimeError(f"{instance.name}: OR-Tools ended with {status} and {'no' if solution is None else 'a'} solution")
    tours = []
    for v in range(vehicles):
        node, tour = solution.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(node):
            tour.append(manager.IndexToNode(node))
            node = solution.Value(routing.NextVar(node))
        if tour:
            tours.append(tour)
    cost = _checked_cost(instance, matrix, tours)
    if cost != solution.ObjectiveValue():
        raise RuntimeError(f"{instance.name}: OR-Tools reports cost {solution.ObjectiveValue()}, the matrix gives {cost}")
    return Run("ortools", instance.name, limit, cost, len(tours), wall, cpu, "time" if wall >= 0.95 * limit else status)


def _checked_cost(instance: Instance, matrix: NDArray[np.int64], tours: list[list[int]]) -> int:
    """The tours' length from the matrix, after checking that each customer is on exactly one tour and
    no tour carries more than the capacity."""
    visits = np.bincount(np.concatenate([np.asarray(t, np.int64) for t in tours]), minlength=len(instance.demand))
    if visits[0] != 0 or np.any(visits[1:] != 1):
        raise RuntimeError(f"{instance.name}: a customer is not on exactly one tour")
    loads = [int(instance.demand[t].sum()) for t in tours]
    if max(loads) > instance.capacity:
        raise RuntimeError(f"{instance.name}: a tour carries {max(loads)} over the capacity {instance.capacity}")
    cost = 0
    for t in tours:
        path = np.asarray([0, *t, 0])
        cost += int(matrix[path[:-1], path[1:]].sum())
    return cost


def _ortools_version() -> str:
    import ortools

    return f"OR-Tools {ortools.__version__}"


# ------------------------------------------------------------------------------------------ demo
def bench_demo(args: argparse.Namespace) -> str:
    """The demo day matched, then planned at two budgets."""
    from harvest.demo.day import build_demo_inputs

    folder = WORK / "demo"
    paths = build_demo_inputs(folder / "input")
    paths.pop("cached")
    date = paths.pop("date")
    result = folder / "result"
    match_cmd = [
        *HARVEST,
        "match",
        "--offers",
        str(paths["offers"]),
        "--orders",
        str(paths["orders"]),
        "--products",
        str(paths["products"]),
        "--regions",
        str(paths["regions"]),
        "--date",
        date.isoformat(),
        "--out",
        str(result),
        "--quiet",
    ]
    match = measure(match_cmd)
    _ok(match, "harvest match (demo day)")
    budgets = [("default (1,000 iterations, 5 s per problem)", []), ("--route-iterations 200", ["--route-iterations", "200"])]
    plans = []
    for label, extra in budgets:
        cmd = [*HARVEST, "plan", "--result", str(result), "--quiet", *extra]
        run = measure(cmd)
        _ok(run, f"harvest plan {' '.join(extra)}")
        summary = json.loads((result / "plan" / "summary.json").read_text())
        keep = folder / f"plan-{'default' if not extra else 'iterations-200'}"
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(result / "plan", keep)
        plans.append((label, cmd, run, summary))
    sizes = problem_sizes(result)
    match_summary = json.loads((result / "summary.json").read_text())
    orders = pl.read_csv(paths["orders"], infer_schema_length=0)
    if "pickup_point_id" in orders.columns:
        points = (
            f"the orders name {orders['pickup_point_id'].n_unique():,} community pickup points (`pickup_point_id`), the last mile's "
            "stops, one problem per destination city and delivery day"
        )
    else:
        points = "the orders carry no `pickup_point_id`, so each order's location is a last-mile stop"
    lines = [
        f"The demo day (`build_demo_inputs`, the inputs `harvest demo` writes, version {_demo_version(folder / 'input')}: "
        f"{match_summary['offers']:,} offers, {match_summary['orders']:,} orders pooled into China's 370 cities; {points}), matched "
        f"with `harvest match` in {match.seconds:.1f} s, then planned with the default fleets (docs/routes.md), great-circle km x 1.3 "
        "at 60 km/h, and 2 workers (the plan's default: the cores available).",
        "",
        "Commands (from the repository root; `harvest` run as `.venv/bin/python -m harvest`):",
        "",
        "```",
        _command(match_cmd),
        *(_command(cmd) for _, cmd, _, _ in plans),
        "```",
        "",
        _sizes_table(sizes),
        "",
    ]
    for label, _, run, s in plans:
        lines += [
            f"**Budget: {label}.** Wall {run.seconds:.0f} s (routing {s['seconds']['route']:.0f} s of it on {s['seconds']['workers']} workers), "
            f"CPU {_cpu(run)}, peak RSS of the process tree {run.peak_rss_mb:,.0f} MB.",
            "",
        ]
        lines += _legs_table(s)
        lines += ["", _versus_assumed(s, result), ""]
    return section("routing-demo", "Routing: the demo day planned end to end (harvest plan)", lines)


def problem_sizes(result: Path) -> pl.DataFrame:
    """``leg, problem_id, stops, kg``: every routing problem the plan of ``result`` builds (stops before
    any is refused), built the way ``harvest plan`` builds them."""
    problems = plan_problems(result)
    return pl.DataFrame(
        {
            "leg": [p.leg for p in problems],
            "problem_id": [p.problem.problem_id for p in problems],
            "stops": [p.problem.stops.height for p in problems],
            "pieces": [_pieces(p.problem) for p in problems],
            "kg": [int(p.problem.stops["kg"].sum()) for p in problems],
        }
    )


def _pieces(problem: Any) -> int:
    """The visits the search sees: ``solve_routing`` splits a stop heavier than the largest vehicle into
    full loads of it and a remainder."""
    largest = int(problem.fleet["capacity_kg"].max())
    return int(((problem.stops["kg"].to_numpy() + largest - 1) // largest).sum())


def plan_problems(result: Path) -> list:
    """The plan's problems (``matcher.routing.plan.build_problems``) from a result folder and the inputs
    its summary records, read as ``harvest plan`` reads them, with the default settings."""
    from matcher.io import read_raw_table
    from matcher.params import MatchParams
    from matcher.routing.batch import ALLOCATIONS_IN, ORDERS_OUT_IN, PlanOptions, read_plan_tables, settings_for
    from matcher.routing.plan import build_problems, plan_inputs
    from matcher.routing.tables import Travel
    from matcher.schemas import OFFERS, ORDERS, parse_table
    from regions.polygons import read_regions

    recorded = json.loads((result / "summary.json").read_text())
    given = recorded["inputs"]
    frames = {
        "allocations": parse_table(read_raw_table(result / "allocations.csv"), ALLOCATIONS_IN, source="allocations.csv"),
        "offers": parse_table(read_raw_table(given["offers"]), OFFERS, source="offers", key="offer_id"),
    }
    if "orders" in given:
        frames["orders"] = parse_table(read_raw_table(given["orders"]), ORDERS, source="orders", key="order_id")
        frames["orders_out"] = parse_table(read_raw_table(result / "orders_out.csv"), ORDERS_OUT_IN, source="orders_out.csv", key="order_id")
    inputs = plan_inputs(
        date=dt.date.fromisoformat(recorded["date"]),
        allocations=frames["allocations"],
        offers=frames["offers"],
        regions=read_regions(given["regions"]),
        orders_in=frames.get("orders"),
        orders_out=frames.get("orders_out"),
        warehouses=None,
    )
    options = PlanOptions()
    tables, problems = read_plan_tables(options)
    if problems:
        raise RuntimeError("; ".join(str(p) for p in problems))
    settings = settings_for(options, tables, MatchParams(circuity=float(recorded.get("params", {}).get("circuity", Travel.circuity))))
    built, _, _ = build_problems(inputs, settings)
    return built


def _sizes_table(sizes: pl.DataFrame) -> str:
    rows = sizes.group_by("leg", maintain_order=True).agg(
        pl.len().alias("problems"),
        pl.col("stops").sum().alias("total"),
        pl.col("stops").max().alias("max"),
        pl.col("stops").median().alias("median"),
        pl.col("stops").quantile(0.9, "nearest").alias("p90"),
        (pl.col("stops") > 500).sum().alias("over500"),
        pl.col("pieces").sum().alias("pieces"),
        pl.col("pieces").max().alias("pieces_max"),
        pl.col("kg").sum().alias("kg"),
    )
    lines = [
        "Routing problems as `harvest plan` builds them (stops before the search; visits: the stops after `solve_routing` splits "
        "a stop heavier than the leg's largest vehicle into full loads and a remainder):",
        "",
        "| leg | problems | stops | stops per problem: max / median / 90th pct | problems over 500 stops | visits (max per problem) | kg |",
        "|---|---:|---:|---|---:|---|---:|",
    ]
    for r in rows.iter_rows(named=True):
        lines.append(
            f"| {r['leg']} | {r['problems']:,} | {r['total']:,} | {r['max']:,} / {r['median']:g} / {r['p90']:,} | {r['over500']:,} | "
            f"{r['pieces']:,} ({r['pieces_max']:,}) | {r['kg']:,} |"
        )
    return "\n".join(lines)


def _legs_table(s: dict[str, Any]) -> list[str]:
    lines = [
        "| leg | problems | time-limited | routing s (sum over problems) | vehicles | kg | km | load factor | cost per kg | unserved stops | unserved kg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for leg, v in s["legs"].items():
        if v["problems"] == 0:
            lines.append(f"| {leg} | 0 | | | | | | | | | |")
            continue
        load = f"{v['load_factor']:.0%}" if v["load_factor"] is not None else "-"
        per_kg = f"{v['cost_per_kg']:.3f}" if v["cost_per_kg"] is not None else "-"
        lines.append(
            f"| {leg} | {v['problems']:,} | {v['time_limited']:,} | {v['seconds']:,.1f} | {v['vehicles']:,} | {v['kg']:,} | {v['km']:,.0f} | "
            f"{load} | {per_kg} | {v['unserved_stops']:,} | {v['unserved_kg']:,} |"
        )
    return lines


def _versus_assumed(s: dict[str, Any], result: Path) -> str:
    """The routed cost beside the matching's: its cost_per_kg is freight per kg-km x lane km + handling."""
    from matcher.params import MatchParams

    alloc = pl.read_csv(result / "allocations.csv", columns=["quantity_kg", "distance_km", "cost_per_kg"])
    kg = alloc["quantity_kg"].sum()
    lane_km = float((alloc["quantity_kg"] * alloc["distance_km"]).sum() / kg)
    params = json.loads((result / "summary.json").read_text()).get("params", {})
    handling = float(params.get("handling_per_kg", MatchParams.handling_per_kg))
    freight = s["assumed_cost_per_kg"] - handling
    routed = s["routed_cost_per_kg"]
    text = (
        f"Routed cost {s['routed_cost']:,.0f} for {s['kg_matched']:,} kg matched: {routed:.3f} per kg, against the matching's assumed "
        f"{s['assumed_cost_per_kg']:.3f} per kg ({freight:.3f} freight at {params.get('freight_per_kg_km', MatchParams.freight_per_kg_km)} per kg-km over a "
        f"kg-weighted mean lane of {lane_km:,.0f} km, plus {handling:.2f} handling): **{s['routed_vs_assumed']:.2f}x** the assumed cost, "
        f"{routed / freight:.1f}x its freight part."
    )
    if s["legs"].get("line_haul", {}).get("cost_per_kg"):
        text += f" The line haul alone costs {s['legs']['line_haul']['cost_per_kg']:.3f} per kg it carries."
    return text


# -------------------------------------------------------------------------------------- national
def bench_national(args: argparse.Namespace) -> str:
    """The national day: match, then plan under a cap; past the cap, sizes and timed samples."""
    from harvest.demo.day import build_national_inputs

    folder = WORK / "national"
    t = time.perf_counter()
    paths = build_national_inputs(folder / "input")
    cached = paths.pop("cached")
    date = paths.pop("date")
    built = time.perf_counter() - t
    result = folder / "result"
    match_cmd = [
        *HARVEST,
        "match",
        "--offers",
        str(paths["offers"]),
        "--demand",
        str(paths["demand"]),
        "--regions",
        str(paths["regions"]),
        "--date",
        date.isoformat(),
        "--out",
        str(result),
        "--quiet",
    ]
    if args.reuse_match and (result / "allocations.csv").exists():
        match = None
    else:
        match = measure(match_cmd)
        _ok(match, "harvest match (national day)")
    m = json.loads((result / "summary.json").read_text())
    plan_cmd = [*HARVEST, "plan", "--result", str(result), "--quiet"]
    plan = measure(plan_cmd, timeout=args.plan_timeout)
    if not plan.timed_out:
        _ok(plan, "harvest plan (national day)")
    sizes = problem_sizes(result)
    lines = [
        f"The national day on real geography (`build_national_inputs`, as `harvest demo --size national`: {m['offers']:,} open offers, "
        f"{m['demand_rows']:,} pooled demand rows in China's 2,875 counties x 300 products x 2 tiers; inputs "
        f"{'reused from the cache' if cached else f'built in {built:.0f} s'}). Pooled demand rows carry no pickup locations, so the plan "
        f"has no last mile. Matched with `harvest match`"
        + (f" in {match.seconds:.0f} s (peak RSS {match.peak_rss_mb:,.0f} MB)" if match else " (a result of an earlier run of the same inputs)")
        + f": {m['allocated_kg']:,} kg allocated.",
        "",
        "Commands (from the repository root; `harvest` run as `.venv/bin/python -m harvest`):",
        "",
        "```",
        _command(match_cmd),
        _command(plan_cmd) + (f"   # stopped after {args.plan_timeout:.0f} s" if plan.timed_out else ""),
        "```",
        "",
        _sizes_table(sizes),
        "",
    ]
    if not plan.timed_out:
        s = json.loads((result / "plan" / "summary.json").read_text())
        lines += [
            f"`harvest plan` finished: wall {plan.seconds:.0f} s (routing {s['seconds']['route']:.0f} s on {s['seconds']['workers']} workers), "
            f"CPU {_cpu(plan)}, peak RSS of the process tree {plan.peak_rss_mb:,.0f} MB.",
            "",
        ]
        lines += _legs_table(s)
        lines += ["", _versus_assumed(s, result)]
        return section("routing-national", "Routing: the national day planned (harvest plan)", lines)
    lines += [
        f"`harvest plan` did not finish within {args.plan_timeout:,.0f} s ({args.plan_timeout / 60:.1f} min) of wall time; it was stopped "
        f"(peak RSS of the process tree until then {plan.peak_rss_mb:,.0f} MB). Samples, solved one by one in this process with "
        "the plan's default budget (`SolveSettings(iterations=1000, seconds=5)`, the same problems `harvest plan` builds):",
        "",
    ]
    lines += _national_samples(result, args)
    return section("routing-national", "Routing: the national day (harvest plan stopped; sizes, samples and an estimate)", lines)


def _national_samples(result: Path, args: argparse.Namespace) -> list[str]:
    from matcher.routing.plan import PlanSettings
    from matcher.routing.vrp import solve_routing

    problems = plan_problems(result)
    budget = PlanSettings().solve
    rng = np.random.default_rng(args.seed)
    lines = [
        "| leg | sample | problems | stops per problem (min-max) | wall s (sum) | wall s per problem: mean / max | CPU s (sum) | "
        "time-limited | statuses | unserved kg | vehicles |",
        "|---|---|---:|---|---:|---|---:|---:|---|---:|---:|",
    ]
    estimate: dict[str, tuple[float, float]] = {}
    workers = len(os.sched_getaffinity(0))
    for leg in ("first_mile", "line_haul"):
        mine = [p for p in problems if p.leg == leg]
        if not mine:
            continue
        order = np.argsort([-p.problem.stops.height for p in mine], kind="stable")
        largest, rest = order[: args.largest], order[args.largest :]
        sample = rng.choice(rest, size=min(args.sample, len(rest)), replace=False) if len(rest) else np.empty(0, np.int64)
        timed = []
        for label, chosen in ((f"the {len(largest)} largest", largest), (f"{len(sample)} at random from the other {len(rest):,}", sample)):
            rows = []
            for k in chosen:
                p = mine[int(k)]
                wall, cpu = time.perf_counter(), time.process_time()
                outcome = solve_routing(p.problem, budget)
                s = outcome.summary()
                rows.append(
                    (
                        p.problem.stops.height,
                        time.perf_counter() - wall,
                        time.process_time() - cpu,
                        outcome.time_limited,
                        outcome.status,
                        s["unserved_kg"],
                        s["vehicles"],
                    )
                )
                print(f"  {leg} {p.problem.problem_id}: {rows[-1][0]} stops, {rows[-1][1]:.1f} s, {outcome.status}", file=sys.stderr)
            timed.append(rows)
            if rows:
                stops, wall_s, cpu_s, limited = (np.array([r[c] for r in rows]) for c in range(4))
                statuses = ", ".join(f"{v} {k}" for k, v in sorted(_count(r[4] for r in rows).items()))
                lines.append(
                    f"| {leg} | {label} | {len(rows)} | {stops.min():,}-{stops.max():,} | {wall_s.sum():,.1f} | {wall_s.mean():.2f} / "
                    f"{wall_s.max():.2f} | {cpu_s.sum():,.1f} | {int(limited.sum())} | {statuses} | {sum(r[5] for r in rows):,} | "
                    f"{sum(r[6] for r in rows):,} |"
                )
        big, small = timed
        estimate[leg] = tuple(
            sum(r[c] for r in big) + (float(np.mean([r[c] for r in small])) * len(rest) if small else 0.0)  # type: ignore[assignment]
            for c in (1, 2)
        )
    wall_total = sum(w for w, _ in estimate.values())
    cpu_total = sum(c for _, c in estimate.values())
    lines += [
        "",
        "**Estimate (not a measurement):** a leg's routing time = the largest problems' measured seconds + the random sample's mean "
        "seconds x the number of the other problems. In wall seconds of one process: "
        + "; ".join(f"{leg} {w / 60:,.0f} min" for leg, (w, _) in estimate.items())
        + f"; together {wall_total / 60:,.0f} min, so about {wall_total / workers / 60:,.0f} min of wall time for the routing of "
        f"`harvest plan` on this machine's {workers} cores if its workers share the problems evenly (the fan-out hands out the largest "
        f"first). In CPU seconds (what the sample would take on an otherwise idle machine): {cpu_total / 60:,.0f} min, about "
        f"{cpu_total / workers / 60:,.0f} min on {workers} idle cores.",
    ]
    return lines


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


# ------------------------------------------------------------------------------------ measuring
def measure(cmd: list[str], *, timeout: float | None = None, poll: float = 0.05) -> Measured:
    """Run ``cmd`` from the repository root (bench/measure.py): wall and CPU seconds, peak RSS of the
    tree; past ``timeout`` seconds the tree is killed."""
    return run_measured(cmd, poll=poll, timeout=timeout, cwd=ROOT)


def _ok(run: Measured, what: str) -> None:
    if run.returncode != 0 or run.timed_out:
        raise SystemExit(f"{what} failed (exit {run.returncode}):\n{run.stderr}")


def _cpu(run: Measured) -> str:
    if run.cpu_seconds is None:
        return "-"
    return f"{run.cpu_seconds:,.0f} s ({run.cpu_seconds / run.seconds:.2f} cores busy on average)"


def _command(cmd: list[str]) -> str:
    """A command as typed from the repository root: ``harvest`` for the interpreter running the CLI module."""
    words = ["harvest", *cmd[len(HARVEST) :]] if cmd[: len(HARVEST)] == HARVEST else cmd
    return " ".join(_shown(w) for w in words)


def _demo_version(folder: Path) -> str:
    stamp = folder / "BUILD.json"
    return str(json.loads(stamp.read_text()).get("version", "?")) if stamp.exists() else "?"


def _shown(arg: str) -> str:
    text = str(arg)
    try:
        text = str(Path(text).relative_to(ROOT)) if text.startswith("/") else text
    except ValueError:
        pass
    return text


# --------------------------------------------------------------------------------------- output
def machine() -> str:
    """CPU model, cores and RAM from /proc; Python and the kernel."""
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:"))
    return f"{os.cpu_count()} cores ({cpu}), {kib / 2**20:.1f} GiB RAM, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def _code_version() -> str:
    """The commit, and whether the code the benchmark runs differs from it."""

    def git(*words: str) -> str:
        return subprocess.run(["git", *words], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    changed = git("status", "--porcelain", "--", "matcher", "regions", "harvestmatch")
    return f"commit {git('rev-parse', '--short', 'HEAD')}" + (" with uncommitted changes in matcher/, regions/ or harvestmatch/" if changed else "")


def section(key: str, title: str, lines: list[str]) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    head = [
        f"<!-- bench:{key} -->",
        f"## {title}",
        "",
        f"Measured {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} on {machine()}; load average at the end {load}; code at {_code_version()}.",
        f"Command: `.venv/bin/python bench/routing.py {' '.join(sys.argv[1:])}`",
        "",
    ]
    return "\n".join(head + lines + [f"<!-- /bench:{key} -->"]) + "\n"


def write_section(path: Path, key: str, text: str) -> None:
    old = path.read_text()
    pattern = re.compile(rf"<!-- bench:{key} -->.*?<!-- /bench:{key} -->\n", re.S)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    path.write_text(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    names = ["cvrplib", "demo", "national"]
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"which benchmarks: {', '.join(names)} (default: all three)")
    parser.add_argument("--write", type=Path, help="replace each benchmark's section in this Markdown file")
    parser.add_argument("--instances", nargs="+", default=list(INSTANCES), choices=INSTANCES, help="cvrplib: which instances")
    parser.add_argument("--limits", nargs="+", type=float, default=[10.0, 30.0], help="cvrplib: time limits in seconds (default 10 30)")
    parser.add_argument("--plan-timeout", type=float, default=1200.0, help="national: stop harvest plan after this many seconds (default 1200)")
    parser.add_argument("--largest", type=int, default=20, help="national: time this many of the largest problems per leg (default 20)")
    parser.add_argument("--sample", type=int, default=40, help="national: and this many more at random per leg (default 40)")
    parser.add_argument("--seed", type=int, default=3, help="national: seed of the random sample")
    parser.add_argument("--reuse-match", action="store_true", help="national: plan an existing result instead of matching again")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(names))
    if unknown:  # checked here: argparse checks a list default of nargs="*" against choices and refuses it
        parser.error(f"unknown benchmark {', '.join(unknown)}; expected some of {', '.join(names)}")
    for name in args.names or names:
        text = {"cvrplib": bench_cvrplib, "demo": bench_demo, "national": bench_national}[name](args)
        print(text)
        if args.write:
            write_section(args.write, f"routing-{name}", text)


if __name__ == "__main__":
    main()
