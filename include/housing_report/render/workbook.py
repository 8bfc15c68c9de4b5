"""The summary workbook attached to the email: every figure by unit, with totals.

`write_summary_workbook(summary, config, path)` writes an .xlsx with the sheets

- `TongHop`: the key totals (houses, completion, funds, mobilisation, propaganda)
  with the previous period and the change, and the units' reporting status counts;
- `Bang<code>` for each table of the template (`BangA`, `BangB`): one row per unit
  that fills the table, a column per figure key (rows x columns, plus the `TONG`
  row), and a totals row that is the summary's totals;
- `TuyenTruyen`: the fields sections (mobilisation, propaganda) by unit, with totals;
- `TinhTrang`: each unit's status, the period its figures come from, error and
  warning counts and the reason it could not be read;
- `LoiCanhBao`: every error and warning (unit, severity, cell, code, message).

The figure sheets have a row of codes (`A.NCC.CAN_XM`) under the labels, so that a
person or a test can check that a column's unit rows add up to its totals row.
Labels come from the config. Text from the units' sheets is always written as text,
never as a formula. openpyxl is imported when a workbook is written, not at import.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from housing_report.config import Config, Section, Template
from housing_report.core.formatting import to_date, vn_date, vn_datetime
from housing_report.core.models import TOTAL_LABEL, TOTAL_ROW
from housing_report.core.statuses import ACCEPTED, STATUSES, status_label
from housing_report.core.summary import Summary, UnitEntry
from housing_report.render.cells import (
    COUNT_FORMAT,
    DATE_FORMAT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    header,
    print_setup,
    put,
    sheet_title,
    widths,
)
from housing_report.render.figures import HOUSE_MEASURES, houses_change, number_sections, table_total

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
    ("UNIT_CODE", "Mã đơn vị", 11),
    ("UNIT_NAME", "Tên đơn vị", 34),
    ("STATUS", "Tình trạng", 20),
    ("DATA_PERIOD", "Số liệu kỳ", 12),
)
# Houses as measured by the config's `progress` (its columns, summed over the table's rows).
HOUSE_LABELS = {
    "needed": "Số nhà cần hỗ trợ",
    "started": "Số nhà đã khởi công",
    "completed": "Số nhà đã hoàn thành, bàn giao",
}
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


def _number_format(section: Section, key: str) -> str:
    if section.kind == "table":
        return MONEY_FORMAT if section.value == "money" else COUNT_FORMAT
    for f in section.fields:
        if f.code == key:
            return MONEY_FORMAT if f.value == "money" else COUNT_FORMAT
    return COUNT_FORMAT


def _table_columns(section: Section) -> list[FigureColumn]:
    rows = [(r.code, r.label) for r in section.rows] + [(TOTAL_ROW, TOTAL_LABEL)]
    fmt = _number_format(section, "")
    return [
        FigureColumn(f"{section.code}.{row}.{c.code}", row_label, c.label, fmt, section)
        for row, row_label in rows
        for c in section.columns
    ]


def _fields_columns(sections: list[Section], template: Template) -> list[FigureColumn]:
    return [
        FigureColumn(key, s.label, template.figure_label(key), _number_format(s, key), s)
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


def _figure_sheet(
    ws: Worksheet, summary: Summary, config: Config, title: str, note: str, columns: list[FigureColumn]
) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    template = config.template
    first = len(UNIT_COLUMNS) + 1
    sheet_title(ws, title, note)
    # Group labels over their columns (merged), then labels, then codes.
    header(ws, GROUP_ROW, [label for _, label, _ in UNIT_COLUMNS] + [c.group for c in columns])
    header(ws, LABEL_ROW, [""] * len(UNIT_COLUMNS) + [c.label for c in columns])
    header(ws, CODE_ROW, [code for code, _, _ in UNIT_COLUMNS] + [c.key for c in columns], wrap=False)
    for i in range(1, first):
        ws.merge_cells(start_row=GROUP_ROW, start_column=i, end_row=LABEL_ROW, end_column=i)
    start = 0
    while start < len(columns):
        end = start
        while end + 1 < len(columns) and columns[end + 1].group == columns[start].group:
            end += 1
        if end > start:
            ws.merge_cells(
                start_row=GROUP_ROW, start_column=first + start, end_row=GROUP_ROW, end_column=first + end
            )
        start = end + 1
    for column in range(1, first + len(columns)):
        ws.cell(row=CODE_ROW, column=column).font = Font(size=8, color="6B7280")
    ws.row_dimensions[GROUP_ROW].height = 45
    ws.row_dimensions[LABEL_ROW].height = 60

    by_unit = summary.by_unit
    row = FIRST_DATA_ROW
    for unit in _units_using(summary, template, {c.key for c in columns}):
        figures = by_unit.get(unit.code) or {}
        put(ws, row, 1, unit.code)
        put(ws, row, 2, unit.name)
        put(ws, row, 3, status_label(unit.status))
        put(ws, row, 4, _data_period(unit, summary), DATE_FORMAT)
        for i, column in enumerate(columns):
            put(ws, row, first + i, _value(figures, column), column.number_format)
        row += 1

    totals = summary.totals
    put(ws, row, 1, TOTAL_ROW, bold=True)
    put(ws, row, 2, TOTAL_LABEL, bold=True)
    for i, column in enumerate(columns):
        put(ws, row, first + i, _value(totals, column), column.number_format, bold=True)

    widths(ws, [w for _, _, w in UNIT_COLUMNS] + [14] * len(columns))
    for column in range(first, first + len(columns)):
        ws.cell(row=CODE_ROW, column=column).alignment = Alignment(horizontal="center")
    ws.freeze_panes = f"{get_column_letter(first)}{FIRST_DATA_ROW}"
    print_setup(ws, CODE_ROW)


# --------------------------------------------------------------------------- sheets


def _summary_sheet(ws: Worksheet, summary: Summary, config: Config) -> None:
    from openpyxl.styles import Alignment

    template = config.template
    totals = summary.totals
    previous = summary.previous
    previous_totals = previous.totals if previous else {}
    change = summary.change
    houses = summary.houses

    period = vn_date(summary.period)
    note = f"Kỳ báo cáo {period}"
    if previous:
        note += f"; so sánh với kỳ {vn_date(previous.period)}"
    note += f"; lập lúc {vn_datetime(summary.generated_at, config.report.schedule.timezone)}"
    sheet_title(ws, f"Báo cáo tổng hợp tiến độ {config.report.programme.short_title} - kỳ {period}", note)
    header_row = 4
    header(ws, header_row, ["Mã", "Chỉ tiêu", "Giá trị", "Đơn vị tính", "Kỳ trước", "So với kỳ trước"])

    rows: list[tuple[str, str, Any, str, Any, Any, str]] = []
    house_change = houses_change(summary, config)
    progress = config.report.progress
    house_unit = template.section(progress.table).unit
    before_houses = previous.houses if previous else None
    for name in HOUSE_MEASURES:
        rows.append(
            (
                f"houses.{name}",
                HOUSE_LABELS[name],
                getattr(houses, name),
                house_unit,
                getattr(before_houses, name) if before_houses else None,
                house_change[name],
                COUNT_FORMAT,
            )
        )
    percent = summary.completion_percent
    before_percent = previous.completion_percent if previous else None
    percent_change = (
        round(percent - before_percent, 2) if percent is not None and before_percent is not None else None
    )
    rows.append(
        (
            "completion_percent",
            "Tỷ lệ hoàn thành",
            percent,
            "%",
            before_percent,
            percent_change,
            PERCENT_FORMAT,
        )
    )
    for section in number_sections(template):
        if section.code == progress.table:
            continue
        if section.kind == "table":
            for c in section.columns:
                key = f"{section.code}.{TOTAL_ROW}.{c.code}"
                before = table_total(previous_totals, section, c.code) if previous else None
                rows.append(
                    (
                        key,
                        f"{section.label} - {c.label}",
                        table_total(totals, section, c.code),
                        section.unit,
                        before,
                        change.get(key),
                        _number_format(section, c.code),
                    )
                )
        else:
            for key in section.figure_keys():
                rows.append(
                    (
                        key,
                        template.figure_label(key),
                        totals.get(key),
                        section.unit,
                        previous_totals.get(key),
                        change.get(key) if section.cumulative else None,
                        _number_format(section, key),
                    )
                )

    row = header_row + 1
    for code, label, value, unit, before, delta, fmt in rows:
        put(ws, row, 1, code)
        put(ws, row, 2, label)
        put(ws, row, 3, value, fmt)
        put(ws, row, 4, unit)
        put(ws, row, 5, before, fmt)
        put(ws, row, 6, delta, fmt)
        ws.cell(row=row, column=2).alignment = Alignment(wrap_text=True, vertical="top")
        row += 1

    row += 1
    put(ws, row, 2, "Tình trạng báo cáo của các đơn vị", bold=True)
    row += 1
    counts = summary.status_counts
    for status in STATUSES:
        put(ws, row, 1, f"status_counts.{status}")
        put(ws, row, 2, status_label(status))
        put(ws, row, 3, counts.get(status, 0), COUNT_FORMAT)
        put(ws, row, 4, "đơn vị")
        row += 1
    put(ws, row, 1, "units", bold=True)
    put(ws, row, 2, "Tổng số đơn vị", bold=True)
    put(ws, row, 3, len(summary.units), COUNT_FORMAT, bold=True)
    put(ws, row, 4, "đơn vị")

    widths(ws, [22, 62, 16, 13, 16, 16])
    ws.freeze_panes = f"A{header_row + 1}"
    print_setup(ws, header_row)


def _status_sheet(ws: Worksheet, summary: Summary, config: Config) -> None:
    template = config.template
    timezone = config.report.schedule.timezone
    header_row = 4
    sheet_title(ws, "Tình trạng báo cáo của các đơn vị", f"Kỳ báo cáo {vn_date(summary.period)}")
    labels = [
        "Mã đơn vị",
        "Tên đơn vị",
        "Loại đơn vị",
        "Tình trạng",
        "Số liệu kỳ",
        "Số lỗi",
        "Số cảnh báo",
        "Lý do",
        "Bảng tính",
        "Trang tính",
        "Thời điểm đọc",
    ]
    header(ws, header_row, labels)
    row = header_row + 1
    for unit in summary.units:
        values = [
            unit.code,
            unit.name,
            template.kind_label(unit.kind),
            status_label(unit.status),
            _date_or_none(unit.carried_forward_from),
            len(unit.errors),
            len(unit.warnings),
            unit.reason,
            unit.spreadsheet,
            unit.worksheet,
            vn_datetime(unit.read_at, timezone),
        ]
        for column, value in enumerate(values, start=1):
            fmt = DATE_FORMAT if isinstance(value, dt.date) else COUNT_FORMAT
            put(ws, row, column, value, fmt)
        row += 1
    widths(ws, [11, 36, 22, 22, 12, 8, 11, 50, 28, 14, 17])
    ws.freeze_panes = f"C{header_row + 1}"
    print_setup(ws, header_row)


def _findings_sheet(ws: Worksheet, summary: Summary) -> None:
    header_row = 4
    sheet_title(
        ws,
        "Lỗi và cảnh báo trong báo cáo của các đơn vị",
        f"Kỳ báo cáo {vn_date(summary.period)}. Báo cáo có lỗi bị trả lại; cảnh báo không làm trả lại.",
    )
    header(ws, header_row, ["Mã đơn vị", "Tên đơn vị", "Mức độ", "Ô", "Mã", "Nội dung"])
    row = header_row + 1
    for unit in summary.units:
        for severity, findings in (("error", unit.errors), ("warning", unit.warnings)):
            for f in findings:
                values = [unit.code, unit.name, SEVERITY_LABELS[severity], f.cell, f.code, f.message]
                for column, value in enumerate(values, start=1):
                    put(ws, row, column, value)
                row += 1
    if row == header_row + 1:
        put(ws, row, 2, "Không có lỗi hoặc cảnh báo.")
    widths(ws, [11, 32, 10, 16, 14, 90])
    ws.freeze_panes = f"A{header_row + 1}"
    print_setup(ws, header_row)


def write_summary_workbook(
    summary: Summary,
    config: Config,
    path: str | Path,
    *,
    annexes: Callable[[Workbook], list[Worksheet]] | None = None,
) -> Path:
    """Write the summary workbook to `path` (parent folders created) and return the path.

    `annexes` adds sheets (the report's annexes, `official.OfficialReport.add_annex_sheets`):
    they come first, and the first of them is the sheet the workbook opens on.
    """
    from openpyxl import Workbook

    template = config.template
    period = vn_date(summary.period)
    wb = Workbook()
    ws = wb.active
    ws.title = "TongHop"
    _summary_sheet(ws, summary, config)

    sections = number_sections(template)
    for section in (s for s in sections if s.kind == "table"):
        note = f"Kỳ báo cáo {period}."
        if section.unit:
            note = f"Đơn vị tính: {section.unit}. " + note
        if section.cumulative:
            note += " Số liệu lũy kế; đơn vị chưa được tiếp nhận trong kỳ dùng số liệu kỳ gần nhất "
            note += "đã tiếp nhận."
        _figure_sheet(
            wb.create_sheet(f"Bang{section.code}"),
            summary,
            config,
            f"Bảng {section.code}. {section.label}",
            note,
            _table_columns(section),
        )
    fields = [s for s in sections if s.kind == "fields"]
    if fields:
        _figure_sheet(
            wb.create_sheet(FIELDS_SHEET),
            summary,
            config,
            " và ".join(s.label for s in fields),
            f"Kỳ báo cáo {period}.",
            _fields_columns(fields, template),
        )
    _status_sheet(wb.create_sheet("TinhTrang"), summary, config)
    _findings_sheet(wb.create_sheet("LoiCanhBao"), summary)

    if annexes is not None:
        for position, sheet in enumerate(annexes(wb)):
            wb.move_sheet(sheet, offset=position - wb.index(sheet))
        wb.active = 0
        for sheet in wb.worksheets[1:]:
            sheet.sheet_view.tabSelected = False
    wb.properties.title = f"Báo cáo tổng hợp tiến độ {config.report.programme.short_title} - kỳ {period}"
    wb.properties.creator = "Hệ thống báo cáo tự động"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
