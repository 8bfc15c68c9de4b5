"""Answer a run's approval the way a person's answer arrives, for `dag.test()` (the demo, the tests).

A person answers in Browse → Required Actions; the UI sends the answer to Airflow's public REST
API (`PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}/{map}/hitlDetails`), which
records it and puts the waiting task back to be scheduled. `answering(...)` does exactly that
from a process of its own (`python -m housing_report_airflow.answer`): it watches the metadata
database for a task of the DAG waiting for input and sends `Answer` to the REST API's own
application (Airflow's FastAPI app, called in that process), as the user `Answer.user` with a
token from the configured auth manager. Nothing is written behind the API's back: its checks
(the assigned users, the options, answered once) apply.

No answer (`Answer(None)`): the thread instead runs, once the deadline has passed, the
scheduler's own sweep of expired waits (`SchedulerJobRunner.check_awaiting_input_timeouts`),
which a deployment's scheduler runs on its loop; `dag.test()` has no scheduler.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger(__name__)
POLL_S = 0.5


@dataclass(frozen=True)
class Answer:
    """What the approver answers: `option` (None: nobody answers), the form's fields, as whom."""

    option: str | None
    fields: Mapping[str, Any] = field(default_factory=dict)
    user: str = "admin"
    role: str = "ADMIN"


def _client(answer: Answer):
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from fastapi.testclient import TestClient

    app = create_app(apps="core")
    manager = get_auth_manager()
    user = manager.deserialize_user({"sub": answer.user, "role": answer.role})
    token = manager.generate_jwt(user)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def _waiting(dag_id: str) -> list[tuple[str, str, int, dict]]:
    """(run_id, task_id, map_index, params) of the DAG's tasks waiting for an answer."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance)
            .where(TaskInstance.dag_id == dag_id, TaskInstance.state == TaskInstanceState.AWAITING_INPUT)
            .options(joinedload(TaskInstance.hitl_detail))
        ).all()
        return [
            (ti.run_id, ti.task_id, ti.map_index, dict(ti.hitl_detail.params or {}))
            for ti in tis
            if ti.hitl_detail is not None and ti.hitl_detail.responded_at is None
        ]


def _fail_waiting(dag_id: str) -> None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    with create_session() as session:
        for ti in session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_id, TaskInstance.state == TaskInstanceState.AWAITING_INPUT
            )
        ):
            ti.state = TaskInstanceState.FAILED


def _sweep_expired() -> None:
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

    SchedulerJobRunner(job=Job(), executors=[]).check_awaiting_input_timeouts()


def respond(
    client: Any, dag_id: str, run_id: str, task_id: str, map_index: int, params: dict, answer: Answer
) -> None:
    """Send `answer` for one waiting task through the REST API (`client`, from `_client`);
    raises on a refusal."""
    fields = {name: (spec.get("value") if isinstance(spec, dict) else spec) for name, spec in params.items()}
    fields.update(answer.fields)
    response = client.patch(
        f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/hitlDetails",
        json={"chosen_options": [answer.option], "params_input": fields},
    )
    if response.status_code != 200:
        raise RuntimeError(f"HITL answer refused: {response.status_code} {response.text}")
    log.info("Answered %s/%s/%s as %s: %s", dag_id, run_id, task_id, answer.user, answer.option)


def watch(dag_id: str, answer: Answer, stop: Callable[[], bool] = lambda: False) -> None:
    """Answer every approval of `dag_id` with `answer` until `stop()` (or the process ends).

    The REST API's application is built first (~4 s of CPU), while the run's first tasks go on,
    not once a task waits: a task waiting for input is then answered within `POLL_S`, as a
    person's answer arrives at a running API server."""
    try:
        with contextlib.ExitStack() as stack:
            client = None if answer.option is None else stack.enter_context(_client(answer))
            while not stop():
                for run_id, task_id, map_index, params in _waiting(dag_id):
                    if client is None:
                        _sweep_expired()
                    else:
                        respond(client, dag_id, run_id, task_id, map_index, params, answer)
                time.sleep(POLL_S)
    except Exception:
        # The task would wait for ever under dag.test(), which has no deadline sweep of its own:
        # it is failed, so the run ends (and nothing is sent); the error is told by the exit code.
        log.exception("answering %s failed", dag_id)
        _fail_waiting(dag_id)
        raise


@contextlib.contextmanager
def answering(dag_id: str, answer: Answer | None) -> Iterator[Callable[[], str | None]]:
    """While the block runs, a process of its own answers every approval of `dag_id` with
    `answer` (None: nobody answers, nothing runs). Yields a function that returns the answering
    process's error output when it failed, else None. A process, not a thread: the answer comes
    from outside the run, as a person's does, and shares no import lock with `dag.test()`."""
    if answer is None:
        yield lambda: None
        return
    spec = json.dumps({"dag_id": dag_id, **asdict(answer)}, ensure_ascii=False)
    log_file = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "housing_report_airflow.answer", spec],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def failure() -> str | None:
        """The answering process stopped; its output when it failed, else None."""
        stop()
        if process.returncode == 0:
            return None
        log_file.seek(0)
        return log_file.read()[-3000:]

    try:
        yield failure
    finally:
        stop()
        log_file.close()


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    dag_id = spec.pop("dag_id")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    watch(dag_id, Answer(**spec))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(main(sys.argv[1:]))
