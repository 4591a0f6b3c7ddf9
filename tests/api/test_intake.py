"""What the service takes in, on SQLite and PostgreSQL: one set of rules for JSON and CSV (the batch
job's), limits before the database, idempotency keys scoped to caller, method and path, keys that
rotate and revoke, region files larger than a request body."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.db import create_key, list_keys, revoke_key
from tests.api.day import offer, order, regions_geojson

OFFER = offer("apple", 1200, 31.2, 3.2)
HEADER = "product,grade,quantity_kg,lat,lon,ready_date,shelf_life_days,ask_per_kg"


def _csv(row: dict) -> str:
    return HEADER + "\n" + ",".join(str(row[c]) for c in HEADER.split(",")) + "\n"


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"quantity_kg": True}, "quantity_kg", "whole number of kg"),
        ({"quantity_kg": "100"}, "quantity_kg", "whole number of kg"),
        ({"quantity_kg": 1.5}, "quantity_kg", "whole number of kg"),
        ({"grade": "a"}, "grade", "one of A, B, C"),
        ({"product": "p" * 101}, "product", "at most 100"),
        ({"ask_per_kg": "3.2"}, "ask_per_kg", "an amount from 0"),
        ({"ready_date": "2026-02-30"}, "ready_date", "YYYY-MM-DD"),
        ({"colour": "red"}, "colour", "unknown"),
        ({"ask_per_kg": 1e20}, "ask_per_kg", "from 0 to 1,000,000"),
        ({"reference": "\udfff"}, "reference", "without NUL"),
        ({"ready_date": "9999-12-31"}, "ready_date", "to 2199-12-31"),
    ],
)
def test_json_is_checked_by_the_batch_rules(client: FlaskClient, keys: dict, change: dict, path: str, words: str) -> None:
    r = client.post("/offers", json={**OFFER, **change}, headers=keys["coop_a"])
    assert r.status_code == 422, r.json
    assert [e["path"] for e in r.json["errors"]] == [path] and words in r.json["errors"][0]["message"]


@pytest.mark.parametrize(("change", "path"), [({"grade": "a"}, "1/grade"), ({"product": "p" * 300}, "1/product"), ({"quantity_kg": "1e3x"}, "1/quantity_kg")])
def test_csv_is_checked_by_the_same_rules(client: FlaskClient, keys: dict, change: dict, path: str) -> None:
    r = client.post("/offers", data=_csv({**OFFER, **change}), content_type="text/csv", headers=keys["coop_a"])
    assert r.status_code == 422 and [e["path"] for e in r.json["errors"]] == [path]
    via_json = client.post("/offers", json=[{**OFFER, **change}], headers=keys["coop_a"])
    assert via_json.status_code == 422 and via_json.json["errors"] == r.json["errors"]


def test_malformed_bodies_are_refused_before_the_database(client: FlaskClient, keys: dict) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    r = client.post("/offers", data=deep, content_type="application/json", headers=keys["coop_a"])
    assert r.status_code == 422 and "nested" in r.json["detail"]
    dup = b'{"product": "apple", "product": "pear", "grade": "A"}'
    r = client.post("/offers", data=dup, content_type="application/json", headers=keys["coop_a"])
    assert r.status_code == 422 and r.json["errors"][0]["path"] == "product"
    assert client.post("/offers", data=b"{nope", content_type="application/json", headers=keys["coop_a"]).status_code == 400
    assert client.get("/offers", headers=keys["operator"]).json["items"] == []


def test_unknown_products_are_refused(client: FlaskClient, keys: dict) -> None:
    r = client.post("/offers", json=[OFFER, {**OFFER, "product": "aple"}], headers=keys["coop_a"])
    assert r.status_code == 422 and r.json["errors"] == [{"path": "2/product", "message": "'aple' is not a product in the catalogue (GET /products)"}]
    assert client.put("/products", json=["apple", "pear", "plum"], headers=keys["operator"]).json["products"] == ["apple", "pear", "plum"]
    assert client.get("/products", headers=keys["buyer"]).json["products"] == ["apple", "pear", "plum"]
    client.post("/offers", json=OFFER, headers=keys["coop_a"])
    r = client.put("/products", json={"products": ["pear"]}, headers=keys["operator"])
    assert r.status_code == 409 and "'apple'" in r.json["detail"]
    assert client.put("/products", json=["pear"], headers=keys["coop_a"]).status_code == 403


def test_orders_as_csv_with_references(client: FlaskClient, keys: dict) -> None:
    rows = [order("apple", 3, 31.5, 4.0), order("pear", 4, 29.5, 3.0)]
    columns = list(rows[0]) + ["reference"]
    text = ",".join(columns) + "\n" + "\n".join(",".join(str(r.get(c, f"pickup-{k}")) for c in columns) for k, r in enumerate(rows)) + "\n"
    made = client.post("/orders", data=text, content_type="text/csv", headers=keys["buyer"])
    assert made.status_code == 201, made.json
    assert [o["reference"] for o in made.json["items"]] == ["pickup-0", "pickup-1"]
    found = client.get("/orders?reference=pickup-1", headers=keys["buyer"]).json["items"]
    assert [o["quantity_kg"] for o in found] == [4]


def test_idempotency_keys_are_scoped_to_method_and_path(client: FlaskClient, keys: dict) -> None:
    headers = {**keys["operator"], "Idempotency-Key": "monday-1"}
    first = client.post("/offers", json={**OFFER, "cooperative_id": "coop-a"}, headers=headers)
    other_path = client.post("/orders", json={**order("apple", 3, 31.5, 4.0), "buyer_id": "buyer-1"}, headers=headers)
    assert first.status_code == other_path.status_code == 201 and "order_id" in other_path.json
    changed = client.post("/offers", json={**OFFER, "cooperative_id": "coop-a", "quantity_kg": 5}, headers=headers)
    assert changed.status_code == 422 and "different body" in changed.json["detail"]
    again = client.post("/offers", json={**OFFER, "cooperative_id": "coop-a"}, headers=headers)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"


def test_rotated_keys_keep_their_owner_and_revoked_keys_stop(app: Flask, client: FlaskClient, keys: dict) -> None:
    db = app.extensions["harvest_db"]
    mine = client.post("/orders", json=order("apple", 3, 31.5, 4.0), headers=keys["buyer"]).json
    rotated = {"Authorization": "Bearer " + create_key(db, "buyer", buyer_id="buyer-1", label="rotated")}
    assert client.get(f"/orders/{mine['order_id']}", headers=rotated).status_code == 200
    old = next(k for k in list_keys(db) if k.owner == "buyer-1" and k.label is None)
    assert revoke_key(db, old.id) and not revoke_key(db, old.id)
    r = client.get("/orders", headers=keys["buyer"])
    assert r.status_code == 401 and "revoked" in r.json["detail"]
    assert [o["order_id"] for o in client.get("/orders", headers=rotated).json["items"]] == [mine["order_id"]]
    with pytest.raises(ValueError, match="buyer key needs --buyer"):
        create_key(db, "buyer")


def test_region_files_may_be_larger_than_a_request_body(client: FlaskClient, keys: dict) -> None:
    padded = json.dumps(json.loads(regions_geojson()), indent=1).encode() + b" " * (20 * 2**20)
    r = client.put("/regions", data=padded, content_type="application/geo+json", headers=keys["operator"])
    assert r.status_code == 200 and r.json["regions"] == 2
    assert client.post("/offers", data=b" " * (17 * 2**20), content_type="application/json", headers=keys["coop_a"]).status_code == 413


def test_region_errors_name_the_upload_not_a_server_path(client: FlaskClient, keys: dict) -> None:
    import tempfile

    r = client.put("/regions", data=b"not geojson", content_type="application/geo+json", headers=keys["operator"])
    assert r.status_code == 422
    body = json.dumps(r.json)
    assert tempfile.gettempdir() not in body and "regions.geojson" not in body and "upload" in body


def test_a_product_is_never_dropped_under_an_offer_being_posted(app: Flask, keys: dict) -> None:
    """Offers of a product posted while the operator drops it from the catalogue: afterwards the product
    is in the catalogue or no open offer names it, never both wrong."""
    import threading

    answers: list[int] = []
    barrier = threading.Barrier(5)

    def post() -> None:
        client = app.test_client()
        barrier.wait()
        for _ in range(5):
            answers.append(client.post("/offers", json=offer("kale", 5, 31.0, 1.0), headers=keys["coop_a"]).status_code)

    def drop() -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(client.put("/products", json=["apple", "pear"], headers=keys["operator"]).status_code)

    threads = [threading.Thread(target=post) for _ in range(4)] + [threading.Thread(target=drop)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client = app.test_client()
    catalogue = client.get("/products", headers=keys["operator"]).json["products"]
    kale_offers = client.get("/offers?product=kale&limit=1000", headers=keys["operator"]).json["items"]
    assert "kale" in catalogue or kale_offers == []
    assert set(answers) <= {200, 201, 409, 422}
