"""The tables of the Data Food Consortium exchange (:mod:`api.dfc`), beside the service's own
(:mod:`api.models`, the same ``Base``; revision ``0011`` makes them).

- ``dfc_product_types``: the operator's table from DFC product types to our catalogue's products.
- ``dfc_offers``: for an offer imported from DFC, the nodes it came from (:data:`matcher.dfc.CATALOG`'s
  columns), so that it is written back with the same IRIs, unit of sale and currency.
- ``dfc_orders``: for an order imported from DFC, its OrderLine (:data:`matcher.dfc.ORDER_LINES`).

IRIs have no length limit in RDF; they are held as text.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base


class DfcProductType(Base):
    """A DFC product type (``dfc-pt:<name>``, or another concept's IRI) and the product it is here."""

    __tablename__ = "dfc_product_types"

    product_type: Mapped[str] = mapped_column(String(500), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    product: Mapped[str] = mapped_column(String(100), nullable=False)


class DfcOffer(Base):
    """The DFC nodes of an imported offer."""

    __tablename__ = "dfc_offers"

    offer_id: Mapped[str] = mapped_column(ForeignKey("offers.offer_id"), primary_key=True)
    version: Mapped[str] = mapped_column(String(16), nullable=False)
    catalog_item: Mapped[str] = mapped_column(Text, nullable=False)
    enterprise: Mapped[str | None] = mapped_column(Text)
    enterprise_name: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    supplied_product: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str | None] = mapped_column(Text)
    product_type: Mapped[str] = mapped_column(Text, nullable=False)
    unit: Mapped[str] = mapped_column(Text, nullable=False)
    unit_value: Mapped[float] = mapped_column(Float, nullable=False)
    lifetime_days: Mapped[float | None] = mapped_column(Float)
    offer: Mapped[str] = mapped_column(String(2000), nullable=False, index=True)
    offer_stock: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(Text, nullable=False)


class DfcOrder(Base):
    """The DFC OrderLine of an imported order."""

    __tablename__ = "dfc_orders"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), primary_key=True)
    version: Mapped[str] = mapped_column(String(16), nullable=False)
    order_line: Mapped[str] = mapped_column(Text, nullable=False)
    order: Mapped[str | None] = mapped_column(Text)
    customer: Mapped[str | None] = mapped_column(Text)
    offer: Mapped[str] = mapped_column(Text, nullable=False)
    quantity: Mapped[float] = mapped_column(Float, nullable=False)
    quantity_unit: Mapped[str | None] = mapped_column(Text)
    price: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(Text)
    option: Mapped[str | None] = mapped_column(Text)
    option_kind: Mapped[str | None] = mapped_column(String(32))
    place: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    end_date: Mapped[str | None] = mapped_column(Text)
