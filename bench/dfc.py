"""How long a DFC catalogue takes to import: a synthetic catalogue of N CatalogItems (one Enterprise, N
SuppliedProducts of 5 kg crates in euros, N Offers), written as DFC 2.0 JSON-LD, then read stage by stage
in one process: JSON-LD to RDF (rdflib, the contexts served locally), the graph to the catalogue frame, the
frame to offer records, the records through the offers' schema; and written back (frame to graph to
JSON-LD). The whole command (``harvest dfc import-offers``) is timed from outside with farm-bench.

    python bench/dfc.py --items 10000 --write /tmp/catalog.jsonld   # the stages, and the file for farm-bench

(from a checkout, ``PYTHONPATH=.`` reads the checkout's packages rather than the installed ones)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def catalogue(items: int) -> dict:
    """N CatalogItems of one Enterprise, each its own product (5 kg crates of one of ten product types)."""
    base = "https://coop.example/"
    enterprise = base + "enterprise"
    graph: list[dict] = [
        {
            "@id": enterprise,
            "@type": "dfc-b:Enterprise",
            "dfc-b:hasAddress": base + "address",
            "dfc-b:manages": [f"{base}items/{k}" for k in range(items)],
        },
        {"@id": base + "address", "@type": "dfc-b:Address", "dfc-b:latitude": 39.5, "dfc-b:longitude": 116.7},
    ]
    for k in range(items):
        graph += [
            {
                "@id": f"{base}products/{k}",
                "@type": "dfc-b:SuppliedProduct",
                "dfc-b:name": f"product {k}",
                "dfc-b:hasType": f"dfc-pt:type-{k % 10}",
                "dfc-b:hasQuantity": {"@type": "dfc-b:QuantitativeValue", "dfc-b:hasUnit": "dfc-m:Kilogram", "dfc-b:value": 5},
            },
            {
                "@id": f"{base}items/{k}",
                "@type": "dfc-b:CatalogItem",
                "dfc-b:references": f"{base}products/{k}",
                "dfc-b:stockLimitation": 10 + k % 50,
                "dfc-b:offeredThrough": f"{base}offers/{k}",
            },
            {
                "@id": f"{base}offers/{k}",
                "@type": "dfc-b:Offer",
                "dfc-b:hasPrice": {"@type": "dfc-b:Price", "dfc-b:value": 12.5, "dfc-b:hasUnit": "dfc-m:Euro"},
            },
        ]
    return {"@context": "https://w3id.org/dfc/ontology/context/context_2.0.0.json", "@graph": graph}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--write", type=Path, help="also write the catalogue and its product-type table (TYPES beside it) here")
    args = parser.parse_args()
    text = json.dumps(catalogue(args.items))
    if args.write:
        args.write.write_text(text)
        types = args.write.with_name(args.write.stem + "-types.csv")
        types.write_text("product_type,product\n" + "".join(f"dfc-pt:type-{k},p{k}\n" for k in range(10)))
    from matcher.dfc import catalog_graph, offer_records, read_catalog
    from matcher.dfc_defaults import DfcDefaults
    from matcher.dfc_jsonld import parse_jsonld, to_jsonld
    from matcher.schemas import OFFERS, parse_records

    stages: dict[str, float] = {}
    t = time.perf_counter()
    graph = parse_jsonld(text, source="bench")
    stages["JSON-LD to RDF"] = time.perf_counter() - t
    t = time.perf_counter()
    frame = read_catalog(graph, source="bench")
    stages["graph to frame"] = time.perf_counter() - t
    t = time.perf_counter()
    records = offer_records(frame, {f"dfc-pt:type-{k}": f"p{k}" for k in range(10)}, defaults=DfcDefaults(), source="bench")
    stages["frame to records"] = time.perf_counter() - t
    t = time.perf_counter()
    rows = [{"offer_id": f"o{k}", "cooperative_id": "c", "ready_date": "2026-06-01", **r} for k, r in enumerate(records)]
    parse_records(rows, OFFERS, source="bench")
    stages["records through the schema"] = time.perf_counter() - t
    t = time.perf_counter()
    written = catalog_graph(frame, version="2.0.0")
    stages["frame to graph"] = time.perf_counter() - t
    t = time.perf_counter()
    to_jsonld(written, version="2.0.0")
    stages["graph to JSON-LD"] = time.perf_counter() - t
    print(f"{args.items} CatalogItems, {len(text) / 1e6:.1f} MB, {len(graph)} triples")
    for name, seconds in stages.items():
        print(f"  {name:28s} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
