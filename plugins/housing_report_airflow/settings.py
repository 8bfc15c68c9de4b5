"""Per-deployment settings, from Airflow Variables (overridable by AIRFLOW_VAR_*, which Airflow's
own environment-variables backend reads first). `variable` is the one way the glue reads a
Variable; `resources` builds the settings once per process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from airflow.sdk import Variable

from housing_report.core.errors import Permanent

REPO_ROOT = Path(__file__).resolve().parents[2]
DELIVERY_MODES = ("outbox", "smtp")
# Variable: the Drive folder (in a shared drive) where new spreadsheets are created.
FOLDER_VARIABLE = "provision_drive_folder_id"
NO_SOURCE = (
    "Chưa đặt Variable report_source: 'google' hoặc đường dẫn thư mục chứa các tệp .xlsx "
    "(Variable report_source is not set: 'google' or a folder of .xlsx workbooks)."
)


class SettingsError(ValueError, Permanent):
    """A Variable or a Connection is wrong or missing: the admin must fix it, no retry can."""


@dataclass(frozen=True)
class Settings:
    source: str  # "google" or a folder of <spreadsheet>.xlsx ("" when not set)
    output_dir: Path
    delivery: str  # outbox | smtp
    config_dir: Path | None
    max_fetch_tasks: int
    provision_folder_id: str | None = None

    def require_source(self) -> str:
        """`report_source`, which reading the units needs."""
        if not self.source:
            raise SettingsError(NO_SOURCE)
        return self.source


def variable(name: str, default: str | None = None) -> str | None:
    """A Variable's value, stripped (`AIRFLOW_VAR_<NAME>` first); `default` when unset or blank.
    Call only inside a task or a callback, never at parse time."""
    value = Variable.get(name, default=default)
    if isinstance(value, str):
        value = value.strip()
        return value or default
    return value


def load_settings(require_source: bool = True) -> Settings:
    """Read the report_* Variables (and `provision_drive_folder_id`). Call only inside a task,
    never at parse time; `require_source`: refuse a deployment without `report_source`."""
    source = variable("report_source") or ""
    if require_source and not source:
        raise SettingsError(NO_SOURCE)
    delivery = (variable("report_delivery", "outbox") or "outbox").lower()
    if delivery not in DELIVERY_MODES:
        raise SettingsError(
            f"Variable report_delivery = '{delivery}' không hợp lệ; dùng outbox hoặc smtp "
            "(must be outbox or smtp)."
        )
    output_dir = Path(variable("report_output_dir") or REPO_ROOT / "output")
    config_dir = variable("report_config_dir")
    try:
        max_tasks = int(variable("report_max_fetch_tasks", "16") or 16)
    except ValueError as exc:
        raise SettingsError(
            "Variable report_max_fetch_tasks phải là một số nguyên dương (must be a positive integer)."
        ) from exc
    return Settings(
        source=source,
        output_dir=output_dir if output_dir.is_absolute() else REPO_ROOT / output_dir,
        delivery=delivery,
        config_dir=Path(config_dir) if config_dir else None,
        max_fetch_tasks=max(1, max_tasks),
        provision_folder_id=variable(FOLDER_VARIABLE),
    )
