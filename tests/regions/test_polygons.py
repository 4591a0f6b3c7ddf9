from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from harvestmatch.errors import InputError
from regions.polygons import parse_regions, read_regions


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
