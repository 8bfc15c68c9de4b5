"""A folder the operating system refuses to write into (`read_only_dir`, a fixture), whoever runs
the tests.

`chmod 0555` stops a normal user but not root (the tests run as root in containers and on some
CI machines): root bypasses permission bits. So, as root, the folder is made immutable instead
(the `i` attribute of `chattr`, set with the `FS_IOC_SETFLAGS` ioctl): the kernel then refuses
any new file in it, to root as well, with EPERM, the same refusal class as EACCES. Both are real
refusals by the kernel at the very write the code makes, with no mock and no `os.access` (which
would say yes to root). Where neither works (a file system without the attribute, no
CAP_LINUX_IMMUTABLE), the test is skipped with that reason, and fails with `CI=true`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_IMMUTABLE_FL = 0x10


def _set_immutable(path: Path, on: bool) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        flags = struct.unpack("l", fcntl.ioctl(fd, FS_IOC_GETFLAGS, struct.pack("l", 0)))[0]
        flags = flags | FS_IMMUTABLE_FL if on else flags & ~FS_IMMUTABLE_FL
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("l", flags))
    finally:
        os.close(fd)


def _refuses_writes(path: Path) -> bool:
    probe = path / f".probe-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
    except OSError:
        return True
    probe.unlink()
    return False


@contextlib.contextmanager
def locked(path: Path) -> Iterator[str]:
    """`path` (an existing folder) refuses writes inside; yields how ("chmod" or "immutable")."""
    way = "chmod"
    if os.geteuid() != 0:
        path.chmod(0o555)
    else:
        way = "immutable"
        try:
            _set_immutable(path, True)
        except OSError as exc:
            message = f"cannot make a folder read-only for root here ({exc})"
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(f"{message} (CI=true)")
            pytest.skip(message)
    try:
        assert _refuses_writes(path), f"{path} is still writable ({way})"
        yield way
    finally:
        if way == "chmod":
            path.chmod(0o755)
        else:
            _set_immutable(path, False)


@pytest.fixture
def read_only_dir(tmp_path) -> Iterator[Path]:
    """An existing, empty folder nobody (root included) can write into during the test."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    with locked(folder):
        yield folder
