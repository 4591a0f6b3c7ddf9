"""Cycles: the operator runs the day's matching; everyone reads the results they may see.

``POST /cycles`` queues a run for a date and answers 202 at once; the run goes on in the background
(``queued`` -> ``running`` -> ``done`` or ``failed`` with the reason). One current result per date: a
second run of a done date needs ``"rerun": true`` and keeps the earlier result as history.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import polars as pl
from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from api import runner
from api.auth import Caller, requires
from api.db import Database
from api.errors import ApiError
from api.models import Allocation, Cycle, DemandRow, Offer, Region
from api.requests import iso, where_args

bp = Blueprint("cycles", __name__, url_prefix="/cycles")


class CycleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date
    rerun: bool = False


@bp.post("")
@requires("operator")
def run_cycle() -> Response:
    body = CycleIn.model_validate(request.get_json(silent=True) or {})
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        busy = session.scalars(select(Cycle).where(Cycle.status.in_(["queued", "running"]))).first()
        if busy is not None:
            raise ApiError(409, "Conflict", f"cycle {busy.id} for {busy.date} is {busy.status}; wait for it")
        done = session.scalars(
            select(Cycle).where(Cycle.date == body.date, Cycle.status == "done", Cycle.superseded_by.is_(None))
        ).first()
        if done is not None and not body.rerun:
            raise ApiError(409, "Conflict", f"{body.date} already has cycle {done.id}; send 'rerun': true to run it again")
        cycle = Cycle(date=body.date, status="queued")
        session.add(cycle)
        session.flush()
        cycle_id = cycle.id
        payload = cycle_json(cycle)
    runner.start(current_app._get_current_object(), cycle_id)  # type: ignore[attr-defined]
    response = jsonify(payload)
    response.status_code = 202
    response.headers["Location"] = f"/cycles/{cycle_id}"
    return response


@bp.get("")
@requires("planner", "operator")
def list_cycles() -> Response:
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        rows = session.scalars(select(Cycle).order_by(Cycle.id.desc()).limit(200))
        return jsonify({"items": [cycle_json(c) for c in rows]})


@bp.get("/<int(max=2147483647):cycle_id>")
@requires("cooperative", "buyer", "planner", "operator")
def read(cycle_id: int) -> Response:
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        return jsonify(cycle_json(_cycle(session, cycle_id)))


@bp.get("/<int(max=2147483647):cycle_id>/allocations")
@requires("cooperative", "planner", "operator")
def allocations(cycle_id: int) -> Response:
    """Shipped lanes; a cooperative sees only its own. ``format=json`` (default), ``csv`` or ``parquet``."""
    caller: Caller = g.caller
    query = select(Allocation).where(Allocation.cycle_id == cycle_id).order_by(Allocation.offer_id, Allocation.demand_id)
    filters: dict[str, Any] = {"region_id": Allocation.region_id, "product": Allocation.product}
    if caller.role == "cooperative":
        query = query.where(Allocation.cooperative_id == caller.cooperative_id)
    else:
        filters["cooperative_id"] = Allocation.cooperative_id
    return _table(cycle_id, where_args(query, filters), "allocations")


@bp.get("/<int(max=2147483647):cycle_id>/prices")
@requires("cooperative", "buyer", "planner", "operator")
def prices(cycle_id: int) -> Response:
    """Regional clearing prices: one entry per pooled demand row."""
    query = select(DemandRow).where(DemandRow.cycle_id == cycle_id).order_by(DemandRow.demand_id)
    return _table(cycle_id, where_args(query, {"region_id": DemandRow.region_id, "product": DemandRow.product}), "prices")


@bp.get("/<int(max=2147483647):cycle_id>/shipments")
@requires("planner", "operator")
def shipments(cycle_id: int) -> Response:
    """Shipped lanes as GeoJSON LineStrings from each offer to its region's hub."""
    db: Database = current_app.extensions["harvest_db"]
    query = (
        select(
            Allocation.offer_id, Allocation.demand_id, Allocation.region_id, Allocation.product, Allocation.quantity_kg,
            Allocation.distance_km, Allocation.transit_days, Offer.lat, Offer.lon, Region.hub_lat, Region.hub_lon,
        )
        .join(Offer, Offer.offer_id == Allocation.offer_id)
        .join(Region, Region.region_id == Allocation.region_id)
        .where(Allocation.cycle_id == cycle_id)
        .order_by(Allocation.offer_id, Allocation.demand_id)
    )
    with db.session() as session:
        _done(_cycle(session, cycle_id))
        rows = session.execute(query).all()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[r.lon, r.lat], [r.hub_lon, r.hub_lat]]},
            "properties": {
                "offer_id": r.offer_id, "demand_id": r.demand_id, "region_id": r.region_id, "product": r.product,
                "quantity_kg": r.quantity_kg, "distance_km": r.distance_km, "transit_days": r.transit_days,
            },
        }
        for r in rows
    ]
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.content_type = "application/geo+json"
    return response


def cycle_json(c: Cycle) -> dict[str, Any]:
    return {
        "id": c.id,
        "date": c.date.isoformat(),
        "status": c.status,
        "reason": c.reason,
        "superseded_by": c.superseded_by,
        "snapshot_at": iso(c.snapshot_at) if c.snapshot_at else None,
        "finished_at": iso(c.finished_at) if c.finished_at else None,
        "summary": json.loads(c.summary) if c.summary else None,
    }


def _cycle(session: Any, cycle_id: int) -> Cycle:
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise ApiError(404, "Not Found", f"no cycle {cycle_id}")
    return cycle


def _done(cycle: Cycle) -> None:
    if cycle.status != "done":
        raise ApiError(409, "Conflict", f"cycle {cycle.id} is {cycle.status}; results come when it is done")


def _table(cycle_id: int, query: Any, name: str) -> Response:
    """A done cycle's result rows, read in bulk, as JSON, CSV or Parquet (``format``)."""
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        _done(_cycle(session, cycle_id))
    with db.engine.connect() as conn:
        frame = pl.read_database(query, conn)
    frame = frame.drop([c for c in ("id", "cycle_id") if c in frame.columns])
    name = f"{name}-{cycle_id}"
    fmt = request.args.get("format", "json")
    if fmt == "json":
        return jsonify({"items": frame.to_dicts()})
    if fmt == "csv":
        response = Response(frame.write_csv(), mimetype="text/csv")
    elif fmt == "parquet":
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        response = Response(buffer.getvalue(), mimetype="application/vnd.apache.parquet")
    else:
        raise ApiError(422, "Invalid query", errors=[{"path": "format", "message": f"expected json, csv or parquet, got {fmt!r}"}])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
