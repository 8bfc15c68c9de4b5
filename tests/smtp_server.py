"""A real SMTP server on loopback (aiosmtpd) for tests: it keeps what it receives."""

from __future__ import annotations

import email
import socket
import types
from contextlib import contextmanager
from email.policy import default

from aiosmtpd.controller import Controller


class Collector:
    """An aiosmtpd handler that keeps what it receives and refuses some recipients."""

    def __init__(self, refuse: tuple[str, ...] = (), refuse_all: bool = False):
        self.refuse = {a.lower() for a in refuse}
        self.refuse_all = refuse_all
        self.received: list[types.SimpleNamespace] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_all or address.lower() in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            types.SimpleNamespace(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                message=email.message_from_bytes(envelope.original_content, policy=default),
                tls=session.ssl is not None,
                login=session.auth_data if session.authenticated else None,
            )
        )
        return "250 Message accepted for delivery"


class Disconnecting(Collector):
    """Drops the connection after the data, before answering: smtplib sees a disconnect."""

    async def handle_DATA(self, server, session, envelope):
        server.transport.close()
        return "421 closing"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(handler, **kwargs):
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()
