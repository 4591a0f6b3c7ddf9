"""dfc: the Data Food Consortium exchange's product-type table and the DFC nodes of imported offers and orders

- ``dfc_product_types``: ``product_type`` (``dfc-pt:<name>`` or a concept IRI) -> ``product``, with
  ``seq`` its place in the table as given (``PUT /dfc/product-types``). Empty: DFC offers are refused.
- ``dfc_offers``: one row per offer imported from DFC (``POST /dfc/offers``): the IRIs of its
  CatalogItem, Enterprise, Address, SuppliedProduct and Offer, its product type, unit of sale,
  lifetime, the Offer's own stock limitation and the price's currency; indexed by the Offer's IRI,
  which an imported OrderLine names.
- ``dfc_orders``: one row per order imported from DFC (``POST /dfc/orders``): its OrderLine, Order,
  customer, the Offer it concerns, quantity and price as given, the selected option and its place.

Existing offers and orders have no DFC row. Going down drops the three tables.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dfc_product_types",
        sa.Column("product_type", sa.String(length=500), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("product_type"),
    )
    op.create_table(
        "dfc_offers",
        sa.Column("offer_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("catalog_item", sa.Text(), nullable=False),
        sa.Column("enterprise", sa.Text(), nullable=True),
        sa.Column("enterprise_name", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("supplied_product", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("product_type", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("unit_value", sa.Float(), nullable=False),
        sa.Column("lifetime_days", sa.Float(), nullable=True),
        sa.Column("offer", sa.String(length=2000), nullable=False),
        sa.Column("offer_stock", sa.Float(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.offer_id"]),
        sa.PrimaryKeyConstraint("offer_id"),
    )
    op.create_index("ix_dfc_offers_offer", "dfc_offers", ["offer"])
    op.create_table(
        "dfc_orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("order_line", sa.Text(), nullable=False),
        sa.Column("order", sa.Text(), nullable=True),
        sa.Column("customer", sa.Text(), nullable=True),
        sa.Column("offer", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("quantity_unit", sa.Text(), nullable=True),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("option", sa.Text(), nullable=True),
        sa.Column("option_kind", sa.String(length=32), nullable=True),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("end_date", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"]),
        sa.PrimaryKeyConstraint("order_id"),
    )


def downgrade() -> None:
    op.drop_table("dfc_orders")
    op.drop_index("ix_dfc_offers_offer", table_name="dfc_offers")
    op.drop_table("dfc_offers")
    op.drop_table("dfc_product_types")
