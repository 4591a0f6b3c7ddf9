"""Bounded pricing: the lanes of a product too large for a dense margin matrix (:mod:`matcher.dense`),
found without computing every lane.

With duals ``u_i`` (offers) and ``w_j`` (demand rows), farm-gate prices ``f_i = ask_i + u_i`` and
clearing prices ``p_j = bid_j - w_j``, a lane's reduced cost is::

    rc_ij = M_ij - u_i - w_j = p_j - f_i - c_ij          (c_ij: the lane's cost per kg)

As ``p_j`` is at most its region's best clearing price ``P_r = max_{j in r} p_j``, and ``c_ij`` depends
only on the offer and the region (``c_ir``), a lane can have ``rc_ij > -x`` only when::

    f_i + c_ir < P_r + x

so a pricing round tests (offer, region) pairs in bulk against that bound (:func:`pairs_below`, from
chord distances, one matrix product per block) and prices exactly only the pairs that pass
(:func:`improving_lanes`). The first lane set (:func:`initial_lanes`) is each region with its
``k_nearest`` nearest offers and each offer with the ``k_best`` regions where its margin bound
``max_{j in r} bid_j - ask_i - c_ir`` is highest. An offer or demand row left with nothing and no
profitable lane in the set is searched over every region or offer (:func:`reach`), so its reason is
exact.

Everything here is numpy arrays in, arrays out, and nothing loops per lane.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from harvestmatch.errors import SolverError
from regions.geodesy import EARTH_RADIUS_KM, haversine_km, nearest, unit_vectors
from regions.lanes import Demand, Hubs, LaneCosts, Lanes, Supply, demand_regions, lanes_for_pairs

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

#: reach of an offer or demand row: how far it got towards a sale (the dense scan's codes too)
NO_LANE, UNPROFITABLE, PROFITABLE = 0, 1, 2

#: how much shorter than its chord estimate a distance is taken when bounding (km; rounding is ~1e-4)
CHORD_SLACK_KM = 0.01

#: how many (offer, region) cells one dense block may hold: 4 million cells is about 100 MB of temporaries
BLOCK_CELLS = 4_000_000


def improving_lanes(
    supply: Supply,
    demand: Demand,
    hubs: Hubs,
    costs: LaneCosts,
    u: F64,
    w: F64,
    current: Lanes,
    *,
    scale: int,
    bonus: I64,
    lower: I64,
    lookahead: float,
    per_offer: int,
    per_row: int,
) -> tuple[Lanes, int]:
    """The lanes to add after a solve, and how many lanes were priced.

    Parameters
    ----------
    supply, demand, hubs, costs
        One product's offers and demand rows, all hubs, and the cost parameters.
    u, w
        The solve's duals, scaled (per supply node, per demand row).
    current
        The lanes already in the set.
    scale
        The integer money scale of margins and duals.
    bonus, lower
        Per supply node: added to its lanes' scaled margins; the lowest scaled margin it may use.
    lookahead
        Lanes whose reduced cost is above ``-lookahead`` times the median bid are candidates too.
    per_offer, per_row
        At most this many candidates are added per offer and per demand row, best reduced cost first.

    Returns
    -------
    tuple of (Lanes, int)
        Nothing when no feasible lane has positive reduced cost; else the best few per offer and per
        row among the lanes outside ``current`` whose reduced cost is above ``-lookahead`` (the module
        docstring's bound finds them); and the number of lanes priced one by one.
    """
    if supply.size == 0 or demand.size == 0:
        return Lanes.concat([]), 0
    farm_gate = supply.ask + (u - bonus) / scale  # a floor node's bonus lowers the farm-gate it must beat
    clearing = demand.bid - w / scale
    regions, first = np.unique(demand.region, return_index=True)
    ceiling = np.full(hubs.size, -np.inf)
    ceiling[regions] = np.maximum.reduceat(clearing, first)
    due = np.full(hubs.size, -1, np.int64)
    due[regions] = np.maximum.reduceat(demand.due_days, first)
    ahead = int(lookahead * float(np.median(demand.bid)) * scale)
    # a hair of slack so float rounding never hides a lane the integer test would take
    tol = (ahead + 4.0) / scale + 1e-9 * max(1.0, float(np.abs(clearing).max()))
    offers = np.arange(supply.size, dtype=np.int64)
    found, evaluated, improving = [], 0, False
    for o, r in pairs_below(supply, offers, hubs, regions, farm_gate, ceiling, due, costs, tol=tol):
        km = costs.circuity * haversine_km(supply.lat[o], supply.lon[o], hubs.lat[r], hubs.lon[r])
        block = lanes_for_pairs(o, r, supply, demand, hubs, costs, distance_km=km)
        evaluated += block.size
        scaled = scaled_margins(block.margin, scale)
        reduced = scaled + bonus[block.offer] - u[block.offer] - w[block.demand]
        allowed = scaled >= lower[block.offer]
        improving = improving or bool(np.any(allowed & (reduced > 0)))
        found.append(block.take(allowed & (reduced > -ahead)))
    if not improving:
        return Lanes.concat([]), evaluated
    extra = Lanes.concat(found)
    # lanes already in the set price at or below zero: drop the ones the look-ahead found again
    have = current.offer * demand.size + current.demand
    extra = extra.take(~np.isin(extra.offer * demand.size + extra.demand, have))
    reduced = scaled_margins(extra.margin, scale) + bonus[extra.offer] - u[extra.offer] - w[extra.demand]
    keep = np.union1d(top_per_group(extra.offer, reduced, per_offer), top_per_group(extra.demand, reduced, per_row))
    return extra.take(keep), evaluated


def initial_lanes(supply: Supply, demand: Demand, hubs: Hubs, costs: LaneCosts, *, k_nearest: int, k_best: int) -> Lanes:
    """The starting lanes, whatever their margin: each region with its ``k_nearest`` nearest offers
    (regions are mostly served from nearby), and each offer with the ``k_best`` regions where its
    margin bound is highest; one lane per (offer, region) however many generators proposed it."""
    regions, first = np.unique(demand.region, return_index=True)
    region_bid = np.full(hubs.size, -np.inf)
    region_bid[regions] = np.maximum.reduceat(demand.bid, first)
    region_due = np.full(hubs.size, -1, np.int64)
    region_due[regions] = np.maximum.reduceat(demand.due_days, first)
    pairs = [nearest_offer_pairs(supply, hubs, regions, k_nearest)]
    pairs += best_pairs(supply, hubs, regions, region_bid, region_due, costs, k_best)
    offer = np.concatenate([o for o, _ in pairs])
    region = np.concatenate([r for _, r in pairs])
    key = np.unique(offer * hubs.size + region)
    return lanes_for_pairs(key // hubs.size, key % hubs.size, supply, demand, hubs, costs)


def reach(
    supply: Supply,
    demand: Demand,
    hubs: Hubs,
    costs: LaneCosts,
    lanes: Lanes,
    *,
    sold_nothing: NDArray[np.bool_],
    got_nothing: NDArray[np.bool_],
    scale: int,
    table: Lanes | None,
) -> tuple[NDArray[np.int8], NDArray[np.int8], int]:
    """How far each offer and demand row got (:data:`NO_LANE`, :data:`UNPROFITABLE` or
    :data:`PROFITABLE`), and how many lanes the search built.

    Anything with a profitable lane in ``lanes`` (the final lane set) is PROFITABLE. An offer that
    ``sold_nothing`` or a row that ``got_nothing`` with no profitable lane is searched exhaustively, so
    its reason is exact: every region for such an offer, every offer for such a row. With a given lane
    ``table``, the table is the search space.
    """
    offer_reach = np.full(supply.size, NO_LANE, np.int8)
    row_reach = np.full(demand.size, NO_LANE, np.int8)
    profitable = scaled_margins(lanes.margin, scale) > 0  # a floor node's lanes may not be
    offer_reach[lanes.offer[profitable]] = PROFITABLE
    row_reach[lanes.demand[profitable]] = PROFITABLE
    lonely_offers = np.flatnonzero((offer_reach != PROFITABLE) & sold_nothing)
    lonely_rows = (row_reach != PROFITABLE) & got_nothing
    evaluated = 0
    if table is not None:
        _note_reach(table, table.offer, offer_reach, scale)
        _note_reach(table, table.demand, row_reach, scale)
        return offer_reach, row_reach, 0
    regions = demand_regions(demand)
    for o, r in all_pairs(lonely_offers, regions):
        block = lanes_for_pairs(o, r, supply, demand, hubs, costs)
        evaluated += block.size
        _note_reach(block, block.offer, offer_reach, scale)
    everyone = np.arange(supply.size, dtype=np.int64)
    for o, r in all_pairs(everyone, np.unique(demand.region[lonely_rows])):
        block = lanes_for_pairs(o, r, supply, demand, hubs, costs)
        block = block.take(lonely_rows[block.demand])
        evaluated += block.size
        _note_reach(block, block.demand, row_reach, scale)
    return offer_reach, row_reach, evaluated


def scaled_margins(margin: F64, scale: int) -> I64:
    """Margins per kg in the solver's integer money: ``rint(margin * scale)``.

    Raises
    ------
    SolverError
        A margin does not fit (or is NaN): never let a cast wrap around silently.
    """
    scaled = np.rint(margin * scale)
    if not np.all(np.abs(scaled) < 2.0**62):  # NaN fails too
        raise SolverError(f"margins do not fit the solver's integer money at scale {scale}; prices per kg are out of range")
    return scaled.astype(np.int64)


def nearest_offer_pairs(supply: Supply, hubs: Hubs, regions: I64, k: int) -> tuple[I64, I64]:
    """Each region with the ``k`` offers nearest to its hub, as (offer, region) pairs."""
    if supply.size == 0 or len(regions) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    index, _ = nearest(unit_vectors(hubs.lat[regions], hubs.lon[regions]), supply.xyz, k)
    return index.ravel(), np.repeat(regions, index.shape[1])


def best_pairs(
    supply: Supply,
    hubs: Hubs,
    regions: I64,
    region_bid: F64,
    region_due: I64,
    costs: LaneCosts,
    k: int,
) -> Iterator[tuple[I64, I64]]:
    """Each offer with the ``k`` regions where its margin bound is highest, as (offer, region) pairs.

    The bound is the region's best bid minus the ask and the freight; a region the goods cannot reach
    before the offer expires or before the region's latest due date is skipped, and so is a pair whose
    bound is not positive. Distances come from chords (one matrix product per block); they only rank.

    Parameters
    ----------
    regions
        Candidate region indices; ``region_bid`` and ``region_due`` are indexed by region number.
    """
    if supply.size == 0 or len(regions) == 0:
        return
    hub_xyz = unit_vectors(hubs.lat[regions], hubs.lon[regions])
    bid, due = region_bid[regions][None, :], region_due[regions][None, :]
    xyz = supply.xyz
    k = min(k, len(regions))
    step = max(1, BLOCK_CELLS // len(regions))
    for start in range(0, supply.size, step):
        block = np.arange(start, min(start + step, supply.size), dtype=np.int64)
        chord = np.sqrt(np.maximum(2.0 - 2.0 * (xyz[block] @ hub_xyz.T), 0.0))
        km = costs.circuity * 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord * 0.5, 1.0))
        days = np.ceil(km / costs.km_per_day)
        score = bid - supply.ask[block, None] - (costs.freight_per_kg_km * km + costs.handling_per_kg)
        ok = (days <= supply.expiry_days[block, None]) & (days <= due) & (score > 0)
        score = np.where(ok, score, -np.inf)
        top = np.argpartition(-score, k - 1, axis=1)[:, :k] if k < len(regions) else np.broadcast_to(np.arange(len(regions)), score.shape)
        keep = np.take_along_axis(score, top, axis=1) > -np.inf
        yield np.broadcast_to(block[:, None], top.shape)[keep], regions[top[keep]]


def all_pairs(offers: I64, regions: I64) -> Iterator[tuple[I64, I64]]:
    """Every (offer, region) pair of two index sets, in blocks of at most :data:`BLOCK_CELLS` pairs."""
    if len(offers) == 0 or len(regions) == 0:
        return
    step = max(1, BLOCK_CELLS // len(regions))
    for start in range(0, len(offers), step):
        block = offers[start : start + step]
        yield np.repeat(block, len(regions)), np.tile(regions, len(block))


def pairs_below(
    supply: Supply,
    offers: I64,
    hubs: Hubs,
    regions: I64,
    offer_floor: F64,
    region_ceiling: F64,
    region_due: I64,
    costs: LaneCosts,
    *,
    tol: float,
) -> Iterator[tuple[I64, I64]]:
    """Every (offer, region) pair where ``floor_i + cost_ir < ceiling_r + tol`` and the goods can arrive.

    The pricing loop's search: with ``floor`` the farm-gate prices and ``ceiling`` each region's best
    clearing price, only these pairs can hold a lane with positive reduced cost. Distances come from
    chords (one matrix product per block, no gathering); callers recompute the exact haversine for the
    pairs that pass, and ``tol`` absorbs the difference.

    Parameters
    ----------
    offers
        Offer indices to search from; ``offer_floor`` has one value per offer of ``supply``.
    regions
        Region indices to search; ``region_ceiling`` and ``region_due`` are indexed by region number.
    """
    if len(offers) == 0 or len(regions) == 0:
        return
    hub_xyz = unit_vectors(hubs.lat[regions], hubs.lon[regions])
    ceiling = region_ceiling[regions][None, :] - costs.handling_per_kg + tol
    reach_km = costs.km_per_day * np.minimum(supply.expiry_days, region_due[regions].max())
    xyz = supply.xyz
    step = max(1, BLOCK_CELLS // len(regions))
    per_km = costs.freight_per_kg_km
    for start in range(0, len(offers), step):
        block = offers[start : start + step]
        chord = np.sqrt(np.clip(2.0 - 2.0 * (xyz[block] @ hub_xyz.T), 0.0, 4.0))
        # rounding in the dot product puts co-located points up to about 1e-4 km apart: take every
        # distance CHORD_SLACK_KM shorter, so the bound never drops a pair the haversine would keep
        km = np.maximum((costs.circuity * 2.0 * EARTH_RADIUS_KM) * np.arcsin(np.minimum(chord * 0.5, 1.0)) - CHORD_SLACK_KM, 0.0)
        ok = (per_km * km < ceiling - offer_floor[block, None]) & (km <= reach_km[block, None] * (1 + 1e-9))
        hit_o, hit_r = np.nonzero(ok)
        yield block[hit_o], regions[hit_r]


def top_per_group(group: I64, score: F64, k: int) -> I64:
    """Indices of the ``k`` highest scores within each group (ties by position), in group order."""
    if len(group) == 0:
        return np.empty(0, np.int64)
    order = np.lexsort((np.arange(len(group)), -score, group))
    g = group[order]
    first = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    rank = np.arange(len(g)) - np.repeat(first, np.diff(np.r_[first, len(g)]))
    return np.sort(order[rank < k])


def _note_reach(block: Lanes, index: I64, reach: NDArray[np.int8], scale: int) -> None:
    """Raise ``reach`` for the elements ``block`` touches, by whether their lanes are profitable."""
    np.maximum.at(reach, index, np.int8(UNPROFITABLE))
    reach[index[scaled_margins(block.margin, scale) > 0]] = PROFITABLE
