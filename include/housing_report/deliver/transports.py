"""Deliver an already built email: to an outbox folder, or over SMTP.

Both implement `Delivery.deliver(message) -> DeliveryResult`. The envelope
recipients are the message's To and Cc. A delivery succeeds for every recipient, or
raises `DeliveryError` (not sent: a retry may send), or `DeliveryOutcomeUnknown` (the
message may have arrived: nobody may send it again without checking). Both say why in
Vietnamese, then English; a delivery never falls back to another way silently and never
names the password.

`SmtpDelivery` connects, upgrades to TLS and logs in through yagmail, then hands the
message over itself, once (MAIL FROM, RCPT TO, DATA on yagmail's connected smtplib
client): yagmail's `send()` would compose its own message and resend by itself on a
disconnect, which smtplib also raises on a read timeout, so a message kept by the server
before the connection dropped would arrive twice. Where the failure happens decides:

- before DATA (connection, TLS, login, MAIL FROM, every RCPT refused): `DeliveryError`;
- the server refuses the message with a reply (to DATA, or at its end): `DeliveryError`;
- once DATA has begun and no reply came (the connection dropped, or the reply took longer
  than the timeout): `DeliveryOutcomeUnknown`, naming the Message-ID to look for.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from ssl import SSLContext, create_default_context
from typing import Any, Protocol, runtime_checkable

from housing_report.core.errors import NotWritable, write_problem
from housing_report.deliver.message import envelope_recipients, wire_bytes


@dataclass(frozen=True)
class DeliveryResult:
    message_id: str
    recipients: tuple[str, ...]
    location: str  # the .eml file written, or smtp://host:port


class DeliveryError(RuntimeError):
    """The email was not delivered (to everyone). The message is Vietnamese, then English.

    `delivered_to` lists the recipients the server accepted anyway (a partial refusal).
    """

    def __init__(self, text: str, delivered_to: tuple[str, ...] = ()):
        super().__init__(text)
        self.delivered_to = delivered_to


class DeliveryOutcomeUnknown(RuntimeError):
    """The message was handed over (DATA had begun) and no answer came: it may have arrived.

    Not a `DeliveryError`: a caller must never treat it as "not sent". The message is
    Vietnamese, then English, and names the Message-ID to look for in the mailboxes.
    """

    def __init__(self, text: str, message_id: str = ""):
        super().__init__(text)
        self.message_id = message_id


class OutboxNotWritable(DeliveryError, NotWritable):
    """The outbox folder cannot be written (no permission, a read-only or full disk): nothing was
    delivered, and no retry will deliver it until the admin fixes the folder."""


@runtime_checkable
class Delivery(Protocol):
    """Delivers a built email to the envelope recipients To + Cc, or raises DeliveryError."""

    def deliver(self, message: EmailMessage) -> DeliveryResult: ...


def _recipients(message: EmailMessage) -> list[str]:
    recipients = envelope_recipients(message)
    if not recipients:
        raise DeliveryError("Thư không có người nhận (To, Cc). / The message has no recipients (To, Cc).")
    return recipients


def _message_id(message: EmailMessage) -> str:
    return str(message.get("Message-ID", "")).strip()


# --------------------------------------------------------------------------- outbox


class OutboxDelivery(Delivery):
    """Writes each message to `<folder>/<yyyymmddTHHMMSS>-<short id>.eml` (UTC time).

    The short id is derived from the Message-ID, so delivering the same message twice
    in the same second writes the same file once. The file appears whole (written
    aside, then renamed).
    """

    def __init__(self, folder: str | Path, clock: Callable[[], dt.datetime] | None = None):
        self.folder = Path(folder)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def deliver(self, message: EmailMessage) -> DeliveryResult:
        recipients = _recipients(message)
        message_id = _message_id(message)
        short = (
            hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:8] if message_id else uuid.uuid4().hex[:8]
        )
        stamp = self.clock().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{short}.eml"
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(wire_bytes(message))
            tmp.replace(path)
        except OSError as exc:
            line = write_problem(exc, self.folder)
            if line is not None:
                raise OutboxNotWritable(
                    f"Không ghi được thư vào hộp thư đi. {line} / Could not write the message to the "
                    f"outbox {self.folder}: {exc.strerror}."
                ) from exc
            raise DeliveryError(
                f"Không ghi được thư vào hộp thư đi {self.folder}: {exc}. / "
                f"Could not write the message to the outbox {self.folder}: {exc}."
            ) from exc
        return DeliveryResult(message_id, tuple(recipients), str(path))


# --------------------------------------------------------------------------- SMTP


@functools.cache
def _yagmail_client_class() -> type:
    import yagmail

    class PreparedMessageClient(yagmail.SMTP):
        """yagmail's client, for its connection, TLS and login only (`SmtpDelivery` hands the
        message over itself). yagmail logs in as `self.user` and also sends from it; here the
        login user and the envelope sender may differ (a relay's account and the report's
        address), so `_login` uses the login user for the login alone.
        """

        def __init__(self, *, login_user: str, envelope_from: str, **kwargs: Any):
            super().__init__(user=envelope_from, soft_email_validation=False, **kwargs)
            self.user = envelope_from  # yagmail appends "@gmail.com" to a user without "@"
            self.login_user = login_user or envelope_from

        def _login(self, password: Any) -> None:
            envelope_from, self.user = self.user, self.login_user
            try:
                super()._login(password)
            finally:
                self.user = envelope_from

    return PreparedMessageClient


class SmtpDelivery(Delivery):
    """Sends through an SMTP server with yagmail (`ssl`: SMTPS from the start; `starttls`:
    upgrade a plain connection). Without a password it does not log in.

    TLS verifies the server's certificate and name with `tls_context` (default: the
    system's trusted authorities), unlike smtplib's default, which verifies nothing.
    """

    def __init__(
        self,
        host: str,
        port: int,
        user: str | None,
        password: str | None,
        sender: str,
        ssl: bool,
        starttls: bool,
        timeout: float = 30,
        tls_context: SSLContext | None = None,
    ):
        if ssl and starttls:
            raise ValueError("ssl and starttls exclude each other: SMTPS is already encrypted")
        envelope_from = parseaddr(sender)[1]
        if "@" not in envelope_from:
            raise ValueError(f"sender is not an email address: {sender!r}")
        self.host = host
        self.port = int(port)
        self.user = user or ""
        self.password = password or None
        self.sender = envelope_from
        self.ssl = ssl
        self.starttls = starttls
        self.timeout = timeout
        self.tls_context = tls_context

    def __repr__(self) -> str:  # never the password
        return (
            f"SmtpDelivery(host={self.host!r}, port={self.port}, user={self.user!r}, sender={self.sender!r}, "
            f"ssl={self.ssl}, starttls={self.starttls}, timeout={self.timeout})"
        )

    @property
    def location(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def _client(self) -> Any:
        options: dict[str, Any] = {"timeout": self.timeout}  # yagmail hands these to smtplib
        if self.password is None:
            options["smtp_skip_login"] = True
        else:
            options["password"] = self.password
        tls = self.tls_context if self.tls_context is not None else create_default_context()
        if self.ssl:
            options["context"] = tls
        return _yagmail_client_class()(
            login_user=self.user,
            envelope_from=self.sender,
            host=self.host,
            port=self.port,
            smtp_ssl=self.ssl,
            # yagmail passes a dict to smtplib's starttls(): here, the verifying context.
            smtp_starttls={"context": tls} if self.starttls else False,
            **options,
        )

    def _fail(self, vi: str, en: str, delivered_to: tuple[str, ...] = ()) -> DeliveryError:
        text = (
            f"Không gửi được thư qua máy chủ SMTP {self.host}:{self.port}: {vi} / "
            f"Could not send the email through SMTP server {self.host}:{self.port}: {en}"
        )
        if self.password:
            text = text.replace(self.password, "***")
        return DeliveryError(text, delivered_to)

    def deliver(self, message: EmailMessage) -> DeliveryResult:
        recipients = _recipients(message)
        data = wire_bytes(message).decode("ascii")
        message_id = _message_id(message)
        client = None
        try:
            client = self._client()
            client.login()  # yagmail: connect, EHLO, STARTTLS, AUTH (or not)
            refused = self._hand_over(client.smtp, recipients, data, message_id)
        except (smtplib.SMTPException, OSError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            raise self._fail(detail + ".", detail + ".") from exc
        finally:
            if client is not None:
                try:
                    client.close()
                except (smtplib.SMTPException, OSError):
                    pass  # the outcome is known already; a failing QUIT changes nothing
        if refused:
            text = ", ".join(f"{addr} ({code} {_text(reply)})" for addr, (code, reply) in refused.items())
            raise self._fail(
                f"máy chủ từ chối người nhận {text}; thư đã gửi cho những người nhận còn lại.",
                f"the server refused {text}; the message went to the other recipients.",
                tuple(r for r in recipients if r not in refused),
            )
        return DeliveryResult(message_id, tuple(recipients), self.location)

    def _hand_over(
        self, smtp: smtplib.SMTP, recipients: list[str], data: str, message_id: str
    ) -> dict[str, tuple[int, bytes]]:
        """One transaction, as `smtplib.SMTP.sendmail` runs it, sent once: the recipients the
        server refused (none: all accepted). Raises an `SMTPException` before DATA (not sent),
        `SMTPDataError` when the server answers DATA or its end with a refusal (not sent), and
        `DeliveryOutcomeUnknown` when no answer comes once DATA has begun."""
        smtp.ehlo_or_helo_if_needed()
        options = [f"size={len(data)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
        code, reply = smtp.mail(self.sender, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, self.sender)
        refused: dict[str, tuple[int, bytes]] = {}
        for address in recipients:
            code, reply = smtp.rcpt(address)
            if code not in (250, 251):
                refused[address] = (code, reply)
            if code == 421:  # the server is closing the session: nothing was handed over
                raise smtplib.SMTPRecipientsRefused(refused)
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)
        # From here on the server may keep the message even if we never hear its answer.
        try:
            code, reply = smtp.data(data)
        except smtplib.SMTPDataError:
            raise  # a refusal, with its code: not sent
        except (smtplib.SMTPException, OSError) as exc:
            raise self._unknown(exc, message_id, recipients) from exc
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return refused

    def _unknown(self, exc: BaseException, message_id: str, recipients: list[str]) -> DeliveryOutcomeUnknown:
        detail = f"{type(exc).__name__}: {exc}"
        to = ", ".join(recipients)
        text = (
            f"Không rõ thư đã đến hay chưa: máy chủ SMTP {self.host}:{self.port} đã nhận nội dung thư "
            f"nhưng không trả lời ({detail}). Hãy tìm thư có Message-ID {message_id} trong hộp thư "
            f"của người nhận ({to}); hệ thống không tự gửi lại. / "
            f"Outcome unknown: SMTP server {self.host}:{self.port} was handed the message but gave "
            f"no answer ({detail}); look for Message-ID {message_id}. It is not resent automatically."
        )
        if self.password:
            text = text.replace(self.password, "***")
        return DeliveryOutcomeUnknown(text, message_id)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
