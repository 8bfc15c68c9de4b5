"""The rule engine: the `rules` and `outliers` of report.yaml, evaluated with pandas.

Every check works on one DataFrame of figures per period (rows: units, columns:
figure keys, with the `<table>.TONG.<column>` sums added), so one comparison covers
every unit at once, whether there is one (a sheet being parsed) or three thousand.

Where each kind of check runs:

- rules over a unit's own figures (the table rules of docs/vi/mau-bao-cao.md, the support levels):
  when the sheets are parsed (`validate.parse.parse_reports`, across a batch of sheets at once),
  so that an `error` rejects the unit;
- rules that compare with the unit's last accepted figures (`last.` in a side): when
  a batch of sheets has been read (`pipeline.report.collect_batch`), across the batch, with
  those figures from the report database; an `error` rejects the unit there too;
- outliers (`find_outliers`): when the period is aggregated, across every unit of the
  period, since they need the peers; they are always warnings.

A finding names the unit, the cell of the figure it is about (the parser records
each figure's cell), what was found and what to do, in Vietnamese.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from housing_report.config import OPERATOR_WORDS, Rule, Template, Unit, select_keys
from housing_report.config.expressions import Expression, Ref, Term, parse_expression
from housing_report.core.formatting import vn_change, vn_number
from housing_report.core.models import TOTAL_ROW, Finding, a1
from housing_report.core.statuses import ERROR

_OPS = {
    "<=": np.less_equal,
    "<": np.less,
    ">=": np.greater_equal,
    ">": np.greater,
    "==": np.equal,
    "!=": np.not_equal,
}


@dataclass(frozen=True)
class Check:
    """One comparison of a rule: a table rule on one row, or a `for_each` rule on one key."""

    rule: Rule
    left: Expression
    right: Expression
    key: str | None = None  # the key `for_each` selected
    row: str | None = None  # the table row of a table rule
    anchor: str | None = None  # the figure whose cell the finding names
    right_anchor: str | None = None


@dataclass(frozen=True)
class RuleFinding:
    unit_code: str
    anchor: str | None  # the figure key the finding is about (its cell), if any
    finding: Finding


# --------------------------------------------------------------------------- compiling


_compiled: dict[tuple[int, tuple[Rule, ...]], tuple[Template, list[Check]]] = {}


def compile_rules(rules: Sequence[Rule], template: Template) -> list[Check]:
    """Expand the rules into checks (cached: the same config compiles once per process)."""
    cache_key = (id(template), tuple(rules))
    cached = _compiled.get(cache_key)
    if cached is not None and cached[0] is template:
        return cached[1]
    checks: list[Check] = []
    for rule in rules:
        checks += _expand(rule, template)
    if len(_compiled) > 64:
        _compiled.clear()
    _compiled[cache_key] = (template, checks)
    return checks


def _single(key: str) -> Expression:
    return Expression(key, (Term(1.0, Ref(key)),))


def _anchor(expression: Expression) -> str | None:
    return next((r.key for r in expression.refs if not r.last), None)


def _expand(rule: Rule, template: Template) -> list[Check]:
    if rule.table is not None:
        section = template.section(rule.table)
        return [
            Check(
                rule,
                _single(f"{rule.table}.{row.code}.{rule.left}"),
                _single(f"{rule.table}.{row.code}.{rule.right}"),
                row=row.code,
                anchor=f"{rule.table}.{row.code}.{rule.left}",
                right_anchor=f"{rule.table}.{row.code}.{rule.right}",
            )
            for row in section.rows
        ]
    constants = dict(rule.constants)
    keys: list[str | None] = (
        list(select_keys(template, rule.for_each, rule.exclude)) if rule.for_each else [None]
    )
    out = []
    for key in keys:
        left = parse_expression(rule.left.replace("{key}", key or ""), constants)
        right = parse_expression(rule.right.replace("{key}", key or ""), constants)
        anchor = _anchor(left) or _anchor(right)
        right_anchor = _anchor(right) if _anchor(left) else None
        out.append(Check(rule, left, right, key=key, anchor=anchor, right_anchor=right_anchor))
    return out


# --------------------------------------------------------------------------- frames


def figures_frame(
    figures_by_unit: Mapping[str, Mapping[str, Any]], template: Template, only: Sequence[str] | None = None
) -> pd.DataFrame:
    """Rows: units; columns: every figure key of the template and the tables' TONG sums (NaN:
    absent), or the keys `only`, in that order.

    Built as one numpy array (a table's TONG is NaN only where all its rows are): building it
    column by column in pandas costs more than every check run on it."""
    tables = [
        (f"{s.code}.{TOTAL_ROW}.{c.code}", [f"{s.code}.{r.code}.{c.code}" for r in s.rows])
        for s in template.sections
        if s.kind == "table"
        for c in s.columns
    ]
    keys = template.all_figure_keys()
    if only is not None:
        wanted = set(only)
        tables = [(total, parts) for total, parts in tables if total in wanted]
        needed = wanted.union(*(parts for _, parts in tables))
        keys = [k for k in keys if k in needed]
    nan = np.nan
    rows = [list(map(figures.get, keys)) for figures in figures_by_unit.values()]
    if {v.__class__ for row in rows for v in row} <= _PLAIN:  # numbers and gaps only: numpy reads them
        values = np.array(rows, dtype=float).reshape(len(rows), len(keys))
    else:
        values = np.array(
            [[float(v) if v.__class__ in _NUMBERS else nan for v in row] for row in rows], dtype=float
        ).reshape(len(rows), len(keys))
    position = {k: i for i, k in enumerate(keys)}
    totals = []
    for _, parts in tables:
        block = values[:, [position[k] for k in parts]]
        total = np.nansum(block, axis=1)
        total[np.isnan(block).all(axis=1)] = nan
        totals.append(total)
    if totals:
        values = np.column_stack([values, *totals])
    frame = pd.DataFrame(
        values,
        index=pd.Index(list(figures_by_unit), dtype=object),
        columns=keys + [total for total, _ in tables],
    )
    return frame if only is None else frame.reindex(columns=list(only))


_NUMBERS = (int, float)  # exact classes: a bool is not a figure
_PLAIN = {int, float, type(None)}


def as_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return np.nan
    return float(value)


def _side(expression: Expression, frame: pd.DataFrame, last: pd.DataFrame | None) -> np.ndarray:
    out = np.zeros(len(frame))
    for term in expression.terms:
        if term.ref is None:
            out = out + term.coefficient
            continue
        source = last if term.ref.last else frame
        if source is None or term.ref.key not in source.columns:
            return np.full(len(frame), np.nan)
        out = out + term.coefficient * source[term.ref.key].to_numpy(dtype=float)
    return out


# --------------------------------------------------------------------------- evaluating


def evaluate(
    checks: Sequence[Check],
    frame: pd.DataFrame,
    *,
    units: Mapping[str, Unit],
    template: Template,
    cells: Mapping[str, Mapping[str, str]],
    sheets: Mapping[str, str] | None = None,
    last: pd.DataFrame | None = None,
    last_periods: Mapping[str, dt.date] | None = None,
) -> list[RuleFinding]:
    """Every violation of `checks` by the units (rows) of `frame`, in unit then check order.

    `last` holds each unit's last accepted figures (same shape; NaN where there are none):
    a check whose side needs a figure a unit does not have is skipped for that unit.
    """
    if frame.empty or not checks:
        return []
    if last is not None:
        last = last.reindex(index=frame.index, columns=frame.columns)
    codes = list(frame.index)
    kinds = np.array([units[c].kind for c in codes], dtype=object)
    hits: dict[str, list[RuleFinding]] = {c: [] for c in codes}
    for check in checks:
        if check.rule.history and last is None:
            continue
        left = np.round(_side(check.left, frame, last), 6)
        right = np.round(_side(check.right, frame, last), 6)
        with np.errstate(invalid="ignore"):
            broken = ~np.isnan(left) & ~np.isnan(right) & ~_OPS[check.rule.op](left, right)
        if check.rule.kinds:
            broken &= np.isin(kinds, list(check.rule.kinds))
        for i in np.flatnonzero(broken):
            code = codes[i]
            unit = units[code]
            hits[code].append(
                RuleFinding(
                    code,
                    check.anchor,
                    _finding(
                        check,
                        unit,
                        template,
                        float(left[i]),
                        float(right[i]),
                        cells.get(code, {}),
                        (sheets or {}).get(code, unit.worksheet),
                        (last_periods or {}).get(code),
                    ),
                )
            )
    return [h for c in codes for h in hits[c]]


def _finding(
    check: Check,
    unit: Unit,
    template: Template,
    left: float,
    right: float,
    cells: Mapping[str, str],
    sheet: str,
    last_period: dt.date | None,
) -> Finding:
    rule = check.rule
    cell = cells.get(check.anchor or "") or a1(0, 0, sheet)
    right_cell = cells.get(check.right_anchor or "", "")
    row_label = ""
    if check.row:
        row_label = next(r.label for r in template.section(rule.table or "").rows if r.code == check.row)
    values = {
        "left": vn_number(left),
        "right": vn_number(right),
        "difference": vn_change(left - right),
        "left_cell": cell,
        "right_cell": right_cell,
        "left_code": rule.left if rule.table else (check.anchor or "").rsplit(".", 1)[-1],
        "right_code": rule.right if rule.table else (check.right_anchor or "").rsplit(".", 1)[-1],
        "row": check.row or "",
        "row_label": row_label,
        "key": check.key or check.anchor or "",
        "label": template.figure_label(check.key or check.anchor or "", column_first=True),
        "last_period": f"{last_period:%d/%m/%Y}" if last_period else "trước",
    }
    text = rule.message.format(**values)
    fix = rule.fix.format(**values) if rule.fix else ""
    if rule.table:
        body = (
            f"dòng {check.row} «{row_label}»: {text}. Giá trị ở cột {rule.left} phải "
            f"{OPERATOR_WORDS[rule.op]} giá trị ở cột {rule.right}; hãy kiểm tra lại hai ô này."
        )
        if fix:
            body += f" {fix}"
    else:
        body = f"{text}. {fix or 'Hãy kiểm tra lại ô này.'}"
    code = rule.left if rule.table else (check.anchor or "").rsplit(".", 1)[-1] or "RULE"
    return Finding(rule.severity, cell, code, f"{unit.name}, ô {cell}: {body}")


# --------------------------------------------------------------------------- per unit, per batch


def check_units(
    figures: Mapping[str, Mapping[str, Any]],
    cells: Mapping[str, Mapping[str, str]],
    units: Mapping[str, Unit],
    template: Template,
    rules: Sequence[Rule],
    sheets: Mapping[str, str] | None = None,
) -> list[RuleFinding]:
    """The plausible maximum of every figure (`check_bounds`), then the rules over each unit's
    own figures (not those comparing with its history), across the units at once. `figures`,
    `cells`, `sheets`: by unit code."""
    wanted = {code: f for code, f in figures.items() if f}
    if not wanted:
        return []
    frame = figures_frame(wanted, template)
    hits = check_bounds(frame, units, template, cells, sheets)
    checks = [c for c in compile_rules(rules, template) if not c.rule.history]
    if checks:
        hits += evaluate(checks, frame, units=units, template=template, cells=cells, sheets=sheets)
    return hits


def check_bounds(
    frame: pd.DataFrame,
    units: Mapping[str, Unit],
    template: Template,
    cells: Mapping[str, Mapping[str, str]],
    sheets: Mapping[str, str] | None = None,
) -> list[RuleFinding]:
    """An error for every figure above its plausible maximum (`Template.maximum`: `max:` in
    report.yaml), naming the unit and the cell: a phone number typed into a count, digits typed
    twice. Nothing above it reaches the summary, whatever the rules say."""
    keys = [k for k in frame.columns if template.maximum(k) is not None]
    if not keys:
        return []
    limits = np.array([template.maximum(k) for k in keys], dtype=float)
    values = frame[keys].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        over = values > limits
    out = []
    codes = list(frame.index)
    for i, j in zip(*np.nonzero(over), strict=True):
        code, key = codes[i], keys[j]
        unit = units[code]
        cell = cells.get(code, {}).get(key) or a1(0, 0, (sheets or {}).get(code, unit.worksheet))
        measure = _measure(template, key)
        text = (
            f"«{template.figure_label(key, column_first=True)}» ghi {vn_number(float(values[i, j]))}"
            f"{measure}, lớn hơn mức tối đa có thể có của ô này ({vn_number(float(limits[j]))}{measure}): "
            "có thể đã ghi nhầm số điện thoại, mã số, gõ thừa chữ số hoặc nhầm đơn vị tính. "
            "Hãy kiểm tra lại và ghi đúng số liệu; nếu số liệu thật sự lớn như vậy, hãy báo quản trị "
            "hệ thống."
        )
        out.append(
            RuleFinding(
                code, key, Finding(ERROR, cell, key.rsplit(".", 1)[-1], f"{unit.name}, ô {cell}: {text}")
            )
        )
    return out


def _measure(template: Template, key: str) -> str:
    """ " căn", " triệu đồng": the unit of measure of a figure's section, with its space ('' without)."""
    found = template.field_codes.get(key)
    try:
        section = found[0] if found else template.section(key.split(".", 1)[0])
    except KeyError:
        return ""
    return f" {section.unit}" if section.unit else ""


def check_history(
    current: Mapping[str, Mapping[str, Any]],
    last: Mapping[str, tuple[dt.date, Mapping[str, Any]]],
    cells: Mapping[str, Mapping[str, str]],
    units: Mapping[str, Unit],
    template: Template,
    rules: Sequence[Rule],
    sheets: Mapping[str, str] | None = None,
) -> list[RuleFinding]:
    """The rules comparing each unit's figures with its last accepted ones, across units at once.

    `current`: unit code -> this period's figures; `last`: unit code -> (period, figures).
    """
    checks = [c for c in compile_rules(rules, template) if c.rule.history]
    wanted = [code for code in current if code in last and current[code]]
    if not checks or not wanted:
        return []
    frame = figures_frame({c: current[c] for c in wanted}, template)
    before = figures_frame({c: last[c][1] for c in wanted}, template)
    return evaluate(
        checks,
        frame,
        units=units,
        template=template,
        cells=cells,
        sheets=sheets,
        last=before,
        last_periods={c: last[c][0] for c in wanted},
    )
