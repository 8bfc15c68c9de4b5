"""Benchmark: Google API requests for one run, our source against the naive gspread way.

    python -m tests.bench.google_requests        (or: make bench)

Against FakeGoogle on loopback, over the 12/03/2025 sample worksheets, two layouts:
20 units in 20 spreadsheets (one worksheet each), and 200 units sharing one spreadsheet
(one worksheet each). "ours" is `GoogleSheetsSource.fetch`; "naive" is what gspread
invites, per unit: `open_by_key`, `worksheet`, `get_all_values`. Token requests are
counted apart (one per client). Goal: at most 2 requests per spreadsheet.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from housing_report.collect.google import GoogleSheetsSource
from housing_report.collect.google_client import make_client
from housing_report.config import Unit
from tests.google_api.server import FakeGoogle, workbook_sheets

SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "include"
    / "sample_data"
    / "2025-03-12"
    / "st-941-tp-soc-trang.xlsx"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    units: int
    spreadsheets: int


@dataclass(frozen=True)
class Measure:
    scenario: Scenario
    method: str
    requests: int
    tokens: int
    seconds: float

    @property
    def per_spreadsheet(self) -> float:
        return self.requests / self.scenario.spreadsheets


READS_PER_MINUTE = 60

SCENARIOS = (
    Scenario("20 đơn vị / 20 bảng tính", 20, 20),
    Scenario("200 đơn vị / 1 bảng tính", 200, 1),
)


def build(google: FakeGoogle, scenario: Scenario) -> list[Unit]:
    """Serve `scenario.units` copies of a sample worksheet spread over its spreadsheets."""
    rows = [list(r) for r in workbook_sheets(SAMPLE)["BaoCao"]]
    units = []
    per_book = scenario.units // scenario.spreadsheets
    for b in range(scenario.spreadsheets):
        key = f"bench-{scenario.spreadsheets}-{b:03d}"
        titles = ["BaoCao"] if per_book == 1 else [f"Xa{i:03d}" for i in range(per_book)]
        google.add_spreadsheet(key, {t: [list(r) for r in rows] for t in titles})
        units += [Unit(f"{key}-{t}", t, "district", key, t) for t in titles]
    return units


def ours(client, units: list[Unit]) -> None:
    results = GoogleSheetsSource(client).fetch(units)
    assert all(r.status == "ok" for r in results), [r.reason for r in results if r.status != "ok"]


def naive(client, units: list[Unit]) -> None:
    for unit in units:
        values = client.open_by_key(unit.spreadsheet).worksheet(unit.worksheet).get_all_values()
        assert values


def measure(scenario: Scenario, method: str, read: Callable) -> Measure:
    with FakeGoogle() as google:
        units = build(google, scenario)
        client = make_client(google.service_account_key(), api_base_url=google.base_url, timeout=30)
        started = time.perf_counter()
        read(client, units)
        seconds = time.perf_counter() - started
        return Measure(scenario, method, len(google.api_requests()), len(google.token_requests()), seconds)


def run() -> list[Measure]:
    return [
        measure(scenario, method, read)
        for scenario in SCENARIOS
        for method, read in (("ours", ours), ("naive", naive))
    ]


def table(measures: list[Measure]) -> str:
    header = (
        f"{'scenario':<28}{'method':<8}{'requests':>10}{'per sheet':>11}{'tokens':>8}"
        f"{'min at quota':>14}{'seconds':>9}"
    )
    lines = [header, "-" * len(header)]
    for m in measures:
        lines.append(
            f"{m.scenario.name:<28}{m.method:<8}{m.requests:>10}{m.per_spreadsheet:>11.1f}"
            f"{m.tokens:>8}{m.requests / READS_PER_MINUTE:>14.1f}{m.seconds:>9.2f}"
        )
    lines.append(
        f"Goal: at most 2 API requests per spreadsheet. 'min at quota': minutes of Google's quota "
        f"({READS_PER_MINUTE} reads/min per service account) the run uses up; 'seconds' is on loopback."
    )
    return "\n".join(lines)


def main() -> int:
    measures = run()
    print(table(measures))
    worst = max(m.per_spreadsheet for m in measures if m.method == "ours")
    return 0 if worst <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
