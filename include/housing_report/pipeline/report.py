"""The steps of the provincial report, as plain functions the DAG's tasks call.

Each step takes plain values (period, run id, unit codes) and the objects it works
with (config, source, store), and returns small JSON-able results: tasks may run on
different workers and hand each other data only through these results (XCom) and
the report database.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec

from housing_report.aggregate.corrections import figures_hash
from housing_report.aggregate.quality import completeness, outlier_findings
from housing_report.aggregate.summary import build_summary
from housing_report.archive.store import ReportStore
from housing_report.collect.base import ReportSource
from housing_report.config import Config, Unit
from housing_report.core.findings import cap_findings
from housing_report.core.models import FetchResult, UnitReport
from housing_report.core.runtime import gc_paused
from housing_report.core.statuses import ACCEPTED, ERROR, FETCH_OK, STATUSES, status_label
from housing_report.core.summary import Summary
from housing_report.validate.history import apply_history_rules, compared_units
from housing_report.validate.parse import parse_reports

log = logging.getLogger(__name__)

DEFAULT_MAX_FETCH_TASKS = 16


def plan_batches(config: Config, max_tasks: int = DEFAULT_MAX_FETCH_TASKS) -> list[list[str]]:
    """Group units by spreadsheet, then cut the groups, in units.yaml order, into at most
    `max_tasks` batches of as many spreadsheets each (give or take one).

    A spreadsheet is never split across batches (it is read in two requests, whatever its
    worksheets: the cost of a batch); the number of mapped fetch tasks stays bounded whatever
    the number of units. Consecutive units go together: a batch's reads then land side by side
    in the database's per-unit index, not on every page of it (at national scale, a quarter
    of the pages written).
    """
    groups: dict[str, list[str]] = {}
    for unit in config.units:
        groups.setdefault(unit.spreadsheet, []).append(unit.code)
    n = max(1, min(max_tasks, len(groups)))
    batches: list[list[str]] = [[] for _ in range(n)]
    for i, codes in enumerate(groups.values()):
        batches[i * n // len(groups)].extend(codes)
    order = {u.code: i for i, u in enumerate(config.units)}
    return [sorted(b, key=order.__getitem__) for b in batches if b]


def collect_batch(
    config: Config,
    unit_codes: Sequence[str],
    period: dt.date,
    run_id: str,
    source: ReportSource,
    store: ReportStore,
    reuse: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Read, parse and validate a batch of units; store every read. Returns counts by status.

    `reuse`: unit code -> the id of a read of this period to store again as this run's, not
    read again (its spreadsheet is unchanged since: `precheck.run.unchanged_reads`)."""
    asked = set(unit_codes)
    reuse = {code: read_id for code, read_id in (reuse or {}).items() if code in asked}
    units: list[Unit] = [config.unit(code) for code in unit_codes if code not in reuse]
    counts = {s: 0 for s in STATUSES}
    if reuse:
        store.reuse_reads(run_id, list(reuse.values()))
        for read in store.latest_reads(period, run_id, list(reuse)).values():
            counts[read.status] += 1
        log.info(
            "Không đọc lại %d đơn vị có bảng tính không đổi từ lần đọc trước: %s",
            len(reuse),
            ", ".join(reuse),
        )
    if not units:
        return counts
    fetched = source.fetch(units)
    with gc_paused():
        checked = validate_fetched(config, units, fetched, period, store)
        store.save_reads(
            period, run_id, [(result, report, u.spreadsheet, u.worksheet) for u, result, report in checked]
        )
    for _, result, report in checked:
        counts[report.status if report else result.status] += 1
    return counts


def validate_fetched(
    config: Config, units: Sequence[Unit], fetched: Sequence[FetchResult], period: dt.date, store: ReportStore
) -> list[tuple[Unit, FetchResult, UnitReport | None]]:
    """Parse and validate what a source gave (the provincial run's rules, all of them): each unit
    with its fetch result and its report (None when nothing could be read). Logs the results."""
    readable = [
        (result.grid, unit)
        for unit, result in zip(units, fetched, strict=True)
        if result.status == FETCH_OK and result.grid is not None
    ]
    parsed = parse_reports(readable, config.template, config.report.rules, period)
    reports: dict[str, UnitReport] = {
        unit.code: report for (_, unit), report in zip(readable, parsed, strict=True)
    }
    # Rules comparing with each unit's last accepted figures: across the batch at once.
    compared = compared_units(config, reports)
    if compared:
        apply_history_rules(config, reports, store.last_figures_before(period, compared))
    out: list[tuple[Unit, FetchResult, UnitReport | None]] = []
    lines: list[str] = []
    for unit, result in zip(units, fetched, strict=True):
        report = reports.get(unit.code)
        if report is not None:  # grouped by kind and capped before they are logged and stored
            report.findings = cap_findings(report.findings, unit.name)
        status = report.status if report else result.status
        out.append((unit, result, report))
        if report is None:
            log.warning("Đơn vị %s (%s): %s. %s", unit.code, unit.name, status_label(status), result.reason)
        elif log.isEnabledFor(logging.INFO):
            lines += _unit_lines(unit, status, report)
    if lines:
        # One record for the batch, a line per unit and per finding: the same lines in the task
        # log, without a logging call for each (thousands at national scale).
        log.info("Kết quả đọc %d đơn vị:\n%s", len(units), "\n".join(lines))
    return out


def _unit_lines(unit: Unit, status: str, report: UnitReport) -> list[str]:
    errors = sum(1 for f in report.findings if f.severity == ERROR)
    warnings = len(report.findings) - errors
    lines = [f"Đơn vị {unit.code} ({unit.name}): {status_label(status)}, {errors} lỗi, {warnings} cảnh báo"]
    lines += [f"  [{f.severity}] {f.message}" for f in report.findings]
    return lines


def summarise(config: Config, period: dt.date, run_id: str, store: ReportStore) -> Summary:
    """Aggregate this run's reads into the provincial summary; store it as the period's next
    version, and return it with that version."""
    max_read_id = store.max_read_id()
    with gc_paused():
        previous = store.previous_summary(period)
        summary = _build(config, period, run_id, store, max_read_id, previous.summary if previous else None)
        version = store.save_summary(
            period,
            run_id,
            summary,
            figures_hash=figures_hash(summary),
            max_read_id=max_read_id,
            previous_summary_id=previous.id if previous else None,
        )
    return msgspec.structs.replace(summary, version=version)


def _build(
    config: Config,
    period: dt.date,
    run_id: str,
    store: ReportStore,
    max_read_id: int,
    previous: Summary | None,
    generated_at: dt.datetime | None = None,
) -> Summary:
    codes = [u.code for u in config.units]
    reads = store.latest_reads(period, run_id, codes, max_read_id)
    # Figures carried forward: only for the units without an accepted read in this run.
    unaccepted = [c for c in codes if c not in reads or reads[c].status != ACCEPTED]
    carry = store.last_accepted(period, run_id, unaccepted, max_read_id)
    return build_summary(
        config,
        period,
        run_id,
        reads,
        carry,
        previous,
        generated_at,
        # Data quality across units and periods (issue 5): outliers among peers, reporting rates.
        findings=outlier_findings(config, period, reads, store, max_read_id),
        completeness=completeness(config, period, store, max_read_id),
    )


def replay(config: Config, period: dt.date, store: ReportStore, version: int | None = None) -> Summary:
    """Rebuild an archived version of a period's summary from the archive alone (no source is read).

    Uses the reads of that version's run and what it was built from (the reads that existed
    then, the previous period's summary it compared with), so the result equals the original
    apart from `generated_at`.
    """
    original = store.summary_version(period, version)
    if original is None:
        which = f"phiên bản {version}" if version else "phiên bản nào"
        raise LookupError(f"Kho lưu trữ không có {which} của kỳ {period:%d/%m/%Y} để dựng lại.")
    previous = store.summary_by_id(original.previous_summary_id) if original.previous_summary_id else None
    summary = _build(
        config, period, original.run_id, store, original.max_read_id, previous.summary if previous else None
    )
    return msgspec.structs.replace(summary, version=original.version)


def period_folder(output_dir: Path, period: dt.date) -> Path:
    return Path(output_dir) / period.isoformat()
