"""Identical offers merged and their merged lanes split back: exact, conserving, in the fill rule's order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harvestmatch.errors import SolverError
from matcher.aggregate import merge_identical, split_lanes
from matcher.bounded import all_pairs
from matcher.flow import solve_flow
from regions.lanes import Demand, Hubs, LaneCosts, Supply, lanes_for_pairs


def offers(rows: list[tuple[float, float, float, int, int]]) -> Supply:
    """Offers from (lat, lon, ask, grade, expiry_days) rows."""
    lat, lon, ask, grade, expiry = zip(*rows) if rows else ((),) * 5
    return Supply(
        np.array(lat, np.float64),
        np.array(lon, np.float64),
        np.array(ask, np.float64),
        np.array(grade, np.int8),
        np.array(expiry, np.int64),
    )


A = (30.0, 110.0, 1.5, 2, 3)
B = (31.0, 110.0, 1.5, 2, 3)
C = (30.0, 110.0, 1.5, 2, 4)


def reference_split(group: np.ndarray, supply_kg: np.ndarray, lane_offer: np.ndarray, shipped: np.ndarray) -> list:
    """The fill rule written as loops: each merged offer's lanes by index, its members by index."""
    pieces = []
    for g in range(int(group.max()) + 1 if len(group) else 0):
        left = {int(k): int(supply_kg[k]) for k in np.flatnonzero(group == g)}
        for lane in np.flatnonzero(lane_offer == g):
            need = int(shipped[lane])
            for k in left:
                take = min(need, left[k])
                if take > 0:
                    pieces.append((int(lane), k, take))
                    left[k] -= take
                    need -= take
            assert need == 0
    return sorted(pieces)


def rows(lane_index: np.ndarray, member: np.ndarray, kg: np.ndarray) -> list:
    return list(zip(lane_index.tolist(), member.tolist(), kg.tolist()))


# merge_identical


def test_nothing_identical_is_the_identity() -> None:
    supply = offers([A, B, C])
    kg = np.array([5, 6, 7], np.int64)
    merged, merged_kg, group = merge_identical(supply, kg)
    assert merged is supply and merged_kg is kg
    np.testing.assert_array_equal(group, [0, 1, 2])
    assert group.dtype == np.int64


def test_no_offers() -> None:
    merged, merged_kg, group = merge_identical(offers([]), np.zeros(0, np.int64))
    assert merged.size == 0 and len(merged_kg) == 0 and len(group) == 0


def test_exact_duplicates_merge_numbered_by_first_member() -> None:
    supply = offers([B, A, B, C, A, A])
    merged, kg, group = merge_identical(supply, np.array([1, 10, 100, 1000, 10_000, 100_000], np.int64))
    np.testing.assert_array_equal(group, [0, 1, 0, 2, 1, 1])
    np.testing.assert_array_equal(kg, [101, 110_010, 1000])
    assert kg.dtype == np.int64
    for field in ("lat", "lon", "ask", "grade", "expiry_days"):
        np.testing.assert_array_equal(getattr(merged, field), getattr(supply, field)[[0, 1, 3]])
        assert getattr(merged, field).dtype == getattr(supply, field).dtype


@pytest.mark.parametrize(
    ("field", "other"),
    [("lat", 30.0 + 1e-12), ("lon", 110.0 + 1e-12), ("ask", 1.5 + 1e-12), ("grade", 3), ("expiry_days", 2)],
)
def test_any_difference_keeps_offers_apart(field: str, other: float) -> None:
    position = ["lat", "lon", "ask", "grade", "expiry_days"].index(field)
    nearly = tuple(other if k == position else v for k, v in enumerate(A))
    assert nearly != A
    _, kg, group = merge_identical(offers([A, nearly, A]), np.array([1, 2, 4], np.int64))
    np.testing.assert_array_equal(group, [0, 1, 0])
    np.testing.assert_array_equal(kg, [5, 2])


def test_equality_is_float_equality() -> None:
    """0.0 == -0.0, so a meridian offer written either way is the same place."""
    _, _, group = merge_identical(offers([(30.0, 0.0, 1.0, 1, 1), (30.0, -0.0, 1.0, 1, 1)]), np.array([1, 1], np.int64))
    np.testing.assert_array_equal(group, [0, 0])


@given(
    st.lists(
        st.tuples(st.sampled_from([30.0, 31.0]), st.sampled_from([110.0, 111.0]), st.sampled_from([1.0, 2.0]), st.integers(1, 2), st.integers(0, 1)),
        max_size=40,
    )
)
def test_merged_groups_are_exactly_the_equal_offers(items: list[tuple[float, float, float, int, int]]) -> None:
    supply = offers(items)
    merged, kg, group = merge_identical(supply, np.arange(1, len(items) + 1, dtype=np.int64))
    expected = {}
    for k, item in enumerate(items):
        expected.setdefault(item, len(expected))
        assert group[k] == expected[item]
    assert merged.size == len(expected) == len(kg)
    np.testing.assert_array_equal(kg, np.bincount(group, np.arange(1, len(items) + 1), minlength=merged.size))


# split_lanes


def test_members_and_lanes_fill_in_index_order() -> None:
    # merged offer 1 = members 0, 2, 4 (30, 50, 20 kg); merged offer 0 = members 1, 3
    group = np.array([1, 0, 1, 0, 1], np.int64)
    supply_kg = np.array([30, 5, 50, 5, 20], np.int64)
    lane_offer = np.array([1, 0, 1], np.int64)
    shipped = np.array([40, 7, 25], np.int64)
    got = rows(*split_lanes(group, supply_kg, lane_offer, shipped))
    assert got == [(0, 0, 30), (0, 2, 10), (1, 1, 5), (1, 3, 2), (2, 2, 25)]  # member 2 keeps 15, member 4 all 20


def test_members_without_kg_get_no_piece() -> None:
    group = np.array([0, 0, 0, 0], np.int64)
    supply_kg = np.array([0, 10, 0, 10], np.int64)
    got = rows(*split_lanes(group, supply_kg, np.array([0, 0], np.int64), np.array([10, 10], np.int64)))
    assert got == [(0, 1, 10), (1, 3, 10)]


def test_no_lanes() -> None:
    lane, member, kg = split_lanes(np.array([0, 0], np.int64), np.array([3, 4], np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert len(lane) == len(member) == len(kg) == 0


@pytest.mark.parametrize(
    ("lane_offer", "shipped", "match"),
    [
        ([0, 0], [5, 6], "merged offer 0 ships 11 kg but its members hold 10 kg"),
        ([0, 1], [5, 0], "ship > 0 kg, got 0"),
        ([0, 2], [5, 1], r"in \[0, 2\), got 2"),
        ([0, -1], [5, 1], r"in \[0, 2\), got -1"),
        ([0], [5, 1], "parallel arrays"),
    ],
)
def test_split_raises_on_a_solution_that_does_not_fit(lane_offer: list[int], shipped: list[int], match: str) -> None:
    group, supply_kg = np.array([0, 1, 0], np.int64), np.array([4, 9, 6], np.int64)
    with pytest.raises(SolverError, match=match):
        split_lanes(group, supply_kg, np.array(lane_offer, np.int64), np.array(shipped, np.int64))


@st.composite
def merged_solutions(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Members in random groups (numbered by first member, as merge_identical does), some with 0 kg, and
    lanes that ship at most what each group holds."""
    labels = draw(st.lists(st.integers(0, 5), min_size=1, max_size=25))
    first_seen: dict[int, int] = {}
    group = np.array([first_seen.setdefault(v, len(first_seen)) for v in labels], np.int64)
    supply_kg = np.array(draw(st.lists(st.integers(0, 60), min_size=len(labels), max_size=len(labels))), np.int64)
    held = np.bincount(group, supply_kg, minlength=len(first_seen)).astype(np.int64)
    lane_offer, shipped = [], []
    for g in draw(st.lists(st.integers(0, len(first_seen) - 1), max_size=20)):
        if held[g] > 0:
            amount = draw(st.integers(1, int(held[g])))
            held[g] -= amount
            lane_offer.append(g)
            shipped.append(amount)
    return group, supply_kg, np.array(lane_offer, np.int64), np.array(shipped, np.int64)


@given(merged_solutions())
def test_split_conserves_kg_and_follows_the_fill_rule(solution: tuple) -> None:
    group, supply_kg, lane_offer, shipped = solution
    lane, member, kg = split_lanes(group, supply_kg, lane_offer, shipped)
    assert lane.dtype == member.dtype == kg.dtype == np.int64
    assert np.all(kg > 0)
    np.testing.assert_array_equal(np.bincount(lane, kg, minlength=len(shipped)), shipped)
    assert np.all(np.bincount(member, kg, minlength=len(supply_kg)) <= supply_kg)
    np.testing.assert_array_equal(group[member], lane_offer[lane])
    order = np.lexsort((member, lane))
    np.testing.assert_array_equal(order, np.arange(len(lane)))
    assert rows(lane, member, kg) == reference_split(group, supply_kg, lane_offer, shipped)


@given(merged_solutions(), st.integers(0, 2**32 - 1))
def test_lanes_in_any_order_give_the_same_pieces(solution: tuple, seed: int) -> None:
    """Lanes need not come grouped by merged offer: interleaving them differently (each merged offer's
    lanes keeping their relative order) gives the same pieces; any shuffle gives each member the same kg."""
    group, supply_kg, lane_offer, shipped = solution
    lane, member, kg = split_lanes(group, supply_kg, lane_offer, shipped)
    rng = np.random.default_rng(seed)

    # new position of every lane: a random interleaving that keeps each merged offer's lanes in order
    slots = rng.permutation(len(lane_offer))
    perm = np.empty(len(lane_offer), np.int64)  # perm[new] = old
    for g in np.unique(lane_offer):
        mine = np.flatnonzero(lane_offer == g)
        perm[np.sort(slots[mine])] = mine
    new_position = np.argsort(perm)
    lane2, member2, kg2 = split_lanes(group, supply_kg, lane_offer[perm], shipped[perm])
    assert sorted(rows(new_position[lane], member, kg)) == rows(lane2, member2, kg2)

    shuffled = rng.permutation(len(lane_offer))
    lane3, member3, kg3 = split_lanes(group, supply_kg, lane_offer[shuffled], shipped[shuffled])
    sold = np.bincount(member, kg, minlength=len(supply_kg))
    np.testing.assert_array_equal(np.bincount(member3, kg3, minlength=len(supply_kg)), sold)
    np.testing.assert_array_equal(np.bincount(lane3, kg3, minlength=len(shipped)), shipped[shuffled])


def test_split_is_deterministic() -> None:
    rng = np.random.default_rng(7)
    group = rng.integers(0, 50, 2000).astype(np.int64)
    supply_kg = rng.integers(0, 100, 2000).astype(np.int64)
    lane_offer = rng.integers(0, 50, 300).astype(np.int64)
    held = np.bincount(group, supply_kg, minlength=50)
    shipped = np.maximum(1, held[lane_offer] // np.bincount(lane_offer, minlength=50)[lane_offer] // 2).astype(np.int64)
    first = split_lanes(group, supply_kg, lane_offer, shipped)
    for again, once in zip(split_lanes(group.copy(), supply_kg.copy(), lane_offer.copy(), shipped.copy()), first):
        np.testing.assert_array_equal(again, once)


# exactness


def test_merged_problem_has_the_same_optimum_and_its_split_attains_it() -> None:
    """A village of identical offers beside a few others: the merged solve and the original agree."""
    rng = np.random.default_rng(11)
    village = [(30.0, 110.0, 1.0, 2, 3)] * 40 + [(30.5, 111.0, 1.2, 1, 2)] * 25
    others = [(float(a), float(b), 1.1, 2, 3) for a, b in zip(rng.uniform(29, 32, 10), rng.uniform(109, 112, 10))]
    supply = offers([*village, *others])
    supply_kg = rng.integers(1, 80, supply.size).astype(np.int64)
    hubs = Hubs(np.array([30.2, 31.0, 29.5]), np.array([110.4, 111.5, 109.0]))
    demand = Demand(np.array([0, 1, 1, 2], np.int64), np.array([1.6, 1.9, 1.4, 1.7]), np.array([1, 2, 1, 1], np.int8), np.array([3, 3, 2, 3], np.int64))
    demand_kg = np.array([600, 500, 700, 300], np.int64)  # less than offered: some members keep kg
    costs, scale = LaneCosts(), 10_000

    def optimum(s: Supply, kg: np.ndarray) -> tuple:
        """The optimal flow over every profitable lane, with the lanes' offers and integer margins."""
        ((o, r),) = all_pairs(np.arange(s.size, dtype=np.int64), np.arange(hubs.size, dtype=np.int64))
        lanes = lanes_for_pairs(o, r, s, demand, hubs, costs)
        margin = np.rint(lanes.margin * scale).astype(np.int64)
        keep = margin > 0
        flow = solve_flow(kg, demand_kg, lanes.offer[keep], lanes.demand[keep], margin[keep])
        return flow, lanes.offer[keep], margin[keep]

    merged, merged_kg, group = merge_identical(supply, supply_kg)
    assert merged.size == 12
    whole, _, _ = optimum(supply, supply_kg)
    flow, lane_offer, margin = optimum(merged, merged_kg)
    assert flow.objective == whole.objective

    ships = flow.shipped > 0
    lane, member, kg = split_lanes(group, supply_kg, lane_offer[ships], flow.shipped[ships])
    assert int((margin[ships][lane] * kg).sum()) == whole.objective
    sold = np.bincount(member, kg, minlength=supply.size)
    assert np.all(sold <= supply_kg)
    np.testing.assert_array_equal(np.bincount(group, supply_kg - sold, minlength=merged.size), flow.unsold)
