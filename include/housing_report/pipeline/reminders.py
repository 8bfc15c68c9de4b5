"""The steps of `submission_reminder`: which units have updated their sheet for the coming
period (`check_units`); the reminders themselves are sent by `deliver.reminders`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from housing_report.collect.base import ReportSource
from housing_report.config import Config, Unit
from housing_report.core.formatting import vn_date
from housing_report.core.statuses import FETCH_OK
from housing_report.validate.freshness import NOT_UPDATED, UPDATED, sheet_period

log = logging.getLogger(__name__)


def check_units(
    config: Config, unit_codes: Sequence[str], period: dt.date, source: ReportSource
) -> list[dict[str, Any]]:
    """For each unit: {code, state (updated | not_updated | missing | unreachable), found, reason}."""
    units: list[Unit] = [config.unit(code) for code in unit_codes]
    out = []
    for unit, result in zip(units, source.fetch(units), strict=True):
        found = None
        if result.status == FETCH_OK and result.grid is not None:
            found = sheet_period(result.grid, config.template)
            state = UPDATED if found == period else NOT_UPDATED
        else:
            state = result.status
        out.append(
            {
                "code": unit.code,
                "state": state,
                "found": found.isoformat() if found else None,
                "reason": result.reason,
            }
        )
        log.info(
            "Đơn vị %s (%s): %s%s", unit.code, unit.name, state, f", kỳ ghi {vn_date(found)}" if found else ""
        )
    return out
