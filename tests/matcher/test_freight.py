"""The trucks freight model: lanes priced from the fleets and the plan's tours, round by round
(:mod:`matcher.freight`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import polars as pl
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from harvest.cli import main
from matcher import MatchParams, compute_cycle
from matcher.freight.loop import CONSISTENT_WITHIN, NOT_ROUTABLE
from matcher.freight.rates import FleetRates, tour_shares
from matcher.routing.plan import PlanSettings
from matcher.routing.tables import CROSSDOCKS, DEFAULT_FLEETS, LEGS
from matcher.routing.vrp import SolveSettings
from matcher.schemas import ORDERS, parse_table
from regions.geodesy import haversine_km
from regions.polygons import Regions, parse_regions
from tests.frames import DATE, demand_frame, offers_frame

SEARCH = SolveSettings(iterations=200, seconds=5.0, seed=1)
TRUCKS = MatchParams(workers=1, freight="trucks", freight_rounds=3)


def _regions() -> Regions:
    """Four regions in a row along the 30th parallel, 2 degrees (about 190 km) apart."""
    boxes = [shapely.box(109 + 2 * k, 29, 111 + 2 * k, 31) for k in range(4)]
    shapes = gpd.GeoDataFrame(
        {"region_id": [f"r{k}" for k in range(4)], "hub_lat": [30.0] * 4, "hub_lon": [110.0 + 2 * k for k in range(4)]}, geometry=boxes, crs="EPSG:4326"
    )
    return parse_regions(shapes, source="regions")


@pytest.fixture
def regions() -> Regions:
    return _regions()


def _plan(fleets: dict[str, pl.DataFrame] | None = None) -> PlanSettings:
    return PlanSettings(solve=SEARCH, fleets=fleets or {leg: DEFAULT_FLEETS[leg] for leg in LEGS}, workers=1)


def _orders(rows: list[tuple[str, str, int, float, float, float]]) -> pl.DataFrame:
    """(order_id, product, kg, lat, lon, max price) rows, due five days after the cycle date."""
    raw = pl.DataFrame(
        {
            "order_id": [r[0] for r in rows],
            "product": [r[1] for r in rows],
            "min_grade": ["C"] * len(rows),
            "quantity_kg": [str(r[2]) for r in rows],
            "lat": [str(r[3]) for r in rows],
            "lon": [str(r[4]) for r in rows],
            "max_price_per_kg": [str(r[5]) for r in rows],
            "due_date": [str(DATE + dt.timedelta(days=5))] * len(rows),
        }
    )
    return parse_table(raw, ORDERS, source="orders", key="order_id")


def _day() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Offers in r0 and r1, orders in every region, some worth a truck and some not."""
    offers = offers_frame(
        [
            {"lat": 30.1, "lon": 110.1, "quantity_kg": 6_000, "ask_per_kg": 1.0},
            {"lat": 29.9, "lon": 110.3, "quantity_kg": 3_000, "ask_per_kg": 1.2},
            {"lat": 30.2, "lon": 112.1, "quantity_kg": 2_000, "ask_per_kg": 1.1},
        ]
    )
    rows = []
    for k in range(4):
        for n in range(6):
            rows.append((f"b{k}{n}", "apple", 400 if k else 150, 30.0 + 0.05 * n, 110.0 + 2 * k + 0.1 * n, 3.0 + 0.1 * k))
    return offers, _orders(rows)


def test_the_match_pays_for_the_trucks_the_plan_runs(regions: Regions) -> None:
    offers, orders = _day()
    got = compute_cycle(offers, regions, date=DATE, params=TRUCKS, orders=orders, plan=_plan())
    freight = got.summary["freight"]
    assert freight["model"] == "trucks" and got.plan is not None
    # every round is one exact match at its costs; the kept round is the best realized one among those
    # that trade and whose tours cost at most CONSISTENT_WITHIN times what their lanes assumed (else of all)
    rounds = freight["rounds"]
    assert 1 <= len(rounds) <= TRUCKS.freight_rounds
    consistent = [r for r in rounds if r["assumed"]["total"] > 0 and r["routed"]["total"] <= CONSISTENT_WITHIN * r["assumed"]["total"] + 0.01]
    expected = max(consistent or rounds, key=lambda r: (r["realized_welfare"], -r["round"]))
    assert freight["kept_round"] == expected["round"]
    # the realized welfare is the published welfare with the tours paid instead of the lanes' costs
    alloc = got.match.allocations
    value = float((alloc["quantity_kg"] * (alloc["price_per_kg"] - alloc["ask_per_kg"])).sum())
    tours = float(got.plan.plan.routes["cost"].sum())
    handling = TRUCKS.handling_per_kg * int(alloc["quantity_kg"].sum())
    assert freight["realized_welfare"] == pytest.approx(value - tours - handling, abs=0.05)
    assert freight["routed"]["total"] == pytest.approx(tours + handling, abs=0.05)
    # the bound: the first round at full vehicles' rates, never below what a plan realizes
    assert freight["bound"] >= max(r["realized_welfare"] for r in rounds)
    # nothing sold is left off a tour; kg are conserved on every leg
    assert got.plan.plan.unserved.height == 0
    sold = int(alloc["quantity_kg"].sum())
    routes = got.plan.plan.routes
    assert int(routes.filter(pl.col("leg") == "first_mile")["kg"].sum()) == sold
    assert int(routes.filter(pl.col("leg") == "last_mile")["kg"].sum()) == sold
    kept = offers.join(got.match.offers, on="offer_id")
    assert (kept["sold_kg"] <= kept["quantity_kg"]).all()
    # the books pay freight what the tours cost, and still balance to the cent
    totals = got.summary["settlement"]
    assert totals["balanced"] and float(totals["freight"]) == pytest.approx(tours + handling, abs=0.01)
    assert got.settlement["net"].sum() == 0


def test_prices_certify_the_lane_costs_published(regions: Regions) -> None:
    offers, orders = _day()
    got = compute_cycle(offers, regions, date=DATE, params=TRUCKS, orders=orders, plan=_plan())
    alloc = got.match.allocations
    # on every lane that ships, farm-gate plus the lane's cost is the clearing price
    gap = alloc["farm_gate_price"] + alloc["cost_per_kg"] - alloc["clearing_price"]
    assert float(gap.abs().max()) < 1e-6


def test_a_truckload_goes_direct_and_full(regions: Regions) -> None:
    """One farm, one far region that wants exactly a large truck's load: one direct, full truck."""
    offers = offers_frame([{"lat": 30.0, "lon": 110.0, "quantity_kg": 20_000, "ask_per_kg": 1.0}])
    orders = _orders([("big", "apple", 20_000, 30.0, 116.0, 3.0)])
    got = compute_cycle(offers, regions, date=DATE, params=TRUCKS, orders=orders, plan=_plan())
    assert got.plan is not None
    haul = got.plan.plan.routes.filter(pl.col("leg") == "line_haul")
    assert haul.height == 1 and haul["stops"][0] == 1 and haul["load_factor"][0] == 1.0
    assert int(got.match.allocations["quantity_kg"].sum()) == 20_000


def test_a_kg_the_trucks_cannot_collect_is_not_sold(regions: Regions) -> None:
    """A farm too far from its hub for the first mile's shift: not sold, ``not_routable``, and the
    order it would have filled is not filled from it."""
    fleets = {leg: DEFAULT_FLEETS[leg] for leg in LEGS}
    fleets["first_mile"] = DEFAULT_FLEETS["first_mile"].with_columns(max_duration_min=pl.lit(90.0))
    offers = offers_frame(
        [
            {"lat": 30.0, "lon": 110.05, "quantity_kg": 500, "ask_per_kg": 1.0},  # 5 km from the hub
            {"lat": 29.1, "lon": 109.1, "quantity_kg": 500, "ask_per_kg": 0.5},  # about 130 km: no round trip in 90 min
        ]
    )
    orders = _orders([("near", "apple", 800, 30.0, 112.0, 3.0)])
    got = compute_cycle(offers, regions, date=DATE, params=TRUCKS, orders=orders, plan=_plan(fleets))
    out = dict(zip(got.match.offers["offer_id"], zip(got.match.offers["sold_kg"], got.match.offers["reason"], strict=True), strict=True))
    assert out["o1"] == (0, NOT_ROUTABLE)
    assert out["o0"][0] == 500
    assert got.plan is not None and got.plan.plan.unserved.height == 0
    assert got.orders is not None and got.orders["filled_kg"].to_list() == [500]
    assert got.summary["freight"]["not_routable"]["offers"] == 1


def test_an_order_the_last_mile_cannot_reach_is_not_filled(regions: Regions) -> None:
    """A pickup point the last mile cannot reach in its shift: its order is unfilled, ``not_routable``."""
    fleets = {leg: DEFAULT_FLEETS[leg] for leg in LEGS}
    fleets["last_mile"] = DEFAULT_FLEETS["last_mile"].with_columns(max_duration_min=pl.lit(60.0))
    offers = offers_frame([{"lat": 30.0, "lon": 110.05, "quantity_kg": 2_000, "ask_per_kg": 1.0}])
    orders = _orders([("near", "apple", 1_500, 30.0, 112.1, 3.0), ("far", "apple", 300, 29.1, 112.9, 3.0)])
    got = compute_cycle(offers, regions, date=DATE, params=TRUCKS, orders=orders, plan=_plan(fleets))
    assert got.orders is not None
    by_id = {r["order_id"]: r for r in got.orders.iter_rows(named=True)}
    assert by_id["far"]["filled_kg"] == 0 and by_id["far"]["reason"] == NOT_ROUTABLE and by_id["far"]["status"] == "unfilled"
    assert by_id["near"]["filled_kg"] == 1_500
    assert got.plan is not None and got.plan.plan.unserved.height == 0
    assert got.orders["order_id"].to_list() == ["near", "far"]  # in the given order


def test_the_same_day_gives_the_same_bytes(regions: Regions, tmp_path: Path) -> None:
    offers, orders = _day()
    results = []
    for run in range(2):
        got = compute_cycle(offers, regions, date=DATE, params=TRUCKS, orders=orders.sample(fraction=1.0, shuffle=True, seed=run), plan=_plan())
        results.append(got.match.allocations.sort("offer_id", "demand_id").write_csv())
    assert results[0] == results[1]


def test_harvest_match_prints_and_writes_the_freight(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    offers, orders = _day()
    offers.write_csv(tmp_path / "offers.csv")
    orders.write_csv(tmp_path / "orders.csv")
    r = _regions()
    r.shapes.assign(hub_lat=r.hubs["hub_lat"].to_list(), hub_lon=r.hubs["hub_lon"].to_list()).to_file(tmp_path / "regions.geojson", driver="GeoJSON")
    base = ["match", "--offers", str(tmp_path / "offers.csv"), "--orders", str(tmp_path / "orders.csv"), "--regions", str(tmp_path / "regions.geojson")]
    base += ["--date", DATE.isoformat(), "--workers", "1", "--route-iterations", "100"]
    assert main([*base, "--out", str(tmp_path / "trucks"), "--plan"]) == 0
    printed = capsys.readouterr().out
    assert "realized welfare" in printed and "freight" in printed
    summary = json.loads((tmp_path / "trucks" / "summary.json").read_text())
    routes = pl.read_csv(tmp_path / "trucks" / "plan" / "routes.csv")
    alloc = pl.read_csv(tmp_path / "trucks" / "allocations.csv")
    value = float((alloc["quantity_kg"] * (alloc["price_per_kg"] - alloc["ask_per_kg"])).sum())
    realized = value - float(routes["cost"].sum()) - summary["params"]["handling_per_kg"] * int(alloc["quantity_kg"].sum())
    assert summary["freight"]["realized_welfare"] == pytest.approx(realized, abs=0.05)
    # linear: the relaxation, kept for comparison; its summary says what its plan realizes
    assert main([*base, "--out", str(tmp_path / "linear"), "--plan", "--freight", "linear"]) == 0
    linear = json.loads((tmp_path / "linear" / "summary.json").read_text())["freight"]
    assert linear["model"] == "linear" and "realized_welfare" in linear
    # a bad model: exit 2, nothing written
    with pytest.raises(SystemExit) as stop:
        main([*base, "--out", str(tmp_path / "bad"), "--freight", "barges"])
    assert stop.value.code == 2 and not (tmp_path / "bad").exists()


@given(
    st.lists(st.tuples(st.integers(500, 20_000), st.floats(50, 900), st.floats(0.5, 8)), min_size=1, max_size=4),
    st.lists(st.tuples(st.floats(0, 500), st.integers(1, 5_000)), min_size=1, max_size=6),
)
def test_a_full_vehicle_rate_never_exceeds_what_a_tour_charges(vehicles: list[tuple[int, float, float]], stops: list[tuple[float, int]]) -> None:
    """Any tour of a fleet's vehicle costs at least the kg it carries times the cheapest full rate at
    their distances: the first round's costs are a lower bound, its welfare an upper one."""
    fleet = pl.DataFrame({"capacity_kg": [v[0] for v in vehicles], "fixed_cost": [v[1] for v in vehicles], "cost_per_km": [v[2] for v in vehicles]})
    rates = FleetRates.of(fleet)
    km = np.array([s[0] for s in stops])
    kg = np.array([s[1] for s in stops], np.float64)
    for capacity, fixed, per_km in vehicles:
        if kg.sum() > capacity:
            continue
        tour = fixed + per_km * km.max()  # an open-ended tour drives at least to its farthest stop
        assert tour >= float((kg * rates.full_load(km)).sum()) - 1e-6


def test_tour_costs_are_shared_by_kg_and_km() -> None:
    routes = pl.DataFrame({"leg": ["line_haul"], "hub": ["r0"], "route_id": ["R1"], "depot_id": ["hub:r0"], "cost": [900.0]})
    stops = pl.DataFrame(
        {"leg": ["line_haul"] * 2, "route_id": ["R1"] * 2, "stop_id": ["hub:r1", "hub:r2"], "kg": [100, 200], "lat": [30.0, 30.0], "lon": [112.0, 114.0]}
    )
    depots = pl.DataFrame({"depot_id": ["hub:r0"], "lat": [30.0], "lon": [110.0]})
    shares = tour_shares(routes, stops, depots, circuity=1.0)
    assert float(shares["share"].sum()) == pytest.approx(900.0)
    km = haversine_km(np.array([30.0, 30.0]), np.array([112.0, 114.0]), np.array([30.0, 30.0]), np.array([110.0, 110.0]))
    weight = np.array([100, 200]) * km
    assert shares["share"].to_list() == pytest.approx(list(900.0 * weight / weight.sum()))


def test_linear_and_pooled_rows_still_work(regions: Regions) -> None:
    """Pooled demand rows (no last mile): the trucks model prices two legs; the books balance."""
    offers = offers_frame([{"lat": 30.1, "lon": 110.1, "quantity_kg": 5_000}])
    demand = demand_frame([{"region_id": "r2", "quantity_kg": 5_000, "price_per_kg": 3.0}])
    got = compute_cycle(offers, regions, date=DATE, params=TRUCKS, demand=demand, plan=_plan())
    assert got.summary["freight"]["routed"]["last_mile"] == 0.0
    assert got.summary["settlement"]["balanced"]
    linear = compute_cycle(offers, regions, date=DATE, params=MatchParams(workers=1, freight="linear"), demand=demand)
    assert linear.summary["freight"] == {"model": "linear"} and "freight_gap" not in linear.summary["settlement"]


def test_a_product_with_too_many_pairs_keeps_each_offers_best(regions: Regions, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past PAIR_LIMIT pairs a product keeps, per offer, the destinations with the best margin bound."""
    from matcher.freight import corridors as corr

    offers = offers_frame([{"lat": 30.0, "lon": 110.0 + k / 10, "quantity_kg": 500} for k in range(3)])
    demand = demand_frame([{"region_id": f"r{k}", "price_per_kg": 3.0 + k} for k in range(4)])
    full = corr.build_corridors(offers, demand, regions, date=DATE, circuity=1.3)
    assert full.size == 12
    monkeypatch.setattr(corr, "PAIR_LIMIT", 5)
    monkeypatch.setattr(corr, "PAIRS_PER_OFFER", 2)
    kept = corr.build_corridors(offers, demand, regions, date=DATE, circuity=1.3, lower_cost=(lambda fm_km: 0.0 * fm_km, lambda lh_km: 0.001 * lh_km))
    assert kept.size == 6
    # the bids rise eastwards faster than the cost: every offer keeps the two farthest regions
    assert set(kept.pairs["region_id"]) == {"r2", "r3"}


def test_the_best_pairs_of_a_row_keep_ties_leftmost() -> None:
    from matcher.freight.corridors import _best_per_row

    score = np.array([[1.0, 5.0, 5.0, 5.0, 2.0], [3.0, 1.0, 4.0, 1.0, 5.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    rows, cols = _best_per_row(score, 2)
    kept = {(int(r), int(c)) for r, c in zip(rows, cols, strict=True)}
    assert kept == {(0, 1), (0, 2), (1, 2), (1, 4), (2, 0), (2, 1)}
    # as a stable sort by descending score keeps them
    for r in range(3):
        assert sorted(int(c) for c in cols[rows == r]) == sorted(np.argsort(-score[r], kind="stable")[:2].tolist())
    rows, cols = _best_per_row(score, 9)
    assert len(rows) == score.size


def test_empty_and_unprofitable_days(regions: Regions) -> None:
    """No offers and no orders; offers and no orders; a lane the trucks make unprofitable."""
    got = compute_cycle(offers_frame([]), regions, date=DATE, params=TRUCKS, orders=_orders([]), plan=_plan())
    assert got.summary["freight"]["realized_welfare"] == 0.0 and got.summary["settlement"]["balanced"]
    assert got.plan is not None and got.plan.plan.routes.height == 0
    got = compute_cycle(offers_frame([{"quantity_kg": 100}]), regions, date=DATE, params=TRUCKS, orders=_orders([]), plan=_plan())
    assert got.match.offers["reason"].to_list() == ["no_feasible_lane"]
    far = _orders([("a", "apple", 50, 30.0, 116.0, 3.0)])  # 50 kg over 600 km: no truck pays for it at this margin
    got = compute_cycle(offers_frame([{"quantity_kg": 100, "ask_per_kg": 2.0}]), regions, date=DATE, params=TRUCKS, orders=far, plan=_plan())
    assert got.match.offers["reason"].to_list() == ["not_profitable"] and got.orders is not None
    assert got.orders["reason"].to_list() == ["not_profitable"] and got.summary["freight"]["realized_welfare"] == 0.0


# ---- crossdocks -----------------------------------------------------------------------------------------------


def _crossdock_day() -> tuple[Regions, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Two origin regions about 125 road km apart, each with half a truck for a region 1,250 km east;
    a crossdock just east of them on the way."""
    boxes = [shapely.box(109.5, 29.5, 110.5, 30.5), shapely.box(110.5, 29.5, 111.4, 30.5), shapely.box(119.5, 29.5, 120.5, 30.5)]
    shapes = gpd.GeoDataFrame({"region_id": ["a", "b", "d"], "hub_lat": [30.0] * 3, "hub_lon": [110.0, 111.0, 120.0]}, geometry=boxes, crs="EPSG:4326")
    regions = parse_regions(shapes, source="regions")
    offers = offers_frame(
        [
            {"lat": 30.02, "lon": 110.02, "quantity_kg": 2_400, "ask_per_kg": 1.0, "cooperative_id": "ca"},
            {"lat": 30.02, "lon": 111.02, "quantity_kg": 2_400, "ask_per_kg": 1.0, "cooperative_id": "cb"},
        ]
    )
    orders = _orders([(f"d{n}", "apple", 400, 30.0 + 0.02 * n, 120.0 + 0.02 * n, 4.0) for n in range(12)])
    raw = pl.DataFrame({"crossdock_id": ["x"], "lat": ["30.0"], "lon": ["111.5"], "capacity_kg": ["50000"], "handling_per_kg": ["0.05"]})
    crossdocks = parse_table(raw, CROSSDOCKS, source="crossdocks", key="crossdock_id")
    return regions, offers, orders, crossdocks


def test_a_crossdock_fills_a_truck_two_origins_could_not_fill_alone() -> None:
    regions, offers, orders, crossdocks = _crossdock_day()
    params = MatchParams(workers=1, freight="trucks", freight_rounds=4)
    alone = compute_cycle(offers, regions, date=DATE, params=params, orders=orders, plan=_plan())
    got = compute_cycle(offers, regions, date=DATE, params=params, orders=orders, plan=_plan(), crossdocks=crossdocks)
    assert got.plan is not None and alone.plan is not None
    # without the crossdock each origin sends its own half-empty truck 1,250 km
    direct = alone.plan.plan.routes.filter(pl.col("leg") == "line_haul")
    assert direct.height == 2 and (direct["kg"] == 2_400).all()
    # with it, both origins' kg go through it, and one truck carries them on
    alloc = got.match.allocations
    assert (alloc["via"] == "x").all() and int(alloc["quantity_kg"].sum()) == 4_800
    haul = got.plan.plan.routes.filter(pl.col("leg") == "line_haul")
    onward = haul.filter(pl.col("hub") == "crossdock:x")
    assert onward.height == 1 and onward["kg"].to_list() == [4_800] and onward["depot_id"].to_list() == ["crossdock:x"]
    feeders = haul.filter(pl.col("hub") != "crossdock:x")
    assert sorted(feeders["hub"].to_list()) == ["a", "b"] and (feeders["kg"] == 2_400).all()
    stops = got.plan.plan.stops.filter(pl.col("leg") == "line_haul")
    assert set(stops.filter(pl.col("route_id").is_in(feeders["route_id"].implode()))["stop_id"]) == {"crossdock:x"}
    # the crossdock's handling is paid, and the day is worth more than without it
    freight = got.summary["freight"]
    assert freight["routed"]["crossdock_handling"] == pytest.approx(0.05 * 4_800)
    assert got.plan.plan.summary["crossdock_handling_cost"] == pytest.approx(0.05 * 4_800)
    assert freight["realized_welfare"] > alone.summary["freight"]["realized_welfare"] + 1_000
    assert freight["bound"] >= freight["realized_welfare"]
    totals = got.summary["settlement"]
    assert totals["balanced"] and float(totals["freight"]) == pytest.approx(freight["paid"], abs=0.01)
    assert got.plan.plan.unserved.height == 0


def test_a_full_crossdock_sends_the_lanes_that_save_least_direct() -> None:
    from matcher.freight.corridors import Corridors
    from matcher.freight.costs import LegCosts
    from matcher.freight.loop import assign_paths

    _, _, _, crossdocks = _crossdock_day()
    pairs = pl.DataFrame(
        {
            "offer_id": ["o0", "o1", "o2", "o3"],
            "region_id": ["d", "d", "d", "d"],
            "via": ["x", "x", "x", None],
        }
    )
    corridors = Corridors(pairs, False, pl.DataFrame(), crossdocks.with_columns(capacity_kg=pl.lit(3_000, pl.Int64)))
    zero = np.zeros(4)
    # o0 saves 0.2 per kg through x, o1 0.5, o2 0.1 (but it is small), o3 has no crossdock
    costs = LegCosts(zero, np.array([1.0, 1.0, 1.0, 1.0]), zero, np.array([0.8, 0.5, 0.9, np.inf]))
    alloc = pl.DataFrame(
        {
            "offer_id": ["o0", "o1", "o1", "o2", "o3"],
            "demand_id": ["d1", "d1", "d2", "d1", "d1"],
            "region_id": ["d"] * 5,
            "quantity_kg": [2_000, 1_500, 900, 500, 700],
        }
    )
    got, overflow = assign_paths(alloc, corridors, costs)
    assert got.select("offer_id", "demand_id", "quantity_kg").equals(alloc.select("offer_id", "demand_id", "quantity_kg"))
    # o1 (2,400 kg, the best saving) fits; o0 (2,000) no longer does; o2 (500) still does
    assert got["via"].to_list() == [None, "x", "x", "x", None]
    assert overflow.rows() == [("o0", "d")]  # barred from the crossdock in the next rounds


def test_crossdocks_are_the_trucks_models_only() -> None:
    from harvestmatch.errors import ParameterError

    regions, offers, orders, crossdocks = _crossdock_day()
    with pytest.raises(ParameterError, match="trucks freight model only"):
        compute_cycle(offers, regions, date=DATE, params=MatchParams(workers=1, freight="linear"), orders=orders, plan=_plan(), crossdocks=crossdocks)


def test_harvest_match_and_plan_with_crossdocks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    regions, offers, orders, crossdocks = _crossdock_day()
    offers.write_csv(tmp_path / "offers.csv")
    orders.write_csv(tmp_path / "orders.csv")
    crossdocks.write_csv(tmp_path / "crossdocks.csv")
    regions.shapes.assign(hub_lat=regions.hubs["hub_lat"].to_list(), hub_lon=regions.hubs["hub_lon"].to_list()).to_file(
        tmp_path / "regions.geojson", driver="GeoJSON"
    )
    base = ["--offers", str(tmp_path / "offers.csv"), "--orders", str(tmp_path / "orders.csv"), "--regions", str(tmp_path / "regions.geojson")]
    base += ["--date", DATE.isoformat(), "--workers", "1", "--route-iterations", "100"]
    out = tmp_path / "day"
    assert main(["match", *base, "--out", str(out), "--plan", "--crossdocks", str(tmp_path / "crossdocks.csv")]) == 0
    alloc = pl.read_csv(out / "allocations.csv")
    assert set(alloc["via"].to_list()) == {"x"}
    routes = pl.read_csv(out / "plan" / "routes.csv")
    assert routes.filter(pl.col("depot_id") == "crossdock:x")["kg"].to_list() == [4_800]
    geo = json.loads((out / "plan" / "routes.geojson").read_text())
    assert any(f["properties"]["depot_id"] == "crossdock:x" for f in geo["features"])
    # harvest plan re-plans the result through the same crossdock (the path the result recorded)
    capsys.readouterr()
    assert main(["plan", "--result", str(out), "--route-iterations", "100", "--quiet"]) == 0
    again = pl.read_csv(out / "plan" / "routes.csv")
    assert again.filter(pl.col("depot_id") == "crossdock:x")["kg"].to_list() == [4_800]
    # without the crossdocks the result's via names what the plan does not know: exit 2, naming the row
    summary = json.loads((out / "summary.json").read_text())
    del summary["inputs"]["crossdocks"]
    (out / "summary.json").write_text(json.dumps(summary))
    assert main(["plan", "--result", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "allocations.csv" in err and "via" in err and "give --crossdocks" in err
    # bad crossdocks: a negative capacity names file, row and column; nothing written
    (tmp_path / "bad.csv").write_text("crossdock_id,lat,lon,capacity_kg,handling_per_kg\nx,30.0,111.5,-5,0.05\n")
    assert main(["match", *base, "--out", str(tmp_path / "bad"), "--crossdocks", str(tmp_path / "bad.csv")]) == 2
    err = capsys.readouterr().err
    assert "bad.csv: row 1: column 'capacity_kg': expected a whole number of kg greater than 0, got '-5'" in err
    assert not (tmp_path / "bad").exists()
    # crossdocks with the linear model: exit 2, nothing written
    assert main(["match", *base, "--out", str(tmp_path / "lin"), "--freight", "linear", "--crossdocks", str(tmp_path / "crossdocks.csv")]) == 2
    assert "trucks freight model only" in capsys.readouterr().err and not (tmp_path / "lin").exists()


def test_the_kept_round_is_the_best_whose_tours_cost_what_its_lanes_assumed() -> None:
    from types import SimpleNamespace
    from typing import Any, cast

    from matcher.freight.loop import keep

    def rnd(number: int, realized: float, assumed: float, routed: float) -> Any:
        return SimpleNamespace(number=number, realized=realized, report={"assumed": {"total": assumed}, "routed": {"total": routed}})

    # round 1 realizes most but its tours cost 1.5 times its lanes: round 2, within the limit, is kept
    rounds = [rnd(0, 100.0, 100.0, 500.0), rnd(1, 300.0, 100.0, 150.0), rnd(2, 250.0, 100.0, 100.0 * CONSISTENT_WITHIN), rnd(3, 200.0, 100.0, 90.0)]
    assert keep(cast(Any, rounds)).number == 2
    # a round without trade checks nothing; with no consistent round, the best realized of all
    rounds = [rnd(0, 50.0, 100.0, 400.0), rnd(1, 0.0, 0.0, 0.0), rnd(2, 40.0, 100.0, 200.0)]
    assert keep(cast(Any, rounds)).number == 0
    # ties: the earlier
    assert keep(cast(Any, [rnd(0, 10.0, 10.0, 10.0), rnd(1, 10.0, 10.0, 10.0)])).number == 0


def test_a_crossdock_too_small_or_without_vehicles_sends_its_lanes_direct() -> None:
    """A crossdock that cannot take both origins' kg keeps one lane and bars the other from itself for
    the rounds after; one whose onward hop has no vehicle bars every lane that tried it: they go direct
    again (nothing is left unsold for it), and the day realizes what it would without the crossdock."""
    regions, offers, orders, crossdocks = _crossdock_day()
    params = MatchParams(workers=1, freight="trucks", freight_rounds=4)
    alone = compute_cycle(offers, regions, date=DATE, params=params, orders=orders, plan=_plan()).summary["freight"]["realized_welfare"]
    small = crossdocks.with_columns(capacity_kg=pl.lit(2_400, pl.Int64))
    got = compute_cycle(offers, regions, date=DATE, params=params, orders=orders, plan=_plan(), crossdocks=small)
    assert all(r["crossdock_kg"] <= 2_400 for r in got.summary["freight"]["rounds"])
    assert got.plan is not None and got.plan.plan.unserved.height == 0
    assert int(got.plan.plan.routes.filter(pl.col("hub") == "crossdock:x")["kg"].sum()) <= 2_400
    # line-haul trucks based at the hubs only: nothing can leave the crossdock
    hubs_only = pl.concat([DEFAULT_FLEETS["line_haul"].with_columns(depot=pl.lit(f"hub:{h}")) for h in ("a", "b", "d")])
    fleets = {**{leg: DEFAULT_FLEETS[leg] for leg in LEGS}, "line_haul": hubs_only}
    stuck = compute_cycle(offers, regions, date=DATE, params=params, orders=orders, plan=_plan(fleets), crossdocks=crossdocks)
    assert stuck.summary["freight"]["realized_welfare"] == pytest.approx(alone, abs=1.0)
    assert int(stuck.match.allocations["quantity_kg"].sum()) == 4_800 and stuck.match.allocations["via"].is_null().all()
    assert stuck.summary["freight"]["not_routable"]["offers"] == 0
