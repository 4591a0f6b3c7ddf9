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

The books are stored with the cycle and read back by party (:mod:`api.books_store`); when the
refunds on the cycle's fills have changed since they were stored, they are computed again and stored.

Who sees what: the operator every line and the totals; a cooperative its own line; a buyer its own.
Money is decimal strings (``"1234.50"``); a line's ``net`` is what the party receives (negative: pays).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from api.auth import Caller, requires
from api.books_store import line_count, published_lines, refunds_key, store_books, stored_books
from api.cycle_reads import require_done, visible_cycle
from api.db import Database
from api.errors import ApiError
from api.requests import MAX_LIST_PAGE, MAX_PAGE, int_arg
from api.settlement_store import BooksInputs, books_inputs, refunds_of

bp = Blueprint("settlement", __name__, url_prefix="/cycles")
log = logging.getLogger(__name__)


@bp.get("/<int(max=2147483647):cycle_id>/settlement")
@requires("cooperative", "buyer", "operator")
def settlement(cycle_id: int) -> Response:
    """The cycle's books (see the module docstring): as stored when they include the refunds of now,
    else computed again and stored. The operator may page the lines (``limit``, ``after``: the ``next``
    of the previous page); a page also says how many lines the books have (``line_count``)."""
    caller: Caller = g.caller
    db: Database = current_app.extensions["harvest_db"]
    party, mine = {"operator": (None, None), "cooperative": ("cooperative", caller.cooperative_id)}.get(caller.role, ("buyer", caller.buyer_id))
    paged = party is None and ("limit" in request.args or "after" in request.args)
    limit = int_arg("limit", MAX_LIST_PAGE, 1, MAX_PAGE) if paged else None
    after = int_arg("after", -1, 0, 2**31 - 1) if paged and request.args.get("after") else -1
    count = None
    with db.session() as session:
        cycle = require_done(visible_cycle(session, cycle_id, caller))
        date = cycle.date.isoformat()
        refunds = refunds_of(session, cycle_id)
        key = refunds_key(refunds)
        found = stored_books(session, cycle_id, key, party=party, party_id=mine, after=after, limit=None if limit is None else limit + 1)
        if found is None:
            recorded = json.loads(cycle.summary) if cycle.summary else {}
            inputs = books_inputs(session, cycle_id, refunds)
        elif paged:
            count = line_count(session, cycle_id)
    if found is None:
        lines, totals = _compute(cycle_id, recorded, inputs)
        _keep(db, cycle_id, key, lines, totals)
        count = len(lines)
        if party is not None:
            lines = [line for line in lines if line["party"] == party and line["party_id"] == mine]
        elif limit is not None:
            lines = lines[after + 1 : after + 2 + limit]
    else:
        lines, totals = found
    if party is not None:
        return jsonify({"cycle_id": cycle_id, "date": date, "lines": lines})
    if limit is None:
        return jsonify({"cycle_id": cycle_id, "date": date, "lines": lines, "totals": totals})
    more = len(lines) > limit
    lines = lines[:limit]
    return jsonify(
        {"cycle_id": cycle_id, "date": date, "lines": lines, "totals": totals, "line_count": count, "next": str(after + len(lines)) if more else None}
    )


def _compute(cycle_id: int, recorded: dict[str, Any], stored: BooksInputs) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The books from what the cycle stored, its summary's cost scale and (trucks freight) what its
    tours cost."""
    from matcher.settlement import settle

    scale = recorded.get("cost_scale")
    # the trucks freight model pays freight what the cycle's tours cost (matcher.settlement.settle)
    paid = (recorded.get("freight") or {}).get("paid")
    if not isinstance(scale, int) or scale < 1:
        raise ApiError(409, "Conflict", f"cycle {cycle_id} has no cost scale in its summary: its books cannot be recomputed")
    books, totals = settle(
        stored.allocations, stored.offers, stored.buyers, scale=scale, refund_rate=stored.refund_rate, refunds=stored.refunds, freight_paid=paid
    )
    return published_lines(books), totals


def _keep(db: Database, cycle_id: int, key: str, lines: list[dict[str, Any]], totals: dict[str, Any]) -> None:
    """Store books computed on a read, for the next reads. Best effort: when a concurrent read stored
    them first (the same books), or the write fails, the answer does not change; the next read
    computes them again."""
    try:
        with db.write() as session:
            store_books(session, cycle_id, key, lines, totals)
    except SQLAlchemyError as exc:
        log.warning("cycle %s: its books were computed but not stored (%s)", cycle_id, type(exc).__name__)
