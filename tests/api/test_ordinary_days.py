"""Ordinary events that once stopped the service, on SQLite and PostgreSQL: a withdrawal among many
offers, a stray order, an empty day, concurrent cycle requests, a withdrawal during a run, a wrong
date, overlapping regions. Each cycle must end ``done`` (or refuse clearly), and the next must run."""

from __future__ import annotations

import datetime as dt
import threading

import geopandas as gpd
import pytest
import shapely
from flask import Flask
from flask.testing import FlaskClient

from tests.api.day import DAY, TODAY, ComputeGate, offer, order, put_regions, run_cycle, wait


def test_a_withdrawal_after_the_first_hundred_offers_stops_nothing(client: FlaskClient, keys: dict) -> None:
    put_regions(client, keys)
    posted = client.post("/offers", json=[offer("apple", 10 + k, 31.0 + k / 1000, 1.0) for k in range(150)], headers=keys["coop_a"]).json["items"]
    client.post("/orders", json=[order("apple", 500, 31.5, 4.0)], headers=keys["buyer"])
    last = sorted(posted, key=lambda o: o["offer_id"])[-1]["offer_id"]
    assert client.post(f"/offers/{last}/withdraw", headers=keys["coop_a"]).status_code == 200
    for rerun in (False, True):
        cycle = run_cycle(client, keys, rerun=rerun, done=False)
        assert cycle["status"] == "done", cycle["reason"]
        assert cycle["summary"]["allocated_kg"] == 500


def test_an_order_outside_every_region_is_rejected_whatever_its_place(client: FlaskClient, keys: dict) -> None:
    put_regions(client, keys)
    client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"])
    stray = client.post("/orders", json=order("apple", 5, 60.0, 9.0), headers=keys["buyer"]).json
    inside = client.post("/orders", json=order("apple", 5, 31.5, 4.0), headers=keys["buyer"]).json
    cycle = run_cycle(client, keys, done=False)
    assert cycle["status"] == "done", cycle["reason"]
    assert client.get(f"/orders/{stray['order_id']}", headers=keys["buyer"]).json["status"] == "rejected"
    assert client.get(f"/orders/{inside['order_id']}", headers=keys["buyer"]).json["status"] == "filled"


@pytest.mark.parametrize("what", ["nothing", "offers only", "orders only"])
def test_an_empty_day_is_done_with_nothing_sold(client: FlaskClient, keys: dict, what: str) -> None:
    put_regions(client, keys)
    if what == "offers only":
        client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"])
    if what == "orders only":
        client.post("/orders", json=order("apple", 5, 31.5, 4.0), headers=keys["buyer"])
    cycle = run_cycle(client, keys, done=False)
    assert cycle["status"] == "done", cycle["reason"]
    assert cycle["summary"]["allocated_kg"] == 0 and cycle["summary"]["welfare"] == 0
    assert run_cycle(client, keys, rerun=True, done=False)["status"] == "done"


def test_concurrent_cycle_requests_accept_exactly_one(app: Flask, keys: dict) -> None:
    app.extensions["harvest_worker"].stop()  # the accepted cycle stays queued: no request may find the slot free again
    answers: list[int] = []
    barrier = threading.Barrier(6)

    def ask() -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/cycles", json={"date": DAY}, headers=keys["operator"]).status_code)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [202] + [409] * 5
    listed = app.test_client().get("/cycles", headers=keys["operator"]).json["items"]
    assert len(listed) == 1


def test_withdrawing_or_cancelling_during_a_run_is_refused(client: FlaskClient, keys: dict, compute: ComputeGate) -> None:
    put_regions(client, keys)
    held = client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"]).json
    wanted = client.post("/orders", json=order("apple", 40, 31.5, 4.0), headers=keys["buyer"]).json
    running, go_on = compute.hold()
    cycle_id = client.post("/cycles", json={"date": DAY}, headers=keys["operator"]).json["id"]
    assert running.wait(30)
    refused = client.post(f"/offers/{held['offer_id']}/withdraw", headers=keys["coop_a"])
    assert refused.status_code == 409 and f"cycle {cycle_id}" in refused.json["detail"]
    assert client.post(f"/orders/{wanted['order_id']}/cancel", headers=keys["buyer"]).status_code == 409
    late = client.post("/offers", json=offer("apple", 7, 31.2, 1.0), headers=keys["coop_a"]).json
    # refused too: telling it from the snapshot's offers would mean trusting two hosts' clocks
    assert client.post(f"/offers/{late['offer_id']}/withdraw", headers=keys["coop_a"]).status_code == 409
    go_on.set()
    assert wait(client, keys["operator"], cycle_id)["status"] == "done"
    after = client.get(f"/offers/{held['offer_id']}", headers=keys["coop_a"]).json
    assert after["remaining_kg"] == 60 and after["results"][0]["sold_kg"] == 40
    assert client.post(f"/offers/{held['offer_id']}/withdraw", headers=keys["coop_a"]).status_code == 200  # its rest, now


def test_a_far_date_needs_confirmation_and_expires_nothing(client: FlaskClient, keys: dict) -> None:
    put_regions(client, keys)
    kept = client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"]).json
    far = (TODAY + dt.timedelta(days=365 * 5)).isoformat()
    refused = client.post("/cycles", json={"date": far}, headers=keys["operator"])
    assert refused.status_code == 422 and refused.json["errors"][0]["path"] == "date"
    started = client.post("/cycles", json={"date": far, "confirm_far_date": True}, headers=keys["operator"])
    assert wait(client, keys["operator"], started.json["id"])["status"] == "done"
    shown = client.get(f"/offers/{kept['offer_id']}", headers=keys["coop_a"]).json
    assert shown["status"] == "open" and shown["results"] == []  # not open on that date, so not in that cycle; not expired for good
    client.post("/orders", json=order("apple", 30, 31.5, 4.0), headers=keys["buyer"])
    today = run_cycle(client, keys, done=False)
    assert today["status"] == "done" and today["summary"]["allocated_kg"] == 30


@pytest.mark.parametrize(
    "body",
    [{"date": DAY, "rerun": "yes"}, {"date": DAY, "rerun": 1}, {"date": 20261123}, {"rerun": True}, ["x"], {"date": "9999-12-31", "confirm_far_date": True}],
)
def test_cycle_requests_are_strict(client: FlaskClient, keys: dict, body: object) -> None:
    r = client.post("/cycles", json=body, headers=keys["operator"])
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert client.get("/cycles", headers=keys["operator"]).json["items"] == []


def test_cycle_parameters_are_recorded_and_checked(client: FlaskClient, keys: dict) -> None:
    put_regions(client, keys)
    bad = client.post("/cycles", json={"date": DAY, "params": {"circuity": 0.5}}, headers=keys["operator"])
    assert bad.status_code == 422 and "circuity" in bad.json["errors"][0]["message"]
    unknown = client.post("/cycles", json={"date": DAY, "params": {"speed": 3}}, headers=keys["operator"])
    assert unknown.status_code == 422 and "speed" in unknown.json["errors"][0]["message"]
    cycle = run_cycle(client, keys, params={"handling_per_kg": 0.25, "workers": 1}, done=False)
    assert cycle["params"]["handling_per_kg"] == 0.25 and cycle["summary"]["params"]["handling_per_kg"] == 0.25


def test_an_order_inside_overlapping_regions_goes_to_the_smallest_id(client: FlaskClient, keys: dict) -> None:
    frame = gpd.GeoDataFrame(
        {"region_id": ["zz-big", "aa-small"], "hub_lat": [31.0, 31.5], "hub_lon": [110.0, 110.0]},
        geometry=[shapely.box(108, 29, 112, 33), shapely.box(109.5, 31, 110.5, 32)],
        crs="EPSG:4326",
    )
    put_regions(client, keys, frame.to_json().encode())
    client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"])
    placed = client.post("/orders", json=order("apple", 5, 31.5, 4.0), headers=keys["buyer"]).json
    assert run_cycle(client, keys, done=False)["status"] == "done"
    assert client.get(f"/orders/{placed['order_id']}", headers=keys["buyer"]).json["region_id"] == "aa-small"


def test_a_failed_cycle_shows_details_to_the_operator_only(client: FlaskClient, keys: dict, compute: ComputeGate) -> None:
    put_regions(client, keys)
    client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"])
    compute.failure = RuntimeError("disk /srv/secret/path is gone")
    cycle = run_cycle(client, keys, done=False)
    assert cycle["status"] == "failed" and "Traceback" in cycle["detail"] and "/srv/secret" in cycle["detail"]
    public = client.get(f"/cycles/{cycle['id']}", headers=keys["planner"]).json
    assert "detail" not in public and "/srv" not in public["reason"] and "Traceback" not in public["reason"]
    compute.failure = None
    assert run_cycle(client, keys, done=False)["status"] == "done"  # the date runs again after a failure


def test_a_retried_cycle_request_queues_one_cycle(client: FlaskClient, keys: dict) -> None:
    put_regions(client, keys)
    headers = {**keys["operator"], "Idempotency-Key": "monday-cycle"}
    first = client.post("/cycles", json={"date": DAY}, headers=headers)
    wait(client, keys["operator"], first.json["id"])
    again = client.post("/cycles", json={"date": DAY}, headers=headers)
    assert (again.status_code, again.json["id"], again.headers["Idempotent-Replayed"]) == (202, first.json["id"], "true")
    assert again.headers["Location"] == first.headers["Location"] == f"/cycles/{first.json['id']}"
    assert len(client.get("/cycles", headers=keys["operator"]).json["items"]) == 1


def test_shipments_keep_their_hubs_when_regions_are_replaced(client: FlaskClient, keys: dict) -> None:
    put_regions(client, keys)
    client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"])
    client.post("/orders", json=order("apple", 40, 31.5, 4.0), headers=keys["buyer"])
    cycle = run_cycle(client, keys, done=False)
    before = client.get(f"/cycles/{cycle['id']}/shipments", headers=keys["planner"]).json["features"]
    moved = gpd.GeoDataFrame({"region_id": ["elsewhere"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    put_regions(client, keys, moved.to_json().encode())
    after = client.get(f"/cycles/{cycle['id']}/shipments", headers=keys["planner"]).json["features"]
    assert after == before and before[0]["geometry"]["coordinates"][1] == [110.0, 31.0]


def test_a_rerun_keeps_what_a_withdrawn_offer_had_sold(client: FlaskClient, keys: dict) -> None:
    put_regions(client, keys)
    held = client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"]).json
    client.post("/orders", json=order("apple", 60, 31.5, 4.0), headers=keys["buyer"])
    assert run_cycle(client, keys, done=False)["summary"]["allocated_kg"] == 60
    assert client.post(f"/offers/{held['offer_id']}/withdraw", headers=keys["coop_a"]).status_code == 200  # its unsold 40 kg
    rerun = run_cycle(client, keys, rerun=True, done=False)
    assert rerun["summary"]["allocated_kg"] == 60
    shown = client.get(f"/offers/{held['offer_id']}", headers=keys["coop_a"]).json
    assert (shown["status"], shown["remaining_kg"], [r["sold_kg"] for r in shown["results"]]) == ("withdrawn", 40, [60])


def test_orders_of_one_request_are_filled_in_the_order_given(client: FlaskClient, keys: dict) -> None:
    """First come, first served when the cycle says so; by default every order gets the same share."""
    put_regions(client, keys)
    client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"])
    names = ["z9", "a1", "m5", "b2", "y8"]
    made = client.post("/orders", json=[{**order("apple", 30, 31.5, 4.0), "reference": n} for n in names], headers=keys["buyer"]).json["items"]
    assert run_cycle(client, keys, params={"fill_rule": "fcfs"}, done=False)["status"] == "done"
    filled = [client.get(f"/orders/{o['order_id']}", headers=keys["buyer"]).json["filled_kg"] for o in made]
    assert filled == [30, 30, 30, 10, 0]
    assert run_cycle(client, keys, rerun=True, done=False)["status"] == "done"
    filled = [client.get(f"/orders/{o['order_id']}", headers=keys["buyer"]).json["filled_kg"] for o in made]
    assert filled == [20, 20, 20, 20, 20]


def test_cycles_concern_their_cooperatives_and_buyers(app: Flask, client: FlaskClient, keys: dict) -> None:
    from api.db import create_key

    put_regions(client, keys)
    client.post("/offers", json=offer("apple", 100, 31.2, 1.0), headers=keys["coop_a"])
    client.post("/orders", json=order("apple", 40, 31.5, 4.0), headers=keys["buyer"])
    cycle = run_cycle(client, keys, done=False)
    stranger = {"Authorization": "Bearer " + create_key(app.extensions["harvest_db"], "cooperative", cooperative_id="coop-99")}
    assert client.get(f"/cycles/{cycle['id']}", headers=keys["coop_a"]).status_code == 200
    assert client.get(f"/cycles/{cycle['id']}", headers=keys["buyer"]).status_code == 200
    assert client.get(f"/cycles/{cycle['id']}", headers=stranger).status_code == 404
    assert client.get("/cycles", headers=stranger).json["items"] == []
    assert [c["id"] for c in client.get("/cycles", headers=keys["buyer"]).json["items"]] == [cycle["id"]]


@pytest.mark.parametrize("url", ["/cycles?after=9999999999", "/cycles?after=x", "/cycles/1/allocations?after=99999999999999999999999"])
def test_cursors_out_of_range_are_422(client: FlaskClient, keys: dict, url: str) -> None:
    put_regions(client, keys)
    run_cycle(client, keys, done=False)
    assert client.get(url, headers=keys["operator"]).status_code == 422


def test_result_pages_come_in_code_point_order_on_both_databases(client: FlaskClient, keys: dict) -> None:
    frame = gpd.GeoDataFrame(
        {"region_id": ["alpha", "Zeta", "_mid"], "hub_lat": [31.5, 29.5, 30.5], "hub_lon": [110.0, 110.0, 110.0]},
        geometry=[shapely.box(109, 31, 111, 32), shapely.box(109, 29, 111, 30), shapely.box(109, 30, 111, 31)],
        crs="EPSG:4326",
    )
    put_regions(client, keys, frame.to_json().encode())
    client.post("/offers", json=offer("apple", 100, 30.5, 1.0), headers=keys["coop_a"])
    client.post("/orders", json=[order("apple", 5, lat, 4.0) for lat in (31.5, 29.5, 30.5)], headers=keys["buyer"])
    cycle = run_cycle(client, keys, done=False)
    assert {"snapshot", "regions", "pool", "solve", "write", "total"} <= set(cycle["summary"]["seconds"])
    assert cycle["summary"]["seconds"]["total"] >= cycle["summary"]["seconds"]["snapshot"] + cycle["summary"]["seconds"]["write"]
    seen, after = [], ""
    while True:
        page = client.get(f"/cycles/{cycle['id']}/prices?limit=1" + (f"&after={after}" if after else ""), headers=keys["buyer"]).json
        seen += [p["region_id"] for p in page["items"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == ["Zeta", "_mid", "alpha"]  # code point order: upper case, underscore, lower case
