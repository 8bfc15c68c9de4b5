"""A gspread client for a service account, with timeouts, bounded retries and clear errors.

`make_client(key_info)` authenticates with google-auth using the service account's JSON key
as given (its own `token_uri` included) and returns a `gspread.Client` whose HTTP client:

- sends Sheets and Drive requests to `api_base_url` instead of Google's public hosts when
  one is given (a proxy, or the tests' loopback server);
- puts a timeout on every request;
- retries 429, 408 and 5xx answers, connection errors, timeouts and 2xx answers whose JSON
  body is malformed (a truncated answer), with exponential backoff and full jitter,
  honouring `Retry-After`, and gives up after `RetryPolicy.max_attempts` attempts, a single
  wait longer than `max_wait` or a total wait per request beyond `max_total_wait`, raising
  `GoogleUnavailable` (the caller makes it the unit's `unreachable` status); other HTTP
  errors (403, 404, 400) raise gspread's `APIError` at once, as gspread does. A POST or
  PATCH is sent again only when it certainly was not carried out (429, 503, no connection);
- turns a refused token (the token endpoint answers 400/401: key revoked, deleted or
  wrong) into `SourceConfigError` at once: a configuration problem for the admin, never
  retried.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from housing_report.collect.base import SourceConfigError

log = logging.getLogger(__name__)

SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive",
)
# The public hosts gspread's URLs start with (gspread.urls): Sheets v4 and Drive v3.
GOOGLE_BASE_URLS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
RETRY_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request before giving up.

    Waits grow as `base_delay * 2**(n-1)` with full jitter (a random wait between 0 and
    that), never longer than `max_wait`; a `Retry-After` from Google is a floor. A request
    is abandoned after `max_attempts` attempts, or when the next wait would exceed
    `max_wait` or bring the request's total wait beyond `max_total_wait`.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_wait: float = 32.0
    max_total_wait: float = 90.0


class GoogleUnavailable(Exception):
    """A request still failed after the retries the policy allows (429, 5xx, timeout, ...).

    `reason` is Vietnamese and says what the last attempt got; `attempts` how many were
    made; `code` is the HTTP status or "timeout", "connection", "json", "token".
    The last error is chained as `__cause__`.
    """

    def __init__(self, reason: str, attempts: int, code: str):
        self.reason = reason
        self.attempts = attempts
        self.code = code
        super().__init__(f"{reason} (sau {attempts} lần thử)")


@dataclass
class _Attempt:
    """Why one attempt failed in a way worth retrying."""

    headline: str  # Vietnamese, after "Google API ": "trả 429", "không trả lời trong 30 s"
    code: str  # "429", "503", "timeout", "connection", "json", "token"
    detail: str = ""
    retry_after: float | None = None
    error: BaseException | None = None
    # True when the request certainly was not carried out (429, 503, no connection made),
    # so that even a POST may be sent again.
    not_applied: bool = False

    @property
    def reason(self) -> str:
        return f"Google API {self.headline}" + (f" ({self.detail})" if self.detail else "")


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client with base-URL rewriting, timeouts and bounded retries."""

    api_base_url: str | None = None
    retry: RetryPolicy = RetryPolicy()
    sleep: Callable[[float], None] = staticmethod(time.sleep)
    rng: random.Random = random.Random()

    def configure(
        self,
        *,
        api_base_url: str | None,
        timeout: float,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
        rng: random.Random | None = None,
    ) -> None:
        self.api_base_url = api_base_url.rstrip("/") if api_base_url else None
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep
        self.rng = rng or random.Random()

    def rewrite(self, url: str) -> str:
        if self.api_base_url:
            for base in GOOGLE_BASE_URLS:
                if url.startswith(base + "/"):
                    return self.api_base_url + url[len(base) :]
        return url

    def request(
        self,
        method: str,
        endpoint: str,
        params: Any = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Any = None,
    ) -> requests.Response:
        url = self.rewrite(endpoint)
        what = f"{method.upper()} {_path(url)}"
        policy = self.retry
        waited = 0.0
        attempt = 1
        while True:
            failure = self._attempt(method, url, params, data, json, files, headers)
            if isinstance(failure, requests.Response):
                return failure
            wait = self._next_wait(attempt, failure)
            give_up = attempt >= policy.max_attempts or waited + wait > policy.max_total_wait
            # A POST or PATCH that may have been carried out is not sent twice (e.g. a
            # spreadsheet created twice by provisioning): only reads and PUT/DELETE are.
            give_up = give_up or not (method.upper() in IDEMPOTENT_METHODS or failure.not_applied)
            reason = failure.reason
            if wait > policy.max_wait:
                give_up = True
                reason += (
                    f"; Google yêu cầu chờ {_vn_seconds(wait)} s, lâu hơn mức chờ tối đa "
                    f"{_vn_seconds(policy.max_wait)} s"
                )
            if give_up:
                log.warning("%s — %s; bỏ qua sau %d lần thử.", reason, what, attempt)
                raise GoogleUnavailable(reason, attempt, failure.code) from failure.error
            attempt += 1
            log.warning(
                "Google API %s, thử lại sau %s s (lần %d/%d) — %s",
                failure.headline,
                _vn_seconds(wait),
                attempt,
                policy.max_attempts,
                what,
            )
            self.sleep(wait)
            waited += wait

    def _attempt(self, method, url, params, data, json, files, headers) -> requests.Response | _Attempt:
        from google.auth.exceptions import RefreshError, TransportError

        try:
            response = self.session.request(
                method=method,
                url=url,
                json=json,
                params=params,
                data=data,
                files=files,
                headers=headers,
                timeout=self.timeout,
            )
        except RefreshError as exc:
            if is_refused_token(exc):
                raise SourceConfigError(refused_token_message(self.auth, exc)) from exc
            # The token endpoint failed without an OAuth answer (5xx, a proxy's page...).
            return _Attempt("không cấp được token (máy chủ cấp token lỗi)", "token", _short(exc), error=exc)
        except requests.ConnectTimeout as exc:
            return _Attempt(
                "không kết nối được (quá thời gian chờ)", "connection", error=exc, not_applied=True
            )
        except requests.Timeout as exc:
            seconds = _vn_seconds(_timeout_of(self.timeout))
            return _Attempt(f"không trả lời trong {seconds} s", "timeout", error=exc)
        except (requests.ConnectionError, TransportError) as exc:
            return _Attempt("không kết nối được", "connection", _short(exc), error=exc)
        if response.ok:
            if _is_json(response):
                try:
                    response.json()
                except ValueError as exc:
                    return _Attempt(
                        "trả dữ liệu JSON hỏng hoặc không trọn vẹn", "json", error=_malformed(response, exc)
                    )
            return response
        error = APIError(response)
        if response.status_code in RETRY_STATUSES:
            return _Attempt(
                f"trả {response.status_code}",
                str(response.status_code),
                _api_message(error),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                error=error,
                not_applied=response.status_code in (429, 503),
            )
        raise error

    def _next_wait(self, attempt: int, failure: _Attempt) -> float:
        policy = self.retry
        ceiling = min(policy.max_wait, policy.base_delay * 2 ** (attempt - 1))
        wait = self.rng.uniform(0, ceiling)  # full jitter
        if failure.retry_after is not None:
            wait = max(wait, failure.retry_after)
        return wait


class MalformedResponse(requests.RequestException):
    """A 2xx answer whose JSON body could not be parsed."""


def _malformed(response: requests.Response, exc: ValueError) -> MalformedResponse:
    return MalformedResponse(f"malformed JSON from {_path(response.url)}: {exc}", response=response)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# OAuth 2.0 error codes (RFC 6749, 5.2): the token endpoint refused the key itself.
OAUTH_REFUSALS = frozenset(
    {
        "invalid_grant",
        "invalid_client",
        "unauthorized_client",
        "invalid_request",
        "invalid_scope",
        "access_denied",
        "unsupported_grant_type",
    }
)


def is_refused_token(exc: BaseException) -> bool:
    """A RefreshError whose answer is an OAuth refusal (400/401 with `error: invalid_grant`...)."""
    if getattr(exc, "retryable", False):
        return False
    data = exc.args[1] if len(exc.args) > 1 else None
    return isinstance(data, Mapping) and data.get("error") in OAUTH_REFUSALS


def refused_token_message(credentials: Any, exc: BaseException) -> str:
    email_ = getattr(credentials, "service_account_email", "") or "(không rõ)"
    detail = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return (
        f"Google từ chối cấp quyền truy cập cho tài khoản dịch vụ {email_} "
        f"(máy chủ cấp token trả lời: {_short(Exception(detail))}). "
        "Khóa JSON có thể đã bị thu hồi, bị xóa, hoặc không đúng. Hãy tạo khóa mới cho tài khoản "
        "dịch vụ trong Google Cloud Console và cập nhật Connection google_sheets "
        "(extra keyfile_dict hoặc key_path)."
    )


def make_client(
    key_info: Mapping[str, Any],
    api_base_url: str | None = None,
    timeout: float = 30,
    retry: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
):
    """A gspread client authenticated as the service account of `key_info` (its JSON key).

    Raises `SourceConfigError` when the key is unusable (not a service account key, no
    `token_uri`, a private key that does not parse).
    """
    import gspread
    from google.oauth2 import service_account

    problem = key_problem(key_info)
    if problem:
        raise SourceConfigError(problem)
    try:
        credentials = service_account.Credentials.from_service_account_info(dict(key_info), scopes=SCOPES)
    except Exception as exc:  # MalformedError, ValueError from the key parser, cryptography errors
        raise SourceConfigError(
            f"Khóa tài khoản dịch vụ {key_info.get('client_email', '')} không dùng được: "
            f"{type(exc).__name__}: {_short(exc)}. Hãy tải lại khóa JSON từ Google Cloud Console "
            "và dán nguyên văn vào Connection google_sheets (extra keyfile_dict)."
        ) from exc
    client = gspread.Client(credentials, http_client=RetryingHTTPClient)
    http = client.http_client
    assert isinstance(http, RetryingHTTPClient)
    http.configure(
        api_base_url=api_base_url, timeout=timeout, retry=retry or RetryPolicy(), sleep=sleep, rng=rng
    )
    return client


def check_credentials(client: Any) -> None:
    """Ask for a token now, once: a refused or unusable key raises `SourceConfigError`.

    A token endpoint that fails without an OAuth answer (a 5xx, a network error) is left
    to the readers' own retries.
    """
    import requests
    from google.auth.exceptions import RefreshError, TransportError
    from google.auth.transport.requests import Request

    credentials = client.http_client.auth
    try:
        with requests.Session() as session:
            credentials.refresh(Request(session=session))
    except RefreshError as exc:
        if is_refused_token(exc):
            raise SourceConfigError(refused_token_message(credentials, exc)) from exc
    except TransportError:
        pass


def key_problem(key_info: Mapping[str, Any]) -> str | None:
    """What is wrong with a service account key, in Vietnamese, or None."""
    if not isinstance(key_info, Mapping):
        return "Khóa tài khoản dịch vụ phải là một đối tượng JSON (nội dung tệp khóa .json)."
    kind = key_info.get("type")
    if kind is not None and kind != "service_account":
        return (
            f"Khóa có type = '{kind}', không phải khóa tài khoản dịch vụ (service_account). "
            "Hãy tạo khóa JSON cho một tài khoản dịch vụ (IAM > Service Accounts > Keys)."
        )
    missing = [name for name in ("client_email", "private_key", "token_uri") if not key_info.get(name)]
    if missing:
        return (
            f"Khóa tài khoản dịch vụ thiếu trường {', '.join(missing)}. Hãy dùng nguyên văn tệp khóa JSON "
            "tải từ Google Cloud Console (có token_uri, thường là https://oauth2.googleapis.com/token)."
        )
    return None


def service_account_email(client: Any) -> str:
    """The email of the service account a client made by `make_client` acts as."""
    auth = getattr(getattr(client, "http_client", None), "auth", None)
    return str(getattr(auth, "service_account_email", "") or "")


def _api_message(error: APIError) -> str:
    """Google's own message of an error answer (`error.message`), shortened."""
    message = error.error.get("message") if isinstance(error.error, dict) else None
    return _short(Exception(message or error.response.reason or ""))


def _is_json(response: requests.Response) -> bool:
    return "json" in response.headers.get("Content-Type", "").lower()


def _timeout_of(timeout: Any) -> float:
    if isinstance(timeout, tuple):
        return float(max(t for t in timeout if t is not None))
    return float(timeout or 0)


def _path(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def _vn_seconds(seconds: float) -> str:
    """1.5 -> '1,5' (Vietnamese decimal comma)."""
    return f"{seconds:.1f}".replace(".", ",")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."
