"""What the scores read from the database: the service's clock and the outcomes, handed to the
arithmetic of :mod:`matcher.scores` (the views of :mod:`api.scores`, the claims' rule chain and the
worker's snapshot all read them here)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.orm import Session

from api.db import read_frame
from api.models import Claim, ClaimPart, Cycle, Delivery, OrderFill
from matcher.scores import (
    BAD_STATUSES,
    COUNTED_SCHEMA,
    DATED_SCHEMA,
    DELIVERED_SCHEMA,
    QUALITY_REASONS,
    UPHELD_SCHEMA,
    Credit,
    credit_from,
    quality_from,
    refund_rates_from,
)


def clock(session: Session, *, excluding: int | None = None) -> list[dt.date]:
    """The distinct dates of the current done cycles, ascending (a re-run's snapshot leaves out the
    cycle it supersedes)."""
    query = select(Cycle.date).where(Cycle.current == 1, Cycle.status == "done").distinct()
    if excluding is not None:
        query = query.where(Cycle.id != excluding)
    return sorted(session.scalars(query))


def today_on(session: Session) -> dt.date:
    """The service's clock now: the latest current cycle date (today, UTC, before any cycle)."""
    dates = clock(session)
    return dates[-1] if dates else dt.datetime.now(dt.UTC).date()


def buyer_credit(session: Session, buyer_id: str, forgetting: float) -> Credit:
    """The buyer's credit (:func:`matcher.scores.credit_from`) from its fills and claims."""
    bad_orders = select(Claim.order_id).where(Claim.buyer_id == buyer_id, Claim.status.in_(BAD_STATUSES))
    latest = (
        select(OrderFill.order_id, func.max(Cycle.date).label("date"))
        .join(Cycle, Cycle.id == OrderFill.cycle_id)
        .where(OrderFill.buyer_id == buyer_id, OrderFill.filled_kg > 0, Cycle.current == 1, Cycle.status == "done", OrderFill.order_id.not_in(bad_orders))
        .group_by(OrderFill.order_id)
        .subquery()
    )
    # counted in the database: one row a date, however many orders the buyer has
    filled = read_frame(
        session,
        select(latest.c.date, cast(func.count(), BigInteger).label("orders")).group_by(latest.c.date).order_by(latest.c.date),
        COUNTED_SCHEMA,
    )
    bad = read_frame(
        session,
        select(Claim.claim_id.label("key"), Claim.decided_on.label("date")).where(Claim.buyer_id == buyer_id, Claim.status.in_(BAD_STATUSES)),
        DATED_SCHEMA,
    )
    return credit_from(buyer_id, filled, bad, clock(session), forgetting=forgetting)


def quality_outcomes(session: Session, *, cooperative_id: str | None = None, excluding: int | None = None) -> pl.DataFrame:
    """Delivered kg and upheld quality claims as outcomes (:func:`matcher.scores.quality_from`), for
    one cooperative or all; ``excluding`` a cycle that no longer counts."""
    current = (Cycle.current == 1) & (Cycle.status == "done")
    if excluding is not None:
        current = current & (Cycle.id != excluding)
    # the per-cycle sums written with each cycle (deliveries), not every allocation
    delivered_query = (
        select(Delivery.cooperative_id, Delivery.product, Cycle.date, cast(func.sum(Delivery.kg), BigInteger).label("kg"))
        .join(Cycle, Cycle.id == Delivery.cycle_id)
        .where(current)
        .group_by(Delivery.cooperative_id, Delivery.product, Cycle.date)
    )
    upheld_query = (
        select(ClaimPart.cooperative_id, Claim.product, ClaimPart.cycle_id, Cycle.date, Cycle.current, ClaimPart.kg, Claim.decided_on)
        .join(Claim, Claim.claim_id == ClaimPart.claim_id)
        .join(Cycle, Cycle.id == ClaimPart.cycle_id)
        .where(Claim.status == "approved", Claim.bearer == "cooperative", Claim.reason.in_(QUALITY_REASONS))
    )
    if cooperative_id is not None:
        delivered_query = delivered_query.where(Delivery.cooperative_id == cooperative_id)
        upheld_query = upheld_query.where(ClaimPart.cooperative_id == cooperative_id)
    delivered = read_frame(session, delivered_query, DELIVERED_SCHEMA)
    upheld = read_frame(session, upheld_query, UPHELD_SCHEMA)
    return quality_from(delivered, upheld, excluding=excluding)


def refund_rates(session: Session, forgetting: float, *, excluding: int | None = None) -> pl.DataFrame:
    """Each (cooperative, product) with history: its expected refund rate, for a cycle's snapshot
    (:func:`matcher.scores.refund_rates_from`)."""
    outcomes = quality_outcomes(session, excluding=excluding)
    return refund_rates_from(outcomes, clock(session, excluding=excluding), forgetting=forgetting)
