"""The email's tables of figures (`render.email`): a table section's rows with its totals, its
column headers paired for a phone ("Đã khởi công" over "Xây mới", "Sửa chữa"), and a fields
section's entries with their units."""

from __future__ import annotations

from typing import Any

from housing_report.config import Section, Template
from housing_report.core.models import TOTAL_LABEL, TOTAL_ROW
from housing_report.render.figures import table_total


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def table_view(section: Section, totals: dict[str, Any]) -> dict[str, Any]:
    rows = [
        {
            "code": r.code,
            "label": r.label,
            "cells": [totals.get(f"{section.code}.{r.code}.{c.code}") for c in section.columns],
            "total": False,
        }
        for r in section.rows
    ]
    rows.append(
        {
            "code": TOTAL_ROW,
            "label": TOTAL_LABEL,
            "cells": [table_total(totals, section, c.code) for c in section.columns],
            "total": True,
        }
    )
    heads, kinds = column_heads([c.label for c in section.columns])
    return {
        "kind": "table",
        "code": section.code,
        "label": section.label,
        "unit": section.unit,
        "cumulative": section.cumulative,
        "columns": [{"code": c.code, "label": c.label} for c in section.columns],
        # On a phone: the columns under two header rows ("Đã khởi công" over "Xây mới", "Sửa
        # chữa"), each row's label on a line of its own above its figures ([] when they do not pair).
        "heads": heads,
        "kinds": kinds,
        "rows": rows,
        "apart": None,  # the organisations' money shown beside the totals (`funds_apart`)
    }


def column_heads(labels: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Column labels that are measures times kinds ("Số nhà cần hỗ trợ xây mới", "… sửa chữa",
    "Đã khởi công xây mới", …) as the measures with how many columns each ([{"label": "Số nhà cần
    hỗ trợ", "span": 2}, …]) and the kinds, capitalised (["Xây mới", "Sửa chữa", …]); ([], [])
    when they are not (then each column keeps its label)."""
    words = [label.split() for label in labels]
    for size in (1, 2, 3):
        suffixes = [" ".join(w[-size:]) for w in words]
        cycle = list(dict.fromkeys(suffixes))
        n = len(cycle)
        if n < 2 or n == len(labels) or len(labels) % n or any(len(w) <= size for w in words):
            continue
        if suffixes != cycle * (len(labels) // n):
            continue
        heads = []
        for start in range(0, len(labels), n):
            prefixes = {" ".join(w[:-size]).rstrip(" ,") for w in words[start : start + n]}
            if len(prefixes) != 1:
                break
            heads.append({"label": prefixes.pop(), "span": n})
        else:
            return heads, [capitalised(k) for k in suffixes]
    return [], []


def fields_view(
    section: Section, template: Template, totals: dict[str, Any], change: dict[str, Any]
) -> dict[str, Any]:
    return {
        "kind": "fields",
        "code": section.code,
        "label": section.label,
        "unit": section.unit,
        "cumulative": section.cumulative,
        "entries": [
            {
                "code": code,
                "label": template.figure_label(code),
                "value": totals.get(code),
                "change": change.get(code) if section.cumulative else None,
                "unit": figure_unit(template, section, code),
            }
            for code in section.figure_keys()
        ],
    }


def figure_unit(template: Template, section: Section, key: str) -> str:
    """What a figure counts ("ngày công"), for a sentence; the section's unit by default."""
    return template.figure_unit(key) or section.unit or ""
