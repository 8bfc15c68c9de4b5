"""A source that reads the units' worksheets from .xlsx files in a local folder.

Each unit's `spreadsheet` key names the file `<folder>/<spreadsheet>.xlsx` (a Google
spreadsheet downloaded as .xlsx keeps its key as the file name); each workbook is opened
once, however many units share it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from housing_report.collect.base import ReadBounds, SourceConfigError, fetch_by_spreadsheet
from housing_report.collect.workbook_io import WorkbookUnreadable, read_workbook_grids
from housing_report.config import Unit
from housing_report.core.models import FetchResult, Grid
from housing_report.core.statuses import FETCH_OK, MISSING, UNREACHABLE


class LocalWorkbookSource:
    """`ReportSource` over a folder of `<spreadsheet>.xlsx` files, each worksheet read within
    `bounds` (`ReadBounds.for_template(template)` in a run)."""

    def __init__(self, folder: str | Path, bounds: ReadBounds | None = None):
        self.folder = Path(folder)
        self.bounds = bounds or ReadBounds()

    def __repr__(self) -> str:
        return f"LocalWorkbookSource({str(self.folder)!r})"

    def path_for(self, spreadsheet: str) -> Path:
        return self.folder / f"{spreadsheet}.xlsx"

    def fetch(self, units: Sequence[Unit]) -> list[FetchResult]:
        if not self.folder.exists():
            raise SourceConfigError(
                f"Thư mục chứa bảng tính của các đơn vị không tồn tại: {self.folder}. "
                "Hãy kiểm tra cấu hình nguồn dữ liệu (thư mục cục bộ)."
            )
        if not self.folder.is_dir():
            raise SourceConfigError(
                f"Đường dẫn nguồn dữ liệu không phải là thư mục: {self.folder}. "
                "Hãy kiểm tra cấu hình nguồn dữ liệu (thư mục cục bộ)."
            )
        return fetch_by_spreadsheet(units, self._fetch_spreadsheet)

    def _fetch_spreadsheet(self, spreadsheet: str, units: list[Unit]) -> list[FetchResult]:
        path = self.path_for(spreadsheet)
        read_at = dt.datetime.now(dt.UTC)
        if not path.is_file():
            reason = f"Không tìm thấy bảng tính '{spreadsheet}' (tệp {path.name})"
            return [FetchResult(u.code, MISSING, reason=reason, read_at=read_at) for u in units]
        worksheets = list(dict.fromkeys(u.worksheet for u in units))
        try:
            grids: dict[str, Grid | None] = read_workbook_grids(path, worksheets, self.bounds)
        except FileNotFoundError:
            reason = f"Không tìm thấy bảng tính '{spreadsheet}' (tệp {path.name})"
            return [FetchResult(u.code, MISSING, reason=reason, read_at=read_at) for u in units]
        except WorkbookUnreadable as exc:
            reason = f"Không đọc được bảng tính '{spreadsheet}': {exc.reason}"
            return [FetchResult(u.code, UNREACHABLE, reason=reason, read_at=read_at) for u in units]
        except OSError as exc:
            reason = f"Không đọc được bảng tính '{spreadsheet}': {exc.strerror or exc}"
            return [FetchResult(u.code, UNREACHABLE, reason=reason, read_at=read_at) for u in units]
        read_at = dt.datetime.now(dt.UTC)
        out = []
        for unit in units:
            grid = grids.get(unit.worksheet)
            if grid is None:
                reason = f"Không tìm thấy trang tính '{unit.worksheet}' trong bảng tính '{spreadsheet}'"
                out.append(FetchResult(unit.code, MISSING, reason=reason, read_at=read_at))
            else:
                out.append(FetchResult(unit.code, FETCH_OK, grid=grid, read_at=read_at))
        return out
