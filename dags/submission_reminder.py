"""
### Nhắc đơn vị chưa cập nhật báo cáo (submission reminder)

Runs at 08:00 on the 10th and the 25th (Asia/Ho_Chi_Minh), two days before each
collection day of `provincial_report` (12th and 27th). Reads every unit's worksheet
from the same source as the report and reminds only the units that have not updated
it for the coming period, then tells the admins who was reminded.

1. `resolve_coming_period`: the Param `period`, else the first collection day on or
   after the run's date.
2. `plan_reminder_batches`: units grouped by spreadsheet into a bounded number of batches.
3. `check_unit_sheets` (mapped over batches, pool `google_sheets_api`): reads each
   worksheet's `KY_BAO_CAO`: updated, not updated, missing or unreachable.
4. `send_reminders`: one email to each unit not updated (to its `emails`), at most once
   per period (the delivery log, kind `reminder`); none when the coming period is already
   past and was not named (the catch-up Airflow starts when the DAG is unpaused): the
   admins are told instead.
5. `notify_admins`: the admins get the list of units reminded, already reminded, without
   an email address, or whose reminder failed (once per period and list: a retry sends
   nothing twice).

Variables: `report_source`, `report_output_dir`, `report_delivery` (outbox files under
`<report_output_dir>/reminders/<period>/`, or `report_smtp`).
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

from housing_report_airflow.alerts import alert_admins_of_failure

# The task bodies import their module (housing_report_airflow.*) themselves: parsing this file
# costs little more than an empty DAG of its shape (BENCHMARKS.md, DAG file parse time).
TZ = "Asia/Ho_Chi_Minh"
SHEETS_POOL = "google_sheets_api"
CHECK_DOC = """Read one batch of units' worksheets (whole spreadsheets) and tell, for each unit,
whether `KY_BAO_CAO` is the coming period. Returns small JSON: code, state, period found."""


# As provincial_report's: a 12th or a 27th typed yyyy-mm-dd, a text field refused by its pattern.
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(12|27)$"

PARAMS = {
    "period": Param(
        None,
        type=["null", "string"],
        pattern=PERIOD_PATTERN,
        title="Kỳ báo cáo sắp đến",
        description="yyyy-mm-dd, ngày 12 hoặc 27 (ví dụ 2025-03-12). Để trống: ngày thu thập đầu "
        "tiên kể từ ngày chạy.",
    ),
    "dry_run": Param(
        False,
        type="boolean",
        title="Chạy thử (không gửi)",
        description="Đọc các trang tính và ghi vào nhật ký những đơn vị sẽ được nhắc, nhưng không gửi email.",
    ),
    "force_resend": Param(
        False,
        type="boolean",
        title="Gửi lại khi lần gửi trước không rõ kết quả",
        description="Chỉ dùng khi đã kiểm tra hộp thư và chắc chắn thư nhắc của lần gửi bị gián đoạn "
        "chưa đến đơn vị.",
    ),
}


@dag(
    dag_id="submission_reminder",
    # Two days before the collection days (12, 27) of report.yaml; a test keeps them in step.
    schedule=CronTriggerTimetable("0 8 10,25 * *", timezone=TZ),
    start_date=pendulum.datetime(2025, 1, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["xoa-nha-tam", "reminder"],
    # Each task's failure after its retries emails the admins: `on_failure_callback` is given
    # to each task, not in default_args, whose callables Airflow reads the source of at every
    # parse (docs/en/architecture.md, Params and callbacks).
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5)},
)
def submission_reminder():
    @task(on_failure_callback=alert_admins_of_failure)
    def resolve_coming_period() -> str:
        """Decide the coming period from the `period` Param or the run's date."""
        from housing_report_airflow import reminder_tasks

        context = get_current_context()
        return reminder_tasks.resolve_coming_period(
            context["params"].get("period"), context.get("logical_date")
        )

    @task(on_failure_callback=alert_admins_of_failure)
    def plan_reminder_batches() -> list[list[str]]:
        """Group the units by spreadsheet into at most `report_max_fetch_tasks` batches."""
        from housing_report_airflow import reminder_tasks

        return reminder_tasks.plan_batches()

    @task(doc_md=CHECK_DOC, pool=SHEETS_POOL, on_failure_callback=alert_admins_of_failure)
    def check_unit_sheets(unit_codes: list[str], period: str) -> list[dict]:
        from housing_report_airflow import reminder_tasks

        return reminder_tasks.check_batch(unit_codes, period)

    @task(on_failure_callback=alert_admins_of_failure)
    def send_reminders(period: str, states: list[list[dict]]) -> dict:
        """Email each unit that has not updated for the coming period (once per period); nobody
        when that period is past and the Param `period` did not name it (a catch-up)."""
        from housing_report_airflow import reminder_tasks

        context = get_current_context()
        flat = [s for batch in states for s in batch]
        params = context["params"]
        return reminder_tasks.send(
            period,
            context["run_id"],
            flat,
            bool(params.get("dry_run")),
            bool(params.get("period")),
            bool(params.get("force_resend")),
        )

    @task(on_failure_callback=alert_admins_of_failure)
    def notify_admins(result: dict) -> dict:
        """Send the admins the list of units reminded (and those that could not be), or why
        nobody was."""
        from housing_report_airflow import reminder_tasks

        return reminder_tasks.tell_admins(result, get_current_context()["run_id"])

    period = resolve_coming_period()
    states = check_unit_sheets.partial(period=period).expand(unit_codes=plan_reminder_batches())
    notify_admins(send_reminders(period, states))


# The trigger form, added once the tasks exist (docs/en/architecture.md, Params and callbacks).
submission_reminder().params.update(PARAMS)
