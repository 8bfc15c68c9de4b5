from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zipfile

import openpyxl
import pytest

from housing_report.core.models import TOTAL_LABEL
from housing_report.core.statuses import STATUS_LABELS
from housing_report.core.summary import FindingEntry
from housing_report.render.cells import COUNT_FORMAT, MONEY_FORMAT
from housing_report.render.workbook import write_summary_workbook
from tests.support.summary_fixture import FORMULA, make_first_summary, make_summary

SHEETS = ["TongHop", "BangA", "BangB", "TuyenTruyen", "TinhTrang", "LoiCanhBao"]
FIGURE_SHEETS = ["BangA", "BangB", "TuyenTruyen"]
# The only formulas in the workbook: a totals cell adding up the column above it.
SUM = re.compile(r"^=?SUM\(([A-Z]+)(\d+):\1(\d+)\)$")


@pytest.fixture(scope="module")
def summary():
    return make_summary()


@pytest.fixture(scope="module")
def path(tmp_path_factory, summary, config):
    return write_summary_workbook(summary, config, tmp_path_factory.mktemp("wb") / "out" / "tong-hop.xlsx")


@pytest.fixture(scope="module")
def workbook(path):
    """The workbook as a reader that does not recalculate sees it: the totals' stored values."""
    return openpyxl.load_workbook(path, data_only=True)


@pytest.fixture(scope="module")
def formulas(path):
    return openpyxl.load_workbook(path)


def figure_table(ws):
    """(codes, unit rows by unit code, totals row) of a figure sheet, read by its (hidden) code
    row; the totals row is the one labelled "Tổng cộng" after the units."""
    code_row = next(r for r in range(1, 20) if ws.cell(r, 1).value == "UNIT_CODE")
    codes = [c.value for c in ws[code_row]]
    units, totals = {}, None
    for row in ws.iter_rows(min_row=code_row + 1):
        if row[1].value == TOTAL_LABEL and row[0].value is None:
            totals = row
            break
        units[row[0].value] = row
    return codes, units, totals


def test_sheets(workbook):
    assert workbook.sheetnames == SHEETS


@pytest.mark.parametrize("sheet", FIGURE_SHEETS)
def test_columns_add_up_to_the_totals_row_and_the_summary(workbook, formulas, summary, sheet):
    codes, units, totals = figure_table(workbook[sheet])
    figure_columns = [(i, code) for i, code in enumerate(codes) if i >= 4]
    assert figure_columns
    rows = [row[0].row for row in units.values()]
    _, _, total_formulas = figure_table(formulas[sheet])
    for i, key in figure_columns:
        column_sum = sum(row[i].value or 0 for row in units.values())
        assert column_sum == pytest.approx(totals[i].value, abs=1e-6), key
        assert totals[i].value == pytest.approx(summary.totals[key], abs=1e-6), key
        # The totals cell is the sum of the unit rows above it, for whoever recalculates.
        formula = SUM.match(total_formulas[i].value)
        assert formula, (key, total_formulas[i].value)
        assert formula.group(1) == total_formulas[i].column_letter
        assert (int(formula.group(2)), int(formula.group(3))) == (min(rows), max(rows))


def test_table_a_has_every_cell_code_and_one_row_per_district(workbook, summary, config):
    codes, units, _ = figure_table(workbook["BangA"])
    section = config.template.section("A")
    expected = [f"A.{r}.{c.code}" for r in [*(r.code for r in section.rows), "TONG"] for c in section.columns]
    assert codes[4:] == expected
    assert list(units) == [u.code for u in summary.units if u.kind == "district"]
    row = units["941"]
    assert row[codes.index("A.NCC.CAN_XM")].value == 40
    assert row[codes.index("A.TONG.HT_XM")].value == 22 + 50 + 70 + 5  # the unit's own total
    # Never accepted: no figures, not zeros.
    assert all(cell.value is None for cell in units["945"][4:])


def test_table_b_includes_the_organisations_xhh_only(workbook, summary):
    codes, units, _ = figure_table(workbook["BangB"])
    assert "MTTQ" in units
    assert "BAO_ST" not in units  # press fills no table B
    mttq = {codes[i]: cell.value for i, cell in enumerate(units["MTTQ"]) if i >= 4}
    assert mttq["B.XHH.HUY_DONG"] == pytest.approx(12500.75)
    assert mttq["B.XHH.GIAI_NGAN"] == pytest.approx(10250.5)
    assert mttq["B.TONG.HUY_DONG"] == pytest.approx(12500.75)
    assert mttq["B.NSTW.HUY_DONG"] is None
    ws = workbook["BangB"]
    assert ws["A2"].value.startswith("Đơn vị tính: triệu đồng")


def test_propaganda_sheet_covers_every_kind(workbook):
    codes, units, _ = figure_table(workbook["TuyenTruyen"])
    assert {"941", "MTTQ", "BAO_ST"} <= set(units)
    assert units["BAO_ST"][codes.index("C_TIN_BAI")].value == 48
    assert units["BAO_ST"][codes.index("NGAY_CONG")].value is None  # press has no mobilisation
    # Rejected: cumulative mobilisation carried forward, no propaganda this period.
    assert units["943"][codes.index("NGAY_CONG")].value == 4210
    assert units["943"][codes.index("C_TIN_BAI")].value is None


def test_status_and_data_period_of_each_unit_in_figure_sheets(workbook):
    codes, units, _ = figure_table(workbook["BangA"])
    assert units["941"][2].value == "Đã tiếp nhận"
    assert units["941"][3].value.date() == dt.date(2025, 3, 12)
    assert units["943"][2].value == "Bị trả lại (có lỗi)"
    assert units["943"][3].value.date() == dt.date(2025, 2, 27)
    assert units["943"][3].number_format == "DD/MM/YYYY"


@pytest.mark.parametrize(
    ("sheet", "key", "fmt"),
    [
        ("BangA", "A.NCC.CAN_XM", COUNT_FORMAT),
        ("BangB", "B.NSTW.HUY_DONG", MONEY_FORMAT),
        ("TuyenTruyen", "C_LUOT_DU", COUNT_FORMAT),
    ],
    ids=["count", "money", "field"],
)
def test_number_formats_group_thousands(workbook, sheet, key, fmt):
    codes, units, totals = figure_table(workbook[sheet])
    i = codes.index(key)
    assert units["941"][i].number_format == fmt
    assert totals[i].number_format == fmt


@pytest.mark.parametrize("sheet", SHEETS)
def test_headers_are_bold_and_frozen(workbook, sheet):
    ws = workbook[sheet]
    assert ws.freeze_panes is not None
    first_data_row = int("".join(ch for ch in ws.freeze_panes if ch.isdigit()))
    header_row = next(r for r in range(1, first_data_row) if ws.cell(r, 1).value in ("STT", "Mã đơn vị"))
    labels = [c for c in ws[header_row] if c.value]
    assert len(labels) >= 4
    assert all(c.font.bold for c in labels)
    assert ws.column_dimensions["B"].width >= 30


def summary_rows(ws) -> dict[str, tuple]:
    """TongHop's rows by their code (the hidden last column)."""
    return {r[6]: r for r in ws.iter_rows(min_row=5, max_col=7, values_only=True) if r[6]}


def test_summary_sheet(workbook, summary, config):
    ws = workbook["TongHop"]
    rows = summary_rows(ws)
    assert rows["houses.needed"][2:5] == (4518, "căn", 4518)
    assert rows["houses.completed"][2:6] == (1574, "căn", 1452, 122)
    assert rows["completion_percent"][2] == pytest.approx(summary.completion_percent)
    assert rows["completion_percent"][5] == pytest.approx(34.84 - 32.14)
    assert rows["B.TONG.HUY_DONG"][2] == pytest.approx(summary.totals["B.TONG.HUY_DONG"])
    assert rows["B.TONG.HUY_DONG"][3] == "triệu đồng"
    assert rows["NGAY_CONG"][2] == summary.totals["NGAY_CONG"]
    assert rows["NGAY_CONG"][1] == "Số ngày công lao động hỗ trợ"
    assert rows["NGAY_CONG"][5] == summary.change["NGAY_CONG"]
    assert rows["C_TIN_BAI"][2] == summary.totals["C_TIN_BAI"]
    assert rows["C_TIN_BAI"][5] is None  # propaganda is per period: no change shown
    for status, count in summary.status_counts.items():
        assert rows[f"status_counts.{status}"][1:3] == (STATUS_LABELS[status], count)
    assert rows["units"][2] == len(summary.units)


def test_summary_sheet_reads_in_words(workbook, formulas):
    """What is printed of TongHop (columns A-F) is numbered and named in words; the codes are in
    the hidden column G, which is not printed."""
    ws = workbook["TongHop"]
    assert [c.value for c in ws[4]][:6] == [
        "STT",
        "Chỉ tiêu",
        "Giá trị",
        "Đơn vị tính",
        "Kỳ trước",
        "So với kỳ trước",
    ]
    assert formulas["TongHop"].column_dimensions["G"].hidden
    code = re.compile(r"^[A-Za-z_]+(\.[A-Za-z_]+)+$|^[A-Z]+_[A-Z_]+$")
    shown = [v for row in ws.iter_rows(max_col=6, values_only=True) for v in row if isinstance(v, str)]
    assert shown
    assert not [v for v in shown if code.match(v)]
    numbers = [r[0] for r in ws.iter_rows(min_row=5, max_col=1, values_only=True) if r[0] is not None]
    assert numbers == list(range(1, len(numbers) + 1))


def test_summary_sheet_without_a_previous_period(tmp_path, config):
    path = write_summary_workbook(make_first_summary(), config, tmp_path / "first.xlsx")
    rows = summary_rows(openpyxl.load_workbook(path)["TongHop"])
    # No earlier figures: nothing under "Kỳ trước", an unknown change ("–", never 0).
    assert rows["houses.completed"][4:6] == (None, "–")
    assert rows["NGAY_CONG"][4:6] == (None, "–")
    assert rows["C_TIN_BAI"][4:6] == (None, None)  # per period: no change to show


@pytest.mark.parametrize("sheet", SHEETS)
def test_every_sheet_prints_on_a4_with_its_header_on_every_page(formulas, sheet):
    ws = formulas[sheet]
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    assert ws.page_setup.orientation == ("portrait" if sheet == "TongHop" else "landscape")
    assert ws.print_title_rows
    first, last = (int(r.strip("$")) for r in ws.print_title_rows.split(":"))
    assert ws.cell(first, 1).value in ("STT", "Mã đơn vị")
    assert "&P" in ws.oddFooter.center.text  # page numbers
    assert ws.page_margins.left >= 0.5
    if sheet in FIGURE_SHEETS:
        # Dozens of columns: a group of them to a page, the unit's code and name repeated,
        # scaled no further than the widest page needs.
        assert not ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_cols == "$A:$B"
        assert 60 <= ws.page_setup.scale <= 100
        assert ws.col_breaks.brk
    else:
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)


@pytest.mark.parametrize("sheet", FIGURE_SHEETS)
def test_the_code_row_is_hidden_and_not_printed(formulas, sheet):
    ws = formulas[sheet]
    code_row = next(r for r in range(1, 20) if ws.cell(r, 1).value == "UNIT_CODE")
    assert ws.row_dimensions[code_row].hidden
    first, last = (int(r.strip("$")) for r in ws.print_title_rows.split(":"))
    assert last < code_row  # the labels repeat on every page, the codes do not
    assert ws.cell(last, 5).value  # the figures' labels
    _, units, totals = figure_table(ws)
    assert totals[0].value is None  # no code in the totals row, its label in words
    assert totals[1].value == TOTAL_LABEL


def test_status_sheet(workbook, summary, config):
    ws = workbook["TinhTrang"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=5, values_only=True) if r[0]}
    assert list(rows) == [u.code for u in summary.units]
    for unit in summary.units:
        row = rows[unit.code]
        assert row[1] == unit.name
        assert row[2] == config.template.kinds[unit.kind].label
        assert row[3] == STATUS_LABELS[unit.status]
        carried = unit.carried_forward_from
        assert (row[4].date().isoformat() if row[4] else None) == carried
        assert row[5:7] == (len(unit.errors), len(unit.warnings))
        assert (row[7] or "") == unit.reason


def test_findings_sheet_lists_every_error_and_warning(workbook, summary):
    ws = workbook["LoiCanhBao"]
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if r[0]]
    expected = [
        (u.code, u.name, label, f.cell, f.code, f.message)
        for u in summary.units
        for label, findings in (("Lỗi", u.errors), ("Cảnh báo", u.warnings))
        for f in findings
    ]
    assert rows == expected
    assert any(FORMULA in r[5] for r in rows)


def test_text_that_looks_like_a_formula_stays_text(tmp_path, config):
    summary = make_summary()
    dangerous = [FORMULA, "+84 912 345 678", "-2+3", "@SUM(A1:A9)", "=1+1"]
    unit = next(u for u in summary.units if u.code == "943")
    unit.errors = [FindingEntry(cell=text, code=text, message=text) for text in dangerous]
    unit.reason = "=cmd|' /C calc'!A0"
    summary.units[0].name = '=HYPERLINK("http://evil.example")'
    path = write_summary_workbook(summary, config, tmp_path / "evil.xlsx")

    with zipfile.ZipFile(path) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets
    # No formula but the totals' sums: the texts above are text.
    written = [f for xml in sheets for f in re.findall(r"<f>(.*?)</f>", xml)]
    assert written
    assert all(SUM.match(f) for f in written), written
    assert not any("<f " in xml for xml in sheets)

    wb = openpyxl.load_workbook(path)
    findings = [r for r in wb["LoiCanhBao"].iter_rows(min_row=5) if r[0].value == "943"]
    assert [r[5].value for r in findings] == dangerous
    for row in findings:
        for cell in row[3:6]:
            assert cell.data_type == "s"
            assert cell.quotePrefix
    status = {r[0].value: r for r in wb["TinhTrang"].iter_rows(min_row=5) if r[0].value}
    assert status["943"][7].value == "=cmd|' /C calc'!A0"
    assert status["943"][7].data_type == "s"
    assert status["941"][1].value == '=HYPERLINK("http://evil.example")'
    codes, units, _ = figure_table(wb["BangA"])
    assert units["941"][1].value == '=HYPERLINK("http://evil.example")'


def test_text_is_nfc_and_control_characters_are_dropped(tmp_path, config):
    summary = make_summary()
    unit = next(u for u in summary.units if u.code == "943")
    unit.name = unicodedata.normalize("NFD", "Huyện Kế Sách")
    unit.errors[0].message = "Ô BaoCao!G14\x07 ghi\x00 sai"
    path = write_summary_workbook(summary, config, tmp_path / "ctl.xlsx")
    wb = openpyxl.load_workbook(path)
    status = {r[0]: r for r in wb["TinhTrang"].iter_rows(min_row=5, values_only=True) if r[0]}
    assert status["943"][1] == "Huyện Kế Sách"
    assert unicodedata.is_normalized("NFC", status["943"][1])
    messages = [r[5] for r in wb["LoiCanhBao"].iter_rows(min_row=5, values_only=True) if r[0] == "943"]
    assert messages[0] == "Ô BaoCao!G14 ghi sai"


def test_money_kept_apart_is_listed_after_the_total_with_its_own_sum(tmp_path, config):
    """`funds_apart` (report.yaml: apart): the organisations' money of table B is not in the
    province's totals; the sheet adds up the other units to the total, then lists the
    organisations under a line saying so, with their own sum; TongHop shows it beside the total."""
    summary = make_summary()
    organisations = {u.code for u in summary.units if u.kind in config.report.funds_apart.kinds}
    assert "MTTQ" in organisations
    keys = [k for k in summary.totals if k.startswith("B.")]
    apart = {k: sum((summary.by_unit.get(c) or {}).get(k) or 0 for c in organisations) for k in keys}
    for column in ("HUY_DONG", "GIAI_NGAN"):  # the unit's own table total
        apart[f"B.TONG.{column}"] = sum(
            v for k, v in apart.items() if k.endswith(column) and ".TONG." not in k
        )
    summary.totals = {k: v - apart.get(k, 0) for k, v in summary.totals.items()}
    summary.apart = {k: v for k, v in apart.items() if v}
    assert summary.apart["B.TONG.HUY_DONG"] >= 12500.75  # the MTTQ's own, at least
    path = write_summary_workbook(summary, config, tmp_path / "apart.xlsx")

    values = openpyxl.load_workbook(path, data_only=True)
    codes, units, totals = figure_table(values["BangB"])
    assert "MTTQ" not in units  # above the total: the units it adds up
    for i, key in ((i, k) for i, k in enumerate(codes) if i >= 4):
        assert sum(row[i].value or 0 for row in units.values()) == pytest.approx(totals[i].value), key
        assert totals[i].value == pytest.approx(summary.totals[key]), key
    rows = list(values["BangB"].iter_rows(min_row=totals[0].row + 1, values_only=True))
    assert rows[0][1].startswith("Không cộng vào tổng trên: Mặt trận Tổ quốc và các đoàn thể vận động")
    held = [r for r in rows[1:] if r[0]]
    assert "MTTQ" in {r[0] for r in held} <= organisations
    own_sum = next(r for r in rows if r[1] and r[1].startswith("Cộng: "))
    column = codes.index("B.TONG.HUY_DONG")
    assert own_sum[column] == pytest.approx(summary.apart["B.TONG.HUY_DONG"])
    assert sum(r[column] or 0 for r in held) == pytest.approx(own_sum[column])
    formula = openpyxl.load_workbook(path)["BangB"].cell(totals[0].row + len(rows), column + 1).value
    assert SUM.match(formula)

    tong_hop = summary_rows(values["TongHop"])
    assert tong_hop["B.TONG.HUY_DONG"][2] == pytest.approx(summary.totals["B.TONG.HUY_DONG"])
    beside = tong_hop["apart.B.TONG.HUY_DONG"]
    assert beside[1].endswith("(không cộng vào tổng trên)")
    assert beside[2] == pytest.approx(summary.apart["B.TONG.HUY_DONG"])
