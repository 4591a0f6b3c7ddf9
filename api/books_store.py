"""A done cycle's books as last computed, kept in the database (tables ``books`` and ``books_lines``).

The books of a cycle (:func:`matcher.settlement.settle`) change only when the refunds on its fills
change (a claim approved, or found unreasonable). So they are stored with the cycle's results, keyed
by the refunds they include (``refunds_key``: a SHA-256 of those refunds, sorted), and read back by
party: a cooperative's line is one indexed row, not a recomputation over every allocation and fill.
When the refunds have changed since (or the cycle was stored before the books were), the books are
computed again from what the cycle stored and replace the old ones (:mod:`api.settlement`).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from api.models import Books, BooksLine
from harvestmatch.money import AMOUNT_DECIMALS, decimal_text

#: the money columns of a line, as published (decimal text to the cent)
MONEY_COLUMNS = ("gross", "refunds", "subsidy", "reserve", "net")
#: a line as published, in its order
LINE_COLUMNS = ("party", "party_id", "kg", *MONEY_COLUMNS)


def refunds_key(refunds: pl.DataFrame | None) -> str:
    """The SHA-256 of ``refunds`` (``buyer_id, cooperative_id, amount, bearer``), whatever their order;
    that of no refunds when None or empty."""
    digest = hashlib.sha256(b"refunds v1\n")
    if refunds is not None and refunds.height:
        rows = sorted(refunds.select("buyer_id", "cooperative_id", "amount", "bearer").iter_rows())
        for row in rows:
            digest.update(json.dumps(row).encode() + b"\n")
    return digest.hexdigest()


def published_lines(books: pl.DataFrame) -> list[dict[str, Any]]:
    """The books' lines (:data:`matcher.settlement.SETTLEMENT_COLUMNS`, money as decimals) as published:
    money as decimal text to the cent, never ``-0.00``."""
    return [{**row, **{c: _text(row[c]) for c in MONEY_COLUMNS}} for row in books.select(LINE_COLUMNS).to_dicts()]


def store_books(session: Session, cycle_id: int, key: str, lines: list[dict[str, Any]], totals: dict[str, Any]) -> None:
    """Replace the stored books of ``cycle_id`` by ``lines`` (as :func:`published_lines` gives them)
    and ``totals``, computed with the refunds of ``key``."""
    session.execute(delete(BooksLine).where(BooksLine.cycle_id == cycle_id))
    session.execute(delete(Books).where(Books.cycle_id == cycle_id))
    session.flush()
    session.add(Books(cycle_id=cycle_id, refunds_key=key, totals=json.dumps(totals)))
    if lines:
        session.execute(insert(BooksLine), [{"cycle_id": cycle_id, "seq": i, **line} for i, line in enumerate(lines)])


Stored = tuple[list[dict[str, Any]], dict[str, Any]]


def stored_books(
    session: Session, cycle_id: int, key: str, *, party: str | None = None, party_id: str | None = None, after: int = -1, limit: int | None = None
) -> Stored | None:
    """The stored books of ``cycle_id`` if they were computed with the refunds of ``key``: their lines in
    the books' order (only ``party``'s line ``party_id`` when given; else those after the ``after``-th,
    at most ``limit``) and totals (with ``lines``: how many lines the books have); None when there are
    none, or they were computed with other refunds."""
    found = session.get(Books, cycle_id)
    if found is None or found.refunds_key != key:
        return None
    query = select(*(getattr(BooksLine, c) for c in LINE_COLUMNS)).where(BooksLine.cycle_id == cycle_id)
    if party is not None:
        query = query.where(BooksLine.party == party, BooksLine.party_id == party_id)
    else:
        query = query.where(BooksLine.seq > after)
    query = query.order_by(BooksLine.seq)
    if limit is not None:
        query = query.limit(limit)
    lines = [dict(zip(LINE_COLUMNS, row, strict=True)) for row in session.execute(query)]
    return lines, json.loads(found.totals)


def line_count(session: Session, cycle_id: int) -> int:
    """How many lines the stored books of ``cycle_id`` have."""
    return int(session.scalar(select(func.count()).select_from(BooksLine).where(BooksLine.cycle_id == cycle_id)) or 0)


def _text(value: Any) -> str:
    """The books' money (already to the cent) as published text, never ``-0.00``."""
    return decimal_text(Decimal(value), AMOUNT_DECIMALS)
