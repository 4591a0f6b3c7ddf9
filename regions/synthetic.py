"""Synthetic region polygons: a grid of rectangular regions over a bounding box, for demos and benchmarks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import geopandas as gpd

#: roughly mainland China's farming belt, where the demo's synthetic day takes place
DEFAULT_BBOX = (100.0, 21.0, 122.0, 45.0)  # lon_min, lat_min, lon_max, lat_max


def grid_regions(n_regions: int, *, bbox: tuple[float, float, float, float] = DEFAULT_BBOX, hub_share: float = 0.9, seed: int = 0) -> gpd.GeoDataFrame:
    """About ``n_regions`` rectangles tiling ``bbox`` (columns x rows, as square as the box allows).

    ``hub_share`` of the regions get a ``hub_lat``/``hub_lon`` near their centre; the rest leave them
    empty so that the hub is derived from the polygon.
    """
    import geopandas as gpd
    import shapely

    lon0, lat0, lon1, lat1 = bbox
    aspect = (lon1 - lon0) / (lat1 - lat0)
    cols = max(1, round(np.sqrt(n_regions * aspect)))
    rows = max(1, int(np.ceil(n_regions / cols)))
    xs = np.linspace(lon0, lon1, cols + 1)
    ys = np.linspace(lat0, lat1, rows + 1)
    ix, iy = np.meshgrid(np.arange(cols), np.arange(rows))
    ix, iy = ix.ravel()[:n_regions], iy.ravel()[:n_regions]
    boxes = shapely.box(xs[ix], ys[iy], xs[ix + 1], ys[iy + 1])
    rng = np.random.default_rng(seed)
    cx, cy = (xs[ix] + xs[ix + 1]) / 2, (ys[iy] + ys[iy + 1]) / 2
    jitter = rng.uniform(-0.25, 0.25, (2, n_regions))
    has_hub = rng.random(n_regions) < hub_share
    width = max(3, len(str(n_regions - 1)))
    return gpd.GeoDataFrame(
        {
            "region_id": [f"R{k:0{width}d}" for k in range(n_regions)],
            "hub_lat": np.where(has_hub, cy + jitter[1] * (ys[1] - ys[0]), np.nan),
            "hub_lon": np.where(has_hub, cx + jitter[0] * (xs[1] - xs[0]), np.nan),
        },
        geometry=boxes,
        crs="EPSG:4326",
    )
