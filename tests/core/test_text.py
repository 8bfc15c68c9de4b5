"""Text as units typed it (housing_report.core.text): invisible characters, cuts."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from housing_report.core.text import MAX_CELL_TEXT, clean_cell, clean_text, strip_invisible


def test_every_invisible_format_character_is_stripped_and_nothing_else():
    """Unicode category Cf as Python knows it, against the module's written-out list."""
    kept = []
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        if unicodedata.category(ch) in ("Cs",):
            continue
        stripped = strip_invisible("ô" + ch) == "ô"
        if stripped != (unicodedata.category(ch) == "Cf"):
            kept.append(f"U+{code:04X}")
    assert kept == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        pytest.param("\ufeffKY_BAO_CAO", "KY_BAO_CAO", id="byte-order-mark"),
        pytest.param("NGAY\u200b_CONG", "NGAY_CONG", id="zero-width-space"),
        pytest.param("\u2060NCC\u00a0", "NCC", id="word-joiner-and-no-break-space"),
        pytest.param("Phường\u00ad 7,\u202f Sóc\u200d Trăng", "Phường 7, Sóc Trăng", id="soft-hyphen-joiner"),
        pytest.param("Phu\u0323 Nư\u0303", "Phụ Nữ", id="decomposed"),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_a_cell_is_cut_and_cleaned_cheaply():
    assert clean_cell("\u200b" * 10 + "ab") == "ab"
    assert clean_cell("x" * MAX_CELL_TEXT) == "x" * MAX_CELL_TEXT
    long = clean_cell("Nhà " * 100_000)
    assert len(long) <= MAX_CELL_TEXT
    assert long.endswith("…")
