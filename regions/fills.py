"""Handing a demand row's filled kg back to its orders, in whole kg, by a chosen rule.

A row ``g`` with filled kg ``F`` (at most its orders' total ``Q = sum q_k``) shares them among its orders
``k`` (quantities ``q_k``, in order of arrival):

- ``fcfs`` (first come, first served): ``f_k = min(q_k, max(0, F - sum of q before k))``; an early
  order is filled whole before a later one gets anything.
- ``pro_rata``: each order gets the same share of what it asked, rounded to whole kg by largest
  remainder (:func:`regions.apportion.proportional`): ``f_k = floor(F q_k / Q)``, and the
  ``F - sum floor(...)`` kg left go one each to the orders with the largest remainders ``F q_k mod Q``
  (ties: the earlier order). So
  ``|f_k - F q_k / Q| < 1`` for every order, and splitting an order into pieces does not change what
  its buyer gets by more than the rounding.
- ``max_min`` (water-filling): the smallest orders are filled first; every order gets
  ``min(q_k, t)`` for the largest whole level ``t`` with ``sum min(q_k, t) <= F``, and the kg left go
  one each to the earliest orders still short. No order gets nothing while another gets more than one kg
  above it, unless it asked for nothing more.

Every rule is exact integer arithmetic on whole columns (one sort per rule, no loop per row or order),
and deterministic: ties fall to the earlier order.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

from regions.apportion import proportional

FillRule = Literal["fcfs", "pro_rata", "max_min"]
FILL_RULES: tuple[str, ...] = get_args(FillRule)

I64 = NDArray[np.int64]


def share(group: I64, quantity: I64, filled: I64, rule: FillRule) -> I64:
    """Each order's whole kg.

    Parameters
    ----------
    group
        The row of each order, as ``0..G-1``; orders of a row are contiguous and in order of arrival.
    quantity
        Each order's kg (``>= 0``).
    filled
        Each row's filled kg, ``0 <= filled[g] <= sum of its orders' quantity``.
    rule
        :data:`FILL_RULES`.
    """
    if rule not in FILL_RULES:
        raise ValueError(f"fill rule must be one of {', '.join(FILL_RULES)}, got {rule!r}")
    n = len(group)
    if n == 0:
        return np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    size = np.diff(np.r_[starts, n])
    F = filled[group[starts]].astype(np.int64)
    if rule == "fcfs":
        before = _cumsum_within(quantity, starts, size) - quantity
        return np.clip(np.repeat(F, size) - before, 0, quantity)
    if rule == "pro_rata":
        return proportional(F, quantity, starts=starts)
    return _max_min(quantity, starts, size, F)


def _cumsum_within(x: I64, starts: I64, size: I64) -> I64:
    total = np.cumsum(x)
    offset = np.repeat(total[starts] - x[starts], size)
    return total - offset


def _rank_within(order: I64, starts: I64, size: I64) -> I64:
    """Position of each element (indices into the group-contiguous arrays) within its group, when the
    groups' elements are taken in ``order`` (a permutation keeping groups contiguous)."""
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(starts, size)
    return rank


def _max_min(q: I64, starts: I64, size: I64, F: I64) -> I64:
    n = len(q)
    group = np.repeat(np.arange(len(starts)), size)
    position = np.arange(n)
    by_size = np.lexsort((position, q, group))  # within a row, smallest first
    qs = q[by_size]
    j = np.arange(n) - np.repeat(starts, size)
    nk = np.repeat(size, size)
    before = _cumsum_within(qs, starts, size) - qs
    # filling every order up to the level qs[j] takes before + (n - j) qs[j]: nondecreasing in j
    reach = before + (nk - j) * qs
    over = reach > np.repeat(F, size)
    first = np.minimum.reduceat(np.where(over, j, nk), starts)  # the first order the level stays below
    whole = first == size  # every order filled
    at = np.minimum(starts + first, n - 1)
    level = np.where(whole, np.iinfo(np.int64).max, (F - np.where(whole, 0, before[at])) // np.maximum(size - first, 1))
    lvl = np.repeat(level, size)
    base = np.minimum(q, lvl)
    left = F - np.add.reduceat(base, starts)
    short = q > lvl
    order = np.lexsort((position, ~short, group))  # the orders still short first, earliest first
    rank = _rank_within(order, starts, size)
    return base + (short & (rank < np.repeat(left, size)))


__all__ = ["FILL_RULES", "FillRule", "share"]
