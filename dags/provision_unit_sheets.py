"""
### Chuẩn bị bảng tính cho các đơn vị (provision the units' Google Sheets)

Run by hand (no schedule). For each unit of `units.yaml` (or those in the Param
`units`), makes sure that:

1. its spreadsheet exists: a key Google does not know is first looked up by the
   spreadsheet's title (`Báo cáo xóa nhà tạm - <unit name>`, or `- <key>` for a
   spreadsheet several units share), then created in the Drive folder of the Variable
   `provision_drive_folder_id` (a folder in a shared drive; a service account owns no
   files of its own);
2. the unit's worksheet exists, filled with the blank template of its kind;
3. the unit's `emails` can edit it (Drive permissions; Param `notify_by_email` lets
   Google email them);
4. column A (codes), the title rows and the tables' header rows are protected (only
   the service account edits them), and value cells accept only numbers >= 0.

It is idempotent: a second run creates and writes nothing. Param `dry_run` (default
on) only reads and reports the plan. The task's log and its XCom hold the report and,
for new spreadsheets, the `spreadsheet:` keys to paste into `units.yaml`.

Connection: `google_sheets` (service account key, optional `api_base_url`).
Variables: `provision_drive_folder_id`, `report_config_dir`.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

# The task bodies import their module (housing_report_airflow.*) themselves: parsing this file
# costs little more than an empty DAG of its shape (BENCHMARKS.md, DAG file parse time).
TZ = "Asia/Ho_Chi_Minh"
# The same pool as the report's readers: both spend the service account's quota.
SHEETS_POOL = "google_sheets_api"


PARAMS = {
    "dry_run": Param(
        True,
        type="boolean",
        title="Chạy thử (chỉ xem kế hoạch)",
        description="Bật: chỉ đọc và báo cáo sẽ làm gì, không tạo, không chia sẻ, không ghi gì. "
        "Tắt để thực hiện.",
    ),
    "units": Param(
        [],
        type="array",
        items={"type": "string"},
        title="Mã đơn vị",
        description="Chỉ chuẩn bị cho các đơn vị này (mã trong units.yaml, ví dụ 941, MTTQ). "
        "Để trống: tất cả.",
    ),
    "notify_by_email": Param(
        False,
        type="boolean",
        title="Gửi email báo chia sẻ",
        description="Google gửi email cho người được chia sẻ quyền sửa bảng tính.",
    ),
}


@dag(
    dag_id="provision_unit_sheets",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["xoa-nha-tam", "admin", "google-sheets"],
    default_args={"retries": 1, "retry_delay": dt.timedelta(minutes=2)},
)
def provision_unit_sheets():
    @task(pool=SHEETS_POOL)
    def provision_sheets() -> dict:
        """Create, share, protect and validate the units' spreadsheets (or, with `dry_run`,
        plan it); log the report and the keys to paste into `units.yaml`."""
        from housing_report_airflow import provision_tasks

        params = get_current_context()["params"]
        return provision_tasks.provision_unit_sheets(
            bool(params.get("dry_run", True)),
            list(params.get("units") or []),
            bool(params.get("notify_by_email", False)),
        )

    provision_sheets()


# The trigger form, added once the tasks exist (docs/en/architecture.md, Params and callbacks).
provision_unit_sheets().params.update(PARAMS)
