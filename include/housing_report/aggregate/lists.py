"""The units' list entries (difficulties, recommendations...) grouped by content, for the report.

Twenty units write the same difficulty in the same words ("Mưa trái mùa làm chậm tiến độ..."):
the report states it once and names the units after it. Entries are one group when their texts
are the same once case, punctuation, spacing and a leading "Đề nghị"/"Kiến nghị" are set aside,
or nearly the same (`SIMILAR` of difflib's ratio; compared only while the distinct texts are few
enough for it, `FUZZY_LIMIT`). Groups come most-named first, then in the order of their first
entry; each names its units once, in the order they were listed (the config's order).
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from housing_report.core.summary import ListEntry

SIMILAR = 0.88
FUZZY_LIMIT = 400
_LEAD = re.compile(r"^(?:đề nghị|kiến nghị|đề xuất)\s+")
_PUNCT = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


@dataclass
class Group:
    """One point of a list: its text (the first unit's words), the units that wrote it, and, for
    recommendations, whom the report asks to act on it."""

    text: str
    units: list[str] = field(default_factory=list)  # unit names
    addressee: str = ""
    unit_codes: list[str] = field(default_factory=list)


# Thousands of units write a few texts: each one's key is worked out once per process.
@functools.lru_cache(maxsize=8192)
def _key(text: str) -> str:
    folded = unicodedata.normalize("NFC", text).casefold().strip()
    folded = _SPACE.sub(" ", _PUNCT.sub(" ", folded)).strip()
    return _LEAD.sub("", folded)


def _tidy(text: str) -> str:
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip().rstrip(".;,")
    return text[:1].upper() + text[1:]


def group_entries(entries: Sequence[ListEntry], addressee: Callable[[str], str] | None = None) -> list[Group]:
    """The entries as groups (see the module's docstring); `addressee` (e.g.
    `config.report.recommendations.addressee`) names whom each group asks to act."""
    by_key: dict[str, Group] = {}
    # Each group's unit codes as a set beside its list: a country's thousands of units writing
    # the same words made `code in group.unit_codes` quadratic.
    members: dict[str, set[str]] = {}
    order: list[str] = []
    for entry in entries:
        key = _key(entry.text)
        if not key:
            continue
        group = by_key.get(key)
        if group is None:
            group = by_key[key] = Group(text=_tidy(entry.text))
            members[key] = set()
            order.append(key)
        seen = members[key]
        if entry.unit_code not in seen:
            seen.add(entry.unit_code)
            group.unit_codes.append(entry.unit_code)
            group.units.append(entry.unit_name)
    keys = _merge_similar(order, by_key, members) if len(order) <= FUZZY_LIMIT else order
    groups = [by_key[k] for k in keys]
    if addressee is not None:
        for g in groups:
            g.addressee = addressee(g.text)
    position = {id(g): i for i, g in enumerate(groups)}
    return sorted(groups, key=lambda g: (-len(g.units), position[id(g)]))


def _merge_similar(order: list[str], by_key: dict[str, Group], members: dict[str, set[str]]) -> list[str]:
    """The keys left once each nearly-same text's units join the first group like it."""
    kept: list[str] = []
    for key in order:
        matcher = difflib.SequenceMatcher(None, b=key, autojunk=False)
        into = None
        for other in kept:
            matcher.set_seq1(other)
            if (
                matcher.real_quick_ratio() >= SIMILAR
                and matcher.quick_ratio() >= SIMILAR
                and matcher.ratio() >= SIMILAR
            ):
                into = other
                break
        if into is None:
            kept.append(key)
            continue
        target, source, seen = by_key[into], by_key[key], members[into]
        for code, name in zip(source.unit_codes, source.units, strict=True):
            if code not in seen:
                seen.add(code)
                target.unit_codes.append(code)
                target.units.append(name)
    return kept
