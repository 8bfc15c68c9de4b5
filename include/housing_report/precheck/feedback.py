"""What a pre-check tells one unit, and where it is written (`FeedbackWriter`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Protocol

from housing_report.core.models import Finding


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
