"""Create the report database on its PostgreSQL server if missing, then migrate it.

Run by the compose init service (`python -m housing_report_airflow.init_report_db`), with
the connection from `AIRFLOW_CONN_REPORT_DB` (a `postgresql://user:password@host:port/name`
URI). Running it again is harmless: an existing database is only migrated.
"""

from __future__ import annotations

import os
import sys

import sqlalchemy as sa

ENV_NAME = "AIRFLOW_CONN_REPORT_DB"


def report_db_url(uri: str) -> sa.engine.URL:
    """The SQLAlchemy URL of an Airflow `postgres`/`postgresql` connection URI."""
    url = sa.engine.make_url(uri)
    if url.get_backend_name() not in ("postgres", "postgresql"):
        raise ValueError(f"{ENV_NAME} phải là một URI postgresql:// (must be a postgresql:// URI)")
    if not url.database:
        raise ValueError(f"{ENV_NAME} thiếu tên cơ sở dữ liệu (no database name)")
    return url.set(drivername="postgresql+psycopg2")


def ensure_database(url: sa.engine.URL) -> bool:
    """Create `url`'s database through the server's `postgres` database; True if created."""
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).first()
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote(url.database)
            conn.execute(sa.text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()


def main() -> int:
    from housing_report.archive.store import ReportStore

    uri = os.environ.get(ENV_NAME)
    if not uri:
        print(f"{ENV_NAME} chưa được đặt (not set)", file=sys.stderr)
        return 2
    url = report_db_url(uri)
    created = ensure_database(url)
    store = ReportStore(url.render_as_string(hide_password=False))
    revision = store.ensure_schema()
    store.engine.dispose()
    state = "đã tạo" if created else "đã có"
    print(f"Cơ sở dữ liệu báo cáo {url.database}: {state}, lược đồ {revision} ({store.safe_url})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
