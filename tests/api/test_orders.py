"""Orders over HTTP on SQLite and PostgreSQL: who may post and read, validation, idempotency."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.db import create_key
from api.models import Order

ORDER = {"product": "apple", "min_grade": "B", "quantity_kg": 12, "lat": 31.2, "lon": 121.5, "max_price_per_kg": 6.5, "due_date": "2026-11-25"}


def test_a_buyer_posts_and_follows_its_orders(client: FlaskClient, keys: dict) -> None:
    one = client.post("/orders", json=ORDER, headers=keys["buyer"])
    assert one.status_code == 201 and one.json["status"] == "pending" and one.json["unfilled_kg"] == 12
    many = client.post("/orders", json=[ORDER, {**ORDER, "quantity_kg": 3}], headers=keys["buyer"])
    assert many.status_code == 201 and len(many.json["items"]) == 2
    listed = client.get("/orders?limit=2", headers=keys["buyer"]).json
    assert len(listed["items"]) == 2 and listed["next"] is not None
    assert client.get(f"/orders/{one.json['order_id']}", headers=keys["buyer"]).json == {**one.json, "fills": []}


def test_buyers_see_only_their_own(app: Flask, client: FlaskClient, keys: dict) -> None:
    other = {"Authorization": "Bearer " + create_key(app.extensions["harvest_db"], "buyer", buyer_id="buyer-9")}
    mine = client.post("/orders", json=ORDER, headers=keys["buyer"]).json["order_id"]
    assert client.get(f"/orders/{mine}", headers=other).status_code == 404
    assert client.get("/orders", headers=other).json["items"] == []
    assert len(client.get("/orders", headers=keys["operator"]).json["items"]) == 1


@pytest.mark.parametrize("role", ["coop_a", "planner"])
def test_other_roles_cannot_post_orders(client: FlaskClient, keys: dict, role: str) -> None:
    assert client.post("/orders", json=ORDER, headers=keys[role]).status_code == 403


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"min_grade": "Z"}, "min_grade"),
        ({"quantity_kg": -1}, "quantity_kg"),
        ({"lon": 200}, "lon"),
        ({"due_date": "soon"}, "due_date"),
        ({"note": "x"}, "note"),
    ],
)
def test_bad_orders_name_the_field(client: FlaskClient, keys: dict, change: dict, path: str) -> None:
    r = client.post("/orders", json={**ORDER, **change}, headers=keys["buyer"])
    assert r.status_code == 422 and [e["path"] for e in r.json["errors"]] == [path]


def test_order_retries_with_a_key_create_one(client: FlaskClient, keys: dict) -> None:
    headers = {**keys["buyer"], "Idempotency-Key": "pickup-17-monday"}
    first = client.post("/orders", json=ORDER, headers=headers)
    second = client.post("/orders", json=ORDER, headers=headers)
    assert first.json == second.json
    assert len(client.get("/orders", headers=keys["buyer"]).json["items"]) == 1
    assert client.post("/orders", data="x", content_type="text/plain", headers=keys["buyer"]).status_code == 415


def test_the_operator_names_the_buyer(client: FlaskClient, keys: dict) -> None:
    r = client.post("/orders", json=ORDER, headers=keys["operator"])
    assert r.status_code == 422 and r.json["errors"][0]["path"] == "buyer_id"
    made = client.post("/orders", json={**ORDER, "buyer_id": "buyer-1"}, headers=keys["operator"]).json
    assert made["buyer_id"] == "buyer-1"
    assert [o["order_id"] for o in client.get("/orders", headers=keys["buyer"]).json["items"]] == [made["order_id"]]
    assert client.post("/orders", json={**ORDER, "buyer_id": "buyer-2"}, headers=keys["buyer"]).status_code == 403


def test_prices_are_answered_as_decimal_strings_to_six_places(app: Flask, client: FlaskClient, keys: dict) -> None:
    """A price with float noise is answered at the published precision, as text; a missing one stays null."""
    made = client.post("/orders", json={**ORDER, "max_price_per_kg": 4.109496099999999}, headers=keys["buyer"]).json
    assert (made["max_price_per_kg"], made["clearing_price"]) == ("4.109496", None)
    with app.extensions["harvest_db"].write() as session:
        session.get(Order, made["order_id"]).clearing_price = 4.109496099999999
    read = client.get(f"/orders/{made['order_id']}", headers=keys["buyer"]).json
    assert (read["max_price_per_kg"], read["clearing_price"]) == ("4.109496", "4.109496")
