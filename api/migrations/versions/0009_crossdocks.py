"""crossdocks: the operator's crossdocks, the crossdocks each cycle used, and the lanes that ran through one

- ``crossdocks``: the consolidation centres the ``trucks`` freight model's line haul may run through
  (``PUT /crossdocks``): ``crossdock_id``, place (``lat``, ``lon``), ``capacity_kg`` a day,
  ``handling_per_kg``, and ``seq`` its place in the table as given. Empty: no crossdocks.
- ``cycles.crossdocks``: JSON of the crossdocks the cycle's ``trucks`` freight was given (sha256,
  crossdocks), null when it was given none; existing cycles had none and keep null.
- ``allocations.via``: the crossdock a lane's line haul ran through, null for direct (every existing
  allocation).
- ``plan_routes.hub``: up to 200 characters (was 64): the line haul onward from a crossdock is based
  at ``crossdock:<crossdock_id>``, and an id may have 64. On SQLite the table is rebuilt (batch mode);
  on PostgreSQL widening a ``varchar`` rewrites nothing. Going back down narrows it again, which
  PostgreSQL refuses while a route based at a long crossdock id is stored.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crossdocks",
        sa.Column("crossdock_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("capacity_kg", sa.BigInteger(), nullable=False),
        sa.Column("handling_per_kg", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("crossdock_id"),
    )
    # plain ADD COLUMNs (no table rebuild on SQLite for the cycles, which foreign keys reference)
    op.add_column("cycles", sa.Column("crossdocks", sa.Text(), nullable=True))
    op.add_column("allocations", sa.Column("via", sa.String(length=64), nullable=True))
    with op.batch_alter_table("plan_routes") as b:
        b.alter_column("hub", existing_type=sa.String(length=64), type_=sa.String(length=200), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("plan_routes") as b:
        b.alter_column("hub", existing_type=sa.String(length=200), type_=sa.String(length=64), existing_nullable=False)
    op.drop_column("allocations", "via")
    op.drop_column("cycles", "crossdocks")
    op.drop_table("crossdocks")
