"""What the archive gives back: reads, summaries and the pages' views, as plain records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from housing_report.core.models import Finding
from housing_report.core.summary import Summary


class StoreError(RuntimeError):
    """The report database cannot be used (missing, corrupt, unreachable)."""


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
    summary: Summary
    figures_hash: str
    max_read_id: int
    previous_summary_id: int | None


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


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives back naive datetimes; everything stored is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def finding_json(finding: Finding) -> dict[str, str]:
    return {"severity": finding.severity, **finding.to_dict()}


def stored(row: Any) -> StoredRead:
    return StoredRead(
        id=row.id,
        unit_code=row.unit_code,
        period=row.period,
        run_id=row.run_id,
        status=row.status,
        reason=row.reason or "",
        read_at=aware(row.read_at),
        spreadsheet=row.spreadsheet,
        worksheet=row.worksheet,
        figures=row.figures or {},
        findings=row.findings or [],
        lists=row.lists or {},
        info=row.info or {},
        cells=row.cells,
    )
