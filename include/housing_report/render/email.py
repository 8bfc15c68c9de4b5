"""The email to the Department and the Steering Committee, from the provincial summary.

`render_email(summary, config)` turns the summary into a subject, an HTML body and a
plain-text body from the Jinja2 templates in `templates/`. The templates only lay out a view
built here (`build_context`): labels come from the config's template (sections, rows,
columns, fields, kinds) and from `core.statuses`, never from code, so renaming a unit or a
label is a config edit. Everything that came from a unit's sheet is escaped by the HTML
template's autoescape; all output is NFC.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from housing_report.config import Config, Section, Template
from housing_report.core.formatting import vn_date, vn_datetime, vn_long_date
from housing_report.core.models import TOTAL_LABEL, TOTAL_ROW
from housing_report.core.statuses import (
    ACCEPTED,
    MISSING,
    REJECTED,
    STALE,
    STATUSES,
    SUBMITTED,
    UNREACHABLE,
    status_label,
)
from housing_report.core.summary import District, Summary, UnitEntry, as_dict
from housing_report.core.text import clean_text, trim_text
from housing_report.render.environment import RenderedEmail, render_parts
from housing_report.render.figures import carried_label, houses_change, number_sections, table_total

# The email lists at most this many errors per rejected unit; the workbook has them all.
ERRORS_SHOWN_PER_UNIT = 5
# The most rows the email gives any one list of districts, units or their entries: a province
# has about twenty units, a country thousands, and no reader or mail client takes an email of
# thousands of rows (Gmail clips a message beyond 102 kB). Beyond it the email shows what
# needs attention first, says how many it left out, and names the attachment that has them
# all. The district chart stops at the same number (`official.charts.MAX_BARS`).
EMAIL_ROWS = 30
# The rejected units whose errors the email lists (each unit also has its own feedback email,
# and the workbook's LoiCanhBao sheet has every error): with ten, the email of a country's
# units stays under Gmail's limit.
REJECTED_SHOWN = 10
# Which units the status table shows first when it cannot show them all.
_STATUS_ORDER = (REJECTED, MISSING, UNREACHABLE, STALE, ACCEPTED)


# --------------------------------------------------------------------------- view


def _table_view(section: Section, totals: dict[str, Any]) -> dict[str, Any]:
    rows = [
        {
            "code": r.code,
            "label": r.label,
            "cells": [totals.get(f"{section.code}.{r.code}.{c.code}") for c in section.columns],
            "total": False,
        }
        for r in section.rows
    ]
    rows.append(
        {
            "code": TOTAL_ROW,
            "label": TOTAL_LABEL,
            "cells": [table_total(totals, section, c.code) for c in section.columns],
            "total": True,
        }
    )
    return {
        "kind": "table",
        "code": section.code,
        "label": section.label,
        "unit": section.unit,
        "cumulative": section.cumulative,
        "columns": [{"code": c.code, "label": c.label} for c in section.columns],
        "rows": rows,
    }


def _fields_view(
    section: Section, template: Template, totals: dict[str, Any], change: dict[str, Any]
) -> dict[str, Any]:
    return {
        "kind": "fields",
        "code": section.code,
        "label": section.label,
        "unit": section.unit,
        "cumulative": section.cumulative,
        "entries": [
            {
                "code": code,
                "label": template.figure_label(code),
                "value": totals.get(code),
                "change": change.get(code) if section.cumulative else None,
            }
            for code in section.figure_keys()
        ],
    }


def _unit_view(unit: UnitEntry, template: Template) -> dict[str, Any]:
    return {
        "code": clean_text(unit.code),
        "name": clean_text(unit.name),
        "kind_label": template.kind_label(unit.kind),
        "status": unit.status,
        "status_label": status_label(unit.status),
        "carried": carried_label(unit.carried_forward_from),
        "reason": clean_text(unit.reason),
        "error_count": len(unit.errors),
        "warning_count": len(unit.warnings),
    }


def _district_note(district: District, needed: int) -> str:
    """Under a district's name: why its figures are not this period's ('' when they are)."""
    status = district.status
    if status == ACCEPTED:
        return ""
    carried = carried_label(district.carried_forward_from)
    if carried:
        return f"{status_label(status)}; {carried}"
    return f"{status_label(status)}; chưa có số liệu" if not needed else status_label(status)


def _shown(items: list[Any], limit: int = EMAIL_ROWS) -> tuple[list[Any], int]:
    """The first `limit` of `items`, and how many are left out."""
    return items[:limit], max(0, len(items) - limit)


def _furthest_behind(districts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Districts without figures first, then by completion, lowest first (as the chart picks)."""
    return sorted(districts, key=lambda d: (d["percent"] is not None, d["percent"] or 0, d["name"]))


def _needing_attention(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `EMAIL_ROWS` units the status table shows when it cannot show them all: those not
    accepted, their statuses taking turns (a few missing units are not crowded out by many
    rejected ones), then the accepted; grouped by status, rejected first."""
    rank = {status: i for i, status in enumerate(_STATUS_ORDER)}

    def by_status(unit: dict[str, Any]) -> int:
        return rank.get(unit["status"], len(rank))

    groups: dict[int, list[dict[str, Any]]] = {}
    for unit in units:
        groups.setdefault(by_status(unit), []).append(unit)
    not_accepted = [g for r, g in sorted(groups.items()) if r != rank[ACCEPTED]]
    turns = [u for row in itertools.zip_longest(*not_accepted) for u in row if u is not None]
    picked = (turns + groups.get(rank[ACCEPTED], []))[:EMAIL_ROWS]
    return sorted(picked, key=by_status)  # stable: the summary's order within a status


def build_context(summary: Summary, config: Config) -> dict[str, Any]:
    """The view the email templates lay out (plain data, labels resolved, sheet text cleaned).

    Every list of districts, units or entries is cut to `EMAIL_ROWS`, with how many were left
    out beside it (`districts_more`, `units_more`, `rejected_more`, each list's `more`): beyond
    it, the districts furthest behind and the units not accepted come first."""
    template = config.template
    report = config.report
    totals = summary.totals
    change = summary.change
    previous = summary.previous
    houses = summary.houses
    percent = summary.completion_percent
    previous_percent = previous.completion_percent if previous else None

    figure_sections = []
    for section in number_sections(template):
        if section.kind == "table":
            figure_sections.append(_table_view(section, totals))
        else:
            figure_sections.append(_fields_view(section, template, totals, change))

    districts = []
    for d in summary.districts:
        needed = d.needed
        districts.append(
            {
                "name": clean_text(d.name),
                "status": d.status,
                "status_label": status_label(d.status),
                "needed": needed,
                "completed": d.completed,
                "percent": d.percent if needed else None,
                "change": d.change,
                "note": _district_note(d, needed),
                "no_data": not needed and d.status != ACCEPTED,
            }
        )

    lists = []
    for section in template.sections:
        if section.kind != "list":
            continue
        items = [
            {
                "unit_name": clean_text(item.unit_name),
                "text": trim_text(clean_text(item.text)),
                "place": clean_text(item.place or "") if section.place else "",
            }
            for item in summary.lists.get(section.code) or []
        ]
        entries, more = _shown(items)
        lists.append({"code": section.code, "label": section.label, "entries": entries, "more": more})

    district_count = len(districts)
    if district_count > EMAIL_ROWS:
        districts = _furthest_behind(districts)
    districts, districts_more = _shown(districts)

    units = [_unit_view(u, template) for u in summary.units]
    unit_count = len(units)
    if unit_count > EMAIL_ROWS:
        units = _needing_attention(units)
    units_more = unit_count - len(units)
    rejected = []
    for u in summary.units:
        if u.status != REJECTED:
            continue
        errors = u.errors
        rejected.append(
            {
                "name": clean_text(u.name),
                "errors": [
                    {"cell": clean_text(e.cell), "message": clean_text(e.message)}
                    for e in errors[:ERRORS_SHOWN_PER_UNIT]
                ],
                "more": max(0, len(errors) - ERRORS_SHOWN_PER_UNIT),
            }
        )
    rejected, rejected_more = _shown(rejected, REJECTED_SHOWN)

    counts = summary.status_counts
    programme = summary.programme
    house_change = houses_change(summary, config)
    percent_change = (
        round(percent - previous_percent, 2) if percent is not None and previous_percent is not None else None
    )
    return {
        "programme_title": clean_text(programme.title or report.programme.title),
        "short_title": report.programme.short_title,
        "target_date_label": vn_date(programme.target_date or report.programme.target_date),
        "period_label": summary.period_label or vn_date(summary.period),
        "place_date": vn_long_date(report.issuer.place, summary.period),
        # "Kính gửi: …" (the recipients of report.yaml) and the issuing office's contact line.
        "addressees": [clean_text(c.name) for c in report.to],
        "office_contact": clean_text(report.office.contact) if report.office else "",
        "previous_period_label": vn_date(previous.period) if previous else "",
        "generated_label": vn_datetime(summary.generated_at, report.schedule.timezone),
        "run_id": clean_text(summary.run_id),
        "headline": {
            "needed": houses.needed,
            "started": houses.started,
            "completed": houses.completed,
            "percent": percent,
            "bar_percent": max(0, min(100, round(percent or 0))),
            "completed_change": house_change["completed"],
            "percent_change": percent_change,
            "previous_percent": previous_percent,
        },
        "has_previous": bool(previous),
        "unit_count": unit_count,
        "accepted_count": counts.get(ACCEPTED, 0),
        "status_counts": [
            {"status": s, "label": status_label(s), "count": counts.get(s, 0)} for s in STATUSES
        ],
        "districts": districts,
        "district_count": district_count,
        "districts_more": districts_more,
        "figure_sections": figure_sections,
        "lists": lists,
        "units": units,
        "units_more": units_more,
        "rejected": rejected,
        "rejected_more": rejected_more,
    }


def _capped_completeness(view: dict[str, Any] | None) -> dict[str, Any] | None:
    """The completeness view with its lists of unit names cut to `EMAIL_ROWS` (`*_more`)."""
    if not view:
        return view
    view = dict(view)
    for key in ("late", "not_submitted"):
        view[key], view[f"{key}_more"] = _shown(view.get(key) or [])
    return view


def _capped_official(official: dict[str, Any] | None) -> dict[str, Any] | None:
    """The document's additions to the email with the at-risk districts (the latest forecast
    finish first) and the month's praise cut to `EMAIL_ROWS` (copies: the document keeps them
    whole)."""
    if not official:
        return official
    official = dict(official)
    forecast = dict(official.get("forecast") or {})
    at_risk = forecast.get("at_risk") or []
    if len(at_risk) > EMAIL_ROWS:  # the latest finish first; no date (too slow to say) before all
        at_risk = sorted(at_risk, key=lambda f: f.finish or dt.date.max, reverse=True)
    forecast["at_risk"], forecast["at_risk_more"] = _shown(at_risk)
    official["forecast"] = forecast
    if official.get("praise"):
        praise = dict(official["praise"])
        praise["entries"], praise["more"] = _shown(praise.get("entries") or [])
        official["praise"] = praise
    return official


def completeness_view(summary: Summary, config: Config) -> dict[str, Any] | None:
    """What the email shows of `summary.completeness` (None when the summary has none)."""
    data = summary.completeness
    if not data:
        return None
    names = {u.code: u.name for u in config.units}
    periods = []
    for entry in reversed(data.total):  # newest first
        periods.append({**as_dict(entry), "label": vn_date(dt.date.fromisoformat(entry.period))})
    kinds = []
    for kind, entries in data.by_kind.items():
        if entries:
            spec = config.template.kinds.get(kind)
            kinds.append({"label": spec.label if spec else kind, **as_dict(entries[-1])})
    late, not_submitted = [], []
    for code, entries in data.by_unit.items():
        now = entries[-1] if entries else None
        status = now.status if now else None
        if status == ACCEPTED and now and now.on_time is False:
            late.append(names.get(code, code))
        elif status not in SUBMITTED:
            not_submitted.append(names.get(code, code))
    return {"periods": periods, "kinds": kinds, "late": late, "not_submitted": not_submitted}


# --------------------------------------------------------------------------- render


def _clean_correction(correction: dict[str, Any]) -> dict[str, Any]:
    return {
        **correction,
        "reasons": [
            {**r, "unit_name": clean_text(r.get("unit_name")), "text": clean_text(r.get("text"))}
            for r in correction.get("reasons", [])
        ],
    }


def render_email(
    summary: Summary, config: Config, correction: dict | None = None, official: dict | None = None
) -> RenderedEmail:
    """Subject, HTML and plain text of the summary email for `summary`'s period.

    With `correction` (from `aggregate.corrections.compare`), the email is marked as a correction
    ("Báo cáo bổ sung, điều chỉnh") and lists what changed and why. With `official`
    (`official.OfficialReport.email_view`), it also gives the forecast and the districts at
    risk in its first lines, the charts and, at the month's end, the month's exemplary models.
    """
    context = build_context(summary, config)
    context["completeness"] = _capped_completeness(completeness_view(summary, config))
    context["correction"] = _clean_correction(correction) if correction else None
    context["official"] = _capped_official(official)
    return render_parts("email", context)
