"""Dense margins: the same numbers as the lane builder, bit for bit, and scans that find what a brute
force finds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harvestmatch.errors import SolverError
from matcher.dense import DenseMargins, check_duals
from matcher.simplex import TransportationSimplex
from regions.geodesy import haversine_km
from regions.lanes import Demand, Hubs, LaneCosts, Supply, lanes_for_pairs


def instance(seed: int, m: int = 40, n: int = 60, n_hubs: int = 25, spread: float = 20.0):
    rng = np.random.default_rng(seed)
    supply = Supply(
        rng.uniform(30 - spread, 30 + spread, m),
        rng.uniform(110 - spread, 110 + spread, m),
        rng.uniform(0.5, 5, m).round(2),
        rng.integers(0, 3, m).astype(np.int8),
        rng.integers(0, 6, m),
    )
    region = np.sort(rng.integers(0, n_hubs, n))
    demand = Demand(region, rng.uniform(1, 7, n).round(2), rng.integers(0, 3, n).astype(np.int8), rng.integers(0, 6, n))
    hubs = Hubs(rng.uniform(30 - spread, 30 + spread, n_hubs), rng.uniform(110 - spread, 110 + spread, n_hubs))
    # a few co-located points: zero distances and exact ties
    supply.lat[:3], supply.lon[:3] = hubs.lat[0], hubs.lon[0]
    return supply, demand, hubs


@given(seed=st.integers(0, 2**32 - 1), spread=st.sampled_from([0.01, 1.0, 20.0, 80.0]), scale=st.sampled_from([100, 10**5, 10**7, 10**12]))
def test_cell_margins_are_the_lane_builders_bit_for_bit(seed: int, spread: float, scale: int) -> None:
    """At every scale, int32 cells (ordinary prices) and int64 ones (10**12: margins past 2**30)."""
    supply, demand, hubs = instance(seed, spread=spread)
    costs = LaneCosts(km_per_day=300.0)
    dense = DenseMargins.build(supply, demand, hubs, costs, scale)
    assert dense.margin.dtype == (np.int64 if scale == 10**12 else np.int32)
    regions = np.unique(demand.region)
    o = np.repeat(np.arange(supply.size), len(regions))
    r = np.tile(regions, supply.size)
    lanes = lanes_for_pairs(o, r, supply, demand, hubs, costs)
    want = np.full((supply.size, demand.size), dense.no_lane, np.int64)
    want[lanes.offer, lanes.demand] = np.rint(lanes.margin * scale).astype(np.int64)
    np.testing.assert_array_equal(dense.margin, want)
    # and the lanes it hands out carry the lane builder's distances, days and costs
    got = dense.lanes(lanes.offer, lanes.demand)
    np.testing.assert_array_equal(got.distance_km, lanes.distance_km)
    np.testing.assert_array_equal(got.transit_days, lanes.transit_days)
    np.testing.assert_array_equal(got.margin, lanes.margin)
    km = costs.circuity * haversine_km(supply.lat[o], supply.lon[o], hubs.lat[r], hubs.lon[r])
    np.testing.assert_array_equal(dense.km.ravel(), km)


@given(
    seed=st.integers(0, 2**32 - 1),
    k_row=st.integers(1, 3),
    k_offer=st.integers(1, 5),
    floors=st.booleans(),
    n=st.sampled_from([20, 32, 70]),
    zero=st.booleans(),
)
def test_best_cells_are_the_brute_force_best(seed: int, k_row: int, k_offer: int, floors: bool, n: int, zero: bool) -> None:
    """Rows of 20, 32 and 70 cells: within one scan chunk, exactly one, and across chunks (the scan skips
    a chunk unless a cell beats a list); zero duals are the start's case, where most cells qualify."""
    supply, demand, hubs = instance(seed, m=15, n=n)
    dense = DenseMargins.build(supply, demand, hubs, LaneCosts(), 10**4)
    rng = np.random.default_rng(seed)
    u2 = np.zeros(supply.size, np.int64) if zero else rng.integers(0, 2 * 10**4, supply.size)
    w2 = np.zeros(demand.size, np.int64) if zero else rng.integers(0, 2 * 10**4, demand.size)
    lower = np.ones(supply.size, np.int64)
    if floors:  # some offers are floor nodes: a bonus shifts their duals, a lower margin bounds their cells
        node = rng.random(supply.size) < 0.5
        u2 = np.where(node, u2 - 2 * 10**6, u2)
        lower = np.where(node, -rng.integers(0, 10**4, supply.size), lower)
    offer, row = dense.best_cells(u2, w2, k_row, k_offer, lower)
    rc = 2 * dense.margin.astype(np.int64) - u2[:, None] - w2[None, :]
    rc[dense.margin < lower[:, None]] = 0
    want = set()
    for j in range(demand.size):  # ties to the lower offer, as documented
        col = [(-rc[i, j], i) for i in range(supply.size) if rc[i, j] > 0]
        want |= {(i, j) for _, i in sorted(col)[:k_row]}
    for i in range(supply.size):
        line = [(-rc[i, j], j) for j in range(demand.size) if rc[i, j] > 0]
        want |= {(i, j) for _, j in sorted(line)[:k_offer]}
    assert set(zip(offer.tolist(), row.tolist())) == want
    assert list(zip(offer, row)) == sorted(zip(offer, row))


def test_no_cell_is_found_when_none_prices_positive() -> None:
    supply, demand, hubs = instance(1)
    dense = DenseMargins.build(supply, demand, hubs, LaneCosts(), 10**4)
    u2 = np.full(supply.size, 2 * int(dense.margin.max()))
    ones = np.ones(supply.size, np.int64)
    offer, _ = dense.best_cells(u2, np.zeros(demand.size, np.int64), 2, 2, ones)
    assert offer.size == 0
    with pytest.raises(SolverError, match="duals out of range"):
        check_duals(-u2, np.zeros(demand.size, np.int64))
    with pytest.raises(SolverError, match="out of range for the margin matrix"):
        dense.best_cells(u2, np.zeros(demand.size, np.int64), 2, 2, ones * dense.no_lane)


@given(seed=st.integers(0, 2**32 - 1))
def test_the_greedy_start_is_a_feasible_greedy_shaped_flow(seed: int) -> None:
    supply, demand, hubs = instance(seed)
    rng = np.random.default_rng(seed)
    q, d = rng.integers(1, 500, supply.size), rng.integers(1, 500, demand.size)
    dense = DenseMargins.build(supply, demand, hubs, LaneCosts(), 10**5)
    offer, row, kg = dense.greedy(q, d)
    assert np.all(kg > 0) and np.all(dense.margin[offer, row] > 0)
    assert np.all(np.bincount(offer, kg, minlength=supply.size) <= q)
    assert np.all(np.bincount(row, kg, minlength=demand.size) <= d)
    # the simplex accepts it as a starting basis (it checks the shape) and finishes from it
    simplex = TransportationSimplex(q, d, offer, row, dense.margin[offer, row], flow=kg)
    assert simplex.solve().objective >= int(np.dot(kg, dense.margin[offer, row]))


def test_margins_beyond_the_integer_range_are_refused() -> None:
    supply, demand, hubs = instance(2)
    demand = Demand(demand.region, demand.bid * 1e12, demand.min_grade, demand.due_days)
    with pytest.raises(SolverError, match="do not fit"):
        DenseMargins.build(supply, demand, hubs, LaneCosts(), 10**7)


def test_reach_tells_no_lane_from_not_profitable() -> None:
    supply, demand, hubs = instance(3)
    dense = DenseMargins.build(supply, demand, hubs, LaneCosts(), 10**4)
    m = dense.margin
    np.testing.assert_array_equal(dense.offer_reach, np.where((m > 0).any(1), 2, np.where((m != dense.no_lane).any(1), 1, 0)))
    np.testing.assert_array_equal(dense.row_reach, np.where((m > 0).any(0), 2, np.where((m != dense.no_lane).any(0), 1, 0)))
