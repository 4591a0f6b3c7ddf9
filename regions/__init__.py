"""Geography: region polygons and hubs, great-circle distances, feasible lanes.

``geopandas`` is imported only by the modules that read or build polygons, so that importing this
package (as the solver's worker processes do) stays cheap.
"""

from harvestmatch.errors import HarvestError, InputError, ParameterError, Problem, SchemaError, SolverError
from regions.geodesy import EARTH_RADIUS_KM, haversine_km
from regions.lanes import LaneCosts
from regions.polygons import Regions, parse_regions, read_regions, regions_from_stored, regions_to_stored

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
