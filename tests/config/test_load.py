from __future__ import annotations

import re
from pathlib import Path

import pytest

from housing_report.config import ConfigError, load_config
from tests.support.config_files import edit

SHARED_TEMPLATE = Path(__file__).resolve().parents[3] / "shared" / "TEMPLATE.md"


def test_sample_config_loads_with_the_twenty_units_of_the_domain():
    config = load_config()
    assert len(config.units) == 20
    kinds = [u.kind for u in config.units]
    assert kinds.count("district") == 11
    assert kinds.count("organization") == 6
    assert kinds.count("press") == 3
    assert [u.code for u in config.units if u.kind == "district"] == [str(c) for c in range(941, 952)]
    assert config.report.schedule.collection_days == (12, 27)
    assert config.report.schedule.timezone == "Asia/Ho_Chi_Minh"
    assert str(config.report.programme.target_date) == "2025-09-30"
    # Several units share one spreadsheet, each with its own worksheet.
    shared = [u for u in config.units if u.spreadsheet == "st-khoi-mttq-doan-the"]
    assert len(shared) == 6
    assert len({u.worksheet for u in shared}) == 6
    assert config.unit("941").worksheet == "BaoCao"


def _template_md_codes() -> dict[str, set[str]]:
    text = SHARED_TEMPLATE.read_text(encoding="utf-8")
    codes = set(re.findall(r"^\| `([A-Z_]+)` \|", text, flags=re.M))
    b_rows = set(
        re.findall(r"`([A-Z_]+)` [A-ZĐ][^;`]*[;.]", text.split("### Table `B`")[1].split("Column codes")[0])
    )
    b_cols = {"HUY_DONG", "GIAI_NGAN"}
    return {"listed": codes | b_rows | b_cols}


@pytest.mark.skipif(not SHARED_TEMPLATE.exists(), reason="../shared/TEMPLATE.md not beside the project")
def test_config_codes_are_exactly_template_md_codes():
    config = load_config()
    ours = set()
    for s in config.template.sections:
        ours |= {f.code for f in s.fields} | {r.code for r in s.rows} | {c.code for c in s.columns}
        if s.kind == "list":
            ours.add(s.code)
    assert ours == _template_md_codes()["listed"]


@pytest.mark.parametrize(
    ("file", "change", "key", "words"),
    [
        pytest.param(
            "units.yaml",
            lambda d: d["units"][3].update(kind="distric"),
            "units[3].kind",
            "loại đơn vị 'distric'",
            id="unknown-kind",
        ),
        pytest.param(
            "units.yaml",
            lambda d: d["units"][4].update(code="941"),
            "units[4].code",
            "bị trùng",
            id="duplicate-unit-code",
        ),
        pytest.param(
            "units.yaml",
            lambda d: d["units"][0].update(emails=["tuyengiao@@x"]),
            "units[0].emails[0]",
            "email",
            id="bad-unit-email",
        ),
        pytest.param(
            "units.yaml",
            lambda d: d["units"][2].pop("spreadsheet"),
            "units[2].spreadsheet",
            "thiếu",
            id="missing-spreadsheet",
        ),
        pytest.param(
            "units.yaml",
            lambda d: d["units"][12].update(worksheet="MTTQ"),
            "units[12].worksheet",
            "đã thuộc đơn vị MTTQ",
            id="two-units-one-worksheet",
        ),
        pytest.param(
            "units.yaml",
            lambda d: d["units"][0].update(colour="red"),
            "units[0].colour",
            "không được hỗ trợ",
            id="unknown-key",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["recipients"]["to"][0].update(email="so-ldtbxh"),
            "recipients.to[0].email",
            "email",
            id="bad-recipient-email",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["template"]["kinds"]["press"]["required"].append("Z"),
            "template.kinds.press.required[2]",
            "'Z'",
            id="unknown-section-code",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["rules"][0].update(left="KC_XN"),
            "rules[0].left",
            "'KC_XN'",
            id="unknown-code-in-rule",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["progress"].update(completed=["HT_XX"]),
            "progress.completed[0]",
            "'HT_XX'",
            id="unknown-code-in-progress",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["schedule"].update(timezone="Asia/Saigonn"),
            "schedule.timezone",
            "múi giờ",
            id="bad-timezone",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["schedule"].update(collection_days=[12, 31]),
            "schedule.collection_days[1]",
            "1 đến 28",
            id="bad-collection-day",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["schedule"].update(hold_after_days=-1),
            "schedule.hold_after_days",
            "0 đến 366",
            id="bad-hold-after-days",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["template"]["sections"][1]["rows"].append({"code": "NCC", "label": "lặp"}),
            "template.sections[1].rows[4].code",
            "bị trùng",
            id="duplicate-template-code",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["template"]["sections"][1].update(code="a b"),
            "template.sections[1].code",
            "không hợp lệ",
            id="bad-table-code",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["template"]["sections"][1].update(max=10**13),
            "template.sections[1].max",
            "số dương nhỏ hơn 1.000.000.000.000",
            id="a-maximum-beyond-the-hard-limit",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["template"]["sections"][3]["fields"][0].update(max=-5),
            "template.sections[3].fields[0].max",
            "số dương",
            id="a-negative-maximum",
        ),
        pytest.param(
            "report.yaml",
            lambda d: d["outliers"].update(jump=-1),
            "outliers.jump",
            "số không âm",
            id="a-negative-jump",
        ),
    ],
)
def test_bad_config_names_file_key_and_problem(config_dir, file, change, key, words):
    edit(config_dir / file, change)
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    err = info.value
    assert err.file.endswith(file)
    assert err.key == key
    assert words in err.problem
    assert file in str(err)
    assert key in str(err)


def test_hold_after_days_defaults_to_three(config_dir):
    """The shipped report.yaml says 3; a report.yaml from before the setting gets 3 too."""
    assert load_config(config_dir).report.schedule.hold_after_days == 3
    edit(config_dir / "report.yaml", lambda d: d["schedule"].pop("hold_after_days"))
    assert load_config(config_dir).report.schedule.hold_after_days == 3
    edit(config_dir / "report.yaml", lambda d: d["schedule"].update(hold_after_days=10))
    assert load_config(config_dir).report.schedule.hold_after_days == 10


def test_yaml_syntax_error_names_the_line(config_dir):
    (config_dir / "units.yaml").write_text("units:\n  - code: [941\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    assert "dòng" in info.value.key


def test_missing_file(config_dir):
    (config_dir / "report.yaml").unlink()
    with pytest.raises(ConfigError, match="không tìm thấy tệp"):
        load_config(config_dir)


def test_renaming_a_unit_is_config_only(config_dir):
    edit(config_dir / "units.yaml", lambda d: d["units"][0].update(name="Phường Sóc Trăng"))
    assert load_config(config_dir).unit("941").name == "Phường Sóc Trăng"


def test_approval_and_office_are_read_and_approval_none_sends_directly(config_dir):
    from housing_report.config import ConfigError, load_config
    from tests.support.config_files import edit

    loaded = load_config(config_dir).report
    assert [a.user for a in loaded.approval.approvers] == ["admin"]
    assert loaded.approval.timeout_hours == 48
    assert loaded.office.reply_to == "vanphong.btgtu@soctrang.example"
    edit(config_dir / "report.yaml", lambda data: data.update(approval="none"))
    assert load_config(config_dir).report.approval is None
    edit(config_dir / "report.yaml", lambda data: data.update(approval={"approvers": [], "timeout_hours": 1}))
    with pytest.raises(ConfigError, match="approval.approvers"):
        load_config(config_dir)


def test_the_reports_basis_is_said_once_and_defaults_to_the_periodic_regime(config_dir):
    issuer = load_config(config_dir).report.issuer
    assert issuer.basis.startswith("Kế hoạch số 45-KH/BTGTU ngày 16/01/2025")
    assert issuer.name_in_text == "Ban Tuyên giáo Tỉnh ủy"
    basis = "Thực hiện  Công văn số 12-CV/BTGTU ngày 02/01/2025 của Ban Tuyên giáo Tỉnh ủy."
    edit(config_dir / "report.yaml", lambda d: d["issuer"].update(basis=basis))
    assert (
        load_config(config_dir).report.issuer.basis
        == "Công văn số 12-CV/BTGTU ngày 02/01/2025 của Ban Tuyên giáo Tỉnh ủy"
    )
    edit(config_dir / "report.yaml", lambda d: [d["issuer"].pop(k) for k in ("basis", "short_name")])
    issuer = load_config(config_dir).report.issuer
    assert issuer.basis == "chế độ báo cáo định kỳ"
    assert issuer.name_in_text == "Ban Tuyên Giáo"  # `name` word by word
    for bad, words in (("Thực hiện .", "không được để trống"), ("x" * 401, "quá 400"), (12, "chuỗi ký tự")):
        edit(config_dir / "report.yaml", lambda d, bad=bad: d["issuer"].update(basis=bad))
        with pytest.raises(ConfigError) as info:
            load_config(config_dir)
        assert info.value.key == "issuer.basis"
        assert words in info.value.problem


def test_a_fields_unit_is_what_the_report_writes_after_its_number(config_dir):
    template = load_config(config_dir).template
    assert template.figure_unit("C_PANO") == "pano, băng rôn, khẩu hiệu"
    assert template.figure_unit("A.NCC.CAN_XM") == "căn"  # a table's: its section's
    assert template.figure_unit("B.NSTW.HUY_DONG") == "triệu đồng"
    assert template.figure_unit("NO_SUCH") == ""
