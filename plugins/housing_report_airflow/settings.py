"""Per-deployment settings, from Airflow Variables (overridable by AIRFLOW_VAR_*)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from airflow.sdk import Variable

REPO_ROOT = Path(__file__).resolve().parents[2]
DELIVERY_MODES = ("outbox", "smtp")


@dataclass(frozen=True)
class Settings:
    source: str  # "google" or a folder of <spreadsheet>.xlsx
    output_dir: Path
    delivery: str  # outbox | smtp
    config_dir: Path | None
    max_fetch_tasks: int


def _get(name: str, default: str | None) -> str | None:
    value = Variable.get(name, default=default)
    return value.strip() if isinstance(value, str) else value


def load_settings() -> Settings:
    """Read the report_* Variables. Call only inside a task, never at parse time."""
    source = _get("report_source", None)
    if not source:
        raise ValueError(
            "Chưa đặt Variable report_source: 'google' hoặc đường dẫn thư mục chứa các tệp .xlsx "
            "(Variable report_source is not set: 'google' or a folder of .xlsx workbooks)."
        )
    delivery = (_get("report_delivery", "outbox") or "outbox").lower()
    if delivery not in DELIVERY_MODES:
        raise ValueError(
            f"Variable report_delivery = '{delivery}' không hợp lệ; dùng outbox hoặc smtp "
            "(must be outbox or smtp)."
        )
    output_dir = Path(_get("report_output_dir", None) or REPO_ROOT / "output")
    config_dir = _get("report_config_dir", None)
    max_tasks = int(_get("report_max_fetch_tasks", "16") or 16)
    return Settings(
        source=source,
        output_dir=output_dir if output_dir.is_absolute() else REPO_ROOT / output_dir,
        delivery=delivery,
        config_dir=Path(config_dir) if config_dir else None,
        max_fetch_tasks=max(1, max_tasks),
    )
