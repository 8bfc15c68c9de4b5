"""The archive of reads and the summaries.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_reads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("spreadsheet", sa.String(200), nullable=False),
        sa.Column("worksheet", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("grid", sa.JSON),
        sa.Column("period_found", sa.Date),
        sa.Column("figures", sa.JSON, nullable=False),
        sa.Column("findings", sa.JSON, nullable=False),
        sa.Column("lists", sa.JSON, nullable=False),
        sa.Column("info", sa.JSON, nullable=False),
    )
    op.create_index("ix_unit_reads_run", "unit_reads", ["period", "run_id"])
    op.create_index("ix_unit_reads_unit_status", "unit_reads", ["unit_code", "status", "period"])
    op.create_table(
        "summaries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.UniqueConstraint("period", "run_id", name="uq_summaries_period_run"),
    )


def downgrade() -> None:
    op.drop_table("summaries")
    op.drop_index("ix_unit_reads_unit_status", table_name="unit_reads")
    op.drop_index("ix_unit_reads_run", table_name="unit_reads")
    op.drop_table("unit_reads")
