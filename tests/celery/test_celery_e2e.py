"""The distributed engine for real: provincial_report on the CeleryExecutor (`make test-celery`).

Starts Airflow's own processes on loopback (api-server, scheduler, dag-processor, triggerer,
one Celery worker) with the metadata DB and the report DB on the local PostgreSQL (fresh
databases) and the broker on the local Redis (a dedicated database number), triggers the
DAG through the REST API for a sample period, and checks the outputs, the report database
and the mail that reached a real SMTP server. Tasks hand each other data only through XCom
and the report database, so they may run on any worker.

Not part of `make test` (marker `celery`, deselected by default: it takes a minute or two).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.airflow_processes import AirflowProcesses, airflow, api_token, base_env, free_port, wait_for
from tests.conftest import PG_HOST, PG_PORT, REDIS_HOST, REDIS_PORT, require_server

pytestmark = [pytest.mark.celery, pytest.mark.postgres, pytest.mark.redis]

REPO = Path(__file__).resolve().parents[2]
PERIOD = "2025-03-12"
SUBJECT = "Báo cáo tổng hợp tiến độ xóa nhà tạm, nhà dột nát - kỳ 12/03/2025"
# Redis database numbers 0-15 exist by default; this one is the test's alone (flushed).
REDIS_DB = 13
USER, PASSWORD = "kiem-thu", "mat-khau-kiem-thu"
APPROVAL_FORM = {
    "so_van_ban": "15",
    "danh_gia_chung": "Đạt yêu cầu.",
    "phuong_huong": "Tiếp tục.",
    "ly_do_tu_choi": "",
}
RUN_TIMEOUT = 240
# Few mapped fetch tasks keep the run short on a small machine; still spread over the worker.
MAX_FETCH_TASKS = 3


@pytest.fixture(scope="module")
def databases():
    """Fresh metadata and report databases on the local PostgreSQL, dropped afterwards."""
    require_server("PostgreSQL", PG_HOST, PG_PORT)
    require_server("Redis", REDIS_HOST, REDIS_PORT)
    suffix = uuid.uuid4().hex[:8]
    names = {"meta": f"housing_celery_meta_{suffix}", "reports": f"housing_celery_reports_{suffix}"}
    admin = sa.create_engine(
        f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield {k: f"postgres@{PG_HOST}:{PG_PORT}/{v}" for k, v in names.items()}
    finally:
        with admin.connect() as conn:
            for name in names.values():
                conn.execute(
                    sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                    {"n": name},
                )
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="module")
def broker():
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    client.flushdb()
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="module")
def smtp():
    from tests.smtp_server import Collector, smtp_server

    handler = Collector()
    with smtp_server(handler) as controller:
        yield controller, handler


def approver_config(folder):
    """A copy of include/config whose approver is this test's Airflow user."""
    import shutil

    from housing_report.config import DEFAULT_CONFIG_DIR
    from tests.support.config_files import edit

    shutil.copytree(DEFAULT_CONFIG_DIR, folder)

    def approver(data):
        for person in data["approval"]["approvers"]:
            person["user"] = USER

    edit(folder / "report.yaml", approver)
    return folder


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, databases, broker, smtp):
    """Airflow on loopback: migrated, pool created, every process started; stopped afterwards."""
    root = tmp_path_factory.mktemp("celery-e2e")
    api_port = free_port()
    controller, _handler = smtp
    env = base_env(root / "airflow-home", api_port, USER, PASSWORD)
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{databases['meta']}",
            "AIRFLOW__CELERY__BROKER_URL": broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{databases['meta']}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # Only the run the test triggers: no scheduled run of the latest 12th or 27th.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW_VAR_REPORT_SOURCE": str(REPO / "include" / "sample_data" / PERIOD),
            "AIRFLOW_VAR_REPORT_OUTPUT_DIR": str(root / "output"),
            "AIRFLOW_VAR_REPORT_DELIVERY": "smtp",
            "AIRFLOW_VAR_REPORT_MAX_FETCH_TASKS": str(MAX_FETCH_TASKS),
            "AIRFLOW_CONN_REPORT_DB": f"postgresql://{databases['reports']}",
            # The session's throwaway signing key (tests/conftest.py); the approver is this
            # test's Airflow user, who answers through the REST API (finished_run).
            "AIRFLOW_CONN_REPORT_SIGNING": os.environ["AIRFLOW_CONN_REPORT_SIGNING"],
            "AIRFLOW_VAR_REPORT_CONFIG_DIR": str(approver_config(root / "config")),
            "AIRFLOW_CONN_REPORT_SMTP": json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": controller.port,
                    "extra": {"from_email": "Ban Tuyên giáo <baocao@soctrang.example>", "starttls": False},
                }
            ),
        }
    )
    airflow(env, "db", "migrate")
    airflow(env, "pools", "set", "google_sheets_api", "4", "Google Sheets API readers")
    processes = AirflowProcesses(env, root / "logs")
    try:
        processes.start("api-server", "api-server")
        processes.start("scheduler", "scheduler")
        processes.start("dag-processor", "dag-processor")
        processes.start("triggerer", "triggerer")
        processes.start("celery-worker", "celery", "worker", "--concurrency", "4")
        base_url = f"http://127.0.0.1:{api_port}"

        def api_up():
            processes.check_alive()
            return httpx.get(f"{base_url}/api/v2/version", timeout=5).status_code == 200

        wait_for(api_up, timeout=120, what="the api-server", on_fail=processes.tails)
        yield {"base_url": base_url, "root": root, "processes": processes, "databases": databases}
    finally:
        processes.stop()


@pytest.fixture(scope="module")
def finished_run(cluster):
    base_url, processes = cluster["base_url"], cluster["processes"]
    headers = {"Authorization": f"Bearer {api_token(base_url, USER, PASSWORD)}"}
    dag_url = f"{base_url}/api/v2/dags/provincial_report"

    def dag_parsed():
        processes.check_alive()
        return httpx.get(dag_url, headers=headers, timeout=10).status_code == 200

    wait_for(
        dag_parsed, timeout=120, what="the dag-processor to parse provincial_report", on_fail=processes.tails
    )
    httpx.patch(dag_url, json={"is_paused": False}, headers=headers, timeout=10).raise_for_status()
    response = httpx.post(
        f"{dag_url}/dagRuns",
        json={"logical_date": dt.datetime.now(dt.UTC).isoformat(), "conf": {"period": PERIOD}},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    run_id = response.json()["dag_run_id"]
    run_url = f"{dag_url}/dagRuns/{run_id}"

    def task_states() -> str:
        try:
            items = httpx.get(f"{run_url}/taskInstances", headers=headers, timeout=10).json()
            return "\n".join(
                f"{ti['task_id']}[{ti['map_index']}]: {ti['state']} on {ti.get('hostname')}"
                for ti in items["task_instances"]
            )
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            return f"(task states unavailable: {exc!r})"

    def run_finished():
        processes.check_alive()
        state = httpx.get(run_url, headers=headers, timeout=10).json()["state"]
        approve = f"{run_url}/taskInstances/approve_report/-1"
        waiting = httpx.get(approve, headers=headers, timeout=10)
        if waiting.status_code == 200 and waiting.json().get("state") == "awaiting_input":
            # The approver answers as the Required Actions page does.
            answer = httpx.patch(
                f"{approve}/hitlDetails",
                json={"chosen_options": ["Phê duyệt"], "params_input": APPROVAL_FORM},
                headers=headers,
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
        return state if state in ("success", "failed") else None

    state = wait_for(
        run_finished,
        timeout=RUN_TIMEOUT,
        every=2,
        what=f"run {run_id} to finish",
        on_fail=lambda: task_states() + "\n" + processes.tails(),
    )
    instances = httpx.get(f"{run_url}/taskInstances", headers=headers, timeout=10).json()["task_instances"]
    assert state == "success", f"run {run_id}: {state}\n{task_states()}\n{processes.tails()}"
    return {"run_id": run_id, "task_instances": instances, **cluster}


def test_every_task_ran_on_the_celery_worker(finished_run):
    instances = finished_run["task_instances"]
    tasks = {ti["task_id"] for ti in instances}
    assert {
        "resolve_period",
        "plan_fetch_batches",
        "fetch_unit_reports",
        "aggregate_reports",
        "approve_report",
        "deliver_report",
    } <= tasks
    fetches = [ti for ti in instances if ti["task_id"] == "fetch_unit_reports"]
    assert len(fetches) == MAX_FETCH_TASKS  # mapped: one task instance per batch
    assert all(ti["state"] == "success" for ti in instances), instances
    worker_log = (finished_run["root"] / "logs" / "celery-worker.log").read_text(errors="replace")
    assert "execute_workload" in worker_log or "ExecuteTask" in worker_log, worker_log[-3000:]


def test_outputs_of_the_period(finished_run):
    out = finished_run["root"] / "output" / PERIOD
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["period"] == PERIOD
    assert summary["version"] == 1
    assert summary["status_counts"] == {
        "accepted": 16,
        "rejected": 2,
        "stale": 1,
        "missing": 1,
        "unreachable": 0,
    }
    assert (out / f"tong-hop-xoa-nha-tam-{PERIOD}.xlsx").exists()


def test_the_report_database_on_postgresql_holds_the_reads_and_the_delivery(finished_run):
    engine = sa.create_engine(f"postgresql+psycopg2://{finished_run['databases']['reports']}")
    try:
        with engine.connect() as conn:
            reads = conn.execute(
                sa.text("SELECT count(DISTINCT unit_code) FROM unit_reads WHERE run_id = :r"),
                {"r": finished_run["run_id"]},
            ).scalar()
            deliveries = conn.execute(
                sa.text(
                    "SELECT state, kind FROM deliveries "
                    "WHERE run_id = :r AND kind IN ('report', 'correction')"
                ),
                {"r": finished_run["run_id"]},
            ).all()
    finally:
        engine.dispose()
    assert reads == 20
    assert [tuple(d) for d in deliveries] == [("sent", "report")]


def test_the_mail_arrived(finished_run, smtp, config):
    _controller, handler = smtp
    # The provincial report; units may also get feedback mails of their own.
    [received] = [r for r in handler.received if r.message["Subject"] == SUBJECT]
    expected = {c.email for c in config.report.to} | {c.email for c in config.report.cc}
    assert set(received.rcpt_tos) == expected
    assert received.message["Subject"] == SUBJECT
    assert any(p.get_filename().endswith(".xlsx") for p in received.message.iter_attachments())
    # Approved through the REST API, then signed: the PDF, not the draft .docx.
    names = [p.get_filename() for p in received.message.iter_attachments()]
    assert any(n.endswith(".pdf") for n in names)
    assert not any(n.endswith(".docx") for n in names)


def test_the_trigger_form_is_served_and_enforced(finished_run):
    """The DAG's Params (given once its tasks exist) are the form the UI shows, and the
    API server refuses a run whose conf breaks them, before any task runs."""
    base_url = finished_run["base_url"]
    headers = {"Authorization": f"Bearer {api_token(base_url, USER, PASSWORD)}"}
    dag_url = f"{base_url}/api/v2/dags/provincial_report"
    details = httpx.get(f"{dag_url}/details", headers=headers, timeout=10)
    details.raise_for_status()
    params = details.json()["params"]
    assert set(params) == {
        "period", "dry_run", "replay", "replay_version", "send_held", "unlocked_units", "force_resend"
    }  # fmt: skip
    assert params["unlocked_units"]["value"] == []
    assert params["period"]["schema"]["title"] == "Kỳ báo cáo"
    assert params["replay_version"]["value"] == 0
    refused = httpx.post(
        f"{dag_url}/dagRuns",
        json={"logical_date": dt.datetime.now(dt.UTC).isoformat(), "conf": {"replay_version": -1}},
        headers=headers,
        timeout=30,
    )
    assert refused.status_code == 400, refused.text
    assert "replay_version" in refused.text
