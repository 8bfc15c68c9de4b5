"""Where each figure was read (for findings naming cells), and what a delivery carried.

- `unit_reads.cells`: figure key -> A1 cell with the sheet, as the parser found it, so that
  findings made after the read (history rules, outliers) name the unit's cell.
- `deliveries.content_hash`: the hash of what a feedback email to a unit said, so that a
  re-run of the period tells a unit again only when something to fix has changed.

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
    with op.batch_alter_table("unit_reads") as batch:
        batch.add_column(sa.Column("cells", sa.JSON))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("content_hash", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("content_hash")
    with op.batch_alter_table("unit_reads") as batch:
        batch.drop_column("cells")
