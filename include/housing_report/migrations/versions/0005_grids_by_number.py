"""Grids keyed by a number, found through their read.

Keyed by their content's hash (0004), every period's new grids went into the hash's index at
random places: at national scale, the index pages written on each commit cost more than the
grids themselves. Now a grid has an increasing `id` (new grids go at the end), its read holds
it in `unit_reads.grid_id`, and a unit's sheet read unchanged again (a stale sheet, a re-run)
is still stored once: the read takes the grid of the unit's last read when the hashes match.
`content_hash` stays beside each grid, for an audit.

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
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("grid", sa.JSON, nullable=False),
    )
    op.execute(
        "INSERT INTO unit_read_grids_0005 (content_hash, grid) "
        "SELECT content_hash, grid FROM unit_read_grids ORDER BY content_hash"
    )
    with op.batch_alter_table("unit_reads") as alter:
        alter.add_column(sa.Column("grid_id", sa.Integer))
    op.create_index("ix_unit_read_grids_0005_hash", "unit_read_grids_0005", ["content_hash"])
    op.execute(
        "UPDATE unit_reads SET grid_id = (SELECT g.id FROM unit_read_grids_0005 g "
        "WHERE g.content_hash = unit_reads.content_hash) WHERE content_hash IS NOT NULL"
    )
    op.drop_index("ix_unit_read_grids_0005_hash", "unit_read_grids_0005")
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
    with op.batch_alter_table("unit_reads") as alter:
        alter.drop_column("grid_id")
    op.drop_table("unit_read_grids")
    op.rename_table("unit_read_grids_0004", "unit_read_grids")
