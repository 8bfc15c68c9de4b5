"""The approval task of `provincial_report`: Airflow's human-in-the-loop operator, shown to the
approvers in Browse → Required Actions (Airflow 3.3: the task waits in `awaiting_input`, holding
no worker slot; the scheduler ends the wait at the deadline).

The form: approve or reject; the document's number (given by the clerk); "Đánh giá chung" and
"Phương hướng, nhiệm vụ thời gian tới", pre-filled from `approval:` of report.yaml; the reason of
a rejection. What the config says is read when the task runs, never when the DAG is parsed: the
approvers (`assigned_users`, where the auth manager supports it), the deadline
(`timeout_hours`), the texts' defaults. The task returns a `Decision` (deliver.approval) that
`deliver_report` acts on: only an approved version is signed and sent.

When there is nothing to approve (a replay, a dry run, figures already delivered, or
`approval: none`), the task returns at once without waiting.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from airflow.providers.standard.exceptions import HITLTimeoutError
from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Param

from housing_report.core.approval import APPROVE, REJECT

log = logging.getLogger(__name__)

# The form's fields; their defaults are set from report.yaml when the task runs. The number and
# the reason may be left empty ("null" in their type): the UI disables both buttons while a
# field that is required (no "null") is empty, and each is needed for one answer only.
FORM = {
    "so_van_ban": Param(
        "",
        type=["string", "null"],
        title="Số văn bản",
        description="Số do văn thư cấp, ví dụ 27 (in thành «Số 27-BC/BTGTU»). Bắt buộc khi phê duyệt.",
    ),
    "danh_gia_chung": Param(
        "", type="string", format="multiline", title="Đánh giá chung", description="In ở phần Đánh giá chung."
    ),
    "phuong_huong": Param(
        "",
        type="string",
        format="multiline",
        title="Phương hướng, nhiệm vụ thời gian tới",
        description="In ở phần Phương hướng, nhiệm vụ thời gian tới.",
    ),
    "ly_do_tu_choi": Param(
        "",
        type=["string", "null"],
        format="multiline",
        title="Lý do từ chối",
        description="Chỉ ghi khi từ chối.",
    ),
}


class ReportApprovalOperator(HITLOperator):
    """Approve or reject this run's version of the report before it is signed and sent."""

    template_fields = (*HITLOperator.template_fields, "result")

    def __init__(self, *, result: Any, **kwargs: Any) -> None:
        super().__init__(
            subject="Phê duyệt báo cáo",
            options=[APPROVE, REJECT],
            params=dict(FORM),
            multiple=False,
            **kwargs,
        )
        self.result = result

    def execute(self, context: Any) -> Any:
        from housing_report_airflow import approval_tasks as tasks

        params = context["params"]
        request = tasks.prepare_approval(
            self.result, context["run_id"], bool(params.get("dry_run")), bool(params.get("force_resend"))
        )
        if request.decision is not None:
            log.info("Không cần phê duyệt: %s", request.decision["reason"])
            return request.decision
        for name, value in request.defaults.items():
            self.params[name] = value
        self.subject = request.subject
        self.body = request.body
        self.assigned_users = request.assigned_users or None
        self.response_timeout = request.timeout
        link = self.generate_link_to_ui(task_instance=context["task_instance"], base_url=tasks.ui_base_url())
        tasks.ask_approvers(self.result, context["run_id"], link, request.timeout)
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from housing_report_airflow import approval_tasks as tasks

        try:
            answer = super().execute_complete(context=context, event=event)
        except HITLTimeoutError:
            return tasks.record_decision(self.result, context["run_id"], None, None, timed_out=True)
        by = answer.get("responded_by_user") or {}
        at = answer.get("responded_at")
        return tasks.record_decision(
            self.result,
            context["run_id"],
            list(answer["chosen_options"]),
            dict(answer.get("params_input") or {}),
            by=str(by.get("name") or by.get("id") or "") if isinstance(by, dict) else str(by),
            at=at if isinstance(at, dt.datetime) else None,
        )
