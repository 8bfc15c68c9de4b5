"""Unusual increases since a unit's last accepted period (`outliers` in report.yaml).

Run at aggregation, across every unit of the period, since they need the peers: a unit's
increase is compared with the increases of the units of its kind this period and with its own
past increases, by the modified z-score. They are always warnings. The caller reads the units'
earlier figures from the archive and hands them in; this stage reads no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from housing_report.config import Outliers, Template, Unit, select_keys
from housing_report.core.formatting import vn_number, vn_plain_number
from housing_report.core.models import Finding, a1
from housing_report.validate.rules import RuleFinding, as_number, figures_frame

# Scale factors of the modified z-score (Iglewicz and Hoaglin): MAD, else the mean absolute deviation.
_MAD_FACTOR = 0.6745
_MEAN_AD_FACTOR = 1.253314


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
            "label": template.figure_label(figure, column_first=True),
            "key": figure,
            "increase": vn_number(float(increase_a[code, key])),
            "previous": vn_number(float(before_a[code, key])),
            "growth": _percent(growth_a[code, key]),
            "current": vn_number(float(now_a[code, key])),
            "last_period": f"{last[unit_code][0]:%d/%m/%Y}",
            "low": vn_number(max(0.0, round(mid - width))),
            "high": vn_number(round(mid + width)),
            "median": vn_number(round(mid, 1)),
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
        [[as_number(inc.get(k)) for k in keys] for _, inc in rows],
        index=pd.Index([code for code, _ in rows], dtype=object),
        columns=list(keys),
        dtype=float,
    )
