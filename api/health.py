"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from api.errors import problem

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    try:
        current_app.extensions["harvest_db"].ping()
    except Exception as exc:  # any database failure means not ready
        return problem(503, "Service Unavailable", f"database not reachable: {type(exc).__name__}")
    return jsonify({"status": "ready", "database": current_app.extensions["harvest_db"].engine.dialect.name})
