"""DFC graphs as frames and back: the first step of the Data Food Consortium mapping (:mod:`matcher.dfc`).

:func:`read_catalog` gives one row per CatalogItem (:data:`CATALOG`: the IRIs of its nodes, the
SuppliedProduct's product type, unit of sale and lifetime, the stock, the price and its currency, the
Enterprise's place); :func:`catalog_graph` writes such a frame back. Likewise :func:`read_orders` /
:func:`orders_graph` with one row per OrderLine (:data:`ORDER_LINES`). Each pair is inverse on what it
reads: the round-trip tests compare the graphs (rdflib isomorphism). A node holding two values where the
mapping takes one is a :class:`~harvestmatch.errors.Problem` naming the node and the property.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import polars as pl
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from harvestmatch.errors import InputError, Problem

#: the business ontology's namespace in each context version we read and write
BUSINESS = {
    "1.16.0": "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#",
    "2.0.0": "http://w3id.org/dfc/ontology/v2.0.0/src/DFC_BusinessOntology.owl#",
}


#: the measures taxonomy's namespaces (units), any version
MEASURES = (
    "https://github.com/datafoodconsortium/taxonomies/releases/latest/download/measures.rdf#",
    "http://w3id.org/dfc/taxonomies/v2.0.0/measures.rdf#",
    "http://static.datafoodconsortium.org/data/measures.rdf#",
)


#: the product types taxonomy's namespaces, any version
PRODUCT_TYPES = (
    "https://github.com/datafoodconsortium/taxonomies/releases/latest/download/productTypes.rdf#",
    "http://w3id.org/dfc/taxonomies/v2.0.0/productTypes.rdf#",
    "http://static.datafoodconsortium.org/data/productTypes.rdf#",
)


#: the measures namespace an exported unit is written in, per version
MEASURES_OF = {"1.16.0": MEASURES[0], "2.0.0": MEASURES[1]}


#: one row per CatalogItem: the IRIs of its nodes (null for blank nodes), and what the mapping reads
CATALOG: dict[str, pl.DataType] = {
    "catalog_item": pl.String(),
    "enterprise": pl.String(),
    "enterprise_name": pl.String(),
    "address": pl.String(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "supplied_product": pl.String(),
    "name": pl.String(),
    "product_type": pl.String(),
    "unit": pl.String(),
    "unit_value": pl.Float64(),
    "lifetime_days": pl.Float64(),
    "stock": pl.Float64(),
    "offer": pl.String(),
    "offer_stock": pl.Float64(),
    "price": pl.Float64(),
    "currency": pl.String(),
}


#: one row per OrderLine
ORDER_LINES: dict[str, pl.DataType] = {
    "order_line": pl.String(),
    "order": pl.String(),
    "customer": pl.String(),
    "offer": pl.String(),
    "quantity": pl.Float64(),
    "quantity_unit": pl.String(),
    "price": pl.Float64(),
    "currency": pl.String(),
    "option": pl.String(),
    "option_kind": pl.String(),
    "place": pl.String(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "end_date": pl.String(),
}


#: the option kinds an Order may select (its ``dfc-b:selects``), and the property naming their place
OPTION_PLACE = {"PickupOption": "pickedUpAt", "DeliveryOption": "deliveredAt"}


def document_version(graph: Graph, *, source: str) -> str:
    """The DFC context version whose business namespace the graph's types and predicates use."""
    used = {v for v, ns in BUSINESS.items() for s, p, o in graph if str(p).startswith(ns) or (p == RDF.type and str(o).startswith(ns))}
    if len(used) == 1:
        return used.pop()
    if not used:
        raise InputError(Problem(source, None, "@context", "no term of the DFC business ontology (dfc-b) in the document: is its @context a DFC context?"))
    raise InputError(Problem(source, None, "@context", f"the document mixes DFC versions {' and '.join(sorted(used))}: use one context"))


def read_catalog(graph: Graph, *, source: str) -> pl.DataFrame:
    """One :data:`CATALOG` row per CatalogItem of the graph, in the order of their IRIs.

    Raises
    ------
    InputError
        No CatalogItem, or a node holding two values where DFC allows one (named by its IRI).
    """
    b = _Vocab(document_version(graph, source=source))
    items = sorted(set(graph.subjects(RDF.type, b("CatalogItem"))), key=str)
    if not items:
        raise InputError(Problem(source, None, None, "no dfc-b:CatalogItem in the document: a catalogue lists its products as CatalogItems"))
    one = _One(graph, source)
    rows = []
    for item in items:
        product = one.node(item, b("references")) or one.node_in(b("referencedBy"), item)
        offer = one.node(item, b("offeredThrough")) or one.node_in(b("offers"), item)
        enterprise = one.node(item, b("managedBy")) or one.node_in(b("manages"), item)
        if enterprise is None and product is not None:
            enterprise = one.node(product, b("suppliedBy")) or one.node_in(b("supplies"), product)
        address = one.node(enterprise, b("hasAddress")) if enterprise is not None else None
        quantity = one.node(product, b("hasQuantity")) if product is not None else None
        price = one.node(offer, b("hasPrice")) if offer is not None else None
        rows.append(
            {
                "catalog_item": _iri(item),
                "enterprise": _iri(enterprise),
                "enterprise_name": one.text(enterprise, b("name")),
                "address": _iri(address),
                "lat": one.number(address, b("latitude")),
                "lon": one.number(address, b("longitude")),
                "supplied_product": _iri(product),
                "name": one.text(product, b("name")),
                "product_type": _iri(one.node(product, b("hasType"))),
                "unit": _iri(one.node(quantity, b("hasUnit"))),
                "unit_value": one.number(quantity, b("value")),
                "lifetime_days": one.number(product, b("lifetime")),
                "stock": one.number(item, b("stockLimitation")),
                "offer": _iri(offer),
                "offer_stock": one.number(offer, b("stockLimitation")),
                "price": one.number(price, b("value")),
                "currency": _iri(one.node(price, b("hasUnit"))),
            }
        )
    one.raise_problems()
    return pl.DataFrame(rows, schema=CATALOG, orient="row")


def catalog_graph(catalog: pl.DataFrame, *, version: str) -> Graph:
    """The DFC graph of :data:`CATALOG` rows: each link written both ways (``manages`` and
    ``managedBy``, ``supplies`` and ``suppliedBy``, ``references`` and ``referencedBy``,
    ``offeredThrough`` and ``offers``), unit of sale and price as blank nodes, numbers as integers
    when whole."""
    b = _Vocab(version)
    g = Graph()
    for row in catalog.iter_rows(named=True):
        item = URIRef(row["catalog_item"])
        g.add((item, RDF.type, b("CatalogItem")))
        _add(g, item, b("stockLimitation"), _number(row["stock"]))
        if row["enterprise"] is not None:
            enterprise = URIRef(row["enterprise"])
            g.add((enterprise, RDF.type, b("Enterprise")))
            _add(g, enterprise, b("name"), Literal(row["enterprise_name"]) if row["enterprise_name"] is not None else None)
            _both(g, enterprise, b("manages"), b("managedBy"), item)
            if row["lat"] is not None or row["lon"] is not None or row["address"] is not None:
                address = URIRef(row["address"]) if row["address"] is not None else _blank("address", row["catalog_item"])
                g.add((enterprise, b("hasAddress"), address))
                g.add((address, RDF.type, b("Address")))
                _add(g, address, b("latitude"), _number(row["lat"]))
                _add(g, address, b("longitude"), _number(row["lon"]))
        if row["supplied_product"] is not None:
            product = URIRef(row["supplied_product"])
            g.add((product, RDF.type, b("SuppliedProduct")))
            _both(g, item, b("references"), b("referencedBy"), product)
            if row["enterprise"] is not None:
                _both(g, URIRef(row["enterprise"]), b("supplies"), b("suppliedBy"), product)
            _add(g, product, b("name"), Literal(row["name"]) if row["name"] is not None else None)
            _add(g, product, b("hasType"), URIRef(row["product_type"]) if row["product_type"] is not None else None)
            _add(g, product, b("lifetime"), _number(row["lifetime_days"]))
            if row["unit"] is not None or row["unit_value"] is not None:
                quantity = _blank("quantity", row["supplied_product"])
                g.add((product, b("hasQuantity"), quantity))
                g.add((quantity, RDF.type, b("QuantitativeValue")))
                _add(g, quantity, b("hasUnit"), URIRef(row["unit"]) if row["unit"] is not None else None)
                _add(g, quantity, b("value"), _number(row["unit_value"]))
        if row["offer"] is not None:
            offer = URIRef(row["offer"])
            g.add((offer, RDF.type, b("Offer")))
            _both(g, item, b("offeredThrough"), b("offers"), offer)
            _add(g, offer, b("stockLimitation"), _number(row["offer_stock"]))
            if row["price"] is not None or row["currency"] is not None:
                price = _blank("price", row["offer"])
                g.add((offer, b("hasPrice"), price))
                g.add((price, RDF.type, b("Price")))
                _add(g, price, b("value"), _number(row["price"]))
                _add(g, price, b("hasUnit"), URIRef(row["currency"]) if row["currency"] is not None else None)
    return g


def read_orders(graph: Graph, *, source: str) -> pl.DataFrame:
    """One :data:`ORDER_LINES` row per OrderLine of the graph, ordered by order and line IRIs; the
    Order's selected pickup or delivery option gives the place and the end date.

    Raises
    ------
    InputError
        No OrderLine, or a node holding two values where DFC allows one.
    """
    b = _Vocab(document_version(graph, source=source))
    lines = set(graph.subjects(RDF.type, b("OrderLine")))
    if not lines:
        raise InputError(Problem(source, None, None, "no dfc-b:OrderLine in the document: an Order lists what it buys as OrderLines"))
    one = _One(graph, source)
    rows = []
    for line in lines:
        order = one.node(line, b("partOf")) or one.node_in(b("hasPart"), line)
        customer = one.node(order, b("orderedBy")) or one.node_in(b("orders"), order) if order is not None else None
        option = one.node(order, b("selects")) if order is not None else None
        kind = next((k for k in OPTION_PLACE if option is not None and (option, RDF.type, b(k)) in graph), None)
        place = one.node(option, b(OPTION_PLACE[kind])) if kind is not None else None
        located = place if place is not None and one.number(place, b("latitude")) is not None else one.node(place, b("hasAddress"))
        session = one.node(order, b("belongsTo")) if order is not None else None
        quantity = one.node(line, b("quantity")) or one.node(line, b("hasQuantity"))
        if isinstance(quantity, Literal):
            amount, unit = one.literal_number(line, b("quantity"), quantity), None
        else:
            amount, unit = one.number(quantity, b("value")), _iri(one.node(quantity, b("hasUnit")))
        price = one.node(line, b("hasPrice"))
        rows.append(
            {
                "order_line": _iri(line),
                "order": _iri(order),
                "customer": _iri(customer),
                "offer": _iri(one.node(line, b("concerns"))),
                "quantity": amount,
                "quantity_unit": unit,
                "price": one.number(price, b("value")),
                "currency": _iri(one.node(price, b("hasUnit"))),
                "option": _iri(option),
                "option_kind": kind,
                "place": _iri(place),
                "lat": one.number(located, b("latitude")),
                "lon": one.number(located, b("longitude")),
                "end_date": one.text(option, b("endDate")) or one.text(session, b("endDate")),
            }
        )
    one.raise_problems()
    frame = pl.DataFrame(rows, schema=ORDER_LINES, orient="row")
    return frame.sort("order", "order_line", nulls_last=True)


def orders_graph(lines: pl.DataFrame, *, version: str) -> Graph:
    """The DFC graph of :data:`ORDER_LINES` rows (links both ways: ``hasPart``/``partOf``,
    ``orderedBy``/``orders``); an OrderLine's quantity a QuantitativeValue, its price a Price."""
    b = _Vocab(version)
    g = Graph()
    for row in lines.iter_rows(named=True):
        line = URIRef(row["order_line"])
        g.add((line, RDF.type, b("OrderLine")))
        if row["order"] is not None:
            order = URIRef(row["order"])
            g.add((order, RDF.type, b("Order")))
            _both(g, order, b("hasPart"), b("partOf"), line)
            if row["customer"] is not None:
                _both(g, order, b("orderedBy"), b("orders"), URIRef(row["customer"]))
            if row["option"] is not None and row["option_kind"] is not None:
                option = URIRef(row["option"])
                g.add((order, b("selects"), option))
                g.add((option, RDF.type, b(row["option_kind"])))
                _add(g, option, b("endDate"), Literal(row["end_date"]) if row["end_date"] is not None else None)
                if row["place"] is not None:
                    place = URIRef(row["place"])
                    g.add((option, b(OPTION_PLACE[row["option_kind"]]), place))
                    _add(g, place, b("latitude"), _number(row["lat"]))
                    _add(g, place, b("longitude"), _number(row["lon"]))
        _add(g, line, b("concerns"), URIRef(row["offer"]) if row["offer"] is not None else None)
        if row["quantity"] is not None and row["quantity_unit"] is None:  # a bare number of units of sale
            _add(g, line, b("quantity"), _number(row["quantity"]))
        elif row["quantity"] is not None:
            quantity = _blank("quantity", row["order_line"])
            g.add((line, b("quantity"), quantity))
            g.add((quantity, RDF.type, b("QuantitativeValue")))
            _add(g, quantity, b("value"), _number(row["quantity"]))
            _add(g, quantity, b("hasUnit"), URIRef(row["quantity_unit"]) if row["quantity_unit"] is not None else None)
        if row["price"] is not None:
            price = _blank("price", row["order_line"])
            g.add((line, b("hasPrice"), price))
            g.add((price, RDF.type, b("Price")))
            _add(g, price, b("value"), _number(row["price"]))
            _add(g, price, b("hasUnit"), URIRef(row["currency"]) if row["currency"] is not None else None)
    return g


class _Vocab:
    def __init__(self, version: str) -> None:
        self.ns = BUSINESS[version]

    def __call__(self, name: str) -> URIRef:
        return URIRef(self.ns + name)


class _One:
    """Reads single values off nodes, collecting a problem where a node holds two."""

    def __init__(self, graph: Graph, source: str) -> None:
        self.graph, self.source, self.problems = graph, source, list[Problem]()

    def node(self, subject: Node | None, predicate: URIRef) -> Node | None:
        if subject is None:
            return None
        values = sorted(set(self.graph.objects(subject, predicate)), key=str)
        return self._single(subject, predicate, values)

    def node_in(self, predicate: URIRef, obj: Node) -> Node | None:
        values = sorted(set(self.graph.subjects(predicate, obj)), key=str)
        return self._single(obj, predicate, values, inverse=True)

    def number(self, subject: Node | None, predicate: URIRef) -> float | None:
        value = self.node(subject, predicate)
        return self.literal_number(subject, predicate, value) if value is not None else None

    def literal_number(self, subject: Node | None, predicate: URIRef, value: Node) -> float | None:
        text = str(value).strip()
        if text == "":  # Open Food Network writes an unknown lifetime as ""
            return None
        try:
            number = Decimal(text)
            if not isinstance(value, Literal) or not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.problems.append(Problem(self.source, None, _where(subject, predicate), f"expected a number, got {text[:80]!r}"))
            return None
        return float(number)

    def text(self, subject: Node | None, predicate: URIRef) -> str | None:
        value = self.node(subject, predicate)
        return str(value) if value is not None else None

    def raise_problems(self) -> None:
        if self.problems:
            raise InputError(sorted(set(self.problems), key=lambda p: (p.column or "", p.message)))

    def _single(self, subject: Node, predicate: URIRef, values: list[Node], *, inverse: bool = False) -> Node | None:
        if len(values) > 1:
            what = f"is the object of {len(values)} {_short(predicate)} links" if inverse else f"has {len(values)} values of {_short(predicate)}"
            self.problems.append(Problem(self.source, None, _where(subject, predicate), f"the node {what}; the mapping takes one"))
        return values[0] if values else None


def iso_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def as_decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def plain_decimal(value: Decimal) -> str:
    """A decimal as messages write it: 0.005, 1.5, 200 (no exponent, no trailing zeros)."""
    return format(value.normalize(), "f")


def _number(value: float | None) -> Literal | None:
    if value is None:
        return None
    return Literal(int(value)) if float(value).is_integer() else Literal(float(value))


def _add(g: Graph, subject: Node, predicate: URIRef, value: Node | None) -> None:
    if value is not None:
        g.add((subject, predicate, value))


def _both(g: Graph, subject: Node, forward: URIRef, inverse: URIRef, obj: Node) -> None:
    g.add((subject, forward, obj))
    g.add((obj, inverse, subject))


def _blank(kind: str, owner: str) -> BNode:
    """A blank node named after what holds it, so that one frame gives one graph, always."""
    return BNode(f"{kind}{hashlib.sha256(owner.encode()).hexdigest()[:16]}")


def _iri(node: Node | None) -> str | None:
    return str(node) if isinstance(node, URIRef) else None


def local_name(iri: str | None, namespaces: Iterable[str]) -> str | None:
    if iri is None:
        return None
    if ":" in iri and iri.split(":", 1)[0] in ("dfc-m", "dfc-pt"):
        return iri.split(":", 1)[1]
    return next((iri[len(ns) :] for ns in namespaces if iri.startswith(ns)), None)


def _short(predicate: URIRef) -> str:
    return "dfc-b:" + str(predicate).rsplit("#", 1)[-1]


def _where(subject: Node | None, predicate: URIRef) -> str:
    return f"{subject if isinstance(subject, URIRef) else '_:blank'} {_short(predicate)}"
