"""Errors no retry can fix fail a task at once (`AirflowFailException`) with the admin's one
line; any other error is left to Airflow's retries. Task bodies called as the tasks call them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from housing_report_airflow import alerts, failures, reminder_tasks, tasks
from tests.support.config_files import edit

SAMPLES = Path(__file__).resolve().parents[2] / "include" / "sample_data"


@pytest.fixture
def deployment(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_SOURCE", str(SAMPLES / "2025-03-12"))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(tmp_path / "output"))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_DELIVERY", "outbox")
    failures.forget()
    yield tmp_path / "output"
    failures.forget()


@pytest.fixture
def broken_config(monkeypatch, config_dir):
    edit(config_dir / "units.yaml", lambda data: data["units"][0].update(kind="xa"))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_CONFIG_DIR", str(config_dir))
    return config_dir


@pytest.mark.parametrize(
    "call",
    [
        lambda: tasks.resolve_period("2025-03-12", None),
        lambda: tasks.plan_fetch_batches(),
        lambda: reminder_tasks.resolve_coming_period(None, None),
    ],
    ids=["resolve_period", "plan_fetch_batches", "resolve_coming_period"],
)
def test_a_broken_config_fails_at_once_with_one_line(deployment, broken_config, call, caplog):
    with caplog.at_level(logging.INFO), pytest.raises(AirflowFailException) as caught:
        call()
    line = str(caught.value)
    assert line.startswith(f"{broken_config / 'units.yaml'}: units[0].kind: ")
    assert "\n" not in line
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [line, failures.NOT_MAILED]  # first the problem, then why no email
    assert failures.reported() == [line, failures.NOT_MAILED]


def test_a_period_that_is_not_a_collection_day_fails_at_once(deployment):
    with pytest.raises(AirflowFailException, match="^Kỳ báo cáo 13/03/2025 không phải ngày thu thập"):
        tasks.resolve_period("2025-03-13", None)


def test_a_missing_source_setting_fails_at_once(deployment, monkeypatch):
    monkeypatch.delenv("AIRFLOW_VAR_REPORT_SOURCE")
    with pytest.raises(AirflowFailException, match="^Chưa đặt Variable report_source"):
        tasks.resolve_period("2025-03-12", None)


def test_a_missing_smtp_connection_fails_at_once(deployment, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_DELIVERY", "smtp")
    monkeypatch.delenv("AIRFLOW_CONN_REPORT_SMTP", raising=False)
    # The units' feedback goes out without an approval: the first mail a run may send.
    with pytest.raises(AirflowFailException, match="^Chưa khai báo Connection report_smtp"):
        tasks.send_feedback("2025-03-12", "run-1", dry_run=False)


def test_a_read_only_output_folder_fails_at_once_and_the_alert_says_why_in_one_line(
    monkeypatch, read_only_dir, caplog
):
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_SOURCE", str(SAMPLES / "2025-03-12"))
    monkeypatch.setenv("AIRFLOW_VAR_REPORT_OUTPUT_DIR", str(read_only_dir))
    failures.forget()
    with pytest.raises(AirflowFailException) as caught:
        tasks.fetch_batch(["941"], "2025-03-12", "run-1")
    line = str(caught.value)
    assert line.startswith(f"Không có quyền ghi vào thư mục {read_only_dir} ")
    assert "sao lưu" not in line
    # The failure callback cannot write its alert either: one line after the failure's, no traceback.
    caplog.clear()
    with caplog.at_level(logging.INFO):
        alerts.alert_admins_of_failure({"run_id": "run-1", "params": {}, "exception": caught.value})
    [alert_line] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert alert_line.getMessage().startswith("Không gửi được cảnh báo cho quản trị: ")
    assert alert_line.exc_info is None
    assert failures.reported()[0] == line
    failures.forget()


def test_other_errors_are_left_to_the_retries(deployment):
    @failures.fail_at_once
    def flaky():
        raise ConnectionResetError("the server went away")

    with pytest.raises(ConnectionResetError):
        flaky()
    assert failures.reported() == []


def test_the_admins_are_told_the_line_and_that_it_was_not_retried(deployment):
    import email
    import email.policy

    with pytest.raises(AirflowFailException) as caught:
        tasks.resolve_period("2025-03-13", None)
    alerts.alert_admins_of_failure(
        {"run_id": "run-1", "params": {"period": "2025-03-13"}, "exception": caught.value}
    )
    [alert] = (deployment / "alerts").glob("*.eml")
    message = email.message_from_bytes(alert.read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "không thử lại" in body
    assert f"Lỗi: {caught.value}" in body
    assert "AdminMustAct" not in body
