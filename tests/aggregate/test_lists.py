"""The units' list entries grouped by content (`aggregate.lists`)."""

from __future__ import annotations

from housing_report.aggregate.lists import group_entries
from housing_report.config import load_config
from housing_report.core.summary import ListEntry


def _entry(code: str, text: str) -> ListEntry:
    return ListEntry(unit_code=code, unit_name=f"Huyện {code}", text=text)


def test_the_same_difficulty_is_stated_once_with_its_units_named():
    groups = group_entries(
        [
            _entry("943", "Mưa trái mùa làm chậm tiến độ thi công ở một số xã"),
            _entry("943", "Thiếu thợ xây vào thời điểm nhiều công trình khởi công cùng lúc"),
            _entry("950", "Mưa trái mùa làm chậm tiến độ thi công ở một số xã."),
            _entry("MTTQ", "  mưa trái mùa làm chậm tiến độ thi công ở một số xã "),
            _entry("950", "Mưa trái mùa làm chậm tiến độ thi công ở 1 số xã"),  # nearly the same
            _entry("942", "Thiếu thợ xây vào thời điểm nhiều công trình khởi công cùng lúc"),
            _entry("944", "Giá vật liệu tăng"),
        ]
    )
    assert [g.text for g in groups] == [
        "Mưa trái mùa làm chậm tiến độ thi công ở một số xã",
        "Thiếu thợ xây vào thời điểm nhiều công trình khởi công cùng lúc",
        "Giá vật liệu tăng",
    ]
    assert groups[0].units == ["Huyện 943", "Huyện 950", "Huyện MTTQ"]  # 950 once
    assert groups[1].units == ["Huyện 943", "Huyện 942"]
    assert all(g.addressee == "" for g in groups)


def test_recommendations_are_addressed_from_report_yaml():
    config = load_config()
    groups = group_entries(
        [
            _entry("942", "Đề nghị Ngân hàng Chính sách xã hội tăng hạn mức cho vay nhà ở đối với hộ nghèo"),
            _entry(
                "945", "Đề nghị hướng dẫn thủ tục hỗ trợ đối với hộ chưa có giấy chứng nhận quyền sử dụng đất"
            ),
            _entry("947", "Kiến nghị tổ chức sơ kết"),
        ],
        config.report.recommendations.addressee,
    )
    assert [g.addressee for g in groups] == [
        "Chi nhánh Ngân hàng Chính sách xã hội tỉnh",
        "Sở Nông nghiệp và Môi trường tỉnh",
        config.report.recommendations.default,
    ]


def test_different_points_are_not_merged():
    groups = group_entries([_entry("941", "Thiếu vốn đối ứng"), _entry("942", "Thiếu thợ xây")])
    assert len(groups) == 2
