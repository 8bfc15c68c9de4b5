"""End to end: `dag.test()` of provision_unit_sheets against the fake Google APIs.

The `google_sheets` connection (from `AIRFLOW_CONN_GOOGLE_SHEETS`) points the hook's
gspread client at `FakeGoogle` on loopback; a dry run writes nothing, a real run creates
the spreadsheets, and the report comes back as the task's XCom.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dags.test_provincial_report_e2e import environment
from tests.google_api.server import FakeGoogle

REPO = Path(__file__).resolve().parents[2]
TASK_ID = "provision_sheets"

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def dag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags["provision_unit_sheets"]


@pytest.fixture(scope="module")
def google():
    with FakeGoogle() as server:
        yield server


@pytest.fixture(scope="module")
def connection(google) -> str:
    extra = {"keyfile_dict": google.service_account_key(), "api_base_url": google.base_url, "timeout": 10}
    return json.dumps({"conn_type": "google_sheets", "extra": extra})


def run(dag, connection: str, **conf) -> dict:
    with environment(
        AIRFLOW_CONN_GOOGLE_SHEETS=connection, AIRFLOW_VAR_PROVISION_DRIVE_FOLDER_ID="shared-folder"
    ):
        dag_run = dag.test(run_conf=conf)
    assert str(dag_run.state).lower().endswith("success"), dag_run.state
    return xcom(dag_run.run_id)


def xcom(run_id: str) -> dict:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel)
            .filter_by(dag_id="provision_unit_sheets", run_id=run_id, task_id=TASK_ID, key="return_value")
            .one()
        )
        value = row.value
    return json.loads(value) if isinstance(value, str) else value


def writes(google: FakeGoogle) -> list:
    return [
        r for r in google.api_requests(r"^/(v4|drive)/") if r.method in ("POST", "PUT", "PATCH", "DELETE")
    ]


def test_dry_run_then_real_run_then_nothing_to_do(dag, connection, google):
    plan = run(dag, connection)  # dry_run defaults to True
    assert plan["dry_run"] is True
    assert writes(google) == []
    assert google.spreadsheets == {}
    assert plan["counts"]["spreadsheets_created"] == 15
    assert {u["spreadsheet"] for u in plan["units"]} == {"to_create"}

    done = run(dag, connection, dry_run=False, units=["941", "MTTQ", "HCCB"])
    assert done["dry_run"] is False
    assert [u["code"] for u in done["units"]] == ["941", "MTTQ", "HCCB"]
    assert done["counts"]["spreadsheets_created"] == 2
    assert done["counts"]["worksheets_created"] == 3
    assert not any(u["problems"] for u in done["units"])
    assert len(google.spreadsheets) == 2
    for key, meta in google.state["drive_files"].items():
        assert meta["parents"] == ["shared-folder"], key
    by_code = {u["code"]: u for u in done["units"]}
    assert f"spreadsheet: {by_code['941']['spreadsheet_key']}" in done["yaml_snippet"]
    assert by_code["MTTQ"]["spreadsheet_key"] == by_code["HCCB"]["spreadsheet_key"]
    assert all(notify is False for *_, notify in google.state["shared"])

    google.reset_log()
    again = run(dag, connection, dry_run=False, units=["941", "MTTQ", "HCCB"])
    assert writes(google) == []
    assert again["counts"]["spreadsheets_created"] == again["counts"]["permissions_created"] == 0
    assert again["yaml_snippet"] == done["yaml_snippet"]
