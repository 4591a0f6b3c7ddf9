"""The operator's crossdocks over HTTP, on SQLite and PostgreSQL: replaced whole as JSON or CSV, checked
by the batch table's rules (422 naming row and column, nothing stored), cleared by an empty table,
refused while a cycle runs; given to (and recorded by) the cycles with trucks freight only, whose
lanes, plan and books then run through them."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import geopandas as gpd
import polars as pl
import pytest
import shapely
from flask.testing import FlaskClient

from tests.api.day import DAY, IN_PROCESS, TODAY, ComputeGate, put_regions, run_cycle, wait

CROSSDOCKS: list[dict[str, Any]] = [
    {"crossdock_id": "x", "lat": 30.0, "lon": 111.5, "capacity_kg": 50_000, "handling_per_kg": 0.05},
    {"crossdock_id": "wuhan", "lat": 30.59, "lon": 114.31, "capacity_kg": 300_000, "handling_per_kg": 0.04},
]
#: the trucks freight model, in the test's own process (the suite's app runs linear freight)
TRUCKS = {**IN_PROCESS, "freight": "trucks", "freight_rounds": 4}


def _put(client: FlaskClient, keys: dict, body: Any, *, csv: bool = False) -> Any:
    if csv:
        return client.put("/crossdocks", data=body, content_type="text/csv", headers=keys["operator"])
    return client.put("/crossdocks", json=body, headers=keys["operator"])


def _stored(client: FlaskClient, keys: dict) -> dict[str, Any]:
    r = client.get("/crossdocks", headers=keys["operator"])
    assert r.status_code == 200, r.json
    return dict(r.json)


def test_only_the_operator_reads_and_replaces_the_crossdocks(client: FlaskClient, keys: dict) -> None:
    for who in ("coop_a", "buyer", "planner"):
        assert client.get("/crossdocks", headers=keys[who]).status_code == 403
        assert client.put("/crossdocks", json=CROSSDOCKS, headers=keys[who]).status_code == 403
    assert client.get("/crossdocks").status_code == 401
    assert _stored(client, keys)["crossdocks"] == []  # the refusals stored nothing


def test_crossdocks_put_as_json_or_csv_are_read_back_as_given(client: FlaskClient, keys: dict) -> None:
    none = _stored(client, keys)
    assert none["crossdocks"] == [] and len(none["sha256"]) == 64
    put = _put(client, keys, CROSSDOCKS)
    assert put.status_code == 200, put.json
    body = _stored(client, keys)
    assert body == put.json and body["crossdocks"] == CROSSDOCKS and body["sha256"] != none["sha256"]
    # its CSV goes back in unchanged: the same crossdocks, the same version
    csv = client.get("/crossdocks?format=csv", headers=keys["operator"])
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert pl.read_csv(io.BytesIO(csv.data)).columns == ["crossdock_id", "lat", "lon", "capacity_kg", "handling_per_kg"]
    again = _put(client, keys, csv.data, csv=True)
    assert again.status_code == 200, again.json
    assert again.json == body
    # one object is one crossdock; a new table replaces them all
    one = _put(client, keys, CROSSDOCKS[1])
    assert one.status_code == 200 and one.json["crossdocks"] == [CROSSDOCKS[1]]
    assert client.get("/crossdocks?format=parquet", headers=keys["operator"]).status_code == 422
    # an empty table clears them (JSON, or a CSV of the header alone: what GET gives when there are none)
    assert _put(client, keys, []).json == none
    assert _put(client, keys, CROSSDOCKS).status_code == 200
    cleared = _put(client, keys, "crossdock_id,lat,lon,capacity_kg,handling_per_kg\n", csv=True)
    assert cleared.status_code == 200 and cleared.json == none
    assert client.get("/crossdocks?format=csv", headers=keys["operator"]).data.decode().strip() == "crossdock_id,lat,lon,capacity_kg,handling_per_kg"


def _with(row: int, **changes: Any) -> list[dict[str, Any]]:
    rows = [dict(r) for r in CROSSDOCKS]
    rows[row - 1].update(changes)
    return rows


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        (_with(2, capacity_kg=-5), "2/capacity_kg", "greater than 0"),
        (_with(2, crossdock_id="x"), "2/crossdock_id", "duplicate crossdock_id 'x' (first at row 1)"),
        (_with(1, lat=95.0), "1/lat", ""),
        (_with(1, handling_per_kg="0.05"), "1/handling_per_kg", ""),
        (_with(2, colour="red"), "2/colour", "unknown field"),
        ([{k: v for k, v in CROSSDOCKS[0].items() if k != "lon"}], "1/lon", ""),
    ],
    ids=["capacity", "duplicate", "latitude", "string-number", "unknown", "missing"],
)
def test_bad_crossdocks_are_refused_naming_row_and_column_and_nothing_is_stored(client: FlaskClient, keys: dict, body: Any, path: str, message: str) -> None:
    assert _put(client, keys, CROSSDOCKS).status_code == 200
    before = _stored(client, keys)
    r = _put(client, keys, body)
    assert r.status_code == 422, r.json
    assert any(e["path"] == path and message in e["message"] for e in r.json["errors"]), r.json["errors"]
    assert _stored(client, keys) == before


def test_a_bad_csv_is_refused_naming_row_and_column(client: FlaskClient, keys: dict) -> None:
    csv = "crossdock_id,lat,lon,capacity_kg,handling_per_kg\nx,30.0,111.5,-5,0.05\ny,30,abc,100,0.1\nx,31,112,100,0.1\n"
    r = _put(client, keys, csv, csv=True)
    assert r.status_code == 422
    paths = {e["path"] for e in r.json["errors"]}
    assert {"1/capacity_kg", "2/lon", "3/crossdock_id"} <= paths, r.json["errors"]
    assert _put(client, keys, "crossdock_id,lat,lon,capacity_kg,handling_per_kg,depot\n", csv=True).status_code == 422  # an unknown column
    assert _stored(client, keys)["crossdocks"] == []
    assert client.put("/crossdocks", data="x", content_type="text/plain", headers=keys["operator"]).status_code == 415


def _crossdock_day(client: FlaskClient, keys: dict) -> None:
    """tests/matcher/test_freight.py's crossdock day: two origin regions (a, b) about 125 road km apart,
    each with half a truck of apples for region d, 1,250 km east; crossdock x lies just east of them."""
    regions = gpd.GeoDataFrame(
        {"region_id": ["a", "b", "d"], "hub_lat": [30.0] * 3, "hub_lon": [110.0, 111.0, 120.0]},
        geometry=[shapely.box(109.5, 29.5, 110.5, 30.5), shapely.box(110.5, 29.5, 111.4, 30.5), shapely.box(119.5, 29.5, 120.5, 30.5)],
        crs="EPSG:4326",
    )
    put_regions(client, keys, regions.to_json().encode())
    farm = {"product": "apple", "grade": "A", "quantity_kg": 2_400, "lat": 30.02, "ready_date": DAY, "shelf_life_days": 10, "ask_per_kg": 1.0}
    assert client.post("/offers", json=[{**farm, "lon": 110.02}], headers=keys["coop_a"]).status_code == 201
    assert client.post("/offers", json=[{**farm, "lon": 111.02}], headers=keys["coop_b"]).status_code == 201
    due = (TODAY + dt.timedelta(days=5)).isoformat()
    orders = [
        {"product": "apple", "min_grade": "C", "quantity_kg": 400, "lat": 30.0 + 0.02 * n, "lon": 120.0 + 0.02 * n, "max_price_per_kg": 4.0, "due_date": due}
        for n in range(12)
    ]
    assert client.post("/orders", json=orders, headers=keys["buyer"]).status_code == 201


def _csv(client: FlaskClient, keys: dict, path: str) -> pl.DataFrame:
    r = client.get(path, headers=keys["operator"])
    assert r.status_code == 200, r.json
    return pl.read_csv(io.BytesIO(r.data), schema_overrides={"via": pl.String, "region_id": pl.String})


#: a crossdock id as long as ids go: its routes are based at ``crossdock:<id>``, longer than any id
LONGEST = "x" + "-" * 62 + "x"


@pytest.mark.parametrize("dock", ["x", LONGEST], ids=["x", "longest-id"])
def test_a_trucks_cycle_routes_through_a_crossdock_records_it_and_pays_its_handling(client: FlaskClient, keys: dict, dock: str) -> None:
    _crossdock_day(client, keys)
    stored = _put(client, keys, [{**CROSSDOCKS[0], "crossdock_id": dock}]).json

    # linear freight is given no crossdocks (the core refuses them there) and records none
    linear = run_cycle(client, keys, params=IN_PROCESS)
    assert linear["crossdocks"] is None and linear["summary"]["freight"]["model"] == "linear"
    lanes = _csv(client, keys, f"/cycles/{linear['id']}/allocations?format=csv")
    assert lanes.height and "via" in lanes.columns and lanes["via"].is_null().all()

    cycle = run_cycle(client, keys, params=TRUCKS, rerun=True)
    assert cycle["crossdocks"] == stored  # the version and the rows it was given; only the operator sees them
    assert "crossdocks" not in client.get(f"/cycles/{cycle['id']}", headers=keys["planner"]).json
    summary = cycle["summary"]
    # both origins' kg go through the crossdock
    lanes = _csv(client, keys, f"/cycles/{cycle['id']}/allocations?format=csv")
    assert lanes["via"].to_list() == [dock] * lanes.height and int(lanes["quantity_kg"].sum()) == 4_800
    page = client.get(f"/cycles/{cycle['id']}/allocations", headers=keys["coop_a"]).json["items"]
    assert [(a["via"], a["quantity_kg"]) for a in page] == [(dock, 2_400)]
    shipments = client.get(f"/cycles/{cycle['id']}/shipments", headers=keys["planner"]).json["features"]
    assert {s["properties"]["via"] for s in shipments} == {dock}
    assert all(s["geometry"]["coordinates"][1] == [111.5, 30.0] and len(s["geometry"]["coordinates"]) == 3 for s in shipments)

    # the plan: each origin's line haul stops at the crossdock, whose own line haul carries the 4,800 kg on
    routes = _csv(client, keys, f"/cycles/{cycle['id']}/routes?format=csv&leg=line_haul")
    onward = routes.filter(pl.col("hub") == f"crossdock:{dock}")
    assert onward["kg"].to_list() == [4_800] and onward["depot_id"].to_list() == [f"crossdock:{dock}"]
    assert (onward["depot_lat"].to_list(), onward["depot_lon"].to_list()) == ([30.0], [111.5])
    feeders = routes.filter(pl.col("hub") != f"crossdock:{dock}")
    assert sorted(feeders["hub"].to_list()) == ["a", "b"] and feeders["kg"].to_list() == [2_400, 2_400]
    by_hub = client.get(f"/cycles/{cycle['id']}/routes?hub=crossdock:{dock}", headers=keys["planner"]).json["features"]
    assert [f["properties"]["route_id"] for f in by_hub] == onward["route_id"].to_list()
    for route_id in feeders["route_id"].to_list():
        feeder = client.get(f"/cycles/{cycle['id']}/routes/{route_id}", headers=keys["planner"]).json
        assert [(s["stop_id"], s["region_id"], s["kg"], s["lat"], s["lon"]) for s in feeder["stops"]] == [(f"crossdock:{dock}", None, 2_400, 30.0, 111.5)]
    onward_stops = client.get(f"/cycles/{cycle['id']}/routes/{onward['route_id'][0]}", headers=keys["planner"]).json["stops"]
    assert {(s["stop_id"], s["region_id"]) for s in onward_stops} == {("hub:d", "d")}
    assert client.get(f"/cycles/{cycle['id']}/unserved", headers=keys["planner"]).json["items"] == []
    assert summary["plan"]["status"] == "served" and summary["plan"]["crossdock_handling_cost"] == pytest.approx(0.05 * 4_800)

    # the books: freight is paid the tours and the crossdock's handling, and they balance to the cent
    freight = summary["freight"]
    assert freight["routed"]["crossdock_handling"] == pytest.approx(0.05 * 4_800)
    tours = float(_csv(client, keys, f"/cycles/{cycle['id']}/routes?format=csv")["cost"].sum())
    assert freight["paid"] == pytest.approx(tours + 0.05 * 4_800 + cycle["params"]["handling_per_kg"] * 4_800, abs=0.05)
    books = client.get(f"/cycles/{cycle['id']}/settlement", headers=keys["operator"]).json
    totals = books["totals"]
    assert totals["balanced"] and summary["settlement"]["balanced"]
    assert Decimal(totals["freight"]) == Decimal(str(summary["settlement"]["freight"]))
    assert float(totals["freight"]) == pytest.approx(freight["paid"], abs=0.01)
    assert sum(Decimal(line["net"]) for line in books["lines"]) == 0
    assert sum(Decimal(line["net"]) for line in books["lines"] if line["party"] == "freight") == Decimal(totals["freight"])

    # the superseded linear cycle keeps saying it was given none
    assert client.get(f"/cycles/{linear['id']}", headers=keys["operator"]).json["crossdocks"] is None


def test_a_trucks_cycle_without_crossdocks_records_none(client: FlaskClient, keys: dict) -> None:
    _crossdock_day(client, keys)
    cycle = run_cycle(client, keys, params={**TRUCKS, "freight_rounds": 1})
    assert cycle["crossdocks"] is None and cycle["summary"]["freight"]["model"] == "trucks"
    lanes = _csv(client, keys, f"/cycles/{cycle['id']}/allocations?format=csv")
    assert lanes["via"].is_null().all()
    routes = _csv(client, keys, f"/cycles/{cycle['id']}/routes?format=csv&leg=line_haul")
    assert not routes["hub"].str.starts_with("crossdock:").any()


def test_the_crossdocks_are_not_replaced_while_a_cycle_runs(client: FlaskClient, keys: dict, compute: ComputeGate) -> None:
    put_regions(client, keys)
    snapshot_taken, go_on = compute.hold()
    cycle_id = client.post("/cycles", json={"date": DAY, "params": IN_PROCESS}, headers=keys["operator"]).json["id"]
    try:
        assert snapshot_taken.wait(30)
        refused = _put(client, keys, CROSSDOCKS)
        assert refused.status_code == 409 and f"cycle {cycle_id}" in refused.json["detail"]
        assert _stored(client, keys)["crossdocks"] == []
    finally:
        go_on.set()
    assert wait(client, keys["operator"], cycle_id)["status"] == "done"
    assert _put(client, keys, CROSSDOCKS).status_code == 200
