"""The hook for Google Sheets: the `google_sheets` connection gives a gspread client.

Connection extras:
- `keyfile_dict`: the service account's JSON key (as JSON text or a mapping), or
- `key_path`: a path to that JSON key file;
- `api_base_url` (optional): where the Sheets and Drive APIs are (a proxy, or the
  tests' loopback server); default Google's public endpoints;
- `timeout` (optional, seconds per request, default 30).
The key's own `token_uri` is used to get tokens.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.sdk import BaseHook


class GoogleSheetsHook(BaseHook):
    conn_name_attr = "google_sheets_conn_id"
    default_conn_name = "google_sheets"
    conn_type = "google_sheets"
    hook_name = "Google Sheets (service account)"

    def __init__(self, google_sheets_conn_id: str = default_conn_name):
        super().__init__()
        self.google_sheets_conn_id = google_sheets_conn_id

    @cached_property
    def extras(self) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowNotFoundException

        from housing_report.collect.base import SourceConfigError

        try:
            return self.get_connection(self.google_sheets_conn_id).extra_dejson
        except AirflowNotFoundException as exc:
            raise SourceConfigError(
                f"Chưa có Connection {self.google_sheets_conn_id} (report_source = google): hãy tạo "
                "Connection này với extra keyfile_dict (khóa JSON của tài khoản dịch vụ) hoặc key_path."
            ) from exc

    @cached_property
    def key_info(self) -> dict[str, Any]:
        """The service account key as a mapping (never logged)."""
        from housing_report.collect.base import SourceConfigError

        raw = self.extras.get("keyfile_dict")
        if raw is None and self.extras.get("key_path"):
            try:
                raw = Path(self.extras["key_path"]).read_text(encoding="utf-8")
            except OSError as exc:
                raise SourceConfigError(
                    f"Connection {self.google_sheets_conn_id}: không đọc được tệp khóa key_path "
                    f"({exc.strerror})."
                ) from exc
        if raw is None:
            raise SourceConfigError(
                f"Connection {self.google_sheets_conn_id}: thiếu khóa tài khoản dịch vụ "
                "(extra keyfile_dict hoặc key_path)."
            )
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise SourceConfigError(
                    f"Connection {self.google_sheets_conn_id}: keyfile_dict không phải JSON hợp lệ."
                ) from exc
        return dict(raw)

    @property
    def service_account_email(self) -> str:
        return str(self.key_info.get("client_email", ""))

    @property
    def api_base_url(self) -> str | None:
        return self.extras.get("api_base_url") or None

    @cached_property
    def client(self):
        """A gspread client (built once, lazily), with retries and timeouts."""
        from housing_report.collect.google_client import make_client

        return make_client(
            self.key_info,
            api_base_url=self.api_base_url,
            timeout=float(self.extras.get("timeout", 30)),
        )

    def get_conn(self):
        return self.client
