"""The summary workbook attached to the email: every figure by unit, with totals.

`write_summary_workbook(summary, config, path)` writes an .xlsx with the sheets

- `TongHop`: the key totals (houses, completion, funds, mobilisation, propaganda), each
  named in words, with the previous period and the change ("–" where it is not known),
  and the units' reporting status counts;
- `Bang<code>` for each table of the template (`BangA`, `BangB`): one row per unit
  that fills the table, a column per figure key (rows x columns, plus the "Tổng cộng"
  row of the table), and a totals row: `SUM` over the unit rows, carrying the summary's
  total as its value;
- `TuyenTruyen`: the fields sections (mobilisation, propaganda) by unit, with totals;
- `TinhTrang`: each unit's status, the period its figures come from, error and
  warning counts and the reason it could not be read;
- `LoiCanhBao`: every error and warning (unit, severity, cell, message).

Every sheet prints on A4 with its header rows on every page and page numbers: the narrow
ones fitted to the page's width, the figure sheets (dozens of columns) a group of columns
to a page, the unit's code and name repeated (`cells.Sheet.print_in_parts`).

What a person does not read is kept for programs, hidden and never printed: the figure
sheets' row of codes (`A.NCC.CAN_XM`) under the labels, by which a reader (or a test) finds
each column; TongHop's column of codes; the findings' codes; the units' spreadsheet and
worksheet names. Labels come from the config. Text from the units' sheets is always written
as text, never as a formula; the only formulas are the totals' `SUM`s. The workbook is
written row by row (openpyxl's write-only mode, imported when a workbook is written).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from housing_report.config import Config, Section, Template
from housing_report.core.formatting import to_date, vn_date, vn_datetime
from housing_report.core.models import TOTAL_LABEL, TOTAL_ROW
from housing_report.core.runtime import gc_paused
from housing_report.core.statuses import ACCEPTED, status_label
from housing_report.core.summary import Summary, UnitEntry
from housing_report.render.cells import (
    COUNT_FORMAT,
    DATE_FORMAT,
    Sheet,
    Style,
    save,
    write_only_workbook,
)
from housing_report.render.figures import number_sections, table_total
from housing_report.render.workbook_summary import (
    BOLD,
    TEXT,
    number_format,
    summary_sheet,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet


# Layout of the figure sheets (1-based rows).
GROUP_ROW = 3
LABEL_ROW = 4
CODE_ROW = 5
FIRST_DATA_ROW = 6
# The columns before the figures in a figure sheet: (code, label, width).
UNIT_COLUMNS = (
    ("UNIT_CODE", "Mã đơn vị", 9),
    ("UNIT_NAME", "Tên đơn vị", 30),
    ("STATUS", "Tình trạng", 18),
    ("DATA_PERIOD", "Số liệu kỳ", 11),
)
FIGURE_WIDTH = 12
# A change that cannot be known (no earlier figures, or none this period).
SEVERITY_LABELS = {"error": "Lỗi", "warning": "Cảnh báo"}
FIELDS_SHEET = "TuyenTruyen"


@dataclass(frozen=True)
class FigureColumn:
    key: str
    group: str  # the label spanning several columns (a table row, a fields section)
    label: str
    number_format: str
    section: Section


def _date_or_none(value: Any) -> dt.date | None:
    return to_date(value) if value else None


# --------------------------------------------------------------------------- figures


def _table_columns(section: Section) -> list[FigureColumn]:
    rows = [(r.code, r.label) for r in section.rows] + [(TOTAL_ROW, TOTAL_LABEL)]
    fmt = number_format(section, "")
    return [
        FigureColumn(f"{section.code}.{row}.{c.code}", row_label, c.label, fmt, section)
        for row, row_label in rows
        for c in section.columns
    ]


def _fields_columns(sections: list[Section], template: Template) -> list[FigureColumn]:
    return [
        FigureColumn(key, s.label, template.figure_label(key), number_format(s, key), s)
        for s in sections
        for key in s.figure_keys()
    ]


def _value(figures: dict[str, Any], column: FigureColumn) -> int | float | None:
    if column.key in figures:
        return figures[column.key]
    parts = column.key.split(".")
    if len(parts) == 3 and parts[1] == TOTAL_ROW:
        return table_total(figures, column.section, parts[2])
    return None


def _units_using(summary: Summary, template: Template, keys: set[str]) -> list[UnitEntry]:
    """The summary's units whose kind fills any of `keys` (or that have figures for them)."""
    by_unit = summary.by_unit
    out = []
    for unit in summary.units:
        kind = unit.kind
        uses = set(template.used_figure_keys(kind)) if kind in template.kinds else set()
        if uses & keys or set(by_unit.get(unit.code) or {}) & keys:
            out.append(unit)
    return out


def _data_period(unit: UnitEntry, summary: Summary) -> dt.date | None:
    """The period a unit's figures come from: this one if accepted, else the carried one."""
    if unit.carried_forward_from:
        return to_date(unit.carried_forward_from)
    if unit.status == ACCEPTED:
        return to_date(summary.period)
    return None


def _groups(columns: list[FigureColumn], first: int) -> list[tuple[int, int]]:
    """The runs of columns under one group label: (first, last) column numbers, 1-based."""
    groups: list[tuple[int, int]] = []
    for i, column in enumerate(columns):
        if i and column.group == columns[i - 1].group:
            groups[-1] = (groups[-1][0], first + i)
        else:
            groups.append((first + i, first + i))
    return groups


def _figure_sheet(
    wb: Workbook,
    name: str,
    summary: Summary,
    config: Config,
    title: str,
    note: str,
    columns: list[FigureColumn],
) -> None:
    template = config.template
    first = len(UNIT_COLUMNS) + 1
    widths = [w for _, _, w in UNIT_COLUMNS] + [FIGURE_WIDTH] * len(columns)
    sheet = Sheet(wb, name, widths, freeze=f"{_letter(first)}{FIRST_DATA_ROW}", fit_width=False)
    sheet.title(title, note)
    # Group labels over their columns (merged), then labels, then codes (hidden).
    sheet.header([label for _, label, _ in UNIT_COLUMNS] + [c.group for c in columns], height=45)
    sheet.header([""] * len(UNIT_COLUMNS) + [c.label for c in columns], height=60)
    code_style = Style(size=8, color="6B7280", horizontal="center")
    codes = [code for code, _, _ in UNIT_COLUMNS] + [c.key for c in columns]
    sheet.hide_row(CODE_ROW)
    sheet.row([sheet.cell(code, code_style) for code in codes])
    for i in range(1, first):
        sheet.merge(GROUP_ROW, i, LABEL_ROW, i)
    groups = _groups(columns, first)
    for start, end in groups:
        sheet.merge(GROUP_ROW, start, GROUP_ROW, end)

    formats = [Style(number_format=c.number_format) for c in columns]
    totals_style = [replace(f, bold=True) for f in formats]
    by_unit = summary.by_unit
    units = _units_using(summary, template, {c.key for c in columns})
    apart = _apart_units(summary, config, columns)

    dated = Style(number_format=DATE_FORMAT)
    # Each unit's row: a figure found by its key, or worked out (`_value`: a table's total row).
    keyed = [(c.key, c, f) for c, f in zip(columns, formats, strict=True)]

    def unit_rows(rows: list[UnitEntry]) -> tuple[int, int]:
        first_row = sheet.rows + 1
        for unit in rows:
            figures = by_unit.get(unit.code) or {}
            sheet.row(
                [
                    unit.code,
                    unit.name,
                    status_label(unit.status),
                    sheet.cell(_data_period(unit, summary), dated),
                    *[(figures[key] if key in figures else _value(figures, c), f) for key, c, f in keyed],
                ]
            )
        return first_row, sheet.rows

    def totals_row(label: str, rows: tuple[int, int], figures: dict[str, Any]) -> None:
        sheet.row(
            [None, sheet.cell(label, BOLD), None, None]
            + [
                sheet.total(*rows, first + i, _value(figures, c), totals_style[i])
                for i, c in enumerate(columns)
            ]
        )

    totals_row(TOTAL_LABEL, unit_rows([u for u in units if u.code not in apart]), summary.totals)
    held = [u for u in units if u.code in apart]
    if held:
        # `funds_apart`: the organisations' money, beside the province's total, not in it.
        label = config.report.funds_apart.label
        sheet.row(
            [None, sheet.cell(f"Không cộng vào tổng trên: {label} (đã chuyển về các địa phương)", BOLD)]
        )
        totals_row(f"Cộng: {label}", unit_rows(held), dict(summary.apart))
    sheet.print_setup((GROUP_ROW, LABEL_ROW))
    sheet.print_in_parts(2, len(UNIT_COLUMNS), groups)


def _apart_units(summary: Summary, config: Config, columns: list[FigureColumn]) -> set[str]:
    """The units whose figures in these columns `funds_apart` keeps out of the totals (the
    Mặt trận's and the đoàn thể's money of its table), none when the summary holds none apart."""
    rule = config.report.funds_apart
    if not summary.apart or rule.counted != "apart":
        return set()
    if not any(c.section.code == rule.section for c in columns):
        return set()
    return {u.code for u in summary.units if u.kind in rule.kinds}


def _letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


# --------------------------------------------------------------------------- sheets


def _status_sheet(wb: Workbook, summary: Summary, config: Config) -> None:
    template = config.template
    timezone = config.report.schedule.timezone
    labels = [
        "Mã đơn vị",
        "Tên đơn vị",
        "Loại đơn vị",
        "Tình trạng",
        "Số liệu kỳ",
        "Số lỗi",
        "Số cảnh báo",
        "Lý do",
        "Thời điểm đọc",
        "Bảng tính",
        "Trang tính",
    ]
    # The spreadsheet and worksheet names (for the administrators) hidden, not printed.
    sheet = Sheet(
        wb, "TinhTrang", [9, 30, 18, 18, 11, 7, 9, 42, 16, 28, 14], freeze="C5", hidden_columns=[10, 11]
    )
    sheet.title("Tình trạng báo cáo của các đơn vị", f"Kỳ báo cáo {vn_date(summary.period)}")
    sheet.blank()
    header_row = sheet.header(labels)
    date = Style(number_format=DATE_FORMAT, vertical="top")
    count = Style(number_format=COUNT_FORMAT, vertical="top")
    top = Style(vertical="top")
    for unit in summary.units:
        sheet.row(
            [
                sheet.cell(unit.code, top),
                sheet.cell(unit.name, TEXT),
                sheet.cell(template.kind_label(unit.kind), TEXT),
                sheet.cell(status_label(unit.status), TEXT),
                sheet.cell(_date_or_none(unit.carried_forward_from), date),
                sheet.cell(len(unit.errors), count),
                sheet.cell(len(unit.warnings), count),
                sheet.cell(unit.reason, TEXT),
                sheet.cell(vn_datetime(unit.read_at, timezone), top),
                unit.spreadsheet,
                unit.worksheet,
            ]
        )
    sheet.print_setup((header_row, header_row))


def _findings_sheet(wb: Workbook, summary: Summary) -> None:
    # The findings' codes (for programs and the administrators) hidden, not printed.
    sheet = Sheet(wb, "LoiCanhBao", [9, 30, 10, 16, 14, 78], freeze="A5", hidden_columns=[5])
    sheet.title(
        "Lỗi và cảnh báo trong báo cáo của các đơn vị",
        f"Kỳ báo cáo {vn_date(summary.period)}. Báo cáo có lỗi bị trả lại; cảnh báo không làm trả lại.",
    )
    sheet.blank()
    header_row = sheet.header(["Mã đơn vị", "Tên đơn vị", "Mức độ", "Ô", "Mã", "Nội dung"])
    top = Style(vertical="top")
    written = False
    for unit in summary.units:
        for severity, findings in (("error", unit.errors), ("warning", unit.warnings)):
            for f in findings:
                sheet.row(
                    [
                        sheet.cell(unit.code, top),
                        sheet.cell(unit.name, TEXT),
                        sheet.cell(SEVERITY_LABELS[severity], top),
                        sheet.cell(f.cell, top),
                        sheet.cell(f.code, top),
                        sheet.cell(f.message, TEXT),
                    ]
                )
                written = True
    if not written:
        sheet.row([None, "Không có lỗi hoặc cảnh báo."])
    sheet.print_setup((header_row, header_row))


@gc_paused()  # core.runtime: the collector would walk the task's whole heap again and again
def write_summary_workbook(
    summary: Summary,
    config: Config,
    path: str | Path,
    *,
    annexes: Callable[[Workbook], list[Worksheet]] | None = None,
) -> Path:
    """Write the summary workbook to `path` (parent folders created) and return the path.

    `annexes` adds sheets (the report's annexes, `official.OfficialReport.add_annex_sheets`)
    to the write-only workbook it is given: they come first, and the first of them is the
    sheet the workbook opens on.
    """
    template = config.template
    period = vn_date(summary.period)
    wb = write_only_workbook()
    if annexes is not None:
        annexes(wb)
    summary_sheet(wb, summary, config)

    sections = number_sections(template)
    for section in (s for s in sections if s.kind == "table"):
        note = f"Kỳ báo cáo {period}."
        if section.unit:
            note = f"Đơn vị tính: {section.unit}. " + note
        if section.cumulative:
            note += " Số liệu lũy kế; đơn vị chưa được tiếp nhận trong kỳ dùng số liệu kỳ gần nhất "
            note += "đã tiếp nhận."
        _figure_sheet(
            wb,
            f"Bang{section.code}",
            summary,
            config,
            f"Bảng {section.code}. {section.label}",
            note,
            _table_columns(section),
        )
    fields = [s for s in sections if s.kind == "fields"]
    if fields:
        _figure_sheet(
            wb,
            FIELDS_SHEET,
            summary,
            config,
            " và ".join(s.label for s in fields),
            f"Kỳ báo cáo {period}.",
            _fields_columns(fields, template),
        )
    _status_sheet(wb, summary, config)
    _findings_sheet(wb, summary)

    wb.properties.title = f"Báo cáo tổng hợp tiến độ {config.report.programme.short_title} - kỳ {period}"
    wb.properties.creator = "Hệ thống báo cáo tự động"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save(wb, path)
    return path
