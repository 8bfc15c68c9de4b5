"""Figures as the renderers lay them out: the sections with numbers, a table's totals, the
change of houses since the previous period, and where carried-forward figures come from."""

from __future__ import annotations

from typing import Any

from housing_report.config import Config, Section, Template
from housing_report.core.formatting import vn_date
from housing_report.core.models import TOTAL_ROW
from housing_report.core.summary import Summary

HOUSE_MEASURES = ("needed", "started", "completed")


def carried_label(carried_forward_from: str | None) -> str:
    """'số liệu kỳ 27/02/2025' for a unit whose figures are carried forward, else ''."""
    return f"số liệu kỳ {vn_date(carried_forward_from)}" if carried_forward_from else ""


def number_sections(template: Template) -> list[Section]:
    """The sections with figures (tables and fields sections with numbers), in template order."""
    return [s for s in template.sections if s.figure_keys()]


def table_total(figures: dict[str, Any], section: Section, column: str) -> int | float | None:
    """The `TONG` figure of a table column: the summary's, else the sum of the rows present."""
    key = f"{section.code}.{TOTAL_ROW}.{column}"
    if key in figures:
        return figures[key]
    values = [figures[k] for r in section.rows if (k := f"{section.code}.{r.code}.{column}") in figures]
    if not values:
        return None
    total = sum(values)
    return round(total, 3) if isinstance(total, float) else total


def houses_change(summary: Summary, config: Config) -> dict[str, int | None]:
    """Change of houses needed/started/completed since the previous period (None without one).

    From the previous summary's `houses` when it has them, else from the change of the
    progress table's `TONG` columns (`config.report.progress`).
    """
    previous = summary.previous
    if not previous:
        return dict.fromkeys(HOUSE_MEASURES)
    houses = summary.houses
    before = previous.houses
    change = summary.change
    progress = config.report.progress
    out: dict[str, int | None] = {}
    for name in HOUSE_MEASURES:
        keys = [f"{progress.table}.{TOTAL_ROW}.{c}" for c in getattr(progress, name)]
        if before is not None:
            out[name] = getattr(houses, name) - getattr(before, name)
        elif all(k in change for k in keys):
            out[name] = sum(change[k] for k in keys)
        else:
            out[name] = None
    return out
