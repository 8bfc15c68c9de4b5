"""Task bodies of `provincial_report`: turn Airflow context into calls to `housing_report`.

The DAG file imports this module inside its task bodies, never when it is parsed; the settings,
config, store, source and mailer come from `resources`, built once per process. An error no
retry can fix (a bad config, period, setting or key; a folder the system cannot write) fails the
task at once with the admin's one line (`failures.fail_at_once`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from housing_report_airflow.failures import fail_at_once
from housing_report_airflow.resources import for_tasks

log = logging.getLogger(__name__)


@fail_at_once
def resolve_period(period_param: str | None, logical_date: dt.datetime | None) -> str:
    """The period to collect: the `period` Param, else the latest collection day not after
    the run's logical date (or now, for a manual run without one), in the programme's zone."""
    from housing_report.core.periods import latest_period, parse_period

    config = for_tasks().config
    days = config.report.schedule.collection_days
    if period_param:
        period = parse_period(str(period_param), days)
    else:
        moment = logical_date or dt.datetime.now(dt.UTC)
        period = latest_period(moment, days, config.report.schedule.timezone)
    log.info("Kỳ báo cáo: %s", period.isoformat())
    return period.isoformat()


@fail_at_once
def plan_fetch_batches(replay: bool = False) -> list[list[str]]:
    """Batches of unit codes to read; none for a replay (it reads the archive, not the sheets)."""
    from housing_report.pipeline.report import plan_batches

    if replay:
        log.info("replay: không đọc nguồn nào, dựng lại từ kho lưu trữ")
        return []
    resources = for_tasks()
    config = resources.config
    if resources.settings.source.lower() == "google":
        _check_google_credentials()
    batches = plan_batches(config, resources.settings.max_fetch_tasks)
    log.info("%d đơn vị, %d lô đọc", len(config.units), len(batches))
    return batches


def _check_google_credentials() -> None:
    """A bad key or a refused token (`SourceConfigError`) fails the run here, once, before any
    fetch task is mapped."""
    from housing_report.collect.google_client import check_credentials

    check_credentials(for_tasks().google.client)


@fail_at_once
def fetch_batch(
    unit_codes: list[str],
    period: str,
    run_id: str,
    *,
    lock: bool = False,
    unlocked: Sequence[str] = (),
) -> dict[str, int]:
    """Read a batch. The source as a whole unusable (a bad key, a refused token, no connection:
    `SourceConfigError`) fails the task at once, as it is not a unit's problem. A spreadsheet
    unchanged since its units' last read of the period (a pre-check's, an earlier run's) is not
    read again: those reads are stored again as this run's (`precheck.run.unchanged_reads`).

    `lock` (a run that may send, not a dry run or a replay): with `precheck.protect_after_deadline`
    and the Google source, the batch's worksheets are then locked against their units' editors
    (`precheck.lock`), but for the units `unlocked` (the run's `unlocked_units` Param)."""
    from housing_report.pipeline.report import collect_batch
    from housing_report.precheck.run import sheet_times_for, unchanged_reads

    resources = for_tasks()
    config, store, day = resources.config, resources.store, dt.date.fromisoformat(period)
    units = [config.unit(code) for code in unit_codes]
    same = unchanged_reads(config, store, day, units, sheet_times_for(resources.source))
    counts = collect_batch(
        config,
        unit_codes,
        day,
        run_id,
        resources.source,
        store,
        reuse={code: read.id for code, read in same.items()},
    )
    google = resources.settings.source.lower() == "google"
    if lock and google and config.report.precheck.protect_after_deadline:
        from housing_report.precheck.lock import lock_after_deadline

        lock_after_deadline(config, resources.google.client, units, day, unlocked)
    return counts


@fail_at_once
def aggregate(
    period: str,
    run_id: str,
    replay: bool = False,
    replay_version: int | None = None,
    *,
    sends: bool = True,
    named_period: bool = False,
    send_held: bool = False,
) -> dict[str, Any]:
    """Build (or, for a replay, rebuild from the archive) the summary and write the outputs.

    `held`: why this version must not be emailed (`deliver.hold`), "" when it may be; decided
    here, once, for both tasks that send (`sends`: not a dry run). `named_period`: the run's
    conf names the period; `send_held`: the Param that lifts a hold."""
    from housing_report.deliver.hold import hold_reason
    from housing_report.pipeline.report import period_folder, summarise
    from housing_report.pipeline.report import replay as replay_summary
    from housing_report.render.digest import format_digest
    from housing_report.render.outputs import write_outputs

    resources = for_tasks()
    config = resources.config
    day = dt.date.fromisoformat(period)
    store = resources.store
    folder = period_folder(resources.settings.output_dir, day)
    if replay:
        summary = replay_summary(config, day, store, replay_version or None)
        folder = folder / f"replay-v{summary.version}"
    else:
        summary = summarise(config, day, run_id, store)
    outputs = write_outputs(config, summary, folder, earlier=store.history(day))
    log.info("%s", format_digest(summary, outputs.to_json()))
    held = ""
    if sends and not replay:
        schedule = config.report.schedule
        held = hold_reason(
            summary.status_counts,
            day,
            dt.datetime.now(schedule.tz).date(),
            hold_after_days=schedule.hold_after_days,
            named_period=named_period,
            send_held=send_held,
        )
    if held:
        log.warning("Kỳ %s: giữ lại, không gửi email: %s", period, held)
    return {
        "period": period,
        "version": summary.version,
        "replay": replay,
        "held": held,
        "status_counts": summary.status_counts,
        "completion_percent": summary.completion_percent,
        "outputs": outputs.to_json(),
    }


@fail_at_once
def deliver(
    period: str, run_id: str, dry_run: bool, force_resend: bool = False, approval: dict | None = None
) -> dict[str, Any]:
    """Send this run's version if the delivery log says so (see housing_report.deliver.report).
    With `approval:` in report.yaml, only a version its approvers approved (`approval`, the
    approval task's decision) is sent, as the approved document signed (PDF)."""
    from housing_report.deliver.approval import APPROVED, Decision
    from housing_report.deliver.report import Mail, dispatch
    from housing_report.pipeline.report import period_folder

    resources = for_tasks()
    config = resources.config
    day = dt.date.fromisoformat(period)
    to, cc = config.report.to, config.report.cc
    if dry_run:
        log.info(
            "dry_run: không gửi. Người nhận sẽ là: %s; cc: %s",
            ", ".join(c.email for c in to),
            ", ".join(c.email for c in cc),
        )
        return {"sent": False, "dry_run": True, "reason": "dry_run"}
    decision = Decision.from_json(approval) if approval else None
    signed: dict[str, Any] = {}
    if config.report.approval is not None:
        if decision is None or decision.outcome != APPROVED:
            # Nothing unapproved is ever sent (the admins were told by the approval task).
            why = decision.reason if decision else "chưa có quyết định phê duyệt"
            log.info("Kỳ %s: không gửi (%s)", period, why)
            return {"sent": False, "reason": why, "approval": decision.outcome if decision else None}
        from housing_report_airflow.approval_tasks import signing

        signed = {
            "approval": decision.approval,
            "signing": signing(),
            "keep_in": period_folder(resources.settings.output_dir, day),
        }
    mailer = resources.mailer(period_folder(resources.settings.output_dir, day) / "outbox")
    mail = Mail.of(config, mailer.sender, mailer.message_id_domain)
    outcome = dispatch(
        config,
        resources.store,
        day,
        run_id,
        mail,
        mailer.transport,
        force_resend=force_resend,
        tell_admins=True,
        **signed,
    )
    log.info("Kỳ %s: %s", period, outcome.reason)
    return outcome.to_json()


def hold(period: str, run_id: str, version: int, reason: str) -> dict[str, Any]:
    """Log this run's version as held, not sent, and tell the admins once why and how to send it
    (see housing_report.deliver.hold). A retry finds both done."""
    from housing_report.deliver.hold import held_alert, record_hold
    from housing_report_airflow.admin_alerts import send_admin_alert

    resources = for_tasks()
    day = dt.date.fromisoformat(period)
    record_hold(resources.store, resources.config, day, version, run_id, reason)
    subject, lines = held_alert(day, version, run_id, reason)
    message_id = send_admin_alert(
        subject,
        lines,
        about=f"held:provincial_report/{run_id}",
        run_id=run_id,
        period=period,
        resources=resources,
    )
    log.warning("Kỳ %s, phiên bản %s: giữ lại, không gửi. %s", period, version, reason)
    return {"sent": False, "held": True, "version": version, "reason": reason, "alert": message_id}


@fail_at_once
def send_feedback(period: str, run_id: str, dry_run: bool, force_resend: bool = False) -> dict[str, Any]:
    """Email each unit with something to fix (rejected, stale, warnings) its findings, once per
    version and content (see housing_report.deliver.feedback); units with nothing to fix get nothing.
    `force_resend`: send again what may not have arrived (an unknown outcome, a refused address)."""
    from housing_report.deliver.feedback import FeedbackError
    from housing_report.deliver.feedback import send_feedback as send
    from housing_report.pipeline.report import period_folder

    resources = for_tasks()
    if dry_run:
        log.info("dry_run: không gửi thư phản hồi cho các đơn vị")
        return {"sent": [], "dry_run": True}
    day = dt.date.fromisoformat(period)
    mailer = resources.mailer(period_folder(resources.settings.output_dir, day) / "feedback")
    outcome = send(
        resources.config,
        resources.store,
        day,
        run_id,
        mailer.transport,
        mailer.sender,
        mailer.message_id_domain,
        tell_admins=True,
        force_resend=force_resend,
    )
    log.info(
        "Thư phản hồi kỳ %s: đã gửi %d (%s); không gửi %d",
        period,
        len(outcome.sent),
        ", ".join(outcome.sent) or "không có",
        len(outcome.skipped),
    )
    for code, why in outcome.skipped.items():
        log.info("  %s: %s", code, why)
    if outcome.failed:
        # The others are logged as sent: a retry sends only those refused outright; those whose
        # outcome is unknown or partial fail again until an admin re-runs with force_resend.
        raise FeedbackError(
            "Không gửi được thư phản hồi cho " + "; ".join(f"{c}: {e}" for c, e in outcome.failed.items())
        )
    return outcome.to_json()
