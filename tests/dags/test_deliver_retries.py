"""Airflow's own retries of `deliver_report` (dag.test(), real SMTP on loopback) never send the
report twice: a refused recipient fails every try, the admins hear of it, and only a run with
`force_resend` sends the report to that recipient, alone."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from housing_report_airflow.dag_runner import run_dag_test
from tests.dags.test_provincial_report_e2e import REPO, SAMPLES, environment

pytestmark = pytest.mark.airflow
PERIOD = "2025-03-12"


@pytest.fixture(scope="module")
def dag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags["provincial_report"]


@pytest.fixture
def retried_at_once(dag):
    """deliver_report's two retries without the 2 minutes between them."""
    task = dag.task_dict["deliver_report"]
    saved = task.retry_delay
    task.retry_delay = dt.timedelta(0)
    yield task
    task.retry_delay = saved


def run(dag, out, port, **conf) -> str:
    conn = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "extra": {"from_email": "Ban Tuyên giáo <baocao@soctrang.example>", "starttls": False},
    }
    with environment(
        AIRFLOW_VAR_REPORT_SOURCE=str(SAMPLES / PERIOD),
        AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(out),
        AIRFLOW_VAR_REPORT_DELIVERY="smtp",
        AIRFLOW_CONN_REPORT_SMTP=json.dumps(conn),
    ):
        dag_run = run_dag_test(dag, run_conf={"period": PERIOD, "dry_run": False, **conf})
    return str(dag_run.state).lower()


def test_a_refused_recipient_across_airflow_retries(dag, retried_at_once, tmp_path):
    from housing_report.config import load_config
    from tests.smtp_server import Collector, smtp_server

    config = load_config()
    everyone = {c.email for c in (*config.report.to, *config.report.cc)}
    admins = {a.email for a in config.report.admins}
    refused = config.report.cc[0].email
    handler = Collector(refuse=(refused,))
    with smtp_server(handler) as server:
        assert run(dag, tmp_path, server.port).endswith("failed")  # after its retries
        reports = [r for r in handler.received if set(r.rcpt_tos) & everyone]
        [report] = reports  # one copy, three tries
        assert set(report.rcpt_tos) == everyone - {refused}
        alerts = [r.message["Subject"] for r in handler.received if set(r.rcpt_tos) == admins]
        assert len([s for s in alerts if "một phần" in s]) == 1
        assert len([s for s in alerts if "deliver_report" in s]) == 1
        # The mailbox is fixed; the admin re-runs with force_resend.
        handler.refuse = set()
        assert run(dag, tmp_path, server.port, force_resend=True).endswith("success")
    reports = [r for r in handler.received if set(r.rcpt_tos) & everyone]
    assert [sorted(r.rcpt_tos) for r in reports] == [sorted(everyone - {refused}), [refused]]
