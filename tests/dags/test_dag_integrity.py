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


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_params_are_the_dags_and_validated_once_per_parse(path, monkeypatch):
    """The trigger form belongs to the DAG, not to copies in each task: parsing and serialising
    a file, as the DAG processor does, validates each Param at most once (once if the DAG has
    a schedule), however many tasks there are. With the Params in `@dag(params=...)`,
    Airflow 3.3 validated each 2 × tasks times more."""
    import jsonschema
    import structlog
    from airflow.dag_processing.dagbag import DagBag
    from airflow.dag_processing.processor import _serialize_dags

    validated = []
    real_validate = jsonschema.validate

    def counting_validate(instance, schema, *args, **kwargs):
        validated.append(schema.get("title"))
        return real_validate(instance, schema, *args, **kwargs)

    monkeypatch.setattr(jsonschema, "validate", counting_validate)
    bag = DagBag(dag_folder=str(path), safe_mode=False, load_op_links=False)
    serialized, errors = _serialize_dags(bag, structlog.get_logger())
    assert not errors
    assert not bag.import_errors
    (dag,) = bag.dags.values()
    assert len(dag.params) >= 2
    assert len(dag.tasks) >= 1
    assert all(not task.params for task in dag.tasks)
    titles = [dag.params.get_param(name).schema["title"] for name in dag.params]
    assert len(set(titles)) == len(titles)
    expected = titles if dag.timetable.can_be_scheduled else []
    assert sorted(validated) == sorted(expected)
    # The form survives serialisation, as the UI and the scheduler read it.
    assert {name for name, _ in serialized[0].data["dag"]["params"]} == set(dag.params)
