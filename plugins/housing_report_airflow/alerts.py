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
    """on_failure_callback: email the admins that a task has failed for good (after its retries),
    once for that task's try however many times the callback runs. A plain function rather than
    a `BaseNotifier` (it renders no template). An alert never hides the failure it reports."""
    try:
        from housing_report_airflow.admin_alerts import alert_failure

        alert_failure(context)
    except Exception:
        log.exception("Không gửi được cảnh báo cho quản trị")


async def report_deadline_missed(context: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Deadline Alert callback (runs in the triggerer): the report has not been delivered by the
    deadline. The sending runs in a thread: the triggerer's event loop is not held up."""
    import asyncio

    from housing_report_airflow.admin_alerts import alert_deadline

    await asyncio.to_thread(alert_deadline, context or {}, **kwargs)
