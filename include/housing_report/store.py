"""The report database: every read of every unit, and every period's summary.

SQLAlchemy Core over any database SQLAlchemy speaks (SQLite by default,
PostgreSQL in production). Tasks hand data to each other through it: the fetch
tasks write reads, the aggregation reads them back, so tasks may run on different
workers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from housing_report.models import ACCEPTED, FetchResult, Finding, UnitReport

SCHEMA_VERSION = 1

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
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("content_hash", sa.String(64)),
    sa.Column("grid", sa.JSON),
    sa.Column("period_found", sa.Date),
    sa.Column("figures", sa.JSON, nullable=False),
    sa.Column("findings", sa.JSON, nullable=False),
    sa.Column("lists", sa.JSON, nullable=False),
    sa.Column("info", sa.JSON, nullable=False),
    sa.Index("ix_unit_reads_run", "period", "run_id"),
    sa.Index("ix_unit_reads_unit_status", "unit_code", "status", "period"),
)

summaries = sa.Table(
    "summaries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("period", sa.Date, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.UniqueConstraint("period", "run_id", name="uq_summaries_period_run"),
)

# Everything but the raw grid, which only an audit or a replay needs.
_READ_COLUMNS = [c for c in unit_reads.c if c.name != "grid"]

schema_info = sa.Table(
    "schema_info",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)


class StoreError(RuntimeError):
    """The report database cannot be used (missing, corrupt, unreachable)."""


@dataclass
class StoredRead:
    unit_code: str
    period: dt.date
    run_id: str
    status: str
    reason: str
    read_at: dt.datetime
    spreadsheet: str
    worksheet: str
    figures: dict[str, Any]
    findings: list[dict[str, str]]
    lists: dict[str, list[dict[str, str]]]
    info: dict[str, str]


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


class ReportStore:
    def __init__(self, url: str):
        self.url = url
        kwargs: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            database = sa.engine.make_url(url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = sa.create_engine(url, **kwargs)

    # -- schema

    def ensure_schema(self) -> None:
        """Create the tables when absent; refuse a database that is not ours or is corrupt."""
        try:
            with self.engine.begin() as conn:
                metadata.create_all(conn, checkfirst=True)
                version = conn.execute(sa.select(schema_info.c.version)).scalar()
                if version is None:
                    conn.execute(schema_info.insert().values(id=1, version=SCHEMA_VERSION))
                elif version > SCHEMA_VERSION:
                    raise StoreError(
                        f"Cơ sở dữ liệu báo cáo có phiên bản lược đồ {version}, mới hơn phiên bản mã "
                        f"nguồn ({SCHEMA_VERSION}); hãy cập nhật mã nguồn."
                    )
        except sa.exc.DatabaseError as exc:
            raise StoreError(
                f"Không dùng được cơ sở dữ liệu báo cáo ({self.safe_url}): {exc.orig!s}"
            ) from exc

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    # -- writes

    def save_reads(
        self,
        period: dt.date,
        run_id: str,
        rows: Iterable[tuple[FetchResult, UnitReport | None, str, str]],
    ) -> int:
        """Store reads: (fetch result, parsed report or None, spreadsheet, worksheet)."""
        values = []
        for fetched, report, spreadsheet, worksheet in rows:
            grid = fetched.grid
            values.append(
                dict(
                    period=period,
                    run_id=run_id,
                    unit_code=fetched.unit_code,
                    spreadsheet=spreadsheet,
                    worksheet=worksheet,
                    status=report.status if report else fetched.status,
                    reason=fetched.reason,
                    read_at=fetched.read_at,
                    content_hash=grid.content_hash() if grid else None,
                    grid=grid.to_json() if grid else None,
                    period_found=report.period_found if report else None,
                    figures=report.figures if report else {},
                    findings=[_finding_json(f) for f in report.findings] if report else [],
                    lists=report.lists if report else {},
                    info=report.info if report else {},
                )
            )
        if values:
            with self.engine.begin() as conn:
                conn.execute(unit_reads.insert(), values)
        return len(values)

    def save_summary(self, period: dt.date, run_id: str, summary: dict[str, Any]) -> None:
        now = dt.datetime.now(dt.UTC)
        payload = json.loads(json.dumps(summary, ensure_ascii=False))
        with self.engine.begin() as conn:
            updated = conn.execute(
                summaries.update()
                .where(summaries.c.period == period, summaries.c.run_id == run_id)
                .values(summary=payload, created_at=now)
            ).rowcount
            if not updated:
                conn.execute(
                    summaries.insert().values(period=period, run_id=run_id, created_at=now, summary=payload)
                )

    # -- reads

    def latest_reads(self, period: dt.date, run_id: str, unit_codes: Sequence[str]) -> dict[str, StoredRead]:
        """The latest read of each unit in this run (a retried task reads again)."""
        ranked = (
            sa.select(
                *_READ_COLUMNS,
                sa.func.row_number()
                .over(partition_by=unit_reads.c.unit_code, order_by=unit_reads.c.id.desc())
                .label("rank"),
            )
            .where(unit_reads.c.period == period, unit_reads.c.run_id == run_id)
            .subquery()
        )
        query = sa.select(ranked).where(ranked.c.rank == 1)
        wanted = set(unit_codes)
        with self.engine.connect() as conn:
            return {row.unit_code: _stored(row) for row in conn.execute(query) if row.unit_code in wanted}

    def last_accepted(self, period: dt.date, run_id: str, unit_codes: Sequence[str]) -> dict[str, StoredRead]:
        """Each unit's last accepted read for this period (earlier runs) or before it."""
        ranked = (
            sa.select(
                *_READ_COLUMNS,
                sa.func.row_number()
                .over(
                    partition_by=unit_reads.c.unit_code,
                    order_by=(unit_reads.c.period.desc(), unit_reads.c.id.desc()),
                )
                .label("rank"),
            )
            .where(
                unit_reads.c.status == ACCEPTED,
                unit_reads.c.period <= period,
                unit_reads.c.run_id != run_id,
            )
            .subquery()
        )
        query = sa.select(ranked).where(ranked.c.rank == 1)
        wanted = set(unit_codes)
        with self.engine.connect() as conn:
            return {row.unit_code: _stored(row) for row in conn.execute(query) if row.unit_code in wanted}

    def previous_summary(self, period: dt.date) -> dict[str, Any] | None:
        """The latest summary of the latest period before `period`."""
        query = (
            sa.select(summaries.c.summary)
            .where(summaries.c.period < period)
            .order_by(summaries.c.period.desc(), summaries.c.created_at.desc(), summaries.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def summary(self, period: dt.date, run_id: str) -> dict[str, Any] | None:
        query = sa.select(summaries.c.summary).where(
            summaries.c.period == period, summaries.c.run_id == run_id
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive datetimes; everything stored is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _finding_json(finding: Finding) -> dict[str, str]:
    return {"severity": finding.severity, **finding.to_dict()}


def _stored(row: Any) -> StoredRead:
    return StoredRead(
        unit_code=row.unit_code,
        period=row.period,
        run_id=row.run_id,
        status=row.status,
        reason=row.reason or "",
        read_at=_aware(row.read_at),
        spreadsheet=row.spreadsheet,
        worksheet=row.worksheet,
        figures=row.figures or {},
        findings=row.findings or [],
        lists=row.lists or {},
        info=row.info or {},
    )
