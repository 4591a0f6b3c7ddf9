"""A done cycle's books: ``GET /cycles/{id}/settlement``, computed on demand.

The books are :func:`matcher.settlement.settle`, the function ``harvest match`` runs, on what the
cycle stored: its allocations (prices and freight cost per kg), its offer results (the safety net's
subsidy, and the refund rate that steered each offer's lanes under ``refund_adjust``), its order fills
(each buyer pays its row's clearing price for the kg filled to its orders), the cost scale of its
summary, and the refunds of the claims on its fills that the buyers got (``approved`` and
``unreasonable``), each part borne by the claim's bearer: its cooperative, freight, or the protection
fund. Every line comes from its party's own definition, in decimal money; their sum is zero exactly,
and the published lines, rounded to the cent, sum to zero to the cent with the platform's explicit
``rounding`` line. The core raises when the books do not balance: they always do for what a cycle
stored, so that is a bug, not an answer (a 500 the log explains).

Who sees what: the operator every line and the totals; a cooperative its own line; a buyer its own.
Money is decimal strings (``"1234.50"``); a line's ``net`` is what the party receives (negative: pays).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import polars as pl
from flask import Blueprint, Response, current_app, g, jsonify
from sqlalchemy import select

from api.auth import Caller, requires
from api.cycle_reads import require_done, visible_cycle
from api.db import Database
from api.errors import ApiError
from api.models import Allocation, Claim, ClaimPart, OfferResult, OrderFill
from harvestmatch.money import AMOUNT_DECIMALS, decimal_text
from matcher.claims import REFUNDED

bp = Blueprint("settlement", __name__, url_prefix="/cycles")

#: what the books read, typed (never inferred from the rows)
ALLOCATION_SCHEMA: dict[str, pl.DataType] = {
    "offer_id": pl.String(), "cooperative_id": pl.String(), "demand_id": pl.String(), "quantity_kg": pl.Int64(),
    "price_per_kg": pl.Float64(), "ask_per_kg": pl.Float64(), "cost_per_kg": pl.Float64(), "farm_gate_price": pl.Float64(),
    "clearing_price": pl.Float64(),
}
OFFER_SCHEMA: dict[str, pl.DataType] = {
    "offer_id": pl.String(), "subsidy": pl.Float64(), "floor_sold_kg": pl.Int64(), "floor_dual": pl.Float64(), "refund_rate": pl.Float64(),
}
BUYER_SCHEMA: dict[str, pl.DataType] = {"buyer_id": pl.String(), "demand_id": pl.String(), "filled_kg": pl.Int64()}
REFUND_SCHEMA: dict[str, pl.DataType] = {"buyer_id": pl.String(), "cooperative_id": pl.String(), "amount_cents": pl.Int64(), "bearer": pl.String()}
MONEY_COLUMNS = ("gross", "refunds", "subsidy", "reserve", "net")


@bp.get("/<int(max=2147483647):cycle_id>/settlement")
@requires("cooperative", "buyer", "operator")
def settlement(cycle_id: int) -> Response:
    """The cycle's books (see the module docstring)."""
    from api.db import read_frame
    from matcher.settlement import settle

    caller: Caller = g.caller
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        cycle = require_done(visible_cycle(session, cycle_id, caller))
        scale = (json.loads(cycle.summary) if cycle.summary else {}).get("cost_scale")
        if not isinstance(scale, int) or scale < 1:
            raise ApiError(409, "Conflict", f"cycle {cycle_id} has no cost scale in its summary: its books cannot be recomputed")
        allocations = read_frame(session, select(*(getattr(Allocation, c) for c in ALLOCATION_SCHEMA))
                                 .where(Allocation.cycle_id == cycle_id).order_by(Allocation.id), ALLOCATION_SCHEMA)
        offers = read_frame(session, select(*(getattr(OfferResult, c) for c in OFFER_SCHEMA)).where(OfferResult.cycle_id == cycle_id), OFFER_SCHEMA)
        buyers = read_frame(session, select(*(getattr(OrderFill, c) for c in BUYER_SCHEMA))
                            .where(OrderFill.cycle_id == cycle_id, OrderFill.filled_kg > 0), BUYER_SCHEMA)
        refunds = read_frame(
            session,
            select(Claim.buyer_id, ClaimPart.cooperative_id, ClaimPart.amount_cents, Claim.bearer)
            .join(Claim, Claim.claim_id == ClaimPart.claim_id)
            .where(ClaimPart.cycle_id == cycle_id, Claim.status.in_(REFUNDED)),
            REFUND_SCHEMA,
        )
        date = cycle.date.isoformat()
    rates = offers.filter(pl.col("refund_rate").is_not_null()).select("offer_id", "refund_rate")
    amounts = pl.DataFrame(
        {"buyer_id": refunds["buyer_id"], "cooperative_id": refunds["cooperative_id"],
         "amount": [str(Decimal(c) / 100) for c in refunds["amount_cents"].to_list()], "bearer": refunds["bearer"]},
        schema={"buyer_id": pl.String(), "cooperative_id": pl.String(), "amount": pl.String(), "bearer": pl.String()},
    )
    books, totals = settle(allocations, offers.select("offer_id", "subsidy", "floor_sold_kg", "floor_dual"), buyers, scale=scale,
                           refund_rate=rates if rates.height else None, refunds=amounts if amounts.height else None)
    lines = [{**row, **{c: _text(row[c]) for c in MONEY_COLUMNS}} for row in books.to_dicts()]
    if caller.role == "operator":
        return jsonify({"cycle_id": cycle_id, "date": date, "lines": lines, "totals": totals})
    party, mine = ("cooperative", caller.cooperative_id) if caller.role == "cooperative" else ("buyer", caller.buyer_id)
    return jsonify({"cycle_id": cycle_id, "date": date, "lines": [line for line in lines if line["party"] == party and line["party_id"] == mine]})


def _text(value: Any) -> str:
    """The books' money (already to the cent) as published text, never ``-0.00``."""
    return decimal_text(Decimal(value), AMOUNT_DECIMALS)
