"""Text as units typed it, made fit to show, and the links to their spreadsheets."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# An entry of a list (D, E, F) as shown in the email and the document is cut to this many
# characters, with "…" (the archive keeps up to `validate.parse.LIST_TEXT_MAX`).
MAX_LIST_TEXT = 500
# Spaces a sheet may carry around a value: normal, no-break, narrow and thin spaces, the
# zero-width space and the byte-order mark.
SPACES = " \t\r\n\u00a0\u202f\u2007\u2009\u200b\ufeff"
SHEET_URL = "https://docs.google.com/spreadsheets/d/{spreadsheet}/edit"

_SPACE_RE = re.compile(r"\s+")


def clean_text(value: Any) -> str:
    """Text from a sheet or the summary as one NFC line (newlines and runs of spaces collapsed)."""
    if value is None:
        return ""
    return _SPACE_RE.sub(" ", unicodedata.normalize("NFC", str(value))).strip()


def trim_text(text: str, limit: int = MAX_LIST_TEXT) -> str:
    """`text` cut to `limit` characters, the last one "…", when it is longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sheet_url(spreadsheet: str) -> str:
    """The address of a unit's Google spreadsheet, from its key."""
    return SHEET_URL.format(spreadsheet=spreadsheet)
