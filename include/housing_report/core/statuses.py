"""A unit's status in a period (docs/vi/mau-bao-cao.md, "Tình trạng"), and a finding's severity."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What became of a unit's report in a period. Members are strings (`"accepted"`), so they
    compare equal to, and are stored and written as, their values."""

    ACCEPTED = "accepted"  # read, right period, no errors (warnings allowed)
    REJECTED = "rejected"  # read, right period, at least one error: none of its figures are used
    STALE = "stale"  # read, but KY_BAO_CAO is another period
    MISSING = "missing"  # its spreadsheet or worksheet does not exist
    UNREACHABLE = "unreachable"  # could not be read (permission, network, quota)


ACCEPTED = Status.ACCEPTED
REJECTED = Status.REJECTED
STALE = Status.STALE
MISSING = Status.MISSING
UNREACHABLE = Status.UNREACHABLE
STATUSES = tuple(Status)
# A status as stored (text) -> its member: a dict lookup, for thousands of units (`Status(text)`
# is twenty times slower).
STATUS_OF = {s.value: s for s in Status}
# Read for the right period, whatever its errors (stale, missing, unreachable: not submitted).
SUBMITTED = (ACCEPTED, REJECTED)

STATUS_LABELS = {
    ACCEPTED: "Đã tiếp nhận",
    REJECTED: "Bị trả lại (có lỗi)",
    STALE: "Chưa cập nhật kỳ này",
    MISSING: "Không có trang tính",
    UNREACHABLE: "Không đọc được",
}

# What the report document says of a unit's status to officials (the unit's own feedback keeps
# `STATUS_LABELS`): what the unit did, in the office's words, never the system's.
OFFICIAL_STATUS_LABELS = {
    ACCEPTED: "đã gửi báo cáo hợp lệ",
    REJECTED: "báo cáo chưa hợp lệ, đang điều chỉnh",
    STALE: "chưa gửi báo cáo kỳ này",
    MISSING: "chưa gửi báo cáo",
    UNREACHABLE: "chưa tiếp nhận được báo cáo",
}

# Outcome of fetching one unit's worksheet from a source: ok, or MISSING / UNREACHABLE.
FETCH_OK = "ok"


class Severity(StrEnum):
    ERROR = "error"  # the unit's report is rejected
    WARNING = "warning"  # accepted; the unit is asked to check


ERROR = Severity.ERROR
WARNING = Severity.WARNING


def status_label(status: str) -> str:
    """The Vietnamese label of a status ("Đã tiếp nhận"); an unknown one as it is."""
    return STATUS_LABELS.get(status, status)


def official_status_label(status: str) -> str:
    """What the report document says of a unit with `status` ("chưa gửi báo cáo"), lower case."""
    return OFFICIAL_STATUS_LABELS.get(status, status)
