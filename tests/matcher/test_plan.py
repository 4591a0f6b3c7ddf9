"""A cycle's transport plan: every kg of every leg on exactly one tour or listed, hubs and warehouses,
open-ended line haul, determinism, and the plan as a user makes it (``harvest match --plan``, ``harvest plan``)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import polars as pl
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.routing.plan import PlanInputs, PlanSettings, offer_regions, plan_routes
from matcher.routing.tables import DEFAULT_FLEETS, LEGS
from matcher.routing.vrp import SolveSettings
from regions.geodesy import haversine_km

DAY = dt.date(2026, 6, 1)
SHAPES = gpd.GeoDataFrame(
    {"region_id": ["A", "B", "C"]}, geometry=[shapely.box(110, 30, 111, 31), shapely.box(111.5, 30, 112.5, 31), shapely.box(113, 30, 114, 31)], crs=4326
)
HUBS = pl.DataFrame({"region_id": ["A", "B", "C"], "hub_lat": [30.5, 30.5, 30.5], "hub_lon": [110.5, 112.0, 113.5]})
QUICK = PlanSettings(solve=SolveSettings(iterations=150, seconds=20.0, seed=3))


def day(seed: int, n_offers: int = 12, n_orders: int = 16, with_orders: bool = True) -> PlanInputs:
    """Offers spread over three regions (a few outside every region), allocations to the regions' demand
    rows, and filled orders at pickup points (some sharing a point id)."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(109.8, 114.2, n_offers)  # some fall between or beyond the boxes: nearest hub
    offers = pl.DataFrame({"offer_id": [f"o{i:03d}" for i in range(n_offers)], "lat": rng.uniform(30, 31, n_offers), "lon": lon})
    dest = rng.integers(0, 3, n_offers)
    region = np.array(["A", "B", "C"])[dest]
    alloc = pl.DataFrame(
        {
            "offer_id": offers["offer_id"],
            "demand_id": [f"d{r}" for r in region],
            "region_id": region,
            "quantity_kg": rng.integers(1, 9_000, n_offers),
            "transit_days": rng.integers(0, 3, n_offers),
            "cost_per_kg": np.full(n_offers, 0.25),
        }
    )
    orders = None
    if with_orders:
        o_region = np.array(["A", "B", "C"])[rng.integers(0, 3, n_orders)]
        centre = HUBS.select("region_id", "hub_lon").to_dict(as_series=False)
        o_lon = np.array([dict(zip(centre["region_id"], centre["hub_lon"]))[r] for r in o_region]) + rng.uniform(-0.4, 0.4, n_orders)
        orders = pl.DataFrame(
            {
                "order_id": [f"r{i:03d}" for i in range(n_orders)],
                "region_id": o_region,
                "demand_id": [f"d{r}" for r in o_region],
                "filled_kg": rng.integers(0, 1_500, n_orders),
                "lat": rng.uniform(30.1, 30.9, n_orders),
                "lon": o_lon,
                "due_date": [DAY + dt.timedelta(days=int(d)) for d in rng.integers(2, 5, n_orders)],
                "pickup_point_id": [None if k % 3 else f"pp{k % 2}" for k in range(n_orders)],
            },
            schema_overrides={"pickup_point_id": pl.String},
        )
    return PlanInputs(DAY, alloc, offers, offer_regions(offers, SHAPES, HUBS), HUBS, orders)


def _kg(frame: pl.DataFrame, leg: str, key: list[str]) -> dict[tuple, int]:
    part = frame.filter(pl.col("leg") == leg).group_by(key).agg(pl.col("kg").sum())
    return {tuple(row[:-1]): int(row[-1]) for row in part.iter_rows()}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_every_kg_of_every_leg_is_on_one_tour_or_listed(seed: int) -> None:
    inputs = day(seed)
    plan = plan_routes(inputs, QUICK)
    origin = dict(inputs.offer_region.iter_rows())
    # first mile: each offer's sold kg, collected at the hub of its region
    moved = _kg(plan.stops, "first_mile", ["stop_id"])
    for (stop,), kg in _kg(plan.unserved, "first_mile", ["stop_id"]).items():
        moved[(stop,)] = moved.get((stop,), 0) + kg
    sold = {(o,): int(k) for o, k in inputs.allocations.group_by("offer_id").agg(pl.col("quantity_kg").sum()).iter_rows()}
    assert moved == sold
    fm = plan.routes.filter(pl.col("leg") == "first_mile").join(plan.stops.select("route_id", "stop_id"), on="route_id")
    assert all(depot == f"hub:{origin[stop]}" for depot, stop in fm.select("depot_id", "stop_id").iter_rows())
    # line haul: kg per (origin hub, destination hub), nothing for goods that stay at their own hub
    lh = plan.stops.filter(pl.col("leg") == "line_haul").join(plan.routes.select("route_id", "hub"), on="route_id")
    got = {(h, s): int(k) for h, s, k in lh.group_by("hub", "stop_id").agg(pl.col("kg").sum()).iter_rows()}
    for (stop,), kg in _kg(plan.unserved.with_columns(hub=pl.col("problem_id").str.split(":").list.get(1)), "line_haul", ["stop_id"]).items():
        raise AssertionError(f"line haul left {kg} kg for {stop} unserved on an unconstrained default fleet")
    want: dict[tuple, int] = {}
    for offer, region, kg in inputs.allocations.select("offer_id", "region_id", "quantity_kg").iter_rows():
        if origin[offer] != region:
            want[(origin[offer], f"hub:{region}")] = want.get((origin[offer], f"hub:{region}"), 0) + kg
    assert got == want
    # last mile: each pickup point's filled kg, from its region's hub
    assert inputs.orders is not None
    lm = plan.stops.filter(pl.col("leg") == "last_mile")
    served = int(lm["kg"].sum()) + int(plan.unserved.filter(pl.col("leg") == "last_mile")["kg"].sum())
    delivered = inputs.orders.join(inputs.allocations.select("demand_id").unique(), on="demand_id", how="semi")["filled_kg"].sum()
    assert served == delivered
    assert lm["region_id"].null_count() == 0 and plan.stops["region_id"].null_count() == 0
    # capacities, and each route's stops and kg as its rows say
    per_route = plan.stops.group_by("route_id").agg(pl.len().alias("n"), pl.col("kg").sum().alias("k"))
    joined = plan.routes.join(per_route, on="route_id")
    assert joined.height == plan.routes.height
    assert (joined["kg"] <= joined["capacity_kg"]).all() and (joined["n"] == joined["stops"]).all() and (joined["k"] == joined["kg"]).all()
    assert plan.routes["route_id"].is_unique().all()


def test_the_same_day_gives_the_same_plan() -> None:
    first, again = plan_routes(day(11), QUICK), plan_routes(day(11), QUICK)
    assert first.routes.equals(again.routes) and first.stops.equals(again.stops) and first.unserved.equals(again.unserved)


def test_a_plan_spreads_its_budget_over_its_stops() -> None:
    """Each problem gets (budget - SETUP_WORK x problems) // stops iterations, at most the per-problem
    iterations and at least 1; the same plan at the same budget is the same plan."""
    from matcher.routing.vrp import SETUP_WORK

    inputs = day(7)
    roomy = plan_routes(inputs, QUICK)
    st = roomy.summary["settings"]
    assert st["iterations_per_problem"] == 150 and st["budget"] == SolveSettings().budget
    tight = SolveSettings(iterations=150, seconds=20.0, seed=3, budget=SETUP_WORK * st["problems"] + 20 * st["stops"] + st["stops"] - 1)
    first, again = plan_routes(inputs, PlanSettings(solve=tight)), plan_routes(inputs, PlanSettings(solve=tight))
    assert first.summary["settings"]["iterations_per_problem"] == 20
    assert first.routes.equals(again.routes) and first.stops.equals(again.stops)
    floor = plan_routes(inputs, PlanSettings(solve=SolveSettings(iterations=150, seconds=20.0, seed=3, budget=1)))
    assert floor.summary["settings"]["iterations_per_problem"] == 1
    assert int(floor.stops["kg"].sum()) + int(floor.unserved["kg"].sum()) == int(roomy.stops["kg"].sum()) + int(roomy.unserved["kg"].sum())


def test_line_haul_is_open_ended_and_costs_one_way() -> None:
    inputs = day(5)
    plan = plan_routes(inputs, QUICK)
    direct = plan.routes.filter((pl.col("leg") == "line_haul") & (pl.col("stops") == 1)).join(plan.stops.select("route_id", "lat", "lon"), on="route_id")
    assert direct.height > 0
    hub = {f"hub:{r}": (la, lo) for r, la, lo in HUBS.iter_rows()}
    for depot, km, lat, lon in direct.select("depot_id", "km", "lat", "lon").iter_rows():
        one_way = 1.3 * float(haversine_km(*hub[depot], lat, lon))
        assert km == pytest.approx(one_way, abs=0.02)  # decametre rounding; a round trip would be twice this


def test_warehouses_take_offers_until_full_and_the_rest_is_listed() -> None:
    inputs = day(7, n_offers=10)
    sold = inputs.allocations.group_by("offer_id").agg(pl.col("quantity_kg").sum()).sort("offer_id")
    room = int(sold["quantity_kg"].head(3).sum())
    warehouses = pl.DataFrame(
        {
            "warehouse_id": ["W1", "W2"],
            "lat": [30.5, 30.4],
            "lon": [111.0, 113.0],
            "capacity_kg": [room, int(sold["quantity_kg"].max())],
            "handling_per_kg": [0.05, 0.10],
        }
    )
    plan = plan_routes(PlanInputs(inputs.date, inputs.allocations, inputs.offers, inputs.offer_region, HUBS, None, warehouses), QUICK)
    fm = plan.routes.filter(pl.col("leg") == "first_mile")
    assert set(fm["depot_id"]) <= {"warehouse:W1", "warehouse:W2"}
    at = fm.group_by("hub").agg(pl.col("kg").sum())
    cap = dict(zip(warehouses["warehouse_id"], warehouses["capacity_kg"]))
    assert all(kg <= cap[h] for h, kg in at.iter_rows())
    refused = plan.unserved.filter(pl.col("problem_id") == "first_mile:warehouses")
    assert refused.height > 0 and refused["reason"].str.contains("capacity_kg").all()
    assert int(fm["kg"].sum()) + int(refused["kg"].sum()) == int(sold["quantity_kg"].sum())
    handled = fm.join(warehouses.select(pl.col("warehouse_id").alias("hub"), "handling_per_kg"), on="hub")
    assert plan.summary["warehouse_handling_cost"] == pytest.approx(float((handled["kg"] * handled["handling_per_kg"]).sum()), abs=0.01)
    # line haul leaves from the warehouses
    assert set(plan.routes.filter(pl.col("leg") == "line_haul")["depot_id"]) <= {"warehouse:W1", "warehouse:W2"}


def test_without_orders_the_last_mile_is_not_planned_and_says_why() -> None:
    plan = plan_routes(day(3, with_orders=False), QUICK)
    assert plan.routes.filter(pl.col("leg") == "last_mile").height == 0
    assert "pooled demand" in plan.summary["last_mile"]
    assert plan.summary["legs"]["first_mile"]["vehicles"] > 0


def test_a_short_fleet_lists_what_it_cannot_carry() -> None:
    fleets = {**{leg: DEFAULT_FLEETS[leg] for leg in LEGS}, "first_mile": DEFAULT_FLEETS["first_mile"].head(1).with_columns(count=pl.lit(1, pl.Int64))}
    plan = plan_routes(day(9, n_offers=20), PlanSettings(solve=QUICK.solve, fleets=fleets))
    un = plan.unserved.filter(pl.col("leg") == "first_mile")
    assert plan.summary["status"] == "partial" and un.height > 0
    assert plan.routes.filter(pl.col("leg") == "first_mile").group_by("hub").len()["len"].max() == 1


def test_fleet_rows_naming_a_depot_serve_only_that_hub() -> None:
    """A first-mile fleet based at hub A alone: A's offers are collected by it, the other hubs' are listed
    as having no vehicle, and no tour of that vehicle type starts elsewhere."""
    local = DEFAULT_FLEETS["first_mile"].head(1).with_columns(depot=pl.lit("hub:A"))
    fleets = {**{leg: DEFAULT_FLEETS[leg] for leg in LEGS}, "first_mile": local}
    plan = plan_routes(day(9, n_offers=20), PlanSettings(solve=QUICK.solve, fleets=fleets))
    first = plan.routes.filter(pl.col("leg") == "first_mile")
    assert first.height > 0 and set(first["depot_id"]) == {"hub:A"}
    un = plan.unserved.filter(pl.col("leg") == "first_mile")
    assert un.height > 0 and set(un["problem_id"]) <= {"first_mile:B", "first_mile:C"}
    assert un["reason"].str.contains("no vehicle of the fleet is based").all()
    assert plan.summary["status"] == "partial"


# ---- as a user runs it -------------------------------------------------------------------------------------------


def _harvest(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harvest", *args], capture_output=True, text=True, timeout=600, cwd=cwd)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(2)
    n = 14
    offers = pl.DataFrame(
        {
            "offer_id": [f"o{i:02d}" for i in range(n)],
            "cooperative_id": [f"c{i % 4}" for i in range(n)],
            "product": "apple",
            "grade": "A",
            "quantity_kg": rng.integers(300, 4_000, n),
            "lat": rng.uniform(30.1, 30.9, n),
            "lon": np.r_[rng.uniform(110.1, 110.9, 7), rng.uniform(113.1, 113.9, 7)],
            "ready_date": "2026-06-01",
            "shelf_life_days": 10,
            "ask_per_kg": 1.0,
        }
    )
    m = 40
    orders = pl.DataFrame(
        {
            "order_id": [f"r{i:02d}" for i in range(m)],
            "product": "apple",
            "min_grade": "B",
            "quantity_kg": rng.integers(50, 600, m),
            "lat": rng.uniform(30.2, 30.8, m),
            "lon": rng.uniform(111.6, 112.4, m),  # all in B: every kg crosses a line haul
            "max_price_per_kg": 3.0,
            "due_date": "2026-06-05",
        }
    )
    paths = {"offers": tmp_path / "offers.csv", "orders": tmp_path / "orders.csv", "regions": tmp_path / "regions.geojson"}
    offers.write_csv(paths["offers"])
    orders.write_csv(paths["orders"])
    SHAPES.to_file(paths["regions"], driver="GeoJSON")
    return paths


@pytest.mark.slow
def test_match_with_plan_then_plan_again_gives_the_same_files(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    common = ["--offers", str(files["offers"]), "--orders", str(files["orders"]), "--regions", str(files["regions"]), "--date", "2026-06-01", "--workers", "1"]
    done = _harvest("match", *common, "--out", str(out), "--plan", "--route-iterations", "200")
    assert done.returncode == 0, done.stderr
    assert "line_haul" in done.stdout and "routed cost" in done.stdout
    plan_dir = out / "plan"
    assert sorted(p.name for p in plan_dir.iterdir()) == ["routes.csv", "routes.geojson", "stops.csv", "summary.json", "unserved.csv"]
    routes = pl.read_csv(plan_dir / "routes.csv")
    assert set(routes["leg"]) == set(LEGS)
    geo = json.loads((plan_dir / "routes.geojson").read_text())
    assert len(geo["features"]) == routes.height
    first = {name: (plan_dir / name).read_bytes() for name in ("routes.csv", "stops.csv", "unserved.csv", "routes.geojson")}
    # planning the written result again (inputs from its summary.json) gives the same bytes
    again = _harvest("plan", "--result", str(out), "--route-iterations", "200", "--quiet")
    assert again.returncode == 0, again.stderr
    assert {name: (plan_dir / name).read_bytes() for name in first} == first
    # and the result folder, plan and all, is still a previous output folder: a rerun replaces it
    assert _harvest("match", *common, "--out", str(out), "--quiet").returncode == 0
    assert not plan_dir.exists()


def test_plan_bad_input_exits_2_naming_it_and_writes_nothing(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    fleet = tmp_path / "fleet.csv"
    fleet.write_text("vehicle_type,capacity_kg,fixed_cost,cost_per_km,max_duration_min,leg\nvan,-5,100,2,480,first_mile\ntruck,9000,300,3,600,ferry\n")
    done = _harvest(
        "match",
        "--offers",
        str(files["offers"]),
        "--orders",
        str(files["orders"]),
        "--regions",
        str(files["regions"]),
        "--date",
        "2026-06-01",
        "--out",
        str(out),
        "--plan",
        "--fleet",
        str(fleet),
    )
    assert done.returncode == 2
    assert "fleet.csv" in done.stderr and "capacity_kg" in done.stderr and "'ferry' is not a leg" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
    # harvest plan on a folder that is not a result
    (tmp_path / "empty").mkdir()
    done = _harvest("plan", "--result", str(tmp_path / "empty"))
    assert done.returncode == 2 and "no summary.json" in done.stderr and "Traceback" not in done.stderr


def test_a_fleet_of_many_bad_rows_lists_ten_problems_of_each_kind_and_counts_the_rest(tmp_path: Path) -> None:
    from matcher.routing.batch import PlanOptions, read_plan_tables

    rows = [f"truck{k % 2},5000,100,1.2,600,,sideways{k}" for k in range(25)]
    fleet = tmp_path / "fleet.csv"
    fleet.write_text("vehicle_type,capacity_kg,fixed_cost,cost_per_km,max_duration_min,depot,leg\n" + "\n".join(rows) + "\n")
    _, problems = read_plan_tables(PlanOptions(fleet=fleet))
    legs = [p for p in problems if p.column == "leg"]
    assert len(legs) == 11 and legs[-1].message == "... and 15 more rows with bad values"
    assert [p.row for p in legs[:10]] == list(range(1, 11))


def test_a_fleet_row_naming_no_depot_of_the_plan_is_refused_naming_its_row(tmp_path: Path) -> None:
    from matcher.routing.batch import PlanOptions, read_plan_tables

    fleet = tmp_path / "fleet.csv"
    fleet.write_text(
        "vehicle_type,capacity_kg,fixed_cost,cost_per_km,max_duration_min,depot,leg\n"
        "van,1000,50,0.8,600,hub:A,first_mile\n"
        "truck,5000,100,1.2,600,A,line_haul\n"
        "truck,5000,100,1.2,600,warehouse:w1,line_haul\n"
        "truck,5000,100,1.2,600,warehouse:w9,line_haul\n"
    )
    warehouses = tmp_path / "warehouses.csv"
    warehouses.write_text("warehouse_id,lat,lon,capacity_kg,handling_per_kg\nw1,30.5,111.0,100000,0.1\n")
    _, problems = read_plan_tables(PlanOptions(fleet=fleet, warehouses=warehouses))
    depots = [(p.row, p.column) for p in problems]
    assert depots == [(2, "depot"), (4, "depot")], problems
    assert "hub:<region_id>" in problems[0].message
