"""A service cycle warm-starts from the previous current cycle's stored prices (api.runner), on SQLite
and PostgreSQL: same result as a cold start, the same prices on an unchanged day."""

from __future__ import annotations

import datetime as dt

import polars as pl
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from api.models import OfferResult
from api.runner import warm_start_prices
from tests.api.day import DAY, TODAY, offer, order, put_regions, wait


def _prices(app: Flask, cycle_id: int) -> dict[str, float | None]:
    db = app.extensions["harvest_db"]
    with db.session() as session:
        rows = session.execute(select(OfferResult.offer_id, OfferResult.farm_gate_price).where(OfferResult.cycle_id == cycle_id)).all()
    return dict(sorted(rows))


def test_cycles_warm_start_from_the_previous_current_cycle(app: Flask, client: FlaskClient, keys: dict) -> None:
    assert put_regions(client, keys)["regions"] == 2
    client.post("/offers", json=[offer("apple", 500, 31.2, 2.0), offer("kale", 80, 31.1, 1.0)], headers=keys["coop_a"])
    client.post("/offers", json=[offer("apple", 400, 29.5, 2.4)], headers=keys["coop_b"])
    client.post("/orders", json=[order("apple", 300, 31.5, 4.0), order("kale", 50, 29.4, 3.0)], headers=keys["buyer"])
    db = app.extensions["harvest_db"]
    with db.session() as session:
        assert warm_start_prices(session, TODAY, other_than=-1) is None  # no cycle yet: a cold start

    first = wait(client, keys["operator"], client.post("/cycles", json={"date": DAY}, headers=keys["operator"]).json["id"])
    assert first["status"] == "done", first["reason"]
    assert first["summary"]["warm_start"] is False
    # the re-run of an unchanged day starts from the run it supersedes, and publishes the same prices
    again = wait(client, keys["operator"], client.post("/cycles", json={"date": DAY, "rerun": True}, headers=keys["operator"]).json["id"])
    assert again["status"] == "done", again["reason"]
    assert again["summary"]["warm_start"] is True
    assert again["summary"]["welfare"] == first["summary"]["welfare"]
    assert _prices(app, again["id"]) == _prices(app, first["id"])

    # the next day starts from the latest current cycle before it: the re-run, not the superseded run
    with db.session() as session:
        prices = warm_start_prices(session, TODAY + dt.timedelta(days=1), other_than=-1)
    assert prices is not None and prices.columns == ["offer_id", "farm_gate_price"]
    stored = {k: v for k, v in _prices(app, again["id"]).items() if v is not None}
    assert dict(prices.iter_rows()) == stored and prices["offer_id"].is_sorted()
    assert prices.schema == pl.Schema({"offer_id": pl.String(), "farm_gate_price": pl.Float64()})
