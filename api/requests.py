"""What every resource reads the same way: JSON and CSV bodies checked against the batch job's schemas,
query integers, filters and cursor pages.

One set of limits, enforced before anything reaches the database: bodies up to ``MAX_CONTENT_LENGTH``,
at most :data:`MAX_BATCH` items, JSON without duplicate keys (and not nested beyond what the parser
takes),
and every field checked by :mod:`matcher.schemas` (the same rules and messages as ``harvest match``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import secrets
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
from flask import Response, current_app, jsonify, request
from sqlalchemy import false, select
from sqlalchemy.orm import InstrumentedAttribute

from api.db import Database
from api.errors import ApiError
from harvestmatch.errors import InputError, Problem
from matcher.schemas import Column, parse_records, parse_table

#: most items one POST may create
MAX_BATCH = 10_000
#: the most result rows one JSON page of a cycle's results holds (CSV and Parquet give the whole table)
MAX_PAGE = 10_000
#: the most items of one page of a resource list (offers, orders, cycles, claims, cooperatives)
MAX_LIST_PAGE = 1000


def json_body() -> Any:
    """The request body as JSON: 400 when it is not JSON, 422 for duplicate keys or deep nesting."""
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw, object_pairs_hook=_no_duplicates)
    except _Duplicate as exc:
        raise ApiError(422, "Invalid request body", errors=[{"path": exc.path, "message": "this key appears more than once in an object"}]) from None
    except RecursionError:
        raise ApiError(422, "Invalid request body", "the JSON is nested too deeply") from None
    except ValueError:
        raise ApiError(400, "Bad Request", "the body is not valid JSON") from None


def table_body(schema: Sequence[Column], *, what: str, key: str | None = None) -> tuple[pl.DataFrame, bool]:
    """A JSON object, a JSON array of objects, or a CSV upload, checked against ``schema`` (and, with
    ``key``, a column whose values must be unique, as the batch job checks a table's key).

    Returns the typed frame and whether the body was a single object (its errors then name the field
    alone, not ``row/field``).
    """
    if request.mimetype == "application/json":
        data = json_body()
        single = isinstance(data, dict)
        items = [data] if single else data
        if not isinstance(items, list):
            raise ApiError(422, "Invalid request body", f"expected one {what} (an object) or an array of them")
        if len(items) > MAX_BATCH:
            raise ApiError(413, "Payload Too Large", f"at most {MAX_BATCH} {what}s per request")
        try:
            return parse_records(items, schema, source="body", key=key), single
        except InputError as exc:
            raise invalid(exc, single) from None
    if request.mimetype == "text/csv":
        try:
            raw = pl.read_csv(io.BytesIO(request.get_data()), infer_schema=False)
        except pl.exceptions.PolarsError as exc:
            raise ApiError(422, "Invalid CSV", str(exc).strip().splitlines()[0] if str(exc).strip() else "cannot read the CSV") from None
        if raw.height > MAX_BATCH:
            raise ApiError(413, "Payload Too Large", f"at most {MAX_BATCH} {what}s per request")
        known = [c.name for c in schema]
        unknown = [c for c in raw.columns if c not in known]
        if unknown:
            raise ApiError(
                422,
                "Invalid CSV",
                f"{len(unknown)} unknown column(s)",
                [{"path": c, "message": f"unknown column (known: {', '.join(known)})"} for c in unknown[:20]],
            )
        try:
            return parse_table(raw, schema, source="upload", key=key), False
        except InputError as exc:
            raise invalid(exc, False) from None
    raise ApiError(415, "Unsupported Media Type", "send application/json or text/csv")


def owned_records(schema: Sequence[Column], *, what: str, owner: str, mine: str | None) -> tuple[list[dict[str, Any]], bool]:
    """The body's records (see :func:`table_body`), each naming a product of the catalogue and its owner.

    ``owner`` is the column naming who the record belongs to (``cooperative_id``, ``buyer_id``); ``mine``
    is the caller's own (a cooperative's or buyer's key), or None for the operator, who must name it.
    """
    frame, single = table_body(schema, what=what)
    return owned(frame, single, what=what, owner=owner, mine=mine), single


def owned(frame: pl.DataFrame, single: bool, *, what: str, owner: str, mine: str | None) -> list[dict[str, Any]]:
    """Checked records (a frame of ``schema``'s columns) as dicts, each naming a product of the catalogue
    and its owner (see :func:`owned_records`)."""
    from api.models import Product

    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        catalogue = set(session.scalars(select(Product.product)))
    unknown_products(frame, catalogue, single=single)
    records = frame.to_dicts()
    for k, record in enumerate(records):
        given = record.get(owner)
        if mine is not None:
            if given not in (None, mine):
                raise ApiError(403, "Forbidden", f"{what} {k + 1}: a caller posts only its own {what}s")
            record[owner] = mine
        elif not given:
            path = owner if single else f"{k + 1}/{owner}"
            raise ApiError(422, "Invalid input", f"the operator names the {owner}", [{"path": path, "message": f"the operator must name the {owner}"}])
    return records


def own_row(session: Any, key: InstrumentedAttribute[Any], value: str, *, owner: InstrumentedAttribute[Any], mine: str | None, lock: bool = False) -> Any:
    """The row whose ``key`` is ``value``, if the caller may see it: ``mine`` is the caller's own
    cooperative or buyer (matched against ``owner``), or None for the operator, who sees every row.
    Anything else is 404, so that a caller learns nothing of others' rows."""
    what = key.key.removesuffix("_id")
    if "\x00" in value:  # never stored; PostgreSQL would refuse the comparison
        raise ApiError(404, "Not Found", f"no such {what}")
    query = select(key.class_).where(key == value)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None or (mine is not None and getattr(row, owner.key) != mine):
        raise ApiError(404, "Not Found", f"no {what} {value}")
    return row


def new_id(prefix: str, now: dt.datetime, k: int) -> str:
    """An id that sorts in order of arrival: the time, the item's place in its request, then randomness.

    Fill ties, and first come first served, go by ``(created_at, id)``; all items of one request share
    ``created_at``, so their place in the request must decide among them, as row order does in a file.
    """
    return f"{prefix}_{int(now.timestamp() * 1_000_000):014x}{k:05x}{secrets.token_hex(6)}"


def lock_products(session: Any, rows: list[Any]) -> None:
    """In a writing transaction: hold the rows' products in the catalogue until it ends (a concurrent
    PUT /products waits), and refuse if one was dropped since the rows were checked."""
    from api.models import Product

    names = sorted({r.product for r in rows})
    held = set(session.scalars(select(Product.product).where(Product.product.in_(names)).with_for_update(read=True)))
    gone = [n for n in names if n not in held]
    if gone:
        raise ApiError(409, "Conflict", f"the product catalogue changed meanwhile: {', '.join(map(repr, gone[:20]))} is no longer in it")


def invalid(exc: InputError, single: bool) -> ApiError:
    """Input problems as a 422 with one ``errors`` entry each (``row/column``, or the column alone for a
    single object)."""
    errors = []
    for p in exc.problems:
        parts = [str(x) for x in ((None if single else p.row), p.column) if x is not None]
        errors.append({"path": "/".join(parts) or p.source, "message": p.message})
    return ApiError(422, "Invalid input", f"{len(errors)} problem(s)", errors)


def unknown_products(frame: pl.DataFrame, catalogue: set[str], *, single: bool) -> None:
    """Refuse rows naming a product outside the catalogue (422, one entry per row)."""
    if not catalogue:
        raise ApiError(409, "No product catalogue", "the operator sets the product catalogue first (PUT /products)")
    bad = frame.select("product").with_row_index("_row", offset=1).filter(~pl.col("product").is_in(sorted(catalogue)))
    if bad.height:
        problems = [Problem("body", int(r), "product", f"{p!r} is not a product in the catalogue (GET /products)") for r, p in bad.head(20).iter_rows()]
        raise invalid(InputError(problems), single)


def iso(ts: dt.datetime) -> str:
    """A timestamp as ISO 8601 in UTC (SQLite hands timestamps back without their zone)."""
    return (ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "Invalid query", errors=[{"path": name, "message": f"expected a whole number, got {raw!r}"}]) from None
    if not low <= value <= high:
        raise ApiError(422, "Invalid query", errors=[{"path": name, "message": f"must be from {low} to {high}, got {value}"}])
    return value


def where_args(query: Any, filters: dict[str, Any]) -> Any:
    """Equality filters from the query string; a value with a NUL character matches nothing (no stored
    text holds one, and PostgreSQL would refuse to compare it)."""
    for name, column in filters.items():
        value = request.args.get(name)
        if value:
            query = query.where(column == value) if "\x00" not in value else query.where(false())
    return query


def binary(column: Any) -> Any:
    """Text ordered and compared by code point on both databases (PostgreSQL's default collation
    follows language rules), so that pages come in the same order from SQLite and PostgreSQL."""
    db: Database = current_app.extensions["harvest_db"]
    return column.collate("C") if db.dialect == "postgresql" else column


def after_arg(query: Any, key: InstrumentedAttribute[Any], *, integer: bool = False) -> Any:
    """Rows after the cursor ``after`` (the last key of the previous page)."""
    raw = request.args.get("after")
    if not raw:
        return query
    if integer:
        return query.where(key > int_arg("after", 0, 0, 2**63 - 1))
    return query.where(binary(key) > raw) if "\x00" not in raw else query.where(false())


def page(
    query: Any,
    key: InstrumentedAttribute[Any],
    serialize: Callable[[Any], dict[str, Any]],
    *,
    filters: dict[str, Any],
    default: int = 100,
    most: int = MAX_LIST_PAGE,
) -> Response:
    """One page of ``query`` ordered by ``key``: ``limit`` (1 to ``most``), ``after`` (the last key of the
    previous page), equality filters from the query string; ``next`` is null on the last page."""
    limit = int_arg("limit", default, 1, most)
    query = after_arg(where_args(query, filters), key)
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        rows = list(session.scalars(query.order_by(binary(key)).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return jsonify({"items": [serialize(r) for r in rows], "next": getattr(rows[-1], key.key) if more else None})


class _Duplicate(ValueError):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen[key] = value
    return seen
