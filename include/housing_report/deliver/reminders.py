"""Reminders two days before a collection day, to the units that have not updated yet.

`pipeline.reminders.check_units` reads every unit's worksheet (the same source as the report)
and tells, for the coming period, which have updated (`KY_BAO_CAO` is the coming period) and
which have not (another period or none, no worksheet, or unreadable). `send_reminders` emails each
unit that has not updated, once per period (the delivery log, kind `reminder`), and
`notify_admins` sends the admins the list of who was reminded.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from housing_report.archive.deliveries import FAILED, SENT, DeliveryConflict, recipients_key
from housing_report.archive.store import ReportStore
from housing_report.config import Config, Contact, Unit
from housing_report.deliver.message import build_message
from housing_report.deliver.transports import Delivery, DeliveryError
from housing_report.render.reminders import render_reminder, render_reminder_admins
from housing_report.validate.freshness import UPDATED

log = logging.getLogger(__name__)

REMINDER = "reminder"


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
    reply_to = config.report.admins[0] if config.report.admins else None
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
        message = build_message(
            render_reminder(config, unit, entry, period),
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
    if not config.report.admins:
        return None
    message = build_message(
        render_reminder_admins(config, result),
        sender=sender,
        to=list(config.report.admins),
        cc=[],
        attachments=[],
        message_id_domain=message_id_domain,
    )
    delivery.deliver(message)
    return str(message["Message-ID"])
