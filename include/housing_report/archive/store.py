"""The report database: every read of every unit, every version of a period's
summary, and the delivery log.

SQLAlchemy Core over SQLite (the default) or PostgreSQL (production). Tasks hand
data to each other through it: the fetch tasks write reads, the aggregation reads
them back, so tasks may run on different workers. The schema is versioned with
Alembic (`migrations/`); `ensure_schema()` upgrades a deployed database in place.

What goes wrong with the database is said at its cause, for every statement (`_explain_error`,
SQLAlchemy's `handle_error` event): a file or folder the system cannot write (no permission, a
read-only or full disk: `StoreNotWritable`, found by trying the writes SQLite needs) is not a
corrupt database (`StoreUnusable`: restore it from a backup), and neither is a server that does
not answer (a plain `StoreError`, which a retry may cure). The first two, and a refused login,
are `Permanent`: no retry can fix them.
"""

from __future__ import annotations

import errno
import json
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa

from housing_report.archive.deliveries import DeliveryLog
from housing_report.archive.prechecks import PrecheckLog
from housing_report.archive.reads import ReadArchive
from housing_report.archive.records import StoreError
from housing_report.archive.schema import VERSION_TABLE
from housing_report.archive.summaries import SummaryArchive
from housing_report.core.errors import NotWritable, Permanent, write_problem, writing
from housing_report.core.models import RawJSON, dump_json

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The latest migration's revision: a database at it needs nothing from Alembic (a test checks
# that it is Alembic's head).
SCHEMA_HEAD = "0006"
# Serialises schema upgrades between workers on PostgreSQL (an arbitrary, fixed key).
_PG_MIGRATION_LOCK = 740_412_025
# SQLite's errors that may come from the file system refusing a write (the others are the
# database's: a corrupt file, a locked one).
_SQLITE_WRITE_ERRORS = ("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_FULL", "SQLITE_IOERR")
_SQLITE_CORRUPT = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
# A PostgreSQL server that answered but refused the login or the database: the Connection is
# wrong (its messages carry no SQLSTATE at connection time). A refused or timed-out connection
# is not here: the server may come back.
_PG_REFUSED_LOGIN = ("password authentication failed", "no pg_hba.conf entry", "does not exist")


class StoreNotWritable(StoreError, NotWritable):
    """The report database's file or folder cannot be written: no permission, a read-only or
    full disk. Not a corrupt database: nothing to restore."""


class StoreUnusable(StoreError, Permanent):
    """The report database cannot be used and no retry changes that: corrupt, gone where reports
    were produced, newer than the code, or a login the server refuses."""


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
        raise StoreUnusable(
            f"Không tìm thấy cơ sở dữ liệu báo cáo {database}, nhưng {output_dir} đã có báo cáo các kỳ "
            f"{', '.join(produced)}. Hãy khôi phục tệp từ bản sao lưu. Nếu thật sự muốn bắt đầu lại lịch "
            "sử (mọi kỳ đã gửi sẽ có thể bị gửi lại), hãy chuyển các thư mục kỳ cũ đi nơi khác trước."
        )


class ReportStore(ReadArchive, SummaryArchive, DeliveryLog, PrecheckLog):
    """The report database: the reads (`ReadArchive`), the summaries (`SummaryArchive`), the
    delivery log (`DeliveryLog`) and the units' pre-checks (`PrecheckLog`) over one SQLAlchemy
    engine."""

    def __init__(self, url: str):
        self.url = url
        # JSON columns: a grid's date cells are written as {"date": iso} by the encoder itself.
        kwargs: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}
        self.sqlite_file: Path | None = None
        if url.startswith("sqlite"):
            database = sa.engine.make_url(url).database
            if database and database != ":memory:":
                self.sqlite_file = Path(database)
                with writing(self.sqlite_file, StoreNotWritable):
                    self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = sa.create_engine(url, **kwargs)
        sa.event.listen(self.engine, "handle_error", self._explain_error)
        if self.sqlite_file is not None:
            sa.event.listen(self.engine, "connect", _write_ahead_log)

    @property
    def safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    # -- schema

    def ensure_schema(self) -> str:
        """Upgrade the database to the latest schema (Alembic); returns the revision.

        A database that is corrupt, unreachable, or newer than this code is a StoreError.
        A database already at `SCHEMA_HEAD` is found so by one query, without Alembic: every task
        opens the store, and Alembic's imports and reading of the migrations took 0.4–0.7 s.
        """
        if self.schema_revision() == SCHEMA_HEAD:
            return SCHEMA_HEAD
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
                    raise StoreUnusable(
                        f"Cơ sở dữ liệu báo cáo ({self.safe_url}) ở phiên bản lược đồ {current}, mới hơn mã "
                        "nguồn đang chạy; hãy cập nhật mã nguồn."
                    )
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except sa.exc.DatabaseError as exc:
            # Not one `_explain_error` knows (a server that does not answer, a locked file).
            raise StoreError(
                f"Không dùng được cơ sở dữ liệu báo cáo ({self.safe_url}): {exc.orig!s}."
            ) from exc
        return head

    # -- what went wrong

    def _explain_error(self, context: sa.engine.ExceptionContext) -> None:
        """SQLAlchemy's `handle_error`: an error no retry can fix is raised as what it is."""
        problem = self._diagnose(context.original_exception)
        if problem is not None:
            raise problem from context.original_exception

    def _diagnose(self, error: BaseException) -> StoreError | None:
        name = str(getattr(error, "sqlite_errorname", "") or "")
        if self.sqlite_file is not None and name.startswith(_SQLITE_CORRUPT):
            return StoreUnusable(
                f"Cơ sở dữ liệu báo cáo {self.sqlite_file} bị hỏng ({error}). Hãy khôi phục tệp từ bản "
                "sao lưu; không xóa để tạo mới, vì sẽ mất lịch sử báo cáo."
            )
        if self.sqlite_file is not None and name.startswith(_SQLITE_WRITE_ERRORS):
            refused = _write_refusal(self.sqlite_file)
            if refused is None and name.startswith("SQLITE_FULL"):
                refused = OSError(errno.ENOSPC, str(error), str(self.sqlite_file))
            line = write_problem(refused, refused.filename) if refused is not None else None
            if line is not None:
                return StoreNotWritable(line, refused.filename)
            return None
        text = str(error)
        if self.sqlite_file is None and "FATAL:" in text and any(m in text for m in _PG_REFUSED_LOGIN):
            first = text.strip().splitlines()[0]
            return StoreUnusable(
                f"Máy chủ cơ sở dữ liệu báo cáo ({self.safe_url}) từ chối kết nối: {first}. Hãy sửa "
                "Connection report_db (tài khoản, mật khẩu, tên cơ sở dữ liệu)."
            )
        return None

    def schema_revision(self) -> str | None:
        """The database's schema revision as its version table says, or None (no table yet, or
        any error: `ensure_schema` then asks Alembic, and says what is wrong)."""
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        except sa.exc.DBAPIError:
            return None
        return rows[0] if len(rows) == 1 else None


def _write_refusal(database: Path) -> OSError | None:
    """Try the writes SQLite needs (a new file beside the database, for its journal; the
    database opened for writing): the operating system's refusal, if any, names the cause."""
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
        try:
            with tempfile.NamedTemporaryFile(dir=database.parent, prefix=".write-check-"):
                pass
        except OSError as exc:
            # What SQLite writes there (the database, then its log), not the probe's name.
            exc.filename = f"{database}-wal" if database.exists() else str(database)
            raise
        if database.exists():
            with database.open("r+b"):
                pass
    except OSError as exc:
        return exc
    return None


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
