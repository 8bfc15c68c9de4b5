"""The small language of a rule's sides in `report.yaml`: sums of figures times numbers.

    A.NCC.KC_XM                       one figure
    A.TONG.HT_XM * support_new + A.TONG.HT_SC * support_repair
    B.NSTW.GIAI_NGAN + B.NSDP.GIAI_NGAN
    last.A.NCC.CAN_XM                 the unit's last accepted figure (an earlier period)
    {key}                             each figure a rule's `for_each` selects

A side is a linear expression: terms joined by `+` or `-`, each term a product of
numbers (`60`, `1.5`), named constants (lower case, from `constants:`) and at most one
figure reference (upper-case codes joined by dots). Pure parsing, no pandas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<ref>(?:last\.)?[A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+){0,2})"
    r"|(?P<name>[a-z][a-z0-9_]*)|(?P<op>[-+*]))"
)
LAST_PREFIX = "last."


class ExpressionError(ValueError):
    """A side of a rule cannot be read; the message is Vietnamese, for the admin."""


@dataclass(frozen=True)
class Ref:
    key: str  # a figure key: `A.NCC.KC_XM`, `A.TONG.HT_XM`, `NGAY_CONG`
    last: bool = False  # the unit's last accepted value, from an earlier period


@dataclass(frozen=True)
class Term:
    coefficient: float
    ref: Ref | None  # None: a constant term


@dataclass(frozen=True)
class Expression:
    text: str
    terms: tuple[Term, ...]

    @property
    def refs(self) -> list[Ref]:
        return [t.ref for t in self.terms if t.ref is not None]

    @property
    def uses_last(self) -> bool:
        return any(r.last for r in self.refs)

    @property
    def single(self) -> Ref | None:
        """The figure when the side is just one figure (coefficient 1), else None."""
        if len(self.terms) == 1 and self.terms[0].ref is not None and self.terms[0].coefficient == 1:
            return self.terms[0].ref
        return None


def parse_expression(text: str, constants: dict[str, float]) -> Expression:
    """Parse one side of a rule; raises ExpressionError saying what is wrong."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    source = str(text).strip()
    if not source:
        raise ExpressionError("biểu thức rỗng")
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"không hiểu được «{source[pos : pos + 20].strip()}» trong «{source}»")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(source) and source[pos].isspace():
            pos += 1
    terms: list[Term] = []
    sign = 1.0
    i = 0
    expect_factor = True
    coefficient, ref = 1.0, None
    while i < len(tokens):
        kind, value = tokens[i]
        if expect_factor:
            if kind == "op" and value in "+-" and not terms and coefficient == 1.0 and ref is None:
                sign = -1.0 if value == "-" else 1.0
                i += 1
                continue
            if kind == "number":
                coefficient *= float(value)
            elif kind == "name":
                if value not in constants:
                    known = ", ".join(sorted(constants)) or "(chưa có hằng số nào)"
                    raise ExpressionError(f"hằng số '{value}' chưa khai báo trong constants; đã có: {known}")
                coefficient *= float(constants[value])
            elif kind == "ref":
                if ref is not None:
                    raise ExpressionError(f"không được nhân hai chỉ tiêu với nhau trong «{source}»")
                last = value.startswith(LAST_PREFIX)
                ref = Ref(value[len(LAST_PREFIX) :] if last else value, last)
            else:
                raise ExpressionError(f"thiếu số hoặc mã chỉ tiêu trước «{value}» trong «{source}»")
            expect_factor = False
        else:
            if kind != "op":
                raise ExpressionError(f"thiếu phép tính (+, -, *) trước «{value}» trong «{source}»")
            if value == "*":
                expect_factor = True
            else:
                terms.append(Term(sign * coefficient, ref))
                sign, coefficient, ref = (-1.0 if value == "-" else 1.0), 1.0, None
                expect_factor = True
        i += 1
    if expect_factor:
        raise ExpressionError(f"biểu thức «{source}» kết thúc bằng một phép tính")
    terms.append(Term(sign * coefficient, ref))
    return Expression(source, tuple(terms))
