"""The service the page tests drive: ``harvest serve`` started for real as a separate process, on a free
port, over a fresh SQLite file that holds the demo day (its dates moved to today) and the tests' keys.

The demo day (:func:`harvest.demo.day.build_demo_inputs`: about 570 offers and 156,000 orders on
China's 370 cities) is loaded straight into the database before the service starts, as
``bench/service_day.py`` loads it; the keys are made in the same database
(:func:`api.db.create_key`, what ``harvest keys create`` calls). The service reads a configuration
that keeps a cycle of that day within the suite's time: the linear freight model (one match, no rounds
of match and route) and a small routing budget (:data:`ROUTE_ITERATIONS` per problem).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: the routing search's iterations per problem in the suite's cycles (the service's default is 1,000)
ROUTE_ITERATIONS = 30
#: the repository (the service runs from it, as ``python -m harvest``)
ROOT = Path(__file__).resolve().parents[2]
#: the cooperative whose key the tests sign in with
COOPERATIVE = "coop-browser"


def today() -> dt.date:
    """The service's today (cycles and offers are dated in UTC)."""
    return dt.datetime.now(dt.UTC).date()


def load_demo_day(url: str, inputs: dict[str, Any]) -> dict[str, str]:
    """Load the demo day into the database at ``url`` (migrated here), every date moved by the same
    number of days so that its cycle date is today; make the tests' keys. Returns role -> key."""
    import polars as pl

    from api import create_app
    from api.db import create_key
    from api.models import Offer, Order, Product, Region
    from api.runner import bulk_insert
    from regions.polygons import read_regions, regions_to_stored

    shift = pl.duration(days=(today() - inputs["date"]).days)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "loading"})  # no page is served from here
    db = app.extensions["harvest_db"]
    try:
        keys = {"buyer": create_key(db, "buyer", buyer_id="demo-buyers")}  # key 1: the demo's orders are its
        keys["cooperative"] = create_key(db, "cooperative", cooperative_id=COOPERATIVE, label="browser tests")
        keys["operator"] = create_key(db, "operator", label="browser tests")
        keys["planner"] = create_key(db, "planner", label="browser tests")
        now = dt.datetime.now(dt.UTC)
        offers = pl.read_csv(inputs["offers"], try_parse_dates=True).with_columns(
            ready_date=pl.col("ready_date") + shift,
            remaining_kg=pl.col("quantity_kg"),
            status=pl.lit("open"),
            created_at=pl.lit(now),
        )
        offers = offers.with_columns(expires_on=pl.col("ready_date") + pl.duration(days=pl.col("shelf_life_days")))
        orders = pl.read_csv(inputs["orders"], try_parse_dates=True).with_columns(
            due_date=pl.col("due_date") + shift,
            buyer_key_id=pl.lit(1),
            buyer_id=pl.lit("demo-buyers"),
            status=pl.lit("pending"),
            filled_kg=pl.lit(0),
            created_at=pl.lit(now),
        )
        products = pl.read_csv(inputs["products"]).select("product").unique()
        regions = regions_to_stored(read_regions(inputs["regions"]))
        with db.write() as session:
            for model, frame in ((Product, products), (Region, regions), (Offer, offers), (Order, orders)):
                bulk_insert(session, model, frame)
    finally:
        db.engine.dispose()
    return keys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveService:
    """A running ``harvest serve``: its address, the tests' keys (role -> key), its log file."""

    base: str
    keys: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def url(self, path: str) -> str:
        return self.base + path

    def api(self, method: str, path: str, role: str, body: Any = None) -> Any:
        """Call the HTTP API as ``role``'s key; the JSON answer (an error status raises, with its body)."""
        request = urllib.request.Request(
            self.url(path),
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.keys[role]}", "Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            exc.close()
            raise AssertionError(f"{method} {path} as {role}: {exc.code} {detail}") from None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"harvest serve exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"harvest serve did not answer /readyz in {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 120.0) -> None:
        """SIGTERM, as a supervisor stops it (the worker finishes the cycle in hand first); killed after
        ``timeout`` seconds."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cycles(self, role: str = "operator", status: str | None = None) -> list[dict[str, Any]]:
        query = "?limit=100" + (f"&status={status}" if status else "")
        return list(self.api("GET", "/cycles" + query, role)["items"])

    def wait_cycle(self, cycle_id: int, timeout: float = 150.0) -> dict[str, Any]:
        """The cycle once done or failed (AssertionError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cycle = self.api("GET", f"/cycles/{cycle_id}", "operator")
            if cycle["status"] in ("done", "failed"):
                return dict(cycle)
            time.sleep(0.5)
        raise AssertionError(f"cycle {cycle_id} did not finish in {timeout} s:\n{self.log_tail()}")

    def routes(self, cycle_id: int, leg: str, role: str = "planner") -> list[dict[str, Any]]:
        """Every tour of a cycle's leg, as the API pages them (GeoJSON features)."""
        found: list[dict[str, Any]] = []
        after = ""
        while True:
            page = self.api("GET", f"/cycles/{cycle_id}/routes?leg={leg}&limit=1000{after}", role)
            found += page["features"]
            if page["next"] is None:
                return found
            after = "&after=" + urllib.parse.quote(page["next"])


def start_service(folder: Path, inputs: dict[str, Any]) -> LiveService:
    """The demo day in a fresh SQLite file in ``folder``, then ``python -m harvest serve`` on a free port."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'harvest.db'}"
    keys = load_demo_day(url, inputs)
    config = folder / "harvest.toml"
    config.write_text(f'freight = "linear"\n\n[plan]\niterations = {ROUTE_ITERATIONS}\n')
    port = free_port()
    env = {
        **os.environ,
        "HARVEST_DATABASE_URL": url,
        "HARVEST_SECRET_KEY": secrets.token_hex(32),
        "HARVEST_DATA_DIR": str(folder / "data"),
        "HARVEST_CONFIG": str(config),
        "PYTHONUNBUFFERED": "1",
    }
    log = folder / "service.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "harvest", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    service = LiveService(f"http://127.0.0.1:{port}", keys, log, process)
    try:
        service.wait_ready()
    except BaseException:
        service.stop(timeout=10)
        raise
    return service
