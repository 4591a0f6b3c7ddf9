"""Fleets: the operator's vehicles per leg, which every cycle's plan uses (:mod:`api.fleets_store`).

``PUT /fleets`` (operator) replaces the whole fleet with a table of vehicles, JSON records or a CSV
(``text/csv``): the routing fleet's columns (``vehicle_type, capacity_kg, fixed_cost, cost_per_km,
max_duration_min`` and optional ``count``; :data:`matcher.routing.tables.FLEET`) and a ``leg`` column
(``first_mile``, ``line_haul`` or ``last_mile``), the table ``harvest plan --fleet`` reads
(:data:`matcher.routing.batch.PLAN_FLEET`). It is checked by the same rules and messages, and three
more: every row names its leg (the command's empty leg, "every leg", is not taken: a stored row
belongs to one leg), every leg has a vehicle (a stored fleet is the whole fleet: a leg is never left
to the defaults), and no row names a ``depot`` (the service's problems each start from one hub, and a
vehicle tied to another hub has no place in them). Bad input is 422, one entry per problem naming
its row and column, and nothing is stored. While a cycle that has taken its snapshot runs, the fleet
cannot be replaced (409): the cycle plans with the fleet of its snapshot, and the operator should not
be misled about which one that was. Replacing is idempotent by nature (the same table, the same
fleet and version), so it takes no ``Idempotency-Key``.

``GET /fleets`` (operator) shows the fleet cycles plan with: ``source`` (``stored``, or ``default``
when none was stored: the documented default fleets), ``sha256`` (its version, which each cycle
records with the fleet it used) and ``vehicles``; ``format=csv`` gives the vehicles as a CSV
that ``PUT /fleets`` takes back.
"""

from __future__ import annotations

import polars as pl
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import delete

from api import jobs
from api.auth import requires
from api.db import Database, lock_snapshot
from api.errors import ApiError
from api.fleets_store import read_fleet, stored_frame
from api.models import FleetVehicle
from api.requests import invalid, table_body
from harvestmatch.errors import InputError, Problem, first_problems
from matcher.routing.batch import PLAN_FLEET, leg_problems
from matcher.routing.tables import LEGS, fleet_problems
from matcher.schemas import Column

bp = Blueprint("fleets", __name__, url_prefix="/fleets")

#: a fleet as the service takes it: ``harvest plan --fleet``'s columns, the leg required
FLEET_IN: tuple[Column, ...] = tuple(Column(c.name, c.kind) if c.name == "leg" else c for c in PLAN_FLEET)


@bp.put("")
@requires("operator")
def replace() -> Response:
    """Replace the whole fleet with the body's vehicles, checked first (422, nothing stored)."""
    vehicles, single = table_body(FLEET_IN, what="vehicle")
    problems = fleet_table_problems(vehicles, source="body")
    if problems:
        raise invalid(InputError(problems), single)
    rows = stored_frame(vehicles).with_row_index("seq", offset=1).to_dicts()
    db: Database = current_app.extensions["harvest_db"]
    with db.write() as session:
        lock_snapshot(session)  # a snapshot reads the fleet before this or after it
        jobs.refuse_while_running(session, "with the stored fleet")
        session.execute(delete(FleetVehicle))
        session.add_all([FleetVehicle(**row) for row in rows])
        fleet = read_fleet(session)
    return jsonify(fleet.record())


@bp.get("")
@requires("operator")
def read() -> Response:
    """The fleet cycles plan with (``format=csv``: its vehicles as CSV)."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ApiError(422, "Invalid query", errors=[{"path": "format", "message": f"expected json or csv, got {fmt!r}"}])
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        fleet = read_fleet(session)
    if fmt == "csv":
        response = Response(fleet.vehicles.write_csv(), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="fleet-{fleet.source}.csv"'
        return response
    return jsonify(fleet.record())


def fleet_table_problems(vehicles: pl.DataFrame, *, source: str) -> list[Problem]:
    """A typed fleet's problems (``vehicles`` parsed with :data:`FLEET_IN`): the command's checks of a
    plan's fleet (the legs it names; per leg, a vehicle type listed twice, :func:`fleet_problems`), and
    the service's own (a leg without vehicles, a row naming a depot); rows are 1-based, as given."""
    problems = leg_problems(vehicles, source)
    if problems:  # the rest is per leg
        return problems
    numbered = vehicles.with_row_index("_row", offset=1)
    for leg in LEGS:
        rows = numbered.filter(pl.col("leg") == leg)
        if rows.height == 0:
            problems.append(Problem(source, None, "leg", f"no vehicles for {leg}: give at least one row with leg {leg} (GET /fleets shows the defaults)"))
            continue
        # the service's depots are hubs, none of them named here: every depot named is refused below
        found = fleet_problems(rows.drop("_row", "leg").with_columns(depot=pl.lit(None, pl.String)), pl.Series([], dtype=pl.String), source=source)
        problems += [Problem(p.source, int(rows["_row"][p.row - 1]) if p.row else None, p.column, p.message) for p in found]
    if "depot" in vehicles.columns:
        named = numbered.filter(pl.col("depot").is_not_null())
        problems += first_problems(
            (
                Problem(source, row, "depot", "the service ties no vehicle to one hub: leave depot empty (its vehicles then serve every hub)")
                for row in named["_row"].to_list()
            ),
            source=source,
            column="depot",
            rest="rows naming a depot",
            total=named.height,
        )
    return sorted(problems, key=lambda p: (p.row is None, p.row or 0, p.column or ""))
