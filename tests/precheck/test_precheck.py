"""The pre-check on the local source: the KiemTra workbook each unit would see, only the changed
sheets read again, its reads kept out of the report's history, and the collection day reusing
the reads of sheets unchanged since (issue 21)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import msgspec
import openpyxl

from housing_report.archive.store import ReportStore
from housing_report.collect.base import ReadBounds
from housing_report.collect.local import LocalWorkbookSource
from housing_report.config import load_config
from housing_report.pipeline.report import collect_batch, plan_batches, summarise
from housing_report.precheck.feedback import FeedbackNotWritable, UnitFeedback
from housing_report.precheck.local import CODE_COLUMN, HEADER, HEADER_ROW, SHEET, LocalFeedbackWriter
from housing_report.precheck.run import (
    check_units,
    plan_check_batches,
    precheck_run_id,
    sheet_times_for,
    unchanged_reads,
)

MAR = dt.date(2025, 3, 12)
SAMPLES = Path(__file__).resolve().parents[2] / "include" / "sample_data"


class CountingSource(LocalWorkbookSource):
    """The local source, counting the units it was asked to read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: list[str] = []

    def fetch(self, units):
        self.asked += [u.code for u in units]
        return super().fetch(units)


class RefusingWriter:
    """A writer whose every spreadsheet refuses the feedback (no longer shared for editing)."""

    def write(self, feedback: UnitFeedback) -> str:
        raise FeedbackNotWritable("không có quyền chỉnh sửa")


def source_of(config, folder: Path) -> CountingSource:
    return CountingSource(folder, ReadBounds.for_template(config.template))


def run_check(config, store, source, out: Path, run_id: str, writer=None):
    """One pre-check as the DAG runs it: plan (only what changed), check each batch."""
    batches, unchanged = plan_check_batches(config, store, MAR, sheet_times_for(source), 4)
    writer = writer or LocalFeedbackWriter(out)
    outcomes = [check_units(config, store, source, writer, MAR, run_id, batch) for batch in batches]
    return outcomes, unchanged


def kiemtra_rows(path: Path) -> list[tuple]:
    sheet = openpyxl.load_workbook(path)[SHEET]
    assert [c.value for c in sheet[HEADER_ROW]][: len(HEADER)] == list(HEADER)
    return [
        tuple(row)
        for row in sheet.iter_rows(min_row=HEADER_ROW + 1, max_col=CODE_COLUMN, values_only=True)
        if any(row)
    ]


def fix_cell(path: Path, cell: str, value) -> None:
    workbook = openpyxl.load_workbook(path)
    workbook["BaoCao"][cell] = value
    workbook.save(path)


def test_each_unit_with_findings_gets_a_kiemtra_sheet_naming_each_cell(config, store, sheets, tmp_path):
    out = tmp_path / "out"
    outcomes, unchanged = run_check(config, store, source_of(config, sheets), out, "run-1")
    assert unchanged == []
    statuses = {code: s for o in outcomes for code, s in o.statuses.items()}
    assert statuses["949"] == statuses["951"] == "error"
    assert statuses["945"] == "warning"
    assert statuses["941"] == "accepted"
    assert statuses["HCCB"] == "unreadable"
    folder = out / MAR.isoformat() / "kiem-tra"
    # One workbook per spreadsheet, each unit's rows in it.
    assert {p.stem for p in folder.glob("*.xlsx")} == {u.spreadsheet for u in config.units}
    rows_949 = kiemtra_rows(folder / "st-949-thanh-tri.xlsx")
    assert rows_949[0][:3] == (
        "Huyện Thạnh Trị",
        "BaoCao",
        "Chưa đạt: có 1 lỗi cần sửa trước ngày 12/03/2025",
    )
    [error] = [r for r in rows_949 if r[4] == "Lỗi"]
    assert error[5] == "G15"  # the cell, as the unit finds it in its sheet
    assert "«12 căn»" in error[6]
    assert "chỉ ghi số" in error[6]
    assert not error[6].startswith("Huyện Thạnh Trị")  # the unit and the cell are in their columns
    [error_951] = [r for r in kiemtra_rows(folder / "st-951-tran-de.xlsx") if r[4] == "Lỗi"]
    assert error_951[5] == "H16"
    [warning] = [r for r in kiemtra_rows(folder / "st-945-cu-lao-dung.xlsx") if r[4] == "Cảnh báo"]
    assert warning[5] == "D21"
    shared = kiemtra_rows(folder / "st-khoi-mttq-doan-the.xlsx")
    assert [r[CODE_COLUMN - 1] for r in shared] == ["MTTQ", "HLHPN", "HND", "TD", "HCCB", "LDLD"]
    sheet = openpyxl.load_workbook(folder / "st-949-thanh-tri.xlsx")[SHEET]
    assert sheet.protection.sheet is True
    assert sheet.column_dimensions[openpyxl.utils.get_column_letter(CODE_COLUMN)].hidden is True


def test_only_the_sheets_changed_since_are_read_again(config, store, sheets, tmp_path):
    out = tmp_path / "out"
    source = source_of(config, sheets)
    run_check(config, store, source, out, "run-1")
    assert len(source.asked) == len(config.units)
    source.asked.clear()
    outcomes, unchanged = run_check(config, store, source, out, "run-2")
    assert outcomes == []
    assert source.asked == []
    assert set(unchanged) == {u.code for u in config.units}
    # The unit fixes its cell: that sheet alone is read, and its KiemTra says it passes now.
    fix_cell(sheets / "st-949-thanh-tri.xlsx", "G15", 12)
    outcomes, unchanged = run_check(config, store, source, out, "run-3")
    assert source.asked == ["949"]
    assert outcomes[0].statuses == {"949": "accepted"}
    rows = kiemtra_rows(out / MAR.isoformat() / "kiem-tra" / "st-949-thanh-tri.xlsx")
    assert len(rows) == 1
    assert rows[0][2].startswith("Đạt: không có lỗi")


def test_a_config_changed_since_a_read_reads_every_sheet_again(config_dir, store, sheets, tmp_path):
    config = load_config(config_dir)
    source = source_of(config, sheets)
    run_check(config, store, source, tmp_path / "out", "run-1")
    source.asked.clear()
    later = dt.datetime.now().timestamp() + 5  # report.yaml edited after the reads (new rules)
    os.utime(config_dir / "report.yaml", (later, later))
    run_check(config, store, source, tmp_path / "out", "run-2")
    assert sorted(source.asked) == sorted(u.code for u in config.units)


def test_a_spreadsheet_that_refuses_the_feedback_is_logged_unwritten(config, store, sheets):
    [outcome] = [
        check_units(config, store, source_of(config, sheets), RefusingWriter(), MAR, "run-1", ["949"])
    ]
    assert outcome.written == {}
    assert "không có quyền" in outcome.unwritable["949"]
    check = store.last_checks(MAR, ["949"])["949"]
    assert check.written_to == ""
    assert check.status == "rejected"


def test_precheck_reads_are_not_the_reports_history(config, store, sheets, tmp_path):
    """Stored like any read (period, run id `precheck:<run>`), but never carried forward nor
    counted as the period's first run."""
    run_check(config, store, source_of(config, sheets), tmp_path / "out", "run-1")
    reads = store.latest_reads(MAR, precheck_run_id("run-1"), ["941"])
    assert reads["941"].status == "accepted"
    assert store.last_accepted(MAR, "report-run", ["941"]) == {}
    assert store.last_figures_before(dt.date(2025, 3, 27), ["941"]) == {}
    assert store.read_statuses([MAR]) == []


def test_the_collection_day_reuses_unchanged_reads_with_the_same_results(config, store, sheets, tmp_path):
    """After a pre-check, the report reads only what changed since, and its summary is the one a
    full read gives (another archive, the same sheets)."""
    source = source_of(config, sheets)
    run_check(config, store, source, tmp_path / "out", "pre-1")
    fix_cell(sheets / "st-951-tran-de.xlsx", "H16", 100)  # fixed after the last check
    source.asked.clear()
    for batch in plan_batches(config, 4):
        units = [config.unit(c) for c in batch]
        same = unchanged_reads(config, store, MAR, units, sheet_times_for(source))
        collect_batch(config, batch, MAR, "report-1", source, store, reuse={c: r.id for c, r in same.items()})
    assert source.asked == ["951"]
    reused = summarise(config, MAR, "report-1", store)

    fresh_store = ReportStore(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    fresh_store.ensure_schema()
    for batch in plan_batches(config, 4):
        collect_batch(config, batch, MAR, "report-1", source_of(config, sheets), fresh_store)
    fresh = summarise(config, MAR, "report-1", fresh_store)

    def comparable(summary):
        data = msgspec.to_builtins(summary)
        data.pop("generated_at", None)
        for unit in data["units"]:
            unit.pop("read_at", None)  # a reused read keeps the time it was read
        return data

    assert comparable(reused) == comparable(fresh)
    assert reused.status_counts["accepted"] == fresh.status_counts["accepted"]
    assert {u.code: u.status for u in reused.units}["951"] == "accepted"


def test_units_the_report_read_but_no_check_told_are_checked(config, store, sheets, tmp_path):
    """After a report's run of the period (`make demo` first), the first pre-check still writes
    every unit's KiemTra; the next one reads nothing."""
    source = source_of(config, sheets)
    for batch in plan_batches(config, 4):
        collect_batch(config, batch, MAR, "report-1", source, store)
    source.asked.clear()
    outcomes, unchanged = run_check(config, store, source, tmp_path / "out", "run-1")
    assert unchanged == []
    assert sorted(source.asked) == sorted(u.code for u in config.units)
    assert len(list((tmp_path / "out" / MAR.isoformat() / "kiem-tra").glob("*.xlsx"))) == 15
    source.asked.clear()
    run_check(config, store, source, tmp_path / "out", "run-2")
    assert source.asked == []
