"""Read worksheets of an .xlsx workbook (as Google Sheets' "Download as xlsx" makes it) into grids.

`read_workbook_grids` opens the workbook once and returns a `Grid` of raw cell values per
requested worksheet: str, int, float, bool, datetime/date/time or None. Formula cells give
their cached result (errors such as `#REF!` come through as strings); a formula saved without
one (a workbook written by a program, never recalculated) gives a `Formula`, its text, for the
parser to report (not 0). Merged cells hold their value in the top-left cell only, and the
grid lists the merged ranges. Empty strings become None, strings are cleaned as
`core.text.clean_cell` says (NFC, invisible characters removed, cut to `MAX_CELL_TEXT`), and
trailing empty rows and columns are dropped. Row `i` and column `j` of a grid are always the
sheet's row `i + 1` and column `j + 1`, so A1 addresses computed from a grid are the sheet's own.

Only the first `ReadBounds.rows` rows and `ReadBounds.columns` columns are kept: a cell in
column XFD or on row 100 000 costs neither memory nor archive space (the grid records the
first cell found beyond, for a warning).

For speed the package is read with the standard library: the workbook's sheet list, shared
strings and date styles, then a streaming loop over the worksheet's XML (openpyxl, even in
read-only mode, spends most of its time building objects per cell and per shared string).
openpyxl supplies the number-format and date helpers, and reads the file itself (read-only,
values only, dimensions reset) whenever the fast reader meets something it does not expect;
a file neither can read raises `WorkbookUnreadable`.

Why this module is long: the fast reader and the openpyxl fallback must give the same grid for
the same file (cleaned text, bounds, formulas without a value, the first cell beyond) and share
the helpers that make it so; apart, each would need the other's private helpers.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree.ElementTree import fromstring, iterparse

from openpyxl import load_workbook
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601
from openpyxl.utils.exceptions import InvalidFileException

from housing_report.collect.base import ReadBounds, cap_text
from housing_report.core.models import Formula, Grid
from housing_report.core.text import clean_cell

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW = _NS + "row"
_C = _NS + "c"
_V = _NS + "v"
_F = _NS + "f"
_MERGE = _NS + "mergeCell"
_IS = _NS + "is"
_T = _NS + "t"
_R = _NS + "r"
_SI = _NS + "si"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PACKAGE_RELS = "_rels/.rels"

_RANGE = re.compile(r"([A-Z]{1,3})(\d{1,7}):([A-Z]{1,3})(\d{1,7})")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class WorkbookUnreadable(Exception):
    """The file is not a readable .xlsx workbook; `reason` says why, in Vietnamese."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def sheet_key(name: str) -> str:
    """How worksheet names are compared as a fallback: NFC, trimmed, case-insensitive."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def find_sheet_name(available: Iterable[str], wanted: str) -> str | None:
    """The worksheet title matching `wanted`: exact first, then by `sheet_key`."""
    names = list(available)
    if wanted in names:
        return wanted
    key = sheet_key(wanted)
    for name in names:
        if sheet_key(name) == key:
            return name
    return None


def read_workbook_grids(
    path: str | Path, sheet_names: Sequence[str], bounds: ReadBounds | None = None
) -> dict[str, Grid | None]:
    """Read the worksheets `sheet_names` of the workbook at `path`, within `bounds`.

    Returns, for every requested name, the worksheet's `Grid` (named with the worksheet's
    actual title) or None when the workbook has no such worksheet. Raises
    `WorkbookUnreadable` when the file is not a readable .xlsx (not a zip, HTML page,
    encrypted, old .xls, damaged) and `FileNotFoundError` when it does not exist.
    """
    path = Path(path)
    bounds = bounds or ReadBounds()
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise WorkbookUnreadable(f"không mở được tệp {path.name}: {exc.strerror or exc}") from exc
    with handle:
        _check_signature(handle, path.name)
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            raise WorkbookUnreadable(_load_failure_reason(exc, path.name)) from exc
        with archive:
            if _PACKAGE_RELS not in archive.namelist() and "xl/workbook.xml" not in archive.namelist():
                raise WorkbookUnreadable(
                    f"tệp {path.name} là tệp nén nhưng không phải bảng tính Excel (.xlsx)"
                )
            try:
                return _FastBook(archive).read(sheet_names, bounds)
            except Exception:  # anything unexpected: let openpyxl have a go, it knows more variants
                pass
        handle.seek(0)
        return _read_with_openpyxl(handle, path.name, sheet_names, bounds)


def _read_with_openpyxl(
    handle: BinaryIO, name: str, sheet_names: Sequence[str], bounds: ReadBounds
) -> dict[str, Grid | None]:
    """The slow path, for files the fast reader does not expect. It reads the workbook twice,
    values then formulas (a formula without a value is None in the first); merged ranges are
    not seen (openpyxl's read-only mode does not read them)."""
    try:
        with warnings.catch_warnings():
            # Google's files trigger harmless warnings (styles, extensions, validations).
            warnings.simplefilter("ignore")
            wb = load_workbook(handle, read_only=True, data_only=True, keep_links=False)
            handle.seek(0)
            formulas = load_workbook(handle, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:
        raise WorkbookUnreadable(_load_failure_reason(exc, name)) from exc
    try:
        titles = [ws.title for ws in wb.worksheets]
        result: dict[str, Grid | None] = {}
        for wanted in sheet_names:
            title = find_sheet_name(titles, wanted)
            if title is None:
                result[wanted] = None
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rows, beyond = _openpyxl_rows(wb[title], formulas[title], bounds)
            except Exception as exc:
                raise WorkbookUnreadable(
                    f"tệp {name} bị hỏng, không đọc được trang tính '{title}' ({type(exc).__name__})"
                ) from exc
            result[wanted] = Grid(_nfc(title), rows, bounds=(bounds.rows, bounds.columns), beyond=beyond)
        return result
    finally:
        wb.close()
        formulas.close()


# --------------------------------------------------------------------------- checks


def _check_signature(handle: BinaryIO, name: str) -> None:
    head = handle.read(512)
    handle.seek(0)
    if not head:
        raise WorkbookUnreadable(f"tệp {name} rỗng (0 byte), không phải bảng tính .xlsx")
    if head.startswith(_OLE_MAGIC):
        raise WorkbookUnreadable(
            f"tệp {name} được đặt mật khẩu (mã hóa) hoặc là định dạng Excel cũ (.xls); "
            "hãy lưu lại dạng .xlsx và không đặt mật khẩu"
        )
    if head.startswith(b"PK"):
        return
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text:
        raise WorkbookUnreadable(
            f"tệp {name} là một trang web (HTML), có thể là trang báo lỗi hoặc trang đăng nhập, "
            "không phải bảng tính .xlsx"
        )
    raise WorkbookUnreadable(f"tệp {name} không phải bảng tính .xlsx (không phải tệp nén Office Open XML)")


def _load_failure_reason(exc: Exception, name: str) -> str:
    if isinstance(exc, zipfile.BadZipFile):
        return f"tệp {name} bị hỏng hoặc tải về chưa trọn vẹn (tệp nén .xlsx không hợp lệ)"
    if isinstance(exc, KeyError | InvalidFileException):
        return f"tệp {name} là tệp nén nhưng không phải bảng tính Excel (.xlsx)"
    return f"tệp {name} không phải bảng tính .xlsx hợp lệ ({type(exc).__name__}: {_short(exc)})"


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."


# --------------------------------------------------------------------------- cells


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


class _FastBook:
    """The parts of an .xlsx package needed to read cell values, parsed with the standard library."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        workbook_part = _office_document(archive)
        root = _xml(archive, workbook_part)
        if root.tag != _NS + "workbook":
            raise ValueError(f"unexpected workbook root {root.tag}")
        props = root.find(_NS + "workbookPr")
        date1904 = props is not None and props.get("date1904", "0").lower() in ("1", "true")
        self.epoch = CALENDAR_MAC_1904 if date1904 else WINDOWS_EPOCH
        rels = _relationships(archive, workbook_part)
        self.sheets: list[tuple[str, str]] = []
        for sheet in root.iter(_NS + "sheet"):
            target = rels.get(sheet.get(_REL_ID, ""))
            if target is not None and target[0].endswith("/worksheet"):
                self.sheets.append((_nfc(sheet.get("name", "")), target[1]))
        by_type = {kind.rsplit("/", 1)[-1]: part for kind, part in rels.values()}
        self.strings_part = by_type.get("sharedStrings")
        self.styles_part = by_type.get("styles")
        self._strings: list[str] | None = None
        self.date_styles, self.timedelta_styles = _date_styles(archive, self.styles_part)

    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            self._strings = _shared_strings(self.archive, self.strings_part)
        return self._strings

    def read(self, sheet_names: Sequence[str], bounds: ReadBounds) -> dict[str, Grid | None]:
        parts = dict(self.sheets)
        titles = [title for title, _ in self.sheets]
        result: dict[str, Grid | None] = {}
        for wanted in sheet_names:
            title = find_sheet_name(titles, wanted)
            if title is None:
                result[wanted] = None
                continue
            with self.archive.open(parts[title]) as src:
                sheet = _parse_sheet_xml(
                    src, self.strings, self.date_styles, self.timedelta_styles, self.epoch, bounds
                )
            result[wanted] = Grid(
                title,
                cap_text(_trim(sheet.rows)),
                merges=tuple(sheet.merges),
                bounds=(bounds.rows, bounds.columns),
                beyond=sheet.beyond,
            )
        return result


def _xml(archive: zipfile.ZipFile, part: str) -> Any:
    return fromstring(archive.read(part))


def _office_document(archive: zipfile.ZipFile) -> str:
    names = set(archive.namelist())
    if _PACKAGE_RELS in names:
        for kind, part in _relationships(archive, "").values():
            if kind.endswith("/officeDocument"):
                return part
    return "xl/workbook.xml"


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationships of a part: id -> (type, target part path inside the zip)."""
    folder, _, name = part.rpartition("/")
    rels_part = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    if rels_part not in archive.namelist():
        return {}
    out = {}
    for rel in _xml(archive, rels_part):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        path = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(folder, target))
        )
        out[rel.get("Id", "")] = (rel.get("Type", ""), path)
    return out


def _shared_strings(archive: zipfile.ZipFile, part: str | None) -> list[str]:
    if part is None or part not in archive.namelist():
        return []
    strings: list[str] = []
    with archive.open(part) as src:
        for _event, el in iterparse(src, events=("end",)):
            if el.tag != _SI:
                continue
            texts = []
            for child in el:
                if child.tag == _T:
                    texts.append(child.text or "")
                elif child.tag == _R:
                    texts.append(child.findtext(_T) or "")
            strings.append(clean_cell("".join(texts)))
            el.clear()
    return strings


def _date_styles(archive: zipfile.ZipFile, part: str | None) -> tuple[set[int], set[int]]:
    """Indexes of the cell styles (`s` attribute) whose number format is a date or a duration."""
    if part is None or part not in archive.namelist():
        return set(), set()
    root = _xml(archive, part)
    custom = {}
    formats = root.find(_NS + "numFmts")
    if formats is not None:
        for fmt in formats:
            custom[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode", "")
    dates: set[int] = set()
    durations: set[int] = set()
    xfs = root.find(_NS + "cellXfs")
    for index, xf in enumerate(xfs if xfs is not None else []):
        fmt_id = int(xf.get("numFmtId", "0"))
        code = custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id)
        if code and is_date_format(code):
            dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
    return dates, durations


def _openpyxl_rows(ws: Any, formulas: Any, bounds: ReadBounds) -> tuple[list[list[Any]], Any]:
    """The rows of a worksheet within `bounds` and the first cell beyond them (or None)."""
    ws.reset_dimensions()
    formulas.reset_dimensions()
    rows = []
    beyond: tuple[int, int] | None = None
    pairs = zip(ws.iter_rows(values_only=True), formulas.iter_rows(values_only=True), strict=False)
    for index, (raw, written) in enumerate(pairs):
        if beyond is None:  # the first cell with content outside the bounds, in sheet order
            start = 0 if index >= bounds.rows else bounds.columns
            col = next((j for j in range(start, len(raw)) if raw[j] not in (None, "")), None)
            beyond = (index, col) if col is not None else None
        if index >= bounds.rows:
            if beyond is not None:
                break
            continue
        row = []
        for j, value in enumerate(raw[: bounds.columns]):
            if value is None and j < len(written) and isinstance(written[j], str) and written[j][:1] == "=":
                value = Formula(clean_cell(written[j]))
            elif isinstance(value, str):
                value = clean_cell(value) or None
            elif isinstance(value, dt.timedelta):
                value = value.total_seconds() / 86400
            row.append(value)
        rows.append(row)
    return cap_text(_trim(rows)), beyond


class _Sheet:
    """What the fast reader gives for a worksheet: its rows, merged ranges, first cell beyond."""

    __slots__ = ("rows", "merges", "beyond")

    def __init__(self) -> None:
        self.rows: list[list[Any]] = []
        self.merges: list[tuple[int, int, int, int]] = []
        self.beyond: tuple[int, int] | None = None


def _parse_sheet_xml(
    src: BinaryIO,
    strings: list[str],
    date_styles: set[int],
    timedelta_styles: set[int],
    epoch: Any,
    bounds: ReadBounds,
) -> _Sheet:
    sheet = _Sheet()
    rows = sheet.rows
    max_rows, max_cols = bounds.rows, bounds.columns
    col_cache: dict[str, int] = {}
    # The standard library's parser (expat) measured faster here than lxml's proxies.
    for _event, row_el in iterparse(src, events=("end",)):
        tag = row_el.tag
        if tag != _ROW:
            if tag == _MERGE:
                merge = _merge_range(row_el.get("ref", ""), col_cache, max_rows, max_cols)
                if merge is not None:
                    sheet.merges.append(merge)
            continue
        ref = row_el.get("r")
        index = int(ref) - 1 if ref else len(rows)
        if index >= max_rows and sheet.beyond is not None:  # nothing more to learn from its cells
            row_el.clear()
            continue
        values: list[Any] = []
        col = -1
        for cell in row_el:
            if cell.tag != _C:
                continue
            cref = cell.get("r")
            col = _column_index(cref, col_cache) if cref else col + 1
            if index >= max_rows or col >= max_cols:
                if sheet.beyond is None and (
                    _cell_value(cell, strings, date_styles, timedelta_styles, epoch) is not None
                ):
                    sheet.beyond = (index, col)
                continue
            value = _cell_value(cell, strings, date_styles, timedelta_styles, epoch)
            if value is None:
                continue
            if col >= len(values):
                values.extend([None] * (col + 1 - len(values)))
            values[col] = value
        row_el.clear()
        if index >= max_rows:
            continue
        if index >= len(rows):
            rows.extend([] for _ in range(index - len(rows)))
            rows.append(values)
        else:  # a repeated or out-of-order row element: merge its cells
            target = rows[index]
            for j, value in enumerate(values):
                if value is not None:
                    if j >= len(target):
                        target.extend([None] * (j + 1 - len(target)))
                    target[j] = value
    return sheet


def _merge_range(
    ref: str, cache: dict[str, int], max_rows: int, max_cols: int
) -> tuple[int, int, int, int] | None:
    """A merged range `G17:H17` as 0-based (r1, c1, r2, c2), cut to the bounds; None for one
    cell, a range outside the bounds or a reference that does not parse."""
    match = _RANGE.fullmatch(ref.replace("$", "").upper())
    if match is None:
        return None
    c1, r1 = _column_index(match[1], cache), int(match[2]) - 1
    c2, r2 = _column_index(match[3], cache), int(match[4]) - 1
    if (r1, c1) == (r2, c2) or r1 >= max_rows or c1 >= max_cols or r1 < 0 or c1 < 0:
        return None
    return r1, c1, min(r2, max_rows - 1), min(c2, max_cols - 1)


def _column_index(ref: str, cache: dict[str, int]) -> int:
    letters = ref.rstrip("0123456789")
    index = cache.get(letters)
    if index is None:
        index = 0
        for ch in letters.upper():
            index = index * 26 + (ord(ch) - 64)
        index -= 1
        cache[letters] = index
    return index


def _cell_value(
    cell: Any, strings: list[str], date_styles: set[int], timedelta_styles: set[int], epoch: Any
) -> Any:
    kind = cell.get("t")
    if kind == "inlineStr":
        inline = cell.find(_IS)
        if inline is None:
            return None
        parts = []
        for part in inline:
            if part.tag == _T:
                parts.append(part.text or "")
            elif part.tag == _R:
                parts.append(part.findtext(_T) or "")
        return clean_cell("".join(parts)) or None
    v = cell.find(_V)
    text = v.text if v is not None else None
    if not text:  # no value, or a formula without a cached result
        formula = cell.find(_F)
        # A cached empty text (`t="str"`, an empty <v>) is a value: "" from =IF(...;"").
        if formula is not None and (v is None or kind != "str"):
            return Formula("=" + clean_cell(formula.text or ""))
        return None
    if kind is None or kind == "n":
        number = _number(text)
        if isinstance(number, str):
            return number
        style = cell.get("s")
        if style and int(style) in date_styles and int(style) not in timedelta_styles:
            try:
                return from_excel(number, epoch)
            except (OverflowError, ValueError):
                return number
        return number
    if kind == "s":
        try:
            return strings[int(text)] or None
        except (IndexError, ValueError):
            return None
    if kind == "b":
        return text.strip() in ("1", "true", "TRUE")
    if kind == "d":
        try:
            return from_ISO8601(text)
        except ValueError:
            return text
    # "e" (formula error such as #REF!), "str" (formula text result) and anything else.
    return clean_cell(text) or None


def _number(text: str) -> int | float | str:
    try:
        if "." in text or "e" in text or "E" in text:
            return float(text)
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows
