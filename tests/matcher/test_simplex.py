"""The transportation simplex alone: optimal against HiGHS, terminating on degenerate instances, warm
starts equal to cold solves, and its duals a certificate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.simplex import SimplexResult, TransportationSimplex


def certify(q, d, offer, row, margin, r: SimplexResult) -> None:
    """Feasible, conserving, and optimal by complementary slackness with the returned duals."""
    m, n = len(q), len(d)
    x = r.shipped
    assert np.all(x >= 0) and np.all(r.unsold >= 0) and np.all(r.unmet >= 0)
    np.testing.assert_array_equal(np.bincount(offer, x, minlength=m).astype(np.int64) + r.unsold, q)
    np.testing.assert_array_equal(np.bincount(row, x, minlength=n).astype(np.int64) + r.unmet, d)
    reduced = margin - r.u[offer] - r.w[row]
    assert np.all(r.u >= 0) and np.all(r.w >= 0)
    assert np.all(reduced <= 0), "a lane prices above its offer's and row's duals"
    assert np.all(reduced[x > 0] == 0)
    assert np.all(r.u[r.unsold > 0] == 0) and np.all(r.w[r.unmet > 0] == 0)
    assert r.objective == int(np.dot(x, margin))


@st.composite
def problems(draw: st.DrawFn, *, degenerate: bool = False) -> tuple:
    m, n = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    kg = st.sampled_from([1, 2, 3, 6]) if degenerate else st.integers(1, 10**6)
    money = st.sampled_from([-1, 0, 1, 2]) if degenerate else st.integers(-(10**6), 10**9)
    q = np.array(draw(st.lists(kg, min_size=m, max_size=m)), np.int64)
    d = np.array(draw(st.lists(kg, min_size=n, max_size=n)), np.int64)
    cells = draw(st.lists(st.tuples(st.integers(0, m - 1), st.integers(0, n - 1)), unique=True, max_size=m * n))
    offer = np.array([c[0] for c in cells], np.int64)
    row = np.array([c[1] for c in cells], np.int64)
    margin = np.array(draw(st.lists(money, min_size=len(cells), max_size=len(cells))), np.int64)
    return q, d, offer, row, margin


def oracle_args(q, d, offer, row, margin) -> tuple:
    good = margin > 0
    return len(q), len(d), offer[good], row[good], margin[good].astype(np.float64), q, d


@given(problem=problems())
def test_random_instances_are_solved_to_the_highs_optimum(problem: tuple, oracle) -> None:
    q, d, offer, row, margin = problem
    r = TransportationSimplex(q, d, offer, row, margin).solve()
    certify(q, d, offer, row, margin, r)
    lp = oracle(*oracle_args(*problem))
    assert lp["optimal"]
    assert abs(r.objective - lp["objective"]) <= 1e-9 * max(1.0, abs(lp["objective"]))


@given(problem=problems(degenerate=True))
def test_degenerate_instances_terminate_at_the_optimum(problem: tuple, oracle) -> None:
    """Ties, zero and negative margins, supplies equal to demands: the strongly feasible tree rule
    never lets a degenerate pivot cycle (the pivot guard would raise)."""
    q, d, offer, row, margin = problem
    r = TransportationSimplex(q, d, offer, row, margin).solve(max_pivots=10_000)
    certify(q, d, offer, row, margin, r)
    lp = oracle(*oracle_args(*problem))
    assert r.objective == pytest.approx(lp["objective"], abs=1e-6)


def _full(m: int, n: int, margin: int) -> tuple:
    offer, row = (a.ravel() for a in np.meshgrid(np.arange(m), np.arange(n), indexing="ij"))
    return offer.astype(np.int64), row.astype(np.int64), np.full(m * n, margin, np.int64)


DEGENERATE = {
    # name: (supply, demand, lanes) with an optimum known by hand
    "every margin equal, supply equals demand": (np.full(8, 5), np.full(8, 5), _full(8, 8, 3), 3 * 40),
    "every margin equal, one unit each": (np.ones(20, np.int64), np.ones(20, np.int64), _full(20, 20, 7), 7 * 20),
    "every margin zero": (np.full(6, 4), np.full(5, 3), _full(6, 5, 0), 0),
    "every margin negative": (np.full(6, 4), np.full(5, 3), _full(6, 5, -2), 0),
    "one offer, many equal rows": (np.array([10]), np.full(30, 1), _full(1, 30, 1), 10),
    "many offers, one row": (np.full(30, 1), np.array([10]), _full(30, 1, 1), 10),
    "no lanes": (np.array([3, 4]), np.array([5]), (np.zeros(0, np.int64),) * 3, 0),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_degenerate_table(name: str) -> None:
    q, d, (offer, row, margin), best = DEGENERATE[name]
    q, d = np.asarray(q, np.int64), np.asarray(d, np.int64)
    simplex = TransportationSimplex(q, d, offer, row, margin)
    r = simplex.solve(max_pivots=100_000)
    certify(q, d, offer, row, margin, r)
    assert r.objective == best


@given(problem=problems(), data=st.data())
def test_a_warm_start_after_adding_lanes_equals_a_cold_solve(problem: tuple, data: st.DataObject) -> None:
    q, d, offer, row, margin = problem
    cut = data.draw(st.integers(0, len(offer)))
    warm = TransportationSimplex(q, d, offer[:cut], row[:cut], margin[:cut])
    warm.solve()
    for start in range(cut, len(offer), 3):  # lanes arrive a few at a time, as pricing rounds add them
        warm.add_lanes(offer[start : start + 3], row[start : start + 3], margin[start : start + 3])
        warm.solve()
    r = warm.solve()
    cold = TransportationSimplex(q, d, offer, row, margin).solve()
    assert r.objective == cold.objective
    certify(q, d, offer, row, margin, r)
    assert r.pivots == 0, "a solve right after an optimal one pivots no more"


def test_a_starting_flow_is_used_and_checked() -> None:
    q, d = np.array([5, 5], np.int64), np.array([5, 5], np.int64)
    offer, row, margin = _full(2, 2, 1)
    margin = np.array([4, 1, 1, 4], np.int64)
    best = TransportationSimplex(q, d, offer, row, margin, flow=np.array([5, 0, 0, 5]))
    assert best.solve().pivots == 0  # already optimal
    worst = TransportationSimplex(q, d, offer, row, margin, flow=np.array([0, 5, 5, 0]))
    r = worst.solve()
    assert r.objective == 40 and r.pivots > 0
    with pytest.raises(ValueError, match="greedy-shaped"):  # a cycle of shipping lanes: not a forest
        TransportationSimplex(q, d, offer, row, margin, flow=np.array([3, 2, 2, 3]))
    with pytest.raises(ValueError, match="greedy-shaped"):  # more than an offer holds
        TransportationSimplex(q, d, offer, row, margin, flow=np.array([6, 0, 0, 5]))
    with pytest.raises(ValueError, match="positive"):
        TransportationSimplex(np.array([0]), d, offer[:2], row[:2], margin[:2])
