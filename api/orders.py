"""Orders: buyers (and pickup points) post them and follow their fill; the operator sees all.

An order waits as ``pending`` until a cycle takes it; the cycle pools it with its region's orders,
and afterwards the order shows its region, what it got, at what price, and why not more.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api import idempotency
from api.auth import Caller, requires
from api.db import Database
from api.errors import ApiError
from api.models import Base, Order
from api.requests import NO_NUL, iso, json_items, page

bp = Blueprint("orders", __name__, url_prefix="/orders")


class OrderIn(BaseModel):
    """One order as posted."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    min_grade: Literal["A", "B", "C"]
    quantity_kg: int = Field(gt=0, lt=10**12)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    max_price_per_kg: float = Field(ge=0, allow_inf_nan=False)
    due_date: dt.date


@bp.post("")
@requires("buyer", "operator")
def create() -> Response:
    caller: Caller = g.caller

    def make() -> tuple[list[Base], Any]:
        if request.mimetype != "application/json":
            raise ApiError(415, "Unsupported Media Type", "send application/json")
        items, single = json_items(OrderIn)
        now = dt.datetime.now(dt.UTC)
        rows = [
            Order(order_id="ord_" + uuid.uuid4().hex, buyer_key_id=caller.key_id, status="pending", filled_kg=0, created_at=now, **o.model_dump())
            for o in items
        ]
        out = [order_json(r) for r in rows]
        return list[Base](rows), (out[0] if single else {"items": out})

    return idempotency.create(caller, make)


@bp.get("")
@requires("buyer", "operator")
def list_orders() -> Response:
    caller: Caller = g.caller
    query = select(Order)
    if caller.role == "buyer":
        query = query.where(Order.buyer_key_id == caller.key_id)
    return page(query, Order.order_id, order_json, filters={"product": Order.product, "status": Order.status})


@bp.get("/<order_id>")
@requires("buyer", "operator")
def read(order_id: str) -> Response:
    caller: Caller = g.caller
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        order = None if "\x00" in order_id else session.get(Order, order_id)
        if order is None or (caller.role == "buyer" and order.buyer_key_id != caller.key_id):
            raise ApiError(404, "Not Found", f"no order {order_id}")
        return jsonify(order_json(order))


def order_json(o: Order) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "product": o.product,
        "min_grade": o.min_grade,
        "quantity_kg": o.quantity_kg,
        "lat": o.lat,
        "lon": o.lon,
        "max_price_per_kg": o.max_price_per_kg,
        "due_date": o.due_date.isoformat(),
        "status": o.status,
        "filled_kg": o.filled_kg,
        "unfilled_kg": o.quantity_kg - o.filled_kg,
        "region_id": o.region_id,
        "clearing_price": o.clearing_price,
        "reason": o.reason,
        "cycle_id": o.cycle_id,
        "created_at": iso(o.created_at),
    }
