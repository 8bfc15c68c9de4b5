"""Read worksheets of an .xlsx workbook (as Google Sheets' "Download as xlsx" makes it) into grids.

`read_workbook_grids` opens the workbook once and returns a `Grid` of raw cell values per
requested worksheet: str, int, float, bool, datetime/date/time or None. Formula cells give
their cached result (errors such as `#REF!` come through as strings), merged cells hold
their value in the top-left cell only, empty strings become None, strings are
NFC-normalised, and trailing empty rows and columns are dropped. Row `i` and column `j` of
a grid are always the sheet's row `i + 1` and column `j + 1`, so A1 addresses computed
from a grid are the sheet's own.

For speed the package is read with the standard library: the workbook's sheet list, shared
strings and date styles, then a streaming loop over the worksheet's XML (openpyxl, even in
read-only mode, spends most of its time building objects per cell and per shared string).
openpyxl supplies the number-format and date helpers, and reads the file itself (read-only,
values only, dimensions reset) whenever the fast reader meets something it does not expect;
a file neither can read raises `WorkbookUnreadable`.
"""

from __future__ import annotations

import datetime as dt
import posixpath
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

from housing_report.core.models import Grid

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW = _NS + "row"
_C = _NS + "c"
_V = _NS + "v"
_IS = _NS + "is"
_T = _NS + "t"
_R = _NS + "r"
_SI = _NS + "si"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PACKAGE_RELS = "_rels/.rels"

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


def read_workbook_grids(path: str | Path, sheet_names: Sequence[str]) -> dict[str, Grid | None]:
    """Read the worksheets `sheet_names` of the workbook at `path`.

    Returns, for every requested name, the worksheet's `Grid` (named with the worksheet's
    actual title) or None when the workbook has no such worksheet. Raises
    `WorkbookUnreadable` when the file is not a readable .xlsx (not a zip, HTML page,
    encrypted, old .xls, damaged) and `FileNotFoundError` when it does not exist.
    """
    path = Path(path)
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
                return _FastBook(archive).read(sheet_names)
            except Exception:  # anything unexpected: let openpyxl have a go, it knows more variants
                pass
        handle.seek(0)
        return _read_with_openpyxl(handle, path.name, sheet_names)


def _read_with_openpyxl(handle: BinaryIO, name: str, sheet_names: Sequence[str]) -> dict[str, Grid | None]:
    try:
        with warnings.catch_warnings():
            # Google's files trigger harmless warnings (styles, extensions, validations).
            warnings.simplefilter("ignore")
            wb = load_workbook(handle, read_only=True, data_only=True, keep_links=False)
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
                    rows = _openpyxl_rows(wb[title])
            except Exception as exc:
                raise WorkbookUnreadable(
                    f"tệp {name} bị hỏng, không đọc được trang tính '{title}' ({type(exc).__name__})"
                ) from exc
            result[wanted] = Grid(_nfc(title), rows)
        return result
    finally:
        wb.close()


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

    def read(self, sheet_names: Sequence[str]) -> dict[str, Grid | None]:
        parts = dict(self.sheets)
        titles = [title for title, _ in self.sheets]
        result: dict[str, Grid | None] = {}
        for wanted in sheet_names:
            title = find_sheet_name(titles, wanted)
            if title is None:
                result[wanted] = None
                continue
            with self.archive.open(parts[title]) as src:
                rows = _parse_sheet_xml(
                    src, self.strings, self.date_styles, self.timedelta_styles, self.epoch
                )
            result[wanted] = Grid(title, _trim(rows))
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
            strings.append(_nfc("".join(texts)))
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


def _openpyxl_rows(ws: Any) -> list[list[Any]]:
    ws.reset_dimensions()
    rows = []
    for raw in ws.iter_rows(values_only=True):
        row = []
        for value in raw:
            if isinstance(value, str):
                value = _nfc(value) or None
            elif isinstance(value, dt.timedelta):
                value = value.total_seconds() / 86400
            row.append(value)
        rows.append(row)
    return _trim(rows)


def _parse_sheet_xml(
    src: BinaryIO, strings: list[str], date_styles: set[int], timedelta_styles: set[int], epoch: Any
) -> list[list[Any]]:
    rows: list[list[Any]] = []
    col_cache: dict[str, int] = {}
    # The standard library's parser (expat) measured faster here than lxml's proxies.
    for _event, row_el in iterparse(src, events=("end",)):
        if row_el.tag != _ROW:
            continue
        ref = row_el.get("r")
        index = int(ref) - 1 if ref else len(rows)
        values: list[Any] = []
        col = -1
        for cell in row_el:
            if cell.tag != _C:
                continue
            cref = cell.get("r")
            col = _column_index(cref, col_cache) if cref else col + 1
            value = _cell_value(cell, strings, date_styles, timedelta_styles, epoch)
            if value is None:
                continue
            if col >= len(values):
                values.extend([None] * (col + 1 - len(values)))
            values[col] = value
        row_el.clear()
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
    return rows


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
        return _nfc("".join(parts)) or None
    text = cell.findtext(_V)
    if not text:  # no value, or a formula without a cached result
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
    return _nfc(text) or None


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
