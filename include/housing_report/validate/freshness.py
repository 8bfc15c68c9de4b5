"""Has a unit updated its sheet for a period? The period its `KY_BAO_CAO` cell names.

Read without the whole parse (the reminders ask it of every unit, two days before a
collection day): a sheet names the coming period (`UPDATED`) or another (`NOT_UPDATED`).
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from housing_report.config import Template
from housing_report.core.models import Grid
from housing_report.validate.values import read_date

UPDATED, NOT_UPDATED = "updated", "not_updated"


def sheet_period(grid: Grid, template: Template) -> dt.date | None:
    """The date in the `KY_BAO_CAO` row's value cell, or None (no such row, not a date)."""
    code = next(
        (f.code for s in template.sections if s.kind == "fields" for f in s.fields if f.value == "period"),
        "KY_BAO_CAO",
    )
    for cells in grid.rows:
        if not cells or cells[0] is None:
            continue
        if unicodedata.normalize("NFC", str(cells[0])).strip().upper() == code:
            day, problem = read_date(cells[2] if len(cells) > 2 else None)
            return None if problem else day
    return None
