"""The admin's path in a real browser: `make airflow`, log in, trigger 2025-03-12, read the page.

Starts Airflow as `make airflow` does (`python -m housing_report_airflow.local_airflow start`,
in an Airflow home of its own on a free port) and reads the address, user and password it
prints; then headless Chromium (the system's, driven by Playwright) logs in with them, triggers
provincial_report for 12/03/2025 from the DAG's trigger form, sees the run succeed in the UI and
opens the project's page, where every unit not accepted must say why: its reason or each
finding with its cell, as the report database holds them. `local_airflow stop` must then end
every process it started.

Chromium and Playwright are installed by the test set-up (`make test`: apt-get as root,
requirements-dev.txt); where they are missing the test is skipped, with CI=true it fails.
"""

from __future__ import annotations

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
        login = re.search(r"người dùng (\S+), mật khẩu (\S+)", printed)
        assert url, printed
        assert login, printed
        yield {
            "url": url.group(1),
            "user": login.group(1),
            "password": login.group(2),
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

            def finished():
                state = httpx.get(f"{runs_url}/{run_id}", headers=headers, timeout=10).json()["state"]
                return state if state in ("success", "failed") else None

            state = wait_for(
                finished,
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


def _logs(state: Path) -> str:
    parts = []
    for path in sorted(state.glob("*.log")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        parts.append(f"----- {path.name} -----\n" + "\n".join(lines))
    return "\n".join(parts)
