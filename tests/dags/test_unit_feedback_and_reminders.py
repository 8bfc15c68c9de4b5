"""End to end with `dag.test()`: the units' feedback after provincial_report, and the
submission_reminder DAG, both to a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from housing_report_airflow.dag_runner import run_dag_test
from tests.dags.test_provincial_report_e2e import REPO, SAMPLES, environment, run_period
from tests.smtp_server import Collector, smtp_server

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag


def smtp_conn(port: int) -> str:
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {"from_email": "Ban Tuyên giáo <baocao@soctrang.example>", "starttls": False},
        }
    )


def test_reminder_schedule_is_two_days_before_each_collection_day(dagbag):
    from housing_report.config import load_config

    schedule = load_config().report.schedule
    timetable = dagbag.dags["submission_reminder"].timetable
    minute, hour, dom, month, dow = str(timetable.expression).split()
    assert (minute, hour, month, dow) == ("0", "8", "*", "*")
    assert tuple(int(d) for d in dom.split(",")) == tuple(d - 2 for d in schedule.collection_days)
    assert str(timetable.timezone) == schedule.timezone
    check = dagbag.dags["submission_reminder"].get_task("check_unit_sheets")
    assert check.pool == "google_sheets_api"


def test_feedback_runs_beside_the_report_delivery(dagbag):
    dag = dagbag.dags["provincial_report"]
    feedback = dag.get_task("send_unit_feedback")
    assert feedback.upstream_task_ids == {"aggregate_reports"}
    assert "send_unit_feedback" not in dag.get_task("deliver_report").upstream_task_ids


def test_units_with_something_to_fix_get_feedback_over_smtp_and_no_one_else(dagbag, tmp_path):
    from housing_report.config import load_config

    config = load_config()
    dag = dagbag.dags["provincial_report"]
    handler = Collector()
    with smtp_server(handler) as server, environment(AIRFLOW_CONN_REPORT_SMTP=smtp_conn(server.port)):
        run_period(dag, "2025-02-27", tmp_path, delivery="smtp")
        february = list(handler.received)
        handler.received.clear()
        run_period(dag, "2025-03-12", tmp_path, delivery="smtp", dry_run=True)
        assert handler.received == []  # dry run: neither the report nor feedback
        run_period(dag, "2025-03-12", tmp_path, delivery="smtp")
        march = list(handler.received)
        handler.received.clear()
        run_period(dag, "2025-03-12", tmp_path, delivery="smtp")  # nothing changed: nothing sent
        assert handler.received == []
    report = {c.email for c in (*config.report.to, *config.report.cc)}
    # The approvers' note (the draft to approve) comes before each report; set aside here.
    approvers = {a.email for a in config.report.approval.approvers}
    assert [set(r.rcpt_tos) for r in february if set(r.rcpt_tos) == approvers] == [approvers]
    assert [set(r.rcpt_tos) for r in march if set(r.rcpt_tos) == approvers] == [approvers]
    february = [r for r in february if set(r.rcpt_tos) != approvers]
    march = [r for r in march if set(r.rcpt_tos) != approvers]
    # 27/02: everyone is fine but the unreadable SO_TTTT (the admins' business, not feedback).
    assert [set(r.rcpt_tos) for r in february] == [report]
    units = {frozenset(r.rcpt_tos): r.message for r in march if not set(r.rcpt_tos) & report}
    # rejected 949 and 951, stale 946; warnings: 944 (houses needed), 945 (support levels),
    # 948 (an outlier), TD (labour days lower), LDLD (publications up 85 -> 240, unusual among its
    # peers: every figure is checked). Not HCCB (missing), nor anyone else.
    told = ["944", "945", "946", "948", "949", "951", "TD", "LDLD"]
    assert set(units) == {frozenset(config.unit(c).emails) for c in told}
    assert len(march) == len(told) + 1
    outlier = units[frozenset(config.unit("948").emails)]
    text = outlier.get_body(preferencelist=("plain",)).get_content()
    assert "cao bất thường so với các đơn vị cùng loại" in text
    assert "https://docs.google.com/spreadsheets/d/st-948-nga-nam/edit" in text
    summary = json.loads((tmp_path / "2025-03-12" / "summary.json").read_text(encoding="utf-8"))
    warned = {u["code"] for u in summary["units"] if u["warnings"]}
    assert {"944", "945", "948", "TD"} <= warned
    assert summary["completeness"]["total"][-1]["accepted"] == 16


def test_submission_reminder_reminds_only_who_has_not_updated(dagbag, tmp_path):
    from housing_report.config import load_config

    config = load_config()
    dag = dagbag.dags["submission_reminder"]
    handler = Collector()
    with (
        smtp_server(handler) as server,
        environment(
            AIRFLOW_CONN_REPORT_SMTP=smtp_conn(server.port),
            AIRFLOW_VAR_REPORT_SOURCE=str(SAMPLES / "2025-03-12"),
            AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(tmp_path),
            AIRFLOW_VAR_REPORT_DELIVERY="smtp",
        ),
    ):
        for _ in range(2):  # the second run reminds nobody again; the admins get the list again
            run = run_dag_test(dag, run_conf={"period": "2025-03-12", "dry_run": False})
            assert str(run.state).lower().endswith("success")
    admins = {a.email for a in config.report.admins}
    to_units = [set(r.rcpt_tos) for r in handler.received if not set(r.rcpt_tos) & admins]
    assert sorted(to_units, key=sorted) == sorted(
        [set(config.unit("946").emails), set(config.unit("HCCB").emails)], key=sorted
    )
    to_admins = [r.message for r in handler.received if set(r.rcpt_tos) == admins]
    assert len(to_admins) == 2
    assert to_admins[0]["Subject"] == "Nhắc báo cáo kỳ 12/03/2025: đã nhắc 2 đơn vị chưa cập nhật"
    assert "đã nhắc 0 đơn vị" in to_admins[1]["Subject"]
    assert "Huyện Long Phú" in to_admins[1].get_body(preferencelist=("plain",)).get_content()
    assert Path(tmp_path / "reports.sqlite").exists()
