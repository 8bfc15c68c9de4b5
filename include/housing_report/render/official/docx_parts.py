"""The building blocks of the report document in python-docx (imported when a document is
written): paragraphs with the fonts of every script, rules, borderless tables and their widths,
page numbers from page 2, the decree's margins. `official.document` lays the report out with them."""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

FONT = "Times New Roman"
BODY_PT = 14
INDENT_CM = 1.27
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
# Clark names of the elements written most often (`docx.oxml.ns.qn` works them out per call).
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT = f"{_W}t"
_SECT_PR = f"{_W}sectPr"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def all_scripts_font(rpr) -> None:
    """`FONT` for every script of a run's properties (`w:rFonts`), Vietnamese included."""
    from docx.oxml.ns import qn

    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def set_font(run, size: float | None = None, *, bold=None, italic=None, underline=None) -> None:
    from docx.shared import Pt

    run.font.name = FONT
    all_scripts_font(run._element.get_or_add_rPr())
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if italic is not None:
        run.font.italic = italic
    if underline is not None:
        run.font.underline = underline


def append_paragraph(doc):
    """A new paragraph at the end of the document's body."""
    from docx.oxml import OxmlElement
    from docx.text.paragraph import Paragraph

    element = OxmlElement("w:p")
    append_element(doc, element)
    return Paragraph(element, doc._body)


def append_element(doc, element) -> None:
    """Put `element` at the end of the document's body, before its section properties.

    `Document.add_paragraph` finds the body's `w:sectPr` by scanning the body from the start
    on every call: quadratic for a long report (thousands of lines)."""
    body = doc._body._body
    try:
        last = body[-1]  # lxml walks from the end: O(1)
    except IndexError:
        last = None
    if last is not None and last.tag == _SECT_PR:
        last.addprevious(element)
    else:
        body.append(element)


def add_table(doc, rows: int, cols: int):
    """`doc.add_table(rows, cols)`: the same table, without python-docx's two walks over the whole
    body for it (the last section's width found by XPath over every paragraph, then the place
    before `w:sectPr` found from the start): ~10 ms each in a national report of ~10 000 lines."""
    from docx.oxml.table import CT_Tbl
    from docx.section import Section
    from docx.shared import Emu, Inches
    from docx.table import Table

    body = doc._body._body
    if not len(body) or body[-1].tag != _SECT_PR:
        return doc.add_table(rows, cols)
    # The body's own `w:sectPr` is its last section's (`Document._block_width`).
    section = Section(body[-1], doc.part)
    width = Emu(
        (section.page_width or Inches(8.5))
        - (section.left_margin or Inches(1))
        - (section.right_margin or Inches(1))
    )
    tbl = CT_Tbl.new_tbl(rows, cols, width)
    append_element(doc, tbl)
    table = Table(tbl, doc._body)
    table.style = None  # as `Document.add_table` leaves it
    return table


def add_paragraph(
    container,
    text: str = "",
    size: float = BODY_PT,
    *,
    align="center",
    bold=False,
    italic=False,
    indent: bool = False,
    after: float = 0,
    before: float = 0,
    line: float | None = 1.0,
):
    from docx.document import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    p = append_paragraph(container) if isinstance(container, Document) else container.add_paragraph()
    p.alignment = {
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    fmt = p.paragraph_format
    fmt.space_after = Pt(after)
    fmt.space_before = Pt(before)
    if line is not None:
        fmt.line_spacing = line
    if indent:
        fmt.first_line_indent = Cm(INDENT_CM)
    if text:
        set_font(p.add_run(nfc(text)), size, bold=bold, italic=italic)
    return p


def rule_under(container, width_cm: float, column_cm: float) -> None:
    """A short centred horizontal rule: an empty paragraph's bottom border, narrowed by indents."""
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    paragraph = add_paragraph(container, "", 2, line=None)
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(2)
    side = max(0.0, (column_cm - width_cm) / 2)
    fmt.left_indent = Cm(side)
    fmt.right_indent = Cm(side)
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.makeelement(qn("w:pBdr"), {})
    borders.append(
        borders.makeelement(
            qn("w:bottom"),
            {qn("w:val"): "single", qn("w:sz"): "6", qn("w:space"): "1", qn("w:color"): "000000"},
        )
    )
    # In pPr, pBdr comes after keepNext/keepLines/pageBreakBefore and before spacing and ind.
    anchor = next((el for el in ppr if el.tag in (qn("w:spacing"), qn("w:ind"), qn("w:jc"))), None)
    if anchor is not None:
        anchor.addprevious(borders)
    else:
        ppr.append(borders)


def no_borders(table) -> None:
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    borders = tbl_pr.makeelement(qn("w:tblBorders"), {})
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(borders.makeelement(qn(f"w:{edge}"), {qn("w:val"): "nil"}))
    tbl_pr.append(borders)


def column_widths(table, widths_cm) -> None:
    """Fixed column widths (Word and LibreOffice both honour a fixed layout with tblW and gridCol)."""
    from docx.oxml.ns import qn
    from docx.shared import Cm

    table.autofit = False
    tbl_pr = table._tbl.tblPr
    width = tbl_pr.find(qn("w:tblW"))
    if width is None:
        width = tbl_pr.makeelement(qn("w:tblW"), {})
        tbl_pr.append(width)
    width.set(qn("w:type"), "dxa")
    width.set(qn("w:w"), str(int(sum(widths_cm) / 2.54 * 1440)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)


def first_paragraph(cell, text: str, size: float, **kwargs):
    """The first line of a table cell: a new cell's empty paragraph is reused."""
    p = cell.paragraphs[0] if not cell.paragraphs[0].text and not cell.paragraphs[0].runs else None
    if p is None:
        return add_paragraph(cell, text, size, **kwargs)
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.line_spacing = 1.0
    set_font(p.add_run(nfc(text)), size, bold=kwargs.get("bold", False), italic=kwargs.get("italic", False))
    return p


def clone_paragraph(doc, model, text: str) -> None:
    """A copy of the paragraph `model` (one run) with `text`, at the end of the document's body.

    A national report's body has ~10 000 such lines: lxml's copy is asked for directly (the
    same as `copy.deepcopy`, without its bookkeeping), the tags are constants."""
    element = model.__deepcopy__(None)
    set_text(next(element.iter(_TEXT)), text)
    append_element(doc, element)


def set_text(node, text: str) -> None:
    """Set a copied `w:t` element's text as python-docx would: NFC, one line, `xml:space`
    only where leading or trailing spaces need it."""
    node.text = value = nfc(" ".join(text.split()) if "\n" in text or "\t" in text else text)
    if value != value.strip():
        node.set(_XML_SPACE, "preserve")
    elif node.get(_XML_SPACE) is not None:
        del node.attrib[_XML_SPACE]


def page_numbers(section) -> None:
    """Page numbers centred in the header, from the second page (Nghị định 30/2020)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    set_font(run, 13)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = run._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind})
        else:
            el = run._r.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            el.text = text
        run._r.append(el)


def margins(section) -> None:
    from docx.shared import Mm

    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    section.header_distance = Mm(10)
    section.footer_distance = Mm(10)


def copy_rows(table, model, texts: list[list[str]]) -> None:
    """Append a copy of the row `model` (a `w:tr`, one run per cell) per entry of `texts`."""
    from copy import deepcopy

    from docx.oxml.ns import qn

    tbl = table._tbl
    cell_tag, run_tag, text_tag = qn("w:tc"), qn("w:r"), qn("w:t")
    for values in texts:
        row = deepcopy(model)
        for cell, text in zip(row.iterchildren(cell_tag), values, strict=True):
            node = next(cell.iter(text_tag), None)
            if not text:  # an empty cell's run has no text element (as python-docx writes it)
                if node is not None:
                    node.getparent().remove(node)
                continue
            if node is None:  # the model's cell was empty: its run has no text element yet
                run = next(cell.iter(run_tag))
                node = run.makeelement(text_tag, {})
                run.append(node)
            set_text(node, text)
        tbl.append(row)


def paragraph_alignment(name: str):
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    return {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
    }[name]


# --------------------------------------------------------------------------- table widths

# Liberation Serif has Times New Roman's metrics (the font LibreOffice uses in its place): a word's
# width measured with it is the width it takes in the document. Where it lacks a letter (the
# Liberation fonts of Debian 12 have no "ư", "ớ", "ế", "ạ"...), LibreOffice draws that letter in
# DejaVu Serif, so it is measured in DejaVu Serif too.
FONT_DIR = "/usr/share/fonts/truetype"
METRIC_FONTS = {
    False: (f"{FONT_DIR}/liberation/LiberationSerif-Regular.ttf", f"{FONT_DIR}/dejavu/DejaVuSerif.ttf"),
    True: (f"{FONT_DIR}/liberation/LiberationSerif-Bold.ttf", f"{FONT_DIR}/dejavu/DejaVuSerif-Bold.ttf"),
}
# A table cell's left and right margins together (Word's and LibreOffice's default, 0,19 cm each)
# and some room so that a word that fits on screen fits in print too.
CELL_PADDING_CM = 0.38 + 0.15
# Sizes tried for an annex table, largest first, until its words fit the text width.
TABLE_SIZES = (11.0, 10.5, 10.0, 9.5, 9.0, 8.5, 8.0)
# Without the metric fonts, a character's width in em (wide: Vietnamese letters are drawn wider).
FALLBACK_EM = 0.62


@cache
def _metric_fonts(bold: bool) -> list[tuple[Any, frozenset[int]]]:
    """The fonts a table's text is measured with, each with the characters it has."""
    from fontTools.ttLib import TTFont
    from PIL import ImageFont

    fonts = []
    for path in METRIC_FONTS[bold]:
        try:
            fonts.append((ImageFont.truetype(path, 1000), frozenset(TTFont(path).getBestCmap())))
        except OSError:
            continue
    return fonts


_DIGITS = str.maketrans("123456789", "000000000")


@cache
def _char_em(char: str, bold: bool) -> float:
    font = next((f for f, chars in _metric_fonts(bold) if ord(char) in chars), None)
    return font.getlength(char) / 1000 if font is not None else FALLBACK_EM


_CHAR_EMS: dict[bool, dict[str, float]] = {False: {}, True: {}}


def _em(text: str, bold: bool) -> float:
    """The width of `text` (NFC) in em: the sum of its letters'."""
    known = _CHAR_EMS[bold]
    try:
        return sum(known[char] for char in text)
    except KeyError:
        known.update((char, _char_em(char, bold)) for char in text if char not in known)
        return sum(known[char] for char in text)


def _longest(texts: list[str], bold: bool, slack: int = 2) -> float:
    """The widest of `texts` in em, measuring only those within `slack` letters of the longest (a
    text a few letters shorter is narrower, whatever its letters)."""
    most = max(map(len, texts), default=0)
    return max((_em(t, bold) for t in texts if len(t) >= most - slack), default=0.0)


def _cm(em: float, size: float) -> float:
    return em * size / 72 * 2.54


def text_width_cm(text: str, size: float, *, bold: bool = False) -> float:
    """How wide `text` prints on one line in `FONT` at `size` points (cm)."""
    return _cm(_em(nfc(text), bold), size)


def longest_word_cm(text: str, size: float, *, bold: bool = False) -> float:
    """The width of the widest word of `text` (a cell wraps between words, never inside one)."""
    return _cm(max((_em(w, bold) for w in nfc(text).split()), default=0.0), size)


# The lines a column's header may take before the column is widened for it (when there is room).
HEADER_LINES = 3
# The share of a table's width a column of text may take for its one line before the others' headers.
TEXT_SHARE = 0.4


def fit_columns(
    headers: list[str], cells: list[list[str]], wrap: list[bool], nominal: list[float], total_cm: float
) -> tuple[list[float], float]:
    """Column widths (cm, summing to `total_cm`) and the font size of a table whose every word fits
    its column: the header's words (bold) and the body's (a column with `wrap` False keeps its
    texts on one line: numbers, dates). The first size of `TABLE_SIZES` whose minimum widths fit is
    used; what is left of the width goes first to the wrapping columns, up to the width of their
    longest text on one line (a name on one line rather than a wide number column), then to every
    column in proportion to `nominal`.

    Widths are measured once, in em (a text's width is proportional to its size): thousands of
    rows cost one pass."""
    count = len(headers)
    least = [_longest(nfc(h).split(), True) for h in headers]  # em
    whole = [0.0] * count  # the widest text on one line, em
    for i in range(count):
        texts = [nfc(row[i]) for row in cells if row[i]]
        if wrap[i]:
            words = {w for t in texts for w in t.split()}
            least[i] = max(least[i], _longest(list(words), False))
            whole[i] = _longest(texts, False, slack=3)
        else:  # on one line, bold in the totals row; digits are all as wide as "0"
            least[i] = max(least[i], _longest(list({t.translate(_DIGITS) for t in texts}), True))
    # A header wants at most `HEADER_LINES` lines ("Số nhà cần hỗ trợ xây mới", not one word a
    # line beside a wide column of names): served after the texts' one line.
    header = [_longest([nfc(h)], True) / HEADER_LINES for h in headers]
    minimum: list[float] = []
    for size in TABLE_SIZES:
        minimum = [_cm(em, size) + CELL_PADDING_CM for em in least]
        if sum(minimum) <= total_cm:
            break
    widths = list(minimum)
    spare = max(0.0, total_cm - sum(widths))
    # A text column's one line, up to `TEXT_SHARE` of the width (a long label wraps rather than
    # leave the figures' headers one word a line); then the headers' few lines.
    cap = TEXT_SHARE * total_cm
    for wants in (
        [min(cap, max(minimum[i], _cm(whole[i], size) + CELL_PADDING_CM)) for i in range(count)],
        [max(widths[i], _cm(header[i], size) + CELL_PADDING_CM) for i in range(count)],
    ):
        wants = [max(w, widths[i]) for i, w in enumerate(wants)]
        # Shared out evenly, the column that wants least first: it takes what it wants, the rest
        # share what is left (a district's name gets its one line before a long note gets several).
        wanting = sorted((i for i in range(count) if wants[i] > widths[i]), key=lambda i: wants[i])
        for k, i in enumerate(wanting):
            give = min(wants[i] - widths[i], spare / (len(wanting) - k))
            widths[i] += give
            spare -= give
    weights = sum(nominal) or 1.0
    widths = [w + spare * n / weights for w, n in zip(widths, nominal, strict=True)]
    scale = total_cm / sum(widths)  # exactly the text width, even when the smallest size did not fit
    return [round(w * scale, 3) for w in widths], size


def keep_rows_whole(row) -> None:
    """A table row is never split across two pages (`w:cantSplit`)."""
    from docx.oxml import OxmlElement

    tr_pr = row._tr.get_or_add_trPr()
    if tr_pr.find(_qn("w:cantSplit")) is None:
        tr_pr.append(OxmlElement("w:cantSplit"))


def repeat_as_header(row) -> None:
    """The row is repeated at the top of each page the table runs onto (`w:tblHeader`)."""
    from docx.oxml import OxmlElement

    keep_rows_whole(row)
    tr_pr = row._tr.get_or_add_trPr()
    if tr_pr.find(_qn("w:tblHeader")) is None:
        tr_pr.append(OxmlElement("w:tblHeader"))


def _qn(name: str) -> str:
    from docx.oxml.ns import qn

    return qn(name)


def text_width_of(section) -> float:
    """The width between a section's margins (cm)."""
    return (section.page_width - section.left_margin - section.right_margin) / 360000
