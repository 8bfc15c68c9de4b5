"""Alerts to the admins (`admins` in report.yaml), by the report's own delivery.

- `alert_admins_of_failure`: a task that failed after its retries emails the admins the
  task, the error and a link to its log (each task's on_failure_callback).
- `report_deadline_missed`: the Deadline Alert's callback (runs in the triggerer)
  when a run has not finished, so its report has not been delivered, by 11:00 on
  the collection day.

With `report_delivery = outbox` the alerts are `.eml` files under
`<report_output_dir>/alerts/`; with `smtp` they go through `report_smtp`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

log = logging.getLogger(__name__)


def send_admin_alert(subject: str, lines: list[str]) -> str | None:
    """Email the admins; returns the Message-ID, or None when there is nobody to tell."""
    from housing_report.deliver.message import build_message
    from housing_report.render.environment import RenderedEmail
    from housing_report_airflow.settings import load_settings
    from housing_report_airflow.tasks import _config, _delivery

    settings = load_settings()
    config = _config(settings)
    if not config.report.admins:
        return None
    text = "\n".join(lines)
    html = "<br>".join(_escape(line) for line in lines)
    delivery, sender, domain = _delivery(settings, settings.output_dir / "alerts")
    message = build_message(
        RenderedEmail(subject=subject, html=f"<div>{html}</div>", text=text),
        sender=sender,
        to=list(config.report.admins),
        cc=[],
        attachments=[],
        message_id_domain=domain,
    )
    delivery.deliver(message)
    return str(message["Message-ID"])


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def alert_admins_of_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: email the admins that a task has failed for good (after its retries).

    A plain function rather than a `BaseNotifier` (it renders no template): the DAG files
    import this module at parse time, and it imports nothing Airflow has not loaded already."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    error = context.get("exception")
    log_url = getattr(ti, "log_url", None) or ""
    params = context.get("params") or {}
    lines = [
        f"Tác vụ {task_id} của quy trình {dag_id} đã thất bại sau các lần thử lại.",
        f"Lần chạy: {context.get('run_id', '')}; kỳ báo cáo: {params.get('period') or 'mặc định'}.",
        f"Lỗi: {type(error).__name__ + ': ' if error else ''}{error or 'không rõ'}",
        f"Nhật ký: {log_url}" if log_url else "Nhật ký: xem trong giao diện Airflow.",
        "",
        f"Task {task_id} of {dag_id} failed after its retries.",
    ]
    try:
        send_admin_alert(f"[Cảnh báo] {dag_id}: tác vụ {task_id} thất bại", lines)
    except Exception:  # an alert must never hide the original failure
        log.exception("Không gửi được cảnh báo cho quản trị")


async def report_deadline_missed(context: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Deadline Alert callback: the report has not been delivered by the deadline."""
    context = context or {}
    dag_run = context.get("dag_run") or {}
    get = dag_run.get if isinstance(dag_run, dict) else lambda k, d=None: getattr(dag_run, k, d)
    deadline = kwargs.get("deadline_label", "11:00")
    lines = [
        f"Đến {deadline} ngày {dt.datetime.now(dt.UTC):%d/%m/%Y} (giờ Việt Nam), báo cáo kỳ này vẫn chưa "
        "được gửi: lần chạy provincial_report chưa hoàn tất.",
        f"Lần chạy: {get('run_id', '')}; ngày logic: {get('logical_date', '')}.",
        "Hãy xem lần chạy trong giao diện Airflow (tác vụ nào đang chờ hoặc thất bại).",
        "",
        "The provincial report has not been delivered by the deadline.",
    ]
    await asyncio.to_thread(send_admin_alert, "[Cảnh báo] Báo cáo kỳ này chưa được gửi đúng hạn", lines)
