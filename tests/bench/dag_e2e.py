"""Benchmark: one end-to-end `dag.test()` of `provincial_report` over the local source.

    python -m tests.bench.dag_e2e UNITS [--prepared DIR]
    python -m tests.bench.dag_e2e UNITS --prepare DIR

prints one JSON object. Setup (not measured, `prepare`): `SyntheticCountry(UNITS)` writes its
`units.yaml`, one .xlsx workbook per unit for the period (in as many forked processes as
there are cores), and an archive of 24 earlier periods (`scale.write_archive`); a copy of the
archive is the report database of a temporary output folder. `--prepare DIR` only sets up, in
DIR; `--prepared DIR` runs on what DIR holds (`tests.bench.run` sets every size up while
callgrind counts the DAG files' parses, and its `scale` runs use the same archives).
Variables point the DAG at them (`report_config_dir`, `report_source`, `report_output_dir`,
delivery `outbox`).
Then a child process loads the DAG from `dags/` and runs it with `dag.test()`, as
`make demo` does, against the metadata database of `AIRFLOW_HOME` (migrated by
`make bench`). Measured: the run's wall time, and from the metadata database each task
instance's duration and the number of mapped fetch tasks.

Each task's own time and peak memory: `dag.test()` runs every task in this one process, where
the executors give each its own. Each task body (`housing_report_airflow.tasks`) is wrapped:
before it, the process's resources are dropped (`resources.reset()`: the Variables, the config
and the report database are loaded again, as a task's own process loads them), the garbage is
collected and the C heap's free memory handed back to the system (`malloc_trim`), and the
peak resident set is reset (`/proc/self/clear_refs`); after it, the peak (VmHWM) is read. A
task's peak is therefore the process's resident set at its highest during that task, the
interpreter, Airflow and the libraries included, as a task process's is (what earlier tasks
left allocated is included too: an upper bound).

The collection before each task is one, and the objects alive when the first task starts are
frozen (`gc.freeze`, see `_collect_garbage`): a full collection of this process's heap
(~0.7 M objects) took ~0.5 s, and two per task made each small task's time mostly the bench's
own (16 fetch tasks of ~0.08 s each took ~1.2 s each). Frozen objects stay in the resident set
(they are counted, as before); what cannot be collected any more is only what the first task's
start held and dropped later as a cycle (a little: the upper bound stays an upper bound), and
Python's own collections during a task no longer walk the frozen objects (within the noise of
the task times).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import print_json
from tests.bench.scale import peak_kb, reset_peak, write_archive
from tests.bench.synthetic import HISTORY_PERIODS, SyntheticCountry

REPO = Path(__file__).resolve().parents[2]


# The task bodies of `provincial_report` (housing_report_airflow.tasks) and their tasks.
TASK_BODIES = {
    "resolve_period": "resolve_period",
    "plan_fetch_batches": "plan_fetch_batches",
    "fetch_batch": "fetch_unit_reports",
    "aggregate": "aggregate_reports",
    "deliver": "deliver_report",
    "send_feedback": "send_unit_feedback",
}


def _trim_heap() -> None:
    """Hand the C heap's free memory back to the system (glibc), as a new process has none."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _collect_garbage() -> None:
    """Collect what earlier tasks left, as a new process has none of it. The objects alive when
    the first task starts (Airflow, the DAG, the in-process API server, the modules imported:
    ~0.7 M) are frozen then (`gc.freeze`), so that each collection after that walks only what
    the run has made since: ~0.1 s, where a collection of the whole heap took ~0.5 s (and the
    wrapper made two per task: a second of each small task's time was the bench's own)."""
    gc.collect()
    if not gc.get_freeze_count():
        gc.freeze()


def measure_task_bodies(records: list[dict]) -> None:
    """Wrap each task body: its time and its peak resident set, as if in a process of its own
    (see the module's docstring). One record per task instance, in `records`."""
    from housing_report_airflow import resources, tasks

    for function, task_id in TASK_BODIES.items():
        body = getattr(tasks, function)

        def measured(*args, _body=body, _task_id=task_id, **kwargs):
            resources.reset()
            _collect_garbage()
            _trim_heap()
            before = reset_peak(collect=False)
            start = time.perf_counter()
            try:
                return _body(*args, **kwargs)
            finally:
                records.append(
                    {
                        "task_id": _task_id,
                        "seconds": round(time.perf_counter() - start, 3),
                        "rss_before_mb": round(before / 1024, 1),
                        "peak_mb": round(peak_kb() / 1024, 1),
                    }
                )

        setattr(tasks, function, measured)


def _child(period: str, result_path: str) -> int:
    """In the child: load the DAG, run it, write what the metadata database says of the run."""
    from airflow.dag_processing.dagbag import DagBag

    from housing_report_airflow.dag_runner import run_dag_test

    bag = DagBag(dag_folder=str(REPO / "dags"), safe_mode=False)
    dag = bag.dags["provincial_report"]
    bodies: list[dict] = []
    measure_task_bodies(bodies)
    start = time.perf_counter()
    run = run_dag_test(dag, run_conf={"period": period, "dry_run": False})
    elapsed = time.perf_counter() - start

    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    tasks = []
    with create_session() as session:
        rows = session.query(TaskInstance).filter(
            TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == run.run_id
        )
        for ti in rows:
            duration = (
                (ti.end_date - ti.start_date).total_seconds() if ti.start_date and ti.end_date else None
            )
            tasks.append(
                {
                    "task_id": ti.task_id,
                    "map_index": ti.map_index,
                    "state": str(ti.state),
                    "seconds": duration,
                }
            )
    Path(result_path).write_text(
        json.dumps(
            {
                "state": str(run.state),
                "run_seconds": elapsed,
                "tasks": tasks,
                "bodies": bodies,
                "process_peak_mb": round(peak_kb() / 1024, 1),
            }
        ),
        encoding="utf-8",
    )
    return 0


def prepare(units: int, folder: Path) -> dict:
    """What the run reads, in `folder`: `config/`, `source/` (a workbook per unit) and
    `archive.sqlite` (the 24 earlier periods, never written by a run: each copies it)."""
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    country = SyntheticCountry(units)
    country.write_config(folder / "config")
    workbooks = country.write_workbooks(folder / "source", HISTORY_PERIODS, processes=os.cpu_count() or 1)
    write_archive(units, folder / "archive.sqlite")
    return {"units": units, "workbooks": workbooks, "setup_seconds": round(time.perf_counter() - started, 1)}


def measure(units: int, prepared: Path | None = None) -> dict:
    """One `dag.test()` at `units`, on what `prepare` wrote in `prepared` (else in a folder of
    its own, first)."""
    out: dict = {"units": units}
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        setup = prepare(units, root) if prepared is None else None
        prepared = prepared or root
        country = SyntheticCountry(units)
        config_dir, source, output = prepared / "config", prepared / "source", root / "output"
        output.mkdir()
        shutil.copyfile(prepared / "archive.sqlite", output / "reports.sqlite")
        out["workbooks"] = len(list(source.glob("*.xlsx")))
        out["setup_seconds"] = setup["setup_seconds"] if setup else round(time.perf_counter() - started, 1)

        env = dict(os.environ)
        env.update(
            AIRFLOW_VAR_REPORT_CONFIG_DIR=str(config_dir),
            AIRFLOW_VAR_REPORT_SOURCE=str(source),
            AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(output),
            AIRFLOW_VAR_REPORT_DELIVERY="outbox",
        )
        env.pop("AIRFLOW_CONN_REPORT_DB", None)
        # The approved report is signed (the run's approval is answered as the demo answers
        # it): with the demo's throwaway certificate, as `make demo` signs, unless one is set.
        from housing_report_airflow.demo import demo_signing

        demo_signing(env, Path(os.environ.get("AIRFLOW_HOME", REPO / ".airflow")))
        result_path = root / "result.json"
        log_path = root / "airflow.log"
        with log_path.open("w", encoding="utf-8") as log:
            code = subprocess.call(
                [
                    sys.executable,
                    "-m",
                    "tests.bench.dag_e2e",
                    "--child",
                    country.period.isoformat(),
                    str(result_path),
                ],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if code != 0 or not result_path.exists():
            tail = log_path.read_text(encoding="utf-8").splitlines()[-30:]
            raise RuntimeError(f"dag.test() failed ({code}):\n" + "\n".join(tail))
        result = json.loads(result_path.read_text(encoding="utf-8"))
        if result["state"] != "success":
            tail = log_path.read_text(encoding="utf-8").splitlines()[-60:]
            raise RuntimeError(f"dag.test() ended {result['state']}:\n" + "\n".join(tail))
        period_dir = output / country.period.isoformat()
        summary = json.loads((period_dir / "summary.json").read_text(encoding="utf-8"))
        reports = list((period_dir / "outbox").glob("*.eml"))
        feedback = list((period_dir / "feedback").glob("*.eml"))
    tasks = result["tasks"]
    fetch = [t for t in tasks if t["task_id"] == "fetch_unit_reports"]
    by_task: dict[str, float] = {}
    for t in tasks:
        by_task[t["task_id"]] = round(by_task.get(t["task_id"], 0.0) + (t["seconds"] or 0.0), 2)
    memory: dict[str, dict] = {}
    for body in result["bodies"]:
        m = memory.setdefault(
            body["task_id"], {"instances": 0, "seconds_max": 0.0, "peak_mb": 0.0, "rss_before_mb": 0.0}
        )
        m["instances"] += 1
        m["seconds_max"] = max(m["seconds_max"], body["seconds"])
        m["peak_mb"] = max(m["peak_mb"], body["peak_mb"])
        m["rss_before_mb"] = max(m["rss_before_mb"], body["rss_before_mb"])
    out.update(
        task_memory=memory,
        task_peak_mb=max((m["peak_mb"] for m in memory.values()), default=0.0),
        state=result["state"],
        run_seconds=round(result["run_seconds"], 1),
        per_unit_ms=round(1000 * result["run_seconds"] / units, 1),
        task_instances=len(tasks),
        fetch_task_instances=len(fetch),
        task_seconds=by_task,
        statuses=summary["status_counts"],
        emails=len(reports),
        feedback_emails=len(feedback),
    )
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child(argv[1], argv[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("units", type=int)
    parser.add_argument("--prepare", type=Path, help="only set up, in this folder")
    parser.add_argument("--prepared", type=Path, help="run on what --prepare wrote in this folder")
    args = parser.parse_args(argv)
    if args.prepare:
        return print_json(prepare(args.units, args.prepare))
    return print_json(measure(args.units, args.prepared))


if __name__ == "__main__":
    raise SystemExit(main())
