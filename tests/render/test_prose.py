"""The lint over officials' prose (render/prose.py): what it finds and what it lets be."""

from __future__ import annotations

import unicodedata

import pytest

from housing_report.render.prose import lint_prose, visible_text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("So với kỳ trước: số nhà hoàn thành +362 căn.", id="plus-in-sentence"),
        pytest.param("Tỷ lệ hoàn thành tăng (+4,2 điểm phần trăm).", id="plus-in-brackets"),
        pytest.param("Số ngày công giảm -15 so với kỳ trước.", id="minus"),
        pytest.param("Số ngày công: −15 so với kỳ trước.", id="unicode-minus"),
        pytest.param("- Thành phố Sóc Trăng: 90/311 (28,9%), +19 so với kỳ trước", id="plus-after-bullet"),
        pytest.param("Tổng cộng 2.130 căn, - 5 căn so với kỳ trước.", id="minus-with-space"),
    ],
)
def test_a_sign_before_a_number_in_a_sentence_is_found(text):
    problems = lint_prose(text)
    assert len(problems) == 1
    assert problems[0].startswith("sign ")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("- 2.130 căn đã hoàn thành, bàn giao.", id="bullet-before-number"),
        pytest.param("- Huyện Kế Sách: tăng 64 căn.\n+ Xây mới: 40 căn.", id="bullets"),
        pytest.param("Kế hoạch giai đoạn 2024-2025 và 2024 - 2025.", id="year-range"),
        pytest.param("Các kỳ 12/03 - 27/03/2025 và 12/03-27/03/2025.", id="date-range"),
        pytest.param("Liên hệ: điện thoại 0299 3822 123.", id="phone"),
        pytest.param("Thể thức theo Nghị định số 30/2020/NĐ-CP (NĐ 30/2020).", id="decree"),
        pytest.param("Sở Lao động - Thương binh và Xã hội", id="dash-between-words"),
        pytest.param("Báo cáo tổng hợp tiến độ - kỳ 12/03/2025", id="subject"),
        pytest.param("+19\n-3\n+4,2%", id="table-cells"),
        pytest.param("Số hiệu 45-KH/BTGTU, mã st-946.", id="codes-with-dash"),
        pytest.param("So với kỳ trước: tăng 362 căn; tỷ lệ hoàn thành tăng 4,1 điểm phần trăm.", id="words"),
        pytest.param("Bài đăng trên mạng xã hội (Facebook, Zalo, YouTube...)", id="brand"),
        pytest.param("Liên hệ: vanphong.btgtu@soctrang.example", id="email-address"),
    ],
)
def test_official_prose_passes(text):
    assert lint_prose(text) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("Lỗi ở BaoCao!G15 cần sửa.", "BaoCao!G15", id="cell-ref"),
        pytest.param("Lỗi ở ô G15 của biểu.", "ô G15", id="cell-named"),
        pytest.param("Cột HT_XM chưa đúng.", "HT_XM", id="template-code"),
        pytest.param("Xem trang TinhTrang của tệp.", "TinhTrang", id="sheet-name"),
        pytest.param("Xem tệp tong-hop-2025-03-12.xlsx đính kèm.", "tong-hop-2025-03-12.xlsx", id="xlsx"),
        pytest.param("Chi tiết trong summary.json.", "summary.json", id="json"),
        pytest.param("Thư 20261203T165137-1ab61cf3.eml", "20261203T165137-1ab61cf3.eml", id="eml"),
        pytest.param("Lần chạy scheduled__2025-03-12T00:00:00+00:00.", "scheduled__", id="run-scheduled"),
        pytest.param("Lần chạy manual__2025-03-12.", "manual__", id="run-manual"),
    ],
)
def test_internal_codes_are_found(text, found):
    problems = lint_prose(text)
    assert problems
    assert any(found in p for p in problems), problems


def test_codes_given_are_found_as_whole_words():
    assert lint_prose("Dòng MTQG thiếu số liệu.", codes=["MTQG", "PTTD"])
    assert lint_prose("Dòng MTQGX và Ủy ban MTTQ tỉnh.", codes=["MTQG"]) == []


def test_text_not_in_nfc_is_found():
    decomposed = unicodedata.normalize("NFD", "Báo cáo tiến độ")
    problems = lint_prose(f"Kỳ này: {decomposed}.")
    assert any("NFC" in p for p in problems)
    assert lint_prose(unicodedata.normalize("NFC", decomposed)) == []


def test_words_without_diacritics_are_found():
    assert any("bao cao" in p for p in lint_prose("Tong hop bao cao cua don vi."))
    assert lint_prose("Tổng hợp báo cáo của đơn vị.") == []


def test_visible_text_has_each_cell_on_its_line_and_no_head():
    html = (
        "<html><head><title>summary.json</title><style>p{color:red}</style></head><body>"
        "<p>Số nhà hoàn thành <strong>tăng 362</strong> căn.</p>"
        "<table><tr><td>Huyện A</td><td>+19</td></tr></table>"
        '<img src="cid:x" alt="Biểu đồ tiến độ">'
        "</body></html>"
    )
    text = visible_text(html)
    assert text.splitlines() == ["Số nhà hoàn thành tăng 362 căn.", "Huyện A", "+19", "Biểu đồ tiến độ"]
    assert lint_prose(text) == []
