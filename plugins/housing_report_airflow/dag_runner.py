"""Run a DAG with `dag.test()` (the demo and the tests).

Airflow 3.3.2's `dag.test()` builds its scheduler DAG from an in-memory
serialization, in which Deadline Alerts are still dicts rather than the ids of
their database rows; `DagRun.update_state` then fails looking them up. The real
scheduler reads DAGs from the database and is not affected, so for `dag.test()`
only, the run goes without the DAG's deadline (which tests check separately).

`dag.test()` also leaves a run's `run_conf` in the tasks' params, so that the
next `dag.test()` in the same process would inherit them (a replay would stay a
replay): the params are restored after each run.

`dag.test()` runs every task of a run in this process, where the executors give each task a
process of its own: the process's resources (`resources`: the Variables read, the config, the
store) are built afresh for each run, as a deployed task builds them when it starts; so are the
admin's lines of errors no retry can fix (`failures.reported()`, which the demo prints).

A run that waits for a person (the approval, Browse → Required Actions) is answered with
`answer` through Airflow's REST API, as the UI answers (`answer.answering`); by default it is
approved as `admin` with the document number 01 and the config's texts (`DEFAULT_ANSWER`), so
that a run under `dag.test()` does not wait for ever. `answer=None` answers nothing. A DAG with
no such task gets no answering process (it would start Airflow's API for nothing).
"""

from __future__ import annotations

import copy
from typing import Any

from housing_report.core.approval import APPROVE
from housing_report_airflow import failures, resources
from housing_report_airflow.answer import Answer, answering

DEFAULT_ANSWER = Answer(APPROVE, {"so_van_ban": "01"})
_UNSET: Any = object()


def asks_for_input(dag: Any) -> bool:
    """Whether a task of `dag` waits for a person's answer (a human-in-the-loop operator)."""
    from airflow.providers.standard.operators.hitl import HITLOperator

    return any(isinstance(task, HITLOperator) for task in dag.tasks)


def run_dag_test(dag: Any, answer: Answer | None = _UNSET, **kwargs: Any):
    saved_deadline, saved_params = dag.deadline, copy.deepcopy(dag.params)
    task_params = {task.task_id: copy.deepcopy(task.params) for task in dag.tasks}
    dag.deadline = None
    resources.reset()
    failures.forget()  # `failures.reported()` after the run: this run's lines only
    try:
        if answer is _UNSET:
            answer = DEFAULT_ANSWER if asks_for_input(dag) else None
        with answering(dag.dag_id, answer) as failure:
            run = dag.test(**kwargs)
            error = failure()
        if error:
            raise RuntimeError(f"The approval could not be answered:\n{error}")
        return run
    finally:
        resources.reset()
        dag.deadline = saved_deadline
        dag.params = saved_params
        for task in dag.tasks:
            task.params = task_params[task.task_id]
