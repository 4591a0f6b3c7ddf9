"""The Data Food Consortium exchange: catalogues and orders in, results out, as DFC JSON-LD (docs/dfc.md).

- ``PUT /dfc/product-types`` (operator) replaces the table from DFC product types (``dfc-pt:tomato``, or
  a concept's IRI) to our catalogue's products, JSON records ``{"product_type", "product"}`` or a CSV;
  ``GET /dfc/product-types`` shows it.
- ``POST /dfc/offers`` (cooperative, operator; ``application/ld+json``): an Enterprise's CatalogItems
  become our offers, each the record ``POST /offers`` takes, checked by the same code
  (:mod:`matcher.dfc` maps, :mod:`matcher.schemas` checks). The ready date is ``?ready_date=`` (default:
  today); the operator names the cooperative with ``?cooperative_id=``, else the Enterprise's IRI is it.
- ``POST /dfc/orders`` (buyer, operator): an Order's OrderLines, each concerning one of our imported
  offers' DFC Offers, become our orders; the operator's orders belong to the Order's customer
  (``?buyer_id=`` overrides).
- ``GET /dfc/offers``: the open imported offers as a DFC catalogue (what remains of each).
- ``GET /dfc/cycles/{id}/orders`` (buyer: its own; operator): a done cycle's fills as DFC Orders at the
  clearing prices; ``GET /dfc/cycles/{id}/sales`` (cooperative: its own; operator): its sales as DFC
  Orders at the farm-gate prices.

Bad JSON-LD, an unknown product type or unit, anything that does not map: 422, each problem's ``path``
naming the node's IRI and the DFC property, and nothing is stored. A POST takes an ``Idempotency-Key``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import polars as pl
from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api import idempotency
from api.auth import Caller, requires
from api.cycle_reads import require_done, visible_cycle
from api.db import Database
from api.dfc_models import DfcProductType
from api.dfc_settings import DfcConfig
from api.dfc_store import catalog_of, concerned_offers, cycle_order_lines, cycle_sales, offer_link, order_link, product_type_rows, product_types
from api.errors import ApiError
from api.models import Base, Product
from api.offers import UPLOAD as OFFER_UPLOAD
from api.offers import new_offers, offer_json
from api.orders import UPLOAD as ORDER_UPLOAD
from api.orders import new_orders, order_json
from api.requests import MAX_BATCH, invalid, lock_products, owned, table_body, unknown_products
from harvestmatch.errors import InputError, Problem
from matcher.dfc import catalog_graph, concept_key, document_version, offer_records, order_records, orders_graph, read_catalog, read_orders
from matcher.dfc_jsonld import VERSIONS, parse_jsonld, to_jsonld
from matcher.schemas import Column, duplicate_problems, parse_records

bp = Blueprint("dfc", __name__, url_prefix="/dfc")

#: the operator's product-type table
PRODUCT_TYPES_IN: tuple[Column, ...] = (Column("product_type", "text"), Column("product", "text"))
#: the media types a DFC document comes in
JSONLD = ("application/ld+json", "application/json")


@bp.put("/product-types")
@requires("operator")
def replace_product_types() -> Response:
    """Replace the table; every product must be in the catalogue, every product type listed once."""
    table, single = table_body(PRODUCT_TYPES_IN, what="product type")
    keyed = table.with_columns(pl.col("product_type").map_elements(concept_key, return_dtype=pl.String).alias("key"))
    problems = duplicate_problems(keyed, "key", "body")
    if problems:
        raise invalid(InputError([Problem(p.source, p.row, "product_type", p.message.replace("key", "product type")) for p in problems]), single)
    db: Database = current_app.extensions["harvest_db"]
    with db.write() as session:
        unknown_products(table, set(session.scalars(select(Product.product))), single=single)
        lock_products(session, [r for r in product_type_rows(table)])  # the products stay while this is written
        session.execute(delete(DfcProductType))
        session.add_all(product_type_rows(table))
        shown = product_types(session)
    return jsonify({"product_types": shown.to_dicts()})


@bp.get("/product-types")
@requires("cooperative", "buyer", "planner", "operator")
def read_product_types() -> Response:
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        return jsonify({"product_types": product_types(session).to_dicts()})


@bp.post("/offers")
@requires("cooperative", "operator")
def import_offers() -> Response:
    caller: Caller = g.caller
    config: DfcConfig = current_app.extensions["harvest_dfc"]

    def make() -> tuple[list[Base], list[Base], Any]:
        graph, version = _document()
        catalog = read_catalog(graph, source="body")
        if catalog.height > MAX_BATCH:
            raise ApiError(413, "Payload Too Large", f"at most {MAX_BATCH} CatalogItems per request")
        db: Database = current_app.extensions["harvest_db"]
        with db.session() as session:
            table = dict(product_types(session).iter_rows())
        records = offer_records(catalog, table, defaults=config, source="body")
        ready = _date_arg("ready_date", dt.datetime.now(dt.UTC).date())
        named = request.args.get("cooperative_id")
        mine = caller.cooperative_id if caller.role == "cooperative" else None
        nodes = catalog["catalog_item"].to_list()
        for record, enterprise in zip(records, catalog["enterprise"].to_list(), strict=True):
            record["ready_date"] = ready.isoformat()
            record["cooperative_id"] = mine or named or enterprise
        frame = _checked(records, OFFER_UPLOAD, nodes, owner="cooperative_id", owner_node=catalog["enterprise"].to_list())
        offers = new_offers(owned(frame, False, what="offer", owner="cooperative_id", mine=mine))
        links = [offer_link(o.offer_id, row, version) for o, row in zip(offers, catalog.iter_rows(named=True), strict=True)]
        items = [{**offer_json(o), "dfc_catalog_item": link.catalog_item, "dfc_offer": link.offer} for o, link in zip(offers, links, strict=True)]
        return list[Base](offers), list[Base](links), {"items": items}

    return _create(caller, make)


@bp.get("/offers")
@requires("cooperative", "operator")
def export_offers() -> Response:
    caller: Caller = g.caller
    version = _version_arg()
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        catalog = catalog_of(session, cooperative_id=caller.cooperative_id if caller.role == "cooperative" else None)
    return _json(to_jsonld(catalog_graph(catalog, version=version), version=version))


@bp.post("/orders")
@requires("buyer", "operator")
def import_orders() -> Response:
    caller: Caller = g.caller
    config: DfcConfig = current_app.extensions["harvest_dfc"]

    def make() -> tuple[list[Base], list[Base], Any]:
        graph, version = _document()
        lines = read_orders(graph, source="body")
        if lines.height > MAX_BATCH:
            raise ApiError(413, "Payload Too Large", f"at most {MAX_BATCH} OrderLines per request")
        db: Database = current_app.extensions["harvest_db"]
        with db.session() as session:
            offers = concerned_offers(session, sorted(set(lines["offer"].drop_nulls().to_list())))
        records = order_records(lines, offers, defaults=config, source="body")
        named = request.args.get("buyer_id")
        mine = caller.buyer_id if caller.role == "buyer" else None
        for record, customer in zip(records, lines["customer"].to_list(), strict=True):
            record["due_date"] = record["due_date"].isoformat()
            record["buyer_id"] = mine or named or customer
        nodes = lines["order_line"].to_list()
        frame = _checked(records, ORDER_UPLOAD, nodes, owner="buyer_id", owner_node=lines["order"].to_list())
        orders = new_orders(owned(frame, False, what="order", owner="buyer_id", mine=mine), caller)
        links = [order_link(o.order_id, row, version) for o, row in zip(orders, lines.iter_rows(named=True), strict=True)]
        items = [{**order_json(o), "dfc_order_line": link.order_line} for o, link in zip(orders, links, strict=True)]
        return list[Base](orders), list[Base](links), {"items": items}

    return _create(caller, make)


@bp.get("/cycles/<int(max=2147483647):cycle_id>/orders")
@requires("buyer", "operator")
def export_cycle_orders(cycle_id: int) -> Response:
    """A done cycle's fills as DFC Orders (a buyer: its own)."""
    caller: Caller = g.caller
    config: DfcConfig = current_app.extensions["harvest_dfc"]
    version = _version_arg()
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        require_done(visible_cycle(session, cycle_id, caller))
        lines = cycle_order_lines(
            session, cycle_id, buyer_id=caller.buyer_id if caller.role == "buyer" else None, root=request.url_root, version=version, currency=config.currency
        )
    return _json(to_jsonld(orders_graph(lines, version=version), version=version))


@bp.get("/cycles/<int(max=2147483647):cycle_id>/sales")
@requires("cooperative", "operator")
def export_cycle_sales(cycle_id: int) -> Response:
    """A done cycle's sales as DFC Orders (a cooperative: its own)."""
    caller: Caller = g.caller
    config: DfcConfig = current_app.extensions["harvest_dfc"]
    version = _version_arg()
    db: Database = current_app.extensions["harvest_db"]
    with db.session() as session:
        require_done(visible_cycle(session, cycle_id, caller))
        mine = caller.cooperative_id if caller.role == "cooperative" else None
        lines = cycle_sales(session, cycle_id, cooperative_id=mine, root=request.url_root, version=version, currency=config.currency)
    return _json(to_jsonld(orders_graph(lines, version=version), version=version))


def _document() -> tuple[Any, str]:
    """The request's DFC document as a graph and the context version it uses (415 unless JSON-LD)."""
    if request.mimetype not in JSONLD:
        raise ApiError(415, "Unsupported Media Type", "send application/ld+json")
    graph = parse_jsonld(request.get_data(cache=True), source="body")
    return graph, document_version(graph, source="body")


def _checked(records: list[dict[str, Any]], schema: tuple[Column, ...], nodes: list[str], *, owner: str, owner_node: list[str | None]) -> pl.DataFrame:
    """The records checked by our own upload's schema; a problem names its row's node (an owner
    taken from an IRI names the node that gave it)."""
    try:
        return parse_records(records, schema, source="body")
    except InputError as exc:
        problems = []
        for p in exc.problems:
            node = (owner_node if p.column == owner else nodes)[p.row - 1] if p.row is not None else None
            problems.append(Problem(p.source, None, f"{node or nodes[(p.row or 1) - 1]} {p.column}", p.message))
        raise InputError(list(dict.fromkeys(problems))) from None


def _create(caller: Caller, make: Callable[[], tuple[list[Base], list[Base], Any]]) -> Response:
    """:func:`api.idempotency.create` for rows and their DFC links: the links are written after the rows
    they point to (their foreign keys), in the same transaction."""
    earlier = idempotency.replay(caller)
    if earlier is not None:
        return earlier
    rows, links, payload = make()

    def store(session: Session) -> dict[str, Any]:
        lock_products(session, rows)  # the rows' products are still in the catalogue, and stay while this is written
        session.add_all(rows)
        session.flush()
        session.add_all(links)
        return dict(payload)

    return idempotency.write(caller, store, status=201)


def _date_arg(name: str, default: dt.date) -> dt.date:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, "Invalid query", errors=[{"path": name, "message": f"expected a date YYYY-MM-DD, got {raw[:40]!r}"}]) from None


def _version_arg() -> str:
    version = request.args.get("version", VERSIONS[-1])
    if version not in VERSIONS:
        raise ApiError(422, "Invalid query", errors=[{"path": "version", "message": f"expected one of {', '.join(VERSIONS)}, got {version[:40]!r}"}])
    return version


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/ld+json")
