"""Fill rules: conservation and whole kg for each, and each rule's defining property against a plain
per-row reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from regions.fills import FILL_RULES, share


@st.composite
def rows(draw: st.DrawFn, big: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of orders (each row's orders contiguous, in arrival order) and each row's filled kg."""
    top = 10**12 - 1 if big else 60
    sizes = draw(st.lists(st.integers(1, 7), min_size=1, max_size=6))
    quantity = [draw(st.lists(st.integers(0 if not big else 1, top), min_size=k, max_size=k)) for k in sizes]
    filled = [draw(st.integers(0, sum(q))) for q in quantity]
    group = np.repeat(np.arange(len(sizes)), sizes)
    return group, np.array(sum(quantity, []), np.int64), np.array(filled, np.int64)


def _by_row(group: np.ndarray, *arrays: np.ndarray):
    for g in np.unique(group):
        at = group == g
        yield g, *(a[at] for a in arrays)


@pytest.mark.parametrize("rule", FILL_RULES)
@given(case=rows())
def test_every_rule_hands_out_exactly_the_row_in_whole_kg_within_each_order(rule: str, case: tuple) -> None:
    group, q, filled = case
    f = share(group, q, filled, rule)  # type: ignore[arg-type]
    assert f.dtype == np.int64 and (f >= 0).all() and (f <= q).all()
    assert (np.bincount(group, weights=f, minlength=len(filled)).astype(np.int64) == filled).all()
    assert (share(group, q, filled, rule) == f).all()  # type: ignore[arg-type]


@given(case=rows())
def test_first_come_first_served_fills_the_earlier_order_first(case: tuple) -> None:
    group, q, filled = case
    for g, qq, ff in _by_row(group, q, share(group, q, filled, "fcfs")):
        short = np.flatnonzero(ff < qq)
        if len(short):
            assert (ff[short[0] + 1 :] == 0).all()


@given(case=rows())
def test_pro_rata_is_each_orders_share_within_one_kg_by_largest_remainder(case: tuple) -> None:
    group, q, filled = case
    for g, qq, ff in _by_row(group, q, share(group, q, filled, "pro_rata")):
        total, F = int(qq.sum()), int(filled[g])
        if total == 0:
            continue
        exact = [F * int(x) / total for x in qq]
        assert all(abs(int(a) - e) < 1 for a, e in zip(ff, exact))
        # the extra kg went to the largest remainders, ties to the earlier order
        rem = [F * int(x) % total for x in qq]
        floor = [F * int(x) // total for x in qq]
        extra = [int(a) - b for a, b in zip(ff, floor)]
        got = [k for k, e in enumerate(extra) if e]
        want = sorted(range(len(qq)), key=lambda k: (-rem[k], k))[: F - sum(floor)]
        assert sorted(got) == sorted(want)


@given(case=rows())
def test_max_min_fills_the_smallest_orders_first(case: tuple) -> None:
    group, q, filled = case
    for g, qq, ff in _by_row(group, q, share(group, q, filled, "max_min")):
        short = ff < qq
        if short.any():
            # no order short while another got more than one kg above it
            assert ff.max() <= ff[short].min() + 1
            # and the reference: water-filling one kg at a time to the least-filled order still short
            ref = np.zeros_like(qq)
            for _ in range(int(filled[g])):
                open_ = np.flatnonzero(ref < qq)
                k = open_[np.lexsort((open_, ref[open_]))[0]]
                ref[k] += 1
            assert sorted(ref.tolist()) == sorted(ff.tolist())


@given(case=rows(big=True))
def test_pro_rata_is_exact_with_quantities_near_the_limit(case: tuple) -> None:
    group, q, filled = case
    f = share(group, q, filled, "pro_rata")
    assert (np.bincount(group, weights=f.astype(float), minlength=len(filled)) > -1).all()
    for g, qq, ff in _by_row(group, q, f):
        total, F = int(qq.sum()), int(filled[g])
        assert sum(int(a) for a in ff) == F
        assert all(abs(int(a) * total - F * int(x)) < total for a, x in zip(ff, qq))


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="fill rule must be one of"):
        share(np.zeros(1, np.int64), np.ones(1, np.int64), np.ones(1, np.int64), "lottery")  # type: ignore[arg-type]
