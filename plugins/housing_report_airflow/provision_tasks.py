"""Task body of `provision_unit_sheets`: build the Google client and call `housing_report.setup.provision`.

Everything heavy (gspread, google-auth, openpyxl) is imported inside the function, never
when the DAG file is parsed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Variable: the Drive folder (in a shared drive) where new spreadsheets are created.
FOLDER_VARIABLE = "provision_drive_folder_id"


def _variable(name: str) -> str | None:
    from airflow.sdk import Variable

    value = Variable.get(name, default=None)
    return value.strip() or None if isinstance(value, str) else value


def provision_unit_sheets(
    dry_run: bool, unit_codes: Sequence[str] | None = None, notify_by_email: bool = False
) -> dict[str, Any]:
    """Provision (or, with `dry_run`, plan) the units' spreadsheets; log and return the report."""
    from housing_report.config import load_config
    from housing_report.setup.provision import provision
    from housing_report_airflow.google import GoogleSheetsHook

    config_dir = _variable("report_config_dir")
    config = load_config(Path(config_dir) if config_dir else None)
    hook = GoogleSheetsHook()
    folder_id = _variable(FOLDER_VARIABLE)
    log.info(
        "Tài khoản dịch vụ: %s; thư mục Drive cho bảng tính mới: %s; %s",
        hook.service_account_email,
        folder_id or "(không đặt: Drive của tài khoản dịch vụ)",
        "CHẠY THỬ, không ghi gì" if dry_run else "chạy thật",
    )
    report = provision(
        config,
        hook.client,
        dry_run,
        unit_codes=list(unit_codes or []),
        notify=notify_by_email,
        folder_id=folder_id,
        service_account_email=hook.service_account_email,
    )
    log.info("%s", report.format_text())
    snippet = report.yaml_snippet()
    if snippet:
        log.info("Dán vào include/config/units.yaml (paste into units.yaml):\n%s", snippet)
    for problem in report.problems:
        log.warning("%s", problem)
    return report.to_json()
