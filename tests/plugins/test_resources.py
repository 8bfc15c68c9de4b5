"""The Airflow glue's resources: built from Variables and Connections once per process."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from housing_report.archive.store import ReportStore
from housing_report_airflow import alerts, reminder_tasks, resources, settings, tasks

SAMPLES = Path(__file__).resolve().parents[2] / "include" / "sample_data"
RESULT = {
    "period": "2025-03-12",
    "updated": ["941"],
    "reminded": ["946"],
    "already": [],
    "no_email": [],
    "failed": {},
}


@pytest.fixture
def deployment(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_SOURCE", str(SAMPLES / "2025-03-12"))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_DELIVERY", "outbox")
    return tmp_path


def counting(monkeypatch, owner, name):
    calls = []
    real = getattr(owner, name)

    def wrapper(*args, **kwargs):
        calls.append(args[1:] if isinstance(owner, type) else args)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


def test_several_task_bodies_in_one_process_load_the_config_and_read_the_variables_once(
    monkeypatch, deployment
):
    configs = counting(monkeypatch, resources, "load_config")
    variables = counting(monkeypatch, settings, "variable")
    schemas = counting(monkeypatch, ReportStore, "ensure_schema")
    assert tasks.resolve_period("2025-03-12", None) == "2025-03-12"
    assert tasks.plan_fetch_batches()
    assert reminder_tasks.resolve_coming_period("2025-03-12", None) == "2025-03-12"
    assert reminder_tasks.plan_batches()
    [state] = reminder_tasks.check_batch(["946"], "2025-03-12")
    assert state["state"] == "not_updated"
    reminder_tasks.tell_admins(RESULT, "remind-1")
    alerts.alert_admins_of_failure({"run_id": "remind-1", "params": {}, "exception": RuntimeError("x")})
    assert len(configs) == 1
    assert len(schemas) == 1
    names = [call[0] for call in variables]
    assert sorted(names) == sorted(set(names))  # each Variable read once
    assert "report_source" in names


def test_the_admins_list_task_retried_sends_nothing_twice(deployment):
    for _ in range(2):  # the task's retry, in the same process or another
        reminder_tasks.tell_admins(RESULT, "remind-1")
        resources.reset()
    assert len(list((deployment / "reminders" / "2025-03-12").glob("*.eml"))) == 1


def test_reset_reads_the_variables_again(monkeypatch, deployment, tmp_path_factory):
    first = resources.current()
    assert resources.current() is first
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(elsewhere))
    assert resources.current().settings.output_dir == deployment  # kept for the process
    resources.reset()
    assert resources.current().settings.output_dir == elsewhere


def test_only_the_report_tasks_need_a_source(monkeypatch, tmp_path):
    monkeypatch.delenv("AIRFLOW_VAR_REPORT_SOURCE", raising=False)
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_VAR_PROVISION_DRIVE_FOLDER_ID", " shared-folder ")
    current = resources.current()  # provisioning and the admins' page
    assert current.settings.provision_folder_id == "shared-folder"
    with pytest.raises(ValueError, match="report_source"):
        resources.for_tasks()
    # A task fails at once on it (no retry sets a Variable), with the same line.
    with pytest.raises(AirflowFailException, match="report_source"):
        tasks.resolve_period("2025-03-12", None)


def test_the_smtp_mailer_is_built_once(monkeypatch, deployment):
    import json

    monkeypatch.setenv("AIRFLOW_VAR_REPORT_DELIVERY", "smtp")
    monkeypatch.setenv(
        "AIRFLOW_CONN_REPORT_SMTP",
        json.dumps(
            {"conn_type": "smtp", "host": "mail.example", "port": 25, "extra": {"from_email": "bc@x.vn"}}
        ),
    )
    current = resources.current()
    mailer = current.mailer(deployment / "outbox")
    assert mailer is current.mailer(deployment / "feedback")
    assert (mailer.sender, mailer.message_id_domain) == ("bc@x.vn", "x.vn")
    assert mailer.transport.host == "mail.example"
