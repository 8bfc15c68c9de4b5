"""Writing the sheets of the workbooks officials receive (openpyxl's write-only mode, imported
when a workbook is written): text is always text, never a formula; numbers keep their number
formats (Excel and LibreOffice draw the reader's locale's separators); headers, widths, titles,
totals as `SUM` formulas that carry their value, A4 print setup.

A sheet is written row after row (`Sheet.row`): each row's XML is made at once and goes to a
file of the sheet's own, so a national workbook's hundreds of thousands of cells never sit in
memory together. openpyxl (its write-only workbook) writes the rest: the sheet's columns, views,
merges, page set-up and breaks, the styles, the package; `Sheet.close` (by `save`) puts the rows
in the empty `sheetData` openpyxl wrote. Column widths, frozen panes and hidden rows are given
before the rows; merges and the page set-up at any time before the save.

A cell's style is a `Style` (plain values); its index among the workbook's cell styles is worked
out once per workbook (openpyxl finds a Font, Border or Alignment among the workbook's by
hashing it, tens of microseconds a cell), so the file is as if every cell had been styled alone.

A totals cell is a `SUM` formula over the rows above it with its value written beside it
(`Sheet.total`): Excel and LibreOffice recalculate it, and a reader that does not (a phone's
preview, a program reading the file) still sees the figure; openpyxl itself writes a formula
without its value.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import shutil
import tempfile
import unicodedata
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl import Workbook

COUNT_FORMAT = "#,##0"
MONEY_FORMAT = "#,##0.0##"
PERCENT_FORMAT = "#,##0.00"
DATE_FORMAT = "DD/MM/YYYY"
# A string starting with one of these could be taken for a formula by a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The title and the note above a sheet's table (1-based rows).
TITLE_ROW = 1
NOTE_ROW = 2
# A4 in openpyxl's page set-up, and what a page holds (mm, the margins below taken off).
PAPER_A4 = "9"
A4_MM = (210.0, 297.0)
MARGINS_INCH = {"left": 0.79, "right": 0.59, "top": 0.79, "bottom": 0.79, "header": 0.3, "footer": 0.3}
# A column of width w (characters of the default font, Calibri 11) is w * 7 + 5 pixels at 96 dpi.
PIXELS_PER_MM = 96 / 25.4
# Whole numbers a float holds exactly: "%.16g" writes them as `str` does.
_EXACT_INT = 2**53
# What a workbook cannot hold (openpyxl's `ILLEGAL_CHARACTERS_RE`): control characters but tab and newlines.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", unicodedata.normalize("NFC", value))


def column_pixels(width: float) -> float:
    return width * 7 + 5


def printable_pixels(landscape: bool) -> float:
    """The width a page holds between its margins, in pixels at 96 dpi."""
    width_mm = A4_MM[1] if landscape else A4_MM[0]
    margins_mm = (MARGINS_INCH["left"] + MARGINS_INCH["right"]) * 25.4
    return (width_mm - margins_mm) * PIXELS_PER_MM


@dataclass(frozen=True)
class Style:
    """What a cell looks like, as plain values (the key of the workbook's style cache)."""

    number_format: str | None = None
    bold: bool = False
    italic: bool = False
    size: float | None = None
    font_name: str | None = None
    color: str | None = None
    fill: str | None = None  # a solid fill's colour
    border: str | None = None  # "grid" (thin, all sides) or "bottom"
    horizontal: str | None = None
    vertical: str | None = None
    wrap: bool = False
    quote: bool = False  # Excel keeps the text text when someone edits the cell

    @functools.cached_property
    def unformatted(self) -> Style:
        """The style for text or an empty cell: no number format."""
        return replace(self, number_format=None) if self.number_format else self

    @functools.cached_property
    def quoted(self) -> Style:
        """The style for text a spreadsheet could take for a formula."""
        return replace(self, number_format=None, quote=True)

    @functools.cached_property
    def dated(self) -> Style:
        """The style for a date given no number format."""
        return replace(self, number_format=DATE_FORMAT)

    def apply(self, cell: Any) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        if self.quote:
            cell.quotePrefix = True
        if self.number_format:
            cell.number_format = self.number_format
        if self.bold or self.italic or self.size or self.font_name or self.color:
            cell.font = Font(
                name=self.font_name or "Calibri",
                size=self.size or 11,
                bold=self.bold,
                italic=self.italic,
                color=self.color,
            )
        if self.fill:
            cell.fill = PatternFill("solid", fgColor=self.fill)
        if self.border == "grid":
            thin = Side(style="thin", color="808080")
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        elif self.border == "bottom":
            cell.border = Border(bottom=Side(style="thin", color="9CA3AF"))
        if self.horizontal or self.vertical or self.wrap:
            cell.alignment = Alignment(
                horizontal=self.horizontal, vertical=self.vertical, wrap_text=self.wrap
            )


PLAIN = Style()


class Cell:
    """A totals cell for `Sheet.row`: its value, style and formula (`Sheet.total`). A plain cell
    is a value, or a (value, style) pair (`Sheet.cell`)."""

    __slots__ = ("value", "style", "formula")

    def __init__(self, value: Any, style: Style = PLAIN, formula: str | None = None) -> None:
        self.value = value
        self.style = style
        self.formula = formula


class Sheet:
    """A write-only sheet of `wb` (see the module's docstring)."""

    def __init__(
        self,
        wb: Workbook,
        title: str,
        widths: Iterable[float],
        *,
        freeze: str | None = None,
        landscape: bool = True,
        fit_width: bool = True,
        hidden_columns: Iterable[int] = (),
    ) -> None:
        from openpyxl.utils import get_column_letter

        self.wb = wb
        self.ws = ws = wb.create_sheet(title)
        self.widths = list(widths)
        self.landscape = landscape
        self.fit_width = fit_width
        self.hidden = set(hidden_columns)
        for column, width in enumerate(self.widths, start=1):
            dimension = ws.column_dimensions[get_column_letter(column)]
            dimension.width = width
            if column in self.hidden:
                dimension.hidden = True
        if freeze:
            ws.freeze_panes = freeze
        # Fit to the page's width, or (a sheet printed in parts) the scale and the breaks given.
        ws.sheet_properties.pageSetUpPr.fitToPage = fit_width
        self.rows = 0  # rows written so far (the next is self.rows + 1)
        self._style_ids = _style_ids(wb)
        self._letters = [get_column_letter(c) for c in range(1, max(len(self.widths), 1) + 1)]
        self._hidden_rows: set[int] = set()
        self._by_object: dict[int, tuple[Style, str]] = {}
        # The rows' XML, written as it comes to a file of their own (see `close`).
        self._data = tempfile.TemporaryFile()  # noqa: SIM115 (closed by `close`)
        self._buffer: list[str] = []
        _SHEETS.setdefault(wb, []).append(self)

    # ---------------------------------------------------------------- cells and rows

    @staticmethod
    def cell(value: Any, style: Style = PLAIN) -> tuple[Any, Style]:
        """A cell holding `value` in `style`: a string is always a string (`=HYPERLINK(...)`
        stays text), NFC, without the characters a workbook cannot hold."""
        return (value, style)

    def total(self, first_row: int, last_row: int, column: int, value: Any, style: Style = PLAIN) -> Any:
        """`=SUM(...)` over `first_row`..`last_row` of `column`, carrying `value` (its result)."""
        if last_row < first_row or value is None:  # nothing to add up: the figure itself
            return (value, style)
        letter = self._letter(column)
        return Cell(value, style, f"SUM({letter}{first_row}:{letter}{last_row})")

    def hide_row(self, row: int) -> None:
        """Hide a row not written yet (for programs: never shown, never printed)."""
        self._hidden_rows.add(row)

    def row(self, cells: list[Any], height: float | None = None) -> int:
        """Write the next row (`cells`: values or `cell(...)`s, None for none); returns its number."""
        self.rows = row = self.rows + 1
        number = str(row)
        head = f'<row r="{number}"'
        if height is not None:
            head += f' ht="{height}" customHeight="1"'
        if row in self._hidden_rows:
            head += ' hidden="1"'
        out = [head + ">"]
        add = out.append
        letters = self._letters
        if len(cells) > len(letters):
            self._letter(len(cells))
        # A national workbook has ~250 000 cells: each one's style attribute is looked up here
        # (`_s` only for a style not seen yet), and a number, the most common, is tested first.
        by_object = self._by_object
        for column, item in enumerate(cells):
            if item is None:
                continue
            kind = type(item)
            if kind is tuple:
                (value, style), formula = item, None
            elif kind is Cell:
                value, style, formula = item.value, item.style, item.formula
            else:
                value, style, formula = item, PLAIN, None
            ref = letters[column] + number
            value_kind = type(value)
            # Exact types first (the common case, cheapest test), then their subclasses (not bool).
            if (
                value_kind is int
                or value_kind is float
                or (value_kind is not bool and isinstance(value, (int, float)))
            ):
                if style is PLAIN:
                    attr = ""
                else:
                    known = by_object.get(id(style))
                    attr = known[1] if known is not None and known[0] is style else self._s(style)
                if value_kind is int and -_EXACT_INT < value < _EXACT_INT:
                    number_text = str(value)  # what "%.16g" writes of it, faster
                else:
                    number_text = f"{value:.16g}" if math.isfinite(value) else ""
                if formula is not None:
                    add(f'<c r="{ref}"{attr}><f>{formula}</f><v>{number_text}</v></c>')
                else:
                    add(f'<c r="{ref}"{attr} t="n"><v>{number_text}</v></c>')
                continue
            if value == "":
                value = None  # as openpyxl writes it: an empty cell
            if isinstance(value, str):
                text = _text(value)
                style = style.quoted if text.startswith(FORMULA_PREFIXES) else style.unformatted
                space = ' xml:space="preserve"' if text != text.strip() else ""
                add(f'<c r="{ref}"{self._s(style)} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>')
            elif value is None:
                if style is not PLAIN:
                    add(f'<c r="{ref}"{self._s(style.unformatted)}/>')
            elif isinstance(value, bool):
                add(f'<c r="{ref}"{self._s(style)} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, dt.date):
                style = style if style.number_format else style.dated
                add(f'<c r="{ref}"{self._s(style)} t="n"><v>{_excel_date(value):.16g}</v></c>')
            else:
                raise TypeError(f"cannot write {value!r} in a workbook")
        add("</row>")
        buffer = self._buffer
        buffer.append("".join(out))
        if len(buffer) >= 512:
            self._flush()
        return row

    def _flush(self) -> None:
        self._data.write("".join(self._buffer).encode("utf-8"))
        self._buffer.clear()

    def _letter(self, column: int) -> str:
        from openpyxl.utils import get_column_letter

        letters = self._letters
        while column > len(letters):
            letters.append(get_column_letter(len(letters) + 1))
        return letters[column - 1]

    def _s(self, style: Style) -> str:
        """The style attribute of a cell in `style` ("" for the default style)."""
        if style is PLAIN:
            return ""
        known = self._by_object.get(id(style))
        if known is None or known[0] is not style:
            index = self._style_ids.get(style)
            if index is None:
                index = self._style_ids[style] = _style_index(self.ws, style)
            # Kept with the style: its id is not reused while the sheet is written.
            known = self._by_object[id(style)] = (style, f' s="{index}"' if index != "0" else "")
        return known[1]

    def close(self) -> None:
        """Finish the sheet (before the workbook is saved: `save`): openpyxl writes everything
        but the rows (the sheet's columns and views before them, merges, page set-up and breaks
        after them), then the rows written so far are put in their place."""
        self._flush()
        ws = self.ws
        ws.close()  # no rows given to openpyxl: an empty sheetData
        path = Path(ws._writer.out)
        xml = path.read_bytes()
        for empty in (b"<sheetData></sheetData>", b"<sheetData/>", b"<sheetData />"):
            at = xml.find(empty)
            if at >= 0:
                break
        else:
            raise RuntimeError(f"no sheetData in the sheet {ws.title!r} openpyxl wrote")
        spliced = path.with_name(path.name + ".rows")
        with spliced.open("wb") as out:
            out.write(xml[:at])
            out.write(b"<sheetData>")
            self._data.seek(0)
            shutil.copyfileobj(self._data, out, 1 << 20)
            out.write(b"</sheetData>")
            out.write(xml[at + len(empty) :])
        self._data.close()
        os.replace(spliced, path)

    def blank(self, count: int = 1) -> None:
        for _ in range(count):
            self.row([])

    def merge(self, first_row: int, first_column: int, last_row: int, last_column: int) -> None:
        if (first_row, first_column) != (last_row, last_column):
            from openpyxl.worksheet.cell_range import CellRange

            self.ws.merged_cells.add(
                CellRange(min_row=first_row, min_col=first_column, max_row=last_row, max_col=last_column)
            )

    # ---------------------------------------------------------------- common parts

    def title(self, title: str, note: str, *, font_name: str | None = None) -> None:
        """The title (row 1) and the note under it (row 2)."""
        self.row([self.cell(title, Style(bold=True, size=13, font_name=font_name))])
        self.row([self.cell(note, Style(italic=True, font_name=font_name))])

    def header(self, labels: list[str], *, wrap: bool = True, height: float | None = None) -> int:
        style = Style(
            bold=True, fill="E5E7EB", border="bottom", horizontal="center", vertical="center", wrap=wrap
        )
        return self.row([self.cell(label, style) for label in labels], height)

    def print_setup(self, title_rows: tuple[int, int]) -> None:
        """A4 in the sheet's orientation, margins, page numbers, the header rows repeated on
        every page and (`fit_width`) every column fitted to the page's width, the height as many
        pages as it takes; else see `print_in_parts`."""
        ws = self.ws
        ws.page_setup.orientation = "landscape" if self.landscape else "portrait"
        ws.page_setup.paperSize = PAPER_A4
        if self.fit_width:
            ws.page_setup.fitToWidth = 1
            ws.page_setup.fitToHeight = 0
        for side, inches in MARGINS_INCH.items():
            setattr(ws.page_margins, side, inches)
        ws.print_options.horizontalCentered = self.fit_width
        ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
        ws.oddFooter.center.text = "Trang &P/&N"
        ws.evenFooter.center.text = "Trang &P/&N"

    def print_in_parts(self, title_columns: int, first_columns: int, groups: list[tuple[int, int]]) -> None:
        """A sheet too wide for one page (made with `fit_width=False`), printed across pages: the
        first `first_columns` columns, then as many whole `groups` of columns (1-based first and
        last column of each) as a page holds; each further page repeats the first `title_columns`
        columns; scaled down only as far as the widest page needs."""
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.pagebreak import Break

        ws = self.ws
        page = printable_pixels(self.landscape)

        def pixels(first: int, last: int) -> float:
            return sum(
                column_pixels(self.widths[c - 1]) for c in range(first, last + 1) if c not in self.hidden
            )

        widest = used = pixels(1, first_columns)
        on_page = 0
        for first, last in groups:
            width = pixels(first, last)
            if on_page and used + width > page:
                ws.col_breaks.append(Break(id=first - 1, max=1048575))  # a break down every row
                used, on_page = pixels(1, title_columns), 0
            used += width
            on_page += 1
            widest = max(widest, used)
        ws.page_setup.scale = max(40, min(100, int(100 * page / widest)))
        ws.print_title_cols = f"A:{get_column_letter(title_columns)}"


def _excel_date(value: dt.date) -> float:
    from openpyxl.utils.datetime import to_excel

    return to_excel(value)


# Per workbook: a Style -> the workbook's index of it (its font, fill... as openpyxl keeps them).
_STYLE_IDS: weakref.WeakKeyDictionary[Any, dict[Style, str]] = weakref.WeakKeyDictionary()


def _style_ids(wb: Workbook) -> dict[Style, str]:
    return _STYLE_IDS.setdefault(wb, {})


def _style_index(ws: Any, style: Style) -> str:
    """The index of `style` among the workbook's cell styles (added there if new), as openpyxl
    works it out for a cell so styled."""
    from openpyxl.cell.cell import Cell as OpenpyxlCell

    cell = OpenpyxlCell(ws)
    style.apply(cell)
    return str(cell.style_id)


def _escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text


# Per workbook: its sheets (`Sheet`), closed by `save`.
_SHEETS: weakref.WeakKeyDictionary[Any, list[Sheet]] = weakref.WeakKeyDictionary()


def save(wb: Workbook, path: Path) -> None:
    """Finish every sheet of `wb` (`Sheet.close`) and save it to `path`."""
    for sheet in _SHEETS.pop(wb, []):
        sheet.close()
    wb.save(path)


def write_only_workbook() -> Workbook:
    from openpyxl import Workbook

    return Workbook(write_only=True)


__all__ = [
    "COUNT_FORMAT",
    "DATE_FORMAT",
    "MONEY_FORMAT",
    "PERCENT_FORMAT",
    "Sheet",
    "Style",
    "save",
    "write_only_workbook",
]
