"""Type-check a parsed condition against the fact schema of its scope.

Every node gets a :class:`TypeInfo`; every problem is collected as an :class:`ExprProblem`
with the span of the offending sub-expression, so the loader can report
``file:line:column`` and the expression text. A node whose type cannot be known (an
unknown field, say) types as ``None`` and does not cause follow-on problems.

Besides types, the checker enforces what the engine can run: a comparison must read at
least one fact path (a constant condition is a mistake), and the caller may hand it the
rule backend's compile check (the rule-set loader hands it
:func:`mutasi_rules.rules.durable_compile.compile_problem`), so a rule the engine cannot run is
rejected when loaded rather than when run.
"""

from __future__ import annotations

import builtins
import datetime as dt
import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from mutasi_rules.data.facts import FactSchema, FieldSpec, FieldType
from mutasi_rules.rules.language.ast import (
    Arith,
    BoolOp,
    Call,
    Compare,
    Expr,
    FieldRef,
    ListLiteral,
    Literal_,
    Membership,
    Negate,
    Not,
    Span,
)

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class TypeInfo:
    """The type of one expression node.

    ``type`` is a :class:`FieldType`; ``enum`` is the allowed-value enumeration of an
    ordinal or enum-valued string; ``item`` is the item type of a list (``None`` for list
    fields of strings and for empty list literals); ``reads_fact`` tells whether the node
    contains a field path.
    """

    type: FieldType
    enum: builtins.type[Enum] | None = None
    nullable: bool = False
    reads_fact: bool = False
    item: FieldType | None = None

    def describe(self) -> str:
        if self.type is FieldType.ORDINAL and self.enum is not None:
            return f"ordinal {self.enum.__name__}"
        if self.type is FieldType.STRING and self.enum is not None:
            return f"enum {self.enum.__name__}"
        if self.type is FieldType.LIST and self.item is not None:
            return f"list of {self.item.value}"
        return self.type.value


@dataclass(frozen=True)
class ExprProblem:
    """One problem in an expression; ``span`` is inside the expression text."""

    code: str
    message: str
    span: Span
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.span.line}:{self.span.column}: {self.severity}: {self.message}"


def did_you_mean(word: str, candidates: Iterable[str], *, quote: str = "") -> str:
    """``"; did you mean X?"`` for the closest candidates, or an empty string."""
    pool = list(candidates)
    folded = [c for c in pool if c.casefold() == word.casefold()]
    matches = folded or difflib.get_close_matches(word, pool, n=3, cutoff=0.6)
    if not matches:
        return ""
    names = " or ".join(f"{quote}{m}{quote}" for m in matches)
    return f"; did you mean {names}?"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_ORDERED = (FieldType.NUMBER, FieldType.DATE, FieldType.ORDINAL)
_TEXTUAL = (FieldType.STRING, FieldType.ORDINAL)


class _Checker:
    def __init__(self, schema: FactSchema) -> None:
        self.schema = schema
        self.problems: list[ExprProblem] = []

    def problem(self, code: str, message: str, span: Span, severity: Severity = "error") -> None:
        self.problems.append(ExprProblem(code, message, span, severity))

    # -- nodes ---------------------------------------------------------------------------
    def visit(self, node: Expr) -> TypeInfo | None:
        method: Callable[[Expr], TypeInfo | None] = getattr(self, f"visit_{type(node).__name__}")
        return method(node)

    def visit_Literal_(self, node: Literal_) -> TypeInfo:
        value = node.value
        if isinstance(value, bool):
            return TypeInfo(FieldType.BOOL)
        if _is_number(value):
            return TypeInfo(FieldType.NUMBER)
        if isinstance(value, dt.date):
            return TypeInfo(FieldType.DATE)
        return TypeInfo(FieldType.STRING)

    def visit_ListLiteral(self, node: ListLiteral) -> TypeInfo | None:
        kinds = {self.visit_Literal_(item).type for item in node.items}
        if len(kinds) > 1:
            names = ", ".join(sorted(k.value for k in kinds))
            self.problem("rule.type_mismatch", f"a list literal must hold one kind of value, not {names}", node.span)
            return None
        item = kinds.pop() if kinds else None
        if item not in (None, FieldType.STRING, FieldType.NUMBER):
            self.problem(
                "rule.type_mismatch", f"a list literal may hold strings or numbers, not {item.value}", node.span
            )
            return None
        return TypeInfo(FieldType.LIST, item=item)

    def lookup(self, node: FieldRef) -> FieldSpec | None:
        spec = self.schema.get(node.path)
        if spec is not None:
            return spec
        paths = self.schema.paths()
        group = [p for p in paths if p.startswith(node.path + ".")]
        if group:
            sample = ", ".join(group[:3]) + (", ..." if len(group) > 3 else "")
            self.problem(
                "rule.unknown_field",
                f"{node.path!r} is a group of fields, not a value (for example {sample})",
                node.span,
            )
            return None
        if ".ext." in node.path:
            hint = did_you_mean(node.path, [p for p in paths if ".ext." in p])
            hint = hint or "; extension attributes must be declared by a plugin"
        else:
            hint = did_you_mean(node.path, paths)
        self.problem(
            "rule.unknown_field",
            f"unknown field {node.path!r} for scope {self.schema.scope}{hint}",
            node.span,
        )
        return None

    def visit_FieldRef(self, node: FieldRef) -> TypeInfo | None:
        spec = self.lookup(node)
        if spec is None:
            return None
        return TypeInfo(spec.type, spec.enum, spec.nullable, reads_fact=True)

    def visit_Negate(self, node: Negate) -> TypeInfo | None:
        operand = self.visit(node.operand)
        if operand is None:
            return None
        if operand.type is not FieldType.NUMBER:
            self.problem("rule.type_mismatch", f"unary '-' needs a number, not {operand.describe()}", node.span)
            return None
        return TypeInfo(FieldType.NUMBER, nullable=operand.nullable, reads_fact=operand.reads_fact)

    def visit_Arith(self, node: Arith) -> TypeInfo | None:
        left, right = self.visit(node.left), self.visit(node.right)
        if left is None or right is None:
            return None
        reads = left.reads_fact or right.reads_fact
        nullable = left.nullable or right.nullable
        kinds = (left.type, right.type)
        number, date = FieldType.NUMBER, FieldType.DATE
        result: FieldType | None = None
        if kinds == (number, number):
            result = number
        elif (node.op == "+" and kinds in ((date, number), (number, date))) or (
            node.op == "-" and kinds == (date, number)
        ):
            result = date
        elif node.op == "-" and kinds == (date, date):
            result = number  # days between
        if result is None:
            hint = ""
            if date in kinds:
                hint = " (dates allow date + number, date - number and date - date, in days)"
            self.problem(
                "rule.type_mismatch",
                f"cannot apply '{node.op}' to {left.describe()} and {right.describe()}{hint}",
                node.span,
            )
            return None
        if node.op == "/" and isinstance(node.right, Literal_) and node.right.value == 0:
            self.problem("rule.type_mismatch", "division by zero", node.right.span)
            return None
        return TypeInfo(result, nullable=nullable, reads_fact=reads)

    def check_value(self, literal: Expr, against: TypeInfo) -> bool:
        """A string literal that meets an enum/ordinal must be one of its values."""
        if not (isinstance(literal, Literal_) and isinstance(literal.value, str) and against.enum is not None):
            return True
        values = [str(m.value) for m in against.enum]
        if literal.value in values:
            return True
        kind = "ordinal" if against.type is FieldType.ORDINAL else "enum"
        hint = did_you_mean(literal.value, values, quote='"')
        allowed = "" if hint else f"; allowed: {', '.join(values)}"
        self.problem(
            "rule.unknown_value",
            f"unknown {kind} value {literal.value!r} for {against.enum.__name__}{hint}{allowed}",
            literal.span,
        )
        return False

    def comparable(self, node: Compare, left: TypeInfo, right: TypeInfo) -> bool:
        op = node.op
        lt, rt = left.type, right.type
        ordering = op not in ("==", "!=")
        if FieldType.LIST in (lt, rt):
            self.problem(
                "rule.type_mismatch",
                f"cannot compare a list with '{op}'; use 'in', 'not in' or empty(...)",
                node.span,
            )
            return False
        # An ordinal meets a string literal: the literal must be one of its values.
        if lt is FieldType.ORDINAL and rt is FieldType.STRING and isinstance(node.right, Literal_):
            return self.check_value(node.right, left)
        if rt is FieldType.ORDINAL and lt is FieldType.STRING and isinstance(node.left, Literal_):
            return self.check_value(node.left, right)
        if lt is FieldType.ORDINAL and rt is FieldType.ORDINAL:
            if left.enum is not right.enum:
                self.problem(
                    "rule.type_mismatch",
                    f"cannot compare {left.describe()} with {right.describe()}: they are different scales",
                    node.span,
                )
                return False
            return True
        if lt != rt:
            hint = ""
            if FieldType.DATE in (lt, rt) and FieldType.STRING in (lt, rt):
                hint = '; write a date as date("YYYY-MM-DD")'
            elif FieldType.NUMBER in (lt, rt) and FieldType.STRING in (lt, rt):
                hint = "; numbers are written without quotes"
            self.problem(
                "rule.type_mismatch",
                f"cannot compare {left.describe()} with {right.describe()} using '{op}'{hint}",
                node.span,
            )
            return False
        if ordering and lt not in _ORDERED:
            self.problem(
                "rule.type_mismatch",
                f"'{op}' needs ordered values (numbers, dates, ranks, education levels, predikat); "
                f"{left.describe()} can only be compared with == or !=",
                node.span,
            )
            return False
        if lt is FieldType.STRING:
            if left.enum is not None and right.enum is not None and left.enum is not right.enum:
                self.problem(
                    "rule.type_mismatch",
                    f"cannot compare {left.describe()} with {right.describe()}",
                    node.span,
                )
                return False
            ok = True
            if left.enum is not None:
                ok = self.check_value(node.right, left)
            if right.enum is not None:
                ok = self.check_value(node.left, right) and ok
            return ok
        return True

    def visit_Compare(self, node: Compare) -> TypeInfo | None:
        left, right = self.visit(node.left), self.visit(node.right)
        if left is None or right is None:
            return TypeInfo(FieldType.BOOL, reads_fact=True)  # already reported
        if not (left.reads_fact or right.reads_fact):
            self.problem(
                "rule.constant_condition",
                "constant condition: neither side of the comparison reads a fact",
                node.span,
            )
        self.comparable(node, left, right)
        return TypeInfo(FieldType.BOOL, reads_fact=True)

    def visit_Membership(self, node: Membership) -> TypeInfo | None:
        item, container = self.visit(node.item), self.visit(node.container)
        word = "not in" if node.negated else "in"
        if item is None or container is None:
            return TypeInfo(FieldType.BOOL, reads_fact=True)
        if not (item.reads_fact or container.reads_fact):
            self.problem(
                "rule.constant_condition",
                f"constant condition: neither side of '{word}' reads a fact",
                node.span,
            )
        if container.type is not FieldType.LIST:
            self.problem(
                "rule.type_mismatch",
                f"the right side of '{word}' must be a list field or a list literal, not {container.describe()}",
                node.container.span,
            )
            return TypeInfo(FieldType.BOOL, reads_fact=True)
        if item.type is FieldType.LIST:
            self.problem("rule.type_mismatch", f"the left side of '{word}' cannot be a list", node.item.span)
            return TypeInfo(FieldType.BOOL, reads_fact=True)
        wanted = container.item or FieldType.STRING  # list fields hold strings
        if isinstance(node.container, ListLiteral) and not node.container.items:
            self.problem(
                "rule.constant_condition", f"'{word} []' is always {'true' if node.negated else 'false'}",
                node.container.span, "warning",
            )
            return TypeInfo(FieldType.BOOL, reads_fact=True)
        if wanted is FieldType.STRING and item.type in _TEXTUAL:
            if isinstance(node.container, ListLiteral) and item.enum is not None:
                for literal in node.container.items:
                    self.check_value(literal, item)
            elif isinstance(node.container, FieldRef) and item.enum is None and isinstance(node.item, Literal_):
                pass  # free text against a list field of names (trainings, competencies...)
            return TypeInfo(FieldType.BOOL, reads_fact=True)
        if wanted is FieldType.NUMBER and item.type is FieldType.NUMBER:
            return TypeInfo(FieldType.BOOL, reads_fact=True)
        self.problem(
            "rule.type_mismatch",
            f"cannot test whether {item.describe()} is {word} a {container.describe()}",
            node.span,
        )
        return TypeInfo(FieldType.BOOL, reads_fact=True)

    def need_bool(self, node: Expr, info: TypeInfo | None, where: str) -> None:
        if info is not None and info.type is not FieldType.BOOL:
            self.problem(
                "rule.not_boolean",
                f"{where} must be a condition (true or false), not {info.describe()}",
                node.span,
            )

    def visit_Not(self, node: Not) -> TypeInfo:
        operand = self.visit(node.operand)
        self.need_bool(node.operand, operand, "the operand of 'not'")
        return TypeInfo(FieldType.BOOL, reads_fact=operand.reads_fact if operand else True)

    def visit_BoolOp(self, node: BoolOp) -> TypeInfo:
        reads = False
        for operand in node.operands:
            info = self.visit(operand)
            self.need_bool(operand, info, f"each operand of '{node.op}'")
            reads = reads or info is None or info.reads_fact
        return TypeInfo(FieldType.BOOL, reads_fact=reads)

    def visit_Call(self, node: Call) -> TypeInfo:
        if len(node.args) != 1 or not isinstance(node.args[0], FieldRef):
            self.problem("rule.bad_argument", f"{node.name}() takes exactly one field path", node.span)
            return TypeInfo(FieldType.BOOL, reads_fact=True)
        arg = node.args[0]
        spec = self.lookup(arg)
        if spec is None:
            return TypeInfo(FieldType.BOOL, reads_fact=True)
        if node.name == "empty" and spec.type is not FieldType.LIST:
            self.problem(
                "rule.type_mismatch",
                f"empty() needs a list field; {arg.path!r} is {spec.type_name}",
                arg.span,
            )
        elif node.name == "exists" and not spec.nullable:
            self.problem(
                "rule.constant_condition",
                f"{arg.path!r} always has a value, so exists() is always true",
                node.span,
                "warning",
            )
        return TypeInfo(FieldType.BOOL, reads_fact=True)


def check_path(node: FieldRef, schema: FactSchema) -> tuple[FieldSpec | None, list[ExprProblem]]:
    """Look one path up (message placeholders): its spec, or a problem with did-you-mean."""
    checker = _Checker(schema)
    return checker.lookup(node), checker.problems


def check(
    expr: Expr, schema: FactSchema, *, compile_check: Callable[[Expr], str | None] | None = None
) -> tuple[TypeInfo | None, list[ExprProblem]]:
    """Type ``expr`` against ``schema``; the condition must be boolean and read a fact.

    Returns the type of the whole expression (``None`` if unknown) and every problem.
    ``compile_check``: the rule backend's check (:class:`mutasi_rules.rules.backend.RuleBackend`),
    asked when the expression is otherwise sound whether the backend can compile it.
    """
    checker = _Checker(schema)
    info = checker.visit(expr)
    if info is not None and info.type is not FieldType.BOOL:
        checker.problem(
            "rule.not_boolean",
            f"a condition must be true or false, but this expression is {info.describe()}",
            expr.span,
        )
    elif info is not None and not info.reads_fact and not any(
        p.code == "rule.constant_condition" for p in checker.problems
    ):
        checker.problem("rule.constant_condition", "constant condition: the expression reads no fact", expr.span)
    if compile_check is not None and not any(p.severity == "error" for p in checker.problems):
        reason = compile_check(expr)
        if reason:
            checker.problem("rule.not_compilable", f"the rule engine cannot evaluate this: {reason}", expr.span)
    return info, checker.problems


__all__ = ["ExprProblem", "TypeInfo", "check", "check_path", "did_you_mean"]
