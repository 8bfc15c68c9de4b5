"""A copy of the project's config to break in a test (`config_dir`, a fixture), and `edit`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from housing_report.config import DEFAULT_CONFIG_DIR


@pytest.fixture
def config_dir(tmp_path):
    """A copy of include/config in the test's own folder."""
    target = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def edit(path: Path, change) -> None:
    """Load a YAML file, let `change` alter the data, write it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
