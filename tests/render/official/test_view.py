"""The email officials receive: forecast first, the charts inline (CID), the document and the
workbook attached; and the month's praise of exemplary models on the 27th."""

from __future__ import annotations

import email
import email.policy
import re

import msgspec
import pytest

from housing_report.core.summary import ListEntry
from housing_report.deliver.message import wire_bytes
from housing_report.deliver.report import Mail, build_report_message
from housing_report.render.official.view import monthly_praise
from tests.render.official.conftest import earlier_summary, history_point
from tests.support.summary_fixture import SCRIPT


def _mail(config) -> Mail:
    return Mail(sender="Hệ thống báo cáo <bao-cao@soctrang.example>", to=config.report.to,
                cc=config.report.cc, message_id_domain="soctrang.example")  # fmt: skip


@pytest.fixture
def message(config, summary, tmp_path):
    earlier = [earlier_summary(summary, "2025-02-12", 0.6), earlier_summary(summary, "2025-02-27", 0.8)]
    built = build_report_message(config, summary, _mail(config), tmp_path, earlier=earlier)
    return email.message_from_bytes(wire_bytes(built), policy=email.policy.default)


def test_inline_charts_are_referenced_by_cid(message):
    html = message.get_body(preferencelist=("html",)).get_content()
    related = next(p for p in message.walk() if p.get_content_type() == "multipart/related")
    images = [p for p in related.iter_parts() if p.get_content_maintype() == "image"]
    assert len(images) == 2
    cids = {p["Content-ID"].strip().strip("<>") for p in images}
    assert set(re.findall(r'src="cid:([^"]+)"', html)) == cids
    assert all(p.get_content_disposition() == "inline" for p in images)

    # The email's own charts, drawn for a phone (render/email_charts.py), not the document's.
    from io import BytesIO

    from PIL import Image

    from housing_report.render.email_charts import WIDTH_PX

    for part in images:
        with Image.open(BytesIO(part.get_content())) as image:
            assert image.width == WIDTH_PX


def test_document_and_workbook_are_attached(message):
    names = sorted(p.get_filename() for p in message.iter_attachments())
    assert names == ["bao-cao-xoa-nha-tam-2025-03-12.docx", "tong-hop-xoa-nha-tam-2025-03-12.xlsx"]


def test_forecast_in_the_first_lines_of_both_parts(message):
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    head = plain.split("1. TIẾN ĐỘ THEO ĐỊA BÀN")[0]
    assert "Dự báo theo tốc độ hiện nay" in head
    assert "Dự báo theo tốc độ hiện nay" in html.split("Tiến độ theo địa bàn")[0]


def test_sheet_text_is_escaped_in_html(message):
    html = message.get_body(preferencelist=("html",)).get_content()
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html


def test_a_correction_keeps_the_attachments_and_images(config, summary, tmp_path):
    correction = {"title": "Báo cáo bổ sung, điều chỉnh", "old_version": 1, "new_version": 2,
                  "old_sent_at": None, "changes": [], "reasons": []}  # fmt: skip
    built = build_report_message(config, summary, _mail(config), tmp_path, correction=correction)
    assert built["Subject"].startswith("Báo cáo bổ sung, điều chỉnh")
    assert len(list(built.iter_attachments())) == 2
    assert "cid:" in built.get_body(preferencelist=("html",)).get_content()


def test_monthly_praise_only_on_the_27th_with_both_periods(config, summary):
    assert monthly_praise(config, summary, []) is None  # the 12th
    twelfth = history_point(summary)
    twenty_seventh = msgspec.structs.replace(summary, period="2025-03-27", lists={"D": [
        ListEntry(unit_code="942", unit_name="Huyện Châu Thành", text="Tổ thợ thanh niên", place="Xã Phú Tân")
    ]})  # fmt: skip
    february = earlier_summary(summary, "2025-02-27", 0.8)
    february.lists = {"D": [ListEntry(unit_code="943", unit_name="Huyện Kế Sách", text="Tháng trước")]}
    praise = monthly_praise(config, twenty_seventh, [february, twelfth])
    assert praise["month_label"] == "tháng 3/2025"
    assert praise["periods"] == ["12/03/2025", "27/03/2025"]
    texts = [e["text"] for e in praise["entries"]]
    assert "Tổ thợ thanh niên" in texts
    assert any("Mái ấm nghĩa tình" in t for t in texts)  # from the 12th, in the archive
    assert "Tháng trước" not in texts
    assert {e["period_label"] for e in praise["entries"]} == {"12/03/2025", "27/03/2025"}


def test_monthly_praise_section_in_document_and_email(config, summary, tmp_path):
    from docx import Document

    from housing_report.render.email import render_email
    from housing_report.render.official import prepare

    twenty_seventh = msgspec.structs.replace(summary, period="2025-03-27", lists={"D": []})
    official = prepare(config, twenty_seventh, [history_point(summary)], tmp_path)
    paragraphs = [p.text for p in Document(official.document).paragraphs]
    assert any(p.endswith("Biểu dương gương điển hình tháng 3/2025") for p in paragraphs)
    rendered = render_email(twenty_seventh, config, official=official.email_view({}))
    assert "BIỂU DƯƠNG GƯƠNG ĐIỂN HÌNH THÁNG 3/2025" in rendered.text
    assert "Mái ấm nghĩa tình" in rendered.html
