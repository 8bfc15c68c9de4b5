"""The report email of the demo's two periods, built from the sample workbooks as a run builds
it (read, validate, summarise into a report database, render), passes the prose lint: no sign
before a number in a sentence, nothing internal, NFC (render/prose.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from housing_report.aggregate.forecast import stale_need
from housing_report.archive.store import ReportStore
from housing_report.collect.local import LocalWorkbookSource
from housing_report.core.formatting import vn_number, vn_percent
from housing_report.core.summary import Summary
from housing_report.pipeline.report import collect_batch, summarise
from housing_report.render.outputs import RenderedVersion, render_version
from housing_report.render.prose import lint_prose, visible_text

SAMPLES = Path(__file__).resolve().parents[2] / "include" / "sample_data"
PERIODS = (dt.date(2025, 2, 27), dt.date(2025, 3, 12))


def _codes(config) -> set[str]:
    """The template's codes that read like abbreviations ("MTQG", "CAN_XM"): never in prose."""
    codes = set()
    for section in config.template.sections:
        codes.add(section.code)
        codes |= {r.code for r in section.rows} | {c.code for c in section.columns}
    codes |= set(config.template.field_codes)
    return {c for c in codes if len(c) > 2}


@pytest.fixture(scope="module")
def demo(config, tmp_path_factory) -> dict[dt.date, tuple[Summary, RenderedVersion]]:
    folder = tmp_path_factory.mktemp("demo")
    store = ReportStore(f"sqlite:///{folder / 'reports.sqlite'}")
    store.ensure_schema()
    codes = [u.code for u in config.units]
    rendered = {}
    for period in PERIODS:
        run_id = f"scheduled__{period.isoformat()}T00:00:00+00:00"
        collect_batch(config, codes, period, run_id, LocalWorkbookSource(SAMPLES / period.isoformat()), store)
        summary = summarise(config, period, run_id, store)
        version = render_version(config, summary, store.history(period), folder / period.isoformat())
        rendered[period] = (summary, version)
    return rendered


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.isoformat())
@pytest.mark.parametrize("part", ["text", "html", "subject"])
def test_the_demo_email_passes_the_prose_lint(demo, config, period, part):
    email = demo[period][1].email
    text = visible_text(email.html) if part == "html" else getattr(email, part)
    assert lint_prose(text, codes=_codes(config)) == []


def test_the_lint_would_see_a_sign_in_the_demo_email(demo, config):
    """The lint is not blind to the demo's email: the figures' signs are there to be found."""
    text = demo[PERIODS[1]][1].email.text.replace("tăng 362 căn", "+362 căn")
    assert "+362 căn" in text
    assert lint_prose(text, codes=_codes(config))


def test_the_demo_email_states_its_headline_in_words(demo):
    """12/03/2025: 2.130 of 8.688 houses, up 362; the rate's change from the two rates shown."""
    text = demo[PERIODS[1]][1].email.text
    head = text[: text.index("1. TIẾN ĐỘ THEO ĐỊA BÀN")]
    assert "2.130/8.688 căn" in head
    assert "số nhà hoàn thành, bàn giao tăng 362 căn" in head
    assert "tỷ lệ hoàn thành tăng 4,1 điểm phần trăm (từ 20,4% lên 24,5%)" in head
    assert "xây mới 1.228/4.943 căn, sửa chữa 902/3.745 căn" in head


@pytest.mark.parametrize("part", ["text", "html"])
def test_the_demo_email_is_honest_where_units_did_not_report(demo, part):
    """The forecast says what its pace is measured on, the need without current figures is
    stated, a carried-forward district's change is unknown ("–"), a flagged one is not settled."""
    summary, version = demo[PERIODS[1]]
    email = version.email
    body = email.text if part == "text" else visible_text(email.html)
    head = body[: body.lower().index("tiến độ theo địa bàn")]
    pf = version.official.view["forecast"]["province"]
    assert 0 < pf.units_measured < pf.units_total
    assert f"tính trên {pf.units_measured}/{pf.units_total} địa bàn có số liệu cả hai kỳ" in head
    assert f"trong {pf.days_measured} ngày" in head
    stale = stale_need(summary)
    names = ", ".join(d.name for d in stale.units)
    assert f"{len(stale.units)} địa bàn ({names}), chiếm {vn_percent(stale.share)} số nhà cần hỗ trợ" in head
    carried = [d for d in summary.districts if d.carried_forward_from]
    assert carried
    for d in carried:
        assert d.change is None
        figures = f"{vn_number(d.completed)}/{vn_number(d.needed)} căn, đạt {vn_percent(d.percent)}"
        if part == "text":
            assert f"- {d.name}: {figures}, so với kỳ trước: –" in body
    flagged = [d for d in summary.districts if d.flagged]
    assert flagged
    for d in flagged:
        line = next(x for x in body.splitlines() if x.startswith(f"- {d.name}:")) if part == "text" else ""
        assert "số liệu đang được xác minh" in (line or body).lower()


@pytest.mark.parametrize("part", ["text", "html"])
def test_the_demo_email_groups_points_and_names_addressees(demo, config, part):
    summary, version = demo[PERIODS[1]]
    body = version.email.text if part == "text" else visible_text(version.email.html)
    assert body.count("Mưa trái mùa làm chậm tiến độ thi công") == 1
    raised = [e.unit_name for e in summary.lists["E"] if e.text.startswith("Mưa trái mùa")]
    assert len(raised) > 1
    assert f"Mưa trái mùa làm chậm tiến độ thi công ở một số xã ({', '.join(raised)})." in body
    recommendations = config.report.recommendations
    for entry in summary.lists["F"]:
        assert f"Đề nghị {recommendations.addressee(entry.text)}:" in body
    for word in ("Bị trả lại", "Không có trang tính", "Chưa cập nhật kỳ này", "Đã tiếp nhận"):
        assert word not in body
    assert "Ngoài ra, Mặt trận Tổ quốc và các đoàn thể vận động: đã huy động, bố trí" in body


def _document_text(path: Path) -> list[str]:
    """Every paragraph of the report document, its tables' cells included, as LibreOffice would
    lay them out (python-docx reads the body; headers and footers hold only page numbers)."""
    import docx

    document = docx.Document(str(path))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts.extend(cell.text for cell in row.cells)
    return [t for t in texts if t.strip()]


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.isoformat())
def test_the_demo_document_passes_the_prose_lint(demo, config, period):
    """The report document, prose and annex tables, under the same lint as the email."""
    document = demo[period][1].official.document
    assert document is not None
    texts = _document_text(document)
    assert len(texts) > 100
    problems = [(t, p) for t in texts for p in lint_prose(t, codes=_codes(config))]
    assert problems == []
    # Not blind: a sign typed into the body would be found.
    assert lint_prose(texts[len(texts) // 3] + " tăng +12 căn", codes=_codes(config))
