"""The official report of the hand-written summary (tests/support/summary_fixture.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.support.summary_fixture import make_summary


def earlier_summary(summary: dict[str, Any], period: str, share: float = 0.8) -> dict[str, Any]:
    """An earlier period's summary: the same places, fewer houses completed."""
    out = copy.deepcopy(summary)
    out["period"] = period
    out["houses"]["completed"] = int(summary["houses"]["completed"] * share)
    for d in out["districts"]:
        d["completed"] = int(d["completed"] * share)
    out["lists"] = {"D": [], "E": [], "F": []}
    return out


@pytest.fixture
def summary() -> dict[str, Any]:
    return make_summary()


@pytest.fixture
def official(config, summary, tmp_path):
    from housing_report.render.official import prepare

    earlier = [earlier_summary(summary, "2025-02-12", 0.6), earlier_summary(summary, "2025-02-27", 0.8)]
    return prepare(config, summary, earlier, tmp_path)
