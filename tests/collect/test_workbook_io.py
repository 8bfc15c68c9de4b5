"""Reading worksheets of .xlsx files into grids (housing_report.collect.workbook_io)."""

from __future__ import annotations

import datetime as dt
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest

from housing_report.collect import workbook_io
from housing_report.collect.base import ReadBounds
from housing_report.collect.workbook_io import WorkbookUnreadable, find_sheet_name, read_workbook_grids
from housing_report.core.models import Formula
from housing_report.core.text import MAX_CELL_TEXT

NFD_LABEL = unicodedata.normalize("NFD", "Số nhà cần hỗ trợ xây mới")
NFC_LABEL = unicodedata.normalize("NFC", NFD_LABEL)


def save(wb: openpyxl.Workbook, path: Path) -> Path:
    wb.save(path)
    return path


@pytest.fixture
def simple_book(tmp_path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "BaoCao"
    ws["A1"] = "KY_BAO_CAO"
    ws["B1"] = "Kỳ báo cáo (ngày)"
    ws["C1"] = "12/03/2025"
    ws["A2"] = "NGAY_LAP"
    ws["C2"] = dt.date(2025, 3, 11)
    ws["A3"] = "NCC"
    ws["C3"] = 12
    ws["D3"] = 2345.5
    ws["E3"] = True
    ws["F3"] = "#REF!"  # openpyxl stores this as an error cell
    ws["G3"] = "=1+1"  # a formula without a cached result
    ws["A5"] = "D"
    ws["B5"] = NFD_LABEL
    ws["E9"] = "xa"
    # Formatting far away must not create trailing rows or columns.
    ws["Z40"].fill = openpyxl.styles.PatternFill("solid", fgColor="FFF2CC")
    ws["B12"] = ""
    ws.merge_cells("B7:D7")
    ws["B7"] = "Tiêu đề gộp ô"
    other = wb.create_sheet("HuongDan")
    other["A1"] = "Hướng dẫn"
    return save(wb, tmp_path / "book.xlsx")


def test_reads_values_with_their_types(simple_book: Path):
    grids = read_workbook_grids(simple_book, ["BaoCao"])
    grid = grids["BaoCao"]
    assert grid is not None
    assert grid.sheet == "BaoCao"
    rows = grid.rows
    assert rows[0] == ["KY_BAO_CAO", "Kỳ báo cáo (ngày)", "12/03/2025"]
    assert rows[1][0] == "NGAY_LAP"
    assert rows[1][2] == dt.datetime(2025, 3, 11)
    ncc = rows[2]
    assert ncc[:6] == ["NCC", None, 12, 2345.5, True, "#REF!"]
    assert isinstance(ncc[2], int)
    assert isinstance(ncc[4], bool)
    # A formula gives its cached result; without one it is a `Formula`, its text, for the parser
    # to report ("công thức chưa được tính"), never an empty cell read as 0 (issue 18).
    assert ncc[6:] == ["=1+1"]
    assert isinstance(ncc[6], Formula)


def test_positions_are_the_sheet_positions_and_trailing_empties_are_dropped(simple_book: Path):
    rows = read_workbook_grids(simple_book, ["BaoCao"])["BaoCao"].rows
    assert rows[3] == []  # an empty row in between is kept as an empty list
    assert rows[8] == [None, None, None, None, "xa"]  # E9
    # The last row with a value is row 9: the styled Z40 and the empty-string B12 add nothing.
    assert len(rows) == 9
    assert all(row == [] or row[-1] is not None for row in rows)


def test_merged_cells_hold_the_value_in_the_top_left_only(simple_book: Path):
    grid = read_workbook_grids(simple_book, ["BaoCao"])["BaoCao"]
    assert grid.rows[6] == [None, "Tiêu đề gộp ô"]
    assert grid.merges == ((6, 1, 6, 3),)  # B7:D7, for the parser to check


def test_nfd_text_is_returned_nfc(simple_book: Path):
    rows = read_workbook_grids(simple_book, ["BaoCao"])["BaoCao"].rows
    assert rows[4][1] == NFC_LABEL
    assert unicodedata.is_normalized("NFC", rows[4][1])


def test_missing_worksheet_is_none_and_others_are_read(simple_book: Path):
    grids = read_workbook_grids(simple_book, ["KhongCo", "HuongDan"])
    assert grids["KhongCo"] is None
    assert grids["HuongDan"].rows == [["Hướng dẫn"]]


def test_sheet_lookup_exact_first_then_trimmed_case_insensitive_nfc(tmp_path: Path):
    wb = openpyxl.Workbook()
    wb.active.title = "BaoCao "  # a stray space, as people type it
    wb.active["A1"] = "spaced"
    exact = wb.create_sheet("BaoCao")
    exact["A1"] = "exact"
    nfd = wb.create_sheet(unicodedata.normalize("NFD", "Phụ Nữ"))
    nfd["A1"] = "women"
    path = save(wb, tmp_path / "names.xlsx")
    grids = read_workbook_grids(path, ["BaoCao", "BAOCAO", "phụ nữ", "Nông dân"])
    assert grids["BaoCao"].rows == [["exact"]]
    assert grids["BaoCao"].sheet == "BaoCao"
    assert grids["BAOCAO"].rows == [["spaced"]]  # no exact match: the first by trimmed, folded name
    assert grids["BAOCAO"].sheet == "BaoCao "  # the grid carries the real title for A1 references
    assert grids["phụ nữ"].rows == [["women"]]
    assert grids["Nông dân"] is None


def test_find_sheet_name():
    names = ["HuongDan", "baocao", "BaoCao", unicodedata.normalize("NFD", "Cựu chiến binh")]
    assert find_sheet_name(names, "BaoCao") == "BaoCao"
    assert find_sheet_name(names, " huongdan") == "HuongDan"
    assert find_sheet_name(names, "CỰU CHIẾN BINH") == names[3]
    assert find_sheet_name(names, "Khác") is None


def test_ten_thousand_rows(tmp_path: Path):
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("BaoCao")
    for i in range(10_000):
        ws.append([f"R{i}", f"Dòng số {i}", i, i * 1.5, i % 2 == 0, None, "x", 3, 4.25, "cuối"])
    path = tmp_path / "big.xlsx"
    wb.save(path)
    rows = read_workbook_grids(path, ["BaoCao"], ReadBounds(rows=10_000))["BaoCao"].rows
    assert len(rows) == 10_000
    assert rows[0] == ["R0", "Dòng số 0", 0, 0, True, None, "x", 3, 4.25, "cuối"]
    assert rows[9_999] == ["R9999", "Dòng số 9999", 9999, 14998.5, False, None, "x", 3, 4.25, "cuối"]
    assert sum(r[2] for r in rows) == sum(range(10_000))


def _google_like_xlsx(path: Path) -> Path:
    """A minimal workbook as Google Sheets writes it: shared strings, styles, wrong dimension."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} {rel_ns}>'
            '<sheets><sheet name="BaoCao" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
            'Target="sharedStrings.xml"/>'
            '<Relationship Id="rId3" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/></Relationships>'
        ),
        "xl/styles.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet {ns}>'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>'
            '<fonts count="1"><font/></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0" xfId="0"/>'
            '<xf numFmtId="164" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="3" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>'
        ),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst {ns} count="4" uniqueCount="4">'
            "<si><t>KY_BAO_CAO</t></si>"
            "<si><t>12/03/2025</t></si>"
            "<si><r><t>Đã hoàn </t></r><r><rPr><b/></rPr><t>thành</t></r></si>"
            f"<si><t>{NFD_LABEL}</t></si>"
            "</sst>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><dimension ref="A1"/><sheetData>'
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>'
            '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c>'
            '<c r="C2" s="1"><v>45727</v></c><c r="D2" s="2"><v>1234</v></c>'
            '<c r="E2" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="F2" t="str"><f>A1&amp;""</f><v>KY</v></c>'
            '<c r="G2" t="b"><v>0</v></c><c r="H2" s="2"/></row>'
            '<row r="4"><c t="inlineStr"><is><t>không có r</t></is></c><c><v>7.25</v></c></row>'
            "</sheetData></worksheet>"
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_google_like_workbook_with_shared_strings_and_wrong_dimension(tmp_path: Path):
    path = _google_like_xlsx(tmp_path / "google.xlsx")
    rows = read_workbook_grids(path, ["BaoCao"])["BaoCao"].rows
    assert rows[0] == ["KY_BAO_CAO", None, "12/03/2025"]
    assert rows[1] == ["Đã hoàn thành", NFC_LABEL, dt.datetime(2025, 3, 11), 1234, "#DIV/0!", "KY", False]
    assert rows[2] == []
    assert rows[3] == ["không có r", 7.25]
    assert len(rows) == 4


def test_missing_file_raises_file_not_found(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        read_workbook_grids(tmp_path / "khong-co.xlsx", ["BaoCao"])


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "rỗng"),
        (b"<!DOCTYPE html><html><body>403</body></html>", "HTML"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "mật khẩu"),
        (b"just some text, not a workbook", "không phải bảng tính"),
        (b"PK\x03\x04 truncated zip", "bị hỏng"),
    ],
)
def test_not_a_workbook_raises_with_a_vietnamese_reason(tmp_path: Path, content: bytes, words: str):
    path = tmp_path / "hong.xlsx"
    path.write_bytes(content)
    with pytest.raises(WorkbookUnreadable) as info:
        read_workbook_grids(path, ["BaoCao"])
    assert words in info.value.reason
    assert "hong.xlsx" in info.value.reason
    assert str(info.value) == info.value.reason


def test_a_zip_that_is_not_a_workbook_is_unreadable(tmp_path: Path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "xin chào")
    with pytest.raises(WorkbookUnreadable) as info:
        read_workbook_grids(path, ["BaoCao"])
    assert "archive.xlsx" in info.value.reason


def test_the_openpyxl_fallback_reads_the_same_grids(tmp_path: Path, simple_book: Path, monkeypatch):
    google = _google_like_xlsx(tmp_path / "google.xlsx")
    fast = [read_workbook_grids(p, ["BaoCao", "HuongDan"]) for p in (simple_book, google)]

    def broken(*args, **kwargs):
        raise RuntimeError("unexpected package layout")

    monkeypatch.setattr(workbook_io, "_FastBook", broken)
    slow = [read_workbook_grids(p, ["BaoCao", "HuongDan"]) for p in (simple_book, google)]
    for f, s in zip(fast, slow, strict=True):
        assert {k: (g.sheet, g.rows) if g else None for k, g in f.items()} == {
            k: (g.sheet, g.rows) if g else None for k, g in s.items()
        }
    assert slow[0]["BaoCao"].rows[2][:6] == ["NCC", None, 12, 2345.5, True, "#REF!"]


def test_a_damaged_worksheet_inside_a_valid_package_is_unreadable(tmp_path: Path):
    good = _google_like_xlsx(tmp_path / "good.xlsx")
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            dst.writestr(info.filename, data)
    with pytest.raises(WorkbookUnreadable) as info:
        read_workbook_grids(damaged, ["BaoCao"])
    assert "damaged.xlsx" in info.value.reason
    assert "BaoCao" in info.value.reason


@pytest.mark.parametrize("path_taken", ["fast", "openpyxl"])
def test_both_readers_bound_clean_and_flag_the_same(tmp_path: Path, monkeypatch, path_taken):
    """Formulas without a value, invisible characters, long text and cells beyond the bounds give
    the same grid on the fast path and on the openpyxl fallback (issue 18)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "BaoCao"
    ws["A1"] = "\ufeffKY_BAO_CAO"
    ws["C1"] = "=TODAY()"
    ws["A2"] = "NCC"
    ws["C2"] = 5
    ws["D2"] = "=C2*2"
    ws["B3"] = "x" * 5000
    ws["E2"] = "ngoài vùng"  # column E, beyond 4 columns
    ws["A9"] = "dòng 9"  # beyond 5 rows
    path = tmp_path / "book.xlsx"
    wb.save(path)
    if path_taken == "openpyxl":

        def broken(*args, **kwargs):
            raise RuntimeError("unexpected package layout")

        monkeypatch.setattr(workbook_io, "_FastBook", broken)
    grid = read_workbook_grids(path, ["BaoCao"], ReadBounds(rows=5, columns=4))["BaoCao"]
    assert grid is not None
    assert grid.rows[:2] == [["KY_BAO_CAO", None, "=TODAY()"], ["NCC", None, 5, "=C2*2"]]
    assert [type(v).__name__ for v in (grid.rows[0][2], grid.rows[1][3])] == ["Formula", "Formula"]
    assert grid.rows[2][1] == "x" * (MAX_CELL_TEXT - 1) + "…"
    assert len(grid.rows) == 3
    assert grid.bounds == (5, 4)
    assert grid.beyond == (1, 4)
