"""The local-folder source of unit worksheets (housing_report.collect.local)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from housing_report.collect import local
from housing_report.collect.base import ReportSource, SourceConfigError
from housing_report.collect.local import LocalWorkbookSource
from housing_report.config import Unit
from housing_report.core.statuses import FETCH_OK, MISSING, UNREACHABLE


def unit(code: str, spreadsheet: str, worksheet: str = "BaoCao", kind: str = "district") -> Unit:
    return Unit(code, f"Đơn vị {code}", kind, spreadsheet, worksheet)


def workbook(path: Path, sheets: dict[str, str]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, marker in sheets.items():
        ws = wb.create_sheet(title)
        ws["A1"] = "DON_VI"
        ws["C1"] = marker
    wb.save(path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    workbook(tmp_path / "st-941-tp-soc-trang.xlsx", {"BaoCao": "TP Sóc Trăng"})
    workbook(tmp_path / "st-khoi.xlsx", {"MTTQ": "Mặt trận", "PhuNu": "Phụ nữ", "HuongDan": "x"})
    workbook(tmp_path / "st-sai-ten.xlsx", {"Trang tính1": "không đúng tên"})
    (tmp_path / "st-so-tttt.xlsx").write_text("<html><body>403 Bị cấm</body></html>", encoding="utf-8")
    return tmp_path


UNITS = [
    unit("MTTQ", "st-khoi", "MTTQ", "organization"),
    unit("941", "st-941-tp-soc-trang"),
    unit("SO_TTTT", "st-so-tttt", kind="press"),
    unit("HCCB", "st-khoi", "CuuChienBinh", "organization"),
    unit("946", "st-946-long-phu"),
    unit("HLHPN", "st-khoi", "PhuNu", "organization"),
    unit("949", "st-sai-ten"),
]


def test_one_result_per_unit_in_the_order_given(folder: Path):
    results = LocalWorkbookSource(folder).fetch(UNITS)
    assert [r.unit_code for r in results] == [u.code for u in UNITS]
    assert [r.status for r in results] == [
        FETCH_OK,
        FETCH_OK,
        UNREACHABLE,
        MISSING,
        MISSING,
        FETCH_OK,
        MISSING,
    ]


def test_ok_results_carry_the_unit_worksheet(folder: Path):
    by_code = {r.unit_code: r for r in LocalWorkbookSource(folder).fetch(UNITS)}
    assert by_code["941"].grid.sheet == "BaoCao"
    assert by_code["941"].grid.rows == [["DON_VI", None, "TP Sóc Trăng"]]
    assert by_code["MTTQ"].grid.rows[0][2] == "Mặt trận"
    assert by_code["HLHPN"].grid.sheet == "PhuNu"
    assert by_code["HLHPN"].grid.rows[0][2] == "Phụ nữ"
    assert by_code["941"].reason == ""


def test_missing_file_and_missing_worksheet_have_vietnamese_reasons(folder: Path):
    by_code = {r.unit_code: r for r in LocalWorkbookSource(folder).fetch(UNITS)}
    assert by_code["946"].grid is None
    assert "Không tìm thấy bảng tính 'st-946-long-phu'" in by_code["946"].reason
    assert "st-946-long-phu.xlsx" in by_code["946"].reason
    assert by_code["HCCB"].reason == "Không tìm thấy trang tính 'CuuChienBinh' trong bảng tính 'st-khoi'"
    assert "'BaoCao'" in by_code["949"].reason
    assert "'st-sai-ten'" in by_code["949"].reason


def test_a_file_that_is_not_a_workbook_is_unreachable_with_the_reason(folder: Path):
    [result] = LocalWorkbookSource(folder).fetch([UNITS[2]])
    assert result.status == UNREACHABLE
    assert result.grid is None
    assert "st-so-tttt" in result.reason
    assert "HTML" in result.reason


def test_each_spreadsheet_is_opened_once(folder: Path, monkeypatch):
    calls: list[tuple[str, list[str]]] = []
    real = local.read_workbook_grids

    def counting(path, sheet_names, bounds=None):
        calls.append((Path(path).name, list(sheet_names)))
        return real(path, sheet_names, bounds)

    monkeypatch.setattr(local, "read_workbook_grids", counting)
    LocalWorkbookSource(folder).fetch(UNITS)
    names = [name for name, _ in calls]
    assert sorted(names) == sorted(set(names))
    assert dict(calls)["st-khoi.xlsx"] == ["MTTQ", "CuuChienBinh", "PhuNu"]
    assert "st-946-long-phu.xlsx" not in names  # a missing file is not opened


def test_read_at_is_now_in_utc(folder: Path):
    before = dt.datetime.now(dt.UTC)
    results = LocalWorkbookSource(str(folder)).fetch(UNITS)
    after = dt.datetime.now(dt.UTC)
    for result in results:
        assert result.read_at.tzinfo is not None
        assert result.read_at.utcoffset() == dt.timedelta(0)
        assert before <= result.read_at <= after


def test_empty_unit_list_gives_no_results(folder: Path):
    assert LocalWorkbookSource(folder).fetch([]) == []


def test_folder_that_does_not_exist_is_a_source_config_error(tmp_path: Path):
    source: ReportSource = LocalWorkbookSource(tmp_path / "khong-co")
    with pytest.raises(SourceConfigError, match="không tồn tại") as info:
        source.fetch(UNITS)
    assert "khong-co" in str(info.value)


def test_a_file_in_place_of_the_folder_is_a_source_config_error(tmp_path: Path):
    not_a_folder = tmp_path / "tep.txt"
    not_a_folder.write_text("x", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="không phải là thư mục"):
        LocalWorkbookSource(not_a_folder).fetch(UNITS)
