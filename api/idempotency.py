"""Creation that a client may retry: with an ``Idempotency-Key`` header, a POST stores its answer with
its rows in one transaction, and a retry of the same request gets that answer back.

A key is scoped to who sends it (the key's cooperative or buyer, so a rotated key still replays),
the method and the path: the same key on ``POST /orders`` after ``POST /offers`` is a new request.
The same key with a different body on the same path is refused (422).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth import Caller
from api.db import Database
from api.errors import ApiError
from api.models import Base, IdempotentRequest


def create(
    caller: Caller,
    make: Callable[[], tuple[list[Base], Any]],
    *,
    status: int = 201,
    guard: Callable[[Session, list[Base]], None] | None = None,
) -> Response:
    """Validate and build rows with ``make()`` (which raises on bad input), store them, answer.

    ``guard(session, rows)`` runs first in the writing transaction: it re-checks, under lock, what
    ``make()`` checked before (that the rows' products are still in the catalogue).
    """
    earlier = replay(caller)
    if earlier is not None:
        return earlier
    rows, payload = make()

    def store(session: Session) -> dict[str, Any]:
        if guard is not None:
            guard(session, rows)
        session.add_all(rows)
        return payload

    return write(caller, store, status=status)


def write(caller: Caller, work: Callable[[Session], dict[str, Any]], *, status: int = 200) -> Response:
    """Answer a POST whose work happens inside the writing transaction: ``work(session)`` checks under
    lock, writes and returns the answer's body, stored with the key in the same transaction. The caller
    has replayed an earlier answer first (:func:`replay`, before checking the body); a concurrent retry
    that stored its answer in the meantime is replayed here."""
    db: Database = current_app.extensions["harvest_db"]
    try:
        with db.write() as session:
            payload = work(session)
            remember(session, caller, payload, status=status)
    except IntegrityError:
        earlier = replay(caller)
        if earlier is None:
            raise
        return earlier
    response = jsonify(payload)
    response.status_code = status
    return response


def replay(caller: Caller) -> Response | None:
    """The stored answer when this request (same key, method, path, body) was answered before; 422 when
    the key was used with a different body; None when there is no key or it is new."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    return _replay(current_app.extensions["harvest_db"], caller, key, _digest())


def remember(session: Any, caller: Caller, payload: Any, *, status: int) -> None:
    """Store this request's answer in the caller's transaction (when it carries an Idempotency-Key)."""
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        session.add(
            IdempotentRequest(
                owner=caller.owner, method=request.method, path=request.path, key=key, request_hash=_digest(), status=status, body=json.dumps(payload)
            )
        )


def _digest() -> str:
    return hashlib.sha256((request.mimetype or "").encode() + b"\0" + request.get_data(cache=True)).hexdigest()


def _replay(db: Database, caller: Caller, key: str, digest: str) -> Response | None:
    if len(key) > 200 or not key.strip() or "\x00" in key:
        raise ApiError(422, "Invalid header", "Idempotency-Key must be 1 to 200 characters")
    if len(request.path) > 200:
        raise ApiError(404, "Not Found", "no such resource")
    with db.session() as session:
        seen = session.get(IdempotentRequest, (caller.owner, request.method, request.path, key))
        if seen is None:
            return None
        if seen.request_hash != digest:
            raise ApiError(
                422,
                "Idempotency-Key reused",
                f"this Idempotency-Key was already used on {request.method} {request.path} with a different body; use a new key for a new request",
            )
        response = Response(seen.body, status=seen.status, mimetype="application/json")
        response.headers["Idempotent-Replayed"] = "true"
        return response
