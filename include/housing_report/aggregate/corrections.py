"""What changed between the delivered version of a period and a later one.

`figures_hash` decides whether there is anything to correct (any figure used);
`compare` lists the changed totals and, unit by unit, why they changed, for the
correction email ("Báo cáo bổ sung, điều chỉnh").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from housing_report.aggregate.forecast import forecast_all
from housing_report.config import Config
from housing_report.core.formatting import to_date, vn_date
from housing_report.core.statuses import status_label
from housing_report.core.summary import HistoryPoint, Summary

CORRECTION_TITLE = "Báo cáo bổ sung, điều chỉnh"


def figures_hash(summary: Summary) -> str:
    """A hash of every figure of the summary (totals and the figures used per unit). The
    archive keeps it beside each version and compares it with later ones: its text is that of
    the first versions of this code, byte for byte."""
    payload = {"totals": summary.totals, "by_unit": summary.by_unit}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compare(
    old: Summary | None,
    new: Summary,
    config: Config,
    *,
    old_version: int,
    new_version: int,
    old_sent_at: str | None = None,
    earlier: Sequence[Summary | HistoryPoint] = (),
) -> dict[str, Any]:
    """The correction view: changed totals (old, new, difference) and the reasons per unit.
    `old`: the delivered version (None when the archive no longer has it); `earlier`: the
    periods before (the archive's history), for the province's forecast before and now."""
    template = config.template
    changes = []
    old_totals = old.totals if old is not None else {}
    for key, value in new.totals.items():
        before = old_totals.get(key, 0)
        if before != value:
            changes.append(
                {
                    "key": key,
                    "label": template.figure_label(key),
                    "old": before,
                    "new": value,
                    "difference": _difference(value, before),
                }
            )
    reasons = []
    old_units = {u.code: u for u in old.units} if old is not None else {}
    old_by_unit = old.by_unit if old is not None else {}
    new_by_unit = new.by_unit
    for unit in new.units:
        code = unit.code
        before = old_units.get(code)
        figures_changed = old_by_unit.get(code, {}) != new_by_unit.get(code, {})
        status_changed = before is not None and before.status != unit.status
        if not figures_changed and not status_changed:
            continue
        parts = []
        if before is not None and status_changed:
            parts.append(
                f"tình trạng báo cáo từ «{status_label(before.status)}» thành «{status_label(unit.status)}»"
            )
        if figures_changed:
            carried = unit.carried_forward_from
            if carried:
                parts.append(f"dùng số liệu kỳ {vn_date(carried)}")
            else:
                count = _changed_count(old_by_unit.get(code, {}), new_by_unit.get(code, {}))
                parts.append(f"{count} chỉ tiêu thay đổi theo số liệu đơn vị cập nhật")
        reasons.append({"unit_code": code, "unit_name": unit.name, "text": "; ".join(parts)})
    return {
        "title": CORRECTION_TITLE,
        "old_version": old_version,
        "new_version": new_version,
        "old_sent_at": old_sent_at,
        "changes": changes,
        "reasons": reasons,
        # What a reader looks at first: the houses completed and the completion rate, before and now.
        "headline": {
            "completed_old": old.houses.completed if old is not None else None,
            "completed_new": new.houses.completed,
            "percent_old": old.completion_percent if old is not None else None,
            "percent_new": new.completion_percent,
            **_forecast_move(old, new, config, earlier),
        },
    }


def _forecast_move(
    old: Summary | None, new: Summary, config: Config, earlier: Sequence[Summary | HistoryPoint]
) -> dict[str, Any]:
    """The province's forecast as delivered and as corrected, when it moved: its sentence text
    ("dự kiến 03/11/2025") and whether it lies after the programme's target date."""
    if old is None:
        return {}
    target = config.report.programme.target_date
    before = [point for point in earlier if to_date(point.period) < to_date(new.period)]
    was = forecast_all(before, old, target)["province"]
    now = forecast_all(before, new, target)["province"]
    if was.finish_text == now.finish_text:
        return {}
    return {
        "forecast_old": was.finish_text,
        "forecast_new": now.finish_text,
        "at_risk_old": was.at_risk,
        "at_risk_new": now.at_risk,
        "target_label": vn_date(target),
    }


def _difference(new: float, old: float) -> int | float:
    diff = new - old
    return round(diff, 3) if isinstance(diff, float) else diff


def _changed_count(old: dict[str, Any], new: dict[str, Any]) -> int:
    return sum(1 for k in set(old) | set(new) if old.get(k) != new.get(k))
