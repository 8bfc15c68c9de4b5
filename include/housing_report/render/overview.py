"""What the admins' page in the Airflow UI shows, built from the report database alone.

Pure functions over the store's read-only views: the recent periods, each unit's latest
read of the chosen period (status, findings, read time, a link to its sheet), the
delivery log, and how to re-run or replay the period. Never reads Google.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from housing_report.archive.store import ReportStore
from housing_report.config import Config
from housing_report.core.formatting import vn_date, vn_datetime
from housing_report.core.statuses import STATUSES, status_label
from housing_report.core.text import sheet_url

DAG_ID = "provincial_report"
NOT_READ = "not_read"
NOT_READ_LABEL = "Chưa đọc trong kỳ này"
KIND_LABELS = {"district": "Cấp huyện", "organization": "Đoàn thể", "press": "Báo chí, sở"}
DELIVERY_STATES = {
    "sending": "Đang gửi (chưa rõ kết quả)",
    "sent": "Đã gửi",
    "failed": "Gửi lỗi",
    "held": "Giữ lại, chưa gửi",  # deliver.hold: a catch-up or an empty period, see the detail
}
DELIVERY_KINDS = {
    "report": "Báo cáo",
    "correction": "Báo cáo bổ sung, điều chỉnh",
    "feedback": "Phản hồi đơn vị",
    "reminder": "Nhắc đơn vị",
    "reminder_admins": "Danh sách nhắc gửi quản trị",
    "alert": "Cảnh báo quản trị",
}


@dataclass
class UnitRow:
    code: str
    name: str
    kind: str
    status: str
    status_label: str
    errors: int
    warnings: int
    read_at: str
    reason: str
    sheet_url: str


@dataclass
class Overview:
    period: dt.date | None
    period_label: str
    version: int
    periods: list[dict[str, Any]]
    units: list[UnitRow]
    status_counts: list[tuple[str, str, int]]
    deliveries: list[dict[str, Any]]
    actions: list[dict[str, str]] = field(default_factory=list)


def build_overview(
    store: ReportStore, config: Config, period: dt.date | None = None, recent: int = 6
) -> Overview:
    """The page's content: four queries (the recent periods: two; the period's reads; deliveries),
    none per unit."""
    periods = store.recent_periods(recent)
    if period is None and periods:
        period = periods[0].period
    reads = store.period_reads(period) if period else {}
    units = [_unit_row(unit, reads.get(unit.code)) for unit in config.units]
    counts = Counter(row.status for row in units)
    order = [*STATUSES, NOT_READ]
    status_counts = [(s, _status_label(s), counts[s]) for s in order if counts[s]]
    version = next((p.version for p in periods if p.period == period), 0)
    shown = sorted({p.period for p in periods} | ({period} if period else set()), reverse=True)
    return Overview(
        period=period,
        period_label=vn_date(period) if period else "",
        version=version,
        periods=[{"iso": p.isoformat(), "label": vn_date(p), "current": p == period} for p in shown],
        units=units,
        status_counts=status_counts,
        deliveries=[_delivery(d) for d in store.deliveries_of(shown)],
        actions=_actions(period, version) if period else [],
    )


def _status_label(status: str) -> str:
    return NOT_READ_LABEL if status == NOT_READ else status_label(status)


def _unit_row(unit, read) -> UnitRow:
    status = read.status if read else NOT_READ
    return UnitRow(
        code=unit.code,
        name=unit.name,
        kind=KIND_LABELS.get(unit.kind, unit.kind),
        status=status,
        status_label=_status_label(status),
        errors=read.errors if read else 0,
        warnings=read.warnings if read else 0,
        read_at=vn_datetime(read.read_at) if read else "",
        reason=read.reason if read else "",
        sheet_url=sheet_url(read.spreadsheet if read else unit.spreadsheet),
    )


def _delivery(row) -> dict[str, Any]:
    return {
        "period": vn_date(row.period),
        "version": row.version,
        "kind": DELIVERY_KINDS.get(row.kind, row.kind),
        "state": row.state,
        "state_label": DELIVERY_STATES.get(row.state, row.state),
        "recipients": ", ".join(row.recipients),
        "started_at": vn_datetime(row.started_at),
        "message_id": row.message_id,
        "detail": row.detail,
    }


def _actions(period: dt.date, version: int) -> list[dict[str, str]]:
    """The run configurations an admin pastes into the trigger form of provincial_report."""
    actions = [
        {
            "label": "Chạy lại kỳ này (đọc lại bảng tính, gửi báo cáo bổ sung nếu số liệu thay đổi)",
            "conf": json.dumps({"period": period.isoformat()}),
        },
        {
            "label": "Chạy thử kỳ này (không gửi email)",
            "conf": json.dumps({"period": period.isoformat(), "dry_run": True}),
        },
    ]
    if version:
        actions.append(
            {
                "label": f"Dựng lại phiên bản {version} từ kho lưu trữ (không đọc bảng tính, không gửi)",
                "conf": json.dumps({"period": period.isoformat(), "replay": True, "replay_version": version}),
            }
        )
    return actions
