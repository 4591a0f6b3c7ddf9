"""route plans: a done cycle's transport plan (routes, their stops, what could not be routed) and the
stage of a running cycle

- ``plan_routes``: one row per vehicle tour, keyed by ``(cycle_id, route_id)``, with its leg
  (``first_mile``, ``line_haul``, ``last_mile``), its hub, and its depot's place as it was.
- ``plan_stops``: the tour's stops in order (``seq`` from 1), keyed by ``(cycle_id, route_id, seq)``,
  indexed by stop (an offer's pickup) and by region.
- ``plan_unserved``: stops, or parts of them, that no tour takes, with the reason.
- ``cycles.stage``: ``matching``, ``planning`` or ``writing`` while a cycle runs, NULL otherwise. A
  cycle running during the upgrade (there should be none: stop the workers first) keeps a NULL stage.

Cycles done before this revision have no plan; the route resources say so (409).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cycles") as b:
        b.add_column(sa.Column("stage", sa.String(length=16), nullable=True))

    op.create_table(
        "plan_routes",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.String(length=200), nullable=False),
        sa.Column("leg", sa.String(length=16), nullable=False),
        sa.Column("hub", sa.String(length=64), nullable=False),
        sa.Column("problem_id", sa.String(length=200), nullable=False),
        sa.Column("depot_id", sa.String(length=200), nullable=False),
        sa.Column("depot_lat", sa.Float(), nullable=False),
        sa.Column("depot_lon", sa.Float(), nullable=False),
        sa.Column("vehicle_type", sa.String(length=64), nullable=False),
        sa.Column("capacity_kg", sa.BigInteger(), nullable=False),
        sa.Column("stops", sa.Integer(), nullable=False),
        sa.Column("kg", sa.BigInteger(), nullable=False),
        sa.Column("load_factor", sa.Float(), nullable=False),
        sa.Column("km", sa.Float(), nullable=False),
        sa.Column("start_min", sa.Float(), nullable=False),
        sa.Column("end_min", sa.Float(), nullable=False),
        sa.Column("duration_min", sa.Float(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"]),
        sa.PrimaryKeyConstraint("cycle_id", "route_id"),
    )
    op.create_index("ix_plan_routes_hub", "plan_routes", ["cycle_id", "hub"], unique=False)

    op.create_table(
        "plan_stops",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("route_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("leg", sa.String(length=16), nullable=False),
        sa.Column("problem_id", sa.String(length=200), nullable=False),
        sa.Column("stop_id", sa.String(length=200), nullable=False),
        sa.Column("kg", sa.BigInteger(), nullable=False),
        sa.Column("arrive_min", sa.Float(), nullable=False),
        sa.Column("start_min", sa.Float(), nullable=False),
        sa.Column("depart_min", sa.Float(), nullable=False),
        sa.Column("load_kg", sa.BigInteger(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("region_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["cycle_id", "route_id"], ["plan_routes.cycle_id", "plan_routes.route_id"], name="fk_plan_stops_route"),
        sa.PrimaryKeyConstraint("cycle_id", "route_id", "seq"),
    )
    op.create_index("ix_plan_stops_stop", "plan_stops", ["cycle_id", "stop_id"], unique=False)
    op.create_index("ix_plan_stops_region", "plan_stops", ["cycle_id", "region_id"], unique=False)

    op.create_table(
        "plan_unserved",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.String(length=200), nullable=False),
        sa.Column("stop_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("leg", sa.String(length=16), nullable=False),
        sa.Column("kg", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"]),
        sa.PrimaryKeyConstraint("cycle_id", "problem_id", "stop_id", "reason"),
    )


def downgrade() -> None:
    op.drop_table("plan_unserved")
    op.drop_index("ix_plan_stops_region", table_name="plan_stops")
    op.drop_index("ix_plan_stops_stop", table_name="plan_stops")
    op.drop_table("plan_stops")
    op.drop_index("ix_plan_routes_hub", table_name="plan_routes")
    op.drop_table("plan_routes")
    with op.batch_alter_table("cycles") as b:
        b.drop_column("stage")
