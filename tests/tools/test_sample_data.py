"""The sample workbooks (housing_report_tools.sample_data): realistic, deterministic, with known defects."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from housing_report_tools.sample_data import (
    DEFAULT_OUT_DIR,
    LOWER_KEY,
    LOWER_UNIT,
    OUTLIER_UNIT,
    OVER_SUPPORT_UNIT,
    PERIODS,
    SampleSet,
    main,
    write_samples,
)

from housing_report.collect.local import LocalWorkbookSource
from housing_report.collect.workbook_io import read_workbook_grids
from housing_report.config import Config, load_config
from housing_report.core.models import Grid, a1
from housing_report.core.statuses import ACCEPTED, FETCH_OK, MISSING, REJECTED, STALE, UNREACHABLE

FEB, MAR = PERIODS
COUNT_COLUMNS = ("CAN_XM", "CAN_SC", "KC_XM", "KC_SC", "HT_XM", "HT_SC")


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def generated(config: Config, tmp_path_factory) -> tuple[Path, SampleSet]:
    out = tmp_path_factory.mktemp("samples")
    return out, write_samples(out, config)


@pytest.fixture(scope="module")
def fetched(config: Config, generated) -> dict[dt.date, dict[str, Any]]:
    out, _ = generated
    return {
        p: {r.unit_code: r for r in LocalWorkbookSource(out / p.isoformat()).fetch(config.units)}
        for p in PERIODS
    }


def number(value: Any) -> float:
    """A cell as a number the way TEMPLATE.md allows (real number, Vietnamese text, empty)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise AssertionError(value)
    if isinstance(value, int | float):
        return value
    return float(str(value).strip().replace(".", "").replace(",", "."))


def read_codes(grid: Grid, config: Config) -> tuple[dict[str, Any], dict[str, str]]:
    """Values by key (field code, `A.NCC.CAN_XM`) and their A1 cells, found by code."""
    tables = {s.code: s for s in config.template.sections if s.kind == "table"}
    fields = config.template.field_codes
    values: dict[str, Any] = {}
    cells: dict[str, str] = {}
    current: tuple[str, list[str]] | None = None
    for i, row in enumerate(grid.rows):
        code = str(row[0]).strip().upper() if row and row[0] is not None else ""
        if not code:
            continue
        if code in tables:
            current = (code, [str(c) for c in row[2:]])
        elif code in fields:
            current = None
            values[code] = row[2] if len(row) > 2 else None
            cells[code] = a1(i, 2)
        elif current and code in {r.code for r in tables[current[0]].rows}:
            for j, column in enumerate(current[1]):
                key = f"{current[0]}.{code}.{column}"
                values[key] = row[2 + j] if len(row) > 2 + j else None
                cells[key] = a1(i, 2 + j)
    return values, cells


def period_of(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    d, m, y = str(value).strip().split("/")
    return dt.date(int(y), int(m), int(d))


def test_files_for_every_spreadsheet_in_both_periods(config: Config, generated):
    out, _ = generated
    spreadsheets = {u.spreadsheet for u in config.units}
    for p in PERIODS:
        assert {f.stem for f in (out / p.isoformat()).glob("*.xlsx")} == spreadsheets
    assert (out / "README.md").is_file()


def test_every_unit_is_found_except_the_deliberate_ones(config: Config, fetched):
    assert len(config.units) == 20
    feb = {code: r.status for code, r in fetched[FEB].items()}
    mar = {code: r.status for code, r in fetched[MAR].items()}
    assert feb.pop("SO_TTTT") == UNREACHABLE
    assert set(feb.values()) == {FETCH_OK}
    assert len(feb) == 19
    assert mar.pop("HCCB") == MISSING
    assert set(mar.values()) == {FETCH_OK}
    assert len(mar) == 19
    assert "HTML" in fetched[FEB]["SO_TTTT"].reason
    assert "CuuChienBinh" in fetched[MAR]["HCCB"].reason


def test_period_dates_text_or_real_dates(config: Config, fetched):
    kinds: set[type] = set()
    for p in PERIODS:
        for code, result in fetched[p].items():
            if result.grid is None:
                continue
            values, _ = read_codes(result.grid, config)
            expected = FEB if (p == MAR and code == "946") else p
            assert period_of(values["KY_BAO_CAO"]) == expected, (p, code)
            assert isinstance(values["NGAY_LAP"], dt.datetime)
            assert values["NGAY_LAP"].date() <= period_of(values["KY_BAO_CAO"])
            assert values["DON_VI"] == config.unit(code).name
            kinds.add(type(values["KY_BAO_CAO"]))
    assert kinds == {str, dt.datetime}


def test_stale_unit_sheet_is_identical_to_february(generated, fetched):
    out, _ = generated
    feb, mar = fetched[FEB]["946"].grid, fetched[MAR]["946"].grid
    assert feb.content_hash() == mar.content_hash()
    assert (out / "2025-02-27" / "st-946-long-phu.xlsx").read_bytes() == (
        out / "2025-03-12" / "st-946-long-phu.xlsx"
    ).read_bytes()


def test_text_in_a_count_cell_at_the_documented_cell(config: Config, generated, fetched):
    _, samples = generated
    values, cells = read_codes(fetched[MAR]["949"].grid, config)
    assert values["A.MTQG.HT_XM"] == "12 căn"
    [note] = [n for n in samples.notes if n.period == MAR and n.unit_code == "949"]
    assert note.where == f"BaoCao!{cells['A.MTQG.HT_XM']}"
    assert note.status == REJECTED
    # In February the same cell held a number.
    feb_values, _ = read_codes(fetched[FEB]["949"].grid, config)
    assert isinstance(feb_values["A.MTQG.HT_XM"], int)


def test_completed_over_started_at_the_documented_cell(config: Config, generated, fetched):
    _, samples = generated
    values, cells = read_codes(fetched[MAR]["951"].grid, config)
    broken = [
        r.code
        for r in config.template.section("A").rows
        if number(values[f"A.{r.code}.HT_SC"]) > number(values[f"A.{r.code}.KC_SC"])
    ]
    assert broken == ["PTTD"]
    [note] = [n for n in samples.notes if n.period == MAR and n.unit_code == "951"]
    assert note.where == f"BaoCao!{cells['A.PTTD.HT_SC']}"


def test_hccb_worksheet_is_absent_from_the_shared_file_in_march_only(config: Config, generated):
    out, _ = generated
    organisations = [u for u in config.units if u.spreadsheet == "st-khoi-mttq-doan-the"]
    assert len(organisations) == 6
    names = [u.worksheet for u in organisations]
    feb = read_workbook_grids(out / "2025-02-27" / "st-khoi-mttq-doan-the.xlsx", names)
    mar = read_workbook_grids(out / "2025-03-12" / "st-khoi-mttq-doan-the.xlsx", names)
    assert all(feb[n] is not None for n in names)
    assert mar["CuuChienBinh"] is None
    assert all(mar[n] is not None for n in names if n != "CuuChienBinh")


def test_expected_statuses(generated):
    _, samples = generated
    assert [c for c, s in samples.statuses[FEB].items() if s != ACCEPTED] == ["SO_TTTT"]
    assert {c: s for c, s in samples.statuses[MAR].items() if s != ACCEPTED} == {
        "946": STALE,
        "949": REJECTED,
        "951": REJECTED,
        "HCCB": MISSING,
    }


def district_values(config: Config, fetched, period: dt.date) -> dict[str, dict[str, float]]:
    out = {}
    for unit in config.units:
        result = fetched[period][unit.code]
        if unit.kind == "district" and result.grid is not None:
            values, _ = read_codes(result.grid, config)
            out[unit.code] = values
    return out


def test_province_figures_are_realistic(config: Config, fetched):
    for period, (low, high) in ((FEB, (0.15, 0.25)), (MAR, (0.2, 0.3))):
        districts = district_values(config, fetched, period)
        assert len(districts) == 11
        rows = [r.code for r in config.template.section("A").rows]
        need = sum(
            number(v[f"A.{r}.CAN_{k}"]) for v in districts.values() for r in rows for k in ("XM", "SC")
        )
        done = sum(
            number(v[f"A.{r}.HT_{k}"])
            for c, v in districts.items()
            if c != "949"  # its March HT_XM holds "12 căn"
            for r in rows
            for k in ("XM", "SC")
        )
        assert 8_000 <= need <= 9_500
        assert low <= done / need <= high, (period, done / need)
        by_row = {
            r: sum(number(v[f"A.{r}.CAN_XM"]) + number(v[f"A.{r}.CAN_SC"]) for v in districts.values())
            for r in rows
        }
        assert min(by_row, key=by_row.get) == "NCC"
        assert set(sorted(by_row, key=by_row.get)[-2:]) == {"MTQG", "PTTD"}


def test_money_is_about_60_per_new_house_and_30_per_repair(config: Config, fetched):
    for period in PERIODS:
        for code, v in district_values(config, fetched, period).items():
            if code in ("949",) or (period == MAR and code in (OVER_SUPPORT_UNIT, OUTLIER_UNIT)):
                continue  # 949: text in a count cell; the others: deliberate warnings
            rows = [r.code for r in config.template.section("A").rows]
            built = sum(number(v[f"A.{r}.HT_XM"]) for r in rows)
            repaired = sum(number(v[f"A.{r}.HT_SC"]) for r in rows)
            paid = sum(number(v[f"B.{r.code}.GIAI_NGAN"]) for r in config.template.section("B").rows)
            assert 0.9 <= paid / (60 * built + 30 * repaired) <= 1.2, (period, code)


def test_invariants_hold_in_every_valid_unit(config: Config, generated, fetched):
    _, samples = generated
    for period in PERIODS:
        for code, result in fetched[period].items():
            if samples.statuses[period][code] != ACCEPTED:
                continue
            values, _ = read_codes(result.grid, config)
            for key, value in values.items():
                if key.startswith(("A.", "B.")) or key in ("NGAY_CONG", "LUOT_NGUOI") or key.startswith("C_"):
                    assert number(value) >= 0, (code, key)
                if key.startswith("A."):
                    assert float(number(value)).is_integer(), (code, key)
            for r in (r.code for r in config.template.section("A").rows):
                if f"A.{r}.CAN_XM" not in values:
                    continue
                for k in ("XM", "SC"):
                    can, kc, ht = (number(values[f"A.{r}.{c}_{k}"]) for c in ("CAN", "KC", "HT"))
                    assert ht <= kc <= can, (period, code, r, k)
            for r in (r.code for r in config.template.section("B").rows):
                if f"B.{r}.HUY_DONG" in values:
                    assert number(values[f"B.{r}.GIAI_NGAN"]) <= number(values[f"B.{r}.HUY_DONG"])


def test_cumulative_figures_never_decrease(config: Config, generated, fetched):
    _, samples = generated
    cumulative = config.template.cumulative_keys()
    checked = 0
    for code in (u.code for u in config.units):
        if samples.statuses[FEB][code] != ACCEPTED or samples.statuses[MAR][code] != ACCEPTED:
            continue
        feb, _ = read_codes(fetched[FEB][code].grid, config)
        mar, _ = read_codes(fetched[MAR][code].grid, config)
        for key in cumulative & feb.keys():
            if (code, key) == (LOWER_UNIT, LOWER_KEY):
                assert number(mar[key]) < number(feb[key])  # the deliberate warning
                continue
            assert number(mar[key]) >= number(feb[key]), (code, key)
            checked += 1
    assert checked > 300


def test_kinds_fill_their_own_sections(config: Config, fetched):
    for code, result in fetched[FEB].items():
        if result.grid is None:
            continue
        codes = {row[0] for row in result.grid.rows if row and row[0]}
        kind = config.unit(code).kind
        if kind == "organization":
            assert "A" not in codes
            assert codes >= {"B", "XHH", "NGAY_CONG", "C_TIN_BAI"}
            assert not codes & {"NSTW", "NSDP", "DOI_UNG", "VAY"}
        elif kind == "press":
            assert not codes & {"A", "B", "NGAY_CONG"}
            assert "C_TIN_BAI" in codes
        else:
            assert codes >= {"A", "B", "NCC", "VAY", "NGAY_CONG", "C_PANO"}


def test_lists_have_vietnamese_entries_with_places(fetched):
    entries = [
        row
        for result in fetched[FEB].values()
        if result.grid is not None
        for row in result.grid.rows
        if row and row[0] in ("D", "E", "F") and len(row) > 1 and row[1]
    ]
    models = [row for row in entries if row[0] == "D"]
    assert len(models) >= 15
    assert all(len(row) == 3 and ", " in row[2] for row in models)
    assert {row[0] for row in entries} == {"D", "E", "F"}


def test_numbers_written_as_vietnamese_text_are_documented_and_valid(config: Config, generated, fetched):
    _, samples = generated
    valid_text = [n for n in samples.notes if n.kind == "valid"]
    assert len(valid_text) == 6
    for note in valid_text:
        values, cells = read_codes(fetched[note.period][note.unit_code].grid, config)
        [key] = [k for k, c in cells.items() if f"BaoCao!{c}" == note.where]
        assert isinstance(values[key], str)
        figure = samples.samples[note.period][note.unit_code].figures[key]
        assert number(values[key]) == pytest.approx(figure)
    texts = {n.where: n.vi for n in valid_text}
    assert any("," in t for t in texts.values())  # a decimal written with a comma


def test_readme_names_every_deliberate_cell(generated):
    out, samples = generated
    readme = (out / "README.md").read_text(encoding="utf-8")
    for note in samples.notes:
        assert f"`{note.where}`" in readme
    assert "12 căn" in readme
    assert "CuuChienBinh" in readme
    assert "st-so-tttt.xlsx" in readme


def test_expected_totals_carry_forward_non_accepted_units(generated):
    _, samples = generated

    def accepted_sum(period: dt.date, key: str) -> float:
        return sum(
            s.figures.get(key, 0)
            for c, s in samples.samples[period].items()
            if s is not None and samples.statuses[period][c] == ACCEPTED
        )

    feb, mar = samples.expected_totals(FEB), samples.expected_totals(MAR)
    # February: the unreachable SO_TTTT has no earlier report, so it adds nothing.
    assert feb["C_LOA"] == accepted_sum(FEB, "C_LOA")
    assert samples.samples[MAR]["SO_TTTT"].figures["C_LOA"] > 0
    # March: cumulative figures of the four non-accepted units come from February ...
    carried = sum(samples.samples[FEB][c].figures["NGAY_CONG"] for c in ("946", "949", "951", "HCCB"))
    assert mar["NGAY_CONG"] == accepted_sum(MAR, "NGAY_CONG") + carried
    # ... but not their propaganda figures, which are per period.
    assert mar["C_TIN_BAI"] == accepted_sum(MAR, "C_TIN_BAI")
    for key in ("A.PTTD.HT_XM", "B.XHH.HUY_DONG", "NGAY_CONG"):
        assert mar[key] >= feb[key]


def test_generation_is_byte_stable(config: Config, generated, tmp_path: Path):
    out, _ = generated
    assert main([str(tmp_path)]) == 0
    for p in PERIODS:
        for first in (out / p.isoformat()).glob("*.xlsx"):
            assert (tmp_path / p.isoformat() / first.name).read_bytes() == first.read_bytes(), first
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == (out / "README.md").read_text(
        encoding="utf-8"
    )


def zip_contents(path: Path) -> dict[str, bytes]:
    if not zipfile.is_zipfile(path):
        return {"(raw)": path.read_bytes()}
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_committed_samples_are_up_to_date(config: Config, generated):
    """include/sample_data holds what the generator writes (compared uncompressed, so that
    another zlib build cannot fail this)."""
    out, _ = generated
    if not DEFAULT_OUT_DIR.is_dir():
        pytest.skip("include/sample_data has not been generated")
    for p in PERIODS:
        committed = sorted(f.name for f in (DEFAULT_OUT_DIR / p.isoformat()).glob("*.xlsx"))
        assert committed == sorted(f.name for f in (out / p.isoformat()).glob("*.xlsx"))
        for name in committed:
            assert zip_contents(DEFAULT_OUT_DIR / p.isoformat() / name) == zip_contents(
                out / p.isoformat() / name
            ), f"{p}/{name} is out of date: run `python -m housing_report_tools.sample_data`"
    readme = (DEFAULT_OUT_DIR / "README.md").read_text(encoding="utf-8")
    assert readme == (out / "README.md").read_text(encoding="utf-8")
