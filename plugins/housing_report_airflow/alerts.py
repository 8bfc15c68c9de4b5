"""Alerts to the admins (`admins` in report.yaml), through the send-once ledger.

- `alert_admins_of_failure`: a task that failed after its retries emails the admins the
  task, the error and a link to its log (each task's on_failure_callback).
- `report_deadline_missed`: the Deadline Alert's callback (runs in the triggerer)
  when a run has not finished, so its report has not been delivered, by 11:00 on
  the collection day.

Each alert is logged (`deliveries`, kind `alert`) under what failed: the task's
`<dag>/<run>/<task>/<map index>/<try>`, or the run's `<dag>/<run>` for the deadline, so a
callback called again for the same failure tells nobody twice (`deliver.ledger`). Its period is
the run's Param `period` when it names one, else the run's date in the programme's time zone.
When the report database cannot even be opened (that may be the very failure), the alert goes
out unrecorded: the admins must hear of it, at the risk, then only, of hearing it twice. An
alert never hides the failure it reports: a failing alert is logged, nothing more.

With `report_delivery = outbox` the alerts are `.eml` files under
`<report_output_dir>/alerts/`; with `smtp` they go through `report_smtp`.

The DAG files import this module when they are parsed, so it holds only the two callbacks and
imports the rest (`admin_alerts`: what an alert says, the resources, the ledger) when one runs.
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
