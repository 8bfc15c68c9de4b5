"""Synthetic units, worksheets and history for the benchmarks.

`SyntheticCountry(n)` makes `n` units (the kinds of the province's 20 units, in turn),
each in its own spreadsheet, and for any period the worksheet grid each unit would
have: the unit kind's layout as `template_workbook` writes it (TEMPLATE.md), read back
from a real .xlsx once per kind, with the unit's figures written into its value cells.
Figures follow DOMAIN.md's shapes: a commune-sized number of houses to support, a
completion curve that rises unevenly from period to period, money in triệu đồng at the
support levels, labour days; propaganda counts per period.

Every period, a few units have a problem, as in real life: about 1 in 60 rejected (more
completed than started), 1 in 80 stale (the previous period's sheet), 1 in 120 missing.
Everything is drawn from a seeded generator: the same `n` gives the same grids.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from housing_report_tools.sample_data import FUND_SHARES, NEW_BUILD_SHARE, PROPAGANDA_RANGES, ROW_SHARES
from openpyxl import Workbook

from housing_report.collect.workbook_io import read_workbook_grids
from housing_report.config import Config, Unit, load_config
from housing_report.core.models import FetchResult, Grid
from housing_report.core.periods import previous_period
from housing_report.core.statuses import FETCH_OK, MISSING
from housing_report.setup.layout import unit_layout, value_cell
from housing_report.setup.template_workbook import add_unit_sheet

SEED = 3321
# The measured period: the programme's last collection day before its target (30/09/2025).
PERIOD = dt.date(2025, 9, 27)
HISTORY_PERIODS = 24
PRICE_NEW, PRICE_REPAIR = 60, 30  # triệu đồng per house

REJECTED_EVERY, STALE_EVERY, MISSING_EVERY = 60, 80, 120

_MODELS = (
    ("Chi đoàn thanh niên góp 120 ngày công tháo dỡ nhà cũ, vận chuyển vật liệu", "Ấp 1"),
    ("Doanh nghiệp tư nhân Tấn Phát tài trợ 5 căn nhà Đại đoàn kết", "Ấp 3"),
)
_DIFFICULTY = "Giá vật liệu xây dựng tăng, một số hộ khó đối ứng phần kinh phí còn lại"
_RECOMMENDATION = "Đề nghị tỉnh sớm phân bổ kinh phí hỗ trợ đợt 2 từ ngân sách trung ương"


def periods_until(period: dt.date, count: int, days: Sequence[int]) -> list[dt.date]:
    """`count` periods before `period`, then `period`; oldest first."""
    out = [period]
    for _ in range(count):
        out.append(previous_period(out[-1], days))
    return out[::-1]


def _a1_index(ref: str) -> tuple[int, int]:
    letters = "".join(ch for ch in ref if ch.isalpha())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(ref[len(letters) :]) - 1, col - 1


@dataclass
class _Prototype:
    rows: list[list[Any]]
    positions: dict[str, tuple[int, int]]  # value key -> (row, col), 0-based


@dataclass
class _Plan:
    """One unit's trajectory: what it needs and how fast it goes."""

    needs: dict[str, int]  # A.<row>.CAN_XM / CAN_SC
    steps: list[float]  # completion share reached at each period index
    disbursed_factor: float
    mobilised_factor: dict[str, float]
    decimals: dict[str, int]
    labour_factor: float
    people_factor: float


class SyntheticCountry:
    def __init__(self, n: int, base: Config | None = None, period: dt.date = PERIOD):
        base = base or load_config()
        self._base_dir = base.directory
        self.period = period
        kinds = [u.kind for u in base.units]
        units = []
        for i in range(n):
            kind = kinds[i % len(kinds)]
            code = f"X{i + 1:04d}"
            units.append(
                Unit(
                    code=code,
                    name=f"Xã Thử Nghiệm {i + 1}" if kind == "district" else f"Đơn vị {kind} {i + 1}",
                    kind=kind,
                    spreadsheet=f"bench-{code.lower()}",
                    worksheet=base.template.worksheet,
                    emails=(f"{code.lower()}@bench.example",),
                )
            )
        self.config = replace(base, units=tuple(units))
        self.periods = periods_until(period, HISTORY_PERIODS, base.report.schedule.collection_days)
        self._prototypes = self._build_prototypes()
        self._plans = {u.code: self._plan(u) for u in units}

    # -- layout

    def _cells(self, unit: Unit) -> dict[str, Any]:
        cells: dict[str, Any] = {
            "DON_VI": unit.name,
            "KY_BAO_CAO": "01/01/2025",
            "NGAY_LAP": dt.date(2025, 1, 1),
        }
        cells["NGUOI_LAP"] = "Nguyễn Thị Mai"
        cells["DIEN_THOAI"] = "0299 3822 123"
        cells["D"] = list(_MODELS if unit.kind == "district" else _MODELS[:1])
        if unit.kind != "press":
            cells["E"] = [_DIFFICULTY]
            cells["F"] = [_RECOMMENDATION]
        for key in self.config.template.used_figure_keys(unit.kind):
            cells[key] = 1
        return cells

    def _build_prototypes(self) -> dict[str, _Prototype]:
        """One worksheet per unit kind, written with openpyxl and read back as the local source does."""
        out = {}
        kinds = sorted({u.kind for u in self.config.units})
        with tempfile.TemporaryDirectory() as tmp:
            for kind in kinds:
                unit = next(u for u in self.config.units if u.kind == kind)
                cells = self._cells(unit)
                wb = Workbook()
                default = wb.active
                add_unit_sheet(wb, self.config, unit, cells)
                wb.remove(default)
                path = Path(tmp) / f"{kind}.xlsx"
                wb.save(path)
                grid = read_workbook_grids(path, [unit.worksheet])[unit.worksheet]
                assert grid is not None
                layout = unit_layout(self.config, unit, cells)
                keys = [k for k in cells if k not in ("D", "E", "F")]
                positions = {k: _a1_index(value_cell(layout, k)) for k in keys}
                out[kind] = _Prototype(grid.rows, positions)
        return out

    # -- figures

    def _plan(self, unit: Unit) -> _Plan:
        rng = random.Random(f"{SEED}:{unit.code}")
        houses = rng.uniform(20, 260)
        needs = {}
        for row, share in ROW_SHARES.items():
            part = houses * share * rng.uniform(0.8, 1.2)
            new = NEW_BUILD_SHARE[row] * rng.uniform(0.9, 1.1)
            needs[f"A.{row}.CAN_XM"] = round(part * new)
            needs[f"A.{row}.CAN_SC"] = round(part * (1 - new))
        # Completion share by period: uneven steps, about 90% by the last period.
        steps, reached = [], 0.0
        for _ in self.periods:
            reached = min(1.0, reached + rng.uniform(0.4, 1.6) * 0.9 / len(self.periods))
            steps.append(reached)
        return _Plan(
            needs=needs,
            steps=steps,
            disbursed_factor=rng.uniform(0.9, 1.0),
            mobilised_factor={src: rng.uniform(1.25, 1.8) for src in FUND_SHARES},
            decimals={src: rng.choice((0, 0, 1)) for src in FUND_SHARES},
            labour_factor=rng.uniform(0.9, 1.1),
            people_factor=rng.uniform(1.2, 1.6),
        )

    def figures(self, unit: Unit, index: int) -> dict[str, int | float]:
        """The unit's figures at period `index` of `self.periods`."""
        plan = self._plans[unit.code]
        share = plan.steps[index]
        out: dict[str, int | float] = {}
        keys = set(self.config.template.used_figure_keys(unit.kind))
        if unit.kind == "district":
            built = repaired = started = 0
            for key, need in plan.needs.items():
                kind = key.rsplit("_", 1)[1]
                row = key.split(".")[1]
                kc = min(need, round(need * min(1.0, share + 0.12)))
                ht = min(kc, round(need * share))
                out[key] = need
                out[f"A.{row}.KC_{kind}"] = kc
                out[f"A.{row}.HT_{kind}"] = ht
                built += ht if kind == "XM" else 0
                repaired += ht if kind == "SC" else 0
                started += kc
            paid_total = (PRICE_NEW * built + PRICE_REPAIR * repaired) * plan.disbursed_factor
            for src, part in FUND_SHARES.items():
                paid = round(paid_total * part, plan.decimals[src])
                out[f"B.{src}.GIAI_NGAN"] = paid
                out[f"B.{src}.HUY_DONG"] = round(paid * plan.mobilised_factor[src], plan.decimals[src])
            labour = round((2 * (built + repaired) + started) * plan.labour_factor)
        else:
            mobilised = round(400 * (1 + 3 * share) * plan.mobilised_factor["XHH"], 1)
            out["B.XHH.HUY_DONG"] = mobilised
            out["B.XHH.GIAI_NGAN"] = round(mobilised * (0.4 + 0.5 * share), 1)
            labour = round(100 + 900 * share * plan.labour_factor)
        if "NGAY_CONG" in keys:
            out["NGAY_CONG"] = labour
            out["LUOT_NGUOI"] = round(labour * plan.people_factor)
        rng = random.Random(f"{SEED}:{unit.code}:{index}")
        ranges = PROPAGANDA_RANGES.get(unit.kind, PROPAGANDA_RANGES["press"])
        for code, (lo, hi) in ranges.items():
            out[code] = rng.randint(lo, hi)
        out["C_LUOT_DU"] = out.get("C_HOI_NGHI", 0) * rng.randint(30, 60)
        out = {
            k: (int(v) if isinstance(v, float) and v.is_integer() else v) for k, v in out.items() if k in keys
        }
        return out

    # -- worksheets

    def problem(self, unit_index: int, period_index: int) -> str | None:
        """The unit's problem in that period: rejected | stale | missing | None."""
        turn = unit_index * 7 + period_index * 13
        if turn % MISSING_EVERY == 0:
            return "missing"
        if turn % STALE_EVERY == 1 and period_index > 0:
            return "stale"
        if turn % REJECTED_EVERY == 2:
            return "rejected"
        return None

    def values(self, unit: Unit, index: int, problem: str | None = None) -> dict[str, Any]:
        """What the unit writes in its value cells in period `index` (figures and general fields)."""
        if problem == "stale":
            index -= 1
        period = self.periods[index]
        values: dict[str, Any] = dict(self.figures(unit, index))
        if problem == "rejected" and unit.kind == "district":
            values["A.PTTD.HT_SC"] = values["A.PTTD.KC_SC"] + 3
        elif problem == "rejected":
            values["C_TIN_BAI"] = "12 bài"
        values["DON_VI"] = unit.name
        values["KY_BAO_CAO"] = f"{period:%d/%m/%Y}" if int(unit.code[1:]) % 2 else period
        values["NGAY_LAP"] = period - dt.timedelta(days=1)
        return values

    def grid(self, unit: Unit, index: int, problem: str | None = None) -> Grid:
        proto = self._prototypes[unit.kind]
        # Each row copied: its cells are str, int, datetime or None, which nothing changes in
        # place (a deep copy gave the same grid in twice the time of the whole archive's build).
        rows = [list(row) for row in proto.rows]
        for key, value in self.values(unit, index, problem).items():
            r, c = proto.positions[key]
            rows[r][c] = value
        return Grid(unit.worksheet, rows)

    def write_workbooks(self, folder: Path, index: int, processes: int = 1) -> int:
        """Each unit's workbook for period `index` as `<folder>/<spreadsheet>.xlsx` (the local
        source's layout); a unit whose problem is `missing` has none. Returns the files written.
        With `processes` > 1 (and fork), that many forked processes share the units: ~30 ms of
        openpyxl a workbook, 3 321 workbooks take over a minute in one process."""
        folder.mkdir(parents=True, exist_ok=True)
        units = [(i, u) for i, u in enumerate(self.config.units) if self.problem(i, index) != "missing"]
        if processes < 2 or len(units) < 100 or not hasattr(os, "fork"):
            self._write_workbooks(folder, index, units)
            return len(units)
        children = []
        for part in range(processes):
            pid = os.fork()
            if pid == 0:  # the child: its share of the units, then leave without the parent's cleanup
                code = 1
                try:
                    self._write_workbooks(folder, index, units[part::processes])
                    code = 0
                finally:
                    os._exit(code)
            children.append(pid)
        failed = [pid for pid in children if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0]
        if failed:
            raise RuntimeError(f"writing the workbooks failed in {len(failed)} of {processes} processes")
        return len(units)

    def _write_workbooks(self, folder: Path, index: int, units: Sequence[tuple[int, Unit]]) -> None:
        for i, unit in units:
            cells = self._cells(unit)
            cells.update(self.values(unit, index, self.problem(i, index)))
            wb = Workbook()
            default = wb.active
            add_unit_sheet(wb, self.config, unit, cells)
            wb.remove(default)
            wb.save(folder / f"{unit.spreadsheet}.xlsx")

    def write_config(self, folder: Path) -> Path:
        """`report.yaml` (the province's) and `units.yaml` with the synthetic units, in `folder`."""
        import shutil

        import yaml

        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(self._base_dir / "report.yaml", folder / "report.yaml")
        units = [
            {
                "code": u.code,
                "name": u.name,
                "kind": u.kind,
                "spreadsheet": u.spreadsheet,
                "emails": list(u.emails),
            }
            for u in self.config.units
        ]
        text = yaml.safe_dump({"units": units}, allow_unicode=True, sort_keys=False)
        (folder / "units.yaml").write_text(text, encoding="utf-8")
        return folder

    def fetch_results(self, index: int) -> dict[str, FetchResult]:
        """What a source gives for every unit in period `index`."""
        out = {}
        for i, unit in enumerate(self.config.units):
            problem = self.problem(i, index)
            if problem == "missing":
                reason = f"Không tìm thấy trang tính '{unit.worksheet}' trong bảng tính '{unit.spreadsheet}'"
                out[unit.code] = FetchResult(unit.code, MISSING, reason=reason)
            else:
                out[unit.code] = FetchResult(unit.code, FETCH_OK, grid=self.grid(unit, index, problem))
        return out


class MemorySource:
    """A `ReportSource` over prepared fetch results (no I/O: the benchmark measures our own work)."""

    def __init__(self, results: dict[str, FetchResult]):
        self.results = results

    def fetch(self, units: Sequence[Unit]) -> list[FetchResult]:
        now = dt.datetime.now(dt.UTC)
        return [replace(self.results[u.code], read_at=now) for u in units]
