"""The charts: PNG files of the expected size, with every Vietnamese letter in the font."""

from __future__ import annotations

import datetime as dt
import warnings

from PIL import Image

from housing_report.aggregate.forecast import Point, forecast
from housing_report.render.official.charts import (
    HEIGHT_PX,
    MAX_BARS,
    WIDTH_PX,
    chart_rows,
    district_chart,
    progress_chart,
)

TARGET = dt.date(2025, 9, 30)


def test_charts_are_pngs_of_the_expected_size(official):
    assert set(official.charts) == {"progress", "districts"}
    for path in official.charts.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(path) as image:
            assert image.size == (WIDTH_PX, HEIGHT_PX)


def test_vietnamese_letters_render_without_missing_glyphs(tmp_path):
    districts = [
        {
            "name": "Huyện Trần Đề ữ ặ ỗ ẵ ỹ",
            "percent": 45.5,
            "completed": 455,
            "needed": 1000,
            "status": "accepted",
        },
        {"name": "Thị xã Ngã Năm", "percent": None, "completed": 0, "needed": 0, "status": "missing"},
    ]
    points = [Point(dt.date(2025, 2, 27), 1000, 8586), Point(dt.date(2025, 3, 12), 2230, 8586)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        district_chart(districts, tmp_path / "d.png", "Tỷ lệ hoàn thành theo địa bàn — ữ ặ ỗ")
        progress_chart(points, TARGET, tmp_path / "p.png", "Tiến độ toàn tỉnh", forecast(points, TARGET))
    assert not [w for w in caught if "glyph" in str(w.message).lower()]
    assert (tmp_path / "d.png").stat().st_size > 10_000


def test_a_country_of_districts_charts_those_furthest_behind_and_says_so(tmp_path):
    districts = [
        {
            "code": f"X{i}",
            "name": f"Xã {i}",
            "percent": float(i),
            "completed": i,
            "needed": 100,
            "status": "accepted",
        }
        for i in range(1, 101)
    ] + [
        {
            "code": "Y",
            "name": "Xã chưa báo cáo",
            "percent": None,
            "completed": 0,
            "needed": 0,
            "status": "missing",
        }
    ]
    rows, title = chart_rows(districts, "Tỷ lệ hoàn thành theo địa bàn")
    assert len(rows) == MAX_BARS
    assert rows[-1]["name"] == "Xã chưa báo cáo"  # no figures: furthest behind
    assert [r["percent"] for r in rows[:-1]] == [float(i) for i in range(MAX_BARS - 1, 0, -1)]
    assert title == f"Tỷ lệ hoàn thành theo địa bàn — {MAX_BARS} địa bàn có tỷ lệ thấp nhất trong 101"
    few = districts[:5]
    assert chart_rows(few, "T") == (sorted(few, key=lambda d: -d["percent"]), "T")
    with Image.open(district_chart(districts, tmp_path / "d.png", "T")) as image:
        assert image.size == (WIDTH_PX, HEIGHT_PX)
