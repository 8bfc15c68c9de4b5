"""The generated blank unit workbook (housing_report.setup.template_workbook)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import openpyxl
import pytest

from housing_report.collect.workbook_io import read_workbook_grids
from housing_report.config import Config, load_config
from housing_report.setup.layout import INSTRUCTIONS_SHEET, layout, layout_rows, value_cell
from housing_report.setup.template_workbook import build_template_workbook, write_template


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def blank(config: Config, tmp_path_factory) -> Path:
    return write_template(config, tmp_path_factory.mktemp("tpl") / "mau-bao-cao.xlsx")


def column_a(rows: list[list]) -> list:
    return [row[0] if row else None for row in rows]


def test_workbook_has_the_report_sheet_then_the_instructions(config: Config):
    wb = build_template_workbook(config)
    assert wb.sheetnames == [config.template.worksheet, INSTRUCTIONS_SHEET]
    assert wb.active.title == "BaoCao"


def test_sheet_as_read_back_is_the_layout(config: Config, blank: Path):
    grid = read_workbook_grids(blank, ["BaoCao"])["BaoCao"]
    expected = layout_rows(config)
    assert len(grid.rows) == len(expected)
    assert column_a(grid.rows) == column_a(expected)
    for got, want in zip(grid.rows, expected, strict=True):
        want = list(want)
        while want and want[-1] is None:
            want.pop()
        assert got == want


def test_every_code_of_the_config_is_in_column_a(config: Config, blank: Path):
    codes = column_a(read_workbook_grids(blank, ["BaoCao"])["BaoCao"].rows)
    present = [c for c in codes if c]
    for section in config.template.sections:
        if section.kind == "fields":
            for f in section.fields:
                assert present.count(f.code) == 1, f.code
        elif section.kind == "table":
            assert present.count(section.code) == 1, section.code
            for r in section.rows:
                assert present.count(r.code) == 1, r.code
        else:
            assert present.count(section.code) >= 1, section.code


def test_table_header_rows_then_labels_then_row_codes(config: Config, blank: Path):
    rows = read_workbook_grids(blank, ["BaoCao"])["BaoCao"].rows
    for table in (s for s in config.template.sections if s.kind == "table"):
        i = column_a(rows).index(table.code)
        header, labels = rows[i], rows[i + 1]
        assert header[2:] == [c.code for c in table.columns]
        assert table.label.upper() in header[1]
        assert labels[0] is None  # ignored by the pipeline
        assert labels[2:] == [c.label for c in table.columns]
        assert labels[1] == f"Đơn vị tính: {table.unit}"
        for k, r in enumerate(table.rows, start=2):
            assert rows[i + k][:2] == [r.code, r.label]
            assert len(rows[i + k]) == 2  # value cells are empty


def test_field_rows_have_code_label_and_an_empty_value(config: Config, blank: Path):
    rows = read_workbook_grids(blank, ["BaoCao"])["BaoCao"].rows
    by_code = {row[0]: row for row in rows if row and row[0]}
    for code, (_section, item) in config.template.field_codes.items():
        assert by_code[code] == [code, item.label]


def test_lists_have_rows_with_their_code_and_titles_are_on_ignored_rows(config: Config, blank: Path):
    rows = read_workbook_grids(blank, ["BaoCao"])["BaoCao"].rows
    a = column_a(rows)
    assert a.count("D") == a.count("E") == a.count("F") == 3
    titles = [row[1] for row in rows if row and row[0] is None and len(row) > 1]
    assert "I. THÔNG TIN CHUNG" in titles
    assert any(t.startswith("VI. GƯƠNG ĐIỂN HÌNH") for t in titles)
    assert "Đơn vị tính: căn" in titles
    assert "Đơn vị tính: triệu đồng" in titles
    assert "Địa bàn (xã, huyện)" in rows[a.index("D") - 1]


def test_all_text_is_nfc(blank: Path):
    wb = openpyxl.load_workbook(blank)
    texts = [
        v for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)
    ]
    wb.close()
    assert len(texts) > 50
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)


def test_text_like_value_cells_are_formatted_as_text_and_value_cells_filled(config: Config):
    wb = build_template_workbook(config)
    ws = wb["BaoCao"]
    rows = layout(config)
    for code in ("DON_VI", "KY_BAO_CAO", "NGUOI_LAP", "DIEN_THOAI", "NGAY_LAP"):
        assert ws[value_cell(rows, code)].number_format == "@", code
    assert ws[value_cell(rows, "NGAY_CONG")].number_format == "#,##0"
    money = ws[value_cell(rows, "B.XHH.HUY_DONG")]
    assert money.number_format != "@"
    assert "0" in money.number_format
    assert money.fill.fgColor.rgb.endswith("FFF2CC")
    assert ws.freeze_panes == "C4"
    assert ws.column_dimensions["B"].width > 40
    assert ws["B1"].font.bold


def test_value_cell_addresses(config: Config):
    rows = layout(config)
    a = column_a([list(r.cells) for r in rows])
    ky = a.index("KY_BAO_CAO") + 1
    assert value_cell(rows, "KY_BAO_CAO") == f"C{ky}"
    mtqg = a.index("MTQG") + 1
    assert value_cell(rows, "A.MTQG.HT_XM", "BaoCao") == f"BaoCao!G{mtqg}"
    with pytest.raises(KeyError):
        value_cell(rows, "A.MTQG.KHONG_CO")


def test_prefilled_for_a_unit(config: Config, tmp_path: Path):
    org = config.unit("HCCB")
    path = write_template(config, tmp_path / "hccb.xlsx", org)
    grids = read_workbook_grids(path, [org.worksheet, INSTRUCTIONS_SHEET])
    rows = grids[org.worksheet].rows
    assert grids[org.worksheet].sheet == "CuuChienBinh"
    assert [r for r in rows if r and r[0] == "DON_VI"] == [
        ["DON_VI", "Đơn vị báo cáo", "Hội Cựu chiến binh tỉnh"]
    ]
    a = column_a(rows)
    # An organisation fills row XHH of table B only, and no table A.
    assert "A" not in a
    assert "NCC" not in a
    assert "NSTW" not in a
    assert "B" in a
    assert "XHH" in a
    assert "NGAY_CONG" in a
    assert "C_TIN_BAI" in a
    text = " ".join(str(v) for r in grids[INSTRUCTIONS_SHEET].rows for v in r if v)
    assert "Hội Cựu chiến binh tỉnh" in text
    assert '"CuuChienBinh"' in text


def test_press_template_has_no_tables(config: Config):
    press = config.unit("BAO_ST")
    a = [r.code for r in layout(config, press.kind) if r.code]
    assert "A" not in a
    assert "B" not in a
    assert "NGAY_CONG" not in a
    assert "KY_BAO_CAO" in a
    assert "C_TIN_BAI" in a
    assert "D" in a


def test_instructions_explain_numbers_dates_and_kinds(config: Config, blank: Path):
    rows = read_workbook_grids(blank, [INSTRUCTIONS_SHEET])[INSTRUCTIONS_SHEET].rows
    text = "\n".join(str(v) for r in rows for v in r if v)
    assert '"1.234"' in text
    assert '"2.345,5"' in text
    assert "12/03/2025" in text
    assert "27/03/2025" in text
    assert "cột A" in text
    assert "12 căn" in text
    for kind in config.template.kinds.values():
        assert kind.label in text
    assert "chỉ dòng XHH" in text
    assert "Đã giải ngân (GIAI_NGAN) không lớn hơn" in text


def test_writing_twice_gives_the_same_bytes(config: Config, tmp_path: Path):
    one = write_template(config, tmp_path / "1.xlsx").read_bytes()
    two = write_template(config, tmp_path / "2.xlsx").read_bytes()
    assert one == two
