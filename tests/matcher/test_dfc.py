"""The DFC mapping (matcher.dfc, matcher.dfc_jsonld): published examples read and written back to the same
triples (rdflib isomorphism), units and prices converted exactly, every defect refused naming its node,
and no network touched."""

from __future__ import annotations

import datetime as dt
import json
import socket
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl
import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.compare import isomorphic, to_isomorphic

from harvestmatch.errors import InputError
from matcher.dfc import (
    catalog_graph,
    concept_key,
    document_version,
    offer_records,
    order_records,
    orders_graph,
    read_catalog,
    read_orders,
)
from matcher.dfc_defaults import DfcDefaults
from matcher.dfc_graph import BUSINESS
from matcher.dfc_jsonld import parse_jsonld, to_jsonld
from matcher.schemas import OFFERS, ORDERS, Column, parse_records

DATA = Path(__file__).parent.parent / "data" / "dfc"

#: what the catalogue mapping reads, from the CatalogItems: everything else in a document is not kept
CATALOG_LINKS = (
    "references",
    "referencedBy",
    "offeredThrough",
    "offers",
    "managedBy",
    "manages",
    "supplies",
    "suppliedBy",
    "hasAddress",
    "hasQuantity",
    "hasPrice",
)
CATALOG_VALUES = ("stockLimitation", "name", "hasType", "lifetime", "hasUnit", "value", "latitude", "longitude")
CATALOG_TYPES = ("CatalogItem", "Enterprise", "SuppliedProduct", "Offer", "Address", "QuantitativeValue", "Price")
ORDER_LINKS = ("partOf", "hasPart", "orderedBy", "orders", "selects", "pickedUpAt", "deliveredAt", "quantity", "hasPrice")
ORDER_VALUES = ("concerns", "endDate", "hasUnit", "value", "latitude", "longitude")
ORDER_TYPES = ("OrderLine", "Order", "PickupOption", "DeliveryOption", "QuantitativeValue", "Price")
#: the type a link implies for the node it names (its range in the ontology): a node named but not
#: described in a document is written with it
IMPLIED = {
    "references": "SuppliedProduct",
    "offeredThrough": "Offer",
    "managedBy": "Enterprise",
    "hasAddress": "Address",
    "partOf": "Order",
    "hasPart": "OrderLine",
}
INVERSE = {
    "references": "referencedBy",
    "offeredThrough": "offers",
    "managedBy": "manages",
    "supplies": "suppliedBy",
    "partOf": "hasPart",
    "orderedBy": "orders",
}


def _graph(name: str) -> Graph:
    return parse_jsonld((DATA / name).read_text(), source=name)


def _kept(graph: Graph, roots: str, links: tuple[str, ...], values: tuple[str, ...], types: tuple[str, ...]) -> Graph:
    """The triples the mapping keeps, found independently of it: the nodes reachable from every node of
    type ``roots`` through ``links`` (either way), their ``links`` and ``values``, and their types among
    ``types``; inverse links completed (the writer writes both), numbers compared by value."""
    ns = BUSINESS[document_version(graph, source="test")]
    closed = Graph()
    for s, p, o in graph:
        closed.add((s, p, o))
        name = str(p).removeprefix(ns)
        for a, b in INVERSE.items():
            if name in (a, b):
                closed.add((o, URIRef(ns + (b if name == a else a)), s))
    keep = {URIRef(ns + n) for n in links + values}
    seen = set(closed.subjects(RDF.type, URIRef(ns + roots)))
    frontier = list(seen)
    while frontier:
        node = frontier.pop()
        for p, o in closed.predicate_objects(node):
            if p in {URIRef(ns + n) for n in links} and o not in seen:
                seen.add(o)
                frontier.append(o)
    out = Graph()
    for s in seen:
        for p, o in closed.predicate_objects(s):
            if p in keep or (p == RDF.type and str(o).removeprefix(ns) in types):
                out.add((s, p, _by_value(o)))
            if str(p).removeprefix(ns) in IMPLIED and IMPLIED[str(p).removeprefix(ns)] in types:
                out.add((o, RDF.type, URIRef(ns + IMPLIED[str(p).removeprefix(ns)])))
    return out


def _by_value(node: object) -> object:
    """A number (typed, or written as a string as the TypeScript connector does) as its decimal value."""
    if isinstance(node, Literal):
        try:
            return Literal(Decimal(str(node)).normalize())
        except InvalidOperation:
            return node
    return node


def _values(graph: Graph) -> Graph:
    out = Graph()
    for s, p, o in graph:
        out.add((s, p, _by_value(o)))
    return out


@pytest.mark.parametrize("name", ["ofn_supplied_products_v2.json", "ofn_catalog_items_v2.json", "ofn_enterprise_v1.json", "cooperative_catalog.json"])
def test_catalogue_round_trip_gives_the_same_triples(name: str) -> None:
    graph = _graph(name)
    version = document_version(graph, source=name)
    written = catalog_graph(read_catalog(graph, source=name), version=version)
    expected = _kept(graph, "CatalogItem", CATALOG_LINKS, CATALOG_VALUES, CATALOG_TYPES)
    assert len(expected) > 10
    assert isomorphic(_values(written), expected)
    # and through JSON-LD text: the exported document reads back to the same graph
    again = parse_jsonld(json.dumps(to_jsonld(written, version=version)), source="export")
    assert isomorphic(again, written)


@pytest.mark.parametrize("name", ["ts_order_line.json", "hub_order.json"])
def test_order_round_trip_gives_the_same_triples(name: str) -> None:
    graph = _graph(name)
    version = document_version(graph, source=name)
    written = orders_graph(read_orders(graph, source=name), version=version)
    expected = _kept(graph, "OrderLine", ORDER_LINKS, ORDER_VALUES, ORDER_TYPES)
    assert isomorphic(_values(written), expected)
    again = parse_jsonld(json.dumps(to_jsonld(written, version=version)), source="export")
    assert isomorphic(again, written)


def test_a_dropped_triple_breaks_the_isomorphism() -> None:
    """The comparison can fail: a stock changed in the written graph is seen."""
    graph = _graph("cooperative_catalog.json")
    catalog = read_catalog(graph, source="c").with_columns(stock=pl.when(pl.col("stock") == 40).then(41.0).otherwise(pl.col("stock")))
    written = catalog_graph(catalog, version="2.0.0")
    assert not isomorphic(_values(written), _kept(graph, "CatalogItem", CATALOG_LINKS, CATALOG_VALUES, CATALOG_TYPES))


def test_versions_are_told_apart_by_their_namespaces() -> None:
    assert document_version(_graph("ofn_enterprise_v1.json"), source="x") == "1.16.0"
    assert document_version(_graph("ofn_catalog_items_v2.json"), source="x") == "2.0.0"
    assert document_version(_graph("ts_order.json"), source="x") == "1.16.0"


TYPES = {"dfc-pt:tomato": "tomato", "dfc-pt:apple": "apple"}


def test_cooperative_catalogue_becomes_offers_our_schema_accepts() -> None:
    records = offer_records(read_catalog(_graph("cooperative_catalog.json"), source="c"), TYPES, defaults=DfcDefaults(), source="c")
    apple, tomato = records  # rows follow the CatalogItems' IRIs: items/apple-500g, items/tomato-5kg
    assert tomato == {"product": "tomato", "grade": "A", "quantity_kg": 200, "lat": 39.52, "lon": 116.70, "shelf_life_days": 6, "ask_per_kg": 2.5}
    assert apple == {"product": "apple", "grade": "A", "quantity_kg": 150, "lat": 39.52, "lon": 116.70, "shelf_life_days": 7, "ask_per_kg": 3.98}
    # exactly what the batch contract takes, checked by the same code
    rows = [{"offer_id": f"o{k}", "cooperative_id": "c1", "ready_date": "2026-06-01", **r} for k, r in enumerate(records)]
    frame = parse_records(rows, [c for c in OFFERS], source="c")
    assert frame["quantity_kg"].to_list() == [150, 200]


def test_prices_convert_exactly_both_ways() -> None:
    """19.99 per 500 g is 39.98 per kg, not 39.980000000000004."""
    catalog = read_catalog(_graph("cooperative_catalog.json"), source="c").with_columns(price=pl.lit(19.99))
    records = offer_records(catalog, TYPES, defaults=DfcDefaults(), source="c")
    assert records[0]["ask_per_kg"] == 39.98


@pytest.mark.parametrize(
    ("edit", "node", "message"),
    [
        (
            lambda d: d["@graph"][2].update({"dfc-b:hasType": "dfc-pt:cabbage"}),
            "https://coop.example/products/tomato-5kg dfc-b:hasType",
            "not in the product-type table",
        ),
        (
            lambda d: d["@graph"][2]["dfc-b:hasQuantity"].update({"dfc-b:hasUnit": "dfc-m:Litre"}),
            "https://coop.example/products/tomato-5kg dfc-b:hasUnit",
            "not a mass",
        ),
        (lambda d: d["@graph"][5].update({"dfc-b:stockLimitation": 3}), "https://coop.example/items/apple-500g dfc-b:stockLimitation", r"3 x 0.5 kg = 1.5 kg"),
        (
            lambda d: d["@graph"][6]["dfc-b:hasPrice"].update({"dfc-b:hasUnit": "dfc-m:USDollar"}),
            "https://coop.example/offers/tomato-5kg dfc-b:hasUnit",
            "not our currency",
        ),
        (lambda d: d["@graph"][1].pop("dfc-b:latitude"), "https://coop.example/enterprises/green-valley#address dfc-b:latitude", "no place"),
        (lambda d: d["@graph"][2].update({"dfc-b:lifetime": 2.5}), "https://coop.example/products/tomato-5kg dfc-b:lifetime", "whole number of days"),
        (lambda d: d["@graph"][4].pop("dfc-b:offeredThrough"), "https://coop.example/items/tomato-5kg dfc-b:offeredThrough", "no Offer"),
    ],
    ids=["unknown_product_type", "unknown_unit", "not_whole_kg", "other_currency", "no_latitude", "fractional_lifetime", "no_offer"],
)
def test_catalogue_defects_name_their_node(edit, node: str, message: str) -> None:  # type: ignore[no-untyped-def]
    document = json.loads((DATA / "cooperative_catalog.json").read_text())
    edit(document)
    graph = parse_jsonld(json.dumps(document), source="doc.json")
    with pytest.raises(InputError, match=message) as caught:
        offer_records(read_catalog(graph, source="doc.json"), TYPES, defaults=DfcDefaults(), source="doc.json")
    assert [p.column for p in caught.value.problems] == [node]


def test_published_catalogue_in_grams_is_refused_not_rounded() -> None:
    """Open Food Network's 5 x 1 g is 0.005 kg: refused (whole kilograms only), and its AUD price too."""
    catalog = read_catalog(_graph("ofn_supplied_products_v2.json"), source="ofn")
    with pytest.raises(InputError) as caught:
        offer_records(catalog, {"dfc-pt:processed-vegetable": "pesto"}, defaults=DfcDefaults(), source="ofn")
    messages = {p.column: p.message for p in caught.value.problems}
    assert "0.005 kg" in messages["http://test.host/api/dfc/enterprises/10000/catalog_items/10001 dfc-b:stockLimitation"]
    assert "AustralianDollar" in messages["http://test.host/api/dfc/enterprises/10000/offers/10001 dfc-b:hasUnit"]


def test_product_type_keys_ignore_the_taxonomy_version() -> None:
    assert concept_key("https://github.com/datafoodconsortium/taxonomies/releases/latest/download/productTypes.rdf#tomato") == "dfc-pt:tomato"
    assert concept_key("http://w3id.org/dfc/taxonomies/v2.0.0/productTypes.rdf#tomato") == "dfc-pt:tomato"
    assert concept_key("dfc-pt:tomato") == "dfc-pt:tomato"
    assert concept_key("https://example.org/ours#tomato") == "https://example.org/ours#tomato"


def _our_offers() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "dfc_offer": ["https://coop.example/offers/tomato-5kg", "https://coop.example/offers/apple-500g"],
            "product": ["tomato", "apple"],
            "grade": ["A", "B"],
            "unit_kg": [5.0, 0.5],
            "ask_per_kg": [2.5, 3.98],
        }
    )


def test_hub_order_becomes_orders_our_schema_accepts() -> None:
    lines = read_orders(_graph("hub_order.json"), source="o")
    records = order_records(lines, _our_offers(), defaults=DfcDefaults(), source="o")
    assert records == [
        {"product": "tomato", "min_grade": "A", "quantity_kg": 20, "lat": 39.90, "lon": 116.66, "max_price_per_kg": 2.6, "due_date": dt.date(2026, 6, 3)},
        {"product": "apple", "min_grade": "B", "quantity_kg": 30, "lat": 39.90, "lon": 116.66, "max_price_per_kg": 3.98, "due_date": dt.date(2026, 6, 3)},
    ]
    rows = [{"order_id": f"d{k}", **r, "due_date": r["due_date"].isoformat()} for k, r in enumerate(records)]
    assert parse_records(rows, [c for c in ORDERS], source="o").height == 2


@pytest.mark.parametrize(
    ("edit", "node", "message"),
    [
        (
            lambda d: d["@graph"][3].update({"dfc-b:concerns": "https://elsewhere.example/offers/9"}),
            "https://hub.example/orders/1001/lines/1 dfc-b:concerns",
            "none of our open offers",
        ),
        (
            lambda d: d["@graph"][4]["dfc-b:quantity"].update({"dfc-b:hasUnit": "dfc-m:Litre"}),
            "https://hub.example/orders/1001/lines/2 dfc-b:hasUnit",
            "neither",
        ),
        (lambda d: d["@graph"][4]["dfc-b:quantity"].update({"dfc-b:value": 2.5}), "https://hub.example/orders/1001/lines/2 dfc-b:quantity", "whole kilograms"),
        (lambda d: d["@graph"][1].pop("dfc-b:endDate"), "https://hub.example/orders/1001 dfc-b:endDate", "end date"),
        (lambda d: d["@graph"][0].pop("dfc-b:selects"), "https://hub.example/orders/1001 dfc-b:selects", "no place"),
    ],
    ids=["unknown_offer", "unknown_unit", "not_whole_kg", "no_end_date", "no_option"],
)
def test_order_defects_name_their_node(edit, node: str, message: str) -> None:  # type: ignore[no-untyped-def]
    document = json.loads((DATA / "hub_order.json").read_text())
    edit(document)
    graph = parse_jsonld(json.dumps(document), source="o.json")
    with pytest.raises(InputError, match=message) as caught:
        order_records(read_orders(graph, source="o.json"), _our_offers(), defaults=DfcDefaults(), source="o.json")
    assert node in [p.column for p in caught.value.problems]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('"a string"', "expected a JSON-LD document"),
        ('{"@context": "https://example.org/context.jsonld", "@id": "https://x.example/1"}', "is not one this service holds"),
        ('{"@context": 5, "@id": "x"}', "invalid JSON-LD"),
        ('{"@id": "https://x.example/g", "@graph": [{"@id": "https://x.example/1", "https://x.example/p": 1}]}', "named graph"),
        ('{"@context": {"@import": "https://example.org/more.jsonld"}, "@id": "https://x.example/1"}', "https://example.org/more.jsonld"),
        ('{"@context": ["https://w3id.org/dfc/ontology/context/context_2.0.0.json", "https://example.org/c"], "@id": "https://x.example/1"}', "example.org/c"),
    ],
    ids=["not_json", "not_an_object", "unknown_remote_context", "bad_jsonld", "named_graph", "remote_import", "remote_in_a_list"],
)
def test_bad_jsonld_is_refused(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_jsonld(text, source="bad.json")


def test_no_dfc_terms_is_refused() -> None:
    graph = parse_jsonld('{"@id": "https://x.example/1", "https://schema.org/name": "x"}', source="x")
    with pytest.raises(InputError, match="no term of the DFC business ontology"):
        read_catalog(graph, source="x")


def test_no_network_is_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every context is served from the package: with sockets refused, every example still reads, and a
    remote context is refused by name, not fetched."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for path in sorted(DATA.glob("*.json")):
        assert len(parse_jsonld(path.read_text(), source=path.name)) > 0
    with pytest.raises(InputError, match="https://example.org/remote"):
        parse_jsonld('{"@context": "https://example.org/remote", "@id": "https://x.example/1"}', source="r")


def test_export_is_deterministic() -> None:
    catalog = read_catalog(_graph("cooperative_catalog.json"), source="c")
    first = to_jsonld(catalog_graph(catalog, version="2.0.0"), version="2.0.0")
    assert json.dumps(first) == json.dumps(to_jsonld(catalog_graph(catalog, version="2.0.0"), version="2.0.0"))
    assert first["@context"] == "https://w3id.org/dfc/ontology/context/context_2.0.0.json"
    assert to_isomorphic(catalog_graph(catalog, version="2.0.0")) == to_isomorphic(catalog_graph(catalog, version="2.0.0"))


def test_defaults_validate_themselves() -> None:
    from harvestmatch.errors import ParameterError

    with pytest.raises(ParameterError, match="grade must be one of A, B, C"):
        DfcDefaults(grade="D")
    _ = Column  # the schema's columns are the contract the records meet
