"""The layout of a unit's report worksheet, generated from the config's template (pure, no I/O;
the contract is docs/vi/mau-bao-cao.md, layout rules).

The layout is computed once, as a list of `LayoutRow`, by `layout(config, kind)`; the same layout
is written as the blank template (`setup.template_workbook`), as a new Google worksheet
(`setup.sheet_requests`) and as the sample workbooks (`housing_report_tools.sample_data`).

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from housing_report.config import Config, Item, Section, Unit
from housing_report.core.models import a1

DEFAULT_LIST_ROWS = 3
# The instructions sheet of the template, which the worksheet's note names.
INSTRUCTIONS_SHEET = "HuongDan"
# Fixed timestamp written into saved workbooks so that regenerating them is byte-stable.

FIRST_VALUE_COL = 2  # column C, 0-based

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
