"""Data quality across the units of a period: outliers among peers, reporting rates.

- `outlier_findings`: at aggregation, unusual increases among all units of the period.
- `completeness`: DHIS2-style reporting rates for the period and the six before it.

All read the archive through `max_read_id` when given, so a replay finds what the
original run found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from housing_report.archive.records import StoredRead
from housing_report.archive.store import ReportStore
from housing_report.config import Config
from housing_report.core.models import Finding
from housing_report.core.periods import previous_period
from housing_report.core.statuses import ACCEPTED, STATUS_OF, SUBMITTED
from housing_report.core.summary import Completeness, PeriodCounts, UnitPeriod
from housing_report.validate.outliers import find_outliers, increases_frame

if TYPE_CHECKING:
    import pandas as pd

# The completeness table covers the period and this many before it.
COMPLETENESS_PERIODS_BEFORE = 6
# Outliers compare with the unit's own increases over this many earlier periods.
OUTLIER_HISTORY_PERIODS = 12


def outlier_findings(
    config: Config,
    period: dt.date,
    reads: Mapping[str, StoredRead],
    store: ReportStore,
    max_read_id: int | None,
) -> dict[str, list[Finding]]:
    """Unit code -> the outlier findings of this period's accepted reads (`build_summary` adds
    them to the units' errors or warnings)."""
    settings = config.report.outliers
    if not settings.figures:
        return {}
    accepted = {code: read for code, read in reads.items() if read.status == ACCEPTED and read.figures}
    if len(accepted) < settings.min_peers:
        return {}
    codes = list(accepted)
    since = period
    for _ in range(OUTLIER_HISTORY_PERIODS):
        since = previous_period(since, config.report.schedule.collection_days)

    def past_increases(suspects: Sequence[str], figures: Sequence[str]) -> pd.DataFrame:
        return increases_frame(store.figures_history(since, period, suspects, figures, max_read_id), figures)

    hits = find_outliers(
        settings,
        config.template,
        {u.code: u for u in config.units},
        {code: read.figures for code, read in accepted.items()},
        store.last_figures_before(period, codes, max_read_id),
        past_increases,
        {code: read.cells or {} for code, read in accepted.items()},
    )
    out: dict[str, list[Finding]] = {}
    for hit in hits:
        out.setdefault(hit.unit_code, []).append(hit.finding)
    return out


# --------------------------------------------------------------------------- completeness


def completeness_periods(config: Config, period: dt.date) -> list[dt.date]:
    """This period and the six before it, oldest first."""
    periods = [period]
    for _ in range(COMPLETENESS_PERIODS_BEFORE):
        periods.append(previous_period(periods[-1], config.report.schedule.collection_days))
    return periods[::-1]


def _rate(count: int, expected: int) -> float | None:
    return round(100.0 * count / expected, 1) if expected else None


def completeness(
    config: Config, period: dt.date, store: ReportStore, max_read_id: int | None = None
) -> Completeness:
    """Reporting rates, DHIS2-style, for this period and the six before it (from the archive).

    Per period: the units expected (those of units.yaml), those that submitted (read, right
    period: `accepted` or `rejected`), those accepted in the period's latest run, and those
    accepted on time: already in the period's first run. A unit accepted only in a later
    re-run of the period (a late or fixed sheet) counts as accepted but late.
    """
    periods = completeness_periods(config, period)
    rows = store.read_statuses(periods, max_read_id)
    first_run: dict[dt.date, str] = {}
    # Per period: unit code -> its status in the latest read, and in the period's first run.
    final: dict[dt.date, dict[str, str]] = {day: {} for day in periods}
    in_first: dict[dt.date, dict[str, str]] = {day: {} for day in periods}
    for day, run_id, code, status, _id in rows:  # by id: later reads overwrite earlier ones
        first_run.setdefault(day, run_id)
        final[day][code] = status
        if run_id == first_run[day]:
            in_first[day][code] = status

    def counts(codes: Sequence[str], day: dt.date) -> PeriodCounts:
        archived = day in first_run
        expected = len(codes)
        if not archived:
            return PeriodCounts(period=day.isoformat(), archived=False, expected=expected)
        statuses, first = final[day], in_first[day]
        submitted = sum(statuses.get(c) in SUBMITTED for c in codes)
        accepted = sum(statuses.get(c) == ACCEPTED for c in codes)
        on_time = sum(first.get(c) == ACCEPTED for c in codes)
        return PeriodCounts(
            period=day.isoformat(),
            archived=True,
            expected=expected,
            submitted=submitted,
            accepted=accepted,
            on_time=on_time,
            submitted_percent=_rate(submitted, expected),
            accepted_percent=_rate(accepted, expected),
            on_time_percent=_rate(on_time, expected),
        )

    codes = [u.code for u in config.units]
    of_kind: dict[str, list[str]] = {}
    for unit in config.units:
        of_kind.setdefault(unit.kind, []).append(unit.code)
    kinds = [kind for kind in config.template.kinds if kind in of_kind]
    by_kind = {kind: [counts(of_kind[kind], day) for day in periods] for kind in kinds}
    # Each unit's entry per period; a period not archived says nothing (None) of any unit.
    columns = []
    for day in periods:
        iso, archived = day.isoformat(), day in first_run
        statuses, first = final[day], in_first[day]
        columns.append(
            [
                UnitPeriod(
                    period=iso,
                    status=STATUS_OF[statuses[code]] if archived and code in statuses else None,
                    on_time=first.get(code) == ACCEPTED if archived else None,
                )
                for code in codes
            ]
        )
    by_unit = {code: [column[i] for column in columns] for i, code in enumerate(codes)}
    return Completeness(
        periods=[p.isoformat() for p in periods],
        total=[counts(codes, day) for day in periods],
        by_kind=by_kind,
        by_unit=by_unit,
    )
