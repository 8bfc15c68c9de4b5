"""The reminder to a unit that has not updated its sheet, and the admins' list of who was reminded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from housing_report.config import Config, Unit
from housing_report.core.formatting import vn_date
from housing_report.core.statuses import MISSING
from housing_report.core.text import sheet_url
from housing_report.render.environment import RenderedEmail, render_parts
from housing_report.validate.freshness import NOT_UPDATED


def _why(entry: dict[str, Any], unit: Unit) -> str:
    if entry["state"] == NOT_UPDATED:
        if entry.get("found"):
            return f"ô Kỳ báo cáo đang ghi {vn_date(dt.date.fromisoformat(entry['found']))}"
        return "ô Kỳ báo cáo đang để trống hoặc không đọc được"
    if entry["state"] == MISSING:
        return f"không tìm thấy trang tính {unit.worksheet} trong bảng tính của đơn vị"
    return "hệ thống chưa đọc được bảng tính của đơn vị" + (
        f" ({entry['reason']})" if entry.get("reason") else ""
    )


def render_reminder(config: Config, unit: Unit, entry: dict[str, Any], period: dt.date) -> RenderedEmail:
    """The reminder to `unit`, whose sheet is in the state `entry` (`pipeline.reminders.check_units`)."""
    context = {
        "unit_name": unit.name,
        "period_label": vn_date(period),
        "deadline": f"{config.report.schedule.hour:02d}:00 ngày {vn_date(period)}",
        "short_title": config.report.programme.short_title,
        "why": _why(entry, unit),
        "worksheet": unit.worksheet,
        "sheet_url": sheet_url(unit.spreadsheet),
        "admins": [{"name": a.name, "email": a.email} for a in config.report.admins],
    }
    return render_parts("reminder", context)


def render_reminder_admins(config: Config, result: dict[str, Any]) -> RenderedEmail:
    """The admins' list of the units reminded, already reminded, without an address or failed."""
    period = dt.date.fromisoformat(result["period"])

    def listed(codes: Sequence[str]) -> list[dict[str, str]]:
        return [
            {"code": c, "name": config.unit(c).name, "emails": ", ".join(config.unit(c).emails)}
            for c in codes
        ]

    context = {
        "period_label": vn_date(period),
        "short_title": config.report.programme.short_title,
        "unit_count": len(config.units),
        "updated_count": len(result["updated"]),
        "reminded": listed(result["reminded"]),
        "already": listed(result["already"]),
        "no_email": listed(result["no_email"]),
        "failed": [{**u, "error": result["failed"][u["code"]]} for u in listed(list(result["failed"]))],
    }
    return render_parts("reminder_admins", context)
