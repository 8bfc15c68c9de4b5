"""Benchmark: how long the DAG processor takes to parse each file of `dags/`, beside an empty DAG.

    python -m tests.bench.dag_parse [--repeat N]

prints one JSON object. As Airflow 3's DAG processor does, a parent process that has Airflow
imported forks a child per parse; the child builds a `DagBag` of that one file and
serialises its DAGs (what `dag_processing.processor` does for a file), and reports how long
that took (everything the file imports on its own counts). The parent is set up as a running
processor is: it has imported the processor's manager, stored each file's result once
(`_store_results`), and imports the Airflow modules the file names before each fork
(`parsing_pre_import_modules`). Each file is parsed `--repeat` times, the files taking turns
so that the machine's noise falls on all alike; the ratios compare the fastest parse of each
(noise only ever adds time). The empty DAG is a file with one `@dag` and one `@task`,
written in a temporary folder. The ratio to it is the figure to watch: a DAG file that
imports pandas, gspread or the database at parse time shows as several times the empty one.

Each file also has a twin: an empty DAG of the same shape (its schedule, its Params given
the same way, as many tasks, doing nothing), generated from the parsed DAG. The ratio to the
twin is what the file's own code costs at parse time, apart from what Airflow spends on any
DAG of that shape (making and serialising each task, validating each Param's schema).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.bench import print_json

DAGS = Path(__file__).resolve().parents[2] / "dags"

EMPTY_DAG = '''"""An empty DAG: the yardstick."""
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


twin().params = {params}
"""


def twin_source(path: Path) -> str:
    """An empty DAG with the same Params and number of tasks as the DAG in `path`."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(path), safe_mode=False, load_op_links=False)
    (dag,) = bag.dags.values()
    params = ", ".join(
        f"{key!r}: Param({param.value!r}, **{param.schema!r})" for key, param in dag.params.items()
    )
    schedule = "None"
    timetable = dag.timetable
    if type(timetable).__name__ == "CronTriggerTimetable":
        schedule = f"CronTriggerTimetable({timetable.expression!r}, timezone={str(timetable.timezone)!r})"
    return TWIN_DAG.format(
        name=path.name,
        dag_id=dag.dag_id,
        params="{" + params + "}",
        tasks=len(dag.tasks),
        schedule=schedule,
    )


def _parse_in_child(path: Path, keep: bool = False) -> tuple[float, int, int, list[dict]]:
    """(seconds, DAGs found, import errors, the serialised DAGs if `keep`) of parsing `path`
    in a forked child."""
    import structlog
    from airflow.dag_processing.dagbag import DagBag
    from airflow.dag_processing.processor import _pre_import_airflow_modules, _serialize_dags

    # As `DagFileProcessorProcess.start` does before it forks: the Airflow modules the file
    # imports are imported in the parent (`[dag_processor] parsing_pre_import_modules`).
    _pre_import_airflow_modules(os.fspath(path), structlog.get_logger())
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: parse, report, leave without running the parent's cleanup
        try:
            os.close(read)
            start = time.perf_counter()
            bag = DagBag(dag_folder=str(path), safe_mode=False, load_op_links=False)
            serialized, errors = _serialize_dags(bag, structlog.get_logger())
            bag.import_errors.update(errors)
            elapsed = time.perf_counter() - start
            data = [dag.data for dag in serialized] if keep else []
            out = json.dumps([elapsed, len(bag.dags), len(bag.import_errors), data]).encode()
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
    elapsed, dags, errors, data = json.loads(b"".join(chunks))
    return elapsed, dags, errors, data


def _store_results(path: Path) -> None:
    """What the DAG processor's own process does with a file's result: it reads each
    serialised DAG's timetable (its summary and description, for the DAG's row). A running
    processor has done so for every file before, so its children start with the timetable
    classes, croniter and cron-descriptor loaded; a parent fresh from `import airflow` has not."""
    from airflow.serialization.serialized_objects import LazyDeserializedDAG

    for data in _parse_in_child(path, keep=True)[3]:
        timetable = LazyDeserializedDAG(data=data).timetable
        timetable.summary, timetable.description  # noqa: B018


def measure(repeat: int = 7) -> dict:
    # What the DAG processor's own process has imported before it forks a parser: its manager
    # (which stores the results: the serialised DAG's models) and the file processor.
    import airflow.sdk  # noqa: F401
    from airflow.dag_processing import manager, processor  # noqa: F401

    with tempfile.TemporaryDirectory(prefix="bench-dags-") as tmp:
        empty = Path(tmp) / "empty_dag.py"
        empty.write_text(EMPTY_DAG, encoding="utf-8")
        files = {"(DAG rỗng)": empty, **{p.name: p for p in sorted(DAGS.glob("*.py"))}}
        twins = {}
        for name, path in list(files.items())[1:]:
            twin = Path(tmp) / f"twin_{name}"
            twin.write_text(twin_source(path), encoding="utf-8")
            twins[f"(cùng dạng) {name}"] = twin
        files.update(twins)
        times: dict[str, list[float]] = {name: [] for name in files}
        found: dict[str, tuple[int, int]] = {}
        for path in files.values():  # the file system's cache, and the processor's own state
            _store_results(path)
        for _ in range(repeat):
            for name, path in files.items():
                elapsed, dags, errors, _ = _parse_in_child(path)
                times[name].append(elapsed)
                found[name] = (dags, errors)
    # Ratios of the fastest parses: the machine's noise only ever adds time.
    base = min(times["(DAG rỗng)"])
    out = {}
    for name, values in times.items():
        out[name] = {
            "median_ms": round(statistics.median(values) * 1000, 1),
            "min_ms": round(min(values) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
            "ratio": round(min(values) / base, 3),
            "dags": found[name][0],
            "import_errors": found[name][1],
        }
        twin = times.get(f"(cùng dạng) {name}")
        if twin:
            out[name]["ratio_to_twin"] = round(min(values) / min(twin), 3)
    return {"repeat": repeat, "files": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    return print_json(measure(args.repeat))


if __name__ == "__main__":
    raise SystemExit(main())
