"""The project's config as loaded from `units.yaml` and `report.yaml` (see `config.load`).

Both files are validated as a whole when loaded; the first problem raises
`ConfigError` naming the file, the key (as a path like `units[3].kind`) and what
is wrong, in Vietnamese, for the admin who edits them.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from housing_report.core.models import TOTAL_LABEL, TOTAL_ROW

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

UNIT_KINDS = ("district", "organization", "press")
SECTION_KINDS = ("fields", "table", "list")
VALUE_KINDS = ("count", "money", "text", "date", "period")
SEVERITIES = ("error", "warning")
OPERATORS = ("<=", "<", ">=", ">", "==", "!=")
# How an operator reads in a Vietnamese sentence ("must be ... the right side").
OPERATOR_WORDS = {
    "<=": "không lớn hơn",
    "<": "nhỏ hơn",
    ">=": "không nhỏ hơn",
    ">": "lớn hơn",
    "==": "bằng",
    "!=": "khác",
}
# A code as written in column A: letters, digits and underscores, starting with a letter.
CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
UNIT_CODE_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
SPREADSHEET_KEY_RE = re.compile(r"^[A-Za-z0-9_\-]+$")


class ConfigError(ValueError):
    """A config file is wrong: names the file, the key and the problem."""

    def __init__(self, file: str | Path, key: str, problem: str):
        self.file = str(file)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.file}: {key}: {problem}")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


@dataclass(frozen=True)
class Item:
    """A row of a table, a column of a table, or a field."""

    code: str
    label: str
    value: str = "count"


@dataclass(frozen=True)
class Section:
    code: str
    kind: str  # fields | table | list
    label: str
    value: str = "count"  # for tables and number fields
    unit: str = ""
    cumulative: bool = False
    fields: tuple[Item, ...] = ()
    rows: tuple[Item, ...] = ()
    columns: tuple[Item, ...] = ()
    place: bool = False  # list: column C holds a place

    def figure_keys(self, rows: tuple[str, ...] | None = None) -> list[str]:
        """Keys of this section's numeric figures in summaries (`A.NCC.CAN_XM`, `NGAY_CONG`)."""
        if self.kind == "table":
            wanted = rows if rows is not None else tuple(r.code for r in self.rows)
            return [f"{self.code}.{r}.{c.code}" for r in wanted for c in self.columns]
        if self.kind == "fields":
            return [f.code for f in self.fields if f.value in ("count", "money")]
        return []


@dataclass(frozen=True)
class Requirement:
    """A section a kind must fill, optionally only some rows of a table."""

    section: str
    rows: tuple[str, ...] | None = None


@dataclass(frozen=True)
class UnitKind:
    code: str
    label: str
    required: tuple[Requirement, ...]
    optional: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """A check over a unit's figures (see `housing_report.validate.rules`).

    With `table`, `left` and `right` are column codes compared on every row of that table.
    Otherwise they are expressions over figure keys (`housing_report.config.expressions`), checked
    once, or once per key that `for_each` selects (`{key}` in the sides stands for it).
    """

    table: str | None
    left: str
    op: str
    right: str
    severity: str
    message: str
    name: str = ""
    for_each: tuple[str, ...] = ()  # figure-key patterns (`A.*.CAN_*`) or `cumulative`
    exclude: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # unit kinds it applies to; empty: every kind
    fix: str = ""  # what to do, appended to the message
    history: bool = False  # compares with the unit's last accepted figures (`last.`)
    constants: tuple[tuple[str, float], ...] = ()  # report.yaml's constants, for the sides


@dataclass(frozen=True)
class Outliers:
    """Unusual increases since a unit's last accepted period (modified z-score, MAD)."""

    figures: tuple[str, ...] = ()
    threshold: float = 3.5
    min_peers: int = 5
    min_history: int = 3
    severity: str = "warning"
    message: str = ""
    fix: str = ""


@dataclass(frozen=True)
class Progress:
    """Houses needed, started and completed: column codes of one table, summed over its rows."""

    table: str
    needed: tuple[str, ...]
    started: tuple[str, ...]
    completed: tuple[str, ...]


@dataclass(frozen=True)
class Template:
    version: int
    worksheet: str
    sections: tuple[Section, ...]
    kinds: dict[str, UnitKind]

    def section(self, code: str) -> Section:
        for s in self.sections:
            if s.code == code:
                return s
        raise KeyError(code)

    # Worked out once per template (asked once per sheet and per unit at national scale); the
    # methods hand out copies, so a caller may change what it gets.

    @cached_property
    def field_codes(self) -> dict[str, tuple[Section, Item]]:
        """Field code -> (section, item): shared, not to be changed."""
        return {f.code: (s, f) for s in self.sections if s.kind == "fields" for f in s.fields}

    @cached_property
    def _used_keys(self) -> dict[str, tuple[str, ...]]:
        out = {}
        for kind, spec in self.kinds.items():
            keys: list[str] = []
            for req in spec.required:
                keys += self.section(req.section).figure_keys(req.rows)
            out[kind] = tuple(keys)
        return out

    def used_figure_keys(self, kind: str) -> list[str]:
        """The figure keys a unit of this kind contributes, in template order."""
        return list(self._used_keys[kind])

    @cached_property
    def _cumulative_keys(self) -> frozenset[str]:
        return frozenset(k for s in self.sections if s.cumulative for k in s.figure_keys())

    def cumulative_keys(self) -> set[str]:
        return set(self._cumulative_keys)

    @cached_property
    def _all_keys(self) -> tuple[str, ...]:
        return tuple(k for s in self.sections for k in s.figure_keys())

    def all_figure_keys(self) -> list[str]:
        return list(self._all_keys)

    def figure_label(self, key: str, *, column_first: bool = False) -> str:
        """The Vietnamese label of a figure key: `A.NCC.CAN_XM` -> "<row label> - <column label>",
        or "<column label> (<row label>)" with `column_first` (as a unit's findings name it)."""
        parts = key.split(".")
        if len(parts) == 3:
            try:
                section = self.section(parts[0])
            except KeyError:
                return key
            rows = {r.code: r.label for r in section.rows} | {TOTAL_ROW: TOTAL_LABEL}
            columns = {c.code: c.label for c in section.columns}
            if parts[1] in rows and parts[2] in columns:
                if column_first:
                    return f"{columns[parts[2]]} ({rows[parts[1]]})"
                return f"{rows[parts[1]]} - {columns[parts[2]]}"
            return key
        found = self.field_codes.get(key)
        return found[1].label if found else key

    def kind_label(self, kind: str) -> str:
        """The Vietnamese label of a unit kind ("Cấp huyện"); an unknown kind as it is."""
        spec = self.kinds.get(kind)
        return spec.label if spec else kind


@dataclass(frozen=True)
class Schedule:
    collection_days: tuple[int, ...]
    hour: int
    timezone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Signature:
    """The signature block of the report (Nghị định 30/2020, Phụ lục I): who signs, and for whom."""

    title: str  # the signer's position, caps: "PHÓ TRƯỞNG BAN THƯỜNG TRỰC"
    name: str  # the signer's full name
    authority: str = ""  # signing on behalf: "K/T TRƯỞNG BAN", "T/M BAN THƯỜNG VỤ"; empty when the head signs


@dataclass(frozen=True)
class Issuer:
    kind: str
    parent: str
    name: str
    place: str
    report_number_prefix: str
    signature: Signature | None = None
    # "Nơi nhận" of the report document, each a line ("Sở Lao động - TB&XH tỉnh (b/c)");
    # the list ends with "- Lưu: <archive>".
    places_to_send: tuple[str, ...] = ()
    archive: str = "VT"


@dataclass(frozen=True)
class Programme:
    title: str
    short_title: str
    target_date: dt.date


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    spreadsheet: str
    worksheet: str
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportConfig:
    programme: Programme
    issuer: Issuer
    to: tuple[Contact, ...]
    cc: tuple[Contact, ...]
    admins: tuple[Contact, ...]
    schedule: Schedule
    template: Template
    rules: tuple[Rule, ...]
    progress: Progress
    constants: dict[str, float] = field(default_factory=dict)
    outliers: Outliers = field(default_factory=Outliers)


@dataclass(frozen=True)
class Config:
    report: ReportConfig
    units: tuple[Unit, ...]
    directory: Path = field(default=DEFAULT_CONFIG_DIR)

    @property
    def template(self) -> Template:
        return self.report.template

    @cached_property
    def _units_by_code(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}

    def unit(self, code: str) -> Unit:
        return self._units_by_code[code]


def total_keys(template: Template) -> list[str]:
    """`<table>.TONG.<column>` keys: the sum of a table column over its rows."""
    return [f"{s.code}.TONG.{c.code}" for s in template.sections if s.kind == "table" for c in s.columns]


def select_keys(template: Template, patterns: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
    """The figure keys a rule's `for_each` selects: glob patterns (`A.*.CAN_*`) or `cumulative`."""
    keys = template.all_figure_keys() + total_keys(template)
    cumulative = template.cumulative_keys()

    def matches(key: str, pattern: str) -> bool:
        if pattern == "cumulative":
            return key in cumulative
        if ".TONG." in key and ".TONG." not in pattern:
            return False  # a table's total only when named: `A.TONG.*`
        return fnmatch.fnmatchcase(key, pattern)

    return [
        k for k in keys if any(matches(k, p) for p in patterns) and not any(matches(k, p) for p in exclude)
    ]
