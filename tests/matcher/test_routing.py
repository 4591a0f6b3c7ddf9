"""The routing core (matcher.routing.vrp): published CVRPLIB optima, conservation, windows, determinism."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.routing.tables import DEFAULT_FLEETS, Travel
from matcher.routing.vrp import REASONS, RoutingProblem, SolveSettings, solve_routing

# CVRPLIB (public benchmark instances): coordinates, demands, capacity and the proven optimum
A_N32_K5 = (
    [
        (82, 76),
        (96, 44),
        (50, 5),
        (49, 8),
        (13, 7),
        (29, 89),
        (58, 30),
        (84, 39),
        (14, 24),
        (2, 39),
        (3, 82),
        (5, 10),
        (98, 52),
        (84, 25),
        (61, 59),
        (1, 65),
        (88, 51),
        (91, 2),
        (19, 32),
        (93, 3),
        (50, 93),
        (98, 14),
        (5, 42),
        (42, 9),
        (61, 62),
        (9, 97),
        (80, 55),
        (57, 69),
        (23, 15),
        (20, 70),
        (85, 60),
        (98, 5),
    ],
    [0, 19, 21, 6, 19, 7, 12, 16, 6, 16, 8, 14, 21, 16, 3, 22, 18, 19, 1, 24, 8, 12, 4, 8, 24, 24, 2, 20, 15, 2, 14, 9],
    100,
    784,
)
E_N22_K4 = (
    [
        (145, 215),
        (151, 264),
        (159, 261),
        (130, 254),
        (128, 252),
        (163, 247),
        (146, 246),
        (161, 242),
        (142, 239),
        (163, 236),
        (148, 232),
        (128, 231),
        (156, 217),
        (129, 214),
        (146, 208),
        (164, 208),
        (141, 206),
        (147, 193),
        (164, 193),
        (129, 189),
        (155, 185),
        (139, 182),
    ],
    [0, 1100, 700, 800, 1400, 2100, 400, 800, 100, 500, 600, 1200, 1300, 1300, 300, 900, 2100, 1000, 900, 2500, 1800, 700],
    6000,
    375,
)


def _cvrplib(instance: tuple) -> RoutingProblem:
    xy, demand, capacity, _ = instance
    xy = np.array(xy, np.float64)
    n = len(xy)
    ids = [f"n{i + 1}" for i in range(n)]
    euclid = np.rint(np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]))
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    matrix = pl.DataFrame(
        {"from_id": [ids[k] for k in i.ravel()], "to_id": [ids[k] for k in j.ravel()], "distance_km": euclid.ravel(), "duration_min": np.zeros(n * n)}
    )
    stops = pl.DataFrame({"stop_id": ids[1:], "lat": xy[1:, 1] / 1000, "lon": xy[1:, 0] / 1000, "kg": demand[1:]})
    depots = pl.DataFrame({"depot_id": [ids[0]], "lat": [xy[0, 1] / 1000], "lon": [xy[0, 0] / 1000]})
    fleet = pl.DataFrame({"vehicle_type": ["truck"], "capacity_kg": [capacity], "fixed_cost": [0.0], "cost_per_km": [1.0], "max_duration_min": [10_000.0]})
    return RoutingProblem("cvrplib", stops, depots, fleet, travel=Travel(matrix=matrix))


@pytest.mark.parametrize("instance", [A_N32_K5, E_N22_K4], ids=["A-n32-k5", "E-n22-k4"])
def test_published_optimum_within_one_percent(instance: tuple) -> None:
    outcome = solve_routing(_cvrplib(instance))
    assert outcome.status == "served"
    assert outcome.cost <= instance[3] * 1.01
    assert outcome.cost >= instance[3] - 1e-9  # never below a proven optimum: the costs are recomputed right
    # conservation: every stop's kg on exactly one tour, capacities kept
    kg = outcome.stops.group_by("stop_id").agg(pl.col("kg").sum()).sort("stop_id")
    expected = _cvrplib(instance).stops.select("stop_id", "kg").sort("stop_id")
    assert kg.equals(expected)
    assert (outcome.routes["kg"] <= outcome.routes["capacity_kg"]).all()


def _city(seed: int, n: int = 40) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "stop_id": [f"s{i:02d}" for i in range(n)],
            "lat": 39.9 + rng.normal(0, 0.15, n),
            "lon": 116.4 + rng.normal(0, 0.15, n),
            "kg": rng.integers(50, 2_500, n),
            "service_min": np.full(n, 5.0),
        }
    )


HUB = pl.DataFrame({"depot_id": ["hub"], "lat": [39.9], "lon": [116.4]})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_windows_capacities_closed_tours_and_determinism(seed: int) -> None:
    stops = _city(seed).with_columns(due_min=pl.Series([0.5, 0.5] + [400.0] * 38))  # two stops no van can reach in time
    problem = RoutingProblem("city", stops, HUB, DEFAULT_FLEETS["last_mile"])
    first, again = solve_routing(problem), solve_routing(problem)
    assert first.routes.equals(again.routes) and first.stops.equals(again.stops)
    assert first.status == "partial"
    assert set(first.unserved["stop_id"]) == {"s00", "s01"}
    assert set(first.unserved["reason"]) == {REASONS["window"]}
    due = dict(zip(stops["stop_id"], stops["due_min"], strict=True))
    assert all(row["start_min"] <= due[row["stop_id"]] + 1e-9 for row in first.stops.iter_rows(named=True))
    assert (first.routes["kg"] <= first.routes["capacity_kg"]).all()
    assert (first.routes["duration_min"] <= 480 + 1e-9).all()
    # served kg plus unserved kg is every stop's kg, each stop once
    total = first.stops["kg"].sum() + first.unserved["kg"].sum()
    assert total == stops["kg"].sum()


def test_heavy_stop_split_into_full_loads_and_fleet_shortage_reported() -> None:
    stops = pl.DataFrame({"stop_id": ["big", "a", "b"], "lat": [40.0, 40.05, 39.95], "lon": [116.5, 116.45, 116.3], "kg": [4_500, 900, 800]})
    fleet = pl.DataFrame(
        {"vehicle_type": ["van"], "capacity_kg": [1_000], "count": [5], "fixed_cost": [100.0], "cost_per_km": [2.0], "max_duration_min": [480.0]}
    )
    outcome = solve_routing(RoutingProblem("split", stops, HUB, fleet))
    # 4,500 kg needs five full-or-partial van loads, a and b two more: five vans cannot take all seven
    assert outcome.status == "partial"
    assert outcome.routes.height == 5
    assert set(outcome.unserved["reason"]) == {REASONS["fleet"]}
    assert outcome.stops["kg"].sum() + outcome.unserved["kg"].sum() == 6_200


def test_missing_matrix_pair_is_an_input_error() -> None:
    from harvestmatch.errors import InputError

    problem = _cvrplib(E_N22_K4)
    partial = problem.travel.matrix.filter(~((pl.col("from_id") == "n1") & (pl.col("to_id") == "n5")))  # type: ignore[union-attr]
    with pytest.raises(InputError, match="no row from 'n1' to 'n5'"):
        solve_routing(RoutingProblem("cvrplib", problem.stops, problem.depots, problem.fleet, travel=Travel(matrix=partial)))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), collect=st.booleans(), open_end=st.booleans())
def test_loads_on_board_follow_the_tour_whether_collecting_or_delivering(seed: int, collect: bool, open_end: bool) -> None:
    stops = _city(seed, n=int(np.random.default_rng(seed).integers(1, 25)))
    outcome = solve_routing(
        RoutingProblem("city", stops, HUB, DEFAULT_FLEETS["first_mile"], collect=collect, open_end=open_end), SolveSettings(iterations=200, seconds=20.0)
    )
    assert outcome.status == "served" and outcome.unserved.height == 0
    for route in outcome.routes.iter_rows(named=True):
        visits = outcome.stops.filter(pl.col("route_id") == route["route_id"]).sort("seq")
        kg, load = visits["kg"].to_numpy(), visits["load_kg"].to_numpy()
        # collecting: the load grows from nothing to the route's kg; delivering: it falls from it to nothing
        want = np.cumsum(kg) if collect else route["kg"] - np.cumsum(kg)
        assert (load == want).all() and (load <= route["capacity_kg"]).all() and (load >= 0).all()
        if open_end:  # an open-ended tour ends where its last stop is left
            assert route["end_min"] == pytest.approx(visits["depart_min"][-1])
        else:
            assert route["end_min"] > visits["depart_min"][-1]
    per_stop = outcome.stops.group_by("stop_id").agg(pl.col("kg").sum()).sort("stop_id")
    assert per_stop["kg"].to_list() == stops.sort("stop_id")["kg"].to_list()


@pytest.mark.parametrize("open_end", [False, True])
def test_a_short_budget_on_long_distances_still_finds_the_obvious_plan(open_end: bool) -> None:
    # two hubs 150 and 300 km away, 8,236 + 1,770 kg, 10 t trucks: one truck cannot take both, and a
    # search whose penalty for a few kg of excess load stays below the km it saves would never leave
    # the overloaded single tour (found by the plan's property test)
    stops = pl.DataFrame({"stop_id": ["far", "near"], "lat": [30.5, 30.5], "lon": [110.5, 112.0], "kg": [8_236, 1_770]})
    depot = pl.DataFrame({"depot_id": ["hub"], "lat": [30.5], "lon": [113.5]})
    fleet = DEFAULT_FLEETS["line_haul"].filter(pl.col("vehicle_type") == "truck_10t")
    outcome = solve_routing(RoutingProblem("haul", stops, depot, fleet, open_end=open_end), SolveSettings(iterations=150, seconds=20.0))
    assert outcome.status == "served" and outcome.routes.height == 2


def test_a_short_fleet_gives_the_second_search_its_own_budget() -> None:
    stops = _city(4, n=30)
    fleet = DEFAULT_FLEETS["last_mile"].head(1).with_columns(count=pl.lit(4, pl.Int64))
    outcome = solve_routing(RoutingProblem("short", stops, HUB, fleet), SolveSettings(iterations=100, seconds=60.0))
    assert outcome.status == "partial" and outcome.routes.height <= 4
    assert outcome.iterations == 200  # the required search, then the prize-collecting one, each with the whole budget


def test_a_stop_out_of_every_shifts_reach_is_said_so_unless_it_has_a_due_time() -> None:
    far = pl.DataFrame({"stop_id": ["far", "late"], "lat": [45.0, 45.0], "lon": [126.0, 126.0], "kg": [100, 100], "due_min": [None, 60.0]})
    outcome = solve_routing(RoutingProblem("far", far, HUB, DEFAULT_FLEETS["last_mile"]))
    why = dict(zip(outcome.unserved["stop_id"], outcome.unserved["reason"], strict=True))
    assert why == {"far": REASONS["shift"], "late": REASONS["window"]}


def test_a_plans_budget_per_problem() -> None:
    """SolveSettings.per_problem: the budget after setup, spread over the stops, within [1, iterations]."""
    from matcher.routing.vrp import SETUP_WORK

    s = SolveSettings(iterations=300, budget=10_000_000)
    assert s.per_problem(100, 1_000).iterations == 300  # a small plan: the per-problem iterations
    assert s.per_problem(1_000, 100_000).iterations == (10_000_000 - SETUP_WORK * 1_000) // 100_000 == 90
    assert s.per_problem(20_000, 300_000).iterations == 1  # setup alone is over the budget
    assert s.per_problem(0, 0) == s
    assert s.per_problem(1_000, 100_000).seed == s.seed and s.per_problem(1_000, 100_000).seconds == s.seconds
