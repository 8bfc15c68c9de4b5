"""Nothing goes out by surprise: `dag.test()` runs of provincial_report that must email nobody
but the admins (`housing_report.deliver.hold`), over a real SMTP server (aiosmtpd on loopback).

- a run whose period nobody named, days after its collection day (the catch-up Airflow starts
  when the DAG is unpaused), is held; the same period named by a manual trigger is sent;
- a period no unit reported for is held even when named; `send_held` sends it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from housing_report_airflow.dag_runner import run_dag_test
from tests.dags.test_provincial_report_e2e import SAMPLES, environment
from tests.smtp_server import Collector, smtp_server

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def dag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags["provincial_report"]


@pytest.fixture
def smtp():
    handler = Collector()
    with smtp_server(handler) as controller:
        conn = {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": controller.port,
            "extra": {"from_email": "Ban Tuyên giáo <baocao@soctrang.example>", "starttls": False},
        }
        with environment(AIRFLOW_CONN_REPORT_SMTP=json.dumps(conn)):
            yield handler


def run(dag, source: str, out: Path, *, logical_date: dt.datetime | None = None, **conf):
    kwargs = {"logical_date": logical_date} if logical_date is not None else {}
    with environment(
        AIRFLOW_VAR_REPORT_SOURCE=str(SAMPLES / source),
        AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(out),
        AIRFLOW_VAR_REPORT_DELIVERY="smtp",
    ):
        dag_run = run_dag_test(dag, run_conf={"dry_run": False, **conf}, **kwargs)
    assert str(dag_run.state).lower().endswith("success"), dag_run.state
    return dag_run.run_id


def received_by(handler: Collector, config) -> tuple[list, list, list]:
    """The messages the server got: to the admins, to the officials, to the units."""
    admins = {c.email for c in config.report.admins}
    officials = {c.email for c in (*config.report.to, *config.report.cc)}
    units = {e for u in config.units for e in u.emails}
    return (
        [r for r in handler.received if set(r.rcpt_tos) <= admins],
        [r for r in handler.received if set(r.rcpt_tos) & officials],
        [r for r in handler.received if set(r.rcpt_tos) & units],
    )


def logged(out: Path, period: dt.date):
    from housing_report.archive.store import ReportStore, sqlite_url

    return ReportStore(sqlite_url(out / "reports.sqlite")).deliveries(period)


def plain(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_a_late_run_whose_period_nobody_named_is_held_and_a_named_one_is_sent(dag, smtp, tmp_path, config):
    """The run of 12/03/2025 07:00 (Vietnam) started today, as a catch-up after unpausing: its
    outputs are written, nobody but the admins is emailed, once; then the admin triggers the
    period by name, a deliberate act, and it goes out."""
    logical = dt.datetime(2025, 3, 12, 0, 0, tzinfo=dt.UTC)
    run_id = run(dag, "2025-03-12", tmp_path, logical_date=logical)

    assert (tmp_path / "2025-03-12" / "summary.json").is_file()
    to_admins, to_officials, to_units = received_by(smtp, config)
    assert to_officials == []
    assert to_units == []
    [alert] = to_admins
    assert "bị giữ lại" in alert.message["Subject"]
    text = plain(alert.message)
    assert "12/03/2025" in text
    assert "lần chạy bù" in text
    assert '{"period": "2025-03-12", "send_held": true}' in text
    [held] = [d for d in logged(tmp_path, dt.date(2025, 3, 12)) if d.kind == "report"]
    assert (held.state, held.run_id, held.version) == ("held", run_id, 1)
    assert "lần chạy bù" in held.detail

    run(dag, "2025-03-12", tmp_path, period="2025-03-12")
    to_admins, to_officials, to_units = received_by(smtp, config)
    assert len(to_admins) == 1  # nothing more to tell them
    [report] = to_officials
    assert "12/03/2025" in report.message["Subject"]
    assert to_units  # the rejected and stale units' feedback
    states = [(d.kind, d.state) for d in logged(tmp_path, dt.date(2025, 3, 12)) if d.kind == "report"]
    assert states == [("report", "held"), ("report", "sent")]


def test_a_period_no_unit_reported_for_is_held_even_when_named_and_sent_with_send_held(
    dag, smtp, tmp_path, config
):
    """Period 27/03/2025 read from sheets that all still say 12/03/2025 (every unit stale, one
    missing): the report would say "0/0 căn". Held though the admin named it; sent with
    `send_held`."""
    run(dag, "2025-03-12", tmp_path, period="2025-03-27")
    summary = json.loads((tmp_path / "2025-03-27" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status_counts"]["accepted"] == summary["status_counts"]["rejected"] == 0
    to_admins, to_officials, to_units = received_by(smtp, config)
    assert (to_officials, to_units) == ([], [])
    [alert] = to_admins
    assert "không đơn vị nào nộp báo cáo kỳ 27/03/2025" in plain(alert.message)
    [held] = logged(tmp_path, dt.date(2025, 3, 27))[:1]
    assert (held.kind, held.state) == ("report", "held")

    run(dag, "2025-03-12", tmp_path, period="2025-03-27", send_held=True)
    to_admins, to_officials, to_units = received_by(smtp, config)
    assert len(to_admins) == 1
    [report] = to_officials
    assert "27/03/2025" in report.message["Subject"]
    assert to_units


def test_a_reminder_run_for_a_coming_period_already_past_reminds_nobody(airflow_db, smtp, tmp_path, config):
    """submission_reminder's run of 10/03/2025 08:00 started today (unpaused): its coming period,
    12/03/2025, is long past; no unit is asked to update for it, the admins are told once."""
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags["submission_reminder"]
    logical = dt.datetime(2025, 3, 10, 1, 0, tzinfo=dt.UTC)
    run(dag, "2025-02-27", tmp_path, logical_date=logical)
    to_admins, to_officials, to_units = received_by(smtp, config)
    assert (to_officials, to_units) == ([], [])
    [alert] = to_admins
    text = plain(alert.message)
    assert "KHÔNG gửi thư nhắc" in text
    assert "kỳ 12/03/2025 đã qua" in text
    assert [(d.kind, d.state) for d in logged(tmp_path, dt.date(2025, 3, 12))] == [("alert", "sent")]
