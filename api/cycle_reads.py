"""The cycle lookups the cycles' resources share (``/cycles``, ``/cycles/{id}/settlement``): which
cycles concern a caller, one cycle by id, and a cycle's results only once it is done."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Caller
from api.errors import ApiError
from api.models import Cycle, OfferResult, OrderFill


def concerning(query: Any, caller: Caller) -> Any:
    """Only the cycles that concern a cooperative (its offers were in them) or a buyer (its orders)."""
    if caller.role == "cooperative":
        return query.where(Cycle.id.in_(select(OfferResult.cycle_id).where(OfferResult.cooperative_id == caller.cooperative_id)))
    if caller.role == "buyer":
        return query.where(Cycle.id.in_(select(OrderFill.cycle_id).where(OrderFill.buyer_id == caller.buyer_id)))
    return query


def visible_cycle(session: Session, cycle_id: int, caller: Caller) -> Cycle:
    """The cycle if it concerns the caller, else 404."""
    if session.scalars(concerning(select(Cycle.id).where(Cycle.id == cycle_id), caller)).first() is None:
        raise ApiError(404, "Not Found", f"no cycle {cycle_id}")
    return get_cycle(session, cycle_id)


def get_cycle(session: Session, cycle_id: int) -> Cycle:
    """The cycle, else 404."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise ApiError(404, "Not Found", f"no cycle {cycle_id}")
    return cycle


def require_done(cycle: Cycle) -> Cycle:
    """The cycle if it is done, else 409: its results come when it is."""
    if cycle.status != "done":
        raise ApiError(409, "Conflict", f"cycle {cycle.id} is {cycle.status}; results come when it is done")
    return cycle
