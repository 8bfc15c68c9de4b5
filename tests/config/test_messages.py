"""The config's checks run on pydantic: each kind of pydantic error reaches the admin as the
hand-written reader's Vietnamese message for that key, never in pydantic's English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from housing_report.config import ConfigError, Rule, Unit, load_config
from housing_report.config import load as load_module
from housing_report.config.load import ReportFile, UnitsFile
from housing_report.config.model import Issuer, Programme, Progress, Schedule, Signature
from housing_report.config.rules import Outliers
from housing_report.config.template import Item, Section, Template, UnitKind, input_keys
from tests.support.config_files import edit

# What pydantic says in English (and the last resort of the translation, never expected).
ENGLISH = re.compile(
    r"Input should|Field required|Unexpected keyword|Keys should|Value error|validation error|"
    r"valid (string|integer|list|tuple|dict)|Extra inputs|giá trị không hợp lệ"
)
RULE_KEYS = "exclude, fix, for_each, kinds, left, message, name, op, right, severity, table"


def problem_of(config_dir: Path, file: str, change) -> ConfigError:
    edit(config_dir / file, change)
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    assert info.value.file.endswith(file)
    return info.value


def _set(path, value):
    def change(data):
        *parents, last = path
        for p in parents:
            data = data[p]
        data[last] = value

    return change


def _delete(path):
    def change(data):
        *parents, last = path
        for p in parents:
            data = data[p]
        del data[last]

    return change


@pytest.mark.parametrize(
    ("file", "change", "key", "problem"),
    [
        # missing: said as the check of None for that key
        pytest.param(
            "units.yaml",
            _delete(["units", 2, "name"]),
            "units[2].name",
            "thiếu khóa bắt buộc",
            id="missing-text",
        ),
        pytest.param(
            "report.yaml",
            _delete(["programme"]),
            "programme",
            "phải là một bảng khóa: giá trị, đang là None",
            id="missing-mapping",
        ),
        pytest.param(
            "report.yaml",
            _delete(["progress", "needed"]),
            "progress.needed",
            "phải là một danh sách, đang là None",
            id="missing-list",
        ),
        pytest.param(
            "report.yaml",
            _delete(["rules", 0, "op"]),
            "rules[0].op",
            "phép so sánh 'None' không hợp lệ; dùng <= < >= > == !=",
            id="missing-literal",
        ),
        pytest.param(
            "report.yaml",
            _delete(["recipients", "to", 1, "email"]),
            "recipients.to[1].email",
            "địa chỉ email không hợp lệ: None",
            id="missing-email",
        ),
        # wrong types
        pytest.param(
            "units.yaml",
            _set(["units", 0, "name"], [1]),
            "units[0].name",
            "phải là chuỗi ký tự, đang là [1]",
            id="string-type",
        ),
        pytest.param(
            "report.yaml",
            _set(["recipients", "to"], "so-ldtbxh"),
            "recipients.to",
            "phải là một danh sách, đang là 'so-ldtbxh'",
            id="list-type",
        ),
        pytest.param(
            "report.yaml",
            _set(["template", "sections", 1, "rows", 2], 5),
            "template.sections[1].rows[2]",
            "phải là một bảng khóa: giá trị, đang là 5",
            id="nested-list-item-not-a-mapping",
        ),
        pytest.param(
            "report.yaml",
            _set(["template", "kinds"], ["district"]),
            "template.kinds",
            "phải là một bảng khóa: giá trị, đang là ['district']",
            id="dict-type",
        ),
        pytest.param(
            "report.yaml",
            _set(["schedule", "hour"], "7"),
            "schedule.hour",
            "giờ phải từ 0 đến 23",
            id="int-type",
        ),
        pytest.param(
            "report.yaml",
            _set(["schedule", "collection_days", 0], True),
            "schedule.collection_days[0]",
            "ngày phải từ 1 đến 28, đang là True",
            id="bool-as-int",
        ),
        pytest.param(
            "report.yaml",
            _set(["outliers", "min_peers"], 2.5),
            "outliers.min_peers",
            "phải là số nguyên từ 2 trở lên",
            id="float-as-int",
        ),
        pytest.param(
            "report.yaml",
            _set(["programme", "target_date"], "30/09/2025"),
            "programme.target_date",
            "phải là ngày dạng yyyy-mm-dd",
            id="date",
        ),
        # values not among a Literal's
        pytest.param(
            "report.yaml",
            _set(["template", "sections", 1, "kind"], "tabel"),
            "template.sections[1].kind",
            "loại mục 'tabel' không hợp lệ; dùng fields, table, list",
            id="literal",
        ),
        pytest.param(
            "report.yaml",
            _set(["template", "sections", 1, "rows", 0, "value"], 3),
            "template.sections[1].rows[0].value",
            "kiểu giá trị '3' không hợp lệ; dùng count, money, text, date, period",
            id="literal-of-a-nested-item",
        ),
        pytest.param(
            "report.yaml",
            _set(["issuer", "kind"], "government"),
            "issuer.kind",
            "phải là party (cơ quan Đảng) hoặc state (cơ quan nhà nước)",
            id="literal-without-the-value",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["template"]["kinds"].update(ward={"label": "Phường", "required": ["general"]}),
            "template.kinds.ward",
            "loại đơn vị 'ward' không hợp lệ; dùng district, organization, press",
            id="literal-dict-key",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["constants"].update(Support=1),
            "constants.Support",
            "tên hằng số chỉ gồm chữ thường không dấu, số và '_'",
            id="dict-key",
        ),
        # unknown keys, with the valid ones
        pytest.param(
            "report.yaml",
            lambda d: d["rules"][2].update(colour="red"),
            "rules[2].colour",
            f"khóa không được hỗ trợ; các khóa hợp lệ: {RULE_KEYS}",
            id="unknown-key",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["rules"][0].update(history=True),
            "rules[0].history",
            f"khóa không được hỗ trợ; các khóa hợp lệ: {RULE_KEYS}",
            id="derived-field-is-an-unknown-key",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["template"]["kinds"]["press"].update(code="press"),
            "template.kinds.press.code",
            "khóa không được hỗ trợ; các khóa hợp lệ: label, optional, required",
            id="kind-code-is-an-unknown-key",
        ),
        pytest.param(
            "units.yaml",
            lambda d: d["units"][1].update({1: "x"}),
            "units[1].1",
            "khóa không được hỗ trợ; các khóa hợp lệ: code, emails, kind, name, spreadsheet, worksheet",
            id="unknown-key-not-text",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d.update(colour="red"),
            "colour",
            "khóa không được hỗ trợ; các khóa hợp lệ: admins, approval, constants, funds_apart, issuer, "
            "office, outliers, programme, progress, recipients, recommendations, rules, schedule, template",
            id="unknown-key-at-the-root",
        ),
        # the config's own checks, nested
        pytest.param(
            "report.yaml",
            _set(["template", "kinds", "organization", "required", 3], "B.ZZZ"),
            "template.kinds.organization.required[3]",
            "mã dòng không tồn tại: 'B.ZZZ'",
            id="nested-list-index",
        ),
        pytest.param(
            "report.yaml",
            _set(["rules", 7, "right"], "A.TONG.HT_XM * support_neww"),
            "rules[7].right",
            "hằng số 'support_neww' chưa khai báo trong constants; đã có: support_new, support_repair",
            id="rule-expression",
        ),
    ],
)
def test_pydantic_errors_read_as_todays_messages(config_dir, file, change, key, problem):
    err = problem_of(config_dir, file, change)
    assert (err.key, err.problem) == (key, problem)
    assert not ENGLISH.search(str(err))


def test_a_file_that_is_not_a_mapping(config_dir):
    (config_dir / "units.yaml").write_text("- code: 941\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    assert (info.value.key, info.value.problem) == ("(gốc)", "tệp phải là một bảng khóa: giá trị (mapping)")


@pytest.mark.parametrize(
    ("file", "changes", "key"),
    [
        # the items of a list in turn, whatever the kind of problem
        (
            "units.yaml",
            [_set(["units", 5, "kind"], "ward"), _delete(["units", 3, "name"])],
            "units[3].name",
        ),
        (
            "units.yaml",
            [_set(["units", 4, "code"], "941"), _set(["units", 9, "emails"], ["x"])],
            "units[4].code",
        ),
        # within a mapping: the unknown keys first, then the keys in the order the reader checks them
        ("units.yaml", [_delete(["units", 2, "spreadsheet"]), _set(["units", 2, "zz"], 1)], "units[2].zz"),
        ("units.yaml", [_delete(["units", 2, "name"]), _set(["units", 2, "kind"], "x")], "units[2].kind"),
        # a duplicate before a later problem of the same list
        (
            "report.yaml",
            [
                lambda d: d["template"]["sections"][1]["rows"].append({"code": "NCC", "label": "lặp"}),
                lambda d: d["template"]["sections"][1]["rows"].append({"code": "ZZ"}),
            ],
            "template.sections[1].rows[4].code",
        ),
        # a rule's checks: what for_each selects before the sides' texts
        (
            "report.yaml",
            [_set(["rules", 6, "for_each"], ["Z.*"]), _delete(["rules", 6, "right"])],
            "rules[6].for_each",
        ),
        # the template before the rules that refer to it, though the rules' problem is one of type
        (
            "report.yaml",
            [_set(["rules", 0, "op"], "=<"), _set(["template", "sections", 2, "columns", 0, "code"], "bad")],
            "template.sections[2].columns[0].code",
        ),
    ],
)
def test_the_first_problem_in_the_readers_order(config_dir, file, changes, key):
    def change(data):
        for c in changes:
            c(data)

    err = problem_of(config_dir, file, change)
    assert err.key == key
    assert not ENGLISH.search(err.problem)


@pytest.mark.parametrize("value", [None, 0, 1.5, True, "", [], {}, ["x"], {"x": 1}, "x y"])
@pytest.mark.parametrize(
    ("file", "path"),
    [
        ("units.yaml", ["units", 3, "code"]),
        ("units.yaml", ["units", 3, "kind"]),
        ("units.yaml", ["units", 3, "emails"]),
        ("units.yaml", ["units", 3]),
        ("report.yaml", ["issuer", "signature"]),
        ("report.yaml", ["issuer", "places_to_send"]),
        ("report.yaml", ["template", "sections", 2, "columns"]),
        ("report.yaml", ["template", "sections", 2, "value"]),
        ("report.yaml", ["template", "kinds", "press", "optional"]),
        ("report.yaml", ["rules", 5, "for_each"]),
        ("report.yaml", ["rules", 7]),
        ("report.yaml", ["progress"]),
        ("report.yaml", ["outliers", "threshold"]),
        ("report.yaml", ["constants"]),
    ],
)
def test_no_english_whatever_the_value(config_dir, file, path, value):
    edit(config_dir / file, _set(path, value))
    said = ""
    try:
        load_config(config_dir)
    except ConfigError as err:  # some values are valid
        said = str(err)
    assert not ENGLISH.search(said), said


def test_every_key_of_a_file_is_ranked():
    """A key missing from a model's `_order` would be ranked like an unknown key."""
    models = (Item, Section, UnitKind, Template, Rule, Outliers, Progress, Signature, Issuer, Programme, Unit)
    for model in models + (Schedule, ReportFile, UnitsFile):
        order = getattr(model, "_order", tuple(model.__pydantic_fields__))
        assert set(input_keys(model)) <= set(order), model.__name__
    assert set(input_keys(Rule)) == set(RULE_KEYS.split(", "))


def test_the_checks_are_the_files_not_the_codes():
    """Built in code, the model is a plain frozen dataclass: the files' checks do not run."""
    unit = Unit("a b", "Xã", "district", "sheet", "W")
    assert unit.code == "a b"
    assert Issuer("state", "UBND", "VP", "Sóc Trăng", "BC/UBND").archive == "VT"


def test_yaml_syntax_error_names_line_and_column(config_dir):
    (config_dir / "units.yaml").write_text("units:\n  - code: [941\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    assert info.value.key == "dòng 3, cột 1"
    assert info.value.problem.startswith("không đọc được YAML: ")


def test_the_c_parser_when_built():
    assert load_module._LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def test_national_scale_duplicate_names_the_last_unit(config_dir):
    units = [
        {
            "code": f"X{i:04d}",
            "name": f"Xã {i}",
            "kind": "district",
            "spreadsheet": f"s{i // 50}",
            "worksheet": f"W{i}",
        }
        for i in range(3321)
    ]
    units[-1]["worksheet"] = "W3300"
    (config_dir / "units.yaml").write_text(yaml.safe_dump({"units": units}), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    assert info.value.key == "units[3320].worksheet"
    assert info.value.problem == "trang tính 'W3300' của bảng tính 's66' đã thuộc đơn vị X3300"
