"""Benchmark: what parsing each file of `dags/` costs, beside its same-shape twin, three ways.

    python -m tests.bench.dag_parse [--repeat N] [--processor-runs N] [--no-instructions]
                                    [--counts-in FILE]
    python -m tests.bench.dag_parse --counts-out FILE

prints one JSON object. Every file is compared with an empty DAG (one `@dag`, one `@task`)
and with its twin, an empty DAG of the same shape generated from it (its schedule, its Params
given the same way, as many tasks, doing nothing): the ratio to the twin is what the file's
own code costs beyond what Airflow spends on any DAG of that shape, the figure `run.py` judges;
the ratio to the empty DAG is only shown beside it. A file of several tasks has a one-task
twin as well (its schedule and Params, one task): from the two twins and the empty DAG,
`airflow_cost` tells Airflow's cost per task from its cost for the schedule and the Params (in
instructions, where they are counted).

1. **Instructions** (the figure of record when valgrind is there): the CPU instructions of one
   parse in a forked child, counted by callgrind, which does not vary with the machine's
   speed the way time does on this virtual machine (a quarter from one minute to the next).
   Only the child's parse is counted: it runs inside `sys.call_tracing`, the one C function
   that callgrind is told to count within (`--toggle-collect=sys_call_tracing`); the parent's
   set-up runs uninstrumented, which takes a minute instead of four. Where this environment
   sets `PYTHONDONTWRITEBYTECODE` (every parse then compiles the DAG file and the modules of
   ours it imports), the parses are counted a second time without it, as a deployment that
   leaves Python's default keeps them compiled (the `.pyc` written then are removed after), in
   the same callgrind run (`_count_children`).
2. **Time in the child**: the same parse timed, `--repeat` times per file, the files taking
   turns; the ratios compare the fastest parse of each (noise only ever adds time).
3. **Airflow's own parse duration**: the real `airflow dag-processor` run over a folder of the
   same files, `--processor-runs` times each; the figure Airflow stores as the DAG's
   `last_parse_duration` (the UI's "Last Parse Duration") and sends as the metric
   `dag_processing.last_duration`: from the parsing process's start to its result collected.

For 1 and 2, as the DAG processor does: a parent with Airflow imported forks a child per
parse; the child builds a `DagBag` of that one file and serialises its DAGs (what
`dag_processing.processor` does for a file). The parent is set up as a running processor is:
it has imported the processor's manager, stored each file's result once (`_store_results`),
and imports the Airflow modules the file names before each fork
(`parsing_pre_import_modules`). It never parses a DAG itself (the twins are generated in a
child too): a parent that had would hand its children Airflow's decorators, operators and
jsonschema already loaded, which a running processor does not.

Why this module is long: the three measures share the files, their twins and the parent set up
as a running DAG processor is; kept in one module, they cannot drift apart on what one parse is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.bench import print_json

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
EMPTY = "(DAG rỗng)"
TWIN = "(cùng dạng) "
# The twin with one task (same schedule and Params): with the twin, it tells Airflow's cost per
# task apart from its cost for the schedule and the Params (only for a file of several tasks).
ONE_TASK = "(một tác vụ) "
# The counts with `.pyc` kept, beside the others in the counting run's output.
PYC = "pyc:"

EMPTY_DAG = '''"""An empty DAG: one @dag, one @task."""
import pendulum
from airflow.sdk import dag, task


@dag(dag_id="empty", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False)
def empty():
    @task
    def nothing() -> None:
        return None

    nothing()


empty()
'''


TWIN_DAG = """\"\"\"Same shape as {name}: its schedule, its Params and as many tasks, doing nothing.\"\"\"
import pendulum
from airflow.sdk import CronTriggerTimetable, Param, chain, dag, task


@dag(
    dag_id="twin_{dag_id}",
    schedule={schedule},
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
)
def twin():
    chain(*[task(task_id=f"t{{i}}")(lambda: None)() for i in range({tasks})])


twin().params.update({params})
"""


def _in_child(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` in a forked child, its JSON result handed back through a pipe: the parent
    loads nothing of what `fn` imports or builds."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: work, report, leave without running the parent's cleanup
        try:
            os.close(read)
            try:
                out = json.dumps({"ok": fn(*args), "pid": os.getpid()}).encode()
            except BaseException as exc:  # handed to the parent, which raises it
                out = json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()
            for at in range(0, len(out), 65536):
                os.write(write, out[at : at + 65536])
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    answer = json.loads(b"".join(chunks))
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["ok"], answer["pid"]


def _twin_sources(path: str) -> list[Any]:
    """[twin, one-task twin]: the sources of an empty DAG with the same schedule, Params and
    number of tasks as the DAG in `path`, and of one with a single task (None where the DAG
    has one task only), from one parse of it."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=path, safe_mode=False, load_op_links=False)
    (dag,) = bag.dags.values()
    params = ", ".join(
        f"{key!r}: Param({param.value!r}, **{param.schema!r})" for key, param in dag.params.items()
    )
    schedule = "None"
    timetable = dag.timetable
    if type(timetable).__name__ == "CronTriggerTimetable":
        schedule = f"CronTriggerTimetable({timetable.expression!r}, timezone={str(timetable.timezone)!r})"

    def source(tasks: int) -> str:
        return TWIN_DAG.format(
            name=Path(path).name,
            dag_id=dag.dag_id,
            params="{" + params + "}",
            tasks=tasks,
            schedule=schedule,
        )

    return [source(len(dag.tasks)), source(1) if len(dag.tasks) > 1 else None]


def _parse(path: str, keep: bool, counted: bool) -> list[Any]:
    """[seconds, DAGs found, import errors, the serialised DAGs if `keep`, tasks] of one parse."""
    import structlog
    from airflow.dag_processing.dagbag import DagBag
    from airflow.dag_processing.processor import _serialize_dags

    def work() -> tuple[Any, list, dict]:
        bag = DagBag(dag_folder=path, safe_mode=False, load_op_links=False)
        serialized, errors = _serialize_dags(bag, structlog.get_logger())
        return bag, serialized, errors

    start = time.perf_counter()
    # callgrind counts only inside sys.call_tracing (see the module's docstring).
    bag, serialized, errors = sys.call_tracing(work, ()) if counted else work()
    elapsed = time.perf_counter() - start
    bag.import_errors.update(errors)
    serialised = [d.data for d in serialized] if keep else []
    tasks = sum(len(dag.tasks) for dag in bag.dags.values())
    return [elapsed, len(bag.dags), len(bag.import_errors), serialised, tasks]


def _parse_in_child(path: Path, keep: bool = False, counted: bool = False) -> tuple[list[Any], int]:
    import structlog
    from airflow.dag_processing.processor import _pre_import_airflow_modules

    # As `DagFileProcessorProcess.start` does before it forks: the Airflow modules the file
    # imports are imported in the parent (`[dag_processor] parsing_pre_import_modules`).
    _pre_import_airflow_modules(os.fspath(path), structlog.get_logger())
    return _in_child(_parse, os.fspath(path), keep, counted)


def _store_results(path: Path) -> None:
    """What the DAG processor's own process does with a file's result: it reads each
    serialised DAG's timetable (its summary and description, for the DAG's row). A running
    processor has done so for every file before, so its children start with the timetable
    classes, croniter and cron-descriptor loaded; a parent fresh from `import airflow` has not."""
    from airflow.serialization.serialized_objects import LazyDeserializedDAG

    for data in _parse_in_child(path, keep=True)[0][3]:
        timetable = LazyDeserializedDAG(data=data).timetable
        timetable.summary, timetable.description  # noqa: B018


def _set_up_parent() -> None:
    # What the DAG processor's own process has imported before it forks a parser: its manager
    # (which stores the results: the serialised DAG's models) and the file processor.
    import airflow.sdk  # noqa: F401
    from airflow.dag_processing import manager, processor  # noqa: F401


def _warm_parent(files: dict[str, Path]) -> None:
    """The parent of the measured parses, as a running processor is: set up, and each file's
    result stored once (the file system's cache, and the processor's own state)."""
    _set_up_parent()
    for path in files.values():
        _store_results(path)


def write_files(folder: Path) -> dict[str, Path]:
    """The empty DAG, every file of `dags/`, each one's twin, and for a file of several tasks
    its one-task twin, in `folder`."""
    _set_up_parent()
    empty = folder / "empty_dag.py"
    empty.write_text(EMPTY_DAG, encoding="utf-8")
    files = {EMPTY: empty}
    for path in sorted(DAGS.glob("*.py")):
        files[path.name] = path
    for name, path in list(files.items())[1:]:
        (twin, one_task), _pid = _in_child(_twin_sources, os.fspath(path))
        files[TWIN + name] = folder / f"twin_{name}"
        files[TWIN + name].write_text(twin, encoding="utf-8")
        if one_task is not None:
            files[ONE_TASK + name] = folder / f"one_task_{name}"
            files[ONE_TASK + name].write_text(one_task, encoding="utf-8")
    return files


def timed(files: dict[str, Path], repeat: int) -> dict[str, dict[str, Any]]:
    """Method 2: each file's parse timed `repeat` times in forked children, the files taking turns."""
    _warm_parent(files)
    times: dict[str, list[float]] = {name: [] for name in files}
    found: dict[str, tuple[int, int, int]] = {}
    for _ in range(repeat):
        for name, path in files.items():
            (elapsed, dags, errors, _, tasks), _pid = _parse_in_child(path)
            times[name].append(elapsed)
            found[name] = (dags, errors, tasks)
    return {
        name: {
            "median_ms": round(statistics.median(values) * 1000, 1),
            "min_ms": round(min(values) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
            "dags": found[name][0],
            "import_errors": found[name][1],
            "tasks": found[name][2],
        }
        for name, values in times.items()
    }


def _count_children(files: dict[str, Path], pyc: bool = False) -> dict[str, int]:
    """Under callgrind: parse each file once in a counted child; {name: that child's pid}.
    With `pyc`, then as where `.pyc` files are written (`PYC` + name): each file parsed once more,
    uninstrumented, with bytecode written (the DAG file and the modules it imports compiled and
    kept, as a running processor's earlier parse leaves them), then counted again; in the same
    valgrind process, whose start-up and warm parent (~20 s) are then paid once, not twice."""
    _warm_parent(files)
    start_instrumenting()
    pids = {}

    def count(prefix: str) -> None:
        for name, path in files.items():
            (_, dags, errors, _, _), pid = _parse_in_child(path, counted=True)
            if dags != 1 or errors:
                raise RuntimeError(f"{name}: {dags} DAGs, {errors} import errors")
            pids[prefix + name] = pid

    count("")
    if pyc:
        start_instrumenting(False)
        sys.dont_write_bytecode = False
        for path in files.values():
            _parse_in_child(path)
        start_instrumenting()
        count(PYC)
    return pids


def start_instrumenting(on: bool = True) -> None:
    """Under `callgrind()`, which starts a program uninstrumented (`--instr-atstart=no`, several
    times quicker through its imports): instrument this process from now on, and the children
    it forks (`on=False`: no longer). Nothing is counted but inside `sys.call_tracing` all the same."""
    command = ["callgrind_control", f"--instr={'on' if on else 'off'}", str(os.getpid())]
    subprocess.run(command, capture_output=True, check=True)


def callgrind(command: list[str], bytecode: bool = False) -> dict[str, int] | None:
    """Run `command` (a Python program) under callgrind, counting only inside
    `sys.call_tracing` once the program has called `start_instrumenting()`. Its last line of
    output is a JSON object {name: pid} of the processes that did the work to count. Returns
    {name: instructions}, or None without valgrind or where nothing was counted (a Python
    whose `sys_call_tracing` symbol callgrind cannot see). With `bytecode`, the program runs
    without `PYTHONDONTWRITEBYTECODE`, so that Python keeps each compiled module as a `.pyc`
    (its default) and a second import of a module reads it instead of compiling the source."""
    valgrind = shutil.which("valgrind")
    if not valgrind:
        return None
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as tmp:
        done = subprocess.run(
            [
                valgrind,
                "--tool=callgrind",
                "--instr-atstart=no",
                "--collect-atstart=no",
                "--toggle-collect=sys_call_tracing",
                f"--callgrind-out-file={tmp}/cg.%p",
                *command,
            ],
            cwd=REPO,
            env={
                **{k: v for k, v in os.environ.items() if not (bytecode and k == "PYTHONDONTWRITEBYTECODE")},
                "PYTHONHASHSEED": "0",
            },
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"callgrind run failed:\n{done.stderr[-3000:]}")
        pids = json.loads(done.stdout.strip().splitlines()[-1])
        counts = {}
        for name, pid in pids.items():
            text = (Path(tmp) / f"cg.{pid}").read_text(encoding="utf-8", errors="replace")
            found = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            counts[name] = int(found.group(1)) if found else 0
    return counts if counts and all(counts.values()) else None


def counted(files: dict[str, Path], pyc: bool = False) -> tuple[dict[str, int] | None, dict[str, int] | None]:
    """Method 1: ({name: instructions of one parse} as this environment is, the same where `.pyc`
    files are written or None), or (None, None) where callgrind cannot count. With `pyc`, in the
    same run, after the first counts: each file parsed once with bytecode written (as a running
    processor's earlier parses leave the DAG file and the modules it imports compiled), then
    counted again loading them; the `.pyc` written are removed after."""
    with tempfile.TemporaryDirectory(prefix="bench-files-") as tmp, removing_new_bytecode():
        listing = Path(tmp) / "files.json"
        listing.write_text(json.dumps({k: os.fspath(v) for k, v in files.items()}), encoding="utf-8")
        command = [sys.executable, "-m", "tests.bench.dag_parse", "--count-children", str(listing)]
        counts = callgrind(command + (["--with-pyc"] if pyc else []))
    if counts is None:
        return None, None
    strict = {name: n for name, n in counts.items() if not name.startswith(PYC)}
    kept = {name.removeprefix(PYC): n for name, n in counts.items() if name.startswith(PYC)}
    return strict, (kept or None)


@contextlib.contextmanager
def removing_new_bytecode() -> Iterator[None]:
    """The .pyc files written beside the project's sources inside the block are taken away after
    it: a later count as this environment is (which reads a .pyc it finds) must compile them."""

    def found() -> set[Path]:
        return {
            path
            for folder in ("dags", "plugins", "include", "tests")
            for path in (REPO / folder).rglob("*.pyc")
        }

    before = found()
    try:
        yield
    finally:
        for path in found() - before:
            path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- method 3


def _processor_main(folder: Path, runs: int) -> dict[str, list[float]]:
    """Run `airflow dag-processor -n runs` in this process over `folder` (its configuration
    already in the environment); {file: each parse's duration in seconds, as Airflow records it}."""
    from airflow.dag_processing import manager

    durations: dict[str, list[float]] = {}
    record = manager.process_parse_results

    def recording(**kwargs: Any) -> Any:
        durations.setdefault(kwargs["relative_fileloc"], []).append(kwargs["run_duration"])
        return record(**kwargs)

    manager.process_parse_results = recording
    from airflow.__main__ import main

    sys.argv = ["airflow", "dag-processor", "-n", str(runs)]
    try:
        main()
    except SystemExit:
        pass
    return durations


def processor(files: dict[str, Path], runs: int) -> dict[str, dict[str, float]]:
    """Method 3: the real DAG processor over a folder holding copies of `files`, `runs` parses
    each (the first, which fills caches, left out)."""
    with tempfile.TemporaryDirectory(prefix="bench-dag-processor-") as tmp:
        home, folder = Path(tmp) / "home", Path(tmp) / "dags"
        home.mkdir()
        folder.mkdir()
        names = {}
        for name, path in files.items():
            shutil.copy(path, folder / path.name)
            names[path.name] = name
        env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            # Every file parsed again as soon as the loop comes round, one at a time, so that
            # no two parses compete for the two cores.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "0",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        }
        migrated = Path(os.environ.get("AIRFLOW_HOME", REPO / ".airflow")) / "airflow.db"
        if migrated.is_file():  # `make bench` has migrated one; a copy is quicker than migrating
            shutil.copy(migrated, home / "airflow.db")
        else:
            subprocess.run(
                [sys.executable, "-m", "airflow", "db", "migrate"],
                env=env,
                capture_output=True,
                check=True,
                timeout=600,
            )
        done = subprocess.run(
            [sys.executable, "-m", "tests.bench.dag_parse", "--processor-child", str(folder), str(runs)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        durations = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else {}
        if set(durations) != {path.name for path in files.values()}:
            log = (Path(tmp) / "dag-processor.log").read_text(encoding="utf-8", errors="replace")
            parsed = sorted(durations)
            raise RuntimeError(f"the dag-processor did not parse every file ({parsed}):\n{log[-3000:]}")
    out = {}
    for file, values in durations.items():
        values = values[1:] or values
        out[names[file]] = {
            "min_ms": round(min(values) * 1000, 1),
            "median_ms": round(statistics.median(values) * 1000, 1),
            "parses": len(values),
        }
    return out


# --------------------------------------------------------------------------- together


def count_all() -> dict[str, dict[str, int] | None]:
    """Method 1 alone, for `measure(counts=...)`: {"strict": counts, "pyc": counts or None}.
    Instructions do not depend on what else the machine runs: `tests.bench.run` counts them
    while it sets up the `dag.test()` runs, and times the parses after."""
    with tempfile.TemporaryDirectory(prefix="bench-dags-") as tmp:
        # Where this environment writes no .pyc (PYTHONDONTWRITEBYTECODE), also counted as a
        # deployment that leaves Python's default is: each file's compiled code kept.
        strict, pyc = counted(write_files(Path(tmp)), pyc=sys.dont_write_bytecode)
    return {"strict": strict, "pyc": pyc}


def measure(
    repeat: int = 15,
    processor_runs: int = 16,
    instructions: bool = True,
    counts: dict[str, dict[str, int] | None] | None = None,
) -> dict:
    """The three methods; `counts`: method 1's figures already counted (`count_all`)."""
    with tempfile.TemporaryDirectory(prefix="bench-dags-") as tmp:
        files = write_files(Path(tmp))
        out = timed(files, repeat)
        if counts is None and instructions:
            counts = count_all()
        counts_pyc = counts["pyc"] if counts else None
        counts = counts["strict"] if counts else None
        if counts and set(counts) != set(files):
            raise RuntimeError(f"the counts are of other files: {sorted(counts)} against {sorted(files)}")
        airflow_durations = processor(files, processor_runs) if processor_runs else {}
    base = out[EMPTY]["min_ms"]
    for name, figures in out.items():
        figures["ratio"] = round(figures["min_ms"] / base, 3)
        if name in airflow_durations:
            figures["processor"] = airflow_durations[name]
            figures["processor_ratio"] = round(
                airflow_durations[name]["min_ms"] / airflow_durations[EMPTY]["min_ms"], 3
            )
        twin = out.get(TWIN + name)
        if twin:
            figures["ratio_to_twin"] = round(figures["min_ms"] / twin["min_ms"], 3)
        for key, count in (("instructions", counts), ("instructions_pyc", counts_pyc)):
            if count:
                figures[f"{key}_m"] = round(count[name] / 1e6, 2)
                figures[f"{key}_ratio"] = round(count[name] / count[EMPTY], 3)
                if twin:
                    figures[f"{key}_ratio_to_twin"] = round(count[name] / count[TWIN + name], 3)
    return {
        "repeat": repeat,
        "processor_runs": processor_runs,
        "instructions": bool(counts),
        # Set (as on this machine), Python writes no .pyc: every parse compiles the DAG file
        # and what it imports of its own.
        "dont_write_bytecode": bool(sys.dont_write_bytecode),
        "files": out,
        "airflow_cost": airflow_cost(out, counts_pyc or counts, with_pyc=bool(counts_pyc)),
    }


def airflow_cost(
    files: dict[str, dict[str, Any]], counts: dict[str, int] | None, with_pyc: bool
) -> dict[str, dict[str, Any]]:
    """For each file of several tasks, from the counts (with `.pyc` kept where there are such):
    what Airflow spends on each task (its twin against its one-task twin), on the schedule and
    the Params (the one-task twin against the empty DAG), and what the file's own code adds
    beyond its twin; in millions of instructions."""
    if not counts:
        return {}
    out = {}
    for name, figures in files.items():
        if ONE_TASK + name not in files:
            continue
        tasks = figures["tasks"]
        twin, one = counts[TWIN + name], counts[ONE_TASK + name]
        out[name] = {
            "tasks": tasks,
            "empty_m": round(counts[EMPTY] / 1e6, 2),
            "per_task_m": round((twin - one) / (tasks - 1) / 1e6, 2),
            "schedule_params_m": round((one - counts[EMPTY]) / 1e6, 2),
            "own_m": round((counts[name] - twin) / 1e6, 2),
            "with_pyc": with_pyc,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--processor-runs", type=int, default=16)
    parser.add_argument("--no-instructions", action="store_true")
    parser.add_argument("--count-children", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--with-pyc", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--counts-out", type=Path, help="only count the instructions, into this JSON file")
    parser.add_argument("--counts-in", type=Path, help="the instructions counted by --counts-out")
    parser.add_argument("--processor-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count_children:  # inside callgrind
        listing = json.loads(args.count_children.read_text(encoding="utf-8"))
        return print_json(_count_children({k: Path(v) for k, v in listing.items()}, args.with_pyc))
    if args.processor_child:  # the dag-processor; its own output goes to its log file
        folder, runs = args.processor_child
        stdout = os.dup(1)
        log = os.open(Path(folder).parent / "dag-processor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(log, 1)
        os.dup2(log, 2)
        durations = _processor_main(Path(folder), int(runs))
        sys.stdout.flush()
        os.dup2(stdout, 1)
        return print_json(durations)
    if args.counts_out:
        args.counts_out.write_text(json.dumps(count_all(), ensure_ascii=False), encoding="utf-8")
        return 0
    counts = json.loads(args.counts_in.read_text(encoding="utf-8")) if args.counts_in else None
    return print_json(measure(args.repeat, args.processor_runs, not args.no_instructions, counts))


if __name__ == "__main__":
    raise SystemExit(main())
