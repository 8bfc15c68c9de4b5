"""The feedback email to a unit: each cell to fix, what was found and how to fix it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from housing_report.config import Config
from housing_report.core.formatting import vn_date
from housing_report.core.statuses import REJECTED, STALE, status_label
from housing_report.core.text import clean_text, sheet_url
from housing_report.render.environment import RenderedEmail, render_parts

TOLD = (REJECTED, STALE)  # statuses a unit is always told about (and any unit with warnings)


def needs_feedback(unit_entry: dict[str, Any]) -> bool:
    return unit_entry.get("status") in TOLD or bool(unit_entry.get("warnings"))


def _what(message: str, unit_name: str, cell: str) -> str:
    """A finding's message without its "<unit>, ô <cell>: " prefix (the email shows both apart)."""
    text = clean_text(message)
    prefix = f"{clean_text(unit_name)}, ô {cell}: "
    if text.startswith(prefix):
        text = text[len(prefix) :]
    return text[:1].upper() + text[1:]


def feedback_context(unit_entry: dict[str, Any], summary: dict[str, Any], config: Config) -> dict[str, Any]:
    unit = config.unit(unit_entry["code"])
    findings = [
        {
            "severity": "Lỗi",
            "error": True,
            "cell": f["cell"],
            "text": _what(f["message"], unit.name, f["cell"]),
        }
        for f in unit_entry.get("errors") or []
    ] + [
        {
            "severity": "Cảnh báo",
            "error": False,
            "cell": f["cell"],
            "text": _what(f["message"], unit.name, f["cell"]),
        }
        for f in unit_entry.get("warnings") or []
    ]
    carried = unit_entry.get("carried_forward_from")
    return {
        "unit_name": unit.name,
        "period_label": summary.get("period_label") or vn_date(dt.date.fromisoformat(summary["period"])),
        "programme_title": config.report.programme.title,
        "short_title": config.report.programme.short_title,
        "status": unit_entry.get("status"),
        "status_label": status_label(unit_entry.get("status", "")),
        "rejected": unit_entry.get("status") == REJECTED,
        "stale": unit_entry.get("status") == STALE,
        "error_count": len(unit_entry.get("errors") or []),
        "warning_count": len(unit_entry.get("warnings") or []),
        "carried_label": vn_date(dt.date.fromisoformat(carried)) if carried else "",
        "findings": findings,
        "sheet_url": sheet_url(unit.spreadsheet),
        "worksheet": unit.worksheet,
        "admins": [{"name": a.name, "email": a.email} for a in config.report.admins],
    }


def render_feedback(unit_entry: dict[str, Any], summary: dict[str, Any], config: Config) -> RenderedEmail:
    return render_parts("feedback", feedback_context(unit_entry, summary, config))
