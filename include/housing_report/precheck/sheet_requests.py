"""The Sheets API requests of the pre-check's feedback (pure, no I/O): the feedback worksheet's
rows, the marks on the report worksheet, and the cell addresses they use.

`feedback_requests(feedback, sheets_of(metadata), editor)` gives every change to one
spreadsheet; `precheck.sheets` sends it in one `batchUpdate`. How the marks work: a note
starting `NOTE_PREFIX` (the unit's own note kept under it, given back when the mark goes) and
a conditional format rule whose formula names it ours (`MARK_FORMULA`), over the wrong cells,
in light red for errors and light yellow for warnings; the unit's colours stay as they were,
and notes and rules follow the cells when rows are inserted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from housing_report.collect.workbook_io import find_sheet_name
from housing_report.core.findings import cap_findings
from housing_report.core.formatting import DEFAULT_TIMEZONE, vn_date
from housing_report.core.models import Finding
from housing_report.core.text import clean_text
from housing_report.precheck.feedback import (
    ACCEPTED,
    ERROR,
    UNREADABLE,
    WARNING,
    UnitFeedback,
    feedback_sheet_title,
)

NOTE_PREFIX = "[Kiểm tra tự động]"
UNIT_NOTE_HEADING = "Ghi chú trước đó của đơn vị:"
# The condition of our colour rules: always true, and names them ours.
MARK_FORMULA = '=N("kiem-tra-tu-dong")=0'
MARK_TOKEN = "kiem-tra-tu-dong"
FEEDBACK_PROTECTION = "Hệ thống báo cáo: trang kết quả kiểm tra tự động – chỉ hệ thống ghi"
# Marks on one worksheet at most (the list itself is capped by kind, `cap_findings`).
MAX_MARKS = 500

NOTHING_FOUND = "Không có lỗi hay cảnh báo nào."
NOT_CHECKED = "Chưa kiểm tra được số liệu: xem lý do ở dòng «Tình trạng»."
SEVERITY_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}
# Google's palette: light red 2, light yellow 1 (the template's value cells are light yellow 3),
# light green 3, light grey 2.
ERROR_COLOUR = {"red": 0.918, "green": 0.6, "blue": 0.6}
WARNING_COLOUR = {"red": 1.0, "green": 0.851, "blue": 0.4}
STATUS_COLOURS = {
    ERROR: ERROR_COLOUR,
    WARNING: WARNING_COLOUR,
    ACCEPTED: {"red": 0.851, "green": 0.918, "blue": 0.827},
    UNREADABLE: {"red": 0.851, "green": 0.851, "blue": 0.851},
}
TAB_COLOURS = {
    ERROR: {"red": 0.8, "green": 0.0, "blue": 0.0},
    WARNING: {"red": 0.945, "green": 0.761, "blue": 0.196},
    ACCEPTED: {"red": 0.416, "green": 0.659, "blue": 0.31},
    UNREADABLE: {"red": 0.6, "green": 0.6, "blue": 0.6},
}
HEADER_BG = {"red": 0.867, "green": 0.922, "blue": 0.969}
COLUMN_PIXELS = (150, 90, 80, 720)
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


def mark_note(texts: Sequence[str], unit_note: str, feedback_title: str = "KiemTra") -> str:
    """Our note on a wrong cell: what to fix, then the unit's own note when it had one."""
    lines = [NOTE_PREFIX, *texts, f"Xem thêm ở trang «{feedback_title}»."]
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
class SheetState:
    """What `spreadsheets.get` (`FEEDBACK_FIELDS`) says of one worksheet."""

    sheet_id: int
    title: str
    index: int
    rows: int
    protections: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)  # conditional formats, in order
    notes: dict[tuple[int, int], str] = field(default_factory=dict)


def sheets_of(metadata: dict[str, Any]) -> list[SheetState]:
    out = []
    for position, raw in enumerate(metadata.get("sheets", [])):
        props = raw.get("properties", {})
        sheet = SheetState(
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


def is_mark_rule(rule: dict[str, Any]) -> bool:
    """Whether a conditional format rule is one of our marks (its formula holds `MARK_TOKEN`)."""
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
        "backgroundColor": STATUS_COLOURS.get(feedback.status, STATUS_COLOURS[UNREADABLE]),
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
            _string(t, {"backgroundColor": HEADER_BG, **bold})
            for t in ("STT", "Mức độ", "Ô", "Nội dung cần sửa")
        ],
    ]
    assert len(rows) == FIRST_FINDING_ROW
    for n, finding in enumerate(findings, start=1):
        sheet, cell = split_cell(finding.cell)
        position = cell_index(cell)
        if position is not None and report_gid is not None and same_sheet(sheet, report_title):
            link = _formula(_link(report_gid, cell, cell), top)
        else:  # a finding about the sheet as a whole ("BaoCao"): listed, not linked
            link = _string(finding.cell, top)
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
        empty = NOTHING_FOUND if feedback.status != UNREADABLE else NOT_CHECKED
        rows.append([{}, _string(empty, {"textFormat": {"italic": True}})])
    return [{"values": r} for r in rows]


def same_sheet(sheet: str | None, report_title: str | None) -> bool:
    """Whether a finding's sheet (`BaoCao` of `BaoCao!G14`; None: no sheet named) is the report
    worksheet found in the spreadsheet (matched as the reader matches it)."""
    if report_title is None:
        return False
    return sheet is None or sheet == report_title or find_sheet_name([report_title], sheet) is not None


def feedback_requests(
    feedback: UnitFeedback,
    sheets: Sequence[SheetState],
    editor: str,
    timezone: str = DEFAULT_TIMEZONE,
) -> tuple[list[dict[str, Any]], int]:
    """Every change the feedback makes to one spreadsheet, from its metadata (`sheets_of`), and
    the feedback worksheet's id. `editor`: the only one who may edit that worksheet."""
    titles = [s.title for s in sheets]
    report_title = find_sheet_name(titles, feedback.worksheet)
    report = next((s for s in sheets if s.title == report_title), None) if report_title else None
    kt_title = feedback_sheet_title(feedback.worksheet)
    feedback_sheet = next((s for s in sheets if s.title.casefold() == kt_title.casefold()), None)
    listed = cap_findings(list(feedback.findings), feedback.unit_name)
    rows = feedback_rows(feedback, listed, report.sheet_id if report else None, report_title, timezone)
    requests: list[dict[str, Any]] = []
    tab = {"rgbColor": TAB_COLOURS.get(feedback.status, TAB_COLOURS[UNREADABLE])}
    grid = {"rowCount": max(len(rows) + 5, 30), "columnCount": len(COLUMN_PIXELS)}
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
        for i, pixels in enumerate(COLUMN_PIXELS):
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
        if editor:
            protected["editors"] = {"users": [editor]}
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
        requests += mark_requests(feedback, listed, report)
    return requests, gid


def mark_requests(
    feedback: UnitFeedback, findings: Sequence[Finding], report: SheetState
) -> list[dict[str, Any]]:
    """Notes and colour rules on the report worksheet: the wrong cells marked, the others cleared."""
    marks: dict[tuple[int, int], tuple[str, list[str]]] = {}
    for finding in findings:
        sheet, cell = split_cell(finding.cell)
        position = cell_index(cell)
        if position is None or not same_sheet(sheet, report.title):
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
            note = mark_note(marks[position][1], unit_part(before), feedback_sheet_title(feedback.worksheet))
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
    for index in sorted((i for i, rule in enumerate(report.rules) if is_mark_rule(rule)), reverse=True):
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
