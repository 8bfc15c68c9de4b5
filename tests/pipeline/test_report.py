from __future__ import annotations

import dataclasses

from housing_report.config import Unit, load_config
from housing_report.pipeline.report import plan_batches


def _with_units(config, n, per_sheet):
    units = tuple(
        Unit(f"X{i:04d}", f"Xã {i}", "district", f"sheet-{i // per_sheet}", f"W{i % per_sheet}")
        for i in range(n)
    )
    return dataclasses.replace(config, units=units)


def test_sample_batches_keep_spreadsheets_whole():
    config = load_config()
    batches = plan_batches(config, max_tasks=16)
    flat = [c for b in batches for c in b]
    assert sorted(flat) == sorted(u.code for u in config.units)
    for batch in batches:
        sheets = {config.unit(c).spreadsheet for c in batch}
        for sheet in sheets:
            owners = [b for b in batches if any(config.unit(c).spreadsheet == sheet for c in b)]
            assert len(owners) == 1
    # The six organisations share one spreadsheet, so one batch holds all six.
    assert any({"MTTQ", "HLHPN", "HND", "TD", "HCCB", "LDLD"} <= set(b) for b in batches)


def test_national_scale_stays_far_below_max_map_length():
    config = _with_units(load_config(), 3321, per_sheet=1)
    batches = plan_batches(config, max_tasks=16)
    assert len(batches) == 16
    sizes = [len(b) for b in batches]
    assert max(sizes) - min(sizes) <= 1
    assert sum(sizes) == 3321
    # Consecutive units together (their reads side by side in the per-unit index).
    assert [code for batch in batches for code in batch] == [u.code for u in config.units]


def test_fewer_spreadsheets_than_tasks():
    config = _with_units(load_config(), 200, per_sheet=200)
    assert plan_batches(config, max_tasks=16) == [[f"X{i:04d}" for i in range(200)]]
