"""Identical offers merged before the solve, and the merged solution handed back to them.

A village's households each posting 50 kg at one place make thousands of identical offers, and every one
is a node of the transportation problem. Merging them is exact: a lane's feasibility and margin depend on
the offer only through ``lat, lon, ask, grade, expiry_days`` and ``keep`` (the share of value left after
expected refunds; :func:`regions.lanes.lanes_for_pairs`), so offers equal in all six have the same lanes
with the same margins. For such a group ``G`` with one
merged offer ``g`` of capacity ``s_g = sum_{i in G} s_i``::

    any flow x of the original problem  ->  x_gj = sum_{i in G} x_ij   (same objective, feasible)
    any flow x of the merged problem    ->  split x_gj over G within each s_i (same objective, feasible)

so both problems have the same optimum value, and splitting a merged optimum gives an original optimum.

The split is the fill rule: within a merged offer, members are filled in order of their original index
(first member first, each up to its own ``supply_kg``), and the merged offer's lanes are taken in order of
lane index. Laid end to end on ``[0, s_g)``, the members' capacities and the lanes' shipped kg are two
runs of intervals; a piece is the overlap of one lane's interval with one member's. All merged offers are
laid on one line, each at an offset, so every piece of every offer comes out of one ``searchsorted``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from harvestmatch.errors import SolverError
from regions.lanes import Supply

I64 = NDArray[np.int64]


def merge_identical(supply: Supply, supply_kg: I64, *, apart: NDArray[np.bool_] | None = None) -> tuple[Supply, I64, I64]:
    """(merged supply, merged kg, group) where group[k] is the merged index of original offer k.

    Merged offers are numbered in order of their first member (so with no duplicates the result is the
    identity: same arrays, group = arange). Two offers merge only when lat, lon, ask, grade, expiry_days
    and keep are all equal (exact float equality; NaN never occurs) and neither is ``apart``.

    Parameters
    ----------
    supply, supply_kg
        One product's offers and their kg.
    apart
        Offers that merge with none (the safety net's floors belong to single offers).

    Returns
    -------
    tuple of Supply, ndarray, ndarray
        The merged offers (each one's attributes are its first member's), their summed kg, and
        ``group``. With no duplicates, ``supply`` and ``supply_kg`` themselves are returned.
    """
    n = supply.size
    # lexsort is stable: within a run of equal keys members stay in index order, so the run's first
    # element is its first member; comparing neighbours (not bytes) keeps 0.0 and -0.0 together
    alone = np.full(n, -1, np.int64) if apart is None else np.where(apart, np.arange(n, dtype=np.int64), -1)
    keep = supply.kept()
    order = np.lexsort((alone, keep, supply.expiry_days, supply.grade, supply.ask, supply.lon, supply.lat))
    same_as_previous = np.zeros(n, np.bool_)
    same_as_previous[1:] = True
    for key in (supply.lat, supply.lon, supply.ask, supply.grade, supply.expiry_days, keep, alone):
        sorted_key = key[order]
        same_as_previous[1:] &= sorted_key[1:] == sorted_key[:-1]
    new_run = ~same_as_previous
    starts = np.flatnonzero(new_run)
    if len(starts) == n:
        return supply, supply_kg, np.arange(n, dtype=np.int64)
    first = order[starts]
    rank = np.empty(len(starts), np.int64)
    rank[np.argsort(first)] = np.arange(len(starts), dtype=np.int64)
    group = np.empty(n, np.int64)
    group[order] = rank[np.cumsum(new_run) - 1]
    kg = np.empty(len(starts), np.int64)
    kg[rank] = np.add.reduceat(np.asarray(supply_kg, np.int64)[order], starts)
    merged = supply.take(np.sort(first))
    return merged, kg, group


def split_lanes(group: I64, supply_kg: I64, lane_offer: I64, shipped: I64) -> tuple[I64, I64, I64]:
    """Hand each merged lane's kg back to the member offers of its merged offer.

    Inputs: group (from merge_identical), original supply_kg, and the merged solution's lanes: lane_offer
    (merged offer index) and shipped kg (> 0) per lane, lanes in any order.
    Returns (lane_index, member_offer, kg): one row per piece, where lane_index points into the merged lanes
    (so the caller can take distance, margin etc. from it), member_offer is an original offer index, kg > 0.
    Rule: within a merged offer, members are filled in order of their original index (first member first,
    each up to its own supply_kg), and the merged offer's lanes are taken in order of lane index. Sum of
    pieces per lane == shipped; per member <= its supply_kg. Output sorted by (lane_index, member_offer).

    Raises
    ------
    SolverError
        When a lane ships nothing or names no merged offer, or a merged offer ships more than its
        members hold.
    """
    group = np.asarray(group, np.int64)
    supply_kg = np.asarray(supply_kg, np.int64)
    lane_offer = np.asarray(lane_offer, np.int64)
    shipped = np.asarray(shipped, np.int64)
    n_merged = int(group.max()) + 1 if len(group) else 0
    _check_lanes(group, supply_kg, lane_offer, shipped, n_merged)

    # members in (merged offer, original index) order, laid end to end: [member_lo, member_hi)
    member = np.argsort(group, kind="stable")
    member_hi = np.cumsum(supply_kg[member])
    member_lo = member_hi - supply_kg[member]
    offset = np.r_[0, member_hi][np.searchsorted(group[member], np.arange(n_merged), side="left")]

    # lanes in (merged offer, lane index) order, each merged offer's lanes from its own offset
    lane = np.argsort(lane_offer, kind="stable")
    g = lane_offer[lane]
    lane_hi_all = np.cumsum(shipped[lane])
    before = np.r_[0, lane_hi_all][np.searchsorted(g, np.arange(n_merged), side="left")]
    lane_hi = offset[g] + lane_hi_all - before[g]
    lane_lo = lane_hi - shipped[lane]

    # a lane overlaps the members from the first ending after its start to the last starting before its end
    first = np.searchsorted(member_hi, lane_lo, side="right")
    count = np.searchsorted(member_lo, lane_hi, side="left") - first
    piece_lane = np.repeat(np.arange(len(lane), dtype=np.int64), count)
    piece_member = np.repeat(first - np.cumsum(count) + count, count) + np.arange(int(count.sum()), dtype=np.int64)
    kg = np.minimum(lane_hi[piece_lane], member_hi[piece_member])
    kg -= np.maximum(lane_lo[piece_lane], member_lo[piece_member])
    # a member with no kg is a point, and a point inside a lane's interval makes an empty piece
    full = kg > 0
    lane_index, member_offer, kg = lane[piece_lane[full]], member[piece_member[full]], kg[full]
    # each lane's pieces are contiguous and in member order already: a stable sort by lane finishes it
    out = np.argsort(lane_index, kind="stable")
    return lane_index[out], member_offer[out], kg[out]


def _check_lanes(group: I64, supply_kg: I64, lane_offer: I64, shipped: I64, n_merged: int) -> None:
    """The merged solution must fit its members, or the split would hand kg to the wrong offers."""
    if len(lane_offer) != len(shipped) or len(group) != len(supply_kg):
        raise SolverError(
            f"expected parallel arrays: {len(group)} groups for {len(supply_kg)} offers, {len(lane_offer)} lane offers for {len(shipped)} shipped amounts"
        )
    if np.any(shipped <= 0):
        raise SolverError(f"every merged lane must ship > 0 kg, got {int(shipped.min())}")
    bad = np.flatnonzero((lane_offer < 0) | (lane_offer >= n_merged))
    if len(bad):
        raise SolverError(f"lane offers must be merged offer indices in [0, {n_merged}), got {int(lane_offer[bad[0]])}")
    held = np.zeros(n_merged, np.int64)
    np.add.at(held, group, supply_kg)
    sent = np.zeros(n_merged, np.int64)
    np.add.at(sent, lane_offer, shipped)
    over = np.flatnonzero(sent > held)
    if len(over):
        g = int(over[0])
        raise SolverError(f"merged offer {g} ships {int(sent[g])} kg but its members hold {int(held[g])} kg")
