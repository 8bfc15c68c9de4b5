"""The annexes' long tables written when the document is saved (`docx_rows`) are the XML that
copying the model row in the tree (`docx_parts.copy_rows`) gives, for every kind of cell text."""

from __future__ import annotations

import unicodedata
import zipfile

import pytest
from docx import Document

from housing_report.render.official.docx_parts import copy_rows, first_paragraph
from housing_report.render.official.docx_rows import DOCUMENT_XML, DeferredRows

TEXTS = [
    ["1", "Xã Hòa Bình", "1.234", ""],
    ["2", "  leading and trailing  ", "", "–"],
    ["3", "a\ttab\nand a new line", "5,5", "x & <y> > z"],
    ["4", unicodedata.normalize("NFD", "Thị trấn Đắk Mil"), "=SUM(A1:A3)", "\"quoted\" 'text'"],
]


def _document(model_texts: list[str], rows: list[list[str]], deferred: DeferredRows | None, path):
    doc = Document()
    doc.add_paragraph("before")
    for _ in range(2):  # two tables: each one's rows go in its own place
        table = doc.add_table(rows=1, cols=len(model_texts))
        for cell, text in zip(table.rows[0].cells, model_texts, strict=True):
            first_paragraph(cell, text, 11)
        if deferred is None:
            copy_rows(table, table.rows[0]._tr, rows)
        else:
            deferred.add(table, table.rows[0]._tr, rows)
        table.add_row()  # a totals row after the copies
        doc.add_paragraph("between")
    if deferred is None:
        doc.save(path)
    else:
        deferred.save(doc, path)
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


@pytest.mark.parametrize("model", [["0", "Mẫu", "7", "x"], ["0", "", "", ""]], ids=["filled", "empty-cells"])
def test_streamed_rows_are_the_rows_copied_in_the_tree(tmp_path, model):
    copied = _document(model, TEXTS, None, tmp_path / "copied.docx")
    streamed = _document(model, TEXTS, DeferredRows(), tmp_path / "streamed.docx")
    assert list(streamed) == list(copied)
    for name, data in copied.items():
        if name != "docProps/core.xml":  # its timestamps
            assert streamed[name] == data, name
    assert b"<!--" not in streamed[DOCUMENT_XML]
    assert streamed[DOCUMENT_XML].count(b"<w:tr>") == 2 * (2 + len(TEXTS))


def test_a_control_character_is_refused_as_lxml_refuses_it(tmp_path):
    with pytest.raises(ValueError, match="XML compatible"):
        _document(["0", "a"], [["1", "bad \x07 bell"]], None, tmp_path / "copied.docx")
    with pytest.raises(ValueError, match="XML compatible"):
        _document(["0", "a"], [["1", "bad \x07 bell"]], DeferredRows(), tmp_path / "streamed.docx")
