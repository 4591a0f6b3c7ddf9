"""What a done cycle's books are recomputed from, read from the database (:mod:`api.settlement`).

Frames are typed by the schemas below, never inferred from the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import read_frame
from api.models import Allocation, Claim, ClaimPart, OfferResult, OrderFill
from matcher.claims import REFUNDED

#: what the books read, typed (never inferred from the rows)
ALLOCATION_SCHEMA: dict[str, pl.DataType] = {
    "offer_id": pl.String(),
    "cooperative_id": pl.String(),
    "demand_id": pl.String(),
    "quantity_kg": pl.Int64(),
    "price_per_kg": pl.Float64(),
    "ask_per_kg": pl.Float64(),
    "cost_per_kg": pl.Float64(),
    "farm_gate_price": pl.Float64(),
    "clearing_price": pl.Float64(),
}
OFFER_SCHEMA: dict[str, pl.DataType] = {
    "offer_id": pl.String(),
    "subsidy": pl.Float64(),
    "floor_sold_kg": pl.Int64(),
    "floor_dual": pl.Float64(),
    "refund_rate": pl.Float64(),
}
BUYER_SCHEMA: dict[str, pl.DataType] = {"buyer_id": pl.String(), "demand_id": pl.String(), "filled_kg": pl.Int64()}
REFUND_SCHEMA: dict[str, pl.DataType] = {"buyer_id": pl.String(), "cooperative_id": pl.String(), "amount_cents": pl.Int64(), "bearer": pl.String()}


@dataclass(frozen=True)
class BooksInputs:
    """A cycle's stored results as :func:`matcher.settlement.settle` takes them.

    Attributes
    ----------
    allocations
        Its allocations (:data:`ALLOCATION_SCHEMA`), in the order they were written.
    offers
        ``offer_id, subsidy, floor_sold_kg, floor_dual`` of its offer results.
    buyers
        ``buyer_id, demand_id, filled_kg`` of its order fills with kg.
    refund_rate
        ``offer_id, refund_rate`` of the offers whose lanes a refund rate steered; None when none did.
    refunds
        ``buyer_id, cooperative_id, amount, bearer``: the refunds (decimal text) of the claims on its
        fills that the buyers got; None when there are none.
    """

    allocations: pl.DataFrame
    offers: pl.DataFrame
    buyers: pl.DataFrame
    refund_rate: pl.DataFrame | None
    refunds: pl.DataFrame | None


def refunds_of(session: Session, cycle_id: int) -> pl.DataFrame | None:
    """``buyer_id, cooperative_id, amount, bearer``: the refunds (decimal text) of the claims on the
    fills of ``cycle_id`` that the buyers got; None when there are none."""
    refunds = read_frame(
        session,
        select(Claim.buyer_id, ClaimPart.cooperative_id, ClaimPart.amount_cents, Claim.bearer)
        .join(Claim, Claim.claim_id == ClaimPart.claim_id)
        .where(ClaimPart.cycle_id == cycle_id, Claim.status.in_(REFUNDED)),
        REFUND_SCHEMA,
    )
    amounts = pl.DataFrame(
        {
            "buyer_id": refunds["buyer_id"],
            "cooperative_id": refunds["cooperative_id"],
            "amount": [str(Decimal(c) / 100) for c in refunds["amount_cents"].to_list()],
            "bearer": refunds["bearer"],
        },
        schema={"buyer_id": pl.String(), "cooperative_id": pl.String(), "amount": pl.String(), "bearer": pl.String()},
    )
    return amounts if amounts.height else None


def books_inputs(session: Session, cycle_id: int, refunds: pl.DataFrame | None) -> BooksInputs:
    """Read what the books of ``cycle_id`` are computed from (see :class:`BooksInputs`), with its
    ``refunds`` as :func:`refunds_of` read them."""
    allocations = read_frame(
        session, select(*(getattr(Allocation, c) for c in ALLOCATION_SCHEMA)).where(Allocation.cycle_id == cycle_id).order_by(Allocation.id), ALLOCATION_SCHEMA
    )
    offers = read_frame(session, select(*(getattr(OfferResult, c) for c in OFFER_SCHEMA)).where(OfferResult.cycle_id == cycle_id), OFFER_SCHEMA)
    buyers = read_frame(
        session, select(*(getattr(OrderFill, c) for c in BUYER_SCHEMA)).where(OrderFill.cycle_id == cycle_id, OrderFill.filled_kg > 0), BUYER_SCHEMA
    )
    rates = offers.filter(pl.col("refund_rate").is_not_null()).select("offer_id", "refund_rate")
    return BooksInputs(
        allocations,
        offers.select("offer_id", "subsidy", "floor_sold_kg", "floor_dual"),
        buyers,
        rates if rates.height else None,
        refunds,
    )
