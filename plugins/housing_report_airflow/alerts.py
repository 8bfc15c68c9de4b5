"""The two callbacks the DAG files name: `alert_admins_of_failure` (each task's
on_failure_callback) and `report_deadline_missed` (the Deadline Alert's, run in the triggerer).

The DAG files import this module when they are parsed, so it is kept to these few lines; what
an alert says and how it is sent once (`admin_alerts`, the resources, the ledger) is imported
when one runs.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def alert_admins_of_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: email the admins that a task has failed for good (after its retries,
    or at once for an error no retry can fix), once for that task's try however many times the
    callback runs. A plain function rather than a `BaseNotifier` (it renders no template). An
    alert never hides the failure it reports: an alert that cannot go for a reason the admin must
    fix (the config that names the admins is broken, the folder cannot be written) is one line of
    the log after the failure's own, without a traceback."""
    from housing_report_airflow.failures import is_config_error, permanent_line, remember

    if is_config_error(context.get("exception")):
        return  # the admins are named by the broken config: the task's log says so already
    try:
        from housing_report_airflow.admin_alerts import alert_failure

        alert_failure(context)
    except Exception as exc:
        line = permanent_line(exc)
        if line is None:
            log.exception("Không gửi được cảnh báo cho quản trị")
            return
        line = f"Không gửi được cảnh báo cho quản trị: {line}"
        log.error("%s", line)
        remember(line)


async def report_deadline_missed(context: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Deadline Alert callback (runs in the triggerer): the report has not been delivered by the
    deadline. The sending runs in a thread: the triggerer's event loop is not held up."""
    import asyncio

    from housing_report_airflow.admin_alerts import alert_deadline

    await asyncio.to_thread(alert_deadline, context or {}, **kwargs)
