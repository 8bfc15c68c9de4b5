"""The feedback email to a unit: each cell to fix, what was found and how to fix it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from housing_report.config import Config
from housing_report.core.findings import cap_findings
from housing_report.core.formatting import vn_date, vn_datetime
from housing_report.core.statuses import REJECTED, STALE, status_label
from housing_report.core.summary import Summary, UnitEntry
from housing_report.core.text import clean_text, sheet_url
from housing_report.render.environment import RenderedEmail, render_parts

TOLD = (REJECTED, STALE)  # statuses a unit is always told about (and any unit with warnings)


def needs_feedback(unit_entry: UnitEntry) -> bool:
    return unit_entry.status in TOLD or bool(unit_entry.warnings)


def finding_text(message: str, unit_name: str, cell: str) -> str:
    """What a finding says apart from where: what was found and what to write."""
    return _what(message, unit_name, cell)


def _what(message: str, unit_name: str, cell: str) -> str:
    """A finding's message without its "<unit>, ô <cell>: " prefix (the email shows both apart)."""
    text = clean_text(message)
    prefix = f"{clean_text(unit_name)}, ô {cell}: "
    if text.startswith(prefix):
        text = text[len(prefix) :]
    return text[:1].upper() + text[1:]


def feedback_context(unit_entry: UnitEntry, summary: Summary, config: Config) -> dict[str, Any]:
    period_label = summary.period_label or vn_date(dt.date.fromisoformat(summary.period))
    return _context(unit_entry, period_label, config)


def _context(unit_entry: UnitEntry, period_label: str, config: Config) -> dict[str, Any]:
    unit = config.unit(unit_entry.code)
    # Grouped by kind and capped ("và 49.990 dòng khác cùng loại"), whatever the summary holds.
    errors = cap_findings(unit_entry.errors, unit.name)
    warnings = cap_findings(unit_entry.warnings, unit.name)
    findings = [
        {
            "severity": "Lỗi",
            "error": True,
            "cell": f.cell,
            "text": _what(f.message, unit.name, f.cell),
        }
        for f in errors
    ] + [
        {
            "severity": "Cảnh báo",
            "error": False,
            "cell": f.cell,
            "text": _what(f.message, unit.name, f.cell),
        }
        for f in warnings
    ]
    carried = unit_entry.carried_forward_from
    return {
        "unit_name": unit.name,
        "period_label": period_label,
        "precheck": False,
        "programme_title": config.report.programme.title,
        "short_title": config.report.programme.short_title,
        "status": unit_entry.status,
        "status_label": status_label(unit_entry.status),
        "rejected": unit_entry.status == REJECTED,
        "stale": unit_entry.status == STALE,
        "error_count": len(unit_entry.errors),
        "warning_count": len(unit_entry.warnings),
        "carried_label": vn_date(dt.date.fromisoformat(carried)) if carried else "",
        "findings": findings,
        "sheet_url": sheet_url(unit.spreadsheet),
        "worksheet": unit.worksheet,
        "admins": [{"name": a.name, "email": a.email} for a in config.report.admins],
    }


def render_feedback(unit_entry: UnitEntry, summary: Summary, config: Config) -> RenderedEmail:
    return render_parts("feedback", feedback_context(unit_entry, summary, config))


def render_precheck_feedback(unit_entry: UnitEntry, period: dt.date, config: Config) -> RenderedEmail:
    """The same email after a pre-check, before the collection day: what to fix before then (the
    result is also in the unit's worksheet KiemTra)."""
    context = {
        **_context(unit_entry, vn_date(period), config),
        "precheck": True,
        "deadline": f"{config.report.schedule.hour:02d}:00 ngày {vn_date(period)}",
    }
    return render_parts("feedback", context)


def render_precheck_accepted(
    unit_code: str, period: dt.date, checked_at: dt.datetime, config: Config
) -> RenderedEmail:
    """The short confirmation once a unit's sheet passes the pre-check ("Đã tiếp nhận")."""
    unit = config.unit(unit_code)
    context = {
        "unit_name": unit.name,
        "period_label": vn_date(period),
        "short_title": config.report.programme.short_title,
        "checked_at": vn_datetime(checked_at, config.report.schedule.timezone),
        "deadline": f"{config.report.schedule.hour:02d}:00 ngày {vn_date(period)}",
        "worksheet": unit.worksheet,
        "sheet_url": sheet_url(unit.spreadsheet),
    }
    return render_parts("precheck_accepted", context)
