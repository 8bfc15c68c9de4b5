"""A real SMTP server on loopback (aiosmtpd) for tests: it keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
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
    """Keeps the message, then drops the connection before answering "250" (the first `times`
    messages; then answers as `Collector`): smtplib sees a disconnect, the recipients have it."""

    def __init__(self, times: int = 1_000_000, **kwargs):
        super().__init__(**kwargs)
        self.times = times

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if self.times <= 0:
            return answer
        self.times -= 1
        server.transport.close()
        return "421 closing"


class Stalling(Collector):
    """Keeps the message, then holds its "250" until `release` is set (the first `times`
    messages): a client with a shorter timeout gives up first, the recipients have it."""

    def __init__(self, times: int = 1_000_000, **kwargs):
        super().__init__(**kwargs)
        self.times = times
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if self.times > 0:
            self.times -= 1
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return answer


class DroppingAtRcpt(Collector):
    """Drops the connection at the first RCPT of the first `times` sessions: nothing handed over."""

    def __init__(self, times: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.times = times
        self.dropped = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.times > 0:
            self.times -= 1
            self.dropped += 1
            server.transport.close()
            return "421 closing"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


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
        release = getattr(handler, "release", None)
        if release is not None:
            release.set()  # a stalled answer must not hold the server's shutdown
        controller.stop()
