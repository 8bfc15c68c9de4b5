"""Plain data passed between the pipeline's steps (no Airflow, no I/O)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from housing_report.core.statuses import ERROR, WARNING

# The row code of a table's totals in summaries (`A.TONG.CAN_XM`), and its label.
TOTAL_ROW = "TONG"
TOTAL_LABEL = "Tổng cộng"


@lru_cache(maxsize=8192)
def a1(row: int, col: int, sheet: str | None = None) -> str:
    """A1 address of a 0-based (row, col), prefixed by the sheet name when given."""
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    cell = f"{letters}{row + 1}"
    if sheet is None:
        return cell
    return f"{quote_sheet(sheet)}!{cell}"


def quote_sheet(sheet: str) -> str:
    """Sheet name as written in an A1 reference: quoted when it is not a plain word."""
    if sheet.replace("_", "").isalnum() and sheet.isascii() and not sheet[0].isdigit():
        return sheet
    return "'" + sheet.replace("'", "''") + "'"


@dataclass(frozen=True)
class Finding:
    """An error or a warning about one cell of a unit's worksheet."""

    severity: str  # Severity: error | warning
    cell: str  # A1 with sheet name, e.g. BaoCao!E12
    code: str  # the template code concerned (or a layout code such as "LAYOUT")
    message: str  # Vietnamese, names the unit, the cell, what was found, what to write

    def to_dict(self) -> dict[str, str]:
        return {"cell": self.cell, "code": self.code, "message": self.message}


def encode_cell(value: Any) -> Any:
    """A cell value as JSON: dates become {"date": iso} and datetimes {"datetime": iso}."""
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"time": value.isoformat()}
    return value


def json_default(value: Any) -> Any:
    """`json.dumps(default=...)`: a grid's dates and times as `encode_cell` writes them (the
    encoder calls it only for the cells that need it, so a grid is not walked in Python)."""
    encoded = encode_cell(value)
    if encoded is value:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    return encoded


class RawJSON(str):
    """Text that is JSON already: the report database stores it as it is."""


def dump_json(value: Any) -> str:
    """Compact JSON, non-ASCII letters as they are, dates as `encode_cell` writes them."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=json_default)


def decode_cell(value: Any) -> Any:
    if isinstance(value, dict):
        if "datetime" in value:
            return dt.datetime.fromisoformat(value["datetime"])
        if "date" in value:
            return dt.date.fromisoformat(value["date"])
        if "time" in value:
            return dt.time.fromisoformat(value["time"])
    return value


class Formula(str):
    """A formula cell saved without its computed value (a workbook written by a program and
    never recalculated): the formula's text, `=A1+1`. Not a value: the parser reports it."""

    __slots__ = ()


@dataclass
class Grid:
    """A worksheet's cells as read: rows of values (str, int, float, bool, date, `Formula`, None).

    What the reader saw beside the values (not part of the content or its hash): `merges`, the
    merged ranges as 0-based inclusive (first row, first col, last row, last col), within the
    bounds read; `bounds`, the (rows, columns) the reader was limited to; `beyond`, the first
    cell (row, col) holding something outside those bounds, which was not read.
    """

    sheet: str
    rows: list[list[Any]]
    merges: tuple[tuple[int, int, int, int], ...] = field(default=(), compare=False)
    bounds: tuple[int, int] | None = field(default=None, compare=False)
    beyond: tuple[int, int] | None = field(default=None, compare=False)

    @classmethod
    def from_json(cls, sheet: str, rows: list[list[Any]]) -> Grid:
        return cls(sheet, [[decode_cell(v) for v in row] for row in rows])

    def content_hash(self) -> str:
        return self.encoded()[0]

    def encoded(self) -> tuple[str, RawJSON]:
        """The content's hash and the rows as JSON, from one encoding of the cells (the hash is
        of `[sheet, rows]`, so that the same cells on another sheet are another content)."""
        rows = RawJSON(dump_json(self.rows))
        payload = f"[{dump_json(self.sheet)},{rows}]"
        return hashlib.sha256(payload.encode("utf-8")).hexdigest(), rows


@dataclass
class FetchResult:
    """What a source gave for one unit: a grid, or why there is none."""

    unit_code: str
    status: str  # ok | missing | unreachable
    grid: Grid | None = None
    reason: str = ""  # Vietnamese, for missing/unreachable
    read_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass
class UnitReport:
    """One unit's parsed and validated report for a period."""

    unit_code: str
    status: str
    period_found: dt.date | None = None
    figures: dict[str, int | float] = field(default_factory=dict)
    lists: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # Where each figure was read: figure key -> A1 cell with the sheet (`BaoCao!E12`); a table's
    # `<table>.TONG.<column>` names the column's code in its header row.
    cells: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]
