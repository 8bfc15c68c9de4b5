"""`make precheck`: run `unit_precheck` with `dag.test()` on the sample workbooks, as `make demo`
runs `provincial_report`.

    python -m housing_report_airflow.precheck_demo [yyyy-mm-dd]

The period's check runs in a process of its own with Airflow's log going to
`.airflow/precheck-<period>.log`; then where each unit's result went is printed, in Vietnamese:
its worksheet `KiemTra` (on the local source `<output>/<period>/kiem-tra/<spreadsheet>.xlsx`,
else the unit's Google spreadsheet) and the emails sent to the units. Variables and Connections
already set in the environment (`AIRFLOW_VAR_REPORT_SOURCE`, `..._OUTPUT_DIR`, `..._DELIVERY`,
`AIRFLOW_CONN_REPORT_DB`, `AIRFLOW_CONN_REPORT_SMTP`, `AIRFLOW_CONN_GOOGLE_SHEETS`) are kept,
as `make demo` keeps them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from housing_report_airflow.demo import RUN_STATES, SAMPLE_DIR, SAMPLE_PERIODS, vn_seconds
from housing_report_airflow.settings import REPO_ROOT

DAG_ID = "unit_precheck"


def _run_one(period: str) -> int:
    """Child process: one dag.test() run; writes what to print to HOUSING_REPORT_DEMO_RESULT."""
    from airflow.dag_processing.dagbag import DagBag

    from housing_report_airflow.dag_runner import run_dag_test
    from housing_report_airflow.failures import reported

    bag = DagBag(dag_folder=os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", str(REPO_ROOT / "dags")))
    if bag.import_errors:
        print(bag.import_errors, file=sys.stderr)
        return 2
    run = run_dag_test(bag.dags[DAG_ID], answer=None, run_conf={"period": period})
    state = str(getattr(run, "state", "")).lower()
    print(f"Trạng thái lần chạy: {RUN_STATES.get(state.rsplit('.', 1)[-1], state)}")
    result: dict = {"state": state, "run_id": run.run_id, "problems": reported()}
    if state.endswith("success"):
        result.update(_where_it_went(period, run.run_id))
    Path(os.environ["HOUSING_REPORT_DEMO_RESULT"]).write_text(json.dumps(result), encoding="utf-8")
    return 0 if state.endswith("success") else 1


def _where_it_went(period: str, run_id: str) -> dict:
    """Each unit's latest result of the period (this run's or an earlier check's), and the mail."""
    from housing_report.precheck.run import precheck_run_id, stored_findings, unit_feedback
    from housing_report_airflow import resources

    current = resources.current()
    config, store = current.config, current.store
    day = dt.date.fromisoformat(period)
    codes = [u.code for u in config.units]
    checks = store.last_checks(day, codes)
    reads = store.last_period_reads(day, codes)
    units = []
    for unit in config.units:
        check, read = checks.get(unit.code), reads.get(unit.code)
        if check is None or read is None:
            continue
        feedback = unit_feedback(unit, read.status, stored_findings(read), read.reason, day, check.checked_at)
        units.append(
            {
                "name": unit.name,
                "status": feedback.status,
                "text": feedback.status_text,
                "errors": [f.cell for f in feedback.findings if f.severity == "error"],
                "where": check.written_to,
                "now": check.run_id == precheck_run_id(run_id),
            }
        )
    mail = {
        "kind": current.settings.delivery,
        "outbox": str(current.settings.output_dir / period / "kiem-tra" / "thu"),
    }
    mail["sent"] = [
        {"kind": row.kind, "to": row.recipients}
        for row in store.deliveries(day)
        if row.run_id == run_id and row.kind in ("precheck", "precheck_ok", "alert")
    ]
    return {"units": units, "mail": mail}


def report_lines(period: str, result: dict) -> list[str]:
    """What `make precheck` prints after a run, in Vietnamese."""
    units = result.get("units") or []
    lines = [f"Kết quả kiểm tra kỳ {dt.date.fromisoformat(period):%d/%m/%Y} (trang KiemTra của từng đơn vị):"]
    for unit in units:
        where = unit["where"] or "KHÔNG GHI ĐƯỢC vào bảng tính (đơn vị nhận qua email; quản trị đã được báo)"
        again = "" if unit["now"] else " (không đổi từ lần kiểm tra trước, không đọc lại)"
        lines.append(f"   {unit['name']}: {unit['text']}{again}")
        if unit["errors"]:
            lines.append(f"      ô cần sửa: {', '.join(unit['errors'])}")
        lines.append(f"      → {where}")
    mail = result.get("mail") or {}
    sent = mail.get("sent") or []
    told = sum(1 for m in sent if m["kind"] == "precheck")
    confirmed = sum(1 for m in sent if m["kind"] == "precheck_ok")
    alerts = sum(1 for m in sent if m["kind"] == "alert")
    how = (
        f"thư mục {mail.get('outbox')}"
        if mail.get("kind") != "smtp"
        else "máy chủ SMTP (Connection report_smtp)"
    )
    if sent:
        lines.append(
            f"Thư lần này: {told} thư báo kết quả kiểm tra mới, {confirmed} thư «Đã tiếp nhận», "
            f"{alerts} cảnh báo cho quản trị; gửi qua {how}."
        )
    else:
        lines.append("Thư lần này: không có (không đơn vị nào có kết quả thay đổi).")
    return lines


def main(argv: list[str]) -> int:
    if argv[:1] == ["--run"]:
        return _run_one(argv[1])
    period = argv[0] if argv else SAMPLE_PERIODS[-1]
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", REPO_ROOT / ".airflow"))
    env = dict(os.environ)
    env.setdefault("AIRFLOW_VAR_REPORT_SOURCE", str(SAMPLE_DIR / period))
    env.setdefault("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(REPO_ROOT / "output"))
    env.setdefault("AIRFLOW_VAR_REPORT_DELIVERY", "outbox")
    source = env["AIRFLOW_VAR_REPORT_SOURCE"]
    if source != "google" and not Path(source).exists():
        print(f"Không có thư mục nguồn {source} cho kỳ {period}.")
        return 2
    log_path = airflow_home / f"precheck-{period}.log"
    result_path = airflow_home / f"precheck-{period}.json"
    env["HOUSING_REPORT_DEMO_RESULT"] = str(result_path)
    result_path.unlink(missing_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"== {DAG_ID}, kỳ {period}, nguồn {source}")
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        code = subprocess.call(
            [sys.executable, "-m", "housing_report_airflow.precheck_demo", "--run", period],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    elapsed = time.monotonic() - started
    result = json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else {}
    if code != 0:
        print(f"   THẤT BẠI sau {vn_seconds(elapsed)} giây; xem nhật ký: {log_path}")
        problems = result.get("problems") or []
        if problems:
            print("\n".join(f"   {line}" for line in problems))
        else:
            print("\n".join(log_path.read_text(encoding="utf-8").splitlines()[-25:]))
        return code
    print(f"   xong trong {vn_seconds(elapsed)} giây; nhật ký Airflow: {log_path}")
    print("\n".join(report_lines(period, result)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
