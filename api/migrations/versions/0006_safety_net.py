"""safety net: the cooperatives table and each offer result's floor

- ``cooperatives``: the operator's register of cooperatives (``PUT /cooperatives/{id}``): ``small``
  says whether the safety net treats it as a small producer, whatever its offers weigh; ``members``
  and ``hectares`` are kept for the record. A cooperative it does not list is judged by the cycle's
  ``small_kg`` rule (:mod:`matcher.safety_net`).
- ``offer_results``: ``floor_kg`` (the offer's floor in whole kg, 0 without one), ``floor_sold_kg``,
  ``floor_met`` and ``floor_reason`` (null without a floor), ``floor_dual`` (the per-kg cost of that
  producer's safety net, null where none) and ``subsidy`` (what the platform pays for the floor's
  sales). Existing results had no floor: 0, null and 0.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cooperatives",
        sa.Column("cooperative_id", sa.String(length=64), nullable=False),
        sa.Column("small", sa.Boolean(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.Column("hectares", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cooperative_id"),
    )
    with op.batch_alter_table("offer_results") as b:
        b.add_column(sa.Column("floor_kg", sa.BigInteger(), server_default="0", nullable=False))
        b.add_column(sa.Column("floor_sold_kg", sa.BigInteger(), server_default="0", nullable=False))
        b.add_column(sa.Column("floor_met", sa.Boolean(), nullable=True))
        b.add_column(sa.Column("floor_reason", sa.String(length=32), nullable=True))
        b.add_column(sa.Column("floor_dual", sa.Float(), nullable=True))
        b.add_column(sa.Column("subsidy", sa.Float(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("offer_results") as b:
        for name in ("subsidy", "floor_dual", "floor_reason", "floor_met", "floor_sold_kg", "floor_kg"):
            b.drop_column(name)
    op.drop_table("cooperatives")
