"""A cooperative's pages beyond its offers (api/pages/cooperative.py) on both databases: the offer
form's location picker (no script needed; the regions for the map), its settlement line per cycle,
the claims on its sales and its answers, its scorecard with the chart drawn on the server; CSRF, the
API's messages beside the fields, and a cooperative never seeing another's offer, claim or line."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api.models import ClaimResponse
from tests.api.day import IN_PROCESS, date_of, offer, order, run_cycle
from tests.api.pages import errors as escaped
from tests.api.pages import sign_in, token


@pytest.fixture
def app_config() -> dict[str, Any]:
    """No route planning: these pages are about money, claims and scores."""
    return {"PLAN_ROUTES": False}


def html(page: Any) -> str:
    return str(page.get_data(as_text=True))


def errors(page: Any) -> dict[str, str]:
    """The message beside each field, as the API wrote it."""
    return {field: unescape(message) for field, message in escaped(page).items()}


def sales_day(client: FlaskClient, keys: dict) -> dict[str, Any]:
    """Day 0 (as tests/api/test_after_sales.py's ``shared``): in the north coop-a (60 kg) and coop-b
    (40 kg) supply buyer-1's order of 80 kg and buyer-2's of 20; in the south coop-b alone supplies
    buyer-2's 30 kg. Everything sells and fills; the cycle is done."""
    made: dict[str, Any] = {}
    for who, kg, lat in (("coop_a", 60, 31.2), ("coop_b", 40, 31.3), ("coop_b", 30, 29.2)):
        r = client.post("/offers", json={**offer("apple", kg, lat, 1.0), "reference": f"{who}-{kg}"}, headers=keys[who])
        assert r.status_code == 201, r.json
        made.setdefault(who, []).append(r.json["offer_id"])
    for name, who, kg, lat in (("big", "buyer", 80, 31.5), ("small", "buyer_2", 20, 31.5), ("south", "buyer_2", 30, 29.5)):
        r = client.post("/orders", json={**order("apple", kg, lat, 3.0), "reference": name}, headers=keys[who])
        assert r.status_code == 201, r.json
        made[name] = r.json["order_id"]
    made["cycle"] = run_cycle(client, keys, 0, params=IN_PROCESS)
    return made


@pytest.fixture
def day(client: FlaskClient, keys: dict, regions: None) -> dict[str, Any]:
    return sales_day(client, keys)


def claim(client: FlaskClient, headers: dict, order_id: str, kg: int, **extra: Any) -> dict:
    r = client.post("/claims", json={"order_id": order_id, "kg": kg, "reason": "quality", "remedy": "refund_only", **extra}, headers=headers)
    assert r.status_code == 201, r.json
    return dict(r.json)


def test_the_offer_form_picks_a_place_by_typing_or_on_the_region_map(client: FlaskClient, keys: dict, regions: None) -> None:
    sign_in(client, keys["coop_a"])
    page = html(client.get("/ui/offers"))
    # typed without a script: labelled fields; the map's box stays hidden until offer_map.js shows it
    assert '<label for="f-lat">' in page and '<label for="f-lon">' in page
    assert '<div class="pick" id="location-pick" hidden>' in page
    assert 'data-regions="/ui/map/regions.geojson"' in page and 'data-lat="f-lat" data-lon="f-lon"' in page
    assert "/ui/leaflet/leaflet.js" in page and "/ui/leaflet/leaflet.css" in page and "/ui/static/offer_map.js" in page
    ids = set(re.findall(r'<(?:input|select|textarea) id="([^"]+)"', page))
    assert ids <= set(re.findall(r'for="([^"]+)"', page)), ids
    for asset in ("/ui/leaflet/leaflet.js", "/ui/leaflet/leaflet.css", "/ui/static/offer_map.js", "/ui/static/people.css"):
        with client.get(asset) as served:  # files are streamed: closed when read
            assert served.status_code == 200, asset
    # the map's base layer: the API's regions, for the roles that post
    layer = client.get("/ui/map/regions.geojson")
    assert layer.status_code == 200 and layer.content_type == "application/geo+json"
    assert sorted(f["properties"]["region_id"] for f in layer.get_json()["features"]) == ["north", "south"]
    buyer = client.application.test_client()
    sign_in(buyer, keys["buyer"])
    assert buyer.get("/ui/map/regions.geojson").status_code == 200
    assert 'data-regions="/ui/map/regions.geojson"' in html(buyer.get("/ui/orders"))
    planner = client.application.test_client()
    sign_in(planner, keys["planner"])
    assert planner.get("/ui/map/regions.geojson").status_code == 403
    assert client.application.test_client().get("/ui/map/regions.geojson").status_code == 302
    # the place picked (typed, or filled by the map) is what the API stores
    posted = client.post("/ui/offers", data={**_form(), "lat": "31.6543", "lon": "110.4321", "csrf_token": token(client.get("/ui/offers"))})
    assert posted.status_code == 302
    detail = client.get(f"/offers/{posted.headers['Location'].rsplit('/', 1)[1]}", headers=keys["coop_a"]).json
    assert (detail["lat"], detail["lon"]) == (31.6543, 110.4321)


def _form() -> dict[str, str]:
    return {"product": "apple", "grade": "A", "quantity_kg": "100", "ask_per_kg": "1.5", "ready_date": date_of(0), "shelf_life_days": "5"}


def test_a_cooperative_sees_its_own_settlement_line_of_each_cycle(app: Flask, client: FlaskClient, keys: dict, day: dict) -> None:
    cycle_id = day["cycle"]["id"]
    books = client.get(f"/cycles/{cycle_id}/settlement", headers=keys["operator"]).json
    lines = {(line["party"], line["party_id"]): line for line in books["lines"]}
    sign_in(client, keys["coop_a"])
    listed = html(client.get("/ui/settlement"))
    assert f'data-cycle-id="{cycle_id}"' in listed and f"/ui/settlement/{cycle_id}" in listed
    page = client.get(f"/ui/settlement/{cycle_id}")
    assert page.status_code == 200
    mine = lines[("cooperative", "coop-a")]
    net = re.search(r'id="settlement-net">([^<]+)<', html(page)).group(1)  # type: ignore[union-attr]
    assert Decimal(net.replace(",", "")) == Decimal(mine["net"]) and Decimal(mine["net"]) > 0
    for other in ("coop-b", "buyer-1", "buyer-2"):  # no one else's line
        assert other not in html(page)
    # coop-b's line is its own
    other = app.test_client()
    sign_in(other, keys["coop_b"])
    theirs = re.search(r'id="settlement-net">([^<]+)<', html(other.get(f"/ui/settlement/{cycle_id}"))).group(1)  # type: ignore[union-attr]
    assert Decimal(theirs.replace(",", "")) == Decimal(lines[("cooperative", "coop-b")]["net"])

    # a cycle that did not concern coop-b is not found for it, on the list or by its id
    r = client.post("/offers", json={**offer("apple", 10, 31.2, 1.0), "ready_date": date_of(1)}, headers=keys["coop_a"])
    assert r.status_code == 201
    assert client.post("/orders", json={**order("apple", 10, 31.5, 3.0), "due_date": date_of(4)}, headers=keys["buyer"]).status_code == 201
    later = run_cycle(client, keys, 1, params=IN_PROCESS)
    assert f'data-cycle-id="{later["id"]}"' in html(client.get("/ui/settlement"))
    assert f'data-cycle-id="{later["id"]}"' not in html(other.get("/ui/settlement"))
    assert other.get(f"/ui/settlement/{later['id']}").status_code == 404
    assert other.get("/ui/settlement/999").status_code == 404
    # a buyer reads its own line the same way; a planner has none
    buyer = app.test_client()
    sign_in(buyer, keys["buyer"])
    bought = html(buyer.get(f"/ui/settlement/{cycle_id}"))
    assert re.search(r'id="settlement-net">([^<]+)<', bought).group(1).replace(",", "") == lines[("buyer", "buyer-1")]["net"]  # type: ignore[union-attr]
    planner = app.test_client()
    sign_in(planner, keys["planner"])
    assert planner.get("/ui/settlement").status_code == 403 and planner.get(f"/ui/settlement/{cycle_id}").status_code == 403


def test_a_cooperative_reads_and_answers_the_claims_on_its_sales(app: Flask, client: FlaskClient, keys: dict, day: dict) -> None:
    both = claim(client, keys["buyer"], day["big"], 5, evidence="https://photos.example/crates")  # the north row: coop-a and coop-b
    south = claim(client, keys["buyer_2"], day["south"], 5)  # coop-b's alone
    sign_in(client, keys["coop_a"])
    listed = html(client.get("/ui/sales/claims"))
    assert f'data-claim-id="{both["claim_id"]}"' in listed and south["claim_id"] not in listed
    assert "buyer-1" not in listed  # the buyer is never named to a cooperative
    page = client.get(f"/ui/sales/claims/{both['claim_id']}")
    text = html(page)
    assert page.status_code == 200 and "https://photos.example/crates" in text and "buyer-1" not in text
    parts = re.search(r'id="claim-parts">(.*?)</table>', text, re.S).group(1)  # type: ignore[union-attr]
    assert "coop-a" in parts and "coop-b" not in parts  # its own part only

    # answering: CSRF, then the API's message beside the text, what was typed stays, then sent
    assert client.post(f"/ui/sales/claims/{both['claim_id']}/response", data={"text": "fine"}).status_code == 400
    long = "x" * 1001
    bad = client.post(f"/ui/sales/claims/{both['claim_id']}/response", data={"text": long, "csrf_token": token(page)})
    api = client.post(f"/claims/{both['claim_id']}/response", json={"text": long}, headers=keys["coop_a"]).json["errors"][0]
    assert bad.status_code == 422 and errors(bad)["text"] == api["message"] and long in html(bad)
    with app.extensions["harvest_db"].session() as s:
        assert s.query(ClaimResponse).count() == 0
    done = client.post(f"/ui/sales/claims/{both['claim_id']}/response", data={"text": "graded A when it left", "csrf_token": token(page)})
    assert done.status_code == 302 and done.headers["Location"] == f"/ui/sales/claims/{both['claim_id']}"
    answered = html(client.get(done.headers["Location"]))
    assert "graded A when it left" in answered and "Your answer to claim" in answered

    # another cooperative's claim is not found, to read or to answer; coop-b sees both, not coop-a's answer
    assert client.get(f"/ui/sales/claims/{south['claim_id']}").status_code == 404
    assert client.post(f"/ui/sales/claims/{south['claim_id']}/response", data={"text": "x", "csrf_token": token(page)}).status_code == 404
    other = app.test_client()
    sign_in(other, keys["coop_b"])
    seen = html(other.get("/ui/sales/claims"))
    assert both["claim_id"] in seen and south["claim_id"] in seen
    assert "graded A when it left" not in html(other.get(f"/ui/sales/claims/{both['claim_id']}"))
    # and another cooperative's offer stays out of sight too
    assert client.get(f"/ui/offers/{day['coop_b'][0]}").status_code == 404 and "coop_b-40" not in html(client.get("/ui/offers"))
    # buyers and the operator have their own claim pages
    for who in ("buyer", "operator", "planner"):
        c = app.test_client()
        sign_in(c, keys[who])
        assert c.get("/ui/sales/claims").status_code == 403


def test_the_scorecard_draws_each_products_score_over_the_cycles(app: Flask, client: FlaskClient, keys: dict, day: dict) -> None:
    api = client.get("/cooperatives/coop-a/scorecard", headers=keys["coop_a"]).json
    [apple] = api["products"]
    sign_in(client, keys["coop_a"])
    page = html(client.get("/ui/scorecard"))
    assert 'id="score-apple"' in page and f'data-score="{apple["score"]}"' in page
    svg = re.search(r'<svg id="chart-1".*?</svg>', page, re.S).group(0)  # type: ignore[union-attr]
    assert 'role="img"' in svg and "<title" in svg and svg.count('class="score-point"') == len(apple["history"]) >= 1
    assert "<script" not in page.split("</main>")[0]  # drawn on the server
    assert "60" in page  # the good kg
    # a cooperative sees only its own, whatever it asks
    assert "coop-b" not in html(client.get("/ui/scorecard?cooperative_id=coop-b")).split("<main>")[1]
    # the operator names the cooperative; an unknown one has nothing scored
    op = app.test_client()
    sign_in(op, keys["operator"])
    assert "Name a cooperative" in html(op.get("/ui/scorecard"))
    theirs = html(op.get("/ui/scorecard?cooperative_id=coop-b"))
    assert "coop-b" in theirs and 'id="score-apple"' in theirs
    for who in ("buyer", "planner"):
        c = app.test_client()
        sign_in(c, keys[who])
        assert c.get("/ui/scorecard").status_code == 403


def test_the_cooperatives_pages_speak_chinese(client: FlaskClient, keys: dict, day: dict) -> None:
    claim(client, keys["buyer"], day["big"], 5)
    sign_in(client, keys["coop_a"], lang="zh")
    for path, words in (
        ("/ui/sales/claims", "您销售的货品收到的索赔"),
        ("/ui/scorecard", "评分"),
        ("/ui/settlement", "结算"),
        ("/ui/offers", "在地图上点击位置"),
    ):
        page = html(client.get(path))
        assert words in page, path
