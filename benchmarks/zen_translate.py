"""Translate rule conditions to the ZEN expression language (GoRules zen-engine), for the peer benchmark.

The translation keeps the rule language's semantics (docs/rule-language.md): ``not`` is
pushed down to the comparisons (De Morgan), and every comparison or membership test that
reads a missing value is false whatever its polarity, so each atom is guarded with
``<path> != null`` (ZEN raises on comparing null; ``and`` short-circuits). Values are
given to ZEN in the engine's encoding: dates as day ordinals, ordinals (rank, education,
predikat) as their 1-based rank, enums as text, lists of text.

A rule set's applicability (``applies_to`` units: the target position's unit path;
position kinds: the target position's kind) and the override guards are translated the
way :mod:`mutasi_rules.rules.engine` compiles them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from mutasi_rules.data.facts import FactSchema, FieldType
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
    field_paths,
)
from mutasi_rules.rules.language.interpreter import NEGATED_OP
from mutasi_rules.rules.rulesets import LoadedRuleSet, RuleSet

_CONDITIONS = (Compare, BoolOp, Not, Membership, Call)
UNIT_PATH = "candidate.position.unit_path"
KIND_PATH = "candidate.position.kind"


class Untranslatable(ValueError):
    """An expression shape the translator does not handle."""


def _quote(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # double quotes, backslash escapes: ZEN's string syntax
    if isinstance(value, dt.date):
        return str(value.toordinal())
    return repr(value)


class _Translator:
    def __init__(self, schema: FactSchema) -> None:
        self.schema = schema

    def literal(self, value: Any, against: FieldRef | None) -> str:
        spec = self.schema.get(against.path) if against is not None else None
        if isinstance(value, str) and spec is not None and spec.type is FieldType.ORDINAL and spec.enum is not None:
            return str(spec.enum(value).ordinal)  # type: ignore[attr-defined]
        return _quote(value)

    def value(self, node: Expr, other: Expr | None = None) -> str:
        if isinstance(node, FieldRef):
            return node.path
        if isinstance(node, Literal_):
            return self.literal(node.value, other if isinstance(other, FieldRef) else None)
        if isinstance(node, Negate):
            return f"(-{self.value(node.operand)})"
        if isinstance(node, Arith):
            return f"({self.value(node.left)} {node.op} {self.value(node.right)})"
        raise Untranslatable(f"{type(node).__name__} is not a value")

    def condition(self, node: Expr, positive: bool = True) -> str:
        if isinstance(node, BoolOp):
            joiner = " and " if (node.op == "and") == positive else " or "
            return "(" + joiner.join(self.condition(o, positive) for o in node.operands) + ")"
        if isinstance(node, Not):
            return self.condition(node.operand, not positive)
        if isinstance(node, Literal_) and isinstance(node.value, bool):
            return "true" if node.value == positive else "false"
        if isinstance(node, FieldRef):
            return f"({node.path} == {'true' if positive else 'false'})"
        if isinstance(node, Compare):
            return self.compare(node, positive)
        if isinstance(node, Membership):
            return self.membership(node, node.negated != positive)
        if isinstance(node, Call):
            [arg] = node.args
            if not isinstance(arg, FieldRef):
                raise Untranslatable(f"{node.name}() of a non-path")
            if node.name == "exists":
                return f"({arg.path} {'!=' if positive else '=='} null)"
            return f"({arg.path} != null and len({arg.path}) {'==' if positive else '>'} 0)"
        raise Untranslatable(f"{type(node).__name__} is not a condition")

    def guarded(self, paths: Sequence[str], test: str) -> str:
        guards = [f"{p} != null" for p in dict.fromkeys(paths)]
        return "(" + " and ".join([*guards, test]) + ")"

    def compare(self, node: Compare, positive: bool) -> str:
        for cond, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(cond, _CONDITIONS) and isinstance(other, Literal_) and isinstance(other.value, bool):
                keeps = (node.op == "==") == other.value
                return self.condition(cond, positive if keeps else not positive)
        op = node.op if positive else NEGATED_OP[node.op]
        left = self.value(node.left, node.right)
        right = self.value(node.right, node.left)
        paths = [*field_paths(node.left), *field_paths(node.right)]
        return self.guarded(paths, f"{left} {op} {right}")

    def membership(self, node: Membership, wanted_in: bool) -> str:
        item, container = node.item, node.container
        if isinstance(container, ListLiteral):
            items = ", ".join(self.literal(i.value, item if isinstance(item, FieldRef) else None)
                              for i in container.items)
            test = f"{self.value(item)} in [{items}]"
        else:
            test = f"{self.value(item)} in {self.value(container)}"
        if not wanted_in:
            test = f"not ({test})"
        return self.guarded([*field_paths(item), *field_paths(container)], test)


def applies(ruleset: RuleSet, positive: bool) -> str:
    """Whether a rule set applies to the candidate pair (as engine._applies compiles it)."""
    units = list(dict.fromkeys(ruleset.applies_to.units))
    kinds = list(dict.fromkeys(k.value for k in ruleset.applies_to.position_kinds))
    unit_test = " or ".join(f"{_quote(u)} in {UNIT_PATH}" for u in units)
    kind_test = f"{KIND_PATH} in [{', '.join(_quote(k) for k in kinds)}]"
    if positive:
        parts = [f"({UNIT_PATH} != null and ({unit_test}))"] if units else []
        parts += [f"({KIND_PATH} != null and {kind_test})"] if kinds else []
        return "(" + " and ".join(parts) + ")" if parts else "true"
    parts = [f"({UNIT_PATH} != null and not ({unit_test}))"] if units else []
    parts += [f"({KIND_PATH} != null and not ({kind_test}))"] if kinds else []
    return "(" + " or ".join(parts) + ")" if parts else "false"


def translate_rules(active: Sequence[LoadedRuleSet], keys: Sequence[str], schema: FactSchema) -> dict[str, str]:
    """ZEN expression per rule key ``<ruleset>/<rule>`` (applicability and override guards included)."""
    translator = _Translator(schema)
    by_key = {f"{loaded.id}/{rule.id}": (loaded, rule) for loaded in active for rule in loaded.rules}
    replacers: dict[str, list[LoadedRuleSet]] = {}
    for loaded in active:
        for rule in loaded.rules:
            if rule.replaces:
                replacers.setdefault(rule.replaces, []).append(loaded)
    out: dict[str, str] = {}
    for key in keys:
        loaded, rule = by_key[key]
        expr = loaded.expressions.get(rule.id)
        if expr is None:
            from mutasi_rules.rules.language.parser import parse

            expr = parse(rule.when)
        parts = [applies(loaded.ruleset, True),
                 *(applies(other.ruleset, False) for other in replacers.get(key, [])),
                 translator.condition(expr)]
        out[key] = "(" + " and ".join(parts) + ")"
    return out


def translate(expr: Expr, schema: FactSchema) -> str:
    """One condition as a ZEN expression (no applicability)."""
    return _Translator(schema).condition(expr)


__all__ = ["Untranslatable", "applies", "translate", "translate_rules"]
