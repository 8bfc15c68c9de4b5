from __future__ import annotations

import datetime as dt
import email
from email.headerregistry import Address
from email.policy import default
from email.utils import parsedate_to_datetime

import pytest

from housing_report.config import Contact
from housing_report.deliver.message import (
    MAX_MESSAGE_BYTES,
    MIME_TYPES,
    MessageTooLarge,
    build_message,
    envelope_recipients,
    to_address,
    wire_bytes,
)
from housing_report.render.environment import RenderedEmail

XLSX = MIME_TYPES[".xlsx"]
RENDERED = RenderedEmail(
    subject="Báo cáo tổng hợp tiến độ xóa nhà tạm, nhà dột nát - kỳ 12/03/2025",
    html="<p>Đã hoàn thành <strong>1.574</strong> / 4.518 căn</p>\n",
    text="Đã hoàn thành 1.574/4.518 căn\n",
)
DATE = dt.datetime(2025, 3, 12, 7, 5, tzinfo=dt.timezone(dt.timedelta(hours=7)))


@pytest.fixture
def attachment(tmp_path):
    path = tmp_path / "Tổng hợp kỳ 12-03-2025.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook \x00\xff")
    return path


@pytest.fixture
def message(config, attachment):
    return build_message(
        RENDERED,
        sender=Contact("Ban Tuyên giáo Tỉnh ủy Sóc Trăng", "baocao@soctrang.example"),
        to=list(config.report.to),
        cc=list(config.report.cc),
        attachments=[attachment],
        message_id_domain="baocao.soctrang.example",
        date=DATE,
    )


def received(message):
    """The message as a recipient's program parses it from the wire."""
    return email.message_from_bytes(wire_bytes(message), policy=default)


def test_structure_is_mixed_with_alternative_then_attachment(message):
    parsed = received(message)
    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attached = parsed.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html = alternative.get_payload()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert plain.get_content() == RENDERED.text
    assert html.get_content() == RENDERED.html
    assert attached.get_content_type() == XLSX
    assert attached.get_content_disposition() == "attachment"


def test_subject_and_vietnamese_names_survive_the_wire(message, config):
    parsed = received(message)
    assert parsed["Subject"] == RENDERED.subject
    assert [(a.display_name, a.addr_spec) for a in parsed["From"].addresses] == [
        ("Ban Tuyên giáo Tỉnh ủy Sóc Trăng", "baocao@soctrang.example")
    ]
    # The Department's long name is where Python 3.11's own folding loses the address.
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [
        (c.name, c.email) for c in config.report.to
    ]
    assert [(a.display_name, a.addr_spec) for a in parsed["Cc"].addresses] == [
        (c.name, c.email) for c in config.report.cc
    ]


def test_message_is_7bit_with_encoded_headers(message):
    raw = wire_bytes(message)
    assert raw.isascii()
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in headers
    assert b"\r\n" in raw
    assert raw.count(b"\n") == raw.count(b"\r\n")  # CRLF everywhere


def test_non_ascii_attachment_name_uses_rfc_2231(message, attachment):
    raw = wire_bytes(message)
    assert b"filename*=utf-8''T%E1%BB%95ng%20h%E1%BB%A3p%20k%E1%BB%B3%2012-03-2025.xlsx" in raw
    attached = received(message).get_payload()[1]
    assert attached.get_filename() == "Tổng hợp kỳ 12-03-2025.xlsx"
    assert attached.get_content() == attachment.read_bytes()


def test_message_id_date_and_automatic_report_headers(message):
    parsed = received(message)
    message_id = parsed["Message-ID"]
    assert message_id.startswith("<")
    assert message_id.endswith("@baocao.soctrang.example>")
    assert parsedate_to_datetime(parsed["Date"]) == DATE
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Content-Language"] == "vi"


def test_message_ids_are_unique(config, attachment):
    ids = {
        build_message(RENDERED, "a@b.example", ["c@d.example"], [], [], "b.example")["Message-ID"]
        for _ in range(5)
    }
    assert len(ids) == 5


def test_without_cc_or_attachments_it_is_just_the_alternative():
    message = build_message(RENDERED, "a@b.example", ["c@d.example"], [], [], "b.example")
    assert "Cc" not in message
    assert message.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Contact("Sở Nội vụ", "snv@x.example"), ("Sở Nội vụ", "snv@x.example")),
        ("Sở Nội vụ <snv@x.example>", ("Sở Nội vụ", "snv@x.example")),
        ("snv@x.example", ("", "snv@x.example")),
        (("Ban Chỉ đạo, tỉnh", "bcd@x.example"), ("Ban Chỉ đạo, tỉnh", "bcd@x.example")),
        (Address("Admin", addr_spec="a@x.example"), ("Admin", "a@x.example")),
    ],
    ids=["contact", "name-and-address", "bare-address", "pair-with-comma", "address"],
)
def test_addresses_in_every_form(value, expected):
    address = to_address(value)
    assert (address.display_name, address.addr_spec) == expected
    message = build_message(RENDERED, "a@b.example", [value, "z@z.example"], [], [], "b.example")
    assert [(a.display_name, a.addr_spec) for a in received(message)["To"].addresses][0] == expected


@pytest.mark.parametrize("value", ["not an address", "a@", "Tên <>"], ids=["words", "no-domain", "empty"])
def test_a_bad_address_is_refused(value):
    with pytest.raises(ValueError, match="invalid email address"):
        to_address(value)


def test_no_recipient_or_bad_domain_is_refused():
    with pytest.raises(ValueError, match="recipient"):
        build_message(RENDERED, "a@b.example", [], ["c@d.example"], [], "b.example")
    with pytest.raises(ValueError, match="Message-ID"):
        build_message(RENDERED, "a@b.example", ["c@d.example"], [], [], "bad domain")


def test_envelope_recipients_are_to_then_cc_once(config):
    message = build_message(
        RENDERED,
        "a@b.example",
        ["X <x@e.example>", "y@e.example"],
        ["Y <Y@e.example>", "z@e.example"],
        [],
        "b.example",
    )
    assert envelope_recipients(message) == ["x@e.example", "y@e.example", "z@e.example"]


def test_no_message_over_the_size_limit_is_built(tmp_path):
    """Whatever makes it big (a body, an attachment), a message over the limit is an error
    naming it and its size, never a message cut short."""
    big = tmp_path / "phu-luc.xlsx"
    big.write_bytes(b"\x00" * (MAX_MESSAGE_BYTES // 2))
    body = RenderedEmail(RENDERED.subject, "<p>" + "Ô sai. " * 800_000 + "</p>", "Ô sai. " * 800_000)
    for rendered, attachments in ((body, []), (RENDERED, [big, big])):
        with pytest.raises(MessageTooLarge, match=r"vượt giới hạn 10,0 MB của một thư: thư không được gửi"):
            build_message(rendered, "a@b.example", ["c@d.example"], [], attachments, "b.example")
    # Under the limit (the report at national scale is about 600 kB): built as before.
    message = build_message(RENDERED, "a@b.example", ["c@d.example"], [], [big], "b.example")
    assert MAX_MESSAGE_BYTES // 2 < len(wire_bytes(message)) < MAX_MESSAGE_BYTES
