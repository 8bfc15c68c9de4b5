"""The provincial summary of a period, typed: what `aggregate.summary.build_summary` builds,
the report database stores, `summary.json` holds and every renderer reads.

msgspec structs, encoded as JSON objects whose keys are the fields in the order declared here
(the order `summary.json` has always had). Dates and times are ISO text, as in `summary.json`
(`"2025-03-12"`, `"2025-03-12T00:05:00+00:00"`); figures keep their type, a count an int and
money a float. A field that may be absent from the JSON is `UNSET` when it is: it is then left
out again when the summary is written (a list entry's `place`, a period's counts that were not
archived, the version of a summary not stored yet).

Summaries stored by earlier versions of this code lack some fields: those have defaults, so
that every stored version still decodes (`decode_summary`) and can be replayed or corrected.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from housing_report.core.statuses import Status

# `summary.json`'s "schema": its version of this layout.
SCHEMA = 1

Figures = dict[str, int | float]


class _Part(msgspec.Struct, kw_only=True, gc=False):
    """A part of the summary: fields by keyword; no reference cycles, so not tracked by
    Python's cyclic garbage collector (thousands of units at national scale)."""


class FindingEntry(_Part):
    """An error or a warning of a unit, as the summary lists it (its severity is its list)."""

    cell: str  # A1 with the sheet name, e.g. BaoCao!E12
    code: str  # the template code concerned
    message: str  # Vietnamese, for the unit


class UnitEntry(_Part):
    """A unit's report in the period: its status, its findings, where its figures come from."""

    code: str
    name: str
    kind: str
    status: Status
    status_label: str
    errors: list[FindingEntry] = []
    warnings: list[FindingEntry] = []
    carried_forward_from: str | None = None  # the period whose cumulative figures are used
    reason: str = ""  # why it is not accepted (Vietnamese), "" when it is
    spreadsheet: str = ""
    worksheet: str = ""
    read_at: str | None = None


class Houses(_Part):
    """Houses needed, started and completed (the progress table's columns, summed)."""

    needed: int
    started: int
    completed: int


class District(_Part):
    """A unit that reports progress (a district, a commune): its houses and their change."""

    code: str
    name: str
    status: Status
    carried_forward_from: str | None
    needed: int
    started: int
    completed: int
    percent: float | None
    previous_completed: int | None  # None without a previous period, or no figures in it
    # None when unknown: no figures in the previous period, or none of its own in this one
    # (carried forward: its figures did not move because it did not report, not because it
    # completed nothing).
    change: int | None
    # A figure of its progress (needed, started, completed) was flagged this period (an outlier
    # among peers, a jump against its own last figures): not to be praised without a caveat.
    flagged: bool = False


class Programme(_Part):
    title: str
    target_date: str


class Previous(_Part):
    """What the summary says of the previous period's summary."""

    period: str
    completion_percent: float | None = None
    houses: Houses | None = None
    totals: Figures = {}


class ListEntry(_Part):
    """An entry of a list section (models, difficulties, proposals) with its unit; `place`
    only in the lists that have one."""

    unit_code: str
    unit_name: str
    text: str
    cell: str | UnsetType = UNSET
    place: str | UnsetType = UNSET


class PeriodCounts(_Part):
    """Reporting rates of a period (of all units, or of a kind): the counts only when the
    period is archived."""

    period: str
    archived: bool
    expected: int
    submitted: int | UnsetType = UNSET
    accepted: int | UnsetType = UNSET
    on_time: int | UnsetType = UNSET
    submitted_percent: float | None | UnsetType = UNSET
    accepted_percent: float | None | UnsetType = UNSET
    on_time_percent: float | None | UnsetType = UNSET


class UnitPeriod(_Part):
    """A unit in a period of the completeness table (None of a period not archived)."""

    period: str
    status: Status | None
    on_time: bool | None


class Completeness(_Part):
    """Reporting rates, DHIS2-style, for the period and the six before it (oldest first)."""

    periods: list[str]
    total: list[PeriodCounts]
    by_kind: dict[str, list[PeriodCounts]]
    by_unit: dict[str, list[UnitPeriod]]


class Summary(msgspec.Struct, kw_only=True):
    """The provincial summary of a period (a version of it, once stored)."""

    schema: int = SCHEMA
    period: str
    period_label: str
    previous_period: str | None = None
    generated_at: str
    run_id: str
    programme: Programme
    units: list[UnitEntry]
    status_counts: dict[Status, int]
    totals: Figures
    by_unit: dict[str, Figures]
    completion_percent: float | None = None
    houses: Houses
    districts: list[District]
    previous: Previous | None = None
    change: Figures = {}
    lists: dict[str, list[ListEntry]] = {}
    # What `funds_apart` of report.yaml keeps out of `totals` and shows beside them (the money
    # the Mặt trận and the đoàn thể mobilise and hand to the districts): its table's figure keys
    # summed over those units; {} when it is added in, or none.
    apart: Figures = {}
    # Reporting rates (`aggregate.quality.completeness`): absent from the oldest summaries.
    completeness: Completeness | UnsetType = UNSET
    # The version number in the archive: set once stored.
    version: int | UnsetType = UNSET


class HistoryDistrict(_Part):
    """What the forecast reads of a district in an earlier period."""

    code: str
    completed: int = 0
    needed: int = 0
    carried_forward_from: str | None = None  # its figures were not its own of that period


class HistoryPoint(msgspec.Struct, kw_only=True):
    """What the charts, the forecast and the monthly praise read of an earlier period's summary
    (`ReportStore.history`): not the whole summary. `lists` only for the periods of the
    month of the report (else empty)."""

    period: str
    houses: Houses | None = None
    completion_percent: float | None = None
    totals: Figures = {}
    districts: list[HistoryDistrict] = []
    lists: dict[str, list[ListEntry]] = {}


_DECODER = msgspec.json.Decoder(Summary)


def decode_summary(text: str | bytes) -> Summary:
    """A summary from its JSON (the archive's column, a `summary.json`), of any version; a
    `NaN`, which msgspec refuses and `json.dumps` may have written, through `json`."""
    try:
        return _DECODER.decode(text)
    except msgspec.DecodeError:
        return msgspec.convert(json.loads(text), Summary)


def summary_json(summary: Summary) -> str:
    """The text of `summary.json`: indented, non-ASCII letters as they are, keys in field order,
    the absent fields (`UNSET`) left out."""
    return json.dumps(msgspec.to_builtins(summary), ensure_ascii=False, indent=2) + "\n"


def as_dict(part: msgspec.Struct) -> dict[str, Any]:
    """A part of the summary as the plain dict its JSON is (the absent fields left out)."""
    return msgspec.to_builtins(part)
