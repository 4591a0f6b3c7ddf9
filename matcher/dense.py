"""Every lane of one product at once: a dense matrix of integer margins, and the scans the pricing needs.

When ``offers x demand rows`` cells fit in memory (:data:`DENSE_CELLS`), pricing need not bound anything:
the scaled margin ``M_ij`` of every (offer, row) cell is computed once, in one compiled pass, and each
pricing round is one more pass that finds the cells with positive reduced cost ``M_ij - u_i - w_j``.

One distance formula. A cell's distance is the distance of its (offer, region) pair, computed once per
pair by the haversine formula of :func:`regions.geodesy.haversine_km`, operation for operation (compiled;
both take the arcsine from libm, :func:`regions.geodesy.compiled_arcsin`); its days and cost per kg follow as in
:func:`regions.lanes.lanes_for_pairs`, and a cell's margin is ``rint(((bid - ask) - cost) * scale)``, in
the lane builder's order (IEEE arithmetic, nothing fused). The lanes handed to the certificate and to the
outputs are built from these same stored pair values (:meth:`DenseMargins.lanes`), so the margins the
solver saw and the ones the certificate checks are equal bit for bit; :meth:`DenseMargins.lanes`
verifies it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from harvestmatch.errors import SolverError
from harvestmatch.kernels import kernel
from regions.geodesy import half_angles
from regions.lanes import Demand, Hubs, LaneCosts, Lanes, Supply

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

#: the largest dense matrix (cells = offers x demand rows) priced densely: 25 million int64 cells are
#: 200 MB per worker. Larger products use the bounded pricing of :mod:`matcher.bounded`.
DENSE_CELLS = 25_000_000

#: scaled margins and twice the duals stay below 2**60 and 2**61 in absolute value, so that a scan's
#: ``2 M - 2u - 2w`` never leaves int64 (the cost scale keeps them far below: matcher.cycle.cost_scale)
MARGIN_LIMIT = 2**60
DUAL2_LIMIT = 2**61

#: margins are stored as int32 when every one is surely below this (half the memory, faster scans)
INT32_LIMIT = 2**30


@kernel(cache=True)
def _pairs(a, b, circuity, km_per_day, per_km, handling, km, days, cost):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Every (offer, region) pair's km, days and cost from the points' half angles, by the arithmetic of
    :func:`regions.geodesy.haversine_from_halves` and :func:`regions.lanes.lanes_for_pairs`, step for step."""
    sa, ca, sla, cla, cos_a = a
    sb, cb, slb, clb, cos_b = b
    m, n = km.shape
    for i in range(m):
        for r in range(n):
            s_phi = sb[r] * ca[i] - cb[r] * sa[i]
            s_lmb = slb[r] * cla[i] - clb[r] * sla[i]
            h = s_phi * s_phi + cos_a[i] * cos_b[r] * (s_lmb * s_lmb)
            h = min(max(h, 0.0), 1.0)
            d = circuity * ((2.0 * 6371.0) * math.asin(np.sqrt(h)))
            km[i, r] = d
            days[i, r] = np.int64(np.ceil(d / km_per_day))
            cost[i, r] = per_km * d + handling


@kernel(cache=True)
def _fill(cost, days, column, bid, ask, keep, grade, min_grade, due, expiry, scale, out, offer_reach, row_reach, limit):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Write every cell's scaled margin (or ``-limit`` where no lane is feasible) into ``out`` and how
    far each offer and row reaches (0 no lane, 1 no profitable lane, 2 a profitable one); False when a
    margin does not fit below ``limit``. Each offer's pair values are first gathered into row order,
    so that the cell loop reads only contiguous arrays and has no branches (vector code): half the
    time of gathering them cell by cell."""
    m, n = out.shape
    flimit = float(limit)
    bad = False
    cost_row = np.empty(n)
    days_row = np.empty(n, np.int64)
    for i in range(m):
        for j in range(n):
            cost_row[j] = cost[i, column[j]]
            days_row[j] = days[i, column[j]]
        ask_i, keep_i, expiry_i, grade_i = ask[i], keep[i], expiry[i], grade[i]
        reach_i = offer_reach[i]
        for j in range(n):
            t = days_row[j]
            x = np.rint(((bid[j] * keep_i - ask_i) - cost_row[j]) * scale)
            ok = (t <= expiry_i) & (t <= due[j]) & (grade_i >= min_grade[j])
            fits = abs(x) < flimit
            bad |= ok & ~fits
            v = np.int64(min(max(x, -flimit), flimit)) if ok else -limit
            out[i, j] = v
            code = np.int8(2) if v > 0 else np.int8(1) if ok else np.int8(0)
            reach_i = max(reach_i, code)
            row_reach[j] = max(row_reach[j], code)
        offer_reach[i] = reach_i
    return not bad


@kernel(cache=True, inline="always")
def _insert(values, index, value, at):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Put ``value`` (from position ``at``) into a list kept falling, dropping its last entry; an equal
    value already there stays ahead."""
    p = values.shape[0] - 1
    while p > 0 and value > values[p - 1]:
        values[p] = values[p - 1]
        index[p] = index[p - 1]
        p -= 1
    values[p] = value
    index[p] = at


#: cells per chunk of a pricing scan: a chunk is first checked in vector code, and only a chunk with a
#: cell that would enter the offer's or a row's list is scanned cell by cell
SCAN_CHUNK = 32


@kernel(cache=True)
def _top_cells(margin, u2, w2, lower, k_row, k_offer):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The cells with the largest positive ``2 M_ij - u2_i - w2_j`` among those with ``M_ij >= lower_i``:
    ``k_row`` per row, ``k_offer`` per offer (ties to the lower index). A first, branch-free pass over
    each chunk of a matrix row tells whether any of its cells beats the offer's list or its row's
    list so far; only such a chunk is scanned cell by cell (once the duals are close to optimal,
    almost no chunk is, and even at zero duals most are not once the lists fill). The margin test
    runs only on a cell that would qualify."""
    m, n = margin.shape
    row_val = np.zeros((n, k_row), np.int64)
    row_idx = np.full((n, k_row), -1, np.int64)
    off_val = np.zeros((m, k_offer), np.int64)
    off_idx = np.full((m, k_offer), -1, np.int64)
    for i in range(m):
        ui = u2[i]
        lo = lower[i]
        last = off_val[i, k_offer - 1]
        for j0 in range(0, n, SCAN_CHUNK):
            j1 = min(j0 + SCAN_CHUNK, n)
            # skip the chunk unless some cell beats its offer's list or its row's list
            top = 0
            beats = False
            for j in range(j0, j1):
                rc = 2 * np.int64(margin[i, j]) - ui - w2[j]
                top = max(top, rc)
                beats |= rc > row_val[j, k_row - 1]
            if top <= last and not beats:
                continue
            for j in range(j0, j1):
                rc = 2 * margin[i, j] - ui - w2[j]
                if rc > 0 and margin[i, j] < lo:
                    continue
                if rc > row_val[j, k_row - 1]:
                    _insert(row_val[j], row_idx[j], rc, i)
                if rc > last:
                    _insert(off_val[i], off_idx[i], rc, j)
                    last = off_val[i, k_offer - 1]
    return row_idx, off_idx


@kernel(cache=True)
def _greedy(margin, q, d, buckets):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """A greedy flow over every profitable cell, by falling margin (cells bucketed by margin: within a
    bucket, in cell order). Returns the offers, rows and kg of the cells that ship."""
    m, n = margin.shape
    top = 0
    for i in range(m):
        for j in range(n):
            top = max(top, margin[i, j])
    if top <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    per = buckets / (top + 1.0)  # bucket b holds margins in [b, b + 1) / per, counted from the top
    count = np.zeros(buckets + 1, np.int64)
    for i in range(m):
        for j in range(n):
            v = margin[i, j]
            if v > 0:
                count[buckets - 1 - np.int64(v * per)] += 1
    start = np.zeros(buckets + 1, np.int64)
    for b in range(buckets):
        start[b + 1] = start[b] + count[b]
    cell_offer = np.empty(start[buckets], np.int32)
    cell_row = np.empty(start[buckets], np.int32)
    for i in range(m):
        for j in range(n):
            v = margin[i, j]
            if v > 0:
                b = buckets - 1 - np.int64(v * per)
                cell_offer[start[b]] = i
                cell_row[start[b]] = j
                start[b] += 1
    left_q = q.copy()
    left_d = d.copy()
    offer = np.empty(m + n, np.int64)
    row = np.empty(m + n, np.int64)
    kg = np.empty(m + n, np.int64)
    k = 0
    for c in range(cell_offer.shape[0]):
        i = cell_offer[c]
        j = cell_row[c]
        x = min(left_q[i], left_d[j])
        if x > 0:
            offer[k] = i
            row[k] = j
            kg[k] = x
            k += 1
            left_q[i] -= x
            left_d[j] -= x
    return offer[:k], row[:k], kg[:k]


def check_duals(u2: I64, w2: I64) -> None:
    """Raise :class:`SolverError` unless twice the duals are non-negative and small enough for the scans."""
    for duals in (u2, w2):
        if len(duals) and not (0 <= duals.min() and duals.max() < DUAL2_LIMIT):
            raise SolverError("duals out of range for pricing: negative, or too large for the integer margins")


def fits(supply: Supply, demand: Demand) -> bool:
    """Whether a product's dense matrix is small enough (:data:`DENSE_CELLS`)."""
    return supply.size * demand.size <= DENSE_CELLS


@dataclass(frozen=True)
class DenseMargins:
    """One product's pair values (offers x its regions) and cell margins (offers x demand rows)."""

    supply: Supply
    demand: Demand
    km: F64  # (offers, regions of the product)
    days: I64
    cost: F64
    column: I64  # each demand row's column in the pair matrices
    margin: NDArray[np.int32] | I64  # (offers, rows), scaled; ``no_lane`` where no lane is feasible
    no_lane: int  # -INT32_LIMIT in an int32 matrix, -MARGIN_LIMIT in an int64 one
    scale: int
    offer_reach: NDArray[np.int8]  # 0 no feasible lane, 1 none profitable, 2 a profitable one
    row_reach: NDArray[np.int8]

    @classmethod
    def build(cls, supply: Supply, demand: Demand, hubs: Hubs, costs: LaneCosts, scale: int) -> DenseMargins:
        """Compute every pair's distance, days and cost, then every cell's margin.

        Raises
        ------
        SolverError
            When a margin does not fit the solver's integers at this scale.
        """
        regions, column = np.unique(demand.region, return_inverse=True)
        shape = (supply.size, len(regions))
        km, days, cost = np.empty(shape), np.empty(shape, np.int64), np.empty(shape)
        _pairs(
            half_angles(supply.lat, supply.lon),
            half_angles(hubs.lat[regions], hubs.lon[regions]),
            float(costs.circuity),
            float(costs.km_per_day),
            float(costs.freight_per_kg_km),
            float(costs.handling_per_kg),
            km,
            days,
            cost,
        )
        # a bound on every |margin|: int32 cells when it is small enough (it is for any ordinary price)
        bound = scale * (float(np.abs(demand.bid).max(initial=0.0)) + float(np.abs(supply.ask).max(initial=0.0)) + float(np.abs(cost).max(initial=0.0))) + 1.0
        small = bound < INT32_LIMIT
        limit = INT32_LIMIT if small else MARGIN_LIMIT
        margin = np.empty((supply.size, demand.size), np.int32 if small else np.int64)
        offer_reach, row_reach = np.zeros(supply.size, np.int8), np.zeros(demand.size, np.int8)
        ok = _fill(
            cost,
            days,
            column.astype(np.int64),
            demand.bid,
            supply.ask,
            supply.kept(),
            supply.grade,
            demand.min_grade,
            demand.due_days,
            supply.expiry_days,
            float(scale),
            margin,
            offer_reach,
            row_reach,
            limit,
        )
        if not ok:
            raise SolverError(
                f"margins do not fit the solver's integer money at scale {scale} (at most {MARGIN_LIMIT:.2e} units); prices per kg are out of range"
            )
        return cls(supply, demand, km, days, cost, column.astype(np.int64), margin, -limit, scale, offer_reach, row_reach)

    def best_cells(self, u2: I64, w2: I64, k_row: int, k_offer: int, lower: I64) -> tuple[I64, I64]:
        """Cells ``(offer, row)`` with the largest positive reduced cost ``(2M - u2 - w2) / 2`` among
        those whose margin is at least the offer's ``lower`` (1: profitable cells only; lower for the
        safety net's floor nodes, whose ``u2`` carries their bonus, :mod:`matcher.floor`): up to
        ``k_row`` per row and ``k_offer`` per offer, each cell once, in (offer, row) order; none when no
        cell has a positive reduced cost. ``u2, w2`` are twice the duals (half-integers stay exact).

        Raises
        ------
        SolverError
            On a dual too large for exact integer arithmetic, or a ``lower`` at or below the
            matrix's no-lane mark.
        """
        for duals in (u2, w2):
            if len(duals) and not np.abs(duals).max() < DUAL2_LIMIT:
                raise SolverError("duals out of range for pricing: too large for the integer margins")
        if len(lower) and lower.min() <= self.no_lane:
            raise SolverError("a floor's lowest margin is out of range for the margin matrix; lower max_subsidy_per_kg")
        row_idx, off_idx = _top_cells(self.margin, u2, w2, np.ascontiguousarray(lower, np.int64), k_row, k_offer)
        n = self.demand.size
        rows = np.broadcast_to(np.arange(n)[:, None], row_idx.shape)
        offers = np.broadcast_to(np.arange(self.supply.size)[:, None], off_idx.shape)
        cell = np.concatenate([(row_idx * n + rows)[row_idx >= 0], (offers * n + off_idx)[off_idx >= 0]])
        cell = np.unique(cell)
        return cell // n, cell % n

    def take(self, rows: I64, supply: Supply) -> DenseMargins:
        """The matrix of other supply nodes, each a copy of row ``rows[k]`` of this one (same place,
        ask, grade and expiry: :mod:`matcher.floor`'s nodes)."""
        return DenseMargins(
            supply,
            self.demand,
            self.km[rows],
            self.days[rows],
            self.cost[rows],
            self.column,
            self.margin[rows],
            self.no_lane,
            self.scale,
            self.offer_reach[rows],
            self.row_reach,
        )

    def greedy(self, supply_kg: I64, demand_kg: I64) -> tuple[I64, I64, I64]:
        """A starting flow over every profitable cell, greedy by margin (1,024 margin buckets, so it
        costs a few passes over the matrix instead of a sort): ``(offer, row, kg)`` of the cells that
        ship. Each step empties an offer or a row, so the cells form a forest (:mod:`matcher.simplex`)."""
        return _greedy(self.margin, supply_kg, demand_kg, 1024)  # type: ignore[no-any-return]

    def lanes(self, offer: I64, row: I64) -> Lanes:
        """The lanes of the given cells, from the same pair values as the margins.

        Raises
        ------
        SolverError
            If a lane's margin differs from its cell's (the one-formula guarantee is broken).
        """
        col = self.column[row]
        cost = self.cost[offer, col]
        value = self.demand.bid[row] if self.supply.keep is None else self.demand.bid[row] * self.supply.keep[offer]
        margin = value - self.supply.ask[offer] - cost
        lanes = Lanes(offer, row, self.km[offer, col], self.days[offer, col], cost, margin)
        if not np.array_equal(np.rint(margin * self.scale).astype(np.int64), self.margin[offer, row]):
            raise SolverError("a lane's margin differs from the dense matrix's: the distance formulas disagree")
        return lanes
