"""What every resource reads the same way: JSON bodies of one item or many, query integers, pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, jsonify, request
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Select, false
from sqlalchemy.orm import InstrumentedAttribute

from api.db import Database
from api.errors import ApiError

M = TypeVar("M", bound=BaseModel)

#: text fields may not hold NUL characters (PostgreSQL cannot store them)
NO_NUL = r"^[^\x00]*$"

#: most items one POST may create
MAX_BATCH = 10_000


def json_items(model: type[M]) -> tuple[list[M], bool]:
    """The request's JSON body as validated items, and whether it was a single object (not an array)."""
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "Bad Request", "the body is not valid JSON")
    if isinstance(data, dict):
        return [model.model_validate(data)], True
    if not isinstance(data, list):
        raise ApiError(422, "Invalid request body", "expected one object or an array of them")
    if len(data) > MAX_BATCH:
        raise ApiError(413, "Payload Too Large", f"at most {MAX_BATCH} items per request")
    return TypeAdapter(list[model]).validate_python(data), False  # type: ignore[valid-type]


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


def where_args(query: Select[Any], filters: dict[str, Any]) -> Select[Any]:
    """Equality filters from the query string; a value with a NUL character matches nothing (no stored
    text holds one, and PostgreSQL would refuse to compare it)."""
    for name, column in filters.items():
        value = request.args.get(name)
        if value:
            query = query.where(column == value) if "\x00" not in value else query.where(false())
    return query


def page(query: Select[Any], key: InstrumentedAttribute[str], serialize: Callable[[Any], dict[str, Any]], *, filters: dict[str, Any]) -> Response:
    """One page of ``query`` ordered by ``key``: ``limit`` (1 to 1000, default 100), ``after`` (the last
    key of the previous page), equality filters from the query string; ``next`` is null on the last."""
    limit = int_arg("limit", 100, 1, 1000)
    query = where_args(query, filters)
    if request.args.get("after"):
        query = query.where(key > request.args["after"]) if "\x00" not in request.args["after"] else query.where(false())
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        rows = list(session.scalars(query.order_by(key).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify({"items": [serialize(r) for r in rows], "next": getattr(rows[-1], key.key) if more else None})
