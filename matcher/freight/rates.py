"""What a kg costs on each leg: from the fleets alone (a full vehicle's rate), or from the tours of a plan.

The three legs of a kg from offer ``i`` (collected to its origin node ``n(i)``: its region's hub, or the
nearest warehouse) to a demand row of region ``r`` (docs/freight.md)::

    first mile   farm -> n(i)          per offer
    line haul    n(i) -> hub of r      per corridor (n, r); none when the offer lies in r (hubs as nodes)
    last mile    hub of r -> pickups   per destination region

**A full vehicle's rate** (:class:`FleetRates`): a vehicle of type ``v`` (capacity ``Q_v``, fixed cost
``F_v``, cost per km ``c_v``) that drives ``k`` km costs ``F_v + c_v k``; full, a kg on it pays
``(F_v + c_v k) / Q_v``. The cheapest type, ``min_v (F_v + c_v k) / Q_v``, is a lower bound on what any
tour charges a kg that it carries ``d`` km away from its depot (``k = d`` on the open-ended line haul,
``k = 2 d`` on round trips): a tour of ``L >= k`` km costs at least ``F_v + c_v L``, and its kg are at
most ``Q_v``. It is the linear relaxation of the per-truck problem (whole trucks paid by the kg).

**Rates from tours** (:func:`plan_rates`): each tour's cost is shared over its stops in proportion to
``kg x km`` (the stop's kg times its great-circle distance from the depot, times the circuity; at least
1 km), so a stop far out pays more per kg than one on the way. A stop's rate per kg is its share over
its kg; a node's rate per kg-km is its tours' cost over their ``kg x km``; the last mile's rate per kg
is a region's tours' cost over the kg they deliver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

F64 = NDArray[np.float64]

#: a stop's distance from its depot counts at least this many km when tours' costs are shared (a farm at the hub still pays its share)
MIN_SHARE_KM = 1.0


@dataclass(frozen=True)
class FleetRates:
    """One leg's vehicle types as columns (:data:`~matcher.routing.tables.FLEET` rows; ``count`` and
    ``depot`` left aside: a bound holds for every vehicle of the fleet)."""

    fixed: F64
    per_km: F64
    capacity: F64

    @classmethod
    def of(cls, fleet: pl.DataFrame) -> FleetRates:
        return cls(
            fleet["fixed_cost"].to_numpy().astype(np.float64),
            fleet["cost_per_km"].to_numpy().astype(np.float64),
            fleet["capacity_kg"].to_numpy().astype(np.float64),
        )

    def full_load(self, km: F64, *, trips: float = 1.0) -> F64:
        """Per kg, the cheapest full vehicle driving ``trips x km``: ``min_v (F_v + c_v trips km) / Q_v``."""
        km = np.asarray(km, np.float64)
        if len(self.fixed) == 0:
            return np.zeros_like(km)
        out = np.full(km.shape, np.inf)
        for f, c, q in zip(self.fixed, self.per_km, self.capacity, strict=True):  # a few vehicle types
            np.minimum(out, (f + c * trips * km) / q, out=out)
        return out


def tour_shares(routes: pl.DataFrame, stops: pl.DataFrame, depots: pl.DataFrame, circuity: float) -> pl.DataFrame:
    """Every stop of every tour with its share of the tour's cost (by kg x km, see the module docstring).

    Parameters
    ----------
    routes, stops
        A plan's ``routes`` (``leg, hub, route_id, depot_id, cost``) and ``stops`` (``leg, route_id,
        stop_id, kg, lat, lon``).
    depots
        ``depot_id, lat, lon`` of every depot (:func:`matcher.routing.plan.depot_places`).

    Returns
    -------
    polars.DataFrame
        ``leg, hub, route_id, stop_id, kg, km, share`` (money) per stop visit.
    """
    from regions.geodesy import haversine_km

    visits = stops.select("leg", "route_id", "stop_id", "kg", "lat", "lon").join(
        routes.select("leg", "route_id", "hub", "depot_id", "cost"), on=["leg", "route_id"], how="inner"
    )
    visits = visits.join(depots.select("depot_id", pl.col("lat").alias("_dlat"), pl.col("lon").alias("_dlon")), on="depot_id", how="left")
    km = circuity * haversine_km(visits["lat"].to_numpy(), visits["lon"].to_numpy(), visits["_dlat"].to_numpy(), visits["_dlon"].to_numpy())
    visits = visits.with_columns(km=pl.Series(np.maximum(km, MIN_SHARE_KM)))
    weight = pl.col("kg").cast(pl.Float64) * pl.col("km")
    return visits.with_columns(share=pl.col("cost") * weight / weight.sum().over("leg", "route_id")).select(
        "leg", "hub", "route_id", "stop_id", "kg", "km", "share"
    )


@dataclass(frozen=True)
class LegRates:
    """One leg's rates read off a plan: per stop (money per kg), per node (money per kg-km), and the
    leg's own (money per kg-km, and per kg)."""

    per_stop: pl.DataFrame  # hub, stop_id, per_kg
    per_node: pl.DataFrame  # hub, per_kg_km, per_kg
    per_kg_km: float | None
    per_kg: float | None


def leg_rates(shares: pl.DataFrame, leg: str) -> LegRates:
    """The rates of ``leg`` in :func:`tour_shares`' output."""
    mine = shares.filter(pl.col("leg") == leg)
    per_stop = mine.group_by("hub", "stop_id").agg((pl.col("share").sum() / pl.col("kg").sum()).alias("per_kg"))
    weight = pl.col("kg").cast(pl.Float64) * pl.col("km")
    per_node = mine.group_by("hub").agg(
        (pl.col("share").sum() / weight.sum()).alias("per_kg_km"),
        (pl.col("share").sum() / pl.col("kg").sum()).alias("per_kg"),
    )
    total_weight = float((mine["kg"].cast(pl.Float64) * mine["km"]).sum()) if mine.height else 0.0
    total_kg = float(mine["kg"].sum()) if mine.height else 0.0
    cost = float(mine["share"].sum()) if mine.height else 0.0
    return LegRates(
        per_stop,
        per_node,
        cost / total_weight if total_weight > 0 else None,
        cost / total_kg if total_kg > 0 else None,
    )


__all__ = ["MIN_SHARE_KM", "FleetRates", "LegRates", "leg_rates", "tour_shares"]
