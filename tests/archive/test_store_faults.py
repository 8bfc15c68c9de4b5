"""What the report database says when it cannot be used, at its cause: a folder or file the
system cannot write is not a corrupt database (nothing to restore from a backup, which a first
run does not have), and both are errors no retry can fix (`Permanent`)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from housing_report.archive.records import StoreError
from housing_report.archive.store import ReportStore, StoreNotWritable, StoreUnusable, sqlite_url
from housing_report.core.errors import Permanent
from tests.support.unwritable import locked

RESTORE = "sao lưu"


def open_store(path) -> ReportStore:
    store = ReportStore(sqlite_url(path))
    store.ensure_schema()
    return store


def test_a_first_run_in_a_read_only_folder_is_no_write_permission(read_only_dir):
    with pytest.raises(StoreNotWritable) as caught:
        open_store(read_only_dir / "reports.sqlite")
    line = str(caught.value)
    assert line.startswith(f"Không có quyền ghi vào thư mục {read_only_dir} ")
    assert RESTORE not in line
    assert isinstance(caught.value, StoreError)  # what the callers catch
    assert isinstance(caught.value, Permanent)


def test_a_missing_database_folder_under_a_read_only_one(read_only_dir):
    with pytest.raises(StoreNotWritable, match=f"^Không có quyền ghi vào thư mục {read_only_dir} "):
        open_store(read_only_dir / "output" / "reports.sqlite")


def test_a_database_whose_folder_became_read_only(tmp_path):
    folder = tmp_path / "output"
    open_store(folder / "reports.sqlite").engine.dispose()
    with locked(folder):
        store = ReportStore(sqlite_url(folder / "reports.sqlite"))
        with pytest.raises(StoreNotWritable) as caught, store.engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (a INTEGER)"))
        store.engine.dispose()
    assert str(caught.value).startswith(f"Không có quyền ghi vào thư mục {folder} ")
    assert RESTORE not in str(caught.value)


def test_a_path_through_a_file_is_not_a_folder(tmp_path):
    (tmp_path / "output").write_text("", encoding="utf-8")
    with pytest.raises(StoreNotWritable, match="output là một tệp, không phải thư mục"):
        open_store(tmp_path / "output" / "reports.sqlite")


def test_a_full_database_says_full_not_corrupt(tmp_path):
    store = open_store(tmp_path / "reports.sqlite")
    with store.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE big (a TEXT)"))
    # SQLite's own "database or disk is full" (SQLITE_FULL), here from a page limit.
    with store.engine.begin() as conn:
        conn.execute(sa.text("PRAGMA max_page_count = 1"))
        with pytest.raises(StoreNotWritable, match="đã đầy") as caught:
            conn.execute(sa.text("INSERT INTO big VALUES (:a)"), {"a": "x" * 100_000})
    assert RESTORE not in str(caught.value)


def test_a_corrupt_database_is_to_restore(tmp_path):
    path = tmp_path / "reports.sqlite"
    path.write_bytes(b"not a database at all" * 500)
    with pytest.raises(StoreUnusable, match=RESTORE) as caught:
        open_store(path)
    assert "bị hỏng" in str(caught.value)
    assert isinstance(caught.value, Permanent)


def test_an_unanswering_server_may_pass_so_it_is_not_permanent():
    store = ReportStore("postgresql+psycopg2://postgres@127.0.0.1:1/none")
    with pytest.raises(StoreError) as caught:
        store.ensure_schema()
    assert not isinstance(caught.value, Permanent)


def test_a_refused_login_is_permanent(postgres_url):
    url = sa.engine.make_url(postgres_url).set(database="housing_report_no_such_db")
    with pytest.raises(StoreUnusable, match="từ chối kết nối") as caught:
        ReportStore(url.render_as_string(hide_password=False)).ensure_schema()
    assert "report_db" in str(caught.value)
