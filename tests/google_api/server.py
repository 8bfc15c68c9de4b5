"""A loopback HTTP server that speaks the part of Google's APIs the project uses.

Sheets v4, Drive v3 and the OAuth token endpoint (reached through the key's `token_uri`).
It serves spreadsheets held in memory, logs and counts requests, and injects faults on
demand. Endpoints are registered with `@route(METHOD, regex)` (named groups become
`request.match`): read endpoints live in `reads.py`, write endpoints in `writes.py`;
both are imported when this module is, so every route is registered.

    with FakeGoogle() as google:                        # 127.0.0.1, a free port
        google.add_workbook_file("st-941", path)        # an .xlsx, every worksheet
        google.add_spreadsheet("st-x", {"BaoCao": [["DON_VI", None, "Tên"]]})
        key_info = google.service_account_key()         # real RSA key, token_uri -> here
        client = make_client(key_info, api_base_url=google.base_url)
        google.faults.append(Fault(Response(429, headers={"Retry-After": "1"}), r"values:batchGet", times=2))
        google.forbid("st-x")                           # 403 for that spreadsheet
        google.refuse_tokens(400)                       # the key is revoked
        google.read_only("st-x")                        # readable, writes answer 403
        google.edit("st-x", "BaoCao", "G14", 12)        # a unit types a value: modifiedTime moves
        google.api_requests()                           # [(method, path, query)], /token excluded

State: `google.spreadsheets[key]` is a `FakeSpreadsheet(key, title, sheets=[FakeSheet(sheet_id,
title, rows, merges)])` (`sheet.merge("G17:H17")` merges a range); cells hold Python values
(str, int, float, bool, date/datetime, None) and are rendered per request (`render_cell`);
a sheet's notes, formats, formulas and conditional formats are kept beside them
(`sheet.note("G14")`, `sheet.background("G14")`). `google.modified[key]` is Drive's
modifiedTime of each spreadsheet and who made that change.
`google.state` holds any other collection (Drive files, permissions...) a route module needs.
Route handlers take `(google, request)` and return a `Response`; raise `ApiError(status,
message)` (or call `google.spreadsheet(key)`, which raises 404/403) for Google-shaped errors.
Every request except `/token` needs the bearer token the token endpoint issued (401
otherwise, as Google answers).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

# (method, compiled path regex, handler(google, request) -> Response)
ROUTES: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = []

TOKEN_PATH = "/token"
# Who else changes a spreadsheet in the tests: its owner (who made it), a unit's officer.
OWNER_EMAIL = "chu-so-huu@soctrang.example"
UNIT_EMAIL = "can-bo-don-vi@soctrang.example"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_ENDPOINT = "https://oauth2.googleapis.com/token"


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

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes -> as is (Content-Type JSON unless given)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a hung server)


@dataclass
class Fault:
    """Answer the next matching request with `response` instead (`times` times).

    `path_regex` is searched in the request's path; the default matches every path, the
    token endpoint's (`/token`) included: use `r"^/v4/"` for the Sheets API only.
    """

    response: Response
    path_regex: str = ".*"
    times: int = 1
    method: str | None = None  # None: any method


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]


class ApiError(Exception):
    """Raised by route handlers: answered as Google's JSON error body."""

    STATUS_NAMES = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        409: "ALREADY_EXISTS",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
    }

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.response = error_response(status, message)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {
        "error": {"code": status, "message": message, "status": ApiError.STATUS_NAMES.get(status, "UNKNOWN")}
    }
    return Response(status, body, headers=dict(headers or {}))


@dataclass
class FakeSheet:
    sheet_id: int
    title: str
    rows: list[list[Any]] = field(default_factory=list)
    # Merged ranges as Google's GridRange (0-based, ends excluded, without `sheetId`).
    merges: list[dict[str, int]] = field(default_factory=list)
    # What `batchUpdate` writes besides values, by 0-based (row, col): a cell's note, its
    # `userEnteredFormat`, its formula (`rows` then holds the formula's computed value).
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    formats: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    # Conditional format rules, in order, as Google shows them (`ranges` with `sheetId`).
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)
    # Sheet properties set through the API: `gridProperties` (rowCount, columnCount, frozen...),
    # `tabColorStyle`, `hidden`.
    properties: dict[str, Any] = field(default_factory=dict)

    def merge(self, cells: str) -> None:
        """Merge a range given in A1 (`G17:H17`), as a unit does in Google Sheets: the cells but
        the top-left one are emptied."""
        first, last = (re.fullmatch(r"([A-Z]+)(\d+)", part) for part in cells.split(":"))
        assert first is not None, cells
        assert last is not None, cells

        def col(letters: str) -> int:
            n = 0
            for ch in letters:
                n = n * 26 + ord(ch) - 64
            return n - 1

        r1, c1, r2, c2 = int(first[2]) - 1, col(first[1]), int(last[2]) - 1, col(last[1])
        for r in range(r1, min(r2 + 1, len(self.rows))):
            for c in range(c1, min(c2 + 1, len(self.rows[r]))):
                if (r, c) != (r1, c1):
                    self.rows[r][c] = None
        self.merges.append(
            {"startRowIndex": r1, "endRowIndex": r2 + 1, "startColumnIndex": c1, "endColumnIndex": c2 + 1}
        )

    @property
    def row_count(self) -> int:
        size = self.properties.get("gridProperties", {}).get("rowCount")
        return int(size) if size else max(1000, len(self.rows))

    @property
    def column_count(self) -> int:
        size = self.properties.get("gridProperties", {}).get("columnCount")
        return int(size) if size else max([26, *(len(r) for r in self.rows)])

    def value(self, cell: str) -> Any:
        """The value of one cell given in A1 (`G14`), None when empty."""
        r, c = cell_position(cell)
        row = self.rows[r] if r < len(self.rows) else []
        return row[c] if c < len(row) else None

    def set(self, cell: str, value: Any) -> None:
        """Write one cell's value (A1), as a user typing it (a formula there is replaced)."""
        r, c = cell_position(cell)
        while len(self.rows) <= r:
            self.rows.append([])
        while len(self.rows[r]) <= c:
            self.rows[r].append(None)
        self.rows[r][c] = value
        self.formulas.pop((r, c), None)
        self.rows[:] = trim(self.rows)

    def note(self, cell: str) -> str | None:
        return self.notes.get(cell_position(cell))

    def background(self, cell: str) -> dict[str, Any] | None:
        """The colour a cell shows: the first conditional rule covering it (their conditions are
        taken as true), else its own background colour."""
        r, c = cell_position(cell)
        for rule in self.conditional_formats:
            colour = ((rule.get("booleanRule") or {}).get("format") or {}).get("backgroundColor")
            if colour and any(grid_contains(g, r, c) for g in rule.get("ranges", [])):
                return colour
        return self.formats.get((r, c), {}).get("backgroundColor")


def cell_position(cell: str) -> tuple[int, int]:
    """`G14` -> (13, 6), 0-based."""
    match = re.fullmatch(r"\$?([A-Za-z]+)\$?(\d+)", cell.strip())
    assert match is not None, cell
    col = 0
    for ch in match[1].upper():
        col = col * 26 + ord(ch) - 64
    return int(match[2]) - 1, col - 1


def grid_contains(grid: dict[str, Any], row: int, col: int) -> bool:
    """Whether a `GridRange` (0-based, ends excluded, unbounded sides missing) holds (row, col)."""
    return int(grid.get("startRowIndex", 0)) <= row < int(grid.get("endRowIndex", 10**9)) and int(
        grid.get("startColumnIndex", 0)
    ) <= col < int(grid.get("endColumnIndex", 10**9))


@dataclass
class FakeSpreadsheet:
    key: str
    title: str
    sheets: list[FakeSheet] = field(default_factory=list)

    def sheet(self, title: str) -> FakeSheet | None:
        return next((s for s in self.sheets if s.title == title), None)

    def add_sheet(self, title: str, rows: list[list[Any]] | None = None) -> FakeSheet:
        sheet_id = 0 if not self.sheets else max(s.sheet_id for s in self.sheets) + 1
        sheet = FakeSheet(sheet_id, title, [list(r) for r in rows or []])
        self.sheets.append(sheet)
        return sheet


class FakeGoogle:
    """Sheets v4 / Drive v3 / OAuth token endpoint on 127.0.0.1 (a context manager)."""

    def __init__(self) -> None:
        self.spreadsheets: dict[str, FakeSpreadsheet] = {}
        self.state: dict[str, Any] = {}
        self.requests: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self.forbidden: set[str] = set()
        self.lock = threading.RLock()
        self.keys: dict[str, Any] = {}  # client_email -> RSA public key
        self.tokens: set[str] = set()
        self.token_emails: dict[str, str] = {}  # token -> the service account it was issued to
        # Drive's modifiedTime of each spreadsheet and who made that change (an email).
        self.modified: dict[str, tuple[dt.datetime, str]] = {}
        self.read_only_keys: set[str] = set()
        self.token_refusal: Response | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeGoogle:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-google", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeGoogle is not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_uri(self) -> str:
        return self.base_url + TOKEN_PATH

    # ------------------------------------------------------------------ credentials

    def service_account_key(
        self, email: str = "bao-cao@xoa-nha-tam.iam.gserviceaccount.com", **overrides: Any
    ) -> dict[str, Any]:
        """A service account JSON key (fresh 2048-bit RSA key) whose token_uri is this server."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        with self.lock:
            self.keys[email] = private.public_key()
        project = email.split("@", 1)[-1].split(".", 1)[0]
        key = {
            "type": "service_account",
            "project_id": project,
            "private_key_id": uuid.uuid4().hex,
            "private_key": pem,
            "client_email": email,
            "client_id": str(uuid.uuid4().int)[:21],
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
            "universe_domain": "googleapis.com",
        }
        key.update(overrides)
        return key

    def refuse_tokens(self, status: int = 400, error: str = "invalid_grant") -> None:
        """From now on the token endpoint refuses every key (a revoked or deleted key)."""
        descriptions = {
            "invalid_grant": "Invalid JWT Signature.",
            "invalid_client": "The OAuth client was not found.",
            "unauthorized_client": "Client is unauthorized to retrieve access tokens using this method.",
        }
        body = {"error": error, "error_description": descriptions.get(error, error)}
        self.token_refusal = Response(status, body)
        with self.lock:
            self.tokens.clear()

    # ------------------------------------------------------------------ data

    def add_spreadsheet(
        self, key: str, sheets: dict[str, list[list[Any]]], title: str | None = None
    ) -> FakeSpreadsheet:
        spreadsheet = FakeSpreadsheet(key, title or key)
        for sheet_title, rows in sheets.items():
            spreadsheet.add_sheet(sheet_title, rows)
        with self.lock:
            self.spreadsheets[key] = spreadsheet
        self.touch(key, by=OWNER_EMAIL)
        return spreadsheet

    def touch(self, key: str, by: str = OWNER_EMAIL, when: dt.datetime | None = None) -> dt.datetime:
        """Drive's modifiedTime of `key` becomes now (or `when`), the change made by `by`."""
        with self.lock:
            moment = when or dt.datetime.now(dt.UTC)
            before = self.modified.get(key)
            if when is None and before is not None and moment <= before[0]:
                moment = before[0] + dt.timedelta(milliseconds=1)  # Drive's clock never goes back
            self.modified[key] = (moment, by)
            return moment

    def edit(self, key: str, sheet: str, cell: str, value: Any, by: str = UNIT_EMAIL) -> None:
        """A unit's officer types `value` into `cell` (A1) of a worksheet: modifiedTime moves."""
        with self.lock:
            found = self.spreadsheets[key].sheet(sheet)
            assert found is not None, sheet
            found.set(cell, value)
        self.touch(key, by=by)

    def read_only(self, key: str) -> None:
        """The service account may read the spreadsheet but no longer edit it: writes get 403."""
        with self.lock:
            self.read_only_keys.add(key)

    def requester(self, request: Request) -> str:
        """The service account email whose token authorised `request` ("" when none)."""
        _scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self.lock:
            return self.token_emails.get(token, "")

    def add_workbook_file(self, key: str, path: str | Path, title: str | None = None) -> FakeSpreadsheet:
        """Load every worksheet of an .xlsx (cached formula results, dates as dates)."""
        sheets = {name: [list(row) for row in rows] for name, rows in workbook_sheets(Path(path)).items()}
        return self.add_spreadsheet(key, sheets, title or Path(path).stem)

    def add_workbook_folder(self, folder: str | Path) -> list[str]:
        """Every `<key>.xlsx` of a folder as the spreadsheet `<key>`; returns the keys."""
        keys = []
        for path in sorted(Path(folder).glob("*.xlsx")):
            self.add_workbook_file(path.stem, path)
            keys.append(path.stem)
        return keys

    def forbid(self, key: str) -> None:
        """The service account has no access to this spreadsheet: 403."""
        with self.lock:
            self.forbidden.add(key)

    def spreadsheet(self, key: str) -> FakeSpreadsheet:
        """The spreadsheet `key`, or raise ApiError 403/404 as Google would."""
        with self.lock:
            if key in self.forbidden:
                raise ApiError(403, "The caller does not have permission")
            found = self.spreadsheets.get(key)
        if found is None:
            raise ApiError(404, "Requested entity was not found.")
        return found

    # ------------------------------------------------------------------ request log

    def api_requests(self, path_regex: str = ".*", method: str | None = None) -> list[LoggedRequest]:
        """Logged requests other than the token endpoint's, optionally filtered."""
        pattern = re.compile(path_regex)
        with self.lock:
            return [
                r
                for r in self.requests
                if r.path != TOKEN_PATH
                and pattern.search(r.path)
                and (method is None or r.method == method.upper())
            ]

    def token_requests(self) -> list[LoggedRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == TOKEN_PATH]

    def reset_log(self) -> None:
        with self.lock:
            self.requests.clear()

    # ------------------------------------------------------------------ dispatch

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(LoggedRequest(request.method, request.path, request.query))
            fault = self._take_fault(request)
        if fault is not None:
            return fault
        if request.path == TOKEN_PATH and request.method == "POST":
            return self._token(request)
        if not self._authorised(request):
            return error_response(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        for method, pattern, handler in ROUTES:
            if method != request.method:
                continue
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            request.match = match
            try:
                return handler(self, request)
            except ApiError as exc:
                return exc.response
        return error_response(404, f"Method not found: {request.method} {request.path}")

    def _take_fault(self, request: Request) -> Response | None:
        for fault in self.faults:
            if fault.times <= 0:
                continue
            if fault.method is not None and fault.method.upper() != request.method:
                continue
            if re.search(fault.path_regex, request.path):
                fault.times -= 1
                return fault.response
        return None

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        with self.lock:
            return scheme.lower() == "bearer" and token in self.tokens

    def _token(self, request: Request) -> Response:
        if self.token_refusal is not None:
            return self.token_refusal
        form = parse_qs(request.body.decode("utf-8"))
        if form.get("grant_type", [""])[0] != JWT_BEARER:
            return Response(
                400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
            )
        assertion = form.get("assertion", [""])[0]
        problem = self._check_assertion(assertion)
        if problem:
            return Response(400, {"error": "invalid_grant", "error_description": problem})
        token = "ya29.fake-" + uuid.uuid4().hex
        with self.lock:
            self.tokens.add(token)
            self.token_emails[token] = _assertion_issuer(assertion)
        return Response(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _check_assertion(self, assertion: str) -> str | None:
        """Verify the JWT's RS256 signature with the key's public key, its audience and expiry."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64decode(header_b64))
            payload = json.loads(_b64decode(payload_b64))
            signature = _b64decode(signature_b64)
        except ValueError:
            return "Invalid JWT: cannot decode."
        if header.get("alg") != "RS256":
            return "Invalid JWT: alg must be RS256."
        with self.lock:
            public = self.keys.get(payload.get("iss", ""))
        if public is None:
            return "Invalid JWT Signature."  # unknown (deleted) service account
        try:
            public.verify(
                signature, f"{header_b64}.{payload_b64}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            return "Invalid JWT Signature."
        # google-auth always addresses Google's own endpoint, whatever the key's token_uri.
        if payload.get("aud") not in (self.token_uri, GOOGLE_TOKEN_ENDPOINT):
            return f"Invalid JWT: audience must be {GOOGLE_TOKEN_ENDPOINT}."
        if float(payload.get("exp", 0)) < time.time():
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
        if not payload.get("scope"):
            return "Invalid JWT: no scope."
        return None


# ---------------------------------------------------------------------- HTTP plumbing


def _handler_for(google: FakeGoogle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every request.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                response = google.handle(request)
            except Exception as exc:  # a bug in a route: answer 500 so the test sees it
                response = error_response(500, f"fake server error: {type(exc).__name__}: {exc}")
            if response.delay:
                time.sleep(response.delay)
            payload, content_type = _encode(response.body)
            try:
                self.send_response(response.status)
                headers = {"Content-Type": content_type, **response.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


def _encode(body: Any) -> tuple[bytes, str]:
    if body is None:
        return b"", "application/json; charset=UTF-8"
    if isinstance(body, bytes):
        return body, "application/json; charset=UTF-8"
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=UTF-8"
    return json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json; charset=UTF-8"


def _assertion_issuer(assertion: str) -> str:
    payload = assertion.split(".")[1]
    return str(json.loads(_b64decode(payload)).get("iss", ""))


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------------- cells


@functools.cache
def workbook_sheets(path: Path) -> dict[str, tuple[tuple[Any, ...], ...]]:
    """The cells of every worksheet of an .xlsx, read once per path (openpyxl, cached values)."""
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    try:
        return {ws.title: tuple(tuple(row) for row in _sheet_rows(ws)) for ws in book.worksheets}
    finally:
        book.close()


def _sheet_rows(ws: Any) -> list[list[Any]]:
    rows = []
    for raw in ws.iter_rows(values_only=True):
        row = [None if v == "" else v for v in raw]
        rows.append(row)
    return trim(rows)


def trim(rows: Iterable[list[Any]]) -> list[list[Any]]:
    """Drop trailing empty cells of each row and trailing empty rows, as Google does."""
    out = [list(r) for r in rows]
    for row in out:
        while row and (row[-1] is None or row[-1] == ""):
            row.pop()
    while out and not out[-1]:
        out.pop()
    return out


_EPOCH = dt.datetime(1899, 12, 30)


def serial_number(value: dt.date | dt.datetime | dt.time) -> int | float:
    """A date as Google's SERIAL_NUMBER: days since 30/12/1899 (fraction for the time)."""
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    if not isinstance(value, dt.datetime):
        return (value - _EPOCH.date()).days
    delta = value - _EPOCH
    days = delta.days + delta.seconds / 86400
    return int(days) if float(days).is_integer() else days


def render_cell(value: Any, value_render: str, date_render: str) -> Any:
    """One cell as values.get/batchGet would give it for these render options."""
    if value is None:
        return ""
    is_date = isinstance(value, dt.date | dt.time)
    if value_render == "FORMATTED_VALUE":
        return _formatted(value)
    if is_date:
        if date_render == "FORMATTED_STRING":
            return _formatted(value)
        return serial_number(value)
    return value


def _formatted(value: Any) -> str:
    """The text a vi_VN spreadsheet shows (dates dd/mm/yyyy)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return f"{value:%d/%m/%Y}"
        return f"{value:%d/%m/%Y %H:%M:%S}"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, dt.time):
        return f"{value:%H:%M:%S}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _load_routes() -> None:
    import tests.google_api.reads  # noqa: F401  (registers the read endpoints)

    try:
        import tests.google_api.writes  # noqa: F401  (the write endpoints, when present)
    except ImportError as exc:
        if exc.name != "tests.google_api.writes":
            raise


_load_routes()
