"""Route plans: planners and the operator fetch a done cycle's routes, their stops, and what could not be
routed (the plan the worker committed with the cycle's results, :mod:`api.planning`).

- ``GET /cycles/{id}/routes``: a GeoJSON FeatureCollection, one LineString per route from its depot
  through its stops in order and back (the line haul is open-ended: it ends at its last hub), the
  route's columns as properties; filters ``leg``, ``hub``, ``region_id`` (routes based at that region's
  hub or stopping in it); pages by ``route_id``, or ``format=csv`` for the whole table.
- ``GET /cycles/{id}/routes/{route_id}``: one Feature with its ordered ``stops``; ``format=csv`` gives
  the stops.
- ``GET /cycles/{id}/unserved``: what no route takes, and why; filter ``leg``; JSON pages or CSV.

Each answers 404 for an unknown cycle, 409 while the cycle is not done and for a done cycle without a
plan (planned with planning switched off, or done before the service planned routes). Cooperatives and
buyers may not call them (403): a route shows every farm and pickup point on it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import false, or_, select, tuple_
from sqlalchemy.orm import Session

from api.auth import requires
from api.db import Database
from api.errors import ApiError
from api.models import Cycle, PlanRoute, PlanStop, PlanUnserved
from api.requests import MAX_LIST_PAGE, MAX_PAGE, after_arg, binary, int_arg, where_args
from harvestmatch.money import publish
from matcher.routing.tables import LEGS

bp = Blueprint("plans", __name__, url_prefix="/cycles")

#: the columns each resource reads, in order, and their types (never inferred from the rows)
ROUTE_SCHEMA: dict[str, pl.DataType] = {
    "route_id": pl.String(),
    "leg": pl.String(),
    "hub": pl.String(),
    "problem_id": pl.String(),
    "depot_id": pl.String(),
    "depot_lat": pl.Float64(),
    "depot_lon": pl.Float64(),
    "vehicle_type": pl.String(),
    "capacity_kg": pl.Int64(),
    "stops": pl.Int64(),
    "kg": pl.Int64(),
    "load_factor": pl.Float64(),
    "km": pl.Float64(),
    "start_min": pl.Float64(),
    "end_min": pl.Float64(),
    "duration_min": pl.Float64(),
    "cost": pl.Float64(),
}
STOP_SCHEMA: dict[str, pl.DataType] = {
    "route_id": pl.String(),
    "seq": pl.Int64(),
    "leg": pl.String(),
    "problem_id": pl.String(),
    "stop_id": pl.String(),
    "kg": pl.Int64(),
    "arrive_min": pl.Float64(),
    "start_min": pl.Float64(),
    "depart_min": pl.Float64(),
    "load_kg": pl.Int64(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "region_id": pl.String(),
}
UNSERVED_SCHEMA: dict[str, pl.DataType] = {
    "leg": pl.String(),
    "problem_id": pl.String(),
    "stop_id": pl.String(),
    "kg": pl.Int64(),
    "reason": pl.String(),
}
PATH_SCHEMA: dict[str, pl.DataType] = {"route_id": pl.String(), "seq": pl.Int64(), "lat": pl.Float64(), "lon": pl.Float64()}

#: a stop's columns in a route's ``stops`` list (the route's own are on the route)
STOP_ITEM = [c for c in STOP_SCHEMA if c not in ("route_id", "leg", "problem_id")]


@bp.get("/<int(max=2147483647):cycle_id>/routes")
@requires("planner", "operator")
def routes(cycle_id: int) -> Response:
    """The plan's routes as GeoJSON lines in pages of ``limit`` (cursor ``after``: a route id), or
    ``format=csv``: the routes table, filtered, whole."""
    fmt = _format()
    query = select(*_columns(PlanRoute, ROUTE_SCHEMA)).where(PlanRoute.cycle_id == cycle_id)
    leg = _leg()
    if leg is not None:
        query = query.where(PlanRoute.leg == leg)
    query = where_args(query, {"hub": PlanRoute.hub})
    region = request.args.get("region_id")
    if region:
        inside = select(PlanStop.route_id).where(PlanStop.cycle_id == cycle_id, PlanStop.region_id == region)
        query = query.where(or_(PlanRoute.hub == region, PlanRoute.route_id.in_(inside)) if "\x00" not in region else false())
    query = query.order_by(binary(PlanRoute.route_id))
    db: Database = current_app.extensions["harvest_db"]
    if fmt == "csv":
        return _whole(cycle_id, query, ROUTE_SCHEMA, f"routes-{cycle_id}.csv")
    limit = int_arg("limit", MAX_LIST_PAGE, 1, MAX_PAGE)
    query = after_arg(query, PlanRoute.route_id).limit(limit + 1)
    with db.session() as session:
        _planned(session, cycle_id)
        frame = _read(session, query, ROUTE_SCHEMA)
        # the stops of this page's routes (and of the one beyond it, unused), read by the same query
        page_ids = query.with_only_columns(PlanRoute.route_id)
        paths = _read(
            session,
            select(*_columns(PlanStop, PATH_SCHEMA)).where(PlanStop.cycle_id == cycle_id, PlanStop.route_id.in_(page_ids)),
            PATH_SCHEMA,
        )
    more = frame.height > limit
    frame = frame.head(limit)
    body = {"type": "FeatureCollection", "features": _features(frame, paths), "next": frame["route_id"][-1] if more else None}
    return _geojson(body)


@bp.get("/<int(max=2147483647):cycle_id>/routes/<path:route_id>")
@requires("planner", "operator")
def route(cycle_id: int, route_id: str) -> Response:
    """One route as a GeoJSON Feature with its ``stops`` in order (``seq`` from 1), or ``format=csv``:
    its stops."""
    fmt = _format()
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        _planned(session, cycle_id)
        found = pl.DataFrame(schema=ROUTE_SCHEMA)
        if "\x00" not in route_id:  # never stored; PostgreSQL would refuse the comparison
            found = _read(
                session, select(*_columns(PlanRoute, ROUTE_SCHEMA)).where(PlanRoute.cycle_id == cycle_id, PlanRoute.route_id == route_id), ROUTE_SCHEMA
            )
        if found.height == 0:
            raise ApiError(404, "Not Found", f"cycle {cycle_id} has no route {route_id!r}")
        stops = _read(
            session,
            select(*_columns(PlanStop, STOP_SCHEMA)).where(PlanStop.cycle_id == cycle_id, PlanStop.route_id == route_id).order_by(PlanStop.seq),
            STOP_SCHEMA,
        )
    if fmt == "csv":
        return _csv(stops, f"route-{cycle_id}-{re.sub(r'[^A-Za-z0-9._-]', '_', route_id)}.csv")
    feature = _features(found, stops.select(list(PATH_SCHEMA)))[0]
    feature["stops"] = stops.select(STOP_ITEM).to_dicts()
    return _geojson(feature)


@bp.get("/<int(max=2147483647):cycle_id>/unserved")
@requires("planner", "operator")
def unserved(cycle_id: int) -> Response:
    """What the plan could not route, and why: JSON pages (``limit``, ``after``: the ``next`` of the
    previous page, an opaque cursor) or ``format=csv`` (whole)."""
    fmt = _format()
    query = select(*_columns(PlanUnserved, UNSERVED_SCHEMA)).where(PlanUnserved.cycle_id == cycle_id)
    leg = _leg()
    if leg is not None:
        query = query.where(PlanUnserved.leg == leg)
    key = (binary(PlanUnserved.problem_id), binary(PlanUnserved.stop_id), binary(PlanUnserved.reason))
    query = query.order_by(*key)
    db: Database = current_app.extensions["harvest_db"]
    if fmt == "csv":
        return _whole(cycle_id, query, UNSERVED_SCHEMA, f"unserved-{cycle_id}.csv")
    limit = int_arg("limit", MAX_LIST_PAGE, 1, MAX_PAGE)
    after = _cursor()
    if after is not None:
        query = query.where(tuple_(*key) > tuple_(*after)) if not any("\x00" in part for part in after) else query.where(false())
    with db.session() as session:
        _planned(session, cycle_id)
        frame = _read(session, query.limit(limit + 1), UNSERVED_SCHEMA)
    more = frame.height > limit
    frame = frame.head(limit)
    last = frame.select("problem_id", "stop_id", "reason").row(-1) if more else None
    return jsonify({"items": frame.to_dicts(), "next": json.dumps(list(last)) if last else None})


def _planned(session: Session, cycle_id: int) -> Cycle:
    """The cycle, if it is done and has a plan: else 404 (no such cycle) or 409 (saying why not)."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise ApiError(404, "Not Found", f"no cycle {cycle_id}")
    if cycle.status != "done":
        doing = f" ({cycle.stage})" if cycle.stage else ""
        raise ApiError(409, "Conflict", f"cycle {cycle_id} is {cycle.status}{doing}; its routes come when it is done")
    plan = json.loads(cycle.summary).get("plan") if cycle.summary else None
    if plan is None:
        raise ApiError(
            409, "Conflict", f"cycle {cycle_id} has no transport plan: it was done before the service planned routes; a re-run of its date plans them"
        )
    if plan.get("status") == "off":
        raise ApiError(409, "Conflict", f"cycle {cycle_id} has no transport plan: route planning was switched off (PLAN_ROUTES) when it ran")
    return cycle


def _features(routes: pl.DataFrame, paths: pl.DataFrame) -> list[dict[str, Any]]:
    """Each route as a Feature (the core's GeoJSON of a route: :func:`matcher.routing.geojson.route_features`)."""
    from matcher.routing.geojson import route_features

    places = routes.select("depot_id", pl.col("depot_lat").alias("lat"), pl.col("depot_lon").alias("lon")).unique("depot_id")
    return route_features(routes, paths.sort("route_id", "seq"), places)


def _whole(cycle_id: int, query: Any, schema: dict[str, pl.DataType], name: str) -> Response:
    """A planned cycle's table, filtered, whole, as CSV."""
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        _planned(session, cycle_id)
        frame = _read(session, query, schema)
    return _csv(frame, name)


def _columns(model: Any, schema: dict[str, pl.DataType]) -> list[Any]:
    return [getattr(model, c) for c in schema]


def _read(session: Session, query: Any, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    from api.db import read_frame

    return read_frame(session, query, schema)


def _format() -> str:
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ApiError(422, "Invalid query", errors=[{"path": "format", "message": f"expected json or csv, got {fmt!r}"}])
    return fmt


def _leg() -> str | None:
    leg = request.args.get("leg")
    if not leg:
        return None
    if leg not in LEGS:
        raise ApiError(422, "Invalid query", errors=[{"path": "leg", "message": f"expected one of {', '.join(LEGS)}, got {leg[:80]!r}"}])
    return leg


def _cursor() -> tuple[str, str, str] | None:
    """The ``after`` of an unserved page: the ``next`` the previous page gave."""
    raw = request.args.get("after")
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        raise ApiError(422, "Invalid query", errors=[{"path": "after", "message": "expected the 'next' of the previous page"}])
    return value[0], value[1], value[2]


def _csv(frame: pl.DataFrame, name: str) -> Response:
    response = Response(publish(frame).write_csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _geojson(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.content_type = "application/geo+json"
    return response
