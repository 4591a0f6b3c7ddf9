"""Offers over HTTP, on SQLite and PostgreSQL: roles, validation, idempotency, pagination."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

OFFER = {
    "product": "apple",
    "grade": "A",
    "quantity_kg": 1200,
    "lat": 34.3,
    "lon": 108.9,
    "ready_date": "2026-11-23",
    "shelf_life_days": 30,
    "ask_per_kg": 3.2,
}


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"


def test_a_cooperative_posts_and_reads_its_offer(client: FlaskClient, keys: dict) -> None:
    made = client.post("/offers", json=OFFER, headers=keys["coop_a"])
    assert made.status_code == 201
    offer = made.json
    assert offer["cooperative_id"] == "coop-a" and offer["remaining_kg"] == 1200 and offer["status"] == "open"
    got = client.get(f"/offers/{offer['offer_id']}", headers=keys["coop_a"])
    assert got.status_code == 200 and got.json == {**offer, "results": [], "pickup": None}
    assert offer["expires_on"] == "2026-12-23" and offer["reference"] is None


def test_cooperatives_never_see_each_other(client: FlaskClient, keys: dict) -> None:
    mine = client.post("/offers", json=OFFER, headers=keys["coop_a"]).json["offer_id"]
    client.post("/offers", json=[OFFER, OFFER], headers=keys["coop_b"])
    assert client.get(f"/offers/{mine}", headers=keys["coop_b"]).status_code == 404
    assert client.post(f"/offers/{mine}/withdraw", headers=keys["coop_b"]).status_code == 404
    listed = client.get("/offers", headers=keys["coop_b"]).json["items"]
    assert len(listed) == 2 and {o["cooperative_id"] for o in listed} == {"coop-b"}
    everyone = client.get("/offers", headers=keys["operator"]).json["items"]
    assert len(everyone) == 3
    only_a = client.get("/offers?cooperative_id=coop-a", headers=keys["operator"]).json["items"]
    assert [o["offer_id"] for o in only_a] == [mine]


def test_a_cooperative_cannot_post_for_another(client: FlaskClient, keys: dict) -> None:
    r = client.post("/offers", json={**OFFER, "cooperative_id": "coop-b"}, headers=keys["coop_a"])
    assert r.status_code == 403
    assert client.get("/offers", headers=keys["operator"]).json["items"] == []


def test_the_operator_names_the_cooperative(client: FlaskClient, keys: dict) -> None:
    r = client.post("/offers", json=OFFER, headers=keys["operator"])
    assert r.status_code == 422 and r.json["errors"][0]["path"] == "cooperative_id"
    r = client.post("/offers", json=[{**OFFER, "cooperative_id": "coop-z"}, OFFER], headers=keys["operator"])
    assert r.status_code == 422 and r.json["errors"][0]["path"] == "2/cooperative_id"
    r = client.post("/offers", json={**OFFER, "cooperative_id": "coop-z"}, headers=keys["operator"])
    assert r.status_code == 201 and r.json["cooperative_id"] == "coop-z"


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"X-API-Key": "wrong"}, 401)],
)
def test_missing_or_wrong_keys_are_401(client: FlaskClient, headers: dict, status: int) -> None:
    r = client.get("/offers", headers=headers)
    assert r.status_code == status
    assert r.content_type == "application/problem+json" and r.json["status"] == status
    assert "WWW-Authenticate" in r.headers


@pytest.mark.parametrize("role", ["buyer", "planner"])
def test_other_roles_cannot_touch_offers(client: FlaskClient, keys: dict, role: str) -> None:
    assert client.post("/offers", json=OFFER, headers=keys[role]).status_code == 403
    assert client.get("/offers", headers=keys[role]).status_code == 403


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"grade": "D"}, "grade", "one of A, B, C"),
        ({"quantity_kg": 0}, "quantity_kg", "greater than 0"),
        ({"quantity_kg": 2.5}, "quantity_kg", "whole number"),
        ({"lat": 91}, "lat", "from -90 to 90"),
        ({"ready_date": "2026-02-30"}, "ready_date", "YYYY-MM-DD"),
        ({"ask_per_kg": "NaN"}, "ask_per_kg", "an amount from 0 to 1,000,000"),
        ({"colour": "red"}, "colour", "unknown"),
    ],
)
def test_bad_offers_name_the_field(client: FlaskClient, keys: dict, change: dict, path: str, message: str) -> None:
    r = client.post("/offers", json={**OFFER, **change}, headers=keys["coop_a"])
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert any(e["path"] == path and message in e["message"] for e in r.json["errors"]), r.json
    assert client.get("/offers", headers=keys["coop_a"]).json["items"] == []


def test_one_bad_offer_stores_none_of_the_batch(client: FlaskClient, keys: dict) -> None:
    r = client.post("/offers", json=[OFFER, {**OFFER, "grade": "Z"}], headers=keys["coop_a"])
    assert r.status_code == 422 and r.json["errors"][0]["path"] == "2/grade"
    assert client.get("/offers", headers=keys["coop_a"]).json["items"] == []


def test_csv_upload(client: FlaskClient, keys: dict) -> None:
    header = ",".join(OFFER)
    rows = "\n".join(",".join(str(OFFER[k]) for k in OFFER) for _ in range(3))
    r = client.post("/offers", data=f"{header}\n{rows}\n", content_type="text/csv", headers=keys["coop_a"])
    assert r.status_code == 201 and len(r.json["items"]) == 3
    bad = client.post("/offers", data=f"{header}\n{rows.replace('apple,A', 'apple,Q', 1)}\n", content_type="text/csv", headers=keys["coop_a"])
    assert bad.status_code == 422 and bad.json["errors"][0]["path"] == "1/grade"


def test_wrong_content_type_is_415_and_huge_body_413(client: FlaskClient, keys: dict) -> None:
    assert client.post("/offers", data="x", content_type="text/plain", headers=keys["coop_a"]).status_code == 415
    huge = client.post("/offers", data="x" * (17 * 2**20), content_type="text/csv", headers=keys["coop_a"])
    assert huge.status_code == 413


def test_idempotent_retries_create_one_offer(client: FlaskClient, keys: dict) -> None:
    headers = {**keys["coop_a"], "Idempotency-Key": "batch-2026-11-23-01"}
    first = client.post("/offers", json=[OFFER, OFFER], headers=headers)
    again = client.post("/offers", json=[OFFER, OFFER], headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get("/offers", headers=keys["coop_a"]).json["items"]) == 2
    other = client.post("/offers", json=[OFFER], headers=headers)
    assert other.status_code == 422 and "different body" in other.json["detail"]


def test_withdraw_once(client: FlaskClient, keys: dict) -> None:
    offer_id = client.post("/offers", json=OFFER, headers=keys["coop_a"]).json["offer_id"]
    r = client.post(f"/offers/{offer_id}/withdraw", headers=keys["coop_a"])
    assert r.status_code == 200 and r.json["status"] == "withdrawn"
    assert client.post(f"/offers/{offer_id}/withdraw", headers=keys["coop_a"]).status_code == 409
    assert client.get("/offers?status=open", headers=keys["coop_a"]).json["items"] == []


def test_pages_follow_the_cursor(client: FlaskClient, keys: dict) -> None:
    client.post("/offers", json=[OFFER] * 7, headers=keys["coop_a"])
    seen, after = [], ""
    while True:
        page = client.get(f"/offers?limit=3&after={after}", headers=keys["coop_a"]).json
        seen += [o["offer_id"] for o in page["items"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert len(seen) == len(set(seen)) == 7
    assert client.get("/offers?limit=0", headers=keys["coop_a"]).status_code == 422


def test_migrations_match_the_models(app) -> None:  # type: ignore[no-untyped-def]
    """The database made by the Alembic revisions is the schema the models describe."""
    from alembic import command

    from api.migrate import config

    db = app.extensions["harvest_db"]
    cfg = config(db)
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.check(cfg)  # raises when an autogenerate would find differences


def test_hostile_identifiers_are_answered_not_crashed(client: FlaskClient, keys: dict) -> None:
    """NUL characters (PostgreSQL cannot compare them) and ids beyond the integer column."""
    assert client.get("/offers/off%00x", headers=keys["coop_a"]).status_code == 404
    assert client.get("/orders/ord%00x", headers=keys["buyer"]).status_code == 404
    assert client.get("/offers?product=ap%00ple", headers=keys["coop_a"]).json["items"] == []
    assert client.get("/offers?after=%00", headers=keys["coop_a"]).json["items"] == []
    assert client.get("/cycles/99999999999", headers=keys["operator"]).status_code == 404
    bad = client.post("/offers", json={**OFFER, "product": "ap\x00ple"}, headers=keys["coop_a"])
    assert bad.status_code == 422 and bad.json["errors"][0]["path"] == "product"
    csv = client.post(
        "/offers",
        data="product,grade,quantity_kg,lat,lon,ready_date,shelf_life_days,ask_per_kg\nap\x00ple,A,1,30,110,2026-11-23,3,1\n",
        content_type="text/csv",
        headers=keys["coop_a"],
    )
    assert csv.status_code == 422
