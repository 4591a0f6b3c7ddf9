"""waiting orders: an order's pickup point, and the indexes that find waiting orders and an order's fills

- ``orders.pickup_point_id``: the community pickup point an order is delivered to; the last mile of a
  cycle's plan stops there (orders without one: at their place). Existing orders have none.
- ``ix_orders_status`` (``status, due_date``): a cycle's snapshot reads the orders that wait
  (``pending``) without reading every order ever posted.
- ``ix_order_fills_order`` (``order_id, cycle_id``): an order's fills by cycle, and the snapshot's
  current fills of the waiting orders.

No row changes. From this revision an order unfilled or partly filled by a cycle while its due date
allows a later one stays ``pending`` with the rest; orders a cycle closed before the upgrade keep
their status and fill (their buyers were told), and ``filled_kg`` is already what their one current
cycle filled. A re-run of such a cycle's date redoes it under the new rule.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as b:
        b.add_column(sa.Column("pickup_point_id", sa.String(length=64), nullable=True))
        b.create_index("ix_orders_status", ["status", "due_date"], unique=False)
    with op.batch_alter_table("order_fills") as b:
        b.create_index("ix_order_fills_order", ["order_id", "cycle_id"], unique=False)


def downgrade() -> None:
    # 0003's cycles take a pending order whole and know no expiry: an order that waits with kg already
    # filled, or that expired, closes as the cycles had left it
    op.execute(
        "UPDATE orders SET status = CASE WHEN filled_kg > 0 THEN 'partly_filled' ELSE 'unfilled' END "
        "WHERE status = 'expired' OR (status = 'pending' AND filled_kg > 0)"
    )
    with op.batch_alter_table("order_fills") as b:
        b.drop_index("ix_order_fills_order")
    with op.batch_alter_table("orders") as b:
        b.drop_index("ix_orders_status")
        b.drop_column("pickup_point_id")
