"""Feedback emails to the units and reminders, to a real SMTP server (aiosmtpd on loopback),
through the delivery log on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from housing_report.archive.store import ReportStore
from housing_report.collect.local import LocalWorkbookSource
from housing_report.core.periods import coming_period
from housing_report.core.text import sheet_url
from housing_report.deliver.feedback import send_feedback
from housing_report.deliver.reminders import notify_admins, send_reminders
from housing_report.pipeline.reminders import check_units
from housing_report.pipeline.report import summarise
from tests.archive.test_store import read_all
from tests.deliver.test_report import smtp
from tests.smtp_server import Collector, smtp_server
from tests.support.grids import col_of, find, unit_rows

MAR = dt.date(2025, 3, 12)
SAMPLES = Path(__file__).resolve().parents[2] / "include" / "sample_data"
SENDER = "Ban Tuyên giáo <baocao@btgtu.soctrang.example>"
DOMAIN = "btgtu.soctrang.example"


@pytest.fixture
def store(store_url):
    s = ReportStore(store_url)
    s.ensure_schema()
    return s


def rejected_949(config, value="12 căn"):
    rows = unit_rows(config, "district", "12/03/2025", "Huyện Thạnh Trị")
    rows[find(rows, "MTQG")][col_of(rows, "A", "HT_XM")] = value
    return rows


def stale_946(config):
    return unit_rows(config, "district", "27/02/2025", "Huyện Long Phú")


def by_recipients(handler) -> dict[frozenset[str], object]:
    return {frozenset(r.rcpt_tos): r for r in handler.received}


def test_each_unit_with_something_to_fix_gets_one_email_and_no_one_else(store, config):
    handler = Collector()
    read_all(config, store, MAR, "run-1", {"949": rejected_949(config), "946": stale_946(config)})
    summarise(config, MAR, "run-1", store)
    with smtp_server(handler) as server:
        outcome = send_feedback(config, store, MAR, "run-1", smtp(server.port), SENDER, DOMAIN)
    assert sorted(outcome.sent) == ["946", "949"]
    received = by_recipients(handler)
    assert set(received) == {frozenset(config.unit("946").emails), frozenset(config.unit("949").emails)}
    message = received[frozenset(config.unit("949").emails)].message
    assert message["Subject"] == (
        "Kỳ báo cáo 12/03/2025 - Huyện Thạnh Trị: báo cáo chưa được tiếp nhận, cần sửa 1 lỗi"
    )
    assert message["Reply-To"].addresses[0].addr_spec == config.report.admins[0].email
    text = message.get_body(preferencelist=("plain",)).get_content()
    cell = f"BaoCao!G{find(rejected_949(config), 'MTQG') + 1}"
    assert f"1. [Lỗi] Ô {cell}: Bảng A, dòng MTQG" in text
    assert "«12 căn», có chữ kèm theo số" in text
    assert "Hãy chỉ ghi số, ví dụ 12" in text
    assert (
        sheet_url(config.unit("949").spreadsheet)
        == "https://docs.google.com/spreadsheets/d/st-949-thanh-tri/edit"
    )
    assert sheet_url(config.unit("949").spreadsheet) in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'href="https://docs.google.com/spreadsheets/d/st-949-thanh-tri/edit"' in html
    stale = received[frozenset(config.unit("946").emails)].message
    assert "chưa cập nhật báo cáo kỳ này" in stale["Subject"]
    assert [d.kind for d in store.deliveries(MAR)] == ["feedback", "feedback"]


def test_never_twice_per_version_nor_for_the_same_findings(store, config):
    handler = Collector()
    read_all(config, store, MAR, "run-1", {"949": rejected_949(config)})
    summarise(config, MAR, "run-1", store)
    with smtp_server(handler) as server:
        delivery = smtp(server.port)
        assert send_feedback(config, store, MAR, "run-1", delivery, SENDER, DOMAIN).sent == ["949"]
        # The task is retried: nothing more.
        retried = send_feedback(config, store, MAR, "run-1", delivery, SENDER, DOMAIN)
        assert retried.sent == []
        assert "949" in retried.skipped
        # A re-run where 949 has not changed anything: a new version, but nothing new to tell.
        read_all(config, store, MAR, "run-2", {"949": rejected_949(config)})
        summarise(config, MAR, "run-2", store)
        assert send_feedback(config, store, MAR, "run-2", delivery, SENDER, DOMAIN).sent == []
        assert len(handler.received) == 1
        # 949 writes another wrong value: told again, about the new one.
        read_all(config, store, MAR, "run-3", {"949": rejected_949(config, "#REF!")})
        summarise(config, MAR, "run-3", store)
        assert send_feedback(config, store, MAR, "run-3", delivery, SENDER, DOMAIN).sent == ["949"]
        # 949 fixes its sheet: nothing to fix, nothing sent.
        read_all(config, store, MAR, "run-4")
        summarise(config, MAR, "run-4", store)
        assert send_feedback(config, store, MAR, "run-4", delivery, SENDER, DOMAIN).sent == []
    assert len(handler.received) == 2
    assert "#REF!" in handler.received[1].message.get_body(preferencelist=("plain",)).get_content()
    assert [(d.version, d.supersedes, d.state) for d in store.deliveries(MAR)] == [
        (1, 0, "sent"),
        (3, 1, "sent"),
    ]


def test_a_refused_feedback_is_retried_alone(store, config):
    handler = Collector(refuse=config.unit("949").emails)
    read_all(config, store, MAR, "run-1", {"949": rejected_949(config), "946": stale_946(config)})
    summarise(config, MAR, "run-1", store)
    with smtp_server(handler) as server:
        outcome = send_feedback(config, store, MAR, "run-1", smtp(server.port), SENDER, DOMAIN)
        assert outcome.sent == ["946"]
        assert list(outcome.failed) == ["949"]
        handler.refuse = set()
        again = send_feedback(config, store, MAR, "run-1", smtp(server.port), SENDER, DOMAIN)
    assert again.sent == ["949"]
    assert len(handler.received) == 2


# --------------------------------------------------------------------------- reminders


def test_coming_period():
    assert coming_period(dt.date(2025, 3, 10), (12, 27)) == dt.date(2025, 3, 12)
    assert coming_period(dt.date(2025, 3, 25), (12, 27)) == dt.date(2025, 3, 27)
    assert coming_period(dt.date(2025, 12, 28), (12, 27)) == dt.date(2026, 1, 12)
    assert coming_period(dt.date(2025, 3, 12), (12, 27)) == dt.date(2025, 3, 12)


def test_reminders_reach_only_the_units_not_updated_then_the_admins(store, config):
    """The 12/03 samples: Long Phú still says 27/02 and Hội CCB has no worksheet; the rest updated
    (even the two rejected ones: a reminder is about updating, feedback is about errors)."""
    states = check_units(
        config, [u.code for u in config.units], MAR, LocalWorkbookSource(SAMPLES / "2025-03-12")
    )
    waiting = {s["code"]: s for s in states if s["state"] != "updated"}
    assert set(waiting) == {"946", "HCCB"}
    assert waiting["946"] == {"code": "946", "state": "not_updated", "found": "2025-02-27", "reason": ""}
    assert waiting["HCCB"]["state"] == "missing"
    handler = Collector()
    with smtp_server(handler) as server:
        delivery = smtp(server.port)
        result = send_reminders(config, store, MAR, "remind-1", states, delivery, SENDER, DOMAIN)
        assert result["reminded"] == ["946", "HCCB"]
        notify_admins(config, store, result, "remind-1", delivery, SENDER, DOMAIN)
        # A second run of the reminder the same day: the units are not reminded twice.
        again = send_reminders(config, store, MAR, "remind-2", states, delivery, SENDER, DOMAIN)
        assert again["reminded"] == []
        assert again["already"] == ["946", "HCCB"]
    units, admin = handler.received[:2], handler.received[2]
    assert len(handler.received) == 3
    assert [set(r.rcpt_tos) for r in units] == [
        set(config.unit("946").emails),
        set(config.unit("HCCB").emails),
    ]
    first = units[0].message
    assert first["Subject"] == "Nhắc báo cáo kỳ 12/03/2025 - Huyện Long Phú: chưa cập nhật"
    text = first.get_body(preferencelist=("plain",)).get_content()
    assert "ô Kỳ báo cáo đang ghi 27/02/2025" in text
    assert "07:00 ngày 12/03/2025" in text
    assert "https://docs.google.com/spreadsheets/d/st-946-long-phu/edit" in text
    assert "không tìm thấy trang tính CuuChienBinh" in units[1].message.get_body(("plain",)).get_content()
    assert set(admin.rcpt_tos) == {a.email for a in config.report.admins}
    assert admin.message["Subject"] == "Nhắc báo cáo kỳ 12/03/2025: đã nhắc 2 đơn vị chưa cập nhật"
    admin_text = admin.message.get_body(preferencelist=("plain",)).get_content()
    assert "Đã cập nhật: 18/20 đơn vị." in admin_text
    assert "- Huyện Long Phú (946):" in admin_text
    assert "- Hội Cựu chiến binh tỉnh (HCCB):" in admin_text
