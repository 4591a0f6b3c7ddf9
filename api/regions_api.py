"""Regions: the operator uploads or replaces the polygon set; everyone with a key reads it as GeoJSON.

Region files are large (a country's counties run to hundreds of MB), so ``PUT /regions`` has its own
size limit (``MAX_REGIONS_BYTES``, 512 MB by default) and streams the upload to a temporary file
instead of holding it in memory. Geometry handling stays in :mod:`regions.polygons`; this module sees
plain columns.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context
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
    from regions.polygons import read_regions, regions_to_stored

    suffix = _SUFFIX.get(request.mimetype or "")
    if suffix is None:
        raise ApiError(415, "Unsupported Media Type", "send application/geo+json or application/geopackage+sqlite3")
    request.max_content_length = current_app.config["MAX_REGIONS_BYTES"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"regions{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(request.stream, out, length=2**20)
        parsed = read_regions(path, source="upload")  # InputError -> 422 with one entry per problem
    stored = regions_to_stored(parsed)
    db: Database = current_app.extensions["harvest_db"]
    with db.write() as session:
        session.execute(delete(Region))
        session.add_all([Region(**row) for row in stored.to_dicts()])
    return jsonify({"regions": stored.height, "hubs_derived": int(stored["hub_derived"].sum()), "warnings": list(parsed.warnings)})


@bp.get("")
@requires("cooperative", "buyer", "planner", "operator")
def read_all() -> Response:
    """The regions as one GeoJSON FeatureCollection, streamed in batches: each stored geometry is
    GeoJSON text already, so it is written as it is, never parsed and re-serialized in memory."""
    db: Database = current_app.extensions["harvest_db"]
    columns = (Region.region_id, Region.hub_lat, Region.hub_lon, Region.hub_derived, Region.geometry)

    def features() -> Iterator[str]:
        with db.session() as session:
            rows = session.execute(select(*columns).order_by(Region.region_id).execution_options(yield_per=64))
            yield '{"type": "FeatureCollection", "features": ['
            for k, r in enumerate(rows):
                properties = {"region_id": r.region_id, "hub_lat": r.hub_lat, "hub_lon": r.hub_lon, "hub_derived": r.hub_derived}
                yield ("," if k else "") + (
                    f'{{"type": "Feature", "id": {json.dumps(r.region_id)}, "geometry": {r.geometry}, "properties": {json.dumps(properties)}}}'
                )
            yield "]}"

    return Response(stream_with_context(features()), content_type="application/geo+json")
