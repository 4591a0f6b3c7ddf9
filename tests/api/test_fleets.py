"""The operator's fleet over HTTP, on SQLite and PostgreSQL: replaced whole as JSON or CSV, checked by
the plan's rules (422 naming row and column, nothing stored), the default fleets shown when none is
stored, refused while a cycle runs, and used (and recorded) by the cycles' plans."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import pytest
from flask.testing import FlaskClient

from matcher.routing.tables import DEFAULT_FLEETS, LEGS
from tests.api.day import DAY, IN_PROCESS, ComputeGate, offer, order, put_regions, run_cycle, wait

#: a fleet whose vehicle types no default fleet has, one leg's rows given without a count
FLEET: list[dict[str, Any]] = [
    {"leg": "first_mile", "vehicle_type": "tractor_3t", "capacity_kg": 3_000, "count": 4, "fixed_cost": 120.0, "cost_per_km": 2.25, "max_duration_min": 600.0},
    {"leg": "line_haul", "vehicle_type": "reefer_12t", "capacity_kg": 12_000, "count": 2, "fixed_cost": 640.5, "cost_per_km": 5.0, "max_duration_min": 7200.0},
    {"leg": "last_mile", "vehicle_type": "tricycle_500", "capacity_kg": 500, "fixed_cost": 40.0, "cost_per_km": 1.0, "max_duration_min": 480.0},
    {"leg": "last_mile", "vehicle_type": "van_1500", "capacity_kg": 1_500, "fixed_cost": 90.0, "cost_per_km": 1.75, "max_duration_min": 480.0},
]


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The suite's settings; parametrize indirectly to add some."""
    return dict(getattr(request, "param", {}))


def _shown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as ``GET /fleets`` shows them: every column, empty ones null."""
    return [{"count": None, "depot": None, **r} for r in rows]


def _put(client: FlaskClient, keys: dict, body: Any, *, csv: bool = False) -> Any:
    if csv:
        return client.put("/fleets", data=body, content_type="text/csv", headers=keys["operator"])
    return client.put("/fleets", json=body, headers=keys["operator"])


def test_only_the_operator_reads_and_replaces_the_fleet(client: FlaskClient, keys: dict) -> None:
    for who in ("coop_a", "buyer", "planner"):
        assert client.get("/fleets", headers=keys[who]).status_code == 403
        assert client.put("/fleets", json=FLEET, headers=keys[who]).status_code == 403
    assert client.get("/fleets").status_code == 401
    assert client.get("/fleets", headers=keys["operator"]).json["source"] == "default"  # the refusals stored nothing


def test_without_a_stored_fleet_the_default_fleets_are_shown(client: FlaskClient, keys: dict) -> None:
    body = client.get("/fleets", headers=keys["operator"]).json
    assert body["source"] == "default" and len(body["sha256"]) == 64
    for leg in LEGS:
        shown = [{k: v for k, v in r.items() if k != "leg"} for r in body["vehicles"] if r["leg"] == leg]
        assert shown == DEFAULT_FLEETS[leg].select(shown[0].keys()).to_dicts()
    assert {r["leg"] for r in body["vehicles"]} == set(LEGS)  # the command's one-problem fleet ("routes") is not a leg
    csv = client.get("/fleets?format=csv", headers=keys["operator"])
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert pl.read_csv(io.BytesIO(csv.data)).height == len(body["vehicles"])
    assert client.get("/fleets?format=parquet", headers=keys["operator"]).status_code == 422


def test_a_fleet_put_as_json_or_csv_is_read_back_as_given(client: FlaskClient, keys: dict) -> None:
    put = _put(client, keys, FLEET)
    assert put.status_code == 200, put.json
    body = client.get("/fleets", headers=keys["operator"]).json
    assert body == put.json
    assert body["source"] == "stored" and body["vehicles"] == _shown(FLEET)
    # its CSV goes back in unchanged: the same fleet, the same version
    csv = client.get("/fleets?format=csv", headers=keys["operator"]).data
    again = _put(client, keys, csv, csv=True)
    assert again.status_code == 200, again.json
    assert again.json == body
    # a new table replaces the whole fleet
    smaller = [dict(FLEET[0], vehicle_type="cart_1t"), FLEET[1], FLEET[2]]
    assert _put(client, keys, smaller).json["vehicles"] == _shown(smaller)
    assert client.get("/fleets", headers=keys["operator"]).json["vehicles"] == _shown(smaller)


def _with(row: int, **changes: Any) -> list[dict[str, Any]]:
    rows = [dict(r) for r in FLEET]
    rows[row - 1].update(changes)
    return rows


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        (_with(2, capacity_kg=-5), "2/capacity_kg", "greater than 0"),
        (_with(3, leg="sea_freight"), "3/leg", "is not a leg"),
        (_with(1, leg=None), "1/leg", "expected"),
        (_with(4, vehicle_type="tricycle_500"), "4/vehicle_type", "listed twice"),
        (_with(1, depot="hub:north"), "1/depot", "leave depot empty"),
        (_with(2, colour="red"), "2/colour", "unknown field"),
        (FLEET[:2], "leg", "no vehicles for last_mile"),
        ([], "leg", "no vehicles for first_mile"),
    ],
    ids=["capacity", "leg", "no-leg", "duplicate", "depot", "unknown", "leg-without-vehicles", "empty"],
)
def test_a_bad_fleet_is_refused_naming_row_and_column_and_nothing_is_stored(client: FlaskClient, keys: dict, body: Any, path: str, message: str) -> None:
    assert _put(client, keys, FLEET).status_code == 200
    before = client.get("/fleets", headers=keys["operator"]).json
    r = _put(client, keys, body)
    assert r.status_code == 422, r.json
    assert any(e["path"] == path and message in e["message"] for e in r.json["errors"]), r.json["errors"]
    assert client.get("/fleets", headers=keys["operator"]).json == before


def test_a_bad_csv_is_refused_naming_row_and_column(client: FlaskClient, keys: dict) -> None:
    csv = "leg,vehicle_type,capacity_kg,fixed_cost,cost_per_km,max_duration_min\nfirst_mile,v1,1000,1,1,600\n,v2,2000,1,1,abc\nlast_mile,v3,500,1,1,480\n"
    r = _put(client, keys, csv, csv=True)
    assert r.status_code == 422
    paths = {e["path"] for e in r.json["errors"]}
    assert {"2/leg", "2/max_duration_min"} <= paths, r.json["errors"]
    assert client.get("/fleets", headers=keys["operator"]).json["source"] == "default"
    assert client.put("/fleets", data="x", content_type="text/plain", headers=keys["operator"]).status_code == 415


def _day(client: FlaskClient, keys: dict) -> None:
    """Offers in the north and the south, orders in both: every leg has stops."""
    put_regions(client, keys)
    assert client.post("/offers", json=[offer("apple", 900, 31.2, 2.0), offer("apple", 700, 31.5, 2.1)], headers=keys["coop_a"]).status_code == 201
    assert client.post("/offers", json=[offer("apple", 800, 29.4, 2.2)], headers=keys["coop_b"]).status_code == 201
    orders = [order("apple", 600, 29.5, 6.0), order("apple", 700, 29.2, 6.0), order("apple", 500, 31.4, 6.0)]
    assert client.post("/orders", json=orders, headers=keys["buyer"]).status_code == 201


def _vehicles(client: FlaskClient, keys: dict, cycle_id: int) -> dict[str, set[str]]:
    r = client.get(f"/cycles/{cycle_id}/routes?format=csv", headers=keys["planner"])
    assert r.status_code == 200, r.json
    routes = pl.read_csv(io.BytesIO(r.data))
    return {leg: set(routes.filter(pl.col("leg") == leg)["vehicle_type"].to_list()) for leg in LEGS}


def test_a_cycle_plans_with_the_stored_fleet_and_records_it(client: FlaskClient, keys: dict) -> None:
    _day(client, keys)
    first = run_cycle(client, keys, params=IN_PROCESS)
    assert first["fleet"]["source"] == "default"
    defaults = {leg: set(DEFAULT_FLEETS[leg]["vehicle_type"].to_list()) for leg in LEGS}
    used = _vehicles(client, keys, first["id"])
    assert used["first_mile"] and all(used[leg] <= defaults[leg] for leg in LEGS), used

    stored = _put(client, keys, FLEET).json
    second = run_cycle(client, keys, params=IN_PROCESS, rerun=True)
    assert second["fleet"] == stored  # source, version and vehicles
    used = _vehicles(client, keys, second["id"])
    given = {leg: {r["vehicle_type"] for r in FLEET if r["leg"] == leg} for leg in LEGS}
    # (which legs have routes is the plan's and the freight model's business: each one's vehicles are the fleet's)
    assert used["first_mile"] and all(used[leg] <= given[leg] for leg in LEGS), used
    # the history keeps what each cycle used; only the operator sees it
    assert client.get(f"/cycles/{first['id']}", headers=keys["operator"]).json["fleet"]["source"] == "default"
    assert "fleet" not in client.get(f"/cycles/{second['id']}", headers=keys["planner"]).json


@pytest.mark.parametrize("app_config", [{"PLAN_ROUTES": False}], indirect=True)
def test_without_a_plan_the_trucks_freight_prices_with_the_stored_fleet(client: FlaskClient, keys: dict) -> None:
    _day(client, keys)
    stored = _put(client, keys, FLEET).json
    linear = run_cycle(client, keys, params=IN_PROCESS)  # the suite's default freight model: no fleet used
    assert linear["fleet"] is None and linear["summary"]["plan"]["status"] == "off"
    trucks = run_cycle(client, keys, params={**IN_PROCESS, "freight": "trucks"}, rerun=True)
    assert trucks["summary"]["plan"]["status"] == "off"
    assert trucks["summary"]["freight"]["model"] == "trucks" and trucks["fleet"] == stored


def test_the_fleet_is_not_replaced_while_a_cycle_runs(client: FlaskClient, keys: dict, compute: ComputeGate) -> None:
    _day(client, keys)
    snapshot_taken, go_on = compute.hold()
    cycle_id = client.post("/cycles", json={"date": DAY, "params": IN_PROCESS}, headers=keys["operator"]).json["id"]
    try:
        assert snapshot_taken.wait(30)
        refused = _put(client, keys, FLEET)
        assert refused.status_code == 409 and f"cycle {cycle_id}" in refused.json["detail"]
        assert client.get("/fleets", headers=keys["operator"]).json["source"] == "default"
    finally:
        go_on.set()
    cycle = wait(client, keys["operator"], cycle_id)
    assert cycle["status"] == "done" and cycle["fleet"]["source"] == "default"
    assert _put(client, keys, FLEET).status_code == 200
