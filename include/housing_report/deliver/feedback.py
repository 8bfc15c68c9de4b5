"""Feedback to the units: right after collection, one email to each unit with something to fix.

A unit whose report is `rejected` or `stale`, or that has warnings, gets one email (to its
`emails` in units.yaml) listing each finding: the cell, what was found and how to fix it,
with the link to its Google Sheet. Units with nothing to fix get nothing.

Each email goes through the send-once ledger (`deliver.ledger`: kind `feedback`, a key of its
own per unit), like the report: never twice for a version, and a re-run of the period tells a
unit again only when what it has to fix has changed. A refused attempt lists the unit as failed
(a retry sends), and so does, on every later attempt, one whose outcome is unknown (never sent
again, the admins told once with the Message-ID) or that reached some of the unit's addresses
only (never again to those who have it), until `force_resend` sends it: again, or to the
refused addresses alone. An attempt another run holds skips the unit (with the reason).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from housing_report.archive.deliveries import DeliveryConflict
from housing_report.archive.store import ReportStore
from housing_report.config import Config, Contact, Unit
from housing_report.core.summary import UnitEntry
from housing_report.deliver.ledger import FEEDBACK, DeliveryUncertain, Ledger, Mailer, PartialDelivery
from housing_report.deliver.transports import Delivery, DeliveryError, DeliveryOutcomeUnknown
from housing_report.render.feedback import needs_feedback, render_feedback

log = logging.getLogger(__name__)


class FeedbackError(RuntimeError):
    """Some feedback emails could not be sent (the others were); a retry sends the rest."""


@dataclass
class FeedbackOutcome:
    sent: list[str] = field(default_factory=list)  # unit codes
    skipped: dict[str, str] = field(default_factory=dict)  # unit code -> why (Vietnamese)
    failed: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "skipped": self.skipped, "failed": self.failed}


def content_hash(unit_entry: UnitEntry) -> str:
    """What the unit is told: its status and findings (not the version or the time)."""
    payload = {
        "status": unit_entry.status,
        "errors": [[f.cell, f.message] for f in unit_entry.errors],
        "warnings": [[f.cell, f.message] for f in unit_entry.warnings],
    }
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def feedback_key(unit: Unit) -> str:
    """The delivery log's key of a unit's feedback: its own, whoever else shares its addresses."""
    return Ledger.key(unit.emails, f"{FEEDBACK}:{unit.code}")


def send_feedback(
    config: Config,
    store: ReportStore,
    period: dt.date,
    run_id: str,
    delivery: Delivery,
    sender: str,
    message_id_domain: str,
    *,
    tell_admins: bool = False,
    force_resend: bool = False,
) -> FeedbackOutcome:
    """Email each unit with something to fix in this run's version of the period, as the log allows.

    `tell_admins`: a partial refusal or an unknown outcome is also told to the admins (`Ledger`),
    as the tasks do. `force_resend`: an admin checked the mailboxes: send what may not have
    arrived (again, or to the refused addresses alone)."""
    row = store.summary_row(period, run_id)
    if row is None:
        raise RuntimeError(f"Không tìm thấy bản tổng hợp kỳ {period:%d/%m/%Y} của lần chạy {run_id}.")
    admins = config.report.admins if tell_admins else ()
    ledger = Ledger(store, Mailer(delivery, sender, message_id_domain), run_id, admins)
    outcome = FeedbackOutcome()
    reply_to = config.report.admins[0] if config.report.admins else None
    for entry in row.summary.units:
        if not needs_feedback(entry):
            continue
        try:
            unit = config.unit(entry.code)
        except KeyError:
            continue  # removed from units.yaml since
        if not unit.emails:
            outcome.skipped[unit.code] = "đơn vị chưa có email trong units.yaml"
            continue
        key = feedback_key(unit)
        digest = content_hash(entry)
        to = [Contact(unit.name, e) for e in unit.emails]
        try:
            sent = ledger.previous(period, key, force_resend=force_resend)
            standing = ledger.standing_partial(period, sent, force_resend=force_resend)
            if standing is not None and not force_resend:
                outcome.failed[unit.code] = str(
                    ledger.partial_stands(standing, f"Thư phản hồi cho {unit.code}")
                )
                continue
            if standing is not None:  # force_resend: the refused addresses alone
                ledger.send(
                    ledger.build(
                        render_feedback(entry, row.summary, config),
                        to=[c for c in to if c.email in standing.refused],
                        reply_to=reply_to,
                    ),
                    period=period,
                    key=ledger.rest_key(standing.row, standing.refused),
                    kind=FEEDBACK,
                    recipients=list(standing.refused),
                    version=standing.row.version,
                    content_hash=digest,
                )
                log.info("Đã gửi lại thư phản hồi cho %s: %s", unit.code, ", ".join(standing.refused))
                outcome.sent.append(unit.code)
        except DeliveryUncertain as exc:
            outcome.failed[unit.code] = (
                f"lần gửi trước (Message-ID {exc.pending.message_id}) chưa rõ kết quả; không gửi lại "
                "để tránh trùng. Nếu thư chưa đến, chạy lại với tham số force_resend."
            )
            continue
        except DeliveryConflict as exc:
            outcome.skipped[unit.code] = str(exc)
            continue
        except (DeliveryError, DeliveryOutcomeUnknown, PartialDelivery) as exc:
            outcome.failed[unit.code] = str(exc)
            continue
        if sent is not None and (sent.version == row.version or sent.content_hash == digest):
            if unit.code not in outcome.sent:  # not just sent to its refused addresses
                outcome.skipped[unit.code] = f"đã báo cho đơn vị nội dung này ({sent.message_id})"
            continue
        message = ledger.build(render_feedback(entry, row.summary, config), to=to, reply_to=reply_to)
        try:
            receipt = ledger.send(
                message,
                period=period,
                key=key,
                kind=FEEDBACK,
                recipients=unit.emails,
                version=row.version,
                supersedes=sent.version if sent else 0,
                content_hash=digest,
            )
        except DeliveryConflict as exc:
            outcome.skipped[unit.code] = str(exc)
            continue
        # partial: logged sent, never sent again; unknown: logged sending, never sent again
        except (DeliveryError, DeliveryOutcomeUnknown, PartialDelivery) as exc:
            outcome.failed[unit.code] = str(exc)
            log.error("Không gửi được thư phản hồi cho %s: %s", unit.code, exc)
            continue
        outcome.sent.append(unit.code)
        log.info("Đã gửi thư phản hồi cho %s (%s): %s", unit.code, ", ".join(unit.emails), receipt.message_id)
    return outcome
