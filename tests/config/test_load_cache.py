"""The config is loaded cheaply again: validated once per process while its files are unchanged,
parsed once across processes (`config.load`); a changed file is always loaded anew."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from housing_report.config import ConfigError, load_config
from housing_report.config import load as load_module
from tests.support.config_files import edit


def _which(text: str) -> str:
    return "units.yaml" if "\nunits:" in "\n" + text else "report.yaml"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(load_module.CACHE_ENV, str(folder))
    load_module.forget_loaded()
    yield folder
    load_module.forget_loaded()


@pytest.fixture
def yaml_calls(monkeypatch):
    """The YAML files parsed, by name."""
    calls: list[str] = []
    real = yaml.load

    def counting(stream, Loader):  # noqa: N803 - PyYAML's name
        calls.append(_which(stream))
        return real(stream, Loader=Loader)

    monkeypatch.setattr(load_module.yaml, "load", counting)
    return calls


def test_the_same_config_again_in_a_process_until_a_file_changes(config_dir, cache, yaml_calls):
    first = load_config(config_dir)
    assert load_config(config_dir) is first
    assert yaml_calls == ["report.yaml", "units.yaml"]
    edit(config_dir / "units.yaml", lambda d: d["units"][0].update(name="Phường Sóc Trăng"))
    before = len(yaml_calls)
    changed = load_config(config_dir)
    assert changed is not first
    assert changed.unit("941").name == "Phường Sóc Trăng"
    # report.yaml holds dates (not kept across processes); units.yaml changed.
    assert yaml_calls[before:] == ["report.yaml", "units.yaml"]


def test_a_new_process_reads_the_parsed_units_and_validates_them(config_dir, cache, yaml_calls):
    first = load_config(config_dir)
    assert [p.name.startswith("config-") for p in cache.iterdir()] == [True]  # units.yaml only
    load_module.forget_loaded()  # as a new process
    again = load_config(config_dir)
    assert again == first
    assert again is not first
    assert yaml_calls == ["report.yaml", "units.yaml", "report.yaml"]


def test_a_unit_broken_after_being_kept_is_refused(config_dir, cache):
    load_config(config_dir)
    edit(config_dir / "units.yaml", lambda d: d["units"][1].update(kind="no-such-kind"))
    load_module.forget_loaded()
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    assert info.value.key == "units[1].kind"
    with pytest.raises(ConfigError):  # not kept as loaded either
        load_config(config_dir)


@pytest.mark.parametrize("junk", [b"", b"\x93\x01", b"not msgpack at all", b"\x93\x01\xa3abc\xc0"])
def test_a_damaged_cache_is_passed_over(config_dir, cache, yaml_calls, junk):
    expected = load_config(config_dir)
    for kept in cache.iterdir():
        kept.write_bytes(junk)
    load_module.forget_loaded()
    assert load_config(config_dir) == expected
    assert yaml_calls.count("units.yaml") == 2


def test_an_unwritable_cache_is_passed_over(config_dir, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv(load_module.CACHE_ENV, str(blocker / "cache"))
    load_module.forget_loaded()
    assert len(load_config(config_dir).units) == 20
    load_module.forget_loaded()


def test_a_fresh_interpreter_uses_the_kept_file(config_dir, cache):
    load_config(config_dir)
    code = (
        "import yaml\n"
        "from housing_report.config import load\n"
        "real = yaml.load\n"
        "def counting(stream, Loader):\n"
        "    print('units.yaml' if '\\nunits:' in '\\n' + stream else 'report.yaml')\n"
        "    return real(stream, Loader=Loader)\n"
        "yaml.load = counting\n"
        f"print(len(load.load_config({str(config_dir)!r}).units))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # report.yaml (its dates are not kept) is parsed in every process; units.yaml is not.
    assert done.stdout.split() == ["report.yaml", "20"]
