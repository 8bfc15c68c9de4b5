"""The rule engine: the `rules` and `outliers` of report.yaml, evaluated with pandas.

Every check works on one DataFrame of figures per period (rows: units, columns:
figure keys, with the `<table>.TONG.<column>` sums added), so one comparison covers
every unit at once, whether there is one (a sheet being parsed) or three thousand.

Where each kind of check runs:

- rules over a unit's own figures (the TEMPLATE.md table rules, the support levels):
  when the sheets are parsed (`parse.parse_reports`, across a batch of sheets at once),
  so that an `error` rejects the unit;
- rules that compare with the unit's last accepted figures (`last.` in a side): when
  a batch of sheets has been read (`pipeline.collect_batch`), across the batch, with
  those figures from the report database; an `error` rejects the unit there too;
- outliers (`find_outliers`): when the period is aggregated, across every unit of the
  period, since they need the peers; they are always warnings.

A finding names the unit, the cell of the figure it is about (the parser records
each figure's cell), what was found and what to do, in Vietnamese.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from housing_report.config import OPERATOR_WORDS, Outliers, Rule, Template, Unit, select_keys
from housing_report.expressions import Expression, Ref, Term, parse_expression
from housing_report.models import TOTAL_ROW, Finding, a1
from housing_report.render import figure_label
from housing_report.values import vn_plain_number

_OPS = {
    "<=": np.less_equal,
    "<": np.less,
    ">=": np.greater_equal,
    ">": np.greater,
    "==": np.equal,
    "!=": np.not_equal,
}
# Scale factors of the modified z-score (Iglewicz and Hoaglin): MAD, else the mean absolute deviation.
_MAD_FACTOR = 0.6745
_MEAN_AD_FACTOR = 1.253314


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


def _number(value: Any) -> float:
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
        "left": plain(left),
        "right": plain(right),
        "difference": change(left - right),
        "left_cell": cell,
        "right_cell": right_cell,
        "left_code": rule.left if rule.table else (check.anchor or "").rsplit(".", 1)[-1],
        "right_code": rule.right if rule.table else (check.right_anchor or "").rsplit(".", 1)[-1],
        "row": check.row or "",
        "row_label": row_label,
        "key": check.key or check.anchor or "",
        "label": figure_label(template, check.key or check.anchor or "", column_first=True),
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


def plain(number: float) -> str:
    """A figure as shown in a message: whole numbers without decimals, money up to 3."""
    if abs(number - round(number)) < 1e-9:
        return vn_plain_number(int(round(number)))
    return vn_plain_number(round(number, 3))


def change(number: float) -> str:
    text = plain(number)
    return f"+{text}" if number > 0 else text


# --------------------------------------------------------------------------- per unit, per batch


def check_units(
    figures: Mapping[str, Mapping[str, Any]],
    cells: Mapping[str, Mapping[str, str]],
    units: Mapping[str, Unit],
    template: Template,
    rules: Sequence[Rule],
    sheets: Mapping[str, str] | None = None,
) -> list[RuleFinding]:
    """The rules over each unit's own figures (not those comparing with its history), across the
    units at once. `figures`, `cells`, `sheets`: by unit code."""
    checks = [c for c in compile_rules(rules, template) if not c.rule.history]
    wanted = {code: f for code, f in figures.items() if f}
    if not checks or not wanted:
        return []
    return evaluate(
        checks,
        figures_frame(wanted, template),
        units=units,
        template=template,
        cells=cells,
        sheets=sheets,
    )


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


# --------------------------------------------------------------------------- outliers


def _robust(values: pd.DataFrame, groups: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per group and column: the median, the spread of the modified z-score, the count."""
    grouped = values.groupby(groups)
    median = grouped.transform("median")
    deviation = (values - median).abs()
    by_deviation = deviation.groupby(groups)
    mad = by_deviation.transform("median")
    mean_ad = by_deviation.transform("mean")
    spread = (mad / _MAD_FACTOR).where(mad > 0, mean_ad * _MEAN_AD_FACTOR)
    spread = spread.where(spread > 0)
    return median, spread, grouped.transform("count")


def find_outliers(
    settings: Outliers,
    template: Template,
    units: Mapping[str, Unit],
    current: Mapping[str, Mapping[str, Any]],
    last: Mapping[str, tuple[dt.date, Mapping[str, Any]]],
    past_increases: Mapping[str, Sequence[Mapping[str, float]]]
    | pd.DataFrame
    | Callable[[Sequence[str], Sequence[str]], pd.DataFrame],
    cells: Mapping[str, Mapping[str, str]],
) -> list[RuleFinding]:
    """Increases since each unit's last accepted period that are outliers among its peers (units
    of the same kind, this period) and, when it has enough of them, among its own past increases.

    `past_increases`: each unit's past increases (a mapping, or `increases_frame`'s frame), or a
    function giving them for the units and figure keys asked: it is asked only for the units
    and figures unusual among their peers, the only ones its answer can change.

    Modified z-score: 0.6745 × (x − median) / MAD (the mean absolute deviation × 1.2533 when
    the MAD is 0); an increase is flagged when its score is above `settings.threshold`, both
    for the increase itself and for the growth it means (increase / previous figure), so that
    neither a large unit's normal progress nor a small unit's few houses count as unusual.
    """
    keys = select_keys(template, settings.figures) if settings.figures else []
    wanted = [c for c in current if c in last and current[c]]
    if not keys or len(wanted) < settings.min_peers:
        return []
    now = figures_frame({c: current[c] for c in wanted}, template, keys)
    before = figures_frame({c: last[c][1] for c in wanted}, template, keys)
    increase = now - before
    kinds = pd.Series({c: units[c].kind for c in wanted})
    median, spread, count = _robust(increase, kinds)
    peer_z = (increase - median) / spread
    flagged = (peer_z > settings.threshold) & (count >= settings.min_peers) & (increase > 0)
    # A large unit's increases are large: the growth (increase / previous) must be unusual too,
    # unless the previous figure was 0.
    growth = (increase / before).where(before > 0)
    growth_median, growth_spread, _ = _robust(growth, kinds)
    growth_z = (growth - growth_median) / growth_spread
    flagged &= (growth_z > settings.threshold) | growth.isna() | growth_spread.isna()

    flags = flagged.to_numpy()
    suspects = [wanted[i] for i in np.flatnonzero(flags.any(axis=1))]
    if not suspects:
        return []
    if callable(past_increases):
        # Only the figures unusual for some unit: the others' own history changes nothing.
        past_increases = past_increases(suspects, [keys[j] for j in np.flatnonzero(flags.any(axis=0))])
    history = _own_frame(past_increases, keys)
    history = history[history.index.isin(suspects)]
    if len(history):
        grouped = history.groupby(level=0)
        own_median = grouped.median().reindex(increase.index)
        deviation = (history - grouped.transform("median")).abs().groupby(level=0)
        own_mad, own_mean = (
            deviation.median().reindex(increase.index),
            deviation.mean().reindex(increase.index),
        )
        own_spread = (own_mad / _MAD_FACTOR).where(own_mad > 0, own_mean * _MEAN_AD_FACTOR)
        own_spread = own_spread.where(own_spread > 0)
        own_count = grouped.count().reindex(increase.index).fillna(0)
        own_z = (increase - own_median) / own_spread
        enough = own_count >= settings.min_history
        # With enough history, the increase must be unusual for the unit itself too.
        flagged &= ~enough | (own_z > settings.threshold) | own_spread.isna()
    out = []
    # As arrays: one value at a time from a frame (`.iat`) costs more than the whole test.
    median_a, spread_a, count_a = median.to_numpy(), spread.to_numpy(), count.to_numpy()
    increase_a, before_a, now_a, growth_a = (
        increase.to_numpy(),
        before.to_numpy(),
        now.to_numpy(),
        growth.to_numpy(),
    )
    for code, key in zip(*np.nonzero(flagged.to_numpy()), strict=True):
        unit_code, figure = wanted[code], keys[key]
        unit = units[unit_code]
        mid, width = float(median_a[code, key]), float(spread_a[code, key]) * settings.threshold
        values = {
            "label": figure_label(template, figure, column_first=True),
            "key": figure,
            "increase": plain(float(increase_a[code, key])),
            "previous": plain(float(before_a[code, key])),
            "growth": _percent(growth_a[code, key]),
            "current": plain(float(now_a[code, key])),
            "last_period": f"{last[unit_code][0]:%d/%m/%Y}",
            "low": plain(max(0.0, round(mid - width))),
            "high": plain(round(mid + width)),
            "median": plain(round(mid, 1)),
            "peers": str(int(count_a[code, key])),
        }
        cell = cells.get(unit_code, {}).get(figure) or a1(0, 0, unit.worksheet)
        text = settings.message.format(**values)
        fix = settings.fix.format(**values) if settings.fix else "Hãy kiểm tra lại ô này."
        out.append(
            RuleFinding(
                unit_code,
                figure,
                Finding(
                    settings.severity,
                    cell,
                    figure.rsplit(".", 1)[-1],
                    f"{unit.name}, ô {cell}: {text}. {fix}",
                ),
            )
        )
    order = {c: i for i, c in enumerate(wanted)}
    return sorted(out, key=lambda h: order[h.unit_code])


def _percent(ratio: float) -> str:
    if pd.isna(ratio):
        return "từ 0"
    return "+" + vn_plain_number(round(100 * float(ratio), 1)) + "%"


def increases_frame(
    history: Sequence[tuple[str, dt.date, Sequence[float | None]]], keys: Sequence[str]
) -> pd.DataFrame:
    """The increases between consecutive accepted periods of every unit, at once: `history` is
    `ReportStore.figures_history`'s rows (unit, period, figures `keys`), by unit then period.
    Index: the unit code, once per increase; columns: `keys` (NaN where a figure is absent)."""
    if len(history) < 2:
        return pd.DataFrame(columns=list(keys), dtype=float)
    codes = np.array([row[0] for row in history], dtype=object)
    values = np.array([row[2] for row in history], dtype=float).reshape(len(history), len(keys))
    same_unit = codes[1:] == codes[:-1]
    return pd.DataFrame(
        (values[1:] - values[:-1])[same_unit],
        index=pd.Index(codes[1:][same_unit], dtype=object),
        columns=list(keys),
    )


def _own_frame(
    past: Mapping[str, Sequence[Mapping[str, float]]] | pd.DataFrame, keys: Sequence[str]
) -> pd.DataFrame:
    if isinstance(past, pd.DataFrame):
        return past.reindex(columns=list(keys))
    rows = [(code, inc) for code, incs in past.items() for inc in incs]
    return pd.DataFrame(
        [[_number(inc.get(k)) for k in keys] for _, inc in rows],
        index=pd.Index([code for code, _ in rows], dtype=object),
        columns=list(keys),
        dtype=float,
    )
