"""`make bench`: every benchmark, one table, and BENCHMARKS.md.

    python -m tests.bench.run [--quick] [--out BENCHMARKS.md]

First the set-up, not measured: each size's synthetic units, workbooks and archive of 24
earlier periods, written once (`tests.bench.dag_e2e --prepare`) for the `scale` and `dag.test()`
runs alike, while callgrind counts the DAG files' parses in a process of its own (a count of
instructions does not depend on what else runs; nothing timed runs beside it). Then runs, each
in its own process so that one's memory and imports do not weigh on another:

- `tests.bench.scale` at 20, 330 and 3 321 units: parse, validate (with 24 archived
  periods) and aggregate one period, then render the email, the document and the workbook;
- `tests.bench.google_requests`: Google API requests per run;
- `tests.bench.precheck`: the units' pre-check: requests per run, and a simulation of the units
  fixing what it tells them before the collection day (issue 21);
- `tests.bench.dag_parse`: the parse of each file in `dags/` beside its same-shape empty twin
  (the target) and an empty DAG (shown): instructions, time, and the duration Airflow records;
- `tests.bench.config_load` at 3 321 units: `load_config` in a task instance's process;
- `tests.bench.dag_e2e` at 20, 330 and 3 321 units: one `dag.test()` of `provincial_report`,
  with each task's own time and peak resident set.

prints the table and writes BENCHMARKS.md (the machine, the method, the figures, each
target with its measured figure). `--quick` runs small sizes only (for trying the runner;
its file says so). Exit code 0 whether or not a target is met: the figures are the output.

Why this module is long: it runs the benchmarks and writes the report, each section's table
beside the words that say how its figures were measured, so that the two change together.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.dag_parse import ONE_TASK, TWIN

REPO = Path(__file__).resolve().parents[2]
HISTORY = Path(__file__).with_name("history.md")

SIZES = (20, 330, 3321)
E2E_SIZES = (20, 330, 3321)
QUICK_SIZES = (5, 20, 40)
QUICK_E2E = (5,)
CONFIG_UNITS, QUICK_CONFIG_UNITS = 3321, 40
# The period is measured this many times per size (medians): the machine's speed varies. The
# largest size's median is the target's figure; the smaller sizes give the growth per unit.
REPEAT, SMALL_REPEAT, QUICK_REPEAT = 5, 3, 2
# DAG parse: each file's parse timed this many times (the fastest kept; judged only where no
# instructions are counted), and Airflow's dag-processor parsing each this many times (the first
# left out; shown, not judged).
PARSE_REPEAT, PROCESSOR_RUNS = 7, 6
PERIOD_SECONDS, PERIOD_MB = 2.0, 500.0
# Issue 23: each task's peak resident set, rendering the outputs, the config per task instance.
TASK_MB, RENDER_SECONDS, CONFIG_SECONDS = 500.0, 5.0, 0.2
RENDER_STEPS = ("document", "workbook", "email")
# The figures before issue 23's fixes (tests/bench/history.md): shown beside each of its targets.
BEFORE_23 = {
    "task_mb": "865 MB (deliver_report, measured on the CeleryExecutor)",
    "render": "21.4 s (the last `make bench` before)",
    "config": "0.40 s (1.9 s with PyYAML's pure-Python loader, as the issue found it)",
}
# A DAG file's parse against its same-shape empty twin's (the ratio to the empty DAG is shown only).
PARSE_RATIO = 1.10


def _json_from(command: list[str], timeout: float = 900) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import airflow

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "airflow": airflow.__version__,
    }


@dataclass
class Results:
    scale: list[dict[str, Any]]
    google: list[Any]
    parse: dict[str, Any]
    e2e: list[dict[str, Any]]
    seconds: float
    quick: bool
    config: dict[str, Any] = field(default_factory=dict)
    precheck: dict[str, Any] = field(default_factory=dict)
    # Wall seconds of each step of the run, in order (the set-up's with callgrind beside it).
    steps: dict[str, float] = field(default_factory=dict)


def collect(quick: bool, log=print) -> Results:
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        return _collect(quick, log, Path(tmp))


def _collect(quick: bool, log, work: Path) -> Results:
    """Every benchmark in turn, after the set-up. The set-up, not measured, writes each size's
    synthetic units, workbooks and archive once (`dag_e2e --prepare`), for the `scale` runs and
    the `dag.test()` runs alike; meanwhile, in a process of its own, callgrind counts the DAG
    files' parses (instructions do not depend on what else runs; nothing timed runs beside it)."""
    from tests.bench import google_requests

    started = time.perf_counter()
    steps: dict[str, float] = {}
    clock = [None, started]  # the step under way, since when

    def step(name: str | None) -> None:
        now = time.perf_counter()
        if clock[0] is not None:
            steps[clock[0]] = round(now - clock[1], 1)
        clock[:] = [name, now]
        if name is not None:
            log(f"… {name}")

    sizes = QUICK_SIZES if quick else SIZES
    e2e_sizes = QUICK_E2E if quick else E2E_SIZES
    counts = work / "parse-counts.json"
    counting = None
    if not quick and shutil.which("valgrind"):
        log("… DAG parse: instructions (callgrind), in a process of its own beside the set-up")
        counting = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.dag_parse", "--counts-out", str(counts)],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=(work / "parse-counts.log").open("w"),
        )
    try:
        for units in dict.fromkeys((*e2e_sizes, *sizes)):
            step(f"set-up: {units} units (workbooks, 24 earlier periods)")
            _json_from(["tests.bench.dag_e2e", str(units), "--prepare", str(work / f"units-{units}")], 1800)
        step("set-up: callgrind, waited for" if counting is not None else None)
    finally:
        if counting is not None and counting.wait() != 0:
            tail = (work / "parse-counts.log").read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"counting the DAG files' parses failed:\n{tail}")
    scale = []
    for units in sizes:
        step(f"scale {units} units")
        repeat = QUICK_REPEAT if quick else REPEAT if units == sizes[-1] else SMALL_REPEAT
        archive = work / f"units-{units}" / "archive.sqlite"
        command = ["tests.bench.scale", str(units), "--render", "--repeat", str(repeat)]
        scale.append(_json_from(command + ["--archive", str(archive)]))
    units = QUICK_CONFIG_UNITS if quick else CONFIG_UNITS
    step(f"config loading {units} units")
    config = _json_from(["tests.bench.config_load", str(units), "--repeat", "2" if quick else "5"])
    step("Google API requests")
    google = google_requests.run()
    step("the units' pre-check")
    precheck = _json_from(["tests.bench.precheck", "--json"])
    step("DAG parse times")
    repeats = (3, 3) if quick else (PARSE_REPEAT, PROCESSOR_RUNS)
    command = ["tests.bench.dag_parse", "--repeat", str(repeats[0]), "--processor-runs", str(repeats[1])]
    if counts.is_file():
        command += ["--counts-in", str(counts)]
    elif quick or counting is None:
        command.append("--no-instructions")
    parse = _json_from(command, timeout=3600)
    e2e = []
    for units in e2e_sizes:
        step(f"dag.test() {units} units")
        prepared = str(work / f"units-{units}")
        e2e.append(_json_from(["tests.bench.dag_e2e", str(units), "--prepared", prepared], timeout=1800))
    step(None)
    seconds = time.perf_counter() - started
    return Results(scale, google, parse, e2e, seconds, quick, config, precheck, steps)


# --------------------------------------------------------------------------- the report


def _growth(rows: list[dict[str, Any]], key: str) -> float | None:
    """Cost per unit at the largest size over cost per unit at the middle one (1.0: linear)."""
    if len(rows) < 2 or not rows[-2].get(key) or not rows[-1].get(key):
        return None
    small, large = rows[-2], rows[-1]
    return (large[key] / large["units"]) / (small[key] / small["units"])


def _own_seconds(s: dict[str, Any]) -> float:
    return s["period_seconds"] - s.get("archive_read_seconds", 0) - s.get("archive_write_seconds", 0)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def _ok(met: bool) -> str:
    return "met" if met else "**missed**"


def most_tasks(cost: dict[str, Any], own: bool) -> int:
    """The most tasks a DAG of this schedule and these Params could have and still parse within
    `PARSE_RATIO` × the empty DAG (the yardstick before the twin; shown, not a target), by
    Airflow's own cost per task: with nothing else in the file, or (`own`) with the file's own
    code as it is. 0: not even one."""
    budget = (PARSE_RATIO - 1) * cost["empty_m"] - cost["schedule_params_m"] - (cost["own_m"] if own else 0)
    return 1 + math.floor(budget / cost["per_task_m"]) if budget >= 0 else 0


def parse_targets(parse: dict[str, Any]) -> list[list[Any]]:
    """Each DAG file against its same-shape twin (`(cùng dạng)`: its schedule, its Params, as
    many tasks, doing nothing): what the file's own code adds to what Airflow spends on any DAG
    of that shape, in instructions (when counted, else time in the child). Its ratio to the
    empty DAG is shown beside, not judged: on Airflow 3.3 a DAG of five tasks or more with this
    schedule and these Params is over `PARSE_RATIO` × the empty DAG before a line of its own
    (history.md, fifth round). Airflow's own parse duration is in the section's table, not
    judged: wall time on this machine moves by a third from one run to the next."""
    rows = []
    files = parse["files"]
    for name, f in files.items():
        if name.startswith("("):
            continue
        twin = files[TWIN + name]
        if "instructions_ratio_to_twin" in f:
            pyc = "instructions_pyc_ratio_to_twin" in f
            rows.append(
                [
                    f"Parse of dags/{name} vs its same-shape empty twin, CPU instructions (callgrind)",
                    f"≤ {PARSE_RATIO:.2f}×",
                    f"{f['instructions_ratio_to_twin']:.2f}× ({f['instructions_m']:.0f} vs "
                    f"{twin['instructions_m']:.0f} M"
                    + (f"; with `.pyc` kept {f['instructions_pyc_ratio_to_twin']:.2f}×" if pyc else "")
                    + f"; vs the empty DAG {f['instructions_ratio']:.2f}×"
                    + (f", with `.pyc` kept {f['instructions_pyc_ratio']:.2f}×" if pyc else "")
                    + ": shown, not a target)",
                    _ok(f["instructions_ratio_to_twin"] <= PARSE_RATIO),
                ]
            )
        else:
            rows.append(
                [
                    f"Parse of dags/{name} vs its same-shape empty twin, time in the child "
                    f"(fastest of {parse['repeat']})",
                    f"≤ {PARSE_RATIO:.2f}×",
                    f"{f['ratio_to_twin']:.2f}× ({f['min_ms']:.0f} vs {twin['min_ms']:.0f} ms; "
                    f"vs the empty DAG {f['ratio']:.2f}×: shown, not a target)",
                    _ok(f["ratio_to_twin"] <= PARSE_RATIO),
                ]
            )
    return rows


def render_seconds(s: dict[str, Any]) -> float:
    """Rendering the outputs: the document (with its charts), the workbook, the email."""
    steps = s.get("render_steps", {})
    return sum(steps.get(k, 0.0) for k in RENDER_STEPS)


def issue_23_targets(r: Results) -> list[list[Any]]:
    """Each task's peak memory in the largest `dag.test()`, rendering at the largest size, the
    config per task instance: each with its figure before the fixes."""
    rows = []
    if r.e2e and r.e2e[-1].get("task_memory"):
        e = r.e2e[-1]
        worst = max(e["task_memory"].items(), key=lambda item: item[1]["peak_mb"])
        rows.append(
            [
                f"Peak memory of each task, {e['units']} units (`dag.test()`, each task's own peak RSS)",
                f"< {TASK_MB:g} MB",
                f"{worst[1]['peak_mb']:.0f} MB ({worst[0]}; before: {BEFORE_23['task_mb']})",
                _ok(worst[1]["peak_mb"] < TASK_MB),
            ]
        )
    largest = r.scale[-1]
    if largest.get("render_steps"):
        seconds = render_seconds(largest)
        rows.append(
            [
                f"Rendering, {largest['units']} units: document, workbook, email",
                f"< {RENDER_SECONDS:g} s",
                f"{seconds:.2f} s (before: {BEFORE_23['render']})",
                _ok(seconds < RENDER_SECONDS),
            ]
        )
    if r.config:
        c = r.config
        rows.append(
            [
                f"Config loaded in a task instance, {c['units']} units (CPU)",
                f"< {CONFIG_SECONDS:g} s",
                f"{c['task_seconds']:.3f} s (the first process {c['first_seconds']:.2f} s; without the cache "
                f"{c['uncached_seconds']:.2f} s; before: {BEFORE_23['config']})",
                _ok(c["task_seconds"] < CONFIG_SECONDS),
            ]
        )
    return rows


def targets(r: Results) -> list[list[Any]]:
    rows = []
    largest = r.scale[-1]
    rows.append(
        [
            f"One period, {largest['units']} units: parse, validate (24 periods of history), aggregate",
            f"< {PERIOD_SECONDS:g} s",
            f"{largest['period_seconds']:.2f} s (median of {largest.get('repeat', 1)}; "
            + "{:.2f}–{:.2f})".format(*largest.get("period_range", [largest["period_seconds"]] * 2)),
            _ok(largest["period_seconds"] < PERIOD_SECONDS),
        ]
    )
    rows.append(
        [
            f"Same, peak memory (whole process: interpreter, libraries, {largest['units']} worksheets)",
            f"< {PERIOD_MB:g} MB",
            f"{largest['period_peak_mb']:.0f} MB",
            _ok(largest["period_peak_mb"] < PERIOD_MB),
        ]
    )
    for key, label in (
        ("collect_seconds", "read, parse, validate, store"),
        ("summarise_seconds", "aggregate, outliers, completeness"),
        ("render_seconds", "document, workbook, email"),
    ):
        growth = _growth(r.scale, key)
        if growth is not None:
            rows.append(
                [
                    f"Cost per unit, {label}: {r.scale[-1]['units']} vs {r.scale[-2]['units']} units",
                    "linear (≈ 1×)",
                    f"{growth:.2f}×",
                    _ok(growth < 1.5),
                ]
            )
    rows += issue_23_targets(r)
    rows += parse_targets(r.parse)
    for e in r.e2e:
        rows.append(
            [
                f"Mapped fetch task instances per run, {e['units']} units",
                "bounded (≤ 16), not one per unit",
                str(e["fetch_task_instances"]),
                _ok(e["fetch_task_instances"] <= 16),
            ]
        )
    worst = max((m.per_spreadsheet for m in r.google if m.method == "ours"), default=0)
    rows.append(["Google API requests per spreadsheet", "≤ 2", f"{worst:g}", _ok(worst <= 2)])
    rows.append(
        [
            "`make bench` (these runs; plus set-up on a fresh clone)",
            "< 10 min",
            f"{r.seconds / 60:.1f} min",
            _ok(r.seconds < 600),
        ]
    )
    return rows


def _bytecode_sentence(parse: dict[str, Any], pyc: bool) -> str:
    if not parse.get("dont_write_bytecode"):
        return "`PYTHONDONTWRITEBYTECODE` is not set here."
    sentence = (
        "`PYTHONDONTWRITEBYTECODE` is set here: no `.pyc` is written, so every parse compiles the"
        " DAG file and the module of ours it imports (`housing_report_airflow.alerts`)."
    )
    if pyc:
        sentence += (
            " The columns *with `.pyc` kept* count the same parses as a deployment that leaves"
            " Python's default does (this project's Dockerfile and compose file do not set"
            " it): the compiled files kept by the earlier parse are read, not compiled again. Both"
            " counts come from one callgrind run: after the first counts, each file is parsed once"
            " more with bytecode written, uninstrumented, then counted again (two runs before,"
            " ~20 s more; the counts with `.pyc` kept came out 0.2–0.5 % higher that way, the"
            " others the same within 0.1 %)."
        )
    return sentence


def _count_cells(f: dict[str, Any], key: str) -> list[str]:
    """A file's count `key` (`instructions`, `instructions_pyc`): M, vs empty, vs twin."""
    return [
        f"{f[f'{key}_m']:.1f}" if f"{key}_m" in f else "",
        f"{f[f'{key}_ratio']:.2f}" if f"{key}_ratio" in f else "",
        f"{f[f'{key}_ratio_to_twin']:.2f}" if f"{key}_ratio_to_twin" in f else "",
    ]


def parse_section(parse: dict[str, Any]) -> list[str]:
    pyc = any("instructions_pyc_m" in f for f in parse["files"].values())
    lines = [
        "Each file beside its twin, `(cùng dạng)`: an empty DAG of the same shape generated from it",
        "(its schedule, its Params, as many tasks doing nothing), and beside an empty DAG (one `@dag`,",
        "one `@task`). The ratio to the twin is what the file's own code costs beyond what Airflow",
        f"spends on any DAG of that shape: it is the target (≤ {PARSE_RATIO:.2f}×, in instructions where",
        "they are counted, else in time in the child). The ratio to the empty DAG is shown, not a",
        "target: on Airflow 3.3 a DAG of five tasks or more with a schedule and Params is over",
        f"{PARSE_RATIO:.2f}× the empty DAG before a line of its own (the bench history's fifth round). A",
        f"file of several tasks has a one-task twin too, `{ONE_TASK.strip()}` (its schedule and Params,",
        "one task), from which the section's last table, where instructions are counted, tells what",
        "Airflow spends per task. Three measures:",
        "",
        "- **Instructions**: the CPU instructions of one parse, counted by callgrind, in a child",
        "  forked from a parent set up as a running DAG processor is (its manager imported, each",
        "  file's result stored once, the file's Airflow modules pre-imported, no DAG ever parsed",
        "  in it). The child builds a DagBag of the one file and serialises its DAGs, as the",
        "  processor's parsing process does. A count does not move with this machine's speed;",
        "  two counts of the same parse differ by under 1 %. "
        + ("" if parse.get("instructions") else "**Not counted on this run (no valgrind).**"),
        f"- **Time in the child**: the same parse timed, {parse['repeat']} times per file, the files",
        "  taking turns; the fastest of each (noise only adds time).",
        "- **Airflow's parse duration**: the real `airflow dag-processor` over a folder of the same",
        f"  files, {parse.get('processor_runs', 0)} parses each (the first left out), one at a time; what",
        "  Airflow stores as the DAG's `last_parse_duration` (the UI's \"Last Parse Duration\"): from",
        "  the parsing process's start to its result collected, the process's own start-up",
        "  included. Wall time, so as noisy as the machine: read it against the twins', which do",
        "  nothing. It is not judged (from one run to the next the same file's ratio has moved by",
        "  0.2); the time in the child is, against the twin's, only where no instructions were counted.",
        "",
        _bytecode_sentence(parse, pyc),
        "",
    ]
    rows = []
    for name, f in parse["files"].items():
        proc = f.get("processor", {})
        rows.append(
            [
                name,
                *_count_cells(f, "instructions"),
                *(_count_cells(f, "instructions_pyc") if pyc else []),
                f"{f['min_ms']:.1f}",
                f"{f['median_ms']:.1f}",
                f"{f['ratio']:.2f}",
                f"{f['ratio_to_twin']:.2f}" if "ratio_to_twin" in f else "",
                f"{proc['min_ms']:.0f}" if proc else "",
                f"{proc['median_ms']:.0f}" if proc else "",
                f"{f['processor_ratio']:.2f}" if "processor_ratio" in f else "",
                f["dags"],
                f["import_errors"],
            ]
        )
    lines += _table(
        [
            "file",
            "instructions (M)",
            "vs empty",
            "vs twin",
            *(["with `.pyc` kept (M)", "vs empty", "vs twin"] if pyc else []),
            "child: fastest (ms)",
            "median",
            "vs empty",
            "vs twin",
            "Airflow: fastest (ms)",
            "median",
            "vs empty",
            "DAGs",
            "import errors",
        ],
        rows,
    )
    lines += airflow_cost_section(parse)
    return lines


def airflow_cost_section(parse: dict[str, Any]) -> list[str]:
    """What Airflow's own cost leaves of 10 % over the empty DAG for each file of several tasks:
    why the empty DAG is shown and not the target."""
    costs = parse.get("airflow_cost") or {}
    if not costs:
        return []
    basis = "with `.pyc` kept" if any(c["with_pyc"] for c in costs.values()) else "as counted above"
    lines = [
        "",
        f"What Airflow alone spends, counted {basis}: its cost per task is the twin's count less",
        f"the one-task twin's `{ONE_TASK.strip()}` (the same schedule and Params, one task), over the",
        "tasks between them; the schedule and the Params are the one-task twin's count less the empty",
        "DAG's; the file's own code, its count less its twin's. With these, the most tasks a DAG of",
        f"that schedule could have and parse within {PARSE_RATIO:.2f}× the empty DAG (the yardstick",
        "before the twin, shown, not a target: Airflow's own cost per task is why the twin is the",
        "target):",
        "",
    ]
    rows = [
        [
            name,
            c["tasks"],
            f"{c['per_task_m']:.1f}",
            f"{c['schedule_params_m']:.1f}",
            f"{c['own_m']:.1f}",
            f"{(PARSE_RATIO - 1) * c['empty_m']:.1f}",
            most_tasks(c, own=False),
            most_tasks(c, own=True),
        ]
        for name, c in costs.items()
    ]
    lines += _table(
        [
            "file",
            "tasks",
            "Airflow per task (M)",
            "schedule and Params (M)",
            "own code beyond the twin (M)",
            f"{PARSE_RATIO - 1:.0%} of the empty DAG (M)",
            f"most tasks within {PARSE_RATIO:.2f}× the empty DAG, nothing else in the file",
            "with the file's own code",
        ],
        rows,
    )
    return lines


def e2e_tasks_section(e2e: list[dict[str, Any]]) -> list[str]:
    """Each task's own time and peak resident set, per size (`dag_e2e`'s docstring: how)."""
    sized = [e for e in e2e if e.get("task_memory")]
    if not sized:
        return []
    lines = [
        "",
        "Each task's own figures: `dag.test()` runs every task in one process, so each task body",
        "is measured as in a process of its own (`tests/bench/dag_e2e.py`): its resources (Variables,",
        "config, report database) loaded afresh, the garbage collected and the C heap's free memory",
        "handed back before it (one collection, walking only what the run made since the first task",
        "started: what was alive then is frozen, `gc.freeze`; two full collections per task, ~1 s,",
        "were most of a small task's time before), the peak resident set (VmHWM) reset before it and",
        "read after it: the process's peak during the task, the interpreter, Airflow and the",
        "libraries included (what earlier tasks left allocated too: an upper bound of a task",
        "process's own); 'before MB', the resident set when the task started (its own growth is the",
        "difference). Time: the task body's, the slowest instance of a mapped task.",
        "",
    ]
    task_ids = list(dict.fromkeys(t for e in sized for t in e["task_memory"]))
    header = ["task"]
    for e in sized:
        header += [f"{e['units']} units: s", "peak MB", "before MB"]
    rows = []
    for task_id in task_ids:
        instances = max(e["task_memory"].get(task_id, {}).get("instances", 1) for e in sized)
        row = [task_id + (f" (up to {instances} instances)" if instances > 1 else "")]
        for e in sized:
            m = e["task_memory"].get(task_id)
            row += (
                [f"{m['seconds_max']:.2f}", f"**{m['peak_mb']:.0f}**", f"{m['rss_before_mb']:.0f}"]
                if m
                else [""] * 3
            )
        rows.append(row)
    lines += _table(header, rows)
    return lines


def config_section(c: dict[str, Any]) -> list[str]:
    if not c:
        return []
    lines = [
        "",
        "## The config in each task instance (`tests/bench/config_load.py`)",
        "",
        f"`load_config` with {c['units']} units (`units.yaml` {c['units_yaml_kb']} kB) in new processes, as",
        "each task instance is one: CPU seconds inside it, medians of "
        f"{c['repeat']}. The first process parses the",
        "files and keeps what `units.yaml` parsed to (`config.load`); the next ones read that and",
        "validate it; without a cache folder that can be written, each parses the YAML (as before",
        "issue 23); in a process that has loaded it, `load_config` again returns the validated config.",
        "",
    ]
    lines += _table(
        [
            "units",
            "first process (s)",
            "each task instance (s)",
            "fastest–slowest",
            "without the cache (s)",
            "same process again (s)",
        ],
        [
            [
                c["units"],
                f"{c['first_seconds']:.3f}",
                f"**{c['task_seconds']:.3f}**",
                "{:.3f}–{:.3f}".format(*c["task_range"]),
                f"{c['uncached_seconds']:.3f}",
                f"{c['same_process_seconds']:.4f}",
            ]
        ],
    )
    return lines


def precheck_section(p: dict[str, Any]) -> list[str]:
    """The units' pre-check (issue 21): requests per run, and the simulation."""
    if not p:
        return []
    req, sim = p["requests"], p["simulation"]
    lines = ["", "## The units' pre-check (`tests/bench/precheck.py`, issue 21)", ""]
    lines += [
        f"Requests to Google per pre-check run, the {req['units']} sample units in their",
        f"{req['spreadsheets']} spreadsheets on the loopback Sheets server. Goal: unchanged sheets cost at",
        "most one request per run in all (Drive's `files.list`).",
        "",
    ]
    lines += _table(
        ["Run", "Units read", "Unchanged", "Requests"],
        [[r["run"], r["read"], r["unchanged"], r["requests"]] for r in req["runs"]],
    )
    lines += [
        "",
        "The first check reads every sheet and writes each spreadsheet's KiemTra (a get and one",
        "`batchUpdate`); the requests are counted at the loopback server.",
    ]
    lines += [
        "",
        f"Simulation: {sim['units']} synthetic units, each with one to three errors at the first check,",
        f"checked {sim['checks']} times before the collection day; after each check a unit reads its result",
        f"with probability {sim['respond']} and fixes the cells it names. Today (email after collection)",
        "the errors are still there on the collection day.",
        "",
    ]
    lines += _table(
        ["", "Accepted on the collection day", "Sheets read per check", "Emails to units"],
        [
            [
                "With the pre-check",
                sim["accepted_with_precheck"],
                " ".join(map(str, sim["reads_per_check"])),
                sim["emails"],
            ],
            ["Today", sim["accepted_today"], "0", "0 before the collection day"],
        ],
    )
    return lines


def steps_section(steps: dict[str, float]) -> list[str]:
    """Where the minutes of the run went, step by step (wall time, as this machine was)."""
    if not steps:
        return []
    lines = [
        "Step by step (wall seconds). The set-up writes each size's units, workbooks and archive",
        "once, for the `scale` and `dag.test()` runs alike; callgrind counts the DAG files' parses",
        "in a process of its own meanwhile (a count does not depend on what else runs), and what it",
        "still had to count after the set-up is the line 'callgrind, waited for'. Nothing timed runs",
        "beside anything else.",
        "",
    ]
    lines += _table(["step", "s"], [[name, f"{seconds:.1f}"] for name, seconds in steps.items()])
    return [*lines, ""]


def markdown(r: Results, info: dict[str, str]) -> str:
    lines = ["# Benchmarks", ""]
    lines.append(
        f"Written by `make bench` (`tests/bench/run.py`) on {dt.date.today():%Y-%m-%d}"
        + (", **quick mode: small sizes only, not the figures of record**" if r.quick else "")
        + ". Do not edit by hand: run it again."
    )
    lines += ["", "## Machine", ""]
    lines += _table(["", ""], [[k, v] for k, v in info.items()])
    lines += ["", "## Targets (issues 8 and 23)", ""]
    lines += _table(["Target", "Goal", "Measured", ""], targets(r))
    lines += ["", "## One period: parse, validate, aggregate (`tests/bench/scale.py`)", ""]
    lines += [
        "Synthetic units (`tests/bench/synthetic.py`: the province's unit kinds in turn, each in its own",
        "spreadsheet, the template's layout written by openpyxl and read back as the local source reads",
        "it; about 1 in 60 rejected, 1 in 80 stale, 1 in 120 missing each period) with 24 earlier",
        "periods archived in a SQLite report database. Measured as the DAG's tasks run them:",
        "`collect_batch` over the planned batches (parse, the rules on each unit's own figures, the",
        "history rules against the archive, every read stored with its grid), then `summarise`",
        "(aggregation, outliers against 12 earlier periods, completeness over 7, the summary stored).",
        "The worksheets are in memory, as a source hands them over: reading Google is counted in",
        "requests below. Each size's period is measured several times (five at the largest size,",
        "whose median is the target's figure; three at the others, whose figures give the growth per",
        "unit), each in a new process on its own copy of the archive; the times are the medians,",
        "beside the fastest and the slowest run (this machine's speed varies by a quarter from one",
        "minute to the next). Peak memory is",
        "the process's peak resident set during the step (VmHWM, reset before it), all included,",
        "the highest of the runs. 'Machine loop' is a fixed pure-Python loop timed just before each",
        "run (median, fastest–slowest): when the virtual machine is slow, it is slow too, and a run's",
        "time is to be read against it. 'DB reads' and 'DB writes' are the time inside the report",
        "database's methods (queries with their JSON decoding; inserts with their encoding and the",
        "commit); 'the rest' is parsing, the rules, aggregation and logging.",
        "",
    ]
    rows = []
    for s in r.scale:
        rows.append(
            [
                f"{s['units']:,}".replace(",", "."),
                f"{s['collect_seconds']:.3f}",
                f"{s['summarise_seconds']:.3f}",
                f"**{s['period_seconds']:.3f}**",
                "{:.2f}–{:.2f}".format(*s.get("period_range", [s["period_seconds"]] * 2)),
                "{:.2f} ({:.2f}–{:.2f})".format(
                    s.get("loop_seconds", 0), *s.get("loop_range", [s.get("loop_seconds", 0)] * 2)
                ),
                f"{s.get('archive_read_seconds', 0):.3f}",
                f"{s.get('archive_write_seconds', 0):.3f}",
                f"{_own_seconds(s):.3f}",
                f"{1000 * s['period_seconds'] / s['units']:.2f}",
                f"{s['period_peak_mb']:.0f}",
                f"{s['baseline_mb']:.0f}",
                str(s["fetch_tasks"]),
                f"{s['archive_mb']:.0f}",
                ", ".join(f"{k} {v}" for k, v in s["statuses"].items() if v),
                f"{s['warnings']}/{s['errors']}",
            ]
        )
    lines += _table(
        [
            "units",
            "collect (s)",
            "summarise (s)",
            "period (s)",
            "fastest–slowest",
            "machine loop (s)",
            "of which DB reads (s)",
            "DB writes (s)",
            "the rest (s)",
            "ms/unit",
            "peak MB",
            "before MB",
            "batches",
            "archive MB",
            "statuses",
            "warnings/errors",
        ],
        rows,
    )
    largest = r.scale[-1]
    if largest.get("runs"):
        each = ", ".join(f"{period:.2f} s (loop {loop:.2f} s)" for period, loop in largest["runs"])
        units = f"{largest['units']:,}".replace(",", ".")
        lines += ["", f"Each run at {units} units, in order: {each}."]
    lines += ["", "## Rendering the outputs", ""]
    lines += [
        "For the summary above: the earlier periods read from the archive (charts, forecast), the",
        "report document (.docx) with its two charts, the workbook with the annexes, the email's",
        "HTML and text, and the MIME message carrying them. The email's lists stop at 30 rows each",
        "(`EMAIL_ROWS`; the errors at 10 rejected units), the attachments hold everything: its HTML",
        "is the same size for any number of units beyond that, under Gmail's 102 kB clip.",
        "",
    ]
    rows = []
    for s in r.scale:
        steps = s.get("render_steps", {})
        rows.append(
            [
                f"{s['units']:,}".replace(",", "."),
                *(f"{steps.get(k, 0):.2f}" for k in ("history", "document", "workbook", "email", "message")),
                f"**{s.get('render_seconds', 0):.2f}**",
                f"{s.get('render_peak_mb', 0):.0f}",
                f"{s.get('document_kb', 0)}",
                f"{s.get('workbook_kb', 0)}",
                f"{s.get('email_html_kb', 0)}",
                f"{s.get('message_kb', 0)}",
            ]
        )
    lines += _table(
        [
            "units",
            "history (s)",
            "document (s)",
            "workbook (s)",
            "email (s)",
            "message (s)",
            "total (s)",
            "peak MB",
            "docx kB",
            "xlsx kB",
            "HTML kB",
            "message kB",
        ],
        rows,
    )
    lines += config_section(r.config)
    lines += ["", "## Google API requests per run (`tests/bench/google_requests.py`)", ""]
    from tests.bench.google_requests import READS_PER_MINUTE

    rows = [
        [
            m.scenario.name,
            m.method,
            m.requests,
            f"{m.per_spreadsheet:.1f}",
            m.tokens,
            f"{m.requests / READS_PER_MINUTE:.1f}",
        ]
        for m in r.google
    ]
    lines += _table(["scenario", "method", "requests", "per spreadsheet", "tokens", "min of quota"], rows)
    lines += [
        "",
        "Against a loopback server speaking the Sheets v4 API, with the real gspread client.",
        f"'min of quota': minutes of the {READS_PER_MINUTE} reads/min per service account the run uses up.",
    ]
    lines += precheck_section(r.precheck)
    lines += ["", "## DAG file parse time (`tests/bench/dag_parse.py`)", ""]
    lines += parse_section(r.parse)
    lines += ["", "## End to end: `dag.test()` of `provincial_report` (`tests/bench/dag_e2e.py`)", ""]
    lines += [
        "Local source (one .xlsx per unit), 24 archived periods, outbox delivery, SQLite metadata and",
        "report databases; `dag.test()` runs the tasks one after another in one process, so the",
        "run time is the sum of the tasks plus Airflow's per-task overhead (~0.1–0.3 s a task here;",
        "the first task of a run also starts Airflow's in-process API, a few seconds). The approval",
        "is answered through Airflow's REST API by a process of its own, as the demo answers it.",
        "",
    ]
    rows = []
    for e in r.e2e:
        task = e["task_seconds"]
        rows.append(
            [
                e["units"],
                f"{e['run_seconds']:.1f}",
                f"{e['per_unit_ms']:.0f}",
                e["task_instances"],
                e["fetch_task_instances"],
                f"{task.get('fetch_unit_reports', 0):.1f}",
                f"{task.get('aggregate_reports', 0):.1f}",
                f"{task.get('deliver_report', 0):.1f}",
                f"{task.get('send_unit_feedback', 0):.1f}",
                e["emails"],
                e.get("feedback_emails", 0),
            ]
        )
    lines += _table(
        [
            "units",
            "run (s)",
            "ms/unit",
            "task instances",
            "fetch tasks",
            "fetch Σ (s)",
            "aggregate (s)",
            "deliver (s)",
            "feedback (s)",
            "report emails",
            "feedback emails",
        ],
        rows,
    )
    lines += e2e_tasks_section(r.e2e)
    if len(r.e2e) >= 2:
        a, b = r.e2e[0], r.e2e[-1]
        marginal = 1000 * (b["run_seconds"] - a["run_seconds"]) / (b["units"] - a["units"])
        lines += [
            "",
            f"Marginal cost per unit between {a['units']} and {b['units']} units: {marginal:.0f} ms.",
        ]
    lines += ["", f"All of the above took {r.seconds / 60:.1f} minutes.", ""]
    lines += steps_section(r.steps)
    if HISTORY.exists():
        lines += [HISTORY.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    results = collect(args.quick, log=lambda m: print(m, flush=True))
    text = markdown(results, machine())
    args.out.write_text(text, encoding="utf-8")
    start = text.index("## Targets")
    print(text[start : text.index("## One period")].rstrip())
    print(f"\nWritten: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
