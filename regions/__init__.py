"""Geography: region polygons and hubs, great-circle distances, feasible lanes.

``geopandas`` is imported only where a GeoDataFrame is asked for (:attr:`Regions.shapes`, a file in
another CRS), and numba only when a distance is first computed, so that importing this package (as
the ``harvest`` command's parsers and the solver's worker processes do) stays cheap. The names below
are loaded on first use (:func:`__getattr__`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from harvestmatch.errors import HarvestError, InputError, ParameterError, Problem, SchemaError, SolverError

if TYPE_CHECKING:
    from regions.geodesy import EARTH_RADIUS_KM, haversine_km
    from regions.lanes import LaneCosts
    from regions.polygons import Regions, parse_regions, read_regions, regions_from_stored, regions_to_stored

#: each lazily loaded name and the module that holds it
_LAZY = {
    "EARTH_RADIUS_KM": "regions.geodesy",
    "haversine_km": "regions.geodesy",
    "LaneCosts": "regions.lanes",
    "Regions": "regions.polygons",
    "parse_regions": "regions.polygons",
    "read_regions": "regions.polygons",
    "regions_from_stored": "regions.polygons",
    "regions_to_stored": "regions.polygons",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'regions' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "EARTH_RADIUS_KM",
    "HarvestError",
    "InputError",
    "LaneCosts",
    "ParameterError",
    "Problem",
    "Regions",
    "SchemaError",
    "SolverError",
    "haversine_km",
    "parse_regions",
    "read_regions",
    "regions_from_stored",
    "regions_to_stored",
]
