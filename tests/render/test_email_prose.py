"""The report email of the demo's two periods, built from the sample workbooks as a run builds
it (read, validate, summarise into a report database, render), passes the prose lint: no sign
before a number in a sentence, nothing internal, NFC (render/prose.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from housing_report.archive.store import ReportStore
from housing_report.collect.local import LocalWorkbookSource
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
def demo(config, tmp_path_factory) -> dict[dt.date, RenderedVersion]:
    folder = tmp_path_factory.mktemp("demo")
    store = ReportStore(f"sqlite:///{folder / 'reports.sqlite'}")
    store.ensure_schema()
    codes = [u.code for u in config.units]
    rendered = {}
    for period in PERIODS:
        run_id = f"scheduled__{period.isoformat()}T00:00:00+00:00"
        collect_batch(config, codes, period, run_id, LocalWorkbookSource(SAMPLES / period.isoformat()), store)
        summary = summarise(config, period, run_id, store)
        rendered[period] = render_version(config, summary, store.history(period), folder / period.isoformat())
    return rendered


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: p.isoformat())
@pytest.mark.parametrize("part", ["text", "html", "subject"])
def test_the_demo_email_passes_the_prose_lint(demo, config, period, part):
    email = demo[period].email
    text = visible_text(email.html) if part == "html" else getattr(email, part)
    assert lint_prose(text, codes=_codes(config)) == []


def test_the_lint_would_see_a_sign_in_the_demo_email(demo, config):
    """The lint is not blind to the demo's email: the figures' signs are there to be found."""
    text = demo[PERIODS[1]].email.text.replace("tăng 362 căn", "+362 căn")
    assert "+362 căn" in text
    assert lint_prose(text, codes=_codes(config))


def test_the_demo_email_states_its_headline_in_words(demo):
    """12/03/2025: 2.130 of 8.688 houses, up 362; the rate's change from the two rates shown."""
    text = demo[PERIODS[1]].email.text
    head = text[: text.index("1. TIẾN ĐỘ THEO ĐỊA BÀN")]
    assert "2.130/8.688 căn" in head
    assert "số nhà hoàn thành, bàn giao tăng 362 căn" in head
    assert "tỷ lệ hoàn thành tăng 4,1 điểm phần trăm (từ 20,4% lên 24,5%)" in head
    assert "xây mới 1.228/4.943 căn, sửa chữa 902/3.745 căn" in head
