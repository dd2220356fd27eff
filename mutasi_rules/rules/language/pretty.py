"""Print a syntax tree back as expression text, with only the parentheses it needs.

``parse(pretty(expr))`` gives ``expr`` back (spans aside), so explanations can quote a
normalised condition, and property tests can check the parser against the printer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TypeGuard

from mutasi_rules.rules.language.ast import (
    Arith,
    BoolOp,
    Call,
    Compare,
    Expr,
    FieldRef,
    ListLiteral,
    Literal_,
    LiteralValue,
    Membership,
    Negate,
    Not,
    Span,
)

# Binding strength, loosest first (docs/rule-language.md).
_OR, _AND, _NOT, _COMPARE, _ADD, _MUL, _UNARY, _ATOM = range(1, 9)


def _precedence(expr: Expr) -> int:
    if isinstance(expr, BoolOp):
        return _OR if expr.op == "or" else _AND
    if isinstance(expr, Not):
        return _NOT
    if isinstance(expr, (Compare, Membership)):
        return _COMPARE
    if isinstance(expr, Arith):
        return _ADD if expr.op in ("+", "-") else _MUL
    if isinstance(expr, Negate):
        return _UNARY
    if isinstance(expr, Literal_) and _is_number(expr.value) and expr.value < 0:
        return _UNARY  # prints as "-2"
    return _ATOM


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def pretty_literal(value: LiteralValue) -> str:
    """A literal as the parser reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return f'date("{value.isoformat()}")'
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _wrap(expr: Expr, needs: bool) -> str:
    text = pretty(expr)
    return f"({text})" if needs else text


def pretty(expr: Expr) -> str:
    """The expression as text (double-quoted strings, minimal parentheses)."""
    if isinstance(expr, Literal_):
        return pretty_literal(expr.value)
    if isinstance(expr, ListLiteral):
        return "[" + ", ".join(pretty_literal(item.value) for item in expr.items) + "]"
    if isinstance(expr, FieldRef):
        return expr.path
    if isinstance(expr, Call):
        return f"{expr.name}(" + ", ".join(pretty(a) for a in expr.args) + ")"
    if isinstance(expr, Negate):
        operand = expr.operand
        # "--x" and "-2" would read back differently: parenthesise literals and negations.
        needs = _precedence(operand) < _UNARY or isinstance(operand, (Negate, Literal_))
        return "-" + _wrap(operand, needs)
    if isinstance(expr, Arith):
        own = _precedence(expr)
        left = _wrap(expr.left, _precedence(expr.left) < own)
        right = _wrap(expr.right, _precedence(expr.right) <= own)
        return f"{left} {expr.op} {right}"
    if isinstance(expr, Compare):
        left = _wrap(expr.left, _precedence(expr.left) <= _COMPARE)
        right = _wrap(expr.right, _precedence(expr.right) <= _COMPARE)
        return f"{left} {expr.op} {right}"
    if isinstance(expr, Membership):
        item = _wrap(expr.item, _precedence(expr.item) <= _COMPARE)
        container = _wrap(expr.container, _precedence(expr.container) <= _COMPARE)
        return f"{item} {'not in' if expr.negated else 'in'} {container}"
    if isinstance(expr, Not):
        return "not " + _wrap(expr.operand, _precedence(expr.operand) < _NOT)
    if isinstance(expr, BoolOp):
        own = _precedence(expr)
        return f" {expr.op} ".join(_wrap(o, _precedence(o) <= own) for o in expr.operands)
    raise TypeError(f"not an expression node: {type(expr).__name__}")


_NO_SPAN = Span(0, 0, 0, 0)


def without_spans(expr: Expr) -> Expr:
    """The same tree with every span zeroed: compares structure only."""
    changes: dict[str, object] = {"span": _NO_SPAN}
    for item in dataclasses.fields(expr):
        value = getattr(expr, item.name)
        if item.name == "span":
            continue
        if isinstance(value, tuple):
            changes[item.name] = tuple(without_spans(v) for v in value)
        elif dataclasses.is_dataclass(value):
            changes[item.name] = without_spans(value)  # type: ignore[arg-type]
    return dataclasses.replace(expr, **changes)  # type: ignore[arg-type]


__all__ = ["pretty", "pretty_literal", "without_spans"]
