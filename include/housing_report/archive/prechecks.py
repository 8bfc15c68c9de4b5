"""The units' pre-checks (a part of `ReportStore`): a row per unit checked, with when its
feedback was written, the status and the hash of the findings it was shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from housing_report.archive.records import aware
from housing_report.archive.schema import precheck_checks

_CODES_PER_QUERY = 500


@dataclass(frozen=True)
class PrecheckRow:
    period: dt.date
    run_id: str
    unit_code: str
    spreadsheet: str
    read_id: int | None
    status: str
    findings_hash: str
    checked_at: dt.datetime
    written_to: str


class PrecheckLog:
    """The pre-checks' queries (a part of `ReportStore`)."""

    engine: sa.engine.Engine

    def save_check(
        self,
        *,
        period: dt.date,
        run_id: str,
        unit_code: str,
        spreadsheet: str,
        read_id: int | None,
        status: str,
        findings_hash: str,
        checked_at: dt.datetime,
        written_to: str,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                precheck_checks.insert().values(
                    period=period,
                    run_id=run_id,
                    unit_code=unit_code,
                    spreadsheet=spreadsheet,
                    read_id=read_id,
                    status=status,
                    findings_hash=findings_hash,
                    checked_at=checked_at,
                    written_to=written_to,
                )
            )

    def last_checks(self, period: dt.date, unit_codes: Sequence[str]) -> dict[str, PrecheckRow]:
        """Each unit's last pre-check of the period."""
        codes = list(dict.fromkeys(unit_codes))
        out: dict[str, PrecheckRow] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(codes), _CODES_PER_QUERY):
                chunk = codes[start : start + _CODES_PER_QUERY]
                last = (
                    sa.select(sa.func.max(precheck_checks.c.id).label("id"))
                    .where(precheck_checks.c.period == period, precheck_checks.c.unit_code.in_(chunk))
                    .group_by(precheck_checks.c.unit_code)
                    .subquery()
                )
                query = sa.select(precheck_checks).join(last, last.c.id == precheck_checks.c.id)
                for row in conn.execute(query):
                    out[row.unit_code] = PrecheckRow(
                        period=row.period,
                        run_id=row.run_id,
                        unit_code=row.unit_code,
                        spreadsheet=row.spreadsheet,
                        read_id=row.read_id,
                        status=row.status,
                        findings_hash=row.findings_hash,
                        checked_at=aware(row.checked_at),
                        written_to=row.written_to,
                    )
        return out
