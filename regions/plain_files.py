"""Plain region files read with the standard library and shapely: a GeoJSON FeatureCollection
(``json``) and a GeoPackage of one feature table (``sqlite3``), both in WGS84.

pyogrio imports pandas, geopandas, pyarrow and pyproj when it loads (about half a second, more than
reading a country's regions), so :func:`regions.polygons.read_regions` tries these first. Each reader
returns ``None`` for anything GDAL could read differently (another CRS, a date-like id, a 3-D or
extended geometry, several layers): then pyogrio or geopandas reads the file, and the regions are the
same either way (tests/regions/test_polygons.py compares every path).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import polars as pl

#: the names a GeoJSON file's legacy ``crs`` member may give WGS84 by (GDAL reads each as EPSG:4326)
_CRS84 = frozenset({"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "OGC:CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"})


#: text GDAL's GeoJSON driver would read as a date, a time or a date-time rather than as text
_DATE_LIKE = re.compile(r"^\s*(\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}:\d{2})")


def read_plain_geojson(path: Path) -> tuple[list[str], dict[str, pl.Series], np.ndarray, bool] | None:
    """:func:`regions.polygons._read_wgs84` of a plain GeoJSON FeatureCollection, with ``json`` and shapely only.

    ``None`` (read by pyogrio instead) unless every feature is a Polygon or MultiPolygon in two
    dimensions, ``region_id`` is text (not date-like) or whole numbers in every feature that has it
    (and some feature has it), the hubs are numbers or null, and the CRS, if named, is WGS84: then GDAL
    would read the same values, and the column names only matter to a message this path never gives."""
    import json

    import shapely

    try:
        doc = json.loads(path.read_bytes())
    except ValueError:  # not JSON (or not UTF-8): GDAL says what it is
        return None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        return None
    crs = doc.get("crs")
    if crs is not None and not (isinstance(crs, dict) and isinstance(crs.get("properties"), dict) and crs["properties"].get("name") in _CRS84):
        return None
    features = doc["features"]
    if not features or not all(
        isinstance(f, dict) and isinstance(f.get("geometry"), dict) and f["geometry"].get("type") in ("Polygon", "MultiPolygon") for f in features
    ):
        return None
    props = [f.get("properties") or {} for f in features]
    names: dict[str, None] = {}
    for p in props:
        names.update(dict.fromkeys(p))
    if "region_id" not in names:
        return None
    ids = [p.get("region_id") for p in props]
    kinds = {type(v) for v in ids} - {type(None)}
    if kinds == {str}:
        if any(_DATE_LIKE.match(v) for v in ids if v is not None):
            return None
    elif kinds != {int} or None in ids:  # with a null, GDAL's whole numbers come as floats
        return None
    elif any(not -(2**63) <= v < 2**63 for v in ids if v is not None):
        return None
    fields = {"region_id": pl.Series([None if v is None else str(v) for v in ids], dtype=pl.String).str.strip_chars()}
    for name in ("hub_lat", "hub_lon"):
        if name not in names:
            continue
        values = [p.get(name) for p in props]
        if any(v is not None and (type(v) not in (int, float) or (type(v) is float and not math.isfinite(v))) for v in values):
            return None
        fields[name] = pl.Series([None if v is None else str(v) for v in values], dtype=pl.String)
    try:
        geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    except Exception:  # a ring not closed, too few points: let GDAL say what it makes of it
        return None
    if bool(shapely.has_z(geoms).any()) or bool(shapely.is_missing(geoms).any()):
        return None
    return [*names, "geometry"], fields, geoms, True


#: a GeoPackage geometry header's envelope size in bytes, by its envelope indicator (flags bits 1-3)
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def read_plain_geopackage(path: Path) -> tuple[list[str], dict[str, pl.Series], np.ndarray, bool] | None:
    """:func:`regions.polygons._read_wgs84` of a GeoPackage of one feature table, with ``sqlite3`` and shapely only.

    ``None`` (read by pyogrio instead) unless the file holds exactly one feature table, its CRS is
    EPSG:4326 or undefined, ``region_id`` is declared TEXT (or INTEGER without nulls), the hubs are
    REAL or INTEGER columns, and every geometry is present, not empty, two-dimensional and without the
    extended-type flag: then GDAL would read the same rows in the same order."""
    import sqlite3

    import shapely

    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        layers = db.execute(
            "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
            "WHERE c.data_type = 'features'"
        ).fetchall()
        if len(layers) != 1:
            return None
        table, geometry, srs = layers[0]
        if srs not in (0, -1):
            found = db.execute("SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ?", (srs,)).fetchone()
            if found is None or (str(found[0]).upper(), int(found[1])) != ("EPSG", 4326):
                return None
        info = db.execute(f'PRAGMA table_info("{table}")').fetchall()  # cid, name, type, notnull, default, pk
        names = [str(r[1]) for r in info if not r[5] and r[1] != geometry]
        declared = {str(r[1]): str(r[2]).upper() for r in info}
        if "region_id" not in names or declared["region_id"] not in ("TEXT", "INTEGER", "MEDIUMINT", "INT", "SMALLINT", "TINYINT"):
            return None
        if any(name in names and declared[name] not in ("REAL", "DOUBLE", "FLOAT", "INTEGER", "MEDIUMINT", "INT") for name in ("hub_lat", "hub_lon")):
            return None
        wanted = [n for n in ("region_id", "hub_lat", "hub_lon") if n in names]
        order = next((r[1] for r in info if r[5]), None)
        select = ", ".join(f'"{n}"' for n in [geometry, *wanted])
        rows = db.execute(f'SELECT {select} FROM "{table}"' + (f' ORDER BY "{order}"' if order else "")).fetchall()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    if not rows:
        return None
    blobs = [r[0] for r in rows]
    if any(not isinstance(b, bytes) or b[:2] != b"GP" or (b[3] >> 1) & 7 not in _ENVELOPE_BYTES or b[3] & 0b110000 for b in blobs):
        return None  # no geometry, not a GeoPackage geometry, an empty one or an extended type: GDAL's reading
    geoms = shapely.from_wkb([b[8 + _ENVELOPE_BYTES[(b[3] >> 1) & 7] :] for b in blobs])
    if bool(shapely.has_z(geoms).any()) or bool(shapely.is_missing(geoms).any()):
        return None
    fields = {}
    ids = [r[1] for r in rows]
    kinds = {type(v) for v in ids} - {type(None)}
    if kinds == {int} and None in ids:  # GDAL's whole numbers with a null come as floats
        return None
    if not kinds <= {str, int}:
        return None
    fields["region_id"] = pl.Series([None if v is None else str(v) for v in ids], dtype=pl.String).str.strip_chars()
    for k, name in enumerate(wanted[1:], start=2):
        values = [r[k] for r in rows]
        if any(v is not None and type(v) not in (int, float) for v in values):
            return None
        fields[name] = pl.Series([None if v is None or v != v else str(v) for v in values], dtype=pl.String)
    return [*names, "geometry"], fields, geoms, srs not in (0, -1)


__all__ = ["read_plain_geojson", "read_plain_geopackage"]
