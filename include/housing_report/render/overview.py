"""What the admins' page in the Airflow UI shows, built from the report database alone.

Pure functions over the store's read-only views: the recent periods, each unit's latest
read of the chosen period (status, why it was not accepted: the reason and each finding with
its cell and what to write, read time, a link to its sheet and to the run that read it), each
unit's statuses over the recent periods, the period's delivery log, and how to re-run or
replay the period. Never reads Google.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from housing_report.archive.store import ReportStore
from housing_report.config import Config
from housing_report.core.formatting import vn_date, vn_datetime
from housing_report.core.statuses import (
    ACCEPTED,
    ERROR,
    MISSING,
    REJECTED,
    STALE,
    STATUSES,
    UNREACHABLE,
    status_label,
)
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
SEVERITY_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}
# Why a unit is not accepted, when its read carries no reason or finding of its own.
STATUS_EXPLANATIONS = {
    REJECTED: "Bảng tính có lỗi: không số liệu nào của đơn vị được dùng trong kỳ này.",
    STALE: "Ô KY_BAO_CAO của bảng tính ghi một kỳ khác: đơn vị chưa cập nhật số liệu cho kỳ này.",
    MISSING: "Không tìm thấy bảng tính hoặc trang tính của đơn vị.",
    UNREACHABLE: "Không đọc được bảng tính của đơn vị (quyền chia sẻ, mạng hoặc hạn mức Google).",
    NOT_READ: "Chưa có lần chạy nào đọc bảng tính của đơn vị cho kỳ này (kỳ chưa chạy, hoặc đơn vị "
    "mới thêm vào units.yaml sau lần chạy).",
}


def run_url(run_id: str) -> str:
    """The run's page in the Airflow UI (its grid, tasks and their logs)."""
    return f"/dags/{DAG_ID}/runs/{urllib.parse.quote(run_id, safe='')}"


def task_url(run_id: str, task_id: str) -> str:
    """A task of the run in the Airflow UI (its logs; a mapped task lists its instances)."""
    mapped = "/mapped" if task_id == FETCH_TASK else ""
    return f"{run_url(run_id)}/tasks/{task_id}{mapped}"


FETCH_TASK = "fetch_unit_reports"
DELIVERY_TASKS = {
    "report": "deliver_report",
    "correction": "deliver_report",
    "feedback": "send_unit_feedback",
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
    findings: list[dict[str, str]] = field(default_factory=list)  # severity label, cell, message
    explanation: str = ""  # why not accepted, when there is no reason or finding to say it
    run_url: str = ""
    logs_url: str = ""
    history: list[tuple[str, str, str]] = field(default_factory=list)  # (period, status, label)

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    @property
    def hover(self) -> str:
        """The first thing to say about the unit (the reason, else the first finding)."""
        first = self.findings[0]["message"] if self.findings else ""
        return self.reason or first or self.explanation


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
    history_periods: list[str] = field(default_factory=list)  # oldest first, as dd/mm/yyyy
    runs: list[dict[str, str]] = field(default_factory=list)  # the runs that read this period

    @property
    def history_label(self) -> str:
        if not self.history_periods:
            return ""
        return f"{self.history_periods[0]} → {self.history_periods[-1]}"


def unknown_units(config: Config, codes: list[str]) -> list[str]:
    """The codes in `codes` that name no unit of the config."""
    known = {unit.code for unit in config.units}
    return [code for code in codes if code not in known]


def build_overview(
    store: ReportStore,
    config: Config,
    period: dt.date | None = None,
    recent: int = 6,
    unit_codes: list[str] | None = None,
) -> Overview:
    """The page's content: five queries (the recent periods: two; the period's reads; the
    statuses of the recent periods; the period's deliveries), none per unit. `unit_codes`
    shows those units only."""
    periods = store.recent_periods(recent)
    if period is None and periods:
        period = periods[0].period
    reads = store.period_reads(period) if period else {}
    shown = sorted({p.period for p in periods} | ({period} if period else set()), reverse=True)
    history_periods = sorted(shown)[-recent:]
    history = store.status_history(history_periods)
    chosen = [u for u in config.units if unit_codes is None or u.code in unit_codes]
    units = [
        _unit_row(unit, reads.get(unit.code), history.get(unit.code, {}), history_periods) for unit in chosen
    ]
    counts = Counter(row.status for row in units)
    order = [*STATUSES, NOT_READ]
    status_counts = [(s, _status_label(s), counts[s]) for s in order if counts[s]]
    version = next((p.version for p in periods if p.period == period), 0)
    run_ids = sorted({read.run_id for read in reads.values()})
    return Overview(
        period=period,
        period_label=vn_date(period) if period else "",
        version=version,
        periods=[{"iso": p.isoformat(), "label": vn_date(p), "current": p == period} for p in shown],
        units=units,
        status_counts=status_counts,
        deliveries=[_delivery(d) for d in store.deliveries_of([period])] if period else [],
        actions=_actions(period, version) if period else [],
        history_periods=[vn_date(p) for p in history_periods],
        runs=[{"run_id": r, "url": run_url(r)} for r in run_ids],
    )


def _status_label(status: str) -> str:
    return NOT_READ_LABEL if status == NOT_READ else status_label(status)


def _unit_row(unit, read, history: dict[dt.date, str], periods: list[dt.date]) -> UnitRow:
    status = read.status if read else NOT_READ
    findings = sorted(read.findings if read else [], key=lambda f: f.get("severity") != ERROR)
    reason = read.reason if read else ""
    return UnitRow(
        code=unit.code,
        name=unit.name,
        kind=KIND_LABELS.get(unit.kind, unit.kind),
        status=status,
        status_label=_status_label(status),
        errors=read.errors if read else 0,
        warnings=read.warnings if read else 0,
        read_at=vn_datetime(read.read_at) if read else "",
        reason=reason,
        sheet_url=sheet_url(read.spreadsheet if read else unit.spreadsheet),
        findings=[
            {
                "severity": f.get("severity", ""),
                "severity_label": SEVERITY_LABELS.get(f.get("severity", ""), f.get("severity", "")),
                "cell": f.get("cell", ""),
                "message": f.get("message", ""),
            }
            for f in findings
        ],
        explanation="" if status == ACCEPTED or reason else STATUS_EXPLANATIONS.get(status, ""),
        run_url=run_url(read.run_id) if read else "",
        logs_url=task_url(read.run_id, FETCH_TASK) if read else "",
        history=[
            (vn_date(p), history.get(p, NOT_READ), _status_label(history.get(p, NOT_READ))) for p in periods
        ],
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
        "run_id": row.run_id,
        "logs_url": task_url(row.run_id, DELIVERY_TASKS.get(row.kind, ""))
        if row.kind in DELIVERY_TASKS
        else run_url(row.run_id),
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
