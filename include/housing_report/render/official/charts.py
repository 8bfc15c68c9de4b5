"""The report's charts as PNG files (matplotlib, Agg canvas, no pyplot state).

- `district_chart`: completion by district, horizontal bars, sorted, "completed/needed"
  written at each bar (at most `MAX_BARS`: beyond, those furthest behind);
- `progress_chart`: the province's houses completed over the periods of the archive, the
  line from the last period to all houses done on the target date (the pace needed), and
  the forecast at the current pace.

Text is drawn in DejaVu Sans, which ships with matplotlib and covers every Vietnamese
letter (ữ, ặ, ỗ...). Numbers and dates are written the Vietnamese way. Both charts are
`WIDTH_PX` x `HEIGHT_PX` pixels: shown at half size in the email (sharp on phones) and
16 cm wide in the document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from housing_report.aggregate.forecast import Forecast, Point
from housing_report.core.formatting import vn_date, vn_number, vn_percent

FONT = "DejaVu Sans"
DPI = 150
WIDTH_PX = 1200
# The most bars the district chart draws (a province has a dozen districts; a country thousands).
MAX_BARS = 30
HEIGHT_PX = 720
GREEN = "#047857"
GREY = "#9ca3af"
RED = "#b91c1c"
AMBER = "#b45309"


def _figure(height_px: int = HEIGHT_PX):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _rc() -> dict[str, Any]:
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [FONT],
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.fonttype": "none",
    }


def _save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # No bbox_inches="tight": the PNG keeps exactly WIDTH_PX x height.
    figure.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def chart_rows(districts: Sequence[dict[str, Any]], title: str) -> tuple[list[dict[str, Any]], str]:
    """The districts the chart shows, best first, and its title. Beyond `MAX_BARS` (what a chart
    can show, and what drawing thousands of labels would cost) only those furthest behind,
    the ones without figures first, and the title says so; the annex lists every one."""
    rows = sorted(districts, key=lambda d: (d.get("percent") is None, -(d.get("percent") or 0), d["name"]))
    if len(rows) <= MAX_BARS:
        return rows, title
    return rows[-MAX_BARS:], f"{title} — {MAX_BARS} địa bàn có tỷ lệ thấp nhất trong {vn_number(len(rows))}"


# The district chart's legend: what each colour of bar means.
DISTRICT_LEGEND = (
    (GREEN, "Số liệu kỳ này"),
    (AMBER, "Chưa có báo cáo hợp lệ kỳ này: số liệu kỳ trước (ghi ở cuối thanh)"),
    (GREY, "Chưa có số liệu"),
)


def district_chart(districts: Sequence[dict[str, Any]], path: str | Path, title: str) -> Path:
    """Completion (%) by district: one bar each, best at the top; a district without this
    period's figures in amber with the period its figures are from, one without any with
    "chưa có số liệu"; a legend of the colours under the bars."""
    import matplotlib

    rows, title = chart_rows(districts, title)
    rows = rows[::-1]  # barh draws the first at the bottom
    with matplotlib.rc_context(_rc()):
        figure = _figure()
        ax = figure.add_axes((0.30, 0.16, 0.62, 0.76))
        names = [d["name"] for d in rows]
        values = [d.get("percent") or 0 for d in rows]
        colors = [
            GREY if d.get("percent") is None else (GREEN if d.get("status") == "accepted" else AMBER)
            for d in rows
        ]
        ax.barh(range(len(rows)), values, color=colors, height=0.62)
        ax.set_yticks(range(len(rows)), names)
        ax.set_xlim(0, 118)
        ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
        ax.axvline(100, color=GREY, linewidth=0.8, linestyle=":")
        for i, d in enumerate(rows):
            if d.get("percent") is None:
                text = "chưa có số liệu"
            else:
                text = f"{vn_percent(d['percent'])} ({vn_number(d['completed'])}/{vn_number(d['needed'])})"
                if d.get("status") != "accepted" and d.get("carried_from"):
                    text += f", số liệu kỳ {d['carried_from']}"
            ax.text(values[i] + 1.5, i, text, va="center", fontsize=8)
        shown = {colors[i] for i in range(len(rows))} | {GREEN}
        from matplotlib.patches import Patch

        figure.legend(
            handles=[Patch(color=c, label=label) for c, label in DISTRICT_LEGEND if c in shown],
            loc="lower center",
            ncol=3,
            fontsize=8,
            frameon=False,
        )
        ax.set_title(title, fontsize=10, fontweight="bold", loc="left")
        ax.tick_params(axis="y", length=0)
        _save(figure, Path(path))
    return Path(path)


def progress_chart(
    points: Sequence[Point],
    target: dt.date,
    path: str | Path,
    title: str,
    forecast: Forecast | None = None,
) -> Path:
    """Houses completed in the province per period, with the line needed to finish by `target`
    and, when there is one, the forecast at the current pace."""
    import matplotlib
    from matplotlib.dates import DateFormatter, MonthLocator, date2num

    with matplotlib.rc_context(_rc()):
        figure = _figure()
        ax = figure.add_axes((0.10, 0.12, 0.86, 0.76))
        ordered = sorted(points, key=lambda p: p.period)
        xs = [p.period for p in ordered]
        ys = [p.completed for p in ordered]
        needed = ordered[-1].needed if ordered else 0
        ax.plot(xs, ys, color=GREEN, marker="o", linewidth=2, label="Số nhà đã hoàn thành, bàn giao")
        for x, y in zip(xs, ys, strict=True):
            ax.annotate(
                vn_number(y),
                (date2num(x), y),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=8,
            )
        if ordered:
            last = ordered[-1]
            ax.plot(
                [last.period, target],
                [last.completed, needed],
                color=RED,
                linestyle="--",
                linewidth=1.2,
                label=f"Tiến độ cần đạt để hoàn thành trước {vn_date(target)}",
            )
            ax.axhline(needed, color=GREY, linewidth=0.8, linestyle=":")
            ax.text(date2num(xs[0]), needed, f"Cần hỗ trợ: {vn_number(needed)} căn", va="bottom", fontsize=8)
        if forecast is not None and forecast.finish is not None and ordered:
            last = ordered[-1]
            ax.plot(
                [last.period, forecast.finish],
                [last.completed, needed],
                color=AMBER,
                linestyle=":",
                linewidth=1.5,
                label=f"Dự báo theo tốc độ hiện nay: {vn_date(forecast.finish)}",
            )
        ax.axvline(target, color=RED, linewidth=0.8)
        ax.text(
            date2num(target),
            0.99,
            f"Mục tiêu {vn_date(target)} ",
            color=RED,
            fontsize=8,
            va="top",
            ha="right",
            transform=ax.get_xaxis_transform(),
        )
        ax.set_ylim(0, max(needed, *ys, 1) * 1.12 if ys else 1)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _pos: vn_number(int(v))))
        ax.xaxis.set_major_locator(MonthLocator())
        ax.xaxis.set_major_formatter(DateFormatter("%m/%Y"))
        ax.set_ylabel("căn")
        ax.legend(loc="lower right", fontsize=8, frameon=True, framealpha=0.9, edgecolor="white")
        ax.set_title(title, fontsize=10, fontweight="bold", loc="left")
        _save(figure, Path(path))
    return Path(path)
