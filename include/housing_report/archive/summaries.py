"""The archive of summaries: every version of every period's summary, and what the forecast,
the charts and the monthly praise read of the earlier ones (a part of `ReportStore`)."""

from __future__ import annotations

import datetime as dt

import msgspec
import sqlalchemy as sa

from housing_report.archive.records import StoreError, SummaryRow, aware
from housing_report.archive.schema import summaries
from housing_report.core.summary import HistoryPoint, Summary, decode_summary

# What `history` reads of each earlier summary (besides the lists of the month's periods).
_HISTORY_KEYS = ("period", "houses", "completion_percent", "totals", "districts")
# The summary column as its text, decoded into a `Summary` here (not into dicts by the engine).
_SUMMARY_TEXT = sa.cast(summaries.c.summary, sa.Text).label("summary_text")


class SummaryArchive:
    """The summaries' queries (a part of `ReportStore`)."""

    engine: sa.engine.Engine

    # -- summaries and versions

    def save_summary(
        self,
        period: dt.date,
        run_id: str,
        summary: Summary,
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
                        values["summary"] = msgspec.structs.replace(summary, version=existing.version)
                        conn.execute(summaries.update().where(summaries.c.id == existing.id).values(**values))
                        return existing.version
                    latest = conn.execute(
                        sa.select(sa.func.max(summaries.c.version)).where(summaries.c.period == period)
                    ).scalar()
                    version = int(latest or 0) + 1
                    values["summary"] = msgspec.structs.replace(summary, version=version)
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

    def history(self, before: dt.date, limit: int = 48) -> list[HistoryPoint]:
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
                # A district's other fields are left out by `HistoryDistrict`.
                item = {key: row._mapping[key] for key in (*_HISTORY_KEYS, "lists")}
                out.append(msgspec.convert({k: v for k, v in item.items() if v is not None}, HistoryPoint))
        return out[::-1]

    def summary(self, period: dt.date, run_id: str) -> Summary | None:
        row = self.summary_row(period, run_id)
        return row.summary if row else None

    def _summary_where(self, *conditions, order=None) -> SummaryRow | None:
        columns = [c for c in summaries.c if c.name != "summary"]
        query = sa.select(*columns, _SUMMARY_TEXT).where(*conditions)
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
            created_at=aware(row.created_at),
            summary=decode_summary(row.summary_text),
            figures_hash=row.figures_hash,
            max_read_id=row.max_read_id,
            previous_summary_id=row.previous_summary_id,
        )
