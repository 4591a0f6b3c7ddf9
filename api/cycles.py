"""Cycles: the operator queues the day's matching; everyone reads the results they may see.

``POST /cycles`` queues a cycle and answers 202 at once; a worker (:mod:`api.worker`) claims it from the
database and runs it (``queued`` -> ``running`` -> ``done`` or ``failed`` with the reason). One cycle
is queued or running at a time, and a date has one current result: a second run of a done date needs
``"rerun": true`` and keeps the earlier result as history. A date further than the configured window
from today needs ``"confirm_far_date": true``: a mistyped year should not sell today's offers.

Who sees what: the operator and planners every cycle; a cooperative the cycles that had its offers,
a buyer those that had its orders. A failed cycle's ``reason`` is for everyone; its ``detail`` (the
exception) only for the operator, as the ``fleet`` the cycle used (:mod:`api.fleets`; null if none)
and the ``crossdocks`` its ``trucks`` freight was given (:mod:`api.crossdocks`; null if none).

Allocations carry ``via``, the crossdock their line haul ran through (null: direct); a shipment
through one is drawn from the offer through that crossdock (its place as the cycle recorded it) to
the hub.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import asdict
from typing import Any

import polars as pl
from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import Field, field_validator
from sqlalchemy import select

from api import idempotency, jobs
from api.auth import Caller, requires
from api.bodies import MISSING, Body, got, invalid, json_object
from api.cycle_reads import concerning, get_cycle, require_done, visible_cycle
from api.db import Database
from api.errors import ApiError
from api.models import Allocation, Cycle, DemandRow, Offer
from api.requests import MAX_LIST_PAGE, MAX_PAGE, after_arg, binary, int_arg, iso, where_args
from harvestmatch.errors import ParameterError
from harvestmatch.kinds import FIRST_DATE, LAST_DATE
from harvestmatch.money import publish
from matcher.params import MatchParams

bp = Blueprint("cycles", __name__, url_prefix="/cycles")


#: what a cycle request looks like, for the message refusing a body that is not an object
CYCLE_EXAMPLE = '{"date": "2026-11-23"}'


class CycleIn(Body):
    """A cycle to queue. ``params`` override the service's cycle parameters (those of ``harvest match``);
    they are checked by :class:`~matcher.params.MatchParams` itself."""

    date: dt.date = Field(description="the cycle date, YYYY-MM-DD")
    rerun: bool = False
    confirm_far_date: bool = False
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> dt.date:
        if isinstance(value, str) and len(value) == 10:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise invalid(f"expected a date as YYYY-MM-DD, got {got(value)}")

    @field_validator("rerun", "confirm_far_date", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> bool:
        if value is MISSING:
            return False
        if isinstance(value, bool):  # "yes" or 1 is not a boolean
            return value
        raise invalid(f"expected true or false, got {got(value)}")

    @field_validator("params", mode="before")
    @classmethod
    def _params(cls, value: Any) -> dict[str, Any]:
        if value is MISSING:
            return {}
        if isinstance(value, dict):
            return value
        raise invalid(f'expected an object of cycle parameters such as {{"workers": 2}}, got {got(value)}')


@bp.post("")
@requires("operator")
def run_cycle() -> Response:
    body = CycleIn.model_validate(json_object(CYCLE_EXAMPLE))
    window = current_app.config["CYCLE_DATE_WINDOW_DAYS"]
    today = dt.datetime.now(dt.UTC).date()
    if not FIRST_DATE <= body.date <= LAST_DATE:
        raise ApiError(422, "Invalid request body", errors=[{"path": "date", "message": f"expected a date from {FIRST_DATE} to {LAST_DATE}"}])
    if abs((body.date - today).days) > window and not body.confirm_far_date:
        raise ApiError(
            422,
            "Invalid request body",
            errors=[{"path": "date", "message": f"{body.date} is more than {window} days from today ({today}); send 'confirm_far_date': true if it is meant"}],
        )
    params = _params(body.params)
    caller: Caller = g.caller
    earlier = idempotency.replay(caller)  # a retried request gets its first answer, not a second cycle
    if earlier is not None:
        earlier.headers["Location"] = f"/cycles/{json.loads(earlier.get_data())['id']}"
        return earlier
    db: Database = current_app.extensions["harvest_db"]
    answer: dict[str, Any] = {}

    def answered(session: Any, cycle: Cycle) -> None:
        answer.update(cycle_json(cycle, caller))
        idempotency.remember(session, caller, answer, status=202)

    cycle_id = jobs.enqueue(db, body.date, rerun=body.rerun, params=params, answered=answered)
    worker = current_app.extensions.get("harvest_worker")
    if worker is not None:
        worker.wake()
    response = jsonify(answer)
    response.status_code = 202
    response.headers["Location"] = f"/cycles/{cycle_id}"
    return response


@bp.get("")
@requires("cooperative", "buyer", "planner", "operator")
def list_cycles() -> Response:
    """Cycles, newest first, in pages (``limit``, ``after``: the last id of the previous page)."""
    caller: Caller = g.caller
    limit = int_arg("limit", 100, 1, MAX_LIST_PAGE)
    query = concerning(select(Cycle), caller)
    if request.args.get("after"):
        query = query.where(Cycle.id < int_arg("after", 0, 0, 2**31 - 1))
    query = where_args(query, {"status": Cycle.status})
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        rows = list(session.scalars(query.order_by(Cycle.id.desc()).limit(limit + 1)))
        more = len(rows) > limit
        return jsonify({"items": [cycle_json(c, caller) for c in rows[:limit]], "next": str(rows[limit - 1].id) if more else None})


@bp.get("/<int(max=2147483647):cycle_id>")
@requires("cooperative", "buyer", "planner", "operator")
def read(cycle_id: int) -> Response:
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        return jsonify(cycle_json(visible_cycle(session, cycle_id, g.caller), g.caller))


@bp.get("/<int(max=2147483647):cycle_id>/allocations")
@requires("cooperative", "planner", "operator")
def allocations(cycle_id: int) -> Response:
    """Shipped lanes; a cooperative sees only its own. ``format=json`` (pages), ``csv`` or ``parquet``."""
    caller: Caller = g.caller
    query = select(Allocation).where(Allocation.cycle_id == cycle_id)
    filters: dict[str, Any] = {"region_id": Allocation.region_id, "product": Allocation.product}
    if caller.role == "cooperative":
        query = query.where(Allocation.cooperative_id == caller.cooperative_id)
    else:
        filters["cooperative_id"] = Allocation.cooperative_id
    return _table(cycle_id, where_args(query, filters), Allocation.id, "allocations", drop=("id", "cycle_id"))


@bp.get("/<int(max=2147483647):cycle_id>/prices")
@requires("cooperative", "buyer", "planner", "operator")
def prices(cycle_id: int) -> Response:
    """Regional clearing prices: one entry per pooled demand row."""
    query = select(DemandRow).where(DemandRow.cycle_id == cycle_id)
    query = where_args(query, {"region_id": DemandRow.region_id, "product": DemandRow.product})
    return _table(cycle_id, query, DemandRow.demand_id, "prices", drop=("cycle_id",))


@bp.get("/<int(max=2147483647):cycle_id>/shipments")
@requires("planner", "operator")
def shipments(cycle_id: int) -> Response:
    """Shipped lanes as GeoJSON LineStrings from each offer to its region's hub (through the crossdock
    a lane ran via, placed as the cycle recorded it), in pages."""
    db: Database = current_app.extensions["harvest_db"]
    limit = int_arg("limit", MAX_LIST_PAGE, 1, MAX_PAGE)
    query = (
        select(
            Allocation.id,
            Allocation.offer_id,
            Allocation.demand_id,
            Allocation.region_id,
            Allocation.product,
            Allocation.quantity_kg,
            Allocation.distance_km,
            Allocation.transit_days,
            Offer.lat,
            Offer.lon,
            Allocation.hub_lat,
            Allocation.hub_lon,
            Allocation.via,
        )
        .join(Offer, Offer.offer_id == Allocation.offer_id)
        .where(Allocation.cycle_id == cycle_id)
    )
    query = after_arg(where_args(query, {"region_id": Allocation.region_id, "product": Allocation.product}), Allocation.id, integer=True)
    with db.session() as session:
        cycle = require_done(get_cycle(session, cycle_id))
        rows = session.execute(query.order_by(Allocation.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    recorded = json.loads(cycle.crossdocks)["crossdocks"] if cycle.crossdocks else []
    docks = {d["crossdock_id"]: [d["lon"], d["lat"]] for d in recorded}
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[r.lon, r.lat], *([docks[r.via]] if r.via in docks else []), [r.hub_lon, r.hub_lat]]},
            "properties": {
                "offer_id": r.offer_id,
                "demand_id": r.demand_id,
                "region_id": r.region_id,
                "product": r.product,
                "quantity_kg": r.quantity_kg,
                "distance_km": r.distance_km,
                "transit_days": r.transit_days,
                "via": r.via,
            },
        }
        for r in rows
    ]
    response = jsonify({"type": "FeatureCollection", "features": features, "next": str(rows[-1].id) if more else None})
    response.content_type = "application/geo+json"
    return response


def cycle_json(c: Cycle, caller: Caller) -> dict[str, Any]:
    body = {
        "id": c.id,
        "date": c.date.isoformat(),
        "status": c.status,
        "stage": c.stage,
        "rerun": c.rerun,
        "current": c.current == 1,
        "reason": c.reason,
        "superseded_by": c.superseded_by,
        "attempt": c.attempt,
        "created_at": iso(c.created_at),
        "snapshot_at": iso(c.snapshot_at) if c.snapshot_at else None,
        "finished_at": iso(c.finished_at) if c.finished_at else None,
        "progress": json.loads(c.progress) if c.progress else None,
        "params": json.loads(c.params) if c.params else None,
        "summary": json.loads(c.summary) if c.summary else None,
    }
    if caller.role == "operator":
        body["detail"] = c.detail
        body["lease_owner"] = c.lease_owner
        body["fleet"] = json.loads(c.fleet) if c.fleet else None
        body["crossdocks"] = json.loads(c.crossdocks) if c.crossdocks else None
    return body


def _params(given: dict[str, Any]) -> MatchParams:
    base: MatchParams = current_app.config["CYCLE_PARAMS"]
    try:
        return MatchParams.from_mapping({**asdict(base), **given})
    except (ParameterError, TypeError) as exc:
        raise ApiError(422, "Invalid request body", errors=[{"path": "params", "message": str(exc)}]) from None


def _table(cycle_id: int, query: Any, key: Any, name: str, *, drop: tuple[str, ...]) -> Response:
    """A done cycle's result rows as JSON pages (``limit``, ``after``), or whole as CSV or Parquet; read
    as plain columns into a frame typed by the table (no ORM object per row)."""
    from api.db import read_frame

    db: Database = current_app.extensions["harvest_db"]
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv", "parquet"):
        raise ApiError(422, "Invalid query", errors=[{"path": "format", "message": f"expected json, csv or parquet, got {fmt!r}"}])
    table = key.class_.__table__
    columns = [c for c in table.columns if c.key not in drop or c.key == key.key]  # the key pages, even if not shown
    query = query.with_only_columns(*columns).order_by(key if key is Allocation.id else binary(key))
    if fmt == "json":
        limit = int_arg("limit", MAX_LIST_PAGE, 1, MAX_PAGE)
        query = after_arg(query, key, integer=key is Allocation.id).limit(limit + 1)
    with db.session() as session:
        require_done(get_cycle(session, cycle_id))
        frame = read_frame(session, query, {c.key: _dtype(c) for c in columns})
    shown = [c for c in frame.columns if c not in drop]
    if fmt == "json":
        more = frame.height > limit
        frame = frame.head(limit)
        return jsonify({"items": publish(frame.select(shown)).to_dicts(), "next": str(frame[key.key][-1]) if more else None})
    frame = frame.select(shown)
    if fmt == "csv":
        response = Response(publish(frame).write_csv(), mimetype="text/csv")
    else:
        buffer = io.BytesIO()
        publish(frame, as_="decimal").write_parquet(buffer)
        response = Response(buffer.getvalue(), mimetype="application/vnd.apache.parquet")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{cycle_id}.{fmt}"'
    return response


def _dtype(column: Any) -> pl.DataType:
    """A result column's polars type, from the table's own type (never inferred from rows)."""
    python = column.type.python_type
    return {int: pl.Int64(), float: pl.Float64(), str: pl.String(), bool: pl.Boolean()}[python]
