"""
### Báo cáo tổng hợp tiến độ xóa nhà tạm, nhà dột nát (provincial report)

Runs at 07:00 on the 12th and the 27th (Asia/Ho_Chi_Minh). Reads every unit's
worksheet, validates it against the template, aggregates the provincial summary
and emails it to the Department and the Steering Committee.

1. `resolve_period`: the period (Param `period`, else the latest 12th or 27th not
   after the run's logical date, in Vietnam's time).
2. `plan_fetch_batches`: units grouped by spreadsheet into a bounded number of batches.
3. `fetch_unit_reports` (mapped over batches): read, parse and validate; every read
   is stored in the report database. One unit's problem becomes its status, never
   a failed task.
4. `aggregate_reports`: the summary (`summary.json`, workbook, email bodies) in
   `<report_output_dir>/<period>/`.
5. `deliver_report`: to the outbox or over SMTP (Variable `report_delivery`),
   unless `dry_run`.

Variables: `report_source` (`google` or a folder of `<spreadsheet>.xlsx`),
`report_output_dir`, `report_delivery` (`outbox` | `smtp`). Connections:
`report_db` (optional; SQLite in the output folder otherwise), `report_smtp`.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

from housing_report_airflow import tasks

TZ = "Asia/Ho_Chi_Minh"
# Bounds concurrent readers of Google's API across mapped tasks and workers; created by
# the project's setup (`make demo`, the compose init service).
SHEETS_POOL = "google_sheets_api"
FETCH_DOC = """Read, parse and validate one batch of units (whole spreadsheets); store every read
in the report database. A unit's problem becomes its status, never a failed task."""


@dag(
    dag_id="provincial_report",
    schedule=CronTriggerTimetable("0 7 12,27 * *", timezone=TZ),
    start_date=pendulum.datetime(2025, 1, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["xoa-nha-tam", "report"],
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=2)},
    params={
        "period": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Kỳ báo cáo",
            description="Ngày 12 hoặc 27 (yyyy-mm-dd). Để trống: kỳ gần nhất, không sau ngày chạy.",
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Chạy thử (không gửi)",
            description="Tổng hợp và ghi kết quả nhưng không gửi email.",
        ),
    },
)
def provincial_report():
    @task
    def resolve_period() -> str:
        """Decide the period from the `period` Param or the run's logical date."""
        context = get_current_context()
        return tasks.resolve_period(context["params"].get("period"), context.get("logical_date"))

    @task
    def plan_fetch_batches() -> list[list[str]]:
        """Group the units by spreadsheet into at most `report_max_fetch_tasks` batches."""
        return tasks.plan_fetch_batches()

    # A mapped task does not take its docstring as doc_md, so it is given explicitly.
    @task(map_index_template="{{ batch_label }}", doc_md=FETCH_DOC, pool=SHEETS_POOL)
    def fetch_unit_reports(unit_codes: list[str], period: str) -> dict[str, int]:
        context = get_current_context()
        context["batch_label"] = f"{unit_codes[0]}… ({len(unit_codes)} đơn vị)"  # type: ignore[typeddict-unknown-key]
        return tasks.fetch_batch(unit_codes, period, context["run_id"])

    @task
    def aggregate_reports(period: str, counts: list[dict[str, int]]) -> dict:
        """Build the provincial summary from this run's reads and write the outputs."""
        return tasks.aggregate(period, get_current_context()["run_id"])

    @task
    def deliver_report(result: dict) -> dict:
        """Email the summary (outbox or SMTP), unless `dry_run`."""
        context = get_current_context()
        return tasks.deliver(result["period"], context["run_id"], bool(context["params"].get("dry_run")))

    period = resolve_period()
    counts = fetch_unit_reports.partial(period=period).expand(unit_codes=plan_fetch_batches())
    deliver_report(aggregate_reports(period, counts))


provincial_report()
