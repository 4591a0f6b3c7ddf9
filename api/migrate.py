"""Schema migrations with Alembic, driven from code (no alembic.ini): ``harvest db upgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from api.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default); a no-op when it is there."""
    cfg = config(db)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
