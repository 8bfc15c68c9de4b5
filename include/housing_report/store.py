"""The report database: every read of every unit, every version of a period's
summary, and the delivery log.

SQLAlchemy Core over SQLite (the default) or PostgreSQL (production). Tasks hand
data to each other through it: the fetch tasks write reads, the aggregation reads
them back, so tasks may run on different workers. The schema is versioned with
Alembic (`migrations/`); `ensure_schema()` upgrades a deployed database in place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite

from housing_report.models import ACCEPTED, FetchResult, Finding, Grid, RawJSON, UnitReport, dump_json

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "report_db_version"
# Serialises schema upgrades between workers on PostgreSQL (an arbitrary, fixed key).
_PG_MIGRATION_LOCK = 740_412_025

SENDING, SENT, FAILED = "sending", "sent", "failed"
# What `history` reads of each earlier summary (besides the lists of the month's periods).
_HISTORY_KEYS = ("period", "houses", "completion_percent", "totals", "districts")
_DISTRICT_KEYS = ("code", "completed", "needed")
# Unit codes per query when filtering by unit (well under SQLite's limit on bound parameters).
_CODES_PER_QUERY = 500

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


class StoreError(RuntimeError):
    """The report database cannot be used (missing, corrupt, unreachable)."""


class DeliveryConflict(RuntimeError):
    """Another delivery of this period to these recipients holds the claim."""

    def __init__(self, existing: DeliveryRow | None):
        self.existing = existing
        if existing is None:
            text = "Một lần gửi khác của kỳ này vừa nhận quyền gửi."
        else:
            text = (
                f"Lần chạy {existing.run_id} {'đang gửi' if existing.state == SENDING else 'đã gửi'} "
                f"phiên bản {existing.version} của kỳ {existing.period:%d/%m/%Y} "
                f"(Message-ID {existing.message_id})."
            )
        super().__init__(text)


@dataclass
class StoredRead:
    id: int
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
    cells: dict[str, str] | None = None


@dataclass
class SummaryRow:
    id: int
    period: dt.date
    run_id: str
    version: int
    created_at: dt.datetime
    summary: dict[str, Any]
    figures_hash: str
    max_read_id: int
    previous_summary_id: int | None


@dataclass
class DeliveryRow:
    id: int
    period: dt.date
    version: int
    run_id: str
    kind: str
    recipients: list[str]
    supersedes: int
    state: str
    message_id: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    detail: str
    content_hash: str = ""


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def check_archive_present(database: Path, output_dir: Path) -> None:
    """Refuse to start an empty SQLite archive where reports were already produced.

    Without this, a deleted `reports.sqlite` would silently become an empty history: every
    unit would lose its carried-forward figures and every delivered period would be sent again.
    """
    if database.exists():
        return
    produced = sorted(p.parent.name for p in Path(output_dir).glob("[0-9][0-9][0-9][0-9]-*/summary.json"))
    if produced:
        raise StoreError(
            f"Không tìm thấy cơ sở dữ liệu báo cáo {database}, nhưng {output_dir} đã có báo cáo các kỳ "
            f"{', '.join(produced)}. Hãy khôi phục tệp từ bản sao lưu. Nếu thật sự muốn bắt đầu lại lịch "
            "sử (mọi kỳ đã gửi sẽ có thể bị gửi lại), hãy chuyển các thư mục kỳ cũ đi nơi khác trước."
        )


def recipients_key(addresses: Iterable[str]) -> str:
    """A stable key for a list of recipients (order and case do not matter)."""
    normalised = sorted({a.strip().lower() for a in addresses})
    return hashlib.sha256("\n".join(normalised).encode("utf-8")).hexdigest()


class ReportStore:
    def __init__(self, url: str):
        self.url = url
        # JSON columns: a grid's date cells are written as {"date": iso} by the encoder itself.
        kwargs: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}
        sqlite_file = None
        if url.startswith("sqlite"):
            database = sa.engine.make_url(url).database
            if database and database != ":memory:":
                sqlite_file = Path(database)
                sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = sa.create_engine(url, **kwargs)
        if sqlite_file is not None:
            sa.event.listen(self.engine, "connect", _write_ahead_log)

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    # -- schema

    def ensure_schema(self) -> str:
        """Upgrade the database to the latest schema (Alembic); returns the revision.

        A database that is corrupt, unreachable, or newer than this code is a StoreError.
        """
        from alembic import command
        from alembic.config import Config as AlembicConfig
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        script = ScriptDirectory.from_config(cfg)
        head = script.get_current_head()
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                current = MigrationContext.configure(
                    conn, opts={"version_table": VERSION_TABLE}
                ).get_current_revision()
                if current == head:
                    return head
                if current is not None and current not in {r.revision for r in script.walk_revisions()}:
                    raise StoreError(
                        f"Cơ sở dữ liệu báo cáo ({self.safe_url}) ở phiên bản lược đồ {current}, mới hơn mã "
                        "nguồn đang chạy; hãy cập nhật mã nguồn."
                    )
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except sa.exc.DatabaseError as exc:
            raise StoreError(
                f"Không dùng được cơ sở dữ liệu báo cáo ({self.safe_url}): {exc.orig!s}. "
                "Hãy khôi phục tệp từ bản sao lưu; không xóa để tạo mới, vì sẽ mất lịch sử báo cáo."
            ) from exc
        return head

    # -- reads

    def save_reads(
        self,
        period: dt.date,
        run_id: str,
        rows: Iterable[tuple[FetchResult, UnitReport | None, str, str]],
    ) -> int:
        """Store reads: (fetch result, parsed report or None, spreadsheet, worksheet)."""
        values: list[dict[str, Any]] = []
        grids: dict[tuple[str, str], RawJSON] = {}  # (unit code, content hash) -> the grid's JSON
        for fetched, report, spreadsheet, worksheet in rows:
            content_hash = None
            if fetched.grid is not None:
                content_hash, grid = fetched.grid.encoded()
                grids[(fetched.unit_code, content_hash)] = grid
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
                    content_hash=content_hash,
                    period_found=report.period_found if report else None,
                    figures=report.figures if report else {},
                    findings=[_finding_json(f) for f in report.findings] if report else [],
                    lists=report.lists if report else {},
                    info=report.info if report else {},
                    cells=report.cells if report else {},
                )
            )
        if values:
            with self.engine.begin() as conn:
                conn.execute(unit_reads.insert(), values)
                self._save_grids(conn, grids)
        return len(values)

    def _save_grids(self, conn, grids: dict[tuple[str, str], RawJSON]) -> None:
        """Store the grids not stored yet: one per unit and content (a sheet read unchanged
        again is not stored again; two runs storing it at once, the second insert is a no-op)."""
        if not grids:
            return
        rows = [{"unit_code": unit, "content_hash": h, "grid": grid} for (unit, h), grid in grids.items()]
        # The two databases the store runs on (SQLite, PostgreSQL) say it the same way.
        dialect = sa.dialects.postgresql if conn.dialect.name == "postgresql" else sa.dialects.sqlite
        insert = dialect.insert(unit_read_grids).on_conflict_do_nothing(
            index_elements=["unit_code", "content_hash"]
        )
        conn.execute(insert, rows)

    def read_grid(self, read_id: int) -> Grid | None:
        """The worksheet as it was read (for an audit), or None when the read had none."""
        query = (
            sa.select(unit_reads.c.worksheet, unit_read_grids.c.grid)
            .join(
                unit_read_grids,
                sa.and_(
                    unit_read_grids.c.unit_code == unit_reads.c.unit_code,
                    unit_read_grids.c.content_hash == unit_reads.c.content_hash,
                ),
            )
            .where(unit_reads.c.id == read_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return Grid.from_json(row.worksheet, row.grid) if row else None

    def max_read_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(unit_reads.c.id))).scalar() or 0)

    def has_history(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(summaries.c.id).limit(1)).first() is not None

    def latest_reads(
        self, period: dt.date, run_id: str, unit_codes: Sequence[str], max_read_id: int | None = None
    ) -> dict[str, StoredRead]:
        """The latest read of each unit in this run (a retried task reads again)."""
        conditions = [unit_reads.c.period == period, unit_reads.c.run_id == run_id]
        if max_read_id is not None:
            conditions.append(unit_reads.c.id <= max_read_id)
        return self._first_per_unit(conditions, unit_codes, latest_period=False)

    def last_accepted(
        self, period: dt.date, run_id: str, unit_codes: Sequence[str], max_read_id: int | None = None
    ) -> dict[str, StoredRead]:
        """Each unit's last accepted read for this period (earlier runs) or before it."""
        conditions = [
            unit_reads.c.status == ACCEPTED,
            unit_reads.c.period <= period,
            unit_reads.c.run_id != run_id,
        ]
        if max_read_id is not None:
            conditions.append(unit_reads.c.id <= max_read_id)
        return self._first_per_unit(conditions, unit_codes, latest_period=True)

    def last_figures_before(
        self, period: dt.date, unit_codes: Sequence[str], max_read_id: int | None = None
    ) -> dict[str, tuple[dt.date, dict[str, Any]]]:
        """Each unit's last accepted figures of an earlier period, with that period (what the
        history rules and the outliers compare with)."""
        conditions = [unit_reads.c.status == ACCEPTED, unit_reads.c.period < period]
        if max_read_id is not None:
            conditions.append(unit_reads.c.id <= max_read_id)
        rows = self._last_rows(
            (unit_reads.c.unit_code, unit_reads.c.period, unit_reads.c.figures),
            conditions,
            unit_codes,
            latest_period=True,
        )
        return {row.unit_code: (row.period, row.figures or {}) for row in rows}

    def figures_history(
        self,
        since: dt.date,
        before: dt.date,
        unit_codes: Sequence[str],
        keys: Sequence[str],
        max_read_id: int | None = None,
    ) -> list[tuple[str, dt.date, tuple[float | None, ...]]]:
        """Each unit's last accepted read of every period from `since` to before `before`:
        (unit code, period, the figures `keys` in order, None where absent), by unit then period.

        The figures are picked out of the JSON by the database (SQLite's `JSON_EXTRACT`,
        PostgreSQL's `->>`), so that a dozen periods of thousands of units are not decoded whole."""
        conditions = [
            unit_reads.c.status == ACCEPTED,
            unit_reads.c.period >= since,
            unit_reads.c.period < before,
        ]
        if max_read_id is not None:
            conditions.append(unit_reads.c.id <= max_read_id)
        picked = [unit_reads.c.figures[key].as_float().label(f"v{i}") for i, key in enumerate(keys)]
        # The last read of each unit and period: the highest id (cheaper than a window here).
        codes = list(dict.fromkeys(unit_codes))
        rows: list[Any] = []
        with self.engine.connect() as conn:
            for start in range(0, len(codes), _CODES_PER_QUERY):
                chunk = codes[start : start + _CODES_PER_QUERY]
                last = (
                    sa.select(sa.func.max(unit_reads.c.id).label("id"))
                    .where(*conditions, unit_reads.c.unit_code.in_(chunk))
                    .group_by(unit_reads.c.unit_code, unit_reads.c.period)
                    .subquery()
                )
                query = sa.select(unit_reads.c.unit_code, unit_reads.c.period, *picked).join(
                    last, last.c.id == unit_reads.c.id
                )
                rows += conn.execute(query).all()
        out = [(row[0], row[1], tuple(row[2:])) for row in rows]
        out.sort(key=lambda r: (r[0], r[1]))
        return out

    def read_statuses(
        self, periods: Sequence[dt.date], max_read_id: int | None = None
    ) -> list[tuple[dt.date, str, str, str, int]]:
        """(period, run_id, unit_code, status, id) of every read of these periods, by id."""
        query = sa.select(
            unit_reads.c.period,
            unit_reads.c.run_id,
            unit_reads.c.unit_code,
            unit_reads.c.status,
            unit_reads.c.id,
        ).where(unit_reads.c.period.in_(list(periods)))
        if max_read_id is not None:
            query = query.where(unit_reads.c.id <= max_read_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query.order_by(unit_reads.c.id)).all())  # rows unpack as tuples

    def _first_per_unit(
        self, conditions, unit_codes: Sequence[str], *, latest_period: bool
    ) -> dict[str, StoredRead]:
        rows = self._last_rows(unit_reads.c, conditions, unit_codes, latest_period=latest_period)
        return {row.unit_code: _stored(row) for row in rows}

    def _last_rows(self, columns, conditions, unit_codes: Sequence[str], *, latest_period: bool) -> list[Any]:
        """Each unit's last read meeting `conditions`: the highest id, or with `latest_period` the
        highest id of its latest period. The database finds the ids from its index first, then
        fetches `columns` of those rows only (a window function would sort whole rows, JSON and
        all); the units are filtered in SQL, in chunks, so a batch reads only its own history."""
        codes = list(dict.fromkeys(unit_codes))
        out: list[Any] = []
        with self.engine.connect() as conn:
            for start in range(0, len(codes), _CODES_PER_QUERY):
                chunk = unit_reads.c.unit_code.in_(codes[start : start + _CODES_PER_QUERY])
                last_id = sa.select(sa.func.max(unit_reads.c.id).label("id"))
                if latest_period:
                    periods = (
                        sa.select(
                            unit_reads.c.unit_code, sa.func.max(unit_reads.c.period).label("last_period")
                        )
                        .where(*conditions, chunk)
                        .group_by(unit_reads.c.unit_code)
                        .subquery("last_periods")
                    )
                    last_id = last_id.join(
                        periods,
                        sa.and_(
                            unit_reads.c.unit_code == periods.c.unit_code,
                            unit_reads.c.period == periods.c.last_period,
                        ),
                    )
                ids = last_id.where(*conditions, chunk).group_by(unit_reads.c.unit_code).subquery("last_ids")
                query = sa.select(*columns).select_from(unit_reads.join(ids, ids.c.id == unit_reads.c.id))
                out += conn.execute(query).all()
        return out

    # -- summaries and versions

    def save_summary(
        self,
        period: dt.date,
        run_id: str,
        summary: dict[str, Any],
        *,
        figures_hash: str,
        max_read_id: int,
        previous_summary_id: int | None,
    ) -> int:
        """Store this run's summary as the period's next version; a retried task keeps its version."""
        now = dt.datetime.now(dt.UTC)
        values = dict(
            summary=summary,
            created_at=now,
            figures_hash=figures_hash,
            max_read_id=max_read_id,
            previous_summary_id=previous_summary_id,
        )
        for _attempt in range(5):
            # Its id and version only: the stored summary itself may be megabytes.
            with self.engine.connect() as conn:
                existing = conn.execute(
                    sa.select(summaries.c.id, summaries.c.version).where(
                        summaries.c.period == period, summaries.c.run_id == run_id
                    )
                ).first()
            try:
                with self.engine.begin() as conn:
                    if existing is not None:
                        values["summary"] = {**summary, "version": existing.version}
                        conn.execute(summaries.update().where(summaries.c.id == existing.id).values(**values))
                        return existing.version
                    latest = conn.execute(
                        sa.select(sa.func.max(summaries.c.version)).where(summaries.c.period == period)
                    ).scalar()
                    version = int(latest or 0) + 1
                    values["summary"] = {**summary, "version": version}
                    conn.execute(
                        summaries.insert().values(period=period, run_id=run_id, version=version, **values)
                    )
                    return version
            except sa.exc.IntegrityError:
                continue  # another run took that version number at the same moment: take the next
        raise StoreError(f"Không lưu được bản tổng hợp kỳ {period:%d/%m/%Y} sau nhiều lần thử.")

    def summary_row(self, period: dt.date, run_id: str) -> SummaryRow | None:
        return self._summary_where(summaries.c.period == period, summaries.c.run_id == run_id)

    def summary_version(self, period: dt.date, version: int | None = None) -> SummaryRow | None:
        """A version of the period's summary; the latest when `version` is None."""
        if version is not None:
            return self._summary_where(summaries.c.period == period, summaries.c.version == version)
        return self._summary_where(summaries.c.period == period, order=summaries.c.version.desc())

    def summary_by_id(self, summary_id: int) -> SummaryRow | None:
        return self._summary_where(summaries.c.id == summary_id)

    def previous_summary(self, period: dt.date) -> SummaryRow | None:
        """The latest version of the latest period before `period`."""
        return self._summary_where(
            summaries.c.period < period, order=(summaries.c.period.desc(), summaries.c.version.desc())
        )

    def history(self, before: dt.date, limit: int = 48) -> list[dict[str, Any]]:
        """What the charts, the forecast and the monthly praise of the official report read of the
        latest version of each period before `before`, oldest first (at most `limit` periods).

        Not the whole summaries (at national scale, megabytes each): `period`, `houses`,
        `completion_percent`, `totals`, each district's `code`, `completed` and `needed`, and,
        for the periods of `before`'s month only, the `lists` (picked out by the database)."""
        latest = (
            sa.select(summaries.c.period, sa.func.max(summaries.c.version).label("version"))
            .where(summaries.c.period < before)
            .group_by(summaries.c.period)
            .subquery()
        )
        month = before.replace(day=1)
        query = (
            sa.select(
                summaries.c.period.label("day"),
                *(summaries.c.summary[key].label(key) for key in _HISTORY_KEYS),
                sa.case((summaries.c.period >= month, summaries.c.summary["lists"])).label("lists"),
            )
            .join(
                latest,
                sa.and_(summaries.c.period == latest.c.period, summaries.c.version == latest.c.version),
            )
            .order_by(summaries.c.period.desc())
            .limit(limit)
        )
        out = []
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                item = {key: row._mapping[key] for key in _HISTORY_KEYS if row._mapping[key] is not None}
                districts = item.get("districts") or []
                item["districts"] = [{k: d.get(k) for k in _DISTRICT_KEYS} for d in districts]
                if row.lists is not None:
                    item["lists"] = row.lists
                out.append(item)
        return out[::-1]

    def summary(self, period: dt.date, run_id: str) -> dict[str, Any] | None:
        row = self.summary_row(period, run_id)
        return row.summary if row else None

    def _summary_where(self, *conditions, order=None) -> SummaryRow | None:
        query = sa.select(summaries).where(*conditions)
        if order is not None:
            query = query.order_by(*(order if isinstance(order, tuple) else (order,)))
        with self.engine.connect() as conn:
            row = conn.execute(query.limit(1)).first()
        if row is None:
            return None
        return SummaryRow(
            id=row.id,
            period=row.period,
            run_id=row.run_id,
            version=row.version,
            created_at=_aware(row.created_at),
            summary=row.summary,
            figures_hash=row.figures_hash,
            max_read_id=row.max_read_id,
            previous_summary_id=row.previous_summary_id,
        )

    # -- delivery log

    def last_sent(self, period: dt.date, key: str) -> DeliveryRow | None:
        return self._delivery_where(
            deliveries.c.period == period, deliveries.c.recipients_key == key, deliveries.c.state == SENT
        )

    def in_flight(self, period: dt.date, key: str) -> DeliveryRow | None:
        return self._delivery_where(
            deliveries.c.period == period, deliveries.c.recipients_key == key, deliveries.c.state == SENDING
        )

    def claim_delivery(
        self,
        *,
        period: dt.date,
        version: int,
        run_id: str,
        kind: str,
        recipients: Sequence[str],
        supersedes: int,
        message_id: str,
        key: str | None = None,
        content_hash: str = "",
    ) -> int:
        """Record that this version is being sent; the database refuses a second claim.

        `key` defaults to `recipients_key(recipients)`; messages of another kind (a unit's
        feedback) pass their own, so that their log never mixes with the report's.
        """
        key = key or recipients_key(recipients)
        try:
            with self.engine.begin() as conn:
                return int(
                    conn.execute(
                        deliveries.insert()
                        .values(
                            period=period,
                            version=version,
                            run_id=run_id,
                            kind=kind,
                            recipients_key=key,
                            recipients=sorted(recipients),
                            supersedes=supersedes,
                            state=SENDING,
                            message_id=message_id,
                            started_at=dt.datetime.now(dt.UTC),
                            detail="",
                            content_hash=content_hash,
                        )
                        .returning(deliveries.c.id)
                    ).scalar_one()
                )
        except sa.exc.IntegrityError as exc:
            holder = self._delivery_where(
                deliveries.c.period == period,
                deliveries.c.recipients_key == key,
                deliveries.c.supersedes == supersedes,
                deliveries.c.state.in_((SENDING, SENT)),
            )
            raise DeliveryConflict(holder) from exc

    def finish_delivery(self, delivery_id: int, state: str, detail: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id)
                .values(state=state, detail=detail, finished_at=dt.datetime.now(dt.UTC))
            )

    def deliveries(self, period: dt.date | None = None) -> list[DeliveryRow]:
        query = sa.select(deliveries).order_by(deliveries.c.id)
        if period is not None:
            query = query.where(deliveries.c.period == period)
        with self.engine.connect() as conn:
            return [_delivery(row) for row in conn.execute(query)]

    def _delivery_where(self, *conditions) -> DeliveryRow | None:
        query = sa.select(deliveries).where(*conditions).order_by(deliveries.c.id.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _delivery(row) if row else None

    # -- read-only views (the admins' page in the Airflow UI): one query per table

    def recent_periods(self, limit: int = 6) -> list[PeriodVersions]:
        """The latest periods read or summarised, newest first, with their latest version."""
        with self.engine.connect() as conn:
            read = {
                row.period
                for row in conn.execute(
                    sa.select(unit_reads.c.period)
                    .distinct()
                    .order_by(unit_reads.c.period.desc())
                    .limit(limit)
                )
            }
            versions = {
                row.period: PeriodVersions(row.period, int(row.version), _aware(row.created_at))
                for row in conn.execute(
                    sa.select(
                        summaries.c.period,
                        sa.func.max(summaries.c.version).label("version"),
                        sa.func.max(summaries.c.created_at).label("created_at"),
                    )
                    .group_by(summaries.c.period)
                    .order_by(summaries.c.period.desc())
                    .limit(limit)
                )
            }
        periods = sorted(read | set(versions), reverse=True)[:limit]
        return [versions.get(p, PeriodVersions(p, 0, None)) for p in periods]

    def period_reads(self, period: dt.date) -> dict[str, UnitReadStatus]:
        """Each unit's latest read of the period, over all runs (no grid, no figures)."""
        ranked = (
            sa.select(
                unit_reads.c.unit_code,
                unit_reads.c.status,
                unit_reads.c.reason,
                unit_reads.c.read_at,
                unit_reads.c.run_id,
                unit_reads.c.spreadsheet,
                unit_reads.c.findings,
                sa.func.row_number()
                .over(partition_by=unit_reads.c.unit_code, order_by=unit_reads.c.id.desc())
                .label("rank"),
            )
            .where(unit_reads.c.period == period)
            .subquery()
        )
        with self.engine.connect() as conn:
            return {
                row.unit_code: UnitReadStatus(
                    unit_code=row.unit_code,
                    status=row.status,
                    reason=row.reason or "",
                    read_at=_aware(row.read_at),
                    run_id=row.run_id,
                    spreadsheet=row.spreadsheet,
                    errors=sum(1 for f in row.findings or [] if f.get("severity") == "error"),
                    warnings=sum(1 for f in row.findings or [] if f.get("severity") != "error"),
                )
                for row in conn.execute(sa.select(ranked).where(ranked.c.rank == 1))
            }

    def deliveries_of(self, periods: Sequence[dt.date]) -> list[DeliveryRow]:
        """The delivery log of these periods, newest first."""
        if not periods:
            return []
        query = (
            sa.select(deliveries)
            .where(deliveries.c.period.in_(list(periods)))
            .order_by(deliveries.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [_delivery(row) for row in conn.execute(query)]


@dataclass
class PeriodVersions:
    period: dt.date
    version: int  # 0: read, not summarised yet
    created_at: dt.datetime | None


@dataclass
class UnitReadStatus:
    unit_code: str
    status: str
    reason: str
    read_at: dt.datetime
    run_id: str
    spreadsheet: str
    errors: int
    warnings: int


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive datetimes; everything stored is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    """SQLite in write-ahead-log mode: a commit writes the new pages once (a rollback journal
    copies the old ones first, and syncs twice), and readers do not wait for a writer. Still
    synchronous=FULL: a committed read survives a power cut."""
    dbapi_connection.execute("PRAGMA journal_mode=WAL")


def _json_dumps(value: Any) -> str:
    """The JSON columns, encoded: a grid comes encoded already (`Grid.encoded`, its dates as
    `encode_cell` writes them); the other columns hold JSON's own types only, which msgspec
    encodes in a quarter of `dump_json`'s time, to the same values when read back (what it
    refuses, by `dump_json`; a non-finite float, which no sheet holds, it writes as null)."""
    if value.__class__ is RawJSON:
        return value
    try:
        return _JSON_ENCODER.encode(value).decode()
    except (msgspec.EncodeError, TypeError, OverflowError):
        return dump_json(value)


_JSON_ENCODER = msgspec.json.Encoder()
_JSON_DECODER = msgspec.json.Decoder()


def _json_loads(text: str | bytes) -> Any:
    """The JSON columns, decoded (msgspec: a read's five columns, for thousands of reads, in a
    third of `json.loads`'s time); what it refuses (`NaN`, written by `json.dumps`) by `json`."""
    try:
        return _JSON_DECODER.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


def _finding_json(finding: Finding) -> dict[str, str]:
    return {"severity": finding.severity, **finding.to_dict()}


def _stored(row: Any) -> StoredRead:
    return StoredRead(
        id=row.id,
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
        cells=row.cells,
    )


def _delivery(row: Any) -> DeliveryRow:
    return DeliveryRow(
        id=row.id,
        period=row.period,
        version=row.version,
        run_id=row.run_id,
        kind=row.kind,
        recipients=list(row.recipients or []),
        supersedes=row.supersedes,
        state=row.state,
        message_id=row.message_id,
        started_at=_aware(row.started_at),
        finished_at=_aware(row.finished_at),
        detail=row.detail or "",
        content_hash=row.content_hash or "",
    )
