"""The project's config as loaded from `units.yaml` and `report.yaml` (see `config.load`).

Both files are validated as a whole when loaded; the first problem raises
`ConfigError` naming the file, the key (as a path like `units[3].kind`) and what
is wrong, in Vietnamese, for the admin who edits them.

The model is made of pydantic dataclasses (the template's in `config.template`, the rules' in
`config.rules`): frozen, built positionally or by keyword like plain dataclasses, and carrying
the checks of the files, which run only while `config.load` validates them (`config.checks`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, ValidationInfo, field_validator, model_validator
from pydantic.dataclasses import dataclass

from housing_report.config.checks import (
    Check,
    Explain,
    Says,
    authority,
    collection_day,
    current_scope,
    day_count,
    email,
    hashable,
    hour,
    ignore_other_keys,
    iso_date,
    items,
    items_or_empty,
    place_to_send,
    places_to_send,
    problem,
    shared,
)
from housing_report.config.rules import Outliers, Rule
from housing_report.config.template import STRICT, Template, Text, UnitKindName
from housing_report.core.errors import Permanent

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

UNIT_CODE_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
SPREADSHEET_KEY_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
LENIENT = ConfigDict(extra="ignore")  # the hand-written reader never named unknown keys here

Email = Annotated[str, Check(email)]
# Module-level aliases: an annotation in a class body would see a field's default for a check
# of the same name.
Authority = Annotated[str, Check(authority)]
Hour = Annotated[int, Check(hour)]
PlacesToSend = Annotated[tuple[Annotated[str, Check(place_to_send)], ...], Check(places_to_send)]
CollectionDays = Annotated[tuple[Annotated[int, Check(collection_day)], ...], Check(items)]
DayCount = Annotated[int, Check(day_count)]
# A run of the report more than this many days after its collection day (a catch-up after the
# DAG is unpaused) is held, not sent (`deliver.hold`); `schedule.hold_after_days` in report.yaml.
DEFAULT_HOLD_AFTER_DAYS = 3


class ConfigError(ValueError, Permanent):
    """A config file is wrong: names the file, the key and the problem. No retry fixes it
    (`Permanent`); nor can it be emailed to the admins, whom the config names."""

    def __init__(self, file: str | Path, key: str, problem: str):
        self.file = str(file)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.file}: {key}: {problem}")


@dataclass(frozen=True, config=LENIENT)
class Contact:
    name: Text
    email: Email

    _ignore_other_keys = model_validator(mode="before")(ignore_other_keys)  # e.g. `1: x` in the file


@dataclass(frozen=True, config=STRICT)
class Progress:
    """Houses needed, started and completed: column codes of one table, summed over its rows."""

    table: Text
    needed: Annotated[tuple[str, ...], Explain(items)]
    started: Annotated[tuple[str, ...], Explain(items)]
    completed: Annotated[tuple[str, ...], Explain(items)]

    @field_validator("table")
    @classmethod
    def _table_exists(cls, code: str, info: ValidationInfo) -> str:
        template = shared(info, "template")
        if template is not None and not any(s.code == code and s.kind == "table" for s in template.sections):
            raise problem(f"mã bảng không tồn tại: '{code}'")
        return code

    @field_validator("needed", "started", "completed", mode="before")
    @classmethod
    def _columns(cls, value: Any, info: ValidationInfo) -> Any:
        if info.context is None:
            return value
        codes, table, template = items(value), info.data.get("table"), shared(info, "template")
        if table is not None and template is not None:
            section = next(s for s in template.sections if s.code == table and s.kind == "table")
            columns = {c.code for c in section.columns}
            for j, code in enumerate(codes):
                if not hashable(code) or code not in columns:  # a list: no such column (not a crash)
                    raise problem(f"mã cột không tồn tại trong bảng {table}: '{code}'", j)
        return tuple(str(c) for c in codes)


@dataclass(frozen=True, config=LENIENT)
class Schedule:
    collection_days: CollectionDays
    hour: Hour
    timezone: Text
    hold_after_days: DayCount = DEFAULT_HOLD_AFTER_DAYS

    @model_validator(mode="before")
    @classmethod
    def _default_hour(cls, data: Any, info: ValidationInfo) -> Any:
        data = ignore_other_keys(data, info)
        return {"hour": 7, **data} if info.context is not None and isinstance(data, dict) else data

    @field_validator("collection_days")
    @classmethod
    def _distinct_days(cls, days: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        if info.context is None:
            return days
        if len(set(days)) != len(days):
            raise problem("ngày bị trùng")
        return tuple(sorted(days))

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, timezone: str, info: ValidationInfo) -> str:
        if info.context is not None:
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: "Asia", a folder
                raise problem(f"múi giờ không tồn tại: '{timezone}'") from exc
        return timezone

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, config=STRICT)
class Signature:
    """The signature block of the report (Nghị định 30/2020, Phụ lục I): who signs, and for whom."""

    title: Text  # the signer's position, caps: "PHÓ TRƯỞNG BAN THƯỜNG TRỰC"
    name: Text  # the signer's full name
    # signing on behalf: "K/T TRƯỞNG BAN", "T/M BAN THƯỜNG VỤ"; empty when the head signs
    authority: Authority = ""

    _order: ClassVar = ("authority", "title", "name")


@dataclass(frozen=True, config=STRICT)
class Issuer:
    kind: Annotated[
        Literal["party", "state"], Says("phải là party (cơ quan Đảng) hoặc state (cơ quan nhà nước)")
    ]
    parent: Text
    name: Text
    place: Text
    report_number_prefix: Text
    signature: Signature | None = None
    # "Nơi nhận" of the report document, each a line ("Sở Lao động - TB&XH tỉnh (b/c)");
    # the list ends with "- Lưu: <archive>".
    places_to_send: PlacesToSend = ()
    archive: Text = "VT"


def no_approval(value: Any) -> Any:
    """`approval: none` (or `null`): the report is sent without waiting for an approver."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "khong", "không")):
        return None
    return value


def _positive_hours(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise problem(f"phải là số giờ lớn hơn 0, đang là {value!r}")
    return float(value)


@dataclass(frozen=True, config=LENIENT)
class Approver:
    """A person who may approve the report in Airflow (Browse → Required Actions)."""

    name: Text
    email: Email
    user: str = ""  # the Airflow user (id) allowed to answer; empty: any user with access

    _ignore_other_keys = model_validator(mode="before")(ignore_other_keys)


@dataclass(frozen=True, config=STRICT)
class ApprovalPolicy:
    """`approval:` of report.yaml: who approves the report before it is signed and sent, how long
    the run waits, and the defaults of the parts only the approver writes."""

    approvers: Annotated[tuple[Approver, ...], Check(items)]
    timeout_hours: Annotated[float, Check(_positive_hours)] = 48
    assessment: Text = "Các đơn vị đã tích cực triển khai thực hiện; tiến độ cơ bản bảo đảm yêu cầu."
    directions: Text = "Tiếp tục đẩy nhanh tiến độ, bảo đảm hoàn thành mục tiêu đúng thời hạn."
    # Pictures in the visible signature (PNG, relative to the config folder): the handwritten
    # signature and the seal, both optional.
    signature_image: str = ""
    seal_image: str = ""


@dataclass(frozen=True, config=STRICT)
class Office:
    """`office:` of report.yaml: how the report's email presents its sender."""

    sender_name: Text  # the From's display name: "Văn phòng Ban Tuyên giáo Tỉnh ủy Sóc Trăng"
    reply_to: Email | None = None  # where recipients' replies go (a person's mailbox)
    contact: str = ""  # one line at the end of the email: whom to call, phone, address


@dataclass(frozen=True, config=STRICT)
class Addressee:
    """Who can act on a recommendation: the first addressee one of whose words (`when`, matched
    without regard to case) a recommendation contains."""

    to: Text  # "Chi nhánh Ngân hàng Chính sách xã hội tỉnh"
    when: Annotated[tuple[Text, ...], Check(items)]


@dataclass(frozen=True, config=STRICT)
class Recommendations:
    """`recommendations:` of report.yaml: whom the report addresses each recommendation (list
    `list`) to; one that names no addressee's word goes to `default`."""

    default: Text = "Ban Chỉ đạo tỉnh"
    addressees: tuple[Addressee, ...] = ()
    list: Text = "F"

    def addressee(self, text: str) -> str:
        folded = text.casefold()
        for a in self.addressees:
            if any(word.casefold() in folded for word in a.when):
                return a.to
        return self.default


@dataclass(frozen=True, config=STRICT)
class FundsApart:
    """`funds_apart:` of report.yaml: money that units of `kinds` (the Mặt trận and the đoàn thể)
    mobilise and hand to the districts, which report it again in their own figures. `apart`
    (the default) leaves it out of the province's totals of table `section` and shows it beside
    them; `added` adds it in. Nothing happens where the template has no such kinds or table."""

    kinds: tuple[Text, ...] = ("organization",)
    section: Text = "B"
    counted: Literal["apart", "added"] = "apart"
    label: Text = "Mặt trận Tổ quốc và các đoàn thể vận động"


@dataclass(frozen=True, config=LENIENT)
class Programme:
    title: Text
    short_title: Text  # in the file, the title when not given
    target_date: Annotated[dt.date, Check(iso_date, plain=True)]

    _order: ClassVar = ("target_date", "title", "short_title")

    @model_validator(mode="before")
    @classmethod
    def _short_title(cls, data: Any, info: ValidationInfo) -> Any:
        data = ignore_other_keys(data, info)
        if info.context is None or not isinstance(data, dict) or "short_title" in data:
            return data
        return {**data, "short_title": data.get("title")}


@dataclass(frozen=True, config=STRICT)
class Unit:
    code: Text
    name: Text
    kind: UnitKindName
    spreadsheet: Text
    worksheet: Text  # in the file, the template's when not given
    emails: Annotated[tuple[Email, ...], Check(items_or_empty)] = ()

    _order: ClassVar = ("code", "kind", "spreadsheet", "worksheet", "emails", "name")

    @model_validator(mode="before")
    @classmethod
    def _next_unit(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context is None:
            return data
        current_scope(info).index += 1
        if isinstance(data, dict) and "worksheet" not in data:
            return {**data, "worksheet": info.context["template"].worksheet}
        return data

    @field_validator("code")
    @classmethod
    def _unique_code(cls, code: str, info: ValidationInfo) -> str:
        if info.context is None:
            return code
        if not UNIT_CODE_RE.match(code):
            raise problem(f"mã đơn vị '{code}' chỉ được gồm chữ không dấu, số, '_' và '-'")
        scope = current_scope(info)
        if code in scope.codes:
            raise problem(f"mã đơn vị '{code}' bị trùng với units[{scope.codes[code]}]")
        scope.codes[code] = scope.index
        return code

    @field_validator("kind")
    @classmethod
    def _kind_declared(cls, kind: str, info: ValidationInfo) -> str:
        if info.context is not None and kind not in info.context["template"].kinds:
            raise problem(f"loại đơn vị '{kind}' chưa được khai báo trong report.yaml")
        return kind

    @field_validator("spreadsheet")
    @classmethod
    def _spreadsheet_key(cls, key: str, info: ValidationInfo) -> str:
        if info.context is not None and not SPREADSHEET_KEY_RE.match(key):
            raise problem(f"mã bảng tính '{key}' không hợp lệ")
        return key

    @field_validator("worksheet")
    @classmethod
    def _one_unit_a_worksheet(cls, worksheet: str, info: ValidationInfo) -> str:
        sheet, code = info.data.get("spreadsheet"), info.data.get("code")
        if info.context is None or sheet is None or code is None:
            return worksheet
        places = current_scope(info).places
        if (sheet, worksheet) in places:
            raise problem(
                f"trang tính '{worksheet}' của bảng tính '{sheet}' đã thuộc đơn vị "
                f"{places[(sheet, worksheet)]}"
            )
        places[(sheet, worksheet)] = code
        return worksheet


@dataclass(frozen=True)
class ReportConfig:
    programme: Programme
    issuer: Issuer
    to: tuple[Contact, ...]
    cc: tuple[Contact, ...]
    admins: tuple[Contact, ...]
    schedule: Schedule
    template: Template
    rules: tuple[Rule, ...]
    progress: Progress
    constants: dict[str, float] = field(default_factory=dict)
    outliers: Outliers = field(default_factory=Outliers)
    approval: ApprovalPolicy | None = None  # None: sent without approval (`approval: none`)
    office: Office | None = None
    recommendations: Recommendations = field(default_factory=Recommendations)
    funds_apart: FundsApart = field(default_factory=FundsApart)


@dataclass(frozen=True)
class Config:
    report: ReportConfig
    units: tuple[Unit, ...]
    directory: Path = field(default=DEFAULT_CONFIG_DIR)

    @property
    def template(self) -> Template:
        return self.report.template

    @cached_property
    def _units_by_code(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}

    def unit(self, code: str) -> Unit:
        return self._units_by_code[code]
