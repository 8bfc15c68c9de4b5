"""What the official report says, as plain data (pure): the document, the annexes and the
email's additions (forecast, at-risk districts, monthly praise) are laid out from it.

`build_view(config, summary, earlier)` takes this period's summary and what the archive keeps
of the earlier periods' (oldest first, `ReportStore.history`'s points) and returns a dict that
extends the email's view (`render.email.build_context`) with the header of the document (issuing
body, number line, place and date, subject), the opening's basis, the body's figures by kind
of work and beneficiary group, by district (leading, lagging, each figure that is not this
period's or is being verified marked), funds, mobilisation and propaganda (with their units),
the lists D, E, F (difficulties and recommendations grouped by content, the units that raised
each named), the approver's parts (the config's defaults in a draft), the forecast with what
its pace was measured over and, on the last collection day of a month, the month's exemplary
models. A change is the difference of the figures as shown (rounded), so that the two agree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any

from housing_report.aggregate.forecast import (
    AT_RISK,
    Forecast,
    forecast_all,
    pace_label,
    province_points,
    stale_need,
)
from housing_report.aggregate.lists import group_entries
from housing_report.config import ApprovalPolicy, Config
from housing_report.core.approval import Approval
from housing_report.core.formatting import to_date, vn_date, vn_long_date, vn_number
from housing_report.core.models import TOTAL_ROW
from housing_report.core.statuses import ACCEPTED, official_status_label, status_label
from housing_report.core.summary import HistoryDistrict, HistoryPoint, Previous, Summary
from housing_report.core.text import clean_text, trim_text
from housing_report.render.email import build_context
from housing_report.render.figures import table_total

# Districts named as leading and as lagging in the body.
LEADING_COUNT = 3
PARTY_MOTTO = "ĐẢNG CỘNG SẢN VIỆT NAM"
STATE_MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
# The approver's parts when report.yaml has no `approval:`: the approval policy's own defaults
# (the approval form starts from `approval.assessment` / `approval.directions`).
_POLICY_DEFAULTS = {f.name: f.default for f in dataclasses.fields(ApprovalPolicy)}
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
                        "unit": template.figure_unit(k),
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


def rounded_change(current: float | None, previous: float | None, decimals: int = 1) -> float | None:
    """The change between two figures as the report shows them (rounded to `decimals`): 24,5% and
    20,4% differ by 4,1 points, whatever their unrounded values."""
    if current is None or previous is None:
        return None
    step = Decimal(1).scaleb(-decimals)
    shown = [Decimal(repr(float(v))).quantize(step, rounding=ROUND_HALF_UP) for v in (current, previous)]
    return float(shown[0] - shown[1])


def _kind_labels(labels: Sequence[str]) -> list[str]:
    """What tells columns apart once their common words are dropped: "Số nhà cần hỗ trợ xây mới",
    "Số nhà cần hỗ trợ sửa chữa" -> "xây mới", "sửa chữa" ([] when nothing is left)."""
    words = [label.split() for label in labels]
    common = 0
    while all(len(w) > common + 1 for w in words) and len({w[common].casefold() for w in words}) == 1:
        common += 1
    out = [" ".join(w[common:]) for w in words]
    return out if common and all(out) else []


def _house_kinds(config: Config, totals: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The province's houses by kind of work (xây mới, sửa chữa): one entry per column of the
    progress table's `needed` (with the `started` and `completed` of the same position)."""
    progress = config.report.progress
    section = config.template.section(progress.table)
    if len(progress.needed) < 2 or not len(progress.needed) == len(progress.started) == len(
        progress.completed
    ):
        return []
    columns = {c.code: c.label for c in section.columns}
    labels = _kind_labels([columns.get(c, c) for c in progress.needed])
    if not labels:
        return []

    def total(column: str) -> int:
        return int(table_total(dict(totals), section, column) or 0)

    return [
        {"label": label, "needed": total(n), "started": total(s), "completed": total(c)}
        for label, n, s, c in zip(labels, progress.needed, progress.started, progress.completed, strict=True)
    ]


def _grouped(
    summary: Summary, code: str, addressee: Callable[[str], str] | None = None
) -> list[dict[str, Any]]:
    """List `code`'s entries grouped by content (`aggregate.lists.group_entries`): each point once,
    the units that raised it named after it, the points most units raised first; with
    `addressee`, whom each asks to act."""
    entries = [e for e in summary.lists.get(code) or [] if clean_text(e.text)]
    return [
        {
            "text": trim_text(clean_text(g.text)).rstrip(" .;"),
            "units": [clean_text(u) for u in g.units],
            "addressee": clean_text(g.addressee),
        }
        for g in group_entries(entries, addressee)
    ]


_REQUEST_LEAD = re.compile(r"^(đề nghị|kiến nghị|đề xuất)[\s:,]+", re.IGNORECASE)


def request_text(text: str) -> str:
    """A recommendation without its leading "Đề nghị"/"Kiến nghị" (the report says whom it asks),
    first letter capitalised: "Đề nghị hướng dẫn thủ tục…" -> "Hướng dẫn thủ tục…"."""
    text = _REQUEST_LEAD.sub("", text, count=1)
    return text[:1].upper() + text[1:]


def _marks(district: Mapping[str, Any]) -> str:
    """What the report says beside a district's figure that is not this period's or not checked:
    "số liệu kỳ 27/02/2025", "số liệu đang được xác minh"."""
    marks = []
    if district["carried_from"]:
        marks.append(f"số liệu kỳ {district['carried_from']}")
    elif district["status"] != ACCEPTED:
        marks.append("chưa có số liệu kỳ này")
    if district["flagged"]:
        marks.append("số liệu đang được xác minh")
    return "; ".join(marks)


def _stale_need(summary: Summary) -> dict[str, Any] | None:
    """The districts without figures of their own this period and their share of the need."""
    stale = stale_need(summary)
    if not stale.units:
        return None
    return {"units": [clean_text(d.name) for d in stale.units], "needed": stale.needed, "share": stale.share}


def _pace_basis(province: Forecast) -> str:
    """Over what the province's pace was measured: "tính trên 8/11 địa bàn có số liệu cả kỳ này và
    kỳ trước, trong 13 ngày" ('' when it was not measured on districts)."""
    if not province.units_measured or not province.days_measured:
        return ""
    return (
        f"tính trên {vn_number(province.units_measured)}/{vn_number(province.units_total)} địa bàn "
        f"có số liệu cả kỳ này và kỳ trước, trong {vn_number(province.days_measured)} ngày"
    )


def _apart(config: Config, summary: Summary) -> dict[str, Any] | None:
    """The money `funds_apart` shows beside the province's total, not in it: what the Mặt trận and
    the đoàn thể mobilised (the first column of its table, all rows), with its label and unit."""
    rule = config.report.funds_apart
    if not summary.apart:
        return None
    try:
        section = config.template.section(rule.section)
    except KeyError:
        return None
    if not section.columns:
        return None
    column = section.columns[0].code
    total = summary.apart.get(f"{section.code}.{TOTAL_ROW}.{column}")
    if total is None:
        total = sum(v for k, v in summary.apart.items() if k.endswith(f".{column}") and TOTAL_ROW not in k)
    if not total:
        return None
    return {"label": clean_text(rule.label), "value": total, "unit": section.unit}


def _by_addressee(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The recommendations under whom they ask, in the order of their first (most-named) point."""
    out: dict[str, dict[str, Any]] = {}
    for g in groups:
        out.setdefault(g["addressee"], {"addressee": g["addressee"], "items": []})["items"].append(g)
    return list(out.values())


def _paragraphs(text: str) -> list[str]:
    return [p for p in (clean_text(x) for x in text.splitlines()) if p]


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
        district = {
            "code": d.code,
            "name": clean_text(d.name),
            "status": d.status,
            "status_label": status_label(d.status),
            "official_status": official_status_label(d.status),
            "carried_from": vn_date(d.carried_forward_from),
            "needed": d.needed,
            "started": d.started,
            "completed": d.completed,
            "percent": d.percent if d.needed else None,
            # None without this period's own figures: printed "–", never 0 (summaries archived
            # before `District.change` said so hold 0 for a district that did not report).
            "change": d.change if d.status == ACCEPTED else None,
            "flagged": d.flagged,
            "forecast": f,
            "forecast_label": f.label() if f else "",
        }
        district["marks"] = _marks(district)
        districts.append(district)
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
            "official_status": official_status_label(u.status),
            "carried": vn_date(u.carried_forward_from),
        }
        for u in summary.units
        if u.status != ACCEPTED
    ]
    province = forecasts["province"]
    signature = issuer.signature
    number = approval.number.strip() if approval else ""
    policy = report.approval
    defaults = policy or SimpleNamespace(**_POLICY_DEFAULTS)
    assessment = approval.assessment if approval else defaults.assessment
    directions = approval.directions if approval else defaults.directions
    percent = base["headline"]["percent"]
    previous_percent = base["headline"]["previous_percent"]
    # The body addresses each recommendation to whoever can act on it (report.yaml).
    recommendations = report.recommendations
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
        # "(Kèm theo Báo cáo số      -BC/BTGTU ngày 12/03/2025 của Ban Tuyên giáo Tỉnh ủy)" under
        # each annex's title.
        "attached_to": f"Báo cáo s{number_line(issuer.kind, issuer.report_number_prefix, number)[1:]} "
        f"ngày {vn_date(period)} của {issuer.name_in_text}",
        "issuer_name": issuer.name_in_text,
        "basis": issuer.basis,
        "approval": {"number": approval.number} if approval else None,
        "assessment": _paragraphs(assessment),
        "directions": _paragraphs(directions),
        "house_kinds": _house_kinds(config, totals),
        "percent_change_shown": rounded_change(percent, previous_percent),
        "carried_count": sum(1 for u in not_accepted if u["carried"]),
        "difficulties": _grouped(summary, "E"),
        "requests": _by_addressee(
            [
                {**g, "text": request_text(g["text"])}
                for g in _grouped(summary, recommendations.list, recommendations.addressee)
            ]
        ),
        "requests_list": recommendations.list,
        "stale_need": _stale_need(summary),
        "pace_basis": _pace_basis(province),
        "apart": _apart(config, summary),
        "long_date": vn_long_date(issuer.place, period),
        # The subject (trích yếu): its last words and the date kept on one line (no-break spaces),
        # so the date never stands alone on the last line.
        "subject": (
            f"Kết quả thực hiện {report.programme.short_title} "
            + "\u00a0".join(f"trên địa bàn tỉnh đến ngày {vn_date(period)}".split())
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
