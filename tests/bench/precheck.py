"""Benchmark of the units' pre-check (issue 21): requests per pre-check run, and a simulation.

    python -m tests.bench.precheck [--units 60] [--respond 0.4] [--json]     (or: make bench)

1. Requests per run, Google source against the loopback Sheets server (FakeGoogle), the 20
   sample units in their 15 spreadsheets: the first check of a period (every sheet read), the
   next one with nothing changed, and one after a unit changed its sheet. The goal: unchanged
   sheets cost at most one request per run in all (Drive's `files.list`, `precheck.sheets.changed_since`).
2. A simulation: N synthetic units (`tests.bench.synthetic`), each with one to three errors in
   its sheet at the first check (the 8th), checked at 07:00 and 14:00 up to the collection day;
   after each check a unit reads its result with probability `respond` and fixes the cells the
   check named (and only those). Counted: the units accepted on the collection day, against
   today's way (feedback by email after collection: the errors are still there on the day),
   the sheets read per check (only the changed ones), and the emails sent (only on change).
   The real pipeline runs: `check_units` (parse, the provincial rules, the archive on SQLite),
   `send_messages` (the ledger, to an outbox), and the collection-day validation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from housing_report.archive.store import ReportStore, sqlite_url
from housing_report.core.models import FetchResult, Grid
from housing_report.core.statuses import ACCEPTED, ERROR, FETCH_OK

CHECK_HOURS = (7, 14)


# -- 1. requests per pre-check run


def requests_per_run() -> dict[str, Any]:
    """Requests to Google for three pre-checks of the 20 sample units (15 spreadsheets)."""
    from housing_report.collect.google import GoogleSheetsSource
    from housing_report.collect.google_client import make_client
    from housing_report.config import load_config
    from housing_report.precheck.run import check_units, plan_check_batches, sheet_times_for
    from tests.google_api.server import FakeGoogle

    samples = Path(__file__).resolve().parents[2] / "include" / "sample_data" / "2025-03-12"
    config = load_config()
    period = dt.date(2025, 3, 12)
    from housing_report.precheck.sheets import SheetsFeedbackWriter

    out: dict[str, Any] = {
        "units": len(config.units),
        "spreadsheets": len({u.spreadsheet for u in config.units}),
    }
    with FakeGoogle() as google, tempfile.TemporaryDirectory() as tmp:
        google.add_workbook_folder(samples)
        client = make_client(google.service_account_key(), api_base_url=google.base_url, timeout=30)
        source = GoogleSheetsSource(client)
        store = ReportStore(sqlite_url(Path(tmp) / "r.sqlite"))
        store.ensure_schema()
        counter = [0]
        # Drive's files.list (`changed_since`) against the loopback server, and the KiemTra
        # writes (a get and one batchUpdate per spreadsheet), all counted at the server.
        sheet_times = sheet_times_for(source, counter=counter)
        writer = SheetsFeedbackWriter(client)
        runs = []
        for label, change in (
            ("lần kiểm tra đầu tiên của kỳ", None),
            ("không bảng tính nào đổi", None),
            ("một bảng tính đổi", "st-949-thanh-tri"),
        ):
            if change:
                google.edit(change, "BaoCao", "G15", 12)  # the unit fixes its cell: modifiedTime moves
            google.reset_log()
            counter[0] = 0
            batches, unchanged = plan_check_batches(config, store, period, sheet_times, 4)
            for batch in batches:
                check_units(config, store, source, writer, period, f"bench-{len(runs)}", batch)
            runs.append(
                {
                    "run": label,
                    "read": sum(len(b) for b in batches),
                    "unchanged": len(unchanged),
                    "requests": len(google.api_requests()),
                    "drive_list": counter[0],
                }
            )
    out["runs"] = runs
    return out


# -- 2. the simulation


def _errors(rng: random.Random, unit, rows: list[list[Any]], positions: dict[str, tuple[int, int]]):
    """One to three errors the provincial rules reject: a number written with its unit, or more
    houses completed than started. Returns the original values of the cells changed."""
    original: dict[tuple[int, int], Any] = {}
    numeric = [k for k, (r, c) in positions.items() if isinstance(rows[r][c], int) and rows[r][c] > 0]
    for _ in range(rng.randint(1, 3)):
        if unit.kind == "district" and "A.PTTD.HT_SC" in positions and rng.random() < 0.4:
            r, c = positions["A.PTTD.HT_SC"]
            kr, kc = positions["A.PTTD.KC_SC"]
            started = original.get((kr, kc), rows[kr][kc])
            original.setdefault((r, c), rows[r][c])
            rows[r][c] = started + rng.randint(1, 5)
        else:
            r, c = positions[rng.choice(numeric)]
            original.setdefault((r, c), rows[r][c])
            rows[r][c] = f"{original[(r, c)]} căn"
    return original


def _cell_rc(cell: str) -> tuple[int, int]:
    from tests.bench.synthetic import _a1_index

    return _a1_index(cell.split("!", 1)[-1])


def simulate(units: int, respond: float, seed: int = 21) -> dict[str, Any]:
    from housing_report.collect.base import ReadBounds  # noqa: F401 - the source's bounds
    from housing_report.deliver.ledger import Mailer
    from housing_report.deliver.transports import OutboxDelivery
    from housing_report.pipeline.report import validate_fetched
    from housing_report.precheck.messages import send_messages
    from housing_report.precheck.run import check_units, plan_check_batches
    from tests.bench.synthetic import SyntheticCountry

    rng = random.Random(seed)
    country = SyntheticCountry(units)
    config = country.config
    index = len(country.periods) - 1
    period = country.periods[index]
    days = config.report.precheck.days(config.report.schedule.collection_days)
    days = [d for d in days if d < period.day and d > period.day - 10]
    slots = [(d, h) for d in days for h in CHECK_HOURS]
    positions = {u.kind: country._prototypes[u.kind].positions for u in config.units}
    grids: dict[str, Grid] = {}
    truth: dict[str, dict[tuple[int, int], Any]] = {}
    for unit in config.units:
        grid = country.grid(unit, index)
        truth[unit.code] = _errors(rng, unit, grid.rows, positions[unit.kind])
        grids[unit.code] = grid
    modified = {u.spreadsheet: dt.datetime(2000, 1, 1, tzinfo=dt.UTC) for u in config.units}

    class Sheets:
        """The units' sheets as they are at each moment (a `ReportSource`)."""

        def fetch(self, asked):
            now = dt.datetime.now(dt.UTC)
            return [
                FetchResult(
                    u.code,
                    FETCH_OK,
                    grid=Grid(grids[u.code].sheet, [list(r) for r in grids[u.code].rows]),
                    read_at=now,
                )
                for u in asked
            ]

    class Told:
        """Where the units read their result (the KiemTra sheet): kept in memory."""

        def __init__(self):
            self.last: dict[str, Any] = {}

        def write(self, feedback):
            self.last[feedback.unit_code] = feedback
            return f"KiemTra:{feedback.spreadsheet}"

    def sheet_times(keys, since):
        return {k: modified[k] for k in keys}

    told = Told()
    started = time.perf_counter()
    reads_per_check, emails = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        store = ReportStore(sqlite_url(Path(tmp) / "r.sqlite"))
        store.ensure_schema()
        outbox = Path(tmp) / "outbox"
        mailer = Mailer(OutboxDelivery(outbox), "Hệ thống <bao-cao@localhost>", "localhost")
        for n, _slot in enumerate(slots):
            batches, _ = plan_check_batches(config, store, period, sheet_times, 4)
            reads_per_check.append(sum(len(b) for b in batches))
            for batch in batches:
                check_units(config, store, Sheets(), told, period, f"sim-{n}", batch)
            emails += sum(
                len(v)
                for k, v in send_messages(config, store, period, f"sim-{n}", mailer).to_json().items()
                if k in ("told", "confirmed")
            )
            # Before the next check, some units read their result and fix the cells it names.
            for unit in config.units:
                feedback = told.last.get(unit.code)
                if feedback is None or feedback.status == "accepted" or rng.random() >= respond:
                    continue
                for finding in feedback.findings:
                    if finding.severity != ERROR:
                        continue
                    rc = _cell_rc(finding.cell)
                    if rc in truth[unit.code]:
                        r, c = rc
                        grids[unit.code].rows[r][c] = truth[unit.code][rc]
                modified[unit.spreadsheet] = dt.datetime.now(dt.UTC)  # after the check, before the next
        # The collection day: the provincial rules on the sheets as they are.
        results = Sheets().fetch(config.units)
        checked = validate_fetched(config, list(config.units), results, period, store)
        with_precheck = sum(1 for _, _, report in checked if report and report.status == ACCEPTED)
    # Today: no check before the collection day; every unit still has its errors on the day.
    today = sum(1 for u in config.units if not truth[u.code])
    return {
        "units": units,
        "respond": respond,
        "checks": len(slots),
        "accepted_with_precheck": with_precheck,
        "accepted_today": today,
        "reads_per_check": reads_per_check,
        "emails": emails,
        "seconds": round(time.perf_counter() - started, 2),
    }


def table(requests: dict[str, Any], sim: dict[str, Any]) -> str:
    lines = [
        f"Requests per pre-check run ({requests['units']} units, {requests['spreadsheets']} spreadsheets):"
    ]
    for run in requests["runs"]:
        lines.append(
            f"  {run['run']:<32} read {run['read']:>3}  unchanged {run['unchanged']:>3}"
            f"  requests {run['requests']:>3}"
        )
    lines.append(
        f"Simulation: {sim['units']} units with errors at the first check, {sim['checks']} checks, "
        f"each unit reading its result with probability {sim['respond']}:"
    )
    lines.append(
        f"  accepted on the collection day: {sim['accepted_with_precheck']} with the pre-check, "
        f"{sim['accepted_today']} today (email after collection)"
    )
    lines.append(f"  sheets read per check: {sim['reads_per_check']}; emails to units: {sim['emails']}")
    lines.append(f"  {sim['seconds']} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--respond", type=float, default=0.4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    requests = requests_per_run()
    sim = simulate(args.units, args.respond)
    if args.json:
        print(json.dumps({"requests": requests, "simulation": sim}))
    else:
        print(table(requests, sim))
    unchanged = next(r for r in requests["runs"] if r["read"] == 0)
    return 0 if unchanged["requests"] <= 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
