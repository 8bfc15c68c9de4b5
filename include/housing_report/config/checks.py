"""The checks of the config's values as pydantic validators, saying what is wrong in Vietnamese.

A check runs only while `config.load` validates a file: the loader passes a context (a dict),
and a validator without one (an object built in code, `dataclasses.replace`) lets the value
through to pydantic's own type validation, as a plain dataclass would. A check raises
`problem(...)`, which `config.errors` turns into the key and the problem of a `ConfigError`.

The functions of this module are the leaf checks (a text, an email, a list, ...). Each is
also how `config.errors` explains an error of pydantic's own at that key: a missing key is
checked as `None`, a value pydantic rejects as that value, so the admin reads what the
hand-written reader used to say ("thiếu khóa bắt buộc", "phải là một danh sách, đang là 5").
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, ValidationInfo
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# The error type of the config's own problems; its context holds the Vietnamese text.
PROBLEM = "config_problem"
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
CONSTANT_RE = re.compile(r"[a-z][a-z0-9_]*")


def problem(
    text: str, *suffix: str | int, field: str | None = None, check: str | None = None
) -> PydanticCustomError:
    """A problem at the key being validated, for `raise`.

    `field`: at a sibling key instead (a check of one field that names another); `suffix`:
    below the key (`[3]`, `.code`); `check`: the name of the check in the model's `_order`
    when it is not the key's own (a check that comes later than the key's first checks).
    """
    return PydanticCustomError(
        PROBLEM, "{problem}", {"problem": text, "field": field, "suffix": suffix, "check": check}
    )


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def unknown_key(allowed: Iterable[str]) -> str:
    return f"khóa không được hỗ trợ; các khóa hợp lệ: {', '.join(sorted(allowed))}"


def hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def ignore_other_keys(data: Any, info: ValidationInfo) -> Any:
    """Before a lenient model (unknown keys ignored): also ignore the keys that are not text,
    which pydantic would name."""
    if info.context is None or not isinstance(data, dict) or all(isinstance(k, str) for k in data):
        return data
    return {k: v for k, v in data.items() if isinstance(k, str)}


def mapping_problem(value: Any) -> str:
    return f"phải là một bảng khóa: giá trị, đang là {show(value)}"


# --------------------------------------------------------------------------- markers


@dataclass(frozen=True)
class Explain:
    """Annotated metadata: what is wrong with a value of this key that pydantic rejected
    (`fn` raises `problem(...)` for it; a missing key is explained as `None`)."""

    fn: Callable[[Any], Any]

    def explain(self, value: Any) -> str | None:
        try:
            self.fn(value)
        except PydanticCustomError as exc:
            return str((exc.context or {}).get("problem") or "") or None
        except Exception:  # noqa: BLE001 - a value the check does not handle: say it generically
            return None
        return None


@dataclass(frozen=True)
class Check(Explain):
    """Annotated metadata: `fn` checks and normalizes the raw value while loading, before
    pydantic's validation of the type (`plain`: instead of it)."""

    plain: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        if self.plain:
            return core_schema.with_info_plain_validator_function(self._run)
        return core_schema.with_info_before_validator_function(self._run, handler(source))

    def _run(self, value: Any, info: ValidationInfo) -> Any:
        return value if info.context is None else self.fn(value)


@dataclass(frozen=True)
class Says:
    """Annotated metadata of a field pydantic validates itself (a `Literal`): the problem with
    a value it rejects, `{}` standing for the value (`None` when the key is missing)."""

    text: str

    def explain(self, value: Any) -> str:
        return self.text.format(value)


class Scope:
    """The codes and places seen so far in one list being loaded (for duplicates)."""

    def __init__(self) -> None:
        self.index = -1
        self.codes: dict[str, int] = {}
        self.places: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Scoped:
    """Annotated metadata of a list whose items must not repeat a code: a fresh `Scope` in the
    loader's context (`current_scope`) while its items are validated, in order."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.with_info_wrap_validator_function(self._run, handler(source))

    @staticmethod
    def _run(value: Any, handler: core_schema.ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        if info.context is None:
            return handler(value)
        scopes = info.context.setdefault("scopes", [])
        scopes.append(Scope())
        try:
            return handler(value)
        finally:
            scopes.pop()


def shared(info: ValidationInfo, name: str) -> Any:
    """What the loader's context holds under `name` (`template`, `constants`) once valid (else
    its problem is said first, and the checks that need it wait); None outside loading."""
    return info.context.get(name) if info.context is not None else None


def current_scope(info: ValidationInfo) -> Scope:
    return info.context["scopes"][-1]


# --------------------------------------------------------------------------- leaf checks


def text(value: Any) -> str:
    """A required text (a number is taken as its digits), NFC, trimmed, not empty."""
    if value is None:
        raise problem("thiếu khóa bắt buộc")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise problem(f"phải là chuỗi ký tự, đang là {show(value)}")
    value = nfc(str(value)).strip()
    if not value:
        raise problem("không được để trống")
    return value


def loose_text(value: Any) -> str:
    """An optional text: anything given, as text; nothing: empty."""
    return nfc(str(value or "")).strip()


def email(value: Any) -> str:
    if not isinstance(value, str) or not EMAIL_RE.match(value.strip()):
        raise problem(f"địa chỉ email không hợp lệ: {show(value)}")
    return value.strip()


def items(value: Any) -> list[Any]:
    """A list that must not be empty."""
    if not isinstance(value, list):
        raise problem(f"phải là một danh sách, đang là {show(value)}")
    if not value:
        raise problem("danh sách không được rỗng")
    return value


def items_or_empty(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise problem(f"phải là một danh sách, đang là {show(value)}")
    return value


def mapping(value: Any) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise problem(mapping_problem(value))
    return value


def patterns(value: Any) -> tuple[str, ...]:
    """Figure-key patterns or unit kinds: one text or a list of them; nothing: none."""
    if value is None:
        return ()
    return tuple(str(p).strip() for p in ([value] if isinstance(value, str) else items(value)))


def placeholders(text: str, allowed: set[str]) -> str:
    """A message's `{name}` placeholders must be among `allowed`."""
    try:  # in the text's order (the hand-written reader named one of a set's)
        names = dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)
    except ValueError as exc:
        raise problem(f"dấu ngoặc {{ }} không cân: {exc}") from exc
    for name in names:
        if name not in allowed:
            raise problem(
                f"chỗ trống {{{name}}} không được hỗ trợ; dùng "
                + ", ".join("{" + a + "}" for a in sorted(allowed))
            )
    return text


def iso_date(value: Any) -> dt.date:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, dt.date):
        raise problem("phải là ngày dạng yyyy-mm-dd")
    return value


def whole_number(value: Any) -> int:
    if not isinstance(value, int):
        raise problem("phải là số nguyên")
    return value


def number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise problem(f"phải là một số, đang là {show(value)}")
    return float(value)


def positive_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise problem("phải là một số dương, ví dụ 3.5")
    return float(value)


def non_negative_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        raise problem("phải là một số không âm, ví dụ 100")
    return float(value)


def count_from_two(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise problem("phải là số nguyên từ 2 trở lên")
    return value


def hour(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        raise problem("giờ phải từ 0 đến 23")
    return value


def collection_day(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 28:
        raise problem(f"ngày phải từ 1 đến 28, đang là {show(value)}")
    return value


def day_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
        raise problem(f"số ngày phải từ 0 đến 366, đang là {show(value)}")
    return value


def non_empty_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise problem(f"phải là chuỗi ký tự không rỗng, đang là {show(value)}")
    return nfc(value).strip()


def authority(value: Any) -> str:
    """`issuer.signature.authority`: absent or a text."""
    return "" if value is None else non_empty_text(value)


def place_to_send(value: Any) -> str:
    """A line of "Nơi nhận", without its dash and semicolon; "- Lưu" comes from `issuer.archive`."""
    line = non_empty_text(value).lstrip("-").strip().rstrip(";").strip()
    if line.lower().startswith("lưu:") or line.lower().startswith("lưu "):
        raise problem("không ghi dòng «Lưu» ở đây; dùng khóa issuer.archive")
    return line


def places_to_send(value: Any) -> list[Any]:
    return [] if value is None else items(value)


def constant_name(value: Any) -> str:
    if not CONSTANT_RE.fullmatch(str(value)):
        raise problem("tên hằng số chỉ gồm chữ thường không dấu, số và '_'")
    return str(value)
