"""Pydantic's errors as the admin reads them: the key (`units[3].kind`) and the problem in Vietnamese.

Pydantic collects every error of a file; `first_problem` says the one the hand-written reader
met first, which it checked in the file's order: the items of a list in turn, and within a
mapping the unknown keys first, then the keys in the order of the model's `_order` (the order of
its checks, which may differ from the order of its fields). A check that names another key than
the one it validates (`problem(field=..., check=...)`) is ranked by its `check`.

Each error gets today's message: the config's own problems carry it (`checks.problem`); for
pydantic's own (a missing key, an unknown key, a value of a wrong type, a value not among a
`Literal`'s), the key's `Explain`/`Check`/`Says` metadata says what is wrong with that value
(a missing key as `None`), an unknown key lists the valid ones, and a value expected to be a
mapping says so. No English text of pydantic's reaches the admin: anything else is "giá trị
không hợp lệ".
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import ValidationError
from pydantic.dataclasses import is_pydantic_dataclass

from housing_report.config.checks import PROBLEM, Explain, Says, hashable, mapping_problem, show, unknown_key
from housing_report.config.template import input_keys

ROOT_KEY = "(gốc)"
ROOT_PROBLEM = "tệp phải là một bảng khóa: giá trị (mapping)"
UNKNOWN_KEY_ERRORS = {"unexpected_keyword_argument", "extra_forbidden", "invalid_key"}
_DICT_KEY = "[key]"  # pydantic's mark of an error in a dict's key rather than its value
_ABSENT = object()


def first_problem(error: ValidationError, root: type, raw: Any) -> tuple[str, str]:
    """The key and the problem of the error the file's reader meets first."""
    best: tuple[tuple[int, ...], str, str] | None = None
    for line in error.errors(include_url=False):
        rank, key, text = _read(line, root, raw)
        if best is None or rank < best[0]:
            best = (rank, key, text)
    assert best is not None  # a ValidationError has at least one error
    return best[1], best[2]


def _read(line: dict[str, Any], root: type, raw: Any) -> tuple[tuple[int, ...], str, str]:
    loc = tuple(line["loc"])
    kind = line["type"]
    check = None
    if kind == PROBLEM:
        ctx = line["ctx"]
        path = (loc[:-1] + (ctx["field"],) if ctx["field"] else loc) + tuple(ctx["suffix"])
        check = ctx["check"]
    elif kind == "invalid_key":
        path = loc[:-1] + (line["input"],)  # the key as written: None, 1, True
    else:
        path = loc
    walk = _Walk(root, raw, path, check, len(loc) - 1)
    if kind == PROBLEM:
        text = line["ctx"]["problem"]
    elif kind in UNKNOWN_KEY_ERRORS:
        text = unknown_key(input_keys(walk.parent))
    elif not path:
        text = ROOT_PROBLEM
    else:
        text = walk.explain(None if kind == "missing" else line.get("input"))
    return walk.rank, walk.key or ROOT_KEY, text


class _Walk:
    """Follows a path through the model's types and the file's data: its key and rank."""

    def __init__(self, root: type, raw: Any, path: tuple[Any, ...], check: str | None, check_from: int):
        self.tp: Any = root
        self.metadata: tuple[Any, ...] = ()
        self.parent: Any = root  # the model of the last mapping passed
        node = raw
        key = ""
        rank: list[int] = []
        for i, elem in enumerate(path):
            tp = _strip(self.tp)
            if is_pydantic_dataclass(tp):
                fields = tp.__pydantic_fields__
                order = getattr(tp, "_order", tuple(fields))
                name = check if check is not None and i >= check_from else elem
                if i >= check_from:
                    check = None
                known = name in order
                rank += [order.index(name) if known else -1, 0 if known else _position(node, elem)]
                key += f".{elem}" if key else str(elem)
                self.parent = tp
                info = fields.get(elem) if isinstance(elem, str) else None
                self.tp, self.metadata = (info.annotation, tuple(info.metadata)) if info else (Any, ())
            elif typing.get_origin(tp) is dict:
                key_type, value_type = typing.get_args(tp)
                in_key = i + 1 < len(path) and path[i + 1] == _DICT_KEY
                rank += [_position(node, elem), -2 if in_key else 0]
                key += f".{elem}" if key else str(elem)
                self.tp, self.metadata = _split(key_type if in_key else value_type)
            elif elem == _DICT_KEY:
                continue
            elif typing.get_origin(tp) in (tuple, list) and isinstance(elem, int):
                rank.append(elem)
                key += f"[{elem}]"
                self.tp, self.metadata = _split(typing.get_args(tp)[0])
            else:  # not a path of the model (a defensive case): keep the key
                rank.append(0)
                key += f".{elem}" if key else str(elem)
                self.tp, self.metadata = Any, ()
            node = _child(node, elem)
        self.key = key
        self.rank = tuple(rank) + (0,)

    def explain(self, value: Any) -> str:
        for meta in self.metadata:
            if isinstance(meta, (Explain, Says)):
                text = meta.explain(value)
                if text:
                    return text
        if is_pydantic_dataclass(_strip(self.tp)):
            return mapping_problem(value)
        return f"giá trị không hợp lệ: {show(value)}"


def _split(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """A type and its `Annotated` metadata."""
    if typing.get_origin(tp) is typing.Annotated:
        base, *metadata = typing.get_args(tp)
        return base, tuple(metadata)
    return tp, ()


def _strip(tp: Any) -> Any:
    """The type without `Annotated` and without `| None`."""
    tp = _split(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) == 1:
            return _strip(options[0])
    return tp


def _child(node: Any, elem: Any) -> Any:
    if isinstance(node, dict):
        return node.get(elem, _ABSENT) if hashable(elem) else _ABSENT
    if isinstance(node, list) and isinstance(elem, int) and 0 <= elem < len(node):
        return node[elem]
    return _ABSENT


def _position(node: Any, elem: Any) -> int:
    """Where a key is in the file's mapping (its unknown keys are named in that order)."""
    if isinstance(node, dict):
        for i, name in enumerate(node):
            if name == elem or str(name) == str(elem):
                return i
    return 0
