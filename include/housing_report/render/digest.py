"""A one-screen plain summary of a version, for the admin's terminal and the task's log."""

from __future__ import annotations

from housing_report.core.formatting import vn_date, vn_number, vn_percent
from housing_report.core.statuses import ACCEPTED, MISSING, UNREACHABLE
from housing_report.core.summary import Summary


def format_digest(summary: Summary, outputs: dict[str, str] | None = None) -> str:
    """Houses completed of needed, the statuses, each unit not plainly accepted with its first
    errors or warnings, and (given `outputs`) where each output went."""
    lines = [f"Kỳ báo cáo {summary.period_label} — {summary.programme.title}"]
    h = summary.houses
    pct = summary.completion_percent
    lines.append(
        f"Hoàn thành {vn_number(h.completed)}/{vn_number(h.needed)} căn"
        + (f" ({vn_percent(pct)})" if pct is not None else "")
        + f"; đã khởi công {vn_number(h.started)} căn."
    )
    counts = summary.status_counts
    lines.append("Tình trạng: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    for u in summary.units:
        if u.status == ACCEPTED and not u.warnings:
            continue
        carried = u.carried_forward_from
        extra = f", dùng số liệu kỳ {vn_date(carried)}" if carried else ""
        lines.append(f"  {u.code:<8} {u.name:<40} {u.status}{extra}")
        for f in u.errors[:3]:
            lines.append(f"      lỗi {f.cell}: {f.message[:150]}")
        if u.status == ACCEPTED:
            for f in u.warnings[:2]:
                lines.append(f"      cảnh báo {f.cell}: {f.message[:150]}")
        if u.status in (MISSING, UNREACHABLE) and u.reason:
            lines.append(f"      {u.reason[:150]}")
    if outputs:
        lines.append("Kết quả:")
        lines += [f"  {name}: {path}" for name, path in outputs.items()]
    return "\n".join(lines)
