"""The OpenAPI 3.1 document of the service, built from the same pydantic models that validate the
requests, and the interactive docs served from an installed package (no network, no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, send_from_directory

from api.cycles import CycleIn
from api.offers import OfferIn
from api.orders import OrderIn

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


_S, _I, _N, _B = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
_NS, _NN, _NI = {"type": ["string", "null"]}, {"type": ["number", "null"]}, {"type": ["integer", "null"]}

SCHEMAS: dict[str, Any] = {
    "OfferIn": OfferIn.model_json_schema(ref_template=REF),
    "OrderIn": OrderIn.model_json_schema(ref_template=REF),
    "CycleIn": CycleIn.model_json_schema(ref_template=REF),
    "Offer": _obj({
        "offer_id": _S, "cooperative_id": _S, "product": _S, "grade": {"enum": ["A", "B", "C"]}, "quantity_kg": _I,
        "remaining_kg": _I, "lat": _N, "lon": _N, "ready_date": {"type": "string", "format": "date"},
        "shelf_life_days": _I, "ask_per_kg": _N, "status": {"enum": ["open", "withdrawn", "sold_out", "expired"]},
        "created_at": {"type": "string", "format": "date-time"},
    }),
    "Order": _obj({
        "order_id": _S, "product": _S, "min_grade": {"enum": ["A", "B", "C"]}, "quantity_kg": _I, "lat": _N, "lon": _N,
        "max_price_per_kg": _N, "due_date": {"type": "string", "format": "date"},
        "status": {"enum": ["pending", "filled", "partly_filled", "unfilled", "rejected"]}, "filled_kg": _I, "unfilled_kg": _I,
        "region_id": _NS, "clearing_price": _NN, "reason": _NS, "cycle_id": _NI, "created_at": {"type": "string", "format": "date-time"},
    }),
    "Cycle": _obj({
        "id": _I, "date": {"type": "string", "format": "date"}, "status": {"enum": ["queued", "running", "done", "failed"]},
        "reason": _NS, "superseded_by": _NI, "snapshot_at": _NS, "finished_at": _NS, "summary": {"type": ["object", "null"]},
    }),
    "Problem": _obj(
        {"type": _S, "title": _S, "status": _I, "detail": _S,
         "errors": {"type": "array", "items": _obj({"path": _S, "message": _S})}},
        ["type", "title", "status"],
    ),
    "Page": lambda item: None,  # replaced below
    "FeatureCollection": _obj({"type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": {"type": "object"}}}),
    "Rows": _obj({"items": {"type": "array", "items": {"type": "object"}}}),
}
del SCHEMAS["Page"]


def _page(item: str) -> dict[str, Any]:
    return _obj({"items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}, "next": _NS})


def _json(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {"content": {media: {"schema": schema}}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problems(*codes: int) -> dict[str, Any]:
    titles = {400: "Malformed body", 401: "Missing or unknown API key", 403: "The key's role may not do this",
              404: "Not found (or not yours)", 409: "Conflict with the current state", 413: "Body too large",
              415: "Unsupported content type", 422: "Invalid input, one entry per problem"}
    return {str(c): {"description": titles[c], **_json(_ref("Problem"), "application/problem+json")} for c in codes}


def _op(summary: str, ok: tuple[int, dict[str, Any]], *problems: int, body: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None, secure: bool = True) -> dict[str, Any]:
    code, content = ok
    op: dict[str, Any] = {"summary": summary, "responses": {str(code): {"description": "OK", **content}, **_problems(*problems)}}
    if body is not None:
        op["requestBody"] = {"required": True, **body}
    if params:
        op["parameters"] = params
    if not secure:
        op["security"] = []
    return op


def _q(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _p(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


PAGE = [_q("limit", {"type": "integer", "minimum": 1, "maximum": 1000}), _q("after", _S)]
TABLE = {"content": {
    "application/json": {"schema": _ref("Rows")},
    "text/csv": {"schema": _S},
    "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
}}
CYCLE_ID = _p("cycle_id", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1})
FORMAT = _q("format", {"enum": ["json", "csv", "parquet"]})


def document() -> dict[str, Any]:
    offer_body = {"content": {
        "application/json": {"schema": {"oneOf": [_ref("OfferIn"), {"type": "array", "items": _ref("OfferIn"), "maxItems": 10000}]}},
        "text/csv": {"schema": _S},
    }}
    order_body = _json({"oneOf": [_ref("OrderIn"), {"type": "array", "items": _ref("OrderIn"), "maxItems": 10000}]})
    created_offers = _json({"oneOf": [_ref("Offer"), _obj({"items": {"type": "array", "items": _ref("Offer")}})]})
    created_orders = _json({"oneOf": [_ref("Order"), _obj({"items": {"type": "array", "items": _ref("Order")}})]})
    region_body = {"content": {"application/geo+json": {"schema": {"type": "object"}}, "application/geopackage+sqlite3": {"schema": {"type": "string", "format": "binary"}}}}
    idem = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "minLength": 1, "maxLength": 200}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "harvestmatch", "version": "0.1.0",
                 "description": "Cooperatives post supply, buyers post orders, the operator runs the daily matching cycle, planners fetch shipments."},
        "components": {"schemas": SCHEMAS, "securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}},
        "security": [{"key": []}],
        "paths": {
            "/healthz": {"get": _op("Liveness", (200, _json(_obj({"status": _S}))), secure=False)},
            "/readyz": {"get": _op("Readiness: the database answers", (200, _json(_obj({"status": _S, "database": _S}))), secure=False)},
            "/offers": {
                "post": _op("Post one offer, many, or a CSV (cooperative: own; operator: names the cooperative)", (201, created_offers),
                            400, 401, 403, 413, 415, 422, body=offer_body, params=[idem]),
                "get": _op("List offers (a cooperative sees its own)", (200, _json(_page("Offer"))), 401, 403, 422,
                           params=[*PAGE, _q("product", _S), _q("status", _S), _q("cooperative_id", _S)]),
            },
            "/offers/{offer_id}": {"get": _op("Read an offer", (200, _json(_ref("Offer"))), 401, 403, 404, params=[_p("offer_id", _S)])},
            "/offers/{offer_id}/withdraw": {"post": _op("Withdraw an open offer", (200, _json(_ref("Offer"))), 401, 403, 404, 409, params=[_p("offer_id", _S)])},
            "/orders": {
                "post": _op("Post one order or many", (201, created_orders), 400, 401, 403, 413, 415, 422, body=order_body, params=[idem]),
                "get": _op("List orders (a buyer sees its own)", (200, _json(_page("Order"))), 401, 403, 422,
                           params=[*PAGE, _q("product", _S), _q("status", _S)]),
            },
            "/orders/{order_id}": {"get": _op("Read an order and its fill", (200, _json(_ref("Order"))), 401, 403, 404, params=[_p("order_id", _S)])},
            "/regions": {
                "put": _op("Replace the region polygons (operator)", (200, _json(_obj({"regions": _I, "hubs_derived": _I, "warnings": {"type": "array", "items": _S}}))),
                           401, 403, 413, 415, 422, body=region_body),
                "get": _op("The regions as GeoJSON", (200, _json(_ref("FeatureCollection"), "application/geo+json")), 401, 403),
            },
            "/cycles": {
                "post": _op("Queue the matching cycle of a date (operator)", (202, _json(_ref("Cycle"))), 401, 403, 409, 422, body=_json(_ref("CycleIn"))),
                "get": _op("Recent cycles", (200, _json(_obj({"items": {"type": "array", "items": _ref("Cycle")}}))), 401, 403),
            },
            "/cycles/{cycle_id}": {"get": _op("A cycle's status and summary", (200, _json(_ref("Cycle"))), 401, 403, 404, params=[CYCLE_ID])},
            "/cycles/{cycle_id}/allocations": {"get": _op(
                "Shipped lanes (a cooperative sees its own)", (200, TABLE), 401, 403, 404, 409, 422,
                params=[CYCLE_ID, FORMAT, _q("cooperative_id", _S), _q("region_id", _S), _q("product", _S)])},
            "/cycles/{cycle_id}/prices": {"get": _op(
                "Regional clearing prices", (200, TABLE), 401, 403, 404, 409, 422, params=[CYCLE_ID, FORMAT, _q("region_id", _S), _q("product", _S)])},
            "/cycles/{cycle_id}/shipments": {"get": _op(
                "Shipped lanes as GeoJSON lines (planners)", (200, _json(_ref("FeatureCollection"), "application/geo+json")), 401, 403, 404, 409, params=[CYCLE_ID])},
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(document())


@bp.get("/docs/")
@bp.get("/docs")
def docs() -> Response:
    page = """<!doctype html><html><head><meta charset="utf-8"><title>harvestmatch API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script></body></html>"""
    return Response(page, mimetype="text/html")


@bp.get("/docs/assets/<path:name>")
def docs_assets(name: str) -> Response:
    from swagger_ui_bundle import swagger_ui_path

    return send_from_directory(Path(swagger_ui_path), name)
