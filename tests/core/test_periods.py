from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from housing_report.core.periods import latest_period, next_period, parse_period, previous_period

DAYS = (12, 27)
VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(dt.datetime(2025, 3, 12, 7, 0, tzinfo=VN), dt.date(2025, 3, 12), id="on-the-12th"),
        pytest.param(dt.datetime(2025, 3, 26, 23, 59, tzinfo=VN), dt.date(2025, 3, 12), id="before-the-27th"),
        pytest.param(dt.datetime(2025, 3, 11, 23, 0, tzinfo=VN), dt.date(2025, 2, 27), id="previous-month"),
        pytest.param(dt.datetime(2025, 1, 5, tzinfo=VN), dt.date(2024, 12, 27), id="previous-year"),
        # 18:00 UTC on the 26th is already 01:00 on the 27th in Vietnam.
        pytest.param(dt.datetime(2025, 3, 26, 18, 0, tzinfo=dt.UTC), dt.date(2025, 3, 27), id="vietnam-time"),
    ],
)
def test_latest_period_in_vietnam_time(moment, expected):
    assert latest_period(moment, DAYS, "Asia/Ho_Chi_Minh") == expected


def test_previous_and_next():
    assert previous_period(dt.date(2025, 3, 12), DAYS) == dt.date(2025, 2, 27)
    assert previous_period(dt.date(2025, 3, 27), DAYS) == dt.date(2025, 3, 12)
    assert next_period(dt.date(2025, 12, 27), DAYS) == dt.date(2026, 1, 12)


@pytest.mark.parametrize("text", ["2025-03-13", "12/13/2025", "tháng ba", "2025-02-30"])
def test_parse_period_rejects_non_collection_days(text):
    with pytest.raises(ValueError, match="Kỳ báo cáo"):
        parse_period(text, DAYS)


def test_parse_period_accepts_both_forms():
    assert parse_period("2025-03-27", DAYS) == parse_period("27/03/2025", DAYS) == dt.date(2025, 3, 27)
