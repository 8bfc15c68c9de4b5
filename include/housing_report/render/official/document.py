"""The report document (.docx, python-docx) in the format of Nghị định 30/2020/NĐ-CP.

Layout (Phụ lục I of the decree; the Party variant where `issuer.kind` is `party`):

- A4 portrait; margins top and bottom 20 mm, left 30 mm, right 15 mm; Times New Roman,
  body 14 pt, justified, first-line indent 1,27 cm, 6 pt after each paragraph; page
  numbers centred in the header from page 2.
- The header: a borderless two-column table. Left: the parent body (caps) over the
  issuing body (caps, bold), then "*" (Party) or a short rule (state), then the number
  line, left blank for the clerk (văn thư) who numbers the report when it is signed
  ("Số      -BC/BTGTU"). Right: "ĐẢNG CỘNG SẢN VIỆT NAM" (bold, ruled under) or
  "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" over "Độc lập - Tự do - Hạnh phúc" (bold, ruled
  under), then the italic place-and-date line.
- "BÁO CÁO" (bold caps) and its subject (bold), a short rule under.
- The body from the template `official_report.txt.j2` (see there for its line markup),
  with the charts.
- "Nơi nhận:" (bold italic 12, list 11, ending "- Lưu: ...") bottom left and the signature
  block bottom right, from `issuer` in report.yaml.
- The annexes in a landscape section, one per page: "Phụ lục I", the title, "(Kèm theo
  Báo cáo số ... ngày ...)", "Đơn vị tính: ...", the table with its totals row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from housing_report.core.formatting import vn_change, vn_number
from housing_report.render.official.annexes import Annex

FONT = "Times New Roman"
BODY_PT = 14
INDENT_CM = 1.27
CHART_WIDTH_CM = 15.5
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
# Widths of the header's two columns and of the "Nơi nhận" / signature columns (cm).
HEADER_WIDTHS = (6.8, 9.7)
FOOTER_WIDTHS = (7.0, 9.5)
CHART_CAPTIONS = {
    "progress": "Tiến độ hoàn thành của toàn tỉnh qua các kỳ báo cáo",
    "districts": "Tỷ lệ hoàn thành theo địa bàn",
}
_CHART_RE = re.compile(r"^\[chart:([a-z_]+)\]$")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _all_scripts_font(rpr) -> None:
    """`FONT` for every script of a run's properties (`w:rFonts`), Vietnamese included."""
    from docx.oxml.ns import qn

    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _set_font(run, size: float | None = None, *, bold=None, italic=None, underline=None) -> None:
    from docx.shared import Pt

    run.font.name = FONT
    _all_scripts_font(run._element.get_or_add_rPr())
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if italic is not None:
        run.font.italic = italic
    if underline is not None:
        run.font.underline = underline


def _append_paragraph(doc):
    """A new paragraph at the end of the document's body."""
    from docx.oxml import OxmlElement
    from docx.text.paragraph import Paragraph

    element = OxmlElement("w:p")
    _append_element(doc, element)
    return Paragraph(element, doc._body)


def _append_element(doc, element) -> None:
    """Put `element` at the end of the document's body, before its section properties.

    `Document.add_paragraph` finds the body's `w:sectPr` by scanning the body from the start
    on every call: quadratic for a long report (thousands of lines)."""
    from docx.oxml.ns import qn

    body = doc._body._body
    try:
        last = body[-1]  # lxml walks from the end: O(1)
    except IndexError:
        last = None
    if last is not None and last.tag == qn("w:sectPr"):
        last.addprevious(element)
    else:
        body.append(element)


def _paragraph(
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

    p = _append_paragraph(container) if isinstance(container, Document) else container.add_paragraph()
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
        _set_font(p.add_run(_nfc(text)), size, bold=bold, italic=italic)
    return p


def _rule(container, width_cm: float, column_cm: float) -> None:
    """A short centred horizontal rule: an empty paragraph's bottom border, narrowed by indents."""
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    paragraph = _paragraph(container, "", 2, line=None)
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


def _no_borders(table) -> None:
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    borders = tbl_pr.makeelement(qn("w:tblBorders"), {})
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(borders.makeelement(qn(f"w:{edge}"), {qn("w:val"): "nil"}))
    tbl_pr.append(borders)


def _widths(table, widths_cm) -> None:
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


def _first_paragraph(cell, text: str, size: float, **kwargs):
    """The first line of a table cell: a new cell's empty paragraph is reused."""
    p = cell.paragraphs[0] if not cell.paragraphs[0].text and not cell.paragraphs[0].runs else None
    if p is None:
        return _paragraph(cell, text, size, **kwargs)
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.line_spacing = 1.0
    _set_font(p.add_run(_nfc(text)), size, bold=kwargs.get("bold", False), italic=kwargs.get("italic", False))
    return p


def _header(doc, view: Mapping[str, Any]) -> None:
    issuer = view["issuer"]
    party = issuer["kind"] == "party"
    table = doc.add_table(rows=2, cols=2)
    _no_borders(table)
    _widths(table, HEADER_WIDTHS)
    left, right = table.cell(0, 0), table.cell(0, 1)
    _first_paragraph(left, issuer["parent"], 14 if party else 13)
    _paragraph(left, issuer["name"], 14 if party else 13, bold=True)
    if party:
        _paragraph(left, "*", 14)
    else:
        _rule(left, 2.5, HEADER_WIDTHS[0])
    if party:
        _first_paragraph(right, view["motto"][0], 15, bold=True)
        _rule(right, 8.0, HEADER_WIDTHS[1])
    else:
        _first_paragraph(right, view["motto"][0], 13, bold=True)
        _paragraph(right, view["motto"][1], 14, bold=True)
        _rule(right, 6.0, HEADER_WIDTHS[1])
    _first_paragraph(table.cell(1, 0), view["number_line"], 14, before=6)
    date = _first_paragraph(table.cell(1, 1), view["long_date"], 14, italic=True)
    from docx.shared import Pt

    date.paragraph_format.space_before = Pt(6)
    table.cell(1, 0).paragraphs[0].paragraph_format.space_before = Pt(6)


def _title(doc, view: Mapping[str, Any]) -> None:
    _paragraph(doc, "BÁO CÁO", 15, bold=True, before=18)
    _paragraph(doc, view["subject"], 14, bold=True, after=0)
    _rule(doc, 3.0, 16.5)
    _paragraph(doc, "", 8, after=6)


def _picture(doc, path: Path, caption: str, number: int) -> None:
    from docx.shared import Cm

    p = _paragraph(doc, "", BODY_PT, before=6)
    p.paragraph_format.keep_with_next = True
    p.add_run().add_picture(str(path), width=Cm(CHART_WIDTH_CM))
    _paragraph(doc, f"Biểu đồ {number}. {caption}", 12, italic=True, after=6)


def _body(doc, lines: list[str], charts: Mapping[str, Path]) -> None:
    number = 0
    # The first paragraph of each style is built with python-docx; the next ones of that style
    # are copies of its XML with their text (a dozen property settings per paragraph through
    # python-docx cost about a millisecond: seconds for a national report's thousands of lines).
    models: dict[str, Any] = {}
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        chart = _CHART_RE.match(line)
        if chart:
            path = charts.get(chart.group(1))
            if path is not None and Path(path).is_file():
                number += 1
                _picture(doc, Path(path), CHART_CAPTIONS.get(chart.group(1), ""), number)
            continue
        style, text = next(
            ((m, line[len(m) :]) for m in ("### ", "## ", "# ") if line.startswith(m)), ("", line)
        )
        if style in models and "\t" not in text:
            _clone_paragraph(doc, models[style], text)
            continue
        if style == "### ":
            p = _paragraph(doc, text, BODY_PT, align="justify", bold=True, italic=True, indent=True, after=6)
        elif style == "## ":
            p = _paragraph(doc, text, BODY_PT, align="justify", bold=True, indent=True, after=6)
        elif style == "# ":
            p = _paragraph(doc, text, BODY_PT, align="justify", bold=True, indent=True, after=6, before=6)
        else:
            p = _paragraph(doc, text, BODY_PT, align="justify", indent=True, after=6)
        p.paragraph_format.line_spacing = 1.15
        if style:
            p.paragraph_format.keep_with_next = True
        p.paragraph_format.widow_control = True
        models[style] = p._p


def _clone_paragraph(doc, model, text: str) -> None:
    """A copy of the paragraph `model` (one run) with `text`, at the end of the document's body."""
    from copy import deepcopy

    from docx.oxml.ns import qn

    element = deepcopy(model)
    _set_text(next(element.iter(qn("w:t"))), text)
    _append_element(doc, element)


def _set_text(node, text: str) -> None:
    """Set a copied `w:t` element's text as python-docx would: NFC, one line, `xml:space`
    only where leading or trailing spaces need it."""
    node.text = _nfc(" ".join(text.split()) if "\n" in text or "\t" in text else text)
    space = "{http://www.w3.org/XML/1998/namespace}space"
    if node.text != node.text.strip():
        node.set(space, "preserve")
    elif space in node.attrib:
        del node.attrib[space]


def _closing(doc, view: Mapping[str, Any]) -> None:
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, FOOTER_WIDTHS)
    left, right = table.cell(0, 0), table.cell(0, 1)
    p = _first_paragraph(left, "Nơi nhận:", 12, bold=True, italic=True)
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    p.paragraph_format.space_before = Pt(12)
    for place in view["places_to_send"]:
        _paragraph(left, f"- {place};", 11, align="left")
    _paragraph(left, f"- Lưu: {view['archive']}.", 11, align="left")

    sig = view["signature"]
    lines = [t for t in (sig["authority"], sig["title"]) if t]
    first = _first_paragraph(right, lines[0] if lines else "", 14, bold=True)
    first.paragraph_format.space_before = Pt(12)
    for text in lines[1:]:
        _paragraph(right, text, 14, bold=True)
    _paragraph(right, "(Ký, ghi rõ họ tên và đóng dấu)", 13, italic=True)
    for _ in range(3):
        _paragraph(right, "", 14)
    _paragraph(right, sig["name"], 14, bold=True)


def _page_numbers(section) -> None:
    """Page numbers centred in the header, from the second page (Nghị định 30/2020)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    _set_font(run, 13)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = run._r.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): kind})
        else:
            el = run._r.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            el.text = text
        run._r.append(el)


def _margins(section) -> None:
    from docx.shared import Mm

    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    section.header_distance = Mm(10)
    section.footer_distance = Mm(10)


def _format_cell(value: Any, kind: str) -> str:
    if value is None or value == "":
        return "–" if kind not in ("text", "index") else ""
    if kind == "percent":
        return vn_number(value, 1)
    if kind == "change":
        return vn_change(value)
    if kind in ("count", "money", "index"):
        return vn_number(value)
    return str(value)


def _annex(doc, annex: Annex, attached_to: str, first: bool) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.shared import Pt

    head = _paragraph(doc, f"Phụ lục {annex.number}", 14, bold=True)
    if not first:
        head.paragraph_format.page_break_before = True
    _paragraph(doc, annex.title.upper(), 14, bold=True)
    _paragraph(doc, f"(Kèm theo {attached_to})", 13, italic=True, after=6)
    unit = f"Đơn vị tính: {annex.unit}" if annex.unit else "Đơn vị tính: như ghi ở từng cột"
    _paragraph(doc, unit, 12, align="right", italic=True, after=3)
    rows = [*annex.rows, *([annex.total] if annex.total else [])]
    # Two rows are built cell by cell with python-docx (the header, the first body row, and the
    # total row at the end); the other body rows are copies of the first with their texts set:
    # python-docx's per-cell calls cost milliseconds each, too much for thousands of units.
    table = doc.add_table(rows=1 + min(1, len(rows)), cols=len(annex.columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, [c.width for c in annex.columns])
    size = 11 if len(annex.columns) <= 9 else 10
    header, *body = table.rows
    for column, cell in zip(annex.columns, header.cells, strict=True):
        p = _first_paragraph(cell, column.label, size, bold=True)
        p.paragraph_format.space_before = Pt(2)
        p.paragraph_format.space_after = Pt(2)
    # The header row repeats on every page of a long annex.
    tr_pr = header._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:tblHeader"))

    def fill(row, values, bold: bool) -> None:
        for column, value, cell in zip(annex.columns, values, row.cells, strict=True):
            align = "left" if column.kind == "text" else ("center" if column.kind == "index" else "right")
            p = _first_paragraph(cell, _format_cell(value, column.kind), size, bold=bold)
            p.alignment = _paragraph_alignment(align)
            p.paragraph_format.space_before = Pt(1)
            p.paragraph_format.space_after = Pt(1)

    plain = rows[:-1] if annex.total is not None else rows
    if plain:
        fill(body[0], plain[0], False)
        _copy_rows(
            table,
            body[0]._tr,
            [
                [_format_cell(v, c.kind) for v, c in zip(values, annex.columns, strict=True)]
                for values in plain[1:]
            ],
        )
    if annex.total is not None:
        total_row = body[0] if not plain else table.add_row()
        fill(total_row, annex.total, True)
    if annex.note:
        _paragraph(doc, f"Ghi chú: {annex.note}", 12, align="left", italic=True, before=6)


def _copy_rows(table, model, texts: list[list[str]]) -> None:
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
            _set_text(node, text)
        tbl.append(row)


def _paragraph_alignment(name: str):
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    return {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
    }[name]


def write_document(
    view: Mapping[str, Any],
    body: str,
    charts: Mapping[str, Path],
    annexes: list[Annex],
    path: str | Path,
) -> Path:
    """Write the report document to `path`: header, title, `body` (the rendered template's
    lines), "Nơi nhận" and signature, then the annexes. Returns the path."""
    from docx import Document
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Mm, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    _all_scripts_font(normal.element.get_or_add_rPr())
    doc.core_properties.language = "vi-VN"
    doc.core_properties.title = _nfc(f"Báo cáo {view['subject']}")
    doc.core_properties.author = "Hệ thống báo cáo tự động"

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    _margins(section)
    _page_numbers(section)
    _header(doc, view)
    _title(doc, view)
    _body(doc, body.splitlines(), charts)
    _closing(doc, view)

    if annexes:
        landscape = doc.add_section(WD_SECTION.NEW_PAGE)
        landscape.orientation = WD_ORIENT.LANDSCAPE
        landscape.page_width, landscape.page_height = Mm(297), Mm(210)
        _margins(landscape)
        for i, annex in enumerate(annexes):
            _annex(doc, annex, view["attached_to"], first=i == 0)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path
