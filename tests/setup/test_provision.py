"""Provisioning the units' spreadsheets (housing_report.setup.provision) against the fake Google APIs.

The real gspread client and google-auth talk to `FakeGoogle` on loopback; the request log
shows what was written, and the fake's state what the spreadsheets look like afterwards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from housing_report.config import Config
from housing_report.core.models import Grid
from housing_report.setup.layout import layout_rows, unit_layout, value_cell
from housing_report.setup.provision import plan_provisioning, provision, spreadsheet_title
from housing_report.setup.sheet_requests import (
    COLUMN_A_PROTECTION,
    TABLE_PROTECTION,
    TITLE_PROTECTION,
    a1_range,
    sheet_ranges,
)
from tests.google_api.server import FakeGoogle
from tests.google_api.writes import protected_ranges_of, validation_at

SAMPLES = Path(__file__).resolve().parents[2] / "include" / "sample_data"
SHARED_KEY = "st-khoi-mttq-doan-the"
WRITES = r"^/(v4|drive)/"


@pytest.fixture
def google():
    with FakeGoogle() as server:
        yield server


@pytest.fixture
def key_info(google):
    return google.service_account_key()


@pytest.fixture
def client(google, key_info):
    from housing_report.collect.google_client import make_client

    return make_client(key_info, api_base_url=google.base_url, timeout=10)


def writes(google: FakeGoogle) -> list:
    return [r for r in google.api_requests(WRITES) if r.method in ("POST", "PUT", "PATCH", "DELETE")]


def by_title(google: FakeGoogle) -> dict:
    return {s.title: s for s in google.spreadsheets.values()}


def cell_index(address: str) -> tuple[int, int]:
    """`BaoCao!C12` -> (11, 2)."""
    cell = address.rsplit("!", 1)[-1]
    letters = "".join(ch for ch in cell if ch.isalpha())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(cell[len(letters) :]) - 1, col - 1


def read_back(client, key: str, worksheet: str) -> list[list]:
    """The worksheet's cells as the read side gets them (unformatted values, "" as None)."""
    answer = client.http_client.values_batch_get(
        key, [worksheet], params={"valueRenderOption": "UNFORMATTED_VALUE"}
    )
    return [[None if v == "" else v for v in row] for row in answer["valueRanges"][0].get("values", [])]


# --------------------------------------------------------------------------- first run


class TestFirstRunOnAnEmptyDrive:
    """One run over every unit of units.yaml on a Drive holding none of their spreadsheets.

    The tests share that run; its request log is kept as `google.first_log`.
    """

    @pytest.fixture(scope="class")
    @classmethod
    def google(cls):
        with FakeGoogle() as server:
            yield server

    @pytest.fixture(scope="class")
    @classmethod
    def key_info(cls, google):
        return google.service_account_key()

    @pytest.fixture(scope="class")
    @classmethod
    def client(cls, google, key_info):
        from housing_report.collect.google_client import make_client

        return make_client(key_info, api_base_url=google.base_url, timeout=10)

    @pytest.fixture(scope="class")
    @classmethod
    def first_run(cls, config: Config, google, client):
        report = provision(config, client, dry_run=False)
        google.first_log = list(google.requests)
        return report

    def test_one_spreadsheet_per_key(self, config: Config, google, first_run):
        keys = {u.spreadsheet for u in config.units}
        assert len(google.spreadsheets) == len(keys) == 15
        titles = by_title(google)
        unit = config.unit("941")
        assert spreadsheet_title([unit], unit.spreadsheet) == "Báo cáo xóa nhà tạm - Thành phố Sóc Trăng"
        assert "Báo cáo xóa nhà tạm - Thành phố Sóc Trăng" in titles
        assert f"Báo cáo xóa nhà tạm - {SHARED_KEY}" in titles
        assert first_run.counts()["spreadsheets_created"] == 15
        assert first_run.counts()["worksheets_created"] == len(config.units)
        assert not first_run.problems

    def test_shared_spreadsheet_gets_one_worksheet_per_unit_and_no_default_sheet(
        self, config: Config, google, first_run
    ):
        shared = by_title(google)[f"Báo cáo xóa nhà tạm - {SHARED_KEY}"]
        expected = [u.worksheet for u in config.units if u.spreadsheet == SHARED_KEY]
        assert len(expected) == 6
        assert [s.title for s in shared.sheets] == expected
        keys = {r.spreadsheet_key for r in first_run.units if r.code in {"MTTQ", "HLHPN", "LDLD"}}
        assert keys == {shared.key}

    def test_worksheet_holds_the_template_of_the_units_kind(self, config: Config, google, first_run):
        for code in ("941", "MTTQ", "BAO_ST"):
            unit = config.unit(code)
            result = next(r for r in first_run.units if r.code == code)
            sheet = google.spreadsheets[result.spreadsheet_key].sheet(unit.worksheet)
            expected = layout_rows(config, unit.kind)
            column_a = [r[0] if r else None for r in sheet.rows]
            assert column_a == [r[0] for r in expected][: len(column_a)]
            assert [c for c in column_a if c] == [r[0] for r in expected if r[0]]
            row, col = cell_index(value_cell(unit_layout(config, unit), "DON_VI"))
            assert sheet.rows[row][col] == unit.name

    def test_shared_with_exactly_the_units_emails_without_notification(
        self, config: Config, google, first_run
    ):
        for unit in config.units:
            key = next(r.spreadsheet_key for r in first_run.units if r.code == unit.code)
            emails = {p["emailAddress"] for p in google.state["permissions"][key]}
            expected = {e for x in config.units if x.spreadsheet == unit.spreadsheet for e in x.emails}
            assert emails == expected
        shared = google.state["shared"]
        assert all(role == "writer" and notify is False for _, _, role, notify in shared)
        assert len(shared) == sum(len(u.emails) for u in config.units)

    def test_code_column_title_and_table_headers_are_protected_for_the_service_account_only(
        self, config: Config, google, key_info, first_run
    ):
        result = next(r for r in first_run.units if r.code == "941")
        spreadsheet = google.spreadsheets[result.spreadsheet_key]
        sheet = spreadsheet.sheet("BaoCao")
        ranges = {p["description"]: p for p in protected_ranges_of(google, spreadsheet.key, sheet.sheet_id)}
        assert set(ranges) == {
            COLUMN_A_PROTECTION,
            TITLE_PROTECTION,
            TABLE_PROTECTION.format(code="A"),
            TABLE_PROTECTION.format(code="B"),
        }
        column_a = ranges[COLUMN_A_PROTECTION]
        assert column_a["range"] == {"sheetId": sheet.sheet_id, "startColumnIndex": 0, "endColumnIndex": 1}
        assert column_a["editors"] == {"users": [key_info["client_email"]]}
        assert column_a["warningOnly"] is False
        header = ranges[TABLE_PROTECTION.format(code="A")]["range"]
        assert sheet.rows[header["startRowIndex"]][0] == "A"
        assert sheet.rows[header["startRowIndex"]][2:4] == ["CAN_XM", "CAN_SC"]
        assert header["endRowIndex"] - header["startRowIndex"] == 2  # codes, then labels
        assert "BaoCao!A" in result.protected

    @pytest.mark.parametrize(
        ("code", "key", "kind"),
        [
            ("941", "A.NCC.CAN_XM", "count"),
            ("941", "A.KHAC.HT_SC", "count"),
            ("941", "B.VAY.GIAI_NGAN", "money"),
            ("941", "NGAY_CONG", "count"),
            ("MTTQ", "B.XHH.HUY_DONG", "money"),
            ("BAO_ST", "C_TIN_BAI", "count"),
        ],
        ids=lambda v: str(v),
    )
    def test_value_cells_accept_only_numbers_at_least_zero(
        self, config: Config, google, first_run, code, key, kind
    ):
        unit = config.unit(code)
        result = next(r for r in first_run.units if r.code == code)
        sheet = google.spreadsheets[result.spreadsheet_key].sheet(unit.worksheet)
        row, col = cell_index(value_cell(unit_layout(config, unit), key))
        rule = validation_at(google, result.spreadsheet_key, sheet.sheet_id, row, col)
        assert rule is not None, key
        assert rule["condition"] == {"type": "NUMBER_GREATER_THAN_EQ", "values": [{"userEnteredValue": "0"}]}
        assert rule["strict"] is True
        assert "không âm" in rule["inputMessage"]
        if kind == "money":
            assert "triệu đồng" in rule["inputMessage"]

    def test_text_cells_and_labels_have_no_validation(self, config: Config, google, first_run):
        unit = config.unit("941")
        result = next(r for r in first_run.units if r.code == "941")
        sheet = google.spreadsheets[result.spreadsheet_key].sheet("BaoCao")
        rows = unit_layout(config, unit)
        for key in ("DON_VI", "KY_BAO_CAO", "NGAY_LAP", "A.NCC.CAN_XM"):
            row, col = cell_index(value_cell(rows, key))
            assert validation_at(google, result.spreadsheet_key, sheet.sheet_id, row, 1) is None
            if key != "A.NCC.CAN_XM":
                assert validation_at(google, result.spreadsheet_key, sheet.sheet_id, row, col) is None

    def test_each_spreadsheet_is_created_then_written_in_one_batch_update(self, google, first_run):
        log = google.first_log
        batches = [r for r in log if r.path.endswith(":batchUpdate")]
        creates = [r for r in log if r.path == "/drive/v3/files" and r.method == "POST"]
        assert len(batches) == len(creates) == len(google.spreadsheets)
        assert not [r for r in log if r.method in ("PUT", "PATCH", "DELETE")]

    def test_report_gives_the_new_keys_as_yaml_for_units_yaml(self, config: Config, google, first_run):
        import yaml

        snippet = first_run.yaml_snippet()
        entries = {str(e["code"]): e["spreadsheet"] for e in yaml.safe_load(snippet)}
        assert set(entries) == {u.code for u in config.units}
        assert entries["941"] == by_title(google)["Báo cáo xóa nhà tạm - Thành phố Sóc Trăng"].key
        shared = by_title(google)[f"Báo cáo xóa nhà tạm - {SHARED_KEY}"].key
        assert entries["MTTQ"] == entries["LDLD"] == shared
        data = first_run.to_json()
        assert data["yaml_snippet"] == snippet
        assert data["counts"]["permissions_created"] == sum(len(u.emails) for u in config.units)
        text = first_run.format_text()
        assert "ĐÃ THỰC HIỆN" in text
        assert "Thành phố Sóc Trăng" in text

    def test_second_run_writes_nothing_even_before_units_yaml_has_the_new_keys(
        self, config: Config, google, client, first_run
    ):
        created = set(google.spreadsheets)
        google.reset_log()
        again = provision(config, client, dry_run=False)
        assert writes(google) == []
        assert set(google.spreadsheets) == created
        counts = again.counts()
        assert counts["spreadsheets_created"] == counts["worksheets_created"] == 0
        assert counts["permissions_created"] == counts["ranges_protected"] == counts["ranges_validated"] == 0
        assert {u.spreadsheet for u in again.units} == {"found"}
        assert again.yaml_snippet() == first_run.yaml_snippet()
        assert "không cần thay đổi" in again.format_text()

    def test_run_with_the_new_keys_in_units_yaml_finds_them_directly(
        self, config: Config, google, client, first_run
    ):
        keys = {r.code: r.spreadsheet_key for r in first_run.units}
        updated = dataclasses.replace(
            config, units=tuple(dataclasses.replace(u, spreadsheet=keys[u.code]) for u in config.units)
        )
        google.reset_log()
        again = provision(updated, client, dry_run=False)
        assert writes(google) == []
        assert google.api_requests(r"^/drive/v3/files$", "GET") == []  # no search by title
        assert {u.spreadsheet for u in again.units} == {"existing"}
        assert again.yaml_snippet() == ""

    def test_dry_run_after_a_first_run_plans_nothing(self, config: Config, google, client, first_run):
        google.reset_log()
        report = provision(config, client, dry_run=True)
        assert writes(google) == []
        assert not any(u.changed for u in report.units)

    def test_created_worksheet_reads_back_as_a_complete_blank_report(
        self, config: Config, google, client, first_run
    ):
        from housing_report.validate.parse import parse_report

        period = dt.date(2025, 3, 12)
        for code in ("941", "MTTQ", "BAO_ST"):
            unit = config.unit(code)
            key = next(r.spreadsheet_key for r in first_run.units if r.code == code)
            rows = read_back(client, key, unit.worksheet)
            row, col = cell_index(value_cell(unit_layout(config, unit), "KY_BAO_CAO"))
            rows[row] = rows[row] + [None] * (col + 1 - len(rows[row]))
            rows[row][col] = "12/03/2025"  # what the unit writes first
            report = parse_report(
                Grid(unit.worksheet, rows), unit, config.template, config.report.rules, period
            )
            # Every code is where the parser looks: the only errors are the required number
            # sections still wholly empty ("chưa được điền"), one per section.
            required = [r.section for r in config.template.kinds[unit.kind].required]
            numeric = [s for s in required if config.template.section(s).figure_keys()]
            assert sorted(f.code for f in report.errors) == sorted(numeric), [
                f.message for f in report.errors
            ]
            assert all("chưa được điền" in f.message for f in report.errors)
            assert report.info.get("DON_VI") == unit.name


# --------------------------------------------------------------------------- dry run


def test_dry_run_writes_nothing_and_plans_everything(config: Config, google, client):
    report = plan_provisioning(config, client)
    assert writes(google) == []
    assert google.spreadsheets == {}
    assert report.dry_run is True
    assert {u.spreadsheet for u in report.units} == {"to_create"}
    assert all(u.worksheet_created for u in report.units)
    assert report.counts()["spreadsheets_created"] == 15
    assert report.units[0].shared == list(config.units[0].emails)
    assert "BaoCao!A" in report.units[0].protected
    assert report.yaml_snippet() == ""
    assert "sau khi chạy thật" in report.format_text()
    assert "CHẠY THỬ" in report.format_text()


# --------------------------------------------------------------------------- existing sheets


def test_existing_filled_worksheet_is_protected_where_its_codes_are(config: Config, google, client):
    key = "st-941-tp-soc-trang"
    spreadsheet = google.add_workbook_file(key, SAMPLES / "2025-03-12" / f"{key}.xlsx")
    sheet = spreadsheet.sheet("BaoCao")
    before = [list(r) for r in sheet.rows]
    sheet.rows.insert(8, [None, "Ghi chú do đơn vị chèn thêm"])  # a unit inserted a row
    report = provision(config, client, dry_run=False, unit_codes=["941"])
    result = report.units[0]
    assert result.spreadsheet == "existing"
    assert not result.worksheet_created
    assert [s.title for s in spreadsheet.sheets][:1] == ["BaoCao"]
    assert sheet.rows[:8] + sheet.rows[9:] == before  # values untouched
    codes = [r[0] if r else None for r in sheet.rows]
    ncc = codes.index("NCC")
    header = codes.index("A")
    col = sheet.rows[header].index("HT_XM")
    rule = validation_at(google, key, sheet.sheet_id, ncc, col)
    assert rule is not None
    assert rule["condition"]["type"] == "NUMBER_GREATER_THAN_EQ"
    assert validation_at(google, key, sheet.sheet_id, header, col) is None
    descriptions = {p["description"] for p in protected_ranges_of(google, key, sheet.sheet_id)}
    assert COLUMN_A_PROTECTION in descriptions
    assert result.shared == list(config.unit("941").emails)
    google.reset_log()
    provision(config, client, dry_run=False, unit_codes=["941"])
    assert writes(google) == []


def test_missing_worksheet_is_added_to_an_existing_shared_spreadsheet(config: Config, google, client):
    spreadsheet = google.add_workbook_file(SHARED_KEY, SAMPLES / "2025-03-12" / f"{SHARED_KEY}.xlsx")
    before = [s.title for s in spreadsheet.sheets]
    assert "CuuChienBinh" not in before  # the sample's missing worksheet
    report = provision(config, client, dry_run=False, unit_codes=["HCCB", "MTTQ"])
    by_code = {u.code: u for u in report.units}
    assert by_code["HCCB"].worksheet_created
    assert not by_code["MTTQ"].worksheet_created
    assert [s.title for s in spreadsheet.sheets] == [*before, "CuuChienBinh"]
    assert by_code["HCCB"].spreadsheet_key == SHARED_KEY
    assert report.yaml_snippet() == ""


def test_addresses_that_already_have_access_are_not_shared_again(config: Config, google, client):
    key = "st-bao-soc-trang"
    google.add_spreadsheet(key, {"BaoCao": layout_rows(config, "press")})
    email = config.unit("BAO_ST").emails[0]
    google.state["permissions"] = {
        key: [{"id": "p1", "type": "user", "role": "writer", "emailAddress": email.upper()}]
    }
    report = provision(config, client, dry_run=False, unit_codes=["BAO_ST"], notify=True)
    assert report.units[0].shared == []
    assert report.units[0].already_shared == [email]
    assert google.api_requests(r"/permissions$", "POST") == []


def test_notify_sends_drive_notification_emails(config: Config, google, client):
    report = provision(config, client, dry_run=False, unit_codes=["SO_TTTT"], notify=True)
    assert report.units[0].shared
    (post,) = google.api_requests(r"/permissions$", "POST")
    assert post.query["sendNotificationEmail"] == ["true"]
    assert "Sở Thông tin và Truyền thông" in post.query["emailMessage"][0]


def test_forbidden_spreadsheet_is_that_units_problem_and_the_others_go_on(config: Config, google, client):
    google.add_spreadsheet("st-942-chau-thanh", {"BaoCao": []})
    google.forbid("st-942-chau-thanh")
    report = provision(config, client, dry_run=False, unit_codes=["941", "942"])
    by_code = {u.code: u for u in report.units}
    assert by_code["942"].spreadsheet == "existing"
    assert by_code["942"].problems
    assert "bao-cao@xoa-nha-tam.iam.gserviceaccount.com" in by_code["942"].problems[0]
    assert "chia sẻ" in by_code["942"].problems[0]
    assert by_code["941"].spreadsheet == "created"
    assert not by_code["941"].problems


def test_google_unavailable_for_one_spreadsheet_is_that_units_problem(config: Config, google, key_info):
    from housing_report.collect.google_client import RetryPolicy, make_client
    from tests.google_api.server import Fault, Response

    client = make_client(
        key_info,
        api_base_url=google.base_url,
        timeout=10,
        retry=RetryPolicy(max_attempts=2),
        sleep=lambda s: None,
    )
    google.add_spreadsheet("st-942-chau-thanh", {"BaoCao": []})
    google.faults.append(Fault(Response(503, {"error": {"code": 503}}), r"^/v4/spreadsheets/st-942", times=5))
    report = provision(config, client, dry_run=False, unit_codes=["941", "942"])
    by_code = {u.code: u for u in report.units}
    assert "503" in by_code["942"].problems[0]
    assert "chạy lại" in by_code["942"].problems[0]
    assert by_code["941"].spreadsheet == "created"
    assert not by_code["941"].problems


def test_service_account_without_storage_needs_a_shared_drive_folder(config: Config, google, client):
    google.state["service_account_has_no_storage"] = True
    report = provision(config, client, dry_run=False, unit_codes=["941"])
    assert "Drive dùng chung" in report.units[0].problems[0]
    assert google.spreadsheets == {}
    report = provision(config, client, dry_run=False, unit_codes=["941"], folder_id="shared-folder-1")
    assert not report.units[0].problems
    (key,) = google.spreadsheets
    assert google.state["drive_files"][key]["parents"] == ["shared-folder-1"]


def test_unknown_unit_code_is_refused(config: Config, client):
    with pytest.raises(ValueError, match="XYZ"):
        provision(config, client, dry_run=True, unit_codes=["941", "XYZ"])


# --------------------------------------------------------------------------- read back and parse


# --------------------------------------------------------------------------- pure functions


def test_sheet_ranges_of_the_district_template(config: Config):
    rows = layout_rows(config, "district")
    ranges = sheet_ranges(rows, config.template)
    descriptions = [d for d, _ in ranges.protections]
    assert descriptions == [
        COLUMN_A_PROTECTION,
        TITLE_PROTECTION,
        TABLE_PROTECTION.format(code="A"),
        TABLE_PROTECTION.format(code="B"),
    ]
    shown = [(kind, a1_range(grid, "BaoCao")) for kind, grid in ranges.validations]
    first_a = next(i for i, r in enumerate(rows) if r[0] == "NCC")
    assert ("count", f"BaoCao!C{first_a + 1}:H{first_a + 4}") in shown
    kinds = {kind for kind, _ in shown}
    assert kinds == {"count", "money"}


@pytest.mark.parametrize(
    ("grid", "expected"),
    [
        ({"startColumnIndex": 0, "endColumnIndex": 1}, "BaoCao!A"),
        ({"startRowIndex": 0, "endRowIndex": 5}, "BaoCao!1:5"),
        ({"startRowIndex": 12, "endRowIndex": 13}, "BaoCao!13"),
        (
            {"startRowIndex": 11, "endRowIndex": 15, "startColumnIndex": 2, "endColumnIndex": 8},
            "BaoCao!C12:H15",
        ),
        ({"startRowIndex": 30, "endRowIndex": 31, "startColumnIndex": 2, "endColumnIndex": 3}, "BaoCao!C31"),
    ],
    ids=["column", "rows", "one-row", "block", "one-cell"],
)
def test_a1_range(grid, expected):
    assert a1_range(grid, "BaoCao") == expected
