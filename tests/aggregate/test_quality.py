"""Completeness and timeliness (housing_report.aggregate.quality.completeness) on a constructed archive,
on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from housing_report.aggregate.quality import completeness_periods
from housing_report.archive.store import ReportStore
from housing_report.core.summary import as_dict
from housing_report.pipeline.report import replay, summarise
from housing_report.render.email import render_email
from tests.archive.test_store import read_all

JAN, FEB, MAR = dt.date(2025, 1, 27), dt.date(2025, 2, 12), dt.date(2025, 2, 27)


@pytest.fixture
def store(store_url):
    s = ReportStore(store_url)
    s.ensure_schema()
    return s


def test_rates_per_period_kind_and_unit_with_late_units(store, config):
    # 27/01: every unit on time. 12/02: not archived (no run). 27/02: two runs; 942 is missing in
    # the first (not readable) and accepted in the second (late), HCCB is missing in both, 949 has
    # an error in both.
    read_all(config, store, JAN, "jan")
    summarise(config, JAN, "jan", store)
    missing_942 = {"942": None}
    read_all(config, store, MAR, "first", {**missing_942, "HCCB": None, "949": _rejected(config)})
    summarise(config, MAR, "first", store)
    read_all(config, store, MAR, "second", {"HCCB": None, "949": _rejected(config)})
    summary = summarise(config, MAR, "second", store)

    data = summary.completeness
    assert data.periods == [p.isoformat() for p in completeness_periods(config, MAR)]
    assert len(data.periods) == 7
    by_period = {t.period: as_dict(t) for t in data.total}
    assert by_period[JAN.isoformat()] == {
        "period": "2025-01-27", "archived": True, "expected": 20, "submitted": 20, "accepted": 20,
        "on_time": 20, "submitted_percent": 100.0, "accepted_percent": 100.0, "on_time_percent": 100.0,
    }  # fmt: skip
    assert by_period[FEB.isoformat()] == {"period": "2025-02-12", "archived": False, "expected": 20}
    now = by_period[MAR.isoformat()]
    # Submitted: all but HCCB (missing); accepted: all but HCCB and 949; on time: also not 942.
    assert (now["expected"], now["submitted"], now["accepted"], now["on_time"]) == (20, 19, 18, 17)
    assert now["accepted_percent"] == 90.0
    assert now["on_time_percent"] == 85.0
    districts = data.by_kind["district"][-1]
    assert (districts.expected, districts.accepted, districts.on_time) == (11, 10, 9)
    organisations = data.by_kind["organization"][-1]
    assert (organisations.expected, organisations.submitted, organisations.accepted) == (6, 5, 5)
    by_unit = {code: [as_dict(p) for p in entries] for code, entries in data.by_unit.items()}
    assert by_unit["942"][-1] == {"period": "2025-02-27", "status": "accepted", "on_time": False}
    assert by_unit["941"][-1] == {"period": "2025-02-27", "status": "accepted", "on_time": True}
    assert by_unit["HCCB"][-1]["status"] == "missing"
    assert by_unit["941"][-2] == {"period": "2025-02-12", "status": None, "on_time": None}

    text = render_email(summary, config).text
    assert "Tiếp nhận muộn (ở lần tổng hợp lại): Huyện Châu Thành." in text
    assert "Kỳ 27/02/2025: đã nộp 19/20, tiếp nhận 18 (90,0%), đúng hạn 17 (85,0%)" in text
    assert "Kỳ 12/02/2025: chưa có dữ liệu" in text

    # A replay of the first version finds what it found then, not what the second run added.
    first = replay(config, MAR, store, 1).completeness.total[-1]
    assert (first.accepted, first.on_time) == (17, 17)


def _rejected(config):
    from tests.support.grids import col_of, find, unit_rows

    rows = unit_rows(config, "district", "27/02/2025", "Huyện Thạnh Trị")
    rows[find(rows, "MTQG")][col_of(rows, "A", "HT_XM")] = "12 căn"
    return rows
