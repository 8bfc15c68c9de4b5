"""Benchmark: loading the config in a task instance, at 20, 330 or 3 321 units.

    python -m tests.bench.config_load UNITS [--repeat N]

prints one JSON object. `SyntheticCountry(UNITS)` writes its `report.yaml` and `units.yaml`;
then `load_config` is timed in new processes (each task instance is one), with a cache folder
of its own (`HOUSING_REPORT_CACHE_DIR`, `config.load`): the first process parses the files and
keeps what `units.yaml` parsed to; the next `--repeat` processes find it (what every task
instance after the first pays); as many again with a cache folder that cannot be written (what
each task instance paid before the cache, and pays where none can be kept); and in the last
process `load_config` again (the same process: the validated config kept). Times are the
process's CPU seconds inside `load_config` (this machine is shared: wall time would count the
neighbours), the median of the repetitions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench import print_json

REPO = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys, time
from housing_report.config import load_config
start = time.process_time()
config = load_config(sys.argv[1])
first = time.process_time() - start
start = time.process_time()
load_config(sys.argv[1])
again = time.process_time() - start
print(json.dumps({"seconds": first, "again": again, "units": len(config.units)}))
"""


def _probe(config_dir: Path, cache: Path) -> dict:
    env = dict(os.environ, HOUSING_REPORT_CACHE_DIR=str(cache))
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(config_dir)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(units: int, repeat: int = 5) -> dict:
    from tests.bench.synthetic import SyntheticCountry

    with tempfile.TemporaryDirectory(prefix="bench-config-") as tmp:
        root = Path(tmp)
        config_dir = SyntheticCountry(units).write_config(root / "config")
        cache = root / "cache"
        first = _probe(config_dir, cache)
        warm = [_probe(config_dir, cache) for _ in range(repeat)]
        blocker = root / "not-a-folder"
        blocker.write_text("", encoding="utf-8")
        uncached = [_probe(config_dir, blocker / "cache") for _ in range(repeat)]
        size_kb = round((config_dir / "units.yaml").stat().st_size / 1024)
    return {
        "units": first["units"],
        "units_yaml_kb": size_kb,
        "repeat": repeat,
        "first_seconds": round(first["seconds"], 3),
        "task_seconds": round(statistics.median(w["seconds"] for w in warm), 3),
        "task_range": [round(min(w["seconds"] for w in warm), 3), round(max(w["seconds"] for w in warm), 3)],
        "uncached_seconds": round(statistics.median(u["seconds"] for u in uncached), 3),
        "same_process_seconds": round(statistics.median(w["again"] for w in warm), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("units", type=int)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    return print_json(measure(args.units, args.repeat))


if __name__ == "__main__":
    raise SystemExit(main())
