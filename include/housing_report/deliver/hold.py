"""Held versions: nothing goes out by surprise.

A run of the provincial report emails the officials (the report, a correction) and the units
(their feedback). Two kinds of run must not, though they build and write their outputs as
always:

- **late**: the run is more than `schedule.hold_after_days` days (report.yaml, default 3) after
  its collection day, in the programme's time zone, and nobody named the period: a scheduled
  run that starts days late, such as the catch-up Airflow starts at once when the DAG is
  unpaused (the latest past 12th or 27th), or a manual trigger with the period left blank. A
  manual trigger that names the period is a deliberate act: it is not held for being late.
- **empty**: no unit submitted a report for the period (every unit stale, missing or
  unreachable): the report would tell the officials "0/0 căn" and every unit to update. Held
  whoever triggered the run. A period in which some units submitted with errors is not empty:
  they are told what to fix.

The Param `send_held` (the trigger form's «Gửi cả khi bị giữ lại») lifts both: an admin who has
read the alert sends the period anyway. A `dry_run` or a replay sends nothing and holds nothing.

The same goes for `submission_reminder` (`reminder_hold_reason`): a run whose coming period is
already past and was not named (its catch-up when unpaused) would ask every unit to update for
a day gone by; it reminds nobody and tells the admins once.

A held version: the delivery log gets one row `held` (kind `report`, the report's recipients,
the reason as its detail; `archive.deliveries.record_held`), which the admins' page lists
beside the period's other mail; the admins get one alert (`held_alert`) saying why and how to
send it; no report, no correction, no feedback goes out for that run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from housing_report.archive.deliveries import HELD, DeliveryLog
from housing_report.config import Config
from housing_report.core.formatting import vn_date
from housing_report.core.statuses import SUBMITTED
from housing_report.deliver.ledger import REPORT, Ledger

__all__ = [
    "HELD",
    "held_alert",
    "held_reminders_alert",
    "hold_reason",
    "record_hold",
    "reminder_hold_reason",
]


def hold_reason(
    status_counts: Mapping[str, int],
    period: dt.date,
    today: dt.date,
    *,
    hold_after_days: int,
    named_period: bool,
    send_held: bool = False,
) -> str:
    """Why this run's version must not be emailed (Vietnamese), or "" when it may be.

    `today`: the run's day in the programme's time zone; `named_period`: the run's conf names
    the period (a deliberate manual trigger); `send_held`: the admin asked to send anyway."""
    if send_held:
        return ""
    if not any(status_counts.get(status, 0) for status in SUBMITTED):
        units = sum(status_counts.values())
        return (
            f"không đơn vị nào nộp báo cáo kỳ {vn_date(period)} (0/{units} đơn vị): báo cáo sẽ "
            "không có số liệu của kỳ này."
        )
    late = (today - period).days
    if not named_period and late > hold_after_days:
        return (
            f"lần chạy diễn ra ngày {vn_date(today)}, {late} ngày sau ngày thu thập {vn_date(period)} "
            f"(quá {hold_after_days} ngày): đây là lần chạy bù, thường do DAG vừa được bật lại "
            "(unpause) hoặc bộ lập lịch ngừng nhiều ngày."
        )
    return ""


def record_hold(
    store: DeliveryLog, config: Config, period: dt.date, version: int, run_id: str, reason: str
) -> int:
    """Log the version as held under the report's key (once per version); the row's id."""
    addresses = [c.email for c in (*config.report.to, *config.report.cc)]
    return store.record_held(
        period=period,
        version=version,
        run_id=run_id,
        kind=REPORT,
        recipients=addresses,
        key=Ledger.key(addresses),
        detail=f"Giữ lại, không gửi: {reason}",
    )


def held_alert(period: dt.date, version: int, run_id: str, reason: str) -> tuple[str, list[str]]:
    """The admins' alert of a held version: its subject and lines (Vietnamese, then English)."""
    conf = f'{{"period": "{period.isoformat()}", "send_held": true}}'
    lines = [
        f"Báo cáo kỳ {vn_date(period)} (phiên bản {version}, lần chạy {run_id}) đã được tổng hợp "
        "và ghi ra thư mục kết quả nhưng KHÔNG được gửi cho Sở, Ban Chỉ đạo và các đơn vị.",
        f"Lý do: {reason}",
        "",
        "Xem kết quả trên trang «Báo cáo xóa nhà tạm» (nhật ký gửi: «Giữ lại, chưa gửi»).",
        "Nếu vẫn cần gửi kỳ này: trong Airflow chọn provincial_report > Trigger, điền «Kỳ báo cáo» = "
        f"{period.isoformat()} và bật «Gửi cả khi bị giữ lại» (send_held); hoặc dùng cấu hình {conf}.",
        "Nếu không cần gửi: không phải làm gì; lần chạy theo lịch kế tiếp gửi kỳ của nó như thường.",
        "",
        f"The report of {period.isoformat()} (version {version}) was built but not emailed: "
        "a late catch-up run or a period without any submission. Trigger the DAG with "
        f"conf {conf} to send it.",
    ]
    return f"[Cảnh báo] Báo cáo kỳ {vn_date(period)} bị giữ lại, chưa gửi", lines


def reminder_hold_reason(period: dt.date, today: dt.date, *, named_period: bool) -> str:
    """Why a reminder run must remind nobody (its coming period is past and nobody named it), or ""."""
    if named_period or period >= today:
        return ""
    return (
        f"kỳ {vn_date(period)} đã qua (lần chạy diễn ra ngày {vn_date(today)}): đây là lần chạy bù "
        "của submission_reminder, thường do DAG vừa được bật lại (unpause); nhắc đơn vị cập nhật "
        "cho một kỳ đã qua thì vô ích."
    )


def held_reminders_alert(period: dt.date, run_id: str, reason: str) -> tuple[str, list[str]]:
    """The admins' alert of a reminder run that reminded nobody: its subject and lines."""
    conf = f'{{"period": "{period.isoformat()}"}}'
    lines = [
        f"Lần chạy {run_id} của submission_reminder KHÔNG gửi thư nhắc cho đơn vị nào.",
        f"Lý do: {reason}",
        "",
        "Nếu vẫn cần nhắc cho kỳ này: Trigger submission_reminder, điền «Kỳ báo cáo sắp đến» = "
        f"{period.isoformat()} (cấu hình {conf}). Nếu không: không phải làm gì.",
        "",
        f"Run {run_id} reminded nobody: its coming period {period.isoformat()} is past.",
    ]
    return f"[Cảnh báo] Không gửi thư nhắc cho kỳ {vn_date(period)} đã qua", lines
