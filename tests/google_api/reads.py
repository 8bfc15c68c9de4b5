"""Read endpoints of the fake Sheets v4 API: spreadsheet metadata and cell values.

- `GET /v4/spreadsheets/{key}`: the spreadsheet resource (properties, sheets' properties
  with grid sizes, their `merges`), filtered by the `fields` mask when given (`sheets.properties(title,
  sheetId)`, `spreadsheetId,sheets(properties(title))`, `*`...).
- `GET /v4/spreadsheets/{key}/values:batchGet`: `ranges` (repeated), `valueRenderOption`
  (FORMATTED_VALUE by default, UNFORMATTED_VALUE, FORMULA), `dateTimeRenderOption`
  (SERIAL_NUMBER by default, FORMATTED_STRING), `majorDimension` (ROWS, COLUMNS).
- `GET /v4/spreadsheets/{key}/values/{range}`: one range (what gspread's
  `get_all_values` calls).

As Google does: a whole-sheet range (`'BaoCao'` or `BaoCao`) answers with the sheet's
whole grid as its `range` (`BaoCao!A1:Z1000`); values drop trailing empty cells of each row
and trailing empty rows, and empty cells inside a row are ""; a range that names no
existing sheet is 400 "Unable to parse range: ...".
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from tests.google_api.server import (
    ApiError,
    FakeGoogle,
    FakeSheet,
    Request,
    Response,
    render_cell,
    route,
    trim,
)

KEY = r"(?P<key>[^/:]+)"


@route("GET", rf"/v4/spreadsheets/{KEY}")
def get_spreadsheet(google: FakeGoogle, request: Request) -> Response:
    spreadsheet = google.spreadsheet(unquote(request.match["key"]))
    resource = {
        "spreadsheetId": spreadsheet.key,
        "properties": {
            "title": spreadsheet.title,
            "locale": "vi_VN",
            "autoRecalc": "ON_CHANGE",
            "timeZone": "Asia/Ho_Chi_Minh",
        },
        "sheets": [
            {
                "properties": {
                    "sheetId": sheet.sheet_id,
                    "title": sheet.title,
                    "index": index,
                    "sheetType": "GRID",
                    "gridProperties": {"rowCount": sheet.row_count, "columnCount": sheet.column_count},
                },
                # As Google: `merges` only when the sheet has merged ranges.
                **(
                    {"merges": [{"sheetId": sheet.sheet_id, **m} for m in sheet.merges]}
                    if sheet.merges
                    else {}
                ),
            }
            for index, sheet in enumerate(spreadsheet.sheets)
        ],
        "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{spreadsheet.key}/edit",
    }
    mask = request.arg("fields")
    if mask:
        try:
            resource = apply_mask(resource, parse_mask(mask))
        except ValueError as exc:
            raise ApiError(400, f"Invalid field selection {mask}: {exc}") from exc
    return Response(200, resource)


@route("GET", rf"/v4/spreadsheets/{KEY}/values:batchGet")
def batch_get(google: FakeGoogle, request: Request) -> Response:
    spreadsheet = google.spreadsheet(unquote(request.match["key"]))
    options = _render_options(request)
    value_ranges = [
        _value_range(spreadsheet.sheets, text, *options) for text in request.query.get("ranges", [])
    ]
    body: dict[str, Any] = {"spreadsheetId": spreadsheet.key}
    if value_ranges:
        body["valueRanges"] = value_ranges
    return Response(200, body)


@route("GET", rf"/v4/spreadsheets/{KEY}/values/(?P<range>[^/]+)")
def get_values(google: FakeGoogle, request: Request) -> Response:
    spreadsheet = google.spreadsheet(unquote(request.match["key"]))
    return Response(
        200, _value_range(spreadsheet.sheets, unquote(request.match["range"]), *_render_options(request))
    )


# ---------------------------------------------------------------------- ranges


_CELLS = re.compile(r"(?P<c1>[A-Za-z]{0,3})(?P<r1>\d*)(?::(?P<c2>[A-Za-z]{0,3})(?P<r2>\d*))?")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _render_options(request: Request) -> tuple[str, str, str]:
    value = request.arg("valueRenderOption", "FORMATTED_VALUE") or "FORMATTED_VALUE"
    date = request.arg("dateTimeRenderOption", "SERIAL_NUMBER") or "SERIAL_NUMBER"
    major = request.arg("majorDimension", "ROWS") or "ROWS"
    if value not in ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"):
        raise ApiError(400, f"Invalid value at 'value_render_option' ({value})")
    if date not in ("SERIAL_NUMBER", "FORMATTED_STRING"):
        raise ApiError(400, f"Invalid value at 'date_time_render_option' ({date})")
    if major not in ("ROWS", "COLUMNS", "DIMENSION_UNSPECIFIED"):
        raise ApiError(400, f"Invalid value at 'major_dimension' ({major})")
    return value, date, major


def quote_title(title: str) -> str:
    """A sheet title as Google writes it in the `range` it answers."""
    if _PLAIN_NAME.fullmatch(title) and not _CELLS.fullmatch(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def split_range(text: str) -> tuple[str | None, str]:
    """`'Bao cáo'!A1:C3` -> ("Bao cáo", "A1:C3"); `BaoCao` -> ("BaoCao", ""); `A1:B2` -> (None, ...)."""
    if text.startswith("'"):
        i, name = 1, []
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] == "'":
                    name.append("'")
                    i += 2
                    continue
                break
            name.append(text[i])
            i += 1
        else:
            raise ValueError("unterminated quote")
        rest = text[i + 1 :]
        if rest and not rest.startswith("!"):
            raise ValueError("text after the quoted sheet name")
        return "".join(name), rest[1:]
    if "!" in text:
        sheet, cells = text.rsplit("!", 1)
        return sheet, cells
    return text, ""


def _value_range(sheets: list[FakeSheet], text: str, value_render: str, date_render: str, major: str):
    bad = ApiError(400, f"Unable to parse range: {text}")
    try:
        title, cells = split_range(text)
    except ValueError:
        raise bad from None
    by_title = {s.title: s for s in sheets}
    sheet = by_title.get(title) if title is not None else None
    if sheet is None and title is not None and not cells and _CELLS.fullmatch(title) and sheets:
        sheet, cells = sheets[0], title  # a bare A1 range: the first sheet
    if sheet is None:
        raise bad
    bounds = _bounds(cells, sheet) if cells else (0, 0, sheet.row_count - 1, sheet.column_count - 1)
    if bounds is None:
        raise bad
    r1, c1, r2, c2 = bounds
    rows = [
        [render_cell(v, value_render, date_render) for v in row[c1 : c2 + 1]]
        for row in sheet.rows[r1 : r2 + 1]
    ]
    values = trim(rows)
    if major == "COLUMNS" and values:
        width = max(len(r) for r in values)
        values = trim([[r[j] if j < len(r) else "" for r in values] for j in range(width)])
    out: dict[str, Any] = {
        "range": f"{quote_title(sheet.title)}!{_a1(r1, c1)}:{_a1(r2, c2)}",
        "majorDimension": "COLUMNS" if major == "COLUMNS" else "ROWS",
    }
    if values:
        out["values"] = values
    return out


def _bounds(cells: str, sheet: FakeSheet) -> tuple[int, int, int, int] | None:
    match = _CELLS.fullmatch(cells)
    if match is None or not cells:
        return None
    c1, r1, c2, r2 = match["c1"], match["r1"], match["c2"], match["r2"]
    if ":" not in cells:
        c2, r2 = c1, r1
    if not (c1 or r1):
        return None
    top = int(r1) - 1 if r1 else 0
    left = _col(c1) if c1 else 0
    bottom = int(r2) - 1 if r2 else sheet.row_count - 1
    right = _col(c2) if c2 else sheet.column_count - 1
    return top, left, max(top, bottom), max(left, right)


def _col(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _a1(row: int, col: int) -> str:
    letters, n = "", col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


# ---------------------------------------------------------------------- field masks


def parse_mask(text: str) -> dict[str, Any]:
    """A field mask (`a.b(c,d),e`) as a tree: {name: subtree or None (everything)}."""
    tree, pos = _parse_items(text.replace(" ", ""), 0)
    if pos != len(text.replace(" ", "")):
        raise ValueError(f"unexpected {text[pos:]!r}")
    return tree


def _parse_items(text: str, pos: int) -> tuple[dict[str, Any], int]:
    tree: dict[str, Any] = {}
    while True:
        path: list[str] = []
        while True:
            match = re.compile(r"[A-Za-z_*][A-Za-z0-9_]*").match(text, pos)
            if match is None:
                raise ValueError(f"a field name expected at {pos}")
            path.append(match.group(0))
            pos = match.end()
            if text.startswith(".", pos):
                pos += 1
                continue
            break
        sub: dict[str, Any] | None = None
        if text.startswith("(", pos):
            sub, pos = _parse_items(text, pos + 1)
            if not text.startswith(")", pos):
                raise ValueError(f"')' expected at {pos}")
            pos += 1
        node: dict[str, Any] | None = sub
        for name in reversed(path[1:]):
            node = {name: node}
        _merge(tree, path[0], node)
        if text.startswith(",", pos):
            pos += 1
            continue
        return tree, pos


def _merge(tree: dict[str, Any], name: str, node: dict[str, Any] | None) -> None:
    if name in tree:
        if tree[name] is None or node is None:
            tree[name] = None
        else:
            for key, value in node.items():
                _merge(tree[name], key, value)
    else:
        tree[name] = node


def apply_mask(value: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [apply_mask(v, tree) for v in value]
    if isinstance(value, dict):
        out = {k: apply_mask(value[k], sub) for k, sub in tree.items() if k in value}
        return {k: v for k, v in out.items() if v not in ({}, [])}
    return value
