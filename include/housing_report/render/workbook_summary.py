"""The summary workbook's first sheet, TongHop (`render.workbook`): the province's figures in
words, each with its unit, its change since the last period ("–" when unknown) and, beside the
money, what is kept apart; the codes in a hidden column that is not printed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from housing_report.config import Config, Section
from housing_report.core.formatting import vn_date, vn_datetime
from housing_report.core.models import TOTAL_ROW
from housing_report.core.statuses import STATUSES, status_label
from housing_report.core.summary import Summary
from housing_report.render.cells import (
    COUNT_FORMAT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    Sheet,
    Style,
)
from housing_report.render.figures import HOUSE_MEASURES, houses_change, number_sections, table_total

if TYPE_CHECKING:
    from openpyxl import Workbook

UNKNOWN = "–"
TEXT = Style(vertical="top", wrap=True)
BOLD = Style(bold=True)
# Houses as measured by the config's `progress` (its columns, summed over the table's rows).
HOUSE_LABELS = {
    "needed": "Số nhà cần hỗ trợ",
    "started": "Số nhà đã khởi công",
    "completed": "Số nhà đã hoàn thành, bàn giao",
}


def number_format(section: Section, key: str) -> str:
    if section.kind == "table":
        return MONEY_FORMAT if section.value == "money" else COUNT_FORMAT
    for f in section.fields:
        if f.code == key:
            return MONEY_FORMAT if f.value == "money" else COUNT_FORMAT
    return COUNT_FORMAT


def _summary_rows(summary: Summary, config: Config) -> list[tuple[str, str, Any, str, Any, Any, str]]:
    """TongHop's figures: (code, label, value, unit, previous value, change, number format)."""
    template = config.template
    totals = summary.totals
    previous = summary.previous
    previous_totals = previous.totals if previous else {}
    change = summary.change
    houses = summary.houses

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
                _change(house_change[name]),
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
            "Tỷ lệ hoàn thành (%)",
            percent,
            "%",
            before_percent,
            _change(percent_change),
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
                        f"{section.label}: {c.label.lower()} (tổng các nguồn)",
                        table_total(totals, section, c.code),
                        section.unit,
                        before,
                        _change(change.get(key)),
                        number_format(section, c.code),
                    )
                )
            for c in section.columns:
                key = f"{section.code}.{TOTAL_ROW}.{c.code}"
                if summary.apart.get(key):
                    # `funds_apart`: shown beside the total above, not in it.
                    label = config.report.funds_apart.label
                    rows.append(
                        (
                            f"apart.{key}",
                            f"{label}: {c.label.lower()} (không cộng vào tổng trên)",
                            summary.apart[key],
                            section.unit,
                            None,
                            None,
                            number_format(section, c.code),
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
                        _change(change.get(key)) if section.cumulative else None,
                        number_format(section, key),
                    )
                )
    return rows


def _change(value: Any) -> Any:
    return UNKNOWN if value is None else value


def summary_sheet(wb: Workbook, summary: Summary, config: Config) -> None:
    previous = summary.previous
    period = vn_date(summary.period)
    note = f"Kỳ báo cáo {period}"
    if previous:
        note += f"; so sánh với kỳ {vn_date(previous.period)}"
    note += f"; lập lúc {vn_datetime(summary.generated_at, config.report.schedule.timezone)}"
    # The codes, for programs, in the last column: hidden, not printed.
    sheet = Sheet(
        wb, "TongHop", [6, 46, 13, 11, 13, 13, 24], freeze="A5", landscape=False, hidden_columns=[7]
    )
    sheet.title(f"Báo cáo tổng hợp tiến độ {config.report.programme.short_title} - kỳ {period}", note)
    sheet.blank()
    header_row = sheet.header(
        ["STT", "Chỉ tiêu", "Giá trị", "Đơn vị tính", "Kỳ trước", "So với kỳ trước", "Mã"]
    )
    centre = Style(horizontal="center", vertical="top")
    for i, (code, label, value, unit, before, delta, fmt) in enumerate(
        _summary_rows(summary, config), start=1
    ):
        number = Style(number_format=fmt, vertical="top")
        sheet.row(
            [
                sheet.cell(i, centre),
                sheet.cell(label, TEXT),
                sheet.cell(value, number),
                sheet.cell(unit, centre),
                sheet.cell(before, number),
                sheet.cell(delta, centre if delta == UNKNOWN else number),
                code,
            ]
        )

    sheet.blank()
    sheet.row([None, sheet.cell("Tình trạng báo cáo của các đơn vị", BOLD)])
    counts = summary.status_counts
    count = Style(number_format=COUNT_FORMAT)
    for status in STATUSES:
        sheet.row(
            [None, status_label(status), sheet.cell(counts.get(status, 0), count), "đơn vị", None, None]
            + [f"status_counts.{status}"]
        )
    bold_count = Style(number_format=COUNT_FORMAT, bold=True)
    sheet.row(
        [None, sheet.cell("Tổng số đơn vị", BOLD), sheet.cell(len(summary.units), bold_count), "đơn vị"]
        + [None, None, "units"]
    )
    sheet.print_setup((header_row, header_row))
