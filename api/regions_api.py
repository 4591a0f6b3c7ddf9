"""Regions: the operator uploads or replaces the polygon set; everyone with a key reads it as GeoJSON."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import delete, select

from api.auth import requires
from api.db import Database
from api.errors import ApiError
from api.models import Region

bp = Blueprint("regions", __name__, url_prefix="/regions")

_SUFFIX = {
    "application/geo+json": ".geojson",
    "application/json": ".geojson",
    "application/geopackage+sqlite3": ".gpkg",
}


@bp.put("")
@requires("operator")
def replace() -> Response:
    """Replace every region with the uploaded file (GeoJSON or GeoPackage), validated first."""
    import shapely

    from regions.polygons import read_regions

    suffix = _SUFFIX.get(request.mimetype or "")
    if suffix is None:
        raise ApiError(415, "Unsupported Media Type", "send application/geo+json or application/geopackage+sqlite3")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"regions{suffix}"
        path.write_bytes(request.get_data())
        parsed = read_regions(path)  # InputError -> 422 with one entry per problem
    shapes = parsed.shapes
    geometry = shapely.to_geojson(shapes.geometry.values)
    hubs = parsed.hubs
    rows = [
        Region(region_id=rid, geometry=geo, hub_lat=float(lat), hub_lon=float(lon), hub_derived=bool(derived))
        for rid, geo, lat, lon, derived in zip(
            hubs["region_id"], geometry, hubs["hub_lat"], hubs["hub_lon"], hubs["hub_derived"], strict=True
        )
    ]
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        session.execute(delete(Region))
        session.add_all(rows)
    return jsonify({"regions": len(rows), "hubs_derived": int(hubs["hub_derived"].sum()), "warnings": list(parsed.warnings)})


@bp.get("")
@requires("cooperative", "buyer", "planner", "operator")
def read_all() -> Response:
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        rows = list(session.scalars(select(Region).order_by(Region.region_id)))
    features = [
        {
            "type": "Feature",
            "id": r.region_id,
            "geometry": json.loads(r.geometry),
            "properties": {"region_id": r.region_id, "hub_lat": r.hub_lat, "hub_lon": r.hub_lon, "hub_derived": r.hub_derived},
        }
        for r in rows
    ]
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.content_type = "application/geo+json"
    return response
