"""
### Kiểm tra trước báo cáo của các đơn vị (unit pre-check)

Runs at 07:00 and 14:00 from the 8th to the 12th and from the 23rd to the 27th
(Asia/Ho_Chi_Minh): report.yaml's `precheck` (`days_before: 4`, `hours: [7, 14]`) before each
collection day of `provincial_report`; a test keeps them in step. Reads only the units' sheets
changed since their last check, validates them with the provincial run's rules, stores each
read, and writes each unit's result where it enters its figures. Never emails officials.

1. `resolve_period`: the Param `period`, else the first collection day on or after the run's date.
2. `plan_checks`: the units whose spreadsheet changed since their last check (Google: Drive's
   modified times, one request for all; the local source: the files' times), in batches.
3. `check_unit_sheets` (mapped over batches, pool `google_sheets_api`): read, validate, store the
   reads (run id `precheck:<run id>`), and write each unit's result: the worksheet `KiemTra` of
   its spreadsheet (Google), or `<report_output_dir>/<period>/kiem-tra/<spreadsheet>.xlsx`.
4. `send_unit_messages`: an email to a unit only when its findings changed (never the same list
   twice), "Đã tiếp nhận" once per period when its sheet passes; the admins told once per period
   and unit when its spreadsheet no longer takes the feedback (the unit then gets it by email).

Variables and Connections: those of `provincial_report` (`report_source`, `report_output_dir`,
`report_delivery`; `report_db`, `report_smtp`, `google_sheets`).
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
# report.yaml's precheck (days_before 4, hours 7 and 14) before the collection days 12 and 27:
# `Precheck.cron`; a test keeps them in step (the config is not read at parse time).
SCHEDULE = "0 7,14 8,9,10,11,12,23,24,25,26,27 * *"
CHECK_DOC = """Read one batch of units' sheets (whole spreadsheets), validate them with the provincial
run's rules, store each read and write each unit's result where it enters its figures."""

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
        title="Chạy thử (không gửi thư)",
        description="Kiểm tra và ghi kết quả vào trang KiemTra nhưng không gửi email cho đơn vị.",
    ),
    "force_resend": Param(
        False,
        type="boolean",
        title="Gửi lại khi lần gửi trước không rõ kết quả",
        description="Chỉ dùng khi đã kiểm tra hộp thư và chắc chắn thư của lần gửi bị gián đoạn "
        "chưa đến đơn vị.",
    ),
}


@dag(
    dag_id="unit_precheck",
    schedule=CronTriggerTimetable(SCHEDULE, timezone=TZ),
    start_date=pendulum.datetime(2025, 1, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["xoa-nha-tam", "precheck"],
    # Each task's failure after its retries emails the admins: `on_failure_callback` is given
    # to each task, not in default_args, whose callables Airflow reads the source of at every
    # parse (docs/en/architecture.md, Params and callbacks).
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=5)},
)
def unit_precheck():
    @task(on_failure_callback=alert_admins_of_failure)
    def resolve_period() -> str:
        """Decide the coming period from the `period` Param or the run's date."""
        from housing_report_airflow import precheck_tasks

        context = get_current_context()
        return precheck_tasks.resolve_period(context["params"].get("period"), context.get("logical_date"))

    @task(on_failure_callback=alert_admins_of_failure)
    def plan_checks(period: str) -> list[list[str]]:
        """The units whose sheet changed since their last check, in batches (none: nothing to do)."""
        from housing_report_airflow import precheck_tasks

        return precheck_tasks.plan_checks(period)

    @task(doc_md=CHECK_DOC, pool=SHEETS_POOL, on_failure_callback=alert_admins_of_failure)
    def check_unit_sheets(unit_codes: list[str], period: str) -> dict:
        from housing_report_airflow import precheck_tasks

        return precheck_tasks.check_batch(unit_codes, period, get_current_context()["run_id"])

    # No sheet changed: no check task is mapped (they are skipped); the messages run all the same.
    @task(trigger_rule="none_failed", on_failure_callback=alert_admins_of_failure)
    def send_unit_messages(period: str, results: list[dict]) -> dict:
        """Email each unit checked in this run what changed, and "Đã tiếp nhận" once its sheet
        passes; never the same list twice, never to officials."""
        from housing_report_airflow import precheck_tasks

        context = get_current_context()
        params = context["params"]
        return precheck_tasks.send_messages(
            period, context["run_id"], bool(params.get("dry_run")), bool(params.get("force_resend"))
        )

    period = resolve_period()
    results = check_unit_sheets.partial(period=period).expand(unit_codes=plan_checks(period))
    send_unit_messages(period, results)


# The trigger form, added once the tasks exist (docs/en/architecture.md, Params and callbacks).
unit_precheck().params.update(PARAMS)
