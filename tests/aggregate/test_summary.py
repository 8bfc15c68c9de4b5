"""The report database (SQLite and the real PostgreSQL) and the aggregation over it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from housing_report.archive.records import StoreError
from housing_report.archive.store import ReportStore
from housing_report.core.models import FetchResult, Grid
from housing_report.core.statuses import ACCEPTED, MISSING
from housing_report.pipeline.report import summarise
from housing_report.validate.parse import parse_report
from tests.support.grids import PROPAGANDA, TABLE_A, TABLE_B, col_of, find, unit_rows

FEB, MAR = dt.date(2025, 2, 27), dt.date(2025, 3, 12)


def _read(config, store, period, run_id, sheets: dict[str, list | None]):
    """Parse and store one read per unit: rows, or None for a missing worksheet."""
    rows_out = []
    for code, rows in sheets.items():
        unit = config.unit(code)
        if rows is None:
            fetched = FetchResult(code, MISSING, reason="Không tìm thấy trang tính")
            rows_out.append((fetched, None, unit.spreadsheet, unit.worksheet))
            continue
        grid = Grid(unit.worksheet, rows)
        report = parse_report(grid, unit, config.template, config.report.rules, period)
        rows_out.append((FetchResult(code, "ok", grid), report, unit.spreadsheet, unit.worksheet))
    store.save_reads(period, run_id, rows_out)


def _all_units(config, period_text, overrides=None):
    sheets = {}
    for u in config.units:
        sheets[u.code] = unit_rows(config, u.kind, period_text, u.name)
    sheets.update(overrides or {})
    return sheets


def test_ensure_schema_is_idempotent(store_url):
    store = ReportStore(store_url)
    store.ensure_schema()
    store.ensure_schema()
    assert store.latest_reads(FEB, "x", ["941"]) == {}


def test_corrupt_sqlite_file_is_a_clear_error(tmp_path):
    path = tmp_path / "reports.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = ReportStore(f"sqlite:///{path}")
    with pytest.raises(StoreError, match="bị hỏng.*Hãy khôi phục tệp từ bản sao lưu"):
        store.ensure_schema()


def test_summary_totals_and_carry_forward(config, store_url):
    store = ReportStore(store_url)
    store.ensure_schema()
    _read(config, store, FEB, "run-feb", _all_units(config, "27/02/2025"))
    feb = summarise(config, FEB, "run-feb", store)
    assert feb.status_counts[ACCEPTED] == 20
    # 11 districts with the same table A: every total is 11 times the row.
    for row, values in TABLE_A.items():
        assert feb.totals[f"A.{row}.CAN_XM"] == 11 * values[0]
    needed = 11 * sum(v[0] + v[1] for v in TABLE_A.values())
    done = 11 * sum(v[4] + v[5] for v in TABLE_A.values())
    assert feb.houses.needed == needed
    assert feb.completion_percent == round(100 * done / needed, 2)
    # The organisations' XHH money is shown apart (report.yaml `funds_apart`), not added to the
    # districts', which already hold what was handed to them.
    assert feb.totals["B.XHH.HUY_DONG"] == pytest.approx(11 * TABLE_B["XHH"][0])
    assert feb.apart["B.XHH.HUY_DONG"] == pytest.approx(6 * TABLE_B["XHH"][0])
    assert feb.apart["B.TONG.GIAI_NGAN"] == pytest.approx(6 * TABLE_B["XHH"][1])
    assert "B.NSTW.HUY_DONG" not in feb.apart  # nothing of theirs in the other rows
    assert feb.totals["B.NSTW.GIAI_NGAN"] == pytest.approx(11 * TABLE_B["NSTW"][1])
    assert feb.totals["B.TONG.HUY_DONG"] == pytest.approx(sum(feb.totals[f"B.{r}.HUY_DONG"] for r in TABLE_B))
    # Propaganda from all 20 units.
    assert feb.totals["C_TIN_BAI"] == 20 * PROPAGANDA["C_TIN_BAI"]
    assert feb.previous is None
    assert feb.change == {}

    # March: 946 not updated, 949 rejected, HCCB missing; 941 progressed by 5 houses.
    march_941 = unit_rows(config, "district", "12/03/2025", "Thành phố Sóc Trăng")
    r = find(march_941, "MTQG")
    march_941[r][col_of(march_941, "A", "HT_XM")] += 5
    bad_949 = unit_rows(config, "district", "12/03/2025", "Huyện Thạnh Trị")
    bad_949[find(bad_949, "MTQG")][col_of(bad_949, "A", "HT_XM")] = "12 căn"
    _read(
        config,
        store,
        MAR,
        "run-mar",
        _all_units(
            config,
            "12/03/2025",
            {
                "941": march_941,
                "946": unit_rows(config, "district", "27/02/2025", "Huyện Long Phú"),
                "949": bad_949,
                "HCCB": None,
            },
        ),
    )
    mar = summarise(config, MAR, "run-mar", store)
    units = {u.code: u for u in mar.units}
    assert units["946"].status == "stale"
    assert units["949"].status == "rejected"
    assert units["949"].errors[0].cell.startswith("BaoCao!G")
    assert units["HCCB"].status == MISSING
    for code in ("946", "949", "HCCB"):
        assert units[code].carried_forward_from == "2025-02-27"
    # Carried-forward units give cumulative figures, and nothing to propaganda.
    assert "C_TIN_BAI" not in mar.by_unit["946"]
    assert mar.by_unit["946"]["A.NCC.CAN_XM"] == TABLE_A["NCC"][0]
    assert mar.totals["C_TIN_BAI"] == 17 * PROPAGANDA["C_TIN_BAI"]
    assert mar.totals["A.TONG.HT_XM"] == feb.totals["A.TONG.HT_XM"] + 5
    assert mar.change["A.TONG.HT_XM"] == 5
    assert "C_TIN_BAI" not in mar.change  # per-period figures have no cumulative change
    assert mar.previous.period == "2025-02-27"
    district = {d.code: d for d in mar.districts}
    assert district["941"].change == 5
    # A district without figures of its own this period has an unknown change, not 0.
    assert district["946"].change is None
    assert district["949"].change is None
    assert district["946"].previous_completed is not None
    assert len(mar.districts) == 11
    # Totals are exactly the sum of the figures used, unit by unit, less what is shown apart.
    for key, total in mar.totals.items():
        if ".TONG." in key:
            continue
        used = sum(f.get(key, 0) for f in mar.by_unit.values()) - mar.apart.get(key, 0)
        assert total == pytest.approx(used), key
    assert store.summary(MAR, "run-mar").totals == mar.totals


def test_organisations_money_added_when_report_yaml_says_so(config, store_url):
    store = ReportStore(store_url)
    store.ensure_schema()
    _read(config, store, FEB, "run-feb", _all_units(config, "27/02/2025"))
    added = dataclasses.replace(
        config,
        report=dataclasses.replace(
            config.report, funds_apart=dataclasses.replace(config.report.funds_apart, counted="added")
        ),
    )
    feb = summarise(added, FEB, "run-feb", store)
    assert feb.totals["B.XHH.HUY_DONG"] == pytest.approx(17 * TABLE_B["XHH"][0])
    assert feb.apart == {}


def test_rerun_of_a_period_uses_its_own_reads_and_keeps_earlier_accepted(config, store_url):
    store = ReportStore(store_url)
    store.ensure_schema()
    _read(config, store, MAR, "first", _all_units(config, "12/03/2025"))
    first = summarise(config, MAR, "first", store)
    # The unit breaks its sheet after the deadline; a re-run carries its accepted figures.
    broken = unit_rows(config, "district", "12/03/2025", "Huyện Kế Sách")
    broken[find(broken, "NCC")][2] = "#REF!"
    _read(config, store, MAR, "second", _all_units(config, "12/03/2025", {"943": broken}))
    second = summarise(config, MAR, "second", store)
    units = {u.code: u for u in second.units}
    assert units["943"].status == "rejected"
    assert units["943"].carried_forward_from == "2025-03-12"
    assert second.totals["A.TONG.CAN_XM"] == first.totals["A.TONG.CAN_XM"]
    # A retried fetch stores a second read; the latest one counts.
    _read(config, store, MAR, "second", {"943": unit_rows(config, "district", "12/03/2025", "Huyện Kế Sách")})
    third = summarise(config, MAR, "second", store)
    assert {u.code: u for u in third.units}["943"].status == ACCEPTED


def test_grid_and_hash_are_archived(config, tmp_path):
    import sqlalchemy as sa

    from housing_report.archive.schema import unit_reads

    store = ReportStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    store.ensure_schema()
    rows = unit_rows(config, "press", dt.datetime(2025, 3, 12), "Báo Sóc Trăng")
    _read(config, store, MAR, "r1", {"BAO_ST": rows})
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(unit_reads)).one()
    assert row.status == ACCEPTED
    assert len(row.content_hash) == 64
    assert row.content_hash == Grid("BaoCao", rows).content_hash()
    assert store.read_grid(row.id).rows == rows


def test_an_outlier_on_a_cell_the_read_already_warned_about_is_not_said_twice(config):
    """One finding per cell: the read's warning on D15 stands; the peers' outlier on D15 is
    dropped, an outlier on another cell is kept."""
    from housing_report.aggregate.summary import build_summary
    from housing_report.archive.records import StoredRead
    from housing_report.core.models import Finding

    period = dt.date(2025, 3, 12)
    unit = config.units[0]
    read = StoredRead(
        id=1,
        unit_code=unit.code,
        period=period,
        run_id="r",
        status="accepted",
        reason="",
        read_at=dt.datetime(2025, 3, 12, 8, tzinfo=dt.UTC),
        spreadsheet="s",
        worksheet="BaoCao",
        figures={},
        findings=[{"severity": "warning", "cell": "BaoCao!D15", "code": "CAN_SC", "message": "đã đổi"}],
        lists={},
        info={},
    )
    outliers = [
        Finding("warning", "BaoCao!D15", "CAN_SC", "cao bất thường D15"),
        Finding("warning", "BaoCao!G16", "HT_XM", "cao bất thường G16"),
    ]
    summary = build_summary(config, period, "r", {unit.code: read}, {}, None, findings={unit.code: outliers})
    [entry] = [u for u in summary.units if u.code == unit.code]
    assert [(w.cell, w.message) for w in entry.warnings] == [
        ("BaoCao!D15", "đã đổi"),
        ("BaoCao!G16", "cao bất thường G16"),
    ]
