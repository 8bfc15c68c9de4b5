"""A lint over what officials read: the report email's text and HTML, the report document.

`lint_prose(text)` takes plain text (for HTML, `visible_text(html)` first) and returns the
problems it finds, each a line naming the problem and quoting where it is; an empty list when
there are none. It finds:

- a "+" or "-" ("−") sign directly before a number inside a sentence ("số nhà hoàn thành +362
  căn": write "tăng 362 căn"). Not a list's bullet ("- " at a line's start), a range ("2024-2025",
  "12/03 - 27/03"), a number with its sign alone on its line (a table's cell), a phone number or
  "NĐ 30/2020";
- internal codes: a template's codes ("HT_XM", and any code in `codes`), cell references
  ("BaoCao!G15", "ô G15"), worksheet names written together ("TinhTrang"), file names
  ("summary.json", "bao-cao.xlsx"), Airflow run ids ("scheduled__…", "manual__…");
- text not in Unicode NFC (Vietnamese letters written as a letter plus combining marks);
- common Vietnamese words written without their diacritics ("bao cao", "don vi").

Messages are in English (they are for the developer whose test failed), with the text quoted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser

# How much text around a problem its message quotes, each side.
_AROUND = 30

# A sign before a digit, at a word's start (not after a letter, a digit or "/": "2024-2025",
# "st-946", "12/03-27/03").
_SIGNED = re.compile(r"(?<![\w./+\-−])([+\-−])\s?(?=\d)")
# A line that is only a number with its sign (a table's cell, once the HTML is text).
_LONE_NUMBER = re.compile(r"^\s*[+\-−]?\s?\d[\d.,]*\s?%?\s*$")
# A list's bullet: "-" (or "+", "−", "•") and a space at a line's start.
_BULLET = re.compile(r"^\s*[+\-−•]\s", re.MULTILINE)
# A range written with spaces: a number, " - ", a number ("12/03 - 27/03/2025", "2024 - 2025").
_RANGE_BEFORE = re.compile(r"\d\s*$")

_TEMPLATE_CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
_CELL_REF = re.compile(r"[\w.]+!\$?[A-Z]{1,3}\$?\d+\b|\bô\s+[A-Z]{1,3}\d{1,6}\b")
# Two or more capitalised ASCII words written together: a worksheet's name ("TinhTrang").
_CAMEL = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)+\b")
# Brands written that way, not a sheet's name.
CAMEL_WORDS = frozenset({"YouTube", "TikTok", "LinkedIn", "WhatsApp", "PowerPoint", "OneDrive", "MoMo"})
_FILE_NAME = re.compile(
    r"\b[\w.\-]+\.(?:xlsx|xlsm|xls|json|eml|docx|doc|pdf|csv|ya?ml|sqlite|db|png|jpe?g|j2|py|log|txt)\b",
    re.IGNORECASE,
)
_RUN_ID = re.compile(r"\b(?:scheduled|manual|backfill|asset_triggered|dataset_triggered)__\S*")

# Vietnamese words an official never writes without their marks (two-word phrases, so that a
# name or an English word is not taken for one), as regular expressions on word boundaries.
NO_DIACRITICS = (
    "bao cao",
    "don vi",
    "so lieu",
    "tien do",
    "hoan thanh",
    "ky bao cao",
    "dia ban",
    "xay moi",
    "sua chua",
    "nha tam",
    "dot nat",
    "ho tro",
)
_NO_DIACRITICS = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in NO_DIACRITICS) + r")\b", re.IGNORECASE)


def _quote(text: str, start: int, end: int) -> str:
    left = text[max(0, start - _AROUND) : start]
    right = text[end : end + _AROUND]
    quoted = " ".join(f"{left}{text[start:end]}{right}".split())
    return f"“…{quoted}…”"


def _signed_numbers(text: str) -> list[str]:
    bullets = {m.end() - 2 for m in _BULLET.finditer(text)}
    problems = []
    for match in _SIGNED.finditer(text):
        start = match.start(1)
        if start in bullets:
            continue
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if _LONE_NUMBER.match(line):
            continue
        if match.group(1) != "+" and _RANGE_BEFORE.search(text[line_start:start]):
            continue
        problems.append(
            f"sign {match.group(1)!r} before a number in a sentence (write tăng/giảm): "
            f"{_quote(text, start, match.end() + 1)}"
        )
    return problems


def _internal(text: str, codes: Iterable[str]) -> list[str]:
    problems = []
    for what, pattern in (
        ("cell reference", _CELL_REF),
        ("template code", _TEMPLATE_CODE),
        ("file name", _FILE_NAME),
        ("run id", _RUN_ID),
    ):
        for match in pattern.finditer(text):
            problems.append(f"internal {what} {match.group(0)!r}: {_quote(text, match.start(), match.end())}")
    for match in _CAMEL.finditer(text):
        if match.group(0) not in CAMEL_WORDS:
            where = _quote(text, match.start(), match.end())
            problems.append(f"internal name {match.group(0)!r} (a worksheet's?): {where}")
    wanted = sorted({c for c in codes if c and len(c) > 1}, key=len, reverse=True)
    if wanted:
        listed = re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, wanted)) + r")(?![\w])")
        for match in listed.finditer(text):
            problems.append(f"internal code {match.group(0)!r}: {_quote(text, match.start(), match.end())}")
    return problems


def _not_nfc(text: str) -> list[str]:
    if unicodedata.is_normalized("NFC", text):
        return []
    problems = []
    for match in re.finditer(r"\S+", text):
        word = match.group(0)
        if not unicodedata.is_normalized("NFC", word):
            problems.append(f"text not in NFC: {unicodedata.normalize('NFC', word)!r}")
    return problems or ["text not in NFC"]


def _without_diacritics(text: str) -> list[str]:
    return [
        f"Vietnamese words without diacritics {m.group(0)!r}: {_quote(text, m.start(), m.end())}"
        for m in _NO_DIACRITICS.finditer(text)
    ]


def lint_prose(text: str, codes: Iterable[str] = ()) -> list[str]:
    """The problems of `text` as prose for officials (see the module's docstring); [] when none.

    `codes`: more internal codes to look for as whole words (a template's row and column codes,
    "MTQG", "PTTD", which read like abbreviations otherwise)."""
    return [
        *_not_nfc(text),
        *_signed_numbers(text),
        *_internal(text, codes),
        *_without_diacritics(text),
    ]


# --------------------------------------------------------------------------- HTML


_BLOCKS = frozenset(
    {"p", "div", "br", "tr", "td", "th", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "section"}
)
_HIDDEN = frozenset({"style", "script", "head"})


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"\n{alt}\n")

    def handle_endtag(self, tag):
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """What a reader sees of `html` (and an image's alt text), a line per paragraph, list item
    and table cell, for `lint_prose`. The title in <head> is left out."""
    parser = _Visible()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
