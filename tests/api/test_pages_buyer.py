"""A buyer's pages (api/pages/buyer.py) on both databases: orders by form and CSV with the API's messages
beside the fields, cancelling what waits, fills by cycle, claims with evidence, credit and whether an
instant refund is open and why; CSRF, and a buyer never seeing another buyer's order or claim."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.models import Claim, Order
from tests.api.day import DUE, IN_PROCESS, offer, order, run_cycle
from tests.api.pages import sign_in, token
from tests.api.test_pages_cooperative import errors, html, sales_day

ORDER_FORM = {
    "product": "apple",
    "min_grade": "C",
    "quantity_kg": "80",
    "max_price_per_kg": "3",
    "due_date": DUE,
    "lat": "31.5",
    "lon": "110.1",
}


@pytest.fixture
def app_config() -> dict[str, Any]:
    """No route planning: these pages are about orders, claims and credit."""
    return {"PLAN_ROUTES": False}


@pytest.fixture
def day(client: FlaskClient, keys: dict, regions: None) -> dict[str, Any]:
    return sales_day(client, keys)


def _orders(app: Flask) -> list[Order]:
    with app.extensions["harvest_db"].session() as s:
        return list(s.query(Order).order_by(Order.order_id))


def _claims(app: Flask) -> list[Claim]:
    with app.extensions["harvest_db"].session() as s:
        return list(s.query(Claim).order_by(Claim.claim_id))


def test_a_buyer_places_an_order_with_the_apis_messages_beside_its_fields(app: Flask, client: FlaskClient, keys: dict) -> None:
    sign_in(client, keys["buyer"])
    assert client.get("/ui/").headers["Location"] == "/ui/orders"  # a buyer starts at its orders
    page = client.get("/ui/orders")
    text = html(page)
    assert page.status_code == 200 and 'id="location-pick" hidden' in text
    ids = set(re.findall(r'<(?:input|select|textarea) id="([^"]+)"', text))
    assert ids <= set(re.findall(r'for="([^"]+)"', text)), ids  # every field has its label
    assert client.post("/ui/orders", data=ORDER_FORM).status_code == 400 and _orders(app) == []  # no CSRF token
    bad = client.post("/ui/orders", data={**ORDER_FORM, "quantity_kg": "-5", "lat": "95", "csrf_token": token(page)})
    api = client.post("/orders", json={**order("apple", -5, 95, 3.0)}, headers=keys["buyer"]).json
    said = errors(bad)
    assert bad.status_code == 422 and said["quantity_kg"] == next(e["message"] for e in api["errors"] if e["path"] == "quantity_kg")
    assert "lat" in said and 'value="-5"' in html(bad) and 'value="95"' in html(bad)  # what was typed stays
    assert _orders(app) == []
    good = client.post("/ui/orders", data={**ORDER_FORM, "reference": "school canteen", "csrf_token": token(page)})
    assert good.status_code == 302
    [placed] = _orders(app)
    assert (placed.buyer_id, placed.quantity_kg, placed.reference, placed.status) == ("buyer-1", 80, "school canteen", "pending")
    assert good.headers["Location"] == f"/ui/orders/{placed.order_id}"
    detail = html(client.get(good.headers["Location"]))
    assert "school canteen" in detail and "waiting for a cycle" in detail and "No cycle has filled this order yet." in detail
    assert "school canteen" in html(client.get("/ui/orders")) and "school canteen" in html(client.get("/ui/orders?status=pending"))
    assert "school canteen" not in html(client.get("/ui/orders?status=filled"))


def test_orders_by_csv_and_cancelling_what_waits(app: Flask, client: FlaskClient, keys: dict) -> None:
    sign_in(client, keys["buyer"])
    page = client.get("/ui/orders")
    head = "product,min_grade,quantity_kg,lat,lon,max_price_per_kg,due_date"
    csv = f"{head}\napple,C,30,31.5,110.1,3,{DUE}\napple,Q,30,31.5,110.1,3,{DUE}\n"
    bad = client.post(
        "/ui/orders/upload", data={"file": (io.BytesIO(csv.encode()), "orders.csv"), "csrf_token": token(page)}, content_type="multipart/form-data"
    )
    assert bad.status_code == 422 and "2/min_grade" in errors(bad)["file"] and _orders(app) == []  # nothing of a bad file
    good_csv = "\n".join(csv.splitlines()[:2]) + "\n"
    good = client.post(
        "/ui/orders/upload", data={"file": (io.BytesIO(good_csv.encode()), "orders.csv"), "csrf_token": token(page)}, content_type="multipart/form-data"
    )
    assert good.status_code == 302
    [placed] = _orders(app)
    assert client.post(f"/ui/orders/{placed.order_id}/cancel").status_code == 400  # no CSRF token
    done = client.post(f"/ui/orders/{placed.order_id}/cancel", data={"csrf_token": token(page)})
    assert done.status_code == 302 and [o.status for o in _orders(app)] == ["cancelled"]
    assert "cancelled" in html(client.get(done.headers["Location"]))
    again = client.post(f"/ui/orders/{placed.order_id}/cancel", data={"csrf_token": token(page)})
    said = html(client.get(again.headers["Location"]))
    assert "only a pending order can be cancelled" in said  # the API's conflict, said on the page


def test_an_order_shows_its_fills_by_cycle_and_what_still_waits(client: FlaskClient, keys: dict, regions: None) -> None:
    assert client.post("/offers", json=offer("apple", 50, 31.2, 1.0), headers=keys["coop_a"]).status_code == 201
    made = client.post("/orders", json={**order("apple", 80, 31.5, 3.0), "reference": "eighty"}, headers=keys["buyer"]).json
    cycle = run_cycle(client, keys, 0, params=IN_PROCESS)
    api = client.get(f"/orders/{made['order_id']}", headers=keys["buyer"]).json
    [fill] = api["fills"]
    assert (api["status"], api["filled_kg"], api["remaining_kg"]) == ("pending", 50, 30)
    sign_in(client, keys["buyer"])
    page = html(client.get(f"/ui/orders/{made['order_id']}"))
    row = re.search(rf'<tr data-cycle-id="{cycle["id"]}">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
    assert "50" in row and fill["clearing_price"].rstrip("0") in row
    assert re.search(r'id="order-waiting">30<', page) and re.search(r'id="order-filled">50<', page)
    assert "30 kg still wait for the next cycles" in page and "Cancel what still waits" in page
    assert 'id="f-kg"' in page  # delivered kg may be claimed


def test_a_buyer_files_a_claim_with_evidence_and_sees_why_no_instant_refund(app: Flask, client: FlaskClient, keys: dict, day: dict) -> None:
    credit = client.get("/buyers/me/credit", headers=keys["buyer"]).json
    assert credit["instant_refund_only"] is False and credit["score"] < credit["instant_credit"]  # one filled order: not yet trusted
    sign_in(client, keys["buyer"])
    page = client.get(f"/ui/orders/{day['big']}")
    assert 'id="instant-hint"' in html(page) and 'href="/ui/credit"' in html(page)
    why = html(client.get("/ui/credit"))
    assert 'id="instant-closed"' in why and 'data-check="score" data-met="no"' in why and 'data-check="rejections" data-met="yes"' in why

    form = {"kg": "5", "reason": "quality", "remedy": "refund_only", "evidence": "crates bruised"}
    assert client.post(f"/ui/orders/{day['big']}/claim", data=form).status_code == 400 and _claims(app) == []
    bad = client.post(f"/ui/orders/{day['big']}/claim", data={**form, "kg": "500", "remedy": "", "csrf_token": token(page)})
    assert bad.status_code == 422 and "remedy" in errors(bad) and "crates bruised" in html(bad) and _claims(app) == []
    api = client.post("/claims", json={"order_id": day["big"], "kg": 5, "reason": "quality"}, headers=keys["buyer"]).json
    assert errors(bad)["remedy"] == next(e["message"] for e in api["errors"] if e["path"] == "remedy")
    too_much = client.post(f"/ui/orders/{day['big']}/claim", data={**form, "kg": "500", "csrf_token": token(page)})
    assert (
        too_much.status_code in (409, 422)
        and too_much.status_code
        == client.post("/claims", json={"order_id": day["big"], "kg": 500, "reason": "quality", "remedy": "refund_only"}, headers=keys["buyer"]).status_code
    )
    assert errors(too_much) and _claims(app) == []
    filed = client.post(f"/ui/orders/{day['big']}/claim", data={**form, "csrf_token": token(page)})
    assert filed.status_code == 302
    [made] = _claims(app)
    assert (made.order_id, made.kg, made.evidence, made.status) == (day["big"], 5, "crates bruised", "needs_evidence")
    assert filed.headers["Location"] == f"/ui/claims/{made.claim_id}"
    shown = client.get(filed.headers["Location"])
    assert "needs evidence" in html(shown) and "crates bruised" in html(shown) and 'id="f-evidence"' in html(shown)

    # evidence while it waits: the API's message beside the field, then it replaces the claim's
    empty = client.post(f"/ui/claims/{made.claim_id}/evidence", data={"evidence": "", "csrf_token": token(shown)})
    assert empty.status_code == 422 and "evidence" in errors(empty)
    given = client.post(f"/ui/claims/{made.claim_id}/evidence", data={"evidence": "https://photos.example/9", "csrf_token": token(shown)})
    assert given.status_code == 302 and _claims(app)[0].evidence == "https://photos.example/9"
    assert "evidence given" in html(client.get(given.headers["Location"]))
    listed = html(client.get("/ui/claims"))
    assert f'data-claim-id="{made.claim_id}"' in listed and made.claim_id in html(client.get(f"/ui/orders/{day['big']}"))


def test_credit_shows_the_score_over_the_cycles_and_when_an_instant_refund_is_open(client: FlaskClient, keys: dict, regions: None) -> None:
    assert client.post("/offers", json=offer("apple", 1000, 31.2, 1.0), headers=keys["coop_a"]).status_code == 201
    made = client.post("/orders", json=[order("apple", 10, 31.5, 3.0)] * 3, headers=keys["buyer"]).json["items"]
    run_cycle(client, keys, 0, params=IN_PROCESS)
    api = client.get("/buyers/me/credit", headers=keys["buyer"]).json
    assert api["instant_refund_only"] is True
    sign_in(client, keys["buyer"])
    page = html(client.get("/ui/credit"))
    assert 'id="instant-open"' in page and 'data-check="score" data-met="yes"' in page
    assert re.search(r'id="credit-score">0\.8<', page)
    svg = re.search(r'<svg id="credit-chart".*?</svg>', page, re.S).group(0)  # type: ignore[union-attr]
    assert svg.count('class="score-point"') == len(api["history"]) and 'class="threshold"' in svg
    # an honest buyer's small refund is approved at once, from the page too
    order_page = client.get(f"/ui/orders/{made[0]['order_id']}")
    filed = client.post(
        f"/ui/orders/{made[0]['order_id']}/claim", data={"kg": "2", "reason": "damaged", "remedy": "refund_only", "csrf_token": token(order_page)}
    )
    assert filed.status_code == 302 and "instant refund" in html(client.get(filed.headers["Location"]))


def test_a_buyer_never_sees_another_buyers_order_or_claim(app: Flask, client: FlaskClient, keys: dict, day: dict) -> None:
    r = client.post("/claims", json={"order_id": day["south"], "kg": 5, "reason": "quality", "remedy": "refund_only"}, headers=keys["buyer_2"])
    theirs = r.json["claim_id"]
    sign_in(client, keys["buyer"])
    page = client.get("/ui/orders")
    listed = html(page)
    assert f'data-order-id="{day["big"]}"' in listed and day["small"] not in listed and day["south"] not in listed
    assert client.get(f"/ui/orders/{day['south']}").status_code == 404
    assert client.post(f"/ui/orders/{day['south']}/cancel", data={"csrf_token": token(page)}).status_code == 404
    claimed = client.post(f"/ui/orders/{day['south']}/claim", data={"kg": "1", "reason": "quality", "remedy": "refund_only", "csrf_token": token(page)})
    assert claimed.status_code == 404 and [c.claim_id for c in _claims(app)] == [theirs]
    assert client.get(f"/ui/claims/{theirs}").status_code == 404
    assert client.post(f"/ui/claims/{theirs}/evidence", data={"evidence": "x", "csrf_token": token(page)}).status_code == 404
    assert theirs not in html(client.get("/ui/claims"))
    # the other buyer sees its own; the operator every buyer's orders; cooperatives and planners none
    other = app.test_client()
    sign_in(other, keys["buyer_2"])
    assert theirs in html(other.get("/ui/claims")) and day["south"] in html(other.get("/ui/orders")) and day["big"] not in html(other.get("/ui/orders"))
    op = app.test_client()
    sign_in(op, keys["operator"])
    every = html(op.get("/ui/orders"))
    assert all(f'data-order-id="{day[k]}"' in every for k in ("big", "small", "south"))
    assert op.get(f"/ui/orders/{day['south']}").status_code == 200
    for path in ("/ui/claims", "/ui/credit"):
        assert op.get(path).status_code == 403
    for who in ("coop_a", "planner"):
        c = app.test_client()
        sign_in(c, keys[who])
        for path in ("/ui/orders", "/ui/claims", "/ui/credit", f"/ui/orders/{day['big']}"):
            assert c.get(path).status_code == 403, (who, path)
    buyer_on_offers = client.get("/ui/offers")
    assert buyer_on_offers.status_code == 403


def test_the_buyers_pages_speak_chinese(client: FlaskClient, keys: dict, day: dict) -> None:
    sign_in(client, keys["buyer"], lang="zh")
    for path, words in (("/ui/orders", "下订单"), (f"/ui/orders/{day['big']}", "按批次的成交"), ("/ui/credit", "您的信用"), ("/ui/claims", "我的索赔")):
        assert words in html(client.get(path)), path
