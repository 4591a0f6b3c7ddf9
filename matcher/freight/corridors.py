"""The lanes a truck-priced match may use, with the km of each leg, and their cost per kg in a round.

A lane joins an open offer ``i`` to a destination region ``r`` that has demand for the offer's product
(its demand rows then follow as in :func:`regions.lanes.lanes_for_pairs`: grade and time). For each
such pair::

    distance_km  circuity x great circle, offer -> hub of r     (transit days and feasibility, as linear)
    fm_km        circuity x great circle, offer -> n(i)         (first mile; n(i) the origin node)
    lh_km        circuity x great circle, n(i) -> hub of r      (line haul; 0 when n(i) is r's own hub)

and a round's cost per kg is ``first mile + line haul + last mile + handling_per_kg`` (the rates of
:mod:`matcher.freight.rates`), or a lane table's own ``cost_per_kg`` where one is given.

With crossdocks, a pair that has a line haul may instead run ``n(i) -> c -> hub of r`` through the
crossdock ``c`` with the shortest detour, if ``km(n, c) + km(c, r)`` is at most :data:`MAX_DETOUR`
times ``lh_km`` (``via``, ``via_km1``, ``via_km2``; null without one): a round prices both paths and
the lane takes the cheaper (:mod:`matcher.freight.costs`). A product with
more than :data:`PAIR_LIMIT` pairs keeps, per offer, the :data:`PAIRS_PER_OFFER` destinations with the
best margin bound at a full vehicle's rates (``max bid - ask - cost``): a national day's every pair
would not fit in memory, and its lanes would not fit in a round's solve. Those lanes are then the
round's whole lane set: prices are certified over them, not over every pair.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from regions.polygons import Regions

F64 = NDArray[np.float64]

#: a product with more (offer, region) pairs than this keeps the best PAIRS_PER_OFFER per offer (a
#: national product: 550 offers x 2,875 counties; the demo's largest: about 60 x 370)
PAIR_LIMIT = 200_000
PAIRS_PER_OFFER = 32

#: the node prefix of a region's hub, as in the plan's depots
HUB = "hub:"
#: a crossdock's depot prefix in the plan
CROSSDOCK = "crossdock:"
#: a path through a crossdock is considered when it is at most this many times the direct line haul's km
MAX_DETOUR = 1.25


@dataclass(frozen=True)
class Corridors:
    """The pairs of a day, and how offers reach their origin nodes.

    Attributes
    ----------
    pairs
        ``offer_id, region_id, node, distance_km, fm_km, lh_km`` and, from a given lane table,
        ``transit_days`` and ``given_cost`` (null where the table has none).
    warehouses
        Whether offers go to warehouses (else to their regions' hubs).
    node_handling
        ``node, handling_per_kg``: a warehouse's handling per kg (empty without warehouses).
    crossdocks
        ``crossdock_id, lat, lon, capacity_kg, handling_per_kg``, or None; with them ``pairs`` carries
        ``via, via_km1, via_km2``.
    """

    pairs: pl.DataFrame
    warehouses: bool
    node_handling: pl.DataFrame
    crossdocks: pl.DataFrame | None = None

    @property
    def has_crossdocks(self) -> bool:
        return self.crossdocks is not None and "via" in self.pairs.columns

    def via_handling(self) -> NDArray[np.float64]:
        """Per pair, the handling per kg at its crossdock (0 without one)."""
        if not self.has_crossdocks:
            return np.zeros(self.size)
        assert self.crossdocks is not None
        rates = self.crossdocks.select(pl.col("crossdock_id").alias("via"), "handling_per_kg")
        return self.pairs.select("via").join(rates, on="via", how="left", maintain_order="left")["handling_per_kg"].fill_null(0.0).to_numpy()

    @property
    def size(self) -> int:
        return self.pairs.height


def open_offers(offers: pl.DataFrame, date: dt.date) -> pl.DataFrame:
    """The offers open on ``date`` (as :class:`matcher.day.Day` opens them)."""
    expiry = pl.col("ready_date") + pl.duration(days=pl.col("shelf_life_days"))
    return offers.filter((pl.col("ready_date") <= date) & (expiry >= date))


def origin_nodes(offers: pl.DataFrame, regions: Regions, warehouses: pl.DataFrame | None) -> pl.DataFrame:
    """``offer_id, node, node_lat, node_lon``: the region's hub an offer lies in (the nearest hub outside
    every region), or with warehouses the nearest warehouse."""
    from matcher.routing.plan import offer_regions
    from regions.geodesy import nearest, unit_vectors

    hubs = regions.hubs.select("region_id", "hub_lat", "hub_lon")
    if warehouses is not None and warehouses.height:
        wh = warehouses.sort("warehouse_id")
        index, _ = nearest(unit_vectors(offers["lat"].to_numpy(), offers["lon"].to_numpy()), unit_vectors(wh["lat"].to_numpy(), wh["lon"].to_numpy()), 1)
        chosen = wh.select(pl.col("warehouse_id").alias("node"), pl.col("lat").alias("node_lat"), pl.col("lon").alias("node_lon"))[index[:, 0].tolist()]
        return pl.concat([offers.select("offer_id"), chosen], how="horizontal")
    where = offer_regions(offers, regions, hubs)
    return where.join(hubs, on="region_id", how="left").select(
        "offer_id", pl.col("region_id").alias("node"), pl.col("hub_lat").alias("node_lat"), pl.col("hub_lon").alias("node_lon")
    )


def build_corridors(
    offers: pl.DataFrame,
    demand: pl.DataFrame,
    regions: Regions,
    *,
    date: dt.date,
    circuity: float,
    lanes: pl.DataFrame | None = None,
    warehouses: pl.DataFrame | None = None,
    crossdocks: pl.DataFrame | None = None,
    lower_cost: tuple[Callable[[F64], F64], Callable[[F64], F64]] | None = None,
) -> Corridors:
    """Every (open offer, destination region) pair of the day (a given lane table: its pairs), with the
    km of each leg, built product by product; a product with more than :data:`PAIR_LIMIT` pairs keeps
    each offer's :data:`PAIRS_PER_OFFER` best by ``max bid - ask - first(fm_km) - haul(lh_km)``, with
    ``lower_cost = (first, haul)``, the cost per kg of each leg from its km (see the module docstring;
    ties go to the smaller region id; without ``lower_cost``, every pair). Such a product's pairs are
    scored as an offers x regions matrix, and only the pairs kept become rows."""
    offers = open_offers(offers, date)
    nodes = origin_nodes(offers, regions, warehouses)
    hubs = regions.hubs.select("region_id", "hub_lat", "hub_lon")
    at_warehouses = warehouses is not None and warehouses.height > 0
    schema = {
        "offer_id": pl.String,
        "product": pl.String,
        "region_id": pl.String,
        "node": pl.String,
        "distance_km": pl.Float64,
        "fm_km": pl.Float64,
        "lh_km": pl.Float64,
    }
    if lanes is not None:
        extra = [c for c in ("transit_days", "cost_per_kg") if c in lanes.columns]
        pairs = lanes.select("offer_id", "region_id", pl.col("distance_km").alias("_given_km"), *extra).join(
            offers.select("offer_id", "product", "lat", "lon"), on="offer_id", how="inner"
        )
        if "cost_per_kg" in pairs.columns:
            pairs = pairs.rename({"cost_per_kg": "given_cost"})
        chunks = [_with_km(pairs, nodes, hubs, circuity, at_warehouses)]
    else:
        # per product, the regions that want it, by id, with their best bid
        wanted = demand.group_by("product", "region_id").agg(pl.col("price_per_kg").max().alias("_bid")).sort("product", "region_id")
        by_product = {key[0]: frame for key, frame in wanted.partition_by("product", as_dict=True, maintain_order=True).items()}
        chunks = []
        placed = offers.select("offer_id", "product", "lat", "lon", "ask_per_kg").join(nodes, on="offer_id", how="left", maintain_order="left")
        for (product,), mine in placed.group_by("product", maintain_order=True):
            regions_of = by_product.get(product)
            if regions_of is None or mine.height * regions_of.height == 0:
                continue
            if mine.height * regions_of.height > PAIR_LIMIT and lower_cost is not None:
                chunk = _best_pairs(mine, regions_of, hubs, circuity, at_warehouses, lower_cost)
            else:
                pairs = mine.select("offer_id", "product", "lat", "lon").join(regions_of.drop("_bid"), on="product", how="inner")
                chunk = _with_km(pairs, nodes, hubs, circuity, at_warehouses)
            chunks.append(chunk.select(*schema))
    pairs = pl.concat(chunks) if chunks else pl.DataFrame(schema=schema)
    with_via = crossdocks is not None and crossdocks.height > 0
    if with_via:
        assert crossdocks is not None
        pairs = _with_crossdocks(pairs, nodes, hubs, crossdocks, circuity)
    keep = [*schema] + [c for c in ("transit_days", "given_cost") if c in pairs.columns] + (["via", "via_km1", "via_km2"] if with_via else [])
    handling = (
        warehouses.select(pl.col("warehouse_id").alias("node"), "handling_per_kg")
        if warehouses is not None and at_warehouses
        else pl.DataFrame(schema={"node": pl.String, "handling_per_kg": pl.Float64})
    )
    return Corridors(
        pairs.select(keep).sort("offer_id", "region_id"),
        at_warehouses,
        handling,
        crossdocks.sort("crossdock_id") if with_via and crossdocks is not None else None,
    )


def _with_crossdocks(pairs: pl.DataFrame, nodes: pl.DataFrame, hubs: pl.DataFrame, crossdocks: pl.DataFrame, circuity: float) -> pl.DataFrame:
    """Pairs with the crossdock of the shortest detour on their line haul (``via``, ``via_km1`` node ->
    crossdock, ``via_km2`` crossdock -> hub), null where none is within :data:`MAX_DETOUR`; ties go to
    the first crossdock id. Distances are taken once per node and per region, then gathered."""
    from regions.geodesy import haversine_km

    docks = crossdocks.sort("crossdock_id")
    d_lat, d_lon = docks["lat"].to_numpy(), docks["lon"].to_numpy()
    places = nodes.select("node", "node_lat", "node_lon").unique("node", keep="first").sort("node")
    km1 = circuity * haversine_km(places["node_lat"].to_numpy()[:, None], places["node_lon"].to_numpy()[:, None], d_lat[None, :], d_lon[None, :])
    targets = hubs.sort("region_id")
    km2 = circuity * haversine_km(d_lat[None, :], d_lon[None, :], targets["hub_lat"].to_numpy()[:, None], targets["hub_lon"].to_numpy()[:, None])
    node_ix = pairs.select(pl.col("node").replace_strict(places["node"], pl.int_range(places.height, eager=True), return_dtype=pl.Int64))["node"].to_numpy()
    region_ix = pairs.select(pl.col("region_id").replace_strict(targets["region_id"], pl.int_range(targets.height, eager=True), return_dtype=pl.Int64))[
        "region_id"
    ].to_numpy()
    a, b = km1[node_ix], km2[region_ix]  # pairs x crossdocks
    lh = pairs["lh_km"].to_numpy()
    path = np.where((lh[:, None] > 0) & (a + b <= MAX_DETOUR * lh[:, None]), a + b, np.inf)
    best = np.argmin(path, axis=1) if docks.height else np.zeros(pairs.height, np.int64)  # the first of equal detours
    rows = np.arange(pairs.height)
    has = np.isfinite(path[rows, best]) if docks.height else np.zeros(pairs.height, bool)
    ids = docks["crossdock_id"].gather(np.where(has, best, 0).tolist())
    return pairs.with_columns(
        via=pl.when(pl.Series(has)).then(ids).otherwise(None),
        via_km1=pl.Series(np.where(has, a[rows, best], np.nan)).fill_nan(None),
        via_km2=pl.Series(np.where(has, b[rows, best], np.nan)).fill_nan(None),
    )


def _with_km(pairs: pl.DataFrame, nodes: pl.DataFrame, hubs: pl.DataFrame, circuity: float, at_warehouses: bool) -> pl.DataFrame:
    """Pairs with their origin node and each leg's km (a given table's ``distance_km`` wins)."""
    from regions.geodesy import haversine_km

    pairs = pairs.join(nodes, on="offer_id", how="left").join(hubs, on="region_id", how="left")
    lat, lon = pairs["lat"].to_numpy(), pairs["lon"].to_numpy()
    hub_lat, hub_lon = pairs["hub_lat"].to_numpy(), pairs["hub_lon"].to_numpy()
    node_lat, node_lon = pairs["node_lat"].to_numpy(), pairs["node_lon"].to_numpy()
    own_hub = (pairs["node"] == pairs["region_id"]).to_numpy() & (not at_warehouses)
    lh = circuity * haversine_km(node_lat, node_lon, hub_lat, hub_lon)
    pairs = pairs.with_columns(
        distance_km=pl.Series(circuity * haversine_km(lat, lon, hub_lat, hub_lon)),
        fm_km=pl.Series(circuity * haversine_km(lat, lon, node_lat, node_lon)),
        lh_km=pl.Series(np.where(own_hub, 0.0, lh)),
    )
    if "_given_km" in pairs.columns:
        pairs = pairs.with_columns(distance_km=pl.col("_given_km"))
    return pairs


def _best_pairs(
    at: pl.DataFrame,
    regions_of: pl.DataFrame,
    hubs: pl.DataFrame,
    circuity: float,
    at_warehouses: bool,
    lower_cost: tuple[Callable[[F64], F64], Callable[[F64], F64]],
) -> pl.DataFrame:
    """A large product's pairs (its offers ``at``, with their origin nodes, x the regions
    ``regions_of`` wanting it, by region id, each with its best bid ``_bid``): each offer's
    :data:`PAIRS_PER_OFFER` best by ``bid - ask - first(fm_km) - haul(lh_km)``, ties to the smaller
    region id, with :func:`_with_km`'s columns. The km are :func:`_with_km`'s formula on matrices
    (origin nodes x regions for the line haul): no row per pair until the pairs are kept."""
    from regions.geodesy import half_angles, haversine_from_halves

    first, haul = lower_cost
    dest = regions_of.join(hubs, on="region_id", how="left", maintain_order="left")
    origin = at.select("node", "node_lat", "node_lon").unique("node", maintain_order=True)
    of_offer = at.select("node").join(origin.with_row_index("_k"), on="node", how="left", maintain_order="left")["_k"].to_numpy()
    hub = half_angles(dest["hub_lat"].to_numpy(), dest["hub_lon"].to_numpy())
    node = half_angles(origin["node_lat"].to_numpy(), origin["node_lon"].to_numpy())
    lh = circuity * haversine_from_halves(tuple(h[:, None] for h in node), tuple(h[None, :] for h in hub))  # nodes x regions
    if not at_warehouses:  # an offer sold in its own region has no line haul
        column = {r: j for j, r in enumerate(dest["region_id"].to_list())}
        for k, n in enumerate(origin["node"].to_list()):
            if n in column:
                lh[k, column[n]] = 0.0
    offer = half_angles(at["lat"].to_numpy(), at["lon"].to_numpy())
    fm = circuity * haversine_from_halves(offer, tuple(h[of_offer] for h in node))
    margin = dest["_bid"].to_numpy()[None, :] - haul(lh)  # nodes x regions
    score = margin[of_offer] - (at["ask_per_kg"].to_numpy() + first(fm))[:, None]
    rows, cols = _best_per_row(np.nan_to_num(score, nan=-np.inf), PAIRS_PER_OFFER)
    distance = circuity * haversine_from_halves(tuple(h[rows] for h in offer), tuple(h[cols] for h in hub))
    return at[rows].with_columns(
        region_id=dest["region_id"].gather(cols),
        distance_km=pl.Series(distance),
        fm_km=pl.Series(fm[rows]),
        lh_km=pl.Series(lh[of_offer[rows], cols]),
    )


def _best_per_row(score: F64, k: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``rows, cols`` of the ``k`` largest entries of each row (all of a shorter row); of equal entries,
    the leftmost first (as a stable sort by descending score would keep them)."""
    n = score.shape[1]
    if k >= n:
        rows, cols = np.nonzero(np.ones(score.shape, bool))
        return rows.astype(np.int64), cols.astype(np.int64)
    threshold = np.partition(score, n - k, axis=1)[:, n - k]  # each row's k-th largest
    above = score > threshold[:, None]
    level = score == threshold[:, None]
    keep = above | level
    tied = np.flatnonzero(keep.sum(axis=1) > k)  # more entries at the threshold than places left: leftmost first
    if len(tied):
        room = k - above[tied].sum(axis=1)
        keep[tied] = above[tied] | (level[tied] & (np.cumsum(level[tied], axis=1) <= room[:, None]))
    rows, cols = np.nonzero(keep)
    return rows.astype(np.int64), cols.astype(np.int64)


def lane_table(corridors: Corridors, cost: F64, *, exclude: pl.DataFrame | None = None) -> pl.DataFrame:
    """The lane table (:data:`matcher.schemas.LANES`) of a round: each pair at ``cost`` per kg, or at the
    given table's own cost; without the pairs in ``exclude`` (``offer_id, region_id``)."""
    pairs = corridors.pairs.with_columns(cost_per_kg=pl.Series(cost, dtype=pl.Float64))
    if "given_cost" in pairs.columns:
        pairs = pairs.with_columns(cost_per_kg=pl.coalesce("given_cost", "cost_per_kg"))
    if exclude is not None and exclude.height:
        pairs = pairs.join(exclude.select("offer_id", "region_id"), on=["offer_id", "region_id"], how="anti")
    days = ["transit_days"] if "transit_days" in pairs.columns else []
    return pairs.select("offer_id", "region_id", "distance_km", *days, "cost_per_kg")


__all__ = ["CROSSDOCK", "HUB", "MAX_DETOUR", "PAIRS_PER_OFFER", "PAIR_LIMIT", "Corridors", "build_corridors", "lane_table", "open_offers", "origin_nodes"]
