"""The admin's path in a real browser: `make airflow`, log in, trigger 2025-03-12, read the page.

Starts Airflow as `make airflow` does (`python -m housing_report_airflow.local_airflow start`,
in an Airflow home of its own on a free port) and reads the address, user and password it
prints; then headless Chromium (the system's, driven by Playwright) logs in with them, triggers
provincial_report for 12/03/2025 from the DAG's trigger form; the run waits at approve_report,
and the approver of report.yaml logs in with the login `make airflow` printed for them, opens
Browse → Required Actions, gives the document's number and approves. The run must then succeed
(the UI says so), the report be signed with the throwaway certificate `make airflow` made (no
`report_signing` was set) and kept and emailed as a PDF; the project's page must explain every
unit not accepted: its reason or each finding with its cell, as the report database holds them.
`local_airflow stop` must then end every process it started.

Chromium and Playwright are installed by the test set-up (`make test`: apt-get as root,
requirements-dev.txt); where they are missing the test is skipped, with CI=true it fails.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.airflow_processes import free_port, wait_for
from tests.conftest import IN_CI

pytestmark = [pytest.mark.browser, pytest.mark.airflow]

REPO = Path(__file__).resolve().parents[2]
PERIOD = "2025-03-12"
NUMBER = "27"  # the document's number the approver gives
RUN_TIMEOUT = 300
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def require_browser() -> None:
    """Skip without Chromium or Playwright; with CI=true their absence is a failure."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright (requirements-dev.txt)")
    if CHROMIUM is None:
        missing.append("Chromium (as root: apt-get install chromium)")
    if not missing:
        return
    message = "browser test needs " + " and ".join(missing)
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing browser is a failure)")
    pytest.skip(message)


def local_airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "housing_report_airflow.local_airflow", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )


@pytest.fixture(scope="module")
def airflow_ui(tmp_path_factory):
    """`make airflow` in a home of its own: what it printed; `make airflow-stop` afterwards."""
    require_browser()
    root = tmp_path_factory.mktemp("admin-browser")
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW_VAR_", "AIRFLOW_CONN_", "AIRFLOW__", "AIRFLOW_HOME", "HOUSING_REPORT_"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(root / "airflow-home"),
            "AIRFLOW_VAR_REPORT_OUTPUT_DIR": str(root / "output"),
            # Kept short on a small machine: two reading tasks, quick heartbeats, and only the run
            # the test triggers (unpausing would also start the latest past 12th or 27th).
            "AIRFLOW_VAR_REPORT_MAX_FETCH_TASKS": "2",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }
    )
    started = local_airflow(env, "start", "--port", str(port))
    state = root / "airflow-home" / "local"
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        printed = started.stdout
        url = re.search(r"Airflow đang chạy \(LocalExecutor\): (\S+)", printed)
        login = re.search(r"Đăng nhập: người dùng (\S+), mật khẩu (\S+)", printed)
        approver = re.search(r"Người phê duyệt: .*, đăng nhập người dùng (\S+), mật khẩu (\S+)", printed)
        signing = re.search(r"chứng thư TẠM .*gốc để kiểm tra (\S+);", printed)
        assert url, printed
        assert login, printed
        assert approver, printed
        assert signing, printed
        assert "Required Actions" in printed, printed
        assert "report_signing" in printed, printed
        yield {
            "url": url.group(1),
            "user": login.group(1),
            "password": login.group(2),
            "approver": approver.group(1),
            "approver_password": approver.group(2),
            "ca": Path(signing.group(1)),
            "printed": printed,
            "output": root / "output",
            "state": state,
        }
    finally:
        pids = [json.loads(p.read_text())["pid"] for p in state.glob("*.pid")]
        stopped = local_airflow(env, "stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert not list(state.glob("*.pid"))
        for pid in pids:  # every group it started is gone (zombies aside: their parent is gone)
            stat = Path(f"/proc/{pid}/stat")
            assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] in "ZX", pid


def not_accepted(output: Path) -> dict[str, str]:
    """Each unit not accepted in the period, with what the page must say: its reason, else
    its first finding's cell (from the report database the run wrote)."""
    engine = sa.create_engine(f"sqlite:///{output / 'reports.sqlite'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT unit_code, status, reason, findings FROM unit_reads WHERE period = :p ORDER BY id"
                ),
                {"p": PERIOD},
            ).all()
    finally:
        engine.dispose()
    latest = {row.unit_code: row for row in rows}
    out = {}
    for code, row in latest.items():
        if row.status == "accepted":
            continue
        findings = json.loads(row.findings) if isinstance(row.findings, str) else row.findings or []
        out[code] = row.reason or findings[0]["cell"]
    return out


def test_the_admin_triggers_a_period_and_reads_why_units_were_not_accepted(airflow_ui):
    from playwright.sync_api import expect, sync_playwright

    from housing_report.config import load_config
    from housing_report.core.approval import APPROVE

    # The approver who logs in is the one report.yaml names.
    assert airflow_ui["approver"] in [a.user for a in load_config().report.approval.approvers]

    url, user, password = airflow_ui["url"], airflow_ui["user"], airflow_ui["password"]
    assert url.startswith("http://127.0.0.1:")
    token = httpx.post(f"{url}/auth/token", json={"username": user, "password": password}, timeout=30)
    token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    runs_url = f"{url}/api/v2/dags/provincial_report/dagRuns"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            # A loaded machine: the single-page UI may take a while to draw.
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)
            # Logged out: Airflow's login page, then back to the DAG.
            page.goto(f"{url}/dags/provincial_report")
            page.locator("input[name=username]").fill(user)
            page.locator("input[name=password]").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/dags/provincial_report")
            # The trigger form, with its defaults (unpause on trigger) and the period typed in.
            page.get_by_test_id("trigger-dag-button").click()
            page.locator("[name=element_period]").fill(PERIOD)
            page.get_by_test_id("trigger-dag-submit").click()

            def triggered():
                runs = httpx.get(runs_url, headers=headers, timeout=10).json()["dag_runs"]
                return [r for r in runs if (r.get("conf") or {}).get("period") == PERIOD]

            [run] = wait_for(triggered, timeout=60, what="the triggered run", on_fail=lambda: "")
            run_id = run["dag_run_id"]
            started = time.monotonic()
            run_url = f"{runs_url}/{urllib.parse.quote(run_id, safe='')}"
            unpaused(url, headers)

            def waiting_for_approval():
                details = httpx.get(f"{run_url}/hitlDetails", headers=headers, timeout=10).json()
                state = httpx.get(run_url, headers=headers, timeout=10).json()["state"]
                assert state not in ("success", "failed"), f"{run_id} ended {state} without an approval"
                return [d for d in details.get("hitl_details", []) if not d.get("response_received")]

            [asked] = wait_for(
                waiting_for_approval,
                timeout=RUN_TIMEOUT,
                every=3,
                what=f"run {run_id} at approve_report",
                on_fail=lambda: _logs(airflow_ui["state"]),
            )
            assert asked["task_instance"]["task_id"] == "approve_report"
            # The approver, in a browser of their own, answers as report.yaml names them.
            approver = browser.new_page(viewport={"width": 1400, "height": 1000})
            approver.set_default_timeout(60_000)
            approver.goto(f"{url}/required_actions")
            approver.locator("input[name=username]").fill(airflow_ui["approver"])
            approver.locator("input[name=password]").fill(airflow_ui["approver_password"])
            approver.get_by_role("button", name="Sign in").click()
            approver.wait_for_url("**/required_actions")
            approver.get_by_role("link", name=asked["subject"]).click()
            approver.locator("[name=element_so_van_ban]").fill(NUMBER)
            approve = approver.get_by_role("button", name=APPROVE, exact=True)
            expect(approve).to_be_enabled()  # the reason of a rejection is not asked for
            approve.click()
            expect(approver.get_by_text("approve_report response successful")).to_be_visible()

            def finished():
                state = httpx.get(f"{runs_url}/{run_id}", headers=headers, timeout=10).json()["state"]
                return state if state in ("success", "failed") else None

            state = wait_for(
                finished,  # deliver_report signs and sends once the answer is in
                timeout=RUN_TIMEOUT,
                every=3,
                what=f"run {run_id}",
                on_fail=lambda: _logs(airflow_ui["state"]),
            )
            assert state == "success", f"{run_id}: {state} after {time.monotonic() - started:.0f} s"
            # The run's page in the UI says so.
            page.goto(f"{url}/dags/provincial_report/runs/{urllib.parse.quote(run_id, safe='')}")
            expect(page.get_by_role("heading", name=run_id)).to_be_visible()
            expect(page.get_by_test_id("state-badge").first).to_have_text("Success")

            # The project's page, inside the UI: every unit not accepted says why.
            expected = not_accepted(airflow_ui["output"])
            assert set(expected) == {"946", "949", "951", "HCCB"}, expected
            page.goto(f"{url}/plugin/xoa-nha-tam")
            frame = page.frame_locator("iframe")
            expect(frame.locator("h1")).to_have_text("Báo cáo xóa nhà tạm, nhà dột nát")
            expect(frame.get_by_text("Kỳ 12/03/2025 · phiên bản 1")).to_be_visible()
            explained = frame.locator("details.unit-why:not([data-status=accepted])")
            expect(explained).to_have_count(len(expected))
            for code, says in expected.items():
                row = frame.locator(f"#don-vi-{code}")
                why = row.locator(".why")
                expect(why).to_be_hidden()  # folded until asked
                row.locator("summary").click()
                expect(why).to_be_visible()
                expect(why).to_contain_text(says)
        finally:
            browser.close()
    # Out of Playwright's event loop (the signature's validation runs one of its own).
    check_signed_and_sent(airflow_ui["output"] / PERIOD, airflow_ui["ca"])


def unpaused(url: str, headers: dict[str, str]) -> None:
    """The form's «Unpause on trigger» unpauses the DAG in a request of its own, alongside the
    trigger's; on SQLite metadata it may lose the race for the database's lock (HTTP 500, the
    run stays queued). Then the admin switches the DAG on, as this does."""
    dag_url = f"{url}/api/v2/dags/provincial_report"

    def switched_on() -> bool:
        if httpx.get(dag_url, headers=headers, timeout=30).json()["is_paused"]:
            httpx.patch(dag_url, json={"is_paused": False}, headers=headers, timeout=30).raise_for_status()
        return not httpx.get(dag_url, headers=headers, timeout=30).json()["is_paused"]

    wait_for(switched_on, timeout=60, every=2, what="provincial_report unpaused", on_fail=lambda: "")


def check_signed_and_sent(folder: Path, ca: Path) -> None:
    """The approved report: signed with the key `make airflow` made, kept and emailed as a PDF."""
    from housing_report.sign.keys import load_certificates
    from housing_report.sign.pades import validate_signed

    pdf = folder / f"bao-cao-xoa-nha-tam-{PERIOD}.pdf"
    assert pdf.is_file(), sorted(p.name for p in folder.iterdir())
    assert validate_signed(pdf, load_certificates(ca.read_bytes())).ok
    sent = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((folder / "outbox").glob("*.eml"))
    ]
    attached = {a.get_filename(): a.get_content() for m in sent for a in m.iter_attachments()}
    assert attached.get(pdf.name) == pdf.read_bytes(), sorted(attached)


def _logs(state: Path) -> str:
    parts = []
    for path in sorted(state.glob("*.log")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        parts.append(f"----- {path.name} -----\n" + "\n".join(lines))
    return "\n".join(parts)
