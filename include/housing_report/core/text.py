"""Text as units typed it, made fit to show, and the links to their spreadsheets."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

# Every text a unit types (an entry of a list D, E, F, its place, a text field) is cut to this
# many characters, with "…", where the sheet is read (`validate.parse`): the summary, the email
# and the document never carry more.
MAX_LIST_TEXT = 500
# A text cell is cut to this many characters where the workbook is read (`collect`), so that a
# read, and what the archive keeps of it, stays bounded whatever a cell holds.
MAX_CELL_TEXT = 2000
# Spaces a sheet may carry around a value: normal, no-break, narrow and thin spaces, the
# zero-width space and the byte-order mark.
SPACES = " \t\r\n\u00a0\u202f\u2007\u2009\u200b\ufeff"
SHEET_URL = "https://docs.google.com/spreadsheets/d/{spreadsheet}/edit"

_SPACE_RE = re.compile(r"\s+")
# The invisible format characters (Unicode category Cf, Unicode 14 as in Python 3.11): the
# zero-width space, joiners and non-joiner, the byte-order mark U+FEFF, the soft hyphen,
# direction marks and isolates, the word joiner... A code or a number that looks right must
# read right, so they are removed from every text cell as it is read (`clean_cell`).
_INVISIBLE_RE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def strip_invisible(text: str) -> str:
    """`text` without invisible format characters (category Cf: U+200B, U+FEFF, U+00AD...)."""
    if text.isascii():
        return text
    return _INVISIBLE_RE.sub("", text)


def clean_cell(text: str, limit: int = MAX_CELL_TEXT) -> str:
    """A text cell as the pipeline reads it: NFC, without invisible format characters, cut to
    `limit` characters ("…" last). Spaces are kept; the readers of codes and values trim them."""
    cut = len(text) > 2 * limit  # what is cut anyway is not cleaned (a 60 000-character cell)
    if cut:
        text = text[: 2 * limit]
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        text = _INVISIBLE_RE.sub("", text)
    return text if len(text) <= limit and not cut else trim_text(text, limit)


def clean_text(value: Any) -> str:
    """Text from a sheet or the summary as one NFC line (newlines and runs of spaces collapsed)."""
    if value is None:
        return ""
    return _clean_line(value if type(value) is str else str(value))


# The same texts (units' and districts' names) are cleaned again and again by the report's
# view: at 3.321 units, ~110 000 calls for a few thousand texts.
@functools.lru_cache(maxsize=8192)
def _clean_line(text: str) -> str:
    return _SPACE_RE.sub(" ", strip_invisible(unicodedata.normalize("NFC", text))).strip()


def trim_text(text: str, limit: int = MAX_LIST_TEXT) -> str:
    """`text` cut to `limit` characters, the last one "…", when it is longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sheet_url(spreadsheet: str) -> str:
    """The address of a unit's Google spreadsheet, from its key."""
    return SHEET_URL.format(spreadsheet=spreadsheet)
