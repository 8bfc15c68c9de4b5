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
- "Nơi nhận" bottom left in the issuer kind's style: a state body's (Nghị định 30/2020)
  "Nơi nhận:" bold italic 12, its list 11, each line ending ";", the last "- Lưu: VT, ...";
  a Party body's (Hướng dẫn 36-HD/VPTW) "Nơi nhận:" 14 underlined, its list 12, each line
  ending ",", the last "- Lưu VT, ...". The signature block bottom right, from `issuer`: the
  draft leaves the signing space blank (no form placeholder), the approved document holds the
  picture where the digital signature goes.
- The annexes in a landscape section, one per page, numbered pages too: "Phụ lục I", the title,
  "(Kèm theo Báo cáo số ... ngày ... của <issuer>)", "Đơn vị tính: ...", the table with its
  totals row. Each table is exactly the text width (fixed layout), its columns and font size
  chosen so that no word breaks (`docx_parts.fit_columns`); its header row repeats on every
  page, and no row is split across two pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from housing_report.core.formatting import vn_change, vn_number
from housing_report.render.official.annexes import Annex
from housing_report.render.official.docx_parts import (
    BODY_PT,
    FONT,
    add_paragraph,
    add_table,
    all_scripts_font,
    clone_paragraph,
    column_widths,
    first_paragraph,
    fit_columns,
    keep_rows_whole,
    margins,
    nfc,
    no_borders,
    page_numbers,
    paragraph_alignment,
    repeat_as_header,
    rule_under,
    set_font,
    text_width_of,
)
from housing_report.render.official.docx_rows import DeferredRows

CHART_WIDTH_CM = 15.5
# Widths of the header's two columns and of the "Nơi nhận" / signature columns (cm).
HEADER_WIDTHS = (6.8, 9.7)
FOOTER_WIDTHS = (7.0, 9.5)
CHART_CAPTIONS = {
    "progress": "Tiến độ hoàn thành của toàn tỉnh qua các kỳ báo cáo",
    "districts": "Tỷ lệ hoàn thành theo địa bàn",
}
_CHART_RE = re.compile(r"^\[chart:([a-z_]+)\]$")
# The approved document's signature block holds a transparent picture of this size (pixels: a size
# no chart has) where the signature goes; `sign.pades` finds it in the PDF and signs there.
SIGNATURE_PLACEHOLDER_PX = (373, 149)
SIGNATURE_BOX_CM = (7.0, 2.8)


def signature_placeholder_png() -> bytes:
    """The placeholder picture: transparent, `SIGNATURE_PLACEHOLDER_PX`."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", SIGNATURE_PLACEHOLDER_PX, (255, 255, 255, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def _header(doc, view: Mapping[str, Any]) -> None:
    issuer = view["issuer"]
    party = issuer["kind"] == "party"
    table = add_table(doc, 2, 2)
    no_borders(table)
    column_widths(table, HEADER_WIDTHS)
    left, right = table.cell(0, 0), table.cell(0, 1)
    first_paragraph(left, issuer["parent"], 14 if party else 13)
    add_paragraph(left, issuer["name"], 14 if party else 13, bold=True)
    if party:
        add_paragraph(left, "*", 14)
    else:
        rule_under(left, 2.5, HEADER_WIDTHS[0])
    if party:
        first_paragraph(right, view["motto"][0], 15, bold=True)
        rule_under(right, 8.0, HEADER_WIDTHS[1])
    else:
        first_paragraph(right, view["motto"][0], 13, bold=True)
        add_paragraph(right, view["motto"][1], 14, bold=True)
        rule_under(right, 6.0, HEADER_WIDTHS[1])
    first_paragraph(table.cell(1, 0), view["number_line"], 14, before=6)
    date = first_paragraph(table.cell(1, 1), view["long_date"], 14, italic=True)
    from docx.shared import Pt

    date.paragraph_format.space_before = Pt(6)
    table.cell(1, 0).paragraphs[0].paragraph_format.space_before = Pt(6)


def _title(doc, view: Mapping[str, Any]) -> None:
    add_paragraph(doc, "BÁO CÁO", 15, bold=True, before=18)
    add_paragraph(doc, view["subject"], 14, bold=True, after=0)
    rule_under(doc, 3.0, 16.5)
    add_paragraph(doc, "", 8, after=6)


def _picture(doc, path: Path, caption: str, number: int) -> None:
    from docx.shared import Cm

    p = add_paragraph(doc, "", BODY_PT, before=6)
    p.paragraph_format.keep_with_next = True
    p.add_run().add_picture(str(path), width=Cm(CHART_WIDTH_CM))
    add_paragraph(doc, f"Biểu đồ {number}. {caption}", 12, italic=True, after=6)


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
            clone_paragraph(doc, models[style], text)
            continue
        if style == "### ":
            p = add_paragraph(
                doc, text, BODY_PT, align="justify", bold=True, italic=True, indent=True, after=6
            )
        elif style == "## ":
            p = add_paragraph(doc, text, BODY_PT, align="justify", bold=True, indent=True, after=6)
        elif style == "# ":
            p = add_paragraph(doc, text, BODY_PT, align="justify", bold=True, indent=True, after=6, before=6)
        else:
            p = add_paragraph(doc, text, BODY_PT, align="justify", indent=True, after=6)
        p.paragraph_format.line_spacing = 1.15
        if style:
            p.paragraph_format.keep_with_next = True
        p.paragraph_format.widow_control = True
        models[style] = p._p


def _closing(doc, view: Mapping[str, Any]) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    table = add_table(doc, 1, 2)
    no_borders(table)
    column_widths(table, FOOTER_WIDTHS)
    left, right = table.cell(0, 0), table.cell(0, 1)
    party = view["issuer"]["kind"] == "party"
    if party:  # Hướng dẫn 36-HD/VPTW: "Nơi nhận:" 14, upright, underlined; the list 12, ","
        label = first_paragraph(left, "Nơi nhận:", 14)
        for run in label.runs:
            set_font(run, underline=True)
        size, end, archive = 12, ",", f"- Lưu {view['archive']}."
    else:  # Nghị định 30/2020: "Nơi nhận:" bold italic 12; the list 11, ";"
        label = first_paragraph(left, "Nơi nhận:", 12, bold=True, italic=True)
        size, end, archive = 11, ";", f"- Lưu: {view['archive']}."
    label.alignment = WD_ALIGN_PARAGRAPH.LEFT
    label.paragraph_format.space_before = Pt(12)
    for line in [*(f"- {place}{end}" for place in view["places_to_send"]), archive]:
        item = add_paragraph(left, line, size, align="left")
        # A line that wraps continues under the text, not under the dash.
        item.paragraph_format.left_indent = Pt(size * 0.6)
        item.paragraph_format.first_line_indent = Pt(-size * 0.6)

    sig = view["signature"]
    lines = [t for t in (sig["authority"], sig["title"]) if t]
    first = first_paragraph(right, lines[0] if lines else "", 14, bold=True)
    first.paragraph_format.space_before = Pt(12)
    for text in lines[1:]:
        add_paragraph(right, text, 14, bold=True)
    if view.get("approval"):
        # The approved document: the digital signature goes here (sign.pades).
        import io

        from docx.shared import Cm

        holder = add_paragraph(right, "", 14)
        width, height = (Cm(v) for v in SIGNATURE_BOX_CM)
        holder.add_run().add_picture(io.BytesIO(signature_placeholder_png()), width=width, height=height)
    else:
        # The draft: room for the handwritten signature and the seal, nothing printed in it.
        for _ in range(4):
            add_paragraph(right, "", 14)
    add_paragraph(right, sig["name"], 14, bold=True)


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


# The most unit rows an annex prints in the document; beyond, they are in the workbook only.
DOCUMENT_ANNEX_ROWS = 300


def _annex(doc, annex: Annex, attached_to: str, first: bool, deferred: DeferredRows, width_cm: float) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Pt

    # Single spacing clips the marks above capitals ("Ở", "Ồ") against the line above: a little more.
    head = add_paragraph(doc, f"Phụ lục {annex.number}", 14, bold=True, after=2, line=1.15)
    if not first:
        head.paragraph_format.page_break_before = True
    head.paragraph_format.keep_with_next = True
    add_paragraph(doc, annex.title.upper(), 14, bold=True, line=1.15).paragraph_format.keep_with_next = True
    attached = add_paragraph(doc, f"(Kèm theo {attached_to})", 13, italic=True, after=6)
    attached.paragraph_format.keep_with_next = True
    unit = f"Đơn vị tính: {annex.unit}" if annex.unit else "Đơn vị tính: như ghi ở từng cột"
    add_paragraph(doc, unit, 12, align="right", italic=True, after=3).paragraph_format.keep_with_next = True
    # An annex of more units than a document can carry (a national roll-out: 3.321 communes, a
    # hundred pages LibreOffice takes minutes to lay out) keeps its totals row; every unit's row
    # is in the workbook's sheet of the same annex, which the note names.
    detail = annex.rows if len(annex.rows) <= DOCUMENT_ANNEX_ROWS else []
    rows = [*detail, *([annex.total] if annex.total else [])]
    texts = [[_format_cell(v, c.kind) for v, c in zip(values, annex.columns, strict=True)] for values in rows]
    widths, size = fit_columns(
        [c.label for c in annex.columns],
        texts,
        [c.kind == "text" for c in annex.columns],
        [c.width for c in annex.columns],
        width_cm,
    )
    # Two rows are built cell by cell with python-docx (the header, the first body row, and the
    # total row at the end); the other body rows are copies of the first with their texts set,
    # written when the document is saved (`docx_rows`): python-docx's per-cell calls cost
    # milliseconds each, and its elements hundreds of MB, for thousands of units.
    table = add_table(doc, 1 + min(1, len(rows)), len(annex.columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    column_widths(table, widths)
    header, *body = table.rows
    for column, cell in zip(annex.columns, header.cells, strict=True):
        p = first_paragraph(cell, column.label, size, bold=True)
        p.paragraph_format.space_before = Pt(2)
        p.paragraph_format.space_after = Pt(2)
    # The header row repeats on every page of a long annex; no row is split between pages.
    repeat_as_header(header)

    def fill(row, values, bold: bool) -> None:
        keep_rows_whole(row)
        for column, text, cell in zip(annex.columns, values, row.cells, strict=True):
            align = "left" if column.kind == "text" else ("center" if column.kind == "index" else "right")
            p = first_paragraph(cell, text, size, bold=bold)
            p.alignment = paragraph_alignment(align)
            p.paragraph_format.space_before = Pt(1)
            p.paragraph_format.space_after = Pt(1)

    plain = texts[:-1] if annex.total is not None else texts
    if plain:
        fill(body[0], plain[0], False)
        deferred.add(table, body[0]._tr, plain[1:])
    if annex.total is not None:
        total_row = body[0] if not plain else table.add_row()
        fill(total_row, texts[-1], True)
    notes = [annex.note] if annex.note else []
    if len(detail) < len(annex.rows):
        notes.insert(
            0,
            f"Số liệu của từng đơn vị ({vn_number(len(annex.rows))} đơn vị) tại Phụ lục {annex.number} "
            "trong tệp Excel tổng hợp gửi kèm báo cáo này",
        )
    if notes:
        text = "; ".join(n.strip().rstrip(".") for n in notes) + "."
        add_paragraph(doc, f"Ghi chú: {text}", 12, align="left", italic=True, before=6)


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
    all_scripts_font(normal.element.get_or_add_rPr())
    doc.core_properties.language = "vi-VN"
    doc.core_properties.title = nfc(f"Báo cáo {view['subject']}")
    doc.core_properties.author = "Hệ thống báo cáo tự động"

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    margins(section)
    page_numbers(section)
    _header(doc, view)
    _title(doc, view)
    _body(doc, body.splitlines(), charts)
    _closing(doc, view)

    deferred = DeferredRows()
    if annexes:
        landscape = doc.add_section(WD_SECTION.NEW_PAGE)
        landscape.orientation = WD_ORIENT.LANDSCAPE
        landscape.page_width, landscape.page_height = Mm(297), Mm(210)
        margins(landscape)
        # The annexes' pages are numbered on, their first page too (the header of the report's
        # section, whose first page alone has none).
        landscape.different_first_page_header_footer = False
        width = text_width_of(landscape)
        for i, annex in enumerate(annexes):
            _annex(doc, annex, view["attached_to"], first=i == 0, deferred=deferred, width_cm=width)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    deferred.save(doc, path)
    return path
