"""Parse and validate one unit's worksheet against the template (docs/vi/mau-bao-cao.md).

`parse_report(grid, unit, template, rules, period)` reads the codes in column A,
the values under them, checks the layout, value and table rules, and returns a
`UnitReport` with the unit's status and every finding. A value cell that cannot be read as
typed is an error naming it: a formula saved without its computed value, a cell hidden in a
merged range; content beyond the bounds the sheet was read within is a warning. Every text a
unit types is cut to `core.text.MAX_LIST_TEXT` characters here. Every finding names the
unit, the cell in A1 notation with the sheet name, what was found and what to
write, in Vietnamese. `parse_reports` does the same for a batch of sheets, with the
rules over the units' own figures evaluated once across the batch.

Why this module is long: one `_Parser` reads a sheet in one pass (the layout of its codes,
the fields, the tables, the lists, the period) and every step adds to the same state (the
findings, the cells each figure came from); split across modules, that state would travel
between them for every one of a national roll-out's thousands of sheets.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from housing_report.config import Rule, Section, Template, Unit
from housing_report.core.formatting import vn_date
from housing_report.core.models import TOTAL_ROW, Finding, Formula, Grid, UnitReport, a1
from housing_report.core.statuses import ACCEPTED, ERROR, REJECTED, STALE, WARNING
from housing_report.core.text import strip_invisible, trim_text
from housing_report.validate.rules import check_units
from housing_report.validate.values import Problem, read_date, read_number, read_text, show


@lru_cache(maxsize=256)
def _cell_keys(section: Section) -> dict[tuple[str, str], str]:
    """A table's figure keys by (row code, column code): `A.NCC.CAN_XM`."""
    return {
        (r.code, c.code): f"{section.code}.{r.code}.{c.code}" for r in section.rows for c in section.columns
    }


@lru_cache(maxsize=4096)
def _code_text(text: str) -> str:
    """A code as written in column A, normalised (the same few codes recur in every sheet)."""
    return strip_invisible(unicodedata.normalize("NFC", text)).strip().upper()


@dataclass(frozen=True)
class _TemplateIndex:
    """The template's codes as the parser looks them up (shared by every sheet; not changed)."""

    sections: dict[str, Section]
    table_codes: frozenset[str]
    list_codes: frozenset[str]
    row_owner: dict[str, str]  # table row code -> its table's code
    # (sheet name, column A) -> what scanning found: the layout, the table header rows it read
    # (row, cells from column C), the findings (severity, row, col, code, text). Sheets made
    # from the template share their column A: scanned once, checked again row by row.
    scans: dict[tuple[str, tuple[Any, ...]], tuple[_Layout, tuple, list]] = field(default_factory=dict)


_INDEXES: dict[int, tuple[Template, _TemplateIndex]] = {}
_SCANS_KEPT = 256


def _index(template: Template) -> _TemplateIndex:
    cached = _INDEXES.get(id(template))
    if cached is not None and cached[0] is template:
        return cached[1]
    index = _TemplateIndex(
        sections={s.code: s for s in template.sections},
        table_codes=frozenset(s.code for s in template.sections if s.kind == "table"),
        list_codes=frozenset(s.code for s in template.sections if s.kind == "list"),
        row_owner={r.code: s.code for s in template.sections if s.kind == "table" for r in s.rows},
    )
    if len(_INDEXES) > 16:
        _INDEXES.clear()
    _INDEXES[id(template)] = (template, index)
    return index


def _filled(raw: Any) -> bool:
    """Whether a cell holds something (text of spaces only counts as empty)."""
    return raw is not None and (not isinstance(raw, str) or read_text(raw) != "")


@dataclass
class _Table:
    header_row: int
    columns: dict[str, int] = field(default_factory=dict)  # column code -> col index
    rows: dict[str, int] = field(default_factory=dict)  # row code -> row index


@dataclass
class _Layout:
    """Where each code was found in the sheet."""

    fields: dict[str, int] = field(default_factory=dict)  # field code -> row index
    tables: dict[str, _Table] = field(default_factory=dict)
    lists: dict[str, list[int]] = field(default_factory=dict)
    any_code: bool = False


class _Parser:
    def __init__(self, grid: Grid, unit: Unit, template: Template, rules: Sequence[Rule], period: dt.date):
        self.grid = grid
        self.sheet = grid.sheet
        self.unit = unit
        self.template = template
        self.rules = rules
        self.period = period
        self.findings: list[Finding] = []
        self.positions: list[tuple[int, int]] = []
        self.coords: dict[str, tuple[int, int]] = {}  # figure key -> (row, col) it was read from
        index = _index(template)
        self.sections = index.sections
        self.field_index = template.field_codes
        self.table_codes = index.table_codes
        self.list_codes = index.list_codes
        self.row_owner = index.row_owner
        self.scans = index.scans
        self.recording: list[tuple[str, int, int, str, str]] | None = None
        self._hidden: dict[tuple[int, int], tuple[int, int, int, int]] | None = None
        self._merges_told: set[tuple[int, int, int, int]] = set()

    # -- helpers

    def cell(self, row: int, col: int) -> str:
        return a1(row, col, self.sheet)

    def value(self, row: int, col: int) -> Any:
        cells = self.grid.rows[row] if row < len(self.grid.rows) else []
        return cells[col] if col < len(cells) else None

    def add(self, severity: str, row: int, col: int, code: str, text: str) -> None:
        if self.recording is not None:
            self.recording.append((severity, row, col, code, text))
        cell = self.cell(row, col)
        self.positions.append((row, col))
        self.findings.append(Finding(severity, cell, code, f"{self.unit.name}, ô {cell}: {text}"))

    def sorted_findings(self) -> list[Finding]:
        """Findings in sheet order (top to bottom, left to right), as a unit fixes them."""
        order = sorted(range(len(self.findings)), key=lambda i: self.positions[i])
        return [self.findings[i] for i in order]

    def problem(
        self, row: int, col: int, code: str, what: str, problem: Problem, severity: str = ERROR
    ) -> None:
        self.add(severity, row, col, code, f"{what} ghi {problem.found}, {problem.why} {problem.fix}")

    # -- cells that cannot be read as typed

    def hidden_by(self, row: int, col: int) -> tuple[int, int, int, int] | None:
        """The merged range that hides cell (row, col) (any of its cells but the top-left one)."""
        if not self.grid.merges:
            return None
        if self._hidden is None:
            rows, cols = self.grid.bounds or (
                len(self.grid.rows) + 1,
                1 + max(map(len, self.grid.rows), default=0),
            )
            hidden: dict[tuple[int, int], tuple[int, int, int, int]] = {}
            for merge in self.grid.merges:
                r1, c1, r2, c2 = merge
                for r in range(r1, min(r2, rows - 1) + 1):
                    for c in range(c1, min(c2, cols - 1) + 1):
                        hidden.setdefault((r, c), merge)
                hidden.pop((r1, c1), None)
            self._hidden = hidden
        return self._hidden.get((row, col))

    def unreadable(
        self, row: int, col: int, raw: Any, code: str, what: str, entry: str = "số", severity: str = ERROR
    ) -> bool:
        """Whether the value cell (row, col) cannot be read as typed (the finding is added): a
        formula without its computed value, or a cell hidden in a merged range. `entry` says what
        to type instead ("số", "ngày"...)."""
        if type(raw) is Formula:
            formula = f" {show(raw)}" if len(raw) > 1 else ""
            self.add(
                severity,
                row,
                col,
                code,
                f"{what} chứa công thức{formula}: công thức chưa được tính, hãy nhập {entry} "
                "(tệp được lưu mà không tính lại công thức, nên không có giá trị để đọc).",
            )
            return True
        merge = self.hidden_by(row, col)
        if merge is None:
            return False
        if merge not in self._merges_told:
            self._merges_told.add(merge)
            r1, c1, r2, c2 = merge
            self.add(
                severity,
                row,
                col,
                code,
                f"ô {a1(r1, c1)}:{a1(r2, c2)} đang được gộp; hãy bỏ gộp ô và nhập từng {entry} vào "
                f"từng ô ({what} phải nằm riêng ở ô {a1(row, col)}).",
            )
        return True

    def beyond(self) -> None:
        """A warning when the sheet holds something outside the bounds it was read within."""
        if self.grid.beyond is None or self.grid.bounds is None:
            return
        r, c = self.grid.beyond
        rows, cols = self.grid.bounds
        last = a1(0, cols - 1).rstrip("0123456789")
        self.add(
            WARNING,
            r,
            c,
            "LAYOUT",
            f"trang tính {self.sheet} có nội dung ở ô {a1(r, c)}, ngoài vùng được đọc (cột A đến "
            f"{last}, dòng 1 đến {rows}); phần ngoài vùng này không được đọc. Nếu đó là số liệu "
            "của mẫu, hãy đưa về đúng dòng, đúng cột của mẫu; nếu không, hãy xóa đi.",
        )

    # -- layout

    def scan(self) -> _Layout:
        """Where each code is: from the scan of an earlier sheet with the same column A and
        table headers, else by reading column A row by row."""
        rows = self.grid.rows
        key = (self.sheet, tuple(cells[0] if cells else None for cells in rows))
        cached = self.scans.get(key)
        if cached is not None:
            layout, headers, findings = cached
            if all(tuple(rows[r][2:]) == cells for r, cells in headers):
                for finding in findings:
                    self.add(*finding)
                return layout
        self.recording = []
        try:
            layout = self._scan()
            findings = self.recording
        finally:
            self.recording = None
        headers = tuple((t.header_row, tuple(rows[t.header_row][2:])) for t in layout.tables.values())
        if len(self.scans) >= _SCANS_KEPT:
            self.scans.clear()
        self.scans[key] = (layout, headers, findings)
        return layout

    def _scan(self) -> _Layout:
        layout = _Layout()
        current: str | None = None  # the table whose rows we are reading
        for r, cells in enumerate(self.grid.rows):
            raw = cells[0] if cells else None
            if raw is None:
                continue
            if isinstance(raw, float) and raw.is_integer():
                code = str(int(raw))
            else:
                code = _code_text(raw if isinstance(raw, str) else str(raw))
            if not code:
                continue
            layout.any_code = True
            if code in self.table_codes:
                if code in layout.tables:
                    first = layout.tables[code].header_row
                    self.add(
                        ERROR,
                        r,
                        0,
                        code,
                        f"mã bảng {code} xuất hiện hai lần (đã có ở ô "
                        f"{self.cell(first, 0)}). Hãy xóa bảng bị lặp, chỉ giữ một bảng {code}.",
                    )
                    current = None
                    continue
                layout.tables[code] = self._header(r, code)
                current = code
            elif code in self.row_owner:
                owner = self.row_owner[code]
                if current != owner:
                    self.add(
                        ERROR,
                        r,
                        0,
                        code,
                        f"mã dòng {code} thuộc bảng {owner} nhưng không nằm ngay "
                        f"dưới dòng tiêu đề của bảng {owner}. Hãy đưa dòng này về trong bảng {owner}.",
                    )
                    continue
                table = layout.tables[owner]
                if code in table.rows:
                    self.add(
                        ERROR,
                        r,
                        0,
                        code,
                        f"mã dòng {code} xuất hiện hai lần trong bảng {owner} (đã có "
                        f"ở ô {self.cell(table.rows[code], 0)}). Hãy xóa dòng bị lặp.",
                    )
                    continue
                table.rows[code] = r
            elif code in self.field_index:
                current = None
                if code in layout.fields:
                    self.add(
                        ERROR,
                        r,
                        0,
                        code,
                        f"mã {code} xuất hiện hai lần (đã có ở ô "
                        f"{self.cell(layout.fields[code], 0)}). Hãy xóa dòng bị lặp.",
                    )
                    continue
                layout.fields[code] = r
            elif code in self.list_codes:
                current = None
                layout.lists.setdefault(code, []).append(r)
            else:
                self.add(
                    WARNING,
                    r,
                    0,
                    code,
                    f"mã {show(raw)} ở cột A không có trong mẫu báo cáo nên dòng "
                    "này không được đọc. Nếu là ghi chú, hãy để trống cột A; nếu là mã, hãy sửa đúng mã.",
                )
        return layout

    def _header(self, r: int, code: str) -> _Table:
        table = _Table(header_row=r)
        section = self.sections[code]
        known = {c.code for c in section.columns}
        cells = self.grid.rows[r]
        for c in range(2, len(cells)):
            raw = cells[c]
            if raw is None:
                continue
            col = _code_text(str(raw))
            if not col:
                continue
            if col in table.columns:
                self.add(
                    ERROR,
                    r,
                    c,
                    col,
                    f"mã cột {col} của bảng {code} xuất hiện hai lần (đã có ở ô "
                    f"{self.cell(r, table.columns[col])}). Hãy xóa cột bị lặp.",
                )
            elif col in known:
                table.columns[col] = c
            else:
                self.add(
                    WARNING,
                    r,
                    c,
                    col,
                    f"mã cột {show(raw)} không có trong bảng {code} của mẫu nên cột này không được đọc.",
                )
        return table

    # -- values

    def read(self, layout: _Layout) -> dict[str, int | float]:
        """Read every figure the unit's kind requires."""
        figures: dict[str, int | float] = {}
        kind = self.template.kinds[self.unit.kind]
        for req in kind.required:
            section = self.sections[req.section]
            if section.kind == "fields":
                self._read_fields(section, layout, figures)
            elif section.kind == "table":
                self._read_table(section, req.rows, layout, figures)
        return figures

    def _missing_code(self, code: str, what: str, near: tuple[int, int] = (0, 0)) -> None:
        self.add(
            ERROR,
            near[0],
            near[1],
            code,
            f"không tìm thấy mã {code} ({what}) ở cột A. Hãy thêm dòng có "
            f"mã {code} ở cột A theo mẫu, không xóa hay sửa các mã của mẫu.",
        )

    def _read_fields(self, section: Section, layout: _Layout, figures: dict[str, int | float]) -> None:
        filled = False
        numeric = [f for f in section.fields if f.value in ("count", "money")]
        first_row: int | None = None
        for f in section.fields:
            r = layout.fields.get(f.code)
            if r is None:
                self._missing_code(f.code, f"«{f.label}», mục {section.label}")
                continue
            first_row = r if first_row is None else min(first_row, r)
            raw = self.value(r, 2)
            if f.value in ("count", "money"):
                self.coords[f.code] = (r, 2)
                if self.unreadable(r, 2, raw, f.code, f"«{f.label}»"):
                    filled = True
                    continue
                number, problem = read_number(raw, f.value)
                if problem:
                    self.problem(r, 2, f.code, f"«{f.label}»", problem)
                    filled = True
                    continue
                if not filled and _filled(raw):
                    filled = True
                figures[f.code] = number  # type: ignore[assignment]
        if (
            numeric
            and not filled
            and first_row is not None
            and all(layout.fields.get(f.code) is not None for f in numeric)
        ):
            self.add(
                ERROR,
                first_row,
                2,
                section.code,
                f"mục «{section.label}» chưa được điền (mọi ô đều "
                "trống). Hãy điền số liệu, ghi 0 ở những ô không phát sinh.",
            )

    def _read_table(
        self, section: Section, rows: tuple[str, ...] | None, layout: _Layout, figures: dict[str, int | float]
    ) -> None:
        table = layout.tables.get(section.code)
        wanted_rows = [r for r in section.rows if rows is None or r.code in rows]
        if table is None:
            self._missing_code(section.code, f"tiêu đề bảng {section.code}: {section.label}")
            return
        ok = True
        for col in section.columns:
            if col.code not in table.columns:
                ok = False
                self.add(
                    ERROR,
                    table.header_row,
                    0,
                    col.code,
                    f"dòng tiêu đề bảng {section.code} thiếu mã cột "
                    f"{col.code} («{col.label}»). Hãy ghi mã {col.code} vào dòng tiêu đề, từ cột C trở đi.",
                )
        for row in wanted_rows:
            if row.code not in table.rows:
                ok = False
                self._missing_code(
                    row.code, f"dòng «{row.label}» của bảng {section.code}", (table.header_row, 0)
                )
        if not ok:
            return
        filled = False
        values: dict[str, int | float] = {}  # figure key -> number
        for col in section.columns:
            self.coords[f"{section.code}.{TOTAL_ROW}.{col.code}"] = (
                table.header_row,
                table.columns[col.code],
            )
        keys = _cell_keys(section)
        columns = [(col, table.columns[col.code]) for col in section.columns]
        grid_rows, coords, kind = self.grid.rows, self.coords, section.value
        merges = bool(self.grid.merges)
        for row in wanted_rows:
            r = table.rows[row.code]
            cells = grid_rows[r] if r < len(grid_rows) else []
            width = len(cells)
            for col, c in columns:
                key = keys[row.code, col.code]
                coords[key] = (r, c)
                raw = cells[c] if c < width else None
                number, problem = read_number(raw, kind)
                # A cell hidden in a merged range reads as empty, or as what an editor kept of it
                # (LibreOffice may keep it); a formula without its value is text.
                if problem or merges or type(raw) is Formula:
                    what = f"bảng {section.code}, dòng {row.code} «{row.label}», cột {col.code} «{col.label}»"
                    if self.unreadable(r, c, raw, col.code, what):
                        filled = True
                        continue
                if problem:
                    filled = True
                    self.problem(r, c, col.code, what + ",", problem)
                    continue
                if not filled and _filled(raw):
                    filled = True
                values[key] = number  # type: ignore[assignment]
        if not filled:
            self.add(
                ERROR,
                table.header_row,
                0,
                section.code,
                f"bảng {section.code} «{section.label}» chưa được "
                "điền (mọi ô đều trống). Hãy điền số liệu, ghi 0 ở những ô không phát sinh.",
            )
            return
        figures.update(values)

    def cells(self) -> dict[str, str]:
        """Figure key -> A1 cell with the sheet, of every figure read (complete once `read` is done)."""
        return {key: a1(r, c, self.sheet) for key, (r, c) in self.coords.items()}

    def read_lists(self, layout: _Layout) -> dict[str, list[dict[str, str]]]:
        lists: dict[str, list[dict[str, str]]] = {}
        for code, rows in layout.lists.items():
            section = self.sections[code]
            entries = []
            for r in rows:
                raw = self.value(r, 1)
                what = f"nội dung mục {code}"
                if self.unreadable(r, 1, raw, code, what, "nội dung", WARNING):
                    continue
                text = trim_text(read_text(raw))
                if not text:
                    continue
                entry = {"text": text, "cell": self.cell(r, 1)}
                if section.place:
                    place = self.value(r, 2)
                    unreadable = self.unreadable(
                        r, 2, place, code, f"địa bàn mục {code}", "nội dung", WARNING
                    )
                    entry["place"] = "" if unreadable else trim_text(read_text(place))
                entries.append(entry)
            if entries:
                lists[code] = entries
        return lists

    def read_info(self, layout: _Layout) -> tuple[dict[str, str], dt.date | None, int | None]:
        info: dict[str, str] = {}
        period_found: dt.date | None = None
        period_row: int | None = None
        for code, (_section, item) in self.field_index.items():
            r = layout.fields.get(code)
            if r is None or item.value in ("count", "money"):
                continue
            raw = self.value(r, 2)
            entry = "nội dung" if item.value not in ("period", "date") else "ngày dạng dd/mm/yyyy"
            if item.value == "period":
                period_row = r
            severity = ERROR if item.value == "period" else WARNING
            if self.unreadable(r, 2, raw, code, f"«{item.label}»", entry, severity):
                continue
            if item.value == "period":
                day, problem = read_date(raw)
                if problem:
                    self.problem(
                        r,
                        2,
                        code,
                        f"«{item.label}»",
                        Problem(
                            problem.found,
                            problem.why,
                            f"Hãy ghi ngày của kỳ báo cáo dạng dd/mm/yyyy, ví dụ {vn_date(self.period)}.",
                        ),
                    )
                else:
                    period_found = day
                    info[code] = vn_date(day)  # type: ignore[arg-type]
            elif item.value == "date":
                if raw is None or read_text(raw) == "":
                    continue
                day, problem = read_date(raw)
                if problem:
                    self.problem(r, 2, code, f"«{item.label}»", problem, severity=WARNING)
                else:
                    info[code] = vn_date(day)  # type: ignore[arg-type]
            else:
                info[code] = trim_text(read_text(raw))
        return info, period_found, period_row


@dataclass
class _Read:
    """A sheet read for its period, before the rules over its own figures have run."""

    parser: _Parser
    figures: dict[str, int | float]
    lists: dict[str, list[dict[str, str]]]
    info: dict[str, str]
    period_found: dt.date | None
    cells: dict[str, str]  # figure key -> A1 cell, of every figure read


def _read_sheet(
    grid: Grid, unit: Unit, template: Template, rules: Sequence[Rule], period: dt.date
) -> UnitReport | _Read:
    """Read one worksheet; a sheet that is empty or of another period is already a final report."""
    parser = _Parser(grid, unit, template, rules, period)
    layout = parser.scan()
    if not layout.any_code:
        parser.findings = [
            Finding(
                ERROR,
                a1(0, 0, grid.sheet),
                "KY_BAO_CAO",
                f"{unit.name}, ô {a1(0, 0, grid.sheet)}: trang tính {grid.sheet} trống hoặc không theo mẫu "
                "(không có mã nào ở cột A). Hãy dùng mẫu báo cáo và điền số liệu, không xóa cột A.",
            )
        ]
        parser.beyond()
        return UnitReport(unit.code, REJECTED, findings=parser.findings)
    parser.beyond()

    info, period_found, period_row = parser.read_info(layout)
    if period_row is None:
        parser._missing_code("KY_BAO_CAO", "«Kỳ báo cáo»")
    if period_found is not None and period_found != period:
        # Not updated for this period: not a submission for it (docs/vi/mau-bao-cao.md, "Tình trạng").
        cell = a1(period_row or 0, 2, grid.sheet)  # type: ignore[arg-type]
        notice = Finding(
            WARNING,
            cell,
            "KY_BAO_CAO",
            f"{unit.name}, ô {cell}: kỳ báo cáo ghi «{vn_date(period_found)}», chưa cập nhật cho kỳ "
            f"{vn_date(period)}. Hãy cập nhật số liệu lũy kế đến ngày {vn_date(period)} và sửa ô này "
            f"thành {vn_date(period)}.",
        )
        return UnitReport(
            unit.code,
            STALE,
            period_found=period_found,
            info=info,
            findings=[notice],
            cells={"KY_BAO_CAO": cell},
        )
    figures = parser.read(layout)
    return _Read(parser, figures, parser.read_lists(layout), info, period_found, parser.cells())


def _check_rules(reads: Sequence[_Read], template: Template, rules: Sequence[Rule]) -> None:
    """The report.yaml rules over each unit's own figures (`housing_report.validate.rules`), across the
    sheets at once: one comparison per rule for the whole batch, not one per sheet."""
    with_figures = {r.parser.unit.code: r for r in reads if r.figures}
    if not with_figures:
        return
    hits = check_units(
        {code: r.figures for code, r in with_figures.items()},
        {code: r.cells for code, r in with_figures.items()},
        {code: r.parser.unit for code, r in with_figures.items()},
        template,
        rules,
        {code: r.parser.sheet for code, r in with_figures.items()},
    )
    for hit in hits:
        parser = with_figures[hit.unit_code].parser
        parser.positions.append(parser.coords.get(hit.anchor or "", (0, 0)))
        parser.findings.append(hit.finding)


def _finish(read: _Read) -> UnitReport:
    parser = read.parser
    status = REJECTED if any(f.severity == ERROR for f in parser.findings) else ACCEPTED
    return UnitReport(
        parser.unit.code,
        status,
        period_found=read.period_found,
        figures=read.figures if status == ACCEPTED else {},
        lists=read.lists,
        info=read.info,
        findings=parser.sorted_findings(),
        cells=read.cells,
    )


def parse_reports(
    sheets: Sequence[tuple[Grid, Unit]], template: Template, rules: Sequence[Rule], period: dt.date
) -> list[UnitReport]:
    """Parse and validate a batch of worksheets for `period`, one report per sheet in order.

    Each sheet is read on its own; the rules over the units' own figures then run once across
    the batch (vectorised), which is what makes a batch of thousands cheap.
    """
    results = [_read_sheet(grid, unit, template, rules, period) for grid, unit in sheets]
    # A unit appearing twice (never in a run, possible in a caller's test) is checked in its own round.
    rounds: list[dict[str, _Read]] = []
    for result in results:
        if isinstance(result, _Read):
            code = result.parser.unit.code
            target = next((r for r in rounds if code not in r), None)
            if target is None:
                target = {}
                rounds.append(target)
            target[code] = result
    for batch in rounds:
        _check_rules(list(batch.values()), template, rules)
    return [r if isinstance(r, UnitReport) else _finish(r) for r in results]


def parse_report(
    grid: Grid, unit: Unit, template: Template, rules: Sequence[Rule], period: dt.date
) -> UnitReport:
    """Parse and validate one unit's worksheet for `period`."""
    return parse_reports([(grid, unit)], template, rules, period)[0]
