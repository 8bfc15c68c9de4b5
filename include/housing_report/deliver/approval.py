"""The approval before a report is signed and sent (Nghị định 30/2020: the signer approves, the
clerk numbers): the note that asks the approvers, what their answer means, and what the admins
are told when the answer is no, or does not come.

The waiting itself is Airflow's (the glue's `approval` operator, a human-in-the-loop task shown
in Browse → Required Actions); here is the plain logic it calls:

- `request_approval` emails the approvers (`approval.approvers` of report.yaml) a short note once
  per version: the key figures, the draft document attached, the link to answer. It goes
  through the send-once ledger (kind `approval_request`).
- `decide` turns the form's answer into a `Decision`: approved (with the document's number and
  the approver's text), rejected (with the reason), no answer by the deadline, or approved
  without a number (which cannot be issued: treated as not approved).
- `tell_admins` tells the admins, once per version, why nothing was sent.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from housing_report.archive.store import ReportStore
from housing_report.config import Config
from housing_report.core.approval import APPROVE, REJECT, Approval
from housing_report.core.formatting import vn_date, vn_datetime
from housing_report.deliver.ledger import CORRECTION, Ledger
from housing_report.deliver.report import Plan
from housing_report.render.environment import render_parts
from housing_report.render.outputs import render_version

REQUEST = "approval_request"  # the ledger's kind of the note to the approvers
APPROVED, REJECTED, TIMED_OUT, INCOMPLETE = "approved", "rejected", "timeout", "incomplete"
NOT_NEEDED = "not_needed"  # nothing to send (same figures, replay, dry run) or `approval: none`
# The form's fields (Params of the human-in-the-loop task).
NUMBER, ASSESSMENT, DIRECTIONS, REASON = "so_van_ban", "danh_gia_chung", "phuong_huong", "ly_do_tu_choi"


@dataclass(frozen=True)
class Decision:
    """The approvers' answer for one version, as the deliver task reads it (XCom: `to_json`)."""

    outcome: str  # approved | rejected | timeout | incomplete | not_needed
    version: int = 0
    approval: Approval | None = None
    reason: str = ""
    by: str = ""

    @property
    def approved(self) -> bool:
        return self.outcome == APPROVED and self.approval is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "version": self.version,
            "approval": self.approval.to_json() if self.approval else None,
            "reason": self.reason,
            "by": self.by,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Decision:
        approval = data.get("approval")
        return cls(
            outcome=str(data["outcome"]),
            version=int(data.get("version") or 0),
            approval=Approval.from_json(approval) if approval else None,
            reason=str(data.get("reason") or ""),
            by=str(data.get("by") or ""),
        )


def form_defaults(config: Config) -> dict[str, str]:
    """The form's fields, pre-filled from `approval:` of report.yaml."""
    policy = config.report.approval
    return {
        NUMBER: "",
        ASSESSMENT: policy.assessment if policy else "",
        DIRECTIONS: policy.directions if policy else "",
        REASON: "",
    }


def decide(
    version: int,
    chosen: list[str] | None,
    fields: Mapping[str, Any] | None,
    by: str = "",
    at: dt.datetime | None = None,
    *,
    timed_out: bool = False,
) -> Decision:
    """The `Decision` of an answer: the option chosen and the form's fields."""
    if timed_out or not chosen:
        return Decision(TIMED_OUT, version, reason="Không có ai phê duyệt trước hạn.")
    fields = fields or {}
    if chosen[0] == REJECT:
        reason = str(fields.get(REASON) or "").strip() or "(không ghi lý do)"
        return Decision(REJECTED, version, reason=reason, by=by)
    if chosen[0] != APPROVE:
        raise ValueError(f"unknown option {chosen!r}")
    number = str(fields.get(NUMBER) or "").strip()
    if not number:
        return Decision(
            INCOMPLETE, version, reason="Phê duyệt nhưng chưa ghi số văn bản: không thể ban hành.", by=by
        )
    approval = Approval(
        number=number,
        assessment=str(fields.get(ASSESSMENT) or "").strip(),
        directions=str(fields.get(DIRECTIONS) or "").strip(),
        approved_by=by,
        approved_at=at,
    )
    return Decision(APPROVED, version, approval, by=by)


def request_approval(
    config: Config,
    store: ReportStore,
    period: dt.date,
    plan: Plan,
    ledger: Ledger,
    link: str,
    deadline: dt.datetime | None = None,
) -> bool:
    """Email the approvers the note for `plan`'s version (once per version); False when they were
    already asked (a retried task)."""
    policy = config.report.approval
    if policy is None:
        return False
    row = plan.row
    addresses = [a.email for a in policy.approvers]
    key = ledger.key(addresses, f"{REQUEST}:v{row.version}")
    if ledger.previous(period, key) is not None:
        return False
    summary = row.summary
    houses = summary.houses
    context = {
        "approver_names": ", ".join(a.name for a in policy.approvers),
        "what": "Bản điều chỉnh báo cáo" if plan.kind == CORRECTION else "Báo cáo",
        "correction": f"phiên bản {plan.supersedes}" if plan.kind == CORRECTION else "",
        "short_title": config.report.programme.short_title,
        "period_label": vn_date(period),
        "completed": houses.completed,
        "needed": houses.needed,
        "started": houses.started,
        "percent": summary.completion_percent,
        "accepted": summary.status_counts.get("accepted", 0),
        "units": len(summary.units),
        "link": link,
        "deadline": vn_datetime(deadline, config.report.schedule.timezone) if deadline else "",
    }
    rendered = render_parts("approval_request", context)
    with tempfile.TemporaryDirectory(prefix="housing-report-approval-") as tmp:
        draft = render_version(config, summary, store.history(period), Path(tmp)).official.document
        approvers = [(a.name, a.email) for a in policy.approvers]
        message = ledger.build(rendered, to=approvers, attachments=[draft] if draft else [])
        ledger.send(message, period=period, key=key, kind=REQUEST, recipients=addresses, version=row.version)
    return True


def tell_admins(config: Config, ledger: Ledger, period: dt.date, decision: Decision) -> None:
    """Tell the admins, once per version and outcome, that nothing was sent and why."""
    what = {
        REJECTED: "bị từ chối",
        TIMED_OUT: "không được phê duyệt trước hạn",
        INCOMPLETE: "được phê duyệt nhưng thiếu số văn bản",
    }[decision.outcome]
    lines = [
        f"Báo cáo kỳ {vn_date(period)} (phiên bản {decision.version}) {what}; không có thư nào được gửi.",
        f"Lý do: {decision.reason}",
    ]
    if decision.by:
        lines.append(f"Người trả lời: {decision.by}")
    lines += [
        "",
        "Khi số liệu hoặc nội dung đã được sửa, hãy chạy lại DAG provincial_report cho kỳ này: "
        "báo cáo lại được trình phê duyệt.",
        "",
        f"The report was not approved ({decision.outcome}); nothing was sent.",
    ]
    ledger.alert(
        config.report.admins,
        period=period,
        about=f"approval:v{decision.version}:{decision.outcome}",
        subject=f"[Cảnh báo] Báo cáo kỳ {vn_date(period)} {what}, chưa gửi",
        lines=lines,
    )
