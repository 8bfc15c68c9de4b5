"""One unit's cell never stops the province (issue 18): every number bounded where it is
validated, every figure that passed validation safe for the arithmetic after it, implausible
figures flagged against the unit's own history and its peers, findings of one kind capped.

Through the real steps: `collect_batch` (read, validate, store a batch), `summarise`, the
outputs (`write_outputs`: report document, charts, workbook, email) and the feedback emails to a
real SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest

from housing_report.archive.store import ReportStore
from housing_report.core.models import FetchResult, Grid
from housing_report.core.statuses import ACCEPTED, FETCH_OK, REJECTED
from housing_report.core.summary import summary_json
from housing_report.deliver.feedback import send_feedback
from housing_report.pipeline.report import collect_batch, summarise
from housing_report.render.outputs import write_outputs
from housing_report.validate.values import read_number
from tests.deliver.test_report import smtp
from tests.smtp_server import Collector, smtp_server
from tests.support.grids import col_of, find, set_cell, unit_rows

FEB, MAR = dt.date(2025, 2, 27), dt.date(2025, 3, 12)
BAD = "942"  # Huyện Châu Thành


class Sheets:
    """A source of the given worksheets (rows by unit code)."""

    def __init__(self, sheets):
        self.sheets = sheets

    def fetch(self, units):
        return [FetchResult(u.code, FETCH_OK, Grid(u.worksheet, self.sheets[u.code])) for u in units]


@pytest.fixture
def store(tmp_path):
    s = ReportStore(f"sqlite:///{tmp_path / 'reports.sqlite'}")
    s.ensure_schema()
    return s


def all_rows(config, period_text):
    return {u.code: unit_rows(config, u.kind, period_text, u.name) for u in config.units}


def progressed(config, rows, houses=5):
    """Every district's table A a few houses further (the forecast then has a pace)."""
    for u in config.units:
        if u.kind == "district":
            sheet = rows[u.code]
            for code in ("MTQG", "PTTD"):
                sheet[find(sheet, code)][col_of(sheet, "A", "HT_XM")] += houses
    return rows


def collect(config, store, period, run_id, rows):
    codes = [u.code for u in config.units]
    counts = collect_batch(config, codes, period, run_id, Sheets(rows), store)
    return counts, store.latest_reads(period, run_id, codes)


def february(config, store):
    collect(config, store, FEB, "feb", all_rows(config, "27/02/2025"))
    summarise(config, FEB, "feb", store)


# --------------------------------------------------------------------------- bounded where validated


CASES = [
    # (what, row code, table, column, value, what the error says)
    pytest.param(
        "MTQG", "A", "CAN_XM", "0299382211", "lớn hơn mức tối đa", id="phone-number-in-a-count-cell"
    ),
    pytest.param("MTQG", "A", "CAN_XM", 299382211, "lớn hơn mức tối đa", id="phone-number-as-a-number"),
    pytest.param("NSTW", "B", "HUY_DONG", 1e308, "số quá lớn", id="1E+308-in-a-money-cell"),
    pytest.param("NSTW", "B", "HUY_DONG", "1E+308", "lũy thừa của 10", id="1E+308-as-text"),
    pytest.param("MTQG", "A", "KC_XM", "9" * 400, "số quá lớn", id="400-digit-count-as-text"),
    pytest.param("MTQG", "A", "KC_XM", int("9" * 400), "số quá lớn", id="400-digit-count-as-a-number"),
    pytest.param("C_LUOT_DU", None, None, 2_993_822_110, "lớn hơn mức tối đa", id="2993822110-attendees"),
    pytest.param(
        "NGAY_CONG", None, None, "0299382211", "lớn hơn mức tối đa", id="phone-number-in-labour-days"
    ),
]


@pytest.mark.parametrize(("row", "table", "column", "value", "says"), CASES)
def test_a_bad_cell_rejects_its_unit_alone_and_the_report_is_made(
    config, store, tmp_path, row, table, column, value, says
):
    february(config, store)
    rows = progressed(config, all_rows(config, "12/03/2025"))
    cell = set_cell(rows[BAD], row, col_of(rows[BAD], table, column) if table else 2, value, table)

    counts, reads = collect(config, store, MAR, "mar", rows)

    assert counts[REJECTED] == 1
    assert counts[ACCEPTED] == len(config.units) - 1
    assert reads[BAD].status == REJECTED
    assert reads[BAD].figures == {}
    errors = [f for f in reads[BAD].findings if f["severity"] == "error" and f["cell"] == cell]
    assert errors, reads[BAD].findings
    assert errors[0]["message"].startswith(f"Huyện Châu Thành, ô {cell}: ")
    assert says in errors[0]["message"]
    # The summary and every output are made, with the unit's last accepted figures.
    summary = summarise(config, MAR, "mar", store)
    assert {u.code: u.status for u in summary.units}[BAD] == REJECTED
    assert summary.by_unit[BAD]["A.MTQG.CAN_XM"] == 240
    outputs = write_outputs(config, summary, tmp_path / "out", earlier=store.history(MAR))
    assert outputs.files["document"].exists()
    assert "0299382211" not in outputs.files["email_text"].read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (10**5000, "count"),
        ("9" * 6000, "count"),
        ("9" * 6000, "money"),
        (1e308, "money"),
        (10**12, "count"),
        ("1.000.000.000.000", "money"),
    ],
    ids=["huge-int", "6000-digits-count", "6000-digits-money", "1e308", "1e12", "1e12-text"],
)
def test_no_number_beyond_the_hard_limit_is_read(value, kind):
    number, problem = read_number(value, kind)
    assert number is None
    assert "quá lớn" in problem.why or "âm" in problem.why
    assert len(problem.found) < 60


def test_negative_zero_is_zero():
    for raw in (-0.0, "-0", "-0,0"):
        for kind in ("count", "money"):
            number, problem = read_number(raw, kind)
            assert problem is None
            assert number == 0
            assert str(number).lstrip("-") == str(number), (raw, kind, number)


def largest_rows(config, period_text, completed):
    """Every unit's sheet with every number at its plausible maximum (the largest that passes),
    `completed` houses in table A's HT columns (and started)."""
    template = config.template
    sheets = all_rows(config, period_text)
    for u in config.units:
        rows = sheets[u.code]
        for key in template.used_figure_keys(u.kind):
            limit = template.maximum(key)
            parts = key.split(".")
            if len(parts) == 3:
                table, row, column = parts
                value = limit
                if table == "A" and column.startswith(("KC_", "HT_")):
                    value = completed
                set_cell(rows, row, col_of(rows, table, column), value, table)
            else:
                set_cell(rows, key, 2, limit)
    return sheets


def test_the_largest_figures_that_pass_go_through_summary_and_outputs(config, store, tmp_path):
    collect(config, store, FEB, "feb", largest_rows(config, "27/02/2025", completed=0))
    summarise(config, FEB, "feb", store)
    counts, _ = collect(config, store, MAR, "mar", largest_rows(config, "12/03/2025", completed=1))
    assert counts[ACCEPTED] == len(config.units)
    summary = summarise(config, MAR, "mar", store)
    assert summary.totals["A.TONG.CAN_XM"] == 11 * 4 * 1_000_000

    outputs = write_outputs(config, summary, tmp_path / "out", earlier=store.history(MAR))

    text = outputs.files["email_text"].read_text(encoding="utf-8")
    # A pace of a few houses a month for 88 million: no date, said in words.
    assert "không ước tính được thời điểm toàn tỉnh hoàn thành" in text
    assert "44.000.000" in text


# --------------------------------------------------------------------------- implausible, flagged


@pytest.mark.parametrize(
    ("row", "table", "column", "before", "label"),
    [
        pytest.param("MTQG", "A", "CAN_XM", 240, "Số nhà cần hỗ trợ xây mới", id="the-need-1000x"),
        pytest.param("C_LUOT_DU", None, None, 820, "Lượt người dự hội nghị, sinh hoạt", id="attendees-1000x"),
        pytest.param("XHH", "B", "HUY_DONG", 2500.25, "Đã huy động, bố trí", id="money-1000x"),
    ],
)
def test_a_figure_1000_times_its_last_is_flagged_against_the_units_own_history(
    config, store, row, table, column, before, label
):
    february(config, store)
    rows = all_rows(config, "12/03/2025")
    cell = set_cell(rows[BAD], row, col_of(rows[BAD], table, column) if table else 2, before * 1000, table)

    counts, reads = collect(config, store, MAR, "mar", rows)

    assert reads[BAD].status == ACCEPTED  # a warning: the unit checks it
    jumps = [f for f in reads[BAD].findings if f["cell"] == cell and "lần số" in f["message"]]
    assert len(jumps) == 1, reads[BAD].findings
    message = jumps[0]["message"]
    assert message.startswith(f"Huyện Châu Thành, ô {cell}: «{label}")
    assert "gấp 1.000 lần số" in message
    assert "đã báo cáo kỳ 27/02/2025" in message
    assert all("lần số" not in f["message"] for c, r in reads.items() if c != BAD for f in r.findings)


def test_an_increase_unusual_among_peers_is_flagged_for_a_figure_outside_houses(config, store):
    """The peers' comparison covers every figure (labour, people, money, propaganda), not only
    the houses started and completed and the labour days."""
    february(config, store)
    rows = all_rows(config, "12/03/2025")
    for i, u in enumerate(c for c in config.units if c.kind == "district"):
        set_cell(rows[u.code], "LUOT_NGUOI", 2, 1450 + 10 + i)  # +10..+20 each
    cell = set_cell(rows[BAD], "LUOT_NGUOI", 2, 1450 * 20)  # 20 times: not a jump, unusual among peers
    collect(config, store, MAR, "mar", rows)

    summary = summarise(config, MAR, "mar", store)

    unit = {u.code: u for u in summary.units}[BAD]
    [warning] = [w for w in unit.warnings if w.cell == cell]
    assert "«Số lượt người tham gia hỗ trợ» tăng 27.550 so với kỳ 27/02/2025" in warning.message
    assert "cao bất thường so với các đơn vị cùng loại" in warning.message


# --------------------------------------------------------------------------- findings capped


def test_50000_junk_rows_give_a_short_summary_and_a_short_email(config, store):
    rows = all_rows(config, "12/03/2025")
    rows[BAD] += [[f"RAC{i}", "dòng rác", i] for i in range(50_000)]

    counts, reads = collect(config, store, MAR, "mar", rows)

    assert counts[ACCEPTED] == len(config.units)
    findings = reads[BAD].findings
    assert len(findings) == 11
    assert "và 49.990 dòng khác cùng loại" in findings[-1]["message"]
    summary = summarise(config, MAR, "mar", store)
    assert len(summary_json(summary).encode("utf-8")) < 1_000_000
    handler = Collector()
    with smtp_server(handler) as server:
        outcome = send_feedback(
            config,
            store,
            MAR,
            "mar",
            smtp(server.port),
            "Ban Tuyên giáo <baocao@btgtu.example>",
            "btgtu.example",
        )
    assert outcome.sent == [BAD]
    [received] = handler.received
    assert len(received.message.as_bytes()) < 200_000
    assert "Và 49.990 dòng khác cùng loại" in received.message.get_body(("plain",)).get_content()
