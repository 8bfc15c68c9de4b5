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
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from housing_report.aggregate.forecast import stale_need
from housing_report.aggregate.lists import group_entries
from housing_report.config import Config, Template
from housing_report.core.formatting import vn_date, vn_datetime, vn_long_date
from housing_report.core.runtime import gc_paused
from housing_report.core.statuses import (
    ACCEPTED,
    MISSING,
    REJECTED,
    STALE,
    STATUSES,
    SUBMITTED,
    UNREACHABLE,
    official_status_label,
)
from housing_report.core.summary import District, ListEntry, Summary, UnitEntry, as_dict
from housing_report.core.text import clean_text, trim_text
from housing_report.render.email_tables import fields_view, table_view
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


def official_status(status: str) -> str:
    """How the email names a unit's status to officials ("báo cáo chưa hợp lệ, đang điều chỉnh"),
    the document's words (`core.statuses.OFFICIAL_STATUS_LABELS`; the unit's own feedback keeps
    `STATUS_LABELS`)."""
    return official_status_label(status)


# A recommendation's leading words asking for it, said once for its addressee.
_ASKING = re.compile(r"^(?:đề nghị|kiến nghị|đề xuất)\s+", re.IGNORECASE)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _one_decimal(percent: float) -> Decimal:
    """A percentage as the email shows it (`vn_percent`: one decimal, half up)."""
    return Decimal(repr(percent)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------- view


def _unit_view(unit: UnitEntry, template: Template) -> dict[str, Any]:
    """A unit's line of the status table: its official status and, when its figures are an
    earlier period's, which (the reason and the errors are the unit's feedback, not this)."""
    return {
        "code": clean_text(unit.code),
        "name": clean_text(unit.name),
        "kind_label": template.kind_label(unit.kind),
        "status": unit.status,
        "status_label": _capitalised(official_status(unit.status)),
        "carried": carried_label(unit.carried_forward_from),
        "error_count": len(unit.errors),
    }


def _district_note(district: District, needed: int) -> str:
    """Under a district's name: why its figures are not this period's ('' when they are)."""
    status = district.status
    if status == ACCEPTED:
        # A figure the outlier or jump checks warned about: not praised, not taken as settled.
        return "số liệu đang được xác minh" if district.flagged else ""
    carried = carried_label(district.carried_forward_from)
    if carried:
        return f"{official_status(status)}; {carried}"
    return f"{official_status(status)}; chưa có số liệu" if not needed else official_status(status)


def _kind_word(labels: list[str]) -> list[str]:
    """What tells columns of one measure apart, from their labels: "Đã hoàn thành, bàn giao xây
    mới" and "… sửa chữa" -> ["xây mới", "sửa chữa"] (the words after their common start)."""
    words = [label.split() for label in labels]
    common = 0
    while all(len(w) > common + 1 for w in words) and len({w[common] for w in words}) == 1:
        common += 1
    return [" ".join(w[common:]) for w in words]


def _split(config: Config, totals: dict[str, Any]) -> list[dict[str, Any]]:
    """Houses needed, started and completed of each kind of work (xây mới, sửa chữa): the
    progress table's total row, column by column (`report.progress`); [] when the measures do
    not pair up."""
    progress = config.report.progress
    section = config.template.section(progress.table)
    measures = {name: list(getattr(progress, name)) for name in ("needed", "started", "completed")}
    if len({len(cols) for cols in measures.values()}) != 1 or len(measures["completed"]) < 2:
        return []
    labels = {c.code: c.label for c in section.columns}
    kinds = _kind_word([labels.get(c, c) for c in measures["completed"]])
    return [
        {
            "label": kind,
            **{name: table_total(totals, section, cols[i]) for name, cols in measures.items()},
        }
        for i, kind in enumerate(kinds)
    ]


def _list_groups(entries: list[ListEntry], addressee: Callable[[str], str] | None) -> list[dict[str, Any]]:
    """The entries of a list as points, one per content with the units that raised it
    (`aggregate.lists.group_entries`); with `addressee` (recommendations), whom each asks to
    act, its leading "Đề nghị" then said once for them all."""
    groups = []
    for g in group_entries(entries, addressee):
        text = trim_text(clean_text(g.text))
        if addressee is not None:
            text = _capitalised(_ASKING.sub("", text))
        groups.append(
            {"text": text, "units": [clean_text(u) for u in g.units], "addressee": clean_text(g.addressee)}
        )
    return groups


def _by_addressee(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recommendations under whom they ask: [{"addressee": …, "groups": […]}, …] in the order
    each addressee first comes (the most-named recommendations first)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for g in groups:
        out.setdefault(g["addressee"], []).append(g)
    return [{"addressee": a, "groups": gs} for a, gs in out.items()]


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
            view = table_view(section, totals)
            if summary.apart and section.code == report.funds_apart.section:
                # Beside the totals, not in them: the organisations' money handed to the districts.
                view["apart"] = {
                    "label": report.funds_apart.label,
                    "figures": [
                        {"label": c.label, "value": v}
                        for c in section.columns
                        if (v := table_total(summary.apart, section, c.code))
                    ],
                }
            figure_sections.append(view)
        else:
            figure_sections.append(fields_view(section, template, totals, change))

    districts = []
    for d in summary.districts:
        needed = d.needed
        districts.append(
            {
                "name": clean_text(d.name),
                "status": d.status,
                "status_label": official_status(d.status),
                "needed": needed,
                "completed": d.completed,
                "percent": d.percent if needed else None,
                # Unknown (never 0) when the district's figures are carried forward; summaries
                # archived before `District.change` said so have 0 there.
                "change": None if d.carried_forward_from else d.change,
                "note": _district_note(d, needed),
                "no_data": not needed and d.status != ACCEPTED,
                "flagged": d.flagged,
            }
        )

    recommendations = report.recommendations
    lists = []
    for section in template.sections:
        if section.kind != "list":
            continue
        raw = summary.lists.get(section.code) or []
        items = [
            {
                "unit_name": clean_text(item.unit_name),
                "text": trim_text(clean_text(item.text)),
                "place": clean_text(item.place or "") if section.place else "",
            }
            for item in raw
        ]
        entries, more = _shown(items)
        # A list without places (difficulties, recommendations): one point per content, the
        # units that raised it named after it; recommendations under whom they ask to act.
        asks = recommendations.addressee if section.code == recommendations.list else None
        groups, groups_more = _shown([] if section.place else _list_groups(raw, asks))
        lists.append(
            {
                "code": section.code,
                "label": section.label,
                "entries": entries,
                "more": more,
                "grouped": not section.place,
                "groups": groups,
                "groups_more": groups_more,
                "addressees": _by_addressee(groups) if asks else [],
            }
        )

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
    stale = stale_need(summary)
    house_change = houses_change(summary, config)
    # From the rounded percentages the email shows beside it, so that the three agree.
    percent_change = (
        _one_decimal(percent) - _one_decimal(previous_percent)
        if percent is not None and previous_percent is not None
        else None
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
            "split": _split(config, totals),
        },
        # The districts without figures of their own this period and their share of the need.
        "stale_need": {
            "count": len(stale.units),
            "names": [clean_text(d.name) for d in stale.units][:EMAIL_ROWS],
            "more": max(0, len(stale.units) - EMAIL_ROWS),
            "needed": stale.needed,
            "share": stale.share,
        },
        "has_previous": bool(previous),
        "unit_count": unit_count,
        "accepted_count": counts.get(ACCEPTED, 0),
        # Units without a valid report this period: counted with an earlier period's figures, or
        # without any.
        "carried_count": sum(1 for u in summary.units if u.status != ACCEPTED and u.carried_forward_from),
        "no_figures_count": sum(
            1 for u in summary.units if u.status != ACCEPTED and not u.carried_forward_from
        ),
        "status_counts": [
            {"status": s, "label": official_status(s), "count": counts.get(s, 0)} for s in STATUSES
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


@gc_paused()  # core.runtime: the collector would walk the task's whole heap again and again
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
