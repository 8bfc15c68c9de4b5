"""The annexes of the report ("Phụ lục I, II..."): built once as plain tables (pure), laid out
in the document (`official.document`) and as sheets of the attached workbook (here).

- Phụ lục I: progress by district (houses needed, started, completed, percent, change since
  the last period, forecast finish date);
- then one annex per table of the template: the progress table by beneficiary group (with
  the completion percent), the money table by source;
- then one annex of the number fields (mobilisation, propaganda) by unit.

Labels come from the config. Every annex has a totals row: for the district annex the sum
of its rows (it equals the summary's houses), for the others the summary's totals.

In the workbook, numbers stay numbers with the format `#,##0` (money `#,##0.0##`): Excel and
LibreOffice draw the separators of the reader's locale, so a Vietnamese-locale computer shows
8.917 and 1.234,5 while the cell stays a number that sums and sorts. A literal format
(`#.##0`) would not work: in a format, `.` is always the decimal point. Writing the numbers
as text would show the Vietnamese separators everywhere but break every formula a reader
adds, so we do not.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from housing_report.config import Config
from housing_report.core.formatting import vn_date, vn_number
from housing_report.core.models import TOTAL_LABEL, TOTAL_ROW
from housing_report.core.statuses import ACCEPTED
from housing_report.core.summary import Summary
from housing_report.core.text import clean_text
from housing_report.render.cells import Sheet, Style
from housing_report.render.figures import number_sections, table_total

if TYPE_CHECKING:
    from openpyxl import Workbook

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
# Number formats of the workbook, by column kind (see the module's docstring).
FORMATS = {
    "count": "#,##0",
    "money": "#,##0.0##",
    "percent": "0.0",
    "change": "+#,##0;-#,##0;0",
    "index": "0",
}


@dataclass(frozen=True)
class Column:
    label: str
    kind: str  # index | text | count | money | percent | change
    width: float  # in the document, cm (the workbook derives its widths from it)


@dataclass
class Annex:
    number: str  # "I"
    title: str
    unit: str  # "căn", "triệu đồng", or "" when the columns differ
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    total: list[Any] | None = None
    note: str = ""

    @property
    def sheet_name(self) -> str:
        return f"PL_{self.number}"


# Phụ lục IV's note when a unit's row holds an earlier period's figures.
CARRIED_NOTE = (
    " Đơn vị chưa có báo cáo hợp lệ kỳ này: số liệu lũy kế lấy theo kỳ ghi bên tên đơn vị, số liệu"
    " trong kỳ để trống (–)."
)


def _percent(done: float | None, of: float | None) -> float | None:
    return round(100.0 * done / of, 2) if done is not None and of else None


def _district_annex(view: dict[str, Any], unit: str) -> Annex:
    columns = [
        Column("STT", "index", 1.2),
        Column("Địa bàn", "text", 4.6),
        Column("Số nhà cần hỗ trợ", "count", 2.2),
        Column("Đã khởi công", "count", 2.2),
        Column("Đã hoàn thành, bàn giao", "count", 2.4),
        Column("Tỷ lệ hoàn thành (%)", "percent", 2.2),
        Column("Tăng so với kỳ trước", "change", 2.2),
        Column("Dự kiến hoàn thành", "text", 3.0),
        Column("Ghi chú", "text", 4.6),
    ]
    rows = []
    for i, d in enumerate(view["districts_full"], start=1):
        # The office's words for what the unit did, and the period its figures are from.
        notes = []
        if d["status"] != "accepted":
            notes.append(d["official_status"])
            notes.append(f"số liệu kỳ {d['carried_from']}" if d["carried_from"] else "chưa có số liệu")
        if d.get("flagged"):
            notes.append("số liệu đang được xác minh")
        note = "; ".join(notes)
        note = note[:1].upper() + note[1:]
        rows.append(
            [
                i,
                d["name"],
                d["needed"],
                d["started"],
                d["completed"],
                d["percent"],
                d["change"],
                d["forecast_label"],
                note,
            ]
        )
    needed = sum(r[2] for r in rows)
    completed = sum(r[4] for r in rows)
    changes = [r[6] for r in rows if r[6] is not None]
    province = view["forecast"]["province"]
    total = [
        None,
        TOTAL_LABEL,
        needed,
        sum(r[3] for r in rows),
        completed,
        _percent(completed, needed),
        sum(changes) if changes else None,
        province.label(),
        "",
    ]
    return Annex("", "Tiến độ hỗ trợ nhà ở theo địa bàn", unit, columns, rows, total)


def _apart_note(config: Config, summary: Summary, section: Any) -> str:
    """Under the money annex: what `funds_apart` keeps out of its totals, by column."""
    rule = config.report.funds_apart
    if section.code != rule.section or not summary.apart:
        return ""
    parts = [
        f"{c.label.lower()} {vn_number(value)} {section.unit}"
        for c in section.columns
        if (value := summary.apart.get(f"{section.code}.{TOTAL_ROW}.{c.code}"))
    ]
    if not parts:
        return ""
    return (
        f"Ngoài ra, {clean_text(rule.label)}: {'; '.join(parts)} "
        "(đã chuyển về các địa phương, không cộng vào tổng trên)."
    )


def build_annexes(config: Config, summary: Summary, view: dict[str, Any]) -> list[Annex]:
    """The annexes of `summary` (see the module's docstring), numbered I, II..."""
    template = config.template
    totals = summary.totals
    progress = config.report.progress
    annexes = [_district_annex(view, template.section(progress.table).unit)]
    for section in number_sections(template):
        if section.kind != "table":
            continue
        kind = "money" if section.value == "money" else "count"
        columns = [Column("STT", "index", 1.2), Column("Nội dung", "text", 8.0)]
        columns += [Column(c.label, kind, 2.6) for c in section.columns]
        is_progress = section.code == progress.table
        if is_progress:
            columns.append(Column("Tỷ lệ hoàn thành (%)", "percent", 2.2))

        def completion(row: str, section=section) -> float | None:
            done = sum(totals.get(f"{section.code}.{row}.{c}") or 0 for c in progress.completed)
            need = sum(totals.get(f"{section.code}.{row}.{c}") or 0 for c in progress.needed)
            return _percent(done, need)

        rows = []
        for i, r in enumerate(section.rows, start=1):
            values = [totals.get(f"{section.code}.{r.code}.{c.code}") for c in section.columns]
            rows.append([i, r.label, *values] + ([completion(r.code)] if is_progress else []))
        total_values = [table_total(totals, section, c.code) for c in section.columns]
        total = [None, TOTAL_LABEL, *total_values] + ([completion(TOTAL_ROW)] if is_progress else [])
        title = section.label if not is_progress else f"{section.label}, theo nhóm đối tượng"
        annexes.append(
            Annex("", title, section.unit, columns, rows, total, note=_apart_note(config, summary, section))
        )

    fields = [s for s in number_sections(template) if s.kind == "fields"]
    if fields:
        keys = [(s, k) for s in fields for k in s.figure_keys()]
        columns = [Column("STT", "index", 1.2), Column("Đơn vị", "text", 4.6)]
        columns += [
            Column(template.figure_label(k), "money" if s.value == "money" else "count", 1.9) for s, k in keys
        ]
        by_unit = summary.by_unit
        wanted = {k for _, k in keys}
        rows = []
        carried = False
        for unit in summary.units:
            figures = by_unit.get(unit.code) or {}
            uses = set(template.used_figure_keys(unit.kind)) if unit.kind in template.kinds else set()
            if not (uses | set(figures)) & wanted:
                continue
            name = clean_text(unit.name)
            if unit.status != ACCEPTED:  # its cumulative figures are an earlier period's
                carried = True
                since = vn_date(unit.carried_forward_from)
                name += f" (số liệu kỳ {since})" if since else " (chưa có số liệu)"
            rows.append([len(rows) + 1, name, *(figures.get(k) for _, k in keys)])
        total = [None, TOTAL_LABEL, *(totals.get(k) for _, k in keys)]
        units = {s.unit for s in fields}
        annexes.append(
            Annex(
                "",
                " và ".join(s.label for s in fields) + ", theo đơn vị",
                units.pop() if len(units) == 1 else "",
                columns,
                rows,
                total,
                note="Số liệu huy động sức dân là lũy kế; số liệu tuyên truyền là trong kỳ báo cáo."
                + (CARRIED_NOTE if carried else ""),
            )
        )
    for i, annex in enumerate(annexes):
        annex.number = ROMAN[i] if i < len(ROMAN) else str(i + 1)
    return annexes


# --------------------------------------------------------------------------- workbook


def add_annex_sheets(wb: Workbook, annexes: list[Annex], attached_to: str) -> list[Any]:
    """One sheet per annex (`PL_I`...), titled, "Đơn vị tính" stated, frozen header, totals
    row (`SUM` over the rows for the counts and money), A4 landscape fitted to the page width,
    the header repeated on every page. `wb` is a write-only workbook (`cells.Sheet`). Returns the
    sheets, in order."""
    font = "Times New Roman"
    sheets = []
    for annex in annexes:
        last = len(annex.columns)
        widths = [round(column.width * 5.2, 1) for column in annex.columns]
        sheet = Sheet(wb, annex.sheet_name, widths, freeze="C6")
        sheets.append(sheet.ws)
        lines = [
            (f"Phụ lục {annex.number}", Style(font_name=font, bold=True, size=13)),
            (annex.title.upper(), Style(font_name=font, bold=True, size=13)),
            (f"(Kèm theo {attached_to})", Style(font_name=font, italic=True, size=12)),
        ]
        for i, (text, style) in enumerate(lines):
            style = replace(style, horizontal="center", wrap=True)
            row = sheet.row([sheet.cell(text, style)], height=34 if i == 1 else None)  # the title
            sheet.merge(row, 1, row, last)
        unit_line = f"Đơn vị tính: {annex.unit}" if annex.unit else "Đơn vị tính: như ghi ở từng cột"
        row = sheet.row(
            [sheet.cell(unit_line, Style(font_name=font, italic=True, size=12, horizontal="right"))]
        )
        sheet.merge(row, 1, row, last)
        longest = max(len(c.label) / max(1.0, c.width * 5.2 - 2) for c in annex.columns)
        head = Style(
            font_name=font,
            bold=True,
            size=11,
            horizontal="center",
            vertical="center",
            wrap=True,
            fill="F2F2F2",
            border="grid",
        )
        header = sheet.row(
            [sheet.cell(c.label, head) for c in annex.columns], height=16 * max(2, min(6, int(longest) + 1))
        )
        first_body = header + 1
        rows = [*annex.rows, *([annex.total] if annex.total else [])]
        # Spreadsheets do not grow a row for wrapped text written by a program: size it here, from
        # the characters a line of each text column holds. (Worked out once per annex: a national
        # annex has thousands of rows.)
        per_line = [
            (i, max(1, int(c.width * 5.2 * 1.1) - 2)) for i, c in enumerate(annex.columns) if c.kind == "text"
        ]
        body_styles = [_body_style(column.kind, False) for column in annex.columns]
        for i, values in enumerate(rows):
            lines_needed = max((-(-len(str(values[c])) // n) for c, n in per_line if values[c]), default=1)
            if annex.total is not None and i == len(rows) - 1:  # the totals row
                cells = []
                for c, (column, value) in enumerate(zip(annex.columns, values, strict=True), start=1):
                    style = _body_style(column.kind, True)
                    if column.kind in SUMMED:
                        cells.append(sheet.total(first_body, sheet.rows, c, value, style))
                    else:
                        cells.append(sheet.cell(value, style))
            else:
                cells = list(zip(values, body_styles, strict=True))  # `sheet.cell(value, style)` of each
            sheet.row(cells, height=15 * max(1, lines_needed))
        if annex.note:
            sheet.row([sheet.cell(f"Ghi chú: {annex.note}", Style(font_name=font, italic=True, size=11))])
        sheet.print_setup((header, header))
    return sheets


# The kinds of column whose totals row is the sum of the rows above (a formula in the workbook).
SUMMED = ("count", "money")


@functools.cache
def _body_style(kind: str, is_total: bool) -> Style:
    """A table cell of an annex: Times New Roman 11 (bold in the totals row), the grid, text to
    the left and wrapped, the index centred, numbers to the right."""
    horizontal = "left" if kind == "text" else ("center" if kind == "index" else "right")
    return Style(
        number_format=FORMATS.get(kind),
        font_name="Times New Roman",
        size=11,
        bold=is_total,
        border="grid",
        horizontal=horizontal,
        vertical="top",
        wrap=kind == "text",
    )
