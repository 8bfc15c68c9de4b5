"""Errors no retry can fix fail the task at once, with the one Vietnamese line the admin reads.

A bad config file (`ConfigError`), a period that is not a collection day (`PeriodError`), a
folder or database the system cannot write (`NotWritable`), a database to restore
(`StoreUnusable`), bad settings (`SettingsError`: Variables, Connections), an unusable Google
key (`SourceConfigError`): each is `Permanent` in the logic (`housing_report.core.errors`), or
named here for the source's. `@fail_at_once` on a task body turns them into
`AdminMustAct`, an `AirflowFailException`: no retry (it would fail the same way, minutes later),
the line first in the task's log and as the error the UI shows, with no traceback of the
logic's (it is logged at DEBUG for a developer).

The admins are emailed the failure by the task's failure callback (`alerts`) when that can
work: a broken config is also the list of admins, so it is printed, not mailed, and the log
says so. Every line given is kept for the process (`reported()`): `make demo`, which runs the
DAG in its own process, prints them instead of the end of a log.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from airflow.sdk.exceptions import AirflowFailException

from housing_report.collect.base import SourceConfigError
from housing_report.config import ConfigError
from housing_report.core.errors import Permanent

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
NOT_MAILED = (
    "Không gửi được email báo cho quản trị: danh sách quản trị nằm trong chính cấu hình đang lỗi. "
    "Hãy sửa cấu hình theo dòng trên rồi chạy lại."
)
_reported: list[str] = []


class AdminMustAct(AirflowFailException):
    """A task failed for good on an error no retry can fix; `cause` is that error."""

    def __init__(self, line: str, cause: BaseException):
        super().__init__(line)
        self.cause = cause


def permanent_line(error: BaseException) -> str | None:
    """The admin's line for an error no retry can fix, else None."""
    if isinstance(error, AdminMustAct):
        return str(error)
    if isinstance(error, (Permanent, SourceConfigError)):
        return " ".join(str(error).split()) or type(error).__name__
    return None


def is_config_error(error: BaseException | None) -> bool:
    return isinstance(getattr(error, "cause", error), ConfigError)


def fail_at_once(func: F) -> F:
    """A task body whose errors no retry can fix fail the task at once (`AdminMustAct`)."""

    @functools.wraps(func)
    def body(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AdminMustAct:
            raise
        except Exception as exc:
            line = permanent_line(exc)
            if line is None:
                raise
            raise must_act(line, exc) from None

    return body  # type: ignore[return-value]


def must_act(line: str, cause: BaseException) -> AdminMustAct:
    """Log `line` (first, alone) and keep it for the process; the exception to raise."""
    log.error("%s", line)
    remember(line)
    if is_config_error(cause):
        log.error("%s", NOT_MAILED)
        remember(NOT_MAILED)
    log.debug("Chi tiết cho người phát triển", exc_info=cause)
    return AdminMustAct(line, cause)


def remember(line: str) -> None:
    if line not in _reported:
        _reported.append(line)


def reported() -> list[str]:
    """The lines given to the admin in this process, in order."""
    return list(_reported)


def forget() -> None:
    _reported.clear()
