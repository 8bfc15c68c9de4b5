"""Build the summary email as a standard MIME message, with the stdlib only.

`build_message` makes a `multipart/mixed` message: a `multipart/alternative` (the
plain text first, then the HTML, both UTF-8) followed by the attachments. Vietnamese
display names and the subject are RFC 2047 encoded words, non-ASCII attachment names
RFC 2231 parameters; the bodies are base64, so the whole message is 7-bit ASCII and
any SMTP server (8BITMIME or not) carries it unchanged.

Address headers are folded by `MESSAGE_POLICY`, one address per line, each display
name one encoded word: Python 3.11's own refolding of a long non-ASCII display name
can pull the following `<address>,` into the encoded word, which silently drops that
recipient (the Department's name is long enough to trigger it).

No message larger than `MAX_MESSAGE_BYTES` is built, of any kind: `MessageTooLarge` names it and
its size, and nothing is sent (never a message cut short).
"""

from __future__ import annotations

import base64
import datetime as dt
import mimetypes
from collections.abc import Iterable, Mapping, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr, getaddresses, make_msgid, parseaddr
from pathlib import Path

from housing_report.config import Contact
from housing_report.core.formatting import vn_number
from housing_report.render.environment import RenderedEmail

# What Python's mimetypes may not know on a bare system.
MIME_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".csv": "text/csv",
}
BODY_ENCODING = "base64"
# The largest message built, as sent (base64 and headers included): mail servers commonly refuse
# above 10-25 MB. The report at national scale is about 600 kB with its attachments.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class MessageTooLarge(ValueError):
    """A message over the size limit: not sent (the admins see why in the failed task)."""


ADDRESS_HEADERS = frozenset({"from", "sender", "reply-to", "to", "cc", "bcc"})


class AddressPerLinePolicy(EmailPolicy):
    """The default email policy, except that address headers are folded one address per line,
    never splitting an address or re-encoding it (see the module's docstring)."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "subject" and not str(value).isascii():
            return self._fold_text(name, str(value))
        if name.lower() not in ADDRESS_HEADERS:
            return super().fold(name, value)
        return self._fold_addresses(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "subject" and not str(value).isascii():
            return self._fold_text(name, str(value)).encode("ascii")
        if name.lower() not in ADDRESS_HEADERS:
            return super().fold_binary(name, value)
        return self._fold_addresses(name, value).encode("ascii")

    def _fold_text(self, name: str, value: str) -> str:
        """A non-ASCII subject as RFC 2047 encoded words of whole characters, spaces inside them.

        Python 3.11's own folding can put a space between two encoded words, where decoders
        drop it ("tiếp nhận,cần"); here every space is inside an encoded word.
        """
        words, chunk = [], ""
        for char in value:
            if chunk and len((chunk + char).encode("utf-8")) > 45:  # 60 base64 chars: a 72-char word
                words.append(chunk)
                chunk = ""
            chunk += char
        words.append(chunk)
        encoded = [f"=?utf-8?b?{base64.b64encode(w.encode('utf-8')).decode('ascii')}?=" for w in words]
        return f"{name}: " + (self.linesep + " ").join(encoded) + self.linesep

    def _fold_addresses(self, name: str, value: str) -> str:
        header = value if hasattr(value, "addresses") else self.header_factory(name, str(value))
        parts = [formataddr((a.display_name, a.addr_spec), charset="utf-8") for a in header.addresses]
        return f"{name}: " + ("," + self.linesep + " ").join(parts) + self.linesep


MESSAGE_POLICY = AddressPerLinePolicy()

AddressLike = Contact | Address | str | tuple[str, str]


def to_address(value: AddressLike) -> Address:
    """An `Address` from a config `Contact`, a `(name, email)` pair, an `Address`, or a string
    (`a@b.vn` or `Tên <a@b.vn>`)."""
    if isinstance(value, Address):
        return value
    if isinstance(value, Contact):
        name, email = value.name, value.email
    elif isinstance(value, tuple):
        name, email = value
    elif isinstance(value, str):
        name, email = parseaddr(value)
    else:
        raise TypeError(f"not an email address: {value!r}")
    email = email.strip()
    if email.count("@") != 1 or not all(email.split("@")):
        raise ValueError(f"Địa chỉ email không hợp lệ / invalid email address: {value!r}")
    return Address(display_name=name.strip(), addr_spec=email)


def mime_type(path: Path) -> tuple[str, str]:
    """(maintype, subtype) of an attachment, by its file name."""
    guessed = MIME_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    maintype, _, subtype = (guessed or "application/octet-stream").partition("/")
    return maintype, subtype


def build_message(
    rendered: RenderedEmail,
    sender: AddressLike,
    to: Sequence[AddressLike],
    cc: Sequence[AddressLike],
    attachments: Iterable[str | Path],
    message_id_domain: str,
    *,
    date: dt.datetime | None = None,
    reply_to: AddressLike | None = None,
    inline_images: Mapping[str, str | Path] | None = None,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> EmailMessage:
    """The email of `rendered` from `sender` to `to` (copy to `cc`), with `attachments`;
    `MessageTooLarge` when it would be larger than `max_bytes` as sent.

    `inline_images` maps a Content-ID (without angle brackets) to an image file that the
    HTML shows with `<img src="cid:...">`: the HTML and its images become a
    `multipart/related` inside the `multipart/alternative`.
    """
    if not to:
        raise ValueError("Thư phải có ít nhất một người nhận / the message needs at least one recipient")
    domain = message_id_domain.strip()
    if not domain or "@" in domain or any(c.isspace() or c in "<>" for c in domain):
        raise ValueError(
            f"Tên miền Message-ID không hợp lệ / invalid Message-ID domain: {message_id_domain!r}"
        )
    moment = date or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise ValueError("date must be time-zone aware")

    msg = EmailMessage(policy=MESSAGE_POLICY)
    msg["Subject"] = rendered.subject
    msg["From"] = to_address(sender)
    msg["To"] = tuple(to_address(a) for a in to)
    if cc:
        msg["Cc"] = tuple(to_address(a) for a in cc)
    if reply_to is not None:
        msg["Reply-To"] = to_address(reply_to)
    msg["Date"] = format_datetime(moment)
    msg["Message-ID"] = make_msgid(domain=domain)
    # An automatic report (RFC 3834): out-of-office replies should not answer it.
    msg["Auto-Submitted"] = "auto-generated"

    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte=BODY_ENCODING)
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte=BODY_ENCODING)
    if inline_images:
        html_part = msg.get_payload()[-1]
        for cid, image in inline_images.items():
            path = Path(image)
            maintype, subtype = mime_type(path)
            html_part.add_related(
                path.read_bytes(),
                maintype=maintype,
                subtype=subtype,
                cid=f"<{cid}>",
                disposition="inline",
                filename=path.name,
            )
    for item in attachments:
        path = Path(item)
        maintype, subtype = mime_type(path)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    # After the parts: set_content and add_* move Content-* headers into the parts they make.
    msg["Content-Language"] = "vi"
    size = len(wire_bytes(msg))
    if size > max_bytes:
        raise MessageTooLarge(
            f"Thư «{rendered.subject}» nặng {_megabytes(size)} MB, vượt giới hạn {_megabytes(max_bytes)} MB "
            "của một thư: thư không được gửi (không gửi thư bị cắt bớt). Hãy kiểm tra nội dung thư (danh "
            "sách lỗi, tệp đính kèm) trước khi chạy lại."
        )
    return msg


def _megabytes(size: int) -> str:
    return vn_number(size / (1024 * 1024), 1)


def envelope_recipients(message: EmailMessage) -> list[str]:
    """The addresses of To and Cc, in that order, each once (case-insensitively)."""
    seen: set[str] = set()
    out: list[str] = []
    for header in ("To", "Cc"):
        for _, address in getaddresses([str(v) for v in message.get_all(header, [])]):
            if address and address.lower() not in seen:
                seen.add(address.lower())
                out.append(address)
    return out


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent over SMTP and saved as .eml: 7-bit, CRLF line ends."""
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
