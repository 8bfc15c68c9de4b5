"""The workbook attached to the email: the annexes first (PL_I...), then the figures by unit."""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest

from housing_report.render.official.annexes import FORMATS
from tests.support.summary_fixture import FORMULA


@pytest.fixture
def workbook_path(official, config, summary, tmp_path):
    from housing_report.render.workbook import write_summary_workbook

    return write_summary_workbook(summary, config, tmp_path / "book.xlsx", annexes=official.add_annex_sheets)


@pytest.fixture
def book(workbook_path):
    """As a reader that does not recalculate sees it: the totals' stored values."""
    return openpyxl.load_workbook(workbook_path, data_only=True)


SUM = re.compile(r"^=?SUM\(([A-Z]+)(\d+):\1(\d+)\)$")


def rows_by_label(ws, label_column: int = 2) -> dict[str, tuple]:
    return {r[label_column - 1]: r for r in ws.iter_rows(min_row=6, values_only=True) if r[label_column - 1]}


def test_annex_sheets_come_first_and_open_first(book):
    assert book.sheetnames[:4] == ["PL_I", "PL_II", "PL_III", "PL_IV"]
    assert book.active.title == "PL_I"
    assert "BangA" in book.sheetnames  # the figures by unit stay (with their UNIT_CODE/TONG rows)


@pytest.mark.parametrize("sheet", ["PL_I", "PL_II", "PL_III", "PL_IV"])
def test_title_unit_frozen_header_and_print_setup(book, sheet):
    ws = book[sheet]
    assert ws["A1"].value == f"Phụ lục {sheet.removeprefix('PL_')}"
    assert ws["A2"].value
    assert ws["A2"].value == ws["A2"].value.upper()
    assert ws["A3"].value.startswith("(Kèm theo Báo cáo số")
    assert ws["A4"].value.startswith("Đơn vị tính: ")
    assert ws.freeze_panes == "C6"
    assert ws.page_setup.orientation == "landscape"
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    assert ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$5:$5"
    assert "&P" in ws.oddFooter.center.text  # page numbers
    assert all(ws.column_dimensions[c].width >= 5 for c in "ABCD")


@pytest.mark.parametrize("sheet", ["PL_I", "PL_II", "PL_III", "PL_IV"])
def test_totals_of_counts_and_money_are_sums_of_the_rows(workbook_path, book, sheet):
    """The totals row: `SUM` over the rows above for every count and money column, its stored
    value the same as the rows' sum."""
    ws = openpyxl.load_workbook(workbook_path)[sheet]
    total_row = next(r for r in range(6, ws.max_row + 1) if ws.cell(r, 2).value == "Tổng cộng")
    summed = 0
    for column in range(3, ws.max_column + 1):
        formula = ws.cell(total_row, column).value
        if not (isinstance(formula, str) and formula.startswith("=")):
            continue
        match = SUM.match(formula)
        assert match, formula
        assert (int(match.group(2)), int(match.group(3))) == (6, total_row - 1)
        values = [book[sheet].cell(r, column).value or 0 for r in range(6, total_row)]
        assert book[sheet].cell(total_row, column).value == pytest.approx(sum(values))
        summed += 1
    assert summed >= 2


def test_districts_annex_matches_the_summary(book, summary):
    ws = book["PL_I"]
    assert ws["A4"].value == "Đơn vị tính: căn"
    rows = rows_by_label(ws)
    for d in summary.districts:
        assert rows[d.name][2] == d.needed
        assert rows[d.name][4] == d.completed
    total = rows["Tổng cộng"]
    assert (total[2], total[4]) == (summary.houses.needed, summary.houses.completed)
    assert ws.cell(row=6, column=3).number_format == FORMATS["count"]


def test_table_annexes_totals_equal_summary_totals(book, summary, config):
    totals = summary.totals
    for sheet, section in (("PL_II", "A"), ("PL_III", "B")):
        ws = book[sheet]
        columns = [c.code for c in config.template.section(section).columns]
        total = rows_by_label(ws)["Tổng cộng"]
        assert list(total[2 : 2 + len(columns)]) == pytest.approx(
            [totals[f"{section}.TONG.{c}"] for c in columns]
        )
    assert book["PL_III"]["A4"].value == "Đơn vị tính: triệu đồng"
    assert book["PL_III"].cell(row=6, column=3).number_format == FORMATS["money"]
    ws = book["PL_IV"]
    total = rows_by_label(ws)["Tổng cộng"]
    assert total[2] == totals["NGAY_CONG"]
    assert total[-1] == totals["C_PANO"]


def test_formula_like_text_is_written_as_text(config, summary, tmp_path):
    from housing_report.render.official import prepare
    from housing_report.render.workbook import write_summary_workbook

    unit = next(u for u in summary.units if u.code == "941")
    unit.name = FORMULA
    for d in summary.districts:
        if d.code == "941":
            d.name = "+84 " + FORMULA
    official = prepare(config, summary, [], tmp_path, document=False)
    path = write_summary_workbook(summary, config, tmp_path / "b.xlsx", annexes=official.add_annex_sheets)
    with zipfile.ZipFile(path) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    # No formula but the totals' sums.
    assert all(SUM.match(f) for s in sheets for f in re.findall(r"<f>(.*?)</f>", s))
    assert not any("<f " in s for s in sheets)
    book = openpyxl.load_workbook(path)
    names = [c.value for row in book["PL_I"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "+84 " + FORMULA in names
    cell = next(c for row in book["PL_IV"].iter_rows() for c in row if c.value == FORMULA)
    assert cell.data_type == "s"
