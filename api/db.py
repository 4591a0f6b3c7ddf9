"""One database per app: the engine, a session per request, and the key helpers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.models import ApiKey

ROLES = ("cooperative", "buyer", "planner", "operator")


class Database:
    """An engine and its session factory, made by the app factory (never at import)."""

    def __init__(self, url: str) -> None:
        self.url = url
        options: dict = {"future": True, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine: Engine = create_engine(url, **options)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("select 1"))


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(db: Database, role: str, *, cooperative_id: str | None = None, label: str | None = None) -> str:
    """Create an API key for a role and return it; only its hash is stored.

    Raises
    ------
    ValueError
        Unknown role, or a cooperative key without a cooperative (or another role with one).
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if (role == "cooperative") != bool(cooperative_id):
        raise ValueError("a cooperative key needs --cooperative, and only a cooperative key takes one")
    key = "hm_" + secrets.token_urlsafe(32)
    with db.session() as session:
        session.add(ApiKey(key_hash=hash_key(key), role=role, cooperative_id=cooperative_id, label=label))
    return key
