"""What a unit's worksheet in Google Sheets is made of, as Sheets API requests (pure, no I/O).

The blank worksheet of a unit (`template_cells`, its values and formats from the template's
layout), the requests that add it (`new_sheet_requests`), and where its protections and
number validations go (`sheet_ranges`), found from the codes in its column A so that a
worksheet already filled in, with rows inserted, is protected where its codes really are.
`setup.provision` sends them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from housing_report.config import Config, Template, Unit
from housing_report.core.models import a1, quote_sheet
from housing_report.setup.layout import unit_layout

PROTECTION_PREFIX = "Hệ thống báo cáo"
COLUMN_A_PROTECTION = f"{PROTECTION_PREFIX}: cột A (mã để đọc số liệu) – không sửa, xóa, di chuyển"
TITLE_PROTECTION = f"{PROTECTION_PREFIX}: các dòng tiêu đề của mẫu"
TABLE_PROTECTION = PROTECTION_PREFIX + ": tiêu đề và mã cột của bảng {code}"
VALIDATION_MESSAGES = {
    "count": "Chỉ ghi số nguyên không âm, ví dụ 12 (đơn vị tính ghi ở tiêu đề). Để trống nếu chưa có.",
    "money": "Số tiền tính bằng triệu đồng, không âm, tối đa 3 chữ số thập phân, ví dụ 1250,5.",
}
NUMBER_KINDS = ("count", "money")
TEXT_KINDS = ("text", "date", "period")
# Formats of the generated worksheet (the same colours as the .xlsx template).
_VALUE_BG = {"red": 1.0, "green": 0.949, "blue": 0.8}
_CODE_BG = {"red": 0.949, "green": 0.949, "blue": 0.949}
_HEADER_BG = {"red": 0.867, "green": 0.922, "blue": 0.969}
_SECTION_BG = {"red": 0.886, "green": 0.937, "blue": 0.855}
_NUMBER_FORMATS = {
    "count": {"type": "NUMBER", "pattern": "#,##0"},
    "money": {"type": "NUMBER", "pattern": "#,##0.0##"},
}
_COLUMN_PIXELS = (90, 440, 130)
_CODE_ROLES = ("field", "table_header", "table_row", "list_row")  # A, B, then every value column


def code_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value)).strip().upper()


@dataclass(frozen=True)
class SheetRanges:
    """Where to protect and validate in one worksheet, 0-based, end-exclusive grid ranges."""

    protections: tuple[tuple[str, dict[str, int]], ...]  # (description, range)
    validations: tuple[tuple[str, dict[str, int]], ...]  # (value kind, range)


def _runs(indexes: Iterable[int]) -> list[tuple[int, int]]:
    """Contiguous runs of sorted indexes as (start, end-exclusive)."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(indexes)):
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


def sheet_ranges(rows: Sequence[Sequence[Any]], template: Template) -> SheetRanges:
    """Protected and validated ranges of a worksheet, found from its codes in column A.

    Column A is protected whole; the rows above the first code (title and notes) and each
    table's header row (its column codes), with the column-labels row under it when that
    row's column A is empty. Validations cover the value cells of every table row under
    a known column code, and column C of every count or money field.
    """
    tables = {s.code: s for s in template.sections if s.kind == "table"}
    fields = template.field_codes
    protections: list[tuple[str, dict[str, int]]] = [
        (COLUMN_A_PROTECTION, {"startColumnIndex": 0, "endColumnIndex": 1})
    ]
    codes = [code_text(r[0] if r else None) for r in rows]
    first = next((i for i, c in enumerate(codes) if c), None)
    if first:
        protections.append((TITLE_PROTECTION, {"startRowIndex": 0, "endRowIndex": first}))
    field_cells: dict[str, list[int]] = {"count": [], "money": []}
    validations: list[tuple[str, dict[str, int]]] = []
    current: tuple[str, dict[int, None], list[int]] | None = None  # table, columns, rows

    def close_table() -> None:
        if current is None:
            return
        code, columns, table_rows = current
        for r0, r1 in _runs(table_rows):
            for c0, c1 in _runs(columns):
                grid = {"startRowIndex": r0, "endRowIndex": r1, "startColumnIndex": c0, "endColumnIndex": c1}
                validations.append((tables[code].value, grid))

    for r, code in enumerate(codes):
        if not code:
            continue
        if current is not None and code in {x.code for x in tables[current[0]].rows}:
            current[2].append(r)
            continue
        close_table()
        current = None
        if code in tables:
            known = {c.code for c in tables[code].columns}
            columns = {j: None for j, v in enumerate(rows[r]) if j >= 2 and code_text(v) in known}
            current = (code, columns, [])
            end = r + 2 if r + 1 < len(rows) and not codes[r + 1] else r + 1
            protections.append((TABLE_PROTECTION.format(code=code), {"startRowIndex": r, "endRowIndex": end}))
        elif code in fields and fields[code][1].value in NUMBER_KINDS:
            field_cells[fields[code][1].value].append(r)
    close_table()
    for kind, field_rows in field_cells.items():
        for r0, r1 in _runs(field_rows):
            grid = {"startRowIndex": r0, "endRowIndex": r1, "startColumnIndex": 2, "endColumnIndex": 3}
            validations.append((kind, grid))
    validations.sort(key=lambda v: (v[1]["startRowIndex"], v[1]["startColumnIndex"]))
    return SheetRanges(tuple(protections), tuple(validations))


def a1_range(grid: dict[str, int], sheet: str) -> str:
    """A1 notation of a grid range (whole columns or rows when unbounded)."""
    r0, r1 = grid.get("startRowIndex"), grid.get("endRowIndex")
    c0, c1 = grid.get("startColumnIndex"), grid.get("endColumnIndex")
    prefix = quote_sheet(sheet) + "!"
    if r0 is None:  # whole columns
        left, right = a1(0, c0 or 0)[:-1], a1(0, (c1 or 1) - 1)[:-1]
        return prefix + (left if left == right else f"{left}:{right}")
    if c0 is None:  # whole rows
        return prefix + (f"{r0 + 1}" if r1 == r0 + 1 else f"{r0 + 1}:{r1}")
    start, end = a1(r0, c0), a1((r1 or r0 + 1) - 1, (c1 or c0 + 1) - 1)
    return prefix + (start if start == end else f"{start}:{end}")


def template_cells(config: Config, unit: Unit) -> tuple[list[list[Any]], list[dict[str, Any]]]:
    """The blank worksheet of `unit`: its cell values and the Sheets API rows (values + formats)."""
    layout = unit_layout(config, unit, {"DON_VI": unit.name})
    values: list[list[Any]] = []
    api_rows: list[dict[str, Any]] = []
    for row in layout:
        cells = list(row.cells)
        if row.role == "field":
            cells[2] = unit.name if row.code == "DON_VI" else None
        values.append(cells)
        api_rows.append(
            {"values": [_cell(v, _format(row.role, j, row.value_kind)) for j, v in enumerate(cells)]}
        )
    return values, api_rows


def _format(role: str, col: int, value_kind: str) -> dict[str, Any]:
    if col == 0:  # the code column: grey where a code is
        return {"backgroundColor": _CODE_BG, "textFormat": {"fontSize": 9}} if role in _CODE_ROLES else {}
    if role == "title":
        return {"textFormat": {"bold": True, "fontSize": 14}}
    if role == "note":
        return {"textFormat": {"italic": True}, "wrapStrategy": "WRAP"}
    if role == "section" or (role == "table_header" and col == 1):
        return {"backgroundColor": _SECTION_BG, "textFormat": {"bold": True}}
    if role == "table_header":
        return {"horizontalAlignment": "CENTER", "textFormat": {"fontSize": 9}}
    if role in ("column_labels", "list_labels"):
        return {"backgroundColor": _HEADER_BG, "textFormat": {"bold": True}, "wrapStrategy": "WRAP"}
    if col == 1 and role in ("field", "table_row"):
        return {"wrapStrategy": "WRAP"}
    fmt: dict[str, Any] = {"backgroundColor": _VALUE_BG}
    if value_kind in NUMBER_KINDS:
        fmt["numberFormat"] = _NUMBER_FORMATS[value_kind]
    elif value_kind in TEXT_KINDS:
        fmt["numberFormat"] = {"type": "TEXT"}
    return fmt


def _cell(value: Any, fmt: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if value is not None and value != "":
        if isinstance(value, bool):
            out["userEnteredValue"] = {"boolValue": value}
        elif isinstance(value, int | float):
            out["userEnteredValue"] = {"numberValue": value}
        else:
            out["userEnteredValue"] = {"stringValue": str(value)}
    if fmt:
        out["userEnteredFormat"] = fmt
    return out


def new_sheet_requests(sheet_id: int, title: str, api_rows: list[dict[str, Any]], index: int) -> list[dict]:
    width = max((len(r["values"]) for r in api_rows), default=3)
    properties = {
        "sheetId": sheet_id,
        "title": title,
        "index": index,
        "gridProperties": {
            "rowCount": max(200, len(api_rows) + 50),
            "columnCount": max(26, width),
            "frozenRowCount": 3,
            "frozenColumnCount": 2,
        },
    }
    requests: list[dict[str, Any]] = [
        {"addSheet": {"properties": properties}},
        {
            "updateCells": {
                "rows": api_rows,
                "fields": "userEnteredValue,userEnteredFormat",
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
            }
        },
    ]
    for start, end, pixels in (
        (0, 1, _COLUMN_PIXELS[0]),
        (1, 2, _COLUMN_PIXELS[1]),
        (2, width, _COLUMN_PIXELS[2]),
    ):
        requests.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": start,
                        "endIndex": end,
                    },
                    "properties": {"pixelSize": pixels},
                    "fields": "pixelSize",
                }
            }
        )
    return requests
