"""``harvest routes``: route any list of stops from depots with a fleet (docs/routes.md).

Reads the stops, depots, fleet and optional matrix, checks all of them (every problem of every file,
one line each), solves one routing problem, and writes ``routes.csv``, ``stops.csv``, ``unserved.csv``,
``routes.geojson`` and ``summary.json`` all at once. Exit 0 on success (also when some stops cannot be
served: they are listed in ``unserved.csv`` with why), 2 on bad input (nothing written).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import polars as pl

from harvestmatch.errors import InputError, Problem, first_problems
from harvestmatch.settings import add_options, from_options
from matcher.routing.tables import Travel
from matcher.routing.vrp import SolveSettings

#: the search options of one problem (a plan's ``budget`` is for many: harvest plan and harvest match --plan)
ONE_PROBLEM = ("iterations", "seconds", "seed")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``harvest routes`` to the ``harvest`` command's subcommands."""
    r = sub.add_parser(
        "routes", help="route a list of stops from depots with a fleet", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    r.add_argument("--stops", required=True, type=Path, help="stop_id, lat, lon, kg [, ready_min, due_min, service_min]")
    r.add_argument("--depots", required=True, type=Path, help="depot_id, lat, lon")
    r.add_argument("--fleet", type=Path, help="vehicle_type, capacity_kg, fixed_cost, cost_per_km, max_duration_min [, count, depot] (default: docs/routes.md)")
    r.add_argument("--matrix", type=Path, help="from_id, to_id, distance_km, duration_min for every pair of depots and stops")
    r.add_argument("--out", required=True, type=Path, help="output folder: created, or replaced as a whole when it holds only a previous run's outputs")
    r.add_argument("--collect", action="store_true", help="the stops' kg are collected and brought to the depot (default: delivered from it)")
    add_options(r, SolveSettings, ONE_PROBLEM)
    add_options(r, Travel, ("circuity", "speed_kmh"))
    r.add_argument("--quiet", action="store_true", help="print nothing on success")
    r.set_defaults(run=_run_routes)


def _run_routes(args: argparse.Namespace) -> int:
    from matcher.io import output_folder_problems, read_tables, write_outputs
    from matcher.routing.tables import DEFAULT_FLEETS, DEPOTS, FLEET, MATRIX, STOPS, fleet_problems
    from matcher.routing.vrp import RoutingProblem, solve_routing
    from matcher.schemas import duplicate_problems

    search, travel = from_options(args, SolveSettings, names=ONE_PROBLEM), from_options(args, Travel)  # checked before any file is read
    tables, problems = read_tables(
        (
            ("stops", args.stops, STOPS, "stop_id"),
            ("depots", args.depots, DEPOTS, "depot_id"),
            ("fleet", args.fleet, FLEET, None),
            ("matrix", args.matrix, MATRIX, None),
        )
    )
    if "matrix" in tables:
        problems += duplicate_problems(tables["matrix"], ["from_id", "to_id"], args.matrix.name)
    if "depots" in tables:
        if tables["depots"].height == 0:
            problems.append(Problem(args.depots.name, None, None, "no depots: give at least one"))
        if "fleet" in tables:
            problems += fleet_problems(tables["fleet"], tables["depots"]["depot_id"], source=args.fleet.name)
        if "stops" in tables:
            shared = tables["stops"].join(tables["depots"], left_on="stop_id", right_on="depot_id", how="semi")
            problems += first_problems(
                (Problem(args.stops.name, None, "stop_id", f"{s!r} is also a depot's id; ids must be distinct") for s in shared["stop_id"]),
                source=args.stops.name,
                column="stop_id",
                rest="stops sharing a depot's id",
                total=shared.height,
            )
    if "fleet" in tables and tables["fleet"].height == 0:
        problems.append(Problem(args.fleet.name, None, None, "no vehicles: give at least one row"))
    problems += output_folder_problems(args.out)
    if problems:
        raise InputError(problems)
    fleet = tables.get("fleet", DEFAULT_FLEETS["routes"])
    travel = replace(travel, matrix=tables.get("matrix"))
    problem = RoutingProblem("routes", tables["stops"], tables["depots"], fleet, collect=args.collect, travel=travel)
    outcome = solve_routing(problem, search)
    summary = {
        **outcome.summary(),
        "seed": search.seed,
        "iteration_budget": search.iterations,
        "time_limit_seconds": search.seconds,
        "collect": args.collect,
        "inputs": {k: str(getattr(args, k)) for k in ("stops", "depots", "fleet", "matrix") if getattr(args, k)},
    }
    geojson = routes_geojson(outcome.routes, outcome.stops, tables["depots"])
    write_outputs(
        args.out,
        {"routes.csv": outcome.routes.drop("problem_id"), "stops.csv": outcome.stops, "unserved.csv": outcome.unserved.drop("problem_id")},
        lambda: summary,
        texts={"routes.geojson": geojson},
    )
    if not args.quiet:
        print(
            f"{outcome.status}: {summary['vehicles']} vehicles, {summary['stops']} stop visits, {summary['km']:,} km, "
            f"cost {summary['cost']:,.2f}, {summary['unserved_stops']} stops unserved" + (" (stopped by the time limit)" if outcome.time_limited else "")
        )
    return 0


def routes_geojson(routes: pl.DataFrame, stops: pl.DataFrame, depots: pl.DataFrame) -> str:
    """A FeatureCollection: one LineString per route, depot to its stops in order and back, with the
    route's columns as properties (coordinates as ``[lon, lat]``)."""
    from matcher.routing.geojson import feature_collection, route_features

    return feature_collection(route_features(routes, stops, depots))


__all__ = ["add_commands", "routes_geojson"]
