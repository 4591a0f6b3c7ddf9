"""The DFC exchange over HTTP, on SQLite and PostgreSQL: the operator's product-type table, a cooperative's
catalogue in (the records POST /offers takes) and back out to the same triples, a hub's order in, a
cycle's fills and sales out at its prices, and every refusal a 422 naming the node, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from rdflib.compare import isomorphic

from matcher.dfc_jsonld import parse_jsonld
from tests.api.day import DAY, DUE, run_cycle
from tests.matcher.test_dfc import CATALOG_LINKS, CATALOG_TYPES, CATALOG_VALUES, _kept, _values

DATA = Path(__file__).parent.parent / "data" / "dfc"
LD = "application/ld+json"
TABLE = [
    {"product_type": "dfc-pt:tomato", "product": "tomato"},
    {"product_type": "http://w3id.org/dfc/taxonomies/v2.0.0/productTypes.rdf#apple", "product": "apple"},
]


def _catalogue(lat: float = 31.0, lon: float = 110.0) -> dict[str, Any]:
    """Our cooperative's catalogue, placed in the test's north region."""
    document = json.loads((DATA / "cooperative_catalog.json").read_text())
    document["@graph"][1].update({"dfc-b:latitude": lat, "dfc-b:longitude": lon})
    return document


def _order(lat: float = 30.5, lon: float = 110.1) -> dict[str, Any]:
    document = json.loads((DATA / "hub_order.json").read_text())
    document["@graph"][1]["dfc-b:endDate"] = f"{DUE}T18:00:00"
    document["@graph"][2].update({"dfc-b:latitude": lat, "dfc-b:longitude": lon})
    # prices that pay for the freight: 30 per 5 kg crate, 4 per 500 g bag
    document["@graph"][3]["dfc-b:hasPrice"]["dfc-b:value"] = 30
    document["@graph"][4]["dfc-b:hasPrice"] = {"@type": "dfc-b:Price", "dfc-b:value": 4, "dfc-b:hasUnit": "dfc-m:Euro"}
    return document


@pytest.fixture
def mapped(client: FlaskClient, keys: dict) -> None:
    """The catalogue has tomato too, and the operator's table maps tomato and apple."""
    assert client.put("/products", json=["apple", "kale", "pear", "tomato"], headers=keys["operator"]).status_code == 200
    r = client.put("/dfc/product-types", json=TABLE, headers=keys["operator"])
    assert r.status_code == 200, r.json


def _post(client: FlaskClient, path: str, document: Any, headers: dict, query: str = "") -> Any:
    return client.post(f"{path}{query}", data=json.dumps(document), content_type=LD, headers=headers)


def test_product_types_are_the_operators(client: FlaskClient, keys: dict, mapped: None) -> None:
    assert client.put("/dfc/product-types", json=TABLE, headers=keys["coop_a"]).status_code == 403
    body = client.get("/dfc/product-types", headers=keys["coop_a"]).json
    assert body == {"product_types": [{"product_type": "dfc-pt:tomato", "product": "tomato"}, {"product_type": "dfc-pt:apple", "product": "apple"}]}


@pytest.mark.parametrize(
    ("table", "path", "words"),
    [
        ([{"product_type": "dfc-pt:tomato", "product": "cabbage"}], "1/product", "not a product in the catalogue"),
        (
            [*TABLE, {"product_type": "https://github.com/datafoodconsortium/taxonomies/releases/latest/download/productTypes.rdf#tomato", "product": "pear"}],
            "3/product_type",
            "duplicate",
        ),
        ([{"product_type": "dfc-pt:tomato"}], "1/product", "expected"),
    ],
    ids=["unknown_product", "same_type_twice", "missing_product"],
)
def test_bad_product_type_tables_are_refused_whole(client: FlaskClient, keys: dict, mapped: None, table: list, path: str, words: str) -> None:
    r = client.put("/dfc/product-types", json=table, headers=keys["operator"])
    assert r.status_code == 422
    assert any(e["path"] == path and words in e["message"] for e in r.json["errors"]), r.json
    assert len(client.get("/dfc/product-types", headers=keys["operator"]).json["product_types"]) == 2  # as it was


def test_a_catalogue_becomes_offers_and_comes_back_as_the_same_triples(client: FlaskClient, keys: dict, mapped: None) -> None:
    r = _post(client, "/dfc/offers", _catalogue(), keys["coop_a"], f"?ready_date={DAY}")
    assert r.status_code == 201, r.json
    items = r.json["items"]
    assert [(o["product"], o["quantity_kg"], o["ask_per_kg"], o["shelf_life_days"], o["cooperative_id"]) for o in items] == [
        ("apple", 150, "3.980000", 7, "coop-a"),
        ("tomato", 200, "2.500000", 6, "coop-a"),
    ]
    assert items[1]["dfc_offer"] == "https://coop.example/offers/tomato-5kg"
    listed = client.get("/offers", headers=keys["coop_a"]).json["items"]
    assert sorted(o["offer_id"] for o in listed) == sorted(o["offer_id"] for o in items)
    exported = client.get("/dfc/offers", headers=keys["coop_a"])
    assert exported.status_code == 200 and exported.mimetype == LD
    sent = parse_jsonld(json.dumps(_catalogue()), source="sent")
    back = parse_jsonld(exported.data, source="export")
    assert isomorphic(_values(back), _kept(sent, "CatalogItem", CATALOG_LINKS, CATALOG_VALUES, CATALOG_TYPES))
    assert client.get("/dfc/offers", headers=keys["coop_b"]).json["@graph"] == []  # another cooperative's


@pytest.mark.parametrize(
    ("edit", "path", "words"),
    [
        (
            lambda d: d["@graph"][2].update({"dfc-b:hasType": "dfc-pt:cabbage"}),
            "https://coop.example/products/tomato-5kg dfc-b:hasType",
            "not in the product-type table",
        ),
        (
            lambda d: d["@graph"][3]["dfc-b:hasQuantity"].update({"dfc-b:hasUnit": "dfc-m:Litre"}),
            "https://coop.example/products/apple-500g dfc-b:hasUnit",
            "not a mass",
        ),
        (lambda d: d.update({"@context": "https://example.org/ctx"}), "@context", "is not one this service holds"),
        (lambda d: d["@graph"][6]["dfc-b:hasPrice"].update({"dfc-b:value": 20_000_000}), "https://coop.example/items/tomato-5kg ask_per_kg", "expected"),
    ],
    ids=["unknown_product_type", "unknown_unit", "remote_context", "price_out_of_range"],
)
def test_a_bad_catalogue_is_refused_naming_the_node_and_nothing_is_stored(client: FlaskClient, keys: dict, mapped: None, edit, path: str, words: str) -> None:  # type: ignore[no-untyped-def]
    document = _catalogue()
    edit(document)
    r = _post(client, "/dfc/offers", document, keys["coop_a"])
    assert r.status_code == 422, r.json
    assert any(e["path"] == path and words in e["message"] for e in r.json["errors"]), r.json
    assert client.get("/offers", headers=keys["operator"]).json["items"] == []


def test_bad_json_and_other_media_types_are_refused(client: FlaskClient, keys: dict, mapped: None) -> None:
    r = client.post("/dfc/offers", data="{nope", content_type=LD, headers=keys["coop_a"])
    assert r.status_code == 422 and "not valid JSON" in r.json["errors"][0]["message"]
    assert client.post("/dfc/offers", data="a,b", content_type="text/csv", headers=keys["coop_a"]).status_code == 415
    assert client.get("/offers", headers=keys["operator"]).json["items"] == []


def test_the_operator_names_the_cooperative_or_the_enterprise_is_it(client: FlaskClient, keys: dict, mapped: None) -> None:
    r = _post(client, "/dfc/offers", _catalogue(), keys["operator"], "?cooperative_id=coop-b")
    assert {o["cooperative_id"] for o in r.json["items"]} == {"coop-b"}
    r = _post(client, "/dfc/offers", _catalogue(), keys["operator"])
    assert {o["cooperative_id"] for o in r.json["items"]} == {"https://coop.example/enterprises/green-valley"}


def test_an_order_becomes_orders_and_a_cycle_comes_back_as_dfc_orders(client: FlaskClient, keys: dict, mapped: None, regions: None) -> None:
    offers = _post(client, "/dfc/offers", _catalogue(), keys["coop_a"], f"?ready_date={DAY}").json["items"]
    r = _post(client, "/dfc/orders", _order(), keys["buyer"])
    assert r.status_code == 201, r.json
    orders = r.json["items"]
    assert [(o["product"], o["quantity_kg"], o["max_price_per_kg"], o["buyer_id"], o["min_grade"]) for o in orders] == [
        ("tomato", 20, "6.000000", "buyer-1", "A"),
        ("apple", 30, "8.000000", "buyer-1", "A"),
    ]
    cycle = run_cycle(client, keys)
    assert cycle["status"] == "done"
    # what the buyer reads as DFC is what GET /orders says it got, at the clearing price
    document = client.get(f"/dfc/cycles/{cycle['id']}/orders", headers=keys["buyer"])
    assert document.status_code == 200, document.json
    assert len(parse_jsonld(document.data, source="out")) > 0  # JSON-LD that reads back
    for order in orders:
        fill = client.get(f"/orders/{order['order_id']}", headers=keys["buyer"]).json["fills"][0]
        assert fill["filled_kg"] > 0
        values = _line_values(document.json, order["dfc_order_line"])
        assert values == (float(fill["filled_kg"]), "dfc-m:Kilogram", float(fill["clearing_price"]), "dfc-m:Euro")
    assert client.get(f"/dfc/cycles/{cycle['id']}/orders", headers=keys["buyer_2"]).status_code == 404
    # the cooperative's sales at the farm-gate prices, each line concerning its DFC Offer
    sales = client.get(f"/dfc/cycles/{cycle['id']}/sales", headers=keys["coop_a"]).json
    for offer in offers:
        result = client.get(f"/offers/{offer['offer_id']}", headers=keys["coop_a"]).json["results"][0]
        line_id = f"http://localhost/dfc/cycles/{cycle['id']}/sales/coop-a/{offer['offer_id']}"
        assert _line_values(sales, line_id) == (float(result["sold_kg"]), "dfc-m:Kilogram", float(result["farm_gate_price"]), "dfc-m:Euro")
        assert next(n for n in sales["@graph"] if n["@id"] == line_id)["dfc-b:concerns"] == offer["dfc_offer"]


def _line_values(document: dict[str, Any], line_id: str) -> tuple[float, str, float, str]:
    """An exported OrderLine's quantity, unit, price and currency."""
    nodes = {n["@id"]: n for n in document["@graph"]}
    line = nodes[line_id]
    # dfc-b:quantity is not typed @id by the context: its link compacts to {"@id": ...}
    quantity, price = (nodes[ref["@id"] if isinstance(ref, dict) else ref] for ref in (line["dfc-b:quantity"], line["dfc-b:hasPrice"]))
    return float(quantity["dfc-b:value"]), quantity["dfc-b:hasUnit"], float(price["dfc-b:value"]), price["dfc-b:hasUnit"]


@pytest.mark.parametrize(
    ("edit", "path", "words"),
    [
        (
            lambda d: d["@graph"][3].update({"dfc-b:concerns": "https://elsewhere.example/offers/1"}),
            "https://hub.example/orders/1001/lines/1 dfc-b:concerns",
            "none of our open offers",
        ),
        (
            lambda d: d["@graph"][4]["dfc-b:quantity"].update({"dfc-b:hasUnit": "dfc-m:Litre"}),
            "https://hub.example/orders/1001/lines/2 dfc-b:hasUnit",
            "neither",
        ),
        (lambda d: d["@graph"][1].update({"dfc-b:endDate": "1800-01-01"}), "https://hub.example/orders/1001/lines/1 due_date", "expected"),
    ],
    ids=["unknown_offer", "unknown_unit", "due_date_out_of_range"],
)
def test_a_bad_order_is_refused_naming_the_node_and_nothing_is_stored(client: FlaskClient, keys: dict, mapped: None, edit, path: str, words: str) -> None:  # type: ignore[no-untyped-def]
    _post(client, "/dfc/offers", _catalogue(), keys["coop_a"])
    document = _order()
    edit(document)
    r = _post(client, "/dfc/orders", document, keys["buyer"])
    assert r.status_code == 422, r.json
    assert any(e["path"] == path and words in e["message"] for e in r.json["errors"]), r.json
    assert client.get("/orders", headers=keys["operator"]).json["items"] == []


def test_a_retried_import_creates_nothing_twice(client: FlaskClient, keys: dict, mapped: None) -> None:
    headers = {**keys["coop_a"], "Idempotency-Key": "catalogue-1"}
    first = _post(client, "/dfc/offers", _catalogue(), headers)
    again = _post(client, "/dfc/offers", _catalogue(), headers)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json == first.json
    assert len(client.get("/offers", headers=keys["coop_a"]).json["items"]) == 2


def test_exports_take_a_known_version_and_a_cycle_that_is_there(client: FlaskClient, keys: dict, mapped: None) -> None:
    _post(client, "/dfc/offers", _catalogue(), keys["coop_a"])
    old = client.get("/dfc/offers?version=1.16.0", headers=keys["coop_a"])
    assert old.json["@context"] == "https://w3id.org/dfc/ontology/context/context_1.16.0.json"
    assert len(parse_jsonld(old.data, source="old")) == len(parse_jsonld(client.get("/dfc/offers", headers=keys["coop_a"]).data, source="new"))
    bad = client.get("/dfc/offers?version=3", headers=keys["coop_a"])
    assert bad.status_code == 422 and bad.json["errors"][0]["path"] == "version"
    assert client.get("/dfc/cycles/99/orders", headers=keys["operator"]).status_code == 404
    assert client.get("/dfc/cycles/99/sales", headers=keys["coop_a"]).status_code == 404
    assert client.get("/dfc/offers", headers=keys["buyer"]).status_code == 403
