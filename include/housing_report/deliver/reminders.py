"""Reminders two days before a collection day, to the units that have not updated yet.

`pipeline.reminders.check_units` reads every unit's worksheet (the same source as the report)
and tells, for the coming period, which have updated (`KY_BAO_CAO` is the coming period) and
which have not (another period or none, no worksheet, or unreadable). `send_reminders` emails each
unit that has not updated, once per period (the send-once ledger, kind `reminder`), and
`notify_admins` sends the admins the list of who was reminded (kind `reminder_admins`): once
per period and list, so a retried task tells them nothing twice, and a later run of the period
tells them only a list that changed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from housing_report.archive.deliveries import DeliveryConflict
from housing_report.archive.store import ReportStore
from housing_report.config import Config, Contact, Unit
from housing_report.deliver.ledger import (
    REMINDER,
    REMINDER_ADMINS,
    DeliveryUncertain,
    Ledger,
    Mailer,
    PartialDelivery,
    content_digest,
)
from housing_report.deliver.transports import Delivery, DeliveryError, DeliveryOutcomeUnknown
from housing_report.render.reminders import render_reminder, render_reminder_admins
from housing_report.validate.freshness import UPDATED

log = logging.getLogger(__name__)


def reminder_key(unit: Unit) -> str:
    return Ledger.key(unit.emails, f"{REMINDER}:{unit.code}")


def admins_list_key(config: Config) -> str:
    """The log's key of the admins' list of a period."""
    return Ledger.key([a.email for a in config.report.admins], f"{REMINDER_ADMINS}:")


def send_reminders(
    config: Config,
    store: ReportStore,
    period: dt.date,
    run_id: str,
    states: Sequence[dict[str, Any]],
    delivery: Delivery,
    sender: str,
    message_id_domain: str,
    *,
    tell_admins: bool = False,
    force_resend: bool = False,
) -> dict[str, Any]:
    """Remind each unit that has not updated for `period`, at most once per period.

    `tell_admins`: a partial refusal or an unknown outcome is also told to the admins (`Ledger`),
    as the tasks do. `force_resend`: an admin checked the mailbox: a reminder whose outcome is
    unknown is sent again."""
    reply_to = config.report.admins[0] if config.report.admins else None
    admins = config.report.admins if tell_admins else ()
    ledger = Ledger(store, Mailer(delivery, sender, message_id_domain), run_id, admins)
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
        try:
            if ledger.previous(period, key, force_resend=force_resend) is not None:
                result["already"].append(unit.code)
                continue
        except DeliveryUncertain:  # in flight: it may have arrived
            result["already"].append(unit.code)
            continue
        message = ledger.build(
            render_reminder(config, unit, entry, period),
            to=[Contact(unit.name, e) for e in unit.emails],
            reply_to=reply_to,
        )
        try:
            ledger.send(message, period=period, key=key, kind=REMINDER, recipients=unit.emails)
        except DeliveryConflict:
            result["already"].append(unit.code)
            continue
        # partial: logged sent, never sent again; unknown: logged sending, never sent again
        except (DeliveryError, DeliveryOutcomeUnknown, PartialDelivery) as exc:
            result["failed"][unit.code] = str(exc)
            continue
        result["reminded"].append(unit.code)
    return result


def notify_admins(
    config: Config,
    store: ReportStore,
    result: dict[str, Any],
    run_id: str,
    delivery: Delivery,
    sender: str,
    message_id_domain: str,
) -> str | None:
    """Send the admins the list of units reminded (and those that could not be); the Message-ID,
    or None when there is nobody to tell or they have this list of the period already (or it is
    in flight: its outcome unknown, it is not sent again)."""
    if not config.report.admins:
        return None
    period = dt.date.fromisoformat(result["period"])
    ledger = Ledger(store, Mailer(delivery, sender, message_id_domain), run_id)
    addresses = [a.email for a in config.report.admins]
    key = admins_list_key(config)
    rendered = render_reminder_admins(config, result)
    digest = content_digest(rendered.subject, rendered.text)
    try:
        sent = ledger.previous(period, key)
    except DeliveryUncertain as exc:
        log.warning("Danh sách nhắc báo cáo cho quản trị: %s", exc)
        return None
    if sent is not None and sent.content_hash == digest:
        log.info("Quản trị đã nhận danh sách này của kỳ %s (%s)", result["period"], sent.message_id)
        return None
    message = ledger.build(rendered, to=list(config.report.admins))
    try:
        receipt = ledger.send(
            message,
            period=period,
            key=key,
            kind=REMINDER_ADMINS,
            recipients=addresses,
            # Each new list of the period follows the last one sent: one claim per state.
            version=sent.version + 1 if sent else 1,
            supersedes=sent.version if sent else 0,
            content_hash=digest,
        )
    except DeliveryConflict as exc:
        log.info("Danh sách nhắc báo cáo cho quản trị: %s", exc)
        return None
    return receipt.message_id
