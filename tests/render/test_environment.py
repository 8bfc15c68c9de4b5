"""The templates' environment (`render.environment`): templates compiled once, kept across
processes in the cache folder, and rendered the same whether kept or not."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from housing_report.render import environment
from housing_report.render.environment import kept_templates, make_environment

TEMPLATE = "email_subject.txt.j2"
CONTEXT = {"short_title": "xóa nhà tạm", "period_label": "27/09/2025", "correction": None}


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOUSING_REPORT_CACHE_DIR", str(tmp_path / "cache"))
    kept_templates.cache_clear()
    yield tmp_path / "cache" / "templates"
    kept_templates.cache_clear()


def _render() -> str:
    return make_environment().get_template(TEMPLATE).render(CONTEXT)


def test_a_compiled_template_is_kept_and_used_again(cache_folder):
    without = make_environment()
    without.bytecode_cache = None
    expected = without.get_template(TEMPLATE).render(CONTEXT)
    assert _render() == expected  # compiled, and kept
    kept = list(cache_folder.iterdir())
    assert len(kept) == 1
    assert oct(cache_folder.stat().st_mode & 0o777) == "0o700"
    before = kept[0].stat().st_mtime_ns
    assert _render() == expected  # read back
    assert kept[0].stat().st_mtime_ns == before


def test_a_new_process_reads_the_kept_template(cache_folder):
    _render()
    (kept,) = cache_folder.iterdir()
    os.utime(kept, ns=(0, 0))
    code = (
        "from housing_report.render.environment import make_environment;"
        f"make_environment().get_template({TEMPLATE!r})"
    )
    path = os.pathsep.join(p for p in sys.path if p)
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ, PYTHONPATH=path))
    assert kept.stat().st_mtime_ns == 0  # loaded, not written again


def test_a_damaged_kept_template_is_compiled_again(cache_folder):
    expected = _render()
    (kept,) = cache_folder.iterdir()
    kept.write_bytes(kept.read_bytes()[:40])
    assert _render() == expected
    kept.write_bytes(b"")
    assert _render() == expected


def test_a_folder_that_cannot_be_made_is_passed_over(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("HOUSING_REPORT_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    kept_templates.cache_clear()
    try:
        assert kept_templates() is None
        assert "27/09/2025" in _render()
    finally:
        kept_templates.cache_clear()


def test_a_template_that_cannot_be_kept_is_still_rendered(cache_folder):
    assert kept_templates() is not None
    cache_folder.rmdir()  # gone once made: writing there fails
    assert "27/09/2025" in _render()
    assert not cache_folder.exists()


def test_a_folder_others_may_write_is_not_used(cache_folder):
    cache_folder.mkdir(parents=True)
    cache_folder.chmod(0o777)
    assert kept_templates() is None
    assert "27/09/2025" in _render()
    assert list(cache_folder.iterdir()) == []


def test_kept_templates_are_named_after_their_compile_settings(cache_folder, monkeypatch):
    _render()
    monkeypatch.setattr(environment, "_COMPILED_WITH", "other")
    kept_templates.cache_clear()
    _render()
    assert len(list(cache_folder.iterdir())) == 2
