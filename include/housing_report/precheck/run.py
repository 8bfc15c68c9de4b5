"""A pre-check of one period: which units to read, reading and validating them as the provincial
run does, storing each read, and writing each unit's feedback where it reads it.

Which units: only those whose spreadsheet changed since the unit's last read of the period, or
since its last feedback was written (writing `KiemTra` into a Google spreadsheet changes its
modified time too), whichever is later (`unchanged_reads`). Google: Drive's `modifiedTime` of
every spreadsheet in one `files.list` (`precheck.sheets.changed_since`); the local source: each
file's modified time. A unit never read in the period is read; so is every unit once report.yaml
or units.yaml changed after its read (its rules may have changed).

The collection day asks the same question (`unchanged_reads`): a sheet unchanged since its last
read of the period is not read again; the report stores that read again as its own
(`pipeline.report.collect_batch`, `reuse`).

A pre-check's reads are stored under the run id `precheck:<run id>` (`archive.reads`): like any
other read, but never what the report carries forward, compares with, or counts as the period's
first run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from housing_report.archive.reads import PRECHECK_RUN_PREFIX
from housing_report.archive.records import StoredRead
from housing_report.archive.store import ReportStore
from housing_report.collect.base import ReportSource
from housing_report.config import Config, Unit
from housing_report.core.formatting import vn_date
from housing_report.core.models import Finding
from housing_report.core.statuses import ACCEPTED, ERROR, MISSING, REJECTED, STALE, status_label
from housing_report.pipeline.report import validate_fetched
from housing_report.precheck.feedback import FeedbackNotWritable, FeedbackWriter, UnitFeedback

log = logging.getLogger(__name__)

# UnitFeedback.status
FB_ACCEPTED, FB_WARNING, FB_ERROR, FB_UNREADABLE = "accepted", "warning", "error", "unreadable"
# A read that holds the sheet's content (what may be stored again as a later run's read).
REUSABLE = (ACCEPTED, REJECTED, STALE)

# When each spreadsheet last changed: (spreadsheets, since) -> key -> modified time. A key left
# out is taken as unchanged since `since` (Drive's files.list answers only the changed ones).
SheetTimes = Callable[[Sequence[str], dt.datetime], Mapping[str, dt.datetime]]


def precheck_run_id(run_id: str) -> str:
    """The run id a pre-check's reads are stored under."""
    return f"{PRECHECK_RUN_PREFIX}{run_id}"


# -- which units to read


def sheet_times_for(source: ReportSource, *, counter: list[int] | None = None) -> SheetTimes:
    """How `source` tells when its spreadsheets changed. `counter`: one added per request made
    to Google (the benchmark counts them)."""
    from housing_report.collect.local import LocalWorkbookSource

    if isinstance(source, LocalWorkbookSource):

        def local_times(keys: Sequence[str], since: dt.datetime) -> dict[str, dt.datetime]:
            times = {}
            for key in keys:
                try:
                    mtime = source.path_for(key).stat().st_mtime
                except OSError:
                    times[key] = dt.datetime.max.replace(tzinfo=dt.UTC)  # gone: read, say missing
                    continue
                times[key] = dt.datetime.fromtimestamp(mtime, dt.UTC)
            return times

        return local_times

    def google_times(keys: Sequence[str], since: dt.datetime) -> Mapping[str, dt.datetime]:
        # One Drive files.list for all the keys (`precheck.sheets`). Drive not answering costs
        # the saving, never a read: every sheet is then taken as changed and read.
        from housing_report.precheck.sheets import ChangesUnknown, changed_since

        if counter is not None:
            counter[0] += 1
        try:
            return changed_since(source.client, list(keys), since)  # type: ignore[attr-defined]
        except ChangesUnknown as exc:
            log.warning("Không biết bảng tính nào đã đổi (%s): đọc lại mọi bảng tính", exc)
            return {key: dt.datetime.max.replace(tzinfo=dt.UTC) for key in keys}

    return google_times


def config_changed_at(config: Config) -> dt.datetime | None:
    """When report.yaml or units.yaml last changed (a read older than that may have other rules)."""
    times = []
    for name in ("report.yaml", "units.yaml"):
        try:
            times.append((Path(config.directory) / name).stat().st_mtime)
        except OSError:
            continue
    return dt.datetime.fromtimestamp(max(times), dt.UTC) if times else None


def unchanged_reads(
    config: Config,
    store: ReportStore,
    period: dt.date,
    units: Sequence[Unit],
    sheet_times: SheetTimes,
    *,
    checked_only: bool = False,
) -> dict[str, StoredRead]:
    """The units whose spreadsheet has not changed since their last read of `period` (or since
    the feedback written after it): unit code -> that read, to use instead of reading again.
    One call of `sheet_times` for all the spreadsheets (none when no unit was read yet).
    `checked_only`: only units a pre-check of the period has told their result already (the
    pre-check reads a unit the report read but never checked, to write its KiemTra)."""
    codes = [u.code for u in units]
    reads = store.last_period_reads(period, codes)
    # A worksheet missing from a spreadsheet that was read is content too (adding it changes the
    # spreadsheet); a spreadsheet missing or unreachable as a whole is always read again.
    opened = {r.spreadsheet for r in reads.values() if r.status in REUSABLE}
    reads = {
        c: r
        for c, r in reads.items()
        if r.status in REUSABLE or (r.status == MISSING and r.spreadsheet in opened)
    }
    checks = store.last_checks(period, codes)
    rules_changed = config_changed_at(config)
    baseline: dict[str, dt.datetime] = {}  # spreadsheet -> the earliest of its units' baselines
    blocked: set[str] = set()  # spreadsheets with a unit that must be read
    for unit in units:
        read = reads.get(unit.code)
        check = checks.get(unit.code)
        if read is None or read.spreadsheet != unit.spreadsheet or read.worksheet != unit.worksheet:
            blocked.add(unit.spreadsheet)
            continue
        if checked_only and check is None:
            blocked.add(unit.spreadsheet)
            continue
        since = read.read_at
        # The feedback written after the read (of this read, or of the one a report's run stored
        # again): the spreadsheet's change then was the system's own.
        if check is not None and check.checked_at > since:
            since = check.checked_at
        if rules_changed is not None and rules_changed >= read.read_at:
            blocked.add(unit.spreadsheet)
            continue
        current = baseline.get(unit.spreadsheet)
        baseline[unit.spreadsheet] = since if current is None else min(current, since)
    candidates = {k: t for k, t in baseline.items() if k not in blocked}
    if not candidates:
        return {}
    changed = sheet_times(sorted(candidates), min(candidates.values()))
    same = {k for k, since in candidates.items() if k not in changed or changed[k] <= since}
    return {u.code: reads[u.code] for u in units if u.spreadsheet in same}


# -- what a unit is told


def unit_feedback(
    unit: Unit,
    status: str,
    findings: Sequence[Finding],
    reason: str,
    period: dt.date,
    checked_at: dt.datetime,
) -> UnitFeedback:
    """A unit's feedback from its read's status and findings (`reason`: why it was not read)."""
    errors = sum(1 for f in findings if f.severity == ERROR)
    warnings = len(findings) - errors
    if status == ACCEPTED and not findings:
        kind, text = FB_ACCEPTED, "Đạt: không có lỗi, không có điểm cần kiểm tra lại (Đã tiếp nhận)"
    elif status == ACCEPTED:
        kind, text = FB_WARNING, f"Đạt, có {warnings} điểm cần kiểm tra lại"
    elif status == REJECTED:
        kind = FB_ERROR
        text = f"Chưa đạt: có {errors} lỗi cần sửa trước ngày {vn_date(period)}"
        if warnings:
            text += f" và {warnings} điểm cần kiểm tra lại"
    elif status == STALE:
        kind, text = FB_ERROR, f"Chưa cập nhật cho kỳ báo cáo {vn_date(period)}"
    else:
        kind, text = FB_UNREADABLE, f"{status_label(status)}: {reason}" if reason else status_label(status)
    return UnitFeedback(
        unit_code=unit.code,
        unit_name=unit.name,
        spreadsheet=unit.spreadsheet,
        worksheet=unit.worksheet,
        status=kind,
        status_text=text,
        checked_at=checked_at,
        period=period.isoformat(),
        findings=tuple(findings),
    )


def findings_hash(status: str, findings: Iterable[Finding | dict[str, str]]) -> str:
    """The signature of what a unit is told: its status and each finding's severity, cell and text."""
    items = [
        [f["severity"], f["cell"], f["message"]] if isinstance(f, dict) else [f.severity, f.cell, f.message]
        for f in findings
    ]
    payload = json.dumps([str(status), items], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def stored_findings(read: StoredRead) -> list[Finding]:
    return [Finding(f["severity"], f["cell"], f.get("code", ""), f["message"]) for f in read.findings]


# -- the check


@dataclass
class CheckOutcome:
    """What a pre-check of a batch did (small JSON for XCom)."""

    period: str
    read: list[str] = field(default_factory=list)  # unit codes read and checked
    unchanged: list[str] = field(default_factory=list)  # not read: unchanged since last time
    written: dict[str, str] = field(default_factory=dict)  # unit code -> where its feedback went
    unwritable: dict[str, str] = field(default_factory=dict)  # unit code -> why not
    statuses: dict[str, str] = field(default_factory=dict)  # unit code -> UnitFeedback.status

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "read": self.read,
            "unchanged": self.unchanged,
            "written": self.written,
            "unwritable": self.unwritable,
            "statuses": self.statuses,
        }


def check_units(
    config: Config,
    store: ReportStore,
    source: ReportSource,
    writer: FeedbackWriter,
    period: dt.date,
    run_id: str,
    unit_codes: Sequence[str],
    *,
    unchanged: Iterable[str] = (),
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> CheckOutcome:
    """Read `unit_codes` (those `unchanged` are left as they are), validate them with the
    provincial run's rules, store each read, write each unit's feedback and log the check."""
    outcome = CheckOutcome(period.isoformat())
    skip = set(unchanged)
    units = [config.unit(c) for c in unit_codes if c not in skip]
    outcome.unchanged = [c for c in unit_codes if c in skip]
    if not units:
        return outcome
    stored_run = precheck_run_id(run_id)
    fetched = source.fetch(units)
    checked = validate_fetched(config, units, fetched, period, store)
    store.save_reads(period, stored_run, [(r, rep, u.spreadsheet, u.worksheet) for u, r, rep in checked])
    reads = store.latest_reads(period, stored_run, [u.code for u in units])
    for unit, result, report in checked:
        status = report.status if report else result.status
        findings = list(report.findings) if report else []
        feedback = unit_feedback(unit, status, findings, result.reason, period, now())
        try:
            where = writer.write(feedback)
        except FeedbackNotWritable as exc:
            where = ""
            outcome.unwritable[unit.code] = str(exc) or type(exc).__name__
            log.warning("Không ghi được kết quả kiểm tra vào bảng tính của %s: %s", unit.code, exc)
        else:
            outcome.written[unit.code] = where
        read = reads.get(unit.code)
        store.save_check(
            period=period,
            run_id=stored_run,
            unit_code=unit.code,
            spreadsheet=unit.spreadsheet,
            read_id=read.id if read else None,
            status=status,
            findings_hash=findings_hash(status, findings),
            checked_at=now(),  # after the write: the spreadsheet's own change is not the unit's
            written_to=where,
        )
        outcome.read.append(unit.code)
        outcome.statuses[unit.code] = feedback.status
    return outcome


def plan_check_batches(
    config: Config,
    store: ReportStore,
    period: dt.date,
    sheet_times: SheetTimes,
    max_tasks: int,
) -> tuple[list[list[str]], list[str]]:
    """The batches of units to read (units.yaml's order, whole spreadsheets, at most `max_tasks`),
    and the units left unread because their sheet has not changed since their last check."""
    from housing_report.pipeline.report import plan_batches

    same = unchanged_reads(config, store, period, config.units, sheet_times, checked_only=True)
    batches = [[c for c in batch if c not in same] for batch in plan_batches(config, max_tasks)]
    return [b for b in batches if b], [u.code for u in config.units if u.code in same]


__all__ = [
    "FB_ACCEPTED",
    "FB_ERROR",
    "FB_UNREADABLE",
    "FB_WARNING",
    "CheckOutcome",
    "check_units",
    "findings_hash",
    "plan_check_batches",
    "precheck_run_id",
    "sheet_times_for",
    "unchanged_reads",
    "unit_feedback",
]
