"""The interface every source of unit worksheets implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from housing_report.config import Unit
from housing_report.core.models import FetchResult


class ReportSource(Protocol):
    """Reads the units' worksheets.

    `fetch` returns one `FetchResult` per unit, in the order given, and never raises for
    a problem that concerns one unit or one spreadsheet: that becomes the unit's
    `missing` or `unreachable` result with a Vietnamese reason. It raises only for a
    problem that concerns the whole source (a bad credential, a folder that does not
    exist), which is a configuration problem for the admin.
    """

    def fetch(self, units: Sequence[Unit]) -> list[FetchResult]: ...


class SourceConfigError(RuntimeError):
    """The source as a whole cannot be used (admin's problem, not a unit's)."""


def fetch_by_spreadsheet(
    units: Sequence[Unit], fetch_spreadsheet: Callable[[str, list[Unit]], list[FetchResult]]
) -> list[FetchResult]:
    """Read each spreadsheet once for all its units; results come back in the units' order."""
    positions: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        positions.setdefault(unit.spreadsheet, []).append(i)
    results: list[FetchResult | None] = [None] * len(units)
    for spreadsheet, indexes in positions.items():
        group = [units[i] for i in indexes]
        for i, result in zip(indexes, fetch_spreadsheet(spreadsheet, group), strict=True):
            results[i] = result
    return [r for r in results if r is not None]
