"""A unit's findings grouped by kind and capped, wherever they are kept or listed.

A sheet with 50.000 junk rows gives 50.000 warnings of one kind: listed whole, they made a
53 MB feedback email and a 16 MB summary. Findings of one kind (same severity, same message
but for the cell, the codes and the values quoted in it) are kept up to `FINDINGS_PER_KIND`;
the rest become one finding at the first omitted cell: "và 49.990 dòng khác cùng loại (từ ô …
đến ô …)". Capping a capped list changes nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec

from housing_report.core.formatting import vn_number

# Findings of one kind shown for one unit; the others are counted in one line.
FINDINGS_PER_KIND = 10
MORE_OF_KIND = "dòng khác cùng loại"

_QUOTED = re.compile(r"«[^»]*»")
_CELL = re.compile(r"(?:'[^']*(?:''[^']*)*'|[^\s,;:()«»']+)![A-Z]+\d+|\b[A-Z]{1,3}\d+\b")
_NUMBER = re.compile(r"\d[\d.,]*")

# A `Finding`, or a summary's `FindingEntry` (its severity is the list it is in).
F = TypeVar("F", bound=Any)


def finding_kind(finding: Any, unit_name: str = "") -> tuple[str, str]:
    """(severity, message shape): the message without the unit's name, the cells, the quoted
    values and the numbers, which is what differs between findings of one kind."""
    text = finding.message
    prefix = f"{unit_name}, ô {finding.cell}: "
    if unit_name and text.startswith(prefix):
        text = text[len(prefix) :]
    text = _NUMBER.sub("#", _CELL.sub("@", _QUOTED.sub("«»", text)))
    return getattr(finding, "severity", ""), text


def cap_findings(findings: Sequence[F], unit_name: str = "", per_kind: int = FINDINGS_PER_KIND) -> list[F]:
    """`findings` with at most `per_kind` of each kind, in their order; after the last one shown
    of a kind with more, one finding counting the others (Vietnamese numbers: "49.990")."""
    kinds = [finding_kind(f, unit_name) for f in findings]
    counts = Counter(kinds)
    if all(n <= per_kind for n in counts.values()):
        return list(findings)
    omitted: dict[tuple[str, str], list[F]] = {}
    seen: Counter[tuple[str, str]] = Counter()
    kept: list[F | tuple[str, str]] = []
    for finding, kind in zip(findings, kinds, strict=True):
        seen[kind] += 1
        if seen[kind] <= per_kind:
            kept.append(finding)
            if seen[kind] == per_kind and counts[kind] > per_kind:
                kept.append(kind)  # where the line counting the others goes
        else:
            omitted.setdefault(kind, []).append(finding)
    return [_more(omitted[item], unit_name) if isinstance(item, tuple) else item for item in kept]


def _more(others: Sequence[F], unit_name: str) -> F:
    first, last = others[0], others[-1]
    where = f"từ ô {first.cell} đến ô {last.cell}" if last.cell != first.cell else f"ô {first.cell}"
    text = (
        f"và {vn_number(len(others))} {MORE_OF_KIND} ({where}), không liệt kê hết ở đây; "
        "hãy sửa các dòng này như hướng dẫn ở trên."
    )
    prefix = f"{unit_name}, ô {first.cell}: " if unit_name else ""
    if isinstance(first, msgspec.Struct):
        return msgspec.structs.replace(first, message=prefix + text)
    return dataclasses.replace(first, message=prefix + text)
