"""Set up the units' Google spreadsheets: create, share, protect, validate (no Airflow).

For each unit of `units.yaml` (or the ones asked for), `provision` makes sure that:

1. its spreadsheet exists. A key that Google does not know (404) is looked up by the
   spreadsheet's deterministic title in Drive (`spreadsheet_title`), so that a second run
   finds what the first one created even before the admin has pasted the new keys into
   `units.yaml`; only when nothing has that title is a spreadsheet created (Drive
   `files.create`, in the Drive folder given, which must be in a shared drive for a
   service account created after 2025: those own no storage);
2. the unit's worksheet exists in it, filled with the blank template of the unit's kind
   (`setup.layout.unit_layout`) with DON_VI prefilled;
3. the spreadsheet is shared for editing with the unit's `emails` (addresses that already
   hold a permission are left alone);
4. column A (the codes), the title rows and the tables' header rows (column codes) are
   protected, editable only by the service account, and the value cells of the tables
   and the number fields accept only numbers >= 0.

Protected ranges carry a description starting with `PROTECTION_PREFIX`; the one on
column A marks a worksheet as set up (protections and validations), so a second run
writes nothing. The positions of the header rows and value cells are read from the
worksheet itself (its codes in column A), so a worksheet that a unit already filled in,
with rows inserted, is protected where its codes really are.

Each spreadsheet costs at most one metadata read, one values read (only for existing
worksheets not yet set up), one permissions list, one `batchUpdate` holding every change
to its worksheets, and one Drive request per new permission (Drive has no batch). A dry
run makes the same reads and no write. Problems with one spreadsheet (403, a failed
creation) become the units' problems in the report; the others go on.

The requests themselves are made in `setup.sheet_requests` (pure) and the calls to Google in
`setup.google_calls`; this module plans each spreadsheet and reports what it did.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from housing_report.collect.google_client import GoogleUnavailable
from housing_report.config import Config, Unit
from housing_report.core.errors import Permanent
from housing_report.setup.google_calls import (
    SHEETS_URL,
    Spreadsheet,
    create_spreadsheet,
    error_text,
    find_by_title,
    get_spreadsheet,
    permissions_of,
    read_columns,
    share,
    status_of,
)
from housing_report.setup.sheet_requests import (
    COLUMN_A_PROTECTION,
    VALIDATION_MESSAGES,
    a1_range,
    new_sheet_requests,
    sheet_ranges,
    template_cells,
)

log = logging.getLogger(__name__)


TITLE_PREFIX = "Báo cáo xóa nhà tạm"
WRITER_ROLES = ("writer", "owner", "organizer", "fileOrganizer")


class ProvisionError(RuntimeError, Permanent):
    """The run as a whole cannot go on (a refused credential): the admin's problem, which no
    retry fixes."""


# --------------------------------------------------------------------------- report


@dataclass
class UnitResult:
    """What provisioning did (or, in a dry run, would do) for one unit."""

    code: str
    name: str
    worksheet: str
    configured_key: str
    spreadsheet_key: str | None = None  # None: to be created (dry run)
    spreadsheet_title: str = ""
    spreadsheet: str = "existing"  # existing | found | created | to_create | unavailable
    worksheet_created: bool = False
    shared: list[str] = field(default_factory=list)
    already_shared: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)  # A1 ranges
    validated: list[str] = field(default_factory=list)  # A1 ranges
    problems: list[str] = field(default_factory=list)

    @property
    def key_changed(self) -> bool:
        return self.spreadsheet_key is not None and self.spreadsheet_key != self.configured_key

    @property
    def changed(self) -> bool:
        return bool(
            self.spreadsheet in ("created", "to_create")
            or self.worksheet_created
            or self.shared
            or self.protected
            or self.validated
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "worksheet": self.worksheet,
            "configured_key": self.configured_key,
            "spreadsheet_key": self.spreadsheet_key,
            "spreadsheet": self.spreadsheet,
            "worksheet_created": self.worksheet_created,
            "shared": self.shared,
            "already_shared": self.already_shared,
            "protected": self.protected,
            "validated": self.validated,
            "problems": self.problems,
        }

    def describe(self, dry_run: bool) -> str:
        """One Vietnamese paragraph for the admin's log."""
        will = "sẽ " if dry_run else "đã "
        parts = []
        key = self.spreadsheet_key or "(chưa có)"
        if self.spreadsheet == "to_create":
            parts.append(f"sẽ tạo bảng tính «{self.spreadsheet_title}»")
        elif self.spreadsheet == "created":
            parts.append(f"đã tạo bảng tính «{self.spreadsheet_title}», khóa {key}")
        elif self.spreadsheet == "found":
            parts.append(
                f"khóa {self.configured_key} không tồn tại; dùng bảng tính cùng tên "
                f"«{self.spreadsheet_title}», khóa {key}"
            )
        elif self.spreadsheet == "existing":
            parts.append(f"bảng tính {key}")
        if self.worksheet_created:
            parts.append(f"{will}thêm trang tính «{self.worksheet}» theo mẫu")
        if self.shared:
            parts.append(f"{will}chia sẻ quyền sửa cho {', '.join(self.shared)}")
        if self.already_shared:
            parts.append(f"đã có quyền: {', '.join(self.already_shared)}")
        if self.protected:
            parts.append(f"{will}khóa {', '.join(self.protected)}")
        if self.validated:
            parts.append(f"{will}kiểm tra số >= 0 ở {', '.join(self.validated)}")
        if not self.changed and not self.problems:
            parts.append("không cần thay đổi")
        parts += [f"LỖI: {p}" for p in self.problems]
        return f"{self.code} {self.name} [{self.worksheet}]: " + "; ".join(parts)


@dataclass
class ProvisionReport:
    dry_run: bool
    units: list[UnitResult]
    service_account_email: str = ""

    @property
    def problems(self) -> list[str]:
        return [f"{u.code}: {p}" for u in self.units for p in u.problems]

    def yaml_snippet(self) -> str:
        """The `spreadsheet:` keys to put into units.yaml, for units whose key changed."""
        changed = [u for u in self.units if u.key_changed]
        if not changed:
            return ""
        lines = ["# Sửa khóa spreadsheet của các đơn vị sau trong include/config/units.yaml:"]
        for u in changed:
            lines += [f"- code: {_yaml_str(u.code)}  # {u.name}", f"  spreadsheet: {u.spreadsheet_key}"]
        return "\n".join(lines) + "\n"

    def counts(self) -> dict[str, int]:
        return {
            "units": len(self.units),
            "spreadsheets_created": len(
                {
                    u.spreadsheet_key or u.spreadsheet_title
                    for u in self.units
                    if u.spreadsheet in ("created", "to_create")
                }
            ),
            "worksheets_created": sum(u.worksheet_created for u in self.units),
            "permissions_created": sum(len(u.shared) for u in self.units),
            "ranges_protected": sum(len(u.protected) for u in self.units),
            "ranges_validated": sum(len(u.validated) for u in self.units),
            "units_with_problems": sum(bool(u.problems) for u in self.units),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "units": [u.to_json() for u in self.units],
            "yaml_snippet": self.yaml_snippet(),
        }

    def format_text(self) -> str:
        """The report for the admin's log, in Vietnamese."""
        head = "CHẠY THỬ (không ghi gì lên Google)" if self.dry_run else "ĐÃ THỰC HIỆN"
        c = self.counts()
        lines = [
            f"Chuẩn bị bảng tính cho {c['units']} đơn vị – {head}",
            f"Bảng tính mới: {c['spreadsheets_created']}; trang tính mới: {c['worksheets_created']}; "
            f"quyền sửa mới: {c['permissions_created']}; vùng khóa: {c['ranges_protected']}; "
            f"vùng kiểm tra số: {c['ranges_validated']}; đơn vị có lỗi: {c['units_with_problems']}",
        ]
        lines += ["  " + u.describe(self.dry_run) for u in self.units]
        snippet = self.yaml_snippet()
        if snippet:
            lines += ["", snippet.rstrip()]
        elif self.dry_run and any(u.spreadsheet == "to_create" for u in self.units):
            lines += ["", "Khóa của các bảng tính mới sẽ có sau khi chạy thật (dry_run = false)."]
        return "\n".join(lines)


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- titles and layout


def spreadsheet_title(units: Sequence[Unit], key: str) -> str:
    """The title of a unit's spreadsheet: the unit's name, or the key for a shared one."""
    if len(units) == 1:
        return f"{TITLE_PREFIX} - {units[0].name}"
    return f"{TITLE_PREFIX} - {key}"


# --------------------------------------------------------------------------- provisioning


@dataclass
class _Plan:
    """The changes to one spreadsheet, as Sheets requests and Drive permissions."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    shares: list[str] = field(default_factory=list)


def _sheet_changes(
    config: Config,
    unit: Unit,
    result: UnitResult,
    sheet_id: int,
    rows: Sequence[Sequence[Any]],
    done: set[str],
    editor: str | None,
) -> list[dict[str, Any]]:
    """Protections and validations missing from one worksheet, as batchUpdate requests."""
    ranges = sheet_ranges(rows, config.template)
    requests: list[dict[str, Any]] = []
    if COLUMN_A_PROTECTION in done:
        return requests  # set up before: protections and validations are in place
    for description, grid in ranges.protections:
        if description in done:
            continue
        protected: dict[str, Any] = {
            "range": {"sheetId": sheet_id, **grid},
            "description": description,
            "warningOnly": False,
        }
        if editor:
            protected["editors"] = {"users": [editor]}
        requests.append({"addProtectedRange": {"protectedRange": protected}})
        result.protected.append(a1_range(grid, unit.worksheet))
    for kind, grid in ranges.validations:
        rule = {
            "condition": {"type": "NUMBER_GREATER_THAN_EQ", "values": [{"userEnteredValue": "0"}]},
            "inputMessage": VALIDATION_MESSAGES[kind],
            "strict": True,
            "showCustomUi": True,
        }
        requests.append({"setDataValidation": {"range": {"sheetId": sheet_id, **grid}, "rule": rule}})
        result.validated.append(a1_range(grid, unit.worksheet))
    return requests


def _plan_spreadsheet(
    config: Config,
    client: Any,
    units: Sequence[Unit],
    results: dict[str, UnitResult],
    sheet: Spreadsheet | None,
    permissions: dict[str, str],
    editor: str | None,
    drop_sheets: Sequence[int] = (),
) -> _Plan:
    """Every change one spreadsheet needs (`sheet` None: it is still to be created)."""
    plan = _Plan()
    existing = dict(sheet.sheets) if sheet else {}
    protected = sheet.protected if sheet else {}
    next_id = max([*existing.values(), 0]) + 1
    to_read = [
        u.worksheet
        for u in units
        if u.worksheet in existing and COLUMN_A_PROTECTION not in protected.get(existing[u.worksheet], set())
    ]
    grids = read_columns(client, sheet.key, list(dict.fromkeys(to_read))) if sheet else {}
    added: set[str] = set()
    for unit in units:
        result = results[unit.code]
        if unit.worksheet in existing:
            sheet_id = existing[unit.worksheet]
            rows: Sequence[Sequence[Any]] = grids.get(unit.worksheet, [])
            done = protected.get(sheet_id, set())
        elif unit.worksheet in added:
            result.problems.append(
                f"trang tính «{unit.worksheet}» trùng với một đơn vị khác trong cùng bảng tính"
            )
            continue
        else:
            sheet_id, next_id = next_id, next_id + 1
            rows, api_rows = template_cells(config, unit)
            plan.requests += new_sheet_requests(
                sheet_id, unit.worksheet, api_rows, len(existing) + len(added)
            )
            added.add(unit.worksheet)
            result.worksheet_created = True
            done = set()
        plan.requests += _sheet_changes(config, unit, result, sheet_id, rows, done, editor)
        for email in unit.emails:
            role = permissions.get(email.lower())
            if role is None and email.lower() not in {e.lower() for e in plan.shares}:
                plan.shares.append(email)
                result.shared.append(email)
            elif role is None:
                result.shared.append(email)
            else:
                result.already_shared.append(email if role in WRITER_ROLES else f"{email} (quyền {role})")
    plan.requests += [{"deleteSheet": {"sheetId": sid}} for sid in drop_sheets]
    return plan


def _group(units: Sequence[Unit]) -> dict[str, list[Unit]]:
    groups: dict[str, list[Unit]] = {}
    for unit in units:
        groups.setdefault(unit.spreadsheet, []).append(unit)
    return groups


def select_units(config: Config, codes: Sequence[str] | None) -> list[Unit]:
    """The units named by `codes` (all when empty), in config order; unknown codes raise."""
    if not codes:
        return list(config.units)
    wanted = {str(c).strip() for c in codes if str(c).strip()}
    known = {u.code for u in config.units}
    unknown = sorted(wanted - known)
    if unknown:
        raise ValueError(f"Mã đơn vị không có trong units.yaml: {', '.join(unknown)}")
    return [u for u in config.units if u.code in wanted]


def _share_message(config: Config, units: Sequence[Unit]) -> str:
    days = " và ".join(str(d) for d in config.report.schedule.collection_days)
    names = ", ".join(u.name for u in units)
    return (
        f"Bảng tính báo cáo tiến độ {config.report.programme.short_title} của {names}. "
        f"Cập nhật số liệu trước ngày {days} hằng tháng; chỉ điền vào các ô tô màu vàng, không sửa cột A."
    )


def provision(
    config: Config,
    client: Any,
    dry_run: bool = True,
    *,
    unit_codes: Sequence[str] | None = None,
    notify: bool = False,
    folder_id: str | None = None,
    service_account_email: str | None = None,
) -> ProvisionReport:
    """Make sure every (selected) unit has its spreadsheet, worksheet, sharing, protection and
    validation; with `dry_run` only read and report what would be done.

    `client` is a gspread client (`housing_report.collect.google_client.make_client`); `notify` is
    Drive's `sendNotificationEmail` for new permissions; `folder_id` the Drive folder (in a
    shared drive) where new spreadsheets go; `service_account_email` the only editor of the
    protected ranges (default: the client's credentials).
    """
    from gspread.exceptions import APIError

    editor = service_account_email or getattr(getattr(client, "http_client", None), "auth", None)
    if not isinstance(editor, str):
        editor = getattr(editor, "service_account_email", None)
    units = select_units(config, unit_codes)
    results = {
        u.code: UnitResult(u.code, u.name, u.worksheet, u.spreadsheet, spreadsheet_key=u.spreadsheet)
        for u in units
    }
    for key, group in _group(units).items():
        title = spreadsheet_title(group, key)
        for u in group:
            results[u.code].spreadsheet_title = title
        try:
            _provision_spreadsheet(
                config, client, key, title, group, results, dry_run, notify, folder_id, editor
            )
        except APIError as exc:
            status = status_of(exc)
            if status in (401,):
                raise ProvisionError(f"Google từ chối khóa tài khoản dịch vụ: {error_text(exc)}") from exc
            problem = _problem_text(status, key, exc, editor, folder_id)
            log.warning("Bảng tính %s: %s", key, problem)
            for u in group:
                results[u.code].problems.append(problem)
        except GoogleUnavailable as exc:
            problem = f"không làm được với bảng tính {key}: {exc}. Hãy chạy lại DAG sau ít phút."
            log.warning("Bảng tính %s: %s", key, problem)
            for u in group:
                results[u.code].problems.append(problem)
    return ProvisionReport(dry_run, [results[u.code] for u in units], editor or "")


def _problem_text(
    status: int | None, key: str, exc: Exception, editor: str | None, folder: str | None
) -> str:
    detail = error_text(exc)
    if status == 403 and "quota" in detail.lower():
        return (
            "tài khoản dịch vụ không được tạo tệp trong Drive của chính nó (không có dung lượng lưu trữ). "
            "Hãy đặt Variable provision_drive_folder_id là một thư mục trong Drive dùng chung (Shared drive) "
            f"mà {editor or 'tài khoản dịch vụ'} có quyền Quản lý nội dung. (Google: {detail})"
        )
    if status == 403:
        where = f"thư mục {folder} hoặc " if folder else ""
        return (
            f"không có quyền với {where}bảng tính {key}: hãy chia sẻ quyền Người chỉnh sửa cho "
            f"{editor or 'tài khoản dịch vụ'}. (Google: {detail})"
        )
    return f"Google trả lỗi {status} với bảng tính {key}: {detail}"


def _provision_spreadsheet(
    config: Config,
    client: Any,
    key: str,
    title: str,
    group: list[Unit],
    results: dict[str, UnitResult],
    dry_run: bool,
    notify: bool,
    folder_id: str | None,
    editor: str | None,
) -> None:
    sheet = get_spreadsheet(client, key)
    state = "existing"
    if sheet is None:
        found = find_by_title(client, title, folder_id)
        if found:
            sheet = get_spreadsheet(client, found[0])
            state = "found"
            if len(found) > 1:
                for u in group:
                    results[u.code].problems.append(
                        f"có {len(found)} bảng tính cùng tên «{title}»; đã dùng bảng tính tạo trước nhất "
                        f"({found[0]}). Hãy xóa các bảng tính thừa: {', '.join(found[1:])}"
                    )
        else:
            state = "to_create"
    drop: list[int] = []
    if state == "to_create" and not dry_run:
        new_key = create_spreadsheet(client, title, folder_id)
        log.info("Đã tạo bảng tính «%s»: %s", title, new_key)
        state = "created"
        sheet = get_spreadsheet(client, new_key)
        if sheet is None:
            raise RuntimeError(f"Bảng tính vừa tạo {new_key} không đọc được")
        wanted = {u.worksheet for u in group}
        drop = [sid for name, sid in sheet.sheets.items() if name not in wanted]
    for u in group:
        results[u.code].spreadsheet = state
        results[u.code].spreadsheet_key = sheet.key if sheet else None
    permissions = permissions_of(client, sheet.key) if sheet else {}
    plan = _plan_spreadsheet(config, client, group, results, sheet, permissions, editor, drop)
    if dry_run or sheet is None:
        return
    if plan.requests:
        client.http_client.request(
            "post", f"{SHEETS_URL}/{sheet.key}:batchUpdate", json={"requests": plan.requests}
        )
    message = _share_message(config, group)
    for email in plan.shares:
        share(client, sheet.key, email, notify, message)


def plan_provisioning(config: Config, client: Any, **options: Any) -> ProvisionReport:
    """What `provision` would do, without writing anything (a dry run)."""
    return provision(config, client, True, **options)
