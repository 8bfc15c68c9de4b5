"""Never lose a report, never send one twice: the delivery log against a real SMTP server.

Each fault runs on SQLite and on the real PostgreSQL, with aiosmtpd on loopback and
the real SMTP delivery (yagmail).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from housing_report.archive.deliveries import DeliveryConflict
from housing_report.archive.store import ReportStore
from housing_report.deliver.report import DeliveryUncertain, Mail, PartialDelivery, dispatch
from housing_report.deliver.transports import DeliveryError, SmtpDelivery
from housing_report.pipeline.report import summarise
from tests.archive.test_store import read_all
from tests.smtp_server import Collector, free_port, smtp_server
from tests.support.grids import col_of, find, unit_rows

MAR = dt.date(2025, 3, 12)
REPO = Path(__file__).resolve().parents[2]


class TemporaryFailure(Collector):
    """Answers 451 (try again later) to the first `failures` messages, then accepts."""

    def __init__(self, failures: int = 1):
        super().__init__()
        self.failures = failures

    async def handle_DATA(self, server, session, envelope):
        if self.failures > 0:
            self.failures -= 1
            return "451 4.3.0 Temporary local problem, try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def store(store_url):
    s = ReportStore(store_url)
    s.ensure_schema()
    return s


def mail_for(config) -> Mail:
    return Mail.of(config, "Ban Tuyên giáo <baocao@btgtu.soctrang.example>", "btgtu.soctrang.example")


def smtp(port: int) -> SmtpDelivery:
    return SmtpDelivery(
        "127.0.0.1", port, "", None, "baocao@btgtu.soctrang.example", ssl=False, starttls=False, timeout=5
    )


def run(config, store, run_id, overrides=None):
    read_all(config, store, MAR, run_id, overrides)
    return summarise(config, MAR, run_id, store)


def fixed_943(config, completed):
    rows = unit_rows(config, "district", "12/03/2025", "Huyện Kế Sách")
    rows[find(rows, "PTTD")][col_of(rows, "A", "HT_XM")] = completed
    return rows


def all_recipients(config):
    return {c.email for c in (*config.report.to, *config.report.cc)}


def test_report_once_then_nothing_then_a_correction(store, config):
    handler = Collector()
    with smtp_server(handler) as server:
        run(config, store, "scheduled")
        first = dispatch(config, store, MAR, "scheduled", mail_for(config), smtp(server.port))
        assert first.sent
        assert first.kind == "report"
        # The task is retried after a successful send: no second message.
        retried = dispatch(config, store, MAR, "scheduled", mail_for(config), smtp(server.port))
        assert not retried.sent
        # A re-run with unchanged sheets: a new version, same figures, no message.
        run(config, store, "rerun-unchanged")
        unchanged = dispatch(config, store, MAR, "rerun-unchanged", mail_for(config), smtp(server.port))
        assert not unchanged.sent
        assert "Không có số liệu nào thay đổi" in unchanged.reason
        assert len(handler.received) == 1
        # A unit fixes its sheet: one correction, with the change listed and why.
        run(config, store, "rerun-fixed", {"943": fixed_943(config, 150)})
        corrected = dispatch(config, store, MAR, "rerun-fixed", mail_for(config), smtp(server.port))
    assert corrected.sent
    assert corrected.kind == "correction"
    assert corrected.supersedes == 1
    assert len(handler.received) == 2
    original, correction = (r.message for r in handler.received)
    assert "điều chỉnh" not in original["Subject"]
    assert correction["Subject"].startswith("Báo cáo bổ sung, điều chỉnh")
    text = correction.get_body(preferencelist=("plain",)).get_content()
    assert "BÁO CÁO BỔ SUNG, ĐIỀU CHỈNH" in text
    assert "phiên bản 1" in text
    assert "phiên bản 3" in text
    assert "Đã hoàn thành, bàn giao xây mới" in text
    assert "(tăng 30)." in text  # the change in words, not "+30"
    assert "Huyện Kế Sách" in text
    html = correction.get_body(preferencelist=("html",)).get_content()
    assert "Lý do điều chỉnh" in html
    for received in handler.received:
        assert set(received.rcpt_tos) == all_recipients(config)
    assert [(d.version, d.kind, d.state) for d in store.deliveries(MAR)] == [
        (1, "report", "sent"),
        (3, "correction", "sent"),
    ]


def test_server_down_then_up_sends_exactly_once(store, config):
    run(config, store, "r1")
    with pytest.raises(DeliveryError):
        dispatch(config, store, MAR, "r1", mail_for(config), smtp(free_port()))
    [attempt] = store.deliveries(MAR)
    assert attempt.state == "failed"
    assert attempt.detail
    handler = Collector()
    with smtp_server(handler) as server:
        outcome = dispatch(config, store, MAR, "r1", mail_for(config), smtp(server.port))
    assert outcome.sent
    assert len(handler.received) == 1
    assert [d.state for d in store.deliveries(MAR)] == ["failed", "sent"]


def test_temporary_4xx_then_success_one_message(store, config):
    run(config, store, "r1")
    handler = TemporaryFailure(failures=1)
    with smtp_server(handler) as server:
        with pytest.raises(DeliveryError, match="451"):
            dispatch(config, store, MAR, "r1", mail_for(config), smtp(server.port))
        dispatch(config, store, MAR, "r1", mail_for(config), smtp(server.port))
    assert len(handler.received) == 1


def test_permanent_5xx_for_one_recipient(store, config):
    run(config, store, "r1")
    refused = config.report.cc[0].email
    handler = Collector(refuse=(refused,))
    with smtp_server(handler) as server:
        with pytest.raises(PartialDelivery, match=refused):
            dispatch(config, store, MAR, "r1", mail_for(config), smtp(server.port))
        # The others have it: a retry must not send it to them again, and fails all the same.
        with pytest.raises(PartialDelivery, match=refused):
            dispatch(config, store, MAR, "r1", mail_for(config), smtp(server.port))
    [received] = handler.received
    assert set(received.rcpt_tos) == all_recipients(config) - {refused}
    [row] = store.deliveries(MAR)
    assert row.state == "sent"
    assert refused in row.detail


CRASH = textwrap.dedent(
    """
    import datetime as dt, os, sys
    from housing_report.config import load_config
    from housing_report.deliver.transports import SmtpDelivery
    from housing_report.deliver.report import dispatch
    from housing_report.deliver.report import Mail
    from housing_report.archive.store import ReportStore

    real_finish = ReportStore.finish_delivery
    def die_after_the_server_accepted(self, delivery_id, state, detail=""):
        if state == "sent":
            os._exit(3)  # the process dies before the log says "sent"
        return real_finish(self, delivery_id, state, detail)
    ReportStore.finish_delivery = die_after_the_server_accepted

    config = load_config()
    mail = Mail.of(config, "baocao@btgtu.soctrang.example", "btgtu.soctrang.example")
    delivery = SmtpDelivery("127.0.0.1", int(sys.argv[2]), "", None, "baocao@btgtu.soctrang.example",
                            ssl=False, starttls=False, timeout=5)
    dispatch(config, ReportStore(sys.argv[1]), dt.date(2025, 3, 12), "r1", mail, delivery)
    """
)


def test_crash_between_send_and_log_never_sends_twice_by_itself(store, store_url, config):
    run(config, store, "r1")
    handler = Collector()
    with smtp_server(handler) as server:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "include"), str(REPO)]))
        crashed = subprocess.run(
            [sys.executable, "-c", CRASH, store_url, str(server.port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert crashed.returncode == 3, crashed.stderr[-2000:]
        assert len(handler.received) == 1
        [row] = store.deliveries(MAR)
        assert row.state == "sending"
        # Retries and re-runs refuse, naming the Message-ID to look for.
        with pytest.raises(DeliveryUncertain, match="force_resend") as info:
            dispatch(config, store, MAR, "r1", mail_for(config), smtp(server.port))
        assert row.message_id in str(info.value)
        run(config, store, "r2", {"943": fixed_943(config, 140)})
        with pytest.raises(DeliveryUncertain):
            dispatch(config, store, MAR, "r2", mail_for(config), smtp(server.port))
        assert len(handler.received) == 1
        # The admin checked the mailbox and chose to send again.
        outcome = dispatch(config, store, MAR, "r1", mail_for(config), smtp(server.port), force_resend=True)
    assert outcome.sent
    assert len(handler.received) == 2
    assert [d.state for d in store.deliveries(MAR)] == ["failed", "sent"]


def test_two_concurrent_runs_send_one_message(store_url, config):
    store = ReportStore(store_url)
    store.ensure_schema()
    run(config, store, "scheduled")
    run(config, store, "manual")
    handler = Collector()
    outcomes, conflicts = [], []
    barrier = threading.Barrier(2)
    with smtp_server(handler) as server:

        def deliver(run_id):
            barrier.wait()
            try:
                outcomes.append(
                    dispatch(config, ReportStore(store_url), MAR, run_id, mail_for(config), smtp(server.port))
                )
            except DeliveryConflict as exc:
                conflicts.append(str(exc))

        threads = [threading.Thread(target=deliver, args=(r,)) for r in ("scheduled", "manual")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # The loser (retried by Airflow) then finds the same figures delivered: nothing more.
        for run_id in ("scheduled", "manual"):
            dispatch(config, store, MAR, run_id, mail_for(config), smtp(server.port))
    assert len(handler.received) == 1
    assert sum(o.sent for o in outcomes) == 1
    assert len(outcomes) + len(conflicts) == 2
    for text in conflicts:
        assert "phiên bản" in text
