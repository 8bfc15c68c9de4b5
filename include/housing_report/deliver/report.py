"""Send a period's report at most once per version and recipient list.

The delivery log (table `deliveries`) decides:

- nothing delivered yet for these recipients: send this version as the report;
- a version was delivered and this one has the same figures: send nothing;
- a version was delivered and this one changes a figure: send a correction
  ("Báo cáo bổ sung, điều chỉnh") listing what changed and why;
- this very version was delivered (a retried task): send nothing.

Claiming, sending and recording are the send-once ledger's (`deliver.ledger`, whose
docstring is the policy): a row `sending` with the Message-ID before the SMTP server is
talked to, one run only claiming a given state of the period (two concurrent runs: the
loser gets `DeliveryConflict` and says why), then `sent`, or `failed` (a retry may send).

If the server was handed the message and never answered (the connection dropped, or its
"250" came after the timeout), or the process dies between the server's acceptance and the
log write, the row stays `sending`. The message may or may not have gone out, and we never risk a
second copy: later attempts refuse with `DeliveryUncertain`, naming the
Message-ID to look for; an admin checks the mailbox and either re-runs with the
Param `force_resend` (the row is marked failed and the report is sent again) or
leaves it (the report arrived). The admins are told once, with the Message-ID.

If the server refused some recipients, the others have the report and never get it again;
every later attempt (a retry, a re-run) fails with `PartialDelivery` naming those who lack it,
until a run with `force_resend` sends that version to them alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from housing_report.aggregate.corrections import compare
from housing_report.archive.deliveries import DeliveryConflict
from housing_report.archive.store import ReportStore
from housing_report.config import Config, Contact
from housing_report.core.summary import HistoryPoint, Summary
from housing_report.deliver.ledger import (
    CORRECTION,
    REPORT,
    DeliveryUncertain,
    Ledger,
    Mailer,
    PartialDelivery,
    StandingPartial,
)
from housing_report.deliver.message import build_message
from housing_report.deliver.transports import Delivery
from housing_report.render.outputs import render_version


@dataclass(frozen=True)
class Mail:
    """Who the provincial report goes to, and from."""

    sender: str
    to: tuple[Contact, ...]
    cc: tuple[Contact, ...] = ()
    message_id_domain: str = "localhost"

    @classmethod
    def of(cls, config: Config, sender: str, message_id_domain: str) -> Mail:
        """The report's mail: To the Department and the Steering Committee, Cc as report.yaml says."""
        return cls(sender, config.report.to, config.report.cc, message_id_domain)


@dataclass
class Outcome:
    sent: bool
    kind: str | None  # report | correction | None
    version: int
    reason: str  # Vietnamese, for the log and the admin
    message_id: str | None = None
    supersedes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "kind": self.kind,
            "version": self.version,
            "reason": self.reason,
            "message_id": self.message_id,
            "supersedes": self.supersedes,
        }


def dispatch(
    config: Config,
    store: ReportStore,
    period: dt.date,
    run_id: str,
    mail: Mail,
    delivery: Delivery,
    *,
    force_resend: bool = False,
    tell_admins: bool = False,
) -> Outcome:
    """Deliver this run's version of the period's summary if, and only if, the log says so.

    `tell_admins`: a partial refusal is also told to the admins (`Ledger`), as the tasks do."""
    row = store.summary_row(period, run_id)
    if row is None:
        raise RuntimeError(f"Không tìm thấy bản tổng hợp kỳ {period:%d/%m/%Y} của lần chạy {run_id}.")
    ledger = Ledger(
        store,
        Mailer(delivery, mail.sender, mail.message_id_domain),
        run_id,
        config.report.admins if tell_admins else (),
    )
    addresses = [c.email for c in (*mail.to, *mail.cc)]
    key = ledger.key(addresses)
    sent = ledger.previous(period, key, force_resend=force_resend)
    standing = ledger.standing_partial(period, sent, force_resend=force_resend)
    if standing is not None:
        if not force_resend:
            raise ledger.partial_stands(
                standing, f"Báo cáo phiên bản {standing.row.version} kỳ {period:%d/%m/%Y}"
            )
        note = _send_to_the_refused(config, store, period, mail, ledger, standing) + " "
    else:
        note = ""
    if sent is not None and sent.version == row.version:
        return Outcome(
            False,
            None,
            row.version,
            f"{note}Phiên bản {row.version} đã được gửi ({sent.message_id}).",
            sent.message_id,
            sent.supersedes,
        )
    correction = None
    if sent is not None:
        delivered = store.summary_version(period, sent.version)
        if delivered is not None and delivered.figures_hash == row.figures_hash:
            return Outcome(
                False,
                None,
                row.version,
                f"{note}Không có số liệu nào thay đổi so với phiên bản {sent.version} đã gửi lúc "
                f"{sent.finished_at:%d/%m/%Y %H:%M} UTC; không gửi lại.",
                None,
                sent.version,
            )
        correction = compare(
            delivered.summary if delivered else None,
            row.summary,
            config,
            old_version=sent.version,
            new_version=row.version,
            old_sent_at=sent.finished_at.isoformat() if sent.finished_at else None,
        )
    kind = CORRECTION if correction else REPORT
    supersedes = sent.version if sent else 0

    with tempfile.TemporaryDirectory(prefix="housing-report-") as tmp:
        message = build_report_message(
            config, row.summary, mail, Path(tmp), correction=correction, earlier=store.history(period)
        )
        receipt = ledger.send(
            message,
            period=period,
            key=key,
            kind=kind,
            recipients=addresses,
            version=row.version,
            supersedes=supersedes,
        )
    what = "bản điều chỉnh" if correction else "báo cáo"
    return Outcome(
        True,
        kind,
        row.version,
        f"{note}Đã gửi {what} phiên bản {row.version}.",
        receipt.message_id,
        supersedes,
    )


def _send_to_the_refused(
    config: Config, store: ReportStore, period: dt.date, mail: Mail, ledger: Ledger, standing: StandingPartial
) -> str:
    """The partially delivered version (report or correction) to its refused recipients alone;
    what was done, in Vietnamese."""
    partial = standing.row
    delivered = store.summary_version(period, partial.version)
    if delivered is None:
        raise RuntimeError(f"Không tìm thấy phiên bản {partial.version} kỳ {period:%d/%m/%Y} đã gửi.")
    correction = None
    if partial.kind == CORRECTION and (earlier := store.summary_version(period, partial.supersedes)):
        correction = compare(
            earlier.summary,
            delivered.summary,
            config,
            old_version=partial.supersedes,
            new_version=partial.version,
        )
    known = {c.email.lower(): c for c in (*mail.to, *mail.cc)}
    to = tuple(known.get(a.lower(), Contact(a, a)) for a in standing.refused)
    with tempfile.TemporaryDirectory(prefix="housing-report-") as tmp:
        message = build_report_message(
            config,
            delivered.summary,
            dataclasses.replace(mail, to=to, cc=()),
            Path(tmp),
            correction=correction,
            earlier=store.history(period),
        )
        receipt = ledger.send(
            message,
            period=period,
            key=ledger.rest_key(partial, standing.refused),
            kind=partial.kind,
            recipients=list(standing.refused),
            version=partial.version,
        )
    return (
        f"Đã gửi phiên bản {partial.version} riêng cho những người chưa nhận: "
        f"{', '.join(standing.refused)} ({receipt.message_id})."
    )


def build_report_message(
    config: Config,
    summary: Summary,
    mail: Mail,
    workdir: Path,
    correction: dict | None = None,
    earlier: Sequence[HistoryPoint] = (),
) -> EmailMessage:
    """The provincial report's email (or its correction), rendered into `workdir` as the output
    writer renders it (`render.outputs.render_version`): the charts inline, the report document
    and the workbook (annexes and figures by unit) attached."""
    # Short Content-IDs: a header longer than a line is folded, and some clients then miss the image.
    cids: dict[str, str] = {}

    def by_content_id(name: str, _path: Path) -> str:
        cids[name] = f"bieu-do-{name}.{secrets.token_hex(6)}@{mail.message_id_domain}"
        return f"cid:{cids[name]}"

    rendered = render_version(
        config, summary, earlier, workdir, chart_src=by_content_id, correction=correction
    )
    return build_message(
        rendered.email,
        sender=mail.sender,
        to=list(mail.to),
        cc=list(mail.cc),
        attachments=rendered.attachments,
        message_id_domain=mail.message_id_domain,
        inline_images={cids[name]: path for name, path in rendered.official.charts.items()},
    )


__all__ = [
    "DeliveryConflict",
    "DeliveryUncertain",
    "Mail",
    "Outcome",
    "PartialDelivery",
    "build_report_message",
    "dispatch",
]
