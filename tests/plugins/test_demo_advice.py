"""`make demo` tells what of the period's mail may not have arrived, and the command to run:
`make demo PERIOD=<period> FORCE_RESEND=1`, which sets the run's Param `force_resend`."""

from __future__ import annotations

import datetime as dt

import pytest

from housing_report.deliver.report import PartialDelivery, dispatch
from housing_report.deliver.transports import DeliveryOutcomeUnknown
from tests.deliver.test_report import mail_for, run, smtp
from tests.smtp_server import Collector, Disconnecting, smtp_server

PERIOD = "2025-03-12"


@pytest.fixture
def resources(monkeypatch, tmp_path):
    from housing_report_airflow import resources

    monkeypatch.setenv("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(tmp_path))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_DELIVERY", "outbox")
    monkeypatch.delenv("AIRFLOW_CONN_REPORT_DB", raising=False)
    resources.reset()
    yield resources.current()
    resources.reset()


def test_the_demo_names_who_lacks_the_report_and_the_command(resources):
    from housing_report_airflow import demo

    config, store = resources.config, resources.store
    day = dt.date.fromisoformat(PERIOD)
    refused = config.report.cc[0].email
    run(config, store, "r1")
    with smtp_server(Collector(refuse=(refused,))) as server:
        with pytest.raises(PartialDelivery):
            dispatch(config, store, day, "r1", mail_for(config), smtp(server.port))
    pending = demo.pending_deliveries(PERIOD)
    assert [(p["what"], p["kind"], p["refused"]) for p in pending] == [("partial", "report", [refused])]
    text = "\n".join(demo.advice_lines(PERIOD, pending))
    assert f"Báo cáo phiên bản 1 CHƯA ĐẾN: {refused}" in text
    assert "make demo PERIOD=2025-03-12 FORCE_RESEND=1" in text
    assert "đã được gửi" not in text


def test_the_demo_names_the_message_id_of_an_unknown_outcome(resources):
    from housing_report_airflow import demo

    config, store = resources.config, resources.store
    day = dt.date.fromisoformat(PERIOD)
    run(config, store, "r1")
    with smtp_server(Disconnecting()) as server:
        with pytest.raises(DeliveryOutcomeUnknown):
            dispatch(config, store, day, "r1", mail_for(config), smtp(server.port))
    [row] = store.deliveries(day)
    pending = demo.pending_deliveries(PERIOD)
    assert [(p["what"], p["message_id"]) for p in pending] == [("uncertain", row.message_id)]
    text = "\n".join(demo.advice_lines(PERIOD, pending))
    assert "CHƯA RÕ Báo cáo phiên bản 1 đã đến người nhận hay chưa" in text
    assert row.message_id in text
    assert "make demo PERIOD=2025-03-12 FORCE_RESEND=1" in text


def test_force_resend_reaches_the_run_as_its_param(monkeypatch, tmp_path):
    from housing_report_airflow import demo

    commands = []

    def fake_call(cmd, env, stdout, stderr):
        commands.append(cmd)
        return 1  # stop after the first period

    monkeypatch.setattr(demo.subprocess, "call", fake_call)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    (tmp_path / f"demo-{PERIOD}.log").write_text("", encoding="utf-8")
    assert demo.main(["--force-resend", PERIOD]) == 1
    [command] = commands
    assert command[-3:] == ["--run", PERIOD, "--force-resend"]
    # The child turns the flag into the run's conf (the Param `force_resend`).
    conf = {}

    class Stop(Exception):
        pass

    def fake_run(dag, run_conf, **kwargs):
        conf.update(run_conf)
        raise Stop

    monkeypatch.setattr("housing_report_airflow.dag_runner.run_dag_test", fake_run)
    with pytest.raises(Stop):
        demo.main(command[-3:])
    assert conf == {"period": PERIOD, "dry_run": False, "force_resend": True}
