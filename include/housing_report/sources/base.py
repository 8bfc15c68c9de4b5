"""The interface every source of unit worksheets implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from housing_report.config import Unit
from housing_report.models import FetchResult


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
