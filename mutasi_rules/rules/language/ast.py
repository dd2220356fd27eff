"""Syntax tree of the rule expression language (see docs/rule-language.md).

The parser produces these nodes; the checker types them against a fact schema; the
engine adapter compiles them to durable_rules JSON; the reference interpreter and the
vectorised screen evaluate them directly. Nodes are immutable and carry their source
span so every problem can be reported as file:line:column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Span:
    """Position in the expression text: 0-based offsets, 1-based line/column."""

    start: int
    end: int
    line: int = 1
    column: int = 1


CompareOp = Literal["<", "<=", ">", ">=", "==", "!="]
ArithOp = Literal["+", "-", "*", "/"]
BoolOpName = Literal["and", "or"]
FunctionName = Literal["exists", "empty"]

LiteralValue = int | float | str | bool | dt.date


@dataclass(frozen=True)
class Literal_:
    """A number, string, boolean, or date (written ``date("2027-01-01")``)."""

    value: LiteralValue
    span: Span


@dataclass(frozen=True)
class ListLiteral:
    items: tuple[Literal_, ...]
    span: Span


@dataclass(frozen=True)
class FieldRef:
    """A dotted path into the facts, e.g. ``candidate.employee.rank``."""

    path: str
    span: Span


@dataclass(frozen=True)
class Not:
    operand: Expr
    span: Span


@dataclass(frozen=True)
class Negate:
    """Unary minus."""

    operand: Expr
    span: Span


@dataclass(frozen=True)
class Arith:
    op: ArithOp
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Compare:
    op: CompareOp
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Membership:
    """``item in container`` / ``item not in container`` (container: list field or list literal)."""

    item: Expr
    container: Expr
    negated: bool
    span: Span


@dataclass(frozen=True)
class BoolOp:
    op: BoolOpName
    operands: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Call:
    """One of the whitelisted functions: ``exists(path)`` (value is not null), ``empty(list)``."""

    name: FunctionName
    args: tuple[Expr, ...]
    span: Span


Expr = Literal_ | ListLiteral | FieldRef | Not | Negate | Arith | Compare | Membership | BoolOp | Call


def field_paths(expr: Expr) -> list[str]:
    """Every fact path an expression reads, sorted and without repeats."""
    found: set[str] = set()

    def visit(node: Expr) -> None:
        if isinstance(node, FieldRef):
            found.add(node.path)
        elif isinstance(node, (Not, Negate)):
            visit(node.operand)
        elif isinstance(node, (Arith, Compare)):
            visit(node.left)
            visit(node.right)
        elif isinstance(node, Membership):
            visit(node.item)
            visit(node.container)
        elif isinstance(node, BoolOp):
            for operand in node.operands:
                visit(operand)
        elif isinstance(node, Call):
            for arg in node.args:
                visit(arg)

    visit(expr)
    return sorted(found)
