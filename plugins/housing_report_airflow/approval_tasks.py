"""Task bodies of the approval step (`approval.ReportApprovalOperator`) and what `deliver_report`
needs of it: Airflow context in, calls to `housing_report.deliver.approval` out."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from housing_report_airflow.resources import for_tasks

log = logging.getLogger(__name__)
DEFAULT_UI = "http://localhost:8080"


@dataclass
class ApprovalRequest:
    """What the approval task shows, or (`decision`) why it does not wait at all."""

    decision: dict[str, Any] | None = None
    subject: str = ""
    body: str = ""
    defaults: dict[str, str] = field(default_factory=dict)
    assigned_users: list[dict[str, str]] = field(default_factory=list)
    timeout: dt.timedelta | None = None


def ui_base_url() -> str:
    """The Airflow UI's address, for the link in the approvers' note (`[api] base_url`)."""
    from airflow.configuration import conf

    return (conf.get("api", "base_url", fallback="") or DEFAULT_UI).rstrip("/")


def _plan(period: str, run_id: str, force_resend: bool = False, folder: str = "outbox"):
    """The delivery log's plan for this run's version, and a ledger whose outbox (when the
    delivery is `outbox`) is `<period>/<folder>`: the approvers' notes go to `approval/`, apart
    from the report's `outbox/`."""
    from housing_report.deliver.ledger import Ledger
    from housing_report.deliver.report import Mail, plan_delivery
    from housing_report.pipeline.report import period_folder

    resources = for_tasks()
    config = resources.config
    day = dt.date.fromisoformat(period)
    mailer = resources.mailer(period_folder(resources.settings.output_dir, day) / folder)
    mail = Mail.of(config, mailer.sender, mailer.message_id_domain)
    ledger = Ledger(resources.store, mailer, run_id, config.report.admins)
    addresses = [c.email for c in (*mail.to, *mail.cc)]
    return plan_delivery(
        config, resources.store, day, run_id, ledger, addresses, force_resend=force_resend
    ), ledger


def prepare_approval(result: dict, run_id: str, dry_run: bool, force_resend: bool = False) -> ApprovalRequest:
    """What the approvers are asked, or the decision that no approval is needed and why."""
    from housing_report.core.formatting import vn_date
    from housing_report.deliver.approval import NOT_NEEDED, Decision, form_defaults

    def not_needed(reason: str, version: int = 0) -> ApprovalRequest:
        return ApprovalRequest(decision={**Decision(NOT_NEEDED, version).to_json(), "reason": reason})

    if result.get("replay"):
        return not_needed("replay")
    if dry_run:
        return not_needed("dry_run")
    if result.get("held"):  # deliver_report logs it held and tells the admins: nothing to approve
        return not_needed(f"held: {result['held']}")
    config = for_tasks().config
    policy = config.report.approval
    if policy is None:
        return not_needed("approval: none (gửi trực tiếp)")
    plan, _ = _plan(result["period"], run_id, force_resend)
    if plan.kind is None:
        return not_needed(plan.reason, plan.row.version)
    period = dt.date.fromisoformat(result["period"])
    houses = plan.row.summary.houses
    what = "Bản điều chỉnh báo cáo" if plan.kind == "correction" else "Báo cáo"
    body = (
        f"**{what} kỳ {vn_date(period)}**, phiên bản {plan.row.version}: đã hoàn thành, bàn giao "
        f"{houses.completed}/{houses.needed} căn.\n\n"
        "Phê duyệt: ghi **số văn bản** do văn thư cấp; sửa nếu cần phần *Đánh giá chung* và "
        "*Phương hướng, nhiệm vụ thời gian tới*. Báo cáo được ký số rồi gửi.\n\n"
        "Từ chối: ghi **lý do**; báo cáo không được gửi, bộ phận quản trị được thông báo."
    )
    return ApprovalRequest(
        subject=f"Phê duyệt {what.lower()} kỳ {vn_date(period)} (phiên bản {plan.row.version})",
        body=body,
        defaults=form_defaults(config),
        assigned_users=[{"id": a.user, "name": a.name} for a in policy.approvers if a.user],
        timeout=dt.timedelta(hours=policy.timeout_hours),
    )


def ask_approvers(result: dict, run_id: str, link: str, timeout: dt.timedelta | None) -> None:
    """Email the approvers the note with the draft and the link (once per version)."""
    from housing_report.deliver.approval import request_approval

    plan, ledger = _plan(result["period"], run_id, folder="approval")
    deadline = dt.datetime.now(dt.UTC) + timeout if timeout else None
    day = dt.date.fromisoformat(result["period"])
    if request_approval(for_tasks().config, for_tasks().store, day, plan, ledger, link, deadline):
        log.info("Đã gửi thư xin phê duyệt phiên bản %s; trang phê duyệt: %s", plan.row.version, link)
    else:
        log.info("Người phê duyệt đã được báo về phiên bản %s; trang phê duyệt: %s", plan.row.version, link)


def record_decision(
    result: dict,
    run_id: str,
    chosen: list[str] | None,
    fields: dict[str, Any] | None,
    *,
    by: str = "",
    at: dt.datetime | None = None,
    timed_out: bool = False,
) -> dict[str, Any]:
    """The answer as a `Decision` (XCom); the admins are told at once of a no or no answer."""
    from housing_report.deliver.approval import APPROVED, decide, tell_admins

    resources = for_tasks()
    day = dt.date.fromisoformat(result["period"])
    row = resources.store.summary_row(day, run_id)
    decision = decide(row.version if row else 0, chosen, fields, by, at, timed_out=timed_out)
    log.info("Phê duyệt phiên bản %s: %s %s", decision.version, decision.outcome, decision.reason)
    if decision.outcome != APPROVED:
        # Beside the other alerts to the admins (admin_alerts: `<report_output_dir>/alerts`).
        ledger = resources.ledger(run_id, resources.settings.output_dir / "alerts")
        tell_admins(resources.config, ledger, day, decision)
    return decision.to_json()


def signing():
    """How the approved document is signed: the `report_signing` key, the signature block's
    signer, title and organisation, the images of `approval:` (relative to the config folder)."""
    from housing_report.sign.pades import Appearance, Signing

    resources = for_tasks()
    config = resources.config
    issuer = config.report.issuer
    policy = config.report.approval
    signature = issuer.signature

    def image(name: str) -> Any:
        if not name:
            return None
        path = config.directory / name
        if not path.is_file():
            raise FileNotFoundError(f"Không tìm thấy ảnh {path} (approval trong report.yaml).")
        return path

    appearance = Appearance(
        signer_name=signature.name if signature else "",
        title="\n".join(t for t in (signature.authority, signature.title) if t) if signature else "",
        organisation=f"{issuer.name} {issuer.parent}".strip(),
        timezone=config.report.schedule.timezone,
        signature_image=image(policy.signature_image) if policy else None,
        seal_image=image(policy.seal_image) if policy else None,
    )
    return Signing(resources.signing_key, appearance)
