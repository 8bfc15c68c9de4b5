"""The report database: every read of every unit, every version of a period's
summary, and the delivery log.

SQLAlchemy Core over SQLite (the default) or PostgreSQL (production). Tasks hand
data to each other through it: the fetch tasks write reads, the aggregation reads
them back, so tasks may run on different workers. The schema is versioned with
Alembic (`migrations/`); `ensure_schema()` upgrades a deployed database in place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa

from housing_report.archive.deliveries import DeliveryLog
from housing_report.archive.reads import ReadArchive
from housing_report.archive.records import StoreError
from housing_report.archive.schema import VERSION_TABLE
from housing_report.archive.summaries import SummaryArchive
from housing_report.core.models import RawJSON, dump_json

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Serialises schema upgrades between workers on PostgreSQL (an arbitrary, fixed key).
_PG_MIGRATION_LOCK = 740_412_025


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def check_archive_present(database: Path, output_dir: Path) -> None:
    """Refuse to start an empty SQLite archive where reports were already produced.

    Without this, a deleted `reports.sqlite` would silently become an empty history: every
    unit would lose its carried-forward figures and every delivered period would be sent again.
    """
    if database.exists():
        return
    produced = sorted(p.parent.name for p in Path(output_dir).glob("[0-9][0-9][0-9][0-9]-*/summary.json"))
    if produced:
        raise StoreError(
            f"Không tìm thấy cơ sở dữ liệu báo cáo {database}, nhưng {output_dir} đã có báo cáo các kỳ "
            f"{', '.join(produced)}. Hãy khôi phục tệp từ bản sao lưu. Nếu thật sự muốn bắt đầu lại lịch "
            "sử (mọi kỳ đã gửi sẽ có thể bị gửi lại), hãy chuyển các thư mục kỳ cũ đi nơi khác trước."
        )


class ReportStore(ReadArchive, SummaryArchive, DeliveryLog):
    """The report database: the reads (`ReadArchive`), the summaries (`SummaryArchive`) and the
    delivery log (`DeliveryLog`) over one SQLAlchemy engine."""

    def __init__(self, url: str):
        self.url = url
        # JSON columns: a grid's date cells are written as {"date": iso} by the encoder itself.
        kwargs: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}
        sqlite_file = None
        if url.startswith("sqlite"):
            database = sa.engine.make_url(url).database
            if database and database != ":memory:":
                sqlite_file = Path(database)
                sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = sa.create_engine(url, **kwargs)
        if sqlite_file is not None:
            sa.event.listen(self.engine, "connect", _write_ahead_log)

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    # -- schema

    def ensure_schema(self) -> str:
        """Upgrade the database to the latest schema (Alembic); returns the revision.

        A database that is corrupt, unreachable, or newer than this code is a StoreError.
        """
        from alembic import command
        from alembic.config import Config as AlembicConfig
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        script = ScriptDirectory.from_config(cfg)
        head = script.get_current_head()
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
                current = MigrationContext.configure(
                    conn, opts={"version_table": VERSION_TABLE}
                ).get_current_revision()
                if current == head:
                    return head
                if current is not None and current not in {r.revision for r in script.walk_revisions()}:
                    raise StoreError(
                        f"Cơ sở dữ liệu báo cáo ({self.safe_url}) ở phiên bản lược đồ {current}, mới hơn mã "
                        "nguồn đang chạy; hãy cập nhật mã nguồn."
                    )
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except sa.exc.DatabaseError as exc:
            raise StoreError(
                f"Không dùng được cơ sở dữ liệu báo cáo ({self.safe_url}): {exc.orig!s}. "
                "Hãy khôi phục tệp từ bản sao lưu; không xóa để tạo mới, vì sẽ mất lịch sử báo cáo."
            ) from exc
        return head


def _write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    """SQLite in write-ahead-log mode: a commit writes the new pages once (a rollback journal
    copies the old ones first, and syncs twice), and readers do not wait for a writer. Still
    synchronous=FULL: a committed read survives a power cut."""
    dbapi_connection.execute("PRAGMA journal_mode=WAL")


def _json_dumps(value: Any) -> str:
    """The JSON columns, encoded: a grid comes encoded already (`Grid.encoded`, its dates as
    `encode_cell` writes them); the other columns hold JSON's own types only, which msgspec
    encodes in a quarter of `dump_json`'s time, to the same values when read back (what it
    refuses, by `dump_json`; a non-finite float, which no sheet holds, it writes as null)."""
    if value.__class__ is RawJSON:
        return value
    try:
        return _JSON_ENCODER.encode(value).decode()
    except (msgspec.EncodeError, TypeError, OverflowError):
        return dump_json(value)


_JSON_ENCODER = msgspec.json.Encoder()
_JSON_DECODER = msgspec.json.Decoder()


def _json_loads(text: str | bytes) -> Any:
    """The JSON columns, decoded (msgspec: a read's five columns, for thousands of reads, in a
    third of `json.loads`'s time); what it refuses (`NaN`, written by `json.dumps`) by `json`."""
    try:
        return _JSON_DECODER.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)
