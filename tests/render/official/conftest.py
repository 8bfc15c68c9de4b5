"""The official report of the hand-written summary (tests/support/summary_fixture.py)."""

from __future__ import annotations

import msgspec
import pytest

from housing_report.core.summary import HistoryDistrict, HistoryPoint, Summary
from tests.support.summary_fixture import make_summary


def history_point(summary: Summary) -> HistoryPoint:
    """`summary` as a point of the history, as `ReportStore.history` gives an earlier period
    of the month (with its lists)."""
    return HistoryPoint(
        period=summary.period,
        houses=summary.houses,
        completion_percent=summary.completion_percent,
        totals=summary.totals,
        districts=[
            HistoryDistrict(code=d.code, completed=d.completed, needed=d.needed) for d in summary.districts
        ],
        lists=summary.lists,
    )


def earlier_summary(summary: Summary, period: str, share: float = 0.8) -> HistoryPoint:
    """An earlier period's point of the history: the same places, fewer houses completed."""
    return HistoryPoint(
        period=period,
        houses=msgspec.structs.replace(summary.houses, completed=int(summary.houses.completed * share)),
        completion_percent=summary.completion_percent,
        totals=dict(summary.totals),
        districts=[
            HistoryDistrict(code=d.code, completed=int(d.completed * share), needed=d.needed)
            for d in summary.districts
        ],
        lists={"D": [], "E": [], "F": []},
    )


@pytest.fixture
def summary() -> Summary:
    return make_summary()


@pytest.fixture
def official(config, summary, tmp_path):
    from housing_report.render.official import prepare

    earlier = [earlier_summary(summary, "2025-02-12", 0.6), earlier_summary(summary, "2025-02-27", 0.8)]
    return prepare(config, summary, earlier, tmp_path)
