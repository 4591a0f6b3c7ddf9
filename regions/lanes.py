"""Feasible lanes between offers and regional demand rows, built in bulk from numpy columns.

A lane joins offer ``i`` to demand row ``j`` of the same product. It is feasible when the offer's grade
is at least the row's minimum grade and the goods arrive in time::

    distance_km  = circuity * haversine(offer, hub(region(j)))      (or a given road distance)
    transit_days = ceil(distance_km / km_per_day)
    cost_per_kg  = freight_per_kg_km * distance_km + handling_per_kg (or a given freight rate)
    feasible    <=> grade_i >= min_grade_j  and  transit_days <= expiry_i - T  and  transit_days <= due_j - T
    margin_ij    = bid_j - ask_i - cost_per_kg

Only lanes with a positive margin can carry flow in an optimum. Lanes are produced from (offer, region)
pairs: a pair is priced once (distance, transit, cost) and then expanded to every demand row of the
region, so a region with two price tiers costs one distance, not two.

The functions here are pure: numpy arrays in, numpy arrays out. Which pairs to expand is the pricing's
choice (:mod:`matcher.bounded`); :mod:`matcher.dense` computes every pair's lanes by the same formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from regions.geodesy import haversine_km, unit_vectors

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class LaneCosts:
    """How distance turns into days and money (see docs/design.md section 1)."""

    circuity: float = 1.3
    km_per_day: float = 600.0
    freight_per_kg_km: float = 0.0005
    handling_per_kg: float = 0.10


@dataclass(frozen=True)
class Supply:
    """The open offers of one product, as columns. ``expiry_days`` counts days from the cycle date.

    ``keep``, when given, is the share of a kg's value a buyer keeps, ``1 - refund_rate`` (the
    cooperative's expected refunds for the product): a lane's margin is then ``bid * keep - ask - cost``.
    ``previous_price``, when given, is each offer's farm-gate price in the previous cycle (NaN where it
    had none): a warm start's guess at today's prices (:mod:`matcher.warm`), never a constraint.
    """

    lat: F64
    lon: F64
    ask: F64
    grade: NDArray[np.int8]
    expiry_days: I64
    keep: F64 | None = None
    previous_price: F64 | None = None

    @property
    def size(self) -> int:
        return len(self.ask)

    def kept(self) -> F64:
        """``keep``, or ones (a buyer keeps the whole value of every kg)."""
        return self.keep if self.keep is not None else np.ones(self.size)

    def take(self, index: I64) -> Supply:
        """The offers at ``index``, in that order."""
        keep = None if self.keep is None else self.keep[index]
        previous = None if self.previous_price is None else self.previous_price[index]
        return Supply(self.lat[index], self.lon[index], self.ask[index], self.grade[index], self.expiry_days[index], keep, previous)

    @cached_property
    def xyz(self) -> F64:
        return unit_vectors(self.lat, self.lon)


@dataclass(frozen=True)
class Demand:
    """The demand rows of one product, sorted by region; ``due_days`` counts days from the cycle date."""

    region: I64
    bid: F64
    min_grade: NDArray[np.int8]
    due_days: I64

    @property
    def size(self) -> int:
        return len(self.bid)

    def __post_init__(self) -> None:
        if len(self.region) > 1 and np.any(np.diff(self.region) < 0):
            raise ValueError("Demand rows must be sorted by region")


@dataclass(frozen=True)
class Hubs:
    """Every region's hub, indexed by region number."""

    lat: F64
    lon: F64

    @property
    def size(self) -> int:
        return len(self.lat)


@dataclass(frozen=True)
class Lanes:
    """Lanes as parallel columns. ``margin`` is per kg, before any integer scaling."""

    offer: I64
    demand: I64
    distance_km: F64
    transit_days: I64
    cost_per_kg: F64
    margin: F64

    @property
    def size(self) -> int:
        return len(self.offer)

    def take(self, index: NDArray[np.int64] | NDArray[np.bool_]) -> Lanes:
        return Lanes(
            self.offer[index],
            self.demand[index],
            self.distance_km[index],
            self.transit_days[index],
            self.cost_per_kg[index],
            self.margin[index],
        )

    @staticmethod
    def concat(parts: list[Lanes]) -> Lanes:
        if not parts:
            return empty_lanes()
        return Lanes(*(np.concatenate([getattr(p, f) for p in parts]) for f in _LANE_FIELDS))


_LANE_FIELDS = ("offer", "demand", "distance_km", "transit_days", "cost_per_kg", "margin")


def empty_lanes() -> Lanes:
    return Lanes(
        np.empty(0, np.int64),
        np.empty(0, np.int64),
        np.empty(0, np.float64),
        np.empty(0, np.int64),
        np.empty(0, np.float64),
        np.empty(0, np.float64),
    )


def lanes_for_pairs(
    offer: I64,
    region: I64,
    supply: Supply,
    demand: Demand,
    hubs: Hubs,
    costs: LaneCosts,
    *,
    distance_km: F64 | None = None,
    transit_days: I64 | None = None,
    cost_per_kg: F64 | None = None,
) -> Lanes:
    """Expand (offer, region) pairs to the feasible lanes to every demand row of each region.

    Parameters
    ----------
    offer, region
        Parallel arrays: offer index into ``supply``, region index into ``hubs``.
    supply, demand, hubs, costs
        One product's offers and demand rows, all hubs, and the cost parameters.
    distance_km, transit_days, cost_per_kg
        Given values per pair (a road router's distances, negotiated rates) that replace the computed
        ones; ``transit_days`` and ``cost_per_kg`` are derived from ``distance_km`` when absent, and
        so is a single cell marked empty (a negative day count, a NaN cost).

    Returns
    -------
    Lanes
        Every feasible lane, whatever its margin, in pair order and then row order.
    """
    if distance_km is None:
        distance_km = costs.circuity * haversine_km(supply.lat[offer], supply.lon[offer], hubs.lat[region], hubs.lon[region])
    # given values win; a negative day count or a NaN cost marks a cell left empty
    computed_days = transit_days_for(distance_km, costs.km_per_day)
    transit_days = computed_days if transit_days is None else np.where(transit_days < 0, computed_days, transit_days)
    computed_cost = costs.freight_per_kg_km * distance_km + costs.handling_per_kg
    cost_per_kg = computed_cost if cost_per_kg is None else np.where(np.isnan(cost_per_kg), computed_cost, cost_per_kg)
    # a pair that cannot arrive before the offer expires has no feasible row at all
    alive = transit_days <= supply.expiry_days[offer]
    offer, region = offer[alive], region[alive]
    distance_km, transit_days, cost_per_kg = distance_km[alive], transit_days[alive], cost_per_kg[alive]

    pair, row = _expand(region, _region_ptr(demand, hubs.size))
    off = offer[pair]
    ok = (supply.grade[off] >= demand.min_grade[row]) & (transit_days[pair] <= demand.due_days[row])
    pair, row, off = pair[ok], row[ok], off[ok]
    cost = cost_per_kg[pair]
    value = demand.bid[row] if supply.keep is None else demand.bid[row] * supply.keep[off]
    return Lanes(
        off,
        row,
        distance_km[pair],
        transit_days[pair],
        cost,
        value - supply.ask[off] - cost,
    )


def transit_days_for(distance_km: F64, km_per_day: float) -> I64:
    """``ceil(distance_km / km_per_day)`` as integers."""
    return np.ceil(np.asarray(distance_km) / km_per_day).astype(np.int64)


def demand_regions(demand: Demand) -> I64:
    """The distinct regions that hold at least one demand row, ascending."""
    return np.unique(demand.region)


def _region_ptr(demand: Demand, n_regions: int) -> I64:
    return np.searchsorted(demand.region, np.arange(n_regions + 1), side="left").astype(np.int64)


def _expand(region: I64, ptr: I64) -> tuple[I64, I64]:
    """For pairs pointing at regions, (pair index, demand row) for every row of each pair's region."""
    count = ptr[region + 1] - ptr[region]
    total = int(count.sum())
    pair = np.repeat(np.arange(len(region), dtype=np.int64), count)
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    return pair, ptr[region][pair] + offset
