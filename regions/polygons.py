"""Region polygons and their hubs: read any vector format GDAL reads, validate, mend, reproject.

:func:`read_regions` opens a file and delegates to the pure parser of :func:`parse_regions`. What
leaves this module for the rest of the system is :class:`Regions`: the validated polygons (a shapely
array, for the spatial joins inside ``regions/``) and a plain polars frame of hubs; a GeoDataFrame of
them is built only when asked for (:attr:`Regions.shapes`).

A plain GeoJSON file or GeoPackage (WGS84, text ids, numeric hubs, polygons) is read with the
standard library and shapely (:mod:`regions.plain_files`): pyogrio imports pandas, geopandas, pyarrow and pyproj when it loads,
about half a second, more than reading a country's regions. Other files in WGS84 are read by pyogrio
without building a GeoDataFrame; a file in another CRS is read and reprojected by geopandas. Each path
gives the same regions as the next one would (tests/regions/test_polygons.py compares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from harvestmatch.errors import InputError, Problem, SchemaError, first_problems
from harvestmatch.kinds import MAX_ID_CHARS
from regions.plain_files import read_plain_geojson, read_plain_geopackage

if TYPE_CHECKING:
    import geopandas as gpd

WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class Regions:
    """Validated regions.

    Attributes
    ----------
    geometry
        The valid polygonal geometries in WGS84 (a shapely array), one per region in the order of ``hubs``.
    hubs
        polars frame ``region_id, hub_lat, hub_lon, hub_derived`` sorted by ``region_id``;
        ``hub_derived`` marks hubs taken as a point inside the polygon because the file gave none.
    warnings
        Things accepted but worth saying (no CRS in the file, geometries mended, hubs derived).
    """

    geometry: np.ndarray
    hubs: pl.DataFrame
    warnings: tuple[str, ...]

    @cached_property
    def shapes(self) -> gpd.GeoDataFrame:
        """GeoDataFrame in WGS84 of ``region_id`` (string) and ``geometry``, sorted by id (built, and
        geopandas imported, on first use)."""
        import geopandas as gpd

        return gpd.GeoDataFrame({"region_id": self.hubs["region_id"].to_numpy()}, geometry=self.geometry, crs=WGS84)


def read_regions(path: str | Path, *, layer: str | int | None = None, source: str | None = None) -> Regions:
    """Read and validate a region file (GeoJSON, GeoPackage, Shapefile, ...).

    Parameters
    ----------
    path
        The file.
    layer
        The layer to read, for formats that hold several (GeoPackage); the first by default.
    source
        The name used in messages; the file's name by default (give the name the user knows when
        ``path`` is a temporary copy, such as an upload).
    """
    source = source if source is not None else Path(path).name
    try:
        suffix = Path(path).suffix.lower()
        table = None
        if layer is None and suffix in (".geojson", ".json"):
            table = read_plain_geojson(Path(path))
        elif layer is None and suffix == ".gpkg":
            table = read_plain_geopackage(Path(path))
        table = table or _read_wgs84(path, layer)
        if table is None:  # another CRS (reprojected by geopandas), or fields pyogrio alone does not convert as geopandas does
            import geopandas as gpd

            return parse_regions(gpd.read_file(path, layer=layer), source=source)
    except Exception as exc:  # pyogrio raises several types; all mean the same to the user
        if isinstance(exc, (InputError, SchemaError)):
            raise
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        # GDAL names the file it was handed, which may be a temporary path the user never saw
        reason = reason.replace(str(path), source).replace(str(Path(path).resolve()), source)
        raise InputError(Problem(source, None, None, f"cannot read regions: {reason}")) from exc
    columns, fields, geoms, crs_given = table
    warnings = [] if crs_given else [f"{source}: no CRS in the file; coordinates taken as WGS84 (EPSG:4326)"]
    return _parse(columns, fields, geoms, warnings, source=source)


def _read_wgs84(path: str | Path, layer: str | int | None) -> tuple[list[str], dict[str, pl.Series], np.ndarray, bool] | None:
    """A region file's column names (as geopandas names them), its fields as text (:func:`_text_of`),
    its geometries and whether it names a CRS, read by pyogrio without pandas; ``None`` when the file
    is in a CRS other than WGS84 or holds no geometry or fields of another kind than text, numbers and
    booleans (read by geopandas instead, as before)."""
    import pyogrio.raw
    import shapely

    meta, _, wkb, values = pyogrio.raw.read(path, layer=layer)
    if meta["crs"] not in (None, WGS84) or meta["geometry_type"] is None or wkb is None:
        return None
    if any(v.dtype.kind not in "OiufbU" for v in values):
        return None
    names = [str(n) for n in meta["fields"]]
    fields = {name: _text_of(v) for name, v in zip(names, values, strict=True) if name in ("region_id", "hub_lat", "hub_lon")}
    return [*names, "geometry"], fields, shapely.from_wkb(wkb), meta["crs"] is not None


def regions_from_stored(frame: pl.DataFrame, *, source: str = "regions") -> Regions:
    """Regions as a database stores them, back to :class:`Regions`.

    Parameters
    ----------
    frame
        ``region_id`` (string), ``geometry`` (GeoJSON text in WGS84), ``hub_lat``, ``hub_lon``,
        ``hub_derived``, one row per region, in any order (the result is sorted by ``region_id`` in
        binary order, whatever order or collation the database used).
    source
        The name used in messages.

    Raises
    ------
    SchemaError
        A column is missing.
    InputError
        One problem per bad row (the rules of :func:`parse_regions`, and GeoJSON that cannot be read).
    """
    import geopandas as gpd
    import shapely

    missing = [name for name in STORED_COLUMNS if name not in frame.columns]
    if missing:
        has = ", ".join(frame.columns) or "none"
        raise SchemaError([Problem(source, None, name, f"required column is missing (has: {has})") for name in missing])
    text = frame["geometry"].cast(pl.String)
    geoms = shapely.from_geojson(text.to_numpy(), on_invalid="ignore")
    unread = np.flatnonzero(text.is_not_null().to_numpy() & shapely.is_missing(geoms))
    if len(unread):
        raise InputError(_rows(source, "geometry", unread, "expected a polygon as GeoJSON text"))
    shapes = gpd.GeoDataFrame(
        {
            "region_id": frame["region_id"].cast(pl.String).to_list(),
            "hub_lat": frame["hub_lat"].cast(pl.Float64).to_list(),
            "hub_lon": frame["hub_lon"].cast(pl.Float64).to_list(),
        },
        geometry=geoms,
        crs=WGS84,
    )
    regions = parse_regions(shapes, source=source)
    # stored hubs are given, so parse_regions marks them as not derived: keep what was stored
    stored = frame.select(pl.col("region_id").cast(pl.String), pl.col("hub_derived").cast(pl.Boolean).fill_null(False).alias("_stored"))
    hubs = (
        regions.hubs.join(stored, on="region_id", how="left", maintain_order="left")
        .with_columns(hub_derived=pl.col("hub_derived") | pl.col("_stored"))
        .drop("_stored")
    )
    return Regions(regions.geometry, hubs, regions.warnings)


def regions_to_stored(regions: Regions) -> pl.DataFrame:
    """:class:`Regions` as a database stores them: one row per region, sorted by ``region_id``, with
    its geometry as GeoJSON text (lossless: coordinates are written to full precision).

    Returns
    -------
    polars.DataFrame
        ``region_id, geometry, hub_lat, hub_lon, hub_derived`` (:data:`STORED_COLUMNS`).
    """
    import shapely

    geometry = shapely.to_geojson(regions.geometry)
    return regions.hubs.select("region_id", pl.Series("geometry", geometry.tolist(), dtype=pl.String), "hub_lat", "hub_lon", "hub_derived")


#: the columns of a stored region (:func:`regions_to_stored`, :func:`regions_from_stored`)
STORED_COLUMNS = ("region_id", "geometry", "hub_lat", "hub_lon", "hub_derived")


def parse_regions(frame: gpd.GeoDataFrame, *, source: str) -> Regions:
    """Validate region polygons and settle their hubs.

    Rules: ``region_id`` present, non-empty and unique (numbers become strings); geometries present,
    non-empty and polygonal, mended with ``make_valid`` when invalid (what cannot be mended is an
    error); coordinates reprojected to WGS84 (a frame without CRS is taken as WGS84, with a warning);
    ``hub_lat``/``hub_lon`` optional, both or neither, in range; a missing hub becomes a point inside
    the polygon (``representative_point``), with a warning.

    Raises
    ------
    SchemaError
        ``region_id`` missing, or only one of ``hub_lat``/``hub_lon``.
    InputError
        One problem per bad row.
    """
    columns = [str(c) for c in frame.columns]
    _check_columns(columns, source)
    warnings: list[str] = []
    frame = frame.copy()
    if frame.crs is None:
        warnings.append(f"{source}: no CRS in the file; coordinates taken as WGS84 (EPSG:4326)")
        frame = frame.set_crs(WGS84)
    elif not frame.crs.equals(WGS84):
        frame = frame.to_crs(WGS84)
    fields = {name: _text(frame[name]) for name in ("region_id", "hub_lat", "hub_lon") if name in frame.columns}
    return _parse(columns, fields, np.asarray(frame.geometry.values), warnings, source=source)


def _check_columns(columns: list[str], source: str) -> None:
    if "region_id" not in columns:
        raise SchemaError(Problem(source, None, "region_id", f"required column is missing (has: {', '.join(columns)})"))
    has_lat, has_lon = "hub_lat" in columns, "hub_lon" in columns
    if has_lat != has_lon:
        missing = "hub_lon" if has_lat else "hub_lat"
        raise SchemaError(Problem(source, None, missing, "hub_lat and hub_lon come together; only one is present"))


def _parse(columns: list[str], fields: dict[str, pl.Series], geoms: np.ndarray, warnings: list[str], *, source: str) -> Regions:
    """:func:`parse_regions` on plain columns: the names of the file's columns, ``region_id`` and the
    hubs (when present) as stripped text, the geometries in WGS84, and the warnings so far."""
    import shapely

    _check_columns(columns, source)
    has_lat = "hub_lat" in fields
    problems: list[Problem] = []
    ids = fields["region_id"]
    no_id = ids.is_null() | ids.eq("").fill_null(False)
    # the same limit as every identifier of the contract (matcher.schemas): 64 characters, no NUL
    unfit = ~no_id & ((ids.str.len_chars() > MAX_ID_CHARS) | ids.str.contains("\x00", literal=True)).fill_null(False)
    bad_id = no_id | unfit
    problems += _rows(source, "region_id", np.flatnonzero(no_id.to_numpy()), "expected a non-empty identifier, got nothing")
    problems += _rows(
        source,
        "region_id",
        np.flatnonzero(unfit.to_numpy()),
        f"expected an identifier of at most {MAX_ID_CHARS} characters without NUL characters",
    )
    indexed = pl.DataFrame({"region_id": ids}).with_row_index("_row", offset=1).filter(~bad_id)
    dups = indexed.with_columns(pl.col("_row").min().over("region_id").alias("_first")).filter(pl.col("_row") != pl.col("_first"))
    problems += first_problems(
        (Problem(source, r["_row"], "region_id", f"duplicate region_id {r['region_id']!r} (first at row {r['_first']})") for r in dups.iter_rows(named=True)),
        source=source,
        column="region_id",
        rest="duplicate region ids",
        total=dups.height,
    )

    absent = np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms), dtype=bool)
    problems += _rows(source, "geometry", np.flatnonzero(absent), "empty or missing geometry")
    invalid = ~absent & ~np.asarray(shapely.is_valid(geoms), dtype=bool)
    if invalid.any():
        mended = shapely.make_valid(geoms[invalid])
        geoms = geoms.copy()
        geoms[invalid] = _polygonal(mended)
        warnings.append(f"{source}: {int(invalid.sum())} invalid geometries mended with make_valid")
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])  # Polygon, MultiPolygon
    unusable = ~absent & ~(polygonal & ~np.asarray(shapely.is_empty(geoms), dtype=bool))
    problems += _rows(source, "geometry", np.flatnonzero(unusable), "not a polygon (or nothing polygonal left after make_valid)")

    hub_lat = np.full(len(geoms), np.nan)
    hub_lon = np.full(len(geoms), np.nan)
    if has_lat:
        for name, target, limit in (("hub_lat", hub_lat, 90.0), ("hub_lon", hub_lon, 180.0)):
            raw = fields[name]
            number = raw.cast(pl.Float64, strict=False)
            bad = (raw.is_not_null() & (raw != "")) & ~(number.is_finite() & (number.abs() <= limit)).fill_null(False)
            problems += _rows(source, name, np.flatnonzero(bad.to_numpy()), f"expected degrees from -{limit:g} to {limit:g}")
            target[:] = number.fill_null(np.nan).to_numpy()
        half = np.isnan(hub_lat) != np.isnan(hub_lon)
        problems += _rows(source, "hub_lat", np.flatnonzero(half), "hub_lat and hub_lon must both be given or both be empty")
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.row or 0, p.column or "")))

    derived = np.isnan(hub_lat) | np.isnan(hub_lon)
    if derived.any():
        points = shapely.point_on_surface(geoms[derived])
        hub_lon[derived] = shapely.get_x(points)
        hub_lat[derived] = shapely.get_y(points)
        warnings.append(f"{source}: {int(derived.sum())} regions have no hub; a point inside each polygon is used")

    hubs = pl.DataFrame({"region_id": ids, "hub_lat": hub_lat, "hub_lon": hub_lon, "hub_derived": derived})
    order = ids.arg_sort().to_numpy()  # binary (code point) order, as polars sorts everywhere else
    return Regions(geoms[order], hubs[order], tuple(warnings))


def _text(column: object) -> pl.Series:
    """A pandas column of anything as a polars string column, stripped, missing values as null."""
    return pl.from_pandas(column.astype("string")).str.strip_chars()  # type: ignore[attr-defined]


def _text_of(values: np.ndarray) -> pl.Series:
    """:func:`_text` of a field as pyogrio reads it (text, numbers or booleans), without pandas: each
    value as pandas' ``astype("string")`` writes it (``str``; ``None`` and NaN missing), stripped."""
    if values.dtype.kind == "U":
        return pl.Series(values.tolist(), dtype=pl.String).str.strip_chars()
    items: list[Any] = values.tolist()
    text = [None if v is None or (isinstance(v, float) and v != v) else v if isinstance(v, str) else str(v) for v in items]
    return pl.Series(text, dtype=pl.String).str.strip_chars()


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of (possibly mixed) geometries."""
    import shapely

    out = geoms.copy()
    mixed = shapely.get_type_id(geoms) == 7  # GeometryCollection
    for k in np.flatnonzero(mixed):  # rare: only mended geometries that came out mixed
        parts = [g for g in shapely.get_parts(geoms[k]) if shapely.get_type_id(g) in (3, 6)]
        out[k] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def _rows(source: str, column: str, rows: np.ndarray, message: str) -> list[Problem]:
    listed = (Problem(source, int(r) + 1, column, message) for r in rows)
    return first_problems(listed, source=source, column=column, rest=f"rows: {message}", total=len(rows))
