"""Bounded pricing's pair search: the bound never drops a pair that can hold an improving lane, and the
best few per group are the best few."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matcher.bounded import CHORD_SLACK_KM, pairs_below, top_per_group
from regions.geodesy import haversine_km
from regions.lanes import Hubs, LaneCosts, Supply


def supply_at(lat: np.ndarray, lon: np.ndarray) -> Supply:
    n = len(lat)
    return Supply(lat, lon, np.ones(n), np.full(n, 3, np.int8), np.full(n, 100, np.int64))


@given(st.integers(0, 2**32 - 1), st.floats(0.0, 0.003))
def test_pairs_below_keeps_every_pair_under_the_ceiling(seed: int, freight: float) -> None:
    rng = np.random.default_rng(seed)
    supply = supply_at(rng.uniform(20, 45, 25), rng.uniform(95, 125, 25))
    supply = Supply(supply.lat, supply.lon, supply.ask, supply.grade, rng.integers(0, 6, 25))
    hubs = Hubs(rng.uniform(20, 45, 15), rng.uniform(95, 125, 15))
    costs = LaneCosts(freight_per_kg_km=freight, km_per_day=400.0)
    floor, ceiling, due = rng.uniform(1, 3, 25), rng.uniform(1, 5, 15), rng.integers(0, 6, 15)
    offers, regions = np.arange(25), np.arange(15)
    got = set()
    for o, r in pairs_below(supply, offers, hubs, regions, floor, ceiling, due, costs, tol=1e-9):
        got |= set(zip(o.tolist(), r.tolist()))
    km = costs.circuity * haversine_km(supply.lat[:, None], supply.lon[:, None], hubs.lat[None, :], hubs.lon[None, :])
    gain = ceiling[None, :] - floor[:, None] - (freight * km + costs.handling_per_kg)
    reach = km <= costs.km_per_day * np.minimum(supply.expiry_days[:, None], due.max())
    want = {(int(i), int(j)) for i, j in zip(*np.nonzero((gain > 1e-6) & reach))}
    # the bound may keep pairs up to CHORD_SLACK_KM too far, never drop one
    slack = CHORD_SLACK_KM + 1e-6
    near_enough = km <= costs.km_per_day * np.minimum(supply.expiry_days[:, None], due.max()) + slack
    loose = {(int(i), int(j)) for i, j in zip(*np.nonzero((gain > -freight * slack - 1e-6) & near_enough))}
    assert want <= got <= loose


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(-5, 5)), max_size=40), st.integers(1, 4))
def test_top_per_group(items: list[tuple[int, int]], k: int) -> None:
    group = np.array([g for g, _ in items], dtype=np.int64)
    score = np.array([s for _, s in items], dtype=np.float64)
    got = top_per_group(group, score, k)
    want = []
    for g in sorted(set(group.tolist())):
        members = sorted((-score[i], i) for i in range(len(items)) if group[i] == g)
        want += [i for _, i in members[:k]]
    assert sorted(got.tolist()) == sorted(want)
