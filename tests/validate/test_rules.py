"""The rule engine (housing_report.validate.rules): rules edited in report.yaml alone, each new rule,
history rules against the archive (SQLite and PostgreSQL), outliers."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import yaml

from housing_report.archive.store import ReportStore
from housing_report.config import DEFAULT_CONFIG_DIR, ConfigError, Outliers, load_config
from housing_report.core.models import FetchResult, Grid
from housing_report.core.statuses import ACCEPTED, FETCH_OK, REJECTED
from housing_report.pipeline.report import collect_batch
from housing_report.validate.outliers import find_outliers
from housing_report.validate.parse import parse_report
from housing_report.validate.rules import check_history, figures_frame
from tests.support.grids import TABLE_A, col_of, find, grid, set_cell, unit_rows

FEB, MAR = dt.date(2025, 2, 27), dt.date(2025, 3, 12)


@pytest.fixture
def config_dir(tmp_path):
    target = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def edit_report(config_dir, change) -> None:
    path = config_dir / "report.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def parse(config, rows, code="941", period=MAR):
    return parse_report(grid(rows), config.unit(code), config.template, config.report.rules, period)


# --------------------------------------------------------------------------- report.yaml alone


def test_a_rule_added_in_report_yaml_alone_finds_the_cell(config_dir):
    rule = {
        "name": "tin_bai_toi_thieu",
        "left": "C_TIN_BAI + C_PHONG_SU",
        "op": ">=",
        "right": "1",
        "severity": "warning",
        "message": "Trong kỳ đơn vị không có tin, bài hay phóng sự nào ({left})",
        "fix": "Hãy ghi số tin, bài đã đăng trong kỳ.",
    }
    edit_report(config_dir, lambda d: d["rules"].append(rule))
    config = load_config(config_dir)
    rows = unit_rows(config)
    cell = set_cell(rows, "C_TIN_BAI", 2, 0)
    set_cell(rows, "C_PHONG_SU", 2, None)
    report = parse(config, rows)
    assert report.status == ACCEPTED
    [warning] = report.warnings
    assert warning.cell == cell
    assert warning.message == (
        f"Thành phố Sóc Trăng, ô {cell}: Trong kỳ đơn vị không có tin, bài hay phóng sự nào (0). "
        "Hãy ghi số tin, bài đã đăng trong kỳ."
    )
    # The project's own config does not have it.
    assert parse(load_config(), rows).warnings == []


def test_a_rule_changed_in_report_yaml_alone(config_dir):
    edit_report(config_dir, lambda d: d["rules"][4].update(severity="warning"))
    config = load_config(config_dir)
    rows = unit_rows(config)
    cell = set_cell(rows, "NSDP", col_of(rows, "B", "GIAI_NGAN"), 5000)
    report = parse(config, rows)
    assert report.status == ACCEPTED  # a warning now, not an error
    assert [w.cell for w in report.warnings] == [cell]
    assert parse(load_config(), rows).status == REJECTED


def test_support_levels_are_constants_of_report_yaml(config_dir):
    rows = unit_rows(load_config())
    # 60 x 211 new + 30 x 138 repaired = 16.800 triệu; NSTW+NSDP+XHH disbursed 14.400,5.
    assert parse(load_config(), rows).warnings == []
    edit_report(config_dir, lambda d: d["constants"].update(support_new=40))
    config = load_config(config_dir)
    [warning] = parse(config, rows).warnings
    assert warning.cell == f"BaoCao!D{find(rows, 'NSTW') + 1}"  # the first disbursement of the sum
    assert "14.400,5 triệu đồng" in warning.message
    assert "12.580 triệu đồng" in warning.message  # 40 x 211 + 30 x 138
    assert "Hãy kiểm tra lại số tiền đã giải ngân" in warning.message


def test_support_levels_apply_to_districts_only(config):
    rows = unit_rows(config, "organization", name="Ủy ban MTTQ Việt Nam tỉnh")
    set_cell(rows, "XHH", col_of(rows, "B", "GIAI_NGAN"), 2500)
    assert parse(config, rows, "MTTQ").warnings == []


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        pytest.param(lambda r: r.update(right="A.TONG.HT_XM * support_nwe"), "rules[7].right", "support_nwe",
                     id="unknown-constant"),
        pytest.param(lambda r: r.update(left="B.NSTW.GIAI_NGANN"), "rules[7].left", "'B.NSTW.GIAI_NGANN'",
                     id="unknown-figure"),
        pytest.param(lambda r: r.update(left="B.NSTW.GIAI_NGAN * A.NCC.HT_XM"), "rules[7].left", "nhân hai",
                     id="two-figures-multiplied"),
        pytest.param(lambda r: r.update(message="vượt {tong}"), "rules[7].message", "{tong}",
                     id="unknown-placeholder"),
        pytest.param(lambda r: r.update(kinds=["huyen"]), "rules[7].kinds[0]", "'huyen'", id="unknown-kind"),
        pytest.param(lambda r: r.update(for_each=["Z.*"]), "rules[7].for_each", "Z.*", id="selects-nothing"),
    ],
)  # fmt: skip
def test_a_wrong_rule_names_the_key_and_the_problem(config_dir, change, key, words):
    edit_report(config_dir, lambda d: change(d["rules"][7]))
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    assert info.value.key == key
    assert words in info.value.problem


# --------------------------------------------------------------------------- history rules


def history_of(config, code, rows, period=FEB):
    report = parse(config, rows, code, period)
    assert report.status == ACCEPTED
    return {code: (period, report.figures)}


def test_cumulative_lower_than_last_accepted_names_both_values_and_the_period(config):
    feb = unit_rows(config, period="27/02/2025")
    mar = unit_rows(config)
    cell = set_cell(mar, "NGAY_CONG", 2, 3100)  # 3.200 on 27/02
    now = parse(config, mar)
    [hit] = check_history(
        {"941": now.figures},
        history_of(config, "941", feb),
        {"941": now.cells},
        {u.code: u for u in config.units},
        config.template,
        config.report.rules,
    )
    assert hit.finding.severity == "warning"
    assert hit.finding.cell == cell
    assert "ghi 3.100, thấp hơn số 3.200 đã báo cáo kỳ 27/02/2025" in hit.finding.message
    assert hit.finding.message.startswith(f"Thành phố Sóc Trăng, ô {cell}: «Số ngày công lao động hỗ trợ»")


def test_houses_needed_changed_since_last_period(config):
    feb = unit_rows(config, period="27/02/2025")
    mar = unit_rows(config)
    cell = set_cell(mar, "PTTD", col_of(mar, "A", "CAN_SC"), 140)  # 150 on 27/02
    now = parse(config, mar)
    hits = check_history(
        {"941": now.figures},
        history_of(config, "941", feb),
        {"941": now.cells},
        {u.code: u for u in config.units},
        config.template,
        config.report.rules,
    )
    # Lower and changed: the "needed" rule only (houses needed are excluded from "not lower").
    [hit] = hits
    assert hit.finding.cell == cell
    assert "kỳ này ghi 140, khác số 150 đã báo cáo kỳ 27/02/2025 (-10 căn)" in hit.finding.message


def test_no_history_no_finding(config):
    now = parse(config, unit_rows(config))
    units = {u.code: u for u in config.units}
    hits = check_history({"941": now.figures}, {}, {}, units, config.template, config.report.rules)
    assert hits == []


class FakeSource:
    def __init__(self, sheets):
        self.sheets = sheets

    def fetch(self, units):
        return [FetchResult(u.code, FETCH_OK, Grid(u.worksheet, self.sheets[u.code])) for u in units]


def test_history_rules_at_collection_read_the_archive(store_url, config):
    """collect_batch compares with the last accepted read of an earlier period (SQLite, PostgreSQL)."""
    store = ReportStore(store_url)
    store.ensure_schema()
    codes = ["941", "942"]
    names = {c: config.unit(c).name for c in codes}
    feb = {c: unit_rows(config, period="27/02/2025", name=names[c]) for c in codes}
    collect_batch(config, codes, FEB, "feb", FakeSource(feb), store)
    mar = {c: unit_rows(config, name=names[c]) for c in codes}
    cell = set_cell(mar["942"], "MTQG", col_of(mar["942"], "A", "HT_XM"), TABLE_A["MTQG"][4] - 5)
    counts = collect_batch(config, codes, MAR, "mar", FakeSource(mar), store)
    assert counts["accepted"] == 2
    reads = store.latest_reads(MAR, "mar", codes)
    assert [f for f in reads["941"].findings if f["severity"] == "warning"] == []
    [warning] = [f for f in reads["942"].findings if f["severity"] == "warning"]
    assert warning["cell"] == cell
    assert "thấp hơn số 80 đã báo cáo kỳ 27/02/2025" in warning["message"]
    assert reads["942"].cells["A.MTQG.HT_XM"] == cell
    # An earlier run of the same period is not "the last period": a re-run finds the same.
    collect_batch(config, codes, MAR, "mar-again", FakeSource(mar), store)
    again = store.latest_reads(MAR, "mar-again", codes)
    assert again["942"].findings == reads["942"].findings


def test_a_history_rule_of_severity_error_rejects(config_dir, store_url):
    edit_report(config_dir, lambda d: d["rules"][5].update(severity="error"))
    config = load_config(config_dir)
    store = ReportStore(store_url)
    store.ensure_schema()
    collect_batch(
        config, ["941"], FEB, "feb", FakeSource({"941": unit_rows(config, period="27/02/2025")}), store
    )
    mar = unit_rows(config)
    set_cell(mar, "LUOT_NGUOI", 2, 1000)
    counts = collect_batch(config, ["941"], MAR, "mar", FakeSource({"941": mar}), store)
    assert counts["rejected"] == 1
    assert store.latest_reads(MAR, "mar", ["941"])["941"].figures == {}


# --------------------------------------------------------------------------- outliers


def outlier_setup(config, increases, own=None):
    districts = [u for u in config.units if u.kind == "district"]
    current, last, cells = {}, {}, {}
    for unit, inc in zip(districts, increases, strict=False):
        last[unit.code] = (FEB, {"A.NCC.HT_XM": 100, "NGAY_CONG": 1000})
        current[unit.code] = {"A.NCC.HT_XM": 100 + inc, "NGAY_CONG": 1000 + inc}
        cells[unit.code] = {"A.NCC.HT_XM": "BaoCao!G12"}
    return current, last, cells, {u.code: u for u in config.units}, own or {}


def test_an_unusual_increase_among_peers_is_a_warning_with_the_usual_range(config):
    settings = Outliers(figures=("A.*.HT_XM",), message=config.report.outliers.message)
    current, last, cells, units, own = outlier_setup(config, [10, 12, 9, 11, 14, 8, 10, 95])
    [hit] = find_outliers(settings, config.template, units, current, last, own, cells)
    assert hit.unit_code == "948"
    assert hit.finding.cell == "BaoCao!G12"
    assert hit.finding.severity == "warning"
    assert "tăng 95 so với kỳ 27/02/2025 (từ 100 lên 195, +95%)" in hit.finding.message
    assert "mức tăng thường gặp: từ 3 đến 18" in hit.finding.message  # 10,5 ± 3,5 × 1,5 / 0,6745
    assert hit.finding.message.startswith("Thị xã Ngã Năm, ô BaoCao!G12: «Đã hoàn thành, bàn giao xây mới")


def test_threshold_and_minimum_peers_are_settings(config):
    current, last, cells, units, own = outlier_setup(config, [10, 12, 9, 11, 14, 8, 10, 95])
    high = Outliers(figures=("A.*.HT_XM",), threshold=100, message="{label}")
    assert find_outliers(high, config.template, units, current, last, own, cells) == []
    few = Outliers(figures=("A.*.HT_XM",), min_peers=9, message="{label}")
    assert find_outliers(few, config.template, units, current, last, own, cells) == []


def test_an_increase_usual_for_the_unit_itself_is_not_flagged(config):
    settings = Outliers(figures=("A.*.HT_XM",), message="{label} {increase}")
    own = {"948": [{"A.NCC.HT_XM": 90.0}, {"A.NCC.HT_XM": 100.0}, {"A.NCC.HT_XM": 95.0}]}
    current, last, cells, units, own = outlier_setup(config, [10, 12, 9, 11, 14, 8, 10, 95], own)
    assert find_outliers(settings, config.template, units, current, last, own, cells) == []


def test_a_small_unit_with_a_few_more_houses_is_not_an_outlier(config):
    """Growth must be unusual too: a large unit's big but proportionate increase is normal."""
    settings = Outliers(figures=("A.*.HT_XM",), message="{label}")
    current, last, cells, units, own = outlier_setup(config, [10, 12, 9, 11, 14, 8, 10, 95])
    last["948"] = (FEB, {"A.NCC.HT_XM": 1000})
    current["948"] = {"A.NCC.HT_XM": 1095}
    assert find_outliers(settings, config.template, units, current, last, own, cells) == []


def test_figures_frame_adds_table_totals(config):
    frame = figures_frame({"941": parse(config, unit_rows(config)).figures}, config.template)
    assert frame.loc["941", "A.TONG.CAN_XM"] == sum(v[0] for v in TABLE_A.values())
    empty = figures_frame({"MTTQ": {}}, config.template)
    assert empty.isna().all(axis=None)
    # Some columns only, in the order asked: the same values as the whole frame's.
    only = ["A.TONG.HT_SC", "NGAY_CONG", "A.NCC.CAN_XM"]
    part = figures_frame({"941": parse(config, unit_rows(config)).figures}, config.template, only)
    assert list(part.columns) == only
    assert part.loc["941"].tolist() == frame.loc["941", only].tolist()


def test_own_history_is_asked_only_for_the_units_and_figures_unusual_among_peers(config):
    """The archive is asked for the own past increases of the suspects only (at national scale,
    a few hundred of thousands of units), and only for their unusual figures."""
    import pandas as pd

    settings = Outliers(figures=("A.*.HT_XM",), message="{label} {increase}")
    current, last, cells, units, _ = outlier_setup(config, [10, 12, 9, 11, 14, 8, 10, 95])
    asked = []

    def past(codes, keys):
        asked.append((list(codes), list(keys)))
        # 948's own past increases: 90, 100, 95 for the figure asked, so 95 is usual for it.
        return pd.DataFrame(
            [[90.0] * len(keys), [100.0] * len(keys), [95.0] * len(keys)],
            index=pd.Index(["948"] * 3, dtype=object),
            columns=list(keys),
        )

    assert find_outliers(settings, config.template, units, current, last, past, cells) == []
    [(codes, keys)] = asked
    assert codes == ["948"]
    assert "A.NCC.HT_XM" in keys
    assert "A.MTQG.HT_XM" not in keys  # not reported by anyone: nothing unusual to check
