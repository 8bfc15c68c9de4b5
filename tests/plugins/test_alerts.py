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


def deadline_context(logical: dt.datetime, queued: dt.datetime, conf: dict | None = None) -> dict:
    """The context Airflow 3.3's scheduler gives a Deadline Alert's callback
    (`Deadline.handle_miss`): the run as the REST API's `DAGRunResponse`, dumped to JSON, and the
    deadline's time (the reference, the logical date, plus the interval: 4 hours)."""
    from airflow.api_fastapi.core_api.datamodels.dag_run import DAGRunResponse

    run_id = f"scheduled__{logical.isoformat()}"
    dag_run = DAGRunResponse.model_validate(
        {
            "run_id": run_id,
            "dag_id": "provincial_report",
            "logical_date": logical,
            "queued_at": queued,
            "start_date": queued,
            "end_date": None,
            "duration": None,
            "data_interval_start": logical,
            "data_interval_end": logical,
            "run_after": logical,
            "last_scheduling_decision": None,
            "run_type": "scheduled",
            "state": "running",
            "triggered_by": "timetable",
            "triggering_user_name": None,
            "conf": conf or {},
            "note": None,
            "dag_versions": [],
            "bundle_version": None,
            "dag_model": {"dag_display_name": "provincial_report"},
            "partition_key": None,
            "partition_date": None,
        }
    ).model_dump(mode="json")
    return {"dag_run": dag_run, "deadline": {"id": "1", "deadline_time": logical + dt.timedelta(hours=4)}}


def test_the_deadline_alert_names_the_runs_collection_day_and_run_id(monkeypatch, tmp_path):
    """The run of 27/11/2026 07:00 (Vietnam), started on 03/12 as the catch-up of an unpaused DAG:
    its alert names 11:00 on 27/11/2026 and the run, not the day the callback runs."""
    outbox_env(monkeypatch, tmp_path)
    logical = dt.datetime(2026, 11, 27, 0, 0, tzinfo=dt.UTC)  # 07:00 in Vietnam
    context = deadline_context(logical, queued=dt.datetime(2026, 12, 3, 2, 15, tzinfo=dt.UTC))
    assert context["dag_run"]["dag_run_id"] == "scheduled__2026-11-27T00:00:00+00:00"
    asyncio.run(report_deadline_missed(deadline_label="11:00", context=context))
    [eml] = (tmp_path / "alerts").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Đến 11:00 ngày 27/11/2026 (giờ Việt Nam), báo cáo kỳ 27/11/2026 vẫn chưa được gửi" in body
    assert "Lần chạy: scheduled__2026-11-27T00:00:00+00:00;" in body
    assert "ngày logic: 27/11/2026 07:00" in body
    assert "chạy bù" in body  # created after its deadline
    assert "27/11/2026" in message["Subject"]
    [logged] = alerts_logged(tmp_path)
    assert logged.period == dt.date(2026, 11, 27)
    assert logged.run_id == "scheduled__2026-11-27T00:00:00+00:00"


def test_the_deadline_alert_of_a_run_for_a_named_period_names_that_period(monkeypatch, tmp_path):
    outbox_env(monkeypatch, tmp_path)
    logical = dt.datetime(2026, 12, 3, 1, 30, tzinfo=dt.UTC)  # a manual run, 08:30 on 03/12
    context = deadline_context(logical, queued=logical, conf={"period": "2026-11-12"})
    asyncio.run(report_deadline_missed(context=context))
    [eml] = (tmp_path / "alerts").glob("*.eml")
    body = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default).get_body(
        preferencelist=("plain",)
    )
    text = body.get_content()
    assert "Đến 12:30 ngày 03/12/2026 (giờ Việt Nam), báo cáo kỳ 12/11/2026" in text
    assert "chạy bù" not in text
    assert [d.period for d in alerts_logged(tmp_path)] == [dt.date(2026, 11, 12)]
