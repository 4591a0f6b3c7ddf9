"""durable cycles, buyers and references, order fills, the product catalogue, scoped idempotency keys

- cycles become durable jobs: ``rerun``, ``params``, ``active`` (unique: one queued or running cycle),
  ``current`` (unique with ``date``: one current result per date), a lease (``lease_owner``,
  ``lease_until``, ``attempt``), ``detail`` (what only operators see), ``started_at``. A cycle left
  queued or running by the old in-process runner is marked failed: no worker will ever finish it. Where
  the old check-then-insert left two done results for one date, the newest becomes current and
  supersedes the others.
- offers: ``reference``, ``expires_on`` (``ready_date + shelf_life_days``, so a cycle selects its
  offers in SQL); the stored ``expired`` status goes (expiry is a fact of the date a cycle asks about),
  those offers are open again with their remaining kg. ``offer_results`` gets indexes by offer and by
  cooperative; ``allocations`` keep their region's hub as it was (``hub_lat``, ``hub_lon``), so that a
  later region upload does not move the history's shipments.
- keys: ``buyer_id`` (a rotated key keeps its buyer's orders) and ``revoked_at``; existing buyer keys
  get ``key-<id>`` as their buyer, and their orders follow.
- orders: ``buyer_id``, ``reference``, ``cancelled_at``; what each cycle gave each order moves to
  ``order_fills`` (bulk-inserted, instead of one update per order).
- ``products``: the catalogue, seeded with every product already offered or ordered.
- ``idempotency_keys`` replaces ``idempotent_requests``: a key is scoped to its owner, method and
  path. Stored answers are replay caches of finished requests; they are not carried over.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as b:
        b.add_column(sa.Column("buyer_id", sa.String(length=64), nullable=True))
        b.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE api_keys SET buyer_id = 'key-' || CAST(id AS VARCHAR(20)) WHERE role = 'buyer'")

    with op.batch_alter_table("offers") as b:
        b.add_column(sa.Column("reference", sa.String(length=100), nullable=True))
        b.add_column(sa.Column("expires_on", sa.Date(), nullable=True))
    op.execute("UPDATE offers SET status = 'open' WHERE status = 'expired'")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE offers SET expires_on = date(ready_date, '+' || shelf_life_days || ' days')")
    else:
        op.execute("UPDATE offers SET expires_on = ready_date + shelf_life_days")
    with op.batch_alter_table("offers") as b:
        b.alter_column("expires_on", existing_type=sa.Date(), nullable=False)
    with op.batch_alter_table("allocations") as b:
        b.add_column(sa.Column("hub_lat", sa.Float(), nullable=True))
        b.add_column(sa.Column("hub_lon", sa.Float(), nullable=True))
    op.execute(
        "UPDATE allocations SET hub_lat = (SELECT r.hub_lat FROM regions r WHERE r.region_id = allocations.region_id), "
        "hub_lon = (SELECT r.hub_lon FROM regions r WHERE r.region_id = allocations.region_id)"
    )
    with op.batch_alter_table("offer_results") as b:
        b.create_index("ix_offer_results_offer", ["offer_id", "cycle_id"], unique=False)
        b.create_index("ix_offer_results_coop", ["cooperative_id", "cycle_id"], unique=False)

    with op.batch_alter_table("orders") as b:
        b.add_column(sa.Column("buyer_id", sa.String(length=64), nullable=True))
        b.add_column(sa.Column("reference", sa.String(length=100), nullable=True))
        b.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE orders SET buyer_id = (SELECT k.buyer_id FROM api_keys k WHERE k.id = orders.buyer_key_id)")
    op.execute("UPDATE orders SET buyer_id = 'key-' || CAST(buyer_key_id AS VARCHAR(20)) WHERE buyer_id IS NULL")
    with op.batch_alter_table("orders") as b:
        b.alter_column("buyer_id", existing_type=sa.String(length=64), nullable=False)
        b.create_index("ix_orders_buyer", ["buyer_id", "order_id"], unique=False)

    op.create_table(
        "order_fills",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("buyer_id", sa.String(length=64), nullable=False),
        sa.Column("region_id", sa.String(length=64), nullable=True),
        sa.Column("demand_id", sa.String(length=300), nullable=True),
        sa.Column("filled_kg", sa.BigInteger(), nullable=False),
        sa.Column("unfilled_kg", sa.BigInteger(), nullable=False),
        sa.Column("clearing_price", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycles.id"]),
        sa.PrimaryKeyConstraint("cycle_id", "order_id"),
    )
    op.create_index("ix_order_fills_buyer", "order_fills", ["buyer_id", "cycle_id"], unique=False)
    op.execute(
        "INSERT INTO order_fills (cycle_id, order_id, buyer_id, region_id, demand_id, filled_kg, unfilled_kg, clearing_price, status, reason) "
        "SELECT cycle_id, order_id, buyer_id, region_id, NULL, filled_kg, quantity_kg - filled_kg, clearing_price, status, reason "
        "FROM orders WHERE cycle_id IS NOT NULL"
    )

    op.create_table("products", sa.Column("product", sa.String(length=100), nullable=False), sa.PrimaryKeyConstraint("product"))
    op.execute("INSERT INTO products (product) SELECT product FROM offers UNION SELECT product FROM orders")

    with op.batch_alter_table("cycles") as b:
        b.add_column(sa.Column("rerun", sa.Boolean(), nullable=False, server_default=sa.false()))
        b.add_column(sa.Column("params", sa.Text(), nullable=True))
        b.add_column(sa.Column("active", sa.Integer(), nullable=True))
        b.add_column(sa.Column("current", sa.Integer(), nullable=True))
        b.add_column(sa.Column("detail", sa.Text(), nullable=True))
        b.add_column(sa.Column("lease_owner", sa.String(length=200), nullable=True))
        b.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE cycles SET status = 'failed', reason = 'interrupted: the service was upgraded while this cycle was queued or running; run the date again' "
        "WHERE status IN ('queued', 'running')"
    )
    # the old check-then-insert could leave two done results for one date: the newest is current, the
    # others are superseded by it
    op.execute(
        "UPDATE cycles SET current = 1 WHERE status = 'done' AND superseded_by IS NULL AND id = "
        "(SELECT MAX(c.id) FROM cycles c WHERE c.date = cycles.date AND c.status = 'done' AND c.superseded_by IS NULL)"
    )
    op.execute(
        "UPDATE cycles SET superseded_by = (SELECT c.id FROM cycles c WHERE c.date = cycles.date AND c.current = 1) "
        "WHERE status = 'done' AND superseded_by IS NULL AND current IS NULL"
    )
    with op.batch_alter_table("cycles") as b:
        b.create_unique_constraint("uq_cycles_active", ["active"])
        b.create_unique_constraint("uq_cycles_current_date", ["date", "current"])

    op.drop_table("idempotent_requests")
    op.create_table(
        "idempotency_keys",
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", "method", "path", "key"),
    )


def downgrade() -> None:
    raise NotImplementedError("0002 is not reversible: order fills and scoped idempotency keys have no place in 0001")
