"""The service as it runs for real, on SQLite and PostgreSQL: ``harvest worker`` and ``harvest serve``
started as processes by the test, killed with SIGKILL mid-cycle, replaced, restarted.

A worker is killed while its commit waits on a lock the test holds (a table lock on PostgreSQL, the
database's write lock on SQLite, taken once the snapshot is stamped): the kill lands between the
snapshot and the commit. Then a new worker takes the cycle over once the lease expires (or marks it
failed when its attempts are spent), and the date can be run again. Nothing half-committed may show.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api import create_app
from api.db import create_key
from api.models import Allocation, Cycle, Offer, OfferResult, Product
from matcher.params import MatchParams
from tests.api.day import DAY, offer, order, regions_geojson

pytestmark = pytest.mark.slow


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, FlaskClient, dict, dict]]:
    """An app without a worker (the test starts worker processes), a small day, and the environment
    for processes on the same database."""
    # the kg checked below are the linear freight model's (the trucks model's service cycles: test_freight_cycles.py)
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "CYCLE_PARAMS": MatchParams(freight="linear")})
    db = app.extensions["harvest_db"]
    with db.write() as session:
        session.add_all([Product(product=p) for p in ("apple", "kale")])
    op = {"Authorization": "Bearer " + create_key(db, "operator")}
    coop = {"Authorization": "Bearer " + create_key(db, "cooperative", cooperative_id="coop-a")}
    buyer = {"Authorization": "Bearer " + create_key(db, "buyer", buyer_id="buyer-1")}
    client = app.test_client()
    assert client.put("/regions", data=regions_geojson(), content_type="application/geo+json", headers=op).status_code == 200
    client.post("/offers", json=[offer("apple", 500 + k, 31.0 + k / 100, 2.0) for k in range(20)], headers=coop)
    client.post("/orders", json=[order("apple", 300, 31.5, 4.0), order("apple", 200, 29.5, 3.6)], headers=buyer)
    env = {**os.environ, "HARVEST_DATABASE_URL": database_url, "HARVEST_AUTO_MIGRATE": "0", "HARVEST_DATA_DIR": str(tmp_path)}
    yield app, client, op, env
    db.engine.dispose()


def _worker(env: dict, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "harvest", "worker", "--lease-seconds", "2", "--poll-seconds", "0.1", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _cycle_row(app: Flask, cycle_id: int) -> Cycle:
    with app.extensions["harvest_db"].session() as session:
        cycle = session.get(Cycle, cycle_id)
        assert cycle is not None
        return cycle


def _until(what, timeout: float = 90.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s")


@contextlib.contextmanager
def _commit_blocked(app: Flask, cycle_id: int) -> Iterator[None]:
    """Hold a lock that the worker's commit needs, from after its snapshot until the block ends."""
    db = app.extensions["harvest_db"]
    if db.dialect == "postgresql":
        with db.engine.connect() as conn, conn.begin():
            conn.exec_driver_sql("LOCK TABLE allocations IN ACCESS EXCLUSIVE MODE")
            _until(lambda: _cycle_row(app, cycle_id).snapshot_at is not None)
            yield
        return
    path = db.url.split("///", 1)[1]
    _until(lambda: _cycle_row(app, cycle_id).snapshot_at is not None)
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    conn.execute("BEGIN IMMEDIATE")
    try:
        assert _cycle_row(app, cycle_id).status == "running", "the cycle committed before the lock was taken"
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def _consistent(app: Flask, cycle_id: int) -> dict:
    """A done cycle's rows agree with its summary, and every offer's remaining kg with what it sold."""
    cycle = _cycle_row(app, cycle_id)
    summary = json.loads(cycle.summary or "{}")
    with app.extensions["harvest_db"].session() as session:
        lanes, kg = session.execute(select(func.count(), func.coalesce(func.sum(Allocation.quantity_kg), 0)).where(Allocation.cycle_id == cycle_id)).one()
        assert (lanes, kg) == (summary["lanes_shipped"], summary["allocated_kg"])
        # nothing of a lost attempt: every allocation belongs to a done cycle
        done = select(Cycle.id).where(Cycle.status == "done")
        assert session.scalar(select(func.count()).select_from(Allocation).where(Allocation.cycle_id.not_in(done))) == 0
        sold = dict(session.execute(select(OfferResult.offer_id, OfferResult.sold_kg).where(OfferResult.cycle_id == cycle_id)).all())
        for o in session.scalars(select(Offer)):
            assert o.remaining_kg == o.quantity_kg - sold.get(o.offer_id, 0)
    return summary


def test_a_killed_worker_is_taken_over_and_nothing_half_committed(setup: tuple) -> None:
    app, client, op, env = setup
    cycle_id = client.post("/cycles", json={"date": DAY, "params": {"workers": 1}}, headers=op).json["id"]
    first = _worker(env)
    try:
        with _commit_blocked(app, cycle_id):
            time.sleep(0.5)  # the worker is now computing or waiting for the lock to commit
            first.send_signal(signal.SIGKILL)
            first.wait(30)
        assert _cycle_row(app, cycle_id).status == "running"  # a dead worker's cycle, until its lease expires
    finally:
        first.kill()
    second = _worker(env)
    try:
        _until(lambda: _cycle_row(app, cycle_id).status in ("done", "failed"))
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    cycle = _cycle_row(app, cycle_id)
    assert (cycle.status, cycle.attempt) == ("done", 2), cycle.reason
    assert _consistent(app, cycle_id)["allocated_kg"] == 500
    again = client.post("/cycles", json={"date": DAY, "rerun": True}, headers=op).json["id"]
    third = _worker(env, "--once")
    assert third.wait(120) == 0
    assert _cycle_row(app, again).status == "done"
    _consistent(app, again)


def test_a_cycle_that_keeps_losing_workers_fails_and_the_date_runs_again(setup: tuple) -> None:
    app, client, op, env = setup
    cycle_id = client.post("/cycles", json={"date": DAY, "params": {"workers": 1}}, headers=op).json["id"]
    first = _worker(env, "--max-attempts", "1")
    try:
        with _commit_blocked(app, cycle_id):
            first.send_signal(signal.SIGKILL)
            first.wait(30)
    finally:
        first.kill()
    second = _worker(env, "--max-attempts", "1")
    try:
        _until(lambda: _cycle_row(app, cycle_id).status == "failed")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    failed = client.get(f"/cycles/{cycle_id}", headers=op).json
    assert "stopped" in failed["reason"] and "nothing of it was committed" in failed["reason"]
    with app.extensions["harvest_db"].session() as session:
        assert session.scalar(select(func.count()).select_from(Allocation)) == 0
    again = client.post("/cycles", json={"date": DAY}, headers=op)
    assert again.status_code == 202
    assert _worker(env, "--once").wait(120) == 0
    assert _cycle_row(app, again.json["id"]).status == "done"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(method: str, url: str, headers: dict, body: object | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={**headers, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_restarted_after_sigkill_loses_nothing_accepted(setup: tuple) -> None:
    app, _client, op, env = setup
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "harvest", "serve", "--port", str(port)]

    def start() -> subprocess.Popen:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _until(lambda: _answers(f"{base}/readyz"), timeout=60)
        return process

    server = start()
    try:
        status, made = _http("POST", f"{base}/offers", op, {**offer("kale", 77, 31.2, 1.0), "cooperative_id": "coop-z"})
        assert status == 201
        server.send_signal(signal.SIGKILL)
        server.wait(30)
        server = start()
        status, seen = _http("GET", f"{base}/offers/{made['offer_id']}", op)
        assert status == 200 and seen["remaining_kg"] == 77
        status, queued = _http("POST", f"{base}/cycles", op, {"date": DAY})
        assert status == 202
        done = _until(lambda: (lambda c: c if c["status"] in ("done", "failed") else None)(_http("GET", f"{base}/cycles/{queued['id']}", op)[1]))
        assert done["status"] == "done", done["reason"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False
