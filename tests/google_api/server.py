"""A loopback HTTP server that speaks the part of Google's APIs the project uses.

Sheets v4, Drive v3 and the OAuth token endpoint (reached through the key's
`token_uri`). It serves workbooks held in memory, counts requests, and injects
faults on demand. Endpoints are registered with `@route(METHOD, regex)` so that
read endpoints (`reads.py`) and write endpoints (`writes.py`) live apart.

    with FakeGoogle() as google:        # starts on 127.0.0.1, a free port
        google.add_workbook_file(key, path_to_xlsx)
        key_info = google.service_account_key()   # token_uri points here
        ... google.requests (list of (method, path, query)), google.faults.append(...)
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# (method, compiled path regex, handler(google, request) -> Response)
ROUTES: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = []


def route(method: str, pattern: str):
    def register(handler):
        ROUTES.append((method, re.compile(pattern), handler))
        return handler

    return register


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match[str] | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a hung server)


@dataclass
class Fault:
    """Answer the next matching request with `response` instead (`times` times)."""

    response: Response
    path_regex: str = ".*"
    times: int = 1
