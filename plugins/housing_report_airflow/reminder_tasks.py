"""Task bodies of `submission_reminder`: Airflow context in, calls to `housing_report.deliver.reminders` out.

The DAG file imports this module inside its task bodies, never when it is parsed; the settings,
config, store, source and mailer come from `resources`, built once per process. An error no
retry can fix fails the task at once with the admin's one line (`failures.fail_at_once`).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from housing_report_airflow.failures import fail_at_once
from housing_report_airflow.resources import Resources, for_tasks

log = logging.getLogger(__name__)


@fail_at_once
def resolve_coming_period(period_param: str | None, logical_date: dt.datetime | None) -> str:
    """The `period` Param, else the first collection day on or after the run's date (Vietnam's time)."""
    from housing_report.core.periods import coming_period, parse_period

    schedule = for_tasks().config.report.schedule
    if period_param:
        period = parse_period(str(period_param), schedule.collection_days)
    else:
        moment = logical_date or dt.datetime.now(dt.UTC)
        period = coming_period(
            moment.astimezone(ZoneInfo(schedule.timezone)).date(), schedule.collection_days
        )
    log.info("Kỳ sắp đến: %s", period.isoformat())
    return period.isoformat()


@fail_at_once
def plan_batches() -> list[list[str]]:
    from housing_report.pipeline.report import plan_batches as plan

    resources = for_tasks()
    return plan(resources.config, resources.settings.max_fetch_tasks)


@fail_at_once
def check_batch(unit_codes: list[str], period: str) -> list[dict[str, Any]]:
    from housing_report.pipeline.reminders import check_units

    resources = for_tasks()
    return check_units(resources.config, unit_codes, dt.date.fromisoformat(period), resources.source)


def _outbox(resources: Resources, period: str) -> Path:
    return resources.settings.output_dir / "reminders" / period


@fail_at_once
def send(
    period: str,
    run_id: str,
    states: list[dict[str, Any]],
    dry_run: bool,
    named_period: bool = False,
    force_resend: bool = False,
) -> dict[str, Any]:
    """Remind the units not updated; nobody when the coming period is past and was not named
    (a catch-up after unpausing: `housing_report.deliver.hold`). `force_resend`: send again a
    reminder whose outcome is unknown."""
    from housing_report.deliver.hold import reminder_hold_reason
    from housing_report.deliver.reminders import send_reminders
    from housing_report.validate.freshness import UPDATED

    resources = for_tasks()
    if dry_run:
        waiting = [s["code"] for s in states if s["state"] != UPDATED]
        log.info("dry_run: không gửi. Sẽ nhắc: %s", ", ".join(waiting) or "không đơn vị nào")
        return {"period": period, "dry_run": True, "would_remind": waiting}
    today = dt.datetime.now(resources.config.report.schedule.tz).date()
    held = reminder_hold_reason(dt.date.fromisoformat(period), today, named_period=named_period)
    if held:
        log.warning("Không nhắc đơn vị nào: %s", held)
        return {"period": period, "held": held}
    mailer = resources.mailer(_outbox(resources, period))
    result = send_reminders(
        resources.config,
        resources.store,
        dt.date.fromisoformat(period),
        run_id,
        states,
        mailer.transport,
        mailer.sender,
        mailer.message_id_domain,
        tell_admins=True,
        force_resend=force_resend,
    )
    log.info(
        "Kỳ %s: đã nhắc %s; đã nhắc trước đó %s; không có email %s",
        period,
        ", ".join(result["reminded"]) or "không đơn vị nào",
        ", ".join(result["already"]) or "không",
        ", ".join(result["no_email"]) or "không",
    )
    return result


@fail_at_once
def tell_admins(result: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Send the admins the list of this run's reminders, once per period and list (the ledger)."""
    from housing_report.deliver.reminders import notify_admins

    if result.get("dry_run"):
        return {"sent": False, "reason": "dry_run"}
    resources = for_tasks()
    if result.get("held"):
        from housing_report.deliver.hold import held_reminders_alert
        from housing_report_airflow.admin_alerts import send_admin_alert

        subject, lines = held_reminders_alert(dt.date.fromisoformat(result["period"]), run_id, result["held"])
        message_id = send_admin_alert(
            subject,
            lines,
            about=f"held:submission_reminder/{run_id}",
            run_id=run_id,
            period=result["period"],
            resources=resources,
        )
        return {"sent": message_id is not None, "message_id": message_id, "held": True}
    mailer = resources.mailer(_outbox(resources, result["period"]))
    message_id = notify_admins(
        resources.config,
        resources.store,
        result,
        run_id,
        mailer.transport,
        mailer.sender,
        mailer.message_id_domain,
    )
    if result["failed"]:
        raise RuntimeError(
            "Không gửi được thư nhắc cho "
            + ", ".join(result["failed"])
            + " (quản trị đã được báo danh sách)."
        )
    return {"sent": message_id is not None, "message_id": message_id}
