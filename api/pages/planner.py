"""A planner's pages (the operator sees them too): a done cycle's transport plan, leg by leg.

Choose a cycle and a leg; see its tours on a map (Leaflet, served by the app; the regions as the base
layer, one coloured line per tour, its stops and hubs), as a table paged like the API's, one tour's
stops in order with their times, a timeline per vehicle (server-side bars, no script needed) and what
could not be routed, and why; download the routes, the stops and the unserved as CSV and the tours as
GeoJSON.

Every read goes through the API's own plan views (:mod:`api.plans`, via :mod:`api.pages.bridge`): the
same roles (a cooperative or a buyer is refused), messages (a cycle not done, or without a plan, says
so) and pages. The map reads its lines from a small session-authenticated JSON resource of the pages
(:func:`plan_geojson`), which calls the same view.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import zlib
from typing import Any

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from api import cycles as cycles_api
from api import plans as plans_api
from api import regions_api
from api.auth import Caller
from api.pages.blueprint import PAGE_ROWS, bp
from api.pages.bridge import Answer, call
from api.pages.signing import current, page_for
from api.requests import MAX_PAGE
from matcher.routing.tables import LEGS

#: the leg in a page's path: one of the plan's legs, nothing else
LEG = "any(" + ", ".join(LEGS) + ")"
#: who reads plans (the API's own rule is checked again by its views)
READERS = ("planner", "operator")
#: a day of minutes
DAY_MIN = 24 * 60


def _caller() -> Caller:
    caller = current()
    assert caller is not None  # page_for let the request in
    return caller


def colour(route_id: str) -> str:
    """A tour's colour, the same on the map, in the table and on the timeline (from its id, stable)."""
    hue = zlib.crc32(route_id.encode()) % 360
    return f"hsl({hue}, 70%, 38%)"


@bp.app_template_filter("dayclock")
def dayclock(minutes: Any) -> str:
    """Minutes from the start of the working day as a time of day, with the day after the first (``+1``)."""
    from api.pages.formats import clock

    if minutes is None or minutes == "":
        return ""
    later = int(float(minutes) // DAY_MIN)
    shown = clock(float(minutes) - later * DAY_MIN)
    return f"{shown} (+{later})" if later > 0 else shown


def _cycle(cycle_id: int) -> dict[str, Any]:
    """The cycle as the API shows it to the caller, else 404."""
    answer = call(cycles_api.read, _caller(), path=f"/cycles/{cycle_id}", cycle_id=cycle_id)
    if not answer.ok:
        abort(404)
    return dict(answer.body)


def _plan_of(cycle: dict[str, Any]) -> dict[str, Any]:
    summary = cycle.get("summary") or {}
    plan = summary.get("plan")
    return plan if isinstance(plan, dict) else {}


# ---- choosing a cycle and a leg --------------------------------------------------------------------


@bp.get("/plans")
@page_for(*READERS)
def plans() -> Any:
    """The done cycles, newest first (paged as the API pages them), each with its legs."""
    chosen, leg = request.args.get("cycle", ""), request.args.get("leg", "")
    if chosen.isdigit() and leg in LEGS and int(chosen) <= 2**31 - 1:
        return redirect(url_for("pages.plan", cycle_id=int(chosen), leg=leg))
    after = request.args.get("after") or None
    answer = call(cycles_api.list_cycles, _caller(), path="/cycles", args={"limit": PAGE_ROWS, "after": after, "status": "done"})
    if not answer.ok:
        abort(400)
    items = [dict(c, plan=_plan_of(c)) for c in answer.body["items"]]
    return render_template("plans.html", items=items, more=answer.body["next"], legs=LEGS, after=after)


# ---- one leg of a plan -----------------------------------------------------------------------------


def timeline(tours: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars for the tours (each a vehicle's day): where each starts and how long it runs, in % of a span
    of whole hours around them, and the hour ticks."""
    if not tours:
        return {"bars": [], "ticks": []}
    low = math.floor(min(float(t["start_min"]) for t in tours) / 60) * 60
    high = max(math.ceil(max(float(t["end_min"]) for t in tours) / 60) * 60, low + 60)
    span = high - low
    hours = span // 60
    step = next(s for s in (1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 10**9) if hours / s <= 12)
    ticks = [{"at": 100 * (m - low) / span, "minutes": m} for m in range(int(low), int(high) + 1, 60 * step)]
    bars = []
    for t in tours:
        start, end = float(t["start_min"]), float(t["end_min"])
        bars.append(
            {
                "tour": t,
                "left": round(100 * (start - low) / span, 3),
                "width": round(max(100 * (end - start) / span, 0.4), 3),
                "colour": colour(t["route_id"]),
            }
        )
    return {"bars": bars, "ticks": ticks}


def _no_plan(cycle: dict[str, Any], leg: str, answer: Answer) -> Any:
    """A cycle whose routes the API does not give (not done, no plan): its message, as the page."""
    return render_template("plan.html", cycle=cycle, leg=leg, legs=LEGS, problem=answer.message(), plan={}), answer.status


@bp.get(f"/plans/<int(max=2147483647):cycle_id>/<{LEG}:leg>")
@page_for(*READERS)
def plan(cycle_id: int, leg: str) -> Any:
    """One leg of a cycle's plan: the map, the tours (a page of them), their timeline, the unserved."""
    caller = _caller()
    cycle = _cycle(cycle_id)
    after = request.args.get("after") or None
    routes = call(plans_api.routes, caller, path=f"/cycles/{cycle_id}/routes", args={"leg": leg, "limit": PAGE_ROWS, "after": after}, cycle_id=cycle_id)
    if routes.status == 409:
        return _no_plan(cycle, leg, routes)
    if not routes.ok:
        abort(404 if routes.status in (403, 404) else 400)
    unserved_after = request.args.get("unserved_after") or None
    unserved = call(
        plans_api.unserved,
        caller,
        path=f"/cycles/{cycle_id}/unserved",
        args={"leg": leg, "limit": PAGE_ROWS, "after": unserved_after},
        cycle_id=cycle_id,
    )
    if not unserved.ok:
        abort(400)
    tours = [dict(f["properties"], colour=colour(f["properties"]["route_id"])) for f in routes.body["features"]]
    plan_summary = _plan_of(cycle)
    return render_template(
        "plan.html",
        cycle=cycle,
        leg=leg,
        legs=LEGS,
        plan=plan_summary,
        leg_summary=(plan_summary.get("legs") or {}).get(leg) or {},
        tours=tours,
        more=routes.body["next"],
        after=after,
        timeline=timeline(tours),
        unserved=unserved.body["items"],
        unserved_more=unserved.body["next"],
        unserved_after=unserved_after,
        problem=None,
    )


@bp.get(f"/plans/<int(max=2147483647):cycle_id>/<{LEG}:leg>/tours/<path:route_id>")
@page_for(*READERS)
def plan_tour(cycle_id: int, leg: str, route_id: str) -> Any:
    """One tour: its vehicle, load and times, and its stops in order with their arrival times."""
    cycle = _cycle(cycle_id)
    answer = call(plans_api.route, _caller(), path=f"/cycles/{cycle_id}/routes/{route_id}", cycle_id=cycle_id, route_id=route_id)
    if answer.status == 409:
        return _no_plan(cycle, leg, answer)
    if not answer.ok:
        abort(404 if answer.status in (403, 404) else 400)
    tour = dict(answer.body["properties"], colour=colour(route_id))
    if tour["leg"] != leg:
        return redirect(url_for("pages.plan_tour", cycle_id=cycle_id, leg=tour["leg"], route_id=route_id))
    return render_template("plan_tour.html", cycle=cycle, leg=leg, tour=tour, stops=answer.body["stops"])


# ---- the map's data and the downloads ----------------------------------------------------------------


def _features(cycle_id: int, leg: str) -> Answer | list[dict[str, Any]]:
    """Every tour of the leg as the API's GeoJSON features, page after page (a leg has hundreds of
    tours at most on a national day: one page of the API's largest), or the API's refusal."""
    features: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        answer = call(plans_api.routes, _caller(), path=f"/cycles/{cycle_id}/routes", args={"leg": leg, "limit": MAX_PAGE, "after": after}, cycle_id=cycle_id)
        if not answer.ok:
            return answer
        features += answer.body["features"]
        after = answer.body["next"]
        if after is None:
            return features


@bp.get(f"/plans/<int(max=2147483647):cycle_id>/<{LEG}:leg>.geojson")
@page_for(*READERS)
def plan_geojson(cycle_id: int, leg: str) -> Response:
    """The leg's tours as a GeoJSON FeatureCollection, one LineString per tour (from its depot through its
    stops in order), the API's properties and ``colour``; ``route``: that tour alone, with its ``stops``;
    ``download=1``: as a file."""
    route = request.args.get("route")
    if route:
        one = call(plans_api.route, _caller(), path=f"/cycles/{cycle_id}/routes/{route}", cycle_id=cycle_id, route_id=route)
        if not one.ok:
            return one.response
        found: Answer | list[dict[str, Any]] = [one.body] if one.body["properties"]["leg"] == leg else []
    else:
        found = _features(cycle_id, leg)
    if isinstance(found, Answer):
        return found.response
    for f in found:
        f["properties"]["colour"] = colour(f["properties"]["route_id"])
    response = jsonify({"type": "FeatureCollection", "features": found})
    response.content_type = "application/geo+json"
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="routes-{cycle_id}-{leg}.geojson"'
    return response


#: a regions file up to this size is the map's base layer as the API gives it; a larger one (a country's
#: counties run to hundreds of MB) is simplified for drawing, and kept for a while (:data:`REGIONS_KEEP_S`)
REGIONS_AS_GIVEN_BYTES = 2_000_000
#: how far (degrees) a simplified border may stray from the region's own, and the grid its corners snap to
REGIONS_TOLERANCE = 0.01
REGIONS_GRID = 0.001
#: how long one process keeps the simplified regions before it reads them again (they change rarely:
#: the operator's ``PUT /regions``)
REGIONS_KEEP_S = 600.0


@bp.get("/plans/regions.geojson")
@page_for(*READERS)
def plan_regions() -> Response:
    """The regions, the map's base layer (no map tiles are reachable), from the API's regions view: as it
    gives them, or simplified for drawing when they are large (:data:`REGIONS_AS_GIVEN_BYTES`)."""
    cache: dict[str, Any] = current_app.extensions.setdefault("pages_regions", {})
    kept = cache.get("layer")
    if kept is None or time.monotonic() - kept[0] > REGIONS_KEEP_S:
        answer = call(regions_api.read_all, _caller(), path="/regions")
        if not answer.ok:
            return answer.response
        raw = answer.response.get_data()
        layer = raw if len(raw) <= REGIONS_AS_GIVEN_BYTES else _simplified(answer.body, raw)
        kept = (time.monotonic(), layer, hashlib.sha256(layer).hexdigest()[:32])
        cache["layer"] = kept
    response = Response(kept[1], content_type="application/geo+json")
    response.set_etag(kept[2])
    response.headers["Cache-Control"] = "private, max-age=300"
    response.make_conditional(request)
    return response


def _simplified(body: dict[str, Any], raw: bytes) -> bytes:
    """The regions' borders simplified (:data:`REGIONS_TOLERANCE`) and snapped to a grid, for drawing
    only; each region keeps its id and properties."""
    import shapely

    features = body["features"]
    parts = shapely.get_parts(shapely.from_geojson(raw))  # a FeatureCollection reads as its geometries, in order
    if len(parts) != len(features):
        parts = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    drawn = shapely.set_precision(shapely.simplify(parts, REGIONS_TOLERANCE, preserve_topology=False), REGIONS_GRID, mode="pointwise")
    out = [
        {"type": "Feature", "id": f.get("id"), "geometry": json.loads(shapely.to_geojson(g)), "properties": f["properties"]}
        for f, g in zip(features, drawn, strict=True)
    ]
    return json.dumps({"type": "FeatureCollection", "features": out}, separators=(",", ":")).encode()


def _download(answer: Answer, back: str, name: str | None = None) -> Any:
    """The API's file as it gave it (named ``name``, else as the API names it); its refusal as a message
    on the page ``back``."""
    if answer.status in (403, 404):
        abort(404)
    if not answer.ok:
        flash(answer.message() or _("The file could not be made."), "error")
        return redirect(back)
    if name is not None:
        answer.response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return answer.response


def _leg_arg() -> str | None:
    leg = request.args.get("leg") or None
    if leg is not None and leg not in LEGS:
        abort(404)
    return leg


@bp.get("/plans/<int(max=2147483647):cycle_id>/routes.csv")
@page_for(*READERS)
def plan_routes_csv(cycle_id: int) -> Any:
    """The routes table (``leg``: of that leg), whole, as the API's CSV."""
    leg = _leg_arg()
    answer = call(plans_api.routes, _caller(), path=f"/cycles/{cycle_id}/routes", args={"format": "csv", "leg": leg}, cycle_id=cycle_id)
    back = url_for("pages.plan", cycle_id=cycle_id, leg=leg) if leg else url_for("pages.plans")
    return _download(answer, back, f"routes-{cycle_id}{'-' + leg if leg else ''}.csv")


@bp.get("/plans/<int(max=2147483647):cycle_id>/unserved.csv")
@page_for(*READERS)
def plan_unserved_csv(cycle_id: int) -> Any:
    """What could not be routed (``leg``: in that leg), and why, whole, as the API's CSV."""
    leg = _leg_arg()
    answer = call(plans_api.unserved, _caller(), path=f"/cycles/{cycle_id}/unserved", args={"format": "csv", "leg": leg}, cycle_id=cycle_id)
    back = url_for("pages.plan", cycle_id=cycle_id, leg=leg) if leg else url_for("pages.plans")
    return _download(answer, back, f"unserved-{cycle_id}{'-' + leg if leg else ''}.csv")


@bp.get("/plans/<int(max=2147483647):cycle_id>/stops.csv")
@page_for(*READERS)
def plan_stops_csv(cycle_id: int) -> Any:
    """One tour's stops (``route``), in order, as the API's CSV."""
    route = request.args.get("route") or ""
    if not route:
        abort(404)
    answer = call(plans_api.route, _caller(), path=f"/cycles/{cycle_id}/routes/{route}", args={"format": "csv"}, cycle_id=cycle_id, route_id=route)
    return _download(answer, url_for("pages.plans"))


__all__ = ["colour", "plans", "timeline"]
