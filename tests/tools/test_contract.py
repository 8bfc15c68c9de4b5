"""The units' template contract (docs/vi/mau-bao-cao.md), generated from the config."""

from __future__ import annotations

import dataclasses
import difflib
import unicodedata

import pytest
from housing_report_tools.cli import main
from housing_report_tools.contract import COMMAND, DEFAULT_PATH, contract_markdown

from housing_report.config import OPERATOR_WORDS, Config, Item, load_config
from housing_report.core.statuses import STATUS_LABELS, STATUSES

REGENERATE = f"PYTHONPATH=include {COMMAND}"


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def committed() -> str:
    assert DEFAULT_PATH.is_file(), f"{DEFAULT_PATH} is missing: write it with `{REGENERATE}` and commit it"
    return DEFAULT_PATH.read_text(encoding="utf-8")


def test_the_committed_contract_is_what_the_config_generates(config, committed):
    generated = contract_markdown(config)
    if committed != generated:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    generated.splitlines(keepends=True),
                    "docs/vi/mau-bao-cao.md (committed)",
                    "generated from include/config/",
                )
            )[:40]
        )
        pytest.fail(
            "docs/vi/mau-bao-cao.md differs from what the config generates: run "
            f"`{REGENERATE}` and commit the file.\n{diff}"
        )


def _config_codes(config: Config) -> set[str]:
    template = config.template
    codes = {template.worksheet} | set(template.kinds) | set(STATUSES)
    for section in template.sections:
        codes.add(section.code)
        codes |= {item.code for item in (*section.fields, *section.rows, *section.columns)}
    codes |= {rule.name for rule in config.report.rules if rule.name}
    return codes


def test_every_code_of_the_config_is_in_the_contract(config, committed):
    missing = sorted(code for code in _config_codes(config) if f"`{code}`" not in committed)
    assert not missing, f"codes of the config not in docs/vi/mau-bao-cao.md: {missing}"


def test_every_label_of_the_config_and_every_status_label_is_in_the_contract(config, committed):
    template = config.template
    labels = {kind.label for kind in template.kinds.values()} | set(STATUS_LABELS.values())
    for section in template.sections:
        labels.add(section.label)
        labels |= {item.label for item in (*section.fields, *section.rows, *section.columns)}
    missing = sorted(label for label in labels if label not in committed)
    assert not missing, f"labels not in docs/vi/mau-bao-cao.md: {missing}"


def test_the_contract_is_nfc_with_vietnamese_diacritics(committed):
    assert unicodedata.is_normalized("NFC", committed)
    for words in ("Mẫu báo cáo của đơn vị", "Bố cục trang tính", "Cách ghi giá trị", "triệu đồng", "lũy kế"):
        assert words in committed, words


def test_table_rules_read_as_sentences_and_layout_and_values_are_stated(config, committed):
    for rule in config.report.rules:
        if rule.table:
            columns = config.template.section(rule.table).columns
            labels = {c.code: c.label[:1].lower() + c.label[1:] for c in columns}
            sentence = (
                f"`{rule.left}` ({labels[rule.left]}) {OPERATOR_WORDS[rule.op]} `{rule.right}` "
                f"({labels[rule.right]})"
            )
            assert sentence in committed, sentence
    assert "`KC_XM` (đã khởi công xây mới) không lớn hơn `CAN_XM` (số nhà cần hỗ trợ xây mới)" in committed
    assert "Trang tính tên là `BaoCao`" in committed
    assert "`BaoCao!E12`" in committed
    assert "dấu chấm (`.`) phân cách hàng nghìn, dấu phẩy (`,`) ghi phần thập phân" in committed
    assert "Ô để trống được hiểu là 0" in committed
    assert "| `organization` | Mặt trận, đoàn thể |" in committed
    assert "bảng `B`, chỉ dòng `XHH`" in committed


def test_the_contract_follows_the_config(config):
    """A code added to the config is in the page; a rule's operator changes its sentence."""
    template = config.template
    table = template.section("A")
    sections = tuple(
        dataclasses.replace(s, rows=(*s.rows, Item("NHA_MOI", "Đối tượng thử nghiệm"))) if s is table else s
        for s in template.sections
    )
    rules = tuple(dataclasses.replace(r, op="<") if r.table == "B" else r for r in config.report.rules)
    report = dataclasses.replace(
        config.report, template=dataclasses.replace(template, sections=sections), rules=rules
    )
    text = contract_markdown(dataclasses.replace(config, report=report))
    assert "| `NHA_MOI` | Đối tượng thử nghiệm |" in text
    assert "Mã dòng (5):" in text.split("### Bảng `A`")[1].split("### Bảng `B`")[0]
    assert "`GIAI_NGAN` (đã giải ngân) nhỏ hơn `HUY_DONG`" in text
    assert text != contract_markdown(config)


def test_contract_command_writes_the_page(tmp_path, capsys, config):
    path = tmp_path / "docs" / "mau.md"
    assert main(["contract", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == contract_markdown(config)
    assert str(path.resolve()) in capsys.readouterr().out
