from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import polars as pl
import pytest
import shapely
from polars.testing import assert_frame_equal

from harvestmatch.errors import InputError, SchemaError
from regions.plain_files import read_plain_geojson, read_plain_geopackage
from regions.polygons import parse_regions, read_regions, regions_from_stored, regions_to_stored


def frame(geoms, ids=None, crs="EPSG:4326", **cols) -> gpd.GeoDataFrame:
    ids = ids if ids is not None else [f"r{k}" for k in range(len(geoms))]
    return gpd.GeoDataFrame({"region_id": ids, **cols}, geometry=geoms, crs=crs)


def test_bowtie_is_mended_and_said() -> None:
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    regions = parse_regions(frame([bowtie]), source="r.geojson")
    assert regions.shapes.geometry.is_valid.all()
    assert any("mended" in w for w in regions.warnings)


def test_projected_input_is_reprojected_to_wgs84() -> None:
    src = frame([shapely.box(116.0, 39.5, 117.0, 40.5)]).to_crs("EPSG:3857")
    regions = parse_regions(src, source="r.gpkg")
    hub = regions.hubs.row(0, named=True)
    assert 39.5 < hub["hub_lat"] < 40.5 and 116.0 < hub["hub_lon"] < 117.0
    assert regions.shapes.crs.to_epsg() == 4326


def test_missing_crs_is_taken_as_wgs84_with_a_warning() -> None:
    regions = parse_regions(frame([shapely.box(0, 0, 1, 1)], crs=None), source="r.geojson")
    assert any("no CRS" in w for w in regions.warnings)


def test_derived_hub_lies_inside_a_concave_region() -> None:
    u_shape = shapely.Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])
    regions = parse_regions(frame([u_shape]), source="r")
    hub = regions.hubs.row(0, named=True)
    assert hub["hub_derived"]
    assert u_shape.contains(shapely.Point(hub["hub_lon"], hub["hub_lat"]))


def test_numeric_ids_become_strings_and_order_is_by_id() -> None:
    regions = parse_regions(frame([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], ids=[20, 10]), source="r")
    assert regions.hubs["region_id"].to_list() == ["10", "20"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: frame([shapely.box(0, 0, 1, 1), shapely.box(1, 1, 2, 2)], ids=["a", "a"]), "duplicate region_id 'a'"),
        (lambda: frame([shapely.box(0, 0, 1, 1)], ids=[""]), "expected a non-empty identifier"),
        (lambda: frame([shapely.Polygon()]), "empty or missing geometry"),
        (lambda: frame([shapely.LineString([(0, 0), (1, 1)])]), "not a polygon"),
        (lambda: frame([shapely.box(0, 0, 1, 1)], hub_lat=[30.0], hub_lon=[None]), "must both be given"),
        (lambda: frame([shapely.box(0, 0, 1, 1)], hub_lat=[30.0]), "hub_lat and hub_lon come together"),
    ],
)
def test_bad_regions(build, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_regions(build(), source="r")


def test_geopackage_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "regions.gpkg"
    frame([shapely.box(0, 0, 1, 1)], hub_lat=[0.5], hub_lon=[0.5]).to_file(path, driver="GPKG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        regions = read_regions(path)
    assert regions.hubs.row(0, named=True)["hub_derived"] is False


def test_messages_name_the_source_the_caller_gives(tmp_path: Path) -> None:
    path = tmp_path / "tmp4f2a.geojson"
    path.write_text("this is not GeoJSON")
    with pytest.raises(InputError, match=r"^upload\.geojson: cannot read regions"):
        read_regions(path, source="upload.geojson")


def test_stored_regions_round_trip_in_binary_id_order() -> None:
    odd = shapely.Polygon([(116.123456789012345, 39.98765432109876), (117.1, 39.5), (116.7, 40.333333333333336)])
    two = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)])
    # "B" sorts before "a" and "r10" before "r9" in binary order
    given = frame(
        [odd, two, shapely.box(5, 5, 6, 6), shapely.box(7, 7, 8, 8)],
        ids=["a", "r9", "B", "r10"],
        hub_lat=[39.9, None, 5.5, 7.5],
        hub_lon=[116.6, None, 5.5, 7.5],
    )
    regions = parse_regions(given, source="r")
    stored = regions_to_stored(regions)
    assert stored.columns == ["region_id", "geometry", "hub_lat", "hub_lon", "hub_derived"]
    assert stored.dtypes == [pl.String, pl.String, pl.Float64, pl.Float64, pl.Boolean]
    assert stored["region_id"].to_list() == ["B", "a", "r10", "r9"]
    assert stored["hub_derived"].to_list() == [False, False, False, True]
    back = regions_from_stored(stored.reverse())  # the database may return any order
    assert_frame_equal(back.hubs, regions.hubs)
    assert back.shapes["region_id"].tolist() == regions.shapes["region_id"].tolist()
    assert all(shapely.equals_exact(back.shapes.geometry.values, regions.shapes.geometry.values, tolerance=0))
    assert back.shapes.crs.to_epsg() == 4326
    assert_frame_equal(regions_to_stored(back), stored)


STORED = {"region_id": "r0", "geometry": shapely.to_geojson(shapely.box(0, 0, 1, 1)), "hub_lat": 0.5, "hub_lon": 0.5, "hub_derived": False}


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"geometry": "not json"}, InputError, "regions: row 1: column 'geometry': expected a polygon as GeoJSON text"),
        ({"geometry": shapely.to_geojson(shapely.Point(0, 0))}, InputError, "row 1: column 'geometry': not a polygon"),
        ({"geometry": None}, InputError, "row 1: column 'geometry': empty or missing geometry"),
        ({"region_id": ""}, InputError, "row 1: column 'region_id': expected a non-empty identifier"),
        ({"hub_lat": 95.0}, InputError, "row 1: column 'hub_lat': expected degrees from -90 to 90"),
        ({"hub_derived": ...}, SchemaError, "column 'hub_derived': required column is missing"),
    ],
)
def test_bad_stored_regions(change: dict, error: type[Exception], message: str) -> None:
    row = {k: v for k, v in {**STORED, **change}.items() if v is not ...}
    schema = {"region_id": pl.String, "geometry": pl.String, "hub_lat": pl.Float64, "hub_lon": pl.Float64, "hub_derived": pl.Boolean}
    with pytest.raises(error, match=message):
        regions_from_stored(pl.DataFrame([row], schema={k: schema[k] for k in row}))


def _read_by_geopandas(path: Path) -> object:
    """The regions as the reader gave them before it skipped geopandas: read_file, then parse_regions."""
    return parse_regions(gpd.read_file(path), source=path.name)


def _same_regions(a, b) -> None:
    assert_frame_equal(a.hubs, b.hubs)
    assert a.warnings == b.warnings
    assert shapely.to_wkb(a.geometry).tolist() == shapely.to_wkb(b.geometry).tolist()


_BOWTIE = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
_TWO = [shapely.box(109, 29, 111, 31), shapely.MultiPolygon([shapely.box(111, 30, 112, 31), shapely.box(112.5, 30, 113, 32)])]


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("text-ids-and-a-missing-hub", lambda: frame(_TWO, ids=["r0", " r1 "], hub_lat=[30.0, None], hub_lon=[110.0, None])),
        ("whole-number-ids", lambda: frame(_TWO, ids=[20, 10])),
        ("whole-number-hubs", lambda: frame(_TWO, hub_lat=[30, 31], hub_lon=[110, 112])),
        ("a-null-id", lambda: frame(_TWO, ids=["r0", None])),
        ("a-date-like-id", lambda: frame(_TWO, ids=["2026-11-23", "r1"])),
        ("an-invalid-polygon-mended", lambda: frame([_BOWTIE, shapely.box(5, 5, 6, 6)])),
        ("no-hub-columns-and-other-fields", lambda: frame(_TWO, name=["a", "b"], population=[1, 2])),
        ("projected", lambda: frame(_TWO).to_crs("EPSG:3857")),
        ("no-crs", lambda: frame(_TWO, crs=None)),
    ],
)
@pytest.mark.parametrize("driver", ["GeoJSON", "GPKG"])
def test_every_read_path_gives_what_geopandas_gives(tmp_path: Path, name: str, build, driver: str) -> None:
    """GeoJSON without pyogrio, other files through pyogrio without a GeoDataFrame, projected files
    through geopandas: the same hubs, warnings and geometries as geopandas' read_file and parse_regions."""
    path = tmp_path / f"{name}.{'geojson' if driver == 'GeoJSON' else 'gpkg'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a date-like text id, a projected GeoJSON: GDAL's own remarks
        build().to_file(path, driver=driver)
    # the plain GeoJSON files take the path without pyogrio (else this would compare geopandas with itself)
    plain = name not in ("a-date-like-id", "projected")
    if driver == "GeoJSON":
        assert (read_plain_geojson(path) is not None) == plain
    else:
        assert (read_plain_geopackage(path) is not None) == (name not in ("projected", "no-crs"))  # GDAL's own undefined CRS: pyogrio decides
    try:
        expected = _read_by_geopandas(path)
    except InputError as exc:  # a bad file: the same problems either way
        with pytest.raises(InputError) as got:
            read_regions(path)
        assert [str(p) for p in got.value.problems] == [str(p) for p in exc.problems]
        return
    _same_regions(read_regions(path), expected)


def test_the_test_datas_geojson_reads_as_geopandas_reads_it() -> None:
    path = Path(__file__).parent.parent / "data" / "jingjin.geojson"
    _same_regions(read_regions(path), _read_by_geopandas(path))


def test_geojson_without_a_crs_member_is_wgs84_without_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "plain.geojson"
    square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"region_id": "a"}, "geometry": ' + str(square).replace("'", '"') + "}]}"
    )
    _same_regions(read_regions(path), _read_by_geopandas(path))
    assert not any("no CRS" in w for w in read_regions(path).warnings)
