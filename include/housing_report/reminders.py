"""Reminders two days before a collection day, to the units that have not updated yet.

`check_units` reads every unit's worksheet (the same source as the report) and tells, for
the coming period, which have updated (`KY_BAO_CAO` is the coming period) and which have
not (another period or none, no worksheet, or unreadable). `send_reminders` emails each
unit that has not updated, once per period (the delivery log, kind `reminder`), and
`notify_admins` sends the admins the list of who was reminded.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from collections.abc import Sequence
from typing import Any

from housing_report.config import Config, Contact, Template, Unit
from housing_report.delivery import Delivery, DeliveryError
from housing_report.models import FETCH_OK, MISSING, Grid
from housing_report.periods import latest_period_on, next_period, vn_date
from housing_report.render import RenderedEmail, clean_text, make_environment
from housing_report.sources.base import ReportSource
from housing_report.store import FAILED, SENT, DeliveryConflict, ReportStore, recipients_key
from housing_report.values import read_date

log = logging.getLogger(__name__)

REMINDER = "reminder"
UPDATED, NOT_UPDATED = "updated", "not_updated"
SHEET_URL = "https://docs.google.com/spreadsheets/d/{spreadsheet}/edit"


def coming_period(day: dt.date, days: Sequence[int]) -> dt.date:
    """The first collection day on or after `day` (the 10th -> the 12th)."""
    latest = latest_period_on(day, days)
    return latest if latest == day else next_period(latest, days)


def sheet_period(grid: Grid, template: Template) -> dt.date | None:
    """The date in the `KY_BAO_CAO` row's value cell, or None (no such row, not a date)."""
    code = next(
        (f.code for s in template.sections if s.kind == "fields" for f in s.fields if f.value == "period"),
        "KY_BAO_CAO",
    )
    for cells in grid.rows:
        if not cells or cells[0] is None:
            continue
        if unicodedata.normalize("NFC", str(cells[0])).strip().upper() == code:
            day, problem = read_date(cells[2] if len(cells) > 2 else None)
            return None if problem else day
    return None


def check_units(
    config: Config, unit_codes: Sequence[str], period: dt.date, source: ReportSource
) -> list[dict[str, Any]]:
    """For each unit: {code, state (updated | not_updated | missing | unreachable), found, reason}."""
    units: list[Unit] = [config.unit(code) for code in unit_codes]
    out = []
    for unit, result in zip(units, source.fetch(units), strict=True):
        found = None
        if result.status == FETCH_OK and result.grid is not None:
            found = sheet_period(result.grid, config.template)
            state = UPDATED if found == period else NOT_UPDATED
        else:
            state = result.status
        out.append(
            {
                "code": unit.code,
                "state": state,
                "found": found.isoformat() if found else None,
                "reason": result.reason,
            }
        )
        log.info(
            "Đơn vị %s (%s): %s%s", unit.code, unit.name, state, f", kỳ ghi {vn_date(found)}" if found else ""
        )
    return out


def _render(name: str, context: dict[str, Any]) -> RenderedEmail:
    env = make_environment()
    return RenderedEmail(
        subject=clean_text(env.get_template(f"{name}_subject.txt.j2").render(context)),
        html=unicodedata.normalize("NFC", env.get_template(f"{name}.html.j2").render(context)),
        text=unicodedata.normalize("NFC", env.get_template(f"{name}.txt.j2").render(context)),
    )


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


def reminder_key(unit: Unit) -> str:
    return recipients_key([f"{REMINDER}:{unit.code}", *unit.emails])


def send_reminders(
    config: Config,
    store: ReportStore,
    period: dt.date,
    run_id: str,
    states: Sequence[dict[str, Any]],
    delivery: Delivery,
    sender: str,
    message_id_domain: str,
) -> dict[str, Any]:
    """Remind each unit that has not updated for `period`, at most once per period."""
    from housing_report.email_message import build_message

    reply_to = config.report.admins[0] if config.report.admins else None
    deadline = f"{config.report.schedule.hour:02d}:00 ngày {vn_date(period)}"
    result: dict[str, Any] = {
        "period": period.isoformat(),
        "updated": [],
        "reminded": [],
        "already": [],
        "no_email": [],
        "failed": {},
    }
    for entry in states:
        unit = config.unit(entry["code"])
        if entry["state"] == UPDATED:
            result["updated"].append(unit.code)
            continue
        if not unit.emails:
            result["no_email"].append(unit.code)
            continue
        key = reminder_key(unit)
        if store.last_sent(period, key) is not None or store.in_flight(period, key) is not None:
            result["already"].append(unit.code)
            continue
        context = {
            "unit_name": unit.name,
            "period_label": vn_date(period),
            "deadline": deadline,
            "short_title": config.report.programme.short_title,
            "why": _why(entry, unit),
            "worksheet": unit.worksheet,
            "sheet_url": SHEET_URL.format(spreadsheet=unit.spreadsheet),
            "admins": [{"name": a.name, "email": a.email} for a in config.report.admins],
        }
        message = build_message(
            _render("reminder", context),
            sender=sender,
            to=[Contact(unit.name, e) for e in unit.emails],
            cc=[],
            attachments=[],
            message_id_domain=message_id_domain,
            reply_to=reply_to,
        )
        try:
            claim = store.claim_delivery(
                period=period,
                version=0,
                run_id=run_id,
                kind=REMINDER,
                recipients=list(unit.emails),
                supersedes=0,
                message_id=str(message["Message-ID"]),
                key=key,
            )
        except DeliveryConflict:
            result["already"].append(unit.code)
            continue
        try:
            delivery.deliver(message)
        except DeliveryError as exc:
            store.finish_delivery(claim, SENT if exc.delivered_to else FAILED, str(exc))
            result["failed"][unit.code] = str(exc)
            continue
        store.finish_delivery(claim, SENT)
        result["reminded"].append(unit.code)
    return result


def notify_admins(
    config: Config, result: dict[str, Any], delivery: Delivery, sender: str, message_id_domain: str
) -> str | None:
    """Send the admins the list of units reminded (and those that could not be); the Message-ID."""
    from housing_report.email_message import build_message

    if not config.report.admins:
        return None
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
    message = build_message(
        _render("reminder_admins", context),
        sender=sender,
        to=list(config.report.admins),
        cc=[],
        attachments=[],
        message_id_domain=message_id_domain,
    )
    delivery.deliver(message)
    return str(message["Message-ID"])
