"""deliveries and books: per-cycle summaries that the scores and the books' pages read

- ``deliveries``: per cycle, cooperative and product, the kg allocated (the cooperative's delivered
  kg). Written with each cycle's results; filled here from the allocations already stored. The
  scorecards and the refund rates read it instead of grouping every allocation on each call.
- ``books`` and ``books_lines``: a done cycle's books as last computed (totals, and one line per
  party in decimal text), with ``refunds_key``, the SHA-256 of the refunds they include. Written with
  each cycle's results; a cycle stored before this revision gets them the first time its books are
  read, and any cycle again when the refunds on its fills have changed since.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("cooperative_id", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=100), nullable=False),
        sa.Column("kg", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"]),
        sa.PrimaryKeyConstraint("cycle_id", "cooperative_id", "product"),
    )
    op.create_index("ix_deliveries_coop", "deliveries", ["cooperative_id", "product"])
    op.execute(
        "INSERT INTO deliveries (cycle_id, cooperative_id, product, kg) "
        "SELECT cycle_id, cooperative_id, product, SUM(quantity_kg) FROM allocations GROUP BY cycle_id, cooperative_id, product"
    )
    op.create_table(
        "books",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("refunds_key", sa.String(length=64), nullable=False),
        sa.Column("totals", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"]),
        sa.PrimaryKeyConstraint("cycle_id"),
    )
    op.create_table(
        "books_lines",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("party_id", sa.String(length=300), nullable=False),
        sa.Column("kg", sa.BigInteger(), nullable=False),
        sa.Column("gross", sa.String(length=48), nullable=False),
        sa.Column("refunds", sa.String(length=48), nullable=False),
        sa.Column("subsidy", sa.String(length=48), nullable=False),
        sa.Column("reserve", sa.String(length=48), nullable=False),
        sa.Column("net", sa.String(length=48), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"]),
        sa.PrimaryKeyConstraint("cycle_id", "party", "party_id"),
    )


def downgrade() -> None:
    op.drop_table("books_lines")
    op.drop_table("books")
    op.drop_index("ix_deliveries_coop", table_name="deliveries")
    op.drop_table("deliveries")
