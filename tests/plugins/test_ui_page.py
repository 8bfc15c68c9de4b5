"""The admins' page in the Airflow UI, through Airflow's own api-server app (FastAPI TestClient).

The plugin is loaded by Airflow's plugin manager from plugins/, mounted at /xoa-nha-tam and
listed in the navigation; the page answers only to a valid Airflow JWT (the UI's cookie or a
bearer token), reads the report database only, and renders 3.321 units with a fixed number
of queries. For each unit not accepted it says why (each finding with its cell); a bad query is
answered with a Vietnamese 400.
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
REJECTED_FINDINGS = [
    {
        "severity": "error",
        "cell": "BaoCao!G15",
        "code": "HT_XM",
        "message": "Ô BaoCao!G15 ghi «12 căn»; hãy chỉ ghi số, ví dụ 12.",
    },
    {
        "severity": "error",
        "cell": "BaoCao!D12",
        "code": "KC_XM",
        "message": "Ô BaoCao!D12 để trống; hãy ghi 0 nếu không có nhà nào.",
    },
]


STALE_FINDING = {
    "severity": "warning",
    "cell": "BaoCao!C7",
    "code": "KY_BAO_CAO",
    "message": "Ô BaoCao!C7 ghi kỳ «27/02/2025»; hãy cập nhật số liệu và sửa ô này thành 12/03/2025.",
}
# Text a unit or a sheet's owner controls, which the page must show as text.
INJECTED = '<img src=x onerror="alert(1)">Không tìm thấy trang tính'
RUN_ID = "manual__2025-03-12T00:05:00+00:00"
RUN_PATH = "/dags/provincial_report/runs/manual__2025-03-12T00%3A05%3A00%2B00%3A00"


def fill(store: ReportStore, units, period=MAR) -> None:
    """Reads for every unit but the last (not read): the second rejected with two errors, the
    third stale, the fourth missing (its reason holds HTML); a summary, a delivery per period."""
    now = dt.datetime(2025, 3, 12, 0, 5, tzinfo=dt.UTC)
    outcome = {
        1: ("rejected", "", REJECTED_FINDINGS),
        2: ("stale", "", [STALE_FINDING]),
        3: ("missing", INJECTED, []),
    }
    rows = []
    for i, unit in enumerate(units[:-1]):
        status, reason, findings = outcome.get(i, ("accepted", "", []))
        rows.append(
            dict(
                period=period,
                run_id=RUN_ID,
                unit_code=unit.code,
                spreadsheet=unit.spreadsheet,
                worksheet=unit.worksheet,
                status=status,
                reason=reason,
                read_at=now,
                figures={},
                findings=findings,
                lists={},
                info={},
            )
        )
    with store.engine.begin() as conn:
        conn.execute(unit_reads.insert(), rows)
        # An earlier period: the rejected unit was accepted then, and one delivery of its own.
        conn.execute(
            unit_reads.insert(),
            [
                dict(row, period=FEB, run_id="scheduled__feb", status="accepted", findings=[])
                for row in rows[:2]
            ],
        )
        conn.execute(
            deliveries.insert().values(
                period=FEB,
                version=1,
                run_id="scheduled__feb",
                kind="report",
                recipients_key="k",
                recipients=["feb-only@soldtbxh.soctrang.example"],
                supersedes=0,
                state="sent",
                message_id="<feb@baocao>",
                started_at=now,
                detail="",
            )
        )
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
                run_id=RUN_ID,
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
    assert "Chưa đăng nhập Airflow" in response.text
    assert "Thành phố Sóc Trăng" not in response.text


def test_a_forged_token_is_refused(api):
    client, token = api
    response = client.get("/xoa-nha-tam/", headers={"Authorization": "Bearer " + token[:-4] + "AAAA"})
    assert response.status_code == 403
    response = client.get("/xoa-nha-tam/", cookies={"_token": "not-a-jwt"})
    assert response.status_code == 403
    assert "Phiên đăng nhập không hợp lệ" in response.text


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
    assert "Đã tiếp nhận: 16" in page
    assert "Bị trả lại (có lỗi): 1" in page
    assert "Chưa cập nhật kỳ này: 1" in page
    assert "Không có trang tính: 1" in page
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
    assert "Đã tiếp nhận: 2" in response.text
    assert "Chưa đọc trong kỳ này: 18" in response.text


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
    """3.321 communes: three tables, five queries, whatever the number of units."""
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
    assert len(statements) == 5, statements
    assert page.count('<tr id="don-vi-') == 3321
    assert page.count("<tr>") == 2 + 1  # two header rows, the period's one delivery
    assert "Đã tiếp nhận: 3317" in page
    assert "Xã số 3320" in page


def unit_row(page: str, code: str) -> str:
    """The HTML of one unit's row."""
    start = page.index(f'<tr id="don-vi-{code}">')
    return page[start : page.index("</tr>", start)]


def test_the_page_says_why_each_unit_is_not_accepted(api, config):
    client, token = api
    page = client.get("/xoa-nha-tam/?period=2025-03-12", cookies={"_token": token}).text
    rejected, stale, missing, not_read = (config.units[i] for i in (1, 2, 3, -1))
    row = unit_row(page, rejected.code)
    assert '<details class="unit-why" data-status="rejected">' in row
    for finding in REJECTED_FINDINGS:  # each error, with its cell and what to write
        assert f"<code>{finding['cell']}</code>: {finding['message']}" in row
    assert f'title="{REJECTED_FINDINGS[0]["message"]}"' in row  # the hover says it too
    row = unit_row(page, stale.code)
    assert '<details class="unit-why" data-status="stale">' in row
    assert STALE_FINDING["message"] in row
    row = unit_row(page, missing.code)
    assert '<details class="unit-why" data-status="missing">' in row
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Không tìm thấy trang tính" in row
    assert "<img" not in page
    row = unit_row(page, not_read.code)
    assert '<details class="unit-why" data-status="not_read">' in row
    assert "Chưa có lần chạy nào đọc bảng tính của đơn vị cho kỳ này" in row
    accepted = unit_row(page, config.units[0].code)
    assert "<details" not in accepted
    assert page.count("<details") == 4


def test_the_page_shows_the_history_the_period_s_deliveries_and_the_run_s_logs(api, config):
    client, token = api
    page = client.get("/xoa-nha-tam/", cookies={"_token": token}).text
    row = unit_row(page, config.units[1].code)
    assert 'title="Kỳ 27/02/2025: Đã tiếp nhận">27/02</span>' in row
    assert 'title="Kỳ 12/03/2025: Bị trả lại (có lỗi)">12/03</span>' in row
    assert row.index("27/02</span>") < row.index("12/03</span>")  # oldest first
    assert 'title="Kỳ 27/02/2025: Chưa đọc trong kỳ này"' in unit_row(page, config.units[5].code)
    # The delivery log of the selected period only.
    assert "&lt;abc@baocao&gt;" in page
    assert "feb-only@" not in page
    february = client.get("/xoa-nha-tam/?period=2025-02-27", cookies={"_token": token}).text
    assert "feb-only@" in february
    assert "&lt;abc@baocao&gt;" not in february
    # The run that read the unit, its reading task's logs, the delivering task's logs.
    assert f'href="{RUN_PATH}" target="_top"' in row
    assert f'href="{RUN_PATH}/tasks/fetch_unit_reports/mapped" target="_top"' in row
    assert f'href="{RUN_PATH}/tasks/deliver_report" target="_top"' in page
    assert f'<a href="{RUN_PATH}" target="_top"><code>{RUN_ID}</code></a>' in page


def test_one_unit_is_chosen_by_the_query(api, config):
    client, token = api
    unit = config.units[1]
    page = client.get(f"/xoa-nha-tam/?period=2025-03-12&unit={unit.code}", cookies={"_token": token}).text
    assert page.count('<tr id="don-vi-') == 1
    assert unit.name in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param("period=2025-02-30", "Kỳ báo cáo '2025-02-30' không phải ngày hợp lệ", id="no-such-day"),
        pytest.param(
            "period=2025-03-13", "Kỳ báo cáo 13/03/2025 không phải ngày thu thập", id="not-a-collection-day"
        ),
        pytest.param("period=12-03-2025", "không phải ngày hợp lệ", id="wrong-format"),
        pytest.param(
            "period=%3Cscript%3Ealert(1)%3C/script%3E",
            "Kỳ báo cáo '&lt;script&gt;alert(1)&lt;/script&gt;' không phải ngày hợp lệ",
            id="injected-html",
        ),
        pytest.param("unit=KHONG_CO", "Không có đơn vị mã «KHONG_CO»", id="unknown-unit"),
        pytest.param("unit=%3Cb%3E", "Không có đơn vị mã «&lt;b&gt;»", id="unknown-unit-html"),
        pytest.param("period=" + "1" * 100, "Địa chỉ trang có tham số không hợp lệ", id="too-long"),
    ],
)
def test_a_bad_query_is_answered_in_vietnamese_with_400(api, query, message):
    client, token = api
    response = client.get(f"/xoa-nha-tam/?{query}", cookies={"_token": token})
    assert response.status_code == 400, response.text
    assert message in response.text
    assert "<script>" not in response.text
    assert "<b>" not in response.text
    assert response.headers["content-type"].startswith("text/html")
