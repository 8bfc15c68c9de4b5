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


@pytest.mark.parametrize("dag_id", ["provincial_report", "submission_reminder", "unit_precheck"])
@pytest.mark.parametrize(
    ("period", "accepted"),
    [
        ("2025-03-12", True),
        ("2025-02-27", True),
        (None, True),  # left blank: the form sends null
        ("2025-03-13", False),
        ("2025-02-30", False),
        ("2025-13-12", False),
        ("12/03/2025", False),
        ("2025-03-12T00:00", False),
        ("", False),
    ],
    ids=lambda v: repr(v),
)
def test_the_period_param_accepts_only_a_12th_or_a_27th(dagbag, dag_id, period, accepted):
    """Bad input is refused where it is typed: the form's schema (checked by Airflow when the run
    is created, so a trigger answers 400 at once), not `resolve_period` minutes later."""
    from airflow.sdk.definitions.param import ParamValidationError
    from airflow.serialization.serialized_objects import DagSerialization

    serialized = DagSerialization.from_dict(DagSerialization.to_dict(dagbag.dags[dag_id]))
    merged = serialized.params.deep_merge({"period": period})
    if accepted:
        assert merged.validate()["period"] == period
    else:
        with pytest.raises(ParamValidationError):
            merged.validate()


@pytest.mark.parametrize("dag_id", ["provincial_report", "submission_reminder", "unit_precheck"])
def test_the_period_field_is_text_in_the_collection_days_of_report_yaml(dagbag, dag_id):
    """A text field (`format: date` makes the form a date picker in the browser's locale,
    mm/dd/yyyy), whose pattern allows exactly the collection days of report.yaml."""
    from housing_report.config import load_config

    days = load_config().report.schedule.collection_days
    param = dagbag.dags[dag_id].params.get_param("period")
    schema = param.schema
    assert "format" not in schema
    assert "yyyy-mm-dd" in param.description
    allowed = {d for d in range(1, 32) if re.fullmatch(schema["pattern"], f"2025-01-{d:02d}")}
    assert allowed == set(days)


def test_precheck_schedule_matches_report_yaml(dagbag):
    """unit_precheck runs on the days and hours report.yaml's `precheck` names (the config is not
    read at parse time: this keeps the DAG's cron in step with it)."""
    from housing_report.config import load_config

    report = load_config().report
    timetable = dagbag.dags["unit_precheck"].timetable
    assert str(timetable.expression) == report.precheck.cron(report.schedule.collection_days)
    assert str(timetable.timezone) == report.schedule.timezone
    minute, hours, days, month, dow = str(timetable.expression).split()
    # The 8th to the 12th and the 23rd to the 27th, at 07:00 and 14:00, with the sample config.
    assert (hours, days) == ("7,14", "8,9,10,11,12,23,24,25,26,27")


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
modules = ("pandas", "openpyxl", "gspread", "yagmail", "housing_report.validate.parse")
heavy = [m for m in modules if m in sys.modules]
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
def test_params_are_the_dags_and_not_validated_at_parse(path, monkeypatch):
    """The trigger form belongs to the DAG, not to copies in each task, and parsing and
    serialising a file, as the DAG processor does every 30 seconds, validates no Param: each
    validation checks the schema against JSON Schema's meta-schema, 2 M instructions (the five
    of provincial_report, 8 % of an empty DAG's parse). With the Params in `@dag(params=...)`,
    Airflow 3.3 validated each 1 + 2 × tasks times; assigned (`dag.params = ...`), once for a
    scheduled DAG. Airflow validates them when it creates a run (next test), and the defaults
    are checked below."""
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
    # A human-in-the-loop task's params are its form (Required Actions), not the trigger form's.
    assert all(not task.params for task in dag.tasks if not hasattr(task, "generate_link_to_ui"))
    titles = [dag.params.get_param(name).schema["title"] for name in dag.params]
    assert len(set(titles)) == len(titles)
    # Only a human-in-the-loop form's own fields (a few, however many tasks the DAG has).
    form = {
        task.params.get_param(name).schema.get("title")
        for task in dag.tasks
        if hasattr(task, "generate_link_to_ui")
        for name in task.params
    }
    assert [title for title in validated if title not in form] == []
    # The form survives serialisation, as the UI and the scheduler read it.
    assert {name for name, _ in serialized[0].data["dag"]["params"]} == set(dag.params)
    # Its defaults are valid: a scheduled run (no conf) gets them.
    defaults = dag.params.validate()
    assert set(defaults) == set(dag.params)
    assert sorted(t for t in validated if t not in form) == sorted(titles)


@pytest.mark.parametrize("dag_id", [p.stem for p in DAG_FILES])
def test_a_run_with_a_conf_that_breaks_the_form_is_refused(dagbag, dag_id):
    """What the parse no longer checks, run creation does: Airflow's `create_dagrun` validates
    the DAG's Params merged with the run's conf (the REST API's trigger answers 400, the Celery
    test shows). Here on the serialised DAG the scheduler and the API server hold."""
    from airflow.sdk.definitions.param import ParamValidationError
    from airflow.serialization.serialized_objects import DagSerialization

    serialized = DagSerialization.from_dict(DagSerialization.to_dict(dagbag.dags[dag_id]))
    assert set(serialized.params.validate()) == set(dagbag.dags[dag_id].params)
    name, param = next((n, serialized.params.get_param(n)) for n in serialized.params)
    wrong = "không phải giá trị" if param.schema.get("type") != "string" else 12
    with pytest.raises(ParamValidationError):
        serialized.params.deep_merge({name: wrong}).validate()


@pytest.mark.parametrize("dag_id", ["provincial_report", "submission_reminder", "unit_precheck"])
def test_every_task_alerts_the_admins_and_default_args_hold_no_callable(dagbag, dag_id):
    """A task that fails for good emails the admins (`alert_admins_of_failure`), each task
    given the callback itself: a callable in `default_args` has its source read (inspect) and
    thrown away by Airflow's serialiser at every parse."""
    from housing_report_airflow.alerts import alert_admins_of_failure

    dag = dagbag.dags[dag_id]
    assert not [key for key, value in dag.default_args.items() if callable(value)]
    for task in dag.tasks:
        callbacks = task.on_failure_callback
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert [c.__name__ for c in callbacks] == [alert_admins_of_failure.__name__], task.task_id
