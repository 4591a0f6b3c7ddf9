"""cycle progress: what a running cycle has done so far

- ``cycles.progress``: JSON of the latest progress line of the running cycle's fan-out (``stage``
  ``products`` or ``routing problems``, ``done``, ``total``, ``elapsed_s``, ``left_s``); kept when the
  cycle ends, as its last word. Existing cycles have none.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cycles") as b:
        b.add_column(sa.Column("progress", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cycles") as b:
        b.drop_column("progress")
