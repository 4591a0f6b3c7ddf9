"""Orders to regional demand: assign each order to its region, pool orders into demand rows, and hand
each row's filled kilograms back to its orders.

Pooling is the point of the platform: a thousand 3 kg orders become one 3 t lane. A demand row is
``(region, product, min_grade, price tier, due date)``; the tier is the order's maximum price rounded
*down* to a multiple of the price step, and the row bids the tier floor, so no buyer ever pays more
than they offered.

Everything here is vectorized: shapely's STRtree for the point-in-polygon join, polars for pooling.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from regions.fills import FillRule
from regions.geodesy import haversine_km

if TYPE_CHECKING:
    import geopandas as gpd

    from regions.polygons import Regions

KM_PER_DEGREE = 111.2


@dataclass(frozen=True)
class Assignment:
    """Where each point landed: a region index (``-1``: rejected) and how far it was snapped (km)."""

    region: np.ndarray
    snapped_km: np.ndarray  # 0 inside a polygon; the distance for a snapped point; NaN if rejected


#: an order outside every region joins the nearest region within this many great-circle km of its
#: boundary (the default of the cycle parameter ``max_snap_km``)
MAX_SNAP_KM = 25.0
#: the width of a price tier (the default of the cycle parameter ``price_step``)
PRICE_STEP = 0.05


def assign_regions(lat: np.ndarray, lon: np.ndarray, shapes: gpd.GeoDataFrame | Regions, *, max_snap_km: float = MAX_SNAP_KM) -> Assignment:
    """The region containing each point.

    A point on a border shared by several regions (or inside overlapping ones) goes to the one with the
    smallest ``region_id`` in binary order, whatever the order of the shapes (without a ``region_id``
    column, the smallest index): exactly one, and always the same. A point outside
    every polygon snaps to the nearest region when that is within ``max_snap_km`` (great-circle km to
    the polygon's boundary, sampled about every kilometre); beyond that it is rejected
    (``region == -1``).
    """

    lat = np.asarray(lat, np.float64)
    lon = np.asarray(lon, np.float64)
    n = len(lat)
    geoms, ids = _outlines(shapes)
    region = np.full(n, -1, np.int64)
    snapped = np.zeros(n, np.float64)
    if n == 0 or len(geoms) == 0:
        return Assignment(region, np.full(n, np.nan))
    point_ix, geom_ix = _points_in_polygons(lat, lon, geoms)
    _first_per_point(point_ix, geom_ix, _id_rank(ids, len(geoms)), region)
    outside = np.flatnonzero(region < 0)
    if len(outside) and max_snap_km > 0:
        hit, km = _snap(lat[outside], lon[outside], geoms, max_snap_km)
        region[outside] = hit
        snapped[outside] = km
    snapped[region < 0] = np.nan
    return Assignment(region, snapped)


#: boundaries are sampled at least this often (degrees, about 1 km) to find the nearest region
SNAP_STEP_DEG = 0.01


def _snap(lat: np.ndarray, lon: np.ndarray, geoms: np.ndarray, max_snap_km: float) -> tuple[np.ndarray, np.ndarray]:
    """The nearest region of each point within ``max_snap_km``, and how far (``-1`` and NaN when none).

    Distances are great-circle km to the polygons' boundaries sampled every :data:`SNAP_STEP_DEG`
    (so exact to about half a kilometre): a KD-tree on the samples' unit vectors answers all points at
    once, instead of walking every vertex of every nearby polygon for every point.
    """
    import shapely
    from scipy.spatial import cKDTree

    from regions.geodesy import EARTH_RADIUS_KM, unit_vectors

    region = np.full(len(lat), -1, np.int64)
    km = np.full(len(lat), np.nan)
    # only polygons that come near some point are sampled
    dlat = max_snap_km / KM_PER_DEGREE
    dlon = dlat / np.maximum(np.cos(np.radians(lat)), 1e-6)
    boxes = shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
    near = np.unique(shapely.STRtree(geoms).query(boxes)[1])  # bounding boxes suffice to choose what to sample
    if len(near) == 0:
        return region, km
    samples = shapely.segmentize(shapely.boundary(geoms[near]), max_segment_length=SNAP_STEP_DEG)
    coords, owner = shapely.get_coordinates(samples, return_index=True)
    tree = cKDTree(unit_vectors(coords[:, 1], coords[:, 0]))
    reach = 2.0 * np.sin(min(max_snap_km + 1.0, np.pi * EARTH_RADIUS_KM) / (2.0 * EARTH_RADIUS_KM))
    _, index = tree.query(unit_vectors(lat, lon), k=1, distance_upper_bound=reach)
    found = index < len(coords)
    dist = np.full(len(lat), np.inf)
    dist[found] = haversine_km(lat[found], lon[found], coords[index[found], 1], coords[index[found], 0])
    ok = dist <= max_snap_km
    region[ok] = near[owner[index[ok]]]
    km[ok] = dist[ok]
    return region, km


#: side of the grid cells that bucket points for the point-in-polygon join (degrees)
GRID_DEG = 0.25


def _points_in_polygons(lat: np.ndarray, lon: np.ndarray, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (point, polygon) pair where the polygon holds the point, border included.

    Points are bucketed once into a grid of :data:`GRID_DEG` cells (one sort); each polygon, prepared,
    tests only the points of the cells under its bounding box, one contiguous slice per grid row. The
    loop runs per polygon and grid row, never per point; polygons with millions of vertices stay fast
    because the polygon is the prepared side, which a point-first spatial index would not give.
    """
    import shapely

    x0, y0 = float(np.floor(lon.min())), float(np.floor(lat.min()))
    nx = int((lon.max() - x0) // GRID_DEG) + 1
    ny = int((lat.max() - y0) // GRID_DEG) + 1
    cell = ((lat - y0) // GRID_DEG).astype(np.int64) * nx + ((lon - x0) // GRID_DEG).astype(np.int64)
    order = np.argsort(cell, kind="stable")
    start = np.searchsorted(cell[order], np.arange(nx * ny + 1))
    slon, slat = lon[order], lat[order]
    bounds = shapely.bounds(geoms)
    points, polygons = [], []
    for k, polygon in enumerate(geoms):
        bx0, by0, bx1, by1 = bounds[k]
        if not (bx1 >= x0 and by1 >= y0) or np.isnan(bx0):
            continue
        cx0, cx1 = max(int((bx0 - x0) // GRID_DEG), 0), min(int((bx1 - x0) // GRID_DEG), nx - 1)
        cy0, cy1 = max(int((by0 - y0) // GRID_DEG), 0), min(int((by1 - y0) // GRID_DEG), ny - 1)
        if cx0 > cx1 or cy0 > cy1:
            continue
        rows = np.arange(cy0, cy1 + 1) * nx
        slices = [np.arange(start[r + cx0], start[r + cx1 + 1]) for r in rows]
        band = np.concatenate(slices)
        if len(band) == 0:
            continue
        shapely.prepare(polygon)
        inside = band[shapely.intersects_xy(polygon, slon[band], slat[band])]
        points.append(order[inside])
        polygons.append(np.full(len(inside), k, np.int64))
    if not points:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(points), np.concatenate(polygons)


def _outlines(shapes: gpd.GeoDataFrame | Regions) -> tuple[np.ndarray, pl.Series | None]:
    """The polygons (a shapely array) and the ``region_id`` of each as text (``None`` without that
    column) of a GeoDataFrame or of :class:`~regions.polygons.Regions` (no GeoDataFrame built)."""
    from regions.polygons import Regions

    if isinstance(shapes, Regions):
        return shapes.geometry, shapes.hubs["region_id"]
    ids = pl.Series([str(v) for v in shapes["region_id"]], dtype=pl.String) if "region_id" in shapes.columns else None
    return np.asarray(shapes.geometry.values), ids


def _id_rank(ids: pl.Series | None, n: int) -> np.ndarray:
    """Each shape's position in binary order of ``region_id`` (its index when there is no id)."""
    if ids is None:
        return np.arange(n, dtype=np.int64)
    rank = np.empty(len(ids), np.int64)
    rank[ids.arg_sort().to_numpy()] = np.arange(len(ids))
    return rank


def _first_per_point(point_ix: np.ndarray, geom_ix: np.ndarray, rank: np.ndarray, out: np.ndarray) -> None:
    """For each point, the geometry of smallest ``rank`` that holds it: write its index into ``out``."""
    if len(point_ix) == 0:
        return
    order = np.lexsort((rank[geom_ix], point_ix))
    p = point_ix[order]
    first = np.r_[True, p[1:] != p[:-1]]
    out[p[first]] = geom_ix[order][first]


def tier_floor(max_price: pl.Expr, step: float) -> pl.Expr:
    """The price tier of each order: its maximum price rounded down to a multiple of ``step``."""
    decimals = max(2, -Decimal(str(step)).normalize().as_tuple().exponent)  # type: ignore[operator]
    # the tiny nudge keeps 1.15 / 0.05 (22.999999...) in tier 23, as a person would count it
    return ((max_price / step + 1e-9).floor() * step).round(decimals)


def pool_orders(orders: pl.DataFrame, *, price_step: float = PRICE_STEP) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pool assigned orders into demand rows.

    Parameters
    ----------
    orders
        Typed orders with a ``region_id`` (null for rejected orders, which are not pooled).
    price_step
        Width of a price tier.

    Returns
    -------
    (demand, orders)
        Demand rows in the contract's columns (``demand_id, region_id, product, min_grade,
        quantity_kg, price_per_kg, due_date`` plus ``orders``, the count pooled), sorted by id; and
        the orders with their ``demand_id`` and ``price_per_kg`` (the tier floor) added.
    """
    decimals = max(2, -Decimal(str(price_step)).normalize().as_tuple().exponent)  # type: ignore[operator]
    keys = ["region_id", "product", "min_grade", "price_per_kg", "due_date"]
    if "_row" not in orders.columns:
        orders = orders.with_row_index("_row")
    tiered = orders.with_columns(price_per_kg=tier_floor(pl.col("max_price_per_kg"), price_step))
    # group first and name the (far fewer) rows; each row keeps the positions of its orders, which
    # then get their demand_id by a gather: no string built per order, no join on five keys
    demand = (
        tiered.filter(pl.col("region_id").is_not_null())
        .group_by(keys)
        .agg(pl.col("quantity_kg").sum(), pl.len().alias("orders"), pl.col("_row"))
        .with_columns(
            demand_id=pl.concat_str(
                [
                    pl.col("region_id"),
                    pl.col("product"),
                    pl.col("min_grade"),
                    pl.col("price_per_kg").round(decimals).cast(pl.String),
                    pl.col("due_date").cast(pl.String),
                ],
                separator="|",
            )
        )
        .sort("demand_id")
    )
    members = demand.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("_d"), "_row").explode("_row")
    position = tiered["_row"].to_numpy()
    which = np.full(int(position.max()) + 1 if len(position) else 0, -1, np.int64)
    which[members["_row"].to_numpy()] = members["_d"].to_numpy()
    index = pl.Series(which[position]).replace(-1, None)
    tagged = tiered.with_columns(demand_id=demand["demand_id"].gather(index))
    columns = ["demand_id", "region_id", "product", "min_grade", "quantity_kg", "price_per_kg", "due_date", "orders"]
    return demand.select(columns), tagged


#: why an order got less than it asked while its row was partly filled, per fill rule
SHARED_REASONS = {"fcfs": "earlier_orders_filled_first", "pro_rata": "row_shared_pro_rata", "max_min": "row_shared_max_min"}


def fill_orders(
    orders: pl.DataFrame, demand_out: pl.DataFrame, *, arrival: str | None = None, rule: FillRule = "fcfs", date: dt.date | None = None
) -> pl.DataFrame:
    """Hand each demand row's filled kg to its orders, in whole kg, by ``rule`` (:mod:`regions.fills`).

    Parameters
    ----------
    orders
        Orders from :func:`pool_orders` (with ``demand_id``; null for rejected ones), ``_row`` (file
        order) and ``due_date``.
    demand_out
        ``demand_id, filled_kg, clearing_price, reason`` per demand row.
    arrival
        Column that orders arrival (``created_at``), ties and absence falling back to file order.
    rule
        ``fcfs``, ``pro_rata`` or ``max_min``.
    date
        The cycle date. An order that is pooled, not filled, and due after it could still be served by
        a later cycle: its status is ``pending`` (its reason still says why it was not filled now).
        Without a date, every order's status is final.

    Returns
    -------
    polars.DataFrame
        ``order_id, region_id, demand_id, filled_kg, unfilled_kg, clearing_price, status, reason``.
    """
    from regions.fills import share

    keys = [arrival, "_row"] if arrival else ["_row"]
    joined = orders.join(demand_out.select("demand_id", "filled_kg", "clearing_price", pl.col("reason").alias("_row_reason")), on="demand_id", how="left")
    joined = joined.sort(["demand_id", *keys], nulls_last=True)
    pooled = joined["demand_id"].is_not_null().to_numpy()
    members = joined.filter(pl.Series(pooled))
    group = members["demand_id"].rle_id().to_numpy().astype(np.int64)
    kg = np.zeros(joined.height, np.int64)
    row_filled = members["filled_kg"].fill_null(0).to_numpy().astype(np.int64)[np.flatnonzero(np.r_[True, np.diff(group) != 0])] if len(group) else group
    kg[pooled] = share(group, members["quantity_kg"].to_numpy().astype(np.int64), row_filled, rule)
    out = joined.with_columns(filled_kg=pl.Series(kg, dtype=pl.Int64))
    out = out.with_columns(unfilled_kg=pl.col("quantity_kg") - pl.col("filled_kg"))
    # due after the cycle date: a later cycle (even the next day's, over a lane of 0 transit days) may still serve it
    waits = pl.col("due_date") > pl.lit(date, pl.Date) if date is not None else pl.lit(False)
    status = (
        pl.when(pl.col("demand_id").is_null())
        .then(pl.lit("rejected"))
        .when(pl.col("unfilled_kg") == 0)
        .then(pl.lit("filled"))
        .when(waits)
        .then(pl.lit("pending"))
        .when(pl.col("filled_kg") > 0)
        .then(pl.lit("partly_filled"))
        .otherwise(pl.lit("unfilled"))
    )
    reason = (
        pl.when(pl.col("demand_id").is_null())
        .then(pl.col("_reject"))
        .when(pl.col("unfilled_kg") == 0)
        .then(pl.lit(None, pl.String))
        .when(pl.col("_row_reason") == "partly_filled")
        .then(pl.lit(SHARED_REASONS[rule]))
        .otherwise(pl.col("_row_reason"))
    )
    return (
        out.with_columns(status=status, reason=reason)
        .sort("_row")
        .select("order_id", "region_id", "demand_id", "filled_kg", "unfilled_kg", "clearing_price", "status", "reason")
    )


def pool(
    orders: pl.DataFrame, shapes: gpd.GeoDataFrame | Regions, *, max_snap_km: float = MAX_SNAP_KM, price_step: float = PRICE_STEP
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Assign typed orders to regions and pool them (see :func:`assign_regions`, :func:`pool_orders`).

    Returns
    -------
    (demand, orders)
        The pooled demand rows, and the orders with ``_row`` (file order), ``region_id`` (null when
        rejected), ``snapped_km``, ``_reject`` (why, for rejected orders), ``demand_id`` and the tier.
    """
    where = assign_regions(orders["lat"].to_numpy(), orders["lon"].to_numpy(), shapes, max_snap_km=max_snap_km)
    # gathered from a typed Series with a null index for rejected points: a numpy object array with
    # None in it would make polars guess the type from the rows (and fail when the first is None)
    ids = _outlines(shapes)[1]
    if ids is None:
        raise ValueError("shapes without a region_id column cannot be pooled into")
    region_id = ids.rename("region_id").gather(pl.Series(where.region, dtype=pl.Int64).replace(-1, None))
    placed = orders.with_row_index("_row").with_columns(
        region_id=region_id,
        snapped_km=pl.Series(where.snapped_km),
        _reject=pl.when(pl.Series(where.region) < 0)
        .then(pl.lit(f"outside every region and more than {max_snap_km:g} km from the nearest"))
        .otherwise(pl.lit(None, pl.String)),
    )
    return pool_orders(placed, price_step=price_step)
