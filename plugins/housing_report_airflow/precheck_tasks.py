"""Task bodies of `unit_precheck`: Airflow context in, calls to `housing_report.precheck` out.

The DAG file imports this module inside its task bodies, never when it is parsed; the settings,
config, store, source and mailer come from `resources`, built once per process (the same
Variables and Connections as `provincial_report`). An error no retry can fix fails the task at
once with the admin's one line (`failures.fail_at_once`).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from housing_report_airflow.failures import fail_at_once
from housing_report_airflow.resources import Resources, for_tasks

log = logging.getLogger(__name__)


@fail_at_once
def resolve_period(period_param: str | None, logical_date: dt.datetime | None) -> str:
    """The `period` Param, else the first collection day on or after the run's date (Vietnam's time)."""
    from housing_report_airflow.reminder_tasks import resolve_coming_period

    return resolve_coming_period(period_param, logical_date)


def feedback_writer(resources: Resources) -> Any:
    """Where the units read their feedback: their Google spreadsheet (worksheet `KiemTra`), or,
    on the local source, `<report_output_dir>/<period>/kiem-tra/<spreadsheet>.xlsx`."""
    if resources.settings.require_source().lower() == "google":
        # pc-sheets' part (issue 21).
        from housing_report.precheck.sheets import SheetsFeedbackWriter

        return SheetsFeedbackWriter(resources.google.get_conn())
    from housing_report.precheck.local import LocalFeedbackWriter

    return LocalFeedbackWriter(resources.settings.output_dir, resources.config.report.schedule.timezone)


@fail_at_once
def plan_checks(period: str) -> list[list[str]]:
    """Batches of the units whose sheet changed since their last check (one Drive request for
    all on Google; file times on the local source)."""
    from housing_report.precheck.run import plan_check_batches, sheet_times_for

    resources = for_tasks()
    if resources.settings.source.lower() == "google":
        from housing_report.collect.google_client import check_credentials

        check_credentials(resources.google.client)  # a refused key: once, before any check
    batches, unchanged = plan_check_batches(
        resources.config,
        resources.store,
        dt.date.fromisoformat(period),
        sheet_times_for(resources.source),
        resources.settings.max_fetch_tasks,
    )
    log.info(
        "Kỳ %s: %d đơn vị cần đọc (%d lô); %d đơn vị không đổi từ lần kiểm tra trước: %s",
        period,
        sum(len(b) for b in batches),
        len(batches),
        len(unchanged),
        ", ".join(unchanged) or "không có",
    )
    return batches


@fail_at_once
def check_batch(unit_codes: list[str], period: str, run_id: str) -> dict[str, Any]:
    """Read, validate and store a batch; write each unit's feedback where it reads it."""
    from housing_report.precheck.run import check_units

    resources = for_tasks()
    outcome = check_units(
        resources.config,
        resources.store,
        resources.source,
        feedback_writer(resources),
        dt.date.fromisoformat(period),
        run_id,
        unit_codes,
    )
    for code, where in outcome.written.items():
        log.info("Kết quả kiểm tra của %s (%s): %s", code, outcome.statuses[code], where)
    return outcome.to_json()


def _outbox(resources: Resources, period: str) -> Path:
    return resources.settings.output_dir / period / "kiem-tra" / "thu"


@fail_at_once
def send_messages(period: str, run_id: str, dry_run: bool, force_resend: bool = False) -> dict[str, Any]:
    """Email each unit checked in this run what changed (never the same list twice; "Đã tiếp
    nhận" once per period); tell the admins of spreadsheets that no longer take the feedback."""
    from housing_report.precheck.messages import send_messages as send

    resources = for_tasks()
    if dry_run:
        log.info("dry_run: không gửi thư cho các đơn vị")
        return {"dry_run": True}
    mailer = resources.mailer(_outbox(resources, period))
    outcome = send(
        resources.config,
        resources.store,
        dt.date.fromisoformat(period),
        run_id,
        mailer,
        tell_admins=True,
        force_resend=force_resend,
    )
    log.info(
        "Thư kiểm tra kỳ %s: kết quả mới %s; Đã tiếp nhận %s; không đổi %s",
        period,
        ", ".join(outcome.told) or "không có",
        ", ".join(outcome.confirmed) or "không có",
        ", ".join(outcome.unchanged) or "không có",
    )
    if outcome.failed:
        raise RuntimeError(
            "Không gửi được thư kiểm tra cho " + "; ".join(f"{c}: {e}" for c, e in outcome.failed.items())
        )
    return outcome.to_json()
