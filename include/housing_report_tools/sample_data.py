"""Deterministic sample workbooks for every unit, for two consecutive periods.

    python -m housing_report_tools.sample_data [out_dir]      (default: include/sample_data)

writes `<out_dir>/2025-02-27/<spreadsheet>.xlsx`, `<out_dir>/2025-03-12/<spreadsheet>.xlsx`
and `<out_dir>/README.md`. Every sample is a filled copy of the generated template
(`housing_report.setup.template_workbook`), with realistic figures for Sóc Trăng (DOMAIN.md):
about 8.600 houses to support, a fifth completed by 27/02/2025 and a quarter by
12/03/2025, about 60 triệu đồng disbursed per new house and 30 per repair.

Deliberate problems (see README.md for the exact cells):

- 2025-02-27: Sở TT&TT's file is an HTML error page saved as .xlsx (unreachable).
- 2025-03-12: Huyện Long Phú did not update its sheet (stale), Huyện Thạnh Trị wrote
  "12 căn" in a count cell and Huyện Trần Đề has more repairs completed than started
  (both rejected), and Hội Cựu chiến binh's worksheet is missing from the shared file.
- 2025-03-12, accepted with warnings (the data quality rules of report.yaml): Huyện Mỹ Tú
  changed a number of houses needed, Huyện Cù Lao Dung disbursed more than the support
  levels of its completed houses, Thị xã Ngã Năm's new houses completed jump (an
  outlier), and Tỉnh đoàn's cumulative labour days went down.

The generator knows the codes of template version 1 (docs/vi/mau-bao-cao.md); the output is
byte-stable (fixed seed, fixed timestamps in the files).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from housing_report.config import Config, Unit, load_config
from housing_report.core.statuses import ACCEPTED, MISSING, REJECTED, STALE, UNREACHABLE
from housing_report.setup.layout import LayoutRow, unit_layout, value_cell
from housing_report.setup.template_workbook import (
    add_instructions_sheet,
    add_unit_sheet,
    save_workbook_stable,
)

PERIODS = (dt.date(2025, 2, 27), dt.date(2025, 3, 12))
SEED = 20250227
DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "sample_data"
PROVINCE_HOUSES = 8600

# The deliberate problems, by unit code.
CORRUPT_UNIT = "SO_TTTT"  # 2025-02-27: its file is an HTML page
STALE_UNIT = "946"  # 2025-03-12: sheet not updated since 27/02
TEXT_COUNT_UNIT = "949"  # 2025-03-12: "12 căn" in a count cell
TEXT_COUNT_KEY = "A.MTQG.HT_XM"
TEXT_COUNT_VALUE = "12 căn"
OVER_COMPLETED_UNIT = "951"  # 2025-03-12: HT_SC > KC_SC on one row
OVER_COMPLETED_ROW = "PTTD"
MISSING_UNIT = "HCCB"  # 2025-03-12: worksheet absent from the shared file
# 2025-03-12, accepted with a warning each (rules and outliers of report.yaml):
NEEDED_CHANGED_UNIT, NEEDED_CHANGED_KEY, NEEDED_CHANGE = "944", "A.MTQG.CAN_SC", 6
OVER_SUPPORT_UNIT, OVER_SUPPORT_KEY = "945", "B.NSDP.GIAI_NGAN"
OUTLIER_UNIT, OUTLIER_ROW, OUTLIER_JUMP = "948", "PTTD", 50  # HT_XM jumps by this many houses
LOWER_UNIT, LOWER_KEY, LOWER_BY = "TD", "NGAY_CONG", 40
# Valid but unusual cells: numbers written as Vietnamese text, a number with spaces.
TEXT_MONEY_UNIT, TEXT_MONEY_KEY = "943", "B.NSTW.HUY_DONG"
TEXT_COUNT_OK_UNIT, TEXT_COUNT_OK_KEY = "947", "LUOT_NGUOI"
SPACED_UNIT, SPACED_KEY = "942", "C_TIN_BAI"

# Share of the province's houses by district (larger where poverty is higher).
DISTRICT_WEIGHTS = {
    "941": 0.035, "942": 0.07, "943": 0.11, "944": 0.08, "945": 0.05, "946": 0.10,
    "947": 0.11, "948": 0.06, "949": 0.08, "950": 0.15, "951": 0.155,
}  # fmt: skip
ROW_SHARES = {"NCC": 0.06, "MTQG": 0.36, "PTTD": 0.46, "KHAC": 0.12}
NEW_BUILD_SHARE = {"NCC": 0.70, "MTQG": 0.55, "PTTD": 0.60, "KHAC": 0.50}
FUND_SHARES = {"NSTW": 0.30, "NSDP": 0.15, "XHH": 0.28, "DOI_UNG": 0.12, "VAY": 0.15}
PRICE_NEW, PRICE_REPAIR = 60, 30  # triệu đồng per house (Quyết định 21/2024/QĐ-TTg)
# Organisations: (XHH mobilised at 27/02 in triệu đồng, labour days at 27/02).
ORG_PROFILE = {
    "MTTQ": (31250.0, 450), "HLHPN": (2460.5, 310), "HND": (1835.0, 260),
    "TD": (1210.0, 720), "HCCB": (905.5, 200), "LDLD": (3520.0, 180),
}  # fmt: skip
COMMUNES = {
    "941": ["Phường 2", "Phường 7", "Phường 10"],
    "942": ["Xã Phú Tâm", "Xã Thuận Hòa", "Xã An Hiệp"],
    "943": ["Xã Đại Hải", "Xã Ba Trinh", "Xã Nhơn Mỹ"],
    "944": ["Xã Mỹ Hương", "Xã Long Hưng", "Xã Thuận Hưng"],
    "945": ["Xã An Thạnh 1", "Xã Đại Ân 1", "Xã An Thạnh Nam"],
    "946": ["Xã Long Đức", "Xã Châu Khánh", "Xã Song Phụng"],
    "947": ["Xã Ngọc Tố", "Xã Tham Đôn", "Xã Hòa Tú 1"],
    "948": ["Xã Long Bình", "Xã Mỹ Quới", "Xã Vĩnh Quới"],
    "949": ["Xã Châu Hưng", "Xã Lâm Tân", "Xã Thạnh Tân"],
    "950": ["Xã Lai Hòa", "Xã Vĩnh Hải", "Xã Hòa Đông"],
    "951": ["Xã Viên An", "Xã Lịch Hội Thượng", "Xã Đại Ân 2"],
}
MODELS = [  # (text, range of {n})
    ("Ông {person} hiến {n} m² đất để xây nhà cho hộ nghèo trong ấp", 40, 250),
    ("Chi đoàn thanh niên góp {n} ngày công tháo dỡ nhà cũ, vận chuyển vật liệu", 60, 400),
    ("Chi hội Cựu chiến binh vận động hội viên góp {n} triệu đồng mua vật liệu", 20, 150),
    ('Mô hình "Cả ấp góp sức": mỗi hộ góp 1 ngày công, đã dựng xong {n} căn nhà', 5, 30),
    ("Doanh nghiệp tư nhân {sponsor} tài trợ {n} căn nhà Đại đoàn kết", 3, 20),
    ("Tổ thợ hồ tình nguyện của ấp miễn tiền công xây {n} căn nhà cho hộ neo đơn", 2, 12),
    ("Chùa Khmer trong xã vận động phật tử đóng góp {n} triệu đồng và ngày công", 30, 200),
]
DIFFICULTIES = [
    "Giá vật liệu xây dựng tăng, một số hộ khó đối ứng phần kinh phí còn lại",
    "Một số hộ chưa có đất ở ổn định hoặc đất chưa được cấp giấy chứng nhận quyền sử dụng đất",
    "Mưa trái mùa làm chậm tiến độ thi công ở một số xã",
    "Thiếu thợ xây vào thời điểm nhiều công trình khởi công cùng lúc",
    "Vận chuyển vật liệu vào các ấp vùng sâu, cù lao khó khăn, chi phí cao",
]
RECOMMENDATIONS = [
    "Đề nghị tỉnh sớm phân bổ kinh phí hỗ trợ đợt 2 từ ngân sách trung ương",
    "Đề nghị hướng dẫn thủ tục hỗ trợ đối với hộ chưa có giấy chứng nhận quyền sử dụng đất",
    "Đề nghị Ngân hàng Chính sách xã hội tăng hạn mức cho vay nhà ở đối với hộ nghèo",
    "Đề nghị biểu dương kịp thời các tập thể, cá nhân có nhiều đóng góp",
]
PEOPLE = [
    "Trần Văn Hùng", "Nguyễn Thị Mai", "Lâm Quốc Toàn", "Thạch Thị Sa Rươne", "Lê Hoàng Phúc",
    "Danh Thị Ngọc Hân", "Phạm Minh Trí", "Sơn Thị Kim Loan", "Huỳnh Thanh Tâm", "Võ Thị Bích Ngọc",
    "Kim Sô Phal", "Đặng Văn Lợi", "Ngô Thị Thu Hà", "Châu Văn Sang", "Lý Thị Diễm",
]  # fmt: skip
SPONSORS = ["Tấn Phát", "Hưng Thịnh", "Minh Châu", "Phước Lộc"]
PROPAGANDA_RANGES = {
    "district": {
        "C_TIN_BAI": (4, 20), "C_PHONG_SU": (0, 4), "C_HOI_NGHI": (6, 30), "C_LOA": (20, 150),
        "C_MXH": (8, 60), "C_AN_PHAM": (0, 600), "C_PANO": (2, 25),
    },
    "organization": {
        "C_TIN_BAI": (2, 10), "C_PHONG_SU": (0, 1), "C_HOI_NGHI": (3, 15), "C_LOA": (0, 0),
        "C_MXH": (10, 40), "C_AN_PHAM": (0, 300), "C_PANO": (0, 6),
    },
    "press": {
        "C_TIN_BAI": (10, 40), "C_PHONG_SU": (2, 14), "C_HOI_NGHI": (0, 2), "C_LOA": (0, 0),
        "C_MXH": (15, 50), "C_AN_PHAM": (0, 0), "C_PANO": (0, 0),
    },
}  # fmt: skip
SO_TTTT_EXTRA = {"C_LOA": (200, 400), "C_AN_PHAM": (500, 2000), "C_PANO": (20, 60)}

CORRUPT_PAGE = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Lỗi 403 (Bị cấm)</title></head>
<body><h1>403. Đã xảy ra lỗi.</h1>
<p>Bạn cần có quyền truy cập. Hãy yêu cầu quyền truy cập hoặc chuyển sang một tài khoản có quyền.</p>
</body></html>
"""


@dataclass
class UnitSample:
    """What one unit's worksheet holds in one period."""

    unit: Unit
    figures: dict[str, int | float]  # the numbers the unit means, by figure key
    cells: dict[str, Any]  # what is written: field/table keys and list items
    rows: list[LayoutRow] = field(default_factory=list)  # the layout as written


@dataclass
class Note:
    """A deliberate problem or an unusual-but-valid cell, for README.md and tests."""

    period: dt.date
    unit_code: str
    status: str  # the unit's expected status in the period
    where: str  # A1 cell with sheet, or the file
    vi: str
    en: str
    kind: str = "problem"  # problem | valid (unusual but valid cell) | warning (accepted, warned)


@dataclass
class SampleSet:
    config: Config
    samples: dict[dt.date, dict[str, UnitSample | None]]  # None: worksheet absent
    corrupt: dict[dt.date, set[str]]  # spreadsheets written as a non-workbook
    statuses: dict[dt.date, dict[str, str]]  # expected status of each unit
    notes: list[Note] = field(default_factory=list)

    def expected_totals(self, period: dt.date) -> dict[str, float]:
        """Province totals a correct pipeline computes, carrying forward non-accepted units."""
        template = self.config.template
        cumulative = template.cumulative_keys()
        totals: dict[str, float] = {}
        for unit in self.config.units:
            keys = template.used_figure_keys(unit.kind)
            status = self.statuses[period][unit.code]
            if status == ACCEPTED:
                figures = self.samples[period][unit.code].figures  # type: ignore[union-attr]
                keys_used = keys
            else:
                last = _last_accepted(self, unit.code, period)
                if last is None:
                    continue
                figures = self.samples[last][unit.code].figures  # type: ignore[union-attr]
                keys_used = [k for k in keys if k in cumulative]
            for key in keys_used:
                totals[key] = totals.get(key, 0) + figures.get(key, 0)
        return totals


def _last_accepted(samples: SampleSet, code: str, period: dt.date) -> dt.date | None:
    for p in sorted((p for p in samples.statuses if p < period), reverse=True):
        if samples.statuses[p][code] == ACCEPTED:
            return p
    return None


# --------------------------------------------------------------------------- figures


def _round_money(value: float, decimals: int) -> float:
    return round(value, decimals) if decimals else float(round(value))


def _district_figures(rng: random.Random, code: str, n_districts: int) -> list[dict[str, int | float]]:
    weight = DISTRICT_WEIGHTS.get(code, 1 / max(n_districts, 1))
    total = PROVINCE_HOUSES * weight * rng.uniform(0.96, 1.04)
    rh1 = rng.uniform(0.17, 0.25)
    rk1 = rh1 + rng.uniform(0.15, 0.25)
    rh2 = rh1 + rng.uniform(0.04, 0.065)
    rk2 = rk1 + rng.uniform(0.05, 0.10)
    noise = {row: share * rng.uniform(0.85, 1.15) for row, share in ROW_SHARES.items()}
    scale = sum(noise.values())
    periods: list[dict[str, int | float]] = [{}, {}]
    for row, share in noise.items():
        houses = total * share / scale
        new_share = NEW_BUILD_SHARE[row] * rng.uniform(0.9, 1.1)
        for kind, need in (("XM", round(houses * new_share)), ("SC", round(houses * (1 - new_share)))):
            jitter = rng.uniform(-0.03, 0.03)
            kc1 = min(need, round(need * (rk1 + jitter)))
            ht1 = min(kc1, round(need * (rh1 + jitter)))
            kc2 = min(need, max(kc1, round(need * (rk2 + jitter))))
            ht2 = min(kc2, max(ht1, round(need * (rh2 + jitter))))
            for figures, kc, ht in ((periods[0], kc1, ht1), (periods[1], kc2, ht2)):
                figures[f"A.{row}.CAN_{kind}"] = need
                figures[f"A.{row}.KC_{kind}"] = kc
                figures[f"A.{row}.HT_{kind}"] = ht
    split = {src: share * rng.uniform(0.8, 1.2) for src, share in FUND_SHARES.items()}
    split_total = sum(split.values())
    disbursed_factor = rng.uniform(0.98, 1.10)
    mobilised_factor = {src: rng.uniform(1.25, 1.8) for src in FUND_SHARES}
    decimals = {src: rng.choice((0, 0, 1)) for src in FUND_SHARES}
    labour_factor = rng.uniform(0.9, 1.1)
    people_factor = rng.uniform(1.2, 1.6)
    for figures in periods:
        built = sum(v for k, v in figures.items() if k.endswith(".HT_XM"))
        repaired = sum(v for k, v in figures.items() if k.endswith(".HT_SC"))
        started = sum(v for k, v in figures.items() if k.startswith("A.") and ".KC_" in k)
        done = built + repaired
        disbursed = (PRICE_NEW * built + PRICE_REPAIR * repaired) * disbursed_factor
        for src in FUND_SHARES:
            paid = _round_money(disbursed * split[src] / split_total, decimals[src])
            figures[f"B.{src}.GIAI_NGAN"] = paid
            figures[f"B.{src}.HUY_DONG"] = _round_money(paid * mobilised_factor[src], decimals[src])
        labour = round((2.0 * done + 1.0 * started) * labour_factor)
        figures["NGAY_CONG"] = labour
        figures["LUOT_NGUOI"] = round(labour * people_factor)
    return periods


def _organisation_figures(rng: random.Random, code: str) -> list[dict[str, int | float]]:
    mobilised, labour = ORG_PROFILE.get(code, (1000.0, 300))
    mobilised *= rng.uniform(0.95, 1.05)
    labour *= rng.uniform(0.95, 1.05)
    growth = rng.uniform(1.04, 1.15)
    paid_ratio = rng.uniform(0.55, 0.75)
    people_factor = rng.uniform(1.3, 2.0)
    out = []
    for step in (1.0, growth):
        hd = round(mobilised * step, 1)
        nc = round(labour * step)
        out.append({
            "B.XHH.HUY_DONG": hd,
            "B.XHH.GIAI_NGAN": round(hd * paid_ratio * (1 + (step - 1) * 1.5), 1),
            "NGAY_CONG": nc,
            "LUOT_NGUOI": round(nc * people_factor),
        })  # fmt: skip
    return out


def _propaganda(rng: random.Random, unit: Unit) -> dict[str, int]:
    ranges = dict(PROPAGANDA_RANGES.get(unit.kind, PROPAGANDA_RANGES["press"]))
    if unit.code == "SO_TTTT":
        ranges.update(SO_TTTT_EXTRA)
    out = {code: rng.randint(lo, hi) for code, (lo, hi) in ranges.items()}
    meetings = out["C_HOI_NGHI"]
    out["C_LUOT_DU"] = meetings * rng.randint(30, 60) if meetings else 0
    return out


def _lists(rng: random.Random, unit: Unit, districts: list[Unit]) -> dict[str, list[Any]]:
    if unit.kind == "district":
        places = [f"{c}, {_in_text(unit.name)}" for c in COMMUNES.get(unit.code, ["Xã trung tâm"])]
        n_models = rng.randint(1, 2)
    else:
        places = [
            f"{rng.choice(COMMUNES.get(d.code, ['Xã trung tâm']))}, {_in_text(d.name)}"
            for d in rng.sample(districts, k=min(3, len(districts)))
        ]
        n_models = rng.randint(0, 1) if unit.kind == "press" else 1
    models = []
    for template, lo, hi in rng.sample(MODELS, k=n_models):
        text = template.format(person=rng.choice(PEOPLE), sponsor=rng.choice(SPONSORS), n=rng.randint(lo, hi))
        models.append((text, rng.choice(places) if places else None))
    out: dict[str, list[Any]] = {"D": models}
    if unit.kind != "press":
        out["E"] = rng.sample(DIFFICULTIES, k=rng.randint(0, 2))
        out["F"] = rng.sample(RECOMMENDATIONS, k=rng.randint(0, 2 if unit.kind == "district" else 1))
    return out


def _in_text(name: str) -> str:
    """A district's name inside a phrase: "Huyện Kế Sách" -> "huyện Kế Sách"."""
    return name[:1].lower() + name[1:]


def vn_number(value: float) -> str:
    """A number written the Vietnamese way: `.` groups thousands, `,` marks decimals."""
    whole = math.floor(value)
    text = f"{whole:,}".replace(",", ".")
    fraction = round(value - whole, 3)
    if fraction:
        text += "," + f"{fraction:.3f}"[2:].rstrip("0")
    return text


# --------------------------------------------------------------------------- building


def build_samples(config: Config) -> SampleSet:
    """The sample figures and cells of every unit for both periods (no files written)."""
    p1, p2 = PERIODS
    districts = [u for u in config.units if u.kind == "district"]
    samples: dict[dt.date, dict[str, UnitSample | None]] = {p1: {}, p2: {}}
    for index, unit in enumerate(config.units):
        rng = random.Random(f"{SEED}:{unit.code}")
        if unit.kind == "district":
            cumulative = _district_figures(rng, unit.code, len(districts))
        elif unit.kind == "organization":
            cumulative = _organisation_figures(rng, unit.code)
        else:
            cumulative = [{}, {}]
        person = PEOPLE[index % len(PEOPLE)]
        phone = (
            f"0299 3{rng.randint(100, 999)} {rng.randint(100, 999)}"
            if index % 3
            else (f"09{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}")
        )
        for period, figures in zip(PERIODS, cumulative, strict=True):
            figures = dict(figures)
            figures.update(_propaganda(rng, unit))
            # Propaganda figures of 0 are left empty (an empty cell is 0); tables show their zeros.
            cells: dict[str, Any] = {
                key: None if value == 0 and key.startswith("C_") else value for key, value in figures.items()
            }
            cells.update(
                DON_VI=unit.name,
                # Some units type the period as text, others enter a real date: both are valid.
                KY_BAO_CAO=f"{period:%d/%m/%Y}" if index % 2 == 0 else period,
                NGUOI_LAP=person,
                DIEN_THOAI=phone,
                NGAY_LAP=period - dt.timedelta(days=rng.randint(0, 2)),
            )
            cells.update(_lists(rng, unit, districts))
            samples[period][unit.code] = UnitSample(unit, figures, cells)

    statuses = {p: {u.code: ACCEPTED for u in config.units} for p in PERIODS}
    corrupt: dict[dt.date, set[str]] = {p1: set(), p2: set()}
    notes: list[Note] = []
    codes = {u.code for u in config.units}

    # Valid but unusual cells, in both periods.
    for unit_code, key, kind in (
        (TEXT_MONEY_UNIT, TEXT_MONEY_KEY, "money"),
        (TEXT_COUNT_OK_UNIT, TEXT_COUNT_OK_KEY, "count"),
        (SPACED_UNIT, SPACED_KEY, "spaced"),
    ):
        if unit_code not in codes:
            continue
        for period in PERIODS:
            sample = samples[period][unit_code]
            assert sample is not None
            value = sample.figures[key]
            if kind == "money":
                value = math.floor(value) + 0.5  # show a decimal part
                sample.figures[key] = value
            sample.cells[key] = f" {value} " if kind == "spaced" else vn_number(value)

    if CORRUPT_UNIT in codes:
        unit = config.unit(CORRUPT_UNIT)
        corrupt[p1].add(unit.spreadsheet)
        for u in config.units:
            if u.spreadsheet == unit.spreadsheet:
                statuses[p1][u.code] = UNREACHABLE
                samples[p1][u.code] = None
    if STALE_UNIT in codes:
        samples[p2][STALE_UNIT] = samples[p1][STALE_UNIT]
        statuses[p2][STALE_UNIT] = STALE
    if TEXT_COUNT_UNIT in codes:
        sample = samples[p2][TEXT_COUNT_UNIT]
        assert sample is not None
        sample.cells[TEXT_COUNT_KEY] = TEXT_COUNT_VALUE
        statuses[p2][TEXT_COUNT_UNIT] = REJECTED
    if OVER_COMPLETED_UNIT in codes:
        sample = samples[p2][OVER_COMPLETED_UNIT]
        assert sample is not None
        started = sample.figures[f"A.{OVER_COMPLETED_ROW}.KC_SC"]
        sample.figures[f"A.{OVER_COMPLETED_ROW}.HT_SC"] = started + 6
        sample.cells[f"A.{OVER_COMPLETED_ROW}.HT_SC"] = started + 6
        statuses[p2][OVER_COMPLETED_UNIT] = REJECTED
    if MISSING_UNIT in codes:
        samples[p2][MISSING_UNIT] = None
        statuses[p2][MISSING_UNIT] = MISSING
    _add_warnings(samples[p2], samples[p1], codes)

    result = SampleSet(config, samples, corrupt, statuses, notes)
    _layout_samples(result)
    _describe(result)
    return result


def _set(sample: UnitSample | None, key: str, value: int | float) -> None:
    assert sample is not None
    sample.figures[key] = value
    sample.cells[key] = value


def _add_warnings(
    by_unit: dict[str, UnitSample | None], before: dict[str, UnitSample | None], codes: set[str]
) -> None:
    """Valid sheets that the data quality rules warn about (12/03/2025; `before`: 27/02/2025)."""
    if NEEDED_CHANGED_UNIT in codes:
        sample = by_unit[NEEDED_CHANGED_UNIT]
        assert sample is not None
        _set(sample, NEEDED_CHANGED_KEY, sample.figures[NEEDED_CHANGED_KEY] + NEEDED_CHANGE)
    if OVER_SUPPORT_UNIT in codes:
        sample = by_unit[OVER_SUPPORT_UNIT]
        assert sample is not None
        f = sample.figures
        support = sum(
            (PRICE_NEW if k.endswith("_XM") else PRICE_REPAIR) * v
            for k, v in f.items()
            if k.startswith("A.") and ".HT_" in k
        )
        paid = support - f["B.NSTW.GIAI_NGAN"] - f["B.XHH.GIAI_NGAN"] + 250
        _set(sample, OVER_SUPPORT_KEY, float(round(paid)))
        _set(sample, "B.NSDP.HUY_DONG", max(f["B.NSDP.HUY_DONG"], float(round(paid))))
    if OUTLIER_UNIT in codes:
        sample = by_unit[OUTLIER_UNIT]
        assert sample is not None
        done = sample.figures[f"A.{OUTLIER_ROW}.HT_XM"] + OUTLIER_JUMP
        _set(sample, f"A.{OUTLIER_ROW}.HT_XM", done)
        _set(sample, f"A.{OUTLIER_ROW}.KC_XM", max(done, sample.figures[f"A.{OUTLIER_ROW}.KC_XM"]))
    if LOWER_UNIT in codes:
        earlier = before[LOWER_UNIT]
        assert earlier is not None
        _set(by_unit[LOWER_UNIT], LOWER_KEY, earlier.figures[LOWER_KEY] - LOWER_BY)


def _layout_samples(samples: SampleSet) -> None:
    """Compute each sample's layout (as `add_unit_sheet` writes it) for cell addresses."""
    for by_unit in samples.samples.values():
        for sample in by_unit.values():
            if sample is not None and not sample.rows:
                sample.rows = unit_layout(samples.config, sample.unit, sample.cells)


def _describe(samples: SampleSet) -> None:
    config = samples.config
    p1, p2 = PERIODS
    codes = {u.code for u in config.units}
    notes = samples.notes

    def cell(period: dt.date, code: str, key: str) -> str:
        sample = samples.samples[period][code]
        assert sample is not None
        return value_cell(sample.rows, key, sample.unit.worksheet)

    if CORRUPT_UNIT in codes:
        unit = config.unit(CORRUPT_UNIT)
        notes.append(Note(
            p1, unit.code, UNREACHABLE, f"{unit.spreadsheet}.xlsx",
            "Tệp là một trang HTML báo lỗi 403 lưu thành .xlsx, không phải bảng tính",
            "The file is an HTML 403 error page saved as .xlsx, not a workbook",
        ))  # fmt: skip
    if STALE_UNIT in codes:
        notes.append(Note(
            p2, STALE_UNIT, STALE, cell(p2, STALE_UNIT, "KY_BAO_CAO"),
            "Chưa cập nhật: trang tính giống hệt kỳ 27/02/2025, Kỳ báo cáo vẫn là 27/02/2025",
            "Not updated: the sheet is identical to 27/02/2025's, KY_BAO_CAO still 27/02/2025",
        ))  # fmt: skip
    if TEXT_COUNT_UNIT in codes:
        notes.append(Note(
            p2, TEXT_COUNT_UNIT, REJECTED, cell(p2, TEXT_COUNT_UNIT, TEXT_COUNT_KEY),
            f"Ô số căn ghi chữ '{TEXT_COUNT_VALUE}' (bảng A, dòng MTQG, cột HT_XM)",
            f"Count cell holds the text '{TEXT_COUNT_VALUE}' (table A, row MTQG, column HT_XM)",
        ))  # fmt: skip
    if OVER_COMPLETED_UNIT in codes:
        key = f"A.{OVER_COMPLETED_ROW}.HT_SC"
        sample = samples.samples[p2][OVER_COMPLETED_UNIT]
        assert sample is not None
        done = sample.figures[key]
        started = sample.figures[f"A.{OVER_COMPLETED_ROW}.KC_SC"]
        notes.append(Note(
            p2, OVER_COMPLETED_UNIT, REJECTED, cell(p2, OVER_COMPLETED_UNIT, key),
            f"Hoàn thành sửa chữa {done} > đã khởi công sửa chữa {started} "
            f"(ô {cell(p2, OVER_COMPLETED_UNIT, f'A.{OVER_COMPLETED_ROW}.KC_SC')}), "
            f"dòng {OVER_COMPLETED_ROW}",
            f"Repairs completed {done} > repairs started {started} on row {OVER_COMPLETED_ROW}",
        ))  # fmt: skip
    if MISSING_UNIT in codes:
        unit = config.unit(MISSING_UNIT)
        notes.append(Note(
            p2, unit.code, MISSING, f"{unit.spreadsheet}.xlsx",
            f"Không có trang tính '{unit.worksheet}' trong bảng tính dùng chung",
            f"Worksheet '{unit.worksheet}' is absent from the shared workbook",
        ))  # fmt: skip
    for unit_code, key, vi, en in (
        (NEEDED_CHANGED_UNIT, NEEDED_CHANGED_KEY,
         f"Số nhà cần hỗ trợ sửa chữa (dòng MTQG) tăng {NEEDED_CHANGE} căn so với kỳ 27/02/2025: cảnh báo",
         f"Houses needing repair (row MTQG) up by {NEEDED_CHANGE} since 27/02/2025: a warning"),
        (OVER_SUPPORT_UNIT, OVER_SUPPORT_KEY,
         "Giải ngân (ngân sách và xã hội hóa) vượt mức hỗ trợ 60/30 triệu đồng mỗi nhà đã hoàn thành: "
         "cảnh báo",
         "Disbursed (budgets and donations) above 60/30 million per completed house: a warning"),
        (OUTLIER_UNIT, f"A.{OUTLIER_ROW}.HT_XM",
         f"Nhà xây mới hoàn thành (dòng {OUTLIER_ROW}) tăng vọt {OUTLIER_JUMP} căn so với mức thường: "
         "cảnh báo bất thường",
         f"New houses completed (row {OUTLIER_ROW}) jump by {OUTLIER_JUMP} more than usual: "
         "an outlier warning"),
        (LOWER_UNIT, LOWER_KEY,
         f"Số ngày công lũy kế thấp hơn kỳ 27/02/2025 ({LOWER_BY} ngày): cảnh báo",
         f"Cumulative labour days {LOWER_BY} lower than on 27/02/2025: a warning"),
    ):  # fmt: skip
        if unit_code in codes and samples.samples[p2][unit_code] is not None:
            notes.append(Note(
                p2, unit_code, ACCEPTED, cell(p2, unit_code, key), vi, en, kind="warning",
            ))  # fmt: skip
    for unit_code, key, vi, en in (
        (TEXT_MONEY_UNIT, TEXT_MONEY_KEY, "Số tiền ghi dạng chữ kiểu Việt Nam (hợp lệ)",
         "Money written as Vietnamese text (valid)"),
        (TEXT_COUNT_OK_UNIT, TEXT_COUNT_OK_KEY, "Số lượt người ghi dạng chữ kiểu Việt Nam (hợp lệ)",
         "Count written as Vietnamese text (valid)"),
        (SPACED_UNIT, SPACED_KEY, "Số có dấu cách ở hai đầu (hợp lệ)",
         "Number with surrounding spaces (valid)"),
    ):  # fmt: skip
        if unit_code not in codes:
            continue
        for period in PERIODS:
            sample = samples.samples[period][unit_code]
            if sample is None:
                continue
            notes.append(Note(
                period, unit_code, samples.statuses[period][unit_code], cell(period, unit_code, key),
                f"{vi}: '{sample.cells[key]}' = {sample.figures[key]}",
                f"{en}: '{sample.cells[key]}' = {sample.figures[key]}",
                kind="valid",
            ))  # fmt: skip


# --------------------------------------------------------------------------- writing


def write_samples(out_dir: str | Path = DEFAULT_OUT_DIR, config: Config | None = None) -> SampleSet:
    """Write the sample workbooks of both periods and README.md under `out_dir`."""
    config = config or load_config()
    samples = build_samples(config)
    out = Path(out_dir)
    for period in PERIODS:
        folder = out / period.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.xlsx"):
            old.unlink()
        spreadsheets: dict[str, list[Unit]] = {}
        for unit in config.units:
            spreadsheets.setdefault(unit.spreadsheet, []).append(unit)
        for spreadsheet, units in spreadsheets.items():
            path = folder / f"{spreadsheet}.xlsx"
            if spreadsheet in samples.corrupt[period]:
                path.write_bytes(CORRUPT_PAGE.encode("utf-8"))
                continue
            present = [samples.samples[period][u.code] for u in units]
            present_samples = [s for s in present if s is not None]
            if not present_samples:
                continue
            wb = Workbook()
            default = wb.active
            for sample in present_samples:
                add_unit_sheet(wb, config, sample.unit, sample.cells)
            add_instructions_sheet(wb, config, units[0] if len(units) == 1 else None)
            if default is not None:
                wb.remove(default)
            wb.active = 0
            save_workbook_stable(wb, path)
    (out / "README.md").write_text(readme(samples), encoding="utf-8")
    return samples


def _fmt(value: float) -> str:
    return vn_number(round(value, 3))


def readme(samples: SampleSet) -> str:
    """README.md of the sample folder (Vietnamese, then English)."""
    config = samples.config
    names = {u.code: u.name for u in config.units}
    p1, p2 = PERIODS
    lines = [
        "# Dữ liệu mẫu / Sample data",
        "",
        "Tệp do `python -m housing_report_tools.sample_data` sinh ra (cố định, sinh lại cho kết quả "
        "giống hệt); không sửa tay. / Generated by `python -m housing_report_tools.sample_data` "
        "(deterministic, byte-stable); do not edit by hand.",
        "",
        f"Hai kỳ / two periods: `{p1.isoformat()}/` và `{p2.isoformat()}/`, mỗi tệp `<spreadsheet>.xlsx` "
        "là một bảng tính (6 tổ chức dùng chung `st-khoi-mttq-doan-the.xlsx`). Mở bằng "
        "`LocalWorkbookSource(<thư mục kỳ>)`.",
        "",
        "## Lỗi cố ý và ô đặc biệt / Deliberate problems and unusual cells",
        "",
        "| Kỳ / period | Đơn vị / unit | Trạng thái / status | Ô / cell | Nội dung | What |",
        "|---|---|---|---|---|---|",
    ]
    for note in sorted(samples.notes, key=lambda n: (n.period, n.status == ACCEPTED, n.unit_code)):
        lines.append(
            f"| {note.period:%d/%m/%Y} | {note.unit_code} {names.get(note.unit_code, '')} | `{note.status}` "
            f"| `{note.where}` | {note.vi} | {note.en} |"
        )
    text_units = [u.code for i, u in enumerate(config.units) if i % 2 == 0]
    lines += [
        "",
        "Mọi đơn vị khác: `accepted`. Ô Kỳ báo cáo ghi dạng chữ `dd/mm/yyyy` ở các đơn vị "
        f"{', '.join(text_units)}; các đơn vị còn lại nhập ô ngày thật (cả hai đều hợp lệ). "
        "Ô để trống được hiểu là 0. / Every other unit: `accepted`. KY_BAO_CAO is text for the units "
        "listed, a real date cell for the others (both valid). Empty cells mean 0.",
        "",
        "## Tổng toàn tỉnh mong đợi / Expected province totals",
        "",
        "Theo docs/vi/mau-bao-cao.md: đơn vị không `accepted` giữ số lũy kế của kỳ được tiếp nhận gần "
        "nhất và không góp số tuyên truyền trong kỳ. / Per docs/vi/mau-bao-cao.md: a unit not `accepted` "
        "carries forward its last accepted cumulative figures and adds nothing to the period's propaganda "
        "figures.",
        "",
        f"| Chỉ tiêu / figure | {p1:%d/%m/%Y} | {p2:%d/%m/%Y} |",
        "|---|---:|---:|",
    ]
    totals = [samples.expected_totals(p) for p in PERIODS]
    table_a = config.template.section("A")
    for column in table_a.columns:
        values = [
            sum(v for k, v in t.items() if k.startswith("A.") and k.endswith("." + column.code))
            for t in totals
        ]
        lines.append(f"| A.{column.code} ({column.label}) | {_fmt(values[0])} | {_fmt(values[1])} |")
    need = [t_sum(t, ".CAN_") for t in totals]
    done = [t_sum(t, ".HT_") for t in totals]
    lines.append(f"| Cần hỗ trợ / houses needed (CAN_XM+CAN_SC) | {_fmt(need[0])} | {_fmt(need[1])} |")
    lines.append(f"| Đã hoàn thành / completed (HT_XM+HT_SC) | {_fmt(done[0])} | {_fmt(done[1])} |")
    lines.append(
        f"| Tỷ lệ hoàn thành / completion | {done[0] / need[0]:.1%} | {done[1] / need[1]:.1%} |".replace(
            ".", ","
        )
    )
    table_b = config.template.section("B")
    for column in table_b.columns:
        values = [
            sum(v for k, v in t.items() if k.startswith("B.") and k.endswith("." + column.code))
            for t in totals
        ]
        lines.append(f"| B.{column.code} (triệu đồng) | {_fmt(values[0])} | {_fmt(values[1])} |")
    for section_code in ("mobilisation", "propaganda"):
        for f in config.template.section(section_code).fields:
            lines.append(
                f"| {f.code} | {_fmt(totals[0].get(f.code, 0))} | {_fmt(totals[1].get(f.code, 0))} |"
            )
    lines += [
        "",
        "Số viết kiểu Việt Nam: `.` phân cách hàng nghìn, `,` phần thập phân. / Numbers in Vietnamese "
        "style: `.` groups thousands, `,` marks decimals.",
        "",
    ]
    return "\n".join(lines)


def t_sum(totals: dict[str, float], part: str) -> float:
    return sum(v for k, v in totals.items() if k.startswith("A.") and part in k)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out_dir = Path(args[0]) if args else DEFAULT_OUT_DIR
    samples = write_samples(out_dir)
    count = sum(1 for p in PERIODS for _ in (out_dir / p.isoformat()).glob("*.xlsx"))
    print(f"Đã ghi {count} tệp mẫu cho {len(samples.config.units)} đơn vị vào {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
