"""The pre-check's result inside a unit's Google spreadsheet, and which spreadsheets changed.

`SheetsFeedbackWriter.write(feedback)` costs two requests per spreadsheet: one
`spreadsheets.get` (the sheets' ids and titles, their protected ranges and conditional formats,
and the notes of every cell: notes are sparse, so the answer stays small) and one
`spreadsheets.batchUpdate` holding every change:

- the feedback worksheet (`KiemTra`, see `feedback.feedback_sheet_title`), added when absent
  and protected so that only the service account edits it; its content is rewritten whole:
  the unit, the period, the status, the time of the check (Asia/Ho_Chi_Minh), and one row per
  finding: severity, a link to the cell (`=HYPERLINK("#gid=…&range=G14";"G14")`, semicolons:
  Google accepts them in every locale, commas only where the decimal mark is a point) and
  what was found and what to write;
- the wrong cells of the report worksheet marked: a note starting `[Kiểm tra tự động]` and a
  background colour (light red for errors, light yellow for warnings). The colour is a
  conditional format rule over the marked cells (its formula names it ours), not the cells'
  own format: the unit's colours stay as they were, and the rule's ranges follow the cells
  when rows are inserted, as the notes do. Marks of cells no longer wrong are cleared: our
  notes are known by their prefix; a note the unit had written on a cell is kept under ours
  and given back when the mark goes.

The requests themselves are built in `precheck.sheet_requests` (pure); this module sends them.

`changed_since` lists, in one Drive `files.list` request while nothing changed, the
spreadsheets modified since a moment. `protect_values` / `unprotect_values` lock and unlock
a worksheet's value cells after the deadline, in one `batchUpdate` each.

A spreadsheet the service account can no longer edit (403, 404, a protection against it)
raises `FeedbackNotWritable`; Google's transient failures (`GoogleUnavailable`, after the
client's retries) and a refused key (`SourceConfigError`) go through.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from housing_report.collect.google_client import GoogleUnavailable
from housing_report.collect.google_client import service_account_email as service_account_email_of
from housing_report.collect.workbook_io import find_sheet_name
from housing_report.core.formatting import DEFAULT_TIMEZONE
from housing_report.core.text import sheet_url
from housing_report.precheck.feedback import FeedbackNotWritable, UnitFeedback
from housing_report.precheck.sheet_requests import (
    SheetState,
    feedback_requests,
    grid_range,
    sheets_of,
)

log = logging.getLogger(__name__)

SHEETS_URL = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE_FILES_URL = "https://www.googleapis.com/drive/v3/files"
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"

# One metadata request: ids, titles and sizes of the sheets, their protections and conditional
# formats, and the notes of every cell (no values, no formats).
FEEDBACK_FIELDS = (
    "spreadsheetId,sheets(properties(sheetId,title,index,gridProperties(rowCount,columnCount)),"
    "protectedRanges(protectedRangeId,description,warningOnly,editors,range),"
    "conditionalFormats(ranges,booleanRule(condition(type,values))),"
    "data(startRow,startColumn,rowData(values(note))))"
)
PROTECTION_FIELDS = (
    "spreadsheetId,sheets(properties(sheetId,title),protectedRanges(protectedRangeId,description,range))"
)

# Changed spreadsheets listed per Drive request (Drive allows up to 1000).
DRIVE_PAGE_SIZE = 1000


class SheetsFeedbackWriter:
    """`FeedbackWriter` into the unit's Google spreadsheet, through the collect side's gspread
    client (`collect.google_client.make_client`): two requests per call, one of them the only
    `batchUpdate`."""

    def __init__(self, client: Any, service_account_email: str = "", timezone: str = DEFAULT_TIMEZONE):
        self.client = client
        self.service_account_email = service_account_email or service_account_email_of(client)
        self.timezone = timezone

    def __repr__(self) -> str:
        return f"SheetsFeedbackWriter({self.service_account_email!r})"

    def write(self, feedback: UnitFeedback) -> str:
        key = feedback.spreadsheet
        owner = feedback.unit_name
        metadata = _call(self.client, "get", f"{SHEETS_URL}/{key}", owner, params={"fields": FEEDBACK_FIELDS})
        requests, gid = feedback_requests(
            feedback, sheets_of(metadata), self.service_account_email, self.timezone
        )
        _call(self.client, "post", f"{SHEETS_URL}/{key}:batchUpdate", owner, json={"requests": requests})
        where = f"{sheet_url(key)}#gid={gid}"
        log.info(
            "Đã ghi kết quả kiểm tra của %s (%s, %d mục) vào %s",
            feedback.unit_name,
            feedback.status,
            len(feedback.findings),
            where,
        )
        return where


def _call(client: Any, method: str, url: str, owner: str, **kwargs: Any) -> dict[str, Any]:
    """One request; Google's refusals to let us edit become `FeedbackNotWritable` (`owner`: the
    unit's name, for the message)."""
    from gspread.exceptions import APIError

    try:
        return client.http_client.request(method, url, **kwargs).json()
    except APIError as exc:
        status = exc.response.status_code
        message = _message(exc)
        if status in (403, 404) or (status == 400 and "protected" in message.lower()):
            account = service_account_email_of(client) or "tài khoản dịch vụ"
            reason = {
                403: f"bảng tính không còn chia sẻ quyền sửa cho {account}",
                404: "không tìm thấy bảng tính (đã bị xóa hoặc sai mã)",
            }.get(status, f"ô hoặc trang tính bị khóa, {account} không được sửa")
            raise FeedbackNotWritable(
                f"Không ghi được vào bảng tính của {owner}: {reason} "
                f"(Google trả {status}: {message}). Hãy chia sẻ lại quyền chỉnh sửa (Editor) cho {account} "
                "và bỏ khóa trang báo cáo đối với địa chỉ này."
            ) from exc
        raise


def _message(exc: Any) -> str:
    error = getattr(exc, "error", None)
    message = error.get("message") if isinstance(error, dict) else None
    text = " ".join(str(message or getattr(exc.response, "reason", "") or "").split())
    return text if len(text) <= 200 else text[:197] + "..."


# --------------------------------------------------------------------------- changes (Drive)


class ChangesUnknown(Exception):
    """Drive could not say which spreadsheets changed: read them all. Vietnamese message."""


def drive_time(moment: dt.datetime) -> str:
    """RFC 3339 in UTC, to the millisecond, rounded down (never later than `moment`)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_drive_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def changed_since(
    client: Any,
    spreadsheet_keys: Iterable[str],
    since: dt.datetime | None,
    *,
    include_own: bool = False,
) -> dict[str, dt.datetime]:
    """The keys among `spreadsheet_keys` whose spreadsheet changed after `since`, with Drive's
    `modifiedTime`: one `files.list` request while fewer than 1000 spreadsheets changed (one page).

    A change whose author is the service account itself (the feedback it wrote) does not count
    unless `include_own`: a unit's edit is only seen when the unit is the last to have changed
    the file, so an edit made between a check's read and its write waits for the unit's next edit.
    With `since` None: every one of the keys Drive shows, whoever changed it last. Keys Drive
    does not show (not shared with the service account, deleted) are absent either way.
    Raises `ChangesUnknown` when Drive cannot answer (the caller then reads every spreadsheet).
    """
    from gspread.exceptions import APIError
    from requests import RequestException

    keys = set(spreadsheet_keys)
    q = f"mimeType = '{SPREADSHEET_MIME}' and trashed = false"
    if since is not None:
        q += f" and modifiedTime > '{drive_time(since)}'"
    params: dict[str, Any] = {
        "q": q,
        "fields": "nextPageToken,incompleteSearch,files(id,modifiedTime,lastModifyingUser(me))",
        "pageSize": DRIVE_PAGE_SIZE,
        "corpora": "allDrives",
        "includeItemsFromAllDrives": "true",
        "supportsAllDrives": "true",
    }
    out: dict[str, dt.datetime] = {}
    try:
        while True:
            page = client.http_client.request("get", DRIVE_FILES_URL, params=params).json()
            if page.get("incompleteSearch"):
                raise ChangesUnknown(
                    "Google Drive chỉ trả một phần danh sách bảng tính đã thay đổi (incompleteSearch)."
                )
            for item in page.get("files", []):
                key = str(item.get("id", ""))
                if key not in keys:
                    continue
                own = (item.get("lastModifyingUser") or {}).get("me")
                if own and since is not None and not include_own:
                    continue
                out[key] = parse_drive_time(str(item["modifiedTime"]))
            token = page.get("nextPageToken")
            if not token:
                return out
            params["pageToken"] = token
    except APIError as exc:
        raise ChangesUnknown(
            f"Google Drive không trả danh sách bảng tính đã thay đổi (Google trả "
            f"{exc.response.status_code}: {_message(exc)}); hãy kiểm tra Google Drive API đã được bật."
        ) from exc
    except GoogleUnavailable as exc:
        raise ChangesUnknown(f"Google Drive không trả lời: {exc.reason}") from exc
    except (RequestException, KeyError, TypeError, ValueError) as exc:
        raise ChangesUnknown(
            f"Không hỏi được Google Drive các bảng tính đã thay đổi ({type(exc).__name__}: {exc})"
        ) from exc


# --------------------------------------------------------------------------- after the deadline


def _protection_target(
    client: Any, key: str, worksheet: str | None, unit_name: str
) -> tuple[list[SheetState], SheetState | None]:
    owner = unit_name or f"mã {key}"
    metadata = _call(client, "get", f"{SHEETS_URL}/{key}", owner, params={"fields": PROTECTION_FIELDS})
    sheets = sheets_of(metadata)
    if worksheet is None:
        return sheets, None
    title = find_sheet_name([s.title for s in sheets], worksheet)
    if title is None:
        raise ValueError(f"Không có trang tính «{worksheet}» trong bảng tính {key}")
    return sheets, next(s for s in sheets if s.title == title)


def protect_values(
    client: Any,
    spreadsheet_key: str,
    worksheet: str,
    a1_ranges: Collection[str],
    description: str,
    *,
    editors: Sequence[str] | None = None,
    unit_name: str = "",
) -> int:
    """Lock `a1_ranges` of `worksheet` (only the service account, or `editors`, may edit them),
    in one `batchUpdate`; the worksheet's earlier protections with the same `description` are
    replaced. Returns the number of ranges protected. `FeedbackNotWritable` when the service
    account cannot edit the spreadsheet."""
    _sheets, sheet = _protection_target(client, spreadsheet_key, worksheet, unit_name)
    assert sheet is not None
    users = list(editors) if editors is not None else [service_account_email_of(client)]
    requests: list[dict[str, Any]] = [
        {"deleteProtectedRange": {"protectedRangeId": p["protectedRangeId"]}}
        for p in sheet.protections
        if p.get("description") == description
    ]
    for text in a1_ranges:
        protected: dict[str, Any] = {
            "range": grid_range(text, sheet.sheet_id),
            "description": description,
            "warningOnly": False,
        }
        if any(users):
            protected["editors"] = {"users": [u for u in users if u]}
        requests.append({"addProtectedRange": {"protectedRange": protected}})
    if requests:
        url = f"{SHEETS_URL}/{spreadsheet_key}:batchUpdate"
        _call(client, "post", url, unit_name or f"mã {spreadsheet_key}", json={"requests": requests})
    return len(a1_ranges)


def unprotect_values(
    client: Any,
    spreadsheet_key: str,
    description: str,
    worksheet: str | None = None,
    *,
    unit_name: str = "",
) -> int:
    """Remove the protections with `description` (on `worksheet` only, when given), in one
    `batchUpdate` (none when there is nothing to remove). Returns how many were removed."""
    sheets, sheet = _protection_target(client, spreadsheet_key, worksheet, unit_name)
    targets = [sheet] if sheet is not None else sheets
    ids = [
        p["protectedRangeId"] for s in targets for p in s.protections if p.get("description") == description
    ]
    if ids:
        requests = [{"deleteProtectedRange": {"protectedRangeId": i}} for i in ids]
        url = f"{SHEETS_URL}/{spreadsheet_key}:batchUpdate"
        _call(client, "post", url, unit_name or f"mã {spreadsheet_key}", json={"requests": requests})
    return len(ids)
