"""The interface every source of unit worksheets implements, and how much of a worksheet it reads
(`ReadBounds`, `cap_text`: what a read holds, and the archive keeps, stays bounded)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from housing_report.config import Template, Unit
from housing_report.core.models import FetchResult
from housing_report.core.text import trim_text


class ReportSource(Protocol):
    """Reads the units' worksheets.

    `fetch` returns one `FetchResult` per unit, in the order given, and never raises for
    a problem that concerns one unit or one spreadsheet: that becomes the unit's
    `missing` or `unreachable` result with a Vietnamese reason. It raises only for a
    problem that concerns the whole source (a bad credential, a folder that does not
    exist), which is a configuration problem for the admin.
    """

    def fetch(self, units: Sequence[Unit]) -> list[FetchResult]: ...


# A worksheet is read up to column Z at least (a Google sheet's default width: notes beside the
# template are read, then ignored by the parser), and this many rows beyond the template's own
# (room for the entries of lists D, E, F and for notes).
MIN_COLUMNS = 26
EXTRA_ROWS = 1000
# The text a read keeps in full (a real report holds a few thousand characters); past it, each
# text cell is cut to `LATE_TEXT` characters (a code, a number typed as text still read right).
# With the bounds and `core.text.MAX_CELL_TEXT`, a read and its archived grid stay within a few MB.
GRID_TEXT = 200_000
LATE_TEXT = 64


@dataclass(frozen=True)
class ReadBounds:
    """How much of a worksheet a source reads: its first `rows` rows and `columns` columns.

    A cell beyond them is not read (the grid, and what the archive keeps of it, stays bounded
    whatever a unit types where); the first such cell is named in a warning to the unit.
    """

    rows: int = 1100
    columns: int = MIN_COLUMNS

    @classmethod
    def for_template(cls, template: Template) -> ReadBounds:
        """The template's columns (codes, labels, the widest table), and its rows with room to spare."""
        widest = max((len(s.columns) for s in template.sections if s.kind == "table"), default=1)
        # Every section: a title, a header or labels row and a blank row around its own rows.
        height = 10 + sum(4 + len(s.fields) + len(s.rows) for s in template.sections)
        return cls(rows=height + EXTRA_ROWS, columns=max(MIN_COLUMNS, 2 + widest))


def cap_text(rows: list[list[Any]], budget: int = GRID_TEXT, late: int = LATE_TEXT) -> list[list[Any]]:
    """Cut, in place, the text cells that come after the grid's first `budget` characters of text
    to `late` characters each (a `Formula` stays one)."""
    total = 0
    for row in rows:
        for j, value in enumerate(row):
            if isinstance(value, str):
                total += len(value)
                if total > budget and len(value) > late:
                    row[j] = type(value)(trim_text(value, late))
    return rows


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
