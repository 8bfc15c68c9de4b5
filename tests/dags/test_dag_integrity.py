"""Every DAG imports cleanly, follows the house contract, and does nothing heavy at parse time."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p for p in (REPO / "dags").glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "provincial_report" in dagbag.dags


def test_dag_id_is_file_stem(dagbag):
    stems = {p.stem for p in DAG_FILES}
    assert set(dagbag.dags) == stems


@pytest.mark.parametrize("dag_id", [p.stem for p in DAG_FILES])
def test_dag_contract(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.catchup is False
    assert dag.tags
    assert dag.doc_md
    assert len(dag.doc_md) > 100
    start = dag.start_date
    assert start is not None
    assert start.tzinfo is not None
    assert str(dag.timezone) == "Asia/Ho_Chi_Minh"
    assert dag.default_args.get("retries", 0) >= 1
    assert isinstance(dag.default_args.get("retry_delay"), dt.timedelta)
    for task in dag.tasks:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)+", task.task_id), task.task_id
        assert task.doc_md, f"{task.task_id} has no docstring"
    for name in dag.params:
        param = dag.params.get_param(name)
        assert param.schema.get("title"), name
        assert param.description, name


def test_schedule_matches_report_yaml(dagbag):
    from housing_report.config import load_config

    schedule = load_config().report.schedule
    timetable = dagbag.dags["provincial_report"].timetable
    expr = timetable.expression
    minute, hour, dom, month, dow = str(expr).split()
    assert (minute, hour, month, dow) == ("0", str(schedule.hour), "*", "*")
    assert tuple(int(d) for d in dom.split(",")) == schedule.collection_days
    assert str(timetable.timezone) == schedule.timezone


def test_fetch_is_mapped_over_batches_not_units(dagbag):
    dag = dagbag.dags["provincial_report"]
    fetch = dag.get_task("fetch_unit_reports")
    mapped = fetch._get_specified_expand_input().value
    assert set(mapped) == {"unit_codes"}
    assert mapped["unit_codes"].operator.task_id == "plan_fetch_batches"


PARSE_GUARD = r"""
import socket, sys
def refuse(*a, **k):
    raise RuntimeError("network access at parse time")
socket.socket.connect = refuse
socket.create_connection = refuse
import airflow.sdk
from airflow.sdk import Variable
def no_variable(*a, **k):
    raise RuntimeError("Variable access at parse time")
Variable.get = staticmethod(no_variable)
import sqlalchemy
real_create_engine = sqlalchemy.create_engine
import importlib.util
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sqlalchemy.create_engine = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("database at parse time"))
spec.loader.exec_module(module)
heavy = [m for m in ("pandas", "openpyxl", "gspread", "yagmail", "housing_report.parse") if m in sys.modules]
print("HEAVY=" + ",".join(heavy))
"""


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_nothing_heavy_at_parse_time(path):
    result = subprocess.run(
        [sys.executable, "-c", PARSE_GUARD, str(path)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "HEAVY=\n" in result.stdout or result.stdout.strip().endswith("HEAVY="), result.stdout
