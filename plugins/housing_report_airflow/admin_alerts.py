"""What the alerts to the admins (`admins` in report.yaml) say, sent through the send-once ledger.

- `alert_failure` (behind `alerts.alert_admins_of_failure`, each task's on_failure_callback): a
  task that failed after its retries emails the admins the task, the error and a link to its log.
- `alert_deadline` (behind `alerts.report_deadline_missed`, the Deadline Alert's callback, run in
  the triggerer): a run has not finished, so its report has not been delivered, by 11:00 on
  the collection day; it names that day and the run.

Each alert is logged (`deliveries`, kind `alert`) under what failed: the task's
`<dag>/<run>/<task>/<map index>/<try>`, or the run's `<dag>/<run>` for the deadline, so a
callback called again for the same failure tells nobody twice (`deliver.ledger`). Its period is
the run's Param `period` when it names one, else the run's date in the programme's time zone.
When the report database cannot even be opened (that may be the very failure), the alert goes
out unrecorded: the admins must hear of it, at the risk, then only, of hearing it twice. An
alert never hides the failure it reports: a failing alert is logged, nothing more.

With `report_delivery = outbox` the alerts are `.eml` files under
`<report_output_dir>/alerts/`; with `smtp` they go through `report_smtp`.

The callbacks the DAG files name are in `alerts` (imported at parse time, so kept to a few
lines); they call this module when an alert is due.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from housing_report.deliver.ledger import alert_message
from housing_report_airflow import resources as process_resources
from housing_report_airflow.failures import AdminMustAct, permanent_line
from housing_report_airflow.resources import Resources

log = logging.getLogger(__name__)


def send_admin_alert(
    subject: str,
    lines: list[str],
    *,
    about: str,
    run_id: str,
    period: str | None = None,
    moment: dt.datetime | None = None,
    resources: Any = None,
) -> str | None:
    """Email the admins once for `about` (what failed); the Message-ID, or None when there is
    nobody to tell or they were told already. `period`: the run's report period if it names one;
    else the date of `moment` (the run's; now by default) in the programme's time zone."""
    resources = resources or process_resources.current()
    config = resources.config
    if not config.report.admins:
        return None
    try:
        day = dt.date.fromisoformat(str(period)) if period else None
    except ValueError:
        day = None
    if day is None:
        day = (moment or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(config.report.schedule.timezone)).date()
    outbox = resources.settings.output_dir / "alerts"
    mailer = resources.mailer(outbox)
    try:
        ledger = resources.ledger(run_id, outbox)  # opens the report database
    except Exception as exc:
        if permanent_line(exc) is None:
            log.exception("Không mở được cơ sở dữ liệu báo cáo; gửi cảnh báo mà không ghi nhật ký gửi")
        else:  # said already by the failure itself: one line
            log.warning("Không mở được cơ sở dữ liệu báo cáo (%s); gửi cảnh báo không ghi nhật ký", exc)
        message = alert_message(mailer, config.report.admins, subject, lines)
        mailer.transport.deliver(message)
        return str(message["Message-ID"])
    receipt = ledger.alert(config.report.admins, period=day, about=about, subject=subject, lines=lines)
    return receipt.message_id if receipt else None


def alert_failure(context: Mapping[str, Any]) -> None:
    """Email the admins that a task has failed for good (after its retries), once for that
    task's try however many times the callback runs."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    try_number = getattr(ti, "try_number", 0)
    run_id = context.get("run_id") or getattr(ti, "run_id", "") or ""
    error = context.get("exception")
    log_url = getattr(ti, "log_url", None) or ""
    params = context.get("params") or {}
    if isinstance(error, AdminMustAct):  # no retry: the admin's line is the whole story
        failed = "đã thất bại, không thử lại vì chạy lại cũng không khắc phục được"
        said = str(error)
    else:
        failed = "đã thất bại sau các lần thử lại"
        said = f"{type(error).__name__ + ': ' if error else ''}{error or 'không rõ'}"
    lines = [
        f"Tác vụ {task_id} của quy trình {dag_id} {failed}.",
        f"Lần chạy: {context.get('run_id', '')}; kỳ báo cáo: {params.get('period') or 'mặc định'}.",
        f"Lỗi: {said}",
        f"Nhật ký: {log_url}" if log_url else "Nhật ký: xem trong giao diện Airflow.",
        "",
        f"Task {task_id} of {dag_id} failed after its retries.",
    ]
    send_admin_alert(
        f"[Cảnh báo] {dag_id}: tác vụ {task_id} thất bại",
        lines,
        about=f"task:{dag_id}/{run_id}/{task_id}/{map_index}/{try_number}",
        run_id=run_id,
        period=params.get("period"),
        moment=_run_moment(context.get("logical_date"), context.get("dag_run")),
    )


def alert_deadline(context: Mapping[str, Any], **kwargs: Any) -> str | None:
    """Email the admins that the run's report has not been delivered by the deadline.

    `context` is what Airflow 3.3's scheduler gives a Deadline Alert's callback
    (`airflow.models.deadline.Deadline.handle_miss`): `dag_run`, the run as the REST API shows it
    (`DAGRunResponse` as JSON: its id is `dag_run_id`, its dates ISO text) and `deadline`
    (`deadline_time`). The alert names the run's own collection day (the Param `period`, else
    the latest collection day not after the run's logical date) and the deadline's own time,
    never the day the callback happens to run (a catch-up run is past its deadline at once)."""
    from housing_report.core.periods import latest_period

    dag_run = context.get("dag_run") or {}
    get = dag_run.get if isinstance(dag_run, Mapping) else lambda k, d=None: getattr(dag_run, k, d)
    run_id = str(get("dag_run_id", "") or get("run_id", "") or "")
    dag_id = get("dag_id", "") or "provincial_report"
    conf = get("conf", None) or {}
    # The triggerer outlives runs and Variable changes: its alert reads them afresh.
    resources = Resources.load()
    schedule = resources.config.report.schedule
    zone = ZoneInfo(schedule.timezone)
    moment = _run_moment(None, dag_run)
    period = _period(conf.get("period") if isinstance(conf, Mapping) else None)
    if period is None and moment is not None:
        period = latest_period(moment, schedule.collection_days, schedule.timezone)
    deadline = context.get("deadline") or {}
    due = _run_moment(deadline.get("deadline_time") if isinstance(deadline, Mapping) else None, None)
    if due is not None:
        when = f"{due.astimezone(zone):%H:%M} ngày {due.astimezone(zone):%d/%m/%Y}"
    else:
        label = kwargs.get("deadline_label", "11:00")
        when = f"{label} ngày {period:%d/%m/%Y}" if period else f"{label} ngày thu thập"
    which = f"kỳ {period:%d/%m/%Y}" if period else "kỳ này"
    logical = f"{moment.astimezone(zone):%d/%m/%Y %H:%M}" if moment else "không có"
    lines = [
        f"Đến {when} (giờ Việt Nam), báo cáo {which} vẫn chưa được gửi: lần chạy {dag_id} chưa hoàn tất.",
        f"Lần chạy: {run_id or 'không rõ'}; ngày logic: {logical} (giờ Việt Nam).",
    ]
    queued = _run_moment(get("queued_at", None), None)
    if due is not None and queued is not None and queued > due:
        lines.append(
            f"Lần chạy được tạo lúc {queued.astimezone(zone):%H:%M ngày %d/%m/%Y}, đã sau hạn này: "
            "đây là lần chạy bù (thường do DAG vừa được bật lại)."
        )
    lines += [
        "Hãy xem lần chạy trong giao diện Airflow (tác vụ nào đang chờ hoặc thất bại).",
        "",
        f"The report of {period.isoformat() if period else 'the period'} (run {run_id}) has not "
        "been delivered by the deadline.",
    ]
    return send_admin_alert(
        f"[Cảnh báo] Báo cáo {which} chưa được gửi đúng hạn",
        lines,
        about=f"deadline:{dag_id}/{run_id}",
        run_id=run_id,
        period=period.isoformat() if period else None,
        moment=moment,
        resources=resources,
    )


def _period(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _run_moment(logical_date: Any, dag_run: Any) -> dt.datetime | None:
    """When the run is for: its logical date, else when it was due to run (`run_after`)."""
    for value in (
        logical_date,
        *(
            (dag_run.get(k) if isinstance(dag_run, Mapping) else getattr(dag_run, k, None))
            for k in ("logical_date", "run_after")
        ),
    ):
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                continue
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None
