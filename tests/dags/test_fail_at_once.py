"""Errors no retry can fix fail the run at once, with the admin's one Vietnamese line, through
`dag.test()` of provincial_report (migrated SQLite metadata, the sample workbooks): a broken
config (which also names the admins, so no email can tell them), a folder the system cannot
write; and `make demo` prints that line, not the traceback of an alert that could not go."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from housing_report_airflow import failures
from housing_report_airflow.dag_runner import run_dag_test
from tests.dags.test_provincial_report_e2e import environment
from tests.support.config_files import edit

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "include" / "sample_data"
PERIOD = "2025-03-12"

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def dag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags["provincial_report"]


def run(dag, out: Path, **env: str):
    failures.forget()
    with environment(
        AIRFLOW_VAR_REPORT_SOURCE=str(SAMPLES / PERIOD),
        AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(out),
        AIRFLOW_VAR_REPORT_DELIVERY="outbox",
        **env,
    ):
        return run_dag_test(dag, run_conf={"period": PERIOD, "dry_run": False})


def task_instances(run) -> dict[str, list]:
    tis: dict[str, list] = {}
    for ti in run.get_task_instances():
        tis.setdefault(ti.task_id, []).append(ti)
    return tis


def test_a_broken_config_fails_after_one_try_with_its_line_first(dag, config_dir, tmp_path, caplog):
    edit(config_dir / "report.yaml", lambda data: data["schedule"].update(collection_days=[12, 31]))
    with caplog.at_level(logging.INFO):
        result = run(dag, tmp_path, AIRFLOW_VAR_REPORT_CONFIG_DIR=str(config_dir))
    assert str(result.state).lower().endswith("failed")
    tis = task_instances(result)
    # Both tasks that load the config first (they run side by side) failed at their first try:
    # not retried (2 retries × 2 min before).
    for task_id in ("resolve_period", "plan_fetch_batches"):
        [ti] = tis[task_id]
        assert str(ti.state).endswith("failed"), task_id
        assert ti.try_number == 1, task_id
    assert str(tis["aggregate_reports"][0].state).endswith("upstream_failed")
    [line, not_mailed] = failures.reported()
    problem = "schedule.collection_days[1]: ngày phải từ 1 đến 28, đang là 31"
    assert line == f"{config_dir / 'report.yaml'}: {problem}"
    assert not_mailed == failures.NOT_MAILED
    # Each task's log: the line first among the project's, then why no email, and no other error.
    ours = [r for r in caplog.records if r.name.startswith("housing_report") and r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in ours] == [line, failures.NOT_MAILED] * 2
    assert all(r.exc_info is None for r in ours)
    assert not (tmp_path / "alerts").exists()  # no email tried: the config names the admins


def test_a_read_only_output_folder_fails_each_reader_once_saying_why(dag, read_only_dir):
    result = run(dag, read_only_dir)
    assert str(result.state).lower().endswith("failed")
    fetches = task_instances(result)["fetch_unit_reports"]
    assert fetches
    assert all(str(ti.state).endswith("failed") for ti in fetches)
    assert {ti.try_number for ti in fetches} == {1}
    line, *alerts = failures.reported()
    assert line.startswith(f"Không có quyền ghi vào thư mục {read_only_dir} ")
    assert "sao lưu" not in line  # not a database to restore: a first run has no backup
    # Each failure callback's alert could not be written either: said after, in one line.
    assert alerts
    assert all(a.startswith("Không gửi được cảnh báo cho quản trị: ") for a in alerts)


def test_the_demo_prints_the_one_line_not_a_traceback(airflow_db, read_only_dir, tmp_path):
    env = {
        **os.environ,
        "AIRFLOW_VAR_REPORT_SOURCE": str(SAMPLES / PERIOD),
        "AIRFLOW_VAR_REPORT_OUTPUT_DIR": str(read_only_dir / "output"),
    }
    demo = subprocess.run(
        [sys.executable, "-m", "housing_report_airflow.demo", PERIOD],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert demo.returncode != 0
    printed = demo.stdout
    assert f"Không có quyền ghi vào thư mục {read_only_dir} " in printed, printed
    assert "Traceback" not in printed
    assert "sao lưu" not in printed
