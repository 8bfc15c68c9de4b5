"""The report document (.docx): structure, format rules and figures against the summary."""

from __future__ import annotations

import dataclasses

import pytest
from docx import Document
from docx.shared import Pt

from housing_report.core.formatting import vn_number
from housing_report.core.summary import ListEntry


def texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def cell_texts(table) -> list[str]:
    return [p.text for row in table.rows for cell in row.cells for p in cell.paragraphs if p.text]


def test_page_and_fonts_follow_nghi_dinh_30(official):
    doc = Document(official.document)
    first = doc.sections[0]
    assert (round(first.page_width.mm), round(first.page_height.mm)) == (210, 297)  # A4
    # Word keeps margins in twips (1/1440 inch): 15 mm is stored as 14,99 mm.
    assert 20 <= round(first.top_margin.mm, 1) <= 25
    assert 20 <= round(first.bottom_margin.mm, 1) <= 25
    assert 30 <= round(first.left_margin.mm, 1) <= 35
    assert 15 <= round(first.right_margin.mm, 1) <= 20
    normal = doc.styles["Normal"].font
    assert normal.name == "Times New Roman"
    assert Pt(13) <= normal.size <= Pt(14)
    annexes = doc.sections[-1]
    assert annexes.page_width > annexes.page_height  # the annexes are landscape


def test_party_header_number_place_and_date(official):
    doc = Document(official.document)
    header = cell_texts(doc.tables[0])
    assert header[:3] == ["TỈNH ỦY SÓC TRĂNG", "BAN TUYÊN GIÁO", "*"]
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in header
    number = next(t for t in header if t.startswith("Số"))
    assert number.endswith("-BC/BTGTU")
    assert number.replace("\u00a0", "") == "Số -BC/BTGTU"  # left blank for the clerk
    date = next(p for row in doc.tables[0].rows for c in row.cells for p in c.paragraphs if "ngày" in p.text)
    assert date.text == "Sóc Trăng, ngày 12 tháng 3 năm 2025"
    assert all(run.italic for run in date.runs)


def test_state_header(config, summary, tmp_path):
    from housing_report.render.official import prepare

    issuer = dataclasses.replace(config.report.issuer, kind="state", parent="UBND TỈNH SÓC TRĂNG",
                                 name="SỞ NỘI VỤ", report_number_prefix="BC-SNV")  # fmt: skip
    state = dataclasses.replace(config, report=dataclasses.replace(config.report, issuer=issuer))
    doc = Document(prepare(state, summary, [], tmp_path).document)
    header = cell_texts(doc.tables[0])
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header
    assert "Độc lập - Tự do - Hạnh phúc" in header
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" not in header
    assert any(t.startswith("Số:") and t.endswith("/BC-SNV") for t in header)


def test_title_body_and_sections(official, summary, config):
    doc = Document(official.document)
    paragraphs = texts(doc)
    title = next(p for p in doc.paragraphs if p.text == "BÁO CÁO")
    assert all(run.bold for run in title.runs)
    # The subject: its date kept with the words before it (no line holding the date alone).
    subject = next(t for t in paragraphs if t.startswith("Kết quả thực hiện xóa nhà tạm, nhà dột nát"))
    assert subject.endswith("trên\u00a0địa\u00a0bàn\u00a0tỉnh\u00a0đến\u00a0ngày\u00a012/03/2025")
    # The opening: the basis from report.yaml, the issuer, how many units' reports were valid.
    opening = next(t for t in paragraphs if t.startswith("Thực hiện "))
    issuer = config.report.issuer
    assert opening.startswith(f"Thực hiện {issuer.basis}, Ban Tuyên giáo Tỉnh ủy báo cáo kết quả")
    accepted = sum(1 for u in summary.units if u.status == "accepted")
    assert f"trên cơ sở báo cáo hợp lệ của {accepted}/{len(summary.units)} đơn vị" in opening
    assert opening.endswith("như sau:")
    headings = ["I. KẾT QUẢ THỰC HIỆN", "1. Tiến độ chung", "2. Theo nhóm đối tượng", "3. Theo địa bàn"]
    headings += ["4. Nguồn lực và giải ngân", "II. ĐÁNH GIÁ CHUNG", "Khó khăn, vướng mắc"]
    headings += ["III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI", "IV. KIẾN NGHỊ, ĐỀ XUẤT"]
    for heading in headings:
        assert heading in paragraphs, heading
    assert paragraphs.index(headings[5]) < paragraphs.index(headings[7]) < paragraphs.index(headings[8])
    # The draft's assessment and directions are the approval form's defaults (report.yaml).
    assert config.report.approval.assessment in paragraphs
    assert config.report.approval.directions in paragraphs
    h = summary.houses
    assert any(f"{vn_number(h.completed)}/{vn_number(h.needed)} căn" in t for t in paragraphs)
    body = next(p for p in doc.paragraphs if p.text.startswith("Toàn tỉnh đã hoàn thành"))
    assert body.alignment == 3  # justified
    assert body.paragraph_format.first_line_indent > 0
    assert len(doc.inline_shapes) == 2  # the two charts
    # List D with its place; text from sheets stays plain text (no markup in a .docx).
    assert any("Phường 2" in t and "Mái ấm nghĩa tình" in t for t in paragraphs)


def test_every_district_in_annex_one_and_totals_match(official, summary):
    doc = Document(official.document)
    annex = next(t for t in doc.tables if t.rows[0].cells[1].text == "Địa bàn")
    rows = {r.cells[1].text: [c.text for c in r.cells] for r in annex.rows[1:]}
    for d in summary.districts:
        row = rows[d.name]
        assert row[2] == vn_number(d.needed)
        assert row[4] == vn_number(d.completed)
    total = rows["Tổng cộng"]
    assert total[2] == vn_number(summary.houses.needed)
    assert total[4] == vn_number(summary.houses.completed)
    paragraphs = texts(doc)
    assert "Phụ lục I" in paragraphs
    assert "Phụ lục IV" in paragraphs
    assert "Đơn vị tính: căn" in paragraphs
    assert "Đơn vị tính: triệu đồng" in paragraphs


def test_places_to_send_in_the_party_style_and_signature_from_config(official, config):
    doc = Document(official.document)
    closing = doc.tables[1]
    left = [p for p in closing.cell(0, 0).paragraphs if p.text]
    # Hướng dẫn 36-HD/VPTW: "Nơi nhận:" 14, upright, underlined; the list 12, each line ending ",".
    assert left[0].text == "Nơi nhận:"
    assert all(r.underline and not r.bold and not r.italic and r.font.size == Pt(14) for r in left[0].runs)
    assert [p.text for p in left[1:]] == [f"- {x}," for x in config.report.issuer.places_to_send] + [
        f"- Lưu {config.report.issuer.archive}."
    ]
    assert all(r.font.size == Pt(12) for p in left[1:] for r in p.runs)
    right = [p.text for p in closing.cell(0, 1).paragraphs if p.text]
    signature = config.report.issuer.signature
    assert right == [signature.authority, signature.title, signature.name]  # no form placeholder


def test_places_to_send_in_the_state_style(config, summary, tmp_path):
    from housing_report.render.official import prepare

    issuer = dataclasses.replace(config.report.issuer, kind="state")
    state = dataclasses.replace(config, report=dataclasses.replace(config.report, issuer=issuer))
    doc = Document(prepare(state, summary, [], tmp_path).document)
    left = [p for p in doc.tables[1].cell(0, 0).paragraphs if p.text]
    # Nghị định 30/2020: "Nơi nhận:" bold italic 12; the list 11, ";", ending "- Lưu: VT, ...".
    assert left[0].text == "Nơi nhận:"
    assert all(r.bold and r.italic and r.font.size == Pt(12) for r in left[0].runs)
    assert [p.text for p in left[1:]] == [f"- {x};" for x in config.report.issuer.places_to_send] + [
        f"- Lưu: {config.report.issuer.archive}."
    ]
    assert all(r.font.size == Pt(11) for p in left[1:] for r in p.runs)


@pytest.mark.parametrize("code", ["E", "F"])
def test_long_entries_are_trimmed(config, summary, tmp_path, code):
    from housing_report.render.official import prepare

    summary.lists[code] = [ListEntry(unit_code="941", unit_name="Thành phố Sóc Trăng", text="rất dài " * 400)]
    doc = Document(prepare(config, summary, [], tmp_path).document)
    # Grouped by content: the text, cut, then the unit that raised it.
    entry = next(p.text for p in doc.paragraphs if p.text.casefold().startswith("- rất dài"))
    assert len(entry) < 560
    assert entry.endswith("… (Thành phố Sóc Trăng).")


def test_a_national_annex_keeps_its_totals_and_names_the_workbook_for_each_unit(
    config, tmp_path, monkeypatch
):
    """3.321 units: the document keeps each annex's totals and says where every unit's row is (the
    workbook's annex of the same number), instead of a hundred pages LibreOffice lays out in minutes."""
    from housing_report.render.official import document, prepare
    from tests.render.test_email_at_scale import national_summary

    summary = national_summary()  # 200 districts: the limit set below them for the test
    monkeypatch.setattr(document, "DOCUMENT_ANNEX_ROWS", len(summary.districts) - 1)
    doc = Document(prepare(config, summary, [], tmp_path).document)
    annex = next(t for t in doc.tables if t.rows[0].cells[1].text == "Địa bàn")
    total = [c.text for c in annex.rows[-1].cells]
    assert len(annex.rows) == 2  # the header and the totals
    assert total[1] == "Tổng cộng"
    assert total[2] == vn_number(sum(d.needed for d in summary.districts))
    notes = [t for t in texts(doc) if t.startswith("Ghi chú: Số liệu của từng đơn vị")]
    assert (
        f"Ghi chú: Số liệu của từng đơn vị ({vn_number(len(summary.districts))} đơn vị) tại Phụ lục I"
        in notes[0]
    )
    assert len(doc.tables) < 12
