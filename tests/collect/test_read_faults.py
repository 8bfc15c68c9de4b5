"""Cells that cannot be read as typed, invisible characters and inputs that blow up size (issue 18).

Each case edits one unit's real sample workbook (TP Sóc Trăng, accepted as it is) the way a
unit's program would have saved it: with openpyxl (formulas without a computed value, merged
cells), or by writing the worksheet's XML as LibreOffice does (a formula with its cached value,
a merged range that kept its hidden cell). The same faults are then served by the loopback
Sheets server to the real gspread. Every case checks the exact Vietnamese finding, that the
unit is or is not accepted, and that the other unit read in the same batch is unaffected.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from housing_report.collect.base import ReadBounds
from housing_report.collect.google import GoogleSheetsSource
from housing_report.collect.google_client import RetryPolicy, make_client
from housing_report.collect.local import LocalWorkbookSource
from housing_report.core.models import Grid
from housing_report.core.statuses import ACCEPTED, ERROR, FETCH_OK, REJECTED, WARNING
from housing_report.core.text import MAX_CELL_TEXT, MAX_LIST_TEXT
from housing_report.validate.parse import parse_reports
from tests.google_api.server import FakeGoogle

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "include" / "sample_data" / "2025-03-12"
PERIOD = dt.date(2025, 3, 12)
KEY, OTHER = "st-941-tp-soc-trang", "st-942-chau-thanh"
NAME = "Thành phố Sóc Trăng"
HT_XM = "bảng A, dòng KHAC «Đối tượng khác», cột HT_XM «Đã hoàn thành, bàn giao xây mới»"
HT_SC = "bảng A, dòng KHAC «Đối tượng khác», cột HT_SC «Đã hoàn thành, bàn giao sửa chữa»"
UNCOMPUTED = "(tệp được lưu mà không tính lại công thức, nên không có giá trị để đọc)."


# ---------------------------------------------------------------------- helpers


def edited(folder: Path, edit) -> Path:
    """The sample workbook of unit 941, edited by `edit(worksheet)` and saved by openpyxl (which
    never computes formulas), beside the untouched workbook of unit 942."""
    wb = openpyxl.load_workbook(SAMPLES / f"{KEY}.xlsx")
    edit(wb["BaoCao"])
    wb.save(folder / f"{KEY}.xlsx")
    shutil.copy(SAMPLES / f"{OTHER}.xlsx", folder / f"{OTHER}.xlsx")
    return folder


def rewrite_sheet(path: Path, change) -> None:
    """Rewrite the XML of the report worksheet of `path` (`change(xml) -> xml`), as another
    program would have written it."""
    with zipfile.ZipFile(path) as src:
        parts = {info: src.read(info.filename) for info in src.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in parts.items():
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data.decode("utf-8")).encode("utf-8")
            out.writestr(info, data)


def replace_cell(xml: str, ref: str, cell: str) -> str:
    new, count = re.subn(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', cell, xml, count=1)
    assert count == 1, ref
    return new


def read(config, folder: Path, bounds: ReadBounds | None = None):
    units = [config.unit("941"), config.unit("942")]
    fetched = LocalWorkbookSource(folder, bounds or ReadBounds.for_template(config.template)).fetch(units)
    return fetched, reports_of(config, units, fetched)


def reports_of(config, units, fetched) -> dict:
    assert [r.status for r in fetched] == [FETCH_OK] * len(units), [r.reason for r in fetched]
    sheets = [(r.grid, u) for r, u in zip(fetched, units, strict=True)]
    reports = parse_reports(sheets, config.template, config.report.rules, PERIOD)
    return {u.code: report for u, report in zip(units, reports, strict=True)}


def findings(report) -> list[tuple[str, str, str]]:
    return [(f.severity, f.cell, f.message) for f in report.findings]


@pytest.fixture(scope="module")
def clean(config, tmp_path_factory):
    """The two units read from the untouched samples: both accepted."""
    _, reports = read(config, edited(tmp_path_factory.mktemp("clean"), lambda ws: None))
    assert {c: r.status for c, r in reports.items()} == {"941": ACCEPTED, "942": ACCEPTED}
    return reports


def assert_other_unit_unaffected(reports, clean) -> None:
    assert reports["942"].status == ACCEPTED
    assert reports["942"].figures == clean["942"].figures
    assert reports["942"].findings == clean["942"].findings


# ---------------------------------------------------------------------- formulas without a value


def test_a_formula_without_a_value_in_a_table_is_an_error_naming_the_cell(config, clean, tmp_path):
    _, reports = read(config, edited(tmp_path, lambda ws: ws.__setitem__("G17", "=C17-13")))
    report = reports["941"]
    assert report.status == REJECTED
    assert report.figures == {}
    assert findings(report) == [
        (
            ERROR,
            "BaoCao!G17",
            f"{NAME}, ô BaoCao!G17: {HT_XM} chứa công thức «=C17-13»: công thức chưa được tính, "
            f"hãy nhập số {UNCOMPUTED}",
        )
    ]
    assert_other_unit_unaffected(reports, clean)


def test_a_formula_without_a_value_in_a_number_field(config, tmp_path):
    _, reports = read(config, edited(tmp_path, lambda ws: ws.__setitem__("C29", "=C30/2")))
    assert findings(reports["941"]) == [
        (
            ERROR,
            "BaoCao!C29",
            f"{NAME}, ô BaoCao!C29: «Số ngày công lao động hỗ trợ» chứa công thức «=C30/2»: công thức "
            f"chưa được tính, hãy nhập số {UNCOMPUTED}",
        )
    ]
    assert reports["941"].status == REJECTED


def test_a_formula_without_a_value_in_the_period_is_not_called_empty(config, clean, tmp_path):
    _, reports = read(config, edited(tmp_path, lambda ws: ws.__setitem__("C7", "=TODAY()")))
    report = reports["941"]
    assert report.status == REJECTED
    assert findings(report) == [
        (
            ERROR,
            "BaoCao!C7",
            f"{NAME}, ô BaoCao!C7: «Kỳ báo cáo (ngày)» chứa công thức «=TODAY()»: công thức chưa được "
            f"tính, hãy nhập ngày dạng dd/mm/yyyy {UNCOMPUTED}",
        )
    ]
    assert_other_unit_unaffected(reports, clean)


def test_a_formula_with_its_cached_value_keeps_the_value(config, clean, tmp_path):
    """As LibreOffice and Excel write a computed formula (and "" as a text formula's result)."""
    folder = edited(tmp_path, lambda ws: None)
    rewrite_sheet(
        folder / f"{KEY}.xlsx",
        lambda xml: replace_cell(
            replace_cell(xml, "G17", '<c r="G17" s="11" t="n"><f aca="false">C17-13</f><v>5</v></c>'),
            "H17",
            '<c r="H17" s="11" t="n"><v>4</v></c><c r="I17" s="0" t="str"><f aca="false">'
            'IF(G17&gt;0,"","x")</f><v></v></c>',
        ),
    )
    fetched, reports = read(config, folder)
    assert fetched[0].grid.rows[16][6:] == [5, 4]
    assert reports["941"].status == ACCEPTED
    assert reports["941"].figures == clean["941"].figures
    assert reports["941"].findings == clean["941"].findings


# ---------------------------------------------------------------------- merged cells


def merge_g17_h17(ws) -> None:
    ws.merge_cells("G17:H17")
    ws["G17"] = 9  # the unit meant both columns


def test_merged_value_cells_are_an_error_naming_the_range(config, clean, tmp_path):
    _, reports = read(config, edited(tmp_path, merge_g17_h17))
    report = reports["941"]
    assert report.status == REJECTED
    assert report.figures == {}  # not HT_XM = 9, HT_SC = 0
    assert findings(report) == [
        (
            ERROR,
            "BaoCao!H17",
            f"{NAME}, ô BaoCao!H17: ô G17:H17 đang được gộp; hãy bỏ gộp ô và nhập từng số vào từng ô "
            f"({HT_SC} phải nằm riêng ở ô H17).",
        )
    ]
    assert_other_unit_unaffected(reports, clean)


def test_a_merged_range_that_kept_its_hidden_value_is_an_error_too(config, tmp_path):
    """LibreOffice can keep the hidden cells' contents when it merges; the file still holds 4."""
    folder = edited(tmp_path, lambda ws: None)
    rewrite_sheet(
        folder / f"{KEY}.xlsx",
        lambda xml: xml.replace(
            "</sheetData>", '</sheetData><mergeCells count="1"><mergeCell ref="G17:H17"/></mergeCells>'
        ),
    )
    fetched, reports = read(config, folder)
    assert fetched[0].grid.rows[16][6:] == [5, 4]
    assert fetched[0].grid.merges == ((16, 6, 16, 7),)
    assert reports["941"].status == REJECTED
    assert [f.cell for f in reports["941"].errors] == ["BaoCao!H17"]
    assert "ô G17:H17 đang được gộp; hãy bỏ gộp ô và nhập từng số" in reports["941"].errors[0].message


def test_merges_away_from_the_value_cells_are_harmless(config, clean, tmp_path):
    """A title over B1:H1 and a list entry over B46:H46 hide no cell the template reads."""

    def edit(ws) -> None:
        ws.merge_cells("B1:H1")
        ws.merge_cells("D46:H46")

    _, reports = read(config, edited(tmp_path, edit))
    assert reports["941"].status == ACCEPTED
    assert reports["941"].findings == clean["941"].findings


# ---------------------------------------------------------------------- invisible characters


def invisible(ws) -> None:
    ws["A7"] = "\ufeffKY_BAO_CAO"  # a byte-order mark pasted from a text file
    ws["A12"] = "A\u200b"  # zero-width space
    ws["D12"] = "CAN\u200d_SC"  # zero-width joiner inside a column code
    ws["A14"] = "\u2060NCC\u00a0"  # word joiner, no-break space
    ws["A29"] = "NGAY\u00ad_CONG"  # soft hyphen
    ws["C30"] = "5\u200b35"  # a number typed as text with a zero-width space


def test_invisible_characters_are_stripped_like_spaces(config, clean, tmp_path):
    fetched, reports = read(config, edited(tmp_path, invisible))
    report = reports["941"]
    assert report.status == ACCEPTED, findings(report)
    assert report.figures == clean["941"].figures
    assert report.findings == clean["941"].findings
    rows = fetched[0].grid.rows
    assert (rows[6][0], rows[11][0], rows[11][3], rows[13][0]) == ("KY_BAO_CAO", "A", "CAN_SC", "NCC\u00a0")


# ---------------------------------------------------------------------- size


def far_column(ws) -> None:
    for row in range(1, 2001):
        ws.cell(row, 16384, "x")  # column XFD, the last one


def test_a_cell_in_column_xfd_on_2000_rows_costs_nothing(config, clean, tmp_path):
    folder = edited(tmp_path, far_column)
    tracemalloc.start()
    try:
        fetched, reports = read(config, folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    bounds = ReadBounds.for_template(config.template)
    grid = fetched[0].grid
    assert peak < 40_000_000  # before: every row padded to 16 384 cells, 1.48 GB in all
    assert max(len(row) for row in grid.rows) <= bounds.columns
    assert grid.rows == clean_grid_of(config)
    assert len(grid.encoded()[1]) < 20_000  # what the archive keeps (before: 164 MB)
    report = reports["941"]
    assert report.status == ACCEPTED
    assert report.figures == clean["941"].figures
    [warning] = report.warnings[:1]
    assert (warning.severity, warning.cell) == (WARNING, "BaoCao!XFD1")
    assert warning.message == (
        f"{NAME}, ô BaoCao!XFD1: trang tính BaoCao có nội dung ở ô XFD1, ngoài vùng được đọc (cột A "
        f"đến Z, dòng 1 đến {bounds.rows}); phần ngoài vùng này không được đọc. Nếu đó là số liệu "
        "của mẫu, hãy đưa về đúng dòng, đúng cột của mẫu; nếu không, hãy xóa đi."
    )
    assert_other_unit_unaffected(reports, clean)


def test_rows_beyond_the_bound_are_not_read(config, clean, tmp_path):
    bounds = ReadBounds(rows=200, columns=26)

    def junk(ws) -> None:
        for row in range(60, 3001):
            ws.cell(row, 2, f"dòng rác {row}")

    fetched, reports = read(config, edited(tmp_path, junk), bounds)
    grid = fetched[0].grid
    assert len(grid.rows) == 200
    assert grid.rows[199] == [None, "dòng rác 200"]
    assert reports["941"].status == ACCEPTED
    assert [(f.severity, f.cell) for f in reports["941"].warnings] == [(WARNING, "BaoCao!B201")]
    assert "dòng 1 đến 200" in reports["941"].warnings[0].message


def test_a_sheet_full_of_long_text_stays_under_a_megabyte(config, clean, tmp_path):
    """A 2 000-character text in every cell of columns I to Z of 300 rows: a small file once
    compressed, 13 million characters once read, before."""
    text = "Nội dung rất dài " * 125

    def fill(ws) -> None:
        for row in range(1, 301):
            for col in range(9, 27):
                ws.cell(row, col, text)

    fetched, reports = read(config, edited(tmp_path, fill))
    archived = fetched[0].grid.encoded()[1].encode("utf-8")
    # 200 000 characters in full, then 64 a cell: under 1 MB whatever the cells hold.
    assert len(archived) < 1_000_000
    assert reports["941"].status == ACCEPTED
    assert reports["941"].figures == clean["941"].figures
    assert_other_unit_unaffected(reports, clean)


def test_the_bounds_come_from_the_template(config):
    bounds = ReadBounds.for_template(config.template)
    assert bounds.columns == 26  # the template's 8 columns, and room for notes up to Z
    assert 59 < bounds.rows - 1000 < 120  # the template's 59 rows, with room to spare


# ---------------------------------------------------------------------- long text


LONG = "Nhà văn hóa ấp " * 4000  # 60 000 characters


def long_texts(ws) -> None:
    ws["B45"] = LONG
    ws["C45"] = LONG
    ws["C8"] = LONG


def test_every_text_a_unit_types_is_cut_where_it_is_read(config, clean, tmp_path):
    fetched, reports = read(config, edited(tmp_path, long_texts))
    grid = fetched[0].grid
    assert grid.rows[44][1] == grid.rows[44][2] == LONG[: MAX_CELL_TEXT - 1].rstrip() + "…"
    report = reports["941"]
    assert report.status == ACCEPTED
    [first, *_] = report.lists["D"]
    cut = LONG[: MAX_LIST_TEXT - 1].rstrip() + "…"
    assert first["text"] == first["place"] == report.info["NGUOI_LAP"] == cut
    assert_other_unit_unaffected(reports, clean)


# ---------------------------------------------------------------------- the same from Google Sheets


EMAIL = "bao-cao@xoa-nha-tam.iam.gserviceaccount.com"


@pytest.fixture
def google():
    with FakeGoogle() as server:
        for key in (KEY, OTHER):
            server.add_workbook_file(key, SAMPLES / f"{key}.xlsx")
        yield server


@pytest.fixture
def source(google, config) -> GoogleSheetsSource:
    client = make_client(
        google.service_account_key(EMAIL),
        api_base_url=google.base_url,
        timeout=5,
        retry=RetryPolicy(max_attempts=2, base_delay=0.1),
        sleep=lambda _: None,
    )
    return GoogleSheetsSource(client, bounds=ReadBounds.for_template(config.template))


def read_google(config, source):
    units = [config.unit("941"), config.unit("942")]
    fetched = source.fetch(units)
    return fetched, reports_of(config, units, fetched)


def test_google_merged_value_cells_are_an_error_without_another_request(config, clean, google, source):
    sheet = google.spreadsheets[KEY].sheet("BaoCao")
    sheet.rows[16][6] = 9
    sheet.merge("G17:H17")
    _, reports = read_google(config, source)
    assert reports["941"].status == REJECTED
    assert findings(reports["941"]) == [
        (
            ERROR,
            "BaoCao!H17",
            f"{NAME}, ô BaoCao!H17: ô G17:H17 đang được gộp; hãy bỏ gộp ô và nhập từng số vào từng ô "
            f"({HT_SC} phải nằm riêng ở ô H17).",
        )
    ]
    assert_other_unit_unaffected(reports, clean)
    assert len(google.api_requests()) == 4  # metadata and values, for each of the two spreadsheets


def test_google_invisible_characters_are_stripped(config, clean, google, source):
    rows = google.spreadsheets[KEY].sheet("BaoCao").rows
    rows[6][0], rows[11][0], rows[13][0] = "\ufeffKY_BAO_CAO", "A\u200b", "\u2060NCC"
    _, reports = read_google(config, source)
    assert reports["941"].status == ACCEPTED
    assert reports["941"].findings == clean["941"].findings


def test_google_ranges_are_bounded(config, clean, google, source):
    rows = google.spreadsheets[KEY].sheet("BaoCao").rows
    rows[2] += [None] * (26 - len(rows[2])) + ["ghi chú ở cột AA"]
    rows[3] += [None] * (3000 - len(rows[3])) + ["x"]  # column DKK
    rows += [[] for _ in range(5000 - len(rows))] + [["x"] * 40]
    fetched, reports = read_google(config, source)
    [values] = [r for r in google.api_requests("values:batchGet") if KEY in r.path]
    bounds = ReadBounds.for_template(config.template)
    # One row and one column beyond the bounds, to see what lies just outside them.
    assert values.query["ranges"] == [f"'BaoCao'!A1:AA{bounds.rows + 1}"]
    grid = fetched[0].grid
    assert len(grid.rows) <= bounds.rows
    assert max(len(r) for r in grid.rows) <= 26
    assert len(grid.rows[2]) == 2  # the note in AA3 is not kept
    assert reports["941"].status == ACCEPTED
    assert reports["941"].figures == clean["941"].figures
    assert [(f.severity, f.cell) for f in reports["941"].warnings] == [(WARNING, "BaoCao!AA3")]


def clean_grid_of(config) -> list:
    [result] = LocalWorkbookSource(SAMPLES).fetch([config.unit("941")])
    assert isinstance(result.grid, Grid)
    return result.grid.rows
