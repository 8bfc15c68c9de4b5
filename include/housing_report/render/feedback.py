"""The feedback email to a unit: each cell to fix, what was found and how to fix it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from housing_report.config import Config
from housing_report.core.findings import cap_findings
from housing_report.core.formatting import vn_date
from housing_report.core.statuses import REJECTED, STALE, status_label
from housing_report.core.summary import Summary, UnitEntry
from housing_report.core.text import clean_text, sheet_url
from housing_report.render.environment import RenderedEmail, render_parts

TOLD = (REJECTED, STALE)  # statuses a unit is always told about (and any unit with warnings)


def needs_feedback(unit_entry: UnitEntry) -> bool:
    return unit_entry.status in TOLD or bool(unit_entry.warnings)


def _what(message: str, unit_name: str, cell: str) -> str:
    """A finding's message without its "<unit>, ô <cell>: " prefix (the email shows both apart)."""
    text = clean_text(message)
    prefix = f"{clean_text(unit_name)}, ô {cell}: "
    if text.startswith(prefix):
        text = text[len(prefix) :]
    return text[:1].upper() + text[1:]


def feedback_context(unit_entry: UnitEntry, summary: Summary, config: Config) -> dict[str, Any]:
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
        "period_label": summary.period_label or vn_date(dt.date.fromisoformat(summary.period)),
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
