"""A cycle's transport plan over HTTP, on SQLite and PostgreSQL: planned by the worker with the cycle,
fetched by planners as GeoJSON and CSV, filtered and paged; an offer's pickup for its cooperative; kept
as history by a re-run; absent (and said so) when planning is switched off."""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import polars as pl
import pytest
import shapely
from flask.testing import FlaskClient

from tests.api.day import DAY, IN_PROCESS, ComputeGate, offer, order, run_cycle, wait

LEGS = ("first_mile", "line_haul", "last_mile")
ROUTE_PROPERTIES = {
    "route_id",
    "leg",
    "hub",
    "problem_id",
    "depot_id",
    "depot_lat",
    "depot_lon",
    "vehicle_type",
    "capacity_kg",
    "stops",
    "kg",
    "load_factor",
    "km",
    "start_min",
    "end_min",
    "duration_min",
    "cost",
}


def three_regions() -> bytes:
    """Two farming regions (north, south) and a city east of them."""
    frame = gpd.GeoDataFrame(
        {"region_id": ["city", "north", "south"], "hub_lat": [30.0, 31.0, 29.0], "hub_lon": [112.0, 110.0, 110.0]},
        geometry=[shapely.box(111, 28, 113, 32), shapely.box(109, 30, 111, 32), shapely.box(109, 28, 111, 30)],
        crs="EPSG:4326",
    )
    return frame.to_json().encode()


@pytest.fixture
def farms(client: FlaskClient, keys: dict) -> dict[str, Any]:
    """Offers in the north (coop-a) and the south (coop-b), one of coop-b's far beyond the north's hub (no
    van reaches it and back within a shift), orders in the city."""
    assert client.put("/regions", data=three_regions(), content_type="application/geo+json", headers=keys["operator"]).status_code == 200
    a = client.post(
        "/offers", json=[offer("apple", 900, 31.2, 2.0), offer("apple", 700, 31.6, 2.1), offer("kale", 400, 30.5, 1.0)], headers=keys["coop_a"]
    ).json["items"]
    b = client.post("/offers", json=[offer("apple", 800, 29.4, 2.2), offer("apple", 300, 34.5, 1.5)], headers=keys["coop_b"]).json["items"]
    city = [order("apple", 600, 30.5, 6.0), order("apple", 900, 29.6, 6.0), order("apple", 500, 30.2, 6.0), order("kale", 300, 30.8, 4.0)]
    for o in city:
        o["lon"] = 112.3
    orders = client.post("/orders", json=city, headers=keys["buyer"]).json["items"]
    return {"a": a, "b": b, "orders": orders}


def _run(client: FlaskClient, keys: dict, *, rerun: bool = False) -> dict:
    """Run the day's cycle (the matching in this process) until done, its plan's progress complete."""
    cycle = run_cycle(client, keys, params=IN_PROCESS, rerun=rerun)
    assert cycle["stage"] is None
    # its last progress line is the plan's (the matching's with planning off): everything done
    last = "products" if cycle["summary"]["plan"].get("status") == "off" else "routing problems"
    assert cycle["progress"]["stage"] == last and cycle["progress"]["done"] == cycle["progress"]["total"]
    return cycle


def _routes(client: FlaskClient, keys: dict, cycle_id: int, query: str = "") -> list[dict]:
    r = client.get(f"/cycles/{cycle_id}/routes?{query}", headers=keys["planner"])
    assert r.status_code == 200 and r.content_type == "application/geo+json", r.json
    assert r.json["type"] == "FeatureCollection" and r.json["next"] is None
    return list(r.json["features"])


def test_a_cycle_plans_every_leg_and_planners_fetch_it(client: FlaskClient, keys: dict, farms: dict) -> None:
    cycle = _run(client, keys)
    plan = cycle["summary"]["plan"]
    assert set(plan["legs"]) == set(LEGS) and all(plan["legs"][leg]["vehicles"] > 0 for leg in LEGS)
    assert plan["routed_cost"] > 0 and plan["assumed_cost"] > 0 and plan["routed_vs_assumed"] is not None
    assert plan["legs"]["first_mile"]["unserved_kg"] == 300  # the far offer: no van gets there and back in a shift
    assert "plan" in cycle["summary"]["seconds"]

    features = _routes(client, keys, cycle["id"])
    assert {f["properties"]["leg"] for f in features} == set(LEGS)
    ids = [f["properties"]["route_id"] for f in features]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for f in features:
        p, line = f["properties"], f["geometry"]["coordinates"]
        assert f["type"] == "Feature" and f["geometry"]["type"] == "LineString" and set(p) == ROUTE_PROPERTIES
        depot = [p["depot_lon"], p["depot_lat"]]
        assert line[0] == depot
        if p["leg"] == "line_haul":  # open-ended: the truck ends at its last hub
            assert len(line) == p["stops"] + 1
        else:
            assert len(line) == p["stops"] + 2 and line[-1] == depot
    # hubs as the regions place them: first mile at the offers' region, line haul from it, last mile at the city
    assert {(f["properties"]["leg"], f["properties"]["hub"]) for f in features} == {
        ("first_mile", "north"),
        ("first_mile", "south"),
        ("line_haul", "north"),
        ("line_haul", "south"),
        ("last_mile", "city"),
    }

    # every route in detail: its stops in order, their coordinates the line's
    detail = {}
    for f in features:
        route_id = f["properties"]["route_id"]
        one = client.get(f"/cycles/{cycle['id']}/routes/{route_id}", headers=keys["operator"])
        assert one.status_code == 200 and one.content_type == "application/geo+json"
        assert one.json["type"] == "Feature" and one.json["properties"] == f["properties"] and one.json["geometry"] == f["geometry"]
        stops = one.json["stops"]
        assert [s["seq"] for s in stops] == list(range(1, f["properties"]["stops"] + 1))
        assert [[s["lon"], s["lat"]] for s in stops] == f["geometry"]["coordinates"][1 : 1 + len(stops)]
        assert sum(s["kg"] for s in stops) == f["properties"]["kg"]
        assert all(s["arrive_min"] <= s["start_min"] <= s["depart_min"] for s in stops)
        detail[route_id] = stops
        csv = client.get(f"/cycles/{cycle['id']}/routes/{route_id}?format=csv", headers=keys["planner"])
        assert csv.content_type.startswith("text/csv")
        table = pl.read_csv(io.BytesIO(csv.data))
        assert table["seq"].to_list() == [s["seq"] for s in stops] and set(table["route_id"]) == {route_id}

    # the line haul delivers to the city's hub; the last mile to the orders' places in the city
    haul = [s for f in features if f["properties"]["leg"] == "line_haul" for s in detail[f["properties"]["route_id"]]]
    assert {s["stop_id"] for s in haul} == {"hub:city"} and {s["region_id"] for s in haul} == {"city"}
    last = [s for f in features if f["properties"]["leg"] == "last_mile" for s in detail[f["properties"]["route_id"]]]
    assert {s["region_id"] for s in last} == {"city"} and len(last) == len(farms["orders"])

    # the routes table as CSV: the same rows as the features
    csv = client.get(f"/cycles/{cycle['id']}/routes?format=csv", headers=keys["planner"])
    assert csv.content_type.startswith("text/csv")
    table = pl.read_csv(io.BytesIO(csv.data))
    assert table["route_id"].to_list() == ids and set(table.columns) == ROUTE_PROPERTIES

    # filters
    for leg in LEGS:
        assert [f["properties"]["route_id"] for f in _routes(client, keys, cycle["id"], f"leg={leg}")] == [
            f["properties"]["route_id"] for f in features if f["properties"]["leg"] == leg
        ]
    for hub in ("north", "south", "city", "nowhere"):
        assert [f["properties"]["route_id"] for f in _routes(client, keys, cycle["id"], f"hub={hub}")] == [
            f["properties"]["route_id"] for f in features if f["properties"]["hub"] == hub
        ]
    for region in ("north", "south", "city"):
        expected = [
            r
            for r in ids
            if any(f["properties"]["route_id"] == r and f["properties"]["hub"] == region for f in features) or any(s["region_id"] == region for s in detail[r])
        ]
        assert [f["properties"]["route_id"] for f in _routes(client, keys, cycle["id"], f"region_id={region}")] == expected
    city_haul = _routes(client, keys, cycle["id"], "region_id=city&leg=line_haul")
    assert {f["properties"]["hub"] for f in city_haul} == {"north", "south"}  # based elsewhere, stopping in the city
    only = client.get(f"/cycles/{cycle['id']}/routes?format=csv&leg=last_mile", headers=keys["planner"])
    assert set(pl.read_csv(io.BytesIO(only.data))["leg"]) == {"last_mile"}

    # pages follow the cursor
    seen, after = [], ""
    while True:
        page = client.get(f"/cycles/{cycle['id']}/routes?limit=2&after={after}", headers=keys["planner"]).json
        seen += [f["properties"]["route_id"] for f in page["features"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == ids


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("routes?leg=air", "leg"),
        ("unserved?leg=FIRST_MILE", "leg"),
        ("routes?format=parquet", "format"),
        ("routes?limit=0", "limit"),
        ("unserved?after=x", "after"),
        ("routes/x?format=xml", "format"),
    ],
)
def test_bad_queries_name_the_field(client: FlaskClient, keys: dict, path: str, name: str) -> None:
    """Checked before the cycle is looked up (there is none)."""
    r = client.get(f"/cycles/1/{path}", headers=keys["planner"])
    assert r.status_code == 422 and r.json["errors"][0]["path"] == name, r.json


def test_unserved_says_why_and_every_sold_kg_is_picked_up_or_listed(client: FlaskClient, keys: dict, farms: dict) -> None:
    cycle = _run(client, keys)
    unserved = client.get(f"/cycles/{cycle['id']}/unserved", headers=keys["planner"])
    assert unserved.status_code == 200 and unserved.json["next"] is None
    items = unserved.json["items"]
    far = farms["b"][1]["offer_id"]
    assert [(u["leg"], u["stop_id"], u["kg"]) for u in items] == [("first_mile", far, 300)]
    assert "shift" in items[0]["reason"]
    assert client.get(f"/cycles/{cycle['id']}/unserved?leg=last_mile", headers=keys["planner"]).json["items"] == []
    csv = client.get(f"/cycles/{cycle['id']}/unserved?format=csv", headers=keys["operator"])
    assert pl.read_csv(io.BytesIO(csv.data))["stop_id"].to_list() == [far]

    # conservation: what the first mile collects from each offer, plus what it cannot, is what the offer sold
    sold: dict[str, int] = {}
    for x in client.get(f"/cycles/{cycle['id']}/allocations", headers=keys["planner"]).json["items"]:
        sold[x["offer_id"]] = sold.get(x["offer_id"], 0) + x["quantity_kg"]
    moved: dict[str, int] = {}
    for f in _routes(client, keys, cycle["id"], "leg=first_mile"):
        for s in client.get(f"/cycles/{cycle['id']}/routes/{f['properties']['route_id']}", headers=keys["planner"]).json["stops"]:
            moved[s["stop_id"]] = moved.get(s["stop_id"], 0) + s["kg"]
    for u in items:
        moved[u["stop_id"]] = moved.get(u["stop_id"], 0) + u["kg"]
    assert moved == sold and sum(sold.values()) == cycle["summary"]["allocated_kg"]


def test_unserved_pages_follow_the_cursor(client: FlaskClient, keys: dict) -> None:
    """Offers far from every hub: several unserved stops, paged one by one."""
    assert client.put("/regions", data=three_regions(), content_type="application/geo+json", headers=keys["operator"]).status_code == 200
    client.post("/offers", json=[offer("apple", 100 + k, 34.5 + k / 10, 1.0) for k in range(3)], headers=keys["coop_a"])
    client.post("/orders", json=[{**order("apple", 1000, 30.5, 6.0), "lon": 112.3}], headers=keys["buyer"])
    cycle = _run(client, keys)
    whole = client.get(f"/cycles/{cycle['id']}/unserved", headers=keys["planner"]).json["items"]
    assert len(whole) == 3
    seen, after = [], None
    while True:
        page = client.get(f"/cycles/{cycle['id']}/unserved", query_string={"limit": 1, **({"after": after} if after else {})}, headers=keys["planner"]).json
        seen += page["items"]
        after = page["next"]
        if after is None:
            break
    assert seen == whole


def test_only_planners_and_the_operator_see_routes(client: FlaskClient, keys: dict, farms: dict) -> None:
    cycle = _run(client, keys)
    route_id = _routes(client, keys, cycle["id"])[0]["properties"]["route_id"]
    for path in ("routes", f"routes/{route_id}", "unserved", "routes?format=csv"):
        for who in ("coop_a", "coop_b", "buyer"):
            r = client.get(f"/cycles/{cycle['id']}/{path}", headers=keys[who])
            assert r.status_code == 403 and r.content_type == "application/problem+json"
        assert client.get(f"/cycles/{cycle['id']}/{path}", headers=keys["operator"]).status_code == 200
    assert client.get(f"/cycles/{cycle['id']}/routes", headers={}).status_code == 401
    missing = client.get(f"/cycles/{cycle['id']}/routes/FM.nowhere.001", headers=keys["planner"])
    assert missing.status_code == 404 and "FM.nowhere.001" in missing.json["detail"]
    assert client.get(f"/cycles/{cycle['id']}/routes/FM%00", headers=keys["planner"]).status_code == 404
    assert client.get("/cycles/999999/routes", headers=keys["planner"]).status_code == 404


def test_an_offer_shows_its_pickup_to_its_cooperative(client: FlaskClient, keys: dict, farms: dict) -> None:
    mine = farms["a"][0]["offer_id"]
    assert client.get(f"/offers/{mine}", headers=keys["coop_a"]).json["pickup"] is None  # no cycle yet
    cycle = _run(client, keys)
    body = client.get(f"/offers/{mine}", headers=keys["coop_a"]).json
    pickup = body["pickup"]
    assert pickup is not None and pickup["cycle_id"] == cycle["id"] and pickup["date"] == DAY and pickup["hub"] == "north"
    stops = [
        s for r in pickup["route_ids"] for s in client.get(f"/cycles/{cycle['id']}/routes/{r}", headers=keys["planner"]).json["stops"] if s["stop_id"] == mine
    ]
    assert stops and all(r.startswith("FM.") for r in pickup["route_ids"])
    assert pickup["window_start_min"] == min(s["start_min"] for s in stops)
    assert pickup["window_end_min"] == max(s["depart_min"] for s in stops)
    assert pickup["window_start_min"] < pickup["window_end_min"]
    assert pickup["kg"] == sum(s["kg"] for s in stops) == body["results"][0]["sold_kg"]
    assert client.get(f"/offers/{mine}", headers=keys["operator"]).json["pickup"] == pickup
    assert client.get(f"/offers/{mine}", headers=keys["coop_b"]).status_code == 404  # another's offer, as ever
    assert client.get(f"/offers/{mine}", headers=keys["buyer"]).status_code == 403
    # sold, but no route picks it up: no pickup (the planners see it among the unserved)
    far = farms["b"][1]["offer_id"]
    far_body = client.get(f"/offers/{far}", headers=keys["coop_b"]).json
    assert far_body["results"][0]["sold_kg"] == 300 and far_body["pickup"] is None


def test_routes_wait_until_the_cycle_is_done(client: FlaskClient, keys: dict, farms: dict, compute: ComputeGate) -> None:
    """The stage follows the run: held while matching, then while planning."""
    matching, matched = compute.hold()
    planning, go_on = compute.hold_planning()
    cycle_id = client.post("/cycles", json={"date": DAY, "params": {"workers": 1}}, headers=keys["operator"]).json["id"]
    assert matching.wait(60)
    assert client.get(f"/cycles/{cycle_id}", headers=keys["operator"]).json["stage"] == "matching"
    assert client.get(f"/cycles/{cycle_id}/routes", headers=keys["planner"]).status_code == 409
    matched.set()
    assert planning.wait(60)
    running = client.get(f"/cycles/{cycle_id}", headers=keys["operator"]).json
    assert (running["status"], running["stage"]) == ("running", "planning")
    # the matching's fan-out said how far it got: every product done
    progress = running["progress"]
    assert progress["stage"] == "products" and progress["done"] == progress["total"] >= 1 and progress["left_s"] is None
    for path in ("routes", "routes/FM.north.001", "unserved"):
        r = client.get(f"/cycles/{cycle_id}/{path}", headers=keys["planner"])
        assert r.status_code == 409 and "running (planning)" in r.json["detail"]
    assert client.get(f"/cycles/{cycle_id}/allocations", headers=keys["planner"]).status_code == 409  # nothing committed yet
    go_on.set()
    wait(client, keys["operator"], cycle_id)
    assert client.get(f"/cycles/{cycle_id}/routes", headers=keys["planner"]).status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize("app_config", [{"PLAN_WORKERS": 2}])
def test_a_rerun_keeps_both_plans(client: FlaskClient, keys: dict, farms: dict) -> None:
    """Planned on two processes this time: the same plan as the first run's, and the first kept."""
    first = _run(client, keys)
    before = _routes(client, keys, first["id"])
    second = _run(client, keys, rerun=True)
    assert client.get(f"/cycles/{first['id']}", headers=keys["operator"]).json["superseded_by"] == second["id"]
    assert _routes(client, keys, first["id"]) == before
    again = _routes(client, keys, second["id"])
    assert again == before  # same inputs, same plan: a fixed seed and an iteration budget
    assert second["summary"]["plan"]["settings"]["iterations"] == 100 and second["summary"]["plan"]["seconds"]["workers"] == 2
    # the offer's pickup follows the current cycle
    mine = farms["a"][0]["offer_id"]
    assert client.get(f"/offers/{mine}", headers=keys["coop_a"]).json["pickup"]["cycle_id"] == second["id"]


@pytest.mark.parametrize("app_config", [{"PLAN_ROUTES": False}])
def test_with_planning_off_cycles_run_and_say_so(client: FlaskClient, keys: dict, farms: dict) -> None:
    cycle = _run(client, keys)
    assert cycle["summary"]["plan"]["status"] == "off" and cycle["summary"]["allocated_kg"] > 0
    for path in ("routes", "routes/FM.north.001", "unserved", "routes?format=csv"):
        r = client.get(f"/cycles/{cycle['id']}/{path}", headers=keys["planner"])
        assert r.status_code == 409 and "planning was switched off" in r.json["detail"]
    assert client.get(f"/offers/{farms['a'][0]['offer_id']}", headers=keys["coop_a"]).json["pickup"] is None
    assert len(client.get(f"/cycles/{cycle['id']}/allocations", headers=keys["planner"]).json["items"]) > 0


def test_orders_at_one_pickup_point_share_its_last_mile_stop(client: FlaskClient, keys: dict) -> None:
    """Orders posted with a ``pickup_point_id`` (JSON or CSV) are delivered to that point: one stop of
    the last mile, named by it, wherever each order is; an order without one is delivered to its place."""
    assert client.put("/regions", data=three_regions(), content_type="application/geo+json", headers=keys["operator"]).status_code == 200
    client.post("/offers", json=offer("apple", 900, 31.2, 2.0), headers=keys["coop_a"])
    near = [{**order("apple", 100, lat, 6.0), "lon": lon, "pickup_point_id": "pp-7"} for lat, lon in ((30.5, 112.3), (30.7, 112.4))]
    by_json = client.post("/orders", json=near, headers=keys["buyer"]).json["items"]
    columns = [*order("apple", 1, 0, 0), "pickup_point_id"]
    rows = [{**order("apple", 100, 30.9, 6.0), "lon": 112.2, "pickup_point_id": "pp-7"}, {**order("apple", 100, 29.6, 6.0), "lon": 112.3}]
    text = ",".join(columns) + "\n" + "\n".join(",".join(str(r.get(c, "")) for c in columns) for r in rows) + "\n"
    by_csv = client.post("/orders", data=text, content_type="text/csv", headers=keys["buyer"])
    assert by_csv.status_code == 201, by_csv.json
    made = by_json + by_csv.json["items"]
    assert [o["pickup_point_id"] for o in made] == ["pp-7", "pp-7", "pp-7", None]
    assert client.get(f"/orders/{made[0]['order_id']}", headers=keys["buyer"]).json["pickup_point_id"] == "pp-7"

    cycle = _run(client, keys)
    stops: dict[str, int] = {}
    for f in _routes(client, keys, cycle["id"], "leg=last_mile"):
        for s in client.get(f"/cycles/{cycle['id']}/routes/{f['properties']['route_id']}", headers=keys["planner"]).json["stops"]:
            stops[s["stop_id"]] = stops.get(s["stop_id"], 0) + s["kg"]
    filled = [client.get(f"/orders/{o['order_id']}", headers=keys["buyer"]).json["filled_kg"] for o in made]
    assert stops == {"pp-7": sum(filled[:3]), "29.6,112.3": filled[3]} and sum(filled) == 400
