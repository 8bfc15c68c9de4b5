"""What changed between the delivered version of a period and a later one.

`figures_hash` decides whether there is anything to correct (any figure used);
`compare` lists the changed totals and, unit by unit, why they changed, for the
correction email ("Báo cáo bổ sung, điều chỉnh").
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from housing_report.config import Config
from housing_report.core.formatting import vn_date
from housing_report.core.statuses import status_label

CORRECTION_TITLE = "Báo cáo bổ sung, điều chỉnh"


def figures_hash(summary: dict[str, Any]) -> str:
    """A hash of every figure of the summary (totals and the figures used per unit)."""
    payload = {"totals": summary.get("totals", {}), "by_unit": summary.get("by_unit", {})}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compare(
    old: dict[str, Any],
    new: dict[str, Any],
    config: Config,
    *,
    old_version: int,
    new_version: int,
    old_sent_at: str | None = None,
) -> dict[str, Any]:
    """The correction view: changed totals (old, new, difference) and the reasons per unit."""
    template = config.template
    changes = []
    old_totals, new_totals = old.get("totals", {}), new.get("totals", {})
    for key, value in new_totals.items():
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
    old_units = {u["code"]: u for u in old.get("units", [])}
    old_by_unit, new_by_unit = old.get("by_unit", {}), new.get("by_unit", {})
    for unit in new.get("units", []):
        code = unit["code"]
        before = old_units.get(code)
        figures_changed = old_by_unit.get(code, {}) != new_by_unit.get(code, {})
        status_changed = before is not None and before["status"] != unit["status"]
        if not figures_changed and not status_changed:
            continue
        parts = []
        if status_changed:
            parts.append(
                f"tình trạng báo cáo từ «{status_label(before['status'])}» thành "
                f"«{status_label(unit['status'])}»"
            )
        if figures_changed:
            carried = unit.get("carried_forward_from")
            if carried:
                parts.append(f"dùng số liệu kỳ {vn_date(carried)}")
            else:
                count = _changed_count(old_by_unit.get(code, {}), new_by_unit.get(code, {}))
                parts.append(f"{count} chỉ tiêu thay đổi theo số liệu đơn vị cập nhật")
        reasons.append({"unit_code": code, "unit_name": unit["name"], "text": "; ".join(parts)})
    return {
        "title": CORRECTION_TITLE,
        "old_version": old_version,
        "new_version": new_version,
        "old_sent_at": old_sent_at,
        "changes": changes,
        "reasons": reasons,
    }


def _difference(new: float, old: float) -> int | float:
    diff = new - old
    return round(diff, 3) if isinstance(diff, float) else diff


def _changed_count(old: dict[str, Any], new: dict[str, Any]) -> int:
    return sum(1 for k in set(old) | set(new) if old.get(k) != new.get(k))
