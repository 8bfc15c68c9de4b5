"""Grids keyed by their unit and content, stored in the order they come.

Keyed by their content's hash alone (0004), every period's new grids went into the hash's
index at random places: at national scale, the index pages written on each commit cost more
than the grids themselves. Now a grid is numbered as it comes (new grids go at the end of the
table) and is unique per unit and content: a unit's sheet read unchanged again (a stale
sheet, a re-run) is stored once, and a read finds its grid by its own `unit_code` and
`content_hash`. The index on (unit, hash) takes a batch's grids side by side, as its units
are consecutive.

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
    op.create_table(
        "unit_read_grids_0005",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("grid", sa.JSON, nullable=False),
        sa.UniqueConstraint("unit_code", "content_hash", name="uq_unit_read_grids_unit_hash"),
    )
    # Each unit's grids (two units with the same content each get their copy).
    op.execute(
        "INSERT INTO unit_read_grids_0005 (unit_code, content_hash, grid) "
        "SELECT k.unit_code, k.content_hash, "
        "(SELECT g.grid FROM unit_read_grids g WHERE g.content_hash = k.content_hash) "
        "FROM (SELECT DISTINCT unit_code, content_hash FROM unit_reads "
        "WHERE content_hash IS NOT NULL) k "
        "WHERE EXISTS (SELECT 1 FROM unit_read_grids g WHERE g.content_hash = k.content_hash) "
        "ORDER BY k.unit_code, k.content_hash"
    )
    op.drop_table("unit_read_grids")
    op.rename_table("unit_read_grids_0005", "unit_read_grids")


def downgrade() -> None:
    op.create_table(
        "unit_read_grids_0004",
        sa.Column("content_hash", sa.String(64), primary_key=True),
        sa.Column("grid", sa.JSON, nullable=False),
    )
    op.execute(
        "INSERT INTO unit_read_grids_0004 (content_hash, grid) SELECT content_hash, grid "
        "FROM unit_read_grids WHERE id IN (SELECT min(id) FROM unit_read_grids GROUP BY content_hash)"
    )
    op.drop_table("unit_read_grids")
    op.rename_table("unit_read_grids_0004", "unit_read_grids")
