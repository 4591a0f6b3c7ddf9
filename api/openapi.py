"""The OpenAPI 3.1 document of the service. The request bodies of offers and orders are described from
the same column schemas that validate them, each column kind's limits taken from
:data:`harvestmatch.kinds.KINDS` (:func:`kind_schema`), and the interactive docs are served from an
installed package (no network, no CDN)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, send_from_directory

from api.cooperatives import MAX_HECTARES, MAX_MEMBERS
from api.cycles import CycleIn
from api.dfc import PRODUCT_TYPES_IN as DFC_PRODUCT_TYPES_IN
from api.fleets import FLEET_IN
from api.offers import UPLOAD as OFFER_UPLOAD
from api.orders import UPLOAD as ORDER_UPLOAD
from api.requests import MAX_LIST_PAGE, MAX_PAGE
from harvestmatch.kinds import KINDS, Kind
from harvestmatch.money import AMOUNT_DECIMALS, PRICE_DECIMALS
from harvestmatch.settings import json_schema
from matcher.claims import DECISIONS, HISTORY_RULES, MAX_EVIDENCE, MAX_TEXT, REASONS, REMEDIES, RULES, STATUSES
from matcher.dfc_jsonld import EXPORT_URLS, VERSIONS
from matcher.floor import FLOOR_REASONS
from matcher.params import MatchParams
from matcher.routing.tables import CROSSDOCKS, LEGS
from matcher.schemas import Column
from matcher.settlement import BEARERS, PARTIES

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"

_S, _I, _N, _B = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
_NS, _NN, _NI = {"type": ["string", "null"]}, {"type": ["number", "null"]}, {"type": ["integer", "null"]}
_DATE, _TIME = {"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}
_LEG = {"enum": list(LEGS)}
#: money as published (:mod:`harvestmatch.money`): an amount as a decimal string to the cent, a price
#: (money per kg) as one to six places; null where the answer has none
_MONEY = {"type": "string", "pattern": f"^-?[0-9]+\\.[0-9]{{{AMOUNT_DECIMALS}}}$"}
_PRICE = {"type": "string", "pattern": f"^-?[0-9]+\\.[0-9]{{{PRICE_DECIMALS}}}$"}
_NPRICE = {"type": ["string", "null"], "pattern": _PRICE["pattern"]}


def kind_schema(kind: Kind) -> dict[str, Any]:
    """A column kind as JSON Schema, from its rule in :data:`harvestmatch.kinds.KINDS` (which the schema
    module enforces, with its messages).

    A text kind is never empty (the checks refuse an empty cell), hence ``minLength`` 1; a date's
    range (``FIRST_DATE`` to ``LAST_DATE``) has no JSON Schema keyword and is left to the checks.
    """
    rule = KINDS[kind]
    if rule.values is not None:
        return {"enum": list(rule.values)}
    schema: dict[str, Any] = {"type": rule.json}
    if rule.format is not None:
        schema["format"] = rule.format
    if rule.json == "string" and rule.format is None:
        schema["minLength"] = 1
    if rule.max_length is not None:
        schema["maxLength"] = rule.max_length
    if rule.pattern is not None:
        schema["pattern"] = rule.pattern
    if rule.minimum is not None:
        schema["minimum"] = rule.minimum
    if rule.maximum is not None:
        schema["maximum"] = rule.maximum
    return schema


_GRADE = kind_schema("grade")


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties) if required is None else required}


def _input(columns: Sequence[Column]) -> dict[str, Any]:
    schema = _obj({c.name: kind_schema(c.kind) for c in columns}, [c.name for c in columns if c.required])
    schema["additionalProperties"] = False
    return schema


def _cycle_in() -> dict[str, Any]:
    """The body of POST /cycles as pydantic describes it, with its ``params`` described field by field
    from :class:`~matcher.params.MatchParams`'s settings (kind, limits, help: one declaration)."""
    schema = CycleIn.model_json_schema(ref_template=REF)
    schema["properties"]["params"] = {
        "type": "object",
        "title": "Params",
        "description": "cycle parameters that override the service's; one left out keeps the service's value",
        "properties": json_schema(MatchParams),
        "additionalProperties": False,
    }
    return schema


SCHEMAS: dict[str, Any] = {
    "OfferIn": _input(OFFER_UPLOAD),
    "OrderIn": _input(ORDER_UPLOAD),
    "CycleIn": _cycle_in(),
    "OfferResult": _obj(
        {
            "cycle_id": _I,
            "date": _DATE,
            "sold_kg": _I,
            "unsold_kg": _I,
            "farm_gate_price": _NPRICE,
            "reason": _S,
            "floor_kg": _I,
            "floor_sold_kg": _I,
            "floor_met": {"type": ["boolean", "null"]},
            "floor_reason": {"enum": [*FLOOR_REASONS[1:], None]},
            "floor_dual": _NPRICE,
            "subsidy": _MONEY,
        }
    ),
    "CooperativeIn": {
        **_obj(
            {
                "small": _B,
                "members": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_MEMBERS},
                "hectares": {"type": ["number", "null"], "minimum": 0, "maximum": MAX_HECTARES},
            },
            ["small"],
        ),
        "additionalProperties": False,
    },
    "Cooperative": _obj(
        {
            "cooperative_id": _S,
            "small": {"type": ["boolean", "null"]},
            "members": _NI,
            "hectares": _NN,
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
            "small_by": {"enum": ["table", "small_kg"]},
        }
    ),
    "CooperativeCycle": _obj({"cycle_id": _I, "date": _DATE, "offers": _I, "floor_kg": _I, "floor_sold_kg": _I, "subsidy": _MONEY}),
    "CooperativeDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Cooperative"},
            _obj({"safety_net": {"type": "array", "items": {"$ref": "#/components/schemas/CooperativeCycle"}}}),
        ]
    },
    "Offer": _obj(
        {
            "offer_id": _S,
            "cooperative_id": _S,
            "reference": _NS,
            "product": _S,
            "grade": _GRADE,
            "quantity_kg": _I,
            "remaining_kg": _I,
            "lat": _N,
            "lon": _N,
            "ready_date": _DATE,
            "shelf_life_days": _I,
            "expires_on": _DATE,
            "ask_per_kg": _PRICE,
            "status": {"enum": ["open", "withdrawn", "sold_out"]},
            "created_at": _TIME,
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/OfferResult"}},
            "pickup": {"oneOf": [{"$ref": "#/components/schemas/Pickup"}, {"type": "null"}]},
        },
        [
            "offer_id",
            "cooperative_id",
            "reference",
            "product",
            "grade",
            "quantity_kg",
            "remaining_kg",
            "lat",
            "lon",
            "ready_date",
            "shelf_life_days",
            "expires_on",
            "ask_per_kg",
            "status",
            "created_at",
        ],
    ),
    "OrderFill": _obj(
        {
            "cycle_id": _I,
            "date": _DATE,
            "filled_kg": _I,
            "clearing_price": _NPRICE,
            "status": {"enum": ["pending", "filled", "partly_filled", "unfilled", "rejected"]},
            "reason": _NS,
        }
    ),
    "Order": _obj(
        {
            "order_id": _S,
            "buyer_id": _S,
            "reference": _NS,
            "product": _S,
            "min_grade": _GRADE,
            "quantity_kg": _I,
            "lat": _N,
            "lon": _N,
            "max_price_per_kg": _PRICE,
            "due_date": _DATE,
            "pickup_point_id": _NS,
            "status": {"enum": ["pending", "filled", "partly_filled", "unfilled", "rejected", "cancelled", "expired"]},
            "filled_kg": _I,
            "unfilled_kg": _I,
            "remaining_kg": _I,
            "region_id": _NS,
            "clearing_price": _NPRICE,
            "reason": _NS,
            "cycle_id": _NI,
            "created_at": _TIME,
            "fills": {"type": "array", "items": {"$ref": "#/components/schemas/OrderFill"}},
        },
        [
            "order_id",
            "buyer_id",
            "reference",
            "product",
            "min_grade",
            "quantity_kg",
            "lat",
            "lon",
            "max_price_per_kg",
            "due_date",
            "pickup_point_id",
            "status",
            "filled_kg",
            "unfilled_kg",
            "remaining_kg",
            "region_id",
            "clearing_price",
            "reason",
            "cycle_id",
            "created_at",
        ],
    ),
    "Pickup": _obj(
        {"cycle_id": _I, "date": _DATE, "route_ids": {"type": "array", "items": _S}, "hub": _S, "kg": _I, "window_start_min": _N, "window_end_min": _N}
    ),
    "Cycle": _obj(
        {
            "id": _I,
            "date": _DATE,
            "status": {"enum": ["queued", "running", "done", "failed"]},
            "stage": {"enum": ["matching", "planning", "writing", None]},
            "rerun": _B,
            "current": _B,
            "reason": _NS,
            "superseded_by": _NI,
            "attempt": _I,
            "created_at": _TIME,
            "snapshot_at": _NS,
            "finished_at": _NS,
            "progress": {
                "type": ["object", "null"],
                "properties": {"stage": _S, "done": _I, "total": _I, "elapsed_s": _N, "left_s": {"type": ["number", "null"]}},
            },
            "params": {"type": ["object", "null"]},
            "summary": {"type": ["object", "null"]},
            "detail": _NS,
            "lease_owner": _NS,
            "fleet": {"oneOf": [{"$ref": "#/components/schemas/Fleet"}, {"type": "null"}]},
            "crossdocks": {"oneOf": [{"$ref": "#/components/schemas/Crossdocks"}, {"type": "null"}]},
        },
        [
            "id",
            "date",
            "status",
            "stage",
            "rerun",
            "current",
            "reason",
            "superseded_by",
            "attempt",
            "created_at",
            "snapshot_at",
            "finished_at",
            "progress",
            "params",
            "summary",
        ],
    ),
    "Problem": _obj(
        {"type": _S, "title": _S, "status": _I, "detail": _S, "errors": {"type": "array", "items": _obj({"path": _S, "message": _S})}},
        ["type", "title", "status"],
    ),
    "FeatureCollection": _obj({"type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": {"type": "object"}}}, ["type", "features"]),
    "RouteProperties": _obj(
        {
            "route_id": _S,
            "leg": _LEG,
            "hub": _S,
            "problem_id": _S,
            "depot_id": _S,
            "depot_lat": _N,
            "depot_lon": _N,
            "vehicle_type": _S,
            "capacity_kg": _I,
            "stops": _I,
            "kg": _I,
            "load_factor": _N,
            "km": _N,
            "start_min": _N,
            "end_min": _N,
            "duration_min": _N,
            "cost": _MONEY,
        }
    ),
    "RouteStop": _obj(
        {
            "seq": _I,
            "stop_id": _S,
            "kg": _I,
            "arrive_min": _N,
            "start_min": _N,
            "depart_min": _N,
            "load_kg": _I,
            "lat": _N,
            "lon": _N,
            "region_id": _NS,
        }
    ),
    "Route": _obj(
        {
            "type": {"const": "Feature"},
            "geometry": _obj({"type": {"const": "LineString"}, "coordinates": {"type": "array", "items": {"type": "array", "items": _N}}}),
            "properties": {"$ref": "#/components/schemas/RouteProperties"},
        }
    ),
    "RouteDetail": {"allOf": [{"$ref": "#/components/schemas/Route"}, _obj({"stops": {"type": "array", "items": {"$ref": "#/components/schemas/RouteStop"}}})]},
    "Routes": _obj({"type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": {"$ref": "#/components/schemas/Route"}}, "next": _NS}),
    "Unserved": _obj({"leg": _LEG, "problem_id": _S, "stop_id": _S, "kg": _I, "reason": _S}),
    "Rows": _obj(
        {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "a result row; its prices (per kg) and amounts are decimal strings, as Offer's and Order's are",
                },
            },
            "next": _NS,
        }
    ),
    "Products": _obj({"products": {"type": "array", "items": _S}}),
    "FleetIn": _input(FLEET_IN),
    "Vehicle": _obj(
        {
            "leg": _LEG,
            "vehicle_type": _S,
            "capacity_kg": _I,
            "count": _NI,
            "fixed_cost": _N,
            "cost_per_km": _N,
            "max_duration_min": _N,
            "depot": _NS,
        }
    ),
    "Fleet": _obj(
        {
            "source": {"enum": ["stored", "default"]},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "vehicles": {"type": "array", "items": {"$ref": "#/components/schemas/Vehicle"}},
        }
    ),
    "CrossdockIn": _input(CROSSDOCKS),
    "Crossdock": _obj({"crossdock_id": _S, "lat": _N, "lon": _N, "capacity_kg": _I, "handling_per_kg": _N}),
    "Crossdocks": _obj(
        {
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "crossdocks": {"type": "array", "items": {"$ref": "#/components/schemas/Crossdock"}},
        }
    ),
    "ClaimIn": {
        **_obj(
            {
                "order_id": kind_schema("id"),
                "kg": kind_schema("kg"),
                "reason": {"enum": list(REASONS)},
                "evidence": {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_EVIDENCE},
                "remedy": {"enum": list(REMEDIES)},
            },
            ["order_id", "kg", "reason", "remedy"],
        ),
        "additionalProperties": False,
    },
    "DecisionIn": {
        **_obj(
            {
                "decision": {"enum": list(DECISIONS)},
                "bearer": {"enum": [*BEARERS, None]},
                "note": {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_TEXT},
            },
            ["decision"],
        ),
        "additionalProperties": False,
    },
    "ResponseIn": {**_obj({"text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}}), "additionalProperties": False},
    "EvidenceIn": {**_obj({"evidence": {"type": "string", "minLength": 1, "maxLength": MAX_EVIDENCE}}), "additionalProperties": False},
    "Claim": _obj(
        {
            "claim_id": _S,
            "order_id": _S,
            "buyer_id": _NS,
            "product": _S,
            "kg": _I,
            "reason": {"enum": list(REASONS)},
            "evidence": _NS,
            "remedy": {"enum": list(REMEDIES)},
            "value": _MONEY,
            "status": {"enum": list(STATUSES)},
            "bearer": {"enum": [*BEARERS, None]},
            "rule": {"enum": list(RULES)},
            "decided_at": _TIME,
            "decided_on": _DATE,
            "created_at": _TIME,
        }
    ),
    "ClaimPart": _obj({"cycle_id": _I, "date": _DATE, "cooperative_id": _S, "kg": _I, "clearing_price": _PRICE, "value": _MONEY}),
    "ClaimDecision": _obj(
        {
            "seq": _I,
            "status": {"enum": list(STATUSES)},
            "bearer": {"enum": [*BEARERS, None]},
            "rule": {"enum": list(HISTORY_RULES)},
            "by": {"enum": ["rules", "operator", "buyer"]},
            "decided_at": _TIME,
            "decided_on": _DATE,
            "note": _NS,
            "decided_by": _NS,
        },
        ["seq", "status", "bearer", "rule", "by", "decided_at", "decided_on", "note"],
    ),
    "ClaimResponse": _obj({"seq": _I, "cooperative_id": _S, "text": _S, "created_at": _TIME}),
    "ClaimDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Claim"},
            _obj(
                {
                    "parts": {"type": "array", "items": {"$ref": "#/components/schemas/ClaimPart"}},
                    "decisions": {"type": "array", "items": {"$ref": "#/components/schemas/ClaimDecision"}},
                    "responses": {"type": "array", "items": {"$ref": "#/components/schemas/ClaimResponse"}},
                }
            ),
        ]
    },
    "Credit": _obj(
        {
            "buyer_id": _S,
            "as_of": {"type": ["string", "null"], "format": "date"},
            "forgetting": _N,
            "good": _N,
            "bad": _N,
            "score": _N,
            "recent_rejections": _I,
            "instant_refund_only": _B,
            "instant_credit": _N,
            "instant_cap": _MONEY,
            "max_instant_rejections": _I,
            "history": {"type": "array", "items": _obj({"date": _DATE, "good": _N, "bad": _N, "score": _N})},
        }
    ),
    "Scorecard": _obj(
        {
            "cooperative_id": _S,
            "as_of": {"type": ["string", "null"], "format": "date"},
            "forgetting": _N,
            "products": {
                "type": "array",
                "items": _obj(
                    {
                        "product": _S,
                        "good_kg": _N,
                        "bad_kg": _N,
                        "score": _N,
                        "refund_rate": _N,
                        "history": {"type": "array", "items": _obj({"date": _DATE, "good_kg": _N, "bad_kg": _N, "score": _N})},
                    }
                ),
            },
        }
    ),
    "SettlementLine": _obj(
        {
            "party": {"enum": list(PARTIES)},
            "party_id": _S,
            "kg": _I,
            "gross": _MONEY,
            "refunds": _MONEY,
            "subsidy": _MONEY,
            "reserve": _MONEY,
            "net": _MONEY,
        }
    ),
    "Settlement": _obj(
        {
            "cycle_id": _I,
            "date": _DATE,
            "lines": {"type": "array", "items": {"$ref": "#/components/schemas/SettlementLine"}},
            "totals": {"type": "object", "description": "operator only: the core's totals (decimal strings) and balanced"},
            "line_count": {"type": "integer", "description": "operator, paged (limit or after given): how many lines the books have"},
            "next": {**_NS, "description": "operator, paged: the after of the next page; null on the last"},
        },
        ["cycle_id", "date", "lines"],
    ),
    # the Data Food Consortium exchange (api/dfc.py, docs/dfc.md)
    "DfcProductTypeIn": _input(DFC_PRODUCT_TYPES_IN),
    "DfcProductTypes": _obj({"product_types": {"type": "array", "items": _obj({"product_type": _S, "product": _S})}}),
    "DfcDocument": {
        "type": "object",
        "description": "A DFC JSON-LD document: its @context names a DFC context by URL (1.16.0 or 2.0.0), its @graph the nodes",
    },
    "DfcExport": _obj({"@context": {"enum": sorted(EXPORT_URLS.values())}, "@graph": {"type": "array", "items": {"type": "object"}}}),
    "DfcOffers": _obj(
        {"items": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/Offer"}, _obj({"dfc_catalog_item": _S, "dfc_offer": _S})]}}}
    ),
    "DfcOrders": _obj({"items": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/Order"}, _obj({"dfc_order_line": _S})]}}}),
}


def _page(item: str) -> dict[str, Any]:
    return _obj({"items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}, "next": _NS})


def _json(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {"content": {media: {"schema": schema}}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problems(*codes: int) -> dict[str, Any]:
    titles = {
        400: "Malformed body",
        401: "Missing, unknown or revoked API key",
        403: "The key's role may not do this",
        404: "Not found (or not yours)",
        409: "Conflict with the current state",
        413: "Body too large",
        415: "Unsupported content type",
        422: "Invalid input, one entry per problem",
    }
    return {str(c): {"description": titles[c], **_json(_ref("Problem"), "application/problem+json")} for c in codes}


def _op(
    summary: str,
    ok: tuple[int, dict[str, Any]],
    *problems: int,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    secure: bool = True,
) -> dict[str, Any]:
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


PAGE = [_q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIST_PAGE}), _q("after", _S)]
RESULT_PAGE = [_q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}), _q("after", _S)]
TABLE = {
    "content": {
        "application/json": {"schema": _ref("Rows")},
        "text/csv": {"schema": _S},
        "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
    }
}
CYCLE_ID = _p("cycle_id", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1})
COOPERATIVE_ID = _p("cooperative_id", kind_schema("id"))
CLAIM_ID = _p("claim_id", kind_schema("id"))
FORMAT = _q("format", {"enum": ["json", "csv", "parquet"]})
PLAN_FORMAT = _q("format", {"enum": ["json", "csv"]})
DFC_VERSION = _q("version", {"enum": list(VERSIONS)})


def document() -> dict[str, Any]:
    offer_body = {
        "content": {
            "application/json": {"schema": {"oneOf": [_ref("OfferIn"), {"type": "array", "items": _ref("OfferIn"), "maxItems": 10000}]}},
            "text/csv": {"schema": _S},
        }
    }
    order_body = {
        "content": {
            "application/json": {"schema": {"oneOf": [_ref("OrderIn"), {"type": "array", "items": _ref("OrderIn"), "maxItems": 10000}]}},
            "text/csv": {"schema": _S},
        }
    }
    product_body = {
        "content": {
            "application/json": {
                "schema": {"oneOf": [{"type": "array", "items": kind_schema("text")}, _obj({"products": {"type": "array", "items": kind_schema("text")}})]}
            },
            "text/csv": {"schema": _S},
        }
    }
    created_offers = _json({"oneOf": [_ref("Offer"), _obj({"items": {"type": "array", "items": _ref("Offer")}})]})
    created_orders = _json({"oneOf": [_ref("Order"), _obj({"items": {"type": "array", "items": _ref("Order")}})]})
    region_body = {
        "content": {
            "application/geo+json": {"schema": {"type": "object"}},
            "application/geopackage+sqlite3": {"schema": {"type": "string", "format": "binary"}},
        }
    }
    fleet_body = {
        "content": {
            "application/json": {"schema": {"oneOf": [_ref("FleetIn"), {"type": "array", "items": _ref("FleetIn"), "maxItems": 10000}]}},
            "text/csv": {"schema": _S},
        }
    }
    crossdock_body = {
        "content": {
            "application/json": {"schema": {"oneOf": [_ref("CrossdockIn"), {"type": "array", "items": _ref("CrossdockIn"), "maxItems": 10000}]}},
            "text/csv": {"schema": _S},
        }
    }
    dfc_types_body = {
        "content": {
            "application/json": {"schema": {"oneOf": [_ref("DfcProductTypeIn"), {"type": "array", "items": _ref("DfcProductTypeIn"), "maxItems": 10000}]}},
            "text/csv": {"schema": _S},
        }
    }
    dfc_body = {"content": {"application/ld+json": {"schema": _ref("DfcDocument")}, "application/json": {"schema": _ref("DfcDocument")}}}
    idem = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "minLength": 1, "maxLength": 200}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "harvestmatch",
            "version": "0.1.0",
            "description": "Cooperatives post supply, buyers post orders, the operator runs the daily matching cycle, planners fetch shipments and routes.",
        },
        "components": {"schemas": SCHEMAS, "securitySchemes": {"key": {"type": "http", "scheme": "bearer"}}},
        "security": [{"key": []}],
        "paths": {
            "/healthz": {"get": _op("Liveness", (200, _json(_obj({"status": _S}))), secure=False)},
            "/readyz": {"get": _op("Readiness: the database answers", (200, _json(_obj({"status": _S, "database": _S}))), secure=False)},
            "/offers": {
                "post": _op(
                    "Post one offer, many, or a CSV (cooperative: own; operator: names the cooperative)",
                    (201, created_offers),
                    400,
                    401,
                    403,
                    409,
                    413,
                    415,
                    422,
                    body=offer_body,
                    params=[idem],
                ),
                "get": _op(
                    "List offers (a cooperative sees its own)",
                    (200, _json(_page("Offer"))),
                    401,
                    403,
                    422,
                    params=[*PAGE, _q("product", _S), _q("status", _S), _q("reference", _S), _q("cooperative_id", _S)],
                ),
            },
            "/offers/{offer_id}": {
                "get": _op(
                    "Read an offer, its results in every current cycle, and its pickup", (200, _json(_ref("Offer"))), 401, 403, 404, params=[_p("offer_id", _S)]
                )
            },
            "/offers/{offer_id}/withdraw": {
                "post": _op(
                    "Withdraw an open offer (409 while a running cycle holds it)", (200, _json(_ref("Offer"))), 401, 403, 404, 409, params=[_p("offer_id", _S)]
                )
            },
            "/orders": {
                "post": _op("Post one order, many, or a CSV", (201, created_orders), 400, 401, 403, 409, 413, 415, 422, body=order_body, params=[idem]),
                "get": _op(
                    "List orders (a buyer sees its own)",
                    (200, _json(_page("Order"))),
                    401,
                    403,
                    422,
                    params=[*PAGE, _q("product", _S), _q("status", _S), _q("reference", _S), _q("buyer_id", _S)],
                ),
            },
            "/orders/{order_id}": {
                "get": _op(
                    "Read an order, its fills by cycle (oldest first) and what still waits",
                    (200, _json(_ref("Order"))),
                    401,
                    403,
                    404,
                    params=[_p("order_id", _S)],
                )
            },
            "/orders/{order_id}/cancel": {
                "post": _op(
                    "Cancel what still waits of a pending order; its fills stay (409 while a running cycle holds it)",
                    (200, _json(_ref("Order"))),
                    401,
                    403,
                    404,
                    409,
                    params=[_p("order_id", _S)],
                )
            },
            "/products": {
                "put": _op("Replace the product catalogue (operator)", (200, _json(_ref("Products"))), 400, 401, 403, 409, 413, 415, 422, body=product_body),
                "get": _op("The product catalogue", (200, _json(_ref("Products"))), 401, 403),
            },
            "/regions": {
                "put": _op(
                    "Replace the region polygons (operator)",
                    (200, _json(_obj({"regions": _I, "hubs_derived": _I, "warnings": {"type": "array", "items": _S}}))),
                    401,
                    403,
                    413,
                    415,
                    422,
                    body=region_body,
                ),
                "get": _op("The regions as GeoJSON", (200, _json(_ref("FeatureCollection"), "application/geo+json")), 401, 403),
            },
            "/fleets": {
                "put": _op(
                    "Replace the fleet every cycle plans with: vehicles per leg, JSON or CSV (operator)",
                    (200, _json(_ref("Fleet"))),
                    400,
                    401,
                    403,
                    409,
                    413,
                    415,
                    422,
                    body=fleet_body,
                ),
                "get": _op(
                    "The fleet cycles plan with: the stored one, else the default fleets (operator)",
                    (200, {"content": {"application/json": {"schema": _ref("Fleet")}, "text/csv": {"schema": _S}}}),
                    401,
                    403,
                    422,
                    params=[PLAN_FORMAT],
                ),
            },
            "/crossdocks": {
                "put": _op(
                    "Replace the crossdocks the trucks freight model's line haul may run through, JSON or CSV; empty: none (operator)",
                    (200, _json(_ref("Crossdocks"))),
                    400,
                    401,
                    403,
                    409,
                    413,
                    415,
                    422,
                    body=crossdock_body,
                ),
                "get": _op(
                    "The crossdocks cycles with trucks freight are given (operator)",
                    (200, {"content": {"application/json": {"schema": _ref("Crossdocks")}, "text/csv": {"schema": _S}}}),
                    401,
                    403,
                    422,
                    params=[PLAN_FORMAT],
                ),
            },
            "/cooperatives": {"get": _op("The cooperatives register (operator)", (200, _json(_page("Cooperative"))), 401, 403, 422, params=PAGE)},
            "/cooperatives/{cooperative_id}": {
                "put": _op(
                    "Register a cooperative as small or not for the safety net, or replace its registration (operator)",
                    (200, _json(_ref("Cooperative"))),
                    400,
                    401,
                    403,
                    404,
                    413,
                    415,
                    422,
                    body=_json(_ref("CooperativeIn")),
                    params=[COOPERATIVE_ID],
                ),
                "get": _op(
                    "A cooperative's registration and its safety net in every current cycle that had its offers (a cooperative: its own)",
                    (200, _json(_ref("CooperativeDetail"))),
                    401,
                    403,
                    404,
                    params=[COOPERATIVE_ID],
                ),
            },
            "/cycles": {
                "post": _op(
                    "Queue the matching cycle of a date (operator)", (202, _json(_ref("Cycle"))), 400, 401, 403, 409, 415, 422, body=_json(_ref("CycleIn"))
                ),
                "get": _op(
                    "Cycles, newest first (a cooperative or buyer sees those that concern it)",
                    (200, _json(_page("Cycle"))),
                    401,
                    403,
                    422,
                    params=[*PAGE, _q("status", _S)],
                ),
            },
            "/cycles/{cycle_id}": {"get": _op("A cycle's status and summary", (200, _json(_ref("Cycle"))), 401, 403, 404, params=[CYCLE_ID])},
            "/cycles/{cycle_id}/allocations": {
                "get": _op(
                    "Shipped lanes (a cooperative sees its own)",
                    (200, TABLE),
                    401,
                    403,
                    404,
                    409,
                    422,
                    params=[CYCLE_ID, FORMAT, *RESULT_PAGE, _q("cooperative_id", _S), _q("region_id", _S), _q("product", _S)],
                )
            },
            "/cycles/{cycle_id}/prices": {
                "get": _op(
                    "Regional clearing prices",
                    (200, TABLE),
                    401,
                    403,
                    404,
                    409,
                    422,
                    params=[CYCLE_ID, FORMAT, *RESULT_PAGE, _q("region_id", _S), _q("product", _S)],
                )
            },
            "/cycles/{cycle_id}/shipments": {
                "get": _op(
                    "Shipped lanes as GeoJSON lines (planners), in pages",
                    (200, _json(_ref("FeatureCollection"), "application/geo+json")),
                    401,
                    403,
                    404,
                    409,
                    422,
                    params=[CYCLE_ID, *RESULT_PAGE, _q("region_id", _S), _q("product", _S)],
                )
            },
            "/cycles/{cycle_id}/routes": {
                "get": _op(
                    "The transport plan's routes as GeoJSON lines in pages, or the routes table as CSV (planners)",
                    (200, {"content": {"application/geo+json": {"schema": _ref("Routes")}, "text/csv": {"schema": _S}}}),
                    401,
                    403,
                    404,
                    409,
                    422,
                    params=[CYCLE_ID, PLAN_FORMAT, *RESULT_PAGE, _q("leg", _LEG), _q("hub", _S), _q("region_id", _S)],
                )
            },
            "/cycles/{cycle_id}/routes/{route_id}": {
                "get": _op(
                    "One route with its stops in order, or its stops as CSV (planners)",
                    (200, {"content": {"application/geo+json": {"schema": _ref("RouteDetail")}, "text/csv": {"schema": _S}}}),
                    401,
                    403,
                    404,
                    409,
                    422,
                    params=[CYCLE_ID, _p("route_id", _S), PLAN_FORMAT],
                )
            },
            "/claims": {
                "post": _op(
                    "File a claim on delivered kg of one of your orders (buyer); the rule chain decides at once or makes it wait",
                    (201, _json(_ref("ClaimDetail"))),
                    400,
                    401,
                    403,
                    404,
                    409,
                    413,
                    415,
                    422,
                    body=_json(_ref("ClaimIn")),
                    params=[idem],
                ),
                "get": _op(
                    "Claims: a buyer's own, those on a cooperative's sales, all (operator)",
                    (200, _json(_page("Claim"))),
                    401,
                    403,
                    422,
                    params=[*PAGE, _q("status", _S), _q("reason", _S), _q("remedy", _S), _q("order_id", _S), _q("buyer_id", _S), _q("cooperative_id", _S)],
                ),
            },
            "/claims/{claim_id}": {
                "get": _op(
                    "A claim with its parts by cycle and cooperative, its decisions in order and the responses",
                    (200, _json(_ref("ClaimDetail"))),
                    401,
                    403,
                    404,
                    params=[CLAIM_ID],
                )
            },
            "/claims/{claim_id}/decision": {
                "post": _op(
                    "The operator's decision: approved (with a bearer), rejected, needs_evidence, or unreasonable (an approved refund; the fund bears it)",
                    (200, _json(_ref("ClaimDetail"))),
                    400,
                    401,
                    403,
                    404,
                    409,
                    413,
                    415,
                    422,
                    body=_json(_ref("DecisionIn")),
                    params=[CLAIM_ID, idem],
                )
            },
            "/claims/{claim_id}/evidence": {
                "post": _op(
                    "Evidence for one of your claims while it waits (buyer); the history notes it, the operator decides",
                    (200, _json(_ref("ClaimDetail"))),
                    400,
                    401,
                    403,
                    404,
                    409,
                    413,
                    415,
                    422,
                    body=_json(_ref("EvidenceIn")),
                    params=[CLAIM_ID, idem],
                )
            },
            "/claims/{claim_id}/response": {
                "post": _op(
                    "A cooperative's answer to a claim on its sales",
                    (201, _json(_ref("ClaimDetail"))),
                    400,
                    401,
                    403,
                    404,
                    413,
                    415,
                    422,
                    body=_json(_ref("ResponseIn")),
                    params=[CLAIM_ID, idem],
                )
            },
            "/buyers/me/credit": {
                "get": _op(
                    "Your credit score (buyer): weighed good and bad outcomes, recent rejections, history by cycle date", (200, _json(_ref("Credit"))), 401, 403
                )
            },
            "/cooperatives/{cooperative_id}/scorecard": {
                "get": _op(
                    "A cooperative's delivered quality per product, its expected refund rate and history (a cooperative: its own)",
                    (200, _json(_ref("Scorecard"))),
                    401,
                    403,
                    404,
                    params=[COOPERATIVE_ID],
                )
            },
            "/cycles/{cycle_id}/settlement": {
                "get": _op(
                    "A done cycle's books in decimal money, refunds included (operator: every line and the totals; a cooperative or buyer: its own line)",
                    (200, _json(_ref("Settlement"))),
                    401,
                    403,
                    404,
                    409,
                    422,
                    params=[CYCLE_ID, *RESULT_PAGE],
                )
            },
            "/cycles/{cycle_id}/unserved": {
                "get": _op(
                    "What the transport plan could not route, and why (planners)",
                    (200, {"content": {"application/json": {"schema": _page("Unserved")}, "text/csv": {"schema": _S}}}),
                    401,
                    403,
                    404,
                    409,
                    422,
                    params=[CYCLE_ID, PLAN_FORMAT, *RESULT_PAGE, _q("leg", _LEG)],
                )
            },
            "/dfc/product-types": {
                "put": _op(
                    "Replace the table from DFC product types (dfc-pt:NAME or IRIs) to catalogue products, JSON or CSV (operator)",
                    (200, _json(_ref("DfcProductTypes"))),
                    400,
                    401,
                    403,
                    409,
                    413,
                    415,
                    422,
                    body=dfc_types_body,
                ),
                "get": _op("The DFC product-type table", (200, _json(_ref("DfcProductTypes"))), 401, 403),
            },
            "/dfc/offers": {
                "post": _op(
                    "Import a DFC catalogue (an Enterprise's CatalogItems) as offers (cooperative: own; operator: names the cooperative)",
                    (201, _json(_ref("DfcOffers"))),
                    400,
                    401,
                    403,
                    409,
                    413,
                    415,
                    422,
                    body=dfc_body,
                    params=[idem, _q("ready_date", _DATE), _q("cooperative_id", kind_schema("id"))],
                ),
                "get": _op(
                    "The open offers imported from DFC as a DFC catalogue (a cooperative: its own)",
                    (200, _json(_ref("DfcExport"), "application/ld+json")),
                    401,
                    403,
                    422,
                    params=[DFC_VERSION],
                ),
            },
            "/dfc/orders": {
                "post": _op(
                    "Import a DFC Order's OrderLines (concerning imported offers) as orders (buyer: own; operator: the Order's customer)",
                    (201, _json(_ref("DfcOrders"))),
                    400,
                    401,
                    403,
                    409,
                    413,
                    415,
                    422,
                    body=dfc_body,
                    params=[idem, _q("buyer_id", kind_schema("id"))],
                )
            },
            "/dfc/cycles/{cycle_id}/orders": {
                "get": _op(
                    "A done cycle's fills as DFC Orders at the clearing prices (a buyer: its own)",
                    (200, _json(_ref("DfcExport"), "application/ld+json")),
                    401,
                    403,
                    404,
                    409,
                    422,
                    params=[CYCLE_ID, DFC_VERSION],
                )
            },
            "/dfc/cycles/{cycle_id}/sales": {
                "get": _op(
                    "A done cycle's sales as DFC Orders at the farm-gate prices (a cooperative: its own)",
                    (200, _json(_ref("DfcExport"), "application/ld+json")),
                    401,
                    403,
                    404,
                    409,
                    422,
                    params=[CYCLE_ID, DFC_VERSION],
                )
            },
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
