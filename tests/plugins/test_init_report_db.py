"""The compose init step that creates and migrates the report database, on the real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from housing_report_airflow import init_report_db
from tests.conftest import PG_HOST, PG_PORT, require_server

pytestmark = pytest.mark.postgres


@pytest.fixture
def report_db_uri():
    require_server("PostgreSQL", PG_HOST, PG_PORT)
    name = f"housing_report_init_{uuid.uuid4().hex[:8]}"
    yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    admin = sa.create_engine(
        f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def test_creates_and_migrates_the_database_once(report_db_uri, monkeypatch, capsys):
    monkeypatch.setenv(init_report_db.ENV_NAME, report_db_uri)
    assert init_report_db.main() == 0
    assert "đã tạo" in capsys.readouterr().out
    assert init_report_db.main() == 0
    assert "đã có" in capsys.readouterr().out
    engine = sa.create_engine(report_db_uri.replace("postgresql://", "postgresql+psycopg2://"))
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"unit_reads", "summaries", "deliveries", "report_db_version"} <= tables


@pytest.mark.parametrize(
    "uri", ["sqlite:///x.db", "postgresql://u@h:5432"], ids=["not-postgres", "no-database"]
)
def test_refuses_what_is_not_a_postgres_database(uri):
    with pytest.raises(ValueError, match="AIRFLOW_CONN_REPORT_DB"):
        init_report_db.report_db_url(uri)
