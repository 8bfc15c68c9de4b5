from __future__ import annotations

import openpyxl
from housing_report_tools.cli import main


def test_template_command_writes_the_blank_workbook(tmp_path, capsys):
    path = tmp_path / "mau" / "mau-bao-cao.xlsx"
    assert main(["template", str(path)]) == 0
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "BaoCao"
    codes = {row[0] for row in book["BaoCao"].iter_rows(values_only=True) if row and row[0]}
    assert {"KY_BAO_CAO", "A", "NCC", "B", "XHH", "NGAY_CONG", "C_PANO", "D"} <= codes
    assert str(path.resolve()) in capsys.readouterr().out


def test_template_for_one_unit_names_its_worksheet(tmp_path):
    path = tmp_path / "hccb.xlsx"
    assert main(["template", str(path), "--unit", "HCCB"]) == 0
    assert "CuuChienBinh" in openpyxl.load_workbook(path).sheetnames


def test_check_config_reports_a_bad_file(tmp_path, capsys):
    (tmp_path / "report.yaml").write_text("programme: [\n", encoding="utf-8")
    assert main(["--config", str(tmp_path), "check-config"]) == 2
    assert "report.yaml" in capsys.readouterr().err
