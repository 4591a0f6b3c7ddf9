from __future__ import annotations

import numpy as np

from regions.lanes import Demand, Hubs, LaneCosts, Supply, lanes_for_pairs


def supply_at(lat: np.ndarray, lon: np.ndarray) -> Supply:
    n = len(lat)
    return Supply(lat, lon, np.ones(n), np.full(n, 3, np.int8), np.full(n, 100, np.int64))


def test_given_values_win_and_empty_cells_fall_back() -> None:
    supply = supply_at(np.array([30.0, 30.0]), np.array([110.0, 110.0]))
    demand = Demand(np.array([0, 1]), np.array([5.0, 5.0]), np.array([1, 1], np.int8), np.array([10, 10]))
    hubs = Hubs(np.array([30.0, 30.0]), np.array([110.0, 110.0]))
    costs = LaneCosts(freight_per_kg_km=0.001, handling_per_kg=0.1, km_per_day=100.0)
    lanes = lanes_for_pairs(
        np.array([0, 1]),
        np.array([0, 1]),
        supply,
        demand,
        hubs,
        costs,
        distance_km=np.array([250.0, 250.0]),
        transit_days=np.array([7, -1]),
        cost_per_kg=np.array([np.nan, 0.9]),
    )
    assert lanes.transit_days.tolist() == [7, 3]
    np.testing.assert_allclose(lanes.cost_per_kg, [0.35, 0.9])
    np.testing.assert_allclose(lanes.margin, [5.0 - 1.0 - 0.35, 5.0 - 1.0 - 0.9])


def test_grade_and_time_decide_feasibility() -> None:
    supply = Supply(np.array([30.0]), np.array([110.0]), np.array([1.0]), np.array([2], np.int8), np.array([1]))
    # rows: wants A (offer is B), due today (transit 1), fine
    demand = Demand(np.zeros(3, np.int64), np.full(3, 5.0), np.array([3, 1, 1], np.int8), np.array([5, 0, 5]))
    hubs = Hubs(np.array([31.0]), np.array([110.0]))
    lanes = lanes_for_pairs(np.array([0]), np.array([0]), supply, demand, hubs, LaneCosts())
    assert lanes.demand.tolist() == [2]
    assert lanes.transit_days.tolist() == [1]
