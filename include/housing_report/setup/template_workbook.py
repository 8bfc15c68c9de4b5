"""The blank unit workbook generated from the config's template (docs/vi/mau-bao-cao.md, layout).

The layout is computed once, as a list of `LayoutRow`, by `layout(config, kind)`; the same
layout is used to write the blank template (`build_template_workbook`, `write_template`)
and the sample workbooks (`housing_report_tools.sample_data`), which are filled templates.

Layout of the report worksheet (column A holds codes; rows with an empty column A are
ignored by the pipeline and carry titles, notes and column labels for people):

    (A empty)  B: title, subtitle, note
    (A empty)  B: "I. THÔNG TIN CHUNG"                 section title
    DON_VI     B: label   C: value                     field rows
    ...
    A          B: "II. TIẾN ĐỘ ..."  C..: column codes  table header row
    (A empty)  B: "Đơn vị tính: căn"  C..: labels      column labels
    NCC        B: label   C..: values                  one row per row code
    ...
    (A empty)  B: "VI. GƯƠNG ĐIỂN HÌNH ..."  list title, then labels
    D          B: text    C: place                     list rows
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from housing_report.config import OPERATOR_WORDS, Config, Item, Section, Unit
from housing_report.core.models import a1

INSTRUCTIONS_SHEET = "HuongDan"
# Values written by people as text: formatted "@" so that Google Sheets keeps them as typed.
TEXT_VALUE_KINDS = ("text", "date", "period")
DEFAULT_LIST_ROWS = 3
# Fixed timestamp written into saved workbooks so that regenerating them is byte-stable.
STABLE_TIMESTAMP = dt.datetime(2025, 1, 1, 0, 0, 0)

FIRST_VALUE_COL = 2  # column C, 0-based

_FONT_NAME = "Times New Roman"
_ROMAN = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


@dataclass(frozen=True)
class LayoutRow:
    """One row of the report worksheet as generated.

    role: title | note | blank | section | field | table_header | column_labels | table_row |
    list_labels | list_row. `code` is the code in column A ('' when the row is ignored);
    `section` the config section; `item` the field or table row; `columns` the table's
    columns from column C on; `index` the position of a list row within its list.
    """

    role: str
    cells: tuple[Any, ...]
    section: str = ""
    code: str = ""
    item: Item | None = None
    columns: tuple[Item, ...] = ()
    index: int = 0
    value_kind: str = ""


# --------------------------------------------------------------------------- layout


def roman(n: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        while n >= value:
            out += letters
            n -= value
    return out


def sections_for(config: Config, kind: str | None = None) -> list[tuple[Section, tuple[str, ...] | None]]:
    """The template's sections (with the rows to show, None for all) a kind fills, in order."""
    template = config.template
    if kind is None:
        return [(s, None) for s in template.sections]
    spec = template.kinds[kind]
    wanted: dict[str, tuple[str, ...] | None] = {}
    for req in spec.required:
        if req.rows is None or wanted.get(req.section, ()) is None:
            wanted[req.section] = None
        else:
            wanted[req.section] = tuple(wanted.get(req.section) or ()) + req.rows
    for code in spec.optional:
        wanted.setdefault(code, None)
    out = []
    for s in template.sections:
        if s.code in wanted:
            rows = wanted[s.code]
            if rows is not None:
                rows = tuple(r.code for r in s.rows if r.code in rows)
            out.append((s, rows))
    return out


def layout(
    config: Config, kind: str | None = None, list_rows: int | Mapping[str, int] = DEFAULT_LIST_ROWS
) -> list[LayoutRow]:
    """The rows of the report worksheet: every section, or those a unit `kind` fills."""
    template = config.template
    programme = config.report.programme
    days = " và ".join(str(d) for d in config.report.schedule.collection_days)
    rows: list[LayoutRow] = [
        LayoutRow("title", (None, f"BÁO CÁO TIẾN ĐỘ {programme.short_title.upper()}")),
        LayoutRow(
            "note",
            (None, f"{programme.title} (mục tiêu hoàn thành trước ngày {programme.target_date:%d/%m/%Y})"),
        ),
        LayoutRow(
            "note",
            (
                None,
                f"Báo cáo trước ngày {days} hằng tháng. Chỉ điền vào các ô tô màu vàng; không sửa, xóa "
                f'các mã ở cột A. Xem hướng dẫn ở trang tính "{INSTRUCTIONS_SHEET}". '
                f"(Mẫu phiên bản {template.version})",
            ),
        ),
    ]
    for number, (section, shown_rows) in enumerate(sections_for(config, kind), start=1):
        rows.append(LayoutRow("blank", (None,)))
        title = f"{roman(number)}. {section.label.upper()}"
        if section.kind == "fields":
            rows.append(LayoutRow("section", (None, title), section.code))
            note = _fields_note(section)
            if note:
                rows.append(LayoutRow("note", (None, note), section.code))
            for f in section.fields:
                rows.append(
                    LayoutRow("field", (f.code, f.label, None), section.code, f.code, f, value_kind=f.value)
                )
        elif section.kind == "table":
            wanted = set(shown_rows) if shown_rows is not None else None
            codes = tuple(c.code for c in section.columns)
            rows.append(
                LayoutRow(
                    "table_header",
                    (section.code, title, *codes),
                    section.code,
                    section.code,
                    columns=section.columns,
                )
            )
            unit_note = f"Đơn vị tính: {section.unit}" if section.unit else ""
            rows.append(
                LayoutRow(
                    "column_labels",
                    (None, unit_note, *(c.label for c in section.columns)),
                    section.code,
                    columns=section.columns,
                )
            )
            for r in section.rows:
                if wanted is not None and r.code not in wanted:
                    continue
                rows.append(
                    LayoutRow(
                        "table_row",
                        (r.code, r.label, *([None] * len(codes))),
                        section.code,
                        r.code,
                        r,
                        section.columns,
                        value_kind=section.value,
                    )
                )
        else:
            rows.append(LayoutRow("section", (None, title), section.code))
            labels: tuple[Any, ...] = (
                None,
                f"Nội dung (mỗi dòng một nội dung; cần thêm thì chèn dòng và ghi mã {section.code} ở cột A)",
            )
            if section.place:
                labels += ("Địa bàn (xã, huyện)",)
            rows.append(LayoutRow("list_labels", labels, section.code))
            count = (
                list_rows if isinstance(list_rows, int) else list_rows.get(section.code, DEFAULT_LIST_ROWS)
            )
            for i in range(count):
                cells: tuple[Any, ...] = (section.code, None, None) if section.place else (section.code, None)
                rows.append(
                    LayoutRow("list_row", cells, section.code, section.code, index=i, value_kind="text")
                )
    return rows


def layout_rows(
    config: Config, kind: str | None = None, list_rows: int | Mapping[str, int] = DEFAULT_LIST_ROWS
) -> list[list[Any]]:
    """The blank report worksheet's cell values, row by row from A1 (for tests and tools)."""
    return [list(r.cells) for r in layout(config, kind, list_rows)]


def _fields_note(section: Section) -> str:
    if not any(f.value in ("count", "money") for f in section.fields):
        return ""
    unit = f"Đơn vị tính: {section.unit}. " if section.unit else ""
    if section.cumulative:
        return unit + "Số liệu lũy kế từ đầu chương trình đến ngày báo cáo."
    return unit + "Chỉ ghi số liệu phát sinh trong kỳ báo cáo (không cộng dồn)."


def value_key(row: LayoutRow, column: Item | None = None) -> str:
    """The key of a value cell in a values mapping: a field code, or `A.NCC.CAN_XM`."""
    if row.role == "table_row" and column is not None:
        return f"{row.section}.{row.code}.{column.code}"
    return row.code


def value_cell(rows: Sequence[LayoutRow], key: str, sheet: str | None = None) -> str:
    """A1 address of the value cell of `key` (field code or `A.NCC.CAN_XM`) in a layout."""
    for i, row in enumerate(rows):
        if row.role == "field" and row.code == key:
            return a1(i, FIRST_VALUE_COL, sheet)
        if row.role == "table_row":
            for j, column in enumerate(row.columns):
                if value_key(row, column) == key:
                    return a1(i, FIRST_VALUE_COL + j, sheet)
    raise KeyError(key)


# --------------------------------------------------------------------------- styles

_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_VALUE_FILL = PatternFill("solid", fgColor="FFF2CC")
_CODE_FILL = PatternFill("solid", fgColor="F2F2F2")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_SECTION_FILL = PatternFill("solid", fgColor="E2EFDA")
_BASE = Font(name=_FONT_NAME, size=12)
_BOLD = Font(name=_FONT_NAME, size=12, bold=True)
_TITLE = Font(name=_FONT_NAME, size=14, bold=True, color="1F4E79")
_NOTE = Font(name=_FONT_NAME, size=11, italic=True, color="595959")
_CODE = Font(name=_FONT_NAME, size=10, color="7F7F7F")
_WRAP = Alignment(wrap_text=True, vertical="center")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_NUMBER_FORMATS = {"count": "#,##0", "money": "#,##0.0##"}
_LABEL_WIDTH = 62
_VALUE_WIDTH = 17


def _label_height(text: str | None, width: int = _LABEL_WIDTH) -> float:
    lines = max(1, math.ceil(len(text or "") / (width * 0.95)))
    return max(18.0, 16.5 * lines)


def _put(ws: Worksheet, row: int, col: int, value: Any, font: Font = _BASE, **style: Any) -> Any:
    cell = ws.cell(row=row, column=col)
    if value is not None:
        cell.value = value
    cell.font = font
    for name, v in style.items():
        setattr(cell, name, v)
    return cell


def _write_value(cell: Any, value: Any, value_kind: str) -> None:
    """Write a value cell: text kinds as text, numbers with the kind's format, dates as dates."""
    if value_kind in TEXT_VALUE_KINDS:
        cell.number_format = "@"
    elif value_kind in _NUMBER_FORMATS:
        cell.number_format = _NUMBER_FORMATS[value_kind]
    if value is None or value == "":
        return
    cell.value = value
    if isinstance(value, dt.date):
        cell.number_format = "dd/mm/yyyy"
        cell.alignment = Alignment(horizontal="left", vertical="center")
    elif isinstance(value, str) and value_kind in _NUMBER_FORMATS:
        cell.alignment = Alignment(horizontal="right", vertical="center")


def fill_worksheet(ws: Worksheet, rows: Sequence[LayoutRow], values: Mapping[str, Any] | None = None) -> None:
    """Write `rows` into an empty worksheet, with the template's formatting.

    `values` (optional) fills value cells: a field code or a table key (`A.NCC.CAN_XM`) maps
    to the cell's value; a list code maps to a sequence of items, each a text or a
    (text, place) pair, written into that list's rows in order.
    """
    values = values or {}
    width = 2
    for i, row in enumerate(rows, start=1):
        role = row.role
        if role == "title":
            _put(ws, i, 2, row.cells[1], _TITLE)
            ws.row_dimensions[i].height = 22
        elif role == "note":
            _put(ws, i, 2, row.cells[1], _NOTE, alignment=_WRAP)
            # Wrapped in column B, never merged across the frozen columns (Sheets refuses that).
            ws.row_dimensions[i].height = _label_height(row.cells[1])
        elif role == "section":
            _put(ws, i, 2, row.cells[1], _BOLD, fill=_SECTION_FILL)
        elif role == "field":
            assert row.item is not None
            _put(ws, i, 1, row.code, _CODE, fill=_CODE_FILL)
            _put(ws, i, 2, row.item.label, _BASE, alignment=_WRAP, border=_BORDER)
            cell = _put(ws, i, 3, None, _BASE, fill=_VALUE_FILL, border=_BORDER)
            _write_value(cell, values.get(row.code), row.item.value)
            ws.row_dimensions[i].height = _label_height(row.item.label)
        elif role == "table_header":
            _put(ws, i, 1, row.code, _CODE, fill=_CODE_FILL)
            _put(ws, i, 2, row.cells[1], _BOLD, fill=_SECTION_FILL)
            for j, column in enumerate(row.columns):
                _put(ws, i, 3 + j, column.code, _CODE, alignment=_CENTER)
            width = max(width, 2 + len(row.columns))
        elif role == "column_labels":
            _put(ws, i, 2, row.cells[1], _NOTE, alignment=_WRAP, border=_BORDER)
            for j, column in enumerate(row.columns):
                _put(ws, i, 3 + j, column.label, _BOLD, alignment=_CENTER, fill=_HEADER_FILL, border=_BORDER)
            longest = max((len(c.label) for c in row.columns), default=0)
            ws.row_dimensions[i].height = max(34.0, 16.5 * math.ceil(longest / (_VALUE_WIDTH * 0.9)))
        elif role == "table_row":
            assert row.item is not None
            _put(ws, i, 1, row.code, _CODE, fill=_CODE_FILL)
            _put(ws, i, 2, row.item.label, _BASE, alignment=_WRAP, border=_BORDER)
            for j, column in enumerate(row.columns):
                cell = _put(ws, i, 3 + j, None, _BASE, fill=_VALUE_FILL, border=_BORDER)
                _write_value(cell, values.get(value_key(row, column)), row.value_kind)
            ws.row_dimensions[i].height = _label_height(row.item.label)
        elif role == "list_labels":
            for j, text in enumerate(row.cells[1:], start=2):
                _put(ws, i, j, text, _BOLD, alignment=_CENTER, fill=_HEADER_FILL, border=_BORDER)
            ws.row_dimensions[i].height = _label_height(row.cells[1])
        elif role == "list_row":
            _put(ws, i, 1, row.code, _CODE, fill=_CODE_FILL)
            items = list(values.get(row.code) or ())
            item = items[row.index] if row.index < len(items) else None
            text, place = (item, None) if isinstance(item, str) or item is None else (item[0], item[1])
            cell = _put(ws, i, 2, None, _BASE, fill=_VALUE_FILL, border=_BORDER, alignment=_WRAP)
            _write_value(cell, text, "text")
            if len(row.cells) > 2:
                cell = _put(ws, i, 3, None, _BASE, fill=_VALUE_FILL, border=_BORDER, alignment=_WRAP)
                _write_value(cell, place, "text")
            ws.row_dimensions[i].height = _label_height(text)
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = _LABEL_WIDTH
    for col in range(3, max(width, 3) + 1):
        ws.column_dimensions[get_column_letter(col)].width = _VALUE_WIDTH
    ws.freeze_panes = "C4"
    ws.sheet_view.zoomScale = 100
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:3"


# --------------------------------------------------------------------------- workbooks


def unit_layout(
    config: Config, unit: Unit | None = None, values: Mapping[str, Any] | None = None, kind: str | None = None
) -> list[LayoutRow]:
    """The layout `add_unit_sheet` writes: the unit kind's sections, lists sized for `values`."""
    if kind is None and unit is not None:
        kind = unit.kind
    values = values or {}
    sizes = {
        s.code: max(DEFAULT_LIST_ROWS, len(values.get(s.code) or ()))
        for s in config.template.sections
        if s.kind == "list"
    }
    return layout(config, kind, sizes)


def add_unit_sheet(
    wb: Workbook,
    config: Config,
    unit: Unit | None = None,
    values: Mapping[str, Any] | None = None,
    kind: str | None = None,
) -> tuple[Worksheet, list[LayoutRow]]:
    """Add a unit's report worksheet to `wb` and return it with its layout.

    With a unit the worksheet is named `unit.worksheet`, shows only the sections of the
    unit's kind and has DON_VI prefilled with the unit's name; without one it is the
    template's worksheet with every section. `values` fills value cells (see
    `fill_worksheet`); lists get as many rows as they have items (at least 3).
    """
    cells = dict(values or {})
    if unit is not None:
        cells.setdefault("DON_VI", unit.name)
    rows = unit_layout(config, unit, cells, kind)
    ws = wb.create_sheet(unit.worksheet if unit is not None else config.template.worksheet)
    fill_worksheet(ws, rows, cells)
    return ws, rows


def add_instructions_sheet(wb: Workbook, config: Config, unit: Unit | None = None) -> Worksheet:
    """Add the "HuongDan" worksheet: how to fill in the report, in Vietnamese."""
    template = config.template
    report = config.report
    worksheet = unit.worksheet if unit is not None else template.worksheet
    days = " và ".join(str(d) for d in report.schedule.collection_days)
    first, second = (list(report.schedule.collection_days) + [12, 27])[:2]
    ws = wb.create_sheet(INSTRUCTIONS_SHEET)
    lines: list[tuple[str, Font]] = [
        ("HƯỚNG DẪN ĐIỀN MẪU BÁO CÁO", _TITLE),
        (
            f"{report.programme.title} – mẫu báo cáo phiên bản {template.version}",
            _NOTE,
        ),
    ]
    if unit is not None:
        lines.append(
            (
                f'Đơn vị: {unit.name} ({template.kinds[unit.kind].label}); trang tính báo cáo: "{worksheet}"',
                _BOLD,
            )
        )
    lines.append(("", _BASE))
    rules = [
        f"1. Thời hạn: mỗi tháng báo cáo 2 kỳ, trước ngày {days}. Mỗi kỳ, cập nhật số liệu ngay trên "
        f'trang tính "{worksheet}" (không tạo trang tính mới, không đổi tên trang tính) và sửa ô '
        '"Kỳ báo cáo (ngày)".',
        "2. Chỉ điền vào các ô tô màu vàng. Cột A chứa mã để hệ thống đọc số liệu: không sửa, không xóa, "
        "không di chuyển các mã. Có thể chèn thêm dòng ghi chú nếu để trống cột A (dòng có cột A trống "
        "không được đọc).",
        f"3. Kỳ báo cáo: ghi ngày {first} hoặc {second} của tháng theo dạng dd/mm/yyyy, ví dụ "
        f"{first:02d}/03/2025 hoặc {second:02d}/03/2025. Nếu kỳ báo cáo không phải kỳ đang tổng hợp, "
        "báo cáo được xem là chưa cập nhật.",
        "4. Ngày lập: ghi theo dạng dd/mm/yyyy, ví dụ 11/03/2025.",
        "5. Cách ghi số: số căn nhà, số người, số tin bài... là số nguyên, không âm. Số tiền tính bằng "
        "triệu đồng, tối đa 3 chữ số thập phân. Nên gõ số trực tiếp; nếu ghi dạng chữ thì dùng dấu chấm (.) "
        'phân cách hàng nghìn và dấu phẩy (,) cho phần thập phân: "1.234" là một nghìn hai trăm ba mươi '
        'tư; "2.345,5" là hai nghìn ba trăm bốn mươi lăm phẩy năm.',
        '6. Không ghi chữ kèm số (ví dụ "12 căn"), không ghi số âm, không để ô có công thức lỗi '
        "(#REF!, #N/A...). Ô để trống được hiểu là 0; nếu cả một mục bắt buộc để trống thì mục đó được "
        "xem là chưa điền.",
        "7. Các bảng tiến độ, nguồn lực và mục huy động sức dân ghi số lũy kế từ đầu chương trình đến ngày "
        "báo cáo (không được giảm so với kỳ trước). Mục tuyên truyền chỉ ghi số phát sinh trong kỳ.",
        "8. Gương điển hình, khó khăn, kiến nghị: mỗi dòng một nội dung; cần thêm dòng thì chèn dòng mới và "
        "ghi mã của mục (D, E, F) ở cột A. Với gương điển hình, ghi địa bàn (xã, huyện) ở cột C.",
        "9. Khi có lỗi, hệ thống gửi thư nêu rõ địa chỉ ô (ví dụ BaoCao!E12), giá trị đã ghi và cách sửa. "
        "Báo cáo có lỗi không được tổng hợp cho đến khi đơn vị sửa xong.",
    ]
    lines += [(text, _BASE) for text in rules]
    checks = _rule_lines(config)
    if checks:
        lines.append(("10. Hệ thống kiểm tra trên từng dòng của các bảng:", _BASE))
        lines += [(f"     • {text}", _BASE) for text in checks]
    lines.append(("", _BASE))
    lines.append(("PHẦN PHẢI ĐIỀN THEO LOẠI ĐƠN VỊ", _BOLD))
    for i, (text, font) in enumerate(lines, start=1):
        _put(ws, i, 1, text or None, font, alignment=_WRAP)
        if text:
            ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=3)
            ws.row_dimensions[i].height = _label_height(text, 150)
    row = len(lines) + 1
    for col, text in enumerate(("Loại đơn vị", "Phải điền", "Không bắt buộc"), start=1):
        _put(ws, row, col, text, _BOLD, alignment=_CENTER, fill=_HEADER_FILL, border=_BORDER)
    for kind in template.kinds.values():
        row += 1
        required = "; ".join(_requirement_text(config, r.section, r.rows) for r in kind.required)
        optional = "; ".join(_requirement_text(config, code, None) for code in kind.optional) or "—"
        mine = unit is not None and unit.kind == kind.code
        font = _BOLD if mine else _BASE
        fill = {"fill": _VALUE_FILL} if mine else {}
        _put(ws, row, 1, kind.label, font, alignment=_WRAP, border=_BORDER, **fill)
        _put(ws, row, 2, required, font, alignment=_WRAP, border=_BORDER, **fill)
        _put(ws, row, 3, optional, font, alignment=_WRAP, border=_BORDER, **fill)
        ws.row_dimensions[row].height = _label_height(required, 60)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 70
    ws.column_dimensions["C"].width = 46
    return ws


def _rule_lines(config: Config) -> list[str]:
    out = []
    for rule in config.report.rules:
        if rule.table is None:  # rules over several figures or periods: told in the feedback email
            continue
        table = config.template.section(rule.table)
        labels = {c.code: c.label for c in table.columns}
        out.append(
            f"{labels[rule.left]} ({rule.left}) {OPERATOR_WORDS[rule.op]} {labels[rule.right].lower()} "
            f"({rule.right}) – bảng {rule.table}" + ("" if rule.severity == "error" else " (cảnh báo)")
        )
    return out


def _requirement_text(config: Config, code: str, rows: tuple[str, ...] | None) -> str:
    section = config.template.section(code)
    if section.kind == "table":
        if rows:
            labels = {r.code: r.label for r in section.rows}
            shown = ", ".join(f"dòng {r} ({labels[r]})" for r in rows)
            return f"Bảng {code} ({section.label}): chỉ {shown}"
        return f"Bảng {code} ({section.label})"
    return section.label


def build_template_workbook(config: Config, unit: Unit | None = None) -> Workbook:
    """The blank unit workbook: the report worksheet, then the instructions worksheet."""
    wb = Workbook()
    default = wb.active
    add_unit_sheet(wb, config, unit)
    add_instructions_sheet(wb, config, unit)
    if default is not None:
        wb.remove(default)
    wb.active = 0
    set_stable_properties(wb)
    return wb


def write_template(config: Config, path: str | Path, unit: Unit | None = None) -> Path:
    """Write the blank unit workbook to `path` (.xlsx) and return the path."""
    path = Path(path)
    save_workbook_stable(build_template_workbook(config, unit), path)
    return path


def set_stable_properties(wb: Workbook, when: dt.datetime = STABLE_TIMESTAMP) -> None:
    wb.properties.creator = "housing_report"
    wb.properties.lastModifiedBy = "housing_report"
    wb.properties.title = "Báo cáo tiến độ xóa nhà tạm, nhà dột nát"
    wb.properties.created = when
    wb.properties.modified = when


def save_workbook_stable(wb: Workbook, path: str | Path, when: dt.datetime = STABLE_TIMESTAMP) -> None:
    """Save `wb` so that the same workbook always gives the same bytes.

    openpyxl stamps the save time into docProps/core.xml and into every zip entry; here
    both carry `when` instead.
    """
    set_stable_properties(wb, when)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).write_data()
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(info.filename))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
