"""Crossdocks: the consolidation centres the ``trucks`` freight model's line haul may run through
(:mod:`api.crossdocks_store`; docs/freight.md, "Crossdocks").

``PUT /crossdocks`` (operator) replaces every crossdock with a table, JSON records or a CSV
(``text/csv``), with the columns of ``harvest match --crossdocks`` (``crossdock_id, lat, lon,
capacity_kg, handling_per_kg``; :data:`matcher.routing.tables.CROSSDOCKS`), checked by the same rules
and messages as that table (each cell's kind and limits, a ``crossdock_id`` listed twice). Bad input is
422, one entry per problem naming its row and column, and nothing is stored; an empty table clears
them. While a cycle that has taken its snapshot runs, the crossdocks cannot be replaced (409): the cycle
routes with the crossdocks of its snapshot, and the operator should not be misled about which ones
those were. Replacing is idempotent by nature (the same table, the same crossdocks and version), so
it takes no ``Idempotency-Key``.

``GET /crossdocks`` (operator) shows them: ``sha256`` (their version, which each cycle records with
the crossdocks it was given) and ``crossdocks`` (empty while none are stored); ``format=csv`` gives
them as a CSV that ``PUT /crossdocks`` takes back.

Only cycles run with the ``trucks`` freight model use them; a ``linear`` cycle is given none (the core
refuses crossdocks with it) and records none.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import delete

from api import jobs
from api.auth import requires
from api.crossdocks_store import read_crossdocks
from api.db import Database, lock_snapshot
from api.errors import ApiError
from api.models import Crossdock
from api.requests import table_body
from matcher.routing.tables import CROSSDOCKS

bp = Blueprint("crossdocks", __name__, url_prefix="/crossdocks")


@bp.put("")
@requires("operator")
def replace() -> Response:
    """Replace every crossdock with the body's, checked first (422, nothing stored); empty: none."""
    crossdocks, _ = table_body(CROSSDOCKS, what="crossdock", key="crossdock_id")
    rows = crossdocks.with_row_index("seq", offset=1).to_dicts()
    db: Database = current_app.extensions["harvest_db"]
    with db.write() as session:
        lock_snapshot(session)  # a snapshot reads the crossdocks before this or after it
        jobs.refuse_while_running(session, "with the stored crossdocks")
        session.execute(delete(Crossdock))
        session.add_all([Crossdock(**row) for row in rows])
        stored = read_crossdocks(session)
    return jsonify(stored.record())


@bp.get("")
@requires("operator")
def read() -> Response:
    """The crossdocks cycles route with (``format=csv``: as CSV)."""
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ApiError(422, "Invalid query", errors=[{"path": "format", "message": f"expected json or csv, got {fmt!r}"}])
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        stored = read_crossdocks(session)
    if fmt == "csv":
        response = Response(stored.frame.write_csv(), mimetype="text/csv")
        response.headers["Content-Disposition"] = 'attachment; filename="crossdocks.csv"'
        return response
    return jsonify(stored.record())
