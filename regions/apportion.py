"""Largest remainder: whole units that sum exactly to a total, each within one unit of its exact share.

Items come in contiguous groups (one group when none are given). Item ``k`` has an exact share
``x_k`` and a whole base ``b_k``, a rounding of it (down, or to the nearest); its group has a whole
total ``T``, and ``L = T - sum b_k`` units are left over. They go one each, in the sign of ``L``, to
the ``|L|`` items whose base is furthest from their exact share that way::

    L > 0:  the |L| largest  r_k = x_k - b_k  get  b_k + 1
    L < 0:  the |L| largest -r_k              get  b_k - 1

ties going to the earlier item. With ``b_k = floor(x_k)`` and ``sum x_k = T`` this is Hamilton's method
(:func:`proportional`, ``x_k = T w_k / W``): every share is within one unit of ``x_k``. The rule is
written once, here: the fills' pro-rata kg (:mod:`regions.fills`), a claim's kg and cents
(:mod:`matcher.claims`) and the books' leftover cents (:mod:`matcher.settlement`) all call it.

The work is columnar: one partial selection for one group, one sort for many; no loop per item or group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

I64 = NDArray[np.int64]


def largest_remainder(base: ArrayLike, residual: ArrayLike | Sequence[Any], left: ArrayLike, *, starts: ArrayLike | None = None) -> I64:
    """Each item's base plus its leftover unit (see the module docstring).

    Parameters
    ----------
    base
        Each item's whole base ``b_k``.
    residual
        Each item's ``x_k - b_k``, in any unit that is the same within a group (integers, floats, or
        exact Python numbers such as :class:`decimal.Decimal` or big integers): residuals are only
        compared within their group.
    left
        Each group's leftover units ``T - sum b_k`` (negative: units to take back), at most its size.
    starts
        The first item of each group, ascending from 0; ``None``: all items are one group.

    Returns
    -------
    numpy.ndarray
        Each item's whole share (int64).

    Raises
    ------
    ValueError
        A group has more units left over than items.
    """
    b = np.asarray(base, dtype=np.int64)
    n = len(b)
    first = np.zeros(min(n, 1), np.int64) if starts is None else np.asarray(starts, dtype=np.int64)
    size = np.diff(np.r_[first, n]).astype(np.int64)
    units = np.asarray(left, dtype=np.int64).reshape(len(first))
    if (np.abs(units) > size).any():
        raise ValueError("a group has more units left over than items: the bases are not a rounding of the exact shares")
    if n == 0 or not units.any():
        return b.copy()
    sign = np.repeat(np.sign(units), size)
    key = _comparable(residual) * sign  # the larger the key, the further the base from the share in the units' way
    if len(first) == 1:
        chosen = np.zeros(n, bool)
        chosen[_top(key, int(abs(units[0])))] = True
    else:
        group = np.repeat(np.arange(len(first)), size)
        order = np.lexsort((np.arange(n), -key, group))  # largest key first, ties to the earlier item
        rank = np.empty(n, np.int64)
        rank[order] = np.arange(n) - np.repeat(first, size)
        chosen = rank < np.repeat(np.abs(units), size)
    return b + sign * chosen


def proportional(total: ArrayLike, weights: ArrayLike, *, starts: ArrayLike | None = None) -> I64:
    """Each group's whole ``total`` shared among its items in proportion to their ``weights``:
    ``floor(T w_k / W)``, then one unit more each to the largest remainders ``T w_k mod W`` (ties: the
    earlier item). Exact integer arithmetic (Python integers where int64 could overflow).

    Parameters
    ----------
    total
        Each group's total ``T >= 0``.
    weights
        Each item's weight ``w_k >= 0``; a group of zero weights gets nothing (its total must be 0).
    starts
        The first item of each group, as for :func:`largest_remainder`.
    """
    w = np.asarray(weights, dtype=np.int64)
    n = len(w)
    first = np.zeros(min(n, 1), np.int64) if starts is None else np.asarray(starts, dtype=np.int64)
    T = np.asarray(total, dtype=np.int64).reshape(len(first))
    if n == 0:
        return np.zeros(0, np.int64)
    size = np.diff(np.r_[first, n])
    W = np.maximum(np.add.reduceat(w, first), 1)
    Tk, Wk = np.repeat(T, size), np.repeat(W, size)
    if int(T.max()) * int(w.max()) >= 2**62:  # exact in Python integers when int64 could overflow
        product = Tk.astype(object) * w.astype(object)
        base = np.array(product // Wk.astype(object), np.int64)
        residual = product - base.astype(object) * Wk.astype(object)
    else:
        product = Tk * w
        base = product // Wk
        residual = product - base * Wk
    return largest_remainder(base, residual, T - np.add.reduceat(base, first), starts=first)


def _comparable(residual: ArrayLike | Sequence[Any]) -> NDArray[np.int64] | NDArray[np.float64]:
    """Residuals as numbers numpy orders: numeric arrays as they are, exact Python numbers by their
    dense rank (equal residuals get equal ranks, so the tie still goes to the earlier item)."""
    r = np.asarray(residual)
    if r.dtype == object:
        return np.unique(r, return_inverse=True)[1].reshape(len(r)).astype(np.int64)
    return r.astype(np.float64) if r.dtype.kind == "f" else r.astype(np.int64)


def _top(key: NDArray[np.int64] | NDArray[np.float64], k: int) -> NDArray[np.intp]:
    """The ``k`` items of largest key, ties to the earlier: one partial selection, not a sort."""
    if k == 0:
        return np.zeros(0, np.intp)
    n = len(key)
    threshold = np.partition(key, n - k)[n - k]
    above = np.flatnonzero(key > threshold)
    return np.concatenate([above, np.flatnonzero(key == threshold)[: k - len(above)]])


__all__ = ["largest_remainder", "proportional"]
