"""One database per app: the engine, sessions for reading and for writing, the snapshot lock, and keys.

SQLite is the embedded default and PostgreSQL what production uses; both must give the same answers
and the same guarantees:

- ``write()`` sessions are serialized where it matters: on SQLite they begin with ``BEGIN
  IMMEDIATE`` (the database's write lock is taken at the start, so a transaction never finds that
  another wrote under it); on PostgreSQL row locks and unique constraints do that work.
- :func:`lock_snapshot` serializes a cycle's snapshot with withdrawals and cancellations: a
  transaction-scoped advisory lock on PostgreSQL; on SQLite the immediate transaction already holds
  the only write lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import create_engine, event, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.models import ApiKey
from api.roles import ROLES

#: the advisory lock that a snapshot and a withdrawal or cancellation take (any constant; ours)
SNAPSHOT_LOCK = 7_400_001


def default_url() -> str:
    """``HARVEST_DATABASE_URL``, else a SQLite file in the data directory.

    The data directory is ``HARVEST_DATA_DIR``, else ``$XDG_DATA_HOME/harvestmatch``, else
    ``~/.local/share/harvestmatch``: never inside the source tree.
    """
    url = os.environ.get("HARVEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / 'harvest.db'}"


def data_dir() -> Path:
    folder = os.environ.get("HARVEST_DATA_DIR")
    if folder:
        return Path(folder)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "harvestmatch"


class Database:
    """An engine and its session factory, made by the app factory or a command (never at import)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        options: dict = {"pool_pre_ping": True}
        if self.sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"check_same_thread": False, "timeout": 60}
        self.engine: Engine = create_engine(url, **options)
        if self.sqlite:
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading (it may write too, without the SQLite write lock up front); commits on
        success, rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session that writes: on SQLite it holds the database's write lock from its first statement."""
        with self.sessions() as session, session.begin():
            session.connection(execution_options={"harvest_immediate": True})
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("select 1"))


def lock_snapshot(session: Session) -> None:
    """Serialize a cycle's snapshot with withdrawals and cancellations, until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SNAPSHOT_LOCK})


def _sqlite_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # the driver's own transaction handling is switched off: _sqlite_begin says BEGIN itself
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    immediate = conn.get_execution_options().get("harvest_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KeyInfo:
    """A key as listed: never the key itself, which only its creator saw once."""

    id: int
    role: str
    owner: str | None
    label: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def create_key(db: Database, role: str, *, cooperative_id: str | None = None, buyer_id: str | None = None, label: str | None = None) -> str:
    """Create an API key for a role and return it; only its hash is stored.

    A cooperative key speaks for one cooperative and a buyer key for one buyer: a new key for the
    same owner (a rotation) sees the same offers or orders.

    Raises
    ------
    ValueError
        Unknown role, a cooperative or buyer key without its owner, or another role with one.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if (role == "cooperative") != bool(cooperative_id):
        raise ValueError("a cooperative key needs --cooperative, and only a cooperative key takes one")
    if (role == "buyer") != bool(buyer_id):
        raise ValueError("a buyer key needs --buyer, and only a buyer key takes one")
    for name, value in (("cooperative", cooperative_id), ("buyer", buyer_id), ("label", label)):
        if value is not None and (len(value) > (200 if name == "label" else 64) or "\x00" in value or not value.strip()):
            raise ValueError(f"--{name} must be 1 to {200 if name == 'label' else 64} characters without NUL characters")
    key = "hm_" + secrets.token_urlsafe(32)
    with db.write() as session:
        session.add(ApiKey(key_hash=hash_key(key), role=role, cooperative_id=cooperative_id, buyer_id=buyer_id, label=label))
    return key


def list_keys(db: Database) -> list[KeyInfo]:
    with db.session() as session:
        rows = session.scalars(select(ApiKey).order_by(ApiKey.id))
        return [KeyInfo(k.id, k.role, k.cooperative_id or k.buyer_id, k.label, k.created_at, k.revoked_at) for k in rows]


def revoke_key(db: Database, key_id: int) -> bool:
    """Revoke a key (it answers 401 from then on); False when there is no such key or it was revoked."""
    with db.write() as session:
        done = session.execute(update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=dt.datetime.now(dt.UTC)))
        return bool(done.rowcount)  # type: ignore[attr-defined]


def read_frame(session: Session, query: Any, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows of ``query`` as a frame typed by ``schema`` (never inferred from the rows); the query selects
    the schema's columns in the schema's order."""
    selected = [c.name for c in query.selected_columns]
    if selected != list(schema):
        raise ValueError(f"the query selects {selected}, the schema says {list(schema)}")
    return pl.DataFrame(session.execute(query).all(), schema=schema, orient="row")
