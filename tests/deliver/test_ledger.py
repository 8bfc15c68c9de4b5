"""The send-once ledger: one policy for every kind of mail, on SQLite and on the real PostgreSQL,
with a real SMTP server (aiosmtpd on loopback) where the outcome comes from a server."""

from __future__ import annotations

import dataclasses
import datetime as dt
from email.message import EmailMessage

import pytest

from housing_report.archive.store import ReportStore
from housing_report.deliver.feedback import send_feedback
from housing_report.deliver.ledger import (
    DeliveryUncertain,
    Ledger,
    Mailer,
    PartialDelivery,
)
from housing_report.deliver.reminders import notify_admins, send_reminders
from housing_report.deliver.report import dispatch
from housing_report.deliver.transports import DeliveryError, DeliveryResult
from housing_report.pipeline.report import summarise
from housing_report.render.environment import RenderedEmail
from tests.archive.test_store import read_all
from tests.deliver.test_feedback import DOMAIN, SENDER, rejected_949
from tests.deliver.test_report import mail_for, run, smtp
from tests.smtp_server import Collector, smtp_server

MAR = dt.date(2025, 3, 12)
SECOND = "van-thu-{code}@donvi.soctrang.example"


@pytest.fixture
def store(store_url):
    s = ReportStore(store_url)
    s.ensure_schema()
    return s


class Scripted:
    """A transport that records what it is handed and answers as told: None (accepted), or an
    exception to raise."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.handed: list[EmailMessage] = []

    def deliver(self, message: EmailMessage) -> DeliveryResult:
        self.handed.append(message)
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer
        return DeliveryResult(str(message["Message-ID"]), ("a@b.example",), "scripted")


def message(ledger: Ledger, to: str = "a@b.example") -> EmailMessage:
    return ledger.build(RenderedEmail(subject="Thử", html="<p>Thử</p>", text="Thử"), [to])


def with_two_addresses(config, code: str):
    """The config with a second (accepted) address for one unit: its first can then be refused
    alone, as a server refuses one mailbox of several."""
    units = tuple(
        dataclasses.replace(u, emails=(*u.emails, SECOND.format(code=code.lower()))) if u.code == code else u
        for u in config.units
    )
    return dataclasses.replace(config, units=units)


# --------------------------------------------------------------------------- the outcomes


def test_sent_then_nothing_more_under_the_same_key(store):
    transport = Scripted()
    ledger = Ledger(store, Mailer(transport, SENDER, DOMAIN), "r1")
    key = ledger.key(["a@b.example"], "thu:1")
    assert ledger.previous(MAR, key) is None
    receipt = ledger.send(message(ledger), period=MAR, key=key, kind="alert", recipients=["a@b.example"])
    [row] = store.deliveries(MAR)
    assert (row.id, row.state, row.message_id) == (receipt.delivery_id, "sent", receipt.message_id)
    assert ledger.previous(MAR, key).id == row.id


def test_refused_by_the_server_is_failed_and_a_retry_may_send(store):
    transport = Scripted(DeliveryError("451 thử lại sau"))
    ledger = Ledger(store, Mailer(transport, SENDER, DOMAIN), "r1")
    key = ledger.key(["a@b.example"], "thu:1")
    with pytest.raises(DeliveryError, match="451"):
        ledger.send(message(ledger), period=MAR, key=key, kind="alert", recipients=["a@b.example"])
    assert ledger.previous(MAR, key) is None
    ledger.send(message(ledger), period=MAR, key=key, kind="alert", recipients=["a@b.example"])
    assert [d.state for d in store.deliveries(MAR)] == ["failed", "sent"]
    assert len(transport.handed) == 2


def test_an_unknown_outcome_stays_sending_and_is_never_resent_but_by_force(store):
    transport = Scripted(TimeoutError("the connection hung after DATA"))
    ledger = Ledger(store, Mailer(transport, SENDER, DOMAIN), "r1")
    key = ledger.key(["a@b.example"], "thu:1")
    with pytest.raises(TimeoutError):
        ledger.send(message(ledger), period=MAR, key=key, kind="alert", recipients=["a@b.example"])
    [row] = store.deliveries(MAR)
    assert row.state == "sending"
    with pytest.raises(DeliveryUncertain, match=row.message_id) as info:
        ledger.previous(MAR, key)
    assert info.value.pending.id == row.id
    # An admin checked the mailbox: the attempt is marked failed and the way is open again.
    assert ledger.previous(MAR, key, force_resend=True) is None
    assert [d.state for d in store.deliveries(MAR)] == ["failed"]


def test_an_alert_once_for_one_failure_and_again_after_a_refusal(store, config):
    transport = Scripted(DeliveryError("421 bận"))
    ledger = Ledger(store, Mailer(transport, SENDER, DOMAIN), "r1")

    def alert():
        return ledger.alert(
            config.report.admins, period=MAR, about="task:d/r1/t/-1/1", subject="Cảnh báo", lines=["Lỗi"]
        )

    with pytest.raises(DeliveryError):
        alert()  # refused: a later call may send
    assert alert() is not None
    assert alert() is None  # told already
    assert ledger.alert((), period=MAR, about="x", subject="s", lines=[]) is None  # nobody to tell
    assert len(transport.handed) == 2
    assert [(d.kind, d.state) for d in store.deliveries(MAR)] == [("alert", "failed"), ("alert", "sent")]


# --------------------------------------------------------------------------- one policy for a partial refusal


def partial_report(config, store, handler, port):
    refused = config.report.cc[0].email
    handler.refuse = {refused}
    run(config, store, "r1")

    def send():
        return dispatch(config, store, MAR, "r1", mail_for(config), smtp(port), tell_admins=True)

    with pytest.raises(PartialDelivery, match=refused):
        send()
    with pytest.raises(PartialDelivery, match=refused):
        send()  # a retry: the others have it, the refused still not
    return "report", refused


def partial_feedback(config, store, handler, port):
    config = with_two_addresses(config, "949")
    refused = config.unit("949").emails[0]
    handler.refuse = {refused}
    read_all(config, store, MAR, "r1", {"949": rejected_949(config)})
    summarise(config, MAR, "r1", store)

    def send():
        return send_feedback(config, store, MAR, "r1", smtp(port), SENDER, DOMAIN, tell_admins=True)

    first = send()
    assert list(first.failed) == ["949"]
    assert refused in first.failed["949"]
    retried = send()  # a retry: not again, and the unit still listed as failed
    assert refused in retried.failed["949"]
    assert "949" not in retried.sent
    return "feedback", refused


def partial_reminder(config, store, handler, port):
    config = with_two_addresses(config, "946")
    refused = config.unit("946").emails[0]
    handler.refuse = {refused}
    states = [{"code": "946", "state": "not_updated", "found": "2025-02-27", "reason": ""}]

    def send(run_id):
        return send_reminders(
            config, store, MAR, run_id, states, smtp(port), SENDER, DOMAIN, tell_admins=True
        )

    first = send("r1")
    assert list(first["failed"]) == ["946"]
    assert send("r2")["already"] == ["946"]  # a re-run: not again
    return "reminder", refused


@pytest.mark.parametrize("scenario", [partial_report, partial_feedback, partial_reminder])
def test_a_partial_delivery_is_recorded_the_same_way_for_every_kind(store, config, scenario):
    handler = Collector()
    with smtp_server(handler) as server:
        kind, refused = scenario(config, store, handler, server.port)
    admins = {a.email for a in config.report.admins}
    to_others = [r for r in handler.received if not set(r.rcpt_tos) & admins]
    to_admins = [r for r in handler.received if set(r.rcpt_tos) == admins]
    # Once, to everyone but the refused address, never again; the admins told once.
    [delivered] = to_others
    assert refused not in delivered.rcpt_tos
    [alert] = to_admins
    assert "một phần" in alert.message["Subject"]
    assert refused in alert.message.get_body(preferencelist=("plain",)).get_content()
    rows = store.deliveries(MAR)
    [row] = [d for d in rows if d.kind in (kind, "correction")]
    assert row.kind == kind
    assert row.state == "sent"
    assert row.detail.startswith("một phần: ")
    assert refused in row.detail
    assert [(d.kind, d.state) for d in rows if d.kind == "alert"] == [("alert", "sent")]


def test_a_partial_delivery_tells_no_admin_unless_asked(store, config):
    """The library's callers decide: without `tell_admins` only the caller is told."""
    handler = Collector(refuse=(config.report.cc[0].email,))
    run(config, store, "r1")
    with smtp_server(handler) as server:
        with pytest.raises(PartialDelivery):
            dispatch(config, store, MAR, "r1", mail_for(config), smtp(server.port))
    assert len(handler.received) == 1
    assert [d.kind for d in store.deliveries(MAR)] == ["report"]


# --------------------------------------------------------------------------- the admins' list of reminders


def test_the_admins_list_of_reminders_once_per_period_and_list(store, config):
    states = [
        {"code": "946", "state": "not_updated", "found": "2025-02-27", "reason": ""},
        {"code": "941", "state": "updated", "found": "2025-03-12", "reason": ""},
    ]
    handler = Collector()
    admins = {a.email for a in config.report.admins}
    with smtp_server(handler) as server:
        delivery = smtp(server.port)
        first = send_reminders(config, store, MAR, "remind-1", states, delivery, SENDER, DOMAIN)
        assert notify_admins(config, store, first, "remind-1", delivery, SENDER, DOMAIN)
        # The task is retried: the admins have this list already.
        assert notify_admins(config, store, first, "remind-1", delivery, SENDER, DOMAIN) is None
        # A second run the same day: 946 is "already" reminded, a new list.
        second = send_reminders(config, store, MAR, "remind-2", states, delivery, SENDER, DOMAIN)
        assert notify_admins(config, store, second, "remind-2", delivery, SENDER, DOMAIN)
        # A third, with nothing new to tell: nothing.
        third = send_reminders(config, store, MAR, "remind-3", states, delivery, SENDER, DOMAIN)
        assert third == second
        assert notify_admins(config, store, third, "remind-3", delivery, SENDER, DOMAIN) is None
    to_admins = [r for r in handler.received if set(r.rcpt_tos) == admins]
    assert len(to_admins) == 2
    assert "đã nhắc 1 đơn vị" in to_admins[0].message["Subject"]
    assert "đã nhắc 0 đơn vị" in to_admins[1].message["Subject"]
    lists = [(d.version, d.supersedes, d.state) for d in store.deliveries(MAR) if d.kind == "reminder_admins"]
    assert lists == [(1, 0, "sent"), (2, 1, "sent")]
