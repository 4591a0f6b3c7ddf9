"""A fresh PostgreSQL database for a test, dropped afterwards.

The server is ``HARVEST_TEST_POSTGRES_URL`` (default: the local one on 127.0.0.1:5432 with trust auth,
which ``.ci/run`` makes sure is up).
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

ADMIN_URL = os.environ.get("HARVEST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def postgres_missing() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when the server answers.

    In CI (``CI`` set) a missing server is not a reason to skip: it raises, and the run fails.
    """
    import psycopg

    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        why = f"no PostgreSQL server answers at {ADMIN_URL} (set HARVEST_TEST_POSTGRES_URL): {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI"):
            raise RuntimeError(f"CI must provide PostgreSQL: {why}") from exc
        return why


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """Create a database, yield its SQLAlchemy URL, drop it."""
    import psycopg

    name = f"harvest_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
