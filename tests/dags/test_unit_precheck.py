"""End to end with `dag.test()`: unit_precheck on the local source (the sample workbooks), then
the collection day's provincial_report, which reads only what changed since (issue 21)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from housing_report.archive.store import ReportStore, sqlite_url
from housing_report_airflow.dag_runner import run_dag_test
from tests.dags.test_provincial_report_e2e import REPO, SAMPLES, environment

pytestmark = pytest.mark.airflow
PERIOD = "2025-03-12"


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag


def run(dag, sheets: Path, out: Path, **conf):
    with environment(
        AIRFLOW_VAR_REPORT_SOURCE=str(sheets),
        AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(out),
        AIRFLOW_VAR_REPORT_DELIVERY="outbox",
    ):
        result = run_dag_test(dag, run_conf={"period": PERIOD, **conf})
    assert str(result.state).lower().endswith("success"), result.state
    return {ti.task_id: ti for ti in result.get_task_instances()}


def subjects(folder: Path) -> list[str]:
    return sorted(
        str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"])
        for p in folder.glob("*.eml")
    )


def test_the_precheck_then_the_collection_day(dagbag, tmp_path):
    sheets, out = tmp_path / "sheets", tmp_path / "out"
    sheets.mkdir()
    for path in (SAMPLES / PERIOD).glob("*.xlsx"):
        shutil.copyfile(path, sheets / path.name)
    precheck = dagbag.dags["unit_precheck"]
    tis = run(precheck, sheets, out)
    assert tis["check_unit_sheets"].state == "success"
    # Each unit with findings has its KiemTra, each error naming its cell.
    kiemtra = out / PERIOD / "kiem-tra"
    sheet = openpyxl.load_workbook(kiemtra / "st-949-thanh-tri.xlsx")["KiemTra"]
    errors = [row for row in sheet.iter_rows(values_only=True) if row[4] == "Lỗi"]
    assert [(e[0], e[5]) for e in errors] == [("Huyện Thạnh Trị", "G15")]
    # The units' mail in the outbox: findings to 945, 949, 951; no official among the recipients.
    mail = kiemtra / "thu"
    first = subjects(mail)
    assert sum("kiểm tra trước" in s for s in first) == 3
    assert any(s.endswith("Huyện Thạnh Trị: kiểm tra trước: cần sửa 1 lỗi trước khi tổng hợp") for s in first)
    assert sum(s.endswith("Đã tiếp nhận") for s in first) == 15

    # The next check: nothing changed, nothing read, nothing sent.
    tis = run(precheck, sheets, out)
    assert tis["check_unit_sheets"].state == "skipped"  # no batch mapped
    assert tis["send_unit_messages"].state == "success"
    assert subjects(mail) == first

    # The collection day: no sheet read again (each read stored again as the report's), and
    # the figures a full read gives (the e2e test's).
    report = dagbag.dags["provincial_report"]
    tis = run(report, sheets, out, dry_run=True)
    summary = json.loads((out / PERIOD / "summary.json").read_text(encoding="utf-8"))
    assert summary["status_counts"] == {
        "accepted": 16,
        "rejected": 2,
        "stale": 1,
        "missing": 1,
        "unreachable": 0,
    }
    store = ReportStore(sqlite_url(out / "reports.sqlite"))
    codes = [u["code"] for u in summary["units"]]
    report_reads = store.latest_reads(dt.date.fromisoformat(PERIOD), tis["aggregate_reports"].run_id, codes)
    checked = {r.read_at for r in store.last_period_reads(dt.date.fromisoformat(PERIOD), codes).values()}
    assert len(report_reads) == len(codes)
    assert {r.read_at for r in report_reads.values()} <= checked
    assert all(not r.run_id.startswith("precheck:") for r in report_reads.values())
