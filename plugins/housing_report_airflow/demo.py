"""`make demo`: run `provincial_report` with `dag.test()` on the sample workbooks.

    python -m housing_report_airflow.demo [--force-resend] [yyyy-mm-dd ...]

Runs each period in order (both sample periods by default), each in its own process
with Airflow's log going to `.airflow/demo-<period>.log`, then prints where the
outputs went and a one-screen summary. Variables already set in the environment
(`AIRFLOW_VAR_REPORT_SOURCE`, `..._OUTPUT_DIR`, `..._DELIVERY`) are kept. A run that failed on
an error no retry can fix (a bad config, a folder that cannot be written) prints the admin's
line for it (`failures`), not the end of the log, where an alert that could not go either
would hide it.

`--force-resend` (`make demo PERIOD=... FORCE_RESEND=1`) sets the run's Param
`force_resend`. After each run the delivery log of the period is read: a message whose
outcome is unknown, or that the server refused for some recipients, is told in plain
Vietnamese, with the exact command to run once the mailboxes are checked.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from housing_report_airflow.settings import REPO_ROOT

SAMPLE_PERIODS = ("2025-02-27", "2025-03-12")
SAMPLE_DIR = REPO_ROOT / "include" / "sample_data"
RUN_STATES = {"success": "thành công", "failed": "thất bại", "running": "đang chạy", "queued": "đang chờ"}
DEMO_NUMBER = "15"  # the number the demo's "clerk" gives the approved report


def _run_one(period: str, force_resend: bool = False) -> int:
    """Child process: one dag.test() run for `period`; exit code 0 when the run succeeded."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", str(REPO_ROOT / "dags")))
    if bag.import_errors:
        print(bag.import_errors, file=sys.stderr)
        return 2
    from housing_report.core.approval import APPROVE
    from housing_report_airflow.answer import Answer
    from housing_report_airflow.dag_runner import run_dag_test
    from housing_report_airflow.failures import reported

    # The approver's answer, sent as the Required Actions page sends it (Airflow's REST API).
    answer = Answer(APPROVE, {"so_van_ban": DEMO_NUMBER}, user="admin")
    conf = {"period": period, "dry_run": False, "force_resend": force_resend}
    run = run_dag_test(bag.dags["provincial_report"], answer=answer, run_conf=conf)
    state = str(getattr(run, "state", "")).lower()
    print(f"Trạng thái lần chạy: {RUN_STATES.get(state.rsplit('.', 1)[-1], state)}")
    result = {
        "state": state,
        "run_id": run.run_id,
        "delivery": _xcom(run.run_id, "deliver_report"),
        "pending": _pending_or_none(period),
        "problems": reported(),  # the lines an error no retry can fix gave the admin
    }
    Path(os.environ["HOUSING_REPORT_DEMO_RESULT"]).write_text(json.dumps(result), encoding="utf-8")
    return 0 if state.endswith("success") else 1


def _xcom(run_id: str, task_id: str):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(
            run_id=run_id, key="return_value", task_ids=task_id, dag_ids="provincial_report"
        )
        row = session.scalars(query).first()
        return XComModel.deserialize_value(row) if row is not None else None


def vn_seconds(seconds: float) -> str:
    """12,3 (a decimal comma, as Vietnamese writes it)."""
    return f"{seconds:.1f}".replace(".", ",")


def pending_deliveries(period: str) -> list[dict]:
    """What of the period's mail the admin must look into: messages whose outcome is unknown, and
    partial deliveries that still stand (the report's and the units' feedback)."""
    from housing_report.deliver.feedback import feedback_key
    from housing_report.deliver.ledger import DeliveryUncertain, Ledger
    from housing_report_airflow import resources

    day = dt.date.fromisoformat(period)
    current = resources.current()
    config, store = current.config, current.store
    found: list[dict] = [
        {
            "what": "uncertain",
            "kind": row.kind,
            "version": row.version,
            "message_id": row.message_id,
            "recipients": row.recipients,
        }
        for row in store.deliveries(day)
        if row.state == "sending"
    ]
    ledger = Ledger(store, current.mailer(current.settings.output_dir / "alerts"), run_id="")
    keys = [ledger.key(c.email for c in (*config.report.to, *config.report.cc))]
    keys += [feedback_key(unit) for unit in config.units if unit.emails]
    for key in keys:
        try:
            standing = ledger.standing_partial(day, store.last_sent(day, key))
        except DeliveryUncertain:
            continue  # listed above
        if standing is not None:
            found.append(
                {
                    "what": "partial",
                    "kind": standing.row.kind,
                    "version": standing.row.version,
                    "message_id": standing.row.message_id,
                    "refused": list(standing.refused),
                }
            )
    return found


def _pending_or_none(period: str) -> list[dict]:
    try:
        return pending_deliveries(period)
    except Exception:  # the run's own failure is what the admin must see first
        logging.getLogger(__name__).exception("Không đọc được nhật ký gửi thư của kỳ %s", period)
        return []


def advice_lines(period: str, pending: list[dict]) -> list[str]:
    """The admin's next step for each pending delivery, in Vietnamese, naming the command."""
    again = f"make demo PERIOD={period} FORCE_RESEND=1"
    names = {"report": "Báo cáo", "correction": "Bản điều chỉnh", "feedback": "Thư phản hồi đơn vị"}
    lines = []
    for item in pending:
        what = f"{names.get(item['kind'], 'Thư (' + item['kind'] + ')')} phiên bản {item['version']}"
        if item["what"] == "uncertain":
            lines += [
                f"   CHƯA RÕ {what} đã đến người nhận hay chưa: máy chủ SMTP đã nhận nội dung thư nhưng "
                "không trả lời (hoặc lần gửi bị dừng giữa chừng). Hệ thống không tự gửi lại.",
                f"   Hãy tìm thư có Message-ID {item['message_id']} trong hộp thư của "
                f"{', '.join(item['recipients'])}.",
                f"   Nếu thư chưa đến, gửi lại bằng lệnh: {again}   (nếu đã đến: không cần làm gì)",
            ]
        else:
            lines += [
                f"   {what} CHƯA ĐẾN: {', '.join(item['refused'])} (máy chủ từ chối người nhận). "
                f"Những người khác đã nhận (Message-ID {item['message_id']}) và sẽ không nhận lại.",
                "   Hãy kiểm tra địa chỉ và hộp thư bị từ chối với người nhận; khi đã sửa, gửi riêng cho "
                f"họ bằng lệnh: {again}",
            ]
    return lines


def _problems(result_path: Path) -> list[str]:
    """The lines a failed run gave the admin for errors no retry can fix (`failures`)."""
    try:
        return list(json.loads(result_path.read_text(encoding="utf-8")).get("problems") or [])
    except (OSError, ValueError):
        return []


def demo_signing(env: dict[str, str], airflow_home: Path) -> Path | None:
    """A throwaway certificate (a CA of its own, never a real one) under `.airflow/demo-signing/`
    as the `report_signing` connection, unless one is set; returns the CA to verify with."""
    if "AIRFLOW_CONN_REPORT_SIGNING" in env:
        return None
    from housing_report_tools.certificates import write_throwaway

    p12, ca = write_throwaway(airflow_home / "demo-signing", passphrase="demo")
    env["AIRFLOW_CONN_REPORT_SIGNING"] = json.dumps(
        {"conn_type": "generic", "password": "demo", "extra": {"kind": "pkcs12", "path": str(p12)}}
    )
    return ca


def print_signed(folder: Path, ca: Path | None) -> None:
    """Where the signed PDF is, and how to check its signature."""
    pdf = next(iter(sorted(folder.glob("bao-cao-xoa-nha-tam-*.pdf"))), None)
    if pdf is None:
        return
    pyhanko = Path(sys.executable).with_name("pyhanko")
    trust = f" --trust {ca}" if ca else " --trust <chứng thư gốc .pem>"
    print(f"Báo cáo đã ký số (PDF): {pdf}")
    print(f"Kiểm tra chữ ký: {pyhanko} sign validate --pretty-print{trust} {pdf}")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--run"]:
        return _run_one(argv[1], "--force-resend" in argv[2:])
    from housing_report.core.formatting import vn_datetime

    force_resend = "--force-resend" in argv
    argv = [a for a in argv if a != "--force-resend"]
    from housing_report.core.summary import decode_summary
    from housing_report.render.digest import format_digest

    periods = argv or list(SAMPLE_PERIODS)
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", REPO_ROOT / ".airflow"))
    for period in periods:
        env = dict(os.environ)
        default_source = SAMPLE_DIR / period
        env.setdefault("AIRFLOW_VAR_REPORT_SOURCE", str(default_source))
        env.setdefault("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(REPO_ROOT / "output"))
        env.setdefault("AIRFLOW_VAR_REPORT_DELIVERY", "outbox")
        demo_ca = demo_signing(env, airflow_home)
        if (
            not Path(env["AIRFLOW_VAR_REPORT_SOURCE"]).exists()
            and env["AIRFLOW_VAR_REPORT_SOURCE"] != "google"
        ):
            print(f"Không có thư mục nguồn {env['AIRFLOW_VAR_REPORT_SOURCE']} cho kỳ {period}.")
            return 2
        log_path = airflow_home / f"demo-{period}.log"
        result_path = airflow_home / f"demo-{period}.json"
        env["HOUSING_REPORT_DEMO_RESULT"] = str(result_path)
        result_path.unlink(missing_ok=True)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        result_path.unlink(missing_ok=True)
        print(f"== provincial_report, kỳ {period}, nguồn {env['AIRFLOW_VAR_REPORT_SOURCE']}")
        started = time.monotonic()
        with log_path.open("w", encoding="utf-8") as log:
            code = subprocess.call(
                [sys.executable, "-m", "housing_report_airflow.demo", "--run", period]
                + (["--force-resend"] if force_resend else []),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        elapsed = time.monotonic() - started
        result = json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else {}
        advice = advice_lines(period, result.get("pending") or [])
        if code != 0:
            print(f"   THẤT BẠI sau {vn_seconds(elapsed)} giây; xem nhật ký: {log_path}")
            problems = _problems(result_path)
            if problems:  # what the admin must fix, not the end of the log (an alert's failure)
                print("\n".join(f"   {line}" for line in problems))
            else:
                tail = log_path.read_text(encoding="utf-8").splitlines()[-25:]
                print("\n".join(tail))
            if advice:
                print("\n".join(advice))
            return code
        folder = Path(env["AIRFLOW_VAR_REPORT_OUTPUT_DIR"]) / period
        summary = decode_summary((folder / "summary.json").read_bytes())
        outbox = sorted((folder / "outbox").glob("*.eml")) if (folder / "outbox").is_dir() else []
        outputs = {
            "summary": str(folder / "summary.json"),
            "workbook": str(next(folder.glob("*.xlsx"), "")),
            "document": str(next(folder.glob("*.docx"), "")),
            "email_html": str(folder / "email.html"),
            "email_text": str(folder / "email.txt"),
        }
        if outbox:
            outputs["outbox"] = str(outbox[-1])
        if "AIRFLOW_CONN_REPORT_DB" not in env:
            outputs["report_db"] = str(Path(env["AIRFLOW_VAR_REPORT_OUTPUT_DIR"]) / "reports.sqlite")
        outputs["airflow_log"] = str(log_path)
        finished = vn_datetime(dt.datetime.now(dt.UTC))
        print(f"   xong trong {vn_seconds(elapsed)} giây, lúc {finished} (giờ Việt Nam)")
        print(format_digest(summary, outputs))
        delivery = result.get("delivery") or {}
        print(f"Phiên bản {summary.version or '?'}. Gửi thư: {delivery.get('reason', 'không rõ')}")
        print_signed(folder, demo_ca)
        if advice:
            print("\n".join(advice))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
