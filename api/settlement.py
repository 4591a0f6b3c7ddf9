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

from flask import Blueprint, Response, current_app, g, jsonify

from api.auth import Caller, requires
from api.cycle_reads import require_done, visible_cycle
from api.db import Database
from api.errors import ApiError
from api.settlement_store import books_inputs
from harvestmatch.money import AMOUNT_DECIMALS, decimal_text

bp = Blueprint("settlement", __name__, url_prefix="/cycles")

MONEY_COLUMNS = ("gross", "refunds", "subsidy", "reserve", "net")


@bp.get("/<int(max=2147483647):cycle_id>/settlement")
@requires("cooperative", "buyer", "operator")
def settlement(cycle_id: int) -> Response:
    """The cycle's books (see the module docstring)."""
    from matcher.settlement import settle

    caller: Caller = g.caller
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        cycle = require_done(visible_cycle(session, cycle_id, caller))
        recorded = json.loads(cycle.summary) if cycle.summary else {}
        scale = recorded.get("cost_scale")
        # the trucks freight model pays freight what the cycle's tours cost (matcher.settlement.settle)
        paid = (recorded.get("freight") or {}).get("paid")
        if not isinstance(scale, int) or scale < 1:
            raise ApiError(409, "Conflict", f"cycle {cycle_id} has no cost scale in its summary: its books cannot be recomputed")
        stored = books_inputs(session, cycle_id)
        date = cycle.date.isoformat()
    books, totals = settle(
        stored.allocations, stored.offers, stored.buyers, scale=scale, refund_rate=stored.refund_rate, refunds=stored.refunds, freight_paid=paid
    )
    lines = [{**row, **{c: _text(row[c]) for c in MONEY_COLUMNS}} for row in books.to_dicts()]
    if caller.role == "operator":
        return jsonify({"cycle_id": cycle_id, "date": date, "lines": lines, "totals": totals})
    party, mine = ("cooperative", caller.cooperative_id) if caller.role == "cooperative" else ("buyer", caller.buyer_id)
    return jsonify({"cycle_id": cycle_id, "date": date, "lines": [line for line in lines if line["party"] == party and line["party_id"] == mine]})


def _text(value: Any) -> str:
    """The books' money (already to the cent) as published text, never ``-0.00``."""
    return decimal_text(Decimal(value), AMOUNT_DECIMALS)
