"""Task bodies of `submission_reminder`: Airflow context in, calls to `housing_report.deliver.reminders` out.

Everything heavy is imported inside the functions, never when a DAG file is parsed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from housing_report_airflow.settings import load_settings
from housing_report_airflow.tasks import _config, _delivery, _source, _store

log = logging.getLogger(__name__)


def resolve_coming_period(period_param: str | None, logical_date: dt.datetime | None) -> str:
    """The `period` Param, else the first collection day on or after the run's date (Vietnam's time)."""
    from housing_report.core.periods import coming_period, parse_period

    schedule = _config(load_settings()).report.schedule
    if period_param:
        period = parse_period(str(period_param), schedule.collection_days)
    else:
        moment = logical_date or dt.datetime.now(dt.UTC)
        period = coming_period(
            moment.astimezone(ZoneInfo(schedule.timezone)).date(), schedule.collection_days
        )
    log.info("Kỳ sắp đến: %s", period.isoformat())
    return period.isoformat()


def plan_batches() -> list[list[str]]:
    from housing_report.pipeline.report import plan_batches as plan

    settings = load_settings()
    return plan(_config(settings), settings.max_fetch_tasks)


def check_batch(unit_codes: list[str], period: str) -> list[dict[str, Any]]:
    from housing_report.pipeline.reminders import check_units

    settings = load_settings()
    return check_units(_config(settings), unit_codes, dt.date.fromisoformat(period), _source(settings))


def _outbox(settings, period: str):
    return settings.output_dir / "reminders" / period


def send(period: str, run_id: str, states: list[dict[str, Any]], dry_run: bool) -> dict[str, Any]:
    from housing_report.deliver.reminders import send_reminders
    from housing_report.validate.freshness import UPDATED

    settings = load_settings()
    if dry_run:
        waiting = [s["code"] for s in states if s["state"] != UPDATED]
        log.info("dry_run: không gửi. Sẽ nhắc: %s", ", ".join(waiting) or "không đơn vị nào")
        return {"period": period, "dry_run": True, "would_remind": waiting}
    delivery, sender, domain = _delivery(settings, _outbox(settings, period))
    result = send_reminders(
        _config(settings),
        _store(settings),
        dt.date.fromisoformat(period),
        run_id,
        states,
        delivery,
        sender,
        domain,
    )
    log.info(
        "Kỳ %s: đã nhắc %s; đã nhắc trước đó %s; không có email %s",
        period,
        ", ".join(result["reminded"]) or "không đơn vị nào",
        ", ".join(result["already"]) or "không",
        ", ".join(result["no_email"]) or "không",
    )
    return result


def tell_admins(result: dict[str, Any]) -> dict[str, Any]:
    from housing_report.deliver.reminders import notify_admins

    if result.get("dry_run"):
        return {"sent": False, "reason": "dry_run"}
    settings = load_settings()
    delivery, sender, domain = _delivery(settings, _outbox(settings, result["period"]))
    message_id = notify_admins(_config(settings), result, delivery, sender, domain)
    if result["failed"]:
        raise RuntimeError(
            "Không gửi được thư nhắc cho "
            + ", ".join(result["failed"])
            + " (quản trị đã được báo danh sách)."
        )
    return {"sent": message_id is not None, "message_id": message_id}
