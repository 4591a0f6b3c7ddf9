"""One cycle as one pure function: the same results as ``harvest match``, from typed frames."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import polars as pl
import pytest
import shapely
from polars.testing import assert_frame_equal

from harvest.cli import main
from harvestmatch.money import publish
from matcher import CycleResult, MatchParams, ParameterError, compute_cycle
from matcher.schemas import LANES, ORDERS, parse_table
from regions.polygons import Regions, parse_regions
from tests.frames import DATE, demand_frame, offers_frame

PARAMS = MatchParams(workers=1, freight="linear")  # the fills and prices below are the linear model's; trucks: test_freight.py


@pytest.fixture
def regions() -> Regions:
    shapes = gpd.GeoDataFrame(
        {"region_id": ["r0", "r1"], "hub_lat": [30.0, 31.0], "hub_lon": [110.0, 112.0]},
        geometry=[shapely.box(109, 29, 111, 31), shapely.box(111, 30, 113, 32)],
        crs="EPSG:4326",
    )
    return parse_regions(shapes, source="regions")


def orders_table(created_at: list[str], *, due_days: int = 5) -> pl.DataFrame:
    """Three apple orders in r0 (one far outside every region), due ``due_days`` after the cycle date,
    typed as the batch job types them."""
    raw = pl.DataFrame(
        {
            "order_id": ["b1", "b2", "b3", "far"],
            "product": ["apple"] * 4,
            "min_grade": ["C"] * 4,
            "quantity_kg": ["30", "40", "50", "5"],
            "lat": ["30.2", "30.4", "30.3", "10.0"],
            "lon": ["110.1", "110.2", "110.3", "80.0"],
            "max_price_per_kg": ["3.02", "3.04", "3.0", "3.0"],
            "due_date": [str(DATE + dt.timedelta(days=due_days))] * 4,
            "created_at": created_at,
        }
    )
    return parse_table(raw, ORDERS, source="orders", key="order_id")


FCFS = MatchParams(workers=1, fill_rule="fcfs", freight="linear")


def test_orders_are_pooled_solved_and_filled_in_order_of_arrival(regions: Regions) -> None:
    offers = offers_frame([{"lat": 30.1, "lon": 110.1, "quantity_kg": 60}])
    orders = orders_table(["2026-11-22T08:00", "2026-11-22T07:00", "", "2026-11-22T06:00"])
    got = compute_cycle(offers, regions, date=DATE, params=FCFS, orders=orders)
    assert isinstance(got, CycleResult)
    assert got.demand.columns == ["demand_id", "region_id", "product", "min_grade", "quantity_kg", "price_per_kg", "due_date", "orders"]
    assert got.demand["quantity_kg"].to_list() == [120] and got.demand["orders"].to_list() == [3]
    assert got.orders is not None
    assert got.orders.columns == ["order_id", "region_id", "demand_id", "filled_kg", "unfilled_kg", "clearing_price", "status", "reason"]
    # 60 kg for 120 ordered: b2 (07:00) first, then b1 (08:00); b3 (no time) gets nothing; far is rejected
    filled = dict(zip(got.orders["order_id"], got.orders["filled_kg"], strict=True))
    assert filled == {"b1": 20, "b2": 40, "b3": 0, "far": 0}
    # due in five days: what is not filled now waits for a later cycle; the rejected order does not
    assert got.orders["status"].to_list() == ["pending", "filled", "pending", "rejected"]
    assert got.orders["reason"].to_list()[:3] == ["earlier_orders_filled_first", None, "earlier_orders_filled_first"]
    s = got.summary
    assert (s["orders"], s["orders_rejected"], s["pooled_demand_rows"], s["regions"]) == (4, 1, 1, 2)
    assert s["order_status"] == {"filled": 1, "pending": 2, "rejected": 1}
    assert list(s["seconds"])[:2] == ["pool", "prepare"]
    assert s["welfare"] == got.match.summary["welfare"] and s["status"] == got.match.summary["status"] == "optimal"


def test_without_created_at_the_frame_order_is_the_queue(regions: Regions) -> None:
    offers = offers_frame([{"lat": 30.1, "lon": 110.1, "quantity_kg": 60}])
    orders = orders_table([""] * 4).drop("created_at")
    got = compute_cycle(offers, regions, date=DATE, params=FCFS, orders=orders)
    assert got.orders is not None
    assert got.orders["filled_kg"].to_list() == [30, 30, 0, 0]


@pytest.mark.parametrize(
    ("rule", "want", "reason"),
    [
        ("pro_rata", {"b1": 15, "b2": 20, "b3": 25, "far": 0}, "row_shared_pro_rata"),
        ("max_min", {"b1": 20, "b2": 20, "b3": 20, "far": 0}, "row_shared_max_min"),
    ],
)
def test_the_default_shares_a_short_row_among_its_orders(regions: Regions, rule: str, want: dict, reason: str) -> None:
    offers = offers_frame([{"lat": 30.1, "lon": 110.1, "quantity_kg": 60}])
    orders = orders_table(["2026-11-22T08:00", "2026-11-22T07:00", "", "2026-11-22T06:00"])
    params = MatchParams(workers=1, fill_rule=rule, freight="linear") if rule != "pro_rata" else PARAMS  # pro_rata is the default
    got = compute_cycle(offers, regions, date=DATE, params=params, orders=orders)
    assert got.orders is not None
    assert dict(zip(got.orders["order_id"], got.orders["filled_kg"], strict=True)) == want
    assert set(got.orders.filter(pl.col("status") == "pending")["reason"]) == {reason}


@pytest.mark.parametrize(("due_days", "status"), [(0, ["partly_filled", "filled", "unfilled", "rejected"]), (1, ["pending", "filled", "pending", "rejected"])])
def test_an_order_waits_while_its_due_date_is_after_the_cycle_date(regions: Regions, due_days: int, status: list[str]) -> None:
    """Due on the cycle date, this cycle is the order's last: a lane of 0 transit days delivers on the
    day, and no later cycle can. Due the next day, the next day's cycle still can, over such a lane."""
    offers = offers_frame([{"lat": 30.1, "lon": 110.1, "quantity_kg": 60}])
    orders = orders_table(["2026-11-22T08:00", "2026-11-22T07:00", "", "2026-11-22T06:00"], due_days=due_days)
    same_day = parse_table(pl.DataFrame({"offer_id": ["o0"], "region_id": ["r0"], "distance_km": ["5"], "transit_days": ["0"]}), LANES, source="lanes")
    got = compute_cycle(offers, regions, date=DATE, params=FCFS, orders=orders, lanes=same_day)
    assert got.orders is not None
    assert got.orders["status"].to_list() == status
    assert got.orders["filled_kg"].to_list() == [20, 40, 0, 0]
    assert got.orders["reason"][2] == "earlier_orders_filled_first"


def test_an_unknown_fill_rule_names_the_parameter() -> None:
    from harvestmatch.errors import ParameterError

    with pytest.raises(ParameterError, match="fill_rule must be one of"):
        MatchParams(fill_rule="lottery")  # type: ignore[arg-type]


def test_given_demand_rows_are_solved_as_they_are(regions: Regions) -> None:
    offers = offers_frame([{"lat": 30.1, "lon": 110.1}])
    demand = demand_frame([{"region_id": "r0"}, {"region_id": "r1"}])
    got = compute_cycle(offers, regions, date=DATE, params=PARAMS, demand=demand)
    assert got.orders is None
    assert_frame_equal(got.demand, demand)
    assert "orders" not in got.summary and "pool" not in got.summary["seconds"]
    assert got.summary["hubs_derived"] == 0 and got.summary["warnings"] == []


@pytest.mark.parametrize("given", ["neither", "both"])
def test_exactly_one_of_orders_and_demand(regions: Regions, given: str) -> None:
    tables = {"orders": orders_table([""] * 4), "demand": demand_frame([{}])} if given == "both" else {}
    with pytest.raises(ParameterError, match="exactly one of demand"):
        compute_cycle(offers_frame([{}]), regions, date=DATE, params=PARAMS, **tables)


def test_harvest_match_writes_what_compute_cycle_returns(regions: Regions, tmp_path: Path) -> None:
    offers = offers_frame([{"lat": 30.1, "lon": 110.1, "quantity_kg": 60}, {"lat": 31.5, "lon": 112.0, "grade": "B"}])
    orders = orders_table(["2026-11-22T08:00", "2026-11-22T07:00", "", "2026-11-22T06:00"])
    offers.write_csv(tmp_path / "offers.csv")
    orders.write_csv(tmp_path / "orders.csv")
    regions.shapes.assign(hub_lat=regions.hubs["hub_lat"].to_list(), hub_lon=regions.hubs["hub_lon"].to_list()).to_file(
        tmp_path / "regions.geojson", driver="GeoJSON"
    )
    out = tmp_path / "out"
    argv = [
        "match",
        "--offers",
        str(tmp_path / "offers.csv"),
        "--orders",
        str(tmp_path / "orders.csv"),
        "--regions",
        str(tmp_path / "regions.geojson"),
        "--date",
        DATE.isoformat(),
        "--out",
        str(out),
        "--workers",
        "1",
        "--quiet",
    ]
    assert main(argv) == 0
    got = compute_cycle(offers, regions, date=DATE, params=MatchParams(workers=1), orders=orders)
    assert got.orders is not None
    written = {
        "allocations.csv": got.match.allocations,
        "offers_out.csv": got.match.offers,
        "demand_out.csv": got.match.demand,
        "demand.csv": got.demand.drop("orders"),
        "orders_out.csv": got.orders,
    }
    for name, frame in written.items():
        assert (out / name).read_text() == publish(frame).write_csv(float_precision=6), name  # money as published
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == [*(k for k in got.summary if k != "seconds"), "inputs", "seconds"]
    assert list(summary["seconds"]) == ["read", "regions", *got.summary["seconds"], "write", "total"]
