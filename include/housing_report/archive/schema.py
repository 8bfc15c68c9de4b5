"""The report database's tables (SQLAlchemy Core). The schema is versioned with Alembic
(`archive/migrations/`): a change here comes with a migration."""

from __future__ import annotations

import sqlalchemy as sa

VERSION_TABLE = "report_db_version"

metadata = sa.MetaData()

unit_reads = sa.Table(
    "unit_reads",
    metadata,
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
    sa.Column("period_found", sa.Date),
    sa.Column("figures", sa.JSON, nullable=False),
    sa.Column("findings", sa.JSON, nullable=False),
    sa.Column("lists", sa.JSON, nullable=False),
    sa.Column("info", sa.JSON, nullable=False),
    # Figure key -> the A1 cell it was read from (migration 0003; NULL in older reads).
    sa.Column("cells", sa.JSON),
    sa.Index("ix_unit_reads_run", "period", "run_id"),
    sa.Index("ix_unit_reads_unit_status", "unit_code", "status", "period"),
)

# The raw grid of a read (every cell of the worksheet), kept for an audit of the read: apart
# from the reads so that queries over the reads do not step over it (migration 0004), found by
# the read's `unit_code` and `content_hash`: a unit's sheet read unchanged again (a stale
# sheet, a re-run) is stored once. Numbered as they come, so that new grids go at the end of
# the table, not at random places in an index of hashes (migration 0005).
unit_read_grids = sa.Table(
    "unit_read_grids",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("unit_code", sa.String(64), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("grid", sa.JSON, nullable=False),
    sa.UniqueConstraint("unit_code", "content_hash", name="uq_unit_read_grids_unit_hash"),
)


summaries = sa.Table(
    "summaries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("period", sa.Date, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    # Every run of a period produces a version (1, 2, ...).
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    # Hash of the figures and statuses: equal hashes mean nothing to correct.
    sa.Column("figures_hash", sa.String(64), nullable=False, server_default=""),
    # What the summary was built from, so that a replay builds the same one.
    sa.Column("max_read_id", sa.Integer, nullable=False, server_default="0"),
    sa.Column("previous_summary_id", sa.Integer),
    sa.UniqueConstraint("period", "run_id", name="uq_summaries_period_run"),
    sa.UniqueConstraint("period", "version", name="uq_summaries_period_version"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("period", sa.Date, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # report | correction
    sa.Column("recipients_key", sa.String(64), nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    # The version last delivered to these recipients when this one was claimed (0: none).
    sa.Column("supersedes", sa.Integer, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),  # sending | sent | failed
    sa.Column("message_id", sa.String(250), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    # What the message said, for kinds that must not repeat themselves (feedback).
    sa.Column("content_hash", sa.String(64), nullable=False, server_default=""),
    sa.Index("ix_deliveries_period", "period", "recipients_key"),
    sa.Index(
        "uq_deliveries_active",
        "period",
        "recipients_key",
        "supersedes",
        unique=True,
        sqlite_where=sa.text("state IN ('sending', 'sent')"),
        postgresql_where=sa.text("state IN ('sending', 'sent')"),
    ),
)


# The units' pre-check (migration 0006): a row per unit checked; `checked_at` is when its
# feedback was written (after the read), the time its sheet's changes are compared with.
precheck_checks = sa.Table(
    "precheck_checks",
    metadata,
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
    sa.Index("ix_precheck_checks_unit", "period", "unit_code"),
)
