"""What a pre-check tells one unit, and where it is written (`FeedbackWriter`).

`UnitFeedback` is one unit's result; a `FeedbackWriter` puts it where the unit reads it: the
worksheet `KiemTra` of its Google spreadsheet (`precheck.sheets.SheetsFeedbackWriter`), or a
workbook of the same sheet on the local source. Several units may share one spreadsheet
(one report worksheet each): each gets its own feedback worksheet, `feedback_sheet_title`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Protocol

from housing_report.core.models import Finding

ACCEPTED = "accepted"
WARNING = "warning"
ERROR = "error"
UNREADABLE = "unreadable"
FEEDBACK_STATUSES = (ACCEPTED, WARNING, ERROR, UNREADABLE)

FEEDBACK_SHEET = "KiemTra"
# The template's report worksheet: its feedback worksheet is `KiemTra` itself.
DEFAULT_REPORT_SHEET = "BaoCao"


@dataclass(frozen=True)
class UnitFeedback:
    unit_code: str
    unit_name: str
    spreadsheet: str  # config Unit.spreadsheet
    worksheet: str  # report worksheet title
    status: str  # "accepted" | "warning" | "error" | "unreadable"
    status_text: str  # Vietnamese
    checked_at: datetime.datetime  # aware
    period: str  # ISO date of the collection day
    findings: tuple[Finding, ...]  # core.models.Finding


class FeedbackNotWritable(Exception):
    """The feedback cannot be written where the unit reads it (the spreadsheet no longer editable)."""


class FeedbackWriter(Protocol):
    def write(self, feedback: UnitFeedback) -> str: ...  # where it went (URL or path)


def feedback_sheet_title(worksheet: str, default: str = DEFAULT_REPORT_SHEET) -> str:
    """The feedback worksheet of a report worksheet: `KiemTra` for the template's `BaoCao`,
    `KiemTra_<worksheet>` for any other (units sharing one spreadsheet, one worksheet each)."""
    if worksheet.strip().casefold() == default.casefold():
        return FEEDBACK_SHEET
    return f"{FEEDBACK_SHEET}_{worksheet.strip()}"[:100]  # Google's limit on a sheet's title
