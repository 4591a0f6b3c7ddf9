"""A small day for the API tests: two regions, offers and orders around them, and a wait for a cycle."""

from __future__ import annotations

import datetime as dt
import threading
import time

import geopandas as gpd
import shapely
from flask.testing import FlaskClient

#: cycles are dated today (a date far from today needs an explicit confirmation)
TODAY = dt.datetime.now(dt.UTC).date()
DAY = TODAY.isoformat()
DUE = (TODAY + dt.timedelta(days=3)).isoformat()


def regions_geojson() -> bytes:
    frame = gpd.GeoDataFrame(
        {"region_id": ["north", "south"], "hub_lat": [31.0, 29.0], "hub_lon": [110.0, 110.0]},
        geometry=[shapely.box(109, 30, 111, 32), shapely.box(109, 28, 111, 30)],
        crs="EPSG:4326",
    )
    return frame.to_json().encode()


def offer(product: str, kg: int, lat: float, ask: float, grade: str = "A") -> dict:
    return {"product": product, "grade": grade, "quantity_kg": kg, "lat": lat, "lon": 110.0, "ready_date": DAY,
            "shelf_life_days": 10, "ask_per_kg": ask}


def order(product: str, kg: int, lat: float, price: float) -> dict:
    return {"product": product, "min_grade": "C", "quantity_kg": kg, "lat": lat, "lon": 110.1,
            "max_price_per_kg": price, "due_date": DUE}


def wait(client: FlaskClient, headers: dict, cycle_id: int, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/cycles/{cycle_id}", headers=headers).json
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"cycle {cycle_id} did not finish in {timeout} s")


def hold_computation(monkeypatch) -> tuple[threading.Event, threading.Event]:  # type: ignore[no-untyped-def]
    """Make the next cycles wait after their snapshot until the second event is set; the first tells
    that a cycle has got there."""
    import matcher.pipeline

    running, go_on = threading.Event(), threading.Event()
    real = matcher.pipeline.compute_cycle

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        running.set()
        assert go_on.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(matcher.pipeline, "compute_cycle", held)
    return running, go_on
