"""When each district and the province will finish at the current pace (pure functions).

The pace is linear over the recent periods of the archive: houses completed between the
first and the last of the last `RECENT_PERIODS` points, per day. The finish date is the
last period plus the days the remaining houses take at that pace; a place whose finish
date falls after the programme's target date is at risk. With fewer than two periods, or
no progress over them, there is no forecast ("chưa đủ số liệu"). A pace so slow that the finish
would be more than `HORIZON_YEARS` away is at risk without a date ("không ước tính được"):
whatever figures passed validation, no date arithmetic here can leave the calendar.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from housing_report.core.formatting import to_date, vn_date, vn_number
from housing_report.core.summary import HistoryPoint, Summary

# How many of the latest periods set the pace (two months of the 12th/27th cycle).
RECENT_PERIODS = 4
# Beyond this, a finish date means nothing (and, further still, is not a date at all).
HORIZON_YEARS = 100
_HORIZON_DAYS = HORIZON_YEARS * 366

DONE = "done"
ON_TRACK = "on_track"
AT_RISK = "at_risk"
INSUFFICIENT = "insufficient"
NO_DATA = "no_data"


@dataclass(frozen=True)
class Point:
    """Houses completed of needed at a period."""

    period: dt.date
    completed: int
    needed: int


@dataclass(frozen=True)
class Forecast:
    code: str  # a unit code, or "" for the province
    name: str
    completed: int
    needed: int
    status: str  # done | on_track | at_risk | insufficient | no_data
    finish: dt.date | None = None
    per_day: float | None = None  # houses completed per day over the recent periods
    periods_used: int = 0

    @property
    def at_risk(self) -> bool:
        return self.status == AT_RISK

    @property
    def remaining(self) -> int:
        return max(0, self.needed - self.completed)

    @property
    def per_month(self) -> float | None:
        return None if self.per_day is None else self.per_day * 30

    def label(self) -> str:
        """In Vietnamese, for a table cell: "Dự kiến 15/07/2025", "Đã hoàn thành", "Chưa đủ số liệu"."""
        if self.status == DONE:
            return "Đã hoàn thành"
        if self.status == NO_DATA:
            return "Chưa có số liệu"
        if self.status == INSUFFICIENT:
            return "Chưa đủ số liệu"
        if self.finish is None:
            return "Không ước tính được (tốc độ quá chậm)"
        return f"Dự kiến {vn_date(self.finish)}"

    @property
    def finish_text(self) -> str:
        """For a sentence: "dự kiến 15/07/2025", or why there is no date."""
        return self.label()[:1].lower() + self.label()[1:]

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "completed": self.completed,
            "needed": self.needed,
            "status": self.status,
            "finish": self.finish.isoformat() if self.finish else None,
            "per_day": self.per_day,
            "periods_used": self.periods_used,
            "label": self.label(),
        }


def forecast(
    points: Sequence[Point], target: dt.date, *, code: str = "", name: str = "", recent: int = RECENT_PERIODS
) -> Forecast:
    """The forecast of one place from its points (any order; one per period)."""
    ordered = sorted({p.period: p for p in points if p.needed > 0}.values(), key=lambda p: p.period)
    if not ordered:
        return Forecast(code, name, 0, 0, NO_DATA)
    last = ordered[-1]
    if last.completed >= last.needed:
        return Forecast(code, name, last.completed, last.needed, DONE, periods_used=len(ordered))
    window = ordered[-max(2, recent) :]
    if len(window) < 2:
        return Forecast(code, name, last.completed, last.needed, INSUFFICIENT, periods_used=len(window))
    first = window[0]
    days = (last.period - first.period).days
    gained = last.completed - first.completed
    if days <= 0 or gained <= 0:
        return Forecast(code, name, last.completed, last.needed, INSUFFICIENT, periods_used=len(window))
    per_day: float | None = None
    days_needed = math.inf
    with contextlib.suppress(OverflowError):  # a quotient of huge whole numbers: no float holds it
        per_day = gained / days
        days_needed = (last.needed - last.completed) * days / gained
    if not (days_needed <= _HORIZON_DAYS) or (dt.date.max - last.period).days < days_needed:
        return Forecast(code, name, last.completed, last.needed, AT_RISK, None, per_day, len(window))
    days_needed = math.ceil(days_needed)
    finish = last.period + dt.timedelta(days=days_needed)
    status = AT_RISK if finish > target else ON_TRACK
    return Forecast(code, name, last.completed, last.needed, status, finish, per_day, len(window))


def province_points(summaries: Iterable[Summary | HistoryPoint]) -> list[Point]:
    """The province's points from summaries (`houses`), one per period (the last given wins)."""
    out: dict[dt.date, Point] = {}
    for s in summaries:
        houses = s.houses
        period = to_date(s.period)
        out[period] = Point(period, houses.completed, houses.needed) if houses else Point(period, 0, 0)
    return [out[k] for k in sorted(out)]


def district_points(summaries: Iterable[Summary | HistoryPoint]) -> dict[str, list[Point]]:
    """Each district's points from summaries (`districts`), by unit code."""
    out: dict[str, dict[dt.date, Point]] = {}
    for s in summaries:
        period = to_date(s.period)
        for d in s.districts:
            out.setdefault(d.code, {})[period] = Point(period, d.completed, d.needed)
    return {code: [by[k] for k in sorted(by)] for code, by in out.items()}


def forecast_all(
    earlier: Sequence[Summary | HistoryPoint], current: Summary, target: dt.date, recent: int = RECENT_PERIODS
) -> dict[str, Any]:
    """The province's and every district's forecast from the earlier periods' summaries and this
    period's (`current`): {"province": Forecast, "districts": [Forecast, ...]}.

    Districts are those of `current`, in its order.
    """
    summaries = [*earlier, current]
    by_code = district_points(summaries)
    districts = [
        forecast(by_code.get(d.code, []), target, code=d.code, name=d.name, recent=recent)
        for d in current.districts
    ]
    province = forecast(province_points(summaries), target, name="Toàn tỉnh", recent=recent)
    return {"province": province, "districts": districts}


def pace_label(f: Forecast) -> str:
    """The pace in words: "bình quân 12 căn/ngày" ('' without a pace)."""
    if f.per_day is None:
        return ""
    return f"bình quân {vn_number(f.per_day, 1 if f.per_day < 10 else 0)} căn/ngày"
