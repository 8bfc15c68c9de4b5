"""The send-once ledger: every email of the project goes through it, over the delivery log
(`archive.deliveries`, table `deliveries`). Nothing may ever be sent twice.

What is being sent is named by a key: the recipients' key (`recipients_key`) of the kind's
recipients, with a subject of its own for every kind but the report, so that two kinds of
mail to the same people never share a log (`Ledger.key`):

| kind              | key                                          | period                       |
| ----------------- | -------------------------------------------- | ---------------------------- |
| report/correction | To + Cc                                      | the report's                 |
| feedback          | `feedback:<unit>` + the unit's emails        | the report's                 |
| reminder          | `reminder:<unit>` + the unit's emails        | the coming period            |
| reminder_admins   | `reminder_admins:` + the admins              | the coming period            |
| precheck          | `precheck:<unit>` + the unit's emails        | the coming period            |
| precheck_ok       | `precheck_ok:<unit>` + the unit's emails     | the coming period            |
| alert             | `alert:<what failed>` + the admins           | the run's (see below)        |

An alert's subject names the failure once: `task:<dag>/<run>/<task>/<map index>/<try>` for a
task that failed for good (a callback called again for the same try finds it), `deadline:
<dag>/<run>` for a missed deadline, `partial:<delivery id>` for a partial refusal. Its period
is the report period of the run when the run names one (Param `period`), else the run's date
in the programme's time zone (Asia/Ho_Chi_Minh): `deliveries.period` is never null, and the
alert then shows beside the period's other mail on the admins' page.

A version that must not go out at all (a late catch-up run, a period nobody reported for) is
never claimed: `deliver.hold` logs it `held`, with the reason, under the report's key.

The policy, the same for every kind:

1. Before: `previous()` reads the log under the key. An attempt still `sending` is an unknown
   outcome (below): `DeliveryUncertain`, never a second copy, unless `force_resend` (an admin
   checked the mailbox), which marks it `failed`. Otherwise the last `sent` row: the caller
   decides whether it already covers what it would send (the report: the same version or the
   same figures; feedback: the same version or the same findings; a reminder: anything in the
   period; the admins' list: the same list; an alert: anything; a pre-check's findings: the same
   findings; its confirmation: anything in the period).
2. Claim: `send()` writes a row `sending` with the Message-ID before the transport is called.
   The database lets one attempt only claim a given state (period, key, version superseded):
   the other gets `DeliveryConflict` and sends nothing.
3. The outcome of handing the message to the transport:
   - sent: the row becomes `sent`.
   - refused by the server (`DeliveryError` accepted by no recipient: before DATA, or at its
     end): `failed`, the error is raised again; a retry may send.
   - refused for some recipients (`DeliveryError.delivered_to`): `sent`, detail "một phần: chưa
     nhận: <the refused>. …"; never sent again to the others (nor, automatically, to the
     refused). The caller gets `PartialDelivery` so it can fail the task; the admins are told
     by an alert (once per partial delivery) when the ledger was given them (the Airflow tasks
     give them).
   - unknown (`DeliveryOutcomeUnknown`: DATA had begun and no answer came; any other exception
     once the message is handed over; or a process that dies): the row stays `sending`, the
     exception is raised again; from then on step 1 refuses. The admins are told once, with
     the Message-ID to look for (`uncertain:<delivery id>`), when the ledger was given them:
     by the attempt that saw it, or by the next attempt of the same run (a process that died).
4. A partial delivery stands until the refused get the message: `standing_partial()` follows
   the last `sent` row and the deliveries to its refused recipients (key `rest:<delivery id>`).
   While one stands, a caller that would otherwise send nothing fails again with the same
   `PartialDelivery` (`partial_stands()`: the admins told once, never a second copy to those
   who have it); with `force_resend` it sends that message to the refused alone, under the
   rest key (`rest_key()`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from housing_report.archive.deliveries import (
    FAILED,
    SENT,
    DeliveryConflict,
    DeliveryLog,
    DeliveryRow,
    recipients_key,
)
from housing_report.config import Contact
from housing_report.deliver.message import AddressLike, build_message
from housing_report.deliver.transports import Delivery, DeliveryError
from housing_report.render.environment import RenderedEmail

log = logging.getLogger(__name__)

# The kinds of mail (`deliveries.kind`, at most 20 characters).
REPORT, CORRECTION, FEEDBACK, REMINDER = "report", "correction", "feedback", "reminder"
REMINDER_ADMINS, ALERT = "reminder_admins", "alert"
# The pre-check's mail to a unit: its findings when they change; "Đã tiếp nhận" once it passes.
PRECHECK, PRECHECK_OK = "precheck", "precheck_ok"
# Kinds addressed to the admins: a partial refusal of one is not told to them again.
TO_ADMINS = frozenset({ALERT, REMINDER_ADMINS})
PARTIAL_PREFIX = "một phần: "
REFUSED_PREFIX, REFUSED_END = "chưa nhận: ", ". "


class DeliveryUncertain(RuntimeError):
    """An earlier attempt died after handing the message to the server: it may have arrived."""

    def __init__(self, pending: DeliveryRow):
        self.pending = pending
        super().__init__(
            f"Lần gửi phiên bản {pending.version} kỳ {pending.period:%d/%m/%Y} (lần chạy {pending.run_id}, "
            f"bắt đầu {pending.started_at:%d/%m/%Y %H:%M} UTC) chưa ghi nhận kết quả: thư có thể đã đến "
            f"người nhận. Hãy tìm thư có Message-ID {pending.message_id} trong hộp thư gửi/nhận; nếu "
            "chưa đến, chạy lại với tham số force_resend. Hệ thống không tự gửi lại để tránh gửi hai lần."
        )


class PartialDelivery(RuntimeError):
    """The server accepted the message for some recipients and refused others (logged `sent`)."""

    def __init__(
        self,
        text: str,
        delivery_id: int = 0,
        delivered_to: tuple[str, ...] = (),
        refused: tuple[str, ...] = (),
    ):
        super().__init__(text)
        self.delivery_id = delivery_id
        self.delivered_to = delivered_to
        self.refused = refused


@dataclass(frozen=True)
class StandingPartial:
    """A delivery that reached some recipients only, and the recipients still without it."""

    row: DeliveryRow
    refused: tuple[str, ...]


def refused_of(row: DeliveryRow) -> tuple[str, ...]:
    """The recipients a partial delivery did not reach (as its detail records them); () if none."""
    if not row.detail.startswith(PARTIAL_PREFIX):
        return ()
    rest = row.detail[len(PARTIAL_PREFIX) :]
    if not rest.startswith(REFUSED_PREFIX):
        return ()  # logged before the refused were recorded: the detail's text names them
    names = rest[len(REFUSED_PREFIX) :].split(REFUSED_END, 1)[0]
    return tuple(a.strip() for a in names.split(",") if a.strip())


@dataclass(frozen=True)
class Mailer:
    """How mail leaves: the transport, the sender, and the domain of the Message-IDs."""

    transport: Delivery
    sender: str
    message_id_domain: str = "localhost"


@dataclass(frozen=True)
class Receipt:
    """A message the log records as sent (to everyone)."""

    delivery_id: int
    message_id: str


def content_digest(*parts: str) -> str:
    """The hash of what a message tells, for kinds that must not repeat themselves."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def alert_message(
    mailer: Mailer, admins: Sequence[Contact], subject: str, lines: Sequence[str]
) -> EmailMessage:
    """An alert to the admins: `lines` as the text, one per line in the HTML."""
    body = "<br>".join(html.escape(line) for line in lines)
    return build_message(
        RenderedEmail(subject=subject, html=f"<div>{body}</div>", text="\n".join(lines)),
        sender=mailer.sender,
        to=list(admins),
        cc=[],
        attachments=[],
        message_id_domain=mailer.message_id_domain,
    )


class Ledger:
    """Send once, through the delivery log (the policy: the module's docstring).

    `admins`: told by an alert when a message reaches only some of its recipients (empty: the
    caller alone is told, by `PartialDelivery`).
    """

    def __init__(self, store: DeliveryLog, mailer: Mailer, run_id: str, admins: Sequence[Contact] = ()):
        self.store = store
        self.mailer = mailer
        self.run_id = run_id
        self.admins = tuple(admins)

    @staticmethod
    def key(recipients: Iterable[str], subject: str | None = None) -> str:
        """The log's key of a message: its recipients, and the subject of its kind (none: the report)."""
        addresses = list(recipients)
        return recipients_key([subject, *addresses] if subject is not None else addresses)

    # -- 1. before

    def previous(self, period: dt.date, key: str, *, force_resend: bool = False) -> DeliveryRow | None:
        """The last delivery sent under `key` in `period`; `DeliveryUncertain` while one is in flight."""
        pending = self.store.in_flight(period, key)
        if pending is not None:
            if not force_resend:
                if pending.run_id == self.run_id:
                    # An earlier try of this run left it: that process is gone (see 3., unknown).
                    self._tell_admins_of_uncertain(
                        pending.id, pending.period, pending.kind, pending.message_id
                    )
                raise DeliveryUncertain(pending)
            self.store.finish_delivery(pending.id, FAILED, "đánh dấu thất bại do quản trị chọn force_resend")
            log.warning(
                "force_resend: lần gửi %s (%s) được đánh dấu thất bại", pending.id, pending.message_id
            )
        return self.store.last_sent(period, key)

    # -- 2. and 3. claim, hand over, record

    def build(
        self,
        rendered: RenderedEmail,
        to: Sequence[AddressLike],
        cc: Sequence[AddressLike] = (),
        attachments: Iterable[str | Path] = (),
        *,
        reply_to: AddressLike | None = None,
        inline_images: Mapping[str, str | Path] | None = None,
    ) -> EmailMessage:
        """A message from the mailer's sender, with a Message-ID of its domain."""
        return build_message(
            rendered,
            sender=self.mailer.sender,
            to=to,
            cc=cc,
            attachments=attachments,
            message_id_domain=self.mailer.message_id_domain,
            reply_to=reply_to,
            inline_images=inline_images,
        )

    def send(
        self,
        message: EmailMessage,
        *,
        period: dt.date,
        key: str,
        kind: str,
        recipients: Sequence[str],
        version: int = 0,
        supersedes: int = 0,
        content_hash: str = "",
    ) -> Receipt:
        """Claim, hand `message` to the transport, record the outcome; raises as the policy says."""
        message_id = str(message["Message-ID"])
        claim = self.store.claim_delivery(
            period=period,
            version=version,
            run_id=self.run_id,
            kind=kind,
            recipients=list(recipients),
            supersedes=supersedes,
            message_id=message_id,
            key=key,
            content_hash=content_hash,
        )
        try:
            self.mailer.transport.deliver(message)
        except DeliveryError as exc:
            if exc.delivered_to:
                refused = tuple(r for r in recipients if r not in exc.delivered_to)
                detail = f"{PARTIAL_PREFIX}{REFUSED_PREFIX}{', '.join(refused)}{REFUSED_END}{exc}"
                self.store.finish_delivery(claim, SENT, detail)
                partial = PartialDelivery(str(exc), claim, tuple(exc.delivered_to), refused)
                if kind not in TO_ADMINS:
                    self._tell_admins_of_partial(partial, period, kind, message_id)
                raise partial from exc
            self.store.finish_delivery(claim, FAILED, str(exc))
            raise
        except BaseException as exc:
            # Not a known refusal: the server may have accepted it. Leave the claim `sending`.
            log.error("Lỗi không xác định khi gửi %s: %s", message_id, exc)
            if isinstance(exc, Exception):
                self._tell_admins_of_uncertain(claim, period, kind, message_id, exc)
            raise
        self.store.finish_delivery(claim, SENT)
        return Receipt(claim, message_id)

    # -- 4. a partial delivery that stands

    def standing_partial(
        self, period: dt.date, sent: DeliveryRow | None, *, force_resend: bool = False
    ) -> StandingPartial | None:
        """The partial delivery that `sent` (the last sent under a key) leaves standing: the
        recipients that neither it nor a later delivery to them (`rest_key`) reached. A delivery
        to them whose outcome is unknown: `DeliveryUncertain`, as `previous()` says."""
        row = sent
        while row is not None and (refused := refused_of(row)):
            rest = self.previous(period, self.rest_key(row, refused), force_resend=force_resend)
            if rest is None:
                return StandingPartial(row, refused)
            row = rest
        return None

    @staticmethod
    def rest_key(partial: DeliveryRow, refused: Iterable[str]) -> str:
        """The key of the delivery of a partial delivery's message to its refused recipients."""
        return Ledger.key(refused, f"rest:{partial.id}")

    def partial_stands(self, standing: StandingPartial, what: str) -> PartialDelivery:
        """The error for a partial delivery that still stands (the admins told once, again
        if the first alert failed); `what` names the message, in Vietnamese."""
        row = standing.row
        delivered = tuple(r for r in row.recipients if r.lower() not in {a.lower() for a in standing.refused})
        text = (
            f"{what} (Message-ID {row.message_id}, gửi lúc "
            f"{(row.finished_at or row.started_at):%d/%m/%Y %H:%M} UTC) chưa đến: "
            f"{', '.join(standing.refused)} (máy chủ từ chối). Những người khác đã nhận, không gửi lại "
            "cho họ. Hãy kiểm tra địa chỉ hoặc hộp thư bị từ chối; khi đã sửa, chạy lại với tham số "
            "force_resend để gửi thư này riêng cho những người chưa nhận. / "
            f"Partial delivery stands: {', '.join(standing.refused)} did not receive it; "
            "force_resend sends it to them alone."
        )
        partial = PartialDelivery(text, row.id, delivered, standing.refused)
        if row.kind not in TO_ADMINS:
            self._tell_admins_of_partial(partial, row.period, row.kind, row.message_id)
        return partial

    # -- alerts to the admins

    def alert(
        self, admins: Sequence[Contact], *, period: dt.date, about: str, subject: str, lines: Sequence[str]
    ) -> Receipt | None:
        """Tell the admins `lines`, once for `about` (what failed); None when there is nobody to
        tell or they were told (or are being told) already."""
        if not admins:
            return None
        addresses = [a.email for a in admins]
        key = self.key(addresses, f"{ALERT}:{about}")
        try:
            if self.previous(period, key) is not None:
                log.info("Quản trị đã được báo về %s; không gửi lại", about)
                return None
        except DeliveryUncertain as exc:
            log.warning("Cảnh báo về %s: %s", about, exc)
            return None
        message = alert_message(self.mailer, admins, subject, lines)
        try:
            return self.send(message, period=period, key=key, kind=ALERT, recipients=addresses)
        except DeliveryConflict:
            log.info("Một lần gửi khác đang báo quản trị về %s", about)
            return None

    def _tell_admins_of_partial(self, partial: PartialDelivery, period: dt.date, kind: str, message_id: str):
        if not self.admins:
            return
        lines = [
            f"Thư ({kind}) kỳ {period:%d/%m/%Y} của lần chạy {self.run_id} chỉ đến được một phần người nhận.",
            f"Message-ID: {message_id}",
            f"Chưa nhận (máy chủ từ chối): {', '.join(partial.refused) or 'xem lỗi dưới đây'}",
            f"Đã nhận: {', '.join(partial.delivered_to)}",
            f"Lỗi: {partial}",
            "Hệ thống không gửi lại cho những người đã nhận. Tác vụ sẽ báo lỗi ở mỗi lần chạy lại cho "
            "đến khi việc này được xử lý: hãy kiểm tra địa chỉ hoặc hộp thư bị từ chối, rồi chạy lại "
            "với tham số force_resend để gửi thư riêng cho những người chưa nhận.",
            "",
            "The message reached some of its recipients only; it is not sent again to them. "
            "Re-run with force_resend to send it to the refused recipients alone.",
        ]
        self._alert_admins(
            period,
            f"partial:{partial.delivery_id}",
            f"[Cảnh báo] Thư kỳ {period:%d/%m/%Y} chỉ đến được một phần người nhận",
            lines,
        )

    def _tell_admins_of_uncertain(
        self,
        delivery_id: int,
        period: dt.date,
        kind: str,
        message_id: str,
        error: BaseException | None = None,
    ) -> None:
        """Tell the admins (once per delivery) that a message may or may not have arrived."""
        if not self.admins or kind in TO_ADMINS:
            return
        lines = [
            f"Thư ({kind}) kỳ {period:%d/%m/%Y} của lần chạy {self.run_id}: không rõ đã đến người nhận "
            "hay chưa (máy chủ SMTP đã nhận nội dung thư nhưng không trả lời, hoặc tiến trình gửi bị "
            "dừng giữa chừng).",
            f"Message-ID cần tìm trong hộp thư của người nhận: {message_id}",
            f"Lỗi: {type(error).__name__}: {error}"
            if error
            else "Lỗi: lần thử trước dừng trước khi ghi kết quả.",
            "Hệ thống không tự gửi lại để tránh gửi hai lần. Nếu thư chưa đến, chạy lại với tham số "
            "force_resend; nếu đã đến, không cần làm gì.",
            "",
            f"Outcome unknown: look for Message-ID {message_id}; re-run with force_resend if it did "
            "not arrive. It is never resent automatically.",
        ]
        self._alert_admins(
            period,
            f"uncertain:{delivery_id}",
            f"[Cảnh báo] Thư kỳ {period:%d/%m/%Y}: chưa rõ đã đến người nhận hay chưa",
            lines,
        )

    def _alert_admins(self, period: dt.date, about: str, subject: str, lines: Sequence[str]) -> None:
        """`alert` the ledger's admins; a failure to do so is logged, never raised: the delivery's
        own error (partial, unknown) is what the task raises."""
        try:
            self.alert(self.admins, period=period, about=about, subject=subject, lines=lines)
        except Exception:
            log.exception("Không báo được cho quản trị về %s", about)


__all__ = [
    "ALERT",
    "CORRECTION",
    "FEEDBACK",
    "PRECHECK",
    "PRECHECK_OK",
    "REMINDER",
    "REMINDER_ADMINS",
    "REPORT",
    "DeliveryConflict",
    "DeliveryError",
    "DeliveryUncertain",
    "Ledger",
    "Mailer",
    "PartialDelivery",
    "Receipt",
    "StandingPartial",
    "alert_message",
    "content_digest",
]
