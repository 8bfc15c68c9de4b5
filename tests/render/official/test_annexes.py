"""The workbook attached to the email: the annexes first (PL_I...), then the figures by unit."""

from __future__ import annotations

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
    return openpyxl.load_workbook(workbook_path)


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
    assert all(ws.column_dimensions[c].width >= 5 for c in "ABCD")


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
    assert not any("<f>" in s or "<f " in s for s in sheets)
    book = openpyxl.load_workbook(path)
    names = [c.value for row in book["PL_I"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "+84 " + FORMULA in names
    cell = next(c for row in book["PL_IV"].iter_rows() for c in row if c.value == FORMULA)
    assert cell.data_type == "s"
