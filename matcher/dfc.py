"""The Data Food Consortium mapping: DFC graphs to our offers and orders, and our results back to DFC.

DFC (an RDF/OWL business ontology with SKOS taxonomies of product types and measures, exchanged as
JSON-LD; :mod:`matcher.dfc_jsonld` reads and writes the text) describes a catalogue as an Enterprise that
supplies SuppliedProducts and manages CatalogItems, each CatalogItem referencing one SuppliedProduct and
offered through an Offer with a Price; and a purchase as an Order of OrderLines, each concerning an Offer.

Two steps each way, all pure functions over rdflib graphs and polars frames:

- **graph <-> DFC frame** (:mod:`matcher.dfc_graph`, re-exported here). :func:`read_catalog` gives one row per CatalogItem (:data:`CATALOG`: the IRIs
  of its nodes, the SuppliedProduct's product type, unit of sale and lifetime, the stock, the price and
  its currency, the Enterprise's place); :func:`catalog_graph` writes such a frame back. Likewise
  :func:`read_orders` / :func:`orders_graph` with one row per OrderLine (:data:`ORDER_LINES`). These two
  are inverse on what they read: the round-trip tests compare the graphs (rdflib isomorphism).
- **DFC frame -> our records.** :func:`offer_records` turns catalogue rows into records of the offers'
  upload columns, converting units of sale to kilograms and mapping product types through the operator's
  table; :func:`order_records` turns order lines into records of the orders' columns. Both refuse what
  does not map (an unknown product type or unit, a quantity that is not whole kilograms, a missing place
  or date) with one :class:`~harvestmatch.errors.Problem` per defect naming the node's IRI; the records
  are then checked by the very schemas our own ``POST /offers`` and ``POST /orders`` use.

Conversions (written out in docs/dfc.md): a unit of sale of ``v`` units ``u`` weighs ``v * kg(u)``; a
CatalogItem's ``stockLimitation`` ``n`` offers ``n * v * kg(u)`` kg, which must be whole; a Price ``p``
per unit of sale asks ``p / (v * kg(u))`` per kg. Decimal arithmetic keeps ``19.99`` per 500 g at exactly
``39.98`` per kg and back.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import polars as pl

from harvestmatch.errors import InputError, Problem
from matcher.dfc_defaults import DfcDefaults
from matcher.dfc_graph import (
    CATALOG,
    MEASURES,
    MEASURES_OF,
    ORDER_LINES,
    PRODUCT_TYPES,
    as_decimal,
    catalog_graph,
    document_version,
    iso_date,
    local_name,
    orders_graph,
    plain_decimal,
    read_catalog,
    read_orders,
)

#: kilograms per mass unit of the measures taxonomy (by its local name)
KG_PER_UNIT: dict[str, Decimal] = {
    "Kilogram": Decimal(1),
    "Gram": Decimal("0.001"),
    "Milligram": Decimal("0.000001"),
    "Tonne": Decimal(1000),
    "Pound": Decimal("0.45359237"),
    "Ounce": Decimal("0.028349523125"),
}


#: an OrderLine quantity in this unit (or a bare number) counts units of sale
PIECE = "Piece"


def offer_records(catalog: pl.DataFrame, product_types: Mapping[str, str], *, defaults: DfcDefaults, source: str) -> list[dict[str, Any]]:
    """Records of the offers' upload columns (``product, grade, quantity_kg, lat, lon, ready_date`` is
    left to the caller, ``shelf_life_days, ask_per_kg``), one per catalogue row, in its order.

    Parameters
    ----------
    catalog
        :data:`CATALOG` rows (:func:`read_catalog`).
    product_types
        The operator's table: product type (an IRI or ``dfc-pt:name``) -> our catalogue's product.
    defaults
        Grade, shelf life and currency (:class:`DfcDefaults`).
    source
        The document's name in messages.

    Raises
    ------
    InputError
        One problem per defect, naming the node (the CatalogItem's IRI unless another node holds it).
    """
    table = {concept_key(k): v for k, v in product_types.items()}
    problems: list[Problem] = []
    records = []
    for row in catalog.iter_rows(named=True):
        bad = _Row(source, row["catalog_item"], problems)
        if row["supplied_product"] is None:
            bad("dfc-b:references", "the CatalogItem references no SuppliedProduct")
            continue
        product_node = row["supplied_product"]
        product = None
        if row["product_type"] is None:
            bad("dfc-b:hasType", "the SuppliedProduct has no product type (dfc-b:hasType, a dfc-pt concept)", node=product_node)
        else:
            product = table.get(concept_key(row["product_type"]))
            if product is None:
                bad("dfc-b:hasType", f"product type {row['product_type']!r} is not in the product-type table", node=product_node)
        unit_kg = _unit_kg(row, bad)
        quantity_kg = ask = None
        if unit_kg is not None:
            quantity_kg = _whole_kg(row, unit_kg, bad)
            ask = _ask_per_kg(row, unit_kg, defaults, bad)
        if row["lat"] is None or row["lon"] is None:
            where = row["address"] or row["enterprise"] or row["catalog_item"]
            bad("dfc-b:latitude", "no place for the offer: the Enterprise's dfc-b:hasAddress needs dfc-b:latitude and dfc-b:longitude", node=where)
        shelf_life = defaults.shelf_life_days
        if row["lifetime_days"] is not None:
            if row["lifetime_days"] < 0 or not float(row["lifetime_days"]).is_integer():
                bad("dfc-b:lifetime", f"expected a whole number of days, got {row['lifetime_days']!r}", node=product_node)
            else:
                shelf_life = int(row["lifetime_days"])
        records.append(
            {
                "product": product,
                "grade": defaults.grade,
                "quantity_kg": quantity_kg,
                "lat": row["lat"],
                "lon": row["lon"],
                "shelf_life_days": shelf_life,
                "ask_per_kg": ask,
            }
        )
    if problems:  # one problem per node: items sharing an Enterprise share its missing place
        raise InputError(list(dict.fromkeys(problems)))
    return records


def order_records(lines: pl.DataFrame, offers: pl.DataFrame, *, defaults: DfcDefaults, source: str) -> list[dict[str, Any]]:
    """Records of the orders' upload columns (``product, min_grade, quantity_kg, lat, lon,
    max_price_per_kg, due_date``), one per OrderLine, in the frame's order.

    ``offers`` holds the offers the lines may concern: ``dfc_offer`` (the DFC Offer's IRI), ``product``,
    ``grade``, ``unit_kg`` (the weight of its unit of sale) and ``ask_per_kg``. A line buys the Offer's
    product, at least its grade; its quantity counts units of sale (a bare number, or ``dfc-m:Piece``)
    or is a mass; its price is per unit of sale (else the Offer's own price is the most it pays).
    """
    known = {r["dfc_offer"]: r for r in offers.iter_rows(named=True)}
    problems: list[Problem] = []
    records = []
    for row in lines.iter_rows(named=True):
        bad = _Row(source, row["order_line"], problems)
        offer = known.get(row["offer"]) if row["offer"] is not None else None
        if offer is None:
            bad(
                "dfc-b:concerns",
                f"the OrderLine concerns {row['offer']!r}, which is none of our open offers' DFC Offers" if row["offer"] else "the OrderLine concerns no Offer",
            )
            continue
        unit_kg = Decimal(str(offer["unit_kg"]))
        quantity_kg = None
        if row["quantity"] is None:
            bad("dfc-b:quantity", "the OrderLine has no quantity")
        else:
            kg = _quantity_kg(row, unit_kg, bad)
            if kg is not None:
                if kg != kg.to_integral_value() or kg <= 0:
                    bad("dfc-b:quantity", f"{plain_decimal(kg)} kg: orders are whole kilograms, at least 1")
                else:
                    quantity_kg = int(kg)
        max_price = offer["ask_per_kg"]
        if row["price"] is not None:
            if row["currency"] is None or local_name(row["currency"], MEASURES) != defaults.currency:
                bad("dfc-b:hasPrice", f"price unit {row['currency']!r} is not our currency dfc-m:{defaults.currency}")
            else:
                max_price = float(as_decimal(row["price"]) / unit_kg)
        if row["lat"] is None or row["lon"] is None:
            bad(
                "dfc-b:selects",
                "no place to deliver to: the Order selects no PickupOption or DeliveryOption whose place has latitude and longitude",
                node=row["order"],
            )
        due = iso_date(row["end_date"])
        if due is None:
            bad("dfc-b:endDate", f"expected the selected option's or the SaleSession's end date (ISO 8601), got {row['end_date']!r}", node=row["order"])
        records.append(
            {
                "product": offer["product"],
                "min_grade": offer["grade"],
                "quantity_kg": quantity_kg,
                "lat": row["lat"],
                "lon": row["lon"],
                "max_price_per_kg": max_price,
                "due_date": due,
            }
        )
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    return records


#: what a cycle's result gives for each exported OrderLine (:func:`result_lines`)
RESULT_LINES: dict[str, pl.DataType] = {
    "order": pl.String(),
    "order_line": pl.String(),
    "customer": pl.String(),
    "offer": pl.String(),
    "kg": pl.Int64(),
    "price_per_kg": pl.Float64(),
}


def result_lines(results: pl.DataFrame, *, version: str, currency: str) -> pl.DataFrame:
    """:data:`ORDER_LINES` rows of a cycle's results (:data:`RESULT_LINES`: a buyer's fills at the
    clearing price, or a cooperative's sales at the farm-gate price): each line's kg in
    ``dfc-m:Kilogram``, its price per kg in ``currency`` (to 9 decimals), no option."""
    measures = MEASURES_OF[version]
    priced = pl.col("price_per_kg").is_not_null()
    return results.select(
        "order_line",
        "order",
        "customer",
        "offer",
        pl.col("kg").cast(pl.Float64).alias("quantity"),
        pl.lit(measures + "Kilogram").alias("quantity_unit"),
        pl.col("price_per_kg").round(9).alias("price"),
        pl.when(priced).then(pl.lit(measures + currency)).alias("currency"),
        *(pl.lit(None, dtype=ORDER_LINES[c]).alias(c) for c in ("option", "option_kind", "place", "lat", "lon", "end_date")),
    ).cast(pl.Schema(ORDER_LINES))


def sales_of(sold: pl.DataFrame, *, base: str, offers: str) -> pl.DataFrame:
    """:data:`RESULT_LINES` of a cycle's sales: ``sold`` has ``offer_id, cooperative_id, offer`` (the
    DFC Offer's IRI, null for an offer that came from no DFC document), ``kg`` (sold) and
    ``price_per_kg`` (the farm-gate price). One Order per cooperative, ``{base}{cooperative_id}``; one
    line per offer, ``{base}{cooperative_id}/{offer_id}``, concerning its DFC Offer, else
    ``{offers}{offer_id}``."""
    order = pl.lit(base) + pl.col("cooperative_id")
    return sold.select(
        order.alias("order"),
        (order + pl.lit("/") + pl.col("offer_id")).alias("order_line"),
        pl.lit(None, dtype=pl.String).alias("customer"),
        pl.col("offer").fill_null(pl.lit(offers) + pl.col("offer_id")).alias("offer"),
        "kg",
        "price_per_kg",
    )


def unit_kg(unit: str | None, value: float | None) -> Decimal | None:
    """The weight in kg of a unit of sale of ``value`` ``unit`` (None when the unit is not a mass)."""
    factor = KG_PER_UNIT.get(local_name(unit, MEASURES) or "") if unit is not None else None
    return None if factor is None or value is None else as_decimal(value) * factor


def concept_key(concept: str) -> str:
    """A product type as the operator's table keys it: ``dfc-pt:<name>`` for a concept of any DFC
    product-types namespace (``dfc-pt:tomato`` and its full IRIs are one key), else the IRI itself."""
    if concept.startswith("dfc-pt:"):
        return concept
    local = local_name(concept, PRODUCT_TYPES)
    return f"dfc-pt:{local}" if local is not None else concept


class _Row:
    """Collects one row's problems, each naming a node (the row's by default) and a DFC property."""

    def __init__(self, source: str, node: str | None, problems: list[Problem]) -> None:
        self.source, self.node, self.problems = source, node, problems

    def __call__(self, prop: str, message: str, *, node: str | None = None) -> None:
        self.problems.append(Problem(self.source, None, f"{node or self.node or '_:blank'} {prop}", message))


def _unit_kg(row: dict[str, Any], bad: _Row) -> Decimal | None:
    node = row["supplied_product"]
    if row["unit"] is None or row["unit_value"] is None:
        bad("dfc-b:hasQuantity", "the SuppliedProduct has no unit of sale (dfc-b:hasQuantity with dfc-b:hasUnit and dfc-b:value)", node=node)
        return None
    kg = unit_kg(row["unit"], row["unit_value"])
    if kg is None:
        masses = ", ".join(f"dfc-m:{u}" for u in KG_PER_UNIT)
        bad("dfc-b:hasUnit", f"unit {row['unit']!r} is not a mass we convert to kilograms ({masses})", node=node)
        return None
    if kg <= 0:
        bad("dfc-b:value", f"the unit of sale weighs {plain_decimal(kg)} kg: it must weigh more than nothing", node=node)
        return None
    return kg


def _whole_kg(row: dict[str, Any], kg: Decimal, bad: _Row) -> int | None:
    if row["stock"] is None:
        bad("dfc-b:stockLimitation", "the CatalogItem has no stockLimitation: how many units are offered?")
        return None
    total = as_decimal(row["stock"]) * kg
    if total != total.to_integral_value() or total < 1:
        bad(
            "dfc-b:stockLimitation",
            f"{plain_decimal(as_decimal(row['stock']))} x {plain_decimal(kg)} kg = {plain_decimal(total)} kg: offers are whole kilograms, at least 1",
        )
        return None
    return int(total)


def _ask_per_kg(row: dict[str, Any], kg: Decimal, defaults: DfcDefaults, bad: _Row) -> float | None:
    node = row["offer"]
    if row["offer"] is None:
        bad("dfc-b:offeredThrough", "the CatalogItem is offered through no Offer: its price is unknown")
        return None
    if row["price"] is None:
        bad("dfc-b:hasPrice", "the Offer has no price (dfc-b:hasPrice with dfc-b:value)", node=node)
        return None
    if row["currency"] is None or local_name(row["currency"], MEASURES) != defaults.currency:
        bad("dfc-b:hasUnit", f"price unit {row['currency']!r} is not our currency dfc-m:{defaults.currency} (prices are not converted)", node=node)
        return None
    return float(as_decimal(row["price"]) / kg)


def _quantity_kg(row: dict[str, Any], unit_kg: Decimal, bad: _Row) -> Decimal | None:
    unit = row["quantity_unit"]
    if unit is None or local_name(unit, MEASURES) == PIECE:
        return as_decimal(row["quantity"]) * unit_kg
    mass = KG_PER_UNIT.get(local_name(unit, MEASURES) or "")
    if mass is None:
        bad("dfc-b:hasUnit", f"quantity unit {unit!r} is neither dfc-m:{PIECE} nor a mass")
        return None
    return as_decimal(row["quantity"]) * mass


__all__ = [
    "CATALOG",
    "ORDER_LINES",
    "RESULT_LINES",
    "catalog_graph",
    "concept_key",
    "document_version",
    "offer_records",
    "order_records",
    "orders_graph",
    "read_catalog",
    "read_orders",
    "result_lines",
    "sales_of",
    "unit_kg",
]
