"""Reference interpreter of the rule expression language: the oracle the engine is tested against.

``evaluate(expr, facts)`` decides in plain Python whether a condition holds for one fact.
It implements the semantics of docs/rule-language.md exactly as the durable_rules
compilation in :mod:`mutasi_rules.rules.engine` does, but independently of it, so the two can
be compared (tests/test_engine_differential.py) and so explanations can ask "what if"
without running the engine.

Semantics, in short:

* ``not`` is pushed down to the comparisons before anything is evaluated (De Morgan;
  ``not (a < b)`` is ``a >= b``; ``not (x in xs)`` is ``x not in xs``; ``not exists(p)``
  is "p is missing"). Here that is done on the fly with a *polarity* flag.
* A comparison or membership test that reads a missing value (``None``, or a path that is
  not there) is false, whatever its polarity: so ``a < b`` and ``not (a < b)`` are both
  false when ``a`` is missing. ``empty(xs)`` and ``not empty(xs)`` are both false when
  ``xs`` is missing. ``exists(p)`` is the one test that looks at missingness itself.
* A boolean field used as a condition is ``field == true`` (negated: ``field == false``).
* Dates are day ordinals (``date - date`` is a number of days, ``date + n`` a date);
  ordinal enumerations (rank, education level, predikat) compare by their 1-based rank;
  a string literal compared with an ordinal is read as a value of that ordinal.
* ``cond == true`` / ``cond != false`` mean ``cond``; ``cond == false`` / ``cond != true``
  mean ``not cond`` (for a condition that is not a plain boolean field).

Facts may be pydantic fact models (typed values: ``date``, enum members) or dicts. A dict
in display form (ISO dates, enum labels, what ``model_dump(mode="json")`` gives) needs the
scope's :class:`~mutasi_rules.data.facts.FactSchema` so that dates and ordinals are recognised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import Any

from pydantic import BaseModel

from mutasi_rules.data.facts import FactSchema, FieldType, read_path
from mutasi_rules.data.models import OrderedEnum
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
)

NEGATED_OP: dict[str, str] = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_CONDITIONS = (Compare, BoolOp, Not, Membership, Call)


class _Missing:
    """A value that is not there; any comparison reading it is false."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class _Operand:
    """A value ready to compare: numbers, day ordinals, ranks, text, booleans, lists of text.

    ``ordinal`` is the enumeration of a rank-like value, so a string literal on the other
    side of the comparison can be read as a value of the same enumeration.
    """

    __slots__ = ("ordinal", "value")

    def __init__(self, value: Any, ordinal: type[OrderedEnum] | None = None) -> None:
        self.value = value
        self.ordinal = ordinal


class EvaluationError(ValueError):
    """The expression or the fact cannot be evaluated (bad value, division by zero...)."""


class _Evaluator:
    def __init__(self, facts: BaseModel | Mapping[str, Any], schema: FactSchema | None) -> None:
        self.facts = facts
        self.schema = schema

    # ------------------------------------------------------------------ values

    def field(self, path: str) -> _Operand:
        raw = read_path(self.facts, path)
        spec = self.schema.get(path) if self.schema is not None else None
        if raw is None:
            return _Operand(MISSING)
        if isinstance(raw, OrderedEnum):
            return _Operand(raw.ordinal, type(raw))
        if isinstance(raw, Enum):
            return _Operand(raw.value)
        if isinstance(raw, dt.date):
            return _Operand(raw.toordinal())
        if isinstance(raw, (list, tuple)):
            return _Operand([item.value if isinstance(item, Enum) else item for item in raw])
        if isinstance(raw, str) and spec is not None:
            if spec.type is FieldType.DATE:
                try:
                    return _Operand(dt.date.fromisoformat(raw).toordinal())
                except ValueError as error:
                    raise EvaluationError(f"{path}: {raw!r} is not an ISO date ({error})") from None
            if spec.type is FieldType.ORDINAL and spec.enum is not None and issubclass(spec.enum, OrderedEnum):
                try:
                    member = spec.enum(raw)
                except ValueError:
                    allowed = ", ".join(str(m.value) for m in spec.enum)
                    raise EvaluationError(f"{path}: {raw!r} is not one of {allowed}") from None
                return _Operand(member.ordinal, spec.enum)
        return _Operand(raw)

    def value(self, node: Expr) -> _Operand:
        """The value of a non-boolean expression (field, literal, arithmetic)."""
        if isinstance(node, FieldRef):
            return self.field(node.path)
        if isinstance(node, Literal_):
            value = node.value
            if isinstance(value, dt.date):
                return _Operand(value.toordinal())
            return _Operand(value)
        if isinstance(node, ListLiteral):
            return _Operand([item.value for item in node.items])
        if isinstance(node, Negate):
            inner = self.value(node.operand)
            return inner if inner.value is MISSING else _Operand(-inner.value)
        if isinstance(node, Arith):
            left, right = self.value(node.left), self.value(node.right)
            if left.value is MISSING or right.value is MISSING:
                return _Operand(MISSING)
            a, b = left.value, right.value
            if node.op == "+":
                return _Operand(a + b)
            if node.op == "-":
                return _Operand(a - b)
            if node.op == "*":
                return _Operand(a * b)
            if b == 0:
                raise EvaluationError(f"division by zero at column {node.span.column}")
            return _Operand(a / b)
        raise EvaluationError(f"{type(node).__name__} is a condition, not a value")

    @staticmethod
    def _as_ordinal(operand: _Operand, enum: type[OrderedEnum]) -> Any:
        if isinstance(operand.value, str) and operand.ordinal is None:
            try:
                return enum(operand.value).ordinal
            except ValueError:
                raise EvaluationError(f"{operand.value!r} is not a value of {enum.__name__}") from None
        return operand.value

    # ------------------------------------------------------------------ conditions

    def truth(self, node: Expr, positive: bool) -> bool:
        """Whether ``node`` (``positive``) or ``not node`` (not ``positive``) holds."""
        if isinstance(node, BoolOp):
            conjunction = (node.op == "and") == positive  # not (a or b) == (not a) and (not b)
            results = (self.truth(operand, positive) for operand in node.operands)
            return all(results) if conjunction else any(results)
        if isinstance(node, Not):
            return self.truth(node.operand, not positive)
        if isinstance(node, Literal_):
            if not isinstance(node.value, bool):
                raise EvaluationError(f"literal {node.value!r} is not a condition")
            return node.value if positive else not node.value
        if isinstance(node, FieldRef):
            value = self.field(node.path).value
            if value is MISSING:
                return False
            if not isinstance(value, bool):
                raise EvaluationError(f"{node.path} is not a boolean field (value {value!r})")
            return value is positive
        if isinstance(node, Compare):
            return self.compare(node, positive)
        if isinstance(node, Membership):
            return self.membership(node, positive)
        if isinstance(node, Call):
            return self.call(node, positive)
        raise EvaluationError(f"{type(node).__name__} is a value, not a condition")

    def compare(self, node: Compare, positive: bool) -> bool:
        # A condition compared with a boolean literal is that condition or its negation.
        for cond, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(cond, _CONDITIONS) and isinstance(other, Literal_) and isinstance(other.value, bool):
                if node.op not in ("==", "!="):
                    raise EvaluationError(f"operator {node.op} between conditions")
                keeps = (node.op == "==") == other.value
                return self.truth(cond, positive if keeps else not positive)
        op = node.op if positive else NEGATED_OP[node.op]
        left, right = self.value(node.left), self.value(node.right)
        if left.value is MISSING or right.value is MISSING:
            return False
        enum = left.ordinal or right.ordinal
        a, b = left.value, right.value
        if enum is not None:
            a, b = self._as_ordinal(left, enum), self._as_ordinal(right, enum)
        if op == "==":
            return bool(a == b)
        if op == "!=":
            return bool(a != b)
        if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, list) or isinstance(b, list):
            raise EvaluationError(f"operator {op} does not order {a!r} and {b!r}")
        try:
            if op == "<":
                return bool(a < b)
            if op == "<=":
                return bool(a <= b)
            if op == ">":
                return bool(a > b)
            return bool(a >= b)
        except TypeError:
            raise EvaluationError(f"cannot compare {a!r} {op} {b!r}") from None

    def membership(self, node: Membership, positive: bool) -> bool:
        wanted_in = node.negated != positive  # True: "in"; False: "not in"
        item, container = self.value(node.item), self.value(node.container)
        if item.value is MISSING or container.value is MISSING:
            return False
        values = container.value
        if not isinstance(values, list):
            raise EvaluationError(f"right side of 'in' is not a list: {values!r}")
        if item.ordinal is not None:
            found = any(self._as_ordinal(_Operand(v), item.ordinal) == item.value for v in values)
        else:
            found = item.value in values
        return found if wanted_in else not found

    def call(self, node: Call, positive: bool) -> bool:
        if len(node.args) != 1 or not isinstance(node.args[0], FieldRef):
            raise EvaluationError(f"{node.name}() takes one field path")
        value = self.field(node.args[0].path).value
        if node.name == "exists":
            present = value is not MISSING
            return present if positive else not present
        if node.name == "empty":
            if value is MISSING:
                return False
            if not isinstance(value, list):
                raise EvaluationError(f"empty() of a non-list value {value!r}")
            return (len(value) == 0) if positive else (len(value) > 0)
        raise EvaluationError(f"unknown function {node.name}()")


def evaluate(expr: Expr, facts: BaseModel | Mapping[str, Any], schema: FactSchema | None = None) -> bool:
    """Whether the condition ``expr`` holds for one fact.

    ``facts``: a fact model, or a dict (typed values, or display form together with the
    scope's ``schema``). Raises :class:`EvaluationError` on an expression or value that the
    language cannot evaluate (the checker rejects such expressions at load time).
    """
    return _Evaluator(facts, schema).truth(expr, True)


def value_of(expr: Expr, facts: BaseModel | Mapping[str, Any], schema: FactSchema | None = None) -> Any:
    """The value of a non-boolean expression (``None`` when it reads a missing value).

    Dates come back as day ordinals and ordinals as ranks, as the conditions see them.
    """
    result = _Evaluator(facts, schema).value(expr).value
    return None if result is MISSING else result


__all__ = ["MISSING", "NEGATED_OP", "EvaluationError", "evaluate", "value_of"]
