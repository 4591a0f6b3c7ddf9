"""Schema migrations with Alembic, driven from code (no alembic.ini): ``harvest db upgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from api.db import Database

#: the advisory lock a migration holds on PostgreSQL (any constant; ours)
MIGRATION_LOCK = 7_400_002

MIGRATIONS = Path(__file__).parent / "migrations"


def config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default); a no-op when it is there.

    On SQLite, a revision that changes a table rebuilds it (Alembic's batch mode), which foreign keys
    would forbid: they are switched off for the migration (outside its transaction, as SQLite
    requires), checked after it, and switched on again.
    """
    cfg = config(db)
    with db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        if db.sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            connection = connection.execution_options(harvest_immediate=True)
        try:
            with connection.begin():
                # several processes starting at once (serve, workers) migrate one after the other; the
                # later ones find the schema current
                if not db.sqlite:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, revision)
            if db.sqlite:
                broken = raw.execute("PRAGMA foreign_key_check").fetchall()  # type: ignore[union-attr]
                if broken:
                    raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
        finally:
            if db.sqlite:
                raw.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
