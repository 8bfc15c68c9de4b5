"""No mail of any kind reaches a recipient twice through a retry: real SMTP servers (aiosmtpd on
loopback) that keep the message and then drop the connection before their "250", or answer
after the client's timeout, or refuse one recipient of three; each across the retries Airflow
would make (the same call again, same run), on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from housing_report.archive.store import ReportStore
from housing_report.deliver.feedback import send_feedback
from housing_report.deliver.ledger import DeliveryUncertain, Ledger, Mailer, PartialDelivery
from housing_report.deliver.reminders import send_reminders
from housing_report.deliver.report import dispatch
from housing_report.deliver.transports import DeliveryError, DeliveryOutcomeUnknown, SmtpDelivery
from housing_report.pipeline.report import summarise
from tests.archive.test_store import read_all
from tests.deliver.test_feedback import DOMAIN, SENDER, rejected_949
from tests.deliver.test_ledger import with_two_addresses
from tests.deliver.test_report import all_recipients, mail_for, run
from tests.smtp_server import Collector, Disconnecting, DroppingAtRcpt, Stalling, smtp_server

MAR = dt.date(2025, 3, 12)
NO_ANSWER = pytest.mark.parametrize("no_answer", [Disconnecting, Stalling], ids=["dropped", "stalled"])


@pytest.fixture
def store(store_url):
    s = ReportStore(store_url)
    s.ensure_schema()
    return s


def smtp(port: int) -> SmtpDelivery:
    """A short timeout: the stalled server answers only once the client has given up."""
    return SmtpDelivery(
        "127.0.0.1", port, "", None, "baocao@btgtu.soctrang.example", ssl=False, starttls=False, timeout=1
    )


def split(handler, config):
    """What the server received: (to the admins, to anyone else)."""
    admins = {a.email for a in config.report.admins}
    to_admins = [r for r in handler.received if set(r.rcpt_tos) == admins]
    return to_admins, [r for r in handler.received if r not in to_admins]


def plain(received) -> str:
    return received.message.get_body(preferencelist=("plain",)).get_content()


# --------------------------------------------------------------------------- no answer after DATA


@NO_ANSWER
def test_report_without_an_answer_stays_sending_told_once_resent_only_by_force(store, config, no_answer):
    run(config, store, "r1")
    handler = no_answer(times=1)  # the first message only: the alert that follows is answered
    with smtp_server(handler) as server:

        def deliver(**kwargs):
            return dispatch(
                config, store, MAR, "r1", mail_for(config), smtp(server.port), tell_admins=True, **kwargs
            )

        with pytest.raises(DeliveryOutcomeUnknown):
            deliver()
        [report] = store.deliveries(MAR)[:1]
        assert (report.kind, report.state) == ("report", "sending")
        for _retry in range(2):  # Airflow's two retries: refused, naming the Message-ID
            with pytest.raises(DeliveryUncertain, match="force_resend") as caught:
                deliver()
            assert report.message_id in str(caught.value)
        alerts, reports = split(handler, config)
        [copy] = reports
        assert copy.message["Message-ID"] == report.message_id
        [alert] = alerts  # told once, with the Message-ID to look for
        assert "chưa rõ" in alert.message["Subject"]
        assert report.message_id in plain(alert)
        assert "force_resend" in plain(alert)
        # An admin looked: it is not there. force_resend sends it again, once.
        assert deliver(force_resend=True).sent
        assert not deliver().sent
    alerts, reports = split(handler, config)
    assert len(reports) == 2
    assert len(alerts) == 1
    assert [(d.kind, d.state) for d in store.deliveries(MAR)] == [
        ("report", "failed"),
        ("alert", "sent"),
        ("report", "sent"),
    ]


@NO_ANSWER
def test_feedback_without_an_answer_fails_on_every_retry_and_is_resent_only_by_force(
    store, config, no_answer
):
    read_all(config, store, MAR, "r1", {"949": rejected_949(config)})
    summarise(config, MAR, "r1", store)
    handler = no_answer(times=1)
    with smtp_server(handler) as server:

        def send(**kwargs):
            return send_feedback(
                config, store, MAR, "r1", smtp(server.port), SENDER, DOMAIN, tell_admins=True, **kwargs
            )

        first = send()
        [unit] = first.failed
        assert "Không rõ thư đã đến hay chưa" in first.failed[unit]
        for _retry in range(2):
            again = send()
            assert unit in again.failed  # the task fails again, nothing resent
            assert "force_resend" in again.failed[unit]
            assert unit not in again.sent
        emails = set(config.unit(unit).emails)
        alerts, others = split(handler, config)
        assert len([r for r in others if set(r.rcpt_tos) == emails]) == 1
        [alert] = alerts
        assert "chưa rõ" in alert.message["Subject"]
        assert send(force_resend=True).sent == [unit]
    alerts, others = split(handler, config)
    assert len([r for r in others if set(r.rcpt_tos) == emails]) == 2
    assert len(alerts) == 1


def test_reminder_and_alert_without_an_answer_are_never_resent(store, config):
    states = [{"code": "946", "state": "not_updated", "found": "2025-02-27", "reason": ""}]
    handler = Disconnecting(times=1)
    with smtp_server(handler) as server:

        def remind(**kwargs):
            return send_reminders(
                config,
                store,
                MAR,
                "remind-1",
                states,
                smtp(server.port),
                SENDER,
                DOMAIN,
                tell_admins=True,
                **kwargs,
            )

        assert list(remind()["failed"]) == ["946"]
        assert remind()["already"] == ["946"]  # the retry
        alerts, others = split(handler, config)
        assert len(others) == 1
        assert len(alerts) == 1  # the admins told of the reminder's unknown outcome
        assert remind(force_resend=True)["reminded"] == ["946"]  # an admin looked: not there
        assert len(split(handler, config)[1]) == 2

        handler.times = 1  # now the alert itself gets no answer
        ledger = Ledger(store, Mailer(smtp(server.port), SENDER, DOMAIN), "r1")

        def alert():
            return ledger.alert(
                config.report.admins, period=MAR, about="task:d/r1/t/-1/1", subject="Cảnh báo", lines=["Lỗi"]
            )

        with pytest.raises(DeliveryOutcomeUnknown):
            alert()
        assert alert() is None  # the callback called again: never a second copy
    alerts, _ = split(handler, config)
    assert len([a for a in alerts if a.message["Subject"] == "Cảnh báo"]) == 1


# --------------------------------------------------------------------------- dropped before DATA


def test_report_dropped_before_data_is_retried_and_delivered_once(store, config):
    run(config, store, "r1")
    handler = DroppingAtRcpt(times=1)
    with smtp_server(handler) as server:
        with pytest.raises(DeliveryError):
            dispatch(config, store, MAR, "r1", mail_for(config), smtp(server.port), tell_admins=True)
        assert handler.received == []
        assert dispatch(config, store, MAR, "r1", mail_for(config), smtp(server.port), tell_admins=True).sent
        assert not dispatch(config, store, MAR, "r1", mail_for(config), smtp(server.port)).sent
    [copy] = handler.received  # no alert: nothing is uncertain
    assert set(copy.rcpt_tos) == all_recipients(config)
    assert [d.state for d in store.deliveries(MAR)] == ["failed", "sent"]


# --------------------------------------------------------------------------- one recipient of three refused


def test_a_refused_recipient_fails_every_retry_and_rerun_until_force_sends_to_it_alone(store, config):
    run(config, store, "r1")
    refused = config.report.cc[0].email
    handler = Collector(refuse=(refused,))
    with smtp_server(handler) as server:

        def deliver(run_id="r1", **kwargs):
            return dispatch(
                config, store, MAR, run_id, mail_for(config), smtp(server.port), tell_admins=True, **kwargs
            )

        with pytest.raises(PartialDelivery, match=refused):
            deliver()
        for _retry in range(2):  # Airflow's retries fail too, naming who lacks it
            with pytest.raises(PartialDelivery, match=refused) as caught:
                deliver()
            assert caught.value.refused == (refused,)
            assert "force_resend" in str(caught.value)
        run(config, store, "r2")  # a re-run of the period (same figures): fails the same way
        with pytest.raises(PartialDelivery, match=refused):
            deliver("r2")
        alerts, reports = split(handler, config)
        [copy] = reports
        assert set(copy.rcpt_tos) == all_recipients(config) - {refused}
        [alert] = alerts  # the admins told once, naming the refused address
        assert "một phần" in alert.message["Subject"]
        assert refused in plain(alert)
        # The mailbox is fixed; force_resend sends the delivered version to the refused alone.
        handler.refuse = set()
        outcome = deliver("r2", force_resend=True)
        assert refused in outcome.reason
        assert not outcome.sent  # r2's version has the same figures: nothing more to all
        assert not deliver("r2").sent  # and the partial state is over
    alerts, reports = split(handler, config)
    assert len(alerts) == 1
    first, rest = reports
    assert rest.rcpt_tos == [refused]
    assert rest.message["Subject"] == first.message["Subject"]
    rows = [(d.kind, d.version, d.recipients, d.state) for d in store.deliveries(MAR) if d.kind != "alert"]
    assert rows == [
        ("report", 1, sorted(all_recipients(config)), "sent"),
        ("report", 1, [refused], "sent"),
    ]


def test_a_refused_unit_address_fails_every_retry_until_force_sends_to_it_alone(store, config):
    config = with_two_addresses(config, "949")
    refused = config.unit("949").emails[0]
    read_all(config, store, MAR, "r1", {"949": rejected_949(config)})
    summarise(config, MAR, "r1", store)
    handler = Collector(refuse=(refused,))
    with smtp_server(handler) as server:

        def send(**kwargs):
            return send_feedback(
                config, store, MAR, "r1", smtp(server.port), SENDER, DOMAIN, tell_admins=True, **kwargs
            )

        for _try in range(3):  # the first try and Airflow's two retries
            outcome = send()
            assert refused in outcome.failed["949"]
            assert "949" not in outcome.sent
        handler.refuse = set()
        assert send(force_resend=True).sent == ["949"]  # to the refused address only
        assert "949" in send().skipped
    to_949 = [r.rcpt_tos for r in handler.received if set(r.rcpt_tos) & set(config.unit("949").emails)]
    assert to_949 == [[config.unit("949").emails[1]], [refused]]
    alerts, _ = split(handler, config)
    assert len(alerts) == 1
