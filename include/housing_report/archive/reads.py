"""The archive of reads: every read of every unit's worksheet (its cells, figures and findings),
and what the later steps ask of them (a part of `ReportStore`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite

from housing_report.archive.records import (
    PeriodVersions,
    StoredRead,
    UnitReadStatus,
    aware,
    finding_json,
    stored,
)
from housing_report.archive.schema import summaries, unit_read_grids, unit_reads
from housing_report.core.models import FetchResult, Grid, RawJSON, UnitReport
from housing_report.core.statuses import ACCEPTED

# Unit codes per query when filtering by unit (well under SQLite's limit on bound parameters).
_CODES_PER_QUERY = 500
# The run id under which a pre-check's reads are stored (`precheck:<Airflow run id>`): stored like
# any other read, but never what the report carries forward, compares with or counts as a run
# of the period (a pre-check reads only the sheets changed since its last check).
PRECHECK_RUN_PREFIX = "precheck:"


def report_runs() -> sa.ColumnElement[bool]:
    """The reads of the report's runs (not a pre-check's)."""
    return sa.not_(unit_reads.c.run_id.startswith(PRECHECK_RUN_PREFIX, autoescape=True))


class ReadArchive:
    """The reads' queries (a part of `ReportStore`)."""

    engine: sa.engine.Engine

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
                    findings=[finding_json(f) for f in report.findings] if report else [],
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

    def last_period_reads(self, period: dt.date, unit_codes: Sequence[str]) -> dict[str, StoredRead]:
        """Each unit's latest read of `period`, by any run (a pre-check's or the report's)."""
        return self._first_per_unit([unit_reads.c.period == period], unit_codes, latest_period=False)

    def reuse_reads(self, run_id: str, read_ids: Sequence[int]) -> int:
        """Store these reads again as reads of `run_id`, as they were (a sheet unchanged since it
        was read is not read again): same period, cells, status, findings and time of reading."""
        if not read_ids:
            return 0
        copied = [c for c in unit_reads.c if c.name not in ("id", "run_id")]
        select = (
            sa.select(*copied, sa.literal(run_id, sa.String(250)).label("run_id"))
            .where(unit_reads.c.id.in_(list(read_ids)))
            .order_by(unit_reads.c.id)
        )
        with self.engine.begin() as conn:
            result = conn.execute(
                unit_reads.insert().from_select([*(c.name for c in copied), "run_id"], select)
            )
        return int(result.rowcount or len(read_ids))

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
            report_runs(),
        ]
        if max_read_id is not None:
            conditions.append(unit_reads.c.id <= max_read_id)
        return self._first_per_unit(conditions, unit_codes, latest_period=True)

    def last_figures_before(
        self, period: dt.date, unit_codes: Sequence[str], max_read_id: int | None = None
    ) -> dict[str, tuple[dt.date, dict[str, Any]]]:
        """Each unit's last accepted figures of an earlier period, with that period (what the
        history rules and the outliers compare with)."""
        conditions = [unit_reads.c.status == ACCEPTED, unit_reads.c.period < period, report_runs()]
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
            report_runs(),
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
        ).where(unit_reads.c.period.in_(list(periods)), report_runs())
        if max_read_id is not None:
            query = query.where(unit_reads.c.id <= max_read_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query.order_by(unit_reads.c.id)).all())  # rows unpack as tuples

    def _first_per_unit(
        self, conditions, unit_codes: Sequence[str], *, latest_period: bool
    ) -> dict[str, StoredRead]:
        rows = self._last_rows(unit_reads.c, conditions, unit_codes, latest_period=latest_period)
        return {row.unit_code: stored(row) for row in rows}

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
                row.period: PeriodVersions(row.period, int(row.version), aware(row.created_at))
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
                    read_at=aware(row.read_at),
                    run_id=row.run_id,
                    spreadsheet=row.spreadsheet,
                    errors=sum(1 for f in row.findings or [] if f.get("severity") == "error"),
                    warnings=sum(1 for f in row.findings or [] if f.get("severity") != "error"),
                    findings=list(row.findings or []),
                )
                for row in conn.execute(sa.select(ranked).where(ranked.c.rank == 1))
            }

    def status_history(self, periods: Sequence[dt.date]) -> dict[str, dict[dt.date, str]]:
        """Each unit's status in each of these periods (its latest read there): one query."""
        if not periods:
            return {}
        last = (
            sa.select(sa.func.max(unit_reads.c.id).label("id"))
            .where(unit_reads.c.period.in_(list(periods)))
            .group_by(unit_reads.c.unit_code, unit_reads.c.period)
            .subquery("last_ids")
        )
        query = sa.select(unit_reads.c.unit_code, unit_reads.c.period, unit_reads.c.status).join(
            last, last.c.id == unit_reads.c.id
        )
        history: dict[str, dict[dt.date, str]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                history.setdefault(row.unit_code, {})[row.period] = row.status
        return history
