"""The workbook's cells as `render.cells.Sheet` writes them (the rows' XML of its own)."""

from __future__ import annotations

import enum
import math
import re
import zipfile

import openpyxl
import pytest

from housing_report.render.cells import COUNT_FORMAT, Sheet, Style, save, write_only_workbook


class Level(enum.IntEnum):
    HIGH = 3


class Share(float):
    """A float of another type, as a library may hand one over."""


NUMBERS = [
    pytest.param(0, id="zero"),
    pytest.param(7, id="small"),
    pytest.param(-7, id="negative"),
    pytest.param(2**53 - 1, id="largest-exact-whole"),
    pytest.param(-(2**53 - 1), id="most-negative-exact-whole"),
    pytest.param(2**53 + 1, id="whole-beyond-a-float"),
    pytest.param(10**17, id="huge-whole"),
    pytest.param(0.0, id="float-zero"),
    pytest.param(-0.0, id="negative-float-zero"),
    pytest.param(1234.0, id="whole-float"),
    pytest.param(1234.5, id="float"),
    pytest.param(0.1 + 0.2, id="float-of-17-digits"),
    pytest.param(1e-7, id="tiny-float"),
    pytest.param(1e16, id="float-with-exponent"),
    pytest.param(math.inf, id="infinite"),
    pytest.param(math.nan, id="not-a-number"),
    pytest.param(Level.HIGH, id="int-subclass"),
    pytest.param(Share(0.25), id="float-subclass"),
]


@pytest.mark.parametrize("value", NUMBERS)
def test_a_number_is_written_with_16_significant_digits(tmp_path, value):
    """Plain and styled, a number's text is "%.16g" of it (nothing for one that is not finite),
    however it is worked out."""
    wb = write_only_workbook()
    sheet = Sheet(wb, "S", [10, 10, 10])
    styled = Style(number_format=COUNT_FORMAT)
    sheet.row([value, (value, styled), (value, Style(number_format=COUNT_FORMAT))])
    save(wb, tmp_path / "n.xlsx")
    with zipfile.ZipFile(tmp_path / "n.xlsx") as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    expected = f"{value:.16g}" if math.isfinite(value) else ""
    assert re.findall(r"<v>(.*?)</v>", xml) == [expected] * 3
    styles = re.findall(r'<c r="[A-Z]+1"( s="\d+")? t="n">', xml)
    assert styles[0] == ""
    assert styles[1] == styles[2] != ""  # one style, however often made
    if expected:  # read back as the number written
        cells = next(openpyxl.load_workbook(tmp_path / "n.xlsx")["S"].iter_rows(values_only=True))
        assert list(cells) == [float(expected)] * 3
