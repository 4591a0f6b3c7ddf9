"""A done cycle's books are stored with it and read back by party; when the refunds on its fills
change, the books are computed again from what the cycle stored, and stored (api.books_store). The
scorecards read the deliveries summed with each cycle (api.models.Delivery)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from api.books_store import refunds_key
from api.models import Allocation, Books, BooksLine, Delivery
from tests.api.day import IN_PROCESS, date_of, offer, order, run_cycle


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"PLAN_ROUTES": False}


def _day(client: FlaskClient, keys: dict) -> dict[str, Any]:
    """coop-a and coop-b sell apples (and coop-a kale) to buyer-1 and buyer-2 in the north."""
    for who, product, kg, lat in (("coop_a", "apple", 60, 31.2), ("coop_b", "apple", 40, 31.3), ("coop_a", "kale", 25, 31.1)):
        made = client.post("/offers", json={**offer(product, kg, lat, 1.0), "ready_date": date_of(0)}, headers=keys[who])
        assert made.status_code == 201, made.json
    orders = {}
    for who, product, kg in (("buyer", "apple", 80), ("buyer_2", "apple", 20), ("buyer_2", "kale", 25)):
        made = client.post("/orders", json=[{**order(product, kg, 31.5, 3.0), "due_date": date_of(3)}], headers=keys[who])
        assert made.status_code == 201, made.json
        orders[(who, product)] = made.json["items"][0]["order_id"]
    return {"cycle": run_cycle(client, keys, 0, params=IN_PROCESS), "orders": orders}


@pytest.mark.usefixtures("regions")
def test_the_stored_books_are_the_books_computed_again_and_follow_the_refunds(app: Flask, client: FlaskClient, keys: dict) -> None:
    day = _day(client, keys)
    cycle_id = day["cycle"]["id"]
    db = app.extensions["harvest_db"]
    with db.session() as session:
        stored = session.get(Books, cycle_id)
        assert stored is not None and stored.refunds_key == refunds_key(None)  # written with the cycle
        assert session.scalar(select(func.count()).select_from(BooksLine).where(BooksLine.cycle_id == cycle_id)) == 6  # 2 buyers, 2 coops, freight, platform
    as_stored = client.get(f"/cycles/{cycle_id}/settlement", headers=keys["operator"]).json
    with db.write() as session:  # as for a cycle stored before the books were: computed on the next read
        session.execute(delete(BooksLine))
        session.execute(delete(Books))
    computed = client.get(f"/cycles/{cycle_id}/settlement", headers=keys["operator"]).json
    assert computed == as_stored
    assert sum(Decimal(line["net"]) for line in computed["lines"]) == 0 and computed["totals"]["balanced"] is True
    with db.session() as session:
        assert session.get(Books, cycle_id) is not None  # and stored again

    # a refund changes the books: the next read computes them with it, every party sees its own line of them
    claim = client.post(
        "/claims",
        json={"order_id": day["orders"][("buyer", "apple")], "kg": 5, "reason": "quality", "remedy": "refund_only", "evidence": "photos at https://x"},
        headers=keys["buyer"],
    ).json
    assert client.get(f"/cycles/{cycle_id}/settlement", headers=keys["operator"]).json == as_stored  # a waiting claim refunds nothing
    decided = client.post(f"/claims/{claim['claim_id']}/decision", json={"decision": "approved", "bearer": "cooperative"}, headers=keys["operator"])
    assert decided.status_code == 200 and decided.json["status"] == "approved", decided.json
    refunded = client.get(f"/cycles/{cycle_id}/settlement", headers=keys["operator"]).json
    assert Decimal(refunded["totals"]["refunds"]) == Decimal(claim["value"]) > 0
    lines = {(line["party"], line["party_id"]): line for line in refunded["lines"]}
    assert Decimal(lines[("buyer", "buyer-1")]["refunds"]) == Decimal(claim["value"])
    with db.session() as session:
        again = session.get(Books, cycle_id)
        assert again is not None and again.refunds_key not in (refunds_key(None), "")
    parties = (("coop_a", "cooperative", "coop-a"), ("coop_b", "cooperative", "coop-b"), ("buyer", "buyer", "buyer-1"), ("buyer_2", "buyer", "buyer-2"))
    for who, party, party_id in parties:
        mine = client.get(f"/cycles/{cycle_id}/settlement", headers=keys[who]).json
        assert mine["lines"] == [lines[(party, party_id)]], who
    assert client.get(f"/cycles/{cycle_id}/settlement", headers=keys["operator"]).json == refunded  # read back as stored


def test_refunds_key_ignores_the_order_of_the_refunds() -> None:
    import polars as pl

    rows = {"buyer_id": ["b1", "b2"], "cooperative_id": ["c1", "c1"], "amount": ["1.5", "2"], "bearer": ["cooperative", "freight"]}
    one = pl.DataFrame(rows)
    assert refunds_key(one) == refunds_key(one.reverse()) != refunds_key(one.head(1)) != refunds_key(None)
    assert refunds_key(None) == refunds_key(one.clear())


@pytest.mark.usefixtures("regions")
def test_deliveries_are_the_allocations_summed_and_feed_the_scorecard(app: Flask, client: FlaskClient, keys: dict) -> None:
    day = _day(client, keys)
    cycle_id = day["cycle"]["id"]
    db = app.extensions["harvest_db"]
    with db.session() as session:
        summed = session.execute(
            select(Allocation.cooperative_id, Allocation.product, func.sum(Allocation.quantity_kg))
            .where(Allocation.cycle_id == cycle_id)
            .group_by(Allocation.cooperative_id, Allocation.product)
            .order_by(Allocation.cooperative_id, Allocation.product)
        ).all()
        stored = session.execute(
            select(Delivery.cooperative_id, Delivery.product, Delivery.kg)
            .where(Delivery.cycle_id == cycle_id)
            .order_by(Delivery.cooperative_id, Delivery.product)
        ).all()
    assert [tuple(r) for r in stored] == [tuple(r) for r in summed] == [("coop-a", "apple", 60), ("coop-a", "kale", 25), ("coop-b", "apple", 40)]
    card = client.get("/cooperatives/coop-a/scorecard", headers=keys["coop_a"]).json
    good = {p["product"]: p["good_kg"] for p in card["products"]}
    assert good == {"apple": 60.0, "kale": 25.0}


@pytest.mark.usefixtures("regions")
def test_the_operator_pages_the_lines_stored_or_computed_again(app: Flask, client: FlaskClient, keys: dict) -> None:
    cycle_id = _day(client, keys)["cycle"]["id"]
    whole = client.get(f"/cycles/{cycle_id}/settlement", headers=keys["operator"]).json
    assert "next" not in whole and len(whole["lines"]) == 6

    def pages() -> list[dict]:
        seen, after = [], ""
        while True:
            page = client.get(f"/cycles/{cycle_id}/settlement?limit=4{after}", headers=keys["operator"]).json
            assert page["line_count"] == 6 and page["totals"] == whole["totals"]
            seen += page["lines"]
            if page["next"] is None:
                return seen
            after = f"&after={page['next']}"

    assert pages() == whole["lines"]  # from the stored lines
    db = app.extensions["harvest_db"]
    with db.write() as session:
        session.execute(delete(BooksLine))
        session.execute(delete(Books))
    assert pages() == whole["lines"]  # computed again on the first page, stored for the second
    for bad in ("limit=0", "limit=x", "after=-2", "after=x"):
        refused = client.get(f"/cycles/{cycle_id}/settlement?{bad}", headers=keys["operator"])
        assert refused.status_code == 422 and refused.json["errors"][0]["path"] == bad.split("=")[0], bad
    # a party's own line is never paged
    mine = client.get(f"/cycles/{cycle_id}/settlement?limit=1", headers=keys["coop_a"]).json
    assert set(mine) == {"cycle_id", "date", "lines"} and [line["party_id"] for line in mine["lines"]] == ["coop-a"]
