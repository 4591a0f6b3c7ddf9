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
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import idempotency
from api.auth import Caller, requires
from api.db import Database
from api.errors import ApiError
from api.models import Base, Offer
from api.requests import NO_NUL, MAX_BATCH, iso, json_items, page
from matcher.schemas import OFFERS, Column, parse_table

bp = Blueprint("offers", __name__, url_prefix="/offers")

UPLOAD: tuple[Column, ...] = tuple(
    Column(c.name, c.kind, required=c.name != "cooperative_id") for c in OFFERS if c.name not in ("offer_id", "min_lot_kg")
)


class OfferIn(BaseModel):
    """One offer as posted. ``cooperative_id`` comes from a cooperative's key; the operator gives it."""

    model_config = ConfigDict(extra="forbid")

    cooperative_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=NO_NUL)
    product: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    grade: Literal["A", "B", "C"]
    quantity_kg: int = Field(gt=0, lt=10**12)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    ready_date: dt.date
    shelf_life_days: int = Field(ge=0, lt=10**6)
    ask_per_kg: float = Field(ge=0, allow_inf_nan=False)


@bp.post("")
@requires("cooperative", "operator")
def create() -> Response:
    caller: Caller = g.caller

    def make() -> tuple[list[Base], Any]:
        offers, single = _parse_body(caller)
        rows = _rows(offers)
        out = [_out(r) for r in rows]
        return list[Base](rows), (out[0] if single else {"items": out})

    return idempotency.create(caller, make)


@bp.get("")
@requires("cooperative", "operator")
def list_offers() -> Response:
    caller: Caller = g.caller
    query = select(Offer)
    filters: dict[str, Any] = {"product": Offer.product, "status": Offer.status}
    if caller.role == "cooperative":
        query = query.where(Offer.cooperative_id == caller.cooperative_id)
    else:
        filters["cooperative_id"] = Offer.cooperative_id
    return page(query, Offer.offer_id, _out, filters=filters)


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
    if "\x00" in offer_id:  # never stored; PostgreSQL would refuse the comparison
        raise ApiError(404, "Not Found", "no such offer")
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
        items, single = json_items(OfferIn)
        parsed = [o.model_dump() for o in items]
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


def _rows(offers: list[dict[str, Any]]) -> list[Offer]:
    """Validated offers as new rows: an id, all kg remaining, open."""
    now = dt.datetime.now(dt.UTC)
    return [Offer(offer_id="off_" + uuid.uuid4().hex, remaining_kg=o["quantity_kg"], status="open", created_at=now, **o) for o in offers]


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
        "created_at": iso(o.created_at),
    }
