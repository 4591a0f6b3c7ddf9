"""``harvest dfc``: Data Food Consortium files in and out of the batch contract (docs/dfc.md).

- ``harvest dfc import-offers FILE.jsonld --product-types TABLE --out OFFERS.csv``: a cooperative's DFC
  catalogue as the offers table ``harvest match --offers`` reads, checked by its schema; two more
  columns name each offer's DFC CatalogItem and Offer (extra columns are kept and ignored).
- ``harvest dfc export-sales --result DIR --offers OFFERS.csv --out SALES.jsonld``: a result's sales
  (``offers_out.csv``: kg sold at the farm-gate price) as DFC Orders, one per cooperative, each line
  concerning the offer's DFC Offer when the offers table names one.

Exit 0 on success, 2 on bad input (one line per problem naming the node, nothing written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from harvestmatch.settings import add_options, from_options
from matcher.dfc_defaults import DfcDefaults

if TYPE_CHECKING:
    import polars as pl

#: the columns an imported offer adds to the batch contract's
DFC_COLUMNS = ("dfc_catalog_item", "dfc_offer")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``harvest dfc`` to the ``harvest`` command's subcommands."""
    d = sub.add_parser("dfc", help="Data Food Consortium (DFC) JSON-LD in and out", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    dsub = d.add_subparsers(dest="dfc_command", required=True)
    i = dsub.add_parser("import-offers", help="a DFC catalogue (JSON-LD) as the offers table harvest match reads")
    i.add_argument("file", type=Path, help="the DFC document: an Enterprise's CatalogItems, SuppliedProducts and Offers")
    i.add_argument("--product-types", required=True, type=Path, help="product_type, product: DFC product types (dfc-pt:NAME or IRIs) to our products")
    i.add_argument("--out", required=True, type=Path, help="the offers table to write (.csv or .parquet)")
    i.add_argument("--cooperative", help="the offers' cooperative_id (default: the Enterprise's IRI)")
    i.add_argument("--ready-date", type=dt.date.fromisoformat, help="the offers' ready date, YYYY-MM-DD (default: today)")
    add_options(i, DfcDefaults)
    i.set_defaults(run=_run_import_offers)
    e = dsub.add_parser("export-sales", help="a result's sales (offers_out.csv) as DFC Orders at the farm-gate prices")
    e.add_argument("--result", required=True, type=Path, help="a result folder of harvest match")
    e.add_argument("--offers", required=True, type=Path, help="the offers table the result was made from (its dfc_offer column names the DFC Offers)")
    e.add_argument("--out", required=True, type=Path, help="the JSON-LD document to write")
    e.add_argument("--base", default="urn:harvestmatch:", help="the prefix of the exported Orders' IRIs (default urn:harvestmatch:)")
    e.add_argument("--version", choices=("1.16.0", "2.0.0"), default="2.0.0", help="the DFC context version written (default 2.0.0)")
    add_options(e, DfcDefaults, ("currency",))
    e.set_defaults(run=_run_export_sales)


def _run_import_offers(args: argparse.Namespace) -> int:
    from harvestmatch.errors import InputError, Problem
    from matcher.dfc import offer_records, read_catalog
    from matcher.dfc_jsonld import parse_jsonld
    from matcher.io import read_tables
    from matcher.schemas import OFFERS, Column, parse_records

    defaults = from_options(args, DfcDefaults)
    source = args.file.name
    tables, problems = read_tables([("types", args.product_types, (Column("product_type", "text"), Column("product", "text")), "product_type")])
    text = _read(args.file)
    catalog = read_catalog(parse_jsonld(text, source=source), source=source)
    if problems:
        raise InputError(problems)
    records = offer_records(catalog, dict(tables["types"].iter_rows()), defaults=defaults, source=source)
    ready = (args.ready_date or dt.datetime.now(dt.UTC).date()).isoformat()
    nodes = catalog["catalog_item"].to_list()
    for record, node, enterprise in zip(records, nodes, catalog["enterprise"].to_list(), strict=True):
        record.update(offer_id=offer_id(node), cooperative_id=args.cooperative or enterprise, ready_date=ready)
    try:
        frame = parse_records(records, OFFERS, source=source, key="offer_id")
    except InputError as exc:  # name the node each row came from
        raise InputError([Problem(p.source, None, f"{nodes[p.row - 1]} {p.column}" if p.row else p.column, p.message) for p in exc.problems]) from None
    names = [c.name for c in OFFERS if c.name in frame.columns]
    frame = frame.with_columns(dfc_catalog_item=catalog["catalog_item"], dfc_offer=catalog["offer"]).select(names + list(DFC_COLUMNS))
    _write(frame, args.out)
    print(f"{frame.height} offers: {args.out}")
    return 0


def _run_export_sales(args: argparse.Namespace) -> int:
    import polars as pl

    from harvestmatch.errors import InputError, Problem
    from matcher.dfc import orders_graph, result_lines, sales_of
    from matcher.dfc_jsonld import to_jsonld
    from matcher.io import read_raw_table

    currency = from_options(args, DfcDefaults, names=("currency",)).currency
    results = read_raw_table(args.result / "offers_out.csv")
    offers = read_raw_table(args.offers)
    missing = [Problem(args.offers.name, None, c, "required column is missing") for c in ("offer_id",) if c not in offers.columns]
    if missing:
        raise InputError(missing)
    links = offers.select("offer_id", pl.col("dfc_offer") if "dfc_offer" in offers.columns else pl.lit(None, pl.String).alias("dfc_offer"))
    sold = (
        results.with_columns(pl.col("sold_kg").cast(pl.Int64), pl.col("farm_gate_price").cast(pl.Float64), pl.col("offer_id").cast(pl.String))
        .filter(pl.col("sold_kg") > 0)
        .join(links.with_columns(pl.col("offer_id").cast(pl.String)), on="offer_id", how="left")
        .select(
            "offer_id",
            pl.col("cooperative_id").cast(pl.String),
            pl.col("dfc_offer").cast(pl.String).alias("offer"),
            pl.col("sold_kg").alias("kg"),
            pl.col("farm_gate_price").alias("price_per_kg"),
        )
        .sort("cooperative_id", "offer_id")
    )
    lines = result_lines(sales_of(sold, base=f"{args.base}sales/", offers=f"{args.base}offers/"), version=args.version, currency=currency)
    document = to_jsonld(orders_graph(lines, version=args.version), version=args.version)
    args.out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{sold.height} sales lines: {args.out}")
    return 0


def offer_id(catalog_item: str) -> str:
    """A stable offer id for a CatalogItem (its IRI may be longer than an id may be): ``dfc-`` and the
    first 20 hex digits of its SHA-256."""
    return "dfc-" + hashlib.sha256(catalog_item.encode()).hexdigest()[:20]


def _read(path: Path) -> bytes:
    from harvestmatch.errors import InputError, Problem

    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(path.name, None, None, f"cannot read the file: {exc.strerror or exc}")) from None


def _write(frame: pl.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    if out.suffix == ".parquet":
        frame.write_parquet(tmp)
    else:
        frame.write_csv(tmp)
    tmp.replace(out)  # all or nothing: a reader never sees half a table
