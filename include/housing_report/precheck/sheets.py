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
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from housing_report.collect.google_client import GoogleUnavailable
from housing_report.collect.google_client import service_account_email as service_account_email_of
from housing_report.collect.workbook_io import find_sheet_name
from housing_report.core.findings import cap_findings
from housing_report.core.formatting import DEFAULT_TIMEZONE, vn_date
from housing_report.core.models import Finding
from housing_report.core.text import clean_text, sheet_url
from housing_report.precheck.feedback import (
    ACCEPTED,
    ERROR,
    UNREADABLE,
    WARNING,
    FeedbackNotWritable,
    UnitFeedback,
    feedback_sheet_title,
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

NOTE_PREFIX = "[Kiểm tra tự động]"
UNIT_NOTE_HEADING = "Ghi chú trước đó của đơn vị:"
# The condition of our colour rules: always true, and names them ours.
MARK_FORMULA = '=N("kiem-tra-tu-dong")=0'
MARK_TOKEN = "kiem-tra-tu-dong"
FEEDBACK_PROTECTION = "Hệ thống báo cáo: trang kết quả kiểm tra tự động – chỉ hệ thống ghi"
# Marks on one worksheet at most (the list itself is capped by kind, `cap_findings`).
MAX_MARKS = 500
# Changed spreadsheets listed per Drive request (Drive allows up to 1000).
DRIVE_PAGE_SIZE = 1000

SEVERITY_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}
# Google's palette: light red 2, light yellow 1 (the template's value cells are light yellow 3),
# light green 3, light grey 2.
ERROR_COLOUR = {"red": 0.918, "green": 0.6, "blue": 0.6}
WARNING_COLOUR = {"red": 1.0, "green": 0.851, "blue": 0.4}
_STATUS_COLOURS = {
    ERROR: ERROR_COLOUR,
    WARNING: WARNING_COLOUR,
    ACCEPTED: {"red": 0.851, "green": 0.918, "blue": 0.827},
    UNREADABLE: {"red": 0.851, "green": 0.851, "blue": 0.851},
}
_TAB_COLOURS = {
    ERROR: {"red": 0.8, "green": 0.0, "blue": 0.0},
    WARNING: {"red": 0.945, "green": 0.761, "blue": 0.196},
    ACCEPTED: {"red": 0.416, "green": 0.659, "blue": 0.31},
    UNREADABLE: {"red": 0.6, "green": 0.6, "blue": 0.6},
}
_HEADER_BG = {"red": 0.867, "green": 0.922, "blue": 0.969}
_COLUMN_PIXELS = (150, 90, 80, 720)
FIRST_FINDING_ROW = 9  # 0-based: rows 1-7 the heading block, row 9 the table's header

_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")
_COLS = re.compile(r"\$?([A-Za-z]{1,3})")
_ROWS = re.compile(r"\$?(\d+)")


# --------------------------------------------------------------------------- cells


def split_cell(reference: str) -> tuple[str | None, str]:
    """`BaoCao!G14` -> ("BaoCao", "G14"); `'Bao ''X'''!G14` -> ("Bao 'X'", "G14"); `G14` -> (None, "G14")."""
    sheet, bang, cells = reference.rpartition("!")
    if not bang:
        return None, reference
    if sheet.startswith("'") and sheet.endswith("'") and len(sheet) >= 2:
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, cells


def cell_index(cell: str) -> tuple[int, int] | None:
    """`G14` -> (13, 6), 0-based; None when it is not one cell."""
    match = _CELL.fullmatch(cell.strip())
    if match is None:
        return None
    col = 0
    for ch in match[1].upper():
        col = col * 26 + ord(ch) - 64
    row = int(match[2])
    return (row - 1, col - 1) if row >= 1 else None


def grid_range(a1_range: str, sheet_id: int) -> dict[str, int]:
    """A1 (`G14`, `G14:H20`, `C:E`, `5:7`; a sheet name before `!` is ignored) as a `GridRange`
    (0-based, ends excluded). Raises ValueError for anything else."""
    _sheet, cells = split_cell(a1_range.strip())
    first, colon, last = cells.partition(":")
    if not colon:
        last = first
    elif not last:
        raise ValueError(f"not an A1 range: {a1_range!r}")
    out: dict[str, int] = {"sheetId": sheet_id}
    one, two = cell_index(first), cell_index(last)
    if one is not None and two is not None:
        out.update(
            startRowIndex=min(one[0], two[0]),
            endRowIndex=max(one[0], two[0]) + 1,
            startColumnIndex=min(one[1], two[1]),
            endColumnIndex=max(one[1], two[1]) + 1,
        )
        return out
    if colon and _COLS.fullmatch(first) and _COLS.fullmatch(last):
        c1, c2 = (cell_index(f"{c.strip('$')}1") for c in (first, last))
        assert c1 is not None
        assert c2 is not None
        out.update(startColumnIndex=min(c1[1], c2[1]), endColumnIndex=max(c1[1], c2[1]) + 1)
        return out
    if colon and _ROWS.fullmatch(first) and _ROWS.fullmatch(last):
        r1, r2 = int(first.strip("$")), int(last.strip("$"))
        if min(r1, r2) >= 1:
            out.update(startRowIndex=min(r1, r2) - 1, endRowIndex=max(r1, r2))
            return out
    raise ValueError(f"not an A1 range: {a1_range!r}")


# --------------------------------------------------------------------------- texts


def finding_text(finding: Finding, unit_name: str) -> str:
    """A finding's message without its "<unit>, ô <cell>: " prefix, first letter capitalised."""
    text = clean_text(finding.message)
    prefix = f"{clean_text(unit_name)}, ô {finding.cell}: "
    if text.startswith(prefix):
        text = text[len(prefix) :]
    return text[:1].upper() + text[1:]


def checked_at_text(moment: dt.datetime, timezone: str = DEFAULT_TIMEZONE) -> str:
    """`07:00 ngày 10/03/2025`, in Vietnam's time (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def mark_note(texts: Sequence[str], unit_note: str) -> str:
    """Our note on a wrong cell: what to fix, then the unit's own note when it had one."""
    lines = [NOTE_PREFIX, *texts, "Xem trang kết quả kiểm tra để biết thêm."]
    note = "\n".join(lines)
    if unit_note:
        note += f"\n\n{UNIT_NOTE_HEADING}\n{unit_note}"
    return note


def unit_part(note: str) -> str:
    """The unit's own note within a cell's note: all of it unless it is ours, else what we kept."""
    if not note.startswith(NOTE_PREFIX):
        return note
    _ours, heading, theirs = note.partition(f"\n\n{UNIT_NOTE_HEADING}\n")
    return theirs if heading else ""


# --------------------------------------------------------------------------- the writer


@dataclass
class _Sheet:
    sheet_id: int
    title: str
    index: int
    rows: int
    protections: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)  # conditional formats, in order
    notes: dict[tuple[int, int], str] = field(default_factory=dict)


def _sheets_of(metadata: dict[str, Any]) -> list[_Sheet]:
    out = []
    for position, raw in enumerate(metadata.get("sheets", [])):
        props = raw.get("properties", {})
        sheet = _Sheet(
            int(props.get("sheetId", 0)),
            str(props.get("title", "")),
            int(props.get("index", position)),
            int((props.get("gridProperties") or {}).get("rowCount", 0) or 0),
            list(raw.get("protectedRanges", [])),
            list(raw.get("conditionalFormats", [])),
        )
        for grid in raw.get("data", []) or []:
            r0, c0 = int(grid.get("startRow", 0)), int(grid.get("startColumn", 0))
            for i, row in enumerate(grid.get("rowData", []) or []):
                for j, cell in enumerate(row.get("values", []) or []):
                    note = (cell or {}).get("note")
                    if note:
                        sheet.notes[(r0 + i, c0 + j)] = str(note)
        out.append(sheet)
    return out


def _is_mark_rule(rule: dict[str, Any]) -> bool:
    condition = (rule.get("booleanRule") or {}).get("condition") or {}
    values = condition.get("values") or []
    return condition.get("type") == "CUSTOM_FORMULA" and any(
        MARK_TOKEN in str(v.get("userEnteredValue", "")).lower() for v in values
    )


def _string(text: str, fmt: dict[str, Any] | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {"userEnteredValue": {"stringValue": text}}
    if fmt:
        cell["userEnteredFormat"] = fmt
    return cell


def _formula(formula: str, fmt: dict[str, Any] | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {"userEnteredValue": {"formulaValue": formula}}
    if fmt:
        cell["userEnteredFormat"] = fmt
    return cell


def _link(gid: int, cell: str, label: str) -> str:
    target = f"#gid={gid}&range={cell}"
    return f'=HYPERLINK("{target}";"{label.replace(chr(34), chr(34) * 2)}")'


def feedback_rows(
    feedback: UnitFeedback,
    findings: Sequence[Finding],
    report_gid: int | None,
    report_title: str | None,
    timezone: str = DEFAULT_TIMEZONE,
) -> list[dict[str, Any]]:
    """The feedback worksheet's rows (Sheets API `RowData`): the heading block, then the table."""
    bold = {"textFormat": {"bold": True}}
    status_fmt = {
        "backgroundColor": _STATUS_COLOURS.get(feedback.status, _STATUS_COLOURS[UNREADABLE]),
        "textFormat": {"bold": True},
    }
    wrap = {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}
    top = {"verticalAlignment": "TOP"}
    if report_gid is not None and report_title:
        sheet_cell = _formula(_link(report_gid, "A1", report_title))
    else:
        sheet_cell = _string(feedback.worksheet)
    rows: list[list[dict[str, Any]]] = [
        [_string("KẾT QUẢ KIỂM TRA SỐ LIỆU TỰ ĐỘNG", {"textFormat": {"bold": True, "fontSize": 13}})],
        [_string("Đơn vị", bold), _string(feedback.unit_name)],
        [_string("Kỳ báo cáo", bold), _string(f"ngày {vn_date(feedback.period)}")],
        [_string("Trang báo cáo", bold), sheet_cell],
        [_string("Tình trạng", bold), _string(feedback.status_text, status_fmt)],
        [_string("Kiểm tra lúc", bold), _string(checked_at_text(feedback.checked_at, timezone))],
        [
            _string(
                "Trang này do hệ thống ghi sau mỗi lần kiểm tra, đơn vị không sửa được. Bấm vào địa chỉ ô "
                "ở cột «Ô» để đến ô cần sửa; sửa số liệu ở trang báo cáo, lần kiểm tra sau sẽ cập nhật "
                "trang này và bỏ đánh dấu ở các ô đã sửa đúng.",
                {"textFormat": {"italic": True}},
            )
        ],
        [],
        [
            _string(t, {"backgroundColor": _HEADER_BG, **bold})
            for t in ("STT", "Mức độ", "Ô", "Nội dung cần sửa")
        ],
    ]
    assert len(rows) == FIRST_FINDING_ROW
    for n, finding in enumerate(findings, start=1):
        sheet, cell = split_cell(finding.cell)
        position = cell_index(cell)
        on_report = position is not None and report_gid is not None and _same_sheet(sheet, report_title)
        link = _formula(_link(report_gid, cell, cell), top) if on_report else _string(finding.cell, top)  # type: ignore[arg-type]
        severity = SEVERITY_LABELS.get(finding.severity, finding.severity)
        colour = ERROR_COLOUR if finding.severity == "error" else WARNING_COLOUR
        rows.append(
            [
                {"userEnteredValue": {"numberValue": n}, "userEnteredFormat": top},
                _string(severity, {"backgroundColor": colour, **top}),
                link,
                _string(finding_text(finding, feedback.unit_name), wrap),
            ]
        )
    if not findings:
        rows.append([{}, _string("Không có lỗi hay cảnh báo nào.", {"textFormat": {"italic": True}})])
    return [{"values": r} for r in rows]


def _same_sheet(sheet: str | None, report_title: str | None) -> bool:
    if report_title is None:
        return False
    return sheet is None or sheet == report_title or find_sheet_name([report_title], sheet) is not None


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
        sheets = _sheets_of(metadata)
        requests, gid = self.requests(feedback, sheets)
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

    def requests(self, feedback: UnitFeedback, sheets: Sequence[_Sheet]) -> tuple[list[dict[str, Any]], int]:
        """Every change to one spreadsheet (pure, from its metadata), and the feedback sheet's id."""
        titles = [s.title for s in sheets]
        report_title = find_sheet_name(titles, feedback.worksheet)
        report = next((s for s in sheets if s.title == report_title), None) if report_title else None
        kt_title = feedback_sheet_title(feedback.worksheet)
        feedback_sheet = next((s for s in sheets if s.title.casefold() == kt_title.casefold()), None)
        listed = cap_findings(list(feedback.findings), feedback.unit_name)
        rows = feedback_rows(
            feedback, listed, report.sheet_id if report else None, report_title, self.timezone
        )
        requests: list[dict[str, Any]] = []
        tab = {"rgbColor": _TAB_COLOURS.get(feedback.status, _TAB_COLOURS[UNREADABLE])}
        grid = {"rowCount": max(len(rows) + 5, 30), "columnCount": len(_COLUMN_PIXELS)}
        if feedback_sheet is None:
            gid = max([s.sheet_id for s in sheets] + [0]) + 1
            index = (report.index + 1) if report else len(sheets)
            requests.append(
                {
                    "addSheet": {
                        "properties": {
                            "sheetId": gid,
                            "title": kt_title,
                            "index": index,
                            "gridProperties": grid,
                            "tabColorStyle": tab,
                        }
                    }
                }
            )
            for i, pixels in enumerate(_COLUMN_PIXELS):
                requests.append(
                    {
                        "updateDimensionProperties": {
                            "range": {
                                "sheetId": gid,
                                "dimension": "COLUMNS",
                                "startIndex": i,
                                "endIndex": i + 1,
                            },
                            "properties": {"pixelSize": pixels},
                            "fields": "pixelSize",
                        }
                    }
                )
            protections: list[dict[str, Any]] = []
        else:
            gid = feedback_sheet.sheet_id
            requests.append(
                {
                    "updateSheetProperties": {
                        "properties": {"sheetId": gid, "gridProperties": grid, "tabColorStyle": tab},
                        "fields": "gridProperties.rowCount,gridProperties.columnCount,tabColorStyle",
                    }
                }
            )
            protections = feedback_sheet.protections
        if not any(p.get("description") == FEEDBACK_PROTECTION for p in protections):
            protected: dict[str, Any] = {
                "range": {"sheetId": gid},
                "description": FEEDBACK_PROTECTION,
                "warningOnly": False,
            }
            if self.service_account_email:
                protected["editors"] = {"users": [self.service_account_email]}
            requests.append({"addProtectedRange": {"protectedRange": protected}})
        # The whole sheet rewritten: cells beyond `rows` are cleared (values and formats).
        requests.append(
            {
                "updateCells": {
                    "range": {"sheetId": gid},
                    "rows": rows,
                    "fields": "userEnteredValue,userEnteredFormat",
                }
            }
        )
        if report is not None:
            requests += self.mark_requests(feedback, listed, report)
        return requests, gid

    def mark_requests(
        self, feedback: UnitFeedback, findings: Sequence[Finding], report: _Sheet
    ) -> list[dict[str, Any]]:
        """Notes and colour rules on the report worksheet: the wrong cells marked, the others cleared."""
        marks: dict[tuple[int, int], tuple[str, list[str]]] = {}
        for finding in findings:
            sheet, cell = split_cell(finding.cell)
            position = cell_index(cell)
            if position is None or not _same_sheet(sheet, report.title):
                continue
            if position not in marks and len(marks) >= MAX_MARKS:
                continue
            severity, texts = marks.get(position, ("warning", []))
            if finding.severity == "error":
                severity = "error"
            label = SEVERITY_LABELS.get(finding.severity, finding.severity)
            texts.append(f"{label}: {finding_text(finding, feedback.unit_name)}")
            marks[position] = (severity, texts)
        requests: list[dict[str, Any]] = []
        ours = {p for p, note in report.notes.items() if note.startswith(NOTE_PREFIX)}
        for position in sorted(set(marks) | ours):
            before = report.notes.get(position, "")
            if position in marks:
                note = mark_note(marks[position][1], unit_part(before))
            else:
                note = unit_part(before)
            if note == before:
                continue
            r, c = position
            requests.append(
                {
                    "updateCells": {
                        "start": {"sheetId": report.sheet_id, "rowIndex": r, "columnIndex": c},
                        "rows": [{"values": [{"note": note} if note else {}]}],
                        "fields": "note",
                    }
                }
            )
        # Our colour rules replaced: deleted from the last (indexes shift), added on top.
        for index in sorted((i for i, rule in enumerate(report.rules) if _is_mark_rule(rule)), reverse=True):
            requests.append({"deleteConditionalFormatRule": {"sheetId": report.sheet_id, "index": index}})
        for severity, colour in (("warning", WARNING_COLOUR), ("error", ERROR_COLOUR)):
            cells = sorted(p for p, (s, _t) in marks.items() if s == severity)
            if not cells:
                continue
            ranges = [
                {
                    "sheetId": report.sheet_id,
                    "startRowIndex": r,
                    "endRowIndex": r + 1,
                    "startColumnIndex": c,
                    "endColumnIndex": c + 1,
                }
                for r, c in cells
            ]
            rule = {
                "ranges": ranges,
                "booleanRule": {
                    "condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": MARK_FORMULA}]},
                    "format": {"backgroundColor": colour},
                },
            }
            # index 0: above the unit's own rules; errors added last, so they come first.
            requests.append({"addConditionalFormatRule": {"rule": rule, "index": 0}})
        return requests


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
    With `since` None: every one of the keys Drive shows, whoever changed it last. Keys Drive does not show (not shared
    with the service account, deleted) are absent either way. Raises `ChangesUnknown` when Drive
    cannot answer (the caller then reads every spreadsheet).
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
) -> tuple[list[_Sheet], _Sheet | None]:
    owner = unit_name or f"mã {key}"
    metadata = _call(client, "get", f"{SHEETS_URL}/{key}", owner, params={"fields": PROTECTION_FIELDS})
    sheets = _sheets_of(metadata)
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
