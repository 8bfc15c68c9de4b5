"""End to end with `report_source = google`: `dag.test()` of provincial_report against FakeGoogle.

The `google_sheets` connection (`AIRFLOW_CONN_GOOGLE_SHEETS`, JSON) carries a service
account key whose `token_uri` is the loopback server and `api_base_url` pointing at it;
the server serves the 12/03/2025 sample workbooks. The summary must equal the one the
local source gives on the same workbooks, apart from what names the run.
"""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest

from housing_report_airflow.dag_runner import run_dag_test
from tests.dags.test_provincial_report_e2e import environment
from tests.google_api.server import FakeGoogle

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "include" / "sample_data"
PERIOD = "2025-03-12"
RUN_KEYS = ("generated_at", "run_id", "read_at")

pytestmark = pytest.mark.airflow


@pytest.fixture(scope="module")
def dag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    return bag.dags["provincial_report"]


@pytest.fixture(scope="module")
def google():
    with FakeGoogle() as server:
        server.add_workbook_folder(SAMPLES / PERIOD)
        yield server


def connection(google: FakeGoogle, key: dict | None = None) -> str:
    extra = {
        "keyfile_dict": key or google.service_account_key(),
        "api_base_url": google.base_url,
        "timeout": 10,
    }
    return json.dumps({"conn_type": "google_sheets", "extra": extra})


def run(dag, source: str, out: Path, **env: str):
    with environment(
        AIRFLOW_VAR_REPORT_SOURCE=source,
        AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(out),
        AIRFLOW_VAR_REPORT_DELIVERY="outbox",
        **env,
    ):
        return run_dag_test(dag, run_conf={"period": PERIOD, "dry_run": False})


def summary(out: Path) -> dict:
    return json.loads((out / PERIOD / "summary.json").read_text(encoding="utf-8"))


def without_run_keys(value):
    if isinstance(value, dict):
        return {k: without_run_keys(v) for k, v in value.items() if k not in RUN_KEYS}
    if isinstance(value, list):
        return [without_run_keys(v) for v in value]
    return value


def test_google_source_gives_the_same_summary_as_the_local_source(dag, google, tmp_path):
    local_run = run(dag, str(SAMPLES / PERIOD), tmp_path / "local")
    assert str(local_run.state).lower().endswith("success")
    google.reset_log()
    google_run = run(dag, "google", tmp_path / "google", AIRFLOW_CONN_GOOGLE_SHEETS=connection(google))
    assert str(google_run.state).lower().endswith("success")

    from_google = summary(tmp_path / "google")
    assert without_run_keys(from_google) == without_run_keys(summary(tmp_path / "local"))
    assert from_google["status_counts"]["accepted"] == 16
    units = {u["code"]: u for u in from_google["units"]}
    assert units["HCCB"]["status"] == "missing"
    assert "CuuChienBinh" in units["HCCB"]["reason"]

    # At most two requests per spreadsheet (metadata + one batchGet), however many units.
    spreadsheets = {p.stem for p in (SAMPLES / PERIOD).glob("*.xlsx")}
    api = google.api_requests(r"^/v4/")
    assert len(api) == 2 * len(spreadsheets)
    assert len(google.api_requests("values:batchGet")) == len(spreadsheets)


def test_a_refused_key_fails_the_run_with_one_admin_error(dag, tmp_path):
    with FakeGoogle() as google:
        google.add_workbook_folder(SAMPLES / PERIOD)
        key = google.service_account_key()
        google.refuse_tokens(400, "invalid_grant")
        result = run(dag, "google", tmp_path, AIRFLOW_CONN_GOOGLE_SHEETS=connection(google, key))
        token_requests = len(google.token_requests())
    assert str(result.state).lower().endswith("failed")
    assert not (tmp_path / PERIOD / "summary.json").exists()
    # Failed at once, before any fetch task is mapped: one token request, no retries.
    tis = {ti.task_id: ti for ti in result.get_task_instances()}
    assert str(tis["plan_fetch_batches"].state).endswith("failed")
    assert tis["plan_fetch_batches"].try_number == 1
    assert str(tis["fetch_unit_reports"].state).endswith("upstream_failed")
    assert token_requests == 1
    # The task's failure callback told the admins (the outbox delivery: an .eml in alerts/).
    [alert] = (tmp_path / "alerts").glob("*.eml")
    message = email.message_from_bytes(alert.read_bytes(), policy=email.policy.default)
    assert "plan_fetch_batches" in message["Subject"]
    assert "invalid_grant" in message.get_body(preferencelist=("plain",)).get_content()


def test_a_spreadsheet_not_shared_leaves_the_others_read(dag, google, tmp_path):
    google.forbid("st-950-vinh-chau")
    try:
        result = run(dag, "google", tmp_path, AIRFLOW_CONN_GOOGLE_SHEETS=connection(google))
    finally:
        google.forbidden.discard("st-950-vinh-chau")
    assert str(result.state).lower().endswith("success")
    units = {u["code"]: u for u in summary(tmp_path)["units"]}
    assert units["950"]["status"] == "unreachable"
    assert units["950"]["reason"].startswith("Bảng tính st-950-vinh-chau chưa được chia sẻ với ")
    assert "@" in units["950"]["reason"]
    assert summary(tmp_path)["status_counts"]["unreachable"] == 1


def test_after_the_deadline_the_units_sheets_are_locked_but_the_one_an_admin_frees(dag, google, tmp_path):
    """Issue 21, item 5: with `precheck.protect_after_deadline`, the collection day's run locks
    each worksheet it read (only the service account may edit its values), but for the units
    named in `unlocked_units`; a dry run locks nothing."""
    import shutil

    import yaml

    from housing_report.precheck.sheet_requests import lock_description
    from tests.google_api.writes import _state, protected_ranges_of

    config_dir = tmp_path / "config"
    shutil.copytree(REPO / "include" / "config", config_dir)
    report = yaml.safe_load((config_dir / "report.yaml").read_text(encoding="utf-8"))
    report["precheck"]["protect_after_deadline"] = True
    (config_dir / "report.yaml").write_text(yaml.safe_dump(report, allow_unicode=True), encoding="utf-8")
    description = lock_description(PERIOD)

    def locks(key: str, title: str) -> list[dict]:
        sheet = google.spreadsheet(key).sheet(title)
        return [
            p for p in protected_ranges_of(google, key, sheet.sheet_id) if p.get("description") == description
        ]

    def run_with(conf: dict, out: Path):
        with environment(
            AIRFLOW_VAR_REPORT_SOURCE="google",
            AIRFLOW_VAR_REPORT_OUTPUT_DIR=str(out),
            AIRFLOW_VAR_REPORT_DELIVERY="outbox",
            AIRFLOW_VAR_REPORT_CONFIG_DIR=str(config_dir),
            AIRFLOW_CONN_GOOGLE_SHEETS=connection(google),
        ):
            return run_dag_test(dag, run_conf={"period": PERIOD, **conf})

    try:
        dry = run_with({"dry_run": True}, tmp_path / "dry")
        assert str(dry.state).lower().endswith("success")
        assert locks("st-941-tp-soc-trang", "BaoCao") == []
        result = run_with({"dry_run": False, "unlocked_units": ["949"]}, tmp_path / "out")
        assert str(result.state).lower().endswith("success")
        locked = locks("st-941-tp-soc-trang", "BaoCao")
        assert len(locked) == 1
        assert locked[0]["editors"]["users"] == [google.service_account_key()["client_email"]]
        assert locked[0]["range"]["startColumnIndex"] == 2  # the values, from column C
        assert locks("st-949-thanh-tri", "BaoCao") == []  # freed by the admin
        for title in ("MTTQ", "PhuNu"):  # units sharing a spreadsheet: each worksheet its own lock
            assert len(locks("st-khoi-mttq-doan-the", title)) == 1
    finally:
        for ranges in _state(google, "protected_ranges").values():
            ranges[:] = [p for p in ranges if p.get("description") != description]
