"""Benchmarks (`make bench`, `tests.bench.run`); each module is also a command printing JSON."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(result: dict[str, Any]) -> int:
    """A benchmark command's output: one JSON object on one line (what `tests.bench.run` reads)."""
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
