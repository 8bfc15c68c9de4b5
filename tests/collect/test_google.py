"""The Google Sheets source, driving the real gspread and google-auth against FakeGoogle.

Nothing of gspread or google-auth is mocked: requests go over loopback HTTP to
`tests.google_api.server.FakeGoogle`, tokens come from its token endpoint through the
key's `token_uri`. Only the retry waits are injected (a list that records them), so
the fault tests stay fast.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from pathlib import Path

import pytest
from gspread.exceptions import APIError

from housing_report.collect.base import ReportSource, SourceConfigError
from housing_report.collect.google import GoogleSheetsSource, grid_from_value_range, range_start
from housing_report.collect.google_client import (
    GoogleUnavailable,
    RetryPolicy,
    make_client,
    parse_retry_after,
)
from housing_report.collect.local import LocalWorkbookSource
from housing_report.config import Unit
from housing_report.core.statuses import FETCH_OK, MISSING, REJECTED, UNREACHABLE
from housing_report.validate.parse import parse_report
from tests.google_api.server import FakeGoogle, Fault, Response, error_response

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "include" / "sample_data" / "2025-03-12"
PERIOD = dt.date(2025, 3, 12)
EMAIL = "bao-cao@xoa-nha-tam.iam.gserviceaccount.com"
API = r"^/v4/"  # faults for the Sheets API only, not the token endpoint
FAST = RetryPolicy(max_attempts=3, base_delay=0.5, max_wait=32, max_total_wait=60)


@pytest.fixture
def google():
    with FakeGoogle() as server:
        server.add_workbook_folder(SAMPLES)
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


def client_for(google: FakeGoogle, sleeps: list[float], retry: RetryPolicy = FAST, timeout: float = 5, **key):
    return make_client(
        google.service_account_key(EMAIL, **key),
        api_base_url=google.base_url,
        timeout=timeout,
        retry=retry,
        sleep=sleeps.append,
    )


@pytest.fixture
def source(google, sleeps) -> GoogleSheetsSource:
    return GoogleSheetsSource(client_for(google, sleeps))


def unit(code: str, spreadsheet: str, worksheet: str = "BaoCao", kind: str = "district") -> Unit:
    return Unit(code, f"Đơn vị {code}", kind, spreadsheet, worksheet)


def by_code(results) -> dict:
    return {r.unit_code: r for r in results}


def parsed(config, units, results) -> dict[str, tuple]:
    """What the pipeline keeps of each unit's read: status, figures, lists, info, findings."""
    out = {}
    for u, r in zip(units, results, strict=True):
        if r.status != FETCH_OK:
            out[u.code] = (r.status, r.reason)
            continue
        report = parse_report(r.grid, u, config.template, config.report.rules, PERIOD)
        findings = [(f.severity, f.cell, f.code, f.message) for f in report.findings]
        out[u.code] = (
            report.status,
            report.period_found,
            report.figures,
            report.lists,
            report.info,
            findings,
        )
    return out


# ---------------------------------------------------------------------- the happy path


def test_is_a_report_source(source):
    as_protocol: ReportSource = source  # checked by type checkers; ReportSource is not runtime-checkable
    assert callable(as_protocol.fetch)
    assert source.service_account_email == EMAIL


def test_gives_the_same_parse_results_as_the_local_source(config, source):
    units = list(config.units)
    from_google = source.fetch(units)
    from_local = LocalWorkbookSource(SAMPLES).fetch(units)
    assert [r.unit_code for r in from_google] == [u.code for u in units]
    assert parsed(config, units, from_google) == parsed(config, units, from_local)
    statuses = {code: value[0] for code, value in parsed(config, units, from_google).items()}
    assert statuses["949"] == statuses["951"] == REJECTED
    assert statuses["946"] == "stale"
    assert statuses["HCCB"] == MISSING
    assert list(statuses.values()).count("accepted") == 16


def test_cells_keep_their_sheet_addresses(config, source):
    [result] = source.fetch([config.unit("949")])
    report = parse_report(result.grid, config.unit("949"), config.template, config.report.rules, PERIOD)
    [error] = report.errors
    assert error.cell == "BaoCao!G15"  # include/sample_data/README.md
    assert result.grid.sheet == "BaoCao"


def test_two_requests_per_spreadsheet_whatever_its_number_of_worksheets(config, google, source):
    units = list(config.units)
    source.fetch(units)
    spreadsheets = {u.spreadsheet for u in units}
    api = google.api_requests()
    assert len(api) == 2 * len(spreadsheets)
    assert len(google.token_requests()) == 1
    shared = [r for r in api if "st-khoi-mttq-doan-the" in r.path]
    assert [r.path for r in shared] == [
        "/v4/spreadsheets/st-khoi-mttq-doan-the",
        "/v4/spreadsheets/st-khoi-mttq-doan-the/values:batchGet",
    ]
    metadata, values = shared
    assert metadata.query["fields"] == [
        "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),merges)"
    ]
    # Five of the six organisations' worksheets exist (HCCB's is missing): one request for all,
    # each range within the bounds and the sheet's grid (1000 rows, 26 columns here).
    assert values.query["ranges"] == [
        f"'{title}'!A1:Z1000" for title in ("MTTQ", "PhuNu", "NongDan", "TinhDoan", "LDLD")
    ]
    assert values.query["valueRenderOption"] == ["UNFORMATTED_VALUE"]
    assert values.query["dateTimeRenderOption"] == ["SERIAL_NUMBER"]


def test_two_hundred_units_sharing_one_spreadsheet_cost_two_requests(config, google, source):
    rows = [list(r) for r in google.spreadsheets["st-941-tp-soc-trang"].sheet("BaoCao").rows]
    google.add_spreadsheet("st-xa", {f"Xa{i:03d}": rows for i in range(200)})
    units = [unit(f"X{i:03d}", "st-xa", f"Xa{i:03d}") for i in range(200)]
    results = source.fetch(units)
    assert {r.status for r in results} == {FETCH_OK}
    assert [r.grid.sheet for r in results] == [f"Xa{i:03d}" for i in range(200)]
    assert len(google.api_requests()) == 2


def test_worksheet_names_match_like_the_local_source(google, source):
    google.add_spreadsheet("st-ten", {" baocao ": [["DON_VI", None, "x"]], "Phụ Nữ": [["DON_VI", None, "y"]]})
    decomposed = "Phu\u0323 Nư\u0303"  # NFD spelling of "Phụ Nữ"
    results = source.fetch([unit("A", "st-ten"), unit("B", "st-ten", decomposed)])
    assert [r.status for r in results] == [FETCH_OK, FETCH_OK]
    assert results[0].grid.rows == [["DON_VI", None, "x"]]
    assert results[1].grid.rows == [["DON_VI", None, "y"]]


def test_sheet_titles_with_quotes_and_spaces_are_quoted_in_ranges(google, source):
    google.add_spreadsheet("st-q", {"Báo cáo 'xã' A": [["DON_VI", None, "z"]]})
    [result] = source.fetch([unit("Q", "st-q", "Báo cáo 'xã' A")])
    assert result.status == FETCH_OK
    assert result.grid.rows == [["DON_VI", None, "z"]]
    [values] = google.api_requests("values:batchGet")
    assert values.query["ranges"] == ["'Báo cáo ''xã'' A'!A1:Z1000"]


@pytest.mark.parametrize(
    ("answered", "start"),
    [
        pytest.param("BaoCao!A1:Z1000", (0, 0), id="whole-sheet"),
        pytest.param("'Bao Cao'!B3:H40", (2, 1), id="quoted-offset"),
        pytest.param("'a!b'!C2", (1, 2), id="bang-in-title"),
        pytest.param("Sheet1!AA10:AB12", (9, 26), id="two-letters"),
        pytest.param("BaoCao", (0, 0), id="title-only"),
        pytest.param("BaoCao!C:D", (0, 2), id="columns-only"),
    ],
)
def test_range_start(answered, start):
    assert range_start(answered) == start


def test_grid_from_an_offset_range_keeps_addresses():
    grid = grid_from_value_range(
        "Bao Cao", {"range": "'Bao Cao'!B3:D5", "values": [["x", "", 1], [], ["", 2]]}
    )
    assert grid.rows == [[], [], [None, "x", None, 1], [], [None, None, 2]]


# ---------------------------------------------------------------------- quota and faults


def test_429_twice_then_success_gives_the_same_result(config, google, sleeps, source, caplog):
    units = list(config.units)
    expected = parsed(config, units, LocalWorkbookSource(SAMPLES).fetch(units))
    google.faults.append(
        Fault(
            error_response(429, "Quota exceeded for quota metric 'Read requests'"), "values:batchGet", times=2
        )
    )
    with caplog.at_level(logging.WARNING, logger="housing_report.collect.google_client"):
        results = source.fetch(units)
    assert parsed(config, units, results) == expected
    assert len(sleeps) == 2
    retries = [r.getMessage() for r in caplog.records if "thử lại sau" in r.getMessage()]
    assert len(retries) == 2
    assert retries[0].startswith("Google API trả 429, thử lại sau ")
    assert "(lần 2/3)" in retries[0]
    assert "(lần 3/3)" in retries[1]
    assert "values:batchGet" in retries[0]


def test_500_is_retried_then_succeeds(google, sleeps, source):
    google.faults.append(Fault(error_response(500, "Internal error encountered."), r"st-942-chau-thanh$"))
    [result] = source.fetch([unit("942", "st-942-chau-thanh")])
    assert result.status == FETCH_OK
    assert len(sleeps) == 1
    assert len(google.api_requests("st-942")) == 3  # metadata twice, values once


def test_persistent_500_makes_that_spreadsheet_unreachable_and_the_others_go_on(google, sleeps, source):
    google.faults.append(
        Fault(error_response(500, "Internal error encountered."), r"st-942-chau-thanh", times=99)
    )
    results = by_code(source.fetch([unit("942", "st-942-chau-thanh"), unit("943", "st-943-ke-sach")]))
    assert results["942"].status == UNREACHABLE
    assert "st-942-chau-thanh" in results["942"].reason
    assert "500" in results["942"].reason
    assert "sau 3 lần thử" in results["942"].reason
    assert results["943"].status == FETCH_OK
    assert len(google.api_requests("st-942")) == FAST.max_attempts
    assert len(sleeps) == FAST.max_attempts - 1


def test_503_with_retry_after_in_seconds_is_honoured(google, sleeps, source):
    google.faults.append(
        Fault(error_response(503, "The service is currently unavailable.", {"Retry-After": "7"}), API)
    )
    [result] = source.fetch([unit("941", "st-941-tp-soc-trang")])
    assert result.status == FETCH_OK
    assert len(sleeps) == 1
    assert sleeps[0] >= 7


def test_503_with_retry_after_as_an_http_date_is_honoured(google, sleeps, source):
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    google.faults.append(Fault(error_response(503, "Unavailable", {"Retry-After": when}), API))
    [result] = source.fetch([unit("941", "st-941-tp-soc-trang")])
    assert result.status == FETCH_OK
    assert 18 <= sleeps[0] <= 21


def test_a_retry_after_longer_than_the_longest_wait_gives_up_at_once(google, sleeps, source):
    google.faults.append(Fault(error_response(429, "Quota exceeded", {"Retry-After": "3600"}), API))
    [result] = source.fetch([unit("941", "st-941-tp-soc-trang")])
    assert result.status == UNREACHABLE
    assert "429" in result.reason
    assert "hạn mức" in result.reason
    assert sleeps == []
    assert len(google.api_requests()) == 1


def test_total_wait_per_request_is_capped(google, sleeps):
    policy = RetryPolicy(max_attempts=10, base_delay=1, max_wait=32, max_total_wait=10)
    source = GoogleSheetsSource(client_for(google, sleeps, retry=policy))
    google.faults.append(Fault(error_response(503, "Unavailable", {"Retry-After": "4"}), API, times=99))
    [result] = source.fetch([unit("941", "st-941-tp-soc-trang")])
    assert result.status == UNREACHABLE
    assert sum(sleeps) <= 10
    assert len(sleeps) == 2  # 4 + 4; a third 4 would pass 10


def test_backoff_grows_with_full_jitter_below_the_cap(google, sleeps):
    policy = RetryPolicy(max_attempts=6, base_delay=1, max_wait=4, max_total_wait=100)
    source = GoogleSheetsSource(client_for(google, sleeps, retry=policy))
    google.faults.append(Fault(error_response(502, "Bad Gateway"), API, times=5))
    [result] = source.fetch([unit("941", "st-941-tp-soc-trang")])
    assert result.status == FETCH_OK
    assert len(sleeps) == 5
    for n, wait in enumerate(sleeps, start=1):
        assert 0 <= wait <= min(4, 2 ** (n - 1))


def test_403_names_the_service_account_to_share_with(google, sleeps, source):
    google.forbid("st-943-ke-sach")
    results = by_code(source.fetch([unit("943", "st-943-ke-sach"), unit("944", "st-944-my-tu")]))
    assert results["943"].status == UNREACHABLE
    assert results["943"].reason == (
        f"Bảng tính st-943-ke-sach chưa được chia sẻ với {EMAIL}; "
        "hãy chia sẻ quyền xem (Viewer) cho địa chỉ này"
    )
    assert results["944"].status == FETCH_OK
    assert len(google.api_requests("st-943")) == 1  # not retried
    assert sleeps == []


def test_403_because_the_api_is_disabled_is_a_config_error(google, source):
    body = error_response(403, "Google Sheets API has not been used in project 123 before or it is disabled.")
    body.body["error"]["details"] = [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED"}
    ]
    google.faults.append(Fault(body, API))
    with pytest.raises(SourceConfigError, match="bật Google Sheets API"):
        source.fetch([unit("941", "st-941-tp-soc-trang")])


def test_404_is_missing_with_the_key(google, sleeps, source):
    results = by_code(source.fetch([unit("X", "st-khong-co"), unit("941", "st-941-tp-soc-trang")]))
    assert results["X"].status == MISSING
    assert "Không có bảng tính với mã st-khong-co" in results["X"].reason
    assert "units.yaml" in results["X"].reason
    assert results["941"].status == FETCH_OK
    assert sleeps == []


def test_a_hung_response_times_out_is_retried_then_unreachable(google, sleeps):
    source = GoogleSheetsSource(client_for(google, sleeps, timeout=0.2, retry=RetryPolicy(max_attempts=2)))
    google.faults.append(Fault(Response(200, {"sheets": []}, delay=1.0), r"st-944-my-tu", times=2))
    started = time.monotonic()
    results = by_code(source.fetch([unit("944", "st-944-my-tu"), unit("945", "st-945-cu-lao-dung")]))
    assert time.monotonic() - started < 5
    assert results["944"].status == UNREACHABLE
    assert "không trả lời trong 0,2 s" in results["944"].reason
    assert "sau 2 lần thử" in results["944"].reason
    assert results["945"].status == FETCH_OK
    assert len(sleeps) == 1


def test_a_hung_response_once_then_success(google, sleeps):
    source = GoogleSheetsSource(client_for(google, sleeps, timeout=0.2))
    google.faults.append(Fault(Response(200, {"sheets": []}, delay=1.0), r"st-944-my-tu", times=1))
    [result] = source.fetch([unit("944", "st-944-my-tu")])
    assert result.status == FETCH_OK


def test_malformed_json_is_retried(google, sleeps, source):
    google.faults.append(Fault(Response(200, b'{"spreadsheetId": "st-945", "valueRang'), "values:batchGet"))
    [result] = source.fetch([unit("945", "st-945-cu-lao-dung")])
    assert result.status == FETCH_OK
    assert len(sleeps) == 1


def test_persistently_malformed_json_is_unreachable(google, sleeps, source):
    google.faults.append(Fault(Response(200, b"<html>proxy error"), r"st-945", times=99))
    [result] = source.fetch([unit("945", "st-945-cu-lao-dung")])
    assert result.status == UNREACHABLE
    assert "JSON hỏng" in result.reason


def test_an_answer_of_the_wrong_shape_is_unreachable(google, source):
    google.faults.append(Fault(Response(200, {"spreadsheetId": "x", "valueRanges": []}), "values:batchGet"))
    [result] = source.fetch([unit("945", "st-945-cu-lao-dung")])
    assert result.status == UNREACHABLE
    assert "không đúng dạng" in result.reason


def test_a_worksheet_renamed_by_its_unit_is_missing(google, source):
    google.spreadsheets["st-khoi-mttq-doan-the"].sheet("PhuNu").title = "Hội LHPN"
    results = by_code(
        source.fetch(
            [unit("HLHPN", "st-khoi-mttq-doan-the", "PhuNu"), unit("MTTQ", "st-khoi-mttq-doan-the", "MTTQ")]
        )
    )
    assert results["HLHPN"].status == MISSING
    assert results["HLHPN"].reason == (
        "Không tìm thấy trang tính 'PhuNu' trong bảng tính 'st-khoi-mttq-doan-the'"
    )
    assert results["MTTQ"].status == FETCH_OK


def test_an_empty_spreadsheet(config, google, source):
    google.add_spreadsheet("st-rong", {})
    google.add_spreadsheet("st-trang", {"BaoCao": []})
    units = [unit("941", "st-rong"), unit("942", "st-trang")]
    results = by_code(source.fetch(units))
    assert results["941"].status == MISSING
    assert "'BaoCao'" in results["941"].reason
    assert results["942"].status == FETCH_OK
    assert results["942"].grid.rows == []
    report = parse_report(results["942"].grid, units[1], config.template, config.report.rules, PERIOD)
    assert report.status == REJECTED
    assert "trống" in report.errors[0].message
    # No worksheet to read in st-rong: its metadata only.
    assert len(google.api_requests("st-rong")) == 1


# ---------------------------------------------------------------------- credentials


def test_a_key_without_token_uri_is_a_config_error(google, sleeps):
    key = google.service_account_key(EMAIL)
    del key["token_uri"]
    with pytest.raises(SourceConfigError, match="token_uri"):
        make_client(key, api_base_url=google.base_url)
    assert google.requests == []


def test_an_unparseable_private_key_is_a_config_error(google):
    key = google.service_account_key(
        EMAIL, private_key="-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(SourceConfigError, match="không dùng được"):
        make_client(key, api_base_url=google.base_url)


def test_a_key_of_another_type_is_a_config_error(google):
    with pytest.raises(SourceConfigError, match="service_account"):
        make_client(google.service_account_key(EMAIL, type="authorized_user"))


@pytest.mark.parametrize(("status", "error"), [(400, "invalid_grant"), (401, "invalid_client")])
def test_a_revoked_key_fails_the_source_once(google, sleeps, source, status, error):
    google.refuse_tokens(status, error)
    units = [unit("941", "st-941-tp-soc-trang"), unit("942", "st-942-chau-thanh")]
    with pytest.raises(SourceConfigError) as raised:
        source.fetch(units)
    message = str(raised.value)
    assert EMAIL in message
    assert "thu hồi" in message
    assert error in message
    assert len(google.token_requests()) == 1  # not retried
    assert google.api_requests() == []
    assert sleeps == []


def test_the_token_is_fetched_from_the_keys_token_uri_and_verified(google, source):
    source.fetch([unit("941", "st-941-tp-soc-trang")])
    assert len(google.token_requests()) == 1
    assert google.tokens


def test_a_key_the_server_does_not_know_is_refused(google, sleeps):
    key = google.service_account_key("xoa@khac.iam.gserviceaccount.com")
    del google.keys["xoa@khac.iam.gserviceaccount.com"]  # a deleted key: its public key is unknown
    client = make_client(key, api_base_url=google.base_url, sleep=sleeps.append)
    with pytest.raises(SourceConfigError, match="Invalid JWT Signature"):
        GoogleSheetsSource(client).fetch([unit("941", "st-941-tp-soc-trang")])


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        pytest.param("120", 120, id="seconds"),
        pytest.param(" 2.5 ", 2.5, id="fraction"),
        pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", 0, id="date-in-the-past"),
        pytest.param(None, None, id="absent"),
        pytest.param("soon", None, id="garbage"),
    ],
)
def test_parse_retry_after(header, seconds):
    assert parse_retry_after(header) == seconds


def test_parse_retry_after_http_date_in_the_future():
    now = time.time()
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert 29 <= parse_retry_after(header, now=now) <= 31


def test_a_token_endpoint_failing_without_an_oauth_answer_is_retried(google, sleeps, source):
    google.faults.append(Fault(Response(502, b"<html>Bad Gateway</html>"), r"^/token$"))
    [result] = source.fetch([unit("941", "st-941-tp-soc-trang")])
    assert result.status == FETCH_OK
    assert len(google.token_requests()) == 2
    assert len(sleeps) == 1


def test_api_refusing_fresh_tokens_is_a_config_error(google, source):
    google.faults.append(
        Fault(error_response(401, "Request had invalid authentication credentials."), API, times=9)
    )
    with pytest.raises(SourceConfigError, match="401"):
        source.fetch([unit("941", "st-941-tp-soc-trang")])


def test_a_post_that_may_have_been_applied_is_not_sent_twice(google, sleeps):
    client = client_for(google, sleeps)
    google.faults.append(Fault(error_response(500, "Internal error"), r":batchUpdate$", times=1))
    with pytest.raises(GoogleUnavailable):
        client.http_client.batch_update("st-941-tp-soc-trang", {"requests": []})
    assert len(google.api_requests(r":batchUpdate$")) == 1
    google.faults.append(Fault(error_response(429, "Quota exceeded"), r":batchUpdate$", times=1))
    with pytest.raises(APIError):  # sent again after the 429, then refused: no requests in the body
        client.http_client.batch_update("st-941-tp-soc-trang", {"requests": []})
    assert len(google.api_requests(r":batchUpdate$")) == 3
    assert len(sleeps) == 1
