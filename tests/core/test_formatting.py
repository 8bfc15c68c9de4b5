from __future__ import annotations

import datetime as dt
from decimal import Decimal

import jinja2
import pytest

from housing_report.core.formatting import (
    FILTERS,
    vn_change,
    vn_change_words,
    vn_date,
    vn_datetime,
    vn_long_date,
    vn_number,
    vn_percent,
)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (8917, None, "8.917"),
        (463.59, None, "463,59"),
        (1234.5, None, "1.234,5"),
        (42678, None, "42.678"),
        (334234, None, "334.234"),
        (24761000000, None, "24.761.000.000"),
        (0, None, "0"),
        (999, None, "999"),
        (1000, None, "1.000"),
        (-1234567, None, "-1.234.567"),
        (-0.5, None, "-0,5"),
        (120.0, None, "120"),
        (0.1 + 0.2, None, "0,3"),
        (2345.125, None, "2.345,125"),
        (1.23456, None, "1,235"),
        (Decimal("1234.50"), None, "1.234,5"),
        (25.314, 2, "25,31"),
        (25, 2, "25,00"),
        (0.005, 2, "0,01"),
        (1234.5, 0, "1.235"),
    ],
    ids=lambda v: repr(v),
)
def test_vn_number(value, decimals, expected):
    assert vn_number(value, decimals) == expected


@pytest.mark.parametrize("value", [-0.0001, -0.0], ids=["tiny-negative", "negative-zero"])
def test_vn_number_never_shows_minus_zero(value):
    assert vn_number(value) == "0"


def test_vn_number_of_none_is_empty():
    assert vn_number(None) == ""


@pytest.mark.parametrize("value", ["12", True, [1]], ids=["string", "bool", "list"])
def test_vn_number_refuses_what_is_not_a_number(value):
    with pytest.raises(TypeError):
        vn_number(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(25.31, "25,3%"), (100, "100,0%"), (0, "0,0%"), (34.96, "35,0%"), (None, "")],
    ids=["normal", "full", "zero", "rounds-up", "none"],
)
def test_vn_percent(value, expected):
    assert vn_percent(value) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (120, None, "+120"),
        (-5, None, "-5"),
        (0, None, "0"),
        (1250.5, None, "+1.250,5"),
        (2.7, 1, "+2,7"),
        (0.0001, None, "0"),
        (None, None, ""),
    ],
    ids=["up", "down", "same", "money", "points", "rounds-to-zero", "none"],
)
def test_vn_change(value, decimals, expected):
    assert vn_change(value, decimals) == expected


@pytest.mark.parametrize(
    ("value", "unit", "decimals", "expected"),
    [
        (362, "căn", None, "tăng 362 căn"),
        (-5, "ngày công", None, "giảm 5 ngày công"),
        (0, "căn", None, "không thay đổi"),
        (Decimal("4.1"), "điểm phần trăm", 1, "tăng 4,1 điểm phần trăm"),
        (1250.5, "", None, "tăng 1.250,5"),
        (-0.0001, "căn", None, "không thay đổi"),
        (None, "căn", None, ""),
    ],
    ids=["up", "down", "same", "points", "no-unit", "rounds-to-zero", "none"],
)
def test_vn_change_words(value, unit, decimals, expected):
    """A change for a sentence: in words, never a sign ("tăng 362 căn", not "+362 căn")."""
    assert vn_change_words(value, unit, decimals) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2025, 3, 12), "12/03/2025"),
        ("2025-02-05", "05/02/2025"),
        (dt.datetime(2025, 9, 30, 23, 0), "30/09/2025"),
        ("2025-03-12T00:05:00+00:00", "12/03/2025"),
        (None, ""),
    ],
    ids=["date", "iso", "datetime", "iso-datetime", "none"],
)
def test_vn_date(value, expected):
    assert vn_date(value) == expected


def test_vn_datetime_is_shown_in_vietnam_time():
    # 00:05 UTC is 07:05 in Asia/Ho_Chi_Minh; 20:30 UTC is the next day there.
    assert vn_datetime("2025-03-12T00:05:00+00:00") == "07:05 12/03/2025"
    assert vn_datetime(dt.datetime(2025, 3, 11, 20, 30, tzinfo=dt.UTC)) == "03:30 12/03/2025"


@pytest.mark.parametrize(
    "value", [dt.datetime(2025, 3, 12, 0, 5), "2025-03-12T00:05:00"], ids=["datetime", "iso-string"]
)
def test_vn_datetime_takes_a_naive_time_as_utc(value):
    assert vn_datetime(value) == "07:05 12/03/2025"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2025, 3, 12), "Sóc Trăng, ngày 12 tháng 3 năm 2025"),
        (dt.date(2025, 2, 5), "Sóc Trăng, ngày 05 tháng 02 năm 2025"),
        (dt.date(2025, 1, 27), "Sóc Trăng, ngày 27 tháng 01 năm 2025"),
        (dt.date(2025, 10, 1), "Sóc Trăng, ngày 01 tháng 10 năm 2025"),
        ("2025-12-27", "Sóc Trăng, ngày 27 tháng 12 năm 2025"),
    ],
    ids=["march", "february-leading-zeros", "january", "october-day-zero", "iso-string"],
)
def test_vn_long_date_follows_decree_30(day, expected):
    assert vn_long_date("Sóc Trăng", day) == expected


def test_filters_work_in_a_template():
    env = jinja2.Environment(autoescape=True)
    env.filters.update(FILTERS)
    out = env.from_string(
        "{{ n|vn_number }} căn; {{ m|vn_number }} triệu đồng; {{ p|vn_percent }}; {{ c|vn_change }}; "
        "{{ d|vn_date }}; {{ place|vn_long_date(d) }}"
    ).render(n=8917, m=463.59, p=25.31, c=120, d="2025-02-05", place="Sóc Trăng")
    assert out == (
        "8.917 căn; 463,59 triệu đồng; 25,3%; +120; 05/02/2025; Sóc Trăng, ngày 05 tháng 02 năm 2025"
    )
