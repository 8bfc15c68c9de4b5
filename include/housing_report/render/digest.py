"""A one-screen plain summary of a version, for the admin's terminal and the task's log: in
Vietnamese throughout (statuses by their labels, outputs by what they are)."""

from __future__ import annotations

from housing_report.core.formatting import vn_date, vn_number, vn_percent
from housing_report.core.statuses import ACCEPTED, MISSING, STALE, UNREACHABLE, status_label
from housing_report.core.summary import Summary

# The outputs (`RenderedOutputs.files`, the demo's extras) by what they are.
OUTPUT_LABELS = {
    "summary": "Bản tổng hợp (summary.json)",
    "document": "Văn bản báo cáo",
    "workbook": "Bảng tính tổng hợp",
    "email_html": "Email (HTML)",
    "email_text": "Email (văn bản)",
    "outbox": "Thư trong hộp thư đi (mới nhất)",
    "report_db": "Cơ sở dữ liệu báo cáo",
    "airflow_log": "Nhật ký Airflow",
}


def output_label(name: str) -> str:
    if name.startswith("chart_"):
        return f"Biểu đồ {name.removeprefix('chart_')}"
    return OUTPUT_LABELS.get(name, name)


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
    lines.append("Tình trạng: " + ", ".join(f"{status_label(k)} {v}" for k, v in counts.items() if v))
    for u in summary.units:
        if u.status == ACCEPTED and not u.warnings:
            continue
        carried = u.carried_forward_from
        extra = f", dùng số liệu kỳ {vn_date(carried)}" if carried else ""
        lines.append(f"  {u.code:<8} {u.name:<40} {status_label(u.status)}{extra}")
        for f in u.errors[:3]:
            lines.append(f"      lỗi {f.cell}: {f.message[:150]}")
        if u.status in (ACCEPTED, STALE):  # a stale sheet's warning names the period it shows
            for f in u.warnings[:2]:
                lines.append(f"      cảnh báo {f.cell}: {f.message[:150]}")
        if u.status in (MISSING, UNREACHABLE) and u.reason:
            lines.append(f"      {u.reason[:150]}")
    if outputs:
        lines.append("Kết quả:")
        lines += [f"  {output_label(name)}: {path}" for name, path in outputs.items()]
    return "\n".join(lines)
