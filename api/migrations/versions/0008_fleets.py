"""fleets: the operator's fleet table, and the fleet each cycle used

- ``fleet_vehicles``: the fleet the service plans with (``PUT /fleets``): per row its ``leg``
  (``first_mile``, ``line_haul``, ``last_mile``), vehicle type, capacity, count (null: as many as
  needed), fixed cost, cost per km, shift, and depot (null: every hub), ``seq`` its place in the table
  as given. Empty: the default fleets (``matcher.routing.tables.DEFAULT_FLEETS``).
- ``cycles.fleet``: JSON of the fleet the cycle's plan or ``trucks`` freight used (source, sha256,
  vehicles), null when it used none; existing cycles used the default fleets and keep null.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_vehicles",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("leg", sa.String(length=16), nullable=False),
        sa.Column("vehicle_type", sa.String(length=64), nullable=False),
        sa.Column("capacity_kg", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("fixed_cost", sa.Float(), nullable=False),
        sa.Column("cost_per_km", sa.Float(), nullable=False),
        sa.Column("max_duration_min", sa.Float(), nullable=False),
        sa.Column("depot", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    # a plain ADD COLUMN (no table rebuild on SQLite, where the cycles are referenced by foreign keys)
    op.add_column("cycles", sa.Column("fleet", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("cycles", "fleet")
    op.drop_table("fleet_vehicles")
