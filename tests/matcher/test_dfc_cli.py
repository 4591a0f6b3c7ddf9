"""``harvest dfc``: a DFC catalogue becomes the offers table ``harvest match`` reads, and a result's sales go
back as DFC Orders at the farm-gate prices; bad input exits 2 naming the node, writing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import polars as pl
import pytest
import shapely

from harvest.cli import main
from matcher.dfc_cli import offer_id
from matcher.dfc_jsonld import parse_jsonld
from matcher.schemas import OFFERS, parse_table

DATA = Path(__file__).parent.parent / "data" / "dfc"


@pytest.fixture
def types(tmp_path: Path) -> Path:
    path = tmp_path / "product_types.csv"
    path.write_text("product_type,product\ndfc-pt:tomato,tomato\nhttp://w3id.org/dfc/taxonomies/v2.0.0/productTypes.rdf#apple,apple\n")
    return path


def test_import_then_match_then_export_sales(tmp_path: Path, types: Path, capsys: pytest.CaptureFixture[str]) -> None:
    offers = tmp_path / "offers.csv"
    argv = ["dfc", "import-offers", str(DATA / "cooperative_catalog.json"), "--product-types", str(types), "--out", str(offers)]
    assert main([*argv, "--cooperative", "green-valley", "--ready-date", "2026-06-01", "--grade", "B"]) == 0
    table = pl.read_csv(offers)
    typed = parse_table(table, OFFERS, source="offers.csv", key="offer_id")  # the batch contract, as harvest match reads it
    assert typed.select("offer_id", "product", "grade", "quantity_kg", "ask_per_kg", "shelf_life_days").rows() == [
        (offer_id("https://coop.example/items/apple-500g"), "apple", "B", 150, 3.98, 7),
        (offer_id("https://coop.example/items/tomato-5kg"), "tomato", "B", 200, 2.5, 6),
    ]
    assert table["dfc_offer"].to_list() == ["https://coop.example/offers/apple-500g", "https://coop.example/offers/tomato-5kg"]

    demand = tmp_path / "demand.csv"
    demand.write_text(
        "demand_id,region_id,product,min_grade,quantity_kg,price_per_kg,due_date\nd1,r0,tomato,C,120,9.0,2026-06-04\nd2,r0,apple,C,90,9.0,2026-06-04\n"
    )
    regions = tmp_path / "regions.geojson"
    gpd.GeoDataFrame({"region_id": ["r0"]}, geometry=[shapely.box(116, 39, 117.5, 40.5)], crs="EPSG:4326").to_file(regions, driver="GeoJSON")
    out = tmp_path / "out"
    match = ["match", "--offers", str(offers), "--demand", str(demand), "--regions", str(regions), "--date", "2026-06-02", "--out", str(out)]
    assert main([*match, "--workers", "1", "--freight", "linear", "--quiet"]) == 0

    sales = tmp_path / "sales.jsonld"
    assert main(["dfc", "export-sales", "--result", str(out), "--offers", str(offers), "--out", str(sales)]) == 0
    document = json.loads(sales.read_text())
    assert len(parse_jsonld(sales.read_bytes(), source="sales")) > 0
    nodes = {n["@id"]: n for n in document["@graph"]}
    sold = pl.read_csv(out / "offers_out.csv").filter(pl.col("sold_kg") > 0)
    assert sold.height == 2
    for offer, kg, price in sold.select("offer_id", "sold_kg", "farm_gate_price").iter_rows():
        line = nodes[f"urn:harvestmatch:sales/green-valley/{offer}"]
        quantity, paid = (nodes[ref["@id"] if isinstance(ref, dict) else ref] for ref in (line["dfc-b:quantity"], line["dfc-b:hasPrice"]))
        assert (quantity["dfc-b:value"], quantity["dfc-b:hasUnit"]) == (kg, "dfc-m:Kilogram")
        assert (paid["dfc-b:value"], paid["dfc-b:hasUnit"]) == (pytest.approx(price, abs=1e-9), "dfc-m:Euro")
        assert line["dfc-b:concerns"] == table.filter(pl.col("offer_id") == offer)["dfc_offer"][0]


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d["@graph"][2].update({"dfc-b:hasType": "dfc-pt:cabbage"}), "https://coop.example/products/tomato-5kg dfc-b:hasType"),
        (lambda d: d["@graph"][3]["dfc-b:hasQuantity"].update({"dfc-b:hasUnit": "dfc-m:Litre"}), "https://coop.example/products/apple-500g dfc-b:hasUnit"),
        (lambda d: d.update({"@context": "https://example.org/ctx"}), "is not one this service holds"),
    ],
    ids=["unknown_product_type", "unknown_unit", "remote_context"],
)
def test_bad_catalogue_exits_2_naming_the_node_and_writes_nothing(tmp_path: Path, types: Path, capsys: pytest.CaptureFixture[str], edit, words: str) -> None:  # type: ignore[no-untyped-def]
    document = json.loads((DATA / "cooperative_catalog.json").read_text())
    edit(document)
    source = tmp_path / "catalog.jsonld"
    source.write_text(json.dumps(document))
    out = tmp_path / "offers.csv"
    assert main(["dfc", "import-offers", str(source), "--product-types", str(types), "--out", str(out)]) == 2
    assert words in capsys.readouterr().err
    assert not out.exists()


def test_bad_json_exits_2(tmp_path: Path, types: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "catalog.jsonld"
    source.write_text("{nope")
    assert main(["dfc", "import-offers", str(source), "--product-types", str(types), "--out", str(tmp_path / "o.csv")]) == 2
    assert "catalog.jsonld: not valid JSON" in capsys.readouterr().err
