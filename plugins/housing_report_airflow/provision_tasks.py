"""Task body of `provision_unit_sheets`: the Google client and the config from `resources`, then
`housing_report.setup.provision`.

The DAG file imports this module inside its task body, never when it is parsed; the setup
code (gspread, google-auth, openpyxl) is imported inside the function. An error no retry can
fix (a bad config or key) fails the task at once with the admin's one line (`failures`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from housing_report_airflow.failures import fail_at_once
from housing_report_airflow.resources import current

log = logging.getLogger(__name__)


@fail_at_once
def provision_unit_sheets(
    dry_run: bool, unit_codes: Sequence[str] | None = None, notify_by_email: bool = False
) -> dict[str, Any]:
    """Provision (or, with `dry_run`, plan) the units' spreadsheets; log and return the report."""
    from housing_report.setup.provision import provision

    resources = current()  # provisioning needs no report_source
    config = resources.config
    hook = resources.google
    folder_id = resources.settings.provision_folder_id
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
