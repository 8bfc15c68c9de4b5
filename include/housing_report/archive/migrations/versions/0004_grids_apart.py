"""The raw grids in a table of their own, once per content.

A grid (every cell of a unit's worksheet, about 10 kB) was a column of `unit_reads`, before
the figures: every query over the reads (the history rules, the outliers, completeness) had
to step over it on disk. Only an audit of a read needs it, so it now lives in
`unit_read_grids`, keyed by the read's `content_hash`: a sheet read unchanged in several runs
or periods (a stale sheet, a re-run) is stored once.

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

_BATCH = 500


def upgrade() -> None:
    grids = op.create_table(
        "unit_read_grids",
        sa.Column("content_hash", sa.String(64), primary_key=True),
        sa.Column("grid", sa.JSON, nullable=False),
    )
    conn = op.get_bind()
    reads = sa.table("unit_reads", sa.column("id"), sa.column("content_hash"), sa.column("grid", sa.JSON))
    seen: set[str] = set()
    batch: list[dict] = []
    query = sa.select(reads.c.content_hash, reads.c.grid).where(
        reads.c.grid.isnot(None), reads.c.content_hash.isnot(None)
    )
    for content_hash, grid in conn.execute(query.order_by(reads.c.id)).all():
        if content_hash in seen:
            continue
        seen.add(content_hash)
        batch.append({"content_hash": content_hash, "grid": grid})
        if len(batch) >= _BATCH:
            op.bulk_insert(grids, batch)
            batch = []
    if batch:
        op.bulk_insert(grids, batch)
    with op.batch_alter_table("unit_reads") as alter:
        alter.drop_column("grid")


def downgrade() -> None:
    with op.batch_alter_table("unit_reads") as alter:
        alter.add_column(sa.Column("grid", sa.JSON))
    op.execute(
        "UPDATE unit_reads SET grid = (SELECT g.grid FROM unit_read_grids g "
        "WHERE g.content_hash = unit_reads.content_hash)"
    )
    op.drop_table("unit_read_grids")
