"""End to end: `dag.test()` of provincial_report over the sample workbooks.

Runs against a migrated SQLite metadata database, delivers to the outbox and to a
real SMTP server (aiosmtpd on loopback), and checks what arrived.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import io
import json
import os
from pathlib import Path

import msgspec
import pytest

from housing_report_airflow.dag_runner import run_dag_test

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "include" / "sample_data"
SUBJECT = "Báo cáo tổng hợp tiến độ xóa nhà tạm, nhà dột nát - kỳ {}"

pytestmark = pytest.mark.airflow


@contextlib.contextmanager
def environment(**values: str):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def dag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags["provincial_report"]


def run_period(dag, period: str, out: Path, delivery: str = "outbox", **conf) -> str:
    with environment(
        AIRFLOW_VAR_REPORT_SOURCE=str(SAMPLES / period),
        AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(out),
        AIRFLOW_VAR_REPORT_DELIVERY=delivery,
    ):
        run = run_dag_test(dag, run_conf={"period": period, "dry_run": False, **conf})
    state = str(run.state).lower()
    assert state.endswith("success"), state
    return run.run_id


def load(out: Path, period: str) -> dict:
    return json.loads((out / period / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def two_periods(dag, tmp_path_factory):
    out = tmp_path_factory.mktemp("output")
    run_period(dag, "2025-02-27", out)
    run_period(dag, "2025-03-12", out)
    return out


def units_by_code(summary: dict) -> dict[str, dict]:
    return {u["code"]: u for u in summary["units"]}


def test_february_all_accepted_but_the_corrupt_workbook(two_periods):
    feb = load(two_periods, "2025-02-27")
    units = units_by_code(feb)
    assert units["SO_TTTT"]["status"] == "unreachable"
    assert units["SO_TTTT"]["reason"]
    assert feb["status_counts"]["accepted"] == 19


def test_march_shows_every_status_with_cells_and_carry_forward(two_periods):
    mar = load(two_periods, "2025-03-12")
    units = units_by_code(mar)
    assert units["946"]["status"] == "stale"
    assert units["949"]["status"] == "rejected"
    assert units["951"]["status"] == "rejected"
    assert units["HCCB"]["status"] == "missing"
    assert units["SO_TTTT"]["status"] == "accepted"
    assert mar["status_counts"] == {"accepted": 16, "rejected": 2, "stale": 1, "missing": 1, "unreachable": 0}
    [text_error] = units["949"]["errors"]
    assert text_error["cell"].startswith("BaoCao!")
    assert "12 căn" in text_error["message"]
    assert "Huyện Thạnh Trị" in text_error["message"]
    [rule_error] = units["951"]["errors"]
    assert rule_error["code"] == "HT_SC"
    assert "khởi công" in rule_error["message"]
    for code in ("946", "949", "951", "HCCB"):
        assert units[code]["carried_forward_from"] == "2025-02-27"
        assert mar["by_unit"][code], code
        assert not any(k.startswith("C_") for k in mar["by_unit"][code])
    for code, figures in mar["by_unit"].items():
        if units[code]["status"] == "accepted":
            assert figures, code
    districts = {d["code"]: d for d in mar["districts"]}
    # Without figures of its own this period a district's change is unknown, not 0.
    assert [c for c, d in districts.items() if d["change"] is None] == ["946", "949", "951"]
    # Ngã Năm's completed houses were flagged (a jump): it is not to be praised as it stands.
    assert [c for c, d in districts.items() if d["flagged"]] == ["944", "948"]


def test_march_totals_are_the_sum_of_the_figures_used(two_periods):
    mar = load(two_periods, "2025-03-12")
    for key, total in mar["totals"].items():
        if ".TONG." in key:
            table, _, col = key.split(".")
            rows = [
                k
                for k in mar["totals"]
                if k.startswith(f"{table}.") and k.endswith(f".{col}") and ".TONG." not in k
            ]
            assert total == pytest.approx(sum(mar["totals"][k] for k in rows)), key
        else:
            # The organisations' XHH money is shown apart (report.yaml `funds_apart`).
            used = sum(f.get(key, 0) for f in mar["by_unit"].values()) - mar["apart"].get(key, 0)
            assert total == pytest.approx(used), key
    organisations = [u["code"] for u in mar["units"] if u["kind"] == "organization"]
    assert mar["apart"]["B.XHH.HUY_DONG"] == pytest.approx(
        sum(mar["by_unit"][code].get("B.XHH.HUY_DONG", 0) for code in organisations)
    )
    houses = mar["houses"]
    assert 8000 <= houses["needed"] <= 9500
    assert 20 <= mar["completion_percent"] <= 30
    assert mar["previous_period"] == "2025-02-27"
    assert mar["change"]["A.TONG.HT_XM"] + mar["change"]["A.TONG.HT_SC"] == (
        houses["completed"] - load(two_periods, "2025-02-27")["houses"]["completed"]
    )


@pytest.mark.parametrize("period", ["2025-02-27", "2025-03-12"])
def test_totals_match_what_the_sample_sheets_hold(two_periods, period):
    """The sample generator knows every figure it wrote; the pipeline must find the same."""
    import datetime as dt

    from housing_report_tools.sample_data import build_samples

    from housing_report.config import load_config

    expected = build_samples(load_config()).expected_totals(dt.date.fromisoformat(period))
    summary = load(two_periods, period)
    totals, apart = summary["totals"], summary["apart"]
    assert expected
    assert apart  # the organisations' money, beside the totals
    for key, value in expected.items():
        assert totals[key] == pytest.approx(value - apart.get(key, 0)), key


def test_outputs_and_outbox(two_periods):
    from housing_report.config import load_config

    config = load_config()
    folder = two_periods / "2025-03-12"
    for name in ("summary.json", "email.html", "email.txt"):
        assert (folder / name).stat().st_size > 0
    assert list(folder.glob("*.xlsx"))
    [eml] = sorted((folder / "outbox").glob("*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == SUBJECT.format("12/03/2025")
    assert {a.addr_spec for a in message["To"].addresses} == {c.email for c in config.report.to}
    assert {a.addr_spec for a in message["Cc"].addresses} == {c.email for c in config.report.cc}


def test_replay_rebuilds_the_period_from_the_archive_alone(dag, two_periods, tmp_path):
    """A replay reads no source (here: a folder that does not exist) and gives the same summary."""
    from housing_report.archive.store import ReportStore, sqlite_url

    stored = ReportStore(sqlite_url(two_periods / "reports.sqlite")).summary_version(dt.date(2025, 3, 12), 1)
    original = msgspec.to_builtins(stored.summary)
    with environment(
        AIRFLOW_VAR_REPORT_SOURCE=str(tmp_path / "no-such-folder"),
        AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(two_periods),
        AIRFLOW_VAR_REPORT_DELIVERY="outbox",
    ):
        run = run_dag_test(
            dag, run_conf={"period": "2025-03-12", "dry_run": False, "replay": True, "replay_version": 1}
        )
    assert str(run.state).lower().endswith("success")
    replayed = json.loads((two_periods / "2025-03-12" / "replay-v1" / "summary.json").read_text("utf-8"))
    for summary in (original, replayed):
        summary.pop("generated_at")
    assert replayed == original
    assert len(list((two_periods / "2025-03-12" / "outbox").glob("*.eml"))) == 1


def test_rerunning_a_period_with_unchanged_sheets_sends_nothing(dag, two_periods):
    before = load(two_periods, "2025-03-12")
    run_period(dag, "2025-03-12", two_periods)
    after = load(two_periods, "2025-03-12")
    assert after["run_id"] != before["run_id"]
    assert after["version"] == before["version"] + 1
    assert after["totals"] == before["totals"]
    assert after["status_counts"] == before["status_counts"]
    assert len(list((two_periods / "2025-03-12" / "outbox").glob("*.eml"))) == 1


def test_smtp_delivery_to_a_real_server(dag, tmp_path):
    import openpyxl

    from housing_report.config import load_config
    from tests.smtp_server import Collector, smtp_server

    handler = Collector()
    with smtp_server(handler) as controller:
        _deliver_march_over_smtp(dag, tmp_path, controller, handler)
    config = load_config()
    expected = {c.email for c in config.report.to} | {c.email for c in config.report.cc}
    # The units' feedback emails go through the same server (tests/dags/test_unit_feedback.py).
    [received] = [r for r in handler.received if set(r.rcpt_tos) & expected]
    assert set(received.rcpt_tos) == expected
    message = received.message
    # The recipients' names are shown, in Vietnamese.
    assert {a.display_name for a in message["To"].addresses} == {c.name for c in config.report.to}
    assert message["Subject"] == SUBJECT.format("12/03/2025")
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    summary = load(tmp_path, "2025-03-12")
    assert "12/03/2025" in plain
    assert "12/03/2025" in html
    [attachment] = [p for p in message.iter_attachments() if p.get_filename().endswith(".xlsx")]
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()), data_only=True)
    # Find each total's code in the attachment's header and compare with summary.json.
    found = _workbook_totals(book)
    checked = 0
    for key, value in summary["totals"].items():
        if key in found:
            assert found[key] == pytest.approx(value), key
            checked += 1
    assert checked >= 40


def _deliver_march_over_smtp(dag, tmp_path, controller, handler):
    conn = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": controller.port,
        "extra": {"from_email": "Ban Tuyên giáo <baocao@soctrang.example>", "starttls": False},
    }
    with environment(AIRFLOW_CONN_REPORT_SMTP=json.dumps(conn)):
        run_period(dag, "2025-03-12", tmp_path, delivery="smtp", dry_run=True)
        assert handler.received == []  # dry run: rendered, not sent
        run_period(dag, "2025-03-12", tmp_path, delivery="smtp")


def _workbook_totals(book) -> dict[str, float]:
    """Totals rows of the by-unit sheets: a (hidden) header row of codes, from UNIT_CODE, and the
    row "Tổng cộng" (a workbook loaded with `data_only`: the totals' stored values)."""
    totals: dict[str, float] = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header = next((r for r in rows if r and r[0] == "UNIT_CODE"), None)
        total_row = next((r for r in rows if r and len(r) > 1 and r[0] is None and r[1] == "Tổng cộng"), None)
        if not header or not total_row:
            continue
        for code, value in zip(header, total_row, strict=False):
            if isinstance(code, str) and isinstance(value, (int, float)):
                totals[code] = value
    return totals
