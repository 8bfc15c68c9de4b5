"""Write endpoints of the fake Google APIs: what `housing_report.setup.provision` uses.

Sheets v4: `POST /v4/spreadsheets/{key}:batchUpdate` with `addSheet`, `deleteSheet`,
`updateCells`, `updateDimensionProperties`, `addProtectedRange`, `setDataValidation`
(atomic, as Google: one bad request and nothing is applied; an unknown request is a 400).
Drive v3: `GET/POST /drive/v3/files` (list by name, create a spreadsheet) and
`GET/POST /drive/v3/files/{id}/permissions`.

State kept in `google.state`:
- `drive_files[key]`: `{"parents": [...], "createdTime": iso}` for spreadsheets created here;
- `permissions[key]`: list of `{"id", "type", "role", "emailAddress"}`; each new permission is
  also appended to `shared` as `(key, email, role, sendNotificationEmail)`;
- `protected_ranges[key]`: list of protected ranges as given, with `protectedRangeId`;
- `validations[key][sheet_id][(row, col)]`: the data validation rule of each cell.
Protected ranges also appear in the spreadsheet's metadata (`sheets[].protectedRanges`,
as Google shows them): the read route `GET /v4/spreadsheets/{key}` of `reads.py` is wrapped
here (`_with_protected_ranges`) so that its answer carries them, the `fields` mask applied
after.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import re
import uuid
from typing import Any

from tests.google_api import reads
from tests.google_api.server import ROUTES, ApiError, FakeGoogle, FakeSheet, Request, Response, route

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


@route("POST", r"/v4/spreadsheets/(?P<key>[^/:]+):batchUpdate")
def batch_update(google: FakeGoogle, request: Request) -> Response:
    key = request.match["key"]  # type: ignore[index]
    spreadsheet = google.spreadsheet(key)
    body = request.json()
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise ApiError(400, "Must specify at least one request.")
    with google.lock:
        sheets = copy.deepcopy(spreadsheet.sheets)
        protected = copy.deepcopy(_state(google, "protected_ranges").get(key, []))
        validations = copy.deepcopy(_state(google, "validations").get(key, {}))
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
            replies.append(handler(sheets, protected, validations, spec, i))
        spreadsheet.sheets = sheets  # atomic: applied only when every request was valid
        _state(google, "protected_ranges")[key] = protected
        _state(google, "validations")[key] = validations
    return Response(200, {"spreadsheetId": key, "replies": replies})


def _sheet(sheets: list[FakeSheet], sheet_id: Any, i: int) -> FakeSheet:
    for sheet in sheets:
        if sheet.sheet_id == (sheet_id or 0):
            return sheet
    raise ApiError(400, f"Invalid requests[{i}]: No grid with id: {sheet_id}")


def _add_sheet(sheets, protected, validations, spec, i):
    props = dict(spec.get("properties") or {})
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
    sheets.insert(min(int(index), len(sheets)), FakeSheet(int(sheet_id), str(title), []))
    props.update(sheetId=sheet_id, title=title, index=index, sheetType="GRID")
    return {"addSheet": {"properties": props}}


def _delete_sheet(sheets, protected, validations, spec, i):
    sheet = _sheet(sheets, spec.get("sheetId"), i)
    if len(sheets) == 1:
        raise ApiError(
            400, f"Invalid requests[{i}].deleteSheet: You can't remove all the sheets in a document."
        )
    sheets.remove(sheet)
    protected[:] = [p for p in protected if p["range"].get("sheetId", 0) != sheet.sheet_id]
    validations.pop(sheet.sheet_id, None)
    return {}


def _cell_value(cell: dict[str, Any]) -> Any:
    value = cell.get("userEnteredValue")
    if not value:
        return None
    for name in ("stringValue", "numberValue", "boolValue"):
        if name in value:
            return value[name]
    if "formulaValue" in value:
        return value["formulaValue"]
    return None


def _update_cells(sheets, protected, validations, spec, i):
    start = spec.get("start") or {}
    if not spec.get("fields"):
        raise ApiError(400, f"Invalid requests[{i}].updateCells: fields is required.")
    sheet = _sheet(sheets, start.get("sheetId"), i)
    if "userEnteredValue" not in spec["fields"] and spec["fields"] != "*":
        return {}
    r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
    for dr, row in enumerate(spec.get("rows") or []):
        r = r0 + dr
        while len(sheet.rows) <= r:
            sheet.rows.append([])
        cells = sheet.rows[r]
        for dc, cell in enumerate(row.get("values") or []):
            c = c0 + dc
            while len(cells) <= c:
                cells.append(None)
            cells[c] = _cell_value(cell)
    for row in sheet.rows:
        while row and row[-1] is None:
            row.pop()
    return {}


def _update_dimension_properties(sheets, protected, validations, spec, i):
    dimension_range = spec.get("range") or {}
    _sheet(sheets, dimension_range.get("sheetId"), i)
    if dimension_range.get("dimension") not in ("ROWS", "COLUMNS") or not spec.get("fields"):
        raise ApiError(
            400, f"Invalid requests[{i}].updateDimensionProperties: dimension and fields are required."
        )
    return {}


def _add_protected_range(sheets, protected, validations, spec, i):
    given = copy.deepcopy(spec.get("protectedRange") or {})
    grid = given.get("range")
    if grid is None and "namedRangeId" not in given:
        raise ApiError(400, f"Invalid requests[{i}].addProtectedRange: a range is required.")
    _sheet(sheets, (grid or {}).get("sheetId"), i)
    if given.get("warningOnly") and given.get("editors"):
        raise ApiError(
            400, f"Invalid requests[{i}].addProtectedRange: editors are not supported with warningOnly."
        )
    given["protectedRangeId"] = next(_ids)
    given.setdefault("warningOnly", False)
    given["requestingUserCanEdit"] = True
    protected.append(given)
    return {"addProtectedRange": {"protectedRange": copy.deepcopy(given)}}


def _set_data_validation(sheets, protected, validations, spec, i):
    grid = spec.get("range") or {}
    sheet = _sheet(sheets, grid.get("sheetId"), i)
    rule = spec.get("rule")
    condition = (rule or {}).get("condition") or {}
    if rule is not None and not condition.get("type"):
        raise ApiError(400, f"Invalid requests[{i}].setDataValidation: rule.condition.type is required.")
    cells = validations.setdefault(sheet.sheet_id, {})
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
    "updateDimensionProperties": _update_dimension_properties,
    "addProtectedRange": _add_protected_range,
    "setDataValidation": _set_data_validation,
}


# --------------------------------------------------------------------------- Drive files

_NAME_RE = re.compile(r"name\s*=\s*'((?:[^'\\]|\\.)*)'|name\s*=\s*\"((?:[^\"\\]|\\.)*)\"")
_PARENT_RE = re.compile(r"'((?:[^'\\]|\\.)*)'\s+in\s+parents")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


@route("GET", r"/drive/v3/files")
def list_files(google: FakeGoogle, request: Request) -> Response:
    """files.list: the spreadsheets the service account sees, filtered by `name = '...'`."""
    q = request.arg("q", "") or ""
    name_match = _NAME_RE.search(q)
    name = _unescape(name_match.group(1) or name_match.group(2) or "") if name_match else None
    parent_match = _PARENT_RE.search(q)
    parent = _unescape(parent_match.group(1)) if parent_match else None
    files_state = _state(google, "drive_files")
    with google.lock:
        spreadsheets = [s for s in google.spreadsheets.values() if s.key not in google.forbidden]
    files = []
    for s in spreadsheets:
        meta = files_state.get(s.key, {})
        if name is not None and s.title != name:
            continue
        if parent is not None and parent not in meta.get("parents", []):
            continue
        files.append(
            {
                "kind": "drive#file",
                "id": s.key,
                "name": s.title,
                "mimeType": SPREADSHEET_MIME,
                "createdTime": meta.get("createdTime", "2025-01-01T00:00:00.000Z"),
            }
        )
    files.sort(key=lambda f: f["createdTime"])
    return Response(200, {"kind": "drive#fileList", "incompleteSearch": False, "files": files})


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


def _with_protected_ranges(handler):
    """Wrap the metadata route: add each sheet's `protectedRanges`, then apply `fields`."""

    def get_spreadsheet(google: FakeGoogle, request: Request) -> Response:
        mask = request.arg("fields")
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
        for sheet in resource.get("sheets", []):
            sheet_id = sheet.get("properties", {}).get("sheetId", 0)
            ranges = protected_ranges_of(google, resource["spreadsheetId"], sheet_id)
            if ranges:
                sheet["protectedRanges"] = ranges
        if mask:
            try:
                resource = reads.apply_mask(resource, reads.parse_mask(mask))
            except ValueError as exc:
                raise ApiError(400, f"Invalid field selection {mask}: {exc}") from exc
        return Response(200, resource, response.headers, response.delay)

    get_spreadsheet.wrapped = handler  # type: ignore[attr-defined]
    return get_spreadsheet


for _i, (_method, _pattern, _handler) in enumerate(ROUTES):
    if _handler is reads.get_spreadsheet:
        ROUTES[_i] = (_method, _pattern, _with_protected_ranges(_handler))
