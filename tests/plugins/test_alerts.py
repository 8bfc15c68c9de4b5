"""Alerts to the admins: a task that failed for good, and the 11:00 deadline."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import json
import types

from housing_report_airflow.alerts import alert_admins_of_failure, report_deadline_missed
from tests.smtp_server import Collector, smtp_server


def test_failed_task_emails_the_admins_with_task_error_and_log_link(monkeypatch, tmp_path, config):
    handler = Collector()
    with smtp_server(handler) as server:
        monkeypatch.setenv("AIRFLOW_VAR_REPORT_SOURCE", str(tmp_path))
        monkeypatch.setenv("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(tmp_path))
        monkeypatch.setenv("AIRFLOW_VAR_REPORT_DELIVERY", "smtp")
        monkeypatch.setenv(
            "AIRFLOW_CONN_REPORT_SMTP",
            json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": server.port,
                    "extra": {"from_email": "baocao@btgtu.soctrang.example"},
                }
            ),
        )
        ti = types.SimpleNamespace(
            dag_id="provincial_report",
            task_id="deliver_report",
            log_url="http://airflow.example/dags/provincial_report/runs/r1/tasks/deliver_report",
        )
        alert_admins_of_failure(
            {
                "ti": ti,
                "run_id": "r1",
                "params": {"period": "2025-03-12"},
                "exception": ConnectionRefusedError("[Errno 111] Connection refused"),
            }
        )
    [received] = handler.received
    assert set(received.rcpt_tos) == {a.email for a in config.report.admins}
    message = received.message
    assert "deliver_report" in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "ConnectionRefusedError" in body
    assert ti.log_url in body
    assert "2025-03-12" in body


def test_deadline_missed_alert_goes_to_the_admins(monkeypatch, tmp_path, config):
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_SOURCE", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_DELIVERY", "outbox")
    asyncio.run(
        report_deadline_missed({"dag_run": {"run_id": "scheduled__2025-03-12"}}, deadline_label="11:00")
    )
    [eml] = (tmp_path / "alerts").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert {a.addr_spec for a in message["To"].addresses} == {a.email for a in config.report.admins}
    assert "chưa được gửi" in message["Subject"]
    assert "scheduled__2025-03-12" in message.get_body(preferencelist=("plain",)).get_content()


def test_the_report_dag_has_the_deadline_and_the_notifier():
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags")).dags["provincial_report"]
    [deadline] = dag.deadline
    assert deadline.interval == dt.timedelta(hours=4)  # 07:00 run, report due 11:00
    assert type(deadline.reference).__name__ == "DagRunLogicalDateDeadline"
    assert deadline.callback.path.endswith("alerts.report_deadline_missed")
    # Each task's own, not in default_args (docs/en/architecture.md, Params and callbacks).
    for task in dag.tasks:
        callbacks = task.on_failure_callback
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert alert_admins_of_failure in callbacks, task.task_id


def outbox_env(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_SOURCE", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_DELIVERY", "outbox")


def failure(try_number: int, params=None, **context):
    ti = types.SimpleNamespace(
        dag_id="provincial_report", task_id="fetch_unit_reports", map_index=2, try_number=try_number
    )
    return {"ti": ti, "run_id": "r1", "params": params or {}, "exception": RuntimeError("hỏng"), **context}


def alerts_logged(tmp_path):
    from housing_report.archive.store import ReportStore, sqlite_url

    return [d for d in ReportStore(sqlite_url(tmp_path / "reports.sqlite")).deliveries() if d.kind == "alert"]


def test_one_alert_for_one_failure_even_when_the_callback_runs_twice(monkeypatch, tmp_path):
    outbox_env(monkeypatch, tmp_path)
    alert_admins_of_failure(failure(1, {"period": "2025-03-12"}))
    alert_admins_of_failure(failure(1, {"period": "2025-03-12"}))  # the same try, called again
    assert len(list((tmp_path / "alerts").glob("*.eml"))) == 1
    alert_admins_of_failure(failure(2, {"period": "2025-03-12"}))  # another try failed: told
    assert len(list((tmp_path / "alerts").glob("*.eml"))) == 2
    logged = alerts_logged(tmp_path)
    assert [(d.period, d.state) for d in logged] == [(dt.date(2025, 3, 12), "sent")] * 2


def test_an_alert_without_a_period_is_logged_under_the_runs_date_in_vietnam(monkeypatch, tmp_path):
    outbox_env(monkeypatch, tmp_path)
    evening = dt.datetime(2025, 3, 26, 18, 30, tzinfo=dt.UTC)  # 01:30 on the 27th in Vietnam
    for _ in range(2):
        alert_admins_of_failure(failure(1, logical_date=evening))
    assert len(list((tmp_path / "alerts").glob("*.eml"))) == 1
    assert [d.period for d in alerts_logged(tmp_path)] == [dt.date(2025, 3, 27)]


def test_the_deadline_alert_once_per_run(monkeypatch, tmp_path):
    outbox_env(monkeypatch, tmp_path)
    dag_run = {"dag_id": "provincial_report", "run_id": "scheduled__2025-03-12", "conf": {}}
    for _ in range(2):
        asyncio.run(report_deadline_missed({"dag_run": dag_run}, deadline_label="11:00"))
    assert len(list((tmp_path / "alerts").glob("*.eml"))) == 1


def test_an_alert_goes_out_even_when_the_report_database_cannot_be_opened(monkeypatch, tmp_path):
    """The archive is missing where reports were produced (the store refuses to start empty):
    the admins must still hear of the failure."""
    outbox_env(monkeypatch, tmp_path)
    (tmp_path / "2025-02-27").mkdir()
    (tmp_path / "2025-02-27" / "summary.json").write_text("{}", encoding="utf-8")
    alert_admins_of_failure(failure(1))
    assert len(list((tmp_path / "alerts").glob("*.eml"))) == 1
    assert not (tmp_path / "reports.sqlite").exists()


def test_an_alert_that_cannot_be_sent_hides_nothing(monkeypatch, tmp_path):
    outbox_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_DELIVERY", "zalo")  # the settings themselves are broken
    alert_admins_of_failure(failure(1))  # logged, not raised
    assert not (tmp_path / "alerts").exists()
