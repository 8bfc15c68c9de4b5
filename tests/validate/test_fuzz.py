"""Property-based tests: arbitrary grids never crash the parser or the rules, and every finding
names a cell inside the sheet (A1 for an empty one)."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from housing_report.core.models import Grid, a1
from housing_report.validate.outliers import find_outliers
from housing_report.validate.parse import parse_report
from housing_report.validate.rules import check_history
from tests.support.grids import unit_rows

PERIOD = dt.date(2025, 3, 12)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CODES = [
    "A", "B", "NCC", "MTQG", "PTTD", "KHAC", "NSTW", "XHH", "VAY", "CAN_XM", "KC_XM", "HT_XM", "HT_SC",
    "GIAI_NGAN", "HUY_DONG", "KY_BAO_CAO", "DON_VI", "NGAY_CONG", "C_TIN_BAI", "D", "E", " a ", "x",
]  # fmt: skip

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(CODES),
    st.sampled_from(["12/03/2025", "27/02/2025", "1.234", "2.345,5", "12 căn", "#REF!", "-5", "7,5", "ǅ"]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)
rows = st.lists(st.lists(values, max_size=10), max_size=40)
CELL = re.compile(r"^(?:'(?:[^']|'')+'|[^!']+)!([A-Z]+)([0-9]+)$")


def column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def assert_in_bounds(cell: str, grid: Grid) -> None:
    match = CELL.match(cell)
    assert match, cell
    row, col = int(match.group(2)) - 1, column_index(match.group(1))
    if not grid.rows:
        assert cell == a1(0, 0, grid.sheet)
        return
    width = max(3, max(len(r) for r in grid.rows))  # column C, the values' column, always exists
    assert row < max(1, len(grid.rows)), (cell, len(grid.rows))
    assert col < width, (cell, width)


@FUZZ
@given(
    rows=rows, code=st.sampled_from(["941", "MTTQ", "BAO_ST"]), sheet=st.sampled_from(["BaoCao", "Báo cáo"])
)
def test_any_grid_parses_and_every_finding_names_a_cell_in_the_sheet(config, rows, code, sheet):
    grid = Grid(sheet, rows)
    report = parse_report(grid, config.unit(code), config.template, config.report.rules, PERIOD)
    assert report.status in ("accepted", "rejected", "stale")
    for finding in report.findings:
        assert finding.message.startswith(config.unit(code).name)
        assert_in_bounds(finding.cell, grid)
    for cell in report.cells.values():
        assert_in_bounds(cell, grid)


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=9), values),
        max_size=12,
    ),
    extra=st.lists(st.lists(values, max_size=6), max_size=5),
)
def test_a_valid_sheet_with_random_edits_parses_and_its_rules_run(config, edits, extra):
    rows = unit_rows(config) + extra
    for r, c, value in edits:
        if r < len(rows):
            while len(rows[r]) <= c:
                rows[r].append(None)
            rows[r][c] = value
    grid = Grid("BaoCao", rows)
    unit = config.unit("941")
    report = parse_report(grid, unit, config.template, config.report.rules, PERIOD)
    for finding in report.findings:
        assert_in_bounds(finding.cell, grid)
    # History rules and outliers over whatever was read, against a valid earlier read.
    before = parse_report(Grid("BaoCao", unit_rows(config, period="27/02/2025")), unit, config.template,
                          config.report.rules, dt.date(2025, 2, 27))  # fmt: skip
    units = {u.code: u for u in config.units}
    hits = check_history(
        {"941": report.figures},
        {"941": (before.period_found, before.figures)},
        {"941": report.cells},
        units,
        config.template,
        config.report.rules,
    )
    for hit in hits:
        assert_in_bounds(hit.finding.cell, grid)
        assert not re.search(r"\b(nan|inf)\b", hit.finding.message)
    districts = [u.code for u in config.units if u.kind == "district"]
    current = {c: dict(before.figures) for c in districts}
    current["941"] = report.figures
    outliers = find_outliers(
        config.report.outliers,
        config.template,
        units,
        current,
        {c: (before.period_found, before.figures) for c in districts},
        {},
        {c: report.cells for c in districts},
    )
    for hit in outliers:
        assert_in_bounds(hit.finding.cell, grid)
