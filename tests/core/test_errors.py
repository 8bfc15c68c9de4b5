"""Why a write was refused, said once for every writer (`core.errors`): real refusals by the
kernel (a read-only folder, a path through a file, a full device), never a mocked `OSError`."""

from __future__ import annotations

import pytest

from housing_report.core.errors import NotWritable, Permanent, write_problem, writing
from housing_report.core.periods import PeriodError, parse_period


def test_a_read_only_folder_is_no_permission_on_that_folder(read_only_dir):
    target = read_only_dir / "2025-03-12" / "summary.json"
    with pytest.raises(NotWritable) as caught, writing(target):
        target.parent.mkdir(parents=True)
    line = str(caught.value)
    assert line.startswith(f"Không có quyền ghi vào thư mục {read_only_dir} ")
    assert "\n" not in line
    assert isinstance(caught.value, Permanent)


def test_a_path_through_a_file_names_the_file(tmp_path):
    (tmp_path / "output").write_text("not a folder", encoding="utf-8")
    target = tmp_path / "output" / "2025-03-12" / "summary.json"
    with pytest.raises(NotWritable, match=r"output là một tệp, không phải thư mục"), writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)


def test_a_folder_to_make_where_a_file_is(tmp_path):
    (tmp_path / "output").write_text("not a folder", encoding="utf-8")
    with pytest.raises(NotWritable, match=r"output là một tệp"), writing(tmp_path / "output"):
        (tmp_path / "output").mkdir(parents=True, exist_ok=True)


def test_a_full_device_says_the_disk_is_full():
    # /dev/full: the kernel answers every write with ENOSPC.
    with open("/dev/full", "wb", buffering=0) as full:
        with pytest.raises(NotWritable, match=r"^Ổ đĩa chứa thư mục /dev đã đầy"), writing("/dev/full"):
            full.write(b"x")


def test_other_errors_pass_unchanged(tmp_path):
    with pytest.raises(IsADirectoryError), writing(tmp_path):
        tmp_path.read_text()
    assert write_problem(OSError(5, "Input/output error", "x")) is None  # EIO may pass: a retry


@pytest.mark.parametrize(
    "text", ["2025-03-13", "2025-02-30", "ngày 12"], ids=["13th", "no-such-day", "words"]
)
def test_a_bad_period_is_permanent(text):
    with pytest.raises(PeriodError) as caught:
        parse_period(text, (12, 27))
    assert isinstance(caught.value, Permanent)
    assert isinstance(caught.value, ValueError)  # what callers caught before
    assert str(caught.value).startswith("Kỳ báo cáo")
