"""`make demo`: run `provincial_report` with `dag.test()` on the sample workbooks.

    python -m housing_report_airflow.demo [yyyy-mm-dd ...]

Runs each period in order (both sample periods by default), each in its own process
with Airflow's log going to `.airflow/demo-<period>.log`, then prints where the
outputs went and a one-screen summary. Variables already set in the environment
(`AIRFLOW_VAR_REPORT_SOURCE`, `..._OUTPUT_DIR`, `..._DELIVERY`) are kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from housing_report_airflow.settings import REPO_ROOT

SAMPLE_PERIODS = ("2025-02-27", "2025-03-12")
SAMPLE_DIR = REPO_ROOT / "include" / "sample_data"
DEMO_NUMBER = "15"  # the number the demo's "clerk" gives the approved report


def _run_one(period: str) -> int:
    """Child process: one dag.test() run for `period`; exit code 0 when the run succeeded."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", str(REPO_ROOT / "dags")))
    if bag.import_errors:
        print(bag.import_errors, file=sys.stderr)
        return 2
    from housing_report.core.approval import APPROVE
    from housing_report_airflow.answer import Answer
    from housing_report_airflow.dag_runner import run_dag_test

    # The approver's answer, sent as the Required Actions page sends it (Airflow's REST API).
    answer = Answer(APPROVE, {"so_van_ban": DEMO_NUMBER}, user="admin")
    run = run_dag_test(
        bag.dags["provincial_report"], answer=answer, run_conf={"period": period, "dry_run": False}
    )
    state = str(getattr(run, "state", "")).lower()
    print(f"DAG run state: {state}")
    result = {"state": state, "run_id": run.run_id, "delivery": _xcom(run.run_id, "deliver_report")}
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
        return _run_one(argv[1])
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
        log_path.parent.mkdir(parents=True, exist_ok=True)
        print(f"== provincial_report, kỳ {period}, nguồn {env['AIRFLOW_VAR_REPORT_SOURCE']}")
        started = time.monotonic()
        with log_path.open("w", encoding="utf-8") as log:
            code = subprocess.call(
                [sys.executable, "-m", "housing_report_airflow.demo", "--run", period],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        elapsed = time.monotonic() - started
        if code != 0:
            print(f"   THẤT BẠI sau {elapsed:.1f} s; xem nhật ký: {log_path}")
            tail = log_path.read_text(encoding="utf-8").splitlines()[-25:]
            print("\n".join(tail))
            return code
        folder = Path(env["AIRFLOW_VAR_REPORT_OUTPUT_DIR"]) / period
        summary = decode_summary((folder / "summary.json").read_bytes())
        outbox = sorted((folder / "outbox").glob("*.eml")) if (folder / "outbox").is_dir() else []
        outputs = {
            "summary.json": str(folder / "summary.json"),
            "workbook": str(next(folder.glob("*.xlsx"), "")),
            "report document": str(next(folder.glob("*.docx"), "")),
            "email (HTML)": str(folder / "email.html"),
            "email (text)": str(folder / "email.txt"),
        }
        if outbox:
            outputs["outbox (mới nhất)"] = str(outbox[-1])
        if "AIRFLOW_CONN_REPORT_DB" not in env:
            outputs["report DB"] = str(Path(env["AIRFLOW_VAR_REPORT_OUTPUT_DIR"]) / "reports.sqlite")
        outputs["Airflow log"] = str(log_path)
        print(f"   xong trong {elapsed:.1f} s")
        print(format_digest(summary, outputs))
        delivery = json.loads(result_path.read_text(encoding="utf-8")).get("delivery") or {}
        print(f"Phiên bản {summary.version or '?'}. Gửi thư: {delivery.get('reason', 'không rõ')}")
        print_signed(folder, demo_ca)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
