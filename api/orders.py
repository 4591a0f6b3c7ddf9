"""Orders: buyers (and pickup points) post them, follow their fills, cancel them; the operator sees all.

``POST /orders`` takes one order (a JSON object), many (an array) or a CSV upload, checked by the batch
job's schema (:data:`matcher.schemas.ORDERS`, without ``order_id`` and ``created_at``, plus an
optional ``reference`` and ``pickup_point_id``). An order belongs to its buyer (``buyer_id`` of the
key; the operator names it), so a rotated key sees the same orders.

An order waits as ``pending`` for the cycles that may fill it: each pools what is left of it with its
region's orders, and while its due date is after a cycle's date what that cycle leaves unfilled waits
for the next (:mod:`api.waiting`). ``GET /orders/{id}`` lists its fills by cycle, oldest first, and
shows what still waits (``remaining_kg``) and why the latest cycle did not fill it. A demand row's fill
goes back to its orders by the cycle's ``fill_rule`` (pro rata by default); ties, and first come first
served, follow arrival, and within one request the order given. ``POST /orders/{id}/cancel`` cancels
what still waits of a pending order (its fills stay), except while a cycle that has taken its snapshot
is running (409; cancel once it has ended).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import idempotency, jobs
from api.auth import Caller, requires
from api.db import Database, lock_snapshot
from api.errors import ApiError
from api.models import Base, Cycle, Order, OrderFill
from api.requests import iso, lock_products, new_id, own_row, owned_records, page
from harvestmatch.money import price_text
from matcher.schemas import ORDERS, Column

bp = Blueprint("orders", __name__, url_prefix="/orders")

#: what a buyer posts; ``buyer_id`` comes from a buyer's key, and only the operator gives it
UPLOAD: tuple[Column, ...] = (
    (Column("buyer_id", "id", required=False),)
    + tuple(c for c in ORDERS if c.name not in ("order_id", "created_at"))
    + (Column("reference", "text", required=False), Column("pickup_point_id", "id", required=False))
)


@bp.post("")
@requires("buyer", "operator")
def create() -> Response:
    caller: Caller = g.caller

    def make() -> tuple[list[Base], Any]:
        orders, single = owned_records(UPLOAD, what="order", owner="buyer_id", mine=caller.buyer_id if caller.role == "buyer" else None)
        rows = new_orders(orders, caller)
        out = [order_json(r) for r in rows]
        return list[Base](rows), (out[0] if single else {"items": out})

    return idempotency.create(caller, make, guard=lock_products)


def new_orders(orders: list[dict[str, Any]], caller: Caller) -> list[Order]:
    """Checked order records (:data:`UPLOAD`'s columns, owned) as new rows: an id, pending, nothing filled."""
    now = dt.datetime.now(dt.UTC)
    known = {c.name for c in UPLOAD}
    return [
        Order(
            order_id=new_id("ord", now, k),
            buyer_key_id=caller.key_id,
            status="pending",
            filled_kg=0,
            created_at=now,
            **{key: v for key, v in o.items() if key in known},
        )
        for k, o in enumerate(orders)
    ]


@bp.get("")
@requires("buyer", "operator")
def list_orders() -> Response:
    caller: Caller = g.caller
    query = select(Order)
    filters: dict[str, Any] = {"product": Order.product, "status": Order.status, "reference": Order.reference}
    if caller.role == "buyer":
        query = query.where(Order.buyer_id == caller.buyer_id)
    else:
        filters["buyer_id"] = Order.buyer_id
    return page(query, Order.order_id, order_json, filters=filters)


@bp.get("/<order_id>")
@requires("buyer", "operator")
def read(order_id: str) -> Response:
    """The order and its fills in the current cycles that took it, oldest first."""
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        order = _own(session, g.caller, order_id)
        fills = session.execute(
            select(OrderFill, Cycle.date)
            .join(Cycle, Cycle.id == OrderFill.cycle_id)
            .where(OrderFill.order_id == order.order_id, Cycle.current == 1)
            .order_by(Cycle.date, Cycle.id)
        ).all()
        return jsonify(
            {
                **order_json(order),
                "fills": [
                    {
                        "cycle_id": f.cycle_id,
                        "date": date.isoformat(),
                        "filled_kg": f.filled_kg,
                        "clearing_price": price_text(f.clearing_price),
                        "status": f.status,
                        "reason": f.reason,
                    }
                    for f, date in fills
                ],
            }
        )


@bp.post("/<order_id>/cancel")
@requires("buyer", "operator")
def cancel(order_id: str) -> Response:
    db: Database = current_app.extensions["harvest_db"]
    with db.write() as session:
        lock_snapshot(session)
        order = _own(session, g.caller, order_id, lock=True)
        if order.status != "pending":
            raise ApiError(409, "Conflict", f"order {order_id} is {order.status}; only a pending order can be cancelled")
        # what the cycles filled stays: only what still waits is cancelled
        jobs.refuse_while_running(session, f"order {order_id}")
        order.status, order.cancelled_at = "cancelled", dt.datetime.now(dt.UTC)
        return jsonify(order_json(order))


def _own(session: Session, caller: Caller, order_id: str, *, lock: bool = False) -> Order:
    mine = caller.buyer_id if caller.role == "buyer" else None
    return own_row(session, Order.order_id, order_id, owner=Order.buyer_id, mine=mine, lock=lock)  # type: ignore[no-any-return]


def order_json(o: Order) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "buyer_id": o.buyer_id,
        "reference": o.reference,
        "product": o.product,
        "min_grade": o.min_grade,
        "quantity_kg": o.quantity_kg,
        "lat": o.lat,
        "lon": o.lon,
        "max_price_per_kg": price_text(o.max_price_per_kg),
        "due_date": o.due_date.isoformat(),
        "pickup_point_id": o.pickup_point_id,
        "status": o.status,
        "filled_kg": o.filled_kg,
        "unfilled_kg": o.quantity_kg - o.filled_kg,
        "remaining_kg": o.quantity_kg - o.filled_kg if o.status == "pending" else 0,
        "region_id": o.region_id,
        "clearing_price": price_text(o.clearing_price),
        "reason": o.reason,
        "cycle_id": o.cycle_id,
        "created_at": iso(o.created_at),
    }
