"""Write endpoints of the fake Google APIs: what `housing_report.setup.provision` and
`housing_report.precheck.sheets` use.

Sheets v4: `POST /v4/spreadsheets/{key}:batchUpdate` with `addSheet`, `deleteSheet`,
`updateCells` (values, formulas, notes, `userEnteredFormat` or its parts; from `start`, or
into a `range` whose cells the rows do not cover are cleared), `repeatCell`,
`updateSheetProperties` (title, index, gridProperties, tabColorStyle, hidden),
`updateDimensionProperties`, `addProtectedRange`, `deleteProtectedRange`,
`addConditionalFormatRule`, `deleteConditionalFormatRule`, `setDataValidation` (atomic, as
Google: one bad request and nothing is applied; an unknown request is a 400). As Google: a cell
beyond the sheet's grid is a 400; a cell protected against the sender (not among the range's
editors nor the one who added it) is a 400 "You are trying to edit a protected cell or
object..."; a spreadsheet shared read-only (`google.read_only(key)`) answers 403. Every
accepted batchUpdate moves the file's Drive `modifiedTime` (`google.touch`), the sender as
its last modifying user.
Drive v3: `GET/POST /drive/v3/files` (list by name, parent, mimeType and `modifiedTime`
comparisons, with `fields` and paging; create a spreadsheet) and
`GET/POST /drive/v3/files/{id}/permissions`.

State kept in `google.state`:
- `drive_files[key]`: `{"parents": [...], "createdTime": iso}` for spreadsheets created here;
- `permissions[key]`: list of `{"id", "type", "role", "emailAddress"}`; each new permission is
  also appended to `shared` as `(key, email, role, sendNotificationEmail)`;
- `protected_ranges[key]`: list of protected ranges as given, with `protectedRangeId`
  (`protected_creators[id]`: who added each);
- `validations[key][sheet_id][(row, col)]`: the data validation rule of each cell.
Notes, formats, formulas, conditional formats and sheet properties live on the `FakeSheet`.
The read route `GET /v4/spreadsheets/{key}` of `reads.py` is wrapped here
(`_with_protected_ranges`) so that its answer carries the protected ranges, conditional
formats, tab colours, and the cells (`sheets.data`: values, formulas, formats, notes) when the
`fields` mask asks for them, the mask applied after.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import re
import uuid
from dataclasses import dataclass
from typing import Any

from tests.google_api import reads
from tests.google_api.server import (
    ROUTES,
    ApiError,
    FakeGoogle,
    FakeSheet,
    Request,
    Response,
    grid_contains,
    render_cell,
    route,
    serial_number,
    trim,
)

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
_ids = itertools.count(1_000_000)


def _state(google: FakeGoogle, name: str) -> dict[str, Any]:
    with google.lock:
        return google.state.setdefault(name, {})


def protected_ranges_of(google: FakeGoogle, key: str, sheet_id: int) -> list[dict[str, Any]]:
    """The protected ranges of one worksheet, as `spreadsheets.get` shows them."""
    ranges = _state(google, "protected_ranges").get(key, [])
    return [copy.deepcopy(p) for p in ranges if p["range"].get("sheetId", 0) == sheet_id]


def validation_at(google: FakeGoogle, key: str, sheet_id: int, row: int, col: int) -> dict[str, Any] | None:
    """The data validation rule of one cell (0-based), or None."""
    return _state(google, "validations").get(key, {}).get(sheet_id, {}).get((row, col))


# --------------------------------------------------------------------------- Sheets batchUpdate


PROTECTED_MESSAGE = (
    "You are trying to edit a protected cell or object. Please contact the spreadsheet owner to "
    "remove protection if you need to edit."
)


@dataclass
class _Batch:
    """The copy of a spreadsheet's state one `batchUpdate` works on (applied only when all its
    requests are valid), and who sends it."""

    key: str
    sheets: list[FakeSheet]
    protected: list[dict[str, Any]]
    validations: dict[int, dict[tuple[int, int], dict[str, Any]]]
    creators: dict[int, str]  # protectedRangeId -> who added it (always one of its editors)
    requester: str


@route("POST", r"/v4/spreadsheets/(?P<key>[^/:]+):batchUpdate")
def batch_update(google: FakeGoogle, request: Request) -> Response:
    key = request.match["key"]  # type: ignore[index]
    spreadsheet = google.spreadsheet(key)
    with google.lock:
        if key in google.read_only_keys:
            raise ApiError(403, "The caller does not have permission")
    body = request.json()
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise ApiError(400, "Must specify at least one request.")
    requester = google.requester(request)
    with google.lock:
        batch = _Batch(
            key,
            copy.deepcopy(spreadsheet.sheets),
            copy.deepcopy(_state(google, "protected_ranges").get(key, [])),
            copy.deepcopy(_state(google, "validations").get(key, {})),
            dict(_state(google, "protected_creators")),
            requester,
        )
        replies = []
        for i, item in enumerate(requests):
            if not isinstance(item, dict) or len(item) != 1:
                raise ApiError(400, f"Invalid requests[{i}]: exactly one kind of request is required.")
            ((kind, spec),) = item.items()
            handler = _REQUESTS.get(kind)
            if handler is None:
                raise ApiError(
                    400, f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]'."
                )
            replies.append(handler(batch, spec, i))
        spreadsheet.sheets = batch.sheets  # atomic: applied only when every request was valid
        _state(google, "protected_ranges")[key] = batch.protected
        _state(google, "validations")[key] = batch.validations
        _state(google, "protected_creators").update(batch.creators)
    google.touch(key, by=requester)  # Drive's modifiedTime follows every change
    return Response(200, {"spreadsheetId": key, "replies": replies})


def _sheet(sheets: list[FakeSheet], sheet_id: Any, i: int) -> FakeSheet:
    for sheet in sheets:
        if sheet.sheet_id == (sheet_id or 0):
            return sheet
    raise ApiError(400, f"Invalid requests[{i}]: No grid with id: {sheet_id}")


def can_edit(protected: dict[str, Any], creators: dict[int, str], email: str) -> bool:
    """Whether `email` may edit a protected range: one of its editors, or the one who added it."""
    if protected.get("warningOnly"):
        return True
    users = {str(u).lower() for u in (protected.get("editors") or {}).get("users", [])}
    return email.lower() in users or creators.get(protected.get("protectedRangeId", -1), "") == email


def _check_editable(batch: _Batch, sheet: FakeSheet, cells: Any, i: int) -> None:
    """400 as Google answers when a request would change a cell protected against the sender."""
    guards = [
        p
        for p in batch.protected
        if p["range"].get("sheetId", 0) == sheet.sheet_id and not can_edit(p, batch.creators, batch.requester)
    ]
    if not guards:
        return
    for r, c in cells:
        if any(grid_contains(p["range"], r, c) for p in guards):
            raise ApiError(400, f"Invalid requests[{i}]: {PROTECTED_MESSAGE}")


def _add_sheet(batch, spec, i):
    sheets = batch.sheets
    props = copy.deepcopy(dict(spec.get("properties") or {}))
    title = props.get("title")
    if not title:
        raise ApiError(400, f"Invalid requests[{i}].addSheet: a sheet needs a title.")
    if any(s.title.lower() == str(title).lower() for s in sheets):
        raise ApiError(
            400,
            f'Invalid requests[{i}].addSheet: A sheet with the name "{title}" already exists. '
            "Please enter another name.",
        )
    sheet_id = props.get("sheetId")
    if sheet_id is None:
        sheet_id = max([s.sheet_id for s in sheets] + [0]) + 1
    if any(s.sheet_id == sheet_id for s in sheets):
        raise ApiError(400, f"Invalid requests[{i}].addSheet: Sheet with id {sheet_id} already exists.")
    index = props.get("index", len(sheets))
    sheet = FakeSheet(int(sheet_id), str(title), [])
    sheet.properties = {k: v for k, v in props.items() if k in ("gridProperties", "tabColorStyle", "hidden")}
    sheets.insert(min(int(index), len(sheets)), sheet)
    props.update(sheetId=sheet_id, title=title, index=index, sheetType="GRID")
    props.setdefault("gridProperties", {"rowCount": sheet.row_count, "columnCount": sheet.column_count})
    return {"addSheet": {"properties": props}}


def _delete_sheet(batch, spec, i):
    sheets = batch.sheets
    sheet = _sheet(sheets, spec.get("sheetId"), i)
    if len(sheets) == 1:
        raise ApiError(
            400, f"Invalid requests[{i}].deleteSheet: You can't remove all the sheets in a document."
        )
    sheets.remove(sheet)
    batch.protected[:] = [p for p in batch.protected if p["range"].get("sheetId", 0) != sheet.sheet_id]
    batch.validations.pop(sheet.sheet_id, None)
    return {}


_HYPERLINK = re.compile(r'=\s*HYPERLINK\(\s*"((?:[^"]|"")*)"\s*[;,]\s*"((?:[^"]|"")*)"\s*\)', re.IGNORECASE)


def _formula_result(formula: str) -> Any:
    """The value a formula shows: HYPERLINK's label; the formula's text for any other (the fake
    computes nothing else)."""
    match = _HYPERLINK.fullmatch(formula.strip())
    if match:
        return match[2].replace('""', '"')
    return formula


def _cell_value(cell: dict[str, Any]) -> Any:
    value = cell.get("userEnteredValue")
    if not value:
        return None
    for name in ("stringValue", "numberValue", "boolValue"):
        if name in value:
            return value[name]
    if "formulaValue" in value:
        return _formula_result(value["formulaValue"])
    return None


def _fields(mask: str, i: int, kind: str) -> set[str]:
    """The fields an `updateCells`/`repeatCell` writes: `userEnteredValue`, `note`,
    `userEnteredFormat` or its parts (`userEnteredFormat.backgroundColor`); `*` for all."""
    if not mask:
        raise ApiError(400, f"Invalid requests[{i}].{kind}: At least one field must be listed in 'fields'.")
    out = {f.strip() for f in mask.split(",") if f.strip()}
    if "*" in out:
        return {"userEnteredValue", "note", "userEnteredFormat"}
    for f in out:
        if f not in ("userEnteredValue", "note", "userEnteredFormat") and not f.startswith(
            "userEnteredFormat."
        ):
            raise ApiError(400, f"Invalid requests[{i}].{kind}: unsupported field '{f}' in the fake.")
    return out


def _write_cell(sheet: FakeSheet, r: int, c: int, cell: dict[str, Any], fields: set[str]) -> None:
    if "userEnteredValue" in fields:
        while len(sheet.rows) <= r:
            sheet.rows.append([])
        while len(sheet.rows[r]) <= c:
            sheet.rows[r].append(None)
        sheet.rows[r][c] = _cell_value(cell)
        formula = (cell.get("userEnteredValue") or {}).get("formulaValue")
        if formula is None:
            sheet.formulas.pop((r, c), None)
        else:
            sheet.formulas[(r, c)] = formula
    if "note" in fields:
        if cell.get("note"):
            sheet.notes[(r, c)] = str(cell["note"])
        else:
            sheet.notes.pop((r, c), None)
    given = cell.get("userEnteredFormat") or {}
    if "userEnteredFormat" in fields:
        if given:
            sheet.formats[(r, c)] = copy.deepcopy(given)
        else:
            sheet.formats.pop((r, c), None)
    else:
        parts = [f.split(".", 1)[1] for f in fields if f.startswith("userEnteredFormat.")]
        if parts:
            fmt = sheet.formats.setdefault((r, c), {})
            for part in parts:
                top = part.split(".", 1)[0]
                if top in given:
                    fmt[top] = copy.deepcopy(given[top])
                else:
                    fmt.pop(top, None)
            if not fmt:
                sheet.formats.pop((r, c), None)


def _content_cells(sheet: FakeSheet) -> set[tuple[int, int]]:
    cells = {(r, c) for r, row in enumerate(sheet.rows) for c, v in enumerate(row) if v is not None}
    return cells | set(sheet.notes) | set(sheet.formats) | set(sheet.formulas)


def _check_grid(sheet: FakeSheet, r: int, c: int, i: int, kind: str) -> None:
    if r >= sheet.row_count:
        raise ApiError(
            400,
            f"Invalid requests[{i}].{kind}: GridCoordinate.rowIndex[{r}] is after last row in grid"
            f"[{sheet.row_count - 1}]",
        )
    if c >= sheet.column_count:
        raise ApiError(
            400,
            f"Invalid requests[{i}].{kind}: GridCoordinate.columnIndex[{c}] is after last column in "
            f"grid[{sheet.column_count - 1}]",
        )


def _update_cells(batch, spec, i):
    """`updateCells`: `rows` written from `start`, or into `range` (its cells the rows do not cover
    are cleared for the listed fields), as Google does."""
    start, grid = spec.get("start"), spec.get("range")
    if (start is None) == (grid is None):
        raise ApiError(400, f"Invalid requests[{i}].updateCells: exactly one of start or range is required.")
    fields = _fields(spec.get("fields", ""), i, "updateCells")
    sheet = _sheet(batch.sheets, (start or grid).get("sheetId"), i)
    r0 = int((start or grid).get("rowIndex" if start else "startRowIndex", 0))
    c0 = int((start or grid).get("columnIndex" if start else "startColumnIndex", 0))
    writes: dict[tuple[int, int], dict[str, Any]] = {}
    for dr, row in enumerate(spec.get("rows") or []):
        for dc, cell in enumerate(row.get("values") or []):
            writes[(r0 + dr, c0 + dc)] = cell or {}
    if grid is not None:
        bounded = {**grid, "startRowIndex": r0, "startColumnIndex": c0}
        outside = [p for p in writes if not grid_contains(bounded, *p)]
        if outside:
            raise ApiError(400, f"Invalid requests[{i}].updateCells: the rows do not fit in the range.")
        for position in _content_cells(sheet):
            if grid_contains(bounded, *position):
                writes.setdefault(position, {})
    for r, c in writes:
        _check_grid(sheet, r, c, i, "updateCells")
    _check_editable(batch, sheet, writes, i)
    for (r, c), cell in writes.items():
        _write_cell(sheet, r, c, cell, fields)
    sheet.rows[:] = trim(sheet.rows)
    return {}


def _repeat_cell(batch, spec, i):
    """`repeatCell`: one cell's fields written to every cell of `range` (its cells with content
    when the range is unbounded)."""
    grid = spec.get("range") or {}
    fields = _fields(spec.get("fields", ""), i, "repeatCell")
    sheet = _sheet(batch.sheets, grid.get("sheetId"), i)
    r0, c0 = int(grid.get("startRowIndex", 0)), int(grid.get("startColumnIndex", 0))
    r1 = int(grid.get("endRowIndex", sheet.row_count))
    c1 = int(grid.get("endColumnIndex", sheet.column_count))
    cells = [(r, c) for r in range(r0, r1) for c in range(c0, c1)]
    for r, c in cells[:1] + cells[-1:]:
        _check_grid(sheet, r, c, i, "repeatCell")
    _check_editable(batch, sheet, cells, i)
    for r, c in cells:
        _write_cell(sheet, r, c, spec.get("cell") or {}, fields)
    sheet.rows[:] = trim(sheet.rows)
    return {}


def _update_sheet_properties(batch, spec, i):
    props = spec.get("properties") or {}
    mask = [f.strip() for f in str(spec.get("fields") or "").split(",") if f.strip()]
    if not mask:
        raise ApiError(400, f"Invalid requests[{i}].updateSheetProperties: fields is required.")
    sheet = _sheet(batch.sheets, props.get("sheetId"), i)
    for name in mask:
        path = name.split(".")
        if path[0] == "title":
            title = str(props.get("title") or "")
            if not title or any(s is not sheet and s.title.lower() == title.lower() for s in batch.sheets):
                raise ApiError(400, f"Invalid requests[{i}].updateSheetProperties: invalid title {title!r}.")
            sheet.title = title
        elif path[0] == "index":
            batch.sheets.remove(sheet)
            batch.sheets.insert(min(int(props.get("index", 0)), len(batch.sheets)), sheet)
        elif path[0] in ("gridProperties", "tabColorStyle", "tabColor", "hidden"):
            source: Any = props
            target = sheet.properties
            for part in path[:-1]:
                source = (source or {}).get(part)
                target = target.setdefault(part, {})
            value = (source or {}).get(path[-1])
            if value is None:
                target.pop(path[-1], None)
            else:
                target[path[-1]] = copy.deepcopy(value)
        else:
            raise ApiError(400, f"Invalid requests[{i}].updateSheetProperties: unsupported field '{name}'.")
    rows = sheet.properties.get("gridProperties", {}).get("rowCount")
    if rows is not None and int(rows) < 1:
        raise ApiError(400, f"Invalid requests[{i}].updateSheetProperties: rowCount must be positive.")
    if rows is not None:  # shrinking the grid deletes the rows beyond it
        sheet.rows[:] = sheet.rows[: int(rows)]
        for store in (sheet.notes, sheet.formats, sheet.formulas):
            for position in [p for p in store if p[0] >= int(rows)]:
                del store[position]
    return {}


def _update_dimension_properties(batch, spec, i):
    dimension_range = spec.get("range") or {}
    _sheet(batch.sheets, dimension_range.get("sheetId"), i)
    if dimension_range.get("dimension") not in ("ROWS", "COLUMNS") or not spec.get("fields"):
        raise ApiError(
            400, f"Invalid requests[{i}].updateDimensionProperties: dimension and fields are required."
        )
    return {}


def _add_protected_range(batch, spec, i):
    given = copy.deepcopy(spec.get("protectedRange") or {})
    grid = given.get("range")
    if grid is None and "namedRangeId" not in given:
        raise ApiError(400, f"Invalid requests[{i}].addProtectedRange: a range is required.")
    _sheet(batch.sheets, (grid or {}).get("sheetId"), i)
    if given.get("warningOnly") and given.get("editors"):
        raise ApiError(
            400, f"Invalid requests[{i}].addProtectedRange: editors are not supported with warningOnly."
        )
    given["protectedRangeId"] = next(_ids)
    given.setdefault("warningOnly", False)
    given["requestingUserCanEdit"] = True
    batch.protected.append(given)
    batch.creators[given["protectedRangeId"]] = batch.requester
    return {"addProtectedRange": {"protectedRange": copy.deepcopy(given)}}


def _delete_protected_range(batch, spec, i):
    wanted = spec.get("protectedRangeId")
    found = next((p for p in batch.protected if p.get("protectedRangeId") == wanted), None)
    if found is None:
        raise ApiError(
            400, f"Invalid requests[{i}].deleteProtectedRange: No protected range with id: {wanted}"
        )
    if not can_edit(found, batch.creators, batch.requester):
        raise ApiError(400, f"Invalid requests[{i}]: {PROTECTED_MESSAGE}")
    batch.protected.remove(found)
    return {}


def _add_conditional_format_rule(batch, spec, i):
    rule = copy.deepcopy(spec.get("rule") or {})
    ranges = rule.get("ranges") or []
    if not ranges:
        raise ApiError(400, f"Invalid requests[{i}].addConditionalFormatRule: the rule needs ranges.")
    if ("booleanRule" in rule) == ("gradientRule" in rule):
        raise ApiError(
            400,
            f"Invalid requests[{i}].addConditionalFormatRule: exactly one of booleanRule or gradientRule.",
        )
    condition = (rule.get("booleanRule") or {}).get("condition") or {}
    if "booleanRule" in rule and not condition.get("type"):
        raise ApiError(400, f"Invalid requests[{i}].addConditionalFormatRule: condition.type is required.")
    sheet_ids = {int(g.get("sheetId", 0)) for g in ranges}
    if len(sheet_ids) != 1:
        raise ApiError(
            400, f"Invalid requests[{i}].addConditionalFormatRule: all ranges must be on one sheet."
        )
    sheet = _sheet(batch.sheets, sheet_ids.pop(), i)
    index = int(spec.get("index", 0))
    if not 0 <= index <= len(sheet.conditional_formats):
        raise ApiError(400, f"Invalid requests[{i}].addConditionalFormatRule: index {index} out of range.")
    sheet.conditional_formats.insert(index, rule)
    return {}


def _delete_conditional_format_rule(batch, spec, i):
    sheet = _sheet(batch.sheets, spec.get("sheetId"), i)
    index = int(spec.get("index", 0))
    if not 0 <= index < len(sheet.conditional_formats):
        raise ApiError(
            400, f"Invalid requests[{i}].deleteConditionalFormatRule: No conditional format at index {index}."
        )
    return {"deleteConditionalFormatRule": {"rule": sheet.conditional_formats.pop(index)}}


def _set_data_validation(batch, spec, i):
    grid = spec.get("range") or {}
    sheet = _sheet(batch.sheets, grid.get("sheetId"), i)
    rule = spec.get("rule")
    condition = (rule or {}).get("condition") or {}
    if rule is not None and not condition.get("type"):
        raise ApiError(400, f"Invalid requests[{i}].setDataValidation: rule.condition.type is required.")
    cells = batch.validations.setdefault(sheet.sheet_id, {})
    for r in range(int(grid.get("startRowIndex", 0)), int(grid.get("endRowIndex", sheet.row_count))):
        for c in range(
            int(grid.get("startColumnIndex", 0)), int(grid.get("endColumnIndex", sheet.column_count))
        ):
            if rule is None:
                cells.pop((r, c), None)
            else:
                cells[(r, c)] = copy.deepcopy(rule)
    return {}


_REQUESTS = {
    "addSheet": _add_sheet,
    "deleteSheet": _delete_sheet,
    "updateCells": _update_cells,
    "repeatCell": _repeat_cell,
    "updateSheetProperties": _update_sheet_properties,
    "updateDimensionProperties": _update_dimension_properties,
    "addProtectedRange": _add_protected_range,
    "deleteProtectedRange": _delete_protected_range,
    "addConditionalFormatRule": _add_conditional_format_rule,
    "deleteConditionalFormatRule": _delete_conditional_format_rule,
    "setDataValidation": _set_data_validation,
}


# --------------------------------------------------------------------------- Drive files

_NAME_RE = re.compile(r"name\s*=\s*'((?:[^'\\]|\\.)*)'|name\s*=\s*\"((?:[^\"\\]|\\.)*)\"")
_PARENT_RE = re.compile(r"'((?:[^'\\]|\\.)*)'\s+in\s+parents")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


_TIME_RE = re.compile(r"modifiedTime\s*(<=|>=|<|>|=)\s*'([^']*)'")
_MIME_RE = re.compile(r"mimeType\s*=\s*'([^']*)'")


def drive_time(moment: dt.datetime) -> str:
    """Drive's RFC 3339 form of a time: UTC, milliseconds, `Z`."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _parse_time(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"Invalid Value: {text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
}


@route("GET", r"/drive/v3/files")
def list_files(google: FakeGoogle, request: Request) -> Response:
    """files.list: the spreadsheets the service account sees, filtered by the query's
    `name = '...'`, `'...' in parents`, `mimeType = '...'` and `modifiedTime > '...'` (also
    `<`, `<=`, `>=`, `=`); `fields` applied; `pageSize` (100 by default, 1000 at most) and
    `pageToken` paging. Each file's `modifiedTime` and `lastModifyingUser` (`me` when the
    caller made the last change) come from `google.modified`."""
    q = request.arg("q", "") or ""
    name_match = _NAME_RE.search(q)
    name = _unescape(name_match.group(1) or name_match.group(2) or "") if name_match else None
    parent_match = _PARENT_RE.search(q)
    parent = _unescape(parent_match.group(1)) if parent_match else None
    mime_match = _MIME_RE.search(q)
    times = [(op, _parse_time(text)) for op, text in _TIME_RE.findall(q)]
    try:
        size = int(request.arg("pageSize", "100") or 100)
        offset = int(request.arg("pageToken", "0") or 0)
    except ValueError:
        raise ApiError(400, "Invalid pageSize or pageToken.") from None
    if not 1 <= size <= 1000:
        raise ApiError(400, f"Invalid Value at pageSize: {size}")
    files_state = _state(google, "drive_files")
    me = google.requester(request)
    with google.lock:
        spreadsheets = [s for s in google.spreadsheets.values() if s.key not in google.forbidden]
        modified = dict(google.modified)
    files = []
    for s in spreadsheets:
        meta = files_state.get(s.key, {})
        if name is not None and s.title != name:
            continue
        if parent is not None and parent not in meta.get("parents", []):
            continue
        if mime_match is not None and mime_match.group(1) != SPREADSHEET_MIME:
            continue
        when, by = modified.get(s.key, (dt.datetime(2025, 1, 1, tzinfo=dt.UTC), ""))
        when_text = drive_time(when)
        # Drive compares the times it keeps (milliseconds) with the query's.
        if not all(_COMPARE[op](_parse_time(when_text), moment) for op, moment in times):
            continue
        files.append(
            {
                "kind": "drive#file",
                "id": s.key,
                "name": s.title,
                "mimeType": SPREADSHEET_MIME,
                "createdTime": meta.get("createdTime", "2025-01-01T00:00:00.000Z"),
                "modifiedTime": when_text,
                "lastModifyingUser": {
                    "kind": "drive#user",
                    "displayName": by.split("@", 1)[0],
                    "emailAddress": by,
                    "me": bool(me) and by == me,
                },
            }
        )
    files.sort(key=lambda f: f["createdTime"])
    body: dict[str, Any] = {
        "kind": "drive#fileList",
        "incompleteSearch": False,
        "files": files[offset : offset + size],
    }
    if offset + size < len(files):
        body["nextPageToken"] = str(offset + size)
    mask = request.arg("fields")
    if mask:
        try:
            body = reads.apply_mask(body, reads.parse_mask(mask))
        except ValueError as exc:
            raise ApiError(400, f"Invalid field selection {mask}: {exc}") from exc
        body.setdefault("files", [])  # as Drive: an empty list is still there when asked for
    return Response(200, body)


@route("POST", r"/drive/v3/files")
def create_file(google: FakeGoogle, request: Request) -> Response:
    """files.create of an empty Google spreadsheet (one worksheet "Trang tính1", id 0)."""
    body = request.json()
    if body.get("mimeType") != SPREADSHEET_MIME:
        raise ApiError(400, "Only Google spreadsheets can be created here.")
    name = str(body.get("name") or "Untitled spreadsheet")
    parents = list(body.get("parents") or [])
    with google.lock:
        no_storage = google.state.get("service_account_has_no_storage")
    if no_storage and not parents:
        raise ApiError(
            403,
            "Service Accounts do not have storage quota. Leverage shared drives "
            "(https://developers.google.com/workspace/drive/api/guides/about-shareddrives), "
            "or use OAuth delegation instead.",
        )
    key = "1" + uuid.uuid4().hex + "fake"
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    google.add_spreadsheet(key, {"Trang tính1": []}, title=name)
    _state(google, "drive_files")[key] = {"parents": parents, "createdTime": created}
    return Response(200, {"kind": "drive#file", "id": key, "name": name, "mimeType": SPREADSHEET_MIME})


# --------------------------------------------------------------------------- Drive permissions


def _permissions(google: FakeGoogle, key: str) -> list[dict[str, Any]]:
    google.spreadsheet(key)  # 404/403 as Drive would
    return _state(google, "permissions").setdefault(key, [])


@route("GET", r"/drive/v3/files/(?P<key>[^/]+)/permissions")
def list_permissions(google: FakeGoogle, request: Request) -> Response:
    key = request.match["key"]  # type: ignore[index]
    with google.lock:
        permissions = copy.deepcopy(_permissions(google, key))
    return Response(200, {"kind": "drive#permissionList", "permissions": permissions})


@route("POST", r"/drive/v3/files/(?P<key>[^/]+)/permissions")
def create_permission(google: FakeGoogle, request: Request) -> Response:
    key = request.match["key"]  # type: ignore[index]
    body = request.json()
    kind, role, email = body.get("type"), body.get("role"), body.get("emailAddress")
    if kind not in ("user", "group", "domain", "anyone") or role not in (
        "reader",
        "commenter",
        "writer",
        "fileOrganizer",
        "organizer",
        "owner",
    ):
        raise ApiError(400, "Invalid permission type or role.")
    if kind in ("user", "group") and not email:
        raise ApiError(400, "The permission requires an emailAddress.")
    notify = (request.arg("sendNotificationEmail", "true") or "true").lower()
    if notify not in ("true", "false"):
        raise ApiError(400, f"Invalid value for sendNotificationEmail: {notify}")
    with google.lock:
        permissions = _permissions(google, key)
        for p in permissions:
            if email and str(p.get("emailAddress", "")).lower() == str(email).lower():
                p["role"] = role
                return Response(200, {"kind": "drive#permission", **p})
        permission = {"id": f"perm{next(_ids)}", "type": kind, "role": role, "emailAddress": email}
        permissions.append(permission)
        google.state.setdefault("shared", []).append((key, email, role, notify == "true"))
    return Response(200, {"kind": "drive#permission", **permission})


# --------------------------------------------------------------------------- metadata


def _grid_data(sheet: FakeSheet) -> dict[str, Any]:
    """The sheet's cells as Google's `GridData` (every cell from A1 to the last with content;
    an empty cell is `{}`)."""
    cells = {(r, c) for r, row in enumerate(sheet.rows) for c, v in enumerate(row) if v is not None}
    cells |= set(sheet.notes) | set(sheet.formats) | set(sheet.formulas)
    height = max((r for r, _c in cells), default=-1) + 1
    row_data = []
    for r in range(height):
        width = max((c for rr, c in cells if rr == r), default=-1) + 1
        values = []
        for c in range(width):
            value = sheet.rows[r][c] if r < len(sheet.rows) and c < len(sheet.rows[r]) else None
            cell: dict[str, Any] = {}
            if value is not None:
                typed = _typed(value)
                formula = sheet.formulas.get((r, c))
                cell["userEnteredValue"] = {"formulaValue": formula} if formula else typed
                cell["effectiveValue"] = typed
                cell["formattedValue"] = render_cell(value, "FORMATTED_VALUE", "FORMATTED_STRING")
            if (r, c) in sheet.formats:
                cell["userEnteredFormat"] = copy.deepcopy(sheet.formats[(r, c)])
            if (r, c) in sheet.notes:
                cell["note"] = sheet.notes[(r, c)]
            values.append(cell)
        row_data.append({"values": values} if values else {})
    return {"rowData": row_data} if row_data else {}


def _typed(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": value}
    if isinstance(value, dt.date | dt.time):
        return {"numberValue": serial_number(value)}
    return {"stringValue": str(value)}


def _with_protected_ranges(handler):
    """Wrap the metadata route: add each sheet's `protectedRanges`, conditional formats, tab
    colour, and its cells (`data`) when the mask asks for them or `includeGridData` is true,
    then apply `fields`."""

    def get_spreadsheet(google: FakeGoogle, request: Request) -> Response:
        mask = request.arg("fields")
        if request.query.get("ranges"):
            raise ApiError(400, "The fake answers spreadsheets.get without `ranges` only.")
        plain = Request(
            request.method,
            request.path,
            {k: v for k, v in request.query.items() if k != "fields"},
            request.headers,
            request.body,
            request.match,
        )
        response = handler(google, plain)
        if response.status != 200 or not isinstance(response.body, dict):
            return response
        resource = response.body
        tree = reads.parse_mask(mask) if mask else None
        wants_data = (request.arg("includeGridData", "false") == "true" and not mask) or _asks(tree, "data")
        me = google.requester(request)
        with google.lock:
            spreadsheet = google.spreadsheets[resource["spreadsheetId"]]
            by_id = {s.sheet_id: s for s in spreadsheet.sheets}
            creators = dict(_state(google, "protected_creators"))
        for sheet in resource.get("sheets", []):
            sheet_id = sheet.get("properties", {}).get("sheetId", 0)
            ranges = protected_ranges_of(google, resource["spreadsheetId"], sheet_id)
            for p in ranges:
                p["requestingUserCanEdit"] = can_edit(p, creators, me)
            if ranges:
                sheet["protectedRanges"] = ranges
            fake = by_id.get(sheet_id)
            if fake is None:
                continue
            for name in ("tabColorStyle", "hidden"):
                if name in fake.properties:
                    sheet["properties"][name] = copy.deepcopy(fake.properties[name])
            frozen = {
                k: v for k, v in fake.properties.get("gridProperties", {}).items() if k.startswith("frozen")
            }
            sheet["properties"].setdefault("gridProperties", {}).update(frozen)
            if fake.conditional_formats:
                sheet["conditionalFormats"] = copy.deepcopy(fake.conditional_formats)
            if wants_data:
                sheet["data"] = [_grid_data(fake)]
        if tree is not None:
            try:
                resource = reads.apply_mask(resource, tree)
            except ValueError as exc:
                raise ApiError(400, f"Invalid field selection {mask}: {exc}") from exc
        return Response(200, resource, response.headers, response.delay)

    get_spreadsheet.wrapped = handler  # type: ignore[attr-defined]
    return get_spreadsheet


def _asks(tree: dict[str, Any] | None, name: str) -> bool:
    """Whether a parsed `fields` mask asks for `sheets.<name>`."""
    if tree is None:
        return False
    if "*" in tree:
        return True
    if "sheets" not in tree:
        return False
    sheets = tree["sheets"]
    return sheets is None or "*" in sheets or name in sheets


for _i, (_method, _pattern, _handler) in enumerate(ROUTES):
    if _handler is reads.get_spreadsheet:
        ROUTES[_i] = (_method, _pattern, _with_protected_ranges(_handler))
