"""Delivery against a real SMTP server (aiosmtpd on 127.0.0.1) and to an outbox folder."""

from __future__ import annotations

import datetime as dt
import email
import io
import ipaddress
import re
import smtplib
import ssl
import types
from email.policy import default

import openpyxl
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from housing_report.config import Contact
from housing_report.deliver.message import MIME_TYPES, build_message
from housing_report.deliver.transports import (
    Delivery,
    DeliveryError,
    DeliveryOutcomeUnknown,
    OutboxDelivery,
    SmtpDelivery,
)
from housing_report.render.email import render_email
from housing_report.render.workbook import write_summary_workbook
from tests.smtp_server import Collector, Disconnecting, DroppingAtRcpt, Stalling, free_port, smtp_server
from tests.support.summary_fixture import make_summary

SENDER = "baocao@btgtu.soctrang.example"
SUBJECT = "Báo cáo tổng hợp tiến độ xóa nhà tạm, nhà dột nát - kỳ 12/03/2025"
PASSWORD = "s3cret-Pa55word"


# --------------------------------------------------------------------------- servers


def password_check(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"svc-baocao"
        and (auth_data.password == PASSWORD.encode())
    )
    # handled=False: let aiosmtpd answer 535 itself on a failure.
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, and a client context that trusts only it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return types.SimpleNamespace(server=server, client=client)


# --------------------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def summary():
    return make_summary()


@pytest.fixture
def report(tmp_path, config, summary):
    """The provincial report's email as the pipeline builds it, with the workbook attached."""
    workbook = write_summary_workbook(summary, config, tmp_path / "tong-hop-xoa-nha-tam-2025-03-12.xlsx")
    return build_message(
        render_email(summary, config),
        sender=Contact("Ban Tuyên giáo Tỉnh ủy Sóc Trăng", SENDER),
        to=list(config.report.to),
        cc=list(config.report.cc),
        attachments=[workbook],
        message_id_domain="btgtu.soctrang.example",
    )


def expected_recipients(config) -> list[str]:
    return [c.email for c in (*config.report.to, *config.report.cc)]


def smtp(port: int, **kwargs) -> SmtpDelivery:
    options = {"user": "", "password": None, "sender": SENDER, "ssl": False, "starttls": False, "timeout": 10}
    return SmtpDelivery(host="127.0.0.1", port=port, **(options | kwargs))


def check_received(got, config, summary):
    """What the server received is the whole report: subject, both bodies, the workbook."""
    message = got.message
    assert message["Subject"] == SUBJECT
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert "đã hoàn thành, bàn giao 1.574/4.518 căn nhà cần hỗ trợ, đạt 34,8%" in plain.get_content()
    assert "1.574 / 4.518 căn" in html.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == MIME_TYPES[".xlsx"]
    assert attachment.get_filename() == "tong-hop-xoa-nha-tam-2025-03-12.xlsx"
    # Read as a program that does not recalculate reads it: the totals' stored values.
    ws = openpyxl.load_workbook(io.BytesIO(attachment.get_content()), data_only=True)["BangA"]
    codes = [c.value for c in ws[5]]  # the hidden row of codes
    totals = next(r for r in ws.iter_rows(min_row=6) if r[1].value == "Tổng cộng")
    for i, key in enumerate(codes[4:], start=4):
        assert totals[i].value == summary.totals[key], key
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [
        (c.name, c.email) for c in config.report.to
    ]


# --------------------------------------------------------------------------- SMTP


def test_smtp_sends_our_message_to_to_and_cc(report, config, summary):
    handler = Collector()
    with smtp_server(handler) as server:
        result = smtp(server.port).deliver(report)
    [got] = handler.received
    assert got.rcpt_tos == expected_recipients(config)
    assert got.mail_from == SENDER
    assert got.login is None  # no password: no login
    check_received(got, config, summary)
    assert got.message["Message-ID"] == report["Message-ID"] == result.message_id
    assert result.recipients == tuple(expected_recipients(config))
    assert result.location == f"smtp://127.0.0.1:{server.port}"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_logs_in_as_the_user_and_sends_from_the_sender(report, config):
    handler = Collector()
    with smtp_server(
        handler, authenticator=password_check, auth_required=True, auth_require_tls=False
    ) as server:
        smtp(server.port, user="svc-baocao", password=PASSWORD).deliver(report)
    [got] = handler.received
    assert got.login == b"svc-baocao"
    assert got.mail_from == SENDER
    assert got.rcpt_tos == expected_recipients(config)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_wrong_password_fails_without_showing_it(report):
    handler = Collector()
    with smtp_server(
        handler, authenticator=password_check, auth_required=True, auth_require_tls=False
    ) as server:
        delivery = smtp(server.port, user="svc-baocao", password="wrong-" + PASSWORD)
        with pytest.raises(DeliveryError) as caught:
            delivery.deliver(report)
    assert isinstance(caught.value.__cause__, smtplib.SMTPAuthenticationError)
    text = str(caught.value)
    assert "Không gửi được thư" in text
    assert "Could not send the email" in text
    assert PASSWORD not in text
    assert PASSWORD not in repr(delivery)
    assert handler.received == []


def test_smtp_starttls_upgrades_and_verifies_the_server(report, config, summary, certificate):
    handler = Collector()
    with smtp_server(
        handler,
        tls_context=certificate.server,
        require_starttls=True,
        authenticator=password_check,
        auth_required=True,
    ) as server:
        smtp(
            server.port, starttls=True, user="svc-baocao", password=PASSWORD, tls_context=certificate.client
        ).deliver(report)
    [got] = handler.received
    assert got.tls
    assert got.login == b"svc-baocao"
    check_received(got, config, summary)


def test_smtp_starttls_refuses_an_unknown_certificate(report, certificate):
    handler = Collector()
    with smtp_server(handler, tls_context=certificate.server, require_starttls=True) as server:
        with pytest.raises(DeliveryError) as caught:
            smtp(server.port, starttls=True).deliver(report)  # the system's authorities only
    assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
    assert handler.received == []


def test_smtp_server_down_is_an_error(report):
    port = free_port()  # nothing listens there
    with pytest.raises(DeliveryError, match=f"127.0.0.1:{port}") as caught:
        smtp(port).deliver(report)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_smtp_all_recipients_refused_is_an_error(report):
    handler = Collector(refuse_all=True)
    with smtp_server(handler) as server:
        with pytest.raises(DeliveryError) as caught:
            smtp(server.port).deliver(report)
    assert isinstance(caught.value.__cause__, smtplib.SMTPRecipientsRefused)
    assert handler.received == []


def test_smtp_one_refused_recipient_is_an_error_naming_it(report, config):
    refused = config.report.cc[0].email
    handler = Collector(refuse=(refused,))
    with smtp_server(handler) as server:
        with pytest.raises(DeliveryError, match=re.escape(refused)) as caught:
            smtp(server.port).deliver(report)
    assert "550" in str(caught.value)
    [got] = handler.received  # the others did get it, and the error says so
    assert got.rcpt_tos == [c.email for c in config.report.to]
    assert "the message went to the other recipients" in str(caught.value)


@pytest.mark.parametrize("handler_class", [Disconnecting, Stalling], ids=["dropped", "stalled"])
def test_smtp_no_answer_after_data_is_an_unknown_outcome_sent_once(report, handler_class):
    """The server keeps the message, then drops the connection before its "250", or answers
    after the client's timeout: one copy arrived, the outcome is unknown, never "not sent"."""
    handler = handler_class()
    with smtp_server(handler) as server:
        with pytest.raises(DeliveryOutcomeUnknown) as caught:
            smtp(server.port, timeout=1).deliver(report)
        assert len(handler.received) == 1  # no second attempt below the caller
    assert not isinstance(caught.value, DeliveryError)
    assert caught.value.message_id == report["Message-ID"]
    assert report["Message-ID"] in str(caught.value)
    assert "Không rõ thư đã đến hay chưa" in str(caught.value)


def test_smtp_dropped_before_data_is_not_sent_and_may_be_retried(report, config):
    handler = DroppingAtRcpt(times=1)
    with smtp_server(handler) as server:
        with pytest.raises(DeliveryError) as caught:
            smtp(server.port).deliver(report)
        assert isinstance(caught.value.__cause__, smtplib.SMTPServerDisconnected)
        assert handler.received == []
        smtp(server.port).deliver(report)  # the retry
    [got] = handler.received
    assert got.rcpt_tos == expected_recipients(config)


def test_smtp_data_refused_with_a_reply_is_not_sent(report):
    class RefusingData(Collector):
        async def handle_DATA(self, server, session, envelope):
            return "554 5.6.0 Message rejected"

    with smtp_server(RefusingData()) as server:
        with pytest.raises(DeliveryError, match="554") as caught:
            smtp(server.port).deliver(report)
    assert isinstance(caught.value.__cause__, smtplib.SMTPDataError)


def test_smtp_settings_are_checked():
    with pytest.raises(ValueError, match="exclude"):
        smtp(25, ssl=True, starttls=True)
    with pytest.raises(ValueError, match="sender"):
        smtp(25, sender="Ban Tuyên giáo")


# --------------------------------------------------------------------------- outbox


def test_outbox_writes_a_parseable_eml(tmp_path, report, config, summary):
    folder = tmp_path / "outbox" / "2025-03-12"
    clock = lambda: dt.datetime(2025, 3, 12, 0, 5, 9, tzinfo=dt.UTC)  # noqa: E731
    result = OutboxDelivery(folder, clock=clock).deliver(report)
    files = list(folder.iterdir())
    assert [f.name for f in files] == [result.location.rsplit("/", 1)[1]]
    assert re.fullmatch(r"20250312T000509-[0-9a-f]{8}\.eml", files[0].name)
    got = types.SimpleNamespace(message=email.message_from_bytes(files[0].read_bytes(), policy=default))
    check_received(got, config, summary)
    assert result.recipients == tuple(expected_recipients(config))
    assert result.message_id == report["Message-ID"]


def test_outbox_names_differ_per_message(tmp_path, report, config):
    other = build_message(render_email(make_summary(), config), SENDER, ["a@b.example"], [], [], "b.example")
    delivery = OutboxDelivery(tmp_path)
    first, second = delivery.deliver(report), delivery.deliver(other)
    assert first.location != second.location
    assert len(list(tmp_path.glob("*.eml"))) == 2


def test_outbox_refuses_a_message_without_recipients(tmp_path, config):
    rendered = render_email(make_summary(), config)
    message = build_message(rendered, SENDER, ["a@b.example"], [], [], "b.example")
    del message["To"]
    with pytest.raises(DeliveryError, match="no recipients"):
        OutboxDelivery(tmp_path).deliver(message)
    assert list(tmp_path.iterdir()) == []


def test_both_are_deliveries(tmp_path):
    assert isinstance(OutboxDelivery(tmp_path), Delivery)
    assert isinstance(smtp(25), Delivery)
