"""The first compose file: the same DAGs on Celery, PostgreSQL and Redis (no Docker engine here)."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yaml"


def test_compose_runs_airflow_on_celery_with_postgres_and_redis():
    spec = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = spec["services"]
    for name in (
        "postgres",
        "redis",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
    ):
        assert name in services, name
    worker = services["airflow-worker"]
    env = worker["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis")
    assert "include" in env["PYTHONPATH"]
    mounts = {m.split(":")[1] for m in worker["volumes"]}
    assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"} <= mounts
    assert services["airflow-worker"]["image"].endswith("3.3.2}")
    # No usable default password: compose refuses to start without one from .env.
    assert ":?" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
