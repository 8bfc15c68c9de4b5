"""The pre-check's feedback on the local source (the demo): the worksheet `KiemTra` the unit would
see in its Google spreadsheet, written as `<output>/<period>/kiem-tra/<spreadsheet>.xlsx`.

One workbook per spreadsheet; its units (one, or several sharing the spreadsheet) each keep
their rows, a unit's rows replaced at each of its checks. The sheet is protected (no password:
a sign that the system writes it, not the unit).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from housing_report.core.formatting import vn_date, vn_datetime
from housing_report.core.statuses import ERROR
from housing_report.precheck.feedback import FeedbackNotWritable, UnitFeedback
from housing_report.render.feedback import finding_text

SHEET = "KiemTra"
FOLDER = "kiem-tra"
HEADER = ("Đơn vị", "Trang tính", "Tình trạng", "Thời điểm kiểm tra", "Mức độ", "Ô", "Nội dung và cách sửa")
HEADER_ROW = 4  # 1-based: title, subtitle, blank, header
# The unit's code, in a hidden column after the table: whose rows a new check replaces.
CODE_COLUMN = len(HEADER) + 1
SEVERITY_TEXT = {ERROR: "Lỗi"}
WIDTHS = (28, 14, 30, 20, 11, 14, 90)


def feedback_path(output_dir: Path, period: str, spreadsheet: str) -> Path:
    return Path(output_dir) / period / FOLDER / f"{spreadsheet}.xlsx"


def feedback_rows(feedback: UnitFeedback, timezone: str) -> list[tuple[str, ...]]:
    """The unit's rows: its status, then one row per finding (severity, cell, what to write)."""
    checked = vn_datetime(feedback.checked_at, timezone)
    first = (feedback.unit_name, feedback.worksheet, feedback.status_text, checked, "", "", "")
    rows = [first]
    for f in feedback.findings:
        cell = f.cell.split("!", 1)[-1]
        rows.append(
            (
                feedback.unit_name,
                feedback.worksheet,
                "",
                "",
                SEVERITY_TEXT.get(f.severity, "Cảnh báo"),
                cell,
                finding_text(f.message, feedback.unit_name, f.cell),
            )
        )
    return rows


class LocalFeedbackWriter:
    """`FeedbackWriter` to `<output_dir>/<period>/kiem-tra/<spreadsheet>.xlsx`, sheet `KiemTra`."""

    def __init__(self, output_dir: str | Path, timezone: str = "Asia/Ho_Chi_Minh"):
        self.output_dir = Path(output_dir)
        self.timezone = timezone

    def write(self, feedback: UnitFeedback) -> str:
        import openpyxl

        path = feedback_path(self.output_dir, feedback.period, feedback.spreadsheet)
        kept: list[tuple[str, tuple]] = []
        if path.is_file():
            try:
                old = openpyxl.load_workbook(path)[SHEET]
                for row in old.iter_rows(min_row=HEADER_ROW + 1, max_col=CODE_COLUMN, values_only=True):
                    code = row[CODE_COLUMN - 1]
                    if code and str(code) != feedback.unit_code:
                        kept.append((str(code), tuple("" if v is None else v for v in row[: len(HEADER)])))
            except (OSError, KeyError, ValueError) as exc:
                raise FeedbackNotWritable(f"Không đọc được {path}: {exc}") from exc
        rows = kept + [(feedback.unit_code, r) for r in feedback_rows(feedback, self.timezone)]
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = SHEET
        sheet["A1"] = f"Kết quả kiểm tra trước kỳ báo cáo {vn_date(dt.date.fromisoformat(feedback.period))}"
        sheet["A2"] = "Trang này do hệ thống ghi sau mỗi lần kiểm tra; đơn vị sửa số liệu ở trang báo cáo."
        from openpyxl.styles import Alignment, Font, PatternFill

        sheet["A1"].font = Font(bold=True, size=13)
        sheet["A2"].font = Font(italic=True, color="6B7280")
        for j, title in enumerate(HEADER, start=1):
            cell = sheet.cell(row=HEADER_ROW, column=j, value=title)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="E5E7EB")
        red, amber = Font(color="B91C1C", bold=True), Font(color="B45309", bold=True)
        for i, (code, row) in enumerate(rows, start=HEADER_ROW + 1):
            for j, value in enumerate(row, start=1):
                cell = sheet.cell(row=i, column=j, value=value)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            sheet.cell(row=i, column=CODE_COLUMN, value=code)
            severity = row[4]
            if severity:
                sheet.cell(row=i, column=5).font = red if severity == "Lỗi" else amber
        for j, width in enumerate(WIDTHS, start=1):
            sheet.column_dimensions[openpyxl.utils.get_column_letter(j)].width = width
        sheet.column_dimensions[openpyxl.utils.get_column_letter(CODE_COLUMN)].hidden = True
        sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
        sheet.protection.sheet = True
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written beside, then moved over: a reader never sees half a workbook.
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".xlsx")
            os.close(handle)
            workbook.save(temporary)
            os.replace(temporary, path)
        except OSError as exc:
            raise FeedbackNotWritable(f"Không ghi được {path}: {exc.strerror or exc}") from exc
        return str(path)
