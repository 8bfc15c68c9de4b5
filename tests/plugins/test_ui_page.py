"""The admins' page in the Airflow UI, through Airflow's own api-server app (FastAPI TestClient).

The plugin is loaded by Airflow's plugin manager from plugins/, mounted at /xoa-nha-tam and
listed in the navigation; the page answers only to a valid Airflow JWT (the UI's cookie or a
bearer token), reads the report database only, and renders 3.321 units with a fixed number
of queries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os

import pytest
import sqlalchemy as sa

from housing_report.archive.schema import deliveries, summaries, unit_reads
from housing_report.archive.store import ReportStore
from housing_report.config import Unit

pytestmark = pytest.mark.airflow

FEB, MAR = dt.date(2025, 2, 27), dt.date(2025, 3, 12)


def fill(store: ReportStore, units, period=MAR) -> None:
    """Reads for every unit but the last (one rejected with two errors), a summary, a delivery."""
    now = dt.datetime(2025, 3, 12, 0, 5, tzinfo=dt.UTC)
    rows = []
    for i, unit in enumerate(units[:-1]):
        rejected = i == 1
        rows.append(
            dict(
                period=period,
                run_id="manual__1",
                unit_code=unit.code,
                spreadsheet=unit.spreadsheet,
                worksheet=unit.worksheet,
                status="rejected" if rejected else "accepted",
                reason="",
                read_at=now,
                figures={},
                findings=[{"severity": "error", "cell": "BaoCao!D12"}] * 2 if rejected else [],
                lists={},
                info={},
            )
        )
    with store.engine.begin() as conn:
        conn.execute(unit_reads.insert(), rows)
        for p in (FEB, period):
            conn.execute(
                summaries.insert().values(
                    period=p, run_id=f"run-{p}", created_at=now, summary={}, version=1, figures_hash="h"
                )
            )
        conn.execute(
            deliveries.insert().values(
                period=period,
                version=1,
                run_id="manual__1",
                kind="report",
                recipients_key="k",
                recipients=["vanphong@soldtbxh.soctrang.example"],
                supersedes=0,
                state="sent",
                message_id="<abc@baocao>",
                started_at=now,
                detail="",
            )
        )


@pytest.fixture(scope="module")
def api(airflow_db, tmp_path_factory, config):
    """Airflow's api-server app with the project's plugins, and a token of a logged-in admin."""
    out = tmp_path_factory.mktemp("ui-output")
    saved = {k: os.environ.get(k) for k in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW_VAR_REPORT_OUTPUT_DIR")}
    os.environ.update(
        {
            "AIRFLOW__API_AUTH__JWT_SECRET": "test-secret-for-the-ui-page",
            "AIRFLOW_VAR_REPORT_OUTPUT_DIR": str(out),
        }
    )
    store = ReportStore(f"sqlite:///{out / 'reports.sqlite'}")
    store.ensure_schema()
    fill(store, config.units)
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    from housing_report_airflow import resources

    resources.reset()
    client = TestClient(create_app("core"))
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="quantri", role="admin"))
    try:
        yield client, token
    finally:
        resources.reset()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_an_anonymous_browser_is_sent_to_the_login_page(api):
    client, _token = api
    response = client.get("/xoa-nha-tam/", headers={"accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/auth/login?next=")
    assert "Báo cáo" not in response.text


def test_an_anonymous_request_is_refused(api):
    client, _token = api
    response = client.get("/xoa-nha-tam/")
    assert response.status_code == 401
    assert "Thành phố Sóc Trăng" not in response.text


def test_a_forged_token_is_refused(api):
    client, token = api
    response = client.get("/xoa-nha-tam/", headers={"Authorization": "Bearer " + token[:-4] + "AAAA"})
    assert response.status_code == 403
    response = client.get("/xoa-nha-tam/", cookies={"_token": "not-a-jwt"})
    assert response.status_code == 403


def test_the_page_for_a_logged_in_user(api, config):
    client, token = api
    response = client.get("/xoa-nha-tam/", cookies={"_token": token})
    assert response.status_code == 200
    page = response.text
    assert "Báo cáo xóa nhà tạm, nhà dột nát" in page
    assert "Kỳ 12/03/2025 · phiên bản 1" in page
    assert 'href="?period=2025-02-27"' in page
    first, second, last = config.units[0], config.units[1], config.units[-1]
    assert first.name in page
    assert f"https://docs.google.com/spreadsheets/d/{first.spreadsheet}/edit" in page
    assert "Đã tiếp nhận: 18" in page
    assert "Bị trả lại (có lỗi): 1" in page
    assert "Chưa đọc trong kỳ này: 1" in page
    assert last.name in page
    assert second.name in page
    assert "07:05 12/03/2025" in page  # read time in Vietnam's time
    assert "&lt;abc@baocao&gt;" in page
    assert "Đã gửi" in page
    replay = '{"period": "2025-03-12", "replay": true, "replay_version": 1}'
    assert replay.replace('"', "&#34;") in page
    assert 'href="/dags/provincial_report"' in page
    # Bearer tokens of the REST API are accepted too; a period is chosen by the query string.
    response = client.get("/xoa-nha-tam/?period=2025-02-27", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "Chưa đọc trong kỳ này: 20" in response.text


def test_the_plugin_is_in_the_navigation(api):
    client, token = api
    response = client.get("/api/v2/plugins", headers={"Authorization": f"Bearer {token}"})
    [plugin] = [p for p in response.json()["plugins"] if p["name"] == "housing_report_ui"]
    [view] = plugin["external_views"]
    assert view["name"] == "Báo cáo xóa nhà tạm"
    assert view["href"] == "/xoa-nha-tam/"
    assert view["destination"] == "nav"
    assert plugin["fastapi_apps"][0]["url_prefix"] == "/xoa-nha-tam"


def test_a_national_roll_out_renders_with_a_fixed_number_of_queries(tmp_path, config):
    """3.321 communes: three tables, four queries, whatever the number of units."""
    from housing_report_airflow.ui import render_page

    template = config.units[0]
    units = tuple(
        Unit(
            code=f"X{i:05d}",
            name=f"Xã số {i}",
            kind="district",
            spreadsheet=f"sheet{i // 50:03d}",
            worksheet=f"X{i:05d}",
        )
        for i in range(3321)
    )
    assert template.kind == "district"
    national = dataclasses.replace(config, units=units)
    store = ReportStore(f"sqlite:///{tmp_path / 'reports.sqlite'}")
    store.ensure_schema()
    fill(store, units)
    statements = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    page = render_page(store, national)
    assert len(statements) == 4, statements
    assert page.count("<tr>") == 3321 + 2 + 1  # the units, two header rows, one delivery
    assert "Đã tiếp nhận: 3319" in page
    assert "Xã số 3320" in page
