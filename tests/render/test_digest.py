"""The one-screen digest (the admin's terminal, the task's log) is Vietnamese throughout."""

from __future__ import annotations

import re

from housing_report.core.statuses import STATUSES, status_label
from housing_report.render.digest import format_digest
from tests.support.summary_fixture import make_summary, summary_dict, typed


def test_statuses_are_written_by_their_vietnamese_labels():
    summary = make_summary()
    text = format_digest(summary)
    counts = {k: v for k, v in summary.status_counts.items() if v}
    assert counts
    for status, count in counts.items():
        assert f"{status_label(status)} {count}" in text
    shown = [u for u in summary.units if u.status != "accepted"]
    assert shown
    for unit in shown:
        assert re.search(rf"{re.escape(unit.code)}\s.*{re.escape(status_label(unit.status))}", text)
    # No status is left as its English code.
    for status in STATUSES:
        assert not re.search(rf"\b{status}\b", text), status


def test_outputs_are_named_in_vietnamese():
    text = format_digest(
        make_summary(),
        {
            "summary": "/o/summary.json",
            "workbook": "/o/a.xlsx",
            "chart_progress": "/o/c.png",
            "report_db": "/o/r",
        },
    )
    assert "  Bản tổng hợp (summary.json): /o/summary.json" in text
    assert "  Bảng tính tổng hợp: /o/a.xlsx" in text
    assert "  Biểu đồ progress: /o/c.png" in text
    assert "  Cơ sở dữ liệu báo cáo: /o/r" in text


def test_a_stale_unit_says_which_period_its_sheet_shows():
    data = summary_dict()
    [stale] = [u for u in data["units"] if u["code"] == "944"]
    assert stale["status"] == "stale"
    stale["warnings"] = [
        {"cell": "BaoCao!C7", "code": "KY_BAO_CAO", "message": "Ô BaoCao!C7 ghi kỳ «27/02/2025»."}
    ]
    assert "      cảnh báo BaoCao!C7: Ô BaoCao!C7 ghi kỳ «27/02/2025»." in format_digest(typed(data))
