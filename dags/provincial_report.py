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
4a. `approve_report`: when there is something to send, the approvers of report.yaml answer in
   Browse → Required Actions (approve with the document's number and their text, or reject);
   no answer by the deadline, a rejection: nothing is sent and the admins are told.
5. `deliver_report`: to the outbox or over SMTP (Variable `report_delivery`),
   unless `dry_run`; an approved version as the signed PDF (Connection `report_signing`).
6. `send_unit_feedback` (beside 5): one email to each unit that is rejected, stale or
   has warnings, listing the cells to fix and how, with the link to its sheet.

Nothing goes out by surprise: a run more than `schedule.hold_after_days` days (report.yaml,
3) after its collection day whose period nobody named (the catch-up Airflow starts when the
DAG is unpaused), or a period no unit reported for, is held: outputs written, the version
logged `held`, one alert to the admins; neither 5 nor 6 emails anyone. The Param `send_held`
(or, for a late run, naming the period) sends it (`housing_report.deliver.hold`).

Variables: `report_source` (`google` or a folder of `<spreadsheet>.xlsx`),
`report_output_dir`, `report_delivery` (`outbox` | `smtp`). Connections:
`report_db` (optional; SQLite in the output folder otherwise), `report_smtp`,
`report_signing` (the key that signs the approved report).
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.sdk import (
    AsyncCallback,
    CronTriggerTimetable,
    DeadlineAlert,
    DeadlineReference,
    Param,
    dag,
    get_current_context,
    task,
)

from housing_report_airflow.alerts import alert_admins_of_failure, report_deadline_missed
from housing_report_airflow.approval import ReportApprovalOperator

# The task bodies import their module (housing_report_airflow.*) themselves: parsing this file
# costs little more than an empty DAG of its shape (BENCHMARKS.md, DAG file parse time).
TZ = "Asia/Ho_Chi_Minh"
# Bounds concurrent readers of Google's API across mapped tasks and workers; created by
# the project's setup (`make demo`, the compose init service).
SHEETS_POOL = "google_sheets_api"
FETCH_DOC = """Read, parse and validate one batch of units (whole spreadsheets); store every read
in the report database. A unit's problem becomes its status, never a failed task."""
APPROVE_DOC = """The approvers of report.yaml approve this version (the document's number, "Đánh giá
chung", "Phương hướng, nhiệm vụ thời gian tới") or reject it, in Browse → Required Actions. Returns
at once when there is nothing to approve (replay, dry run, figures already sent, `approval: none`)."""


# A period is a 12th or a 27th (report.yaml's collection_days; a test keeps them in step), typed
# as yyyy-mm-dd: a plain text field (`format="date"` would make the form a date picker shown in
# the browser's locale, mm/dd/yyyy), refused by its pattern when the run is created (HTTP 400).
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(12|27)$"

PARAMS = {
    "period": Param(
        None,
        type=["null", "string"],
        pattern=PERIOD_PATTERN,
        title="Kỳ báo cáo",
        description="yyyy-mm-dd, ngày 12 hoặc 27 (ví dụ 2025-03-12). Để trống: kỳ gần nhất, không "
        "sau ngày chạy (kỳ đã qua quá hold_after_days ngày thì bị giữ lại, không gửi).",
    ),
    "dry_run": Param(
        False,
        type="boolean",
        title="Chạy thử (không gửi)",
        description="Tổng hợp và ghi kết quả nhưng không gửi email.",
    ),
    "replay": Param(
        False,
        type="boolean",
        title="Dựng lại từ kho lưu trữ",
        description="Không đọc bảng tính: dựng lại bản tổng hợp đã lưu của kỳ (vào thư mục "
        "replay-v<phiên bản>), không gửi email.",
    ),
    "replay_version": Param(
        0,
        type="integer",
        minimum=0,
        title="Phiên bản cần dựng lại",
        description="Dùng với replay: số phiên bản của kỳ; 0 là phiên bản mới nhất.",
    ),
    "send_held": Param(
        False,
        type="boolean",
        title="Gửi cả khi bị giữ lại",
        description="Gửi báo cáo và thư phản hồi dù lần chạy bị giữ lại: kỳ đã qua quá số ngày "
        "hold_after_days (lần chạy bù khi bật lại DAG) hoặc không đơn vị nào nộp báo cáo kỳ này. "
        "Chỉ bật sau khi đã đọc cảnh báo gửi quản trị.",
    ),
    "unlocked_units": Param(
        [],
        type="array",
        items={"type": "string"},
        title="Đơn vị được sửa sau hạn nộp",
        description="Mã các đơn vị (units.yaml) được tiếp tục sửa trang báo cáo sau hạn nộp khi "
        "report.yaml bật precheck.protect_after_deadline: trang của các đơn vị khác bị khóa sau "
        "khi đọc; số liệu sửa sau đó vào bản đính chính như thường lệ.",
    ),
    "force_resend": Param(
        False,
        type="boolean",
        title="Gửi lại khi lần gửi trước không rõ kết quả",
        description="Chỉ dùng khi đã kiểm tra hộp thư và chắc chắn thư của lần gửi bị gián đoạn "
        "chưa đến người nhận; hoặc để gửi riêng cho những người nhận bị máy chủ từ chối (đã sửa).",
    ),
}


@dag(
    dag_id="provincial_report",
    schedule=CronTriggerTimetable("0 7 12,27 * *", timezone=TZ),
    start_date=pendulum.datetime(2025, 1, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["xoa-nha-tam", "report"],
    # Each task's failure after its retries emails the admins: `on_failure_callback` is given
    # to each task, not in default_args, whose callables Airflow reads the source of at every
    # parse (docs/en/architecture.md, Params and callbacks).
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=2)},
    # The run starts at 07:00; its report must be out by 11:00, else the admins are told.
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=dt.timedelta(hours=4),
        callback=AsyncCallback(report_deadline_missed, kwargs={"deadline_label": "11:00"}),
    ),
)
def provincial_report():
    @task(on_failure_callback=alert_admins_of_failure)
    def resolve_period() -> str:
        """Decide the period from the `period` Param or the run's logical date."""
        from housing_report_airflow import tasks

        context = get_current_context()
        return tasks.resolve_period(context["params"].get("period"), context.get("logical_date"))

    @task(on_failure_callback=alert_admins_of_failure)
    def plan_fetch_batches() -> list[list[str]]:
        """Group the units by spreadsheet into at most `report_max_fetch_tasks` batches
        (none for a replay, which reads the archive only)."""
        from housing_report_airflow import tasks

        return tasks.plan_fetch_batches(bool(get_current_context()["params"].get("replay")))

    # A mapped task does not take its docstring as doc_md, so it is given explicitly.
    @task(
        map_index_template="{{ batch_label }}",
        doc_md=FETCH_DOC,
        pool=SHEETS_POOL,
        on_failure_callback=alert_admins_of_failure,
    )
    def fetch_unit_reports(unit_codes: list[str], period: str) -> dict[str, int]:
        from housing_report_airflow import tasks

        context = get_current_context()
        context["batch_label"] = f"{unit_codes[0]}… ({len(unit_codes)} đơn vị)"  # type: ignore[typeddict-unknown-key]
        params = context["params"]
        return tasks.fetch_batch(
            unit_codes,
            period,
            context["run_id"],
            lock=not (params.get("dry_run") or params.get("replay")),
            unlocked=params.get("unlocked_units") or (),
        )

    # A replay maps no fetch task (they are skipped); the aggregation runs all the same.
    @task(trigger_rule="none_failed", on_failure_callback=alert_admins_of_failure)
    def aggregate_reports(period: str, counts: list[dict[str, int]]) -> dict:
        """Build the provincial summary from this run's reads (the period's next version) and
        write the outputs; for a replay, rebuild an archived version instead."""
        from housing_report_airflow import tasks

        context = get_current_context()
        params = context["params"]
        return tasks.aggregate(
            period,
            context["run_id"],
            bool(params.get("replay")),
            int(params.get("replay_version") or 0),
            sends=not params.get("dry_run"),
            named_period=bool(params.get("period")),
            send_held=bool(params.get("send_held")),
        )

    @task(on_failure_callback=alert_admins_of_failure)
    def deliver_report(result: dict, approval: dict | None = None) -> dict:
        """Email this version if the delivery log says so: the report, a correction when a
        delivered period's figures changed, or nothing. Never for a replay or a `dry_run`; for a
        held version, log it `held` and tell the admins instead; with approvers in report.yaml,
        only an approved version, as the signed PDF."""
        from housing_report_airflow import tasks

        context = get_current_context()
        params = context["params"]
        if result.get("replay"):
            return {"sent": False, "reason": "replay"}
        if result.get("held"):
            return tasks.hold(result["period"], context["run_id"], result["version"], result["held"])
        return tasks.deliver(
            result["period"],
            context["run_id"],
            bool(params.get("dry_run")),
            bool(params.get("force_resend")),
            approval=approval,
        )

    @task(on_failure_callback=alert_admins_of_failure)
    def send_unit_feedback(result: dict) -> dict:
        """Email each unit that is rejected, stale or has warnings the cells to fix and how,
        with the link to its sheet (once per version and content). Never for a replay, a
        `dry_run` or a held version; runs beside `deliver_report`, never holding it up."""
        from housing_report_airflow import tasks

        context = get_current_context()
        if result.get("replay"):
            return {"sent": [], "reason": "replay"}
        if result.get("held"):  # deliver_report logs it and tells the admins
            return {"sent": [], "held": True, "reason": result["held"]}
        params = context["params"]
        return tasks.send_feedback(
            result["period"], context["run_id"], bool(params.get("dry_run")), bool(params.get("force_resend"))
        )

    period = resolve_period()
    counts = fetch_unit_reports.partial(period=period).expand(unit_codes=plan_fetch_batches())
    aggregated = aggregate_reports(period, counts)
    approve_report = ReportApprovalOperator(
        task_id="approve_report",
        result=aggregated,
        on_failure_callback=alert_admins_of_failure,
        doc_md=APPROVE_DOC,
    )
    deliver_report(aggregated, approve_report.output)
    send_unit_feedback(aggregated)


# The trigger form, added once the tasks exist (docs/en/architecture.md, Params and callbacks).
provincial_report().params.update(PARAMS)
