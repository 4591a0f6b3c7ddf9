"""The planner's pages (api/pages/planner.py) on both databases: a done cycle's plan leg by leg (the
tours' table, timeline and unserved, one tour's stops), the map's JSON (one feature per tour of the
leg), downloads byte for byte the API's, and who may see them."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import polars as pl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.day import IN_PROCESS, offer, order, run_cycle
from tests.api.pages import sign_in
from tests.api.test_routes import three_regions

LEGS = ("first_mile", "line_haul", "last_mile")


def make_day(client: FlaskClient, keys: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Farms in the north and the south (one beyond any van's shift) and orders in the city east of them."""
    assert client.put("/regions", data=three_regions(), content_type="application/geo+json", headers=keys["operator"]).status_code == 200
    a = client.post("/offers", json=[offer("apple", 900, 31.2, 2.0), offer("apple", 700, 31.6, 2.1), offer("kale", 400, 30.5, 1.0)], headers=keys["coop_a"])
    b = client.post("/offers", json=[offer("apple", 800, 29.4, 2.2), offer("apple", 300, 34.5, 1.5)], headers=keys["coop_b"])
    city = [order("apple", 600, 30.5, 6.0), order("apple", 900, 29.6, 6.0), order("apple", 500, 30.2, 6.0), order("kale", 300, 30.8, 4.0)]
    for o in city:
        o["lon"] = 112.3
    orders = client.post("/orders", json=city, headers=keys["buyer"])
    assert a.status_code == b.status_code == orders.status_code == 201
    return {"far": b.json["items"][1]["offer_id"]}


@pytest.fixture
def planned(client: FlaskClient, keys: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A done cycle with its plan (every leg), the far offer unserved in the first mile."""
    day = make_day(client, keys)
    cycle = run_cycle(client, keys, params=IN_PROCESS)
    assert cycle["summary"]["plan"]["status"] == "partial"
    return {**cycle, **day}


def _api_features(client: FlaskClient, keys: dict, cycle_id: int, leg: str) -> list[dict]:
    r = client.get(f"/cycles/{cycle_id}/routes", query_string={"leg": leg}, headers=keys["planner"])
    assert r.status_code == 200 and r.json["next"] is None
    return list(r.json["features"])


def _html(page: Any) -> str:
    return str(page.get_data(as_text=True))


def test_a_planner_chooses_a_cycle_and_a_leg_and_sees_its_tours(client: FlaskClient, keys: dict, planned: dict) -> None:
    sign_in(client, keys["planner"])
    home = client.get("/ui/")
    assert home.status_code == 302 and home.headers["Location"] == "/ui/plans"
    listed = _html(client.get("/ui/plans"))
    assert f'<option value="{planned["id"]}">' in listed and 'id="f-leg"' in listed and 'for="f-cycle"' in listed
    assert f"/ui/plans/{planned['id']}/last_mile" in listed and "partly routed" in listed
    chosen = client.get("/ui/plans", query_string={"cycle": planned["id"], "leg": "line_haul"})
    assert chosen.status_code == 302 and chosen.headers["Location"] == f"/ui/plans/{planned['id']}/line_haul"

    for leg in LEGS:
        features = _api_features(client, keys, planned["id"], leg)
        page = client.get(f"/ui/plans/{planned['id']}/{leg}")
        assert page.status_code == 200
        html = _html(page)
        rows = re.findall(r'<tr class="tour" data-route-id="([^"]+)">', html)
        assert rows == [f["properties"]["route_id"] for f in features] and rows
        bars = re.findall(r'<span class="tl-bar" data-route-id="([^"]+)"', html)
        assert bars == rows  # one bar per vehicle's tour on the timeline
        assert 'id="plan-map"' in html and "/ui/leaflet/leaflet.js" in html and "plan_map.js" in html and "unpkg" not in html
        assert f'data-geojson="/ui/plans/{planned["id"]}/{leg}.geojson"' in html
        # the map's JSON: one LineString feature per tour of the leg, as the API draws it
        geo = client.get(f"/ui/plans/{planned['id']}/{leg}.geojson")
        assert geo.status_code == 200 and geo.content_type == "application/geo+json"
        assert [f["properties"]["route_id"] for f in geo.json["features"]] == rows
        assert [f["geometry"] for f in geo.json["features"]] == [f["geometry"] for f in features]
        assert all(f["properties"]["colour"].startswith("hsl(") for f in geo.json["features"])
        first = features[0]["properties"]
        assert f"{first['kg']:,}" in html and first["vehicle_type"] in html

    first_mile = _html(client.get(f"/ui/plans/{planned['id']}/first_mile"))
    unserved = re.search(r'<table class="stack" id="unserved">(.*?)</table>', first_mile, re.S)
    assert unserved and planned["far"] in unserved.group(1) and "does not fit in any vehicle" in unserved.group(1)
    assert "Every stop of this leg is on a tour." in _html(client.get(f"/ui/plans/{planned['id']}/last_mile"))


def test_one_tour_lists_its_stops_in_order_with_their_times(client: FlaskClient, keys: dict, planned: dict) -> None:
    sign_in(client, keys["planner"])
    route_id = _api_features(client, keys, planned["id"], "last_mile")[0]["properties"]["route_id"]
    api = client.get(f"/cycles/{planned['id']}/routes/{route_id}", headers=keys["planner"]).json
    page = client.get(f"/ui/plans/{planned['id']}/last_mile/tours/{route_id}")
    assert page.status_code == 200
    html = _html(page)
    stops = re.findall(r'<tr class="stop">\s*<td data-label="#" class="num">(\d+)</td>\s*<td data-label="Stop">([^<]+)</td>', html)
    assert stops == [(str(s["seq"]), s["stop_id"]) for s in api["stops"]]
    assert 'data-label="Arrives"' in html
    # the tour's own map: only it, its stops numbered by the script
    geo = client.get(f"/ui/plans/{planned['id']}/last_mile.geojson", query_string={"route": route_id}).json
    assert [f["properties"]["route_id"] for f in geo["features"]] == [route_id] and [s["seq"] for s in geo["features"][0]["stops"]] == [
        s["seq"] for s in api["stops"]
    ]
    # a tour asked under another leg goes to its own; an unknown one is not found
    other = client.get(f"/ui/plans/{planned['id']}/first_mile/tours/{route_id}")
    assert other.status_code == 302 and other.headers["Location"].endswith(f"/last_mile/tours/{route_id}")
    assert client.get(f"/ui/plans/{planned['id']}/last_mile/tours/LM.nowhere.001").status_code == 404
    assert client.get(f"/ui/plans/{planned['id']}/by_air").status_code == 404
    assert client.get("/ui/plans/999999/last_mile").status_code == 404


def test_downloads_are_the_apis_files(client: FlaskClient, keys: dict, planned: dict) -> None:
    sign_in(client, keys["planner"])
    cid = planned["id"]
    for leg in (*LEGS, None):
        query = {"leg": leg} if leg else {}
        mine = client.get(f"/ui/plans/{cid}/routes.csv", query_string=query)
        api = client.get(f"/cycles/{cid}/routes", query_string={"format": "csv", **query}, headers=keys["planner"])
        assert mine.status_code == 200 and mine.content_type.startswith("text/csv") and mine.data == api.data
        assert "attachment" in mine.headers["Content-Disposition"]
        mine_u = client.get(f"/ui/plans/{cid}/unserved.csv", query_string=query)
        api_u = client.get(f"/cycles/{cid}/unserved", query_string={"format": "csv", **query}, headers=keys["planner"])
        assert mine_u.status_code == 200 and mine_u.data == api_u.data
    assert pl.read_csv(io.BytesIO(client.get(f"/ui/plans/{cid}/unserved.csv").data))["stop_id"].to_list() == [planned["far"]]
    route_id = _api_features(client, keys, cid, "first_mile")[0]["properties"]["route_id"]
    stops = client.get(f"/ui/plans/{cid}/stops.csv", query_string={"route": route_id})
    assert stops.data == client.get(f"/cycles/{cid}/routes/{route_id}", query_string={"format": "csv"}, headers=keys["planner"]).data
    geo = client.get(f"/ui/plans/{cid}/first_mile.geojson", query_string={"download": 1})
    assert geo.headers["Content-Disposition"] == f'attachment; filename="routes-{cid}-first_mile.geojson"'
    assert [f["geometry"] for f in json.loads(geo.data)["features"]] == [f["geometry"] for f in _api_features(client, keys, cid, "first_mile")]
    assert client.get(f"/ui/plans/{cid}/routes.csv", query_string={"leg": "by_air"}).status_code == 404
    # the map's base layer: the regions, as the API gives them
    regions = client.get("/ui/plans/regions.geojson")
    assert regions.status_code == 200 and regions.json == client.get("/regions", headers=keys["planner"]).json
    assert [f["id"] for f in regions.json["features"]] == ["city", "north", "south"]


def test_cooperatives_and_buyers_may_not_see_plans(app: Flask, client: FlaskClient, keys: dict, planned: dict) -> None:
    cid = planned["id"]
    paths = [
        "/ui/plans",
        f"/ui/plans/{cid}/first_mile",
        f"/ui/plans/{cid}/first_mile.geojson",
        f"/ui/plans/{cid}/routes.csv",
        f"/ui/plans/{cid}/unserved.csv",
        "/ui/plans/regions.geojson",
    ]
    for who in ("coop_a", "buyer"):
        other = app.test_client()
        sign_in(other, keys[who])
        for path in paths:
            assert other.get(path).status_code == 403, (who, path)
        assert "/ui/plans" not in _html(other.get("/ui/offers" if who == "coop_a" else "/ui/signin"))
    anonymous = app.test_client()
    away = anonymous.get(f"/ui/plans/{cid}/first_mile")
    assert away.status_code == 302 and away.headers["Location"].startswith(f"/ui/signin?next=/ui/plans/{cid}/first_mile")
    operator = app.test_client()
    sign_in(operator, keys["operator"])
    assert operator.get(f"/ui/plans/{cid}/line_haul").status_code == 200


@pytest.mark.parametrize("app_config", [{"PLAN_ROUTES": False}])
def test_a_cycle_without_a_plan_says_why(client: FlaskClient, keys: dict) -> None:
    make_day(client, keys)
    cycle = run_cycle(client, keys, params=IN_PROCESS)
    sign_in(client, keys["planner"])
    page = client.get(f"/ui/plans/{cycle['id']}/first_mile")
    assert page.status_code == 409 and "planning was switched off" in _html(page) and 'id="plan-map"' not in _html(page)
    geo = client.get(f"/ui/plans/{cycle['id']}/first_mile.geojson")
    assert geo.status_code == 409 and "planning was switched off" in geo.json["detail"]
    download = client.get(f"/ui/plans/{cycle['id']}/routes.csv")
    assert download.status_code == 302
    assert "planning was switched off" in _html(client.get(download.headers["Location"]))


def test_the_plan_speaks_chinese(client: FlaskClient, keys: dict, planned: dict) -> None:
    sign_in(client, keys["planner"], lang="zh")
    html = _html(client.get(f"/ui/plans/{planned['id']}/first_mile"))
    assert '<html lang="zh-CN">' in html and "运输计划" in html and "头程" in html and "车辆" in html
