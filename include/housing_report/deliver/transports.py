"""Deliver an already built email: to an outbox folder, or over SMTP.

Both implement `Delivery.deliver(message) -> DeliveryResult`. The envelope
recipients are the message's To and Cc. A delivery either succeeds for every
recipient or raises `DeliveryError` (Vietnamese, then English): it never falls back
to another way silently and never names the password.

`SmtpDelivery` sends through yagmail, for its connection, TLS and login handling,
but bypasses its message composition: our message goes out byte for byte.
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
        """yagmail's client sending a message built elsewhere.

        `send(to=<envelope recipients>, contents=<message string>)` sends that string as
        is: `prepare_send` is bypassed. yagmail logs in as `self.user` and also sends from
        it; here the login user and the envelope sender may differ (a relay's account
        and the report's address), so `_login` uses the login user for the login alone.
        """

        def __init__(self, *, login_user: str, envelope_from: str, **kwargs: Any):
            super().__init__(user=envelope_from, soft_email_validation=False, **kwargs)
            self.user = envelope_from  # yagmail appends "@gmail.com" to a user without "@"
            self.login_user = login_user or envelope_from

        def prepare_send(
            self, to: Any = None, subject: Any = None, contents: Any = None, *args: Any, **kwargs: Any
        ) -> tuple[list[str], str]:
            return list(to), contents

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
        client = None
        try:
            client = self._client()
            result = client.send(to=recipients, contents=data)
        except (smtplib.SMTPException, OSError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            raise self._fail(detail + ".", detail + ".") from exc
        finally:
            if client is not None:
                try:
                    client.close()
                except (smtplib.SMTPException, OSError):
                    pass  # the outcome is known already; a failing QUIT changes nothing
        if result is False:
            raise self._fail(
                "máy chủ ngắt kết nối nhiều lần, thư chưa được gửi.",
                "the server disconnected repeatedly and the message was not sent (yagmail gave up).",
            )
        if result:
            refused = ", ".join(f"{addr} ({code} {_text(reply)})" for addr, (code, reply) in result.items())
            raise self._fail(
                f"máy chủ từ chối người nhận {refused}; thư đã gửi cho những người nhận còn lại.",
                f"the server refused {refused}; the message went to the other recipients.",
                tuple(r for r in recipients if r not in result),
            )
        return DeliveryResult(_message_id(message), tuple(recipients), self.location)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
