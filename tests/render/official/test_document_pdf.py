"""The report document as officials see it: rendered to PDF by LibreOffice (`render.pdf`) and read
back page by page with LibreOffice's own PDF library (`housing_report_tools.pdf_pages`).

What is checked is what a provincial office checks before its leader signs: every table within
the text width (in the .docx and in print), no word of a table's header broken, no table row
split across pages and the header repeated, a page number on every page but the first (annex
pages too), each annex naming the report it belongs to, no form placeholder, the subject's date
not alone on its line, and no "+" or "-" before a number in the body's sentences.
"""

from __future__ import annotations

import re
import shutil

import pytest
from docx import Document
from docx.oxml.ns import qn

from housing_report.core.approval import Approval
from tests.conftest import IN_CI
from tests.render.official.conftest import earlier_summary
from tests.support.summary_fixture import make_summary

# How far outside the text area something printed may reach (points): a table's outer rule is
# drawn half its width outside the cell edge.
TOLERANCE_PT = 2.0
MM = 72 / 25.4
APPROVAL = Approval(number="15", assessment="Các đơn vị đã tích cực triển khai.", directions="Tiếp tục.")


def _soffice() -> None:
    if shutil.which("soffice") is None:
        message = "LibreOffice is not installed (apt-get install libreoffice-writer)"
        if IN_CI:
            pytest.fail(f"{message}; CI=true: a missing tool is a failure")
        pytest.skip(message)


def _render(config, folder, approval):
    from housing_report_tools.pdf_pages import read_pages

    from housing_report.render.official import prepare
    from housing_report.render.pdf import docx_to_pdf

    summary = make_summary()
    earlier = [earlier_summary(summary, "2025-02-12", 0.6), earlier_summary(summary, "2025-02-27", 0.8)]
    report = prepare(config, summary, earlier, folder, approval=approval)
    return report, read_pages(docx_to_pdf(report.document))


@pytest.fixture(scope="module", params=["draft", "approved"])
def rendered(request, config, tmp_path_factory):
    _soffice()
    approval = APPROVAL if request.param == "approved" else None
    return _render(config, tmp_path_factory.mktemp(request.param), approval)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_every_table_is_within_the_text_width_in_the_docx(rendered):
    report, _ = rendered
    doc = Document(report.document)
    # Each table's section: the first section properties after it in the body.
    sections, pending = [], 0
    for element in doc.element.body.iterchildren():
        if element.tag == qn("w:tbl"):
            pending += 1
        sect = element.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") if element.tag == qn("w:p") else None
        if element.tag == qn("w:sectPr"):
            sect = element
        if sect is not None:
            sections += [sect] * pending
            pending = 0
    assert len(sections) == len(doc.tables) >= 6
    for table, sect in zip(doc.tables, sections, strict=True):
        size, margins = sect.find(qn("w:pgSz")), sect.find(qn("w:pgMar"))
        text_width = (
            int(size.get(qn("w:w"))) - int(margins.get(qn("w:left"))) - int(margins.get(qn("w:right")))
        )
        grid = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.iterchildren(qn("w:gridCol"))]
        assert sum(grid) <= text_width + 2, (table.rows[0].cells[-1].text, sum(grid), text_width)
        assert table._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
    annexes = [t for t in doc.tables if t.style is not None and t.style.name == "Table Grid"]
    assert len(annexes) == len(report.annexes)
    for table in annexes:
        rows = table._tbl.findall(qn("w:tr"))
        assert rows[0].find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None  # repeated on each page
        assert all(r.find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None for r in rows)  # never split


def test_everything_printed_is_within_the_margins(rendered):
    _, pages = rendered
    portrait = [p for p in pages if p.height > p.width]
    landscape = [p for p in pages if p.width > p.height]
    assert portrait and landscape  # the report, then its annexes
    for page in pages:
        left, right = 30 * MM - TOLERANCE_PT, page.width - 15 * MM + TOLERANCE_PT
        for kind, box in page.objects:
            assert left <= box.left and box.right <= right, (page.number, kind, box)
        outside = [c for c, box in page.chars if box.left < left or box.right > right]
        assert not outside, (page.number, "".join(outside))


def test_no_word_of_an_annex_header_is_broken(rendered):
    report, pages = rendered
    for annex in report.annexes:
        page = next(p for p in pages if f"Phụlục{annex.number}" in [_squeeze(line) for line in p.lines()])
        lines = page.lines()
        start = next(i for i, line in enumerate(lines) if line.startswith("Đơn vị tính"))
        end = next(i for i, line in enumerate(lines) if i > start and re.match(r"1 \S", line))
        header = [_squeeze(line) for line in lines[start + 1 : end]]
        for column in annex.columns:
            for word in column.label.split():
                assert any(word in line for line in header), (annex.number, column.label, word, header)


def test_a_continued_table_repeats_its_header(rendered):
    _, pages = rendered
    continued = [
        p
        for p in pages
        if p.width > p.height
        and any(kind == "path" for kind, _ in p.objects)  # a table's rules: not a page of notes
        and not any(line.startswith("Phụ lục") for line in p.lines()[:3])
    ]
    for page in continued:
        assert page.lines()[1].startswith("STT"), (page.number, page.lines()[:3])


def test_page_numbers_on_every_page_but_the_first(rendered):
    _, pages = rendered
    assert len(pages) >= 5
    assert not pages[0].lines()[0].strip().isdigit()
    for page in pages[1:]:
        assert page.lines()[0].strip() == str(page.number), (page.number, page.lines()[:2])


def test_each_annex_names_its_report(rendered):
    report, pages = rendered
    number = report.view["approval"]["number"] if report.view["approval"] else ""
    expected = f"(KèmtheoBáocáosố{number}-BC/BTGTUngày12/03/2025củaBanTuyêngiáoTỉnhủy)"
    for annex in report.annexes:
        page = next(p for p in pages if f"Phụlục{annex.number}" in [_squeeze(line) for line in p.lines()])
        lines = [_squeeze(line) for line in page.lines()]
        assert expected in lines, (annex.number, lines[:5])


def test_no_placeholder_and_the_subject_keeps_its_date_with_words(rendered):
    report, pages = rendered
    text = "\n".join(line for p in pages for line in p.lines())
    for placeholder in ("Ký, ghi rõ", "ghi rõ họ tên", "đóng dấu)", "None", "{{", "[chart:"):
        assert placeholder not in text
    first = pages[0].lines()
    date_line = next(line for line in first if line.endswith("12/03/2025") and "ngày" in line)
    assert len(date_line.split()) >= 4, date_line  # "trên địa bàn tỉnh đến ngày 12/03/2025"
    if report.view["approval"]:
        assert any(line.startswith("Số 15-BC/BTGTU") for line in first)


def test_no_sign_before_a_number_in_the_body(rendered):
    """The report's own sentences say "tăng", "giảm" (what units wrote is quoted as they wrote it)."""
    from housing_report.render.official import body_text

    report, pages = rendered
    quoted = [_squeeze(e.text)[:24].casefold() for entries in make_summary().lists.values() for e in entries]
    own = [
        line
        for line in body_text(report.view).splitlines()
        if not any(q and q in _squeeze(line).casefold() for q in quoted)
    ]
    assert len(own) > 40
    signed = [line for line in own if re.search(r"(^|[\s(])[+\-−]\s?\d", line)]
    assert not signed
    printed = [line for p in pages if p.height > p.width for line in p.lines()]
    assert any("điểm phần trăm" in line for line in printed) or not report.view["has_previous"]
