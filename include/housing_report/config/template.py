"""The unit template of `report.yaml` (`template:`): its sections, their codes, and what each kind
of unit must fill. Pydantic dataclasses: the loaded objects and the checks of the file in one
definition (see `config.checks` for how the checks run and speak).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, ValidationInfo, field_validator, model_validator
from pydantic.dataclasses import dataclass

from housing_report.config.checks import (
    Check,
    Explain,
    Says,
    Scoped,
    current_scope,
    hashable,
    items,
    items_or_empty,
    mapping,
    nfc,
    problem,
    text,
    unknown_key,
    whole_number,
)
from housing_report.core.models import TOTAL_LABEL, TOTAL_ROW

UNIT_KINDS = ("district", "organization", "press")
SECTION_KINDS = ("fields", "table", "list")
VALUE_KINDS = ("count", "money", "text", "date", "period")
# A code as written in column A: letters, digits and underscores, starting with a letter.
CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
# The field every kind of unit must report: the period its report is for.
PERIOD_FIELD = "KY_BAO_CAO"
# No figure may reach this (a thousand billion), whatever the template says: every sum and ratio
# of figures stays exact in a float (money to its 3 decimals) and every date worked out from them
# stays in the calendar. `validate.values` rejects a cell at or above it.
NUMBER_LIMIT = 10**12
# A figure's plausible maximum when neither its item nor its section gives one (`max:`): far
# above any real figure of one unit (the whole country: 334.234 houses, 2,7 million labour
# days, 24.761 billion đồng), far below what a phone number typed into the cell gives.
DEFAULT_MAXIMA = {"count": 100_000_000, "money": 1_000_000_000}

STRICT = ConfigDict(extra="forbid")  # a key the file may not have is named as unknown

UnitKindName = Annotated[
    Literal[UNIT_KINDS], Says(f"loại đơn vị '{{}}' không hợp lệ; dùng {', '.join(UNIT_KINDS)}")
]
SectionKind = Annotated[
    Literal[SECTION_KINDS], Says(f"loại mục '{{}}' không hợp lệ; dùng {', '.join(SECTION_KINDS)}")
]
ValueKind = Annotated[
    Literal[VALUE_KINDS], Says(f"kiểu giá trị '{{}}' không hợp lệ; dùng {', '.join(VALUE_KINDS)}")
]
NumberKind = Annotated[Literal["count", "money"], Says("kiểu số '{}' không hợp lệ; dùng count hoặc money")]
Text = Annotated[str, Check(text)]


def plausible_maximum(value: Any) -> float | None:
    """A `max:`: a positive number below `NUMBER_LIMIT` (or nothing: the default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < NUMBER_LIMIT:
        raise problem(f"phải là một số dương nhỏ hơn {NUMBER_LIMIT:,}".replace(",", "."))
    return value


Maximum = Annotated[float | None, Check(plausible_maximum)]


def input_keys(cls: type) -> tuple[str, ...]:
    """The keys a model's mapping may have in the file: its fields but the derived ones."""
    derived = getattr(cls, "_derived", ())
    return tuple(name for name in cls.__pydantic_fields__ if name not in derived)


def reject_derived(cls: type, data: Any) -> None:
    """A derived field written in the file is an unknown key, like any other (the first in the
    file's order is named)."""
    if isinstance(data, dict) and any(name in data for name in cls._derived):
        allowed = input_keys(cls)
        for name in data:
            if name not in allowed:
                raise problem(unknown_key(allowed), name)


@dataclass(frozen=True, config=STRICT)
class Item:
    """A row of a table, a column of a table, or a field."""

    code: Text
    label: Text
    value: ValueKind = "count"
    max: Maximum = None  # the plausible maximum of a number (else the section's, else the default)
    # What a number field counts, as the report's sentences say it after the number ("ngày
    # công", "pano, băng rôn"); empty: the section's unit, else the number alone.
    unit: Annotated[str, Check(lambda v: nfc(str(v)).strip())] = ""

    _order: ClassVar = ("code", "value", "label", "unit", "max")

    @field_validator("code")
    @classmethod
    def _unique_code(cls, code: str, info: ValidationInfo) -> str:
        if info.context is None:
            return code
        if not CODE_RE.match(code):
            raise problem(f"mã '{code}' không hợp lệ: chỉ dùng chữ in hoa không dấu, chữ số và dấu gạch dưới")
        seen = current_scope(info).codes
        if code in seen:
            raise problem(f"mã '{code}' bị trùng")
        seen[code] = len(seen)
        return code


Items = Annotated[tuple[Item, ...], Check(items), Scoped()]
# What a section's kind reads from the file: the other parts are ignored.
_PARTS = {"table": ("rows", "columns"), "fields": ("fields",), "list": ("place",)}
_ALL_PARTS = ("fields", "rows", "columns", "place")


@dataclass(frozen=True, config=STRICT)
class Section:
    code: Text
    kind: SectionKind  # fields | table | list
    label: Text
    value: NumberKind = "count"  # for tables and number fields
    unit: Annotated[str, Check(lambda v: nfc(str(v)))] = ""
    cumulative: Annotated[bool, Check(bool)] = False
    fields: Items = ()
    rows: Items = ()
    columns: Items = ()
    place: Annotated[bool, Check(bool)] = False  # list: column C holds a place
    max: Maximum = None  # the plausible maximum of its numbers (an item's `max` overrides it)

    _order: ClassVar = (
        "code", "kind", "value", "label", "unit", "cumulative", "max", "code_format", "rows", "columns",
        "fields", "place",
    )  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _parts_of_kind(cls, data: Any, info: ValidationInfo) -> Any:
        """Only the parts of the section's kind are read; their items' value defaults to the section's."""
        if info.context is None or not isinstance(data, dict):
            return data
        kind = data.get("kind")
        wanted = _PARTS.get(kind, ()) if isinstance(kind, str) else ()
        out = {
            k: v for k, v in data.items() if k not in ("fields", "rows", "columns", "place") or k in wanted
        }
        value = data.get("value", "count")
        for name in wanted:
            if name == "place":
                out.setdefault("place", False)  # so that the list's code is checked
                continue
            raw = out.get(name)
            if isinstance(raw, list):
                raw = [{"value": value, **i} if isinstance(i, dict) and "value" not in i else i for i in raw]
            out[name] = raw
        return out

    @field_validator("rows", "place", mode="before")
    @classmethod
    def _code_format(cls, value: Any, info: ValidationInfo) -> Any:
        """A table's or a list's code is read in column A: upper case, like the items'."""
        code = info.data.get("code")
        if info.context is not None and code is not None and not CODE_RE.match(code):
            what = "bảng" if info.field_name == "rows" else "danh sách"
            raise problem(f"mã {what} '{code}' không hợp lệ", field="code", check="code_format")
        return value

    def figure_keys(self, rows: tuple[str, ...] | None = None) -> list[str]:
        """Keys of this section's numeric figures in summaries (`A.NCC.CAN_XM`, `NGAY_CONG`)."""
        if self.kind == "table":
            wanted = rows if rows is not None else tuple(r.code for r in self.rows)
            return [f"{self.code}.{r}.{c.code}" for r in wanted for c in self.columns]
        if self.kind == "fields":
            return [f.code for f in self.fields if f.value in ("count", "money")]
        return []


@dataclass(frozen=True, config=STRICT)
class Requirement:
    """A section a kind must fill, optionally only some rows of a table (`B.XHH` in the file)."""

    section: str
    rows: tuple[str, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_reference(cls, ref: Any, info: ValidationInfo) -> Any:
        if info.context is None:
            return ref
        section_code, _, row = str(ref).partition(".")
        sections = info.context.get("sections")
        if sections is not None:  # else the template's sections are wrong, and said first
            section = sections.get(section_code)
            if section is None:
                raise problem(f"mã mục không tồn tại: '{ref}'")
            if row and (section.kind != "table" or row not in {r.code for r in section.rows}):
                raise problem(f"mã dòng không tồn tại: '{ref}'")
        return {"section": section_code, "rows": (row,) if row else None}


class _Keyed:
    """A kind's mapping with its key, which is the kind's code."""

    def __init__(self, code: Any, spec: Any):
        self.code = code
        self.spec = spec


@dataclass(frozen=True, config=STRICT)
class UnitKind:
    code: str
    label: Text
    required: Annotated[tuple[Requirement, ...], Check(items)]
    optional: Annotated[tuple[str, ...], Explain(items_or_empty)]

    _derived: ClassVar = ("code",)
    _order: ClassVar = ("required", "optional", "period", "label")

    @model_validator(mode="before")
    @classmethod
    def _with_code(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context is None or not isinstance(data, _Keyed):
            return data
        spec = data.spec
        if not isinstance(spec, dict):
            return spec
        reject_derived(cls, spec)
        return {"optional": [], **spec, "code": data.code}

    @field_validator("optional", mode="before")
    @classmethod
    def _optional(cls, value: Any, info: ValidationInfo) -> Any:
        if info.context is None:
            return value
        refs = items_or_empty(value)
        sections = info.context.get("sections")
        if sections is not None:
            for j, ref in enumerate(refs):
                if not hashable(ref) or ref not in sections:  # a list: no such section (not a crash)
                    raise problem(f"mã mục không tồn tại: '{ref}'", j)
            required = info.data.get("required")
            period = info.context["period_section"]
            if required is not None and not any(r.section == period for r in required):
                raise problem(f"phải gồm mục chứa {PERIOD_FIELD}", field="required", check="period")
        return tuple(str(r) for r in refs)


@dataclass(frozen=True, config=STRICT)
class Template:
    version: Annotated[int, Check(whole_number, plain=True)]
    worksheet: Text
    sections: Annotated[tuple[Section, ...], Check(items)]
    kinds: Annotated[dict[UnitKindName, UnitKind], Check(mapping)]

    _order: ClassVar = ("sections", "kinds", "worksheet", "version")

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context is None or not isinstance(data, dict):
            return data
        return {"version": 1, "worksheet": "BaoCao", **data}

    @field_validator("sections")
    @classmethod
    def _unique_codes(cls, sections: tuple[Section, ...], info: ValidationInfo) -> tuple[Section, ...]:
        """Every code read from column A must be unique across the template."""
        if info.context is None:
            return sections
        seen: dict[str, str] = {}
        for i, s in enumerate(sections):
            codes = [s.code] if s.kind != "fields" else []
            codes += [f.code for f in s.fields] + [r.code for r in s.rows]
            for c in codes:
                if c in seen:
                    raise problem(f"mã '{c}' đã dùng ở mục {seen[c]}", i)
                seen[c] = s.code
        if PERIOD_FIELD not in seen:
            raise problem(f"thiếu trường bắt buộc {PERIOD_FIELD}")
        info.context["sections"] = {s.code: s for s in sections}
        info.context["period_section"] = next(
            (s.code for s in sections if any(f.code == PERIOD_FIELD for f in s.fields)), None
        )
        return sections

    @field_validator("kinds", mode="before")
    @classmethod
    def _keyed(cls, kinds: Any, info: ValidationInfo) -> Any:
        if info.context is None or not isinstance(kinds, dict):
            return kinds
        return {name: _Keyed(name, spec) for name, spec in kinds.items()}

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

    @cached_property
    def _maxima(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in self.sections:
            if s.kind == "table":
                for c in s.columns:
                    limit = c.max or s.max or DEFAULT_MAXIMA[s.value]
                    out.update({f"{s.code}.{r.code}.{c.code}": limit for r in s.rows})
            elif s.kind == "fields":
                for f in s.fields:
                    if f.value in DEFAULT_MAXIMA:
                        out[f.code] = f.max or s.max or DEFAULT_MAXIMA[f.value]
        return out

    def maximum(self, key: str) -> float | None:
        """The plausible maximum of a figure (`max:` of its field or table column, else of its
        section, else `DEFAULT_MAXIMA` of its kind); None for a key that is not a figure."""
        return self._maxima.get(key)

    def figure_unit(self, key: str) -> str:
        """What a figure counts, for a sentence ("căn", "ngày công"): its field's `unit`, else its
        section's; "" when neither says (or for a key that is not a figure)."""
        found = self.field_codes.get(key)
        if found:
            return found[1].unit or found[0].unit
        try:
            return self.section(key.split(".")[0]).unit if key.count(".") == 2 else ""
        except KeyError:
            return ""

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
