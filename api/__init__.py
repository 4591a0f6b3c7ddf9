"""The thin HTTP layer over the matching core: ``create_app(test_config=None)``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from api import errors
from api.db import Database

#: request bodies larger than this are refused with 413
MAX_BODY_BYTES = 16 * 2**20


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, database, blueprints, error handlers.

    The database is ``HARVEST_DATABASE_URL`` when set (PostgreSQL in production), else a SQLite file in
    the instance folder; ``test_config`` overrides both. The schema is migrated to the newest revision
    on start unless ``HARVEST_AUTO_MIGRATE=0`` (then run ``harvest db upgrade`` before starting).
    """
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("HARVEST_DATABASE_URL") or f"sqlite:///{Path(app.instance_path) / 'harvest.db'}",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    if test_config:
        app.config.from_mapping(test_config)
    app.config.setdefault("AUTO_MIGRATE", os.environ.get("HARVEST_AUTO_MIGRATE", "1") != "0")
    db = Database(app.config["DATABASE_URL"])
    if app.config["AUTO_MIGRATE"]:
        from api.migrate import upgrade

        upgrade(db)
    app.extensions["harvest_db"] = db

    from api import cycles, health, offers, openapi, orders, regions_api

    for blueprint in (health.bp, openapi.bp, offers.bp, orders.bp, regions_api.bp, cycles.bp):
        app.register_blueprint(blueprint)
    errors.register(app)
    return app
