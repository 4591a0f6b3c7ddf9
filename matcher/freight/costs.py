"""A round's cost per kg of every lane, leg by leg: from the fleets (the first round, and the bound), or
from the previous round's tours (docs/freight.md).

Costs are parallel arrays over :class:`~matcher.freight.corridors.Corridors`' pairs, one per leg, in
money per kg; a lane's cost is their sum plus ``handling_per_kg``. With crossdocks, ``via_haul`` is the
line haul through the pair's crossdock (both hops and the crossdock's handling; infinite where the
pair has none), and the lane takes the cheaper of the two line hauls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from matcher.freight.corridors import CROSSDOCK, HUB, Corridors
from matcher.freight.rates import MIN_SHARE_KM, FleetRates, LegRates, leg_rates, tour_shares

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class LegCosts:
    """Money per kg of each pair on each leg (arrays over the corridors' pairs)."""

    first_mile: F64
    line_haul: F64
    last_mile: F64
    via_haul: F64 | None = None

    def haul(self) -> F64:
        """The line haul each lane takes: direct, or through its crossdock where that is cheaper."""
        return self.line_haul if self.via_haul is None else np.minimum(self.line_haul, self.via_haul)

    def through_crossdock(self) -> NDArray[np.bool_]:
        """Per pair, whether its line haul runs through its crossdock at these costs."""
        return np.zeros(len(self.line_haul), bool) if self.via_haul is None else self.via_haul < self.line_haul

    def total(self, handling_per_kg: float) -> F64:
        return self.first_mile + self.haul() + self.last_mile + handling_per_kg

    def damped(self, towards: LegCosts, step: float) -> LegCosts:
        """These costs moved ``step`` of the way to ``towards`` (1: all the way; a path without a
        crossdock stays infinite)."""
        via = None
        if self.via_haul is not None and towards.via_haul is not None:
            finite = np.isfinite(self.via_haul) & np.isfinite(towards.via_haul)
            via = np.where(finite, self.via_haul + step * (np.where(finite, towards.via_haul, 0.0) - np.where(finite, self.via_haul, 0.0)), np.inf)
        return LegCosts(
            self.first_mile + step * (towards.first_mile - self.first_mile),
            self.line_haul + step * (towards.line_haul - self.line_haul),
            self.last_mile + step * (towards.last_mile - self.last_mile),
            via,
        )

    def scaled(self, first_mile: float, line_haul: float, via_handling: F64 | None = None) -> LegCosts:
        """The first mile and both line hauls times a leg's calibration (a crossdock's handling,
        ``via_handling`` per pair, is a fee: not scaled)."""
        via = None
        if self.via_haul is not None:
            fee = via_handling if via_handling is not None else np.zeros(len(self.via_haul))
            via = np.where(np.isfinite(self.via_haul), (self.via_haul - fee) * line_haul + fee, np.inf)
        return LegCosts(self.first_mile * first_mile, self.line_haul * line_haul, self.last_mile, via)

    def direct_only(self, mask: NDArray[np.bool_]) -> LegCosts:
        """These costs with the pairs of ``mask`` barred from their crossdock."""
        if self.via_haul is None or not mask.any():
            return self
        return LegCosts(self.first_mile, self.line_haul, self.last_mile, np.where(mask, np.inf, self.via_haul))


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
    via = None
    if corridors.has_crossdocks:  # two one-way hops at full vehicles' rates, and the crossdock's handling
        rates = FleetRates.of(fleets["line_haul"])
        km1, km2 = (pairs[c].fill_null(np.nan).to_numpy() for c in ("via_km1", "via_km2"))
        hop = rates.full_load(np.nan_to_num(km1)) + rates.full_load(np.nan_to_num(km2)) + corridors.via_handling()
        via = np.where(np.isnan(km1), np.inf, hop)
    return LegCosts(fm, lh, lm, via)


def line_haul_full_load(fleets: Mapping[str, pl.DataFrame], lh_km: F64) -> F64:
    """The line haul at the cheapest full vehicle's rate, one way (0 where there is no line haul)."""
    return np.where(lh_km > 0, FleetRates.of(fleets["line_haul"]).full_load(lh_km), 0.0)


def first_mile_full_load(fleets: Mapping[str, pl.DataFrame], fm_km: F64) -> F64:
    """The first mile at the cheapest full vehicle's rate, a round trip (no warehouse handling)."""
    return FleetRates.of(fleets["first_mile"]).full_load(fm_km, trips=2.0)


def tour_costs(
    corridors: Corridors,
    routes: pl.DataFrame,
    stops: pl.DataFrame,
    depots: pl.DataFrame,
    circuity: float,
    previous: LegCosts,
    line_haul_fleet: pl.DataFrame | None = None,
) -> LegCosts:
    """Every pair priced from a plan's tours (:func:`matcher.freight.rates.tour_shares`):

    - first mile: an offer on a tour pays its share per kg; one that was not collected pays its node's
      rate per kg-km (else the leg's) times its km to the node; with neither, the previous cost;
    - line haul: a corridor on a tour pays its share per kg; another pays its node's rate per kg-km
      (else the leg's) times its km; with neither, the previous cost;
    - last mile: a region pays its tours' cost per kg delivered, else the leg's; a plan without the
      last mile keeps the previous costs;
    - through a crossdock: hop 1 as a line haul from the origin node to the crossdock; hop 2 its share
      of the crossdock's tour to the hub, else the crossdock's rate per kg-km, else (a crossdock no
      tour has used yet) a full vehicle of ``line_haul_fleet``: what consolidating there is for, tried
      as round 0 tries every lane; plus the crossdock's handling.

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

    # a direct corridor's rates come from direct tours only: a node's short hops to a crossdock would
    # make its rate per kg-km a truck's fixed cost spread over few km
    hops = pl.col("stop_id").str.starts_with(CROSSDOCK) | pl.col("hub").str.starts_with(CROSSDOCK)
    lh_rates = leg_rates(shares.filter(~hops), "line_haul")
    corridor = pairs.select(pl.col("node").alias("hub"), (pl.lit(HUB) + pl.col("region_id")).alias("stop_id"))
    on_tour = corridor.join(lh_rates.per_stop, on=["hub", "stop_id"], how="left", maintain_order="left")["per_kg"]
    lh_km = pairs["lh_km"].to_numpy()
    lh = np.where(lh_km > 0, _per_km(on_tour, pairs["node"], np.maximum(lh_km, MIN_SHARE_KM), lh_rates, previous.line_haul), 0.0)
    if corridors.has_crossdocks:
        # a node whose kg all went through crossdocks ran no direct tour: its direct lanes keep their
        # previous cost rather than the leg's average
        hopped = shares.filter(pl.col("stop_id").str.starts_with(CROSSDOCK)).select(pl.col("hub").alias("node")).unique()
        direct_nodes = lh_rates.per_node.select(pl.col("hub").alias("node"))
        only_hops = pairs.select("node").join(
            hopped.join(direct_nodes, on="node", how="anti").with_columns(_only=pl.lit(True)), on="node", how="left", maintain_order="left"
        )
        keep_previous = only_hops["_only"].fill_null(False).to_numpy() & on_tour.is_null().to_numpy() & (lh_km > 0)
        lh = np.where(keep_previous, previous.line_haul, lh)

    lm_rates = leg_rates(shares, "last_mile")
    if lm_rates.per_kg is None:
        lm = previous.last_mile
    else:
        region = pairs.select(pl.col("region_id").alias("hub")).join(lm_rates.per_node.select("hub", "per_kg"), on="hub", how="left", maintain_order="left")[
            "per_kg"
        ]
        lm = region.fill_null(lm_rates.per_kg).to_numpy()
    via = None
    if corridors.has_crossdocks and previous.via_haul is not None:
        # hop 1: the origin node's tour to the crossdock; hop 2: the crossdock's tour to the hub
        km1, km2 = (pairs[c].fill_null(np.nan).to_numpy() for c in ("via_km1", "via_km2"))
        dock = (pl.lit(CROSSDOCK) + pl.col("via")).alias("stop_id")
        hop1_key = pairs.select(pl.col("node").alias("hub"), dock)
        hop_rates = leg_rates(shares.filter(hops), "line_haul")
        hop1_tour = hop1_key.join(hop_rates.per_stop, on=["hub", "stop_id"], how="left", maintain_order="left")["per_kg"]
        hop2_key = pairs.select(dock.alias("hub"), (pl.lit(HUB) + pl.col("region_id")).alias("stop_id"))
        hop2_tour = hop2_key.join(hop_rates.per_stop, on=["hub", "stop_id"], how="left", maintain_order="left")["per_kg"]
        # hop 1 without a tour of its own pays its node's rate per kg-km, else the leg's; with neither,
        # the previous cost's share by km
        k1, k2 = np.nan_to_num(km1), np.nan_to_num(km2)
        before = np.where(np.isfinite(previous.via_haul), previous.via_haul - corridors.via_handling(), 0.0)
        share1 = np.where(k1 + k2 > 0, k1 / np.maximum(k1 + k2, 1e-9), 0.5)
        # hop 1 without a tour: its node's rate per kg-km over its hops, else its direct tours', else the leg's
        hop1_node = pairs.select(pl.col("node").alias("hub")).join(hop_rates.per_node.select("hub", "per_kg_km"), on="hub", how="left", maintain_order="left")
        hop1 = np.where(
            hop1_node["per_kg_km"].is_null().to_numpy(),
            _per_km(hop1_tour, pairs["node"], np.maximum(k1, MIN_SHARE_KM), lh_rates, before * share1),
            _per_km(hop1_tour, pairs["node"], np.maximum(k1, MIN_SHARE_KM), hop_rates, before * share1),
        )
        dock_rate = hop2_key.select("hub").join(hop_rates.per_node.select("hub", "per_kg_km"), on="hub", how="left", maintain_order="left")["per_kg_km"]
        full = FleetRates.of(line_haul_fleet).full_load(k2) if line_haul_fleet is not None else before * (1 - share1)
        hop2 = hop2_tour.to_numpy().astype(np.float64)
        hop2 = np.where(np.isnan(hop2), dock_rate.to_numpy().astype(np.float64) * np.maximum(k2, MIN_SHARE_KM), hop2)
        hop2 = np.where(np.isnan(hop2), full, hop2)
        via = np.where(np.isnan(km1), np.inf, hop1 + hop2 + corridors.via_handling())
    return LegCosts(fm, lh, lm, via)


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
