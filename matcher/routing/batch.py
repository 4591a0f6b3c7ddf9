"""The plan's edge: its option tables read and checked, a cycle's result read back, the plan written.

``harvest match --plan`` plans from the cycle it has just solved, before anything is written, so that a
plan that cannot be made (a matrix missing a pair) leaves no result behind either; ``harvest plan
--result DIR`` plans a result written before (reading its allocations, and the offers, regions and
orders it was made from) and writes ``DIR/plan/`` alone. Either way ``DIR/plan/`` holds ``routes.csv``,
``stops.csv``, ``unserved.csv``, ``routes.geojson`` and ``summary.json``, each with a ``leg`` column.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from harvestmatch.errors import InputError, ParameterError, Problem, first_problems
from matcher.io import PLAN_FOLDER, Folder, output_folder_problems, read_tables, write_outputs
from matcher.params import MatchParams
from matcher.routing.plan import Plan, PlanInputs, PlanSettings, depot_places, plan_geojson
from matcher.routing.tables import CROSSDOCKS, DEFAULT_FLEETS, FLEET, LEGS, MATRIX, WAREHOUSES, Travel, with_fleet_defaults
from matcher.routing.vrp import SolveSettings
from matcher.schemas import OFFERS, ORDERS, Column, duplicate_problems

#: a plan's fleet: the routing fleet's columns and an optional ``leg`` (empty: every leg)
PLAN_FLEET: tuple[Column, ...] = (*FLEET, Column("leg", "id", required=False))

#: what a plan reads back from a result folder
ALLOCATIONS_IN: tuple[Column, ...] = (
    Column("offer_id", "id"),
    Column("demand_id", "id"),
    Column("region_id", "id"),
    Column("quantity_kg", "kg"),
    Column("transit_days", "days"),
    Column("cost_per_kg", "money"),
    Column("via", "id", required=False),  # the crossdock the lane's line haul runs through (empty: direct)
)
ORDERS_OUT_IN: tuple[Column, ...] = (
    Column("order_id", "id"),
    Column("region_id", "id", required=False),
    Column("demand_id", "id", required=False),
    Column("filled_kg", "kg0"),
)


@dataclass(frozen=True)
class PlanOptions:
    """What the command line says about a plan: the optional tables, the search (its defaults are
    :class:`~matcher.routing.vrp.SolveSettings`'s), the speed, and the processes (``None``: the
    cycle's, :meth:`~matcher.routing.plan.PlanSettings.for_cycle`)."""

    fleet: Path | None = None
    warehouses: Path | None = None
    matrix: Path | None = None
    search: SolveSettings = field(default_factory=SolveSettings)
    speed_kmh: float = Travel.speed_kmh
    workers: int | None = None
    crossdocks: Path | None = None


@dataclass(frozen=True)
class PlanTables:
    fleets: dict[str, pl.DataFrame]
    warehouses: pl.DataFrame | None
    matrix: pl.DataFrame | None
    crossdocks: pl.DataFrame | None = None


def read_plan_tables(options: PlanOptions) -> tuple[PlanTables, list[Problem]]:
    """The fleet (split per leg; a leg without rows keeps its default), warehouses, crossdocks and
    matrix, checked."""
    problems: list[Problem] = []
    read, more = read_tables(
        (
            ("fleet", options.fleet, PLAN_FLEET, None),
            ("warehouses", options.warehouses, WAREHOUSES, "warehouse_id"),
            ("crossdocks", options.crossdocks, CROSSDOCKS, "crossdock_id"),
            ("matrix", options.matrix, MATRIX, None),
        ),
        checks={"fleet": leg_problems},
    )
    problems += more
    fleets = {leg: DEFAULT_FLEETS[leg] for leg in LEGS}
    if "fleet" in read and options.fleet is not None:
        fleet, source = read["fleet"], options.fleet.name
        if fleet.height == 0:
            problems.append(Problem(source, None, None, "no vehicles: give at least one row"))
        if "leg" not in fleet.columns:
            fleet = fleet.with_columns(leg=pl.lit(None, pl.String))
        duplicated = with_fleet_defaults(fleet).with_columns(fleet["leg"]).select("vehicle_type", "depot", "leg").is_duplicated().arg_true()
        problems += first_problems(
            (Problem(source, r + 1, "vehicle_type", "the same vehicle type is listed twice for the same depot and leg") for r in duplicated),
            source=source,
            column="vehicle_type",
            rest="duplicate vehicle types",
            total=len(duplicated),
        )
        problems += depot_problems(fleet, read.get("warehouses"), source, read.get("crossdocks"))
        for leg in LEGS:
            rows = fleet.filter(pl.col("leg").is_null() | (pl.col("leg") == leg)).drop("leg")
            if rows.height:
                fleets[leg] = with_fleet_defaults(rows)
    if "matrix" in read and options.matrix is not None:
        problems += duplicate_problems(read["matrix"], ["from_id", "to_id"], options.matrix.name)
    return PlanTables(fleets, read.get("warehouses"), read.get("matrix"), read.get("crossdocks")), problems


def depot_problems(fleet: pl.DataFrame, warehouses: pl.DataFrame | None, source: str, crossdocks: pl.DataFrame | None = None) -> list[Problem]:
    """A plan's fleet rows naming a depot that is neither ``hub:<region_id>`` nor a given warehouse
    (``warehouse:<warehouse_id>``) or crossdock (``crossdock:<crossdock_id>``); a hub's region is known
    once the day is read, so only its form is checked."""
    if "depot" not in fleet.columns:
        return []
    known = {f"warehouse:{w}" for w in warehouses["warehouse_id"].to_list()} if warehouses is not None else set()
    known |= {f"crossdock:{c}" for c in crossdocks["crossdock_id"].to_list()} if crossdocks is not None else set()

    def bad(depot: str | None) -> bool:
        return depot is not None and not (depot in known or (depot.startswith("hub:") and len(depot) > 4))

    return first_problems(
        (
            Problem(
                source,
                row,
                "depot",
                f"{depot!r} is not a depot of the plan: name hub:<region_id>, or warehouse:<id> or crossdock:<id> of a given warehouse or crossdock",
            )
            for row, depot in enumerate(fleet["depot"].to_list(), start=1)
            if bad(depot)
        ),
        source=source,
        column="depot",
        rest="rows naming no depot of the plan",
    )


def via_problems(allocations: pl.DataFrame, crossdocks: pl.DataFrame | None, path: Path | None) -> list[Problem]:
    """A result's allocations naming a crossdock (``via``) that the plan is not given."""
    if "via" not in allocations.columns:
        return []
    named = allocations.with_row_index("_row", offset=1).filter(pl.col("via").is_not_null())
    known = set(crossdocks["crossdock_id"].to_list()) if crossdocks is not None else set()
    missing = named.filter(~pl.col("via").is_in(list(known)))
    if missing.height == 0:
        return []
    why = f"is not a crossdock of {path.name}" if path is not None else "is a crossdock: give --crossdocks, the table the result was matched with"
    return first_problems(
        (Problem("allocations.csv", row, "via", f"{via!r} {why}") for row, via in zip(missing["_row"].to_list(), missing["via"].to_list(), strict=True)),
        source="allocations.csv",
        column="via",
        rest="allocations naming an unknown crossdock",
        total=missing.height,
    )


def leg_problems(raw: pl.DataFrame, source: str) -> list[Problem]:
    """A fleet's ``leg`` cells that name no leg (said with the other cells' problems, not after them)."""
    if "leg" not in raw.columns:
        return []
    return first_problems(
        (
            Problem(source, row, "leg", f"{leg!r} is not a leg; expected one of {', '.join(LEGS)} or empty (every leg)")
            for row, leg in enumerate(raw["leg"].cast(pl.String).to_list(), start=1)
            if leg not in (None, "", *LEGS)
        ),
        source=source,
        column="leg",
        rest="rows with bad values",
    )


def settings_for(options: PlanOptions, tables: PlanTables, params: MatchParams) -> PlanSettings:
    """The plan's settings for a cycle run with ``params`` (:meth:`PlanSettings.for_cycle`)."""
    return PlanSettings.for_cycle(
        params, solve=options.search, speed_kmh=options.speed_kmh, matrix=tables.matrix, fleets=tables.fleets, workers=options.workers
    )


def plan_folder(plan: Plan, inputs: PlanInputs) -> Folder:
    """A result's ``plan/`` folder: routes, stops and unserved stops as CSV, the routes as GeoJSON, the
    plan's summary."""
    tables = {"routes.csv": plan.routes, "stops.csv": plan.stops, "unserved.csv": plan.unserved}
    return Folder(tables, plan.summary, {"routes.geojson": plan_geojson(plan, depot_places(inputs))})


def write_plan(out: Path, plan: Plan, inputs: PlanInputs) -> None:
    """``out`` (a result's ``plan/`` folder) replaced as a whole by the plan's files (``harvest plan``;
    ``harvest match --plan`` writes them with the result, :func:`plan_folder`)."""
    folder = plan_folder(plan, inputs)
    write_outputs(out, folder.tables, lambda: folder.summary, texts=folder.texts)


def run_plan(
    *,
    result: Path,
    options: PlanOptions,
    where: MatchParams | None = None,
    offers: Path | None = None,
    regions: Path | None = None,
    orders: Path | None = None,
    circuity: float | None = None,
) -> dict[str, Any]:
    """``harvest plan``: plan a result folder written by ``harvest match``; inputs not given are taken
    from the paths its ``summary.json`` records. The plan runs where ``where`` says (its ``executor``,
    ``scheduler`` and ``workers``; default: here), with the result's ``circuity`` unless one is given.
    Returns the plan's summary.

    Raises
    ------
    InputError
        The result folder, an input or an option table is missing or bad (nothing written).
    """
    from matcher.pipeline import plan_cycle
    from regions.polygons import read_regions

    summary_path = result / "summary.json"
    if not summary_path.is_file():
        raise InputError(Problem(str(result), None, None, "is not a result folder of harvest match (no summary.json)"))
    try:
        recorded = json.loads(summary_path.read_text())
        date = dt.date.fromisoformat(recorded["date"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(Problem(summary_path.name, None, "date", f"cannot read the cycle date: {exc}")) from None
    given = recorded.get("inputs", {})
    offers = offers or (Path(given["offers"]) if "offers" in given else None)
    regions = regions or (Path(given["regions"]) if "regions" in given else None)
    orders = orders or (Path(given["orders"]) if "orders" in given else None)
    if offers is None or regions is None:
        raise ParameterError("give --offers and --regions: the result's summary.json does not record them")
    if options.crossdocks is None and "crossdocks" in given:  # the crossdocks the result was matched with
        options = replace(options, crossdocks=Path(given["crossdocks"]))
    problems: list[Problem] = []
    tables, more = read_plan_tables(options)
    problems += more
    frames, more = read_tables(
        (
            ("offers", offers, OFFERS, "offer_id"),
            ("orders", orders, ORDERS, "order_id"),
            ("allocations", result / "allocations.csv", ALLOCATIONS_IN, None),
            ("orders_out", result / "orders_out.csv" if orders else None, ORDERS_OUT_IN, "order_id"),
        )
    )
    problems += more
    try:
        region_set = read_regions(regions)
    except InputError as exc:
        problems += exc.problems
    problems += output_folder_problems(result / PLAN_FOLDER)
    if problems:
        raise InputError(problems)
    if "allocations" in frames:
        problems += via_problems(frames["allocations"], tables.crossdocks, options.crossdocks)
        if problems:
            raise InputError(problems)
        unknown = frames["allocations"].join(frames["offers"], on="offer_id", how="anti")
        if unknown.height:
            why = f"is not an offer in {offers.name}: give the offers the result was made from"
            raise InputError(
                first_problems(
                    (Problem("allocations.csv", None, "offer_id", f"{o!r} {why}") for o in unknown["offer_id"]),
                    source="allocations.csv",
                    column="offer_id",
                    rest="allocations naming no offer",
                    total=unknown.height,
                )
            )
    circuity = circuity if circuity is not None else float(recorded.get("params", {}).get("circuity", Travel.circuity))
    params = replace(where or MatchParams(), circuity=circuity)
    planned = plan_cycle(
        date=date,
        allocations=frames["allocations"],
        offers=frames["offers"],
        regions=region_set,
        orders_in=frames.get("orders"),
        orders_out=frames.get("orders_out"),
        warehouses=tables.warehouses,
        settings=settings_for(options, tables, params),
        crossdocks=tables.crossdocks,
    )
    write_plan(result / PLAN_FOLDER, planned.plan, planned.inputs)
    return planned.plan.summary


def format_plan(summary: dict[str, Any]) -> str:
    """A short table: per leg, vehicles, kg, km, load factor, cost per kg, unserved; then the routed cost
    against the matching's assumed freight."""
    lines = [f"{'leg':<11} {'problems':>8} {'vehicles':>8} {'kg':>12} {'km':>11} {'load':>6} {'cost/kg':>8} {'unserved kg':>11}"]
    for leg, s in summary["legs"].items():
        load = f"{s['load_factor']:.0%}" if s["load_factor"] is not None else "-"
        per_kg = f"{s['cost_per_kg']:.3f}" if s["cost_per_kg"] is not None else "-"
        lines.append(f"{leg:<11} {s['problems']:>8,} {s['vehicles']:>8,} {s['kg']:>12,} {s['km']:>11,.0f} {load:>6} {per_kg:>8} {s['unserved_kg']:>11,}")
    if summary.get("routed_cost_per_kg") is not None:
        lines.append(
            f"routed cost {summary['routed_cost']:,.2f} ({summary['routed_cost_per_kg']:.3f}/kg) vs the matching's assumed "
            f"{summary['assumed_cost']:,.2f} ({summary['assumed_cost_per_kg']:.3f}/kg): x{summary['routed_vs_assumed']}"
        )
    if "last_mile" in summary:
        lines.append(f"last mile {summary['last_mile']}")
    return "\n".join(lines)


__all__ = ["PlanOptions", "format_plan", "plan_folder", "read_plan_tables", "run_plan", "settings_for", "write_plan"]
