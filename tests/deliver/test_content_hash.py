"""What a unit was told, hashed: the delivery log compares a new version's hash with those it
holds since the first versions, so the hash of the same findings stays byte for byte the same."""

from __future__ import annotations

import pytest

from housing_report.deliver.feedback import content_hash
from tests.support.summary_fixture import make_summary

# Hashed by the code of the first versions (the summary a dict), for the hand-written summary.
CONTENT_HASHES = {
    "941": "7c19a0db1e2a585f758cc196d0b5396792ed330c18e00b0f0aa6220cd59310dd",  # accepted, a warning
    "942": "573a69ff5d9608838c8a6ebd568474f105eadeb4230f1afc249140f02280ba96",  # accepted
    "943": "3529a6ca4de1dc095ee7d26b39764df5024205866f9fa7898ad063d6ebb7cbf3",  # rejected, three errors
    "944": "71aa3adf4aa0cf2c753ffe628cb31b5b5c5a6b79b80b3d922ab4a26f66a2a173",  # stale
    "945": "a43af5509a98879b5097f5149f463df031d5d13d2b3e2023fe2813c8e705190f",  # missing
    "946": "49f72d1ad8a8b1fd6687cec594f02cb987b002007b6755f23df16049b2016389",  # unreachable
    "HLHPN": "aaed9a7096a5a35d1436382083b4ff32154c677824854cea630db794fc4590f5",  # rejected, an error
}


@pytest.mark.parametrize(("code", "expected"), CONTENT_HASHES.items())
def test_content_hash_is_the_one_the_delivery_log_holds(code, expected):
    unit = next(u for u in make_summary().units if u.code == code)
    assert content_hash(unit) == expected


def test_content_hash_follows_what_the_unit_is_told_only():
    units = {u.code: u for u in make_summary().units}
    unit = units["943"]
    unit.read_at, unit.reason, unit.carried_forward_from = None, "khác", "2025-02-12"
    assert content_hash(unit) == CONTENT_HASHES["943"]
    unit.errors[0].message += "."
    assert content_hash(unit) != CONTENT_HASHES["943"]
