"""The pre-check's mail to the units: only when something changed.

After a pre-check, each unit checked in that run (`precheck_checks`) may get, through the
send-once ledger (`deliver.ledger`):

- its findings (the feedback email, `render_precheck_feedback`: kind `precheck`, key
  `precheck:<unit>`) when they differ from the last list it was sent in the period, or when it
  was told "Đã tiếp nhận" since: never the same list again the next day. Each new list follows
  the last one sent (`version` n+1 superseding n: one claim per state), and its content hash is
  the findings' signature, so a retried task finds it sent and sends nothing;
- "Đã tiếp nhận" (kind `precheck_ok`), once per period, when its sheet passes (no error, no
  warning).

A unit whose sheet is not updated for the period (stale) or could not be read gets nothing from
the pre-check (the reminder and the report tell it), unless its feedback could not be written
into its spreadsheet: then the email is its only channel, and the admins are told once per
period and unit (an alert through the same ledger). Officials never get mail from here.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from housing_report.archive.deliveries import DeliveryConflict
from housing_report.archive.store import ReportStore
from housing_report.config import Config, Contact, Unit
from housing_report.core.statuses import ACCEPTED, ERROR, REJECTED, STALE, STATUS_OF, WARNING, status_label
from housing_report.core.summary import FindingEntry, UnitEntry
from housing_report.deliver.ledger import (
    PRECHECK,
    PRECHECK_OK,
    DeliveryUncertain,
    Ledger,
    Mailer,
    PartialDelivery,
)
from housing_report.deliver.transports import DeliveryError, DeliveryOutcomeUnknown
from housing_report.precheck.run import findings_hash, precheck_run_id
from housing_report.render.feedback import render_precheck_accepted, render_precheck_feedback

log = logging.getLogger(__name__)


@dataclass
class MessagesOutcome:
    told: list[str] = field(default_factory=list)  # findings sent (they changed)
    confirmed: list[str] = field(default_factory=list)  # "Đã tiếp nhận" sent
    unchanged: list[str] = field(default_factory=list)  # nothing new to tell
    alerted: list[str] = field(default_factory=list)  # admins told: feedback not writable
    skipped: dict[str, str] = field(default_factory=dict)  # unit code -> why (Vietnamese)
    failed: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "told": self.told,
            "confirmed": self.confirmed,
            "unchanged": self.unchanged,
            "alerted": self.alerted,
            "skipped": self.skipped,
            "failed": self.failed,
        }


def precheck_key(unit: Unit) -> str:
    return Ledger.key(unit.emails, f"{PRECHECK}:{unit.code}")


def confirmation_key(unit: Unit) -> str:
    return Ledger.key(unit.emails, f"{PRECHECK_OK}:{unit.code}")


def _entry(unit: Unit, status: str, findings: list[dict[str, str]]) -> UnitEntry:
    def entries(severity: str) -> list[FindingEntry]:
        return [
            FindingEntry(cell=f["cell"], code=f.get("code", ""), message=f["message"])
            for f in findings
            if f["severity"] == severity
        ]

    return UnitEntry(
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        status=STATUS_OF[status],
        status_label=status_label(status),
        errors=entries(ERROR),
        warnings=entries(WARNING),
        spreadsheet=unit.spreadsheet,
        worksheet=unit.worksheet,
    )


def send_messages(
    config: Config,
    store: ReportStore,
    period: dt.date,
    run_id: str,
    mailer: Mailer,
    *,
    tell_admins: bool = True,
    force_resend: bool = False,
) -> MessagesOutcome:
    """Tell each unit checked in run `run_id` what changed (see the module's docstring)."""
    stored_run = precheck_run_id(run_id)
    codes = [u.code for u in config.units]
    checks = {c: k for c, k in store.last_checks(period, codes).items() if k.run_id == stored_run}
    reads = store.latest_reads(period, stored_run, list(checks))
    admins = config.report.admins if tell_admins else ()
    ledger = Ledger(store, mailer, run_id, admins)
    reply_to = config.report.admins[0] if config.report.admins else None
    outcome = MessagesOutcome()
    for code, check in checks.items():
        unit = config.unit(code)
        read = reads.get(code)
        unwritable = not check.written_to
        if unwritable:
            _alert_unwritable(ledger, config, unit, period, outcome)
        if read is None:
            continue
        findings = [f for f in read.findings if f.get("severity") in (ERROR, WARNING)]
        passes = read.status == ACCEPTED and not findings
        tells = (
            read.status == REJECTED
            or (read.status == ACCEPTED and findings)
            or (read.status == STALE and unwritable)
        )
        if not (passes or tells):
            continue
        if not unit.emails:
            outcome.skipped[code] = "đơn vị chưa có email trong units.yaml"
            continue
        to = [Contact(unit.name, e) for e in unit.emails]
        try:
            if passes:
                _confirm(ledger, config, unit, period, check.checked_at, to, reply_to, outcome, force_resend)
            else:
                digest = findings_hash(read.status, findings)
                entry = _entry(unit, read.status, findings)
                _tell(ledger, config, unit, period, entry, digest, to, reply_to, outcome, force_resend)
        except DeliveryUncertain as exc:
            outcome.failed[code] = (
                f"lần gửi trước (Message-ID {exc.pending.message_id}) chưa rõ kết quả; không gửi lại để "
                "tránh trùng. Nếu thư chưa đến, chạy lại với tham số force_resend."
            )
        except DeliveryConflict as exc:
            outcome.skipped[code] = str(exc)
        except (DeliveryError, DeliveryOutcomeUnknown, PartialDelivery) as exc:
            outcome.failed[code] = str(exc)
            log.error("Không gửi được thư kiểm tra cho %s: %s", code, exc)
    return outcome


def _confirm(ledger, config, unit, period, checked_at, to, reply_to, outcome, force_resend) -> None:
    key = confirmation_key(unit)
    if ledger.previous(period, key, force_resend=force_resend) is not None:
        outcome.unchanged.append(unit.code)
        return
    message = ledger.build(
        render_precheck_accepted(unit.code, period, checked_at, config), to=to, reply_to=reply_to
    )
    ledger.send(message, period=period, key=key, kind=PRECHECK_OK, recipients=list(unit.emails))
    outcome.confirmed.append(unit.code)
    log.info("Đã gửi xác nhận Đã tiếp nhận cho %s", unit.code)


def _tell(ledger, config, unit, period, entry, digest, to, reply_to, outcome, force_resend) -> None:
    key = precheck_key(unit)
    sent = ledger.previous(period, key, force_resend=force_resend)
    if sent is not None and sent.content_hash == digest:
        confirmed = ledger.previous(period, confirmation_key(unit))
        if confirmed is None or confirmed.started_at < sent.started_at:
            outcome.unchanged.append(unit.code)  # the same list it was last told
            return
    message = ledger.build(render_precheck_feedback(entry, period, config), to=to, reply_to=reply_to)
    ledger.send(
        message,
        period=period,
        key=key,
        kind=PRECHECK,
        recipients=list(unit.emails),
        # Each new list of the period follows the last one sent: one claim per state.
        version=sent.version + 1 if sent else 1,
        supersedes=sent.version if sent else 0,
        content_hash=digest,
    )
    outcome.told.append(unit.code)
    log.info("Đã gửi kết quả kiểm tra (đã thay đổi) cho %s", unit.code)


def _alert_unwritable(
    ledger: Ledger, config: Config, unit: Unit, period: dt.date, outcome: MessagesOutcome
) -> None:
    """Tell the admins, once per period and unit, that the unit's spreadsheet no longer takes the
    feedback (the unit gets it by email instead)."""
    lines = [
        f"Kỳ báo cáo {period:%d/%m/%Y}: hệ thống không ghi được kết quả kiểm tra vào bảng tính của "
        f"{unit.name} (trang KiemTra).",
        "Thường do tài khoản dịch vụ không còn quyền chỉnh sửa bảng tính. Đơn vị sẽ nhận kết quả "
        "kiểm tra qua email cho đến khi quyền được cấp lại.",
        "Hãy chia sẻ lại bảng tính cho tài khoản dịch vụ với quyền Người chỉnh sửa.",
        "",
        f"The pre-check's feedback could not be written into {unit.code}'s spreadsheet; the unit gets "
        "it by email meanwhile. Share the spreadsheet with the service account as an editor again.",
    ]
    receipt = ledger.alert(
        ledger.admins,
        period=period,
        about=f"precheck-unwritable:{unit.code}",
        subject=f"[Cảnh báo] Kỳ {period:%d/%m/%Y}: không ghi được kết quả kiểm tra vào bảng tính "
        f"của {unit.name}",
        lines=lines,
    )
    if receipt is not None:
        outcome.alerted.append(unit.code)
