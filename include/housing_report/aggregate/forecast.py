"""When each district and the province will finish at the current pace (pure functions).

The pace is linear over the recent periods of the archive: houses completed between the
first and the last of the last `RECENT_PERIODS` points, per day. The finish date is the
last period plus the days the remaining houses take at that pace; a place whose finish
date falls after the programme's target date is at risk. With fewer than two periods, or
no progress over them, there is no forecast ("chưa đủ số liệu"). A pace so slow that the finish
would be more than `HORIZON_YEARS` away is at risk without a date ("không ước tính được"):
whatever figures passed validation, no date arithmetic here can leave the calendar.

Only a district's own figures make its points: a period whose figures were carried forward (it
did not report, or its report was not accepted) says nothing of its pace. The province's pace is
measured on the districts that reported this period and in an earlier period of the window,
summed district by district, and scaled to the whole need (a ratio estimate: the districts
without current figures are taken to progress like those measured, not to stand still); the
forecast says on how many districts, over how many days, it was measured (`units_measured`,
`units_total`, `days_measured`), and `stale_need` how much of the need has no current figures.
"""

from __future__ import annotations

import contextlib
import dataclasses
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
    # The province's: the districts whose pace was measured (own figures this period and in an
    # earlier period of the window), of those with houses to build, and the longest span measured.
    units_measured: int = 0
    units_total: int = 0
    days_measured: int = 0

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
            "units_measured": self.units_measured,
            "units_total": self.units_total,
            "days_measured": self.days_measured,
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


def _finish(
    last: dt.date, completed: int, needed: int, per_day: float, target: dt.date
) -> tuple[str, dt.date | None]:
    """The status and finish date of `needed - completed` houses left at `per_day` from `last`."""
    days_needed = math.inf
    with contextlib.suppress(OverflowError, ZeroDivisionError):
        days_needed = (needed - completed) / per_day
    if not (days_needed <= _HORIZON_DAYS) or (dt.date.max - last).days < days_needed:
        return AT_RISK, None
    finish = last + dt.timedelta(days=math.ceil(days_needed))
    return (AT_RISK if finish > target else ON_TRACK), finish


def province_forecast(
    summaries: Sequence[Summary | HistoryPoint],
    target: dt.date,
    recent: int = RECENT_PERIODS,
    by_code: dict[str, list[Point]] | None = None,
) -> Forecast:
    """The province's forecast from its periods' summaries (oldest first, the current last):
    the pace measured district by district on their own figures, scaled to the whole need (see
    the module's docstring). Without districts (a programme whose units report no progress table
    by district), the province's own totals set the pace."""
    current = summaries[-1]
    houses = current.houses
    if houses is None or houses.needed <= 0:
        return Forecast("", "Toàn tỉnh", 0, 0, NO_DATA)
    if houses.completed >= houses.needed:
        return Forecast("", "Toàn tỉnh", houses.completed, houses.needed, DONE, periods_used=len(summaries))
    if not current.districts:
        return forecast(province_points(summaries), target, name="Toàn tỉnh", recent=recent)
    periods = sorted({to_date(s.period) for s in summaries})
    window = periods[-max(2, recent) :]
    last = window[-1]
    if by_code is None:
        by_code = district_points(summaries)
    pace = 0.0
    measured_needed = 0
    measured = 0
    span = 0
    total_units = 0
    for d in current.districts:
        if d.needed <= 0:
            continue
        total_units += 1
        points = [p for p in by_code.get(d.code, ()) if p.period >= window[0]]
        if len(points) < 2 or points[-1].period != last:
            continue
        first, now = points[0], points[-1]
        days = (now.period - first.period).days
        if days <= 0:
            continue
        measured += 1
        span = max(span, days)
        measured_needed += now.needed
        with contextlib.suppress(OverflowError):
            pace += (now.completed - first.completed) / days
    base = Forecast(
        "", "Toàn tỉnh", houses.completed, houses.needed, INSUFFICIENT,
        periods_used=len(window), units_measured=measured, units_total=total_units, days_measured=span,
    )  # fmt: skip
    if not measured or pace <= 0 or measured_needed <= 0:
        return base
    per_day = pace * houses.needed / measured_needed
    status, finish = _finish(last, houses.completed, houses.needed, per_day, target)
    return dataclasses.replace(base, status=status, finish=finish, per_day=per_day)


@dataclass(frozen=True)
class StaleNeed:
    """The districts without figures of their own this period, and the houses they need."""

    units: list[Any]  # the summary's District entries
    needed: int
    share: float | None  # percent of the province's need


def stale_need(summary: Summary) -> StaleNeed:
    """How much of the need lies in districts whose figures this period are carried forward (or
    missing): "3 địa bàn, chiếm 34,0% số nhà cần hỗ trợ, chưa có số liệu kỳ này"."""
    units = [d for d in summary.districts if d.carried_forward_from is not None or d.needed <= 0]
    needed = sum(d.needed for d in units)
    total = summary.houses.needed
    return StaleNeed(units, needed, round(100.0 * needed / total, 2) if total and units else None)


def province_points(summaries: Iterable[Summary | HistoryPoint]) -> list[Point]:
    """The province's points from summaries (`houses`), one per period (the last given wins)."""
    out: dict[dt.date, Point] = {}
    for s in summaries:
        houses = s.houses
        period = to_date(s.period)
        out[period] = Point(period, houses.completed, houses.needed) if houses else Point(period, 0, 0)
    return [out[k] for k in sorted(out)]


def district_points(summaries: Iterable[Summary | HistoryPoint]) -> dict[str, list[Point]]:
    """Each district's points from summaries (`districts`), by unit code: only the periods of
    its own figures (not carried forward)."""
    out: dict[str, dict[dt.date, Point]] = {}
    for s in summaries:
        period = to_date(s.period)
        for d in s.districts:
            if d.carried_forward_from is None:
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
    province = province_forecast(summaries, target, recent, by_code)
    return {"province": province, "districts": districts}


def pace_label(f: Forecast) -> str:
    """The pace in words: "bình quân 12 căn/ngày" ('' without a pace)."""
    if f.per_day is None:
        return ""
    return f"bình quân {vn_number(f.per_day, 1 if f.per_day < 10 else 0)} căn/ngày"
