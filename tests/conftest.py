"""Test session set-up: an Airflow home of its own, and the real servers on loopback.

Airflow reads its configuration from the environment when first imported, so this
runs before any test module imports it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_HOME = Path(tempfile.mkdtemp(prefix="housing-report-airflow-"))

for _name in list(os.environ):
    if _name.startswith(("AIRFLOW_VAR_REPORT_", "AIRFLOW_CONN_REPORT_")):
        del os.environ[_name]
os.environ.update(
    {
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # The parsed config files kept across processes (config.load), the session's own.
        "HOUSING_REPORT_CACHE_DIR": str(_HOME / "config-cache"),
    }
)
# The key that signs an approved report in the tests' DAG runs: a throwaway CA and signer of the
# session (housing_report_tools.certificates), as the `report_signing` connection.
_SIGNING = _HOME / "signing"
_SIGNING.mkdir()
os.environ["AIRFLOW_CONN_REPORT_SIGNING"] = (
    '{"conn_type": "generic", "password": "test", "extra": {"kind": "pkcs12", "path": "%s"}}'
    % (_SIGNING / "signer.p12")
)
_pythonpath = [str(REPO / "include"), str(REPO / "plugins")]
os.environ["PYTHONPATH"] = os.pathsep.join(_pythonpath + [p for p in [os.environ.get("PYTHONPATH")] if p])

# Fixtures shared by the test packages: `config_dir` (a copy of the config to break),
# `read_only_dir` (a folder the system refuses to write into, root included).
pytest_plugins = ["tests.support.config_files", "tests.support.unwritable"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SIGNING_CA = _SIGNING / "ca.pem"


@pytest.fixture(scope="session", autouse=True)
def signing_key() -> Path:
    """The throwaway signer of `AIRFLOW_CONN_REPORT_SIGNING`; returns the CA to validate with."""
    from housing_report_tools.certificates import write_throwaway

    write_throwaway(_SIGNING, passphrase="test")
    return SIGNING_CA


PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """Skip when a server is absent; with CI=true a missing server fails instead."""
    if _reachable(host, port):
        return
    message = f"{name} not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing server is a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def config():
    """The project's own config (include/config)."""
    from housing_report.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite Airflow metadata database for dag.test()."""
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    pool = subprocess.run(
        [
            sys.executable,
            "-m",
            "airflow",
            "pools",
            "set",
            "google_sheets_api",
            "4",
            "Google Sheets API readers",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
    )
    assert pool.returncode == 0, pool.stdout[-3000:] + pool.stderr[-3000:]
    return _HOME / "airflow.db"


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh database on the local PostgreSQL server, dropped afterwards."""
    require_server("PostgreSQL", PG_HOST, PG_PORT)
    import sqlalchemy as sa

    name = f"housing_report_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """The report database on SQLite and on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reports.sqlite'}"
    base = request.getfixturevalue("postgres_url")
    # Each test starts from an empty database (tables and migration version alike).
    import sqlalchemy as sa

    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return base


@pytest.fixture(autouse=True)
def fresh_airflow_resources():
    """Each test sees the Variables it sets: the Airflow glue keeps its resources (settings,
    config, store) for the process (`housing_report_airflow.resources`), and pytest is one."""

    def reset() -> None:
        module = sys.modules.get("housing_report_airflow.resources")
        if module is not None:
            module.reset()

    reset()
    yield
    reset()


def pytest_terminal_summary(terminalreporter):
    skipped = terminalreporter.stats.get("skipped", [])
    reasons = {str(r.longrepr[-1]) for r in skipped if isinstance(r.longrepr, tuple)}
    servers = sorted(r for r in reasons if "not reachable" in r)
    if servers:
        terminalreporter.write_line("Skipped because a server is missing: " + "; ".join(servers), yellow=True)
