"""The Sheets and Drive calls of provisioning, through the gspread client's HTTP session (its
retries, timeouts and token): read a spreadsheet's worksheets and protections, find one by
title, create one in a Drive folder, list and add permissions, read column values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from housing_report.core.models import quote_sheet

SHEETS_URL = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE_FILES_URL = "https://www.googleapis.com/drive/v3/files"
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"


@dataclass
class Spreadsheet:
    key: str
    title: str
    sheets: dict[str, int]  # title -> sheetId
    protected: dict[int, set[str]]  # sheetId -> descriptions of protected ranges


def status_of(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def error_text(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    try:
        return str(response.json()["error"]["message"])  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - any shape of error body
        return str(exc)


def get_spreadsheet(client: Any, key: str) -> Spreadsheet | None:
    """The spreadsheet's worksheets and protected ranges, or None when the key does not exist."""
    from gspread.exceptions import APIError

    params = {
        "fields": "spreadsheetId,properties.title,"
        "sheets(properties(sheetId,title,index),protectedRanges(protectedRangeId,description,range))"
    }
    try:
        meta = client.http_client.request("get", f"{SHEETS_URL}/{key}", params=params).json()
    except APIError as exc:
        if status_of(exc) == 404:
            return None
        raise
    sheets: dict[str, int] = {}
    protected: dict[int, set[str]] = {}
    for sheet in meta.get("sheets", []):
        props = sheet.get("properties", {})
        sheet_id = int(props.get("sheetId", 0))
        sheets[str(props.get("title", ""))] = sheet_id
        protected[sheet_id] = {str(p.get("description", "")) for p in sheet.get("protectedRanges", [])}
    return Spreadsheet(key, str(meta.get("properties", {}).get("title", "")), sheets, protected)


def _drive_query_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def find_by_title(client: Any, title: str, folder_id: str | None) -> list[str]:
    """Ids of the spreadsheets named `title` (oldest first) that the service account sees."""
    q = f"name = '{_drive_query_text(title)}' and mimeType = '{SPREADSHEET_MIME}' and trashed = false"
    if folder_id:
        q += f" and '{_drive_query_text(folder_id)}' in parents"
    params = {
        "q": q,
        "fields": "files(id,name,createdTime)",
        "orderBy": "createdTime",
        "pageSize": 10,
        "supportsAllDrives": "true",
        "includeItemsFromAllDrives": "true",
    }
    files = client.http_client.request("get", DRIVE_FILES_URL, params=params).json().get("files", [])
    return [str(f["id"]) for f in files if f.get("name") == title]


def create_spreadsheet(client: Any, title: str, folder_id: str | None) -> str:
    body: dict[str, Any] = {"name": title, "mimeType": SPREADSHEET_MIME}
    if folder_id:
        body["parents"] = [folder_id]
    params = {"supportsAllDrives": "true", "fields": "id,name"}
    return str(client.http_client.request("post", DRIVE_FILES_URL, params=params, json=body).json()["id"])


def permissions_of(client: Any, key: str) -> dict[str, str]:
    """Email (lower case) -> role of every user or group permission on the file."""
    out: dict[str, str] = {}
    params: dict[str, Any] = {
        "supportsAllDrives": "true",
        "fields": "nextPageToken,permissions(id,type,role,emailAddress)",
        "pageSize": 100,
    }
    while True:
        page = client.http_client.request("get", f"{DRIVE_FILES_URL}/{key}/permissions", params=params).json()
        for p in page.get("permissions", []):
            if p.get("emailAddress"):
                out[str(p["emailAddress"]).lower()] = str(p.get("role", ""))
        token = page.get("nextPageToken")
        if not token:
            return out
        params["pageToken"] = token


def share(client: Any, key: str, email: str, notify: bool, message: str) -> None:
    params = {"supportsAllDrives": "true", "sendNotificationEmail": "true" if notify else "false"}
    if notify:
        params["emailMessage"] = message
    body = {"type": "user", "role": "writer", "emailAddress": email}
    client.http_client.request("post", f"{DRIVE_FILES_URL}/{key}/permissions", params=params, json=body)


def read_columns(client: Any, key: str, titles: Sequence[str]) -> dict[str, list[list[Any]]]:
    """The values of the named worksheets, in one `values:batchGet` request."""
    if not titles:
        return {}
    ranges = [quote_sheet(t) for t in titles]
    params = {"ranges": ranges, "valueRenderOption": "UNFORMATTED_VALUE", "majorDimension": "ROWS"}
    answer = client.http_client.request("get", f"{SHEETS_URL}/{key}/values:batchGet", params=params).json()
    out: dict[str, list[list[Any]]] = {}
    for title, value_range in zip(titles, answer.get("valueRanges", []), strict=False):
        out[title] = value_range.get("values", [])
    return out
