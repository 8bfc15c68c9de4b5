"""Numbers and dates written the way Vietnamese officials read them.

`.` groups thousands and `,` marks decimals (8.917 căn; 463,59 triệu đồng); dates are
`dd/mm/yyyy`; the place-and-date line of a document follows Nghị định 30/2020/NĐ-CP
("Sóc Trăng, ngày 05 tháng 02 năm 2025"). The same functions are the Jinja2 filters of
the email templates (`FILTERS`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

# Money has at most 3 decimals (docs/vi/mau-bao-cao.md); a float is shown with up to that many.
MAX_DECIMALS = 3
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, float):
        # repr gives the shortest decimal that round-trips: 463.59, not 463.58999...
        return Decimal(repr(value))
    return Decimal(value)


def _rounded(value: Any, decimals: int | None) -> Decimal:
    places = MAX_DECIMALS if decimals is None else decimals
    return _decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def vn_number(value: int | float | Decimal | None, decimals: int | None = None) -> str:
    """`8917` -> `8.917`, `1234.5` -> `1.234,5`, `-12` -> `-12`; None -> ``.

    With `decimals`, exactly that many decimals are shown. Without, an int shows none
    and a float shows up to 3 (trailing zeros dropped, so `120.0` -> `120`).
    """
    if value is None:
        return ""
    number = _rounded(value, decimals)
    sign = "-" if number < 0 else ""  # a rounded -0.0001 is Decimal("-0.000"), not < 0
    whole, _, fraction = f"{abs(number):f}".partition(".")
    if decimals is None:
        fraction = fraction.rstrip("0")
    groups = []
    while len(whole) > 3:
        whole, tail = whole[:-3], whole[-3:]
        groups.insert(0, tail)
    groups.insert(0, whole)
    return sign + ".".join(groups) + ("," + fraction if fraction else "")


def vn_plain_number(value: int | float) -> str:
    """A number written the Vietnamese way, with every decimal it has (1234.5 -> 1.234,5)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    whole, _, frac = repr(abs(value)).partition(".")
    sign = "-" if value < 0 else ""
    if "e" in whole or "e" in frac:
        return str(value)
    return f"{sign}{int(whole):,}".replace(",", ".") + ("," + frac if frac else "")


def vn_percent(value: int | float | Decimal | None, decimals: int = 1) -> str:
    """`25.31` (already a percentage) -> `25,3%`; None -> ``."""
    if value is None:
        return ""
    return vn_number(value, decimals) + "%"


def vn_change(value: int | float | Decimal | None, decimals: int | None = None) -> str:
    """A change with its sign: `120` -> `+120`, `-5` -> `-5`, `0` -> `0`; None -> ``."""
    if value is None:
        return ""
    text = vn_number(value, decimals)
    return "+" + text if _rounded(value, decimals) > 0 else text


def vn_change_words(value: int | float | Decimal | None, unit: str = "", decimals: int | None = None) -> str:
    """A change in words, for a sentence: `362, "căn"` -> `tăng 362 căn`, `-5` -> `giảm 5`,
    `0` -> `không thay đổi`; None -> `` (the caller says it is unknown)."""
    if value is None:
        return ""
    number = _rounded(value, decimals)
    if number == 0:
        return "không thay đổi"
    words = f"{'tăng' if number > 0 else 'giảm'} {vn_number(abs(number), decimals)}"
    return f"{words} {unit}" if unit else words


def to_date(value: dt.date | str) -> dt.date:
    """A date from a `date`, a `datetime` (its own date) or an ISO string (`2025-03-12`)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        return dt.datetime.fromisoformat(text).date() if "T" in text else dt.date.fromisoformat(text)
    raise TypeError(f"not a date: {value!r}")


# A national report writes the same few dates tens of thousands of times (each list entry's
# period, each district's): each one is worked out once per process.
@functools.lru_cache(maxsize=1024)
def vn_date(value: dt.date | str | None) -> str:
    """`2025-03-12` (date or ISO string) -> `12/03/2025`; None -> ``."""
    if value is None or value == "":
        return ""
    return f"{to_date(value):%d/%m/%Y}"


def vn_datetime(value: dt.datetime | str | None, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A datetime (or ISO string) as `07:05 12/03/2025` in `timezone`; None -> ``.

    A datetime without a time zone is taken as UTC: the pipeline keeps times in UTC, and
    some databases (SQLite) give them back without their zone.
    """
    if value is None or value == "":
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return f"{moment.astimezone(ZoneInfo(timezone)):%H:%M %d/%m/%Y}"


def vn_long_date(place: str, value: dt.date | str) -> str:
    """`Sóc Trăng, ngày 12 tháng 3 năm 2025`: days under 10 and months 1 and 2 get a leading zero."""
    day = to_date(value)
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


FILTERS: dict[str, Callable[..., str]] = {
    "vn_number": vn_number,
    "vn_percent": vn_percent,
    "vn_change": vn_change,
    "vn_change_words": vn_change_words,
    "vn_date": vn_date,
    "vn_datetime": vn_datetime,
    "vn_long_date": vn_long_date,
}
