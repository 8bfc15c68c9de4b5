"""Task bodies of `provincial_report`: turn Airflow context into calls to `housing_report`.

Everything heavy is imported inside the functions, never when a DAG file is parsed.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from housing_report_airflow.settings import Settings, load_settings

log = logging.getLogger(__name__)


def _config(settings: Settings):
    from housing_report.config import load_config

    return load_config(settings.config_dir)


def _store(settings: Settings):
    from housing_report_airflow.hooks import ReportDbHook

    return ReportDbHook(fallback_dir=settings.output_dir).store


def _source(settings: Settings):
    from housing_report.sources.base import SourceConfigError

    if settings.source.lower() == "google":
        raise SourceConfigError(
            "Nguồn 'google' chưa được hỗ trợ trong phiên bản này; hãy đặt report_source là thư mục "
            "chứa các tệp .xlsx (the Google source is not available yet)."
        )
    from housing_report.sources.local import LocalWorkbookSource

    return LocalWorkbookSource(Path(settings.source))


def resolve_period(period_param: str | None, logical_date: dt.datetime | None) -> str:
    """The period to collect: the `period` Param, else the latest collection day not after
    the run's logical date (or now, for a manual run without one), in the programme's zone."""
    from housing_report.periods import latest_period, parse_period

    config = _config(load_settings())
    days = config.report.schedule.collection_days
    if period_param:
        period = parse_period(str(period_param), days)
    else:
        moment = logical_date or dt.datetime.now(dt.UTC)
        period = latest_period(moment, days, config.report.schedule.timezone)
    log.info("Kỳ báo cáo: %s", period.isoformat())
    return period.isoformat()


def plan_fetch_batches() -> list[list[str]]:
    from housing_report.pipeline import plan_batches

    settings = load_settings()
    config = _config(settings)
    batches = plan_batches(config, settings.max_fetch_tasks)
    log.info("%d đơn vị, %d lô đọc", len(config.units), len(batches))
    return batches


def fetch_batch(unit_codes: list[str], period: str, run_id: str) -> dict[str, int]:
    from housing_report.pipeline import collect_batch

    settings = load_settings()
    return collect_batch(
        _config(settings),
        unit_codes,
        dt.date.fromisoformat(period),
        run_id,
        _source(settings),
        _store(settings),
    )


def aggregate(period: str, run_id: str) -> dict[str, Any]:
    from housing_report.pipeline import format_digest, period_folder, summarise, write_outputs

    settings = load_settings()
    config = _config(settings)
    day = dt.date.fromisoformat(period)
    summary = summarise(config, day, run_id, _store(settings))
    outputs = write_outputs(config, summary, period_folder(settings.output_dir, day))
    log.info("%s", format_digest(summary, outputs.to_json()))
    return {
        "period": period,
        "status_counts": summary["status_counts"],
        "completion_percent": summary["completion_percent"],
        "outputs": outputs.to_json(),
    }


def deliver(period: str, run_id: str, dry_run: bool) -> dict[str, Any]:
    from housing_report.pipeline import Mail, deliver_summary, period_folder, recipients

    settings = load_settings()
    config = _config(settings)
    day = dt.date.fromisoformat(period)
    summary = _store(settings).summary(day, run_id)
    if summary is None:
        raise RuntimeError(f"Không tìm thấy bản tổng hợp kỳ {period} của lần chạy {run_id}.")
    to, cc = recipients(config)
    if dry_run:
        log.info(
            "dry_run: không gửi. Người nhận sẽ là: %s; cc: %s",
            ", ".join(c.email for c in to),
            ", ".join(c.email for c in cc),
        )
        return {"delivered": False, "dry_run": True}
    if settings.delivery == "smtp":
        from housing_report_airflow.hooks import ReportSmtpHook

        hook = ReportSmtpHook()
        delivery = hook.get_conn()
        sender = hook.sender
    else:
        from housing_report.delivery import OutboxDelivery

        delivery = OutboxDelivery(period_folder(settings.output_dir, day) / "outbox")
        sender = "Hệ thống báo cáo <bao-cao@localhost>"
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
    mail = Mail(sender=sender, to=to, cc=cc, message_id_domain=domain)
    result = deliver_summary(config, summary, mail, delivery)
    log.info("Đã gửi báo cáo kỳ %s: %s", period, result)
    return {"delivered": True, **result}
