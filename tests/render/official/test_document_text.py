"""What the report document says: changes in words that agree with the figures shown, counts
with their units, the office's words for what units did, difficulties and recommendations
grouped by content, and the marks on figures that are not this period's."""

from __future__ import annotations

import msgspec
import pytest

from housing_report.core.statuses import OFFICIAL_STATUS_LABELS, STATUS_LABELS, STATUSES
from housing_report.core.summary import ListEntry
from housing_report.render.official import body_text, change_words, with_unit
from housing_report.render.official.annexes import build_annexes
from housing_report.render.official.view import _kind_labels, build_view, request_text, rounded_change
from tests.render.official.conftest import earlier_summary


@pytest.mark.parametrize(
    ("current", "previous", "shown"),
    [
        pytest.param(24.52, 20.36, 4.1, id="24,5-20,4-not-4,2"),
        pytest.param(24.46, 20.44, 4.1, id="24,5-20,4-not-4,0"),
        pytest.param(20.0, 20.04, 0.0, id="same-shown-figure"),
        pytest.param(20.36, 24.52, -4.1, id="a-fall"),
    ],
)
def test_a_change_agrees_with_the_rounded_figures_shown(current, previous, shown):
    assert rounded_change(current, previous) == pytest.approx(shown)


@pytest.mark.parametrize(
    ("value", "unit", "decimals", "words"),
    [
        (1140, "ngày công", None, "tăng 1.140 ngày công"),
        (-12, "căn", None, "giảm 12 căn"),
        (0, "căn", None, "không thay đổi"),
        (4.1, "điểm phần trăm", 1, "tăng 4,1 điểm phần trăm"),
        (0.04, "điểm phần trăm", 1, "không thay đổi"),
    ],
)
def test_a_change_in_words_never_a_sign(value, unit, decimals, words):
    assert change_words(value, unit, decimals) == words


def test_a_count_with_its_unit():
    assert with_unit(110, "pano, băng rôn, khẩu hiệu") == "110 pano, băng rôn, khẩu hiệu"
    assert with_unit(None, "tin, bài") == "0 tin, bài"
    assert with_unit(9095) == "9.095"


def test_every_status_has_an_official_phrase_and_units_keep_theirs():
    assert set(OFFICIAL_STATUS_LABELS) == set(STATUSES)
    for status in STATUSES:
        official = OFFICIAL_STATUS_LABELS[status]
        assert official and official == official.lower() and official != STATUS_LABELS[status].lower()
    assert STATUS_LABELS["rejected"] == "Bị trả lại (có lỗi)"  # what the unit reads is unchanged


def test_kinds_of_work_from_the_column_labels():
    assert _kind_labels(["Số nhà cần hỗ trợ xây mới", "Số nhà cần hỗ trợ sửa chữa"]) == [
        "xây mới",
        "sửa chữa",
    ]
    assert _kind_labels(["Xây mới", "Sửa chữa"]) == []  # nothing in common: no split said


def test_a_recommendation_loses_its_leading_request():
    assert request_text("Đề nghị hướng dẫn thủ tục hỗ trợ") == "Hướng dẫn thủ tục hỗ trợ"
    assert request_text("kiến nghị: tăng hạn mức") == "Tăng hạn mức"
    assert request_text("Ngân hàng tăng hạn mức") == "Ngân hàng tăng hạn mức"


@pytest.fixture
def text(config, summary):
    earlier = [earlier_summary(summary, "2025-02-12", 0.6), earlier_summary(summary, "2025-02-27", 0.8)]
    view = build_view(config, summary, earlier)
    return view, body_text(view)


def test_the_split_and_the_units_are_in_the_body(text, summary, config):
    view, body = text
    lines = body.splitlines()
    overall = next(line for line in lines if line.startswith("Toàn tỉnh đã hoàn thành"))
    kinds = {k["label"]: k for k in view["house_kinds"]}
    assert set(kinds) == {"xây mới", "sửa chữa"}
    assert sum(k["completed"] for k in kinds.values()) == summary.houses.completed
    assert sum(k["needed"] for k in kinds.values()) == summary.houses.needed
    assert "(xây mới " in overall and ", sửa chữa " in overall
    for key in ("NGAY_CONG", "C_PANO"):
        label, unit = config.template.figure_label(key), config.template.figure_unit(key)
        line = next(line for line in lines if line.startswith(f"- {label}:"))
        assert line.startswith(f"- {label}: {with_unit(summary.totals.get(key), unit)}")


def test_units_that_did_not_report_in_the_offices_words(text, summary):
    _, body = text
    for unit in summary.units:
        if unit.status == "accepted":
            continue
        line = next(line for line in body.splitlines() if line.startswith(f"- {unit.name}:"))
        assert OFFICIAL_STATUS_LABELS[unit.status] in line
        assert unit.status_label.lower() not in line.lower()
    for word in ("Bị trả lại", "không có trang tính", "Không đọc được"):
        assert word.lower() not in body.lower()


def test_difficulties_grouped_with_the_units_named_after_each(config, summary):
    same = "Mưa trái mùa làm chậm tiến độ thi công ở một số xã."
    summary.lists["E"] = [
        ListEntry(unit_code=u.code, unit_name=u.name, text=t)
        for u, t in zip(summary.units[:4], [same, same.upper().lower().capitalize(), "Thiếu thợ xây.", same])
    ]
    body = body_text(build_view(config, summary, []))
    grouped = [line for line in body.splitlines() if line.startswith("- Mưa trái mùa")]
    names = [u.name for u in summary.units[:4]]
    assert grouped == [
        f"- Mưa trái mùa làm chậm tiến độ thi công ở một số xã ({names[0]}, {names[1]}, {names[3]})."
    ]
    assert f"- Thiếu thợ xây ({names[2]})." in body.splitlines()


def test_recommendations_are_addressed(text, config):
    view, body = text
    lines = body.splitlines()
    part = lines.index("# IV. KIẾN NGHỊ, ĐỀ XUẤT")
    asks = [line for line in lines[part + 1 :] if line.startswith("Đề nghị ")]
    assert asks == [f"Đề nghị {r['addressee']} xem xét:" for r in view["requests"]]
    assert len({r["addressee"] for r in view["requests"]}) == len(view["requests"])  # each once
    for r in view["requests"]:
        for group in r["items"]:
            assert group["addressee"] == r["addressee"]
            assert r["addressee"] == config.report.recommendations.addressee(group["text"])
    assert all(not line.startswith("- Đề nghị") for line in lines[part + 1 :])


def test_a_district_without_current_figures_is_marked_and_its_change_unknown(config, summary):
    district = next(d for d in summary.districts if d.status != "accepted")
    view = build_view(config, summary, [])
    row = next(d for d in view["districts_full"] if d["code"] == district.code)
    assert row["change"] is None
    annex = build_annexes(config, summary, view)[0]
    cells = next(r for r in annex.rows if r[1] == row["name"])
    assert cells[6] is None  # printed "–", never 0
    if district.carried_forward_from:
        assert f"số liệu kỳ {row['carried_from']}" in cells[8]
    stale = view["stale_need"]
    assert row["name"] in stale["units"]
    body = body_text(view)
    assert f"Có {len(stale['units'])} địa bàn chiếm" in body


def test_a_flagged_district_is_never_praised_without_its_caveat(config, summary):
    leader = max((d for d in summary.districts if d.needed), key=lambda d: d.percent or 0)
    flagged = msgspec.structs.replace(leader, status="accepted", flagged=True)
    summary.districts = [flagged if d.code == leader.code else d for d in summary.districts]
    body = body_text(build_view(config, summary, []))
    line = next(line for line in body.splitlines() if line.startswith("Các địa bàn có tỷ lệ hoàn thành cao"))
    assert f"{leader.name} (" in line
    assert "số liệu đang được xác minh" in line.split(leader.name, 1)[1].split(")")[0]


def test_the_organisations_money_is_shown_apart_once(config, summary):
    summary.apart = {"B.XHH.HUY_DONG": 1234.5, "B.TONG.HUY_DONG": 1234.5, "B.TONG.GIAI_NGAN": 1000.0}
    view = build_view(config, summary, [])
    body = body_text(view)
    label = config.report.funds_apart.label
    line = f"Ngoài ra, {label} 1.234,5 triệu đồng (đã chuyển về các địa phương, không cộng vào tổng trên)."
    assert body.splitlines().count(line) == 1
    money = next(a for a in build_annexes(config, summary, view) if a.unit == "triệu đồng")
    assert money.note.startswith(
        f"Ngoài ra, {label}: đã huy động, bố trí 1.234,5 triệu đồng; đã giải ngân 1.000"
    )
    summary.apart = {}
    assert "Ngoài ra" not in body_text(build_view(config, summary, []))


def test_the_approvers_parts_in_a_draft_and_without_approval(config, summary):
    import dataclasses

    from housing_report.core.approval import Approval

    draft = build_view(config, summary, [])
    assert draft["assessment"] == [config.report.approval.assessment]
    assert draft["directions"] == [config.report.approval.directions]
    approved = build_view(
        config, summary, [], Approval(number="7", assessment="Một.\nHai.", directions="Ba.")
    )
    assert (approved["assessment"], approved["directions"]) == (["Một.", "Hai."], ["Ba."])
    unapproved = dataclasses.replace(config, report=dataclasses.replace(config.report, approval=None))
    plain = build_view(unapproved, summary, [])
    assert plain["assessment"] and plain["directions"]  # the policy's defaults: the parts are never empty
    assert "# II. ĐÁNH GIÁ CHUNG" in body_text(plain).splitlines()
