"""What the DFC exchange (:mod:`api.dfc`) reads from and writes to the database: the operator's
product-type table, the DFC nodes of imported offers and orders, and the frames the export writes
(:data:`matcher.dfc.CATALOG`, :data:`matcher.dfc.ORDER_LINES`) built from our offers, fills and results.

A node of ours that came from no DFC document is named by the service's own URL for it
(``{root}offers/{offer_id}``, ``{root}orders/{order_id}``), ``root`` being the service's base URL.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import read_frame
from api.dfc_models import DfcOffer, DfcOrder, DfcProductType
from api.models import Offer, OfferResult, OrderFill
from matcher.dfc import CATALOG, RESULT_LINES, concept_key, result_lines, sales_of, unit_kg

#: the columns of a stored product-type table, in the order shown
PRODUCT_TYPES_SCHEMA: dict[str, pl.DataType] = {"product_type": pl.String(), "product": pl.String()}

#: an imported offer as an OrderLine may concern it: its DFC Offer, our product, grade and price
CONCERNED: dict[str, pl.DataType] = {
    "dfc_offer": pl.String(),
    "offer_id": pl.String(),
    "product": pl.String(),
    "grade": pl.String(),
    "unit": pl.String(),
    "unit_value": pl.Float64(),
    "ask_per_kg": pl.Float64(),
}


def product_types(session: Session) -> pl.DataFrame:
    """The operator's table in the order it was given (empty when none is set)."""
    query = select(DfcProductType.product_type, DfcProductType.product).order_by(DfcProductType.seq)
    return read_frame(session, query, PRODUCT_TYPES_SCHEMA)


def product_type_rows(table: pl.DataFrame) -> list[DfcProductType]:
    """A checked table as rows, each product type under its key (:func:`matcher.dfc.concept_key`)."""
    return [DfcProductType(product_type=concept_key(t), seq=k, product=p) for k, (t, p) in enumerate(table.iter_rows(), start=1)]


def concerned_offers(session: Session, iris: list[str]) -> pl.DataFrame:
    """The open imported offers whose DFC Offer is one of ``iris`` (the newest import of each)."""
    query = (
        select(DfcOffer.offer.label("dfc_offer"), Offer.offer_id, Offer.product, Offer.grade, DfcOffer.unit, DfcOffer.unit_value, Offer.ask_per_kg)
        .join(Offer, Offer.offer_id == DfcOffer.offer_id)
        .where(DfcOffer.offer.in_(iris), Offer.status == "open")
        .order_by(DfcOffer.offer, Offer.created_at.desc(), Offer.offer_id.desc())
    )
    frame = read_frame(session, query, CONCERNED).unique("dfc_offer", keep="first", maintain_order=True)
    kg = [float(unit_kg(u, v) or 0) for u, v in frame.select("unit", "unit_value").iter_rows()]
    return frame.with_columns(unit_kg=pl.Series(kg, dtype=pl.Float64))


def catalog_of(session: Session, *, cooperative_id: str | None) -> pl.DataFrame:
    """The open imported offers (a cooperative's, or all) as :data:`CATALOG` rows: the stock what
    remains of each, in units of sale; the price its ask per kg times its unit's weight."""
    columns = [getattr(DfcOffer, c) for c in CATALOG if c not in ("lat", "lon", "stock", "price")]
    query = (
        select(*columns, Offer.lat, Offer.lon, Offer.remaining_kg, Offer.ask_per_kg)
        .join(Offer, Offer.offer_id == DfcOffer.offer_id)
        .where(Offer.status == "open")
        .order_by(DfcOffer.catalog_item, Offer.offer_id)
    )
    if cooperative_id is not None:
        query = query.where(Offer.cooperative_id == cooperative_id)
    schema = {c: t for c, t in CATALOG.items() if c not in ("lat", "lon", "stock", "price")} | {
        "lat": pl.Float64(),
        "lon": pl.Float64(),
        "remaining_kg": pl.Int64(),
        "ask_per_kg": pl.Float64(),
    }
    rows = read_frame(session, query, schema)
    kg = pl.Series([float(unit_kg(u, v) or 1) for u, v in rows.select("unit", "unit_value").iter_rows()], dtype=pl.Float64)
    # 9 decimals: a whole ask times a unit's weight in float carries noise below them (3.98 x 0.5)
    return rows.with_columns(stock=(pl.col("remaining_kg") / kg).round(9), price=(pl.col("ask_per_kg") * kg).round(9)).select(list(CATALOG))


def cycle_order_lines(session: Session, cycle_id: int, *, buyer_id: str | None, root: str, version: str, currency: str) -> pl.DataFrame:
    """A cycle's fills (a buyer's, or all) as :data:`ORDER_LINES` rows: the kg filled, at the clearing
    price per kg; an order imported from DFC keeps its Order, OrderLine, customer and Offer."""
    query = (
        select(
            OrderFill.order_id,
            DfcOrder.order,
            DfcOrder.order_line,
            DfcOrder.customer,
            DfcOrder.offer,
            OrderFill.filled_kg.label("kg"),
            OrderFill.clearing_price.label("price_per_kg"),
        )
        .join(DfcOrder, DfcOrder.order_id == OrderFill.order_id, isouter=True)
        .where(OrderFill.cycle_id == cycle_id, OrderFill.filled_kg > 0)
        .order_by(OrderFill.order_id)
    )
    if buyer_id is not None:
        query = query.where(OrderFill.buyer_id == buyer_id)
    fills = read_frame(session, query, {"order_id": pl.String(), **RESULT_LINES})
    ours = pl.lit(f"{root}orders/") + pl.col("order_id")
    fills = fills.with_columns(pl.col("order").fill_null(ours), pl.col("order_line").fill_null(ours + pl.lit("#line")))
    return result_lines(fills, version=version, currency=currency)


def cycle_sales(session: Session, cycle_id: int, *, cooperative_id: str | None, root: str, version: str, currency: str) -> pl.DataFrame:
    """A cycle's sales (a cooperative's, or all) as :data:`ORDER_LINES` rows: one Order per cooperative,
    one line per offer sold, the kg sold at the farm-gate price per kg, concerning the offer's DFC Offer
    (or our URL for it)."""
    query = (
        select(
            OfferResult.offer_id, OfferResult.cooperative_id, DfcOffer.offer, OfferResult.sold_kg.label("kg"), OfferResult.farm_gate_price.label("price_per_kg")
        )
        .join(DfcOffer, DfcOffer.offer_id == OfferResult.offer_id, isouter=True)
        .where(OfferResult.cycle_id == cycle_id, OfferResult.sold_kg > 0)
        .order_by(OfferResult.cooperative_id, OfferResult.offer_id)
    )
    if cooperative_id is not None:
        query = query.where(OfferResult.cooperative_id == cooperative_id)
    schema = {"offer_id": pl.String(), "cooperative_id": pl.String(), "offer": pl.String(), "kg": pl.Int64(), "price_per_kg": pl.Float64()}
    return result_lines(
        sales_of(read_frame(session, query, schema), base=f"{root}dfc/cycles/{cycle_id}/sales/", offers=f"{root}offers/"), version=version, currency=currency
    )


def offer_link(offer_id: str, row: dict[str, Any], version: str) -> DfcOffer:
    """The stored DFC nodes of an imported offer (a :data:`CATALOG` row)."""
    keep = {c: row[c] for c in CATALOG if c not in ("lat", "lon", "stock", "price")}
    return DfcOffer(offer_id=offer_id, version=version, **keep)


def order_link(order_id: str, row: dict[str, Any], version: str) -> DfcOrder:
    """The stored OrderLine of an imported order (an :data:`ORDER_LINES` row)."""
    return DfcOrder(order_id=order_id, version=version, **row)
