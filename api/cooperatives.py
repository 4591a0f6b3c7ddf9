"""Cooperatives: the operator's register of who the safety net treats as a small producer.

``PUT /cooperatives/{id}`` (operator) registers a cooperative or replaces its registration:
``{"small": true|false, "members": int, "hectares": number}`` (``members`` and ``hectares`` optional,
kept for the record). ``small`` decides for the safety net whatever the cooperative's offers weigh; a
cooperative not registered is judged by each cycle's ``small_kg`` rule (small when its open offers in the
cycle total at most ``small_kg``), see :mod:`matcher.safety_net`. A cycle reads the register in its
snapshot, so a registration counts from the next cycle that snapshots after it. PUT is idempotent by
nature: the same body again leaves the same registration (only ``updated_at`` moves), so it takes no
``Idempotency-Key``.

``GET /cooperatives`` (operator) lists the registrations in pages. ``GET /cooperatives/{id}`` shows one
cooperative's registration (``null`` fields and ``"small_by": "small_kg"`` when it has none) and its
safety-net record: per current cycle that had its offers, the floor kg, the floor kg sold and the
subsidy, summed over its offers. A cooperative's key reads only its own (another's is 404, as another's
offer is); the operator reads any.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify
from pydantic import ValidationError, field_validator
from sqlalchemy import BigInteger, Float, cast, func, select
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from api.auth import Caller, requires
from api.bodies import MISSING, Body, got, invalid, json_object, shown
from api.db import Database
from api.errors import ApiError, body_problems
from api.models import Cooperative, Cycle, OfferResult
from api.requests import iso, page
from harvestmatch.errors import InputError
from harvestmatch.money import amount_text
from matcher.schemas import COOPERATIVES, parse_records

bp = Blueprint("cooperatives", __name__, url_prefix="/cooperatives")

#: the most members a registration may give (the column is a 32-bit integer)
MAX_MEMBERS = 2**31 - 1
#: the most hectares a registration may give (more than any country's farmland)
MAX_HECTARES = 10**9
#: what a registration looks like, for the message refusing a body that is not an object
REGISTRATION_EXAMPLE = '{"small": true, "members": 40, "hectares": 120.5}'


class RegistrationIn(Body):
    """A cooperative's registration: whether it is small (required), its members and hectares (optional)."""

    small: bool
    members: int | None = None
    hectares: float | None = None

    @field_validator("small", mode="before")
    @classmethod
    def _small(cls, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        raise invalid(f"expected true or false, got {got(value)}")

    @field_validator("members", mode="before")
    @classmethod
    def _members(cls, value: Any) -> int | None:
        if value is MISSING or value is None:
            return None
        if not isinstance(value, bool) and isinstance(value, (int, float)) and _finite(value) and float(value).is_integer() and 0 <= value <= MAX_MEMBERS:
            return int(value)  # a whole float such as 40.0 counts, as whole kg do
        raise invalid(f"expected a whole number of members from 0 to {MAX_MEMBERS:,}, got {shown(value)}")

    @field_validator("hectares", mode="before")
    @classmethod
    def _hectares(cls, value: Any) -> float | None:
        if value is MISSING or value is None:
            return None
        if not isinstance(value, bool) and isinstance(value, (int, float)) and _finite(value) and 0 <= value <= MAX_HECTARES:
            return float(value)
        raise invalid(f"expected an area in hectares from 0 to {MAX_HECTARES:,}, got {shown(value)}")


@bp.put("/<cooperative_id>")
@requires("operator")
def register(cooperative_id: str) -> Response:
    """Register a cooperative, or replace its registration (an upsert, in one statement)."""
    problems = _id_problems(cooperative_id)
    try:
        data = json_object(REGISTRATION_EXAMPLE)  # 415 unless JSON, 400 for malformed JSON, 422 for duplicate keys
        body = RegistrationIn.model_validate(data)
    except ApiError as exc:  # not an object: said with the path's problems
        if exc.status != 422 or not problems:
            raise
        raise ApiError(exc.status, exc.title, exc.detail, problems) from None
    except ValidationError as exc:
        problems += body_problems(exc)
    if problems:
        raise ApiError(422, "Invalid request body", f"{len(problems)} problem(s) in the request body", problems)
    values = {"small": body.small, "members": body.members, "hectares": body.hectares, "updated_at": dt.datetime.now(dt.UTC)}
    db: Database = current_app.extensions["harvest_db"]
    with db.write() as session:
        insert = postgres_insert if db.dialect == "postgresql" else sqlite_insert
        upsert = insert(Cooperative).values(cooperative_id=cooperative_id, **values)
        session.execute(upsert.on_conflict_do_update(index_elements=[Cooperative.cooperative_id], set_=values))
        row = session.get(Cooperative, cooperative_id, populate_existing=True)
        assert row is not None
        return jsonify(registration_json(row))


@bp.get("")
@requires("operator")
def list_cooperatives() -> Response:
    """The registrations in pages of ``limit``, ``after`` the last ``cooperative_id`` of the previous one."""
    return page(select(Cooperative), Cooperative.cooperative_id, registration_json, filters={})


@bp.get("/<cooperative_id>")
@requires("cooperative", "operator")
def read(cooperative_id: str) -> Response:
    """A cooperative's registration and its safety-net record over the current cycles."""
    caller: Caller = g.caller
    if (caller.role == "cooperative" and cooperative_id != caller.cooperative_id) or _id_problems(cooperative_id):
        raise ApiError(404, "Not Found", f"no cooperative {cooperative_id}")
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        row = session.get(Cooperative, cooperative_id)
        body: dict[str, Any] = (
            registration_json(row)
            if row is not None
            else {
                "cooperative_id": cooperative_id,
                "small": None,
                "members": None,
                "hectares": None,
                "updated_at": None,
                "small_by": "small_kg",
            }
        )
        # sums cast back to their columns' types: PostgreSQL sums a bigint as numeric
        records = session.execute(
            select(
                Cycle.id,
                Cycle.date,
                func.count().label("offers"),
                cast(func.sum(OfferResult.floor_kg), BigInteger).label("floor_kg"),
                cast(func.sum(OfferResult.floor_sold_kg), BigInteger).label("floor_sold_kg"),
                cast(func.sum(OfferResult.subsidy), Float).label("subsidy"),
            )
            .join(Cycle, Cycle.id == OfferResult.cycle_id)
            .where(OfferResult.cooperative_id == cooperative_id, Cycle.current == 1)
            .group_by(Cycle.id, Cycle.date)
            .order_by(Cycle.date, Cycle.id)
        ).all()
    body["safety_net"] = [
        {
            "cycle_id": r.id,
            "date": r.date.isoformat(),
            "offers": int(r.offers),
            "floor_kg": int(r.floor_kg),
            "floor_sold_kg": int(r.floor_sold_kg),
            "subsidy": amount_text(float(r.subsidy)),
        }
        for r in records
    ]
    return jsonify(body)


def registration_json(c: Cooperative) -> dict[str, Any]:
    return {
        "cooperative_id": c.cooperative_id,
        "small": c.small,
        "members": c.members,
        "hectares": c.hectares,
        "updated_at": iso(c.updated_at),
        "small_by": "table",
    }


def _id_problems(cooperative_id: str) -> list[dict[str, str]]:
    """The path's cooperative id by the batch contract's identifier rule (and without surrounding
    spaces, which the contract would strip: the id registered must be the one in the path)."""
    try:
        parse_records([{"cooperative_id": cooperative_id}], COOPERATIVES[:1], source="path")
    except InputError as exc:
        return [{"path": "cooperative_id", "message": p.message} for p in exc.problems]
    if cooperative_id != cooperative_id.strip():
        return [{"path": "cooperative_id", "message": f"expected no spaces before or after the identifier, got {shown(cooperative_id)}"}]
    return []


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any float
        return False
