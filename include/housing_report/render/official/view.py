"""What the official report says, as plain data (pure): the document, the annexes and the
email's additions (forecast, at-risk districts, monthly praise) are laid out from it.

`build_view(config, summary, earlier)` takes this period's summary and what the archive keeps
of the earlier periods' (oldest first, `ReportStore.history`'s points) and returns a dict that
extends the email's view (`render.email.build_context`) with the header of the document (issuing
body, number line, place and date, subject), the body's figures by beneficiary group, by
district (leading, lagging), funds, mobilisation and propaganda, the lists D, E, F, the
forecast and, on the last collection day of a month, the month's exemplary models.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from housing_report.aggregate.forecast import AT_RISK, forecast_all, pace_label, province_points
from housing_report.config import Config
from housing_report.core.approval import Approval
from housing_report.core.formatting import to_date, vn_date, vn_long_date
from housing_report.core.models import TOTAL_ROW
from housing_report.core.statuses import ACCEPTED, status_label
from housing_report.core.summary import HistoryDistrict, HistoryPoint, Previous, Summary
from housing_report.core.text import clean_text, trim_text
from housing_report.render.email import build_context
from housing_report.render.figures import table_total

# Districts named as leading and as lagging in the body.
LEADING_COUNT = 3
PARTY_MOTTO = "ĐẢNG CỘNG SẢN VIỆT NAM"
STATE_MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
# Width of the blank left for the number, which the clerk (văn thư) writes when the report is signed.
NUMBER_BLANK = "\u00a0" * 8


def number_line(kind: str, prefix: str, number: str = "") -> str:
    """ "Số 12-BC/BTGTU" (Party) or "Số: 12/BC-UBND" (state); without `number`, a blank to fill."""
    value = number or NUMBER_BLANK
    return f"Số {value}-{prefix}" if kind == "party" else f"Số: {value}/{prefix}"


def is_month_end_run(config: Config, period: dt.date) -> bool:
    """The month's last collection day (the 27th): the run that compiles the month's praise."""
    return period.day == max(config.report.schedule.collection_days)


def _entries(summary: Summary | HistoryPoint, code: str, with_place: bool) -> list[dict[str, str]]:
    return [
        {
            "unit_code": clean_text(item.unit_code),
            "unit_name": clean_text(item.unit_name),
            "text": trim_text(clean_text(item.text)),
            "place": clean_text(item.place or "") if with_place else "",
            "period_label": vn_date(summary.period),
        }
        for item in summary.lists.get(code) or []
        if clean_text(item.text)
    ]


def monthly_praise(
    config: Config, summary: Summary, earlier: Sequence[HistoryPoint]
) -> dict[str, Any] | None:
    """On the month's last collection day: the list D entries of every period of the month
    (earlier ones from the archive), each model once; else None."""
    period = to_date(summary.period)
    if not is_month_end_run(config, period):
        return None
    list_code = next((s.code for s in config.template.sections if s.kind == "list" and s.place), None)
    if list_code is None:
        return None
    place = True
    month: list[Summary | HistoryPoint] = [
        s for s in earlier if (d := to_date(s.period)).year == period.year and d.month == period.month
    ]
    month = [s for s in month if to_date(s.period) < period] + [summary]
    seen: set[tuple[str, str, str]] = set()
    entries = []
    for s in month:
        for e in _entries(s, list_code, place):
            key = (e["unit_code"], e["text"].casefold(), e["place"].casefold())
            if key not in seen:
                seen.add(key)
                entries.append(e)
    return {
        "month_label": f"tháng {period.month}/{period.year}",
        "periods": [vn_date(s.period) for s in month],
        "list_label": config.template.section(list_code).label,
        "entries": entries,
    }


def _groups(config: Config, totals: Mapping[str, Any]) -> list[dict[str, Any]]:
    progress = config.report.progress
    section = config.template.section(progress.table)
    rows = [*((r.code, r.label) for r in section.rows), (TOTAL_ROW, "Tổng cộng")]
    out = []
    for code, label in rows:

        def total(cols: tuple[str, ...], row: str = code) -> int:
            return int(sum(totals.get(f"{progress.table}.{row}.{c}") or 0 for c in cols))

        needed, started, completed = (
            total(progress.needed),
            total(progress.started),
            total(progress.completed),
        )
        out.append(
            {
                "code": code,
                "label": label,
                "needed": needed,
                "started": started,
                "completed": completed,
                "percent": round(100 * completed / needed, 2) if needed else None,
                "total": code == TOTAL_ROW,
            }
        )
    return out


def _funds(config: Config, totals: Mapping[str, Any]) -> dict[str, Any] | None:
    """The money table (the first table with money): its rows and totals by column."""
    section = next((s for s in config.template.sections if s.kind == "table" and s.value == "money"), None)
    if section is None:
        return None
    columns = [{"code": c.code, "label": c.label} for c in section.columns]
    rows = [
        {
            "label": r.label,
            "values": [totals.get(f"{section.code}.{r.code}.{c.code}") for c in section.columns],
        }
        for r in section.rows
    ]
    total = [table_total(dict(totals), section, c.code) for c in section.columns]
    first, last = total[0] or 0, total[-1] or 0
    return {
        "label": section.label,
        "unit": section.unit,
        "columns": columns,
        "rows": rows,
        "total": total,
        "share": round(100 * last / first, 2) if len(total) > 1 and first else None,
    }


def _fields(config: Config, totals: Mapping[str, Any], change: Mapping[str, Any]) -> list[dict[str, Any]]:
    template = config.template
    out = []
    for section in template.sections:
        if section.kind != "fields" or not section.figure_keys():
            continue
        out.append(
            {
                "code": section.code,
                "label": section.label,
                "cumulative": section.cumulative,
                "entries": [
                    {
                        "label": template.figure_label(k),
                        "value": totals.get(k),
                        "change": change.get(k) if section.cumulative else None,
                    }
                    for k in section.figure_keys()
                ],
            }
        )
    return out


def _previous_point(summary: Summary, previous: Previous) -> HistoryPoint:
    """The previous period as a point of the history, from what this summary says of it: used
    when the archive does not hold that period (a district's needed count is this period's)."""
    return HistoryPoint(
        period=previous.period,
        houses=previous.houses,
        districts=[
            HistoryDistrict(code=d.code, completed=d.previous_completed, needed=d.needed)
            for d in summary.districts
            if d.previous_completed is not None
        ],
    )


def build_view(
    config: Config,
    summary: Summary,
    earlier: Sequence[HistoryPoint] = (),
    approval: Approval | None = None,
) -> dict[str, Any]:
    """The official report's view of `summary` (see the module's docstring); with `approval`, the
    approved document: its number, the approver's text, and a signature block to sign."""
    report = config.report
    issuer = report.issuer
    period = to_date(summary.period)
    target = report.programme.target_date
    base = build_context(summary, config)
    totals = summary.totals
    before: list[Summary | HistoryPoint] = [s for s in earlier if to_date(s.period) < period]
    if not before and summary.previous:
        before = [_previous_point(summary, summary.previous)]
    history = [*before, summary]
    forecasts = forecast_all(before, summary, target)
    by_code = {f.code: f for f in forecasts["districts"]}

    districts = []
    for d in summary.districts:
        f = by_code.get(d.code)
        districts.append(
            {
                "code": d.code,
                "name": clean_text(d.name),
                "status": d.status,
                "status_label": status_label(d.status),
                "carried_from": vn_date(d.carried_forward_from),
                "needed": d.needed,
                "started": d.started,
                "completed": d.completed,
                "percent": d.percent if d.needed else None,
                "change": d.change,
                "forecast": f,
                "forecast_label": f.label() if f else "",
            }
        )
    ranked = sorted(
        (d for d in districts if d["percent"] is not None), key=lambda d: (-d["percent"], d["name"])
    )
    leading = ranked[:LEADING_COUNT]
    lagging = [d for d in ranked[::-1] if d not in leading][:LEADING_COUNT]

    lists = {
        s.code: {"label": s.label, "entries": _entries(summary, s.code, s.place)}
        for s in config.template.sections
        if s.kind == "list"
    }
    not_accepted = [
        {
            "name": clean_text(u.name),
            "status_label": status_label(u.status),
            "carried": vn_date(u.carried_forward_from),
        }
        for u in summary.units
        if u.status != ACCEPTED
    ]
    province = forecasts["province"]
    signature = issuer.signature
    number = approval.number.strip() if approval else ""
    return {
        **base,
        "issuer": {
            "kind": issuer.kind,
            "parent": issuer.parent.upper(),
            "name": issuer.name.upper(),
            "place": issuer.place,
        },
        "motto": [PARTY_MOTTO] if issuer.kind == "party" else list(STATE_MOTTO),
        "number_line": number_line(issuer.kind, issuer.report_number_prefix, number),
        # "(Kèm theo Báo cáo số      -BC/BTGTU ngày 12/03/2025)" under each annex's title.
        "attached_to": f"Báo cáo s{number_line(issuer.kind, issuer.report_number_prefix, number)[1:]} "
        f"ngày {vn_date(period)}",
        "approval": (
            {
                "number": approval.number,
                "assessment": [p for p in (clean_text(x) for x in approval.assessment.splitlines()) if p],
                "directions": [p for p in (clean_text(x) for x in approval.directions.splitlines()) if p],
            }
            if approval
            else None
        ),
        "long_date": vn_long_date(issuer.place, period),
        "subject": (
            f"Tiến độ thực hiện {report.programme.short_title} trên địa bàn tỉnh, "
            f"kỳ báo cáo ngày {vn_date(period)}"
        ),
        "period_date": vn_date(period),
        "target_label": vn_date(target),
        "groups": _groups(config, totals),
        "districts_full": districts,
        "leading": leading,
        "lagging": lagging,
        "funds": _funds(config, totals),
        "field_sections": _fields(config, totals, summary.change),
        "official_lists": lists,
        "not_accepted": not_accepted,
        "forecast": {
            "province": province,
            "province_pace": pace_label(province),
            "districts": forecasts["districts"],
            "at_risk": [f for f in forecasts["districts"] if f.status == AT_RISK],
            "periods": len(history),
        },
        "praise": monthly_praise(config, summary, earlier),
        "places_to_send": list(issuer.places_to_send),
        "archive": issuer.archive,
        "signature": {
            "authority": signature.authority if signature else "",
            "title": signature.title if signature else "",
            "name": signature.name if signature else "",
        },
        "history_periods": [vn_date(s.period) for s in history],
        "province_points": province_points(history),
    }
