"""The forecast of finish dates at the current pace (pure)."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from housing_report.aggregate.forecast import (
    AT_RISK,
    DONE,
    INSUFFICIENT,
    NO_DATA,
    ON_TRACK,
    Point,
    forecast,
    forecast_all,
)
from housing_report.core.statuses import ACCEPTED
from housing_report.core.summary import District, HistoryDistrict, HistoryPoint, Houses
from tests.support.summary_fixture import make_summary

TARGET = dt.date(2025, 9, 30)
D = dt.date


@pytest.mark.parametrize(
    ("points", "status", "finish", "label"),
    [
        pytest.param([], NO_DATA, None, "Chưa có số liệu", id="no-points"),
        pytest.param([Point(D(2025, 3, 12), 10, 0)], NO_DATA, None, "Chưa có số liệu", id="nothing-needed"),
        pytest.param(
            [Point(D(2025, 3, 12), 10, 100)], INSUFFICIENT, None, "Chưa đủ số liệu", id="one-period"
        ),
        pytest.param(
            [Point(D(2025, 2, 27), 10, 100), Point(D(2025, 3, 12), 10, 100)],
            INSUFFICIENT,
            None,
            "Chưa đủ số liệu",
            id="no-progress",
        ),
        pytest.param(
            [Point(D(2025, 2, 27), 50, 100), Point(D(2025, 3, 12), 100, 100)],
            DONE,
            None,
            "Đã hoàn thành",
            id="done",
        ),
        # 13 days, +26 houses: 2 a day; 100 left: 50 days after 12/03 = 01/05/2025.
        pytest.param(
            [Point(D(2025, 2, 27), 74, 200), Point(D(2025, 3, 12), 100, 200)],
            ON_TRACK,
            D(2025, 5, 1),
            "Dự kiến 01/05/2025",
            id="on-track",
        ),
        # 13 days, +13 houses: 1 a day; 300 left: 300 days after 12/03 = 06/01/2026.
        pytest.param(
            [Point(D(2025, 3, 12), 100, 400), Point(D(2025, 2, 27), 87, 400)],
            AT_RISK,
            D(2026, 1, 6),
            "Dự kiến 06/01/2026",
            id="at-risk-any-order",
        ),
    ],
)
def test_forecast(points, status, finish, label):
    f = forecast(points, TARGET)
    assert f.status == status
    assert f.finish == finish
    assert f.label() == label
    assert f.at_risk == (status == AT_RISK)


@pytest.mark.parametrize(
    "needed",
    [299_382_211, 10**15, 10**400, 1e308],
    ids=["a-phone-number-of-houses", "1e15", "400-digits", "1e308"],
)
def test_a_pace_too_slow_for_a_date_is_at_risk_without_one(needed):
    """Whatever the figures, no date arithmetic fails: a finish more than a century away (or
    beyond the calendar) is at risk, "không ước tính được"."""
    f = forecast([Point(D(2025, 2, 27), 0, needed), Point(D(2025, 3, 12), 5, needed)], TARGET)
    assert f.status == AT_RISK
    assert f.at_risk
    assert f.finish is None
    assert f.label() == "Không ước tính được (tốc độ quá chậm)"
    assert f.finish_text == "không ước tính được (tốc độ quá chậm)"


def test_a_forecast_at_the_end_of_the_calendar_is_not_an_overflow():
    f = forecast([Point(D(9999, 12, 1), 0, 100), Point(D(9999, 12, 12), 1, 100)], TARGET)
    assert f.status == AT_RISK
    assert f.finish is None


def test_the_pace_is_taken_over_the_recent_periods_only():
    slow_start = [Point(D(2025, 1, 12), 0, 1000), Point(D(2025, 1, 27), 1, 1000)]
    recent = [
        Point(D(2025, 2, 12), 100, 1000),
        Point(D(2025, 2, 27), 200, 1000),
        Point(D(2025, 3, 12), 300, 1000),
    ]
    f = forecast(slow_start + recent, TARGET, recent=3)
    assert f.periods_used == 3
    assert f.per_day == pytest.approx(200 / 28)
    assert f.finish == D(2025, 3, 12) + dt.timedelta(days=98)


def test_forecast_all_names_the_districts_at_risk():
    def district(code, name, completed, needed):
        return District(
            code=code, name=name, status=ACCEPTED, carried_forward_from=None, needed=needed,
            started=completed, completed=completed, percent=None, previous_completed=None, change=None,
        )  # fmt: skip

    # The earlier period as `ReportStore.history` gives it; this period's summary.
    earlier = HistoryPoint(
        period="2025-02-27",
        houses=Houses(completed=100, started=100, needed=1000),
        districts=[
            HistoryDistrict(code="941", completed=80, needed=500),
            HistoryDistrict(code="942", completed=20, needed=500),
        ],
    )
    current = msgspec.structs.replace(
        make_summary(),
        period="2025-03-12",
        houses=Houses(completed=230, started=230, needed=1000),
        districts=[district("941", "Thành phố", 200, 500), district("942", "Huyện Mỹ Tú", 30, 500)],
    )
    result = forecast_all([earlier], current, TARGET)
    by_code = {f.code: f for f in result["districts"]}
    assert [f.code for f in result["districts"]] == ["941", "942"]
    assert [f.name for f in result["districts"]] == ["Thành phố", "Huyện Mỹ Tú"]
    assert by_code["941"].status == ON_TRACK
    assert by_code["942"].status == AT_RISK
    assert result["province"].status == ON_TRACK
    assert result["province"].completed == 230


def _district(code, completed, needed, carried=None):
    return District(
        code=code, name=f"Huyện {code}", status=ACCEPTED if carried is None else "stale",
        carried_forward_from=carried, needed=needed, started=completed, completed=completed,
        percent=None, previous_completed=None, change=None,
    )  # fmt: skip


def test_the_provinces_pace_comes_only_from_districts_that_reported_both_periods():
    # 941 gained 26 houses in 13 days (2 a day) on its own figures; 942 did not report this period:
    # its figures of 27/02 are carried forward and say nothing of its pace.
    earlier = HistoryPoint(
        period="2025-02-27",
        houses=Houses(completed=174, started=174, needed=1000),
        districts=[
            HistoryDistrict(code="941", completed=74, needed=500),
            HistoryDistrict(code="942", completed=100, needed=500),
        ],
    )
    current = msgspec.structs.replace(
        make_summary(),
        period="2025-03-12",
        houses=Houses(completed=200, started=200, needed=1000),
        districts=[_district("941", 100, 500), _district("942", 100, 500, carried="2025-02-27")],
    )
    province = forecast_all([earlier], current, TARGET)["province"]
    assert (province.units_measured, province.units_total, province.days_measured) == (1, 2, 13)
    # 2 a day on half the need: 4 a day for the whole; 800 left: 200 days after 12/03.
    assert province.per_day == pytest.approx(4.0)
    assert province.finish == D(2025, 3, 12) + dt.timedelta(days=200)
    # Counted as zero progress (the old way) it would be 2 a day and 400 days.
    by_code = {f.code: f for f in forecast_all([earlier], current, TARGET)["districts"]}
    assert by_code["942"].status == INSUFFICIENT  # one own point: no pace of its own


def test_stale_need_names_the_districts_without_current_figures():
    from housing_report.aggregate.forecast import stale_need

    current = msgspec.structs.replace(
        make_summary(),
        houses=Houses(completed=200, started=200, needed=1000),
        districts=[_district("941", 100, 660), _district("942", 100, 340, carried="2025-02-27")],
    )
    stale = stale_need(current)
    assert [d.code for d in stale.units] == ["942"]
    assert stale.needed == 340
    assert stale.share == pytest.approx(34.0)
    fresh = msgspec.structs.replace(current, districts=[_district("941", 100, 1000)])
    assert stale_need(fresh).units == []
    assert stale_need(fresh).share is None
