"""The rules that compare a unit with its last accepted figures of an earlier period (`last.`),
and the figures many times their last accepted value (`outliers.jump`, `validate.outliers.find_jumps`).

They run right after a batch of sheets is parsed, across the batch at once. The caller reads
the earlier figures from the archive for the units `compared_units` names, and hands them to
`apply_history_rules`: this stage reads no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from housing_report.config import Config
from housing_report.core.models import UnitReport
from housing_report.core.statuses import ACCEPTED, ERROR, REJECTED
from housing_report.validate.outliers import find_jumps
from housing_report.validate.rules import check_history


def compared_units(config: Config, reports: Mapping[str, UnitReport]) -> list[str]:
    """The units whose last accepted figures the history checks need: the accepted reports with
    figures, when report.yaml has a rule with `last.` or checks jumps (else none)."""
    if not config.report.outliers.jump and not any(r.history for r in config.report.rules):
        return []
    return [code for code, r in reports.items() if r.status == ACCEPTED and r.figures]


def apply_history_rules(
    config: Config,
    reports: Mapping[str, UnitReport],
    last: Mapping[str, tuple[dt.date, dict[str, Any]]],
) -> None:
    """Add the findings of the rules comparing with each unit's last accepted figures (`last`:
    unit code -> (its period, its figures)) to the accepted reports, in place; an `error`
    among them rejects the unit."""
    accepted = {code: reports[code] for code in compared_units(config, reports)}
    if not accepted:
        return
    figures = {code: r.figures for code, r in accepted.items()}
    cells = {code: r.cells for code, r in accepted.items()}
    units = {u.code: u for u in config.units}
    hits = check_history(figures, last, cells, units, config.template, config.report.rules)
    hits += find_jumps(config.report.outliers, config.template, units, figures, last, cells)
    for hit in hits:
        report = accepted[hit.unit_code]
        report.findings.append(hit.finding)
        if hit.finding.severity == ERROR:
            report.status = REJECTED
            report.figures = {}
