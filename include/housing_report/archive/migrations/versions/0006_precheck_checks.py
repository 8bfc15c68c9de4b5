"""The units' pre-check: one row per unit checked, with when its feedback was written.

A pre-check (`housing_report.precheck`) reads a unit's sheet, validates it and writes the
result into the unit's own spreadsheet (worksheet `KiemTra`): that write changes the
spreadsheet's modified time, so the next check must compare that time with when the
feedback was written, not with when the sheet was read. The row also keeps the status and
the hash of the findings the unit was shown.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "precheck_checks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("period", sa.Date, nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("spreadsheet", sa.String(200), nullable=False),
        sa.Column("read_id", sa.Integer),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("findings_hash", sa.String(64), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_to", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_precheck_checks_unit", "precheck_checks", ["period", "unit_code"])


def downgrade() -> None:
    op.drop_index("ix_precheck_checks_unit", table_name="precheck_checks")
    op.drop_table("precheck_checks")
