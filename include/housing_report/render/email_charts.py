"""The email's charts, drawn for a phone: what the document's charts (`official.charts`) show,
at the size a phone shows them, with text that reads there.

A phone shows the email about 360 CSS pixels wide; these PNGs are `WIDTH_PX` (twice that, sharp
on a phone's screen) and their text is 12 and 13 points at `DPI`, 13 to 14 CSS pixels once shown. The
title is the email's own text above the image (it reflows, the image does not); the axes carry
few ticks; a legend below the plot says what each colour and line is, the carried-forward
figures included.

- `district_chart`: one row per district, its name above its bar (the bar has the whole width),
  the percentage at the bar's end; figures carried forward from an earlier period in amber,
  districts without figures in grey, those whose figures are being verified marked "*", and a
  legend for each;
- `progress_chart`: houses completed over the periods, the pace needed to finish by the target
  date and the forecast at the current pace, the legend under the plot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from housing_report.aggregate.forecast import Forecast, Point
from housing_report.core.formatting import vn_date, vn_number, vn_percent
from housing_report.core.runtime import collect_young, gc_paused
from housing_report.core.statuses import ACCEPTED
from housing_report.render.official.charts import AMBER, DPI, FONT, GREEN, GREY, RED, chart_rows

WIDTH_PX = 720
FONT_PT = 13
SMALL_PT = 12
# The district chart: pixels per district (its name's line and its bar), and around the rows.
ROW_PX = 70
MARGIN_PX = 24
LEGEND_LINE_PX = 40  # a line of the legend
PROGRESS_HEIGHT_PX = 700
FILES = {"progress": "email-bieu-do-tien-do.png", "districts": "email-bieu-do-dia-ban.png"}
CARRIED_LEGEND = "Số liệu kỳ trước (chưa có báo cáo\nhợp lệ kỳ này)"
NO_DATA_LEGEND = "Chưa có số liệu"
FLAGGED_LEGEND = "* Số liệu đang được xác minh"


def _figure(height_px: int):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _rc() -> dict[str, Any]:
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [FONT],
        "font.size": FONT_PT,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def district_chart(
    districts: Sequence[Mapping[str, Any]], path: str | Path, flagged: Collection[str] = ()
) -> Path:
    """Completion (%) by district for a phone: best at the top, each district's name above its
    bar, the percentage after it; a legend for the amber (carried forward) and grey (no figures)
    rows when there are any. A district of `flagged` (codes: a progress figure the checks warned
    about) is marked "*", and the legend says its figures are being verified."""
    import matplotlib
    from matplotlib.patches import Patch

    rows, _title = chart_rows(list(districts), "")
    carried = any(d.get("percent") is not None and d.get("status") != ACCEPTED for d in rows)
    no_data = any(d.get("percent") is None for d in rows)
    marked = any(d.get("code") in flagged for d in rows)
    legend = [
        Patch(color=GREEN, label="Số liệu kỳ này"),
        *([Patch(color=AMBER, label=CARRIED_LEGEND)] if carried else []),
        *([Patch(color=GREY, label=NO_DATA_LEGEND)] if no_data else []),
        *([Patch(color="none", label=FLAGGED_LEGEND)] if marked else []),
    ]
    lines = sum(p.get_label().count("\n") + 1 for p in legend) if len(legend) > 1 else 0
    legend_px = LEGEND_LINE_PX * lines + MARGIN_PX * bool(lines)
    height = MARGIN_PX * 3 + ROW_PX * max(1, len(rows)) + legend_px  # the top: room for "100%"
    with matplotlib.rc_context(_rc()):
        figure = _figure(height)
        bottom = (MARGIN_PX + legend_px) / height
        ax = figure.add_axes((0.02, bottom, 0.96, (ROW_PX * max(1, len(rows))) / height))
        n = len(rows)
        ax.set_xlim(0, 118)
        ax.set_ylim(-0.5, n - 0.3)
        for i, d in enumerate(rows):
            y = n - 1 - i  # the first row at the top
            percent = d.get("percent")
            color = GREY if percent is None else (GREEN if d.get("status") == ACCEPTED else AMBER)
            value = percent or 0
            ax.barh(y - 0.14, max(value, 0.6), height=0.34, color=color)
            name = f"{d['name']} *" if d.get("code") in flagged else str(d["name"])
            ax.text(0, y + 0.1, name, va="bottom", ha="left", fontsize=FONT_PT)
            label = NO_DATA_LEGEND.lower() if percent is None else vn_percent(percent)
            ax.text(value + 1.5, y - 0.14, label, va="center", ha="left", fontsize=FONT_PT, fontweight="bold")
        ax.axvline(100, color=GREY, linewidth=0.8, linestyle=":")
        ax.text(100, n - 0.3, "100%", ha="center", va="bottom", fontsize=SMALL_PT, color="#4b5563")
        ax.set_axis_off()
        if len(legend) > 1:
            figure.legend(
                handles=legend,
                loc="lower left",
                bbox_to_anchor=(0.02, 0.0),
                fontsize=SMALL_PT,
                frameon=False,
                handlelength=1.2,
            )
        _save(figure, Path(path))
    return Path(path)


def progress_chart(
    points: Sequence[Point], target: dt.date, path: str | Path, forecast: Forecast | None = None
) -> Path:
    """Houses completed in the province per period for a phone: four ticks on the value axis,
    one every other month on the time axis, the latest value written, the legend
    under the plot (one line each)."""
    import matplotlib
    from matplotlib.dates import DateFormatter, MonthLocator, date2num
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ordered = sorted(points, key=lambda p: p.period)
    xs = [p.period for p in ordered]
    ys = [p.completed for p in ordered]
    needed = ordered[-1].needed if ordered else 0
    with matplotlib.rc_context(_rc()):
        figure = _figure(PROGRESS_HEIGHT_PX)
        ax = figure.add_axes((0.15, 0.37, 0.81, 0.60))
        ax.plot(xs, ys, color=GREEN, marker="o", linewidth=2.5, label="Số nhà đã hoàn thành, bàn giao")
        if ordered:  # the latest value only: the others are in the email's text and the document
            ax.annotate(
                vn_number(ys[-1]),
                (date2num(xs[-1]), ys[-1]),
                textcoords="offset points",
                xytext=(8, -6),
                ha="left",
                va="top",
                fontsize=SMALL_PT,
                fontweight="bold",
            )
        if ordered:
            last = ordered[-1]
            ax.plot(
                [last.period, target],
                [last.completed, needed],
                color=RED,
                linestyle="--",
                linewidth=1.5,
                label=f"Tiến độ cần đạt để xong trước {vn_date(target)}",
            )
            ax.axhline(needed, color=GREY, linewidth=0.8, linestyle=":")
            ax.text(
                date2num(xs[0]),
                needed,
                f"Cần hỗ trợ: {vn_number(needed)} căn",
                va="bottom",
                fontsize=SMALL_PT,
            )
        if forecast is not None and forecast.finish is not None and ordered:
            last = ordered[-1]
            ax.plot(
                [last.period, forecast.finish],
                [last.completed, needed],
                color=AMBER,
                linestyle=":",
                linewidth=2,
                label=f"Dự báo theo tốc độ hiện nay: {vn_date(forecast.finish)}",
            )
        ax.axvline(target, color=RED, linewidth=0.8, label=f"Mục tiêu: {vn_date(target)}")
        ax.set_ylim(0, max(needed, *ys, 1) * 1.15 if ys else 1)
        ax.yaxis.set_major_locator(MaxNLocator(4, integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: vn_number(int(v))))
        ax.xaxis.set_major_locator(MonthLocator(interval=2))
        ax.xaxis.set_major_formatter(DateFormatter("%m/%Y"))
        ax.tick_params(labelsize=SMALL_PT)
        figure.legend(
            loc="lower left", bbox_to_anchor=(0.02, 0.0), fontsize=SMALL_PT, frameon=False, handlelength=2.2
        )
        _save(figure, Path(path))
    return Path(path)


@gc_paused()  # core.runtime: the collector would walk the task's whole heap again and again
def draw(
    view: Mapping[str, Any], target: dt.date, folder: str | Path, flagged: Collection[str] = ()
) -> dict[str, Path]:
    """Both charts of the official report's `view` (`official.view.build_view`) for the email,
    into `folder`: {"progress": path, "districts": path}; `flagged`: the codes of the districts
    whose progress figures are being verified."""
    folder = Path(folder)
    charts = {
        "progress": progress_chart(
            view["province_points"], target, folder / FILES["progress"], view["forecast"]["province"]
        ),
        "districts": district_chart(view["districts_full"], folder / FILES["districts"], flagged),
    }
    collect_young()  # their figures (reference cycles), freed now
    return charts
