"""Errors no retry can fix, and why a write was refused, in the admin's words.

`Permanent` marks an error that running the task again cannot fix: the admin must change
something first (a config file, a Connection, a folder's permissions, free space on a disk). Its
message is one Vietnamese line that says what is wrong and what to do. The logic raises it
without knowing of Airflow; the Airflow glue fails such a task at once, without retries, with
that line (`housing_report_airflow.failures`).

`writing(target)` turns the operating system's refusal of a write (no permission, a read-only
or full disk, a path through a file) into `NotWritable`, naming the folder that refused it:
every place that writes the outputs, the report database or the outbox says the same thing for
the same cause. Other `OSError`s (an I/O error, which may pass) are raised as they are.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The refusals a retry cannot fix, by what the admin must do about them.
NO_PERMISSION = frozenset({errno.EACCES, errno.EPERM})
READ_ONLY = frozenset({errno.EROFS})
FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
NOT_A_FOLDER = frozenset({errno.ENOTDIR, errno.EEXIST})
MISSING = frozenset({errno.ENOENT})
REFUSED = NO_PERMISSION | READ_ONLY | FULL | NOT_A_FOLDER | MISSING


class Permanent(Exception):
    """Marker of an error no retry can fix; its message is the one line the admin reads."""


class NotWritable(Permanent, RuntimeError):
    """The system cannot write where it must: no permission, a read-only or full disk, or a
    path that goes through a file. `path`: what it tried to write."""

    def __init__(self, message: str, path: str | Path | None = None):
        super().__init__(message)
        self.path = Path(path) if path is not None else None


def write_problem(error: OSError, target: str | Path | None = None) -> str | None:
    """The admin's line for a refused write of `target` (default: the error's file name), or
    None when the error is not one a retry cannot fix."""
    if error.errno not in REFUSED:
        return None
    target = Path(target or error.filename or ".")
    folder = _existing_folder(target)
    code = f"[{errno.errorcode.get(error.errno, error.errno)}]"
    if error.errno in FULL:
        return (
            f"Ổ đĩa chứa thư mục {folder} đã đầy (hoặc hết hạn mức dung lượng), không ghi được "
            f"{target} {code}: hãy giải phóng dung lượng rồi chạy lại."
        )
    if error.errno in READ_ONLY:
        return (
            f"Thư mục {folder} nằm trên ổ đĩa chỉ đọc, không ghi được {target} {code}: hãy gắn ổ "
            "đĩa ở chế độ ghi được hoặc chọn thư mục khác."
        )
    if error.errno == errno.EEXIST:  # a folder to make where a file is
        blocker = target if target.exists() and not target.is_dir() else None
        if blocker is None:
            return None
    else:
        blocker = _file_in_the_way(target)
    if blocker is not None:
        return (
            f"Không ghi được {target}: {blocker} là một tệp, không phải thư mục {code}; hãy chọn "
            "thư mục khác hoặc chuyển tệp đó đi."
        )
    if error.errno in MISSING:
        return (
            f"Không ghi được {target}: thư mục {folder} không có {code}; hãy tạo thư mục hoặc sửa đường dẫn."
        )
    if target.is_file():
        return f"Không có quyền ghi vào tệp {target} {code}: hãy cấp quyền ghi cho tài khoản chạy hệ thống."
    return (
        f"Không có quyền ghi vào thư mục {folder} (để ghi {target}) {code}: hãy cấp quyền ghi cho "
        "tài khoản chạy hệ thống hoặc chọn thư mục khác."
    )


@contextmanager
def writing(target: str | Path, error: type[NotWritable] = NotWritable) -> Iterator[None]:
    """Writes inside raise `error` (`NotWritable` or a kind of it) for a refusal no retry can
    fix, naming the file the system refused, else `target`; other errors pass unchanged."""
    try:
        yield
    except OSError as exc:
        line = write_problem(exc, exc.filename or target)
        if line is None:
            raise
        raise error(line, exc.filename or target) from exc


def _existing_folder(path: Path) -> Path:
    """The nearest folder that exists at or above `path` (the one that refused the write)."""
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return path.parent


def _file_in_the_way(path: Path) -> Path | None:
    """A file standing where `path` needs a folder (`out/2025-03-12` when `out` is a file)."""
    for candidate in path.parents:
        if candidate.exists():
            return candidate if not candidate.is_dir() else None
    return None
