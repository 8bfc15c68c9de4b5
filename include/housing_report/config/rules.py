"""The data-quality settings of `report.yaml`: its rules (`rules:`) and what an unusual increase
is (`outliers:`); `housing_report.validate` applies them. Pydantic dataclasses carrying the
file's checks, like the rest of the model (`config.model`).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic.dataclasses import dataclass

from housing_report.config.checks import (
    Check,
    Explain,
    Says,
    count_from_two,
    loose_text,
    nfc,
    non_negative_number,
    patterns,
    placeholders,
    positive_number,
    problem,
    shared,
    text,
)
from housing_report.config.expressions import Expression, ExpressionError, parse_expression
from housing_report.config.template import STRICT, Text, reject_derived, select_keys, total_keys

SEVERITIES = ("error", "warning")
OPERATORS = ("<=", "<", ">=", ">", "==", "!=")
# How an operator reads in a Vietnamese sentence ("must be ... the right side").
OPERATOR_WORDS = {
    "<=": "không lớn hơn",
    "<": "nhỏ hơn",
    ">=": "không nhỏ hơn",
    ">": "lớn hơn",
    "==": "bằng",
    "!=": "khác",
}
# What a rule's message may name: the values, their cells, the figure and the earlier period.
RULE_PLACEHOLDERS = {
    "left", "right", "difference", "left_cell", "right_cell", "left_code", "right_code",
    "row", "row_label", "key", "label", "last_period",
}  # fmt: skip
OUTLIER_PLACEHOLDERS = {
    "label", "key", "increase", "growth", "previous", "current", "last_period", "low", "high", "median",
    "peers", "ratio",
}  # fmt: skip
DEFAULT_JUMP_MESSAGE = (
    "«{label}» kỳ này ghi {current}, gấp {ratio} lần số {previous} đã báo cáo kỳ {last_period}: "
    "khác thường so với các kỳ trước của đơn vị"
)
DEFAULT_OUTLIER_MESSAGE = (
    "«{label}» tăng {increase} so với kỳ {last_period} (từ {previous} lên {current}, {growth}), "
    "khác thường so với các đơn vị cùng loại và các kỳ trước của đơn vị "
    "(mức tăng thường gặp: từ {low} đến {high})"
)

Operator = Annotated[
    Literal[OPERATORS], Says(f"phép so sánh '{{}}' không hợp lệ; dùng {' '.join(OPERATORS)}")
]
Severity = Annotated[Literal[SEVERITIES], Says("mức '{}' không hợp lệ; dùng error hoặc warning")]


@dataclass(frozen=True, config=STRICT)
class Rule:
    """A check over a unit's figures (see `housing_report.validate.rules`).

    With `table`, `left` and `right` are column codes compared on every row of that table.
    Otherwise they are expressions over figure keys (`housing_report.config.expressions`), checked
    once, or once per key that `for_each` selects (`{key}` in the sides stands for it).
    """

    table: str | None
    left: Annotated[str, Explain(text)]
    op: Operator
    right: Annotated[str, Explain(text)]
    severity: Severity
    message: Text
    name: Annotated[str, Check(loose_text)] = ""
    for_each: tuple[str, ...] = ()  # figure-key patterns (`A.*.CAN_*`) or `cumulative`
    exclude: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # unit kinds it applies to; empty: every kind
    fix: Annotated[str, Check(loose_text)] = ""  # what to do, appended to the message
    history: bool = False  # compares with the unit's last accepted figures (`last.`)
    constants: tuple[tuple[str, float], ...] = ()  # report.yaml's constants, for the sides

    _derived: ClassVar = ("history", "constants")
    # The order of the checks: a rule on a table's rows, or one on expressions (the sides last).
    _order: ClassVar = (
        "op", "severity", "kinds", "message", "fix", "name", "for_each", "exclude", "selects", "table",
        "left", "right", "left_side", "right_side", "sides",
    )  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _file_keys(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context is None or not isinstance(data, dict):
            return data
        reject_derived(cls, data)
        return {"table": None, "exclude": None, **data}  # `exclude`: so that `for_each` is checked with it

    @field_validator("table", mode="before")
    @classmethod
    def _table_text(cls, value: Any, info: ValidationInfo) -> Any:
        return value if info.context is None or value is None else text(value)

    @field_validator("table")
    @classmethod
    def _table_exists(cls, code: str | None, info: ValidationInfo) -> str | None:
        template = shared(info, "template")
        if template is None or code is None:
            return code
        try:
            table = template.section(code)
        except KeyError:
            table = None
        if table is None or table.kind != "table":
            raise problem(f"mã bảng không tồn tại: '{code}'")
        return code

    @staticmethod
    def _on_rows(info: ValidationInfo) -> bool:
        """A rule on a table's rows: `table` given (valid, or not, and then said first)."""
        return "table" not in info.data or info.data["table"] is not None

    @field_validator("left", "right", mode="before")
    @classmethod
    def _side_text(cls, value: Any, info: ValidationInfo) -> Any:
        if info.context is None:
            return value
        code = text(value)
        if not cls._on_rows(info):
            return code
        table, template = info.data.get("table"), shared(info, "template")
        if table is not None and template is not None:
            if code not in {c.code for c in template.section(table).columns}:
                raise problem(f"mã cột không tồn tại trong bảng {table}: '{code}'")
        return str(value)

    @field_validator("message", "fix")
    @classmethod
    def _placeholders(cls, message: str, info: ValidationInfo) -> str:
        return message if info.context is None else placeholders(message, RULE_PLACEHOLDERS)

    @field_validator("for_each", "exclude", mode="before")
    @classmethod
    def _patterns(cls, value: Any, info: ValidationInfo) -> Any:
        if info.context is None:
            return value
        if cls._on_rows(info):
            if value is not None:
                raise problem("không dùng cùng với table (quy tắc theo từng dòng)")
            return ()
        return patterns(value)

    @field_validator("exclude")
    @classmethod
    def _selects(cls, exclude: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        template, for_each = shared(info, "template"), info.data.get("for_each")
        if template is not None and for_each and not select_keys(template, for_each, exclude):
            raise problem(
                f"không chọn được chỉ tiêu nào: {', '.join(for_each)}", field="for_each", check="selects"
            )
        return exclude

    @field_validator("kinds", mode="before")
    @classmethod
    def _kinds(cls, value: Any, info: ValidationInfo) -> Any:
        if info.context is None:
            return value
        kinds, template = patterns(value), shared(info, "template")
        for j, kind in enumerate(kinds if template is not None else ()):
            if kind not in template.kinds:
                raise problem(f"loại đơn vị không tồn tại: '{kind}'", j)
        return kinds

    @model_validator(mode="after")
    def _sides(self, info: ValidationInfo) -> Rule:
        """The sides of an expression rule, read with the constants; the rule's derived fields."""
        template = shared(info, "template")
        constants = shared(info, "constants")
        if template is None or constants is None:
            return self
        object.__setattr__(self, "constants", tuple(sorted(constants.items())))
        if self.table is not None:
            return self
        known = info.context.get("figure_keys")
        if known is None:
            known = info.context["figure_keys"] = set(template.all_figure_keys()) | set(total_keys(template))
        sample_key = select_keys(template, self.for_each, self.exclude)[0] if self.for_each else None
        sides = [
            _side(self.left, "left", sample_key, constants, known),
            _side(self.right, "right", sample_key, constants, known),
        ]
        if not any(s.refs for s in sides):
            raise problem("quy tắc phải nhắc đến ít nhất một mã chỉ tiêu", "left", check="sides")
        object.__setattr__(self, "history", any(s.uses_last for s in sides))
        return self


def _side(
    source: str, side: str, sample_key: str | None, constants: dict[str, float], known: set[str]
) -> Expression:
    check = f"{side}_side"
    if "{key}" in source and sample_key is None:
        raise problem("chỉ dùng {key} khi quy tắc có for_each", side, check=check)
    try:
        expression = parse_expression(source.replace("{key}", sample_key or ""), constants)
    except ExpressionError as exc:
        raise problem(str(exc), side, check=check) from exc
    for ref in expression.refs:
        if ref.key not in known:
            raise problem(f"mã chỉ tiêu không tồn tại: '{ref.key}'", side, check=check)
    return expression


@dataclass(frozen=True, config=STRICT)
class Outliers:
    """Unusual increases since a unit's last accepted period (modified z-score, MAD)."""

    figures: tuple[str, ...] = ()
    threshold: Annotated[float, Check(positive_number)] = 3.5
    min_peers: Annotated[int, Check(count_from_two)] = 5
    min_history: Annotated[int, Check(count_from_two)] = 3
    severity: Severity = "warning"
    # In the file, no message is the default one.
    message: Annotated[str, Check(lambda v: nfc(str(v or DEFAULT_OUTLIER_MESSAGE)).strip())] = Field(
        default="", validate_default=True
    )
    fix: Annotated[str, Check(loose_text)] = ""
    # Against the unit's own last accepted figure, for every figure of the template, peers or not:
    # `jump` times it or more, and at least `jump_min_increase` more (0 for `jump`: not checked).
    jump: Annotated[float, Check(non_negative_number)] = 100.0
    jump_min_increase: Annotated[float, Check(non_negative_number)] = 100.0
    jump_message: Annotated[str, Check(lambda v: nfc(str(v or DEFAULT_JUMP_MESSAGE)).strip())] = Field(
        default="", validate_default=True
    )

    @field_validator("figures", mode="before")
    @classmethod
    def _figures(cls, value: Any, info: ValidationInfo) -> Any:
        if info.context is None:
            return value
        figures, template = patterns(value), shared(info, "template")
        if figures and template is not None and not select_keys(template, figures):
            raise problem(f"không chọn được chỉ tiêu nào: {', '.join(figures)}")
        return figures

    @field_validator("message", "fix", "jump_message")
    @classmethod
    def _placeholders(cls, message: str, info: ValidationInfo) -> str:
        return message if info.context is None else placeholders(message, OUTLIER_PLACEHOLDERS)
