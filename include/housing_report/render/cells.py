"""Writing the cells of the workbooks officials receive (openpyxl, imported when a workbook is
written): text is always text, never a formula; numbers keep their number formats (Excel and
LibreOffice draw the reader's locale's separators); headers, widths, titles, A4 print setup.

Styles are worked out once per workbook (`restyle`): openpyxl finds a Font, Border or
Alignment given to a cell among the workbook's by hashing it, tens of microseconds a cell,
seconds for a national workbook's hundreds of thousands; a style seen before is copied as its
indices instead, so the file is the same as if every cell had been styled one by one."""

from __future__ import annotations

import unicodedata
import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

COUNT_FORMAT = "#,##0"
MONEY_FORMAT = "#,##0.0##"
PERCENT_FORMAT = "#,##0.00"
DATE_FORMAT = "DD/MM/YYYY"
# A string starting with one of these could be taken for a formula by a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The title and the note above a sheet's table (1-based rows).
TITLE_ROW = 1
NOTE_ROW = 2


def _text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", unicodedata.normalize("NFC", value))


# Per workbook: (the cell's style before, what is done to it) -> its style after.
_STYLES: weakref.WeakKeyDictionary[Any, dict[Hashable, Any]] = weakref.WeakKeyDictionary()


def restyle(cell: Cell, key: Hashable, style: Callable[..., None], *args: Any) -> None:
    """Do `style(cell, *args)` to `cell`'s style, once per workbook for a given `key` (what
    `style` does, with `args`) and style the cell had before; after that the outcome is copied
    (see the module's docstring)."""
    from openpyxl.styles.cell_style import StyleArray

    seen = _STYLES.setdefault(cell.parent.parent, {})
    before = cell._style
    full_key = (tuple(before) if before is not None else (), key)
    after = seen.get(full_key)
    if after is None:
        style(cell, *args)
        seen[full_key] = StyleArray(cell._style)
    else:
        cell._style = StyleArray(after)


def _put_style(cell: Cell, number_format: str | None, quote: bool, bold: bool) -> None:
    from openpyxl.styles import Font

    if quote:
        cell.quotePrefix = True  # Excel keeps the text text when someone edits the cell
    if number_format:
        cell.number_format = number_format
    if bold:
        cell.font = Font(bold=True)


def put(
    ws: Worksheet, row: int, column: int, value: Any, number_format: str | None = None, *, bold: bool = False
) -> Cell:
    """Write one cell and return it. A string is always a string: `=HYPERLINK(...)` stays text."""
    cell = ws.cell(row=row, column=column)
    quote = False
    if isinstance(value, str):
        text = _text(value)
        cell.value = text
        cell.data_type = "s"  # openpyxl would make "=..." a formula
        quote = text.startswith(FORMULA_PREFIXES)
        number_format = None
    else:
        cell.value = value
        if value is None:
            number_format = None
    if quote or number_format or bold:
        restyle(cell, ("put", number_format, quote, bold), _put_style, number_format, quote, bold)
    return cell


def header(ws: Worksheet, row: int, labels: list[str], *, wrap: bool = True) -> None:
    from openpyxl.styles import Alignment, Border, PatternFill, Side

    fill = PatternFill("solid", fgColor="E5E7EB")
    border = Border(bottom=Side(style="thin", color="9CA3AF"))
    for column, label in enumerate(labels, start=1):
        put(ws, row, column, label, bold=True)
        cell = ws.cell(row=row, column=column)
        cell.fill = fill
        cell.border = border
        cell.alignment = Alignment(wrap_text=wrap, vertical="center", horizontal="center")


def widths(ws: Worksheet, widths: list[float]) -> None:
    from openpyxl.utils import get_column_letter

    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width


def sheet_title(ws: Worksheet, title: str, note: str) -> None:
    from openpyxl.styles import Font

    put(ws, TITLE_ROW, 1, title)
    ws.cell(row=TITLE_ROW, column=1).font = Font(bold=True, size=13)
    put(ws, NOTE_ROW, 1, note)
    ws.cell(row=NOTE_ROW, column=1).font = Font(italic=True)


def print_setup(ws: Worksheet, header_rows: int) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"1:{header_rows}"
