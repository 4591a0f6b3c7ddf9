"""Routes as GeoJSON: one LineString per tour, with the tour's columns as properties."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from harvestmatch.money import publish

#: legs whose tours end at their last stop (no way back to draw)
OPEN_LEGS = frozenset({"line_haul"})


def route_features(routes: pl.DataFrame, stops: pl.DataFrame, places: pl.DataFrame) -> list[dict[str, Any]]:
    """One Feature per row of ``routes``: a LineString from its depot through its ``stops`` in order
    (rows ``route_id, lat, lon`` in visiting order) and back to the depot, except for a route of an
    open-ended leg (:data:`OPEN_LEGS`, when ``routes`` has a ``leg`` column). ``places`` holds
    ``depot_id, lat, lon`` of every depot. Coordinates are ``[lon, lat]``; money (a route's ``cost``)
    as published (:func:`harvestmatch.money.publish`)."""
    where = {d: [lon, lat] for d, lat, lon in places.select("depot_id", "lat", "lon").iter_rows()}
    by_route: dict[str, list[list[float]]] = {}
    for route_id, lat, lon in stops.select("route_id", "lat", "lon").iter_rows():
        by_route.setdefault(route_id, []).append([lon, lat])
    features = []
    for row in publish(routes).iter_rows(named=True):
        home = where[row["depot_id"]]
        back = [] if row.get("leg") in OPEN_LEGS else [home]
        line = [home, *by_route.get(row["route_id"], []), *back]
        features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": line}, "properties": row})
    return features


def feature_collection(features: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}) + "\n"


__all__ = ["OPEN_LEGS", "feature_collection", "route_features"]
