"""A source that reads the units' worksheets from Google Sheets, economically.

Units are grouped by spreadsheet, and each spreadsheet costs at most two API requests
whatever the number of its units and worksheets: one metadata request (the worksheets'
titles, sizes and merged ranges) and one `values:batchGet` for every needed worksheet that
exists, each range within `ReadBounds` and one row and one column more (content there is named
in a warning; content further out is neither read nor seen). Google's quota is 60 read
requests per minute per service account, so twenty units cost about forty reads, and two
hundred units sharing one spreadsheet cost two. Google computes every formula, so a value
read from it is never a formula without its value (`Formula`), unlike a saved .xlsx.

Worksheet names match as in `workbook_io.find_sheet_name` (exact, then trimmed,
case-insensitive, NFC), so a workbook gives the same result from Google as when downloaded
as .xlsx and read by `LocalWorkbookSource`. Per unit: a worksheet or spreadsheet that does
not exist is `missing`; one that cannot be read (not shared, quota, Google's errors after
the client's retries, timeouts, a malformed answer) is `unreachable`, with a Vietnamese
reason; the other spreadsheets go on. A refused token or an unusable key raises
`SourceConfigError` (a configuration problem, once for the whole run).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from housing_report.collect.base import ReadBounds, SourceConfigError, cap_text, fetch_by_spreadsheet
from housing_report.collect.google_client import GoogleUnavailable
from housing_report.collect.google_client import service_account_email as service_account_email_of
from housing_report.collect.workbook_io import find_sheet_name
from housing_report.config import Unit
from housing_report.core.models import FetchResult, Grid, a1
from housing_report.core.statuses import FETCH_OK, MISSING, UNREACHABLE
from housing_report.core.text import clean_cell

log = logging.getLogger(__name__)

# One metadata request per spreadsheet: only the worksheets' titles, ids and sizes (a range read
# stays within the sheet's grid), and their merged ranges (a merge over value cells is reported
# to the unit).
METADATA_FIELDS = "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),merges)"

VALUE_PARAMS = {
    # Real numbers and text as stored, not as displayed ("1.234" in a vi_VN sheet): the
    # parser then sees what it sees in a downloaded .xlsx.
    "valueRenderOption": "UNFORMATTED_VALUE",
    # Dates as serial numbers (days since 30/12/1899), not FORMATTED_STRING: the formatted
    # text follows each cell's number format and the spreadsheet's locale (12/03/2025 in
    # vi_VN, 3/12/2025 in en_US), whereas a serial number is unambiguous, and
    # `validate.values.read_date` accepts one for the period and the date fields.
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "majorDimension": "ROWS",
}

_CELL = re.compile(r"\$?([A-Za-z]*)\$?(\d*)")


class GoogleSheetsSource:
    """`ReportSource` over Google Sheets through a gspread client from `google_client.make_client`."""

    def __init__(self, client: Any, service_account_email: str = "", bounds: ReadBounds | None = None):
        self.client = client
        self.bounds = bounds or ReadBounds()
        self.service_account_email = service_account_email or service_account_email_of(client)

    def __repr__(self) -> str:
        return f"GoogleSheetsSource({self.service_account_email!r})"

    def fetch(self, units: Sequence[Unit]) -> list[FetchResult]:
        return fetch_by_spreadsheet(units, self.fetch_spreadsheet)

    def fetch_spreadsheet(self, key: str, units: Sequence[Unit]) -> list[FetchResult]:
        """Every unit of one spreadsheet, in two requests at most."""
        from gspread.exceptions import APIError

        http = self.client.http_client
        try:
            metadata = http.fetch_sheet_metadata(key, params={"fields": METADATA_FIELDS})
            sheets = metadata.get("sheets", [])
            titles = [str(s["properties"]["title"]) for s in sheets]
            merges = {str(s["properties"]["title"]): s.get("merges", []) for s in sheets}
            sizes = {str(s["properties"]["title"]): s["properties"].get("gridProperties", {}) for s in sheets}
            found = {u.worksheet: find_sheet_name(titles, u.worksheet) for u in units}
            needed = list(dict.fromkeys(t for t in found.values() if t is not None))
            grids: dict[str, Grid] = {}
            if needed:
                params = dict(VALUE_PARAMS)
                wanted = [bounded_range(t, self.bounds, sizes[t]) for t in needed]
                answer = http.values_batch_get(key, wanted, params=params)
                ranges = answer.get("valueRanges", [])
                if len(ranges) != len(needed):
                    raise ValueError(f"{len(ranges)} vùng dữ liệu cho {len(needed)} trang tính")
                for title, value_range in zip(needed, ranges, strict=True):
                    grids[title] = grid_from_value_range(title, value_range, self.bounds, merges[title])
        except APIError as exc:
            return self._failed(key, units, *self._classify(key, exc))
        except GoogleUnavailable as exc:
            reason = (
                f"Không đọc được bảng tính '{key}' sau {exc.attempts} lần thử: {exc.reason}{_hint(exc.code)}"
            )
            return self._failed(key, units, UNREACHABLE, reason)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            reason = (
                f"Không đọc được bảng tính '{key}': Google trả dữ liệu không đúng dạng mong đợi "
                f"({type(exc).__name__}: {exc})"
            )
            return self._failed(key, units, UNREACHABLE, reason)
        read_at = dt.datetime.now(dt.UTC)
        out = []
        for unit in units:
            title = found[unit.worksheet]
            if title is None:
                reason = f"Không tìm thấy trang tính '{unit.worksheet}' trong bảng tính '{key}'"
                log.warning("%s (các trang tính hiện có: %s)", reason, ", ".join(titles) or "không có")
                out.append(FetchResult(unit.code, MISSING, reason=reason, read_at=read_at))
            else:
                out.append(FetchResult(unit.code, FETCH_OK, grid=grids[title], read_at=read_at))
        log.info("Đã đọc bảng tính %s: %d trang tính cho %d đơn vị", key, len(grids), len(units))
        return out

    def _classify(self, key: str, exc: Any) -> tuple[str, str]:
        status = exc.response.status_code
        message = _google_message(exc)
        if status == 403:
            if _is_disabled_api(exc):
                raise SourceConfigError(
                    "Google Sheets API chưa được bật cho dự án Google Cloud của tài khoản dịch vụ "
                    f"{self.service_account_email} ({message}). Hãy bật Google Sheets API (và Google "
                    "Drive API) trong Google Cloud Console, mục APIs & Services."
                ) from exc
            return UNREACHABLE, (
                f"Bảng tính {key} chưa được chia sẻ với {self.service_account_email}; hãy chia sẻ quyền "
                "xem (Viewer) cho địa chỉ này"
            )
        if status == 404:
            # docs/vi/mau-bao-cao.md, "Tình trạng": `missing` = no such sheet or worksheet. Google answers 404
            # only for a key that names no spreadsheet (an existing one not shared gives 403).
            return MISSING, (
                f"Không có bảng tính với mã {key} trên Google Sheets (Google trả 404). Hãy kiểm tra mã "
                "bảng tính trong units.yaml: phần giữa /d/ và /edit trong địa chỉ của bảng tính"
            )
        if status == 401:
            raise SourceConfigError(
                "Google không chấp nhận thông tin xác thực của tài khoản dịch vụ "
                f"{self.service_account_email} (HTTP 401: {message}). "
                "Hãy kiểm tra khóa JSON trong Connection google_sheets."
            ) from exc
        return UNREACHABLE, f"Không đọc được bảng tính '{key}': Google trả {status} ({message})"

    def _failed(self, key: str, units: Sequence[Unit], status: str, reason: str) -> list[FetchResult]:
        log.warning("Bảng tính %s (%d đơn vị): %s. %s", key, len(units), status, reason)
        read_at = dt.datetime.now(dt.UTC)
        return [FetchResult(u.code, status, reason=reason, read_at=read_at) for u in units]


def quote_title(title: str) -> str:
    """A worksheet title as a whole-sheet A1 range: always quoted, quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


def bounded_range(title: str, bounds: ReadBounds, size: dict[str, Any] | None = None) -> str:
    """The A1 range read of a worksheet: its first `bounds` rows and columns, and one more of each
    (`'BaoCao'!A1:AA1101`), so that content just beyond them is seen and named; never beyond
    the sheet's grid (`size`: its `gridProperties`, when known)."""
    size = size or {}
    rows = min(bounds.rows + 1, int(size.get("rowCount") or bounds.rows + 1))
    cols = min(bounds.columns + 1, int(size.get("columnCount") or bounds.columns + 1))
    return f"{quote_title(title)}!A1:{a1(max(rows, 1) - 1, max(cols, 1) - 1)}"


def range_start(a1_range: str) -> tuple[int, int]:
    """0-based (row, col) of the top-left cell of an answered range (`'Bao Cao'!B3:H40` -> (2, 1))."""
    _sheet, bang, cells = a1_range.rpartition("!")
    if not bang:  # a sheet name alone: the whole sheet, from A1
        return 0, 0
    first = cells.split(":", 1)[0]
    match = _CELL.fullmatch(first)
    if not first or match is None:
        return 0, 0
    letters, digits = match.groups()
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return (int(digits) - 1 if digits else 0), (col - 1 if letters else 0)


def grid_from_value_range(
    title: str,
    value_range: dict[str, Any],
    bounds: ReadBounds | None = None,
    merges: Sequence[dict[str, Any]] = (),
) -> Grid:
    """A `Grid` whose row i / column j are the sheet's row i+1 / column j+1, like `workbook_io`'s,
    cut to `bounds` (the first cell with content beyond them is recorded), with the sheet's
    merged ranges (Google's `GridRange`s: 0-based, ends excluded) within the bounds."""
    bounds = bounds or ReadBounds()
    max_rows, max_cols = bounds.rows, bounds.columns
    row0, col0 = range_start(str(value_range.get("range", "")))
    rows: list[list[Any]] = [[] for _ in range(min(row0, max_rows))]
    beyond: tuple[int, int] | None = None
    for i, raw in enumerate(value_range.get("values", [])):
        index = row0 + i
        cells = [None] * col0 + [_cell(v) for v in raw]
        if beyond is None:
            outside = range(len(cells)) if index >= max_rows else range(max_cols, len(cells))
            col = next((j for j in outside if cells[j] is not None), None)
            beyond = (index, col) if col is not None else None
        if index < max_rows:
            rows.append(cells[:max_cols])
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return Grid(
        _nfc(title),
        cap_text(rows),
        merges=tuple(
            (r1, c1, min(r2, max_rows - 1), min(c2, max_cols - 1))
            for r1, c1, r2, c2 in filter(None, map(_merge, merges))
            if r1 < max_rows and c1 < max_cols
        ),
        bounds=(max_rows, max_cols),
        beyond=beyond,
    )


def _merge(grid_range: Any) -> tuple[int, int, int, int] | None:
    """A `GridRange` as 0-based inclusive (r1, c1, r2, c2); None for one cell or a malformed one."""
    if not isinstance(grid_range, dict):
        return None
    r1, c1 = int(grid_range.get("startRowIndex", 0)), int(grid_range.get("startColumnIndex", 0))
    r2 = int(grid_range.get("endRowIndex", 10**7)) - 1
    c2 = int(grid_range.get("endColumnIndex", 10**5)) - 1
    if r2 < r1 or c2 < c1 or (r1, c1) == (r2, c2):
        return None
    return r1, c1, r2, c2


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return clean_cell(value) or None
    return value


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _google_message(exc: Any) -> str:
    error = getattr(exc, "error", None)
    message = error.get("message") if isinstance(error, dict) else None
    text = " ".join(str(message or exc.response.reason or "").split())
    return text if len(text) <= 200 else text[:197] + "..."


def _is_disabled_api(exc: Any) -> bool:
    error = getattr(exc, "error", None) or {}
    details = error.get("details") if isinstance(error, dict) else None
    reasons = {d.get("reason") for d in details or [] if isinstance(d, dict)}
    message = str(error.get("message", "")) if isinstance(error, dict) else ""
    return "SERVICE_DISABLED" in reasons or "has not been used in project" in message


def _hint(code: str) -> str:
    if code == "429":
        return " (vượt hạn mức đọc của Google: 60 yêu cầu mỗi phút cho một tài khoản dịch vụ)"
    if code.isdigit() and code.startswith("5"):
        return " (Google đang gặp sự cố tạm thời)"
    if code in ("timeout", "connection"):
        return " (mạng hoặc Google không trả lời kịp)"
    return ""
