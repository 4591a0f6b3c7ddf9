"""A round's cost per kg of every lane, leg by leg: from the fleets (the first round, and the bound), or
from the previous round's tours (docs/freight.md).

Costs are parallel arrays over :class:`~matcher.freight.corridors.Corridors`' pairs, one per leg, in
money per kg; a lane's cost is their sum plus ``handling_per_kg``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from matcher.freight.corridors import HUB, Corridors
from matcher.freight.rates import MIN_SHARE_KM, FleetRates, LegRates, leg_rates, tour_shares

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class LegCosts:
    """Money per kg of each pair on each leg (arrays over the corridors' pairs)."""

    first_mile: F64
    line_haul: F64
    last_mile: F64

    def total(self, handling_per_kg: float) -> F64:
        return self.first_mile + self.line_haul + self.last_mile + handling_per_kg

    def damped(self, towards: LegCosts, step: float) -> LegCosts:
        """These costs moved ``step`` of the way to ``towards`` (1: all the way)."""
        return LegCosts(
            *(a + step * (b - a) for a, b in ((self.first_mile, towards.first_mile), (self.line_haul, towards.line_haul), (self.last_mile, towards.last_mile)))
        )


def last_mile_km(orders: pl.DataFrame | None, hubs: pl.DataFrame, circuity: float) -> pl.DataFrame:
    """``region_id, lm_km``: the shortest km from a region's hub to one of its orders (the last mile's
    bound drives there and back); empty without orders."""
    from regions.geodesy import haversine_km

    if orders is None or orders.height == 0:
        return pl.DataFrame(schema={"region_id": pl.String, "lm_km": pl.Float64})
    placed = orders.filter(pl.col("region_id").is_not_null()).join(hubs.select("region_id", "hub_lat", "hub_lon"), on="region_id", how="inner")
    km = circuity * haversine_km(placed["lat"].to_numpy(), placed["lon"].to_numpy(), placed["hub_lat"].to_numpy(), placed["hub_lon"].to_numpy())
    return placed.select("region_id").with_columns(lm_km=pl.Series(km)).group_by("region_id").agg(pl.col("lm_km").min())


def fleet_costs(corridors: Corridors, fleets: Mapping[str, pl.DataFrame], lm_km: pl.DataFrame | None) -> LegCosts:
    """Every pair at the cheapest full vehicle's rate on each leg (:class:`FleetRates`): a round trip on
    the first mile, one way on the line haul, a round trip to the region's nearest order on the last
    mile (nothing without orders), plus a warehouse's handling on the first mile. Each is at most what
    any tour charges the kg, so a match at these costs bounds every plan's realized welfare from above."""
    pairs = corridors.pairs
    fm = first_mile_full_load(fleets, pairs["fm_km"].to_numpy()) + _node_handling(corridors)
    lh = line_haul_full_load(fleets, pairs["lh_km"].to_numpy())
    if lm_km is None or lm_km.height == 0:
        lm = np.zeros(pairs.height)
    else:
        km = pairs.select("region_id").join(lm_km, on="region_id", how="left", maintain_order="left")["lm_km"].fill_null(0.0).to_numpy()
        lm = FleetRates.of(fleets["last_mile"]).full_load(km, trips=2.0)
    return LegCosts(fm, lh, lm)


def line_haul_full_load(fleets: Mapping[str, pl.DataFrame], lh_km: F64) -> F64:
    """The line haul at the cheapest full vehicle's rate, one way (0 where there is no line haul)."""
    return np.where(lh_km > 0, FleetRates.of(fleets["line_haul"]).full_load(lh_km), 0.0)


def first_mile_full_load(fleets: Mapping[str, pl.DataFrame], fm_km: F64) -> F64:
    """The first mile at the cheapest full vehicle's rate, a round trip (no warehouse handling)."""
    return FleetRates.of(fleets["first_mile"]).full_load(fm_km, trips=2.0)


def tour_costs(corridors: Corridors, routes: pl.DataFrame, stops: pl.DataFrame, depots: pl.DataFrame, circuity: float, previous: LegCosts) -> LegCosts:
    """Every pair priced from a plan's tours (:func:`matcher.freight.rates.tour_shares`):

    - first mile: an offer on a tour pays its share per kg; one that was not collected pays its node's
      rate per kg-km (else the leg's) times its km to the node; with neither, the previous cost;
    - line haul: a corridor on a tour pays its share per kg; another pays its node's rate per kg-km
      (else the leg's) times its km; with neither, the previous cost;
    - last mile: a region pays its tours' cost per kg delivered, else the leg's; a plan without the
      last mile keeps the previous costs.

    Warehouse handling is added to the first mile as in :func:`fleet_costs`.
    """
    pairs = corridors.pairs
    shares = tour_shares(routes, stops, depots, circuity)
    fm_rates = leg_rates(shares, "first_mile")
    by_offer = pairs.select("offer_id", "node").join(
        fm_rates.per_stop.select(pl.col("stop_id").alias("offer_id"), "per_kg"), on="offer_id", how="left", maintain_order="left"
    )
    fm = _per_km(
        by_offer["per_kg"], pairs["node"], np.maximum(pairs["fm_km"].to_numpy(), MIN_SHARE_KM), fm_rates, previous.first_mile - _node_handling(corridors)
    )
    fm = fm + _node_handling(corridors)

    lh_rates = leg_rates(shares, "line_haul")
    corridor = pairs.select(pl.col("node").alias("hub"), (pl.lit(HUB) + pl.col("region_id")).alias("stop_id"))
    on_tour = corridor.join(lh_rates.per_stop, on=["hub", "stop_id"], how="left", maintain_order="left")["per_kg"]
    lh_km = pairs["lh_km"].to_numpy()
    lh = np.where(lh_km > 0, _per_km(on_tour, pairs["node"], np.maximum(lh_km, MIN_SHARE_KM), lh_rates, previous.line_haul), 0.0)

    lm_rates = leg_rates(shares, "last_mile")
    if lm_rates.per_kg is None:
        lm = previous.last_mile
    else:
        region = pairs.select(pl.col("region_id").alias("hub")).join(lm_rates.per_node.select("hub", "per_kg"), on="hub", how="left", maintain_order="left")[
            "per_kg"
        ]
        lm = region.fill_null(lm_rates.per_kg).to_numpy()
    return LegCosts(fm, lh, lm)


def _per_km(on_tour: pl.Series, node: pl.Series, km: F64, rates: LegRates, previous: F64) -> F64:
    """A stop's rate where it was on a tour, else its node's rate per kg-km times ``km``, else the
    leg's, else ``previous``."""
    node_rate = node.to_frame("hub").join(rates.per_node.select("hub", "per_kg_km"), on="hub", how="left", maintain_order="left")["per_kg_km"]
    if rates.per_kg_km is not None:
        node_rate = node_rate.fill_null(rates.per_kg_km)
    by_km = node_rate.to_numpy() * km
    out = on_tour.to_numpy().astype(np.float64)
    out = np.where(np.isnan(out), by_km, out)
    return np.where(np.isnan(out), previous, out)


def _node_handling(corridors: Corridors) -> F64:
    if not corridors.warehouses:
        return np.zeros(corridors.size)
    return (
        corridors.pairs.select("node").join(corridors.node_handling, on="node", how="left", maintain_order="left")["handling_per_kg"].fill_null(0.0).to_numpy()
    )


__all__ = ["LegCosts", "fleet_costs", "first_mile_full_load", "last_mile_km", "line_haul_full_load", "tour_costs"]
