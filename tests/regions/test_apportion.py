"""Largest remainder: the one rule every whole split uses (fills, claims, the books' cents)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from regions.apportion import largest_remainder, proportional

#: groups of weights (an empty group is none) and each group's total
groups = st.lists(st.tuples(st.integers(0, 10**6), st.lists(st.integers(0, 1000), min_size=1, max_size=8)), min_size=1, max_size=6)


def _split(data: list[tuple[int, list[int]]]) -> tuple[list[int], list[int], list[int]]:
    totals, weights, starts = [], [], []
    for total, w in data:
        starts.append(len(weights))
        totals.append(total if sum(w) else 0)
        weights += w
    return totals, weights, starts


def _reference(total: int, weights: list[int]) -> list[int]:
    """Hamilton's method written out: floors, then one more each by largest remainder, earlier first."""
    W = sum(weights) or 1
    exact = [Fraction(total * w, W) for w in weights]
    share = [int(x) for x in exact]
    ranked = sorted(range(len(weights)), key=lambda k: (-(exact[k] - share[k]), k))
    for k in ranked[: total - sum(share)]:
        share[k] += 1
    return share


@given(groups)
def test_shares_sum_exactly_and_stay_within_one_of_their_exact_value(data: list[tuple[int, list[int]]]) -> None:
    totals, weights, starts = _split(data)
    got = proportional(totals, weights, starts=starts)
    ends = [*starts[1:], len(weights)]
    for total, a, b in zip(totals, starts, ends, strict=True):
        w, s = weights[a:b], got[a:b].tolist()
        assert sum(s) == total and all(x >= 0 for x in s)
        W = sum(w) or 1
        assert all(abs(Fraction(x) - Fraction(total * k, W)) < 1 for x, k in zip(s, w, strict=True))
        assert s == _reference(total, w)  # ties to the earlier item
    assert got.tolist() == proportional(totals, weights, starts=starts).tolist()  # deterministic


@given(st.integers(0, 50), st.integers(1, 8))
def test_equal_weights_give_the_earlier_items_the_extra_units(total: int, n: int) -> None:
    s = proportional(total, [7] * n).tolist()
    assert s == sorted(s, reverse=True) and max(s) - min(s) <= 1


@given(st.integers(0, 10**6), st.lists(st.integers(0, 10**6), min_size=1, max_size=6))
def test_big_totals_are_exact_in_python_integers(scale: int, weights: list[int]) -> None:
    total = scale * 10**9 if sum(weights) else 0  # total times a weight beyond int64: the exact path
    assert proportional(total, weights).tolist() == _reference(total, weights)


@given(st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=40), st.integers(0, 3))
def test_rounding_to_the_nearest_then_moving_the_leftover_units_either_way(exact_cents: list[int], places: int) -> None:
    """Exact amounts (in hundredths of a cent) rounded to the cent, half to even, then made to sum to
    the rounded total: each within a cent, the units moved from the lines rounded furthest the other way."""
    exact = [Decimal(x) / 100 for x in exact_cents]
    total = int(sum(exact, Decimal(0)).quantize(Decimal(1), rounding=ROUND_FLOOR)) + places % 2
    base = [int(x.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)) for x in exact]
    left = total - sum(base)
    if abs(left) > len(base):
        return
    got = largest_remainder(base, [x - b for x, b in zip(exact, base, strict=True)], left).tolist()
    assert sum(got) == total and all(abs(g - x) < 2 for g, x in zip(got, exact, strict=True))
    sign = 1 if left >= 0 else -1
    ranked = sorted(range(len(base)), key=lambda k: (-(sign * (exact[k] - base[k])), k))[: abs(left)]
    assert got == [b + (sign if k in ranked else 0) for k, b in enumerate(base)]
    # the same rule over many groups (one sort) as over one (a partial selection)
    many = largest_remainder(base + base, [x - b for x, b in zip(exact + exact, base + base, strict=True)], [left, left], starts=[0, len(base)])
    assert many.tolist() == got + got


def test_a_group_cannot_take_more_units_than_it_has_items() -> None:
    with pytest.raises(ValueError, match="more units left over than items"):
        largest_remainder([0, 0], [0.5, 0.5], 3)
    assert largest_remainder(np.zeros(0, np.int64), [], []).tolist() == []
