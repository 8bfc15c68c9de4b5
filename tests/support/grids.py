"""Build unit worksheets (grids) laid out as TEMPLATE.md says, for parser tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from housing_report.config import Config
from housing_report.core.models import Grid

# A valid district's table A (row -> CAN_XM, CAN_SC, KC_XM, KC_SC, HT_XM, HT_SC).
TABLE_A = {
    "NCC": [12, 8, 10, 6, 7, 5],
    "MTQG": [240, 130, 150, 90, 80, 60],
    "PTTD": [310, 150, 200, 100, 120, 70],
    "KHAC": [20, 10, 8, 5, 4, 3],
}
TABLE_B = {
    "NSTW": [12000, 9500.5],
    "NSDP": [4000, 3100],
    "XHH": [2500.25, 1800],
    "DOI_UNG": [900, 850],
    "VAY": [600, 400],
}
FIELDS = {"NGAY_CONG": 3200, "LUOT_NGUOI": 1450}
PROPAGANDA = {
    "C_TIN_BAI": 14,
    "C_PHONG_SU": 3,
    "C_HOI_NGHI": 9,
    "C_LUOT_DU": 820,
    "C_LOA": 60,
    "C_MXH": 25,
    "C_AN_PHAM": 400,
    "C_PANO": 12,
}


def unit_rows(
    config: Config,
    kind: str = "district",
    period: Any = "12/03/2025",
    name: str = "Thành phố Sóc Trăng",
) -> list[list[Any]]:
    """Rows of a filled worksheet for a unit of `kind`, in the template's layout."""
    t = config.template
    rows: list[list[Any]] = [[None, "BÁO CÁO TIẾN ĐỘ XÓA NHÀ TẠM, NHÀ DỘT NÁT"], []]
    general = {
        "DON_VI": name,
        "KY_BAO_CAO": period,
        "NGUOI_LAP": "Nguyễn Văn An",
        "DIEN_THOAI": "0299 3822 123",
        "NGAY_LAP": dt.datetime(2025, 3, 11),
    }
    for f in t.section("general").fields:
        rows.append([f.code, f.label, general[f.code]])
    if kind == "district":
        a = t.section("A")
        rows += [[], [None, "A. " + a.label], ["A", "Đối tượng", *[c.code for c in a.columns]]]
        rows.append([None, None, *[c.label for c in a.columns]])
        for r in a.rows:
            rows.append([r.code, r.label, *TABLE_A[r.code]])
    if kind in ("district", "organization"):
        b = t.section("B")
        rows += [[], [None, "B. " + b.label], ["B", "Nguồn", *[c.code for c in b.columns]]]
        for r in b.rows:
            if kind == "district" or r.code == "XHH":
                rows.append([r.code, r.label, *TABLE_B[r.code]])
        rows.append([])
        for f in t.section("mobilisation").fields:
            rows.append([f.code, f.label, FIELDS[f.code]])
    rows += [[], [None, "C. Tuyên truyền"]]
    for f in t.section("propaganda").fields:
        rows.append([f.code, f.label, PROPAGANDA[f.code]])
    rows += [
        [None, "D. Gương điển hình"],
        ["D", "Chi bộ ấp Hòa Mỹ vận động 120 ngày công xây nhà cho hộ nghèo", "Xã Hòa Tú 1, Mỹ Xuyên"],
        ["E", "Giá vật liệu xây dựng tăng"],
        ["F", "Đề nghị bổ sung kinh phí hỗ trợ sửa chữa"],
    ]
    return rows


def find(rows: list[list[Any]], code: str) -> int:
    for i, r in enumerate(rows):
        if r and r[0] == code:
            return i
    raise KeyError(code)


def col_of(rows: list[list[Any]], table: str, column: str) -> int:
    return rows[find(rows, table)].index(column)


def set_cell(rows: list[list[Any]], row_code: str, col: int, value: Any, table: str | None = None) -> str:
    """Set a value by row code and 0-based column; returns its A1 address on BaoCao."""
    from housing_report.core.models import a1

    r = find(rows, row_code)
    while len(rows[r]) <= col:
        rows[r].append(None)
    rows[r][col] = value
    return a1(r, col, "BaoCao")


def grid(rows: list[list[Any]], sheet: str = "BaoCao") -> Grid:
    return Grid(sheet, rows)
