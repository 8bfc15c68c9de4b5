"""The pre-check's mail, to a real SMTP server (aiosmtpd on loopback): a unit hears only of a
change in its findings, never the same list twice; "Đã tiếp nhận" once its sheet passes; the
admins told once when a spreadsheet no longer takes the feedback (issue 21)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from housing_report.deliver.ledger import Mailer
from housing_report.precheck.local import LocalFeedbackWriter
from housing_report.precheck.messages import send_messages
from housing_report.precheck.run import check_units
from tests.deliver.test_report import smtp
from tests.precheck.test_precheck import MAR, RefusingWriter, fix_cell, run_check, source_of
from tests.smtp_server import Collector, smtp_server

SENDER = "Ban Tuyên giáo <baocao@btgtu.soctrang.example>"
DOMAIN = "btgtu.soctrang.example"


def mailer(port: int) -> Mailer:
    return Mailer(smtp(port), SENDER, DOMAIN)


def received(handler, start: int = 0) -> dict[str, str]:
    """Recipient -> subject of what arrived since `start`."""
    return {r.rcpt_tos[0]: str(r.message["Subject"]) for r in handler.received[start:]}


def email_of(config, code: str) -> str:
    return config.unit(code).emails[0]


def touch(path: Path) -> None:
    """Saved again without a change (the sheet's time moves, its content does not)."""
    later = dt.datetime.now().timestamp() + 2
    os.utime(path, (later, later))


def test_a_unit_hears_only_of_changes(config, store, sheets, tmp_path):
    out = tmp_path / "out"
    source = source_of(config, sheets)
    handler = Collector()
    with smtp_server(handler) as server:
        run_check(config, store, source, out, "run-1")
        first = send_messages(config, store, MAR, "run-1", mailer(server.port))
        got = received(handler)
        # Findings to those with errors or warnings; "Đã tiếp nhận" to those that pass.
        assert sorted(first.told) == ["945", "949", "951"]
        assert "941" in first.confirmed
        assert "949" not in first.confirmed
        assert "cần sửa 1 lỗi trước khi tổng hợp" in got[email_of(config, "949")]
        assert got[email_of(config, "941")].endswith("Đã tiếp nhận")
        # Stale and unreadable units hear nothing from the pre-check (the reminder tells them).
        assert email_of(config, "946") not in got
        body = handler.received[[r.rcpt_tos[0] for r in handler.received].index(email_of(config, "949"))]
        text = body.message.get_body(preferencelist=("plain",)).get_content()
        assert "Ô BaoCao!G15" in text
        assert "KiemTra" in text
        # A retry of the same run's task sends nothing twice.
        assert send_messages(config, store, MAR, "run-1", mailer(server.port)).told == []
        count = len(handler.received)
        assert count == len(first.told) + len(first.confirmed)

        # Next day: the sheet saved again without a change: read again, the same list: no mail.
        touch(sheets / "st-949-thanh-tri.xlsx")
        run_check(config, store, source, out, "run-2")
        again = send_messages(config, store, MAR, "run-2", mailer(server.port))
        assert again.told == []
        assert again.unchanged == ["949"]
        assert len(handler.received) == count

        # 951 fixes its error but makes another: the new list is sent.
        fix_cell(sheets / "st-951-tran-de.xlsx", "H16", 100)
        fix_cell(sheets / "st-951-tran-de.xlsx", "G15", "mười")
        run_check(config, store, source, out, "run-3")
        third = send_messages(config, store, MAR, "run-3", mailer(server.port))
        assert third.told == ["951"]
        assert "BaoCao!G15" in handler.received[-1].message.get_body(preferencelist=("plain",)).get_content()

        # 949 fixes its cell: one "Đã tiếp nhận"; saved again later: nothing more.
        fix_cell(sheets / "st-949-thanh-tri.xlsx", "G15", 12)
        run_check(config, store, source, out, "run-4")
        fourth = send_messages(config, store, MAR, "run-4", mailer(server.port))
        assert fourth.confirmed == ["949"]
        assert fourth.told == []
        assert received(handler, len(handler.received) - 1) == {
            email_of(config, "949"): "Kỳ báo cáo 12/03/2025 - Huyện Thạnh Trị: Đã tiếp nhận"
        }
        touch(sheets / "st-949-thanh-tri.xlsx")
        run_check(config, store, source, out, "run-5")
        fifth = send_messages(config, store, MAR, "run-5", mailer(server.port))
        assert fifth.confirmed == []
        assert fifth.unchanged == ["949"]

        # It breaks the same cell again: told again (the list changed since "Đã tiếp nhận").
        fix_cell(sheets / "st-949-thanh-tri.xlsx", "G15", "12 căn")
        run_check(config, store, source, out, "run-6")
        assert send_messages(config, store, MAR, "run-6", mailer(server.port)).told == ["949"]
    # Never to officials: every message went to a unit's own address.
    unit_addresses = {e for u in config.units for e in u.emails}
    assert {r for m in handler.received for r in m.rcpt_tos} <= unit_addresses


def test_a_spreadsheet_refusing_the_feedback_emails_the_unit_and_tells_the_admins_once(config, store, sheets):
    source = source_of(config, sheets)
    handler = Collector()
    admin = config.report.admins[0].email
    with smtp_server(handler) as server:
        check_units(config, store, source, RefusingWriter(), MAR, "run-1", ["946", "949"])
        first = send_messages(config, store, MAR, "run-1", mailer(server.port))
        assert sorted(first.alerted) == ["946", "949"]
        # The email is the unit's channel now: even the stale unit gets its findings.
        assert sorted(first.told) == ["946", "949"]
        alerts = [r for r in handler.received if admin in r.rcpt_tos]
        assert len(alerts) == 2
        assert "không ghi được kết quả kiểm tra" in str(alerts[0].message["Subject"])
        touch(sheets / "st-949-thanh-tri.xlsx")
        check_units(config, store, source, RefusingWriter(), MAR, "run-2", ["949"])
        second = send_messages(config, store, MAR, "run-2", mailer(server.port))
        assert second.alerted == []
        assert second.told == []
        assert len([r for r in handler.received if admin in r.rcpt_tos]) == 2
    # A writer that works again: the unit reads KiemTra; no alert.
    outcome = check_units(
        config, store, source, LocalFeedbackWriter(sheets.parent / "out"), MAR, "run-3", ["949"]
    )
    assert outcome.written
    assert not outcome.unwritable
