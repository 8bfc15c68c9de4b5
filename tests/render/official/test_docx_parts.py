"""The report document's building blocks (`docx_parts`) that stand in for python-docx's own calls
make the same XML as those calls."""

from __future__ import annotations

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.shared import Mm
from lxml import etree

from housing_report.render.official.docx_parts import add_paragraph, add_table, clone_paragraph, margins

LINES = ["Dòng thứ nhất", "  có khoảng trắng ở hai đầu  ", "a\ttab\nand a new line", "x & <y> > z"]


def _body_xml(doc) -> bytes:
    return etree.tostring(doc.element.body)


def _document(tables, lines, *, landscape: bool):
    """A document of `lines` (the first built with python-docx, the others copied from it), a
    table, optionally a landscape section with another table: tables made by `tables`."""
    doc = Document()
    model = add_paragraph(doc, lines[0], 14, align="justify", indent=True, after=6)._p
    for line in lines[1:]:
        clone_paragraph(doc, model, line)
    tables(doc, 2, 3)
    if landscape:
        section = doc.add_section(WD_SECTION.NEW_PAGE)
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
        margins(section)
        tables(doc, 1, 9)
    return doc


@pytest.mark.parametrize("landscape", [False, True], ids=["portrait", "then-landscape"])
def test_add_table_makes_the_table_python_docx_makes(landscape):
    ours = _document(add_table, LINES, landscape=landscape)
    theirs = _document(lambda doc, r, c: doc.add_table(rows=r, cols=c), LINES, landscape=landscape)
    assert _body_xml(ours) == _body_xml(theirs)


def test_a_copied_line_is_the_line_python_docx_writes():
    """For a line of the body (no tab or new line: `document._body` builds those)."""
    copied = Document()
    model = add_paragraph(copied, "mẫu", 14, align="justify", indent=True, after=6)._p
    built = Document()
    add_paragraph(built, "mẫu", 14, align="justify", indent=True, after=6)
    for line in [t for t in LINES if "\t" not in t and "\n" not in t]:
        clone_paragraph(copied, model, line)
        add_paragraph(built, line, 14, align="justify", indent=True, after=6)
    assert _body_xml(copied) == _body_xml(built)
