"""The safety net over HTTP, on SQLite and PostgreSQL: the cooperatives register (PUT, list, read),
a small cooperative that cannot compete on price selling its floor with a subsidy, the register
overriding the small_kg rule, bad registrations naming the field, and the net off by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from harvestmatch.money import amount_text
from tests.api.day import DAY, IN_PROCESS, offer, order, put_regions, run_cycle

#: the safety net on: half of a small cooperative's offer must sell when a lane within 2.0 per kg of
#: subsidy allows; small by the rule up to 500 kg
NET = {"small_share": 0.5, "max_subsidy_per_kg": 2.0, "small_kg": 500}


@pytest.fixture
def app_config(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """No route planning: these tests are about the matching's floors. Parametrized (indirectly) with
    TOML text, the service reads it as its ``HARVEST_CONFIG``."""
    text = getattr(request, "param", None)
    if text is not None:
        path = tmp_path / "harvest.toml"
        path.write_text(text)
        monkeypatch.setenv("HARVEST_CONFIG", str(path))
    return {"PLAN_ROUTES": False}


@pytest.fixture
def day(client: FlaskClient, keys: dict) -> dict:
    """coop-a's small offer asks more than the buyers bid; coop-b's big cheap offer fills the demand."""
    put_regions(client, keys)
    small = client.post("/offers", json=offer("apple", 100, 31.2, 3.5), headers=keys["coop_a"]).json
    big = client.post("/offers", json=offer("apple", 3000, 31.3, 1.0), headers=keys["coop_b"]).json
    assert client.post("/orders", json=order("apple", 500, 31.5, 3.0), headers=keys["buyer"]).status_code == 201
    return {"small": small, "big": big}


def _result(client: FlaskClient, headers: dict, offer_id: str) -> dict:
    r = client.get(f"/offers/{offer_id}", headers=headers)
    assert r.status_code == 200, r.json
    assert len(r.json["results"]) == 1
    return dict(r.json["results"][0])


def test_a_small_cooperative_sells_its_floor_with_a_subsidy(client: FlaskClient, keys: dict, day: dict) -> None:
    cycle = run_cycle(client, keys, params={**IN_PROCESS, **NET})
    small = _result(client, keys["coop_a"], day["small"]["offer_id"])
    assert (small["floor_kg"], small["floor_sold_kg"], small["floor_met"], small["floor_reason"]) == (50, 50, True, "met")
    assert small["sold_kg"] == 50 and float(small["subsidy"]) > 0 and float(small["floor_dual"]) > 0
    # the platform pays the floor's dual on each kg it sold (matcher.floor), as published: an amount to the
    # cent, a price to six places
    kg = small["floor_sold_kg"]
    assert float(small["subsidy"]) == pytest.approx(float(small["floor_dual"]) * kg, abs=0.005 + kg * 5e-7)
    big = _result(client, keys["coop_b"], day["big"]["offer_id"])
    assert (big["sold_kg"], big["floor_kg"], big["floor_met"], big["floor_reason"], big["subsidy"]) == (450, 0, None, None, "0.00")

    # another cooperative learns nothing of it: not the offer, not its record
    assert client.get(f"/offers/{day['small']['offer_id']}", headers=keys["coop_b"]).status_code == 404
    refused = client.get("/cooperatives/coop-a", headers=keys["coop_b"])
    assert refused.status_code == 404 and refused.json["title"] == "Not Found"
    assert client.get("/cooperatives", headers=keys["coop_a"]).status_code == 403

    # its own record: not registered (so judged by small_kg), and the cycle's floor
    mine = client.get("/cooperatives/coop-a", headers=keys["coop_a"])
    assert mine.status_code == 200
    assert {k: mine.json[k] for k in ("cooperative_id", "small", "members", "hectares", "updated_at", "small_by")} == {
        "cooperative_id": "coop-a",
        "small": None,
        "members": None,
        "hectares": None,
        "updated_at": None,
        "small_by": "small_kg",
    }
    assert mine.json["safety_net"] == [{"cycle_id": cycle["id"], "date": DAY, "offers": 1, "floor_kg": 50, "floor_sold_kg": 50, "subsidy": small["subsidy"]}]
    assert client.get("/cooperatives/coop-b", headers=keys["operator"]).json["safety_net"][0]["floor_kg"] == 0

    net = client.get(f"/cycles/{cycle['id']}", headers=keys["operator"]).json["summary"]["safety_net"]
    assert net["price_of_fairness"] > 0 and net["welfare_without_floor"] > net["welfare"]
    assert (net["floor_kg"], net["floor_sold_kg"], net["floor_shortfall_kg"], net["small_by"]) == (50, 50, 0, "small_kg")
    assert amount_text(net["subsidy"]) == small["subsidy"]  # the summary's number, published to the cent


def test_the_register_overrides_the_small_kg_rule(client: FlaskClient, keys: dict, day: dict) -> None:
    """coop-a (100 kg, small by the rule) registered as not small gets no floor; coop-b (3000 kg)
    registered as small gets one."""
    put = client.put("/cooperatives/coop-a", json={"small": False, "members": 12}, headers=keys["operator"])
    assert put.status_code == 200
    assert {k: put.json[k] for k in ("cooperative_id", "small", "members", "hectares", "small_by")} == {
        "cooperative_id": "coop-a",
        "small": False,
        "members": 12,
        "hectares": None,
        "small_by": "table",
    }
    assert client.put("/cooperatives/coop-b", json={"small": True, "hectares": 80}, headers=keys["operator"]).status_code == 200
    cycle = run_cycle(client, keys, params={**IN_PROCESS, **NET})
    small = _result(client, keys["coop_a"], day["small"]["offer_id"])
    assert (small["floor_kg"], small["floor_sold_kg"], small["floor_met"], small["sold_kg"], small["subsidy"]) == (0, 0, None, 0, "0.00")
    big = _result(client, keys["coop_b"], day["big"]["offer_id"])
    assert big["floor_kg"] == 1500 and big["floor_sold_kg"] == big["sold_kg"] == 500 and big["floor_met"] is False
    assert big["floor_reason"] in ("demand_taken", "no_feasible_lane", "beyond_subsidy_cap")
    net = client.get(f"/cycles/{cycle['id']}", headers=keys["operator"]).json["summary"]["safety_net"]
    assert (net["small_by"], net["small_cooperatives"], net["floor_kg"]) == ("table", 1, 1500)

    mine = client.get("/cooperatives/coop-b", headers=keys["coop_b"]).json
    assert (mine["small"], mine["hectares"], mine["members"], mine["small_by"]) == (True, 80.0, None, "table")
    assert [(r["floor_kg"], r["floor_sold_kg"]) for r in mine["safety_net"]] == [(1500, 500)]


def test_the_register_is_upserted_and_listed_in_pages(client: FlaskClient, keys: dict) -> None:
    op = keys["operator"]
    for name in ("coop-c", "coop-a", "coop-b"):
        assert client.put(f"/cooperatives/{name}", json={"small": True}, headers=op).status_code == 200
    again = client.put("/cooperatives/coop-a", json={"small": False, "members": 40.0, "hectares": 12.5}, headers=op)
    assert again.status_code == 200 and (again.json["small"], again.json["members"], again.json["hectares"]) == (False, 40, 12.5)
    first = client.get("/cooperatives?limit=2", headers=op).json
    assert [c["cooperative_id"] for c in first["items"]] == ["coop-a", "coop-b"] and first["next"] == "coop-b"
    rest = client.get(f"/cooperatives?limit=2&after={first['next']}", headers=op).json
    assert [c["cooperative_id"] for c in rest["items"]] == ["coop-c"] and rest["next"] is None
    assert first["items"][0]["small"] is False and first["items"][0]["members"] == 40
    # a cooperative reads its own registration, never writes it; other roles neither
    assert client.get("/cooperatives/coop-a", headers=keys["coop_a"]).json["small"] is False
    assert client.put("/cooperatives/coop-a", json={"small": True}, headers=keys["coop_a"]).status_code == 403
    assert client.get("/cooperatives/coop-a", headers=keys["buyer"]).status_code == 403
    assert client.get("/cooperatives", headers=keys["planner"]).status_code == 403
    assert client.get("/cooperatives/coop-a", headers=op).json["small"] is False


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ({}, "small", "expected true or false, got nothing"),
        ({"small": "yes"}, "small", "expected true or false"),
        ({"small": 1}, "small", "expected true or false"),
        ({"small": None}, "small", "expected true or false"),
        ({"small": True, "members": -1}, "members", "whole number of members"),
        ({"small": True, "members": 2.5}, "members", "whole number of members"),
        ({"small": True, "members": True}, "members", "whole number of members"),
        ({"small": True, "members": "40"}, "members", "whole number of members"),
        ({"small": True, "members": 2**31}, "members", "whole number of members"),
        ({"small": True, "hectares": -0.5}, "hectares", "an area in hectares"),
        ({"small": True, "hectares": "12"}, "hectares", "an area in hectares"),
        ({"small": True, "hectares": 1e300}, "hectares", "an area in hectares"),
        ({"small": True, "size": "large"}, "size", "unknown field"),
    ],
)
def test_bad_registrations_name_the_field(client: FlaskClient, keys: dict, body: dict, path: str, words: str) -> None:
    r = client.put("/cooperatives/coop-a", json=body, headers=keys["operator"])
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert [e["path"] for e in r.json["errors"]] == [path] and words in r.json["errors"][0]["message"]
    assert client.get("/cooperatives", headers=keys["operator"]).json["items"] == []  # nothing written


def test_bad_registration_requests_are_refused_whole(client: FlaskClient, keys: dict) -> None:
    op = keys["operator"]
    nan = client.put("/cooperatives/coop-a", data='{"small": true, "hectares": NaN}', content_type="application/json", headers=op)
    assert nan.status_code == 422 and nan.json["errors"][0]["path"] == "hectares"
    both = client.put("/cooperatives/coop-a", json={"small": "no", "members": -3}, headers=op)
    assert [e["path"] for e in both.json["errors"]] == ["small", "members"]
    long_id = client.put("/cooperatives/" + "c" * 65, json={"small": True}, headers=op)
    assert long_id.status_code == 422 and long_id.json["errors"][0]["path"] == "cooperative_id"
    spaced = client.put("/cooperatives/%20coop-a", json={"small": True}, headers=op)
    assert spaced.status_code == 422 and spaced.json["errors"][0]["path"] == "cooperative_id"
    assert client.put("/cooperatives/coop-a", json=[{"small": True}], headers=op).status_code == 422
    assert client.put("/cooperatives/coop-a", data="small=true", content_type="text/plain", headers=op).status_code == 415
    assert client.put("/cooperatives/coop-a", data="{", content_type="application/json", headers=op).status_code == 400
    assert client.put("/cooperatives/coop-a", data='{"small": true, "small": false}', content_type="application/json", headers=op).status_code == 422
    assert client.get("/cooperatives/c%00x", headers=op).status_code == 404
    assert client.get("/cooperatives", headers=op).json["items"] == []


def test_the_safety_net_is_off_by_default(client: FlaskClient, keys: dict, day: dict) -> None:
    cycle = run_cycle(client, keys, params=IN_PROCESS)
    for who, made in (("coop_a", day["small"]), ("coop_b", day["big"])):
        result = _result(client, keys[who], made["offer_id"])
        floor = tuple(result[k] for k in ("floor_kg", "floor_sold_kg", "floor_met", "floor_reason", "floor_dual", "subsidy"))
        assert floor == (0, 0, None, None, None, "0.00")
    assert _result(client, keys["coop_a"], day["small"]["offer_id"])["sold_kg"] == 0  # it cannot compete on price
    net = client.get(f"/cycles/{cycle['id']}", headers=keys["operator"]).json["summary"]["safety_net"]
    assert (net["floor_kg"], net["subsidy"], net["price_of_fairness"]) == (0, 0.0, 0.0)
    record = client.get("/cooperatives/coop-a", headers=keys["coop_a"]).json["safety_net"]
    assert [(r["cycle_id"], r["floor_kg"], r["floor_sold_kg"], r["subsidy"]) for r in record] == [(cycle["id"], 0, 0, "0.00")]


@pytest.mark.parametrize("app_config", ["[match]\nworkers = 1\n\n[safety_net]\nmin_share = 0.5\nmax_subsidy_per_kg = 2.0\nsmall_kg = 500\n"], indirect=True)
def test_the_configured_safety_net_runs_every_cycle_unless_a_cycle_says_otherwise(client: FlaskClient, keys: dict, day: dict) -> None:
    cycle = run_cycle(client, keys, params=IN_PROCESS)
    assert (cycle["params"]["small_share"], cycle["params"]["max_subsidy_per_kg"], cycle["params"]["small_kg"]) == (0.5, 2.0, 500)
    small = _result(client, keys["coop_a"], day["small"]["offer_id"])
    assert (small["floor_kg"], small["floor_sold_kg"], small["floor_met"]) == (50, 50, True)
    run_cycle(client, keys, params={**IN_PROCESS, "small_share": 0.0}, rerun=True)
    assert _result(client, keys["coop_a"], day["small"]["offer_id"])["floor_kg"] == 0
