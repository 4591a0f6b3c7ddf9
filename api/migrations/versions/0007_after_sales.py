"""after-sales: claims, their parts, decisions and responses; each offer result's refund rate

- ``claims``: a buyer's claim on an order's delivered kg (``POST /claims``): kg, reason, evidence,
  remedy, its money in cents (its kg at the clearing prices the order paid), status, who bears it, the
  rule of its latest decision, and the cycle date that decision counts from in the scores.
- ``claim_parts``: which cycle's fill and which cooperative each part of a claim is on (pro rata by
  kg among the cooperatives that supplied the fill's demand row), with its kg and cents.
- ``claim_decisions``: the history of decisions on a claim (the rule chain's, then the operator's).
- ``claim_responses``: the cooperatives' answers to claims on their sales.
- ``offer_results.refund_rate``: the expected refund rate that steered the offer's lanes in the cycle
  (``refund_adjust``), so that the cycle's settlement is recomputed exactly; existing results had none.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=100), nullable=False),
        sa.Column("kg", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.String(length=500), nullable=True),
        sa.Column("remedy", sa.String(length=16), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bearer", sa.String(length=16), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"]),
        sa.PrimaryKeyConstraint("claim_id"),
    )
    with op.batch_alter_table("claims") as b:
        b.create_index("ix_claims_buyer", ["buyer_id", "claim_id"], unique=False)
        b.create_index("ix_claims_order", ["order_id"], unique=False)
        b.create_index("ix_claims_status", ["status", "claim_id"], unique=False)
    op.create_table(
        "claim_parts",
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("cooperative_id", sa.String(length=64), nullable=False),
        sa.Column("demand_id", sa.String(length=300), nullable=False),
        sa.Column("kg", sa.BigInteger(), nullable=False),
        sa.Column("clearing_price", sa.Float(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"]),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"]),
        sa.PrimaryKeyConstraint("claim_id", "cycle_id", "cooperative_id"),
    )
    with op.batch_alter_table("claim_parts") as b:
        b.create_index("ix_claim_parts_coop", ["cooperative_id", "claim_id"], unique=False)
        b.create_index("ix_claim_parts_cycle", ["cycle_id"], unique=False)
    op.create_table(
        "claim_decisions",
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bearer", sa.String(length=16), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("by", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"]),
        sa.PrimaryKeyConstraint("claim_id", "seq"),
    )
    op.create_table(
        "claim_responses",
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("cooperative_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"]),
        sa.PrimaryKeyConstraint("claim_id", "seq"),
    )
    with op.batch_alter_table("offer_results") as b:
        b.add_column(sa.Column("refund_rate", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offer_results") as b:
        b.drop_column("refund_rate")
    op.drop_table("claim_responses")
    op.drop_table("claim_decisions")
    with op.batch_alter_table("claim_parts") as b:
        b.drop_index("ix_claim_parts_cycle")
        b.drop_index("ix_claim_parts_coop")
    op.drop_table("claim_parts")
    with op.batch_alter_table("claims") as b:
        b.drop_index("ix_claims_status")
        b.drop_index("ix_claims_order")
        b.drop_index("ix_claims_buyer")
    op.drop_table("claims")
