"""The approver's answer that turns the draft into the document that is sent: the number the
clerk (văn thư) gives it and the parts only a person writes (Nghị định 30/2020: a report is
issued when its signer approves it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

APPROVE = "Phê duyệt"
REJECT = "Từ chối"


@dataclass(frozen=True)
class Approval:
    """An approved version: the document's number and the approver's text."""

    number: str  # "12", written before the prefix: "Số 12-BC/BTGTU"
    assessment: str  # "Đánh giá chung"
    directions: str  # "Phương hướng, nhiệm vụ thời gian tới"
    approved_by: str = ""
    approved_at: dt.datetime | None = None

    def to_json(self) -> dict[str, str | None]:
        return {
            "number": self.number,
            "assessment": self.assessment,
            "directions": self.directions,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> Approval:
        at = data.get("approved_at")
        return cls(
            number=str(data["number"]),
            assessment=str(data.get("assessment") or ""),
            directions=str(data.get("directions") or ""),
            approved_by=str(data.get("approved_by") or ""),
            approved_at=dt.datetime.fromisoformat(at) if at else None,
        )
