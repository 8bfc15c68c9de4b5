"""Benchmark: one period of the pipeline's own work at 20, 330 or 3 321 units.

    python -m tests.bench.scale UNITS [--render] [--repeat N] [--keep DIR] [--archive ARCHIVE]

prints one JSON object. In a fresh process (so that the peak memory is this size's own):

1. `SyntheticCountry(UNITS)` and an archive of 24 earlier periods in a SQLite report
   database (every read with its grid and figures, a summary per period), written
   directly (setup, not measured), or `--archive`, the same already written (`write_archive`:
   `tests.bench.run` writes each size's once, for this and for `tests.bench.dag_e2e`);
2. measured, as the DAG's tasks run them: `collect_batch` over `plan_batches` (parse, the
   rules over each unit's own figures, the history rules against the archive, storing every
   read with its grid), then `summarise` (aggregation, outliers against 12 earlier periods,
   completeness over 7), each on the worksheets a source has just given (in memory: reading
   Google is measured apart, in requests). `--repeat N` times, each in a new process on its
   own copy of the archive: the times are the medians, with the fastest and the slowest
   (this machine's speed varies by a quarter from one minute to the next);
3. with `--render` (in the last of them): the outputs for that summary, measured one by one:
   the report document with its charts, the workbook with the annexes, the email (HTML and
   text) and the MIME message carrying them.

Wall time by `time.perf_counter`; peak memory is the process's peak resident set (VmHWM,
reset just before the step: it includes the interpreter, the libraries and the worksheets
in memory), the highest of the repetitions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from housing_report.aggregate.corrections import figures_hash
from housing_report.aggregate.summary import build_summary
from housing_report.archive.store import ReportStore, sqlite_url
from housing_report.core.models import UnitReport
from housing_report.core.statuses import ACCEPTED, REJECTED, STALE
from housing_report.core.summary import Summary
from housing_report.deliver.report import Mail
from housing_report.pipeline.report import collect_batch, plan_batches, summarise
from tests.bench import print_json
from tests.bench.synthetic import HISTORY_PERIODS, MemorySource, SyntheticCountry

_REPO = Path(__file__).resolve().parents[2]


def _status_kb(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def reset_peak(collect: bool = True) -> int:
    """Reset the peak resident set (Linux) and return the current one, in kB; the garbage
    collected first unless the caller just has (`collect=False`)."""
    if collect:
        gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return _status_kb("VmRSS")


def peak_kb() -> int:
    return _status_kb("VmHWM")


def build_archive(country: SyntheticCountry, store: ReportStore) -> None:
    """The 24 periods before the measured one, as the pipeline would have stored them."""
    config = country.config
    previous = None
    for index, period in enumerate(country.periods[:HISTORY_PERIODS]):
        run_id = f"scheduled__{period.isoformat()}T07:00:00+07:00"
        fetched = country.fetch_results(index)
        rows = []
        for i, unit in enumerate(config.units):
            result = fetched[unit.code]
            problem = country.problem(i, index)
            report = None
            if problem != "missing":
                status = {None: ACCEPTED, "stale": STALE, "rejected": REJECTED}[problem]
                figures = country.figures(unit, index) if status == ACCEPTED else {}
                found = country.periods[index - 1] if status == STALE else period
                report = UnitReport(unit.code, status, period_found=found, figures=figures)
            rows.append((result, report, unit.spreadsheet, unit.worksheet))
        store.save_reads(period, run_id, rows)
        codes = [u.code for u in config.units]
        reads = store.latest_reads(period, run_id, codes)
        unaccepted = [c for c in codes if c not in reads or reads[c].status != ACCEPTED]
        carry = store.last_accepted(period, run_id, unaccepted)
        summary = build_summary(config, period, run_id, reads, carry, previous)
        store.save_summary(
            period,
            run_id,
            summary,
            figures_hash=figures_hash(summary),
            max_read_id=0,
            previous_summary_id=None,
        )
        previous = summary


_WRITES = ("save_reads", "save_summary")
_READS = (
    "latest_reads",
    "last_accepted",
    "last_figures_before",
    "figures_history",
    "read_statuses",
    "previous_summary",
    "max_read_id",
)


def _time_database(store: ReportStore) -> dict[str, float]:
    """Wrap the store's methods the period's steps call, adding up the time spent in each kind
    (the queries with their decoding, the inserts with their encoding)."""
    spent = {"read": 0.0, "write": 0.0}

    def wrap(name: str, kind: str) -> None:
        method = getattr(store, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[kind] += time.perf_counter() - start

        setattr(store, name, timed)

    for name in _WRITES:
        wrap(name, "write")
    for name in _READS:
        wrap(name, "read")
    return spent


def _timed(fn, *args, **kwargs) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def write_archive(units: int, archive: Path) -> None:
    """The 24 earlier periods of `SyntheticCountry(units)` in a new SQLite report database."""
    store = ReportStore(sqlite_url(archive))
    store.ensure_schema()
    build_archive(SyntheticCountry(units), store)
    store.engine.dispose()  # the last connection closed: the write-ahead log is in the file


def run(
    units: int, render: bool, workdir: Path, repeat: int = 1, archive: Path | None = None
) -> dict[str, Any]:
    """Set up once, then measure the period `repeat` times, each in a process of its own on its
    own copy of the archive (as a task's process finds it): the figures are the medians, with
    the fastest and slowest beside them. The last one also renders, with `render`. `archive`:
    the size's archive already written (`write_archive`), else it is written in `workdir`."""
    start = time.perf_counter()
    if archive is None:
        archive = workdir / "archive.sqlite"
        write_archive(units, archive)
    setup = round(time.perf_counter() - start, 2)
    runs = []
    for i in range(repeat):
        command = [sys.executable, "-m", "tests.bench.scale", str(units), "--period-of", str(archive)]
        command += ["--workdir", str(workdir)]
        if render and i == repeat - 1:
            command.append("--render")
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=_REPO)
        if done.returncode != 0:
            raise RuntimeError(f"the measured period failed:\n{done.stderr[-3000:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    out: dict[str, Any] = {"units": units, "setup_seconds": setup, "repeat": repeat}
    out["archive_mb"] = round(archive.stat().st_size / 1e6, 1)
    for key in ("collect_seconds", "summarise_seconds", "period_seconds", "loop_seconds"):
        values = [r[key] for r in runs]
        out[key] = round(statistics.median(values), 3)
        out[key.replace("_seconds", "_range")] = [min(values), max(values)]
    out["runs"] = [[r["period_seconds"], r["loop_seconds"]] for r in runs]
    for key in ("archive_read_seconds", "archive_write_seconds", "baseline_mb"):
        out[key] = round(statistics.median(r[key] for r in runs), 3)
    out["period_peak_mb"] = max(r["period_peak_mb"] for r in runs)
    for key in ("fetch_tasks", "statuses", "houses", "warnings", "errors"):
        out[key] = runs[-1][key]
    if render:
        out.update(runs[-1]["render"])
    return out


def machine_loop() -> float:
    """Seconds of a fixed pure-Python loop: how fast this machine runs Python at the moment (a
    virtual machine's speed varies with its neighbours), to read each run's time against."""
    start = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i % 7
    return time.perf_counter() - start


def measure_period(units: int, archive: Path, render: bool, workdir: Path | None = None) -> dict[str, Any]:
    """One period over a copy of `archive` (the 24 periods before it) in `workdir` (by default
    beside it), in this process: the worksheets as a source hands them over, then the steps as
    the DAG's tasks run them."""
    logging.basicConfig(level=logging.INFO, stream=open(os.devnull, "w"), force=True)  # noqa: SIM115
    country = SyntheticCountry(units)
    source = MemorySource(country.fetch_results(HISTORY_PERIODS))
    # Warm the imports the tasks make lazily (pandas, the rule engine): a worker pays them once.
    from housing_report.aggregate import quality  # noqa: F401
    from housing_report.validate import outliers, rules  # noqa: F401

    workdir = workdir or archive.parent
    config = country.config
    database = workdir / "period.sqlite"
    for leftover in workdir.glob("period.sqlite*"):
        leftover.unlink()
    shutil.copyfile(archive, database)
    # The copy's hundreds of MB on their way to the disk would slow the period's own commits:
    # a task's archive is not a file written the moment before.
    os.sync()
    store = ReportStore(sqlite_url(database))
    period = country.period
    run_id = f"scheduled__{period.isoformat()}T07:00:00+07:00"
    batches = plan_batches(config)
    out: dict[str, Any] = {"fetch_tasks": len(batches)}
    spent = _time_database(store)
    out["baseline_mb"] = round(reset_peak() / 1024, 1)
    out["loop_seconds"] = round(machine_loop(), 3)
    counts: dict[str, int] = {}
    started = time.perf_counter()
    for batch in batches:
        for status, n in collect_batch(config, batch, period, run_id, source, store).items():
            counts[status] = counts.get(status, 0) + n
    collected = time.perf_counter()
    summary = summarise(config, period, run_id, store)
    done = time.perf_counter()
    out["collect_seconds"] = round(collected - started, 3)
    out["summarise_seconds"] = round(done - collected, 3)
    out["period_seconds"] = round(done - started, 3)
    out["period_peak_mb"] = round(peak_kb() / 1024, 1)
    out["archive_read_seconds"] = round(spent["read"], 3)
    out["archive_write_seconds"] = round(spent["write"], 3)
    out["statuses"] = counts
    out["houses"] = msgspec.to_builtins(summary.houses)
    out["warnings"] = sum(len(u.warnings) for u in summary.units)
    out["errors"] = sum(len(u.errors) for u in summary.units)
    if render:
        out["render"] = render_outputs(config, summary, store, workdir)
    return out


def render_outputs(config, summary: Summary, store: ReportStore, workdir: Path) -> dict[str, Any]:
    from housing_report.deliver.message import build_message
    from housing_report.render.email import render_email
    from housing_report.render.official import prepare
    from housing_report.render.workbook import write_summary_workbook

    folder = workdir / "outputs"
    folder.mkdir()
    reset_peak()
    t: dict[str, float] = {}
    start = time.perf_counter()
    earlier, t["history"] = _timed(store.history, dt.date.fromisoformat(summary.period))
    official, t["document"] = _timed(prepare, config, summary, earlier, folder)
    workbook = folder / "tong-hop.xlsx"
    _, t["workbook"] = _timed(
        write_summary_workbook, summary, config, workbook, annexes=official.add_annex_sheets
    )
    extra = official.email_view({name: f"cid:{name}@bench" for name in official.charts})
    rendered, t["email"] = _timed(render_email, summary, config, official=extra)
    mail = Mail("bench@localhost", config.report.to, config.report.cc)
    message, t["message"] = _timed(
        build_message,
        rendered,
        sender=mail.sender,
        to=list(mail.to),
        cc=list(mail.cc),
        attachments=[official.document, workbook],
        message_id_domain="localhost",
        inline_images={f"{name}@bench": path for name, path in official.charts.items()},
    )
    total = time.perf_counter() - start
    size = len(message.as_bytes())
    (folder / "email.html").write_text(rendered.html, encoding="utf-8")  # kept with --keep
    (folder / "email.txt").write_text(rendered.text, encoding="utf-8")
    return {
        "render_seconds": round(total, 3),
        "render_steps": {k: round(v, 3) for k, v in t.items()},
        "render_peak_mb": round(peak_kb() / 1024, 1),
        "document_kb": round(official.document.stat().st_size / 1024),
        "workbook_kb": round(workbook.stat().st_size / 1024),
        "email_html_kb": round(len(rendered.html.encode()) / 1024),
        "message_kb": round(size / 1024),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("units", type=int)
    parser.add_argument("--render", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="measure the period this many times")
    parser.add_argument("--keep", type=Path, help="keep the archive and outputs in this folder")
    parser.add_argument("--archive", type=Path, help="the size's archive, already written (not changed)")
    parser.add_argument("--period-of", type=Path, help=argparse.SUPPRESS)  # a repetition's process
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)  # where it copies the archive
    args = parser.parse_args(argv)
    if args.period_of:
        return print_json(measure_period(args.units, args.period_of, args.render, args.workdir))
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = run(args.units, args.render, args.keep, args.repeat, args.archive)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            result = run(args.units, args.render, Path(tmp), args.repeat, args.archive)
    return print_json(result)


if __name__ == "__main__":
    raise SystemExit(main())
