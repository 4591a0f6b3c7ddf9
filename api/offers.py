"""Offers: cooperatives post, list, read and withdraw their own; the operator sees all.

``POST /offers`` takes one offer (a JSON object), many (a JSON array) or a CSV upload (``text/csv``,
the batch contract's columns without ``offer_id``); all are validated before any is stored, and all
are stored in one transaction. An ``Idempotency-Key`` header makes a retried POST return the first
answer instead of creating the offers twice.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any, Literal

import polars as pl
from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import idempotency
from api.auth import Caller, requires
from api.db import Database
from api.errors import ApiError
from api.models import Base, Offer
from matcher.schemas import OFFERS, Column, parse_table

bp = Blueprint("offers", __name__, url_prefix="/offers")

MAX_BATCH = 10_000
UPLOAD: tuple[Column, ...] = tuple(
    Column(c.name, c.kind, required=c.name != "cooperative_id") for c in OFFERS if c.name not in ("offer_id", "min_lot_kg")
)


class OfferIn(BaseModel):
    """One offer as posted. ``cooperative_id`` comes from a cooperative's key; the operator gives it."""

    model_config = ConfigDict(extra="forbid")

    cooperative_id: str | None = Field(default=None, min_length=1, max_length=64)
    product: str = Field(min_length=1, max_length=100)
    grade: Literal["A", "B", "C"]
    quantity_kg: int = Field(gt=0, lt=10**12)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    ready_date: dt.date
    shelf_life_days: int = Field(ge=0, lt=10**6)
    ask_per_kg: float = Field(ge=0, allow_inf_nan=False)


_MANY = TypeAdapter(list[OfferIn])


@bp.post("")
@requires("cooperative", "operator")
def create() -> Response:
    caller: Caller = g.caller

    def make() -> tuple[list[Base], Any]:
        offers, single = _parse_body(caller)
        rows: list[Base] = [Offer(**o) for o in _records(offers)]
        return rows, (offers[0] if single else {"items": offers})

    return idempotency.create(caller, make)


@bp.get("")
@requires("cooperative", "operator")
def list_offers() -> Response:
    caller: Caller = g.caller
    limit = int_arg("limit", 100, 1, 1000)
    after = request.args.get("after")
    query = select(Offer).order_by(Offer.offer_id).limit(limit + 1)
    if caller.role == "cooperative":
        query = query.where(Offer.cooperative_id == caller.cooperative_id)
    elif request.args.get("cooperative_id"):
        query = query.where(Offer.cooperative_id == request.args["cooperative_id"])
    for name in ("product", "status"):
        if request.args.get(name):
            query = query.where(getattr(Offer, name) == request.args[name])
    if after:
        query = query.where(Offer.offer_id > after)
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify({"items": [_out(r) for r in rows], "next": rows[-1].offer_id if more else None})


@bp.get("/<offer_id>")
@requires("cooperative", "operator")
def read(offer_id: str) -> Response:
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        return jsonify(_out(_own(session, g.caller, offer_id)))


@bp.post("/<offer_id>/withdraw")
@requires("cooperative", "operator")
def withdraw(offer_id: str) -> Response:
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        offer = _own(session, g.caller, offer_id, lock=True)
        if offer.status != "open":
            raise ApiError(409, "Conflict", f"offer {offer_id} is {offer.status}, not open")
        offer.status = "withdrawn"
        offer.withdrawn_at = dt.datetime.now(dt.UTC)
        return jsonify(_out(offer))


def _own(session: Session, caller: Caller, offer_id: str, *, lock: bool = False) -> Offer:
    query = select(Offer).where(Offer.offer_id == offer_id)
    if lock:
        query = query.with_for_update()
    offer = session.scalars(query).first()
    if offer is None or (caller.role == "cooperative" and offer.cooperative_id != caller.cooperative_id):
        raise ApiError(404, "Not Found", f"no offer {offer_id}")
    return offer


def _parse_body(caller: Caller) -> tuple[list[dict[str, Any]], bool]:
    """Validated offers (as dicts) and whether the body was a single object."""
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
        if data is None:
            raise ApiError(400, "Bad Request", "the body is not valid JSON")
        single = isinstance(data, dict)
        items = [data] if single else data
        if not isinstance(items, list):
            raise ApiError(422, "Invalid request body", "expected an offer object or an array of offers")
        if len(items) > MAX_BATCH:
            raise ApiError(413, "Payload Too Large", f"at most {MAX_BATCH} offers per request")
        parsed = [OfferIn.model_validate(data).model_dump()] if single else [o.model_dump() for o in _MANY.validate_python(items)]
    elif request.mimetype == "text/csv":
        single = False
        try:
            raw = pl.read_csv(io.BytesIO(request.get_data()), infer_schema=False)
        except pl.exceptions.PolarsError as exc:
            raise ApiError(422, "Invalid CSV", str(exc).splitlines()[0]) from exc
        if raw.height > MAX_BATCH:
            raise ApiError(413, "Payload Too Large", f"at most {MAX_BATCH} offers per request")
        table = parse_table(raw, UPLOAD, source="upload")
        parsed = table.select([c.name for c in UPLOAD if c.name in table.columns]).to_dicts()
    else:
        raise ApiError(415, "Unsupported Media Type", "send application/json or text/csv")
    for k, offer in enumerate(parsed):
        given = offer.get("cooperative_id")
        if caller.role == "cooperative":
            if given not in (None, caller.cooperative_id):
                raise ApiError(403, "Forbidden", f"offer {k}: a cooperative posts only its own offers")
            offer["cooperative_id"] = caller.cooperative_id
        elif not given:
            raise ApiError(422, "Invalid request body", errors=[{"path": f"{k}/cooperative_id", "message": "the operator must name the cooperative"}])
    return parsed, single


def _records(offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each validated offer its id, remaining kg and status (the dicts become the response too)."""
    now = dt.datetime.now(dt.UTC)
    for offer in offers:
        offer.update(offer_id="off_" + uuid.uuid4().hex, remaining_kg=offer["quantity_kg"], status="open", created_at=now)
    out = [dict(o) for o in offers]
    for offer in offers:  # the response speaks ISO strings
        offer["ready_date"] = offer["ready_date"].isoformat()
        offer["created_at"] = _iso(now)
    return out


def _out(o: Offer) -> dict[str, Any]:
    return {
        "offer_id": o.offer_id,
        "cooperative_id": o.cooperative_id,
        "product": o.product,
        "grade": o.grade,
        "quantity_kg": o.quantity_kg,
        "remaining_kg": o.remaining_kg,
        "lat": o.lat,
        "lon": o.lon,
        "ready_date": o.ready_date.isoformat(),
        "shelf_life_days": o.shelf_life_days,
        "ask_per_kg": o.ask_per_kg,
        "status": o.status,
        "created_at": _iso(o.created_at),
    }


def _iso(ts: dt.datetime) -> str:
    """ISO 8601 in UTC (SQLite hands timestamps back without their zone)."""
    return (ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "Invalid query", errors=[{"path": name, "message": f"expected a whole number, got {raw!r}"}]) from None
    if not low <= value <= high:
        raise ApiError(422, "Invalid query", errors=[{"path": name, "message": f"must be from {low} to {high}, got {value}"}])
    return value
