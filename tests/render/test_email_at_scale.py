"""The email at national scale: each list of districts, units or entries stops at `EMAIL_ROWS`,
what needs attention first, with how many were left out and where they all are; the document
and the workbook keep everything. A province's email (tests/render/test_email.py) is whole."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
from typing import Any

import msgspec
import pytest

from housing_report.core.summary import District, Summary
from housing_report.render.email import EMAIL_ROWS, REJECTED_SHOWN, render_email
from housing_report.render.prose import visible_text
from tests.render.official.conftest import earlier_summary
from tests.render.test_email import table_after
from tests.support.summary_fixture import make_summary, summary_dict, typed

DISTRICTS = 200  # of them, two without figures
ACCEPTED_UNITS = 250
REJECTED_UNITS = 15
ENTRIES = 100  # per list D, E, F


def _district(i: int) -> dict[str, Any]:
    needed = 1000
    completed = 0 if i < 2 else 10 + 4 * i  # 1 % .. 80 %: the higher the number, the further ahead
    return {
        "code": f"X{i:03d}",
        "name": f"Xã Thử Nghiệm {i:03d}",
        "status": "missing" if i < 2 else "accepted",
        "carried_forward_from": None,
        "needed": 0 if i < 2 else needed,
        "started": 0 if i < 2 else completed + 50,
        "completed": completed,
        "percent": None if i < 2 else round(completed * 100 / needed, 2),
        "previous_completed": None if i < 2 else completed - 5,
        "change": None if i < 2 else 5,
    }


def national_summary(period: str = "2025-03-12") -> Summary:
    """The fixture's summary with a country's worth of districts, units and list entries."""
    summary = summary_dict()
    summary["period"] = period
    # The furthest ahead first in the summary's order: the email must pick the others.
    summary["districts"] = [_district(i) for i in reversed(range(DISTRICTS))]
    province = summary["units"]
    accepted = next(u for u in province if u["status"] == "accepted")
    rejected = next(u for u in province if u["status"] == "rejected")
    extra = []
    for i in range(ACCEPTED_UNITS):
        extra.append({**copy.deepcopy(accepted), "code": f"A{i:03d}", "name": f"Xã Tiếp Nhận {i:03d}"})
    for i in range(REJECTED_UNITS):
        extra.append({**copy.deepcopy(rejected), "code": f"R{i:03d}", "name": f"Xã Trả Lại {i:03d}"})
    # The not-accepted units last in the summary's order: the email must bring them forward.
    summary["units"] = [u for u in province if u["status"] == "accepted"] + extra
    summary["units"] += [u for u in province if u["status"] != "accepted"]
    counts = {s: 0 for s in summary["status_counts"]}
    for u in summary["units"]:
        counts[u["status"]] += 1
    summary["status_counts"] = counts
    summary["lists"] = {
        code: [
            {
                "unit_code": f"A{i:03d}",
                "unit_name": f"Xã Tiếp Nhận {i:03d}",
                # Texts unlike each other: nearly-same ones are one point (aggregate/lists.py).
                "text": f"Nội dung {code} số {i} {hashlib.sha256(f'{code}{i}'.encode()).hexdigest()[:32]}",
                "place": f"Ấp {i}",
            }  # fmt: skip
            for i in range(ENTRIES)
        ]
        for code in ("D", "E", "F")
    }
    # 40 units late, 60 not submitted (codes outside the config: named by their code).
    late = {"period": period, "status": "accepted", "on_time": False}
    by_unit = {f"L{i:03d}": [late] for i in range(40)}
    by_unit |= {f"N{i:03d}": [{**late, "status": "missing"}] for i in range(60)}
    total = {"period": period, "archived": True, "expected": 100, "submitted": 40, "accepted": 40}
    total |= {"on_time": 0, "submitted_percent": 40.0, "accepted_percent": 40.0, "on_time_percent": 0.0}
    summary["completeness"] = {"periods": [period], "total": [total], "by_kind": {}, "by_unit": by_unit}
    return typed(summary)


@pytest.fixture(scope="module")
def national(config):
    return national_summary(), render_email(national_summary(), config)


def test_district_table_shows_those_furthest_behind_and_totals_all(national):
    summary, rendered = national
    rows = table_after(rendered.html, "Tiến độ theo địa bàn")
    body = rows[1:-2]
    assert len(body) == EMAIL_ROWS
    names = [r[0].split(" | ")[0] for r in body]
    # Without figures first, then the lowest completion: districts 000..029.
    assert names == [f"Xã Thử Nghiệm {i:03d}" for i in range(EMAIL_ROWS)]
    assert rows[-2] == [f"… và {DISTRICTS - EMAIL_ROWS} địa bàn khác"]
    houses = summary.houses
    assert rows[-1][0] == "Tổng cộng"
    assert rows[-1][1].endswith(f" | {houses.completed:,} / {houses.needed:,}".replace(",", "."))
    note = f"Thư nêu {EMAIL_ROWS} địa bàn có tỷ lệ hoàn thành thấp nhất"
    for body_text in (rendered.html, rendered.text):
        assert note in body_text
        assert f"trong tổng số {DISTRICTS} địa bàn" in body_text
        assert "Xã Thử Nghiệm 199" not in body_text
    assert f"- … và {DISTRICTS - EMAIL_ROWS} địa bàn khác" in rendered.text


def _status_shown(html: str) -> tuple[list[str], list[str]]:
    """The units the status section names: those without a valid report (its table, in order)
    and those with one (the line after it)."""
    rows = table_after(html, "Tình hình báo cáo của các đơn vị")
    text = visible_text(html)
    text = text[text.index("Tình hình báo cáo của các đơn vị") :]
    line = next(x for x in text.splitlines() if x.startswith("Đã gửi báo cáo hợp lệ: "))
    accepted = line.removeprefix("Đã gửi báo cáo hợp lệ: ").removesuffix(".").split(", ")
    return [r[0].split(" | ")[0] for r in rows], accepted


def test_status_table_brings_units_not_accepted_forward(national):
    summary, rendered = national
    table, accepted = _status_shown(rendered.html)
    shown = table + accepted
    assert len(shown) == EMAIL_ROWS
    not_accepted = [u.name for u in summary.units if u.status != "accepted"]
    assert len(not_accepted) < EMAIL_ROWS
    assert set(table) == set(not_accepted)
    # Rejected first, then missing, unreachable, stale; the accepted fill the rest.
    rank = {"rejected": 0, "missing": 1, "unreachable": 2, "stale": 3, "accepted": 4}
    status_of = {u.name: u.status for u in summary.units}
    assert [rank[status_of[n]] for n in shown] == sorted(rank[status_of[n]] for n in shown)
    total = len(summary.units)
    assert f"… và {total - EMAIL_ROWS} đơn vị khác." in visible_text(rendered.html)
    assert f"- … và {total - EMAIL_ROWS} đơn vị khác." in rendered.text
    assert f"trong tổng số {total} đơn vị" in rendered.html
    assert "tình trạng báo cáo của từng đơn vị có trong tệp Excel đính kèm" in rendered.text
    # The counts above the table are of every unit.
    assert f"{summary.status_counts['accepted']} đơn vị đã gửi báo cáo hợp lệ" in rendered.text


def test_many_rejected_units_do_not_crowd_out_the_missing_ones(config):
    summary = national_summary()
    rejected = next(u for u in summary.units if u.status == "rejected")
    many = [
        msgspec.structs.replace(rejected, code=f"M{i:03d}", name=f"Xã Nhiều Lỗi {i:03d}") for i in range(40)
    ]
    summary.units = many + summary.units
    others = [u.name for u in summary.units if u.status not in ("accepted", "rejected")]
    assert {u.status for u in summary.units} >= {"missing", "stale", "unreachable"}
    html = render_email(summary, config).html
    rows = table_after(html, "Tình hình báo cáo của các đơn vị")
    shown = [r[0].split(" | ")[0] for r in rows]
    assert len(shown) == EMAIL_ROWS
    assert set(others) <= set(shown)
    # Grouped by status, rejected first, each group in the summary's order.
    assert shown[: EMAIL_ROWS - len(others)] == [
        f"Xã Nhiều Lỗi {i:03d}" for i in range(EMAIL_ROWS - len(others))
    ]
    assert f"… và {len(summary.units) - EMAIL_ROWS} đơn vị khác." in visible_text(html)


def test_lists_and_rejected_errors_stop_and_say_how_many_more(national):
    summary, rendered = national
    for code in ("D", "E", "F"):
        shown = [i for i in range(ENTRIES) if f"Nội dung {code} số {i} " in rendered.text
                 or f"Nội dung {code} số {i}\n" in rendered.text]  # fmt: skip
        assert shown == list(range(EMAIL_ROWS))
    assert rendered.text.count(f"… và {ENTRIES - EMAIL_ROWS} nội dung khác của các đơn vị") == 3
    assert rendered.html.count(f"… và {ENTRIES - EMAIL_ROWS} nội dung khác của các đơn vị") == 3
    rejected = [u for u in summary.units if u.status == "rejected"]
    errors = rendered.text[rendered.text.index("BÁO CÁO CHƯA HỢP LỆ, ĐƠN VỊ ĐANG ĐIỀU CHỈNH") :]
    listed = [u.name for u in rejected if f"\n- {u.name}: " in errors]
    assert listed == [u.name for u in rejected][:REJECTED_SHOWN]
    more = f"… và {len(rejected) - REJECTED_SHOWN} đơn vị khác có báo cáo chưa hợp lệ"
    assert more in rendered.text
    assert more in rendered.html


@pytest.mark.parametrize("part", ["html", "text"])
def test_late_and_missing_units_named_up_to_the_limit(national, part):
    body = getattr(national[1], part)
    late = next(x for x in body.splitlines() if "Tiếp nhận muộn" in x)
    assert re.findall(r"L\d{3}", late) == [f"L{i:03d}" for i in range(EMAIL_ROWS)]
    assert f"L{EMAIL_ROWS - 1:03d} và {40 - EMAIL_ROWS} đơn vị khác." in late
    missing = next(x for x in body.splitlines() if "Chưa nộp kỳ này" in x)
    assert re.findall(r"N\d{3}", missing) == [f"N{i:03d}" for i in range(EMAIL_ROWS)]
    assert f"N{EMAIL_ROWS - 1:03d} và {60 - EMAIL_ROWS} đơn vị khác." in missing


def test_the_email_stays_small_whatever_the_number_of_units(config):
    """Gmail clips a message beyond 102 kB: ten times the units, the same size within a few kB."""
    small = render_email(national_summary(), config)
    summary = national_summary()
    summary.districts = [msgspec.convert(_district(i), District) for i in range(DISTRICTS * 10)]
    summary.units = summary.units * 10
    summary.lists = {code: entries * 10 for code, entries in summary.lists.items()}
    large = render_email(summary, config)
    assert len(large.html.encode()) - len(small.html.encode()) < 2_000
    assert len(large.html.encode()) < 102 * 1024


def test_a_province_is_listed_whole(config):
    summary = make_summary()
    rendered = render_email(summary, config)
    assert "Thư nêu" not in rendered.html
    assert "Thư nêu" not in rendered.text
    rows = table_after(rendered.html, "Tiến độ theo địa bàn")
    assert len(rows) == 1 + len(summary.districts) + 1
    assert len(summary.districts) <= EMAIL_ROWS
    assert len(summary.units) <= EMAIL_ROWS


def test_at_risk_districts_and_praise_are_cut_in_the_email_not_in_the_document(config, tmp_path):
    from housing_report.render.official import prepare

    summary = national_summary("2025-03-27")  # the month's end: the month's praise too
    earlier = [earlier_summary(summary, "2025-02-12", 0.6), earlier_summary(summary, "2025-02-27", 0.8)]
    official = prepare(config, summary, earlier, tmp_path)
    at_risk = official.view["forecast"]["at_risk"]
    praise = official.view["praise"]["entries"]
    assert len(at_risk) > EMAIL_ROWS
    assert len(praise) > EMAIL_ROWS
    rendered = render_email(summary, config, official=official.email_view({}))
    head = rendered.text.split("1. TIẾN ĐỘ THEO ĐỊA BÀN")[0]
    line = next(x for x in head.splitlines() if "nguy cơ không hoàn thành" in x)
    named = line.count("(dự kiến ")
    assert named == EMAIL_ROWS
    assert f"và {len(at_risk) - EMAIL_ROWS} địa bàn khác, đầy đủ trong báo cáo (tệp Word) đính kèm." in line
    # The latest forecast finish first.
    finishes = [dt.datetime.strptime(x.split("(dự kiến ")[1][:10], "%d/%m/%Y").date()
                for x in line.split("), ")[:named]]  # fmt: skip
    assert finishes == sorted(finishes, reverse=True)
    assert finishes[0] == max(f.finish for f in at_risk)
    assert f"… và {len(praise) - EMAIL_ROWS} gương điển hình khác" in rendered.html
    # The document's view is whole: the email cut copies.
    assert len(official.view["forecast"]["at_risk"]) == len(at_risk)
    assert len(official.view["praise"]["entries"]) == len(praise)
