"""Fixtures of the pre-check's tests: a report store, and the sample sheets of 12/03/2025 copied."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from housing_report.archive.store import ReportStore

MAR_FOLDER = Path(__file__).resolve().parents[2] / "include" / "sample_data" / "2025-03-12"


@pytest.fixture
def store(store_url):
    s = ReportStore(store_url)
    s.ensure_schema()
    return s


@pytest.fixture
def sheets(tmp_path) -> Path:
    """The sample workbooks of 12/03/2025, copied (modified now, as a unit's save would)."""
    folder = tmp_path / "sheets"
    folder.mkdir()
    for path in MAR_FOLDER.glob("*.xlsx"):
        shutil.copyfile(path, folder / path.name)
    return folder
