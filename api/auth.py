"""API keys and roles: ``Authorization: Bearer <key>`` (or ``X-API-Key``) on every resource.

A missing, unknown or revoked key is 401; a known key whose role may not use the resource is 403; a key asking
for another cooperative's offer gets 404, so that it learns nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from sqlalchemy import select

from api.db import Database, hash_key
from api.errors import ApiError
from api.models import ApiKey

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Caller:
    key_id: int
    role: str
    cooperative_id: str | None
    buyer_id: str | None = None

    @property
    def owner(self) -> str:
        """Who the key speaks for: its cooperative, its buyer, or (planner, operator) the key itself."""
        if self.cooperative_id:
            return f"cooperative:{self.cooperative_id}"
        if self.buyer_id:
            return f"buyer:{self.buyer_id}"
        return f"key:{self.key_id}"


def requires(*roles: str) -> Callable[[F], F]:
    """Let only keys of these roles through; the caller is then in ``flask.g.caller``."""

    def wrap(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            caller = _authenticate()
            if caller.role not in roles:
                raise ApiError(403, "Forbidden", f"a {caller.role} key cannot use this resource")
            g.caller = caller
            return view(*args, **kwargs)

        return cast(F, checked)

    return wrap


def _authenticate() -> Caller:
    header = request.headers.get("Authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("X-API-Key", "").strip()
    if not key:
        raise ApiError(401, "Unauthorized", "send an API key as 'Authorization: Bearer <key>'")
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
        if row is None:
            raise ApiError(401, "Unauthorized", "unknown API key")
        if row.revoked_at is not None:
            raise ApiError(401, "Unauthorized", "this API key was revoked")
        return Caller(row.id, row.role, row.cooperative_id, row.buyer_id)
