"""Reporting periods: the collection days (12 and 27) of each month."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from housing_report.core.errors import Permanent
from housing_report.core.formatting import vn_date


class PeriodError(ValueError, Permanent):
    """A period that is not a valid date or not a collection day: no retry makes it one."""


def latest_period(moment: dt.datetime, days: Sequence[int], tz: str) -> dt.date:
    """The latest collection day not after `moment`, as seen in time zone `tz`."""
    if moment.tzinfo is None:
        raise ValueError("moment must be time-zone aware")
    local = moment.astimezone(ZoneInfo(tz)).date()
    return latest_period_on(local, days)


def latest_period_on(day: dt.date, days: Sequence[int]) -> dt.date:
    ordered = sorted(days)
    for d in reversed(ordered):
        if d <= day.day:
            return day.replace(day=d)
    first_of_month = day.replace(day=1)
    prev_month_last = first_of_month - dt.timedelta(days=1)
    return prev_month_last.replace(day=ordered[-1])


def previous_period(period: dt.date, days: Sequence[int]) -> dt.date:
    return latest_period_on(period - dt.timedelta(days=1), days)


def next_period(period: dt.date, days: Sequence[int]) -> dt.date:
    ordered = sorted(days)
    for d in ordered:
        if d > period.day:
            return period.replace(day=d)
    year, month = (period.year + 1, 1) if period.month == 12 else (period.year, period.month + 1)
    return dt.date(year, month, ordered[0])


def coming_period(day: dt.date, days: Sequence[int]) -> dt.date:
    """The first collection day on or after `day` (the 10th -> the 12th)."""
    latest = latest_period_on(day, days)
    return latest if latest == day else next_period(latest, days)


def is_period(day: dt.date, days: Sequence[int]) -> bool:
    return day.day in days


def parse_period(text: str, days: Sequence[int]) -> dt.date:
    """Parse `yyyy-mm-dd` (or `dd/mm/yyyy`) and check that it is a collection day."""
    text = text.strip()
    try:
        if "/" in text:
            d, m, y = text.split("/")
            day = dt.date(int(y), int(m), int(d))
        else:
            day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise PeriodError(f"Kỳ báo cáo '{text}' không phải ngày hợp lệ (yyyy-mm-dd)") from exc
    if not is_period(day, days):
        listed = ", ".join(str(d) for d in sorted(days))
        raise PeriodError(f"Kỳ báo cáo {vn_date(day)} không phải ngày thu thập (ngày {listed} hằng tháng)")
    return day
