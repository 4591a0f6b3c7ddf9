"""A day over HTTP, end to end, on SQLite and PostgreSQL: regions, offers, orders, a cycle in the
background, results by role, a re-run, and offers posted while a cycle runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import polars as pl
import pytest
import shapely
from flask.testing import FlaskClient

from tests.api.day import DAY, TODAY, ComputeGate, offer, order, put_regions, regions_geojson, wait


@pytest.fixture
def day(client: FlaskClient, keys: dict) -> dict:
    assert put_regions(client, keys)["regions"] == 2
    a = client.post("/offers", json=[offer("apple", 500, 31.2, 2.0), offer("kale", 80, 31.1, 1.0)], headers=keys["coop_a"]).json["items"]
    b = client.post("/offers", json=[offer("apple", 400, 29.5, 2.4)], headers=keys["coop_b"]).json["items"]
    first = client.post("/orders", json=[order("apple", 300, 31.5, 4.0), order("kale", 50, 29.4, 3.0)], headers=keys["buyer"]).json["items"]
    second = client.post("/orders", json=[order("apple", 350, 29.2, 3.6), order("apple", 60, 45.0, 9.0)], headers=keys["buyer_2"]).json["items"]
    return {"a": a, "b": b, "orders": first + second, "buyer_of": {o["order_id"]: "buyer" for o in first} | {o["order_id"]: "buyer_2" for o in second}}


def test_a_day_end_to_end(client: FlaskClient, keys: dict, day: dict, tmp_path: Path) -> None:
    started = client.post("/cycles", json={"date": DAY}, headers=keys["operator"])
    assert started.status_code == 202 and started.headers["Location"] == f"/cycles/{started.json['id']}"
    cycle = wait(client, keys["operator"], started.json["id"])
    assert cycle["status"] == "done", cycle["reason"]
    assert cycle["summary"]["status"] == "optimal"

    # each cooperative sees exactly its own sales, and together they are everything shipped
    everything = client.get(f"/cycles/{cycle['id']}/allocations", headers=keys["operator"]).json["items"]
    mine_a = client.get(f"/cycles/{cycle['id']}/allocations", headers=keys["coop_a"]).json["items"]
    mine_b = client.get(f"/cycles/{cycle['id']}/allocations?cooperative_id=coop-a", headers=keys["coop_b"]).json["items"]
    assert {x["cooperative_id"] for x in mine_a} <= {"coop-a"} and {x["cooperative_id"] for x in mine_b} <= {"coop-b"}
    assert len(mine_a) + len(mine_b) == len(everything) > 0
    # paged one row at a time, the pages give the same rows (the row id pages them; it is not shown)
    paged, after = [], None
    while True:
        page = client.get(f"/cycles/{cycle['id']}/allocations", query_string={"limit": 1, **({"after": after} if after else {})}, headers=keys["operator"])
        assert page.status_code == 200, page.json
        paged += page.json["items"]
        after = page.json["next"]
        if after is None:
            break
    assert paged == everything and all("id" not in x for x in paged)

    # the batch job on the same data gives the same welfare and the same allocations
    welfare_http = cycle["summary"]["welfare"]
    batch = _batch_run(day, tmp_path)
    assert welfare_http == pytest.approx(batch["welfare"], rel=1e-9)
    batch_alloc = pl.read_csv(tmp_path / "out" / "allocations.csv")
    assert sorted(zip(batch_alloc["offer_id"], batch_alloc["quantity_kg"])) == sorted((x["offer_id"], x["quantity_kg"]) for x in everything)

    # offers shrink by what sold; orders show their fill; the one far outside every region is rejected
    sold = {}
    for x in everything:
        sold[x["offer_id"]] = sold.get(x["offer_id"], 0) + x["quantity_kg"]
    for o in day["a"]:
        now = client.get(f"/offers/{o['offer_id']}", headers=keys["coop_a"]).json
        assert now["remaining_kg"] == o["quantity_kg"] - sold.get(o["offer_id"], 0)
    statuses = {o["order_id"]: client.get(f"/orders/{o['order_id']}", headers=keys[day["buyer_of"][o["order_id"]]]).json for o in day["orders"]}
    assert all(s["filled_kg"] + s["unfilled_kg"] == s["quantity_kg"] for s in statuses.values())
    assert statuses[day["orders"][3]["order_id"]]["status"] == "rejected"
    assert sum(s["filled_kg"] for s in statuses.values()) == sum(x["quantity_kg"] for x in everything)

    # prices for everyone, shipments for planners, in the formats asked
    prices = client.get(f"/cycles/{cycle['id']}/prices", headers=keys["buyer"]).json["items"]
    assert {p["region_id"] for p in prices} == {"north", "south"}
    lines = client.get(f"/cycles/{cycle['id']}/shipments", headers=keys["planner"])
    assert lines.content_type == "application/geo+json" and len(lines.json["features"]) == len(everything)
    assert client.get(f"/cycles/{cycle['id']}/shipments", headers=keys["coop_a"]).status_code == 403
    csv = client.get(f"/cycles/{cycle['id']}/allocations?format=csv", headers=keys["planner"])
    assert csv.content_type.startswith("text/csv") and csv.data.decode().count("\n") == len(everything) + 1
    assert client.get(f"/cycles/{cycle['id']}/allocations?format=parquet", headers=keys["planner"]).status_code == 200


@pytest.mark.slow
def test_a_date_runs_once_unless_rerun_and_history_stays(client: FlaskClient, keys: dict, day: dict) -> None:
    first = wait(client, keys["operator"], client.post("/cycles", json={"date": DAY}, headers=keys["operator"]).json["id"])
    assert client.post("/cycles", json={"date": DAY}, headers=keys["operator"]).status_code == 409
    before = {o["offer_id"]: client.get(f"/offers/{o['offer_id']}", headers=keys["coop_a"]).json["remaining_kg"] for o in day["a"]}
    again = client.post("/cycles", json={"date": DAY, "rerun": True}, headers=keys["operator"])
    second = wait(client, keys["operator"], again.json["id"])
    assert second["status"] == "done"
    assert second["summary"]["welfare"] == pytest.approx(first["summary"]["welfare"], rel=1e-12)
    assert client.get(f"/cycles/{first['id']}", headers=keys["operator"]).json["superseded_by"] == second["id"]
    after = {o["offer_id"]: client.get(f"/offers/{o['offer_id']}", headers=keys["coop_a"]).json["remaining_kg"] for o in day["a"]}
    assert after == before  # the re-run gave back the first run's sales before selling again


def test_offers_posted_during_a_run_wait_for_the_next(client: FlaskClient, keys: dict, day: dict, compute: ComputeGate) -> None:
    snapshot_taken, go_on = compute.hold()
    cycle_id = client.post("/cycles", json={"date": DAY}, headers=keys["operator"]).json["id"]
    assert snapshot_taken.wait(30)
    late = client.post("/offers", json=offer("apple", 999, 31.2, 0.5), headers=keys["coop_a"]).json
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    assert client.post("/cycles", json={"date": tomorrow}, headers=keys["operator"]).status_code == 409  # one at a time
    go_on.set()
    cycle = wait(client, keys["operator"], cycle_id)
    assert cycle["status"] == "done"
    shipped = client.get(f"/cycles/{cycle_id}/allocations", headers=keys["operator"]).json["items"]
    assert late["offer_id"] not in {x["offer_id"] for x in shipped}
    now = client.get(f"/offers/{late['offer_id']}", headers=keys["coop_a"]).json
    assert (now["status"], now["remaining_kg"]) == ("open", 999)  # kept for the next cycle, not lost


def test_a_failed_cycle_says_why(client: FlaskClient, keys: dict) -> None:
    cycle = wait(client, keys["operator"], client.post("/cycles", json={"date": DAY}, headers=keys["operator"]).json["id"])
    assert cycle["status"] == "failed" and "no regions uploaded" in cycle["reason"]
    assert client.get(f"/cycles/{cycle['id']}/allocations", headers=keys["operator"]).status_code == 409


def test_bad_region_files_are_422_with_every_problem(client: FlaskClient, keys: dict) -> None:
    frame = gpd.GeoDataFrame({"region_id": ["x", "x"]}, geometry=[shapely.box(0, 0, 1, 1), shapely.Point(3, 3)], crs="EPSG:4326")
    r = client.put("/regions", data=frame.to_json().encode(), content_type="application/geo+json", headers=keys["operator"])
    assert r.status_code == 422
    messages = " ".join(e["message"] for e in r.json["errors"])
    assert "duplicate region_id" in messages and "not a polygon" in messages
    assert client.put("/regions", data=b"{}", content_type="text/plain", headers=keys["operator"]).status_code == 415
    assert client.put("/regions", data=regions_geojson(), content_type="application/geo+json", headers=keys["coop_a"]).status_code == 403


def test_regions_upload_as_geopackage(client: FlaskClient, keys: dict, tmp_path: Path) -> None:
    frame = gpd.read_file(regions_geojson().decode())
    path = tmp_path / "regions.gpkg"
    frame.to_file(path, driver="GPKG")
    r = client.put("/regions", data=path.read_bytes(), content_type="application/geopackage+sqlite3", headers=keys["operator"])
    assert r.status_code == 200 and r.json["regions"] == 2
    features = client.get("/regions", headers=keys["buyer"]).json["features"]
    assert [f["id"] for f in features] == ["north", "south"]
    assert features[0]["geometry"]["type"] == "Polygon" and features[0]["properties"]["hub_lat"] == 31.0


def _batch_run(day: dict, tmp: Path) -> dict:
    from matcher.batch import run_batch
    from matcher.params import MatchParams

    offers = pl.DataFrame(
        [
            {
                "offer_id": o["offer_id"],
                "cooperative_id": o["cooperative_id"],
                **{k: o[k] for k in ("product", "grade", "quantity_kg", "lat", "lon", "ready_date", "shelf_life_days", "ask_per_kg")},
            }
            for o in day["a"] + day["b"]
        ]
    )
    orders = pl.DataFrame(
        [
            {
                "order_id": o["order_id"],
                **{k: o[k] for k in ("product", "min_grade", "quantity_kg", "lat", "lon", "max_price_per_kg", "due_date")},
                "created_at": o["created_at"][:26],
            }
            for o in day["orders"]
        ]
    )
    offers.write_csv(tmp / "offers.csv")
    orders.write_csv(tmp / "orders.csv")
    (tmp / "regions.geojson").write_bytes(regions_geojson())
    return run_batch(
        offers=tmp / "offers.csv",
        orders=tmp / "orders.csv",
        regions=tmp / "regions.geojson",
        date=dt.date.fromisoformat(DAY),
        out=tmp / "out",
        params=MatchParams(workers=1, freight="linear"),  # as the test app runs its cycles
    )


def test_a_renewal_after_the_commit_is_no_lost_lease_but_one_after_a_take_over_is(app) -> None:  # type: ignore[no-untyped-def]
    """The heartbeat may renew between the cycle's commit and its stop: the cycle ended under this
    worker's own attempt, nothing was lost (no warning); a cycle taken over by another worker was lost."""
    from api import jobs
    from matcher.params import MatchParams

    db = app.extensions["harvest_db"]
    jobs.enqueue(db, TODAY, rerun=False, params=MatchParams())
    held = jobs.claim(db, "worker-a", lease_seconds=60, max_attempts=3)
    assert held is not None and jobs.heartbeat(db, held, lease_seconds=60) and not jobs.ended_here(db, held)
    assert jobs.fail(db, held, "stopped by the test")
    assert not jobs.heartbeat(db, held, lease_seconds=60) and jobs.ended_here(db, held)

    jobs.enqueue(db, TODAY + dt.timedelta(days=1), rerun=False, params=MatchParams())
    first = jobs.claim(db, "worker-b", lease_seconds=0.0, max_attempts=3)  # expires at once
    assert first is not None
    second = jobs.claim(db, "worker-c", lease_seconds=60, max_attempts=3)
    assert second is not None and second.cycle_id == first.cycle_id and second.attempt == first.attempt + 1
    assert jobs.fail(db, second, "stopped by the test")
    assert not jobs.heartbeat(db, first, lease_seconds=60) and not jobs.ended_here(db, first)  # ended, but under another's attempt
