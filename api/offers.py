"""Offers: cooperatives post, list, read and withdraw their own; the operator sees all.

``POST /offers`` takes one offer (a JSON object), many (a JSON array) or a CSV upload (``text/csv``,
the batch contract's columns without ``offer_id``, plus an optional ``reference``). Both are checked
by the batch job's schema (:data:`matcher.schemas.OFFERS`): the same rules, the same messages. All are
validated before any is stored, and all are stored in one transaction. An ``Idempotency-Key`` header
makes a retried POST return the first answer instead of creating the offers twice.

An offer is ``open`` until it is withdrawn or sold out; whether it is ready or expired depends on the
date a cycle asks about (``ready_date`` to ``expires_on``). While a cycle that has taken its snapshot
is running, withdrawals are refused (409): the cycle may be selling the offer, and the service does not
trust two hosts' clocks to tell which offers it holds. Withdraw once the cycle has ended.

``GET /offers/{id}`` gives the offer's result in every current cycle that had it, with its safety-net
floor (:func:`floor_json`), and tells the offer's owner when it is collected: the first-mile routes of the
latest current cycle whose plan picks it up, and the window from the earliest of their stops' starts
to the latest departure. A cooperative sees only this about routes: the routes themselves (with other
cooperatives' farms on them) are for planners.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from flask import Blueprint, Response, current_app, g, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import idempotency, jobs
from api.auth import Caller, requires
from api.db import Database, lock_snapshot
from api.errors import ApiError
from api.models import Base, Cycle, Offer, OfferResult, PlanRoute, PlanStop
from api.requests import iso, lock_products, new_id, own_row, owned_records, page
from harvestmatch.money import amount_text, price_text
from matcher.schemas import OFFERS, Column

bp = Blueprint("offers", __name__, url_prefix="/offers")

#: an offer's first-mile stops, as read for its ``pickup``
PICKUP_SCHEMA: dict[str, pl.DataType] = {
    "cycle_id": pl.Int64(),
    "date": pl.Date(),
    "route_id": pl.String(),
    "hub": pl.String(),
    "kg": pl.Int64(),
    "start_min": pl.Float64(),
    "depart_min": pl.Float64(),
}

#: what a cooperative posts: the batch columns without the id (made here) and lots (not supported yet);
#: ``cooperative_id`` comes from a cooperative's key and only the operator gives it
UPLOAD: tuple[Column, ...] = tuple(Column(c.name, c.kind, required=c.name != "cooperative_id") for c in OFFERS if c.name not in ("offer_id", "min_lot_kg")) + (
    Column("reference", "text", required=False),
)


@bp.post("")
@requires("cooperative", "operator")
def create() -> Response:
    caller: Caller = g.caller

    def make() -> tuple[list[Base], Any]:
        rows, single = _parse_body(caller)
        out = [offer_json(r) for r in rows]
        return list[Base](rows), (out[0] if single else {"items": out})

    return idempotency.create(caller, make, guard=lock_products)


@bp.get("")
@requires("cooperative", "operator")
def list_offers() -> Response:
    caller: Caller = g.caller
    query = select(Offer)
    filters: dict[str, Any] = {"product": Offer.product, "status": Offer.status, "reference": Offer.reference}
    if caller.role == "cooperative":
        query = query.where(Offer.cooperative_id == caller.cooperative_id)
    else:
        filters["cooperative_id"] = Offer.cooperative_id
    return page(query, Offer.offer_id, offer_json, filters=filters)


@bp.get("/<offer_id>")
@requires("cooperative", "operator")
def read(offer_id: str) -> Response:
    """The offer, how it fared in every current cycle that had it (kg sold, farm-gate price, reason), and
    its pickup in the latest of them whose plan picks it up."""
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        offer = _own(session, g.caller, offer_id)
        results = session.execute(
            select(OfferResult, Cycle.date)
            .join(Cycle, Cycle.id == OfferResult.cycle_id)
            .where(OfferResult.offer_id == offer.offer_id, Cycle.current == 1)
            .order_by(Cycle.date, Cycle.id)
        ).all()
        body = offer_json(offer)
        body["results"] = [
            {
                "cycle_id": r.cycle_id,
                "date": date.isoformat(),
                "sold_kg": r.sold_kg,
                "unsold_kg": r.unsold_kg,
                "farm_gate_price": price_text(r.farm_gate_price),
                "reason": r.reason,
                **floor_json(r),
            }
            for r, date in results
        ]
        body["pickup"] = _pickup(session, offer.offer_id)
        return jsonify(body)


@bp.post("/<offer_id>/withdraw")
@requires("cooperative", "operator")
def withdraw(offer_id: str) -> Response:
    db: Database = current_app.extensions["harvest_db"]
    with db.write() as session:
        lock_snapshot(session)
        offer = _own(session, g.caller, offer_id, lock=True)
        if offer.status != "open":
            raise ApiError(409, "Conflict", f"offer {offer_id} is {offer.status}, not open")
        jobs.refuse_while_running(session, f"offer {offer_id}")
        offer.status = "withdrawn"
        offer.withdrawn_at = dt.datetime.now(dt.UTC)
        return jsonify(offer_json(offer))


def _pickup(session: Session, offer_id: str) -> dict[str, Any] | None:
    """When and by which routes the offer is collected: its first-mile stops in the latest current done
    cycle whose plan has them (the earliest start and the latest departure, in minutes from the start of
    the working day); None when no such cycle picks it up."""
    from api.db import read_frame

    sold_in = select(OfferResult.cycle_id).where(OfferResult.offer_id == offer_id, OfferResult.sold_kg > 0)
    query = (
        select(PlanStop.cycle_id, Cycle.date, PlanStop.route_id, PlanRoute.hub, PlanStop.kg, PlanStop.start_min, PlanStop.depart_min)
        .join(Cycle, Cycle.id == PlanStop.cycle_id)
        .join(PlanRoute, (PlanRoute.cycle_id == PlanStop.cycle_id) & (PlanRoute.route_id == PlanStop.route_id))
        .where(PlanStop.cycle_id.in_(sold_in), PlanStop.stop_id == offer_id, PlanStop.leg == "first_mile", Cycle.current == 1, Cycle.status == "done")
    )
    stops = read_frame(session, query, PICKUP_SCHEMA)
    if stops.height == 0:
        return None
    cycle_id, date = stops.sort("date", "cycle_id").select("cycle_id", "date").row(-1)
    mine = stops.filter(pl.col("cycle_id") == cycle_id)
    return {
        "cycle_id": cycle_id,
        "date": date.isoformat(),
        "route_ids": mine["route_id"].unique().sort().to_list(),
        "hub": mine["hub"].min(),
        "kg": int(mine["kg"].sum()),
        "window_start_min": mine["start_min"].min(),
        "window_end_min": mine["depart_min"].max(),
    }


def _own(session: Session, caller: Caller, offer_id: str, *, lock: bool = False) -> Offer:
    mine = caller.cooperative_id if caller.role == "cooperative" else None
    return own_row(session, Offer.offer_id, offer_id, owner=Offer.cooperative_id, mine=mine, lock=lock)  # type: ignore[no-any-return]


def _parse_body(caller: Caller) -> tuple[list[Offer], bool]:
    """Validated offers as new rows (an id, all kg remaining, open), and whether the body was one object."""
    mine = caller.cooperative_id if caller.role == "cooperative" else None
    offers, single = owned_records(UPLOAD, what="offer", owner="cooperative_id", mine=mine)
    return new_offers(offers), single


def new_offers(offers: list[dict[str, Any]]) -> list[Offer]:
    """Checked offer records (:data:`UPLOAD`'s columns, owned) as new rows: an id, all kg remaining, open."""
    now = dt.datetime.now(dt.UTC)
    known = {c.name for c in UPLOAD}
    return [
        Offer(
            offer_id=new_id("off", now, k),
            remaining_kg=o["quantity_kg"],
            status="open",
            created_at=now,
            expires_on=o["ready_date"] + dt.timedelta(days=o["shelf_life_days"]),
            **{k: v for k, v in o.items() if k in known},
        )
        for k, o in enumerate(offers)
    ]


def floor_json(r: OfferResult) -> dict[str, Any]:
    """An offer result's safety net (:mod:`matcher.floor`): its floor kg (0 without one), the kg sold
    through it, whether it was met and why (null without a floor), its dual (the per-kg cost of the
    producer's safety net, null where none) and the subsidy the platform pays for it."""
    return {
        "floor_kg": r.floor_kg,
        "floor_sold_kg": r.floor_sold_kg,
        "floor_met": r.floor_met,
        "floor_reason": r.floor_reason,
        "floor_dual": price_text(r.floor_dual),
        "subsidy": amount_text(r.subsidy),
    }


def offer_json(o: Offer) -> dict[str, Any]:
    return {
        "offer_id": o.offer_id,
        "cooperative_id": o.cooperative_id,
        "reference": o.reference,
        "product": o.product,
        "grade": o.grade,
        "quantity_kg": o.quantity_kg,
        "remaining_kg": o.remaining_kg,
        "lat": o.lat,
        "lon": o.lon,
        "ready_date": o.ready_date.isoformat(),
        "shelf_life_days": o.shelf_life_days,
        "expires_on": o.expires_on.isoformat(),
        "ask_per_kg": price_text(o.ask_per_kg),
        "status": o.status,
        "created_at": iso(o.created_at),
    }
