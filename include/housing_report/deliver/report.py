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
import shutil
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
from housing_report.core.approval import Approval
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
from housing_report.deliver.message import AddressLike, build_message, to_address
from housing_report.deliver.transports import Delivery
from housing_report.render.outputs import render_version
from housing_report.render.pdf import docx_to_pdf
from housing_report.sign.pades import Signing, sign_pdf


@dataclass(frozen=True)
class Mail:
    """Who the provincial report goes to, and from."""

    sender: AddressLike
    to: tuple[Contact, ...]
    cc: tuple[Contact, ...] = ()
    message_id_domain: str = "localhost"
    reply_to: AddressLike | None = None

    @classmethod
    def of(cls, config: Config, sender: str, message_id_domain: str) -> Mail:
        """The report's mail: To the Department and the Steering Committee, Cc as report.yaml says;
        From the office's name (`office.sender_name`) at the sender's address, Reply-To the office."""
        office = config.report.office
        if office is None:
            return cls(sender, config.report.to, config.report.cc, message_id_domain)
        address = to_address(sender).addr_spec
        return cls(
            (office.sender_name, address),
            config.report.to,
            config.report.cc,
            message_id_domain,
            office.reply_to,
        )


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


@dataclass(frozen=True)
class Plan:
    """What the delivery log says to send for this run's version: `kind` None is nothing
    (`reason` says why)."""

    row: Any  # the run's SummaryRow
    kind: str | None
    reason: str
    sent: Any = None  # the last delivered DeliveryRow, if any
    correction: dict | None = None
    standing: StandingPartial | None = None  # a partial delivery not yet resolved

    @property
    def supersedes(self) -> int:
        return self.sent.version if self.sent else 0


def plan_delivery(
    config: Config,
    store: ReportStore,
    period: dt.date,
    run_id: str,
    ledger: Ledger,
    addresses: list[str],
    *,
    force_resend: bool = False,
) -> Plan:
    """Whether this run's version is sent, as the report or as a correction, or not at all."""
    row = store.summary_row(period, run_id)
    if row is None:
        raise RuntimeError(f"Không tìm thấy bản tổng hợp kỳ {period:%d/%m/%Y} của lần chạy {run_id}.")
    sent = ledger.previous(period, ledger.key(addresses), force_resend=force_resend)
    standing = ledger.standing_partial(period, sent, force_resend=force_resend)
    if standing is not None:
        # Refused recipients: nothing goes out until `force_resend`, and then the same version,
        # to them alone (approved again where approval is asked).
        what = f"Báo cáo phiên bản {standing.row.version} kỳ {period:%d/%m/%Y}"
        if not force_resend:
            reason = f"{what} chưa đến: {', '.join(standing.refused)}."
            return Plan(row, None, reason, sent, standing=standing)
        return Plan(row, standing.row.kind, "", sent, standing=standing)
    if sent is not None and sent.version == row.version:
        return Plan(row, None, f"Phiên bản {row.version} đã được gửi ({sent.message_id}).", sent)
    if sent is None:
        return Plan(row, REPORT, "")
    delivered = store.summary_version(period, sent.version)
    if delivered is not None and delivered.figures_hash == row.figures_hash:
        return Plan(
            row,
            None,
            f"Không có số liệu nào thay đổi so với phiên bản {sent.version} đã gửi lúc "
            f"{sent.finished_at:%d/%m/%Y %H:%M} UTC; không gửi lại.",
            sent,
        )
    correction = compare(
        delivered.summary if delivered else None,
        row.summary,
        config,
        old_version=sent.version,
        new_version=row.version,
        old_sent_at=sent.finished_at.isoformat() if sent.finished_at else None,
        earlier=store.history(period),
    )
    return Plan(row, CORRECTION if correction else REPORT, "", sent, correction)


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
    approval: Approval | None = None,
    signing: Signing | None = None,
    keep_in: Path | None = None,
) -> Outcome:
    """Deliver this run's version of the period's summary if, and only if, the log says so.

    `tell_admins`: a partial refusal is also told to the admins (`Ledger`), as the tasks do.
    `approval` and `signing`: the approved document (its number, the approver's text) is sent as
    a PDF signed with `signing`'s key, validated first; `keep_in`: the signed PDF is also kept
    there (the period's output folder)."""
    ledger = Ledger(
        store,
        Mailer(delivery, mail.sender, mail.message_id_domain),
        run_id,
        config.report.admins if tell_admins else (),
    )
    addresses = [c.email for c in (*mail.to, *mail.cc)]
    plan = plan_delivery(config, store, period, run_id, ledger, addresses, force_resend=force_resend)
    note = ""
    if plan.standing is not None:
        if not force_resend:
            raise ledger.partial_stands(
                plan.standing, f"Báo cáo phiên bản {plan.standing.row.version} kỳ {period:%d/%m/%Y}"
            )
        # The approval given in this run covers this run's figures: the partly delivered version
        # is sent with it only when its figures are the same.
        partial = store.summary_version(period, plan.standing.row.version)
        same = partial is not None and partial.figures_hash == plan.row.figures_hash
        sent_rest = _send_to_the_refused(
            config, store, period, mail, ledger, plan.standing, approval if same else None, signing
        )
        note = sent_rest + " "
        plan = plan_delivery(config, store, period, run_id, ledger, addresses)
    row = plan.row
    if plan.kind is None:
        message_id = plan.sent.message_id if plan.sent and plan.sent.version == row.version else None
        return Outcome(False, None, row.version, note + plan.reason, message_id, plan.supersedes)

    with tempfile.TemporaryDirectory(prefix="housing-report-") as tmp:
        message = build_report_message(
            config,
            row.summary,
            mail,
            Path(tmp),
            correction=plan.correction,
            earlier=store.history(period),
            approval=approval,
            signing=signing,
            keep_in=keep_in,
            in_reply_to=plan.sent.message_id if plan.correction and plan.sent else None,
        )
        receipt = ledger.send(
            message,
            period=period,
            key=ledger.key(addresses),
            kind=plan.kind,
            recipients=addresses,
            version=row.version,
            supersedes=plan.supersedes,
        )
    what = "bản điều chỉnh" if plan.correction else "báo cáo"
    return Outcome(
        True,
        plan.kind,
        row.version,
        f"{note}Đã gửi {what} phiên bản {row.version}.",
        receipt.message_id,
        plan.supersedes,
    )


def _send_to_the_refused(
    config: Config,
    store: ReportStore,
    period: dt.date,
    mail: Mail,
    ledger: Ledger,
    standing: StandingPartial,
    approval: Approval | None = None,
    signing: Signing | None = None,
) -> str:
    """The partially delivered version (report or correction) to its refused recipients alone;
    what was done, in Vietnamese. Where the report is signed, the version is the one approved
    again for this run (`approval`), signed as it was."""
    partial = standing.row
    if signing is not None and approval is None:
        raise RuntimeError(
            f"Phiên bản {partial.version} kỳ {period:%d/%m/%Y} cần được phê duyệt lại trước khi gửi cho "
            f"những người chưa nhận: {', '.join(standing.refused)}."
        )
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
            approval=approval,
            signing=signing,
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
    *,
    approval: Approval | None = None,
    signing: Signing | None = None,
    keep_in: Path | None = None,
    in_reply_to: str | None = None,
) -> EmailMessage:
    """The provincial report's email (or its correction), rendered into `workdir` as the output
    writer renders it (`render.outputs.render_version`): the charts inline, the report document
    and the workbook (annexes and figures by unit) attached. With `signing`, the document is
    the approved one as a signed PDF (validated before it is attached; the .docx stays in the
    outputs); `in_reply_to`: the Message-ID of the report a correction replaces (threading)."""
    # Short Content-IDs: a header longer than a line is folded, and some clients then miss the image.
    cids: dict[str, str] = {}

    def by_content_id(name: str, _path: Path) -> str:
        cids[name] = f"bieu-do-{name}.{secrets.token_hex(6)}@{mail.message_id_domain}"
        return f"cid:{cids[name]}"

    rendered = render_version(
        config, summary, earlier, workdir, chart_src=by_content_id, correction=correction, approval=approval
    )
    attachments = rendered.attachments
    if signing is not None:
        signed = sign_document(rendered.official.document, signing, keep_in)
        attachments = [signed, rendered.workbook]
    message = build_message(
        rendered.email,
        sender=mail.sender,
        to=list(mail.to),
        cc=list(mail.cc),
        attachments=attachments,
        message_id_domain=mail.message_id_domain,
        reply_to=mail.reply_to,
        inline_images={cids[name]: path for name, path in rendered.email_charts.items()},
    )
    if in_reply_to:
        # A correction answers the report it replaces: mail clients show them as one thread.
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    return message


def sign_document(document: Path | None, signing: Signing, keep_in: Path | None = None) -> Path:
    """The approved .docx as PDF, signed and validated (`sign.pades`); both the approved .docx
    (in place of the draft) and the signed PDF kept in `keep_in`."""
    if document is None:
        raise RuntimeError("Không có văn bản báo cáo để ký (no report document).")
    draft = docx_to_pdf(document, document.parent / "pdf")
    signed = document.with_suffix(".pdf")
    sign_pdf(draft, signed, signing.key, signing.appearance)
    if keep_in is not None:
        keep_in.mkdir(parents=True, exist_ok=True)
        for path in (document, signed):
            kept = keep_in / path.name
            partial = kept.with_name(kept.name + ".tmp")
            shutil.copyfile(path, partial)
            partial.replace(kept)
    return signed


__all__ = [
    "DeliveryConflict",
    "DeliveryUncertain",
    "Mail",
    "Outcome",
    "PartialDelivery",
    "Plan",
    "build_report_message",
    "dispatch",
    "plan_delivery",
    "sign_document",
]
