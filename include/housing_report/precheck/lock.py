"""After the deadline: a unit's report locked in its own spreadsheet (`precheck.protect_after_deadline`).

Once the provincial run has read a unit's worksheet on the collection day, the worksheet's value
columns (C to the template's last, every row: figures, lists, dates) are protected so that only
the service account may edit them (`precheck.sheets.protect_values`, description
`lock_description(period)`). An admin lets a unit correct its sheet after that by naming it in
the run's `unlocked_units` Param: its lock is lifted (or never set) and what it changes goes into
a correction as any late change does. The lock is lifted for good by the unit's first pre-check
of the next period (`stale_lock_requests`, inside the feedback's own `batchUpdate`): the unit
fills the new period as usual. A spreadsheet's owner can always edit a protected range
(Google's rule); the lock stops the editors the units share their sheets with.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from housing_report.collect.base import ReadBounds
from housing_report.config import Config, Unit
from housing_report.precheck.feedback import FeedbackNotWritable
from housing_report.precheck.sheet_requests import LOCK_PREFIX, lock_description, stale_lock_requests
from housing_report.precheck.sheets import protect_values, unprotect_values

log = logging.getLogger(__name__)

FIRST_VALUE_COLUMN = 2  # C: column A holds the codes, B the labels


def value_columns(config: Config) -> str:
    """The worksheet's value columns in A1 ("C:H"): C to the last column a source reads."""
    last = max(ReadBounds.for_template(config.template).columns, FIRST_VALUE_COLUMN + 1) - 1
    return f"{_letters(FIRST_VALUE_COLUMN)}:{_letters(last)}"


def _letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def lock_after_deadline(
    config: Config,
    client: Any,
    units: Sequence[Unit],
    period: dt.date,
    unlocked: Iterable[str] = (),
) -> dict[str, str]:
    """Lock the value columns of `units`' worksheets for `period`, but for the units `unlocked`
    (their lock lifted if set). Returns, by unit code, what was done (Vietnamese, for the log):
    one unit's spreadsheet refusing never stops the others."""
    free = set(unlocked)
    description = lock_description(period)
    columns = value_columns(config)
    done: dict[str, str] = {}
    for unit in units:
        try:
            if unit.code in free:
                removed = unprotect_values(
                    client, unit.spreadsheet, description, unit.worksheet, unit_name=unit.name
                )
                done[unit.code] = "mở khóa theo yêu cầu của quản trị" if removed else "không khóa (được mở)"
            else:
                protect_values(
                    client, unit.spreadsheet, unit.worksheet, [columns], description, unit_name=unit.name
                )
                done[unit.code] = f"đã khóa cột {columns} của trang {unit.worksheet}"
        except FeedbackNotWritable as exc:
            done[unit.code] = f"không khóa được: {exc}"
        except Exception as exc:  # noqa: BLE001 - the lock is a courtesy: the read stands
            done[unit.code] = f"không khóa được ({type(exc).__name__}: {exc})"
        log.info("Khóa sau hạn, %s (%s): %s", unit.code, unit.name, done[unit.code])
    return done


__all__ = ["LOCK_PREFIX", "lock_after_deadline", "lock_description", "stale_lock_requests", "value_columns"]
