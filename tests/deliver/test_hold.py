"""Which runs are held (`deliver.hold.hold_reason`), and how a held version is logged: once,
beside the period's other mail, never as sent (SQLite and the real PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from housing_report.archive.store import ReportStore
from housing_report.deliver.hold import held_alert, hold_reason, record_hold
from housing_report.deliver.ledger import Ledger

PERIOD = dt.date(2026, 11, 27)
COUNTS = {"accepted": 16, "rejected": 2, "stale": 1, "missing": 1, "unreachable": 0}
NOBODY = {"accepted": 0, "rejected": 0, "stale": 19, "missing": 1, "unreachable": 0}


@pytest.mark.parametrize(
    ("counts", "today", "named", "send_held", "held"),
    [
        pytest.param(COUNTS, PERIOD, False, False, "", id="scheduled-on-time"),
        pytest.param(COUNTS, dt.date(2026, 11, 30), False, False, "", id="three-days-late"),
        pytest.param(COUNTS, dt.date(2026, 12, 1), False, False, "lần chạy bù", id="catch-up-held"),
        pytest.param(COUNTS, dt.date(2026, 12, 3), True, False, "", id="named-period-sent"),
        pytest.param(COUNTS, dt.date(2026, 12, 3), False, True, "", id="catch-up-send-held"),
        pytest.param(NOBODY, PERIOD, False, False, "0/20", id="empty-on-time-held"),
        pytest.param(NOBODY, dt.date(2026, 12, 3), True, False, "không đơn vị nào", id="empty-named-held"),
        pytest.param(NOBODY, dt.date(2026, 12, 3), True, True, "", id="empty-send-held"),
        pytest.param({**NOBODY, "rejected": 1}, PERIOD, False, False, "", id="only-rejected-not-empty"),
    ],
)
def test_hold_reason(counts, today, named, send_held, held):
    reason = hold_reason(counts, PERIOD, today, hold_after_days=3, named_period=named, send_held=send_held)
    if held:
        assert held in reason
    else:
        assert reason == ""


def test_the_alert_says_why_and_how_to_send():
    subject, lines = held_alert(PERIOD, 2, "scheduled__2026-11-27T00:00:00+00:00", "lý do")
    text = "\n".join(lines)
    assert "27/11/2026" in subject
    assert "Lý do: lý do" in text
    assert "scheduled__2026-11-27T00:00:00+00:00" in text
    assert '{"period": "2026-11-27", "send_held": true}' in text


def test_a_held_version_is_logged_once_and_never_as_sent(store_url, config):
    store = ReportStore(store_url)
    store.ensure_schema()
    first = record_hold(store, config, PERIOD, 1, "r1", "không đơn vị nào nộp báo cáo")
    assert record_hold(store, config, PERIOD, 1, "r1", "không đơn vị nào nộp báo cáo") == first  # a retry
    [row] = store.deliveries(PERIOD)
    assert (row.kind, row.state, row.version, row.run_id) == ("report", "held", 1, "r1")
    assert "không đơn vị nào" in row.detail
    addresses = [c.email for c in (*config.report.to, *config.report.cc)]
    assert sorted(row.recipients) == sorted(addresses)
    key = Ledger.key(addresses)
    assert store.last_sent(PERIOD, key) is None
    assert store.in_flight(PERIOD, key) is None
    # Held versions stay out of the send-once index: the next version may be held, then sent.
    record_hold(store, config, PERIOD, 2, "r2", "lần chạy bù")
    claim = store.claim_delivery(
        period=PERIOD,
        version=2,
        run_id="r3",
        kind="report",
        recipients=addresses,
        supersedes=0,
        message_id="<m@x>",
        key=key,
    )
    assert claim


def test_the_admins_page_shows_a_held_version_and_why(store_url, config):
    from housing_report.render.overview import build_overview

    store = ReportStore(store_url)
    store.ensure_schema()
    record_hold(store, config, PERIOD, 1, "r1", "lần chạy bù")
    [row] = build_overview(store, config, PERIOD).deliveries
    assert (row["kind"], row["state"], row["state_label"]) == ("Báo cáo", "held", "Giữ lại, chưa gửi")
    assert row["detail"] == "Giữ lại, không gửi: lần chạy bù"


@pytest.mark.parametrize(
    ("today", "named", "held"),
    [
        pytest.param(dt.date(2026, 11, 25), False, False, id="two-days-before"),
        pytest.param(PERIOD, False, False, id="on-the-day"),
        pytest.param(dt.date(2026, 11, 28), False, True, id="catch-up-after-the-day"),
        pytest.param(dt.date(2026, 12, 3), True, False, id="named"),
    ],
)
def test_reminder_hold_reason(today, named, held):
    from housing_report.deliver.hold import reminder_hold_reason

    reason = reminder_hold_reason(PERIOD, today, named_period=named)
    assert bool(reason) is held
    if held:
        assert "27/11/2026 đã qua" in reason
