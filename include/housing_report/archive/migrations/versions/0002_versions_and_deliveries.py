"""Versions of a period's summary, what each was built from, and the delivery log.

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
    with op.batch_alter_table("summaries") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("figures_hash", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("max_read_id", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("previous_summary_id", sa.Integer))
        batch.create_unique_constraint("uq_summaries_period_version", ["period", "version"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("recipients_key", sa.String(64), nullable=False),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("supersedes", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(250), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_deliveries_period", "deliveries", ["period", "recipients_key"])
    # One delivery at a time may follow a given delivered state of a period for a list of
    # recipients: the database decides between two concurrent runs.
    op.create_index(
        "uq_deliveries_active",
        "deliveries",
        ["period", "recipients_key", "supersedes"],
        unique=True,
        sqlite_where=sa.text("state IN ('sending', 'sent')"),
        postgresql_where=sa.text("state IN ('sending', 'sent')"),
    )


def downgrade() -> None:
    op.drop_index("uq_deliveries_active", table_name="deliveries")
    op.drop_index("ix_deliveries_period", table_name="deliveries")
    op.drop_table("deliveries")
    with op.batch_alter_table("summaries") as batch:
        batch.drop_constraint("uq_summaries_period_version", type_="unique")
        batch.drop_column("previous_summary_id")
        batch.drop_column("max_read_id")
        batch.drop_column("figures_hash")
        batch.drop_column("version")
