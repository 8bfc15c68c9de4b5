from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from housing_report.core.models import Formula, Grid
from housing_report.core.statuses import ACCEPTED, REJECTED, STALE, WARNING
from housing_report.core.text import MAX_LIST_TEXT
from housing_report.validate.parse import parse_report
from tests.support.grids import TABLE_A, col_of, find, grid, set_cell, unit_rows

PERIOD = dt.date(2025, 3, 12)


def parse(config, rows, code="941"):
    unit = config.unit(code)
    return parse_report(grid(rows), unit, config.template, config.report.rules, PERIOD)


@pytest.mark.parametrize(
    ("kind", "code"), [("district", "941"), ("organization", "MTTQ"), ("press", "BAO_ST")]
)
def test_valid_sheet_of_each_kind_is_accepted(config, kind, code):
    report = parse(config, unit_rows(config, kind), code)
    assert report.status == ACCEPTED, [f.message for f in report.findings]
    assert report.errors == []
    assert set(report.figures) == set(config.template.used_figure_keys(kind))


def test_figures_are_read_by_code(config):
    report = parse(config, unit_rows(config))
    assert report.figures["A.MTQG.CAN_XM"] == 240
    assert report.figures["A.KHAC.HT_SC"] == 3
    assert report.figures["B.NSTW.GIAI_NGAN"] == 9500.5
    assert report.figures["C_LUOT_DU"] == 820
    assert report.info["KY_BAO_CAO"] == "12/03/2025"
    assert report.lists["D"][0]["place"] == "Xã Hòa Tú 1, Mỹ Xuyên"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("1.234", 1234, id="thousands-dot"),
        pytest.param(" 1.234 ", 1234, id="spaces-around"),
        pytest.param("\u00a0250\u00a0", 250, id="no-break-spaces"),
        pytest.param(1234.0, 1234, id="real-number-integral"),
        pytest.param(None, 0, id="empty-cell-is-zero"),
        pytest.param("", 0, id="empty-text-is-zero"),
    ],
)
def test_valid_count_values(config, value, expected):
    rows = unit_rows(config)
    rows[find(rows, "MTQG")][col_of(rows, "A", "CAN_XM")] = value
    rows[find(rows, "MTQG")][col_of(rows, "A", "KC_XM")] = 0
    rows[find(rows, "MTQG")][col_of(rows, "A", "HT_XM")] = 0
    report = parse(config, rows)
    assert report.status == ACCEPTED, [f.message for f in report.findings]
    assert report.figures["A.MTQG.CAN_XM"] == expected


def test_vietnamese_decimal_text_in_money(config):
    rows = unit_rows(config)
    set_cell(rows, "NSDP", col_of(rows, "B", "HUY_DONG"), "4.345,5")
    report = parse(config, rows)
    assert report.status == ACCEPTED
    assert report.figures["B.NSDP.HUY_DONG"] == 4345.5


@pytest.mark.parametrize(
    ("value", "words"),
    [
        pytest.param("mười hai", "không phải là số", id="words"),
        pytest.param("12 căn", "có chữ kèm theo số", id="number-with-unit"),
        pytest.param("#REF!", "lỗi công thức", id="ref-error"),
        pytest.param("#N/A", "lỗi công thức", id="na-error"),
        pytest.param(-5, "số âm", id="negative"),
        pytest.param("-5", "số âm", id="negative-text"),
        pytest.param(7.5, "số lẻ", id="fraction-in-count"),
        pytest.param("7,5", "số lẻ", id="fraction-text-in-count"),
        pytest.param("1.5", "dấu chấm", id="english-decimal"),
        pytest.param(True, "đúng/sai", id="boolean"),
        pytest.param(dt.datetime(2025, 3, 1), "ngày tháng", id="date-in-number-cell"),
    ],
)
def test_bad_count_is_an_error_naming_unit_cell_found_and_fix(config, value, words):
    rows = unit_rows(config)
    cell = set_cell(rows, "PTTD", col_of(rows, "A", "HT_XM"), value)
    report = parse(config, rows)
    assert report.status == REJECTED
    assert report.figures == {}
    [error] = report.errors
    assert error.cell == cell == "BaoCao!G" + str(find(rows, "PTTD") + 1)
    assert error.code == "HT_XM"
    assert "Thành phố Sóc Trăng" in error.message
    assert cell in error.message
    assert words in error.message
    assert "Hãy" in error.message  # what to write instead
    assert unicodedata.is_normalized("NFC", error.message)


def test_money_with_more_than_three_decimals_is_an_error(config):
    rows = unit_rows(config)
    cell = set_cell(rows, "VAY", col_of(rows, "B", "HUY_DONG"), 600.1234)
    report = parse(config, rows)
    [error] = report.errors
    assert error.cell == cell
    assert "3 chữ số thập phân" in error.message


def test_completed_over_started_names_both_cells(config):
    rows = unit_rows(config)
    r = find(rows, "NCC")
    rows[r][col_of(rows, "A", "HT_SC")] = 9  # KC_SC is 6
    report = parse(config, rows)
    [error] = report.errors
    assert error.cell == f"BaoCao!H{r + 1}"
    assert f"BaoCao!F{r + 1}" in error.message
    assert "(9)" in error.message
    assert "6" in error.message


def test_disbursed_over_mobilised_is_an_error(config):
    rows = unit_rows(config)
    cell = set_cell(rows, "NSDP", col_of(rows, "B", "GIAI_NGAN"), 5000)
    report = parse(config, rows)
    assert [e.cell for e in report.errors] == [cell]


def test_duplicated_code_is_an_error_at_the_second(config):
    rows = unit_rows(config)
    dup = find(rows, "C_LOA")
    rows.insert(dup + 1, ["C_LOA", "Lượt phát lặp", 5])
    report = parse(config, rows)
    [error] = report.errors
    assert error.cell == f"BaoCao!A{dup + 2}"
    assert "hai lần" in error.message
    assert f"BaoCao!A{dup + 1}" in error.message


def test_missing_row_code(config):
    rows = unit_rows(config)
    del rows[find(rows, "KHAC")]
    report = parse(config, rows)
    assert report.status == REJECTED
    [error] = report.errors
    assert error.code == "KHAC"
    assert error.cell == f"BaoCao!A{find(rows, 'A') + 1}"


def test_missing_column_code(config):
    rows = unit_rows(config)
    header = find(rows, "A")
    rows[header][rows[header].index("KC_SC")] = None
    report = parse(config, rows)
    [error] = report.errors
    assert error.code == "KC_SC"
    assert "thiếu mã cột" in error.message


def test_missing_table_for_a_district(config):
    rows = [r for r in unit_rows(config) if not (r and r[0] in ("A", "NCC", "MTQG", "PTTD", "KHAC"))]
    report = parse(config, rows)
    assert [e.code for e in report.errors] == ["A"]


def test_reordered_columns_and_inserted_rows_are_read_by_code(config):
    rows = unit_rows(config)
    header = find(rows, "A")
    first = header + 2  # after the labels row
    # Reverse the column order of table A (header and every data row).
    for r in [header, header + 1, *range(first, first + 4)]:
        rows[r] = rows[r][:2] + list(reversed(rows[r][2:]))
    # Insert a blank row, a note and an extra column inside the table.
    rows.insert(first + 1, [None, "ghi chú: số liệu xã A chưa đủ"])
    rows.insert(first + 1, [])
    for r in range(header, header + 8):
        rows[r] = rows[r][:2] + ["(cột phụ)"] + rows[r][2:] if rows[r] else rows[r]
    report = parse(config, rows)
    assert report.status == ACCEPTED, [f.message for f in report.findings]
    for row_code, values in TABLE_A.items():
        cols = ["CAN_XM", "CAN_SC", "KC_XM", "KC_SC", "HT_XM", "HT_SC"]
        for col, expected in zip(cols, values, strict=True):
            assert report.figures[f"A.{row_code}.{col}"] == expected


def test_codes_matched_trimmed_and_case_insensitive(config):
    rows = unit_rows(config)
    rows[find(rows, "NGAY_CONG")][0] = "  ngay_cong "
    report = parse(config, rows)
    assert report.status == ACCEPTED
    assert report.figures["NGAY_CONG"] == 3200


def test_labels_in_decomposed_unicode_are_fine(config):
    rows = unit_rows(config)
    for r in rows:
        if len(r) > 1 and isinstance(r[1], str):
            r[1] = unicodedata.normalize("NFD", r[1])
    rows[find(rows, "D")][1] = unicodedata.normalize("NFD", "Gương điển hình ở Kế Sách")
    report = parse(config, rows)
    assert report.status == ACCEPTED
    assert report.lists["D"][0]["text"] == unicodedata.normalize("NFC", "Gương điển hình ở Kế Sách")


def test_another_period_is_stale(config):
    report = parse(config, unit_rows(config, period="27/02/2025"))
    assert report.status == STALE
    assert report.period_found == dt.date(2025, 2, 27)
    assert report.figures == {}
    assert "chưa cập nhật" in report.findings[0].message


def test_period_as_real_date_cell(config):
    report = parse(config, unit_rows(config, period=dt.datetime(2025, 3, 12)))
    assert report.status == ACCEPTED


@pytest.mark.parametrize(
    "value", ["tháng 3", "32/03/2025", "", None], ids=["words", "no-such-day", "empty", "none"]
)
def test_unparseable_period_is_an_error(config, value):
    rows = unit_rows(config, period=value)
    report = parse(config, rows)
    assert report.status == REJECTED
    [error] = report.errors
    assert error.code == "KY_BAO_CAO"
    assert error.cell == f"BaoCao!C{find(rows, 'KY_BAO_CAO') + 1}"
    assert "12/03/2025" in error.message


def test_empty_worksheet_is_one_clear_error(config):
    report = parse(config, [])
    assert report.status == REJECTED
    [error] = report.errors
    assert error.cell == "BaoCao!A1"
    assert "trống" in error.message


def test_wholly_empty_required_section_is_not_filled_in(config):
    rows = unit_rows(config)
    for code in (
        "C_TIN_BAI",
        "C_PHONG_SU",
        "C_HOI_NGHI",
        "C_LUOT_DU",
        "C_LOA",
        "C_MXH",
        "C_AN_PHAM",
        "C_PANO",
    ):
        rows[find(rows, code)][2] = None
    report = parse(config, rows)
    [error] = report.errors
    assert "chưa được điền" in error.message


def test_empty_cells_in_a_filled_section_are_zero(config):
    rows = unit_rows(config)
    rows[find(rows, "C_PANO")][2] = None
    report = parse(config, rows)
    assert report.status == ACCEPTED
    assert report.figures["C_PANO"] == 0


def test_merged_cells_in_labels_and_titles_are_ignored(config):
    # A merged range is read as its top-left value with None in the other cells.
    rows = unit_rows(config)
    rows.insert(0, [None, "ỦY BAN NHÂN DÂN", None, None, None])
    report = parse(config, rows)
    assert report.status == ACCEPTED


def test_unknown_code_is_a_warning_not_an_error(config):
    rows = unit_rows(config)
    rows.append(["GHI_CHU", "ghi chú thêm"])
    report = parse(config, rows)
    assert report.status == ACCEPTED
    [warning] = report.warnings
    assert warning.code == "GHI_CHU"


def test_sheet_name_with_spaces_is_quoted_in_cells(config):
    rows = unit_rows(config)
    set_cell(rows, "C_LOA", 2, "nhiều")
    report = parse_report(
        grid(rows, sheet="Báo cáo"), config.unit("941"), config.template, config.report.rules, PERIOD
    )
    assert report.errors[0].cell.startswith("'Báo cáo'!C")


def test_ten_thousand_row_sheet(config):
    rows = unit_rows(config)
    rows += [[None, f"ghi chú {i}", i] for i in range(10_000)]
    rows += [["E", "Khó khăn cuối trang"]]
    report = parse(config, rows)
    assert report.status == ACCEPTED
    assert report.lists["E"][-1]["text"] == "Khó khăn cuối trang"


def test_findings_come_in_sheet_order(config):
    rows = unit_rows(config)
    set_cell(rows, "C_PANO", 2, "x")
    set_cell(rows, "NCC", 2, "y")
    report = parse(config, rows)
    cells = [e.cell for e in report.errors]
    assert cells == sorted(cells, key=lambda c: int(c.split("!")[1][1:]))


def test_sheets_sharing_column_a_are_each_checked_on_their_own_headers_and_names(config):
    """Scanning is shared between sheets with the same column A (the template's): a sheet whose
    table header differs, or a unit of another name, still gets its own findings."""
    from housing_report.validate.parse import parse_reports

    plain = unit_rows(config)
    unknown = unit_rows(config)
    unknown.append(["GHI_CHU", "ghi chú thêm"])
    odd_header = [list(r) for r in unknown]
    header = find(odd_header, "A")
    odd_header[header][odd_header[header].index("KC_SC")] = "KC_SUA"
    units = [config.unit("941"), config.unit("942"), config.unit("943"), config.unit("944")]
    sheets = [grid(plain), grid(unknown), grid([list(r) for r in unknown]), grid(odd_header)]
    reports = parse_reports(
        list(zip(sheets, units, strict=True)), config.template, config.report.rules, PERIOD
    )
    assert reports[0].status == ACCEPTED
    assert reports[0].findings == []
    # Same column A (the note row) for 942, 943 and 944: each unit's warning, in its own name.
    for report, unit in ((reports[1], units[1]), (reports[2], units[2])):
        assert report.status == ACCEPTED
        [warning] = report.warnings
        assert warning.code == "GHI_CHU"
        assert warning.message.startswith(f"{unit.name}, ô ")
    # 944's table header lacks KC_SC (KC_SUA instead): its own scan finds it.
    assert reports[3].status == REJECTED
    assert {f.code for f in reports[3].findings} >= {"KC_SUA", "KC_SC", "GHI_CHU"}


# ---------------------------------------------------------------------- cells not readable as typed


def test_invisible_characters_in_codes_are_ignored(config):
    """A grid from anywhere (not only the readers, which strip them already)."""
    rows = unit_rows(config)
    rows[find(rows, "NGAY_CONG")][0] = "\ufeffNGAY_\u200bCONG"
    rows[find(rows, "A")][col_of(rows, "A", "KC_XM")] = "KC_XM\u2060"
    report = parse(config, rows)
    assert report.status == ACCEPTED
    assert report.figures["NGAY_CONG"] == 3200
    assert report.figures["A.NCC.KC_XM"] == TABLE_A["NCC"][2]


def test_a_merge_of_a_label_and_its_value_is_an_error_naming_the_range(config):
    rows = unit_rows(config)
    r = find(rows, "NGAY_CONG")
    rows[r][2] = None  # hidden under the label, as a sheet program keeps it
    report = parse_report(
        Grid("BaoCao", rows, merges=((r, 1, r, 2),)),
        config.unit("941"),
        config.template,
        config.report.rules,
        PERIOD,
    )
    assert report.status == REJECTED
    assert [(f.cell, f.message) for f in report.errors] == [
        (
            f"BaoCao!C{r + 1}",
            f"Thành phố Sóc Trăng, ô BaoCao!C{r + 1}: ô B{r + 1}:C{r + 1} đang được gộp; hãy bỏ gộp ô và "
            f"nhập từng số vào từng ô («Số ngày công lao động hỗ trợ» phải nằm riêng ở ô C{r + 1}).",
        )
    ]


def test_one_finding_for_a_merge_over_several_value_cells(config):
    rows = unit_rows(config)
    r = find(rows, "NCC")
    report = parse_report(
        Grid("BaoCao", rows, merges=((r, 2, r + 1, 7),)),
        config.unit("941"),
        config.template,
        config.report.rules,
        PERIOD,
    )
    assert report.status == REJECTED
    assert [f.cell for f in report.errors] == [f"BaoCao!D{r + 1}"]
    assert f"ô C{r + 1}:H{r + 2} đang được gộp" in report.errors[0].message


def test_a_formula_without_a_value_in_a_list_is_a_warning_and_not_read(config):
    rows = unit_rows(config)
    r = find(rows, "D")
    rows[r][1] = Formula('="Gương điển hình ở "&C46')
    report = parse(config, rows)
    assert report.status == ACCEPTED
    assert all(e["cell"] != f"BaoCao!B{r + 1}" for e in report.lists.get("D", []))
    [warning] = [f for f in report.warnings if f.cell == f"BaoCao!B{r + 1}"]
    assert warning.severity == WARNING
    assert "công thức chưa được tính, hãy nhập nội dung" in warning.message


def test_content_beyond_the_bounds_read_is_a_warning_naming_the_sheet_and_cell(config):
    report = parse_report(
        Grid("Báo cáo", unit_rows(config), bounds=(500, 26), beyond=(799, 2)),
        config.unit("941"),
        config.template,
        config.report.rules,
        PERIOD,
    )
    assert report.status == ACCEPTED
    [warning] = [f for f in report.warnings if f.code == "LAYOUT"]
    assert warning.cell == "'Báo cáo'!C800"
    assert warning.message == (
        "Thành phố Sóc Trăng, ô 'Báo cáo'!C800: trang tính Báo cáo có nội dung ở ô C800, ngoài vùng "
        "được đọc (cột A đến Z, dòng 1 đến 500); phần ngoài vùng này không được đọc. Nếu đó là số "
        "liệu của mẫu, hãy đưa về đúng dòng, đúng cột của mẫu; nếu không, hãy xóa đi."
    )


def test_every_free_text_is_cut_to_the_list_limit(config):
    rows = unit_rows(config)
    rows[find(rows, "NGUOI_LAP")][2] = "Nguyễn " * 1000
    rows[find(rows, "D")][1:3] = ["Gương " * 1000, "Xã " * 1000]
    report = parse(config, rows)
    [entry, *_] = report.lists["D"]
    for text in (entry["text"], entry["place"], report.info["NGUOI_LAP"]):
        assert len(text) <= MAX_LIST_TEXT
        assert text.endswith("…")
