"""Benchmark: one end-to-end `dag.test()` of `provincial_report` over the local source.

    python -m tests.bench.dag_e2e UNITS

prints one JSON object. Setup (not measured): `SyntheticCountry(UNITS)` writes its
`units.yaml`, one .xlsx workbook per unit for the period, and an archive of 24 earlier
periods in the report database of a temporary output folder; Variables point the DAG at
them (`report_config_dir`, `report_source`, `report_output_dir`, delivery `outbox`).
Then a child process loads the DAG from `dags/` and runs it with `dag.test()`, as
`make demo` does, against the metadata database of `AIRFLOW_HOME` (migrated by
`make bench`). Measured: the run's wall time, and from the metadata database each task
instance's duration and the number of mapped fetch tasks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from housing_report.archive.store import ReportStore, sqlite_url
from tests.bench import print_json
from tests.bench.scale import build_archive
from tests.bench.synthetic import HISTORY_PERIODS, SyntheticCountry

REPO = Path(__file__).resolve().parents[2]


def _child(period: str, result_path: str) -> int:
    """In the child: load the DAG, run it, write what the metadata database says of the run."""
    from airflow.dag_processing.dagbag import DagBag

    from housing_report_airflow.dag_runner import run_dag_test

    bag = DagBag(dag_folder=str(REPO / "dags"), safe_mode=False)
    dag = bag.dags["provincial_report"]
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
        json.dumps({"state": str(run.state), "run_seconds": elapsed, "tasks": tasks}), encoding="utf-8"
    )
    return 0


def measure(units: int) -> dict:
    out: dict = {"units": units}
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        country = SyntheticCountry(units)
        config_dir = country.write_config(root / "config")
        source = root / "source"
        out["workbooks"] = country.write_workbooks(source, HISTORY_PERIODS)
        output = root / "output"
        store = ReportStore(sqlite_url(output / "reports.sqlite"))
        store.ensure_schema()
        build_archive(country, store)
        store.engine.dispose()
        out["setup_seconds"] = round(time.perf_counter() - started, 1)

        env = dict(os.environ)
        env.update(
            AIRFLOW_VAR_REPORT_CONFIG_DIR=str(config_dir),
            AIRFLOW_VAR_REPORT_SOURCE=str(source),
            AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(output),
            AIRFLOW_VAR_REPORT_DELIVERY="outbox",
        )
        env.pop("AIRFLOW_CONN_REPORT_DB", None)
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
        period_dir = output / country.period.isoformat()
        summary = json.loads((period_dir / "summary.json").read_text(encoding="utf-8"))
        reports = list((period_dir / "outbox").glob("*.eml"))
        feedback = list((period_dir / "feedback").glob("*.eml"))
    tasks = result["tasks"]
    fetch = [t for t in tasks if t["task_id"] == "fetch_unit_reports"]
    by_task: dict[str, float] = {}
    for t in tasks:
        by_task[t["task_id"]] = round(by_task.get(t["task_id"], 0.0) + (t["seconds"] or 0.0), 2)
    out.update(
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
    args = parser.parse_args(argv)
    return print_json(measure(args.units))


if __name__ == "__main__":
    raise SystemExit(main())
