"""Aggregate the units' reads of one period into the provincial summary.

Pure function over plain data: `build_summary` takes the config, this run's reads,
the units' last accepted reads (for carry-forward), the previous period's summary and
what was found across units (outliers, reporting rates), and returns the typed summary
(`core.summary.Summary`) that becomes `summary.json`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from msgspec import UNSET, UnsetType

from housing_report.archive.records import StoredRead
from housing_report.config import Config
from housing_report.core.formatting import vn_date
from housing_report.core.models import TOTAL_ROW, Finding
from housing_report.core.statuses import (
    ACCEPTED,
    ERROR,
    STATUS_LABELS,
    STATUS_OF,
    STATUSES,
    UNREACHABLE,
    WARNING,
)
from housing_report.core.summary import (
    SCHEMA,
    Completeness,
    District,
    FindingEntry,
    Houses,
    ListEntry,
    Previous,
    Programme,
    Summary,
    UnitEntry,
)


def _round(value: float, money: bool) -> int | float:
    return round(float(value), 3) if money else int(round(float(value)))


def _rounded(figures: Mapping[str, Any], types: Mapping[str, bool]) -> dict[str, int | float]:
    """`_round` over a unit's figures; a count that is an int already (as read) is kept as it is."""
    return {k: v if v.__class__ is int and not types[k] else _round(v, types[k]) for k, v in figures.items()}


def figure_types(config: Config) -> dict[str, bool]:
    """Every figure key of the template (with table totals), mapped to 'is money'."""
    out: dict[str, bool] = {}
    for section in config.template.sections:
        money = section.value == "money"
        if section.kind == "table":
            for row in [*(r.code for r in section.rows), TOTAL_ROW]:
                for col in section.columns:
                    out[f"{section.code}.{row}.{col.code}"] = money
        elif section.kind == "fields":
            for f in section.fields:
                if f.value in ("count", "money"):
                    out[f.code] = f.value == "money"
    return out


def _with_table_totals(config: Config, values: Mapping[str, float]) -> dict[str, float]:
    """Add `<table>.TONG.<col>` sums to a flat figure mapping."""
    out = dict(values)
    for section in config.template.sections:
        if section.kind != "table":
            continue
        for col in section.columns:
            out[f"{section.code}.{TOTAL_ROW}.{col.code}"] = sum(
                float(values.get(f"{section.code}.{r.code}.{col.code}", 0) or 0) for r in section.rows
            )
    return out


def _apart(config: Config, base_keys: Sequence[str]) -> tuple[list[str], set[str]]:
    """The figure keys and the units whose money `funds_apart` keeps out of the totals (none when
    it is added in, or the template has no such table or kinds)."""
    rule = config.report.funds_apart
    if rule.counted != "apart":
        return [], set()
    keys = [k for k in base_keys if k.split(".")[0] == rule.section and k.count(".") == 2]
    units = {u.code for u in config.units if u.kind in rule.kinds}
    return (keys, units) if keys and units else ([], set())


class _Progress:
    """Houses needed, started and completed from a unit's (or the totals') figures: the keys
    of each worked out once, not once per unit."""

    def __init__(self, config: Config):
        p = config.report.progress
        section = config.template.section(p.table)

        def keys(cols: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(f"{p.table}.{r.code}.{c}" for r in section.rows for c in cols)

        self.needed, self.started, self.completed = keys(p.needed), keys(p.started), keys(p.completed)
        # The column codes a finding about a unit's progress names.
        self.columns = frozenset((*p.needed, *p.started, *p.completed))

    def __call__(self, figures: Mapping[str, Any]) -> Houses:
        get = figures.get

        def total(keys: tuple[str, ...]) -> int:
            return int(sum(float(get(k, 0) or 0) for k in keys))

        return Houses(needed=total(self.needed), started=total(self.started), completed=total(self.completed))


def percent(done: float, of: float) -> float | None:
    return round(100.0 * done / of, 2) if of else None


def _finding_entries(findings: Sequence[Mapping[str, str]], severity: str) -> list[FindingEntry]:
    return [
        FindingEntry(cell=f["cell"], code=f["code"], message=f["message"])
        for f in findings
        if f.get("severity") == severity
    ]


def build_summary(
    config: Config,
    period: dt.date,
    run_id: str,
    reads: Mapping[str, StoredRead],
    last_accepted: Mapping[str, StoredRead],
    previous: Summary | None,
    generated_at: dt.datetime | None = None,
    *,
    findings: Mapping[str, Sequence[Finding]] | None = None,
    completeness: Completeness | UnsetType = UNSET,
) -> Summary:
    """The summary of `period` (see the module's docstring). `findings`: those made at
    aggregation (outliers among peers), by unit code, added to the units' errors or warnings
    after those of their reads; `completeness`: the reporting rates (`aggregate.quality`)."""
    template = config.template
    cumulative = template.cumulative_keys()
    types = figure_types(config)
    extra = findings or {}
    units_out: list[UnitEntry] = []
    by_unit: dict[str, dict[str, int | float]] = {}
    lists: dict[str, list[ListEntry]] = {s.code: [] for s in template.sections if s.kind == "list"}

    for unit in config.units:
        read = reads.get(unit.code)
        status = STATUS_OF[read.status] if read else UNREACHABLE
        reason = read.reason if read else "Không có kết quả đọc trang tính trong lần chạy này."
        read_findings = read.findings if read else []
        used_keys = template.used_figure_keys(unit.kind)
        carried_from: str | None = None
        if status == ACCEPTED and read is not None:
            figures = {k: read.figures[k] for k in used_keys if k in read.figures}
            for code, entries in read.lists.items():
                for entry in entries:
                    lists.setdefault(code, []).append(
                        ListEntry(
                            unit_code=unit.code,
                            unit_name=unit.name,
                            text=entry["text"],
                            cell=entry.get("cell", UNSET),
                            place=entry.get("place", UNSET),
                        )
                    )
        else:
            earlier = last_accepted.get(unit.code)
            figures = {}
            if earlier is not None:
                figures = {
                    k: earlier.figures[k] for k in used_keys if k in cumulative and k in earlier.figures
                }
                if figures:
                    carried_from = earlier.period.isoformat()
        by_unit[unit.code] = figures
        errors, warnings = _finding_entries(read_findings, ERROR), _finding_entries(read_findings, WARNING)
        # One finding per cell: where the read's own checks already point at a cell, an outlier
        # among peers for the same cell would say the same thing twice.
        seen = {entry.cell for entry in (*errors, *warnings)}
        for finding in extra.get(unit.code, ()):
            if finding.cell in seen:
                continue
            (errors if finding.severity == ERROR else warnings).append(
                FindingEntry(cell=finding.cell, code=finding.code, message=finding.message)
            )
        units_out.append(
            UnitEntry(
                code=unit.code,
                name=unit.name,
                kind=unit.kind,
                status=status,
                status_label=STATUS_LABELS[status],
                errors=errors,
                warnings=warnings,
                carried_forward_from=carried_from,
                reason=reason,
                spreadsheet=unit.spreadsheet,
                worksheet=unit.worksheet,
                read_at=read.read_at.isoformat() if read and read.read_at else None,
            )
        )

    # Sum the figures used: one row per unit, one column per figure key.
    base_keys = [k for k in types if f".{TOTAL_ROW}." not in k]
    frame = pd.DataFrame.from_dict(by_unit, orient="index").reindex(columns=base_keys)
    sums = frame.sum(axis=0, skipna=True, min_count=0).to_dict() if len(frame) else {}
    apart_keys, apart_units = _apart(config, base_keys)
    apart: dict[str, int | float] = {}
    held = frame.index.isin(list(apart_units)) if apart_keys and len(frame) else None
    if held is not None and held.any():
        # The organisations' money of that table: beside the totals, not in them.
        sums.update(frame.loc[~held, apart_keys].sum(axis=0, skipna=True, min_count=0).to_dict())
        apart_sums = frame.loc[held, apart_keys].sum(axis=0, skipna=True, min_count=0).to_dict()
        section = config.report.funds_apart.section
        apart_raw = _with_table_totals(config, {k: apart_sums.get(k, 0.0) for k in base_keys})
        apart = {
            k: _round(apart_raw[k], types[k])
            for k in types
            if k.split(".")[0] == section and apart_raw.get(k)
        }
    totals_raw = _with_table_totals(config, {k: sums.get(k, 0.0) for k in base_keys})
    totals = {k: _round(totals_raw.get(k, 0.0), types[k]) for k in types}

    progress = _Progress(config)
    houses = progress(totals)
    completion = percent(houses.completed, houses.needed)

    prev_by_unit: Mapping[str, Any] = previous.by_unit if previous is not None else {}
    entries = {u.code: u for u in units_out}
    progress_table = config.report.progress.table
    districts = []
    for unit in config.units:
        kind = template.kinds[unit.kind]
        if not any(r.section == progress_table for r in kind.required):
            continue
        figures = by_unit[unit.code]
        p = progress(figures)
        prev_figures = prev_by_unit.get(unit.code)
        prev_completed = progress(prev_figures).completed if prev_figures else None
        entry = entries[unit.code]
        districts.append(
            District(
                code=unit.code,
                name=unit.name,
                status=entry.status,
                carried_forward_from=entry.carried_forward_from,
                needed=p.needed,
                started=p.started,
                completed=p.completed,
                percent=percent(p.completed, p.needed),
                previous_completed=prev_completed,
                change=(
                    p.completed - prev_completed
                    if prev_completed is not None and entry.carried_forward_from is None
                    else None
                ),
                # Its own figures, used with a warning on one of them (a carried-forward unit's
                # errors concern figures that are not used).
                flagged=entry.carried_forward_from is None
                and entry.status == ACCEPTED
                and any(f.code in progress.columns for f in entry.warnings),
            )
        )

    change: dict[str, int | float] = {}
    previous_out = None
    if previous is not None:
        prev_totals = previous.totals
        for key, money in types.items():
            is_cumulative = (
                template.section(key.split(".")[0]).cumulative if "." in key else key in cumulative
            )
            if is_cumulative and key in prev_totals:
                change[key] = _round(totals[key] - float(prev_totals[key]), money)
        previous_out = Previous(
            period=previous.period,
            completion_percent=previous.completion_percent,
            houses=previous.houses,
            totals=prev_totals,
        )

    counts = {s: 0 for s in STATUSES}
    for u in units_out:
        counts[u.status] += 1

    by_unit_out = {code: _rounded(figures, types) for code, figures in by_unit.items()}
    return Summary(
        schema=SCHEMA,
        period=period.isoformat(),
        period_label=vn_date(period),
        previous_period=previous.period if previous is not None else None,
        generated_at=(generated_at or dt.datetime.now(dt.UTC)).isoformat(),
        run_id=run_id,
        programme=Programme(
            title=config.report.programme.title,
            target_date=config.report.programme.target_date.isoformat(),
        ),
        units=units_out,
        status_counts=counts,
        totals=totals,
        by_unit=by_unit_out,
        completion_percent=completion,
        houses=houses,
        districts=districts,
        previous=previous_out,
        change=change,
        lists=lists,
        apart=apart,
        completeness=completeness,
    )
