"""Every lane of one product at once: a dense matrix of integer margins, and the scans the pricing needs.

When ``offers x demand rows`` cells fit in memory (:data:`DENSE_CELLS`), pricing need not bound anything:
the scaled margin ``M_ij`` of every (offer, row) cell is computed once, in one compiled pass, and each
pricing round is one more pass that finds the cells with positive reduced cost ``M_ij - u_i - w_j``.

One distance formula. A cell's distance is the distance of its (offer, region) pair, computed once per
pair with :func:`regions.geodesy.haversine_km`; its days and cost per kg follow as in
:func:`regions.lanes.lanes_for_pairs`, and the compiled pass only subtracts and scales, in the same order
as the lane builder (``rint(((bid - ask) - cost) * scale)``, IEEE arithmetic with no fused operations).
The lanes handed to the certificate and to the outputs are built from the same pair values
(:meth:`DenseMargins.lanes`), so the margins the solver saw and the ones the certificate checks are
equal bit for bit; :meth:`DenseMargins.lanes` verifies it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

from harvestmatch.errors import SolverError
from regions.geodesy import haversine_km
from regions.lanes import Demand, Hubs, LaneCosts, Lanes, Supply

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

#: the largest dense matrix (cells = offers x demand rows) priced densely: 25 million int64 cells are
#: 200 MB per worker. Larger products use the bounded pricing of :mod:`matcher.product`.
DENSE_CELLS = 25_000_000

#: the margin of a cell with no feasible lane (wrong grade, or the goods cannot arrive in time)
NO_LANE_CELL = -(2**62)

#: scaled margins must stay below this in absolute value (as :func:`matcher.product._scaled` checks)
_LIMIT = 2.0**62


@njit(cache=True)
def _fill(cost, days, column, bid, ask, grade, min_grade, due, expiry, scale, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Write every cell's scaled margin (or NO_LANE_CELL) into ``out``; False when one does not fit."""
    m, n = out.shape
    for i in range(m):
        for j in range(n):
            r = column[j]
            t = days[i, r]
            if t > expiry[i] or t > due[j] or grade[i] < min_grade[j]:
                out[i, j] = -(2**62)
                continue
            x = np.rint(((bid[j] - ask[i]) - cost[i, r]) * scale)
            if not abs(x) < 2.0**62:
                return False
            out[i, j] = np.int64(x)
    return True


@njit(cache=True)
def _top_cells(margin, u2, w2, k_row, k_offer):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The cells with the largest positive ``2 M_ij - u2_i - w2_j``: ``k_row`` per row, ``k_offer`` per
    offer (ties to the lower index), and how many cells were positive."""
    m, n = margin.shape
    row_val = np.zeros((n, k_row), np.int64)
    row_idx = np.full((n, k_row), -1, np.int64)
    off_val = np.zeros((m, k_offer), np.int64)
    off_idx = np.full((m, k_offer), -1, np.int64)
    count = 0
    for i in range(m):
        ui = u2[i]
        for j in range(n):
            mij = margin[i, j]
            if mij <= 0:  # no lane, or never profitable: duals are never negative
                continue
            rc = 2 * mij - ui - w2[j]
            if rc <= 0:
                continue
            count += 1
            if rc > row_val[j, k_row - 1]:
                p = k_row - 1
                while p > 0 and rc > row_val[j, p - 1]:
                    row_val[j, p] = row_val[j, p - 1]
                    row_idx[j, p] = row_idx[j, p - 1]
                    p -= 1
                row_val[j, p] = rc
                row_idx[j, p] = i
            if rc > off_val[i, k_offer - 1]:
                p = k_offer - 1
                while p > 0 and rc > off_val[i, p - 1]:
                    off_val[i, p] = off_val[i, p - 1]
                    off_idx[i, p] = off_idx[i, p - 1]
                    p -= 1
                off_val[i, p] = rc
                off_idx[i, p] = j
    return row_idx, off_idx, count


@njit(cache=True)
def _reach(margin):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Per offer and per row: 0 no feasible lane, 1 feasible lanes but none profitable, 2 a profitable one."""
    m, n = margin.shape
    offer = np.zeros(m, np.int8)
    row = np.zeros(n, np.int8)
    for i in range(m):
        for j in range(n):
            mij = margin[i, j]
            if mij > 0:
                offer[i] = 2
                row[j] = 2
            elif mij != -(2**62):
                if offer[i] == 0:
                    offer[i] = 1
                if row[j] == 0:
                    row[j] = 1
    return offer, row


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
    margin: I64  # (offers, rows), scaled; NO_LANE_CELL where no lane is feasible
    scale: int

    @classmethod
    def build(cls, supply: Supply, demand: Demand, hubs: Hubs, costs: LaneCosts, scale: int) -> DenseMargins:
        """Compute every pair's distance, days and cost, then every cell's margin.

        Raises
        ------
        SolverError
            When a margin does not fit the solver's integers at this scale.
        """
        regions, column = np.unique(demand.region, return_inverse=True)
        km = costs.circuity * haversine_km(
            supply.lat[:, None], supply.lon[:, None], hubs.lat[regions][None, :], hubs.lon[regions][None, :]
        )
        days = np.ceil(km / costs.km_per_day).astype(np.int64)
        cost = costs.freight_per_kg_km * km + costs.handling_per_kg
        margin = np.empty((supply.size, demand.size), np.int64)
        ok = _fill(
            cost, days, column.astype(np.int64), demand.bid, supply.ask, supply.grade, demand.min_grade,
            demand.due_days, supply.expiry_days, float(scale), margin,
        )
        if not ok:
            raise SolverError(f"margins do not fit the solver's integer money at scale {scale}; prices per kg are out of range")
        return cls(supply, demand, km, days, cost, column.astype(np.int64), margin, scale)

    def best_cells(self, u2: I64, w2: I64, k_row: int, k_offer: int) -> tuple[I64, I64, int]:
        """Cells ``(offer, row)`` with the largest positive reduced cost ``(2M - u2 - w2) / 2``: up to
        ``k_row`` per row and ``k_offer`` per offer, each cell once, in (offer, row) order; and how many
        cells had a positive reduced cost. ``u2, w2`` are twice the duals (half-integers stay exact)."""
        row_idx, off_idx, count = _top_cells(self.margin, u2, w2, k_row, k_offer)
        n = self.demand.size
        rows = np.broadcast_to(np.arange(n)[:, None], row_idx.shape)
        offers = np.broadcast_to(np.arange(self.supply.size)[:, None], off_idx.shape)
        cell = np.concatenate([(row_idx * n + rows)[row_idx >= 0], (offers * n + off_idx)[off_idx >= 0]])
        cell = np.unique(cell)
        return cell // n, cell % n, int(count)

    def reach(self) -> tuple[NDArray[np.int8], NDArray[np.int8]]:
        """Per offer and per row: 0 no feasible lane, 1 only unprofitable lanes, 2 a profitable lane."""
        offer, row = _reach(self.margin)
        return offer, row

    def lanes(self, offer: I64, row: I64) -> Lanes:
        """The lanes of the given cells, from the same pair values as the margins.

        Raises
        ------
        SolverError
            If a lane's margin differs from its cell's (the one-formula guarantee is broken).
        """
        col = self.column[row]
        cost = self.cost[offer, col]
        margin = self.demand.bid[row] - self.supply.ask[offer] - cost
        lanes = Lanes(offer, row, self.km[offer, col], self.days[offer, col], cost, margin)
        if not np.array_equal(np.rint(margin * self.scale).astype(np.int64), self.margin[offer, row]):
            raise SolverError("a lane's margin differs from the dense matrix's: the distance formulas disagree")
        return lanes
