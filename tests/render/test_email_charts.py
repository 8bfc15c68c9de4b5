"""The email's charts drawn for a phone (render/email_charts.py): their size, and rows that grow
with the districts; the message carries these, not the document's."""

from __future__ import annotations

import datetime as dt

from PIL import Image

from housing_report.aggregate.forecast import Point, forecast
from housing_report.render.email_charts import WIDTH_PX, district_chart, progress_chart

TARGET = dt.date(2025, 9, 30)


def _district(i: int, status: str = "accepted", percent: float | None = 20.0) -> dict:
    return {"code": f"D{i}", "name": f"Huyện Thử Nghiệm {i}", "status": status, "percent": percent,
            "completed": 20, "needed": 100}  # fmt: skip


def test_district_chart_is_a_phones_width_and_a_row_per_district(tmp_path):
    few = [_district(1), _district(2, "stale"), _district(3, "missing", None)]
    many = [_district(i) for i in range(12)]
    with Image.open(district_chart(few, tmp_path / "few.png", flagged={"D1"})) as a:
        with Image.open(district_chart(many, tmp_path / "many.png")) as b:
            assert a.width == b.width == WIDTH_PX
            assert b.height > a.height  # each district has its row, whatever the legend


def test_progress_chart_is_a_phones_width(tmp_path):
    points = [Point(dt.date(2025, 2, 27), 1768, 8688), Point(dt.date(2025, 3, 12), 2130, 8688)]
    path = progress_chart(points, TARGET, tmp_path / "p.png", forecast(points, TARGET))
    with Image.open(path) as image:
        assert image.width == WIDTH_PX
        assert image.height < 2 * WIDTH_PX
