"""Load and validate the project's config: `units.yaml` and `report.yaml`.

Both files are validated as a whole when loaded; the first problem raises
`ConfigError` naming the file, the key (as a path like `units[3].kind`) and what
is wrong, in Vietnamese, for the admin who edits them.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from housing_report.config.expressions import Expression, ExpressionError, parse_expression
from housing_report.config.model import (
    CODE_RE,
    DEFAULT_CONFIG_DIR,
    EMAIL_RE,
    OPERATORS,
    SECTION_KINDS,
    SEVERITIES,
    SPREADSHEET_KEY_RE,
    UNIT_CODE_RE,
    UNIT_KINDS,
    VALUE_KINDS,
    Config,
    ConfigError,
    Contact,
    Issuer,
    Item,
    Outliers,
    Programme,
    Progress,
    ReportConfig,
    Requirement,
    Rule,
    Schedule,
    Section,
    Signature,
    Template,
    Unit,
    UnitKind,
    nfc,
    select_keys,
    total_keys,
)

# --------------------------------------------------------------------------- loading


class _Reader:
    """Typed access to a parsed YAML document that raises ConfigError with the key path."""

    def __init__(self, file: Path):
        self.file = file

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.file, key, problem)

    def load(self) -> dict[str, Any]:
        if not self.file.is_file():
            raise self.fail("(tệp)", "không tìm thấy tệp cấu hình")
        try:
            data = yaml.safe_load(self.file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"dòng {mark.line + 1}, cột {mark.column + 1}" if mark else "(cú pháp)"
            raise self.fail(where, f"không đọc được YAML: {getattr(exc, 'problem', exc)}") from exc
        except UnicodeDecodeError as exc:
            raise self.fail("(tệp)", "tệp không phải văn bản UTF-8") from exc
        if not isinstance(data, dict):
            raise self.fail("(gốc)", "tệp phải là một bảng khóa: giá trị (mapping)")
        return data

    def mapping(self, data: Any, key: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, f"phải là một bảng khóa: giá trị, đang là {_show(data)}")
        return data

    def seq(self, data: Any, key: str, *, allow_empty: bool = False) -> list[Any]:
        if not isinstance(data, list):
            raise self.fail(key, f"phải là một danh sách, đang là {_show(data)}")
        if not data and not allow_empty:
            raise self.fail(key, "danh sách không được rỗng")
        return data

    def text(self, data: dict[str, Any], name: str, key: str, default: str | None = None) -> str:
        value = data.get(name, default)
        if value is None:
            raise self.fail(f"{key}.{name}", "thiếu khóa bắt buộc")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(f"{key}.{name}", f"phải là chuỗi ký tự, đang là {_show(value)}")
        value = nfc(str(value)).strip()
        if not value:
            raise self.fail(f"{key}.{name}", "không được để trống")
        return value

    def email(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not EMAIL_RE.match(value.strip()):
            raise self.fail(key, f"địa chỉ email không hợp lệ: {_show(value)}")
        return value.strip()

    def contacts(self, data: Any, key: str, *, allow_empty: bool = False) -> tuple[Contact, ...]:
        out = []
        for i, item in enumerate(self.seq(data, key, allow_empty=allow_empty)):
            k = f"{key}[{i}]"
            item = self.mapping(item, k)
            out.append(Contact(self.text(item, "name", k), self.email(item.get("email"), f"{k}.email")))
        return tuple(out)

    def unknown_keys(self, data: dict[str, Any], allowed: set[str], key: str) -> None:
        for name in data:
            if name not in allowed:
                raise self.fail(
                    f"{key}.{name}" if key else str(name),
                    f"khóa không được hỗ trợ; các khóa hợp lệ: {', '.join(sorted(allowed))}",
                )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _code(reader: _Reader, data: dict[str, Any], key: str) -> str:
    code = reader.text(data, "code", key)
    if not CODE_RE.match(code):
        raise reader.fail(
            f"{key}.code",
            f"mã '{code}' không hợp lệ: chỉ dùng chữ in hoa không dấu, chữ số và dấu gạch dưới",
        )
    return code


def _items(reader: _Reader, data: Any, key: str, default_value: str) -> tuple[Item, ...]:
    out: list[Item] = []
    seen: set[str] = set()
    for i, raw in enumerate(reader.seq(data, key)):
        k = f"{key}[{i}]"
        raw = reader.mapping(raw, k)
        reader.unknown_keys(raw, {"code", "label", "value"}, k)
        code = _code(reader, raw, k)
        if code in seen:
            raise reader.fail(f"{k}.code", f"mã '{code}' bị trùng")
        seen.add(code)
        value = raw.get("value", default_value)
        if value not in VALUE_KINDS:
            raise reader.fail(
                f"{k}.value", f"kiểu giá trị '{value}' không hợp lệ; dùng {', '.join(VALUE_KINDS)}"
            )
        out.append(Item(code, reader.text(raw, "label", k), value))
    return tuple(out)


def _section(reader: _Reader, raw: Any, key: str) -> Section:
    raw = reader.mapping(raw, key)
    reader.unknown_keys(
        raw,
        {"code", "kind", "label", "value", "unit", "cumulative", "fields", "rows", "columns", "place"},
        key,
    )
    code = reader.text(raw, "code", key)
    kind = raw.get("kind")
    if kind not in SECTION_KINDS:
        raise reader.fail(f"{key}.kind", f"loại mục '{kind}' không hợp lệ; dùng {', '.join(SECTION_KINDS)}")
    value = raw.get("value", "count")
    if value not in ("count", "money"):
        raise reader.fail(f"{key}.value", f"kiểu số '{value}' không hợp lệ; dùng count hoặc money")
    common = dict(
        code=code,
        kind=kind,
        label=reader.text(raw, "label", key),
        value=value,
        unit=nfc(str(raw.get("unit", ""))),
        cumulative=bool(raw.get("cumulative", False)),
    )
    if kind == "table":
        if not CODE_RE.match(code):
            raise reader.fail(f"{key}.code", f"mã bảng '{code}' không hợp lệ")
        return Section(
            **common,
            rows=_items(reader, raw.get("rows"), f"{key}.rows", value),
            columns=_items(reader, raw.get("columns"), f"{key}.columns", value),
        )
    if kind == "fields":
        return Section(**common, fields=_items(reader, raw.get("fields"), f"{key}.fields", value))
    if not CODE_RE.match(code):
        raise reader.fail(f"{key}.code", f"mã danh sách '{code}' không hợp lệ")
    return Section(**common, place=bool(raw.get("place", False)))


def _template(reader: _Reader, raw: Any) -> Template:
    key = "template"
    raw = reader.mapping(raw, key)
    reader.unknown_keys(raw, {"version", "worksheet", "sections", "kinds"}, key)
    sections = tuple(
        _section(reader, s, f"{key}.sections[{i}]")
        for i, s in enumerate(reader.seq(raw.get("sections"), f"{key}.sections"))
    )
    # Every code read from column A must be unique across the template.
    seen: dict[str, str] = {}
    for i, s in enumerate(sections):
        codes = [s.code] if s.kind != "fields" else []
        codes += [f.code for f in s.fields] + [r.code for r in s.rows]
        for c in codes:
            if c in seen:
                raise reader.fail(f"{key}.sections[{i}]", f"mã '{c}' đã dùng ở mục {seen[c]}")
            seen[c] = s.code
    by_code = {s.code: s for s in sections}
    for required in ("KY_BAO_CAO",):
        if required not in seen:
            raise reader.fail(f"{key}.sections", f"thiếu trường bắt buộc {required}")

    kinds: dict[str, UnitKind] = {}
    raw_kinds = reader.mapping(raw.get("kinds"), f"{key}.kinds")
    for name, spec in raw_kinds.items():
        k = f"{key}.kinds.{name}"
        if name not in UNIT_KINDS:
            raise reader.fail(k, f"loại đơn vị '{name}' không hợp lệ; dùng {', '.join(UNIT_KINDS)}")
        spec = reader.mapping(spec, k)
        reader.unknown_keys(spec, {"label", "required", "optional"}, k)
        reqs: list[Requirement] = []
        for j, ref in enumerate(reader.seq(spec.get("required"), f"{k}.required")):
            section_code, _, row = str(ref).partition(".")
            section = by_code.get(section_code)
            if section is None:
                raise reader.fail(f"{k}.required[{j}]", f"mã mục không tồn tại: '{ref}'")
            rows = None
            if row:
                if section.kind != "table" or row not in {r.code for r in section.rows}:
                    raise reader.fail(f"{k}.required[{j}]", f"mã dòng không tồn tại: '{ref}'")
                rows = (row,)
            reqs.append(Requirement(section_code, rows))
        optional = []
        for j, ref in enumerate(reader.seq(spec.get("optional", []), f"{k}.optional", allow_empty=True)):
            if ref not in by_code:
                raise reader.fail(f"{k}.optional[{j}]", f"mã mục không tồn tại: '{ref}'")
            optional.append(str(ref))
        if not any(r.section == by_code_of(sections, "KY_BAO_CAO") for r in reqs):
            raise reader.fail(f"{k}.required", "phải gồm mục chứa KY_BAO_CAO")
        kinds[name] = UnitKind(name, reader.text(spec, "label", k), tuple(reqs), tuple(optional))
    worksheet = reader.text(raw, "worksheet", key, default="BaoCao")
    version = raw.get("version", 1)
    if not isinstance(version, int):
        raise reader.fail(f"{key}.version", "phải là số nguyên")
    return Template(version, worksheet, sections, kinds)


def by_code_of(sections: tuple[Section, ...], field_code: str) -> str | None:
    for s in sections:
        if any(f.code == field_code for f in s.fields):
            return s.code
    return None


RULE_KEYS = {
    "name",
    "table",
    "for_each",
    "exclude",
    "kinds",
    "left",
    "op",
    "right",
    "severity",
    "message",
    "fix",
}
# What a rule's message may name: the values, their cells, the figure and the earlier period.
RULE_PLACEHOLDERS = {
    "left", "right", "difference", "left_cell", "right_cell", "left_code", "right_code",
    "row", "row_label", "key", "label", "last_period",
}  # fmt: skip
OUTLIER_PLACEHOLDERS = {
    "label", "key", "increase", "growth", "previous", "current", "last_period", "low", "high", "median",
    "peers",
}  # fmt: skip
DEFAULT_OUTLIER_MESSAGE = (
    "«{label}» tăng {increase} so với kỳ {last_period} (từ {previous} lên {current}, {growth}), "
    "khác thường so với các đơn vị cùng loại và các kỳ trước của đơn vị "
    "(mức tăng thường gặp: từ {low} đến {high})"
)


def _patterns(reader: _Reader, raw: Any, key: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else reader.seq(raw, key)
    return tuple(str(p).strip() for p in items)


def _placeholders(reader: _Reader, text: str, allowed: set[str], key: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise reader.fail(key, f"dấu ngoặc {{ }} không cân: {exc}") from exc
    for name in names:
        if name not in allowed:
            raise reader.fail(
                key,
                f"chỗ trống {{{name}}} không được hỗ trợ; dùng "
                + ", ".join("{" + a + "}" for a in sorted(allowed)),
            )


def _rule_side(
    reader: _Reader, text: str, key: str, sample_key: str | None, constants: dict[str, float], known: set[str]
) -> Expression:
    if "{key}" in text and sample_key is None:
        raise reader.fail(key, "chỉ dùng {key} khi quy tắc có for_each")
    try:
        expression = parse_expression(text.replace("{key}", sample_key or ""), constants)
    except ExpressionError as exc:
        raise reader.fail(key, str(exc)) from exc
    for ref in expression.refs:
        if ref.key not in known:
            raise reader.fail(key, f"mã chỉ tiêu không tồn tại: '{ref.key}'")
    return expression


def _rules(reader: _Reader, raw: Any, template: Template, constants: dict[str, float]) -> tuple[Rule, ...]:
    out = []
    known = set(template.all_figure_keys()) | set(total_keys(template))
    for i, item in enumerate(reader.seq(raw if raw is not None else [], "rules", allow_empty=True)):
        k = f"rules[{i}]"
        item = reader.mapping(item, k)
        reader.unknown_keys(item, RULE_KEYS, k)
        op = item.get("op")
        if op not in OPERATORS:
            raise reader.fail(f"{k}.op", f"phép so sánh '{op}' không hợp lệ; dùng {' '.join(OPERATORS)}")
        severity = item.get("severity")
        if severity not in SEVERITIES:
            raise reader.fail(f"{k}.severity", f"mức '{severity}' không hợp lệ; dùng error hoặc warning")
        kinds = _patterns(reader, item.get("kinds"), f"{k}.kinds")
        for j, kind in enumerate(kinds):
            if kind not in template.kinds:
                raise reader.fail(f"{k}.kinds[{j}]", f"loại đơn vị không tồn tại: '{kind}'")
        message = reader.text(item, "message", k)
        _placeholders(reader, message, RULE_PLACEHOLDERS, f"{k}.message")
        fix = nfc(str(item.get("fix") or "")).strip()
        _placeholders(reader, fix, RULE_PLACEHOLDERS, f"{k}.fix")
        common = dict(
            constants=tuple(sorted(constants.items())),
            op=op,
            severity=severity,
            message=message,
            name=nfc(str(item.get("name") or "")).strip(),
            kinds=kinds,
            fix=fix,
        )
        if item.get("table") is not None:
            for extra in ("for_each", "exclude"):
                if item.get(extra) is not None:
                    raise reader.fail(f"{k}.{extra}", "không dùng cùng với table (quy tắc theo từng dòng)")
            table_code = reader.text(item, "table", k)
            try:
                table = template.section(table_code)
            except KeyError:
                table = None
            if table is None or table.kind != "table":
                raise reader.fail(f"{k}.table", f"mã bảng không tồn tại: '{table_code}'")
            columns = {c.code for c in table.columns}
            for side in ("left", "right"):
                code = reader.text(item, side, k)
                if code not in columns:
                    raise reader.fail(
                        f"{k}.{side}", f"mã cột không tồn tại trong bảng {table_code}: '{code}'"
                    )
            out.append(Rule(table_code, str(item["left"]), right=str(item["right"]), **common))
            continue
        for_each = _patterns(reader, item.get("for_each"), f"{k}.for_each")
        exclude = _patterns(reader, item.get("exclude"), f"{k}.exclude")
        sample_key = None
        if for_each:
            selected = select_keys(template, for_each, exclude)
            if not selected:
                raise reader.fail(f"{k}.for_each", f"không chọn được chỉ tiêu nào: {', '.join(for_each)}")
            sample_key = selected[0]
        left = reader.text(item, "left", k)
        right = reader.text(item, "right", k)
        sides = [
            _rule_side(reader, left, f"{k}.left", sample_key, constants, known),
            _rule_side(reader, right, f"{k}.right", sample_key, constants, known),
        ]
        if not any(s.refs for s in sides):
            raise reader.fail(f"{k}.left", "quy tắc phải nhắc đến ít nhất một mã chỉ tiêu")
        out.append(
            Rule(
                None,
                left,
                right=right,
                for_each=for_each,
                exclude=exclude,
                history=any(s.uses_last for s in sides),
                **common,
            )
        )
    return tuple(out)


def _constants(reader: _Reader, raw: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in reader.mapping(raw if raw is not None else {}, "constants").items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            raise reader.fail(f"constants.{name}", "tên hằng số chỉ gồm chữ thường không dấu, số và '_'")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise reader.fail(f"constants.{name}", f"phải là một số, đang là {_show(value)}")
        out[str(name)] = float(value)
    return out


def _outliers(reader: _Reader, raw: Any, template: Template) -> Outliers:
    if raw is None:
        return Outliers()
    key = "outliers"
    raw = reader.mapping(raw, key)
    reader.unknown_keys(
        raw, {"figures", "threshold", "min_peers", "min_history", "severity", "message", "fix"}, key
    )
    figures = _patterns(reader, raw.get("figures"), f"{key}.figures")
    if figures and not select_keys(template, figures):
        raise reader.fail(f"{key}.figures", f"không chọn được chỉ tiêu nào: {', '.join(figures)}")
    threshold = raw.get("threshold", 3.5)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold <= 0:
        raise reader.fail(f"{key}.threshold", "phải là một số dương, ví dụ 3.5")
    numbers = {}
    for name, default in (("min_peers", 5), ("min_history", 3)):
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise reader.fail(f"{key}.{name}", "phải là số nguyên từ 2 trở lên")
        numbers[name] = value
    severity = raw.get("severity", "warning")
    if severity not in SEVERITIES:
        raise reader.fail(f"{key}.severity", f"mức '{severity}' không hợp lệ; dùng error hoặc warning")
    message = nfc(str(raw.get("message") or DEFAULT_OUTLIER_MESSAGE)).strip()
    _placeholders(reader, message, OUTLIER_PLACEHOLDERS, f"{key}.message")
    fix = nfc(str(raw.get("fix") or "")).strip()
    _placeholders(reader, fix, OUTLIER_PLACEHOLDERS, f"{key}.fix")
    return Outliers(figures, float(threshold), severity=severity, message=message, fix=fix, **numbers)


def _progress(reader: _Reader, raw: Any, template: Template) -> Progress:
    raw = reader.mapping(raw, "progress")
    reader.unknown_keys(raw, {"table", "needed", "started", "completed"}, "progress")
    table_code = reader.text(raw, "table", "progress")
    section = next((s for s in template.sections if s.code == table_code and s.kind == "table"), None)
    if section is None:
        raise reader.fail("progress.table", f"mã bảng không tồn tại: '{table_code}'")
    columns = {c.code for c in section.columns}
    picked = {}
    for name in ("needed", "started", "completed"):
        codes = reader.seq(raw.get(name), f"progress.{name}")
        for j, code in enumerate(codes):
            if code not in columns:
                raise reader.fail(
                    f"progress.{name}[{j}]", f"mã cột không tồn tại trong bảng {table_code}: '{code}'"
                )
        picked[name] = tuple(str(c) for c in codes)
    return Progress(table_code, picked["needed"], picked["started"], picked["completed"])


def _signature(reader: _Reader, raw: Any) -> Signature | None:
    """`issuer.signature`: {authority (optional), title, name}; absent: the document leaves it blank."""
    if raw is None:
        return None
    key = "issuer.signature"
    raw = reader.mapping(raw, key)
    reader.unknown_keys(raw, {"authority", "title", "name"}, key)
    authority = raw.get("authority")
    if authority is not None and (not isinstance(authority, str) or not authority.strip()):
        raise reader.fail(f"{key}.authority", f"phải là chuỗi ký tự không rỗng, đang là {_show(authority)}")
    return Signature(
        title=reader.text(raw, "title", key),
        name=reader.text(raw, "name", key),
        authority=nfc(authority).strip() if authority else "",
    )


def _places_to_send(reader: _Reader, raw: Any) -> tuple[str, ...]:
    """`issuer.places_to_send`: the lines of "Nơi nhận" (without "- Lưu", which comes from `archive`)."""
    if raw is None:
        return ()
    key = "issuer.places_to_send"
    out = []
    for i, item in enumerate(reader.seq(raw, key)):
        if not isinstance(item, str) or not item.strip():
            raise reader.fail(f"{key}[{i}]", f"phải là chuỗi ký tự không rỗng, đang là {_show(item)}")
        text = nfc(item).strip().lstrip("-").strip().rstrip(";").strip()
        if text.lower().startswith("lưu:") or text.lower().startswith("lưu "):
            raise reader.fail(f"{key}[{i}]", "không ghi dòng «Lưu» ở đây; dùng khóa issuer.archive")
        out.append(text)
    return tuple(out)


def load_report_config(path: Path) -> ReportConfig:
    reader = _Reader(path)
    data = reader.load()
    reader.unknown_keys(
        data,
        {
            "programme", "issuer", "recipients", "admins", "schedule", "template", "rules", "progress",
            "constants", "outliers",
        },
        "",
    )  # fmt: skip
    prog = reader.mapping(data.get("programme"), "programme")
    target = prog.get("target_date")
    if isinstance(target, str):
        try:
            target = dt.date.fromisoformat(target)
        except ValueError:
            target = None
    if not isinstance(target, dt.date):
        raise reader.fail("programme.target_date", "phải là ngày dạng yyyy-mm-dd")
    programme = Programme(
        reader.text(prog, "title", "programme"),
        reader.text(prog, "short_title", "programme", default=prog.get("title")),
        target,
    )
    iss = reader.mapping(data.get("issuer"), "issuer")
    reader.unknown_keys(
        iss,
        {"kind", "parent", "name", "place", "report_number_prefix", "signature", "places_to_send", "archive"},
        "issuer",
    )
    if iss.get("kind") not in ("party", "state"):
        raise reader.fail("issuer.kind", "phải là party (cơ quan Đảng) hoặc state (cơ quan nhà nước)")
    issuer = Issuer(
        iss["kind"],
        reader.text(iss, "parent", "issuer"),
        reader.text(iss, "name", "issuer"),
        reader.text(iss, "place", "issuer"),
        reader.text(iss, "report_number_prefix", "issuer"),
        signature=_signature(reader, iss.get("signature")),
        places_to_send=_places_to_send(reader, iss.get("places_to_send")),
        archive=reader.text(iss, "archive", "issuer", default="VT"),
    )
    rec = reader.mapping(data.get("recipients"), "recipients")
    to = reader.contacts(rec.get("to"), "recipients.to")
    cc = reader.contacts(rec.get("cc", []), "recipients.cc", allow_empty=True)
    admins = reader.contacts(data.get("admins"), "admins")
    sch = reader.mapping(data.get("schedule"), "schedule")
    days = reader.seq(sch.get("collection_days"), "schedule.collection_days")
    for j, d in enumerate(days):
        if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 28:
            raise reader.fail(f"schedule.collection_days[{j}]", f"ngày phải từ 1 đến 28, đang là {_show(d)}")
    if len(set(days)) != len(days):
        raise reader.fail("schedule.collection_days", "ngày bị trùng")
    hour = sch.get("hour", 7)
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise reader.fail("schedule.hour", "giờ phải từ 0 đến 23")
    tz = reader.text(sch, "timezone", "schedule")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise reader.fail("schedule.timezone", f"múi giờ không tồn tại: '{tz}'") from exc
    template = _template(reader, data.get("template"))
    constants = _constants(reader, data.get("constants"))
    return ReportConfig(
        programme=programme,
        issuer=issuer,
        to=to,
        cc=cc,
        admins=admins,
        schedule=Schedule(tuple(sorted(days)), hour, tz),
        template=template,
        rules=_rules(reader, data.get("rules"), template, constants),
        progress=_progress(reader, data.get("progress"), template),
        constants=constants,
        outliers=_outliers(reader, data.get("outliers"), template),
    )


def load_units(path: Path, template: Template) -> tuple[Unit, ...]:
    reader = _Reader(path)
    data = reader.load()
    reader.unknown_keys(data, {"units"}, "")
    units: list[Unit] = []
    codes: dict[str, int] = {}
    places: dict[tuple[str, str], str] = {}
    for i, raw in enumerate(reader.seq(data.get("units"), "units")):
        k = f"units[{i}]"
        raw = reader.mapping(raw, k)
        reader.unknown_keys(raw, {"code", "name", "kind", "spreadsheet", "worksheet", "emails"}, k)
        code = reader.text(raw, "code", k)
        if not UNIT_CODE_RE.match(code):
            raise reader.fail(f"{k}.code", f"mã đơn vị '{code}' chỉ được gồm chữ không dấu, số, '_' và '-'")
        if code in codes:
            raise reader.fail(f"{k}.code", f"mã đơn vị '{code}' bị trùng với units[{codes[code]}]")
        codes[code] = i
        kind = raw.get("kind")
        if kind not in UNIT_KINDS:
            raise reader.fail(f"{k}.kind", f"loại đơn vị '{kind}' không hợp lệ; dùng {', '.join(UNIT_KINDS)}")
        if kind not in template.kinds:
            raise reader.fail(f"{k}.kind", f"loại đơn vị '{kind}' chưa được khai báo trong report.yaml")
        sheet = reader.text(raw, "spreadsheet", k)
        if not SPREADSHEET_KEY_RE.match(sheet):
            raise reader.fail(f"{k}.spreadsheet", f"mã bảng tính '{sheet}' không hợp lệ")
        worksheet = reader.text(raw, "worksheet", k, default=template.worksheet)
        if (sheet, worksheet) in places:
            raise reader.fail(
                f"{k}.worksheet",
                f"trang tính '{worksheet}' của bảng tính '{sheet}' đã thuộc đơn vị "
                f"{places[(sheet, worksheet)]}",
            )
        places[(sheet, worksheet)] = code
        emails = tuple(
            reader.email(e, f"{k}.emails[{j}]")
            for j, e in enumerate(reader.seq(raw.get("emails", []), f"{k}.emails", allow_empty=True))
        )
        units.append(Unit(code, reader.text(raw, "name", k), kind, sheet, worksheet, emails))
    return tuple(units)


def load_config(directory: str | Path | None = None) -> Config:
    """Load `report.yaml` and `units.yaml` from `directory` (default: include/config)."""
    directory = Path(directory) if directory else DEFAULT_CONFIG_DIR
    report = load_report_config(directory / "report.yaml")
    units = load_units(directory / "units.yaml", report.template)
    return Config(report=report, units=units, directory=directory)
