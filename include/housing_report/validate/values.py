"""Read one cell's value the Vietnamese way (docs/vi/mau-bao-cao.md, "Cách ghi giá trị").

A cell holds a real number, or text where `.` groups thousands and `,` marks
decimals (`1.234` is 1234, `2.345,5` is 2345.5). Each reader returns the value or a
`Problem`: what was found and what to write instead, in Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from housing_report.config.template import NUMBER_LIMIT
from housing_report.core.formatting import vn_plain_number
from housing_report.core.text import SPACES

_VN_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?$")
_EN_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_LEADING_NUMBER = re.compile(r"^\s*([+-]?\d[\d.,]*)")
_DATE_TEXT = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
MONEY_DECIMALS = 3
# A cell at or above `NUMBER_LIMIT` is rejected here, before any arithmetic. A figure's plausible
# maximum, far lower, is the template's (`max:` in report.yaml, `Template.maximum`), checked
# across a batch by `validate.rules.check_units`.
_LIMIT_DIGITS = len(str(NUMBER_LIMIT))


@dataclass(frozen=True)
class Problem:
    found: str  # what the cell holds, as shown to the unit
    why: str  # what is wrong with it
    fix: str  # what to write instead


def show(value: Any) -> str:
    """A cell value as the unit would recognise it, quoted."""
    if isinstance(value, bool):
        return "«TRUE»" if value else "«FALSE»"
    if isinstance(value, dt.datetime):
        return f"«{value:%d/%m/%Y %H:%M}»"
    if isinstance(value, dt.date):
        return f"«{value:%d/%m/%Y}»"
    if isinstance(value, int) and abs(value) >= 10**40:
        text = f"số có {len(str(abs(value))) if value.bit_length() < 14_000 else 'hàng nghìn'} chữ số"
    elif isinstance(value, float) and math.isfinite(value) and abs(value) >= 1e15:
        text = f"{value:.6g}".replace(".", ",").upper()
    elif isinstance(value, (int, float)) and not (isinstance(value, float) and not math.isfinite(value)):
        text = vn_plain_number(value)
    else:
        text = str(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"«{text}»"


def _fix_for(kind: str) -> str:
    if kind == "money":
        return (
            "Hãy ghi một số không âm (triệu đồng, tối đa 3 chữ số thập phân), ví dụ 1.234,5 "
            "hoặc để trống nếu là 0."
        )
    return "Hãy ghi một số nguyên không âm, ví dụ 1.234, hoặc để trống nếu là 0."


def read_number(value: Any, kind: str) -> tuple[int | float | None, Problem | None]:
    """Read a count (`kind='count'`) or an amount in triệu đồng (`kind='money'`).

    Returns (number, None), (0, None) for an empty cell, or (None, Problem).
    """
    if value is None:
        return 0, None
    if type(value) is int and 0 <= value < NUMBER_LIMIT and kind == "count":  # the common case, first
        return value, None
    if isinstance(value, bool):
        return None, Problem(show(value), "là giá trị đúng/sai, không phải số.", _fix_for(kind))
    if isinstance(value, (dt.date, dt.time)):
        return None, Problem(show(value), "là ngày tháng, không phải số.", _fix_for(kind))
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        text = unicodedata.normalize("NFC", value).strip(SPACES)
        if not text:
            return 0, None
        number_or_problem = _read_text_number(text, kind)
        if isinstance(number_or_problem, Problem):
            return None, number_or_problem
        number = number_or_problem
    else:
        return None, Problem(show(value), "không phải là số.", _fix_for(kind))
    return _check_range(number, value, kind)


def _too_large(found: str, kind: str) -> Problem:
    return Problem(
        found,
        "là số quá lớn, không thể là số liệu báo cáo (có thể đã ghi nhầm số điện thoại, mã số "
        "hoặc gõ thừa chữ số).",
        _fix_for(kind),
    )


def _read_text_number(text: str, kind: str) -> int | float | Problem:
    match = _VN_NUMBER.match(text)
    if match:
        sign, whole, frac = match.groups()
        digits = whole.replace(".", "").lstrip("0")
        if len(digits) > _LIMIT_DIGITS:  # not converted: Python refuses ints of 4.300 digits
            return _too_large(show(text), kind)
        number: int | float = int(digits or "0")
        if frac:
            number = float(f"{number}.{frac}")
        return -number if sign == "-" else number
    if text.startswith("#"):
        return Problem(
            f"«{text}»",
            "là lỗi công thức của bảng tính, không phải số.",
            "Hãy sửa công thức hoặc ghi trực tiếp con số.",
        )
    if _EN_DECIMAL.match(text):
        integral, _, fraction = text.lstrip("+-").partition(".")
        return Problem(
            f"«{text}»",
            "không đúng cách viết số: dấu chấm (.) dùng để phân cách hàng nghìn, "
            "dấu phẩy (,) để ghi phần thập phân.",
            f"Hãy ghi {integral},{fraction} nếu là số thập phân, hoặc ghi đủ 3 chữ số sau mỗi dấu "
            "chấm nếu là số hàng nghìn, ví dụ 1.234.",
        )
    if _SCIENTIFIC.match(text):
        return Problem(
            f"«{text}»",
            "là số viết dạng lũy thừa của 10 (E), thường do bảng tính hiển thị một số quá lớn.",
            _fix_for(kind),
        )
    lead = _LEADING_NUMBER.match(text)
    if lead and any(ch.isalpha() for ch in text):
        return Problem(
            f"«{text}»",
            "có chữ kèm theo số; ô này chỉ được ghi số.",
            f"Hãy chỉ ghi số, ví dụ {lead.group(1).strip()} (đơn vị tính đã ghi ở tiêu đề).",
        )
    return Problem(f"«{text}»", "không phải là số.", _fix_for(kind))


def _check_range(number: int | float, raw: Any, kind: str) -> tuple[int | float | None, Problem | None]:
    if isinstance(number, float) and not math.isfinite(number):
        return None, Problem(show(raw), "không phải là số hữu hạn.", _fix_for(kind))
    if abs(number) >= NUMBER_LIMIT:
        return None, _too_large(show(raw), kind)
    if number == 0:
        number = 0 if isinstance(number, int) else 0.0  # -0.0 is 0
    if number < 0:
        return None, Problem(show(raw), "là số âm; số liệu báo cáo không được âm.", _fix_for(kind))
    if kind == "count":
        if isinstance(number, float):
            if not number.is_integer():
                return None, Problem(
                    show(raw),
                    "là số lẻ; ô này đếm số lượng (căn, người, bài...) nên phải là số nguyên.",
                    _fix_for(kind),
                )
            number = int(number)
        return number, None
    scaled = float(number) * 10**MONEY_DECIMALS
    if abs(scaled - round(scaled)) > 1e-9 * max(1.0, abs(scaled)):
        return None, Problem(
            show(raw),
            f"có quá {MONEY_DECIMALS} chữ số thập phân (đơn vị tính là triệu đồng).",
            "Hãy làm tròn đến 3 chữ số thập phân (đến nghìn đồng), ví dụ 1.234,567.",
        )
    return round(float(number), MONEY_DECIMALS), None


def read_date(value: Any) -> tuple[dt.date | None, Problem | None]:
    """Read a date: a real date cell, `dd/mm/yyyy` text, or a spreadsheet serial number."""
    fix = "Hãy ghi ngày dạng dd/mm/yyyy, ví dụ 12/03/2025."
    if value is None or (isinstance(value, str) and not value.strip(SPACES)):
        return None, Problem("«»", "đang để trống.", fix)
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    if isinstance(value, bool):
        return None, Problem(show(value), "không phải là ngày.", fix)
    if isinstance(value, (int, float)):
        if math.isfinite(value) and 20000 <= value <= 80000 and float(value).is_integer():
            return _EXCEL_EPOCH + dt.timedelta(days=int(value)), None
        return None, Problem(show(value), "là một con số, không phải ngày.", fix)
    if isinstance(value, str):
        text = unicodedata.normalize("NFC", value).strip(SPACES)
        match = _DATE_TEXT.match(text)
        if match:
            d, m, y = (int(g) for g in match.groups())
            try:
                return dt.date(y, m, d), None
            except ValueError:
                return None, Problem(f"«{text}»", "không phải ngày có thật.", fix)
        return None, Problem(show(text), "không đọc được thành ngày.", fix)
    return None, Problem(show(value), "không phải là ngày.", fix)


def read_text(value: Any) -> str:
    """Free text from a cell, NFC-normalised and trimmed ('' for empty)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip(SPACES)
