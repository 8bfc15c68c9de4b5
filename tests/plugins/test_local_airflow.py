"""`make airflow` / `make airflow-stop` (housing_report_airflow.local_airflow) without Airflow's
processes: the settings it gives them, the admin's password, what it refuses, and that `stop`
ends exactly the process groups it recorded. (tests/ui/test_admin_in_browser.py runs it whole.)"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from housing_report_airflow import local_airflow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path):
    base = {"PATH": os.environ["PATH"], "AIRFLOW_HOME": str(tmp_path / "home")}
    return local_airflow.airflow_env(base, port=18080)


def test_the_project_s_settings_fill_what_is_not_set(tmp_path):
    env = local_airflow.airflow_env(
        {"AIRFLOW_HOME": str(tmp_path), "AIRFLOW_VAR_REPORT_DELIVERY": "smtp", "PYTHONPATH": "/x"}, port=8099
    )
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(REPO / "dags")
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(REPO / "plugins")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'airflow.db'}"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__API__BASE_URL"] == "http://127.0.0.1:8099"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8099/execution/"
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "True"
    assert env["AIRFLOW_VAR_REPORT_SOURCE"] == str(REPO / "include" / "sample_data" / "2025-03-12")
    assert env["AIRFLOW_VAR_REPORT_DELIVERY"] == "smtp"  # set by the admin: kept
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO / "include"), str(REPO / "plugins"), "/x"]
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(
        tmp_path / "simple_auth_manager_passwords.json"
    )


def test_the_admin_s_password_is_made_once_and_kept_private(env):
    first = local_airflow.admin_password(env)
    path = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    assert len(first) >= 16
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"quantri": first}
    assert local_airflow.admin_password(env) == first


def test_each_approver_of_the_config_gets_a_login_and_a_password_of_their_own(env):
    from housing_report.config import load_config

    named = [(a.user, a.name) for a in load_config().report.approval.approvers if a.user]
    assert named
    assert local_airflow.approvers(env) == named
    local_airflow.add_approver_logins(env, [*named, ("quantri", "Quản trị"), named[0]])
    entries = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")
    # The admin first (its role kept), each approver once, allowed the DAGs (not the connections).
    assert entries == ["quantri:admin", *dict.fromkeys(f"{user}:user" for user, _ in named)]
    known = local_airflow.passwords(env)
    assert set(known) == {"quantri", *(user for user, _ in named)}
    assert len(set(known.values())) == len(known)  # no password shared
    assert local_airflow.passwords(env) == known  # kept
    assert local_airflow.admin_password(env) == known["quantri"]


def test_the_banner_says_who_approves_where_and_that_the_key_is_a_throwaway(tmp_path):
    approver = local_airflow.Approver("admin", "Nguyễn Văn Thành", "mk-pheduyet")
    login = local_airflow.Login("http://127.0.0.1:8080", "quantri", "mk", (approver,), tmp_path / "ca.pem")
    lines = "\n".join(local_airflow.approval_lines(login))
    assert "Người phê duyệt: Nguyễn Văn Thành, đăng nhập người dùng admin, mật khẩu mk-pheduyet" in lines
    assert "Browse → Required Actions" in lines
    assert "chứng thư TẠM" in lines
    assert "không dùng cho báo cáo thật" in lines
    assert "report_signing" in lines
    assert "Chứng thư số và người phê duyệt" in (REPO / "docs" / "vi" / "quan-tri.md").read_text()
    real = local_airflow.Login("http://127.0.0.1:8080", "quantri", "mk", (approver,), None)
    assert "TẠM" not in "\n".join(local_airflow.approval_lines(real))


def test_without_report_signing_a_throwaway_key_under_airflow_home_signs(tmp_path):
    with socket.socket() as busy:  # start() stops at the busy port, after its set-up of env
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env = local_airflow.airflow_env({"AIRFLOW_HOME": str(tmp_path)}, port=busy.getsockname()[1])
        with pytest.raises(local_airflow.LocalAirflowError):
            local_airflow.start(env)
        signing = json.loads(env["AIRFLOW_CONN_REPORT_SIGNING"])
        assert Path(signing["extra"]["path"]).is_relative_to(tmp_path)
        assert Path(signing["extra"]["path"]).is_file()
        real = '{"conn_type": "generic", "extra": {"kind": "pkcs11"}}'
        env = local_airflow.airflow_env(
            {"AIRFLOW_HOME": str(tmp_path / "real"), "AIRFLOW_CONN_REPORT_SIGNING": real},
            port=busy.getsockname()[1],
        )
        with pytest.raises(local_airflow.LocalAirflowError):
            local_airflow.start(env)
        assert env["AIRFLOW_CONN_REPORT_SIGNING"] == real  # the admin's: kept
        assert not (tmp_path / "real" / "demo-signing").exists()


def test_celery_without_postgresql_is_refused_with_what_to_set(tmp_path):
    env = local_airflow.airflow_env(
        {"AIRFLOW_HOME": str(tmp_path), "HOUSING_REPORT_EXECUTOR": "celery"}, port=18081
    )
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    with pytest.raises(local_airflow.LocalAirflowError, match="AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        local_airflow.check_executor(env)


def test_a_busy_port_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = local_airflow.airflow_env({"AIRFLOW_HOME": str(tmp_path)}, port=port)
        with pytest.raises(local_airflow.LocalAirflowError, match=f"Cổng {port} đang được dùng"):
            local_airflow.start(env)
    assert not (tmp_path / "airflow.db").exists()
    assert not list(local_airflow.state_dir(env).glob("*.pid"))


def _group() -> subprocess.Popen:
    """A shell leading a process group of its own, with a child in it."""
    return subprocess.Popen(
        ["sh", "-c", "sleep 300 & wait"], start_new_session=True, stdin=subprocess.DEVNULL
    )


def _gone(process: subprocess.Popen) -> bool:
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return True


def _group_empty(pgid: int) -> bool:
    for _ in range(50):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_stop_ends_exactly_the_groups_it_recorded(env):
    folder = local_airflow.state_dir(env)
    folder.mkdir(parents=True)
    ours, other, recycled = _group(), _group(), _group()
    try:
        local_airflow.write_pid_file(folder / "scheduler.pid", ours.pid, ["airflow", "scheduler"])
        # A pid file whose pid now belongs to another process (a different start time).
        local_airflow.write_pid_file(folder / "triggerer.pid", recycled.pid, ["airflow", "triggerer"])
        record = json.loads((folder / "triggerer.pid").read_text())
        (folder / "triggerer.pid").write_text(json.dumps(dict(record, started="1")))
        assert set(local_airflow.running(env)) == {"scheduler"}

        assert local_airflow.stop(env, timeout=10) == ["scheduler"]

        assert _gone(ours)
        assert _group_empty(ours.pid)  # its child (sleep) too
        assert other.poll() is None
        assert recycled.poll() is None
        assert not list(folder.glob("*.pid"))
        assert local_airflow.stop(env) == []
    finally:
        for process in (ours, other, recycled):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)
