"""The request-count benchmark runs and meets its goal."""

from __future__ import annotations

from tests.bench import google_requests


def test_bench_counts_two_requests_per_spreadsheet_and_beats_the_naive_way():
    measures = {(m.scenario.units, m.method): m for m in google_requests.run()}
    assert measures[(20, "ours")].requests == 2 * 20
    assert measures[(200, "ours")].requests == 2
    for units in (20, 200):
        assert measures[(units, "naive")].requests > measures[(units, "ours")].requests
        assert measures[(units, "ours")].tokens == 1
    assert "per sheet" in google_requests.table(list(measures.values()))
