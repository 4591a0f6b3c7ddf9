"""A small day for the API tests: two regions, offers and orders around them, and a wait for a cycle."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import geopandas as gpd
import shapely
from flask.testing import FlaskClient

from api.settings import CycleDates

#: cycles are dated today (a date far from today needs an explicit confirmation)
TODAY = dt.datetime.now(dt.UTC).date()
DAY = TODAY.isoformat()
DUE = (TODAY + dt.timedelta(days=3)).isoformat()
#: the matching in the test's own process: no pool to start for a few offers
IN_PROCESS = {"workers": 1}
#: how far from today a cycle's date may be without an explicit confirmation (the service's default)
WINDOW_DAYS = CycleDates.window_days


def date_of(day: int) -> str:
    """The date ``day`` days from today, as the API takes it."""
    return (TODAY + dt.timedelta(days=day)).isoformat()


def regions_geojson() -> bytes:
    frame = gpd.GeoDataFrame(
        {"region_id": ["north", "south"], "hub_lat": [31.0, 29.0], "hub_lon": [110.0, 110.0]},
        geometry=[shapely.box(109, 30, 111, 32), shapely.box(109, 28, 111, 30)],
        crs="EPSG:4326",
    )
    return frame.to_json().encode()


def put_regions(client: FlaskClient, keys: dict, body: bytes | None = None) -> dict:
    """PUT the regions (:func:`regions_geojson`, or ``body``) as the operator; the answer (200 asserted)."""
    r = client.put("/regions", data=body or regions_geojson(), content_type="application/geo+json", headers=keys["operator"])
    assert r.status_code == 200, r.json
    return dict(r.json)


def offer(product: str, kg: int, lat: float, ask: float, grade: str = "A") -> dict:
    return {"product": product, "grade": grade, "quantity_kg": kg, "lat": lat, "lon": 110.0, "ready_date": DAY, "shelf_life_days": 10, "ask_per_kg": ask}


def order(product: str, kg: int, lat: float, price: float) -> dict:
    return {"product": product, "min_grade": "C", "quantity_kg": kg, "lat": lat, "lon": 110.1, "max_price_per_kg": price, "due_date": DUE}


def wait(client: FlaskClient, headers: dict, cycle_id: int, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/cycles/{cycle_id}", headers=headers).json
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"cycle {cycle_id} did not finish in {timeout} s")


def run_cycle(client: FlaskClient, keys: dict, day: int = 0, *, params: dict[str, Any] | None = None, rerun: bool = False, done: bool = True) -> dict:
    """Queue the cycle of ``day`` days from today as the operator (202), wait for its end and return it.

    ``params`` override the cycle parameters (sent only when given); a date beyond
    :data:`WINDOW_DAYS` is confirmed; the cycle must end ``done`` unless ``done=False``.
    """
    body: dict[str, Any] = {"date": date_of(day), "rerun": rerun}
    if params is not None:
        body["params"] = params
    if abs(day) > WINDOW_DAYS:
        body["confirm_far_date"] = True
    started = client.post("/cycles", json=body, headers=keys["operator"])
    assert started.status_code == 202, started.json
    cycle = wait(client, keys["operator"], started.json["id"])
    if done:
        assert cycle["status"] == "done", cycle["reason"]
    return cycle


class ComputeGate:
    """The test app's cycle computation (its ``CYCLE_COMPUTE``): :func:`matcher.pipeline.compute_cycle`,
    open by default. A test may hold the next cycles after their snapshot (:meth:`hold`) or once their
    planning has begun (:meth:`hold_planning`), or make them fail (``failure``)."""

    def __init__(self) -> None:
        self.failure: BaseException | None = None
        self._holds: dict[str, tuple[threading.Event, threading.Event]] = {}

    def hold(self) -> tuple[threading.Event, threading.Event]:
        """The first event tells that a cycle has got past its snapshot; it waits until the second is set."""
        return self._holds.setdefault("snapshot", (threading.Event(), threading.Event()))

    def hold_planning(self) -> tuple[threading.Event, threading.Event]:
        """As :meth:`hold`, once the cycle's stage is ``planning``."""
        return self._holds.setdefault("planning", (threading.Event(), threading.Event()))

    def _wait(self, where: str) -> None:
        if where in self._holds:
            reached, go_on = self._holds[where]
            reached.set()
            assert go_on.wait(30)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from matcher.pipeline import compute_cycle

        self._wait("snapshot")
        if self.failure is not None:
            raise self.failure
        stage = kwargs.get("stage")

        def staged(name: Any) -> None:
            if stage is not None:
                stage(name)
            self._wait(name)

        return compute_cycle(*args, **{**kwargs, "stage": staged})
