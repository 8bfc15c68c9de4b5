"""The pre-check's feedback inside a unit's Google spreadsheet, with the real gspread client and
google-auth against the loopback Sheets/Drive server (`tests.google_api`).

The round trip reads the unit's worksheet and validates it as the provincial run does, writes
the result, lets the unit fix the cell, and checks again; the server counts the requests and
keeps what Google would (values, formulas, notes, conditional formats, protections, Drive's
modifiedTime).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from housing_report.collect.google import GoogleSheetsSource
from housing_report.collect.google_client import RetryPolicy, make_client
from housing_report.core.models import Finding
from housing_report.core.statuses import ACCEPTED as RUN_ACCEPTED
from housing_report.precheck import sheets as sheets_module
from housing_report.precheck.feedback import (
    ACCEPTED,
    ERROR,
    UNREADABLE,
    FeedbackNotWritable,
    UnitFeedback,
    feedback_sheet_title,
)
from housing_report.precheck.sheet_requests import (
    ERROR_COLOUR,
    FEEDBACK_PROTECTION,
    NOT_CHECKED,
    NOTE_PREFIX,
    NOTHING_FOUND,
    WARNING_COLOUR,
    checked_at_text,
    grid_range,
)
from housing_report.precheck.sheets import (
    ChangesUnknown,
    SheetsFeedbackWriter,
    changed_since,
    protect_values,
    unprotect_values,
)
from housing_report.validate.parse import parse_report
from tests.google_api.server import UNIT_EMAIL, FakeGoogle, Fault, Response, error_response
from tests.google_api.writes import can_edit

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "include" / "sample_data" / "2025-03-12"
PERIOD = dt.date(2025, 3, 12)
EMAIL = "bao-cao@xoa-nha-tam.iam.gserviceaccount.com"
KEY = "st-949-thanh-tri"  # include/sample_data/README.md: BaoCao!G15 holds «12 căn»
CHECKED = dt.datetime(2025, 3, 10, 0, 0, tzinfo=dt.UTC)  # 07:00 in Vietnam
FAST = RetryPolicy(max_attempts=2, base_delay=0.1, max_wait=1, max_total_wait=2)
LONG_AGO = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def google():
    with FakeGoogle() as server:
        server.add_workbook_folder(SAMPLES)
        for key in list(server.spreadsheets):
            server.touch(key, when=LONG_AGO)
        yield server


@pytest.fixture
def client(google):
    return make_client(
        google.service_account_key(EMAIL),
        api_base_url=google.base_url,
        timeout=5,
        retry=FAST,
        sleep=[].append,
    )


def check(config, client, code: str, checked_at: dt.datetime = CHECKED) -> UnitFeedback:
    """What the pre-check does for one unit: read it from Google, validate it, say it."""
    unit = config.unit(code)
    [result] = GoogleSheetsSource(client).fetch([unit])
    report = parse_report(result.grid, unit, config.template, config.report.rules, PERIOD)
    errors = len(report.errors)
    status = ERROR if errors else ACCEPTED
    text = f"Có {errors} lỗi cần sửa trước ngày 12/03/2025" if errors else "Đã tiếp nhận"
    return UnitFeedback(
        unit.code,
        unit.name,
        unit.spreadsheet,
        unit.worksheet,
        status,
        text,
        checked_at,
        PERIOD.isoformat(),
        tuple(report.findings),
    )


def writes_and_reads(google: FakeGoogle, key: str) -> tuple[int, int]:
    posts = google.api_requests(rf"^/v4/spreadsheets/{key}:batchUpdate$", "POST")
    gets = google.api_requests(rf"^/v4/spreadsheets/{key}$", "GET")
    return len(posts), len(gets)


def cell_text(client, key: str, title: str) -> list[list[str]]:
    """What the unit sees in a worksheet, read back through gspread."""
    return client.open_by_key(key).worksheet(title).get_all_values()


# ---------------------------------------------------------------------- the round trip


def test_round_trip_error_marked_then_cleared_once_fixed(config, google, client):
    sheet = google.spreadsheets[KEY].sheet("BaoCao")
    sheet.notes[(14, 6)] = "Số liệu theo báo cáo của các xã"  # the unit's own note on G15
    sheet.notes[(5, 2)] = "Ghi chú khác của đơn vị"
    unit_rule = {
        "ranges": [{"sheetId": sheet.sheet_id, "startRowIndex": 0, "endRowIndex": 3}],
        "booleanRule": {"condition": {"type": "NOT_BLANK"}, "format": {"textFormat": {"bold": True}}},
    }
    sheet.conditional_formats.append(unit_rule)
    writer = SheetsFeedbackWriter(client)

    first = check(config, client, "949")
    assert first.status == ERROR
    assert [f.cell for f in first.findings] == ["BaoCao!G15"]
    google.reset_log()
    where = writer.write(first)

    assert writes_and_reads(google, KEY) == (1, 1)
    spreadsheet = google.spreadsheets[KEY]
    feedback = spreadsheet.sheet("KiemTra")
    assert feedback is not None
    assert where == f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid={feedback.sheet_id}"
    seen = cell_text(client, KEY, "KiemTra")
    labels = {row[0]: row[1] for row in seen if len(row) > 1 and row[0]}
    assert labels["Đơn vị"] == "Huyện Thạnh Trị"
    assert labels["Tình trạng"] == "Có 1 lỗi cần sửa trước ngày 12/03/2025"
    assert labels["Kiểm tra lúc"] == "07:00 ngày 10/03/2025"
    assert labels["Kỳ báo cáo"] == "ngày 12/03/2025"
    [row] = [r for r in seen if r[:2] == ["1", "Lỗi"]]
    assert row[2] == "G15"
    assert "«12 căn»" in row[3]
    assert "chỉ ghi số" in row[3]
    assert not row[3].startswith("Huyện Thạnh Trị")  # the unit's name and the cell are in their columns
    r = seen.index(row)
    assert feedback.formulas[(r, 2)] == f'=HYPERLINK("#gid={sheet.sheet_id}&range=G15";"G15")'
    # Protected: only the service account edits it.
    [protection] = [
        p for p in google.state["protected_ranges"][KEY] if p["range"]["sheetId"] == feedback.sheet_id
    ]
    assert protection["description"] == FEEDBACK_PROTECTION
    assert protection["warningOnly"] is False
    assert protection["editors"] == {"users": [EMAIL]}
    assert protection["range"] == {"sheetId": feedback.sheet_id}
    assert not can_edit(protection, google.state["protected_creators"], UNIT_EMAIL)
    # The wrong cell marked: our note above the unit's own, and light red.
    sheet = spreadsheet.sheet("BaoCao")  # the server's state after the batchUpdate
    note = sheet.note("G15")
    assert note.startswith(NOTE_PREFIX)
    assert "«12 căn»" in note
    assert note.endswith("Số liệu theo báo cáo của các xã")
    assert sheet.background("G15") == ERROR_COLOUR
    assert sheet.background("G16") is None
    assert sheet.note("C6") == "Ghi chú khác của đơn vị"

    google.edit(KEY, "BaoCao", "G15", 12)  # the unit fixes the cell
    second = check(config, client, "949", CHECKED + dt.timedelta(hours=7))
    assert second.status == ACCEPTED
    assert second.findings == ()
    google.reset_log()
    writer.write(second)

    assert writes_and_reads(google, KEY) == (1, 1)
    seen = cell_text(client, KEY, "KiemTra")
    labels = {row[0]: row[1] for row in seen if len(row) > 1 and row[0]}
    assert labels["Tình trạng"] == "Đã tiếp nhận"
    assert labels["Kiểm tra lúc"] == "14:00 ngày 10/03/2025"
    assert not [r for r in seen if r[:2] == ["1", "Lỗi"]]  # the old row is gone
    assert any("Không có lỗi hay cảnh báo nào." in r for r in seen)
    sheet = google.spreadsheets[KEY].sheet("BaoCao")
    assert sheet.note("G15") == "Số liệu theo báo cáo của các xã"  # the unit's note given back
    assert sheet.background("G15") is None
    assert sheet.note("C6") == "Ghi chú khác của đơn vị"
    assert sheet.conditional_formats == [unit_rule]  # the unit's own rule untouched
    assert sheet.value("G15") == 12
    # One protection, not a second one for the same sheet.
    assert (
        len([p for p in google.state["protected_ranges"][KEY] if p["description"] == FEEDBACK_PROTECTION])
        == 1
    )
    # The provincial run now accepts the unit.
    unit = config.unit("949")
    [result] = GoogleSheetsSource(client).fetch([unit])
    assert (
        parse_report(result.grid, unit, config.template, config.report.rules, PERIOD).status == RUN_ACCEPTED
    )


def test_errors_red_warnings_yellow_and_a_new_finding_replaces_the_old_marks(config, google, client):
    unit = config.unit("941")
    writer = SheetsFeedbackWriter(client)

    def feedback(*findings: Finding) -> UnitFeedback:
        return UnitFeedback(
            unit.code,
            unit.name,
            unit.spreadsheet,
            unit.worksheet,
            ERROR,
            "Có lỗi",
            CHECKED,
            "2025-03-12",
            findings,
        )

    error = Finding("error", "BaoCao!E12", "X", f"{unit.name}, ô BaoCao!E12: ghi «abc»; hãy ghi số.")
    warning = Finding("warning", "BaoCao!F20", "Y", f"{unit.name}, ô BaoCao!F20: thấp hơn kỳ trước.")
    layout = Finding("error", "BaoCao", "LAYOUT", f"{unit.name}: thiếu bảng B.")
    writer.write(feedback(error, warning, layout))
    sheet = google.spreadsheets[unit.spreadsheet].sheet("BaoCao")
    assert sheet.background("E12") == ERROR_COLOUR
    assert sheet.background("F20") == WARNING_COLOUR
    assert sheet.note("F20").startswith(f"{NOTE_PREFIX}\nCảnh báo: Thấp hơn kỳ trước.")
    seen = cell_text(client, unit.spreadsheet, "KiemTra")
    assert ["3", "Lỗi", "BaoCao", "Thiếu bảng B."] in seen or any(
        r[:3] == ["3", "Lỗi", "BaoCao"] for r in seen
    )  # a finding without a cell is listed, not linked

    moved = Finding("error", "BaoCao!E13", "X", f"{unit.name}, ô BaoCao!E13: ghi «abc»; hãy ghi số.")
    writer.write(feedback(moved))
    sheet = google.spreadsheets[unit.spreadsheet].sheet("BaoCao")
    assert sheet.background("E12") is None
    assert sheet.note("E12") is None
    assert sheet.background("F20") is None
    assert sheet.note("F20") is None
    assert sheet.background("E13") == ERROR_COLOUR
    assert len(sheet.conditional_formats) == 1  # ours replaced, not piled up


def test_units_sharing_a_spreadsheet_each_get_their_own_feedback_sheet(config, google, client):
    units = [u for u in config.units if u.spreadsheet == "st-khoi-mttq-doan-the"][:2]
    writer = SheetsFeedbackWriter(client)
    for unit in units:
        finding = Finding("error", f"{unit.worksheet}!D10", "X", f"{unit.name}, ô {unit.worksheet}!D10: sai.")
        writer.write(
            UnitFeedback(
                unit.code,
                unit.name,
                unit.spreadsheet,
                unit.worksheet,
                ERROR,
                "Có 1 lỗi",
                CHECKED,
                "2025-03-12",
                (finding,),
            )
        )
    spreadsheet = google.spreadsheets["st-khoi-mttq-doan-the"]
    for unit in units:
        title = feedback_sheet_title(unit.worksheet)
        assert title == f"KiemTra_{unit.worksheet}"
        assert spreadsheet.sheet(title) is not None
        assert spreadsheet.sheet(unit.worksheet).background("D10") == ERROR_COLOUR
        names = [r[1] for r in cell_text(client, "st-khoi-mttq-doan-the", title) if r and r[0] == "Đơn vị"]
        assert names == [unit.name]
    assert feedback_sheet_title("BaoCao") == "KiemTra"


def test_a_missing_report_worksheet_still_gets_its_feedback_sheet(config, google, client):
    unit = config.unit("941")
    reason = "Chưa đọc được: không tìm thấy trang tính «BaoCao2» trong bảng tính"
    feedback = UnitFeedback(
        unit.code, unit.name, unit.spreadsheet, "BaoCao2", UNREADABLE, reason, CHECKED, "2025-03-12", ()
    )
    SheetsFeedbackWriter(client).write(feedback)
    seen = cell_text(client, unit.spreadsheet, "KiemTra_BaoCao2")
    assert ["Tình trạng", reason, "", ""] in seen
    assert ["Trang báo cáo", "BaoCao2", "", ""] in seen  # no link to a sheet that does not exist
    assert any(NOT_CHECKED in row for row in seen)
    assert not any(NOTHING_FOUND in row for row in seen)
    assert not google.spreadsheets[unit.spreadsheet].sheet("BaoCao").notes


# ---------------------------------------------------------------------- refusals


def test_a_spreadsheet_shared_read_only_is_not_writable(config, google, client):
    google.read_only(KEY)
    feedback = check(config, client, "949")
    with pytest.raises(FeedbackNotWritable, match="Huyện Thạnh Trị") as caught:
        SheetsFeedbackWriter(client).write(feedback)
    assert "403" in str(caught.value)
    assert EMAIL in str(caught.value)
    assert google.spreadsheets[KEY].sheet("KiemTra") is None


def test_a_spreadsheet_no_longer_shared_is_not_writable(config, google, client):
    feedback = check(config, client, "949")
    google.forbid(KEY)
    with pytest.raises(FeedbackNotWritable, match="Huyện Thạnh Trị"):
        SheetsFeedbackWriter(client).write(feedback)


def test_cells_the_unit_protected_against_us_leave_the_spreadsheet_unchanged(config, google, client):
    sheet = google.spreadsheets[KEY].sheet("BaoCao")
    google.state.setdefault("protected_ranges", {})[KEY] = [
        {
            "protectedRangeId": 77,
            "range": {"sheetId": sheet.sheet_id, "startColumnIndex": 2, "endColumnIndex": 10},
            "description": "Khóa của đơn vị",
            "warningOnly": False,
            "editors": {"users": [UNIT_EMAIL]},
        }
    ]
    google.state.setdefault("protected_creators", {})[77] = UNIT_EMAIL
    feedback = check(config, client, "949")
    with pytest.raises(FeedbackNotWritable, match="bị khóa"):
        SheetsFeedbackWriter(client).write(feedback)
    assert google.spreadsheets[KEY].sheet("KiemTra") is None  # one batchUpdate: all or nothing
    assert google.spreadsheets[KEY].sheet("BaoCao").note("G15") is None


# ---------------------------------------------------------------------- changes (Drive)


def test_nothing_changed_costs_one_request_and_gives_nothing(google, client):
    google.reset_log()
    assert changed_since(client, list(google.spreadsheets), LONG_AGO + dt.timedelta(days=1)) == {}
    [request] = google.api_requests()
    assert request.path == "/drive/v3/files"
    assert "modifiedTime > '2025-03-02T00:00:00.000Z'" in request.query["q"][0]


def test_a_unit_edit_is_seen_and_our_own_writes_are_not(config, google, client):
    since = LONG_AGO + dt.timedelta(days=1)
    keys = list(google.spreadsheets)
    google.edit("st-941-tp-soc-trang", "BaoCao", "D10", 5)
    changed = changed_since(client, keys, since)
    assert list(changed) == ["st-941-tp-soc-trang"]
    moment = google.modified["st-941-tp-soc-trang"][0]
    assert changed["st-941-tp-soc-trang"] == moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    SheetsFeedbackWriter(client).write(check(config, client, "949"))  # our write moves modifiedTime
    assert set(changed_since(client, keys, since)) == {"st-941-tp-soc-trang"}
    assert set(changed_since(client, keys, since, include_own=True)) == {"st-941-tp-soc-trang", KEY}
    # Keys not asked for are left out; None: every key Drive shows.
    assert changed_since(client, [KEY], since) == {}
    assert set(changed_since(client, keys + ["not-shared"], None)) == set(keys)


def test_many_changes_are_read_page_by_page(google, client, monkeypatch):
    monkeypatch.setattr(sheets_module, "DRIVE_PAGE_SIZE", 4)
    keys = sorted(google.spreadsheets)
    for key in keys[:9]:
        google.touch(key, by=UNIT_EMAIL)
    google.reset_log()
    assert set(changed_since(client, keys, LONG_AGO + dt.timedelta(days=1))) == set(keys[:9])
    assert len(google.api_requests(r"^/drive/v3/files$")) == 3


def test_drive_out_of_reach_says_so(google, client):
    google.faults.append(Fault(error_response(503, "Backend Error"), r"^/drive/", times=5))
    with pytest.raises(ChangesUnknown, match="Google Drive"):
        changed_since(client, list(google.spreadsheets), LONG_AGO)


def test_drive_api_disabled_says_so(google, client):
    body = {
        "error": {
            "code": 403,
            "message": "Google Drive API has not been used in project 1 before",
            "status": "PERMISSION_DENIED",
        }
    }
    google.faults.append(Fault(Response(403, body), r"^/drive/"))
    with pytest.raises(ChangesUnknown, match="403"):
        changed_since(client, list(google.spreadsheets), LONG_AGO)


# ---------------------------------------------------------------------- after the deadline


def test_protection_round_trip(google, client):
    sheet_id = google.spreadsheets[KEY].sheet("BaoCao").sheet_id
    google.reset_log()
    assert protect_values(client, KEY, "BaoCao", ["C5:H40", "D50"], "Khóa sau hạn 12/03/2025") == 2
    assert writes_and_reads(google, KEY) == (1, 1)
    locked = [
        p for p in google.state["protected_ranges"][KEY] if p["description"] == "Khóa sau hạn 12/03/2025"
    ]
    assert [p["range"] for p in locked] == [grid_range("C5:H40", sheet_id), grid_range("D50", sheet_id)]
    assert locked[0]["range"] == {
        "sheetId": sheet_id,
        "startRowIndex": 4,
        "endRowIndex": 40,
        "startColumnIndex": 2,
        "endColumnIndex": 8,
    }
    assert all(p["editors"] == {"users": [EMAIL]} and not p["warningOnly"] for p in locked)
    assert not any(can_edit(p, google.state["protected_creators"], UNIT_EMAIL) for p in locked)

    # Again, with other ranges: replaced, not added to.
    assert protect_values(client, KEY, "BaoCao", ["C5:H40"], "Khóa sau hạn 12/03/2025") == 1
    assert (
        len(
            [
                p
                for p in google.state["protected_ranges"][KEY]
                if p["description"] == "Khóa sau hạn 12/03/2025"
            ]
        )
        == 1
    )

    google.reset_log()
    assert unprotect_values(client, KEY, "Khóa sau hạn 12/03/2025", "BaoCao") == 1
    assert writes_and_reads(google, KEY) == (1, 1)
    assert not [
        p for p in google.state["protected_ranges"][KEY] if p["description"] == "Khóa sau hạn 12/03/2025"
    ]
    google.reset_log()
    assert unprotect_values(client, KEY, "Khóa sau hạn 12/03/2025") == 0
    assert writes_and_reads(google, KEY) == (0, 1)


def test_protecting_a_read_only_spreadsheet_is_refused(google, client):
    google.read_only(KEY)
    with pytest.raises(FeedbackNotWritable, match="Huyện Thạnh Trị"):
        protect_values(client, KEY, "BaoCao", ["C5:H40"], "Khóa", unit_name="Huyện Thạnh Trị")


# ---------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("G14", {"startRowIndex": 13, "endRowIndex": 14, "startColumnIndex": 6, "endColumnIndex": 7}),
        (
            "'Bao Cao'!B3:C4",
            {"startRowIndex": 2, "endRowIndex": 4, "startColumnIndex": 1, "endColumnIndex": 3},
        ),
        ("C:E", {"startColumnIndex": 2, "endColumnIndex": 5}),
        ("5:7", {"startRowIndex": 4, "endRowIndex": 7}),
        ("$AA$10", {"startRowIndex": 9, "endRowIndex": 10, "startColumnIndex": 26, "endColumnIndex": 27}),
    ],
    ids=["cell", "quoted-sheet", "columns", "rows", "absolute"],
)
def test_grid_range(text, expected):
    assert grid_range(text, 7) == {"sheetId": 7, **expected}


@pytest.mark.parametrize(
    "text", ["", "G", "G0", "abc!", "G14:"], ids=["empty", "letters-only", "row-0", "no-cell", "open"]
)
def test_grid_range_refuses(text):
    with pytest.raises(ValueError, match="A1"):
        grid_range(text, 0)


def test_checked_at_text_is_vietnam_time():
    assert checked_at_text(dt.datetime(2025, 3, 10, 17, 30, tzinfo=dt.UTC)) == "00:30 ngày 11/03/2025"
    assert checked_at_text(dt.datetime(2025, 3, 10, 7, 0)) == "14:00 ngày 10/03/2025"  # naive: UTC
