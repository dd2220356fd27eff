"""The durable backend's compiled form: rule conditions and rule sets as durable_rules JSON.

Pure translation (no ``durable`` import): :mod:`mutasi_rules.rules.engine` registers what this
module produces with durable_rules, the rule checker asks :func:`compile_problem` at load time
whether a condition compiles, and the vectorised pre-screen (:mod:`mutasi_rules.rules.screen`) reads
the compiled JSON. How each measured failure mode of durable_rules 2.0.28 shapes the output
is described in :mod:`mutasi_rules.rules.engine` and docs/engine.md.
"""


from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from mutasi_rules.data.facts import (
    SCOPES,
    ExtensionAttribute,
    FactSchema,
    FieldSpec,
    FieldType,
    Scope,
    fact_schema,
)
from mutasi_rules.rules import rulesets
from mutasi_rules.rules.backend import EngineError
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
from mutasi_rules.rules.rulesets import (
    LoadedRuleSet,
    Rule,
    message_paths,
)

# Appended to every list sent to durable: ``$iall`` never matches an empty array, so
# ``x not in []`` would be false. No rule literal may equal it (compile_problem says so).
LIST_SENTINEL = "$mutasi-rules:end-of-list$"
# durable_rules segfaults on a message with 255 properties or more, counting nested object
# keys and the t/id/sid keys (measured: 254 works, 255 crashes). Keep a margin.
MAX_MESSAGE_PROPERTIES = 250
DEFAULT_BATCH_SIZE = 1000
# durable evaluates a message with a stack of at most 64 pending alpha nodes (measured:
# 64 rules whose first condition holds work, 65 fail the batch with error 303). Rules are
# arranged in a tree of guard nodes so the stack stays far below that (_group_guards).
GROUP_WIDTH = 16
UNGROUPED_WIDTH = 40
MAX_RULE_ALTERNATIVES = 16
_MESSAGE_CACHE_SIZE = 50_000
CATCH_ALL = "~catch-all"
RESERVED_KEYS = frozenset({"t", "id", "sid", "$s"})

# Paths that carry a subject's place in the organisation, per scope (applies_to).
UNIT_PATH: dict[Scope, str] = {
    "employee": "employee.unit_path",
    "position": "position.unit_path",
    "unit": "unit.unit_path",
    "candidate": "candidate.position.unit_path",  # the target position
}
KIND_PATH: dict[Scope, str | None] = {
    "employee": "employee.position_kind",
    "position": "position.kind",
    "unit": None,  # a unit has no position kind: applies_to.position_kinds is ignored
    "candidate": "candidate.position.kind",
}


class CompileError(ValueError):
    """An expression that cannot be compiled to durable_rules; the message says why."""


# --------------------------------------------------------------------------- conditions

Cond = dict[str, Any] | bool  # a durable condition, or a constant

_DURABLE_OP = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
_NEGATED_OP = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_SWAPPED_OP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_CONDITION_NODES = (Compare, BoolOp, Not, Membership, Call)


def _join(conds: Iterable[Cond], op: str, absorbing: bool) -> Cond:
    """``op`` ("$and"/"$or") of ``conds``, flattened; the neutral constant drops out, the absorbing one wins."""
    parts: list[dict[str, Any]] = []
    for cond in conds:
        if cond is absorbing:
            return absorbing
        if cond is (not absorbing):
            continue
        assert isinstance(cond, dict)
        parts.extend(cond[op] if set(cond) == {op} else [cond])
    if not parts:
        return not absorbing
    return parts[0] if len(parts) == 1 else {op: parts}


def _all(conds: Iterable[Cond]) -> Cond:
    """Conjunction, flattened and simplified (True drops out, False wins)."""
    return _join(conds, "$and", absorbing=False)


def _any(conds: Iterable[Cond]) -> Cond:
    """Disjunction, flattened and simplified (False drops out, True wins)."""
    return _join(conds, "$or", absorbing=True)


def _exists(path: str) -> dict[str, Any]:
    return {"$ex": {path: 1}}


def _relation(op: str, path: str, rvalue: Any) -> dict[str, Any]:
    return {path: rvalue} if op == "==" else {_DURABLE_OP[op]: {path: rvalue}}


def _number(value: Fraction) -> int | float:
    """A rearranged constant as the engine takes it; one no float can hold is a :class:`CompileError`.

    ``age * 1e-320 > 1`` rearranges to ``age > 1e320``: refused with a reason, not an OverflowError.
    """
    if value.denominator == 1 and abs(value.numerator) < _MAX_EXACT:
        return int(value)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise CompileError(f"a constant of the rearranged comparison ({_magnitude(value)}) is too large for the "
                           "rule engine (a coefficient near zero?): use coefficients and limits of a plausible size")
    return number


#: Integers from here on go to the engine as floats (which may overflow: refused above).
_MAX_EXACT = 2**63


def _magnitude(value: Fraction) -> str:
    """About 10^n, without building a float that would overflow."""
    digits = len(str(abs(value.numerator))) - len(str(value.denominator))
    return f"about 1e{digits}"


class _Compiler:
    """Expression -> durable condition. With ``schema=None`` only the shape is checked."""

    def __init__(self, schema: FactSchema | None) -> None:
        self.schema = schema

    # ------------------------------------------------------------------ types

    def spec(self, node: Expr) -> FieldSpec | None:
        if self.schema is None or not isinstance(node, FieldRef):
            return None
        spec = self.schema.get(node.path)
        if spec is None:
            raise CompileError(f"unknown field {node.path!r}")
        return spec

    def literal(self, value: Any, spec: FieldSpec | None, where: str) -> Any:
        """A literal encoded the way the field it is compared with is encoded."""
        if isinstance(value, str) and value == LIST_SENTINEL:
            raise CompileError(f"the text {LIST_SENTINEL!r} is reserved by the engine")
        if isinstance(value, dt.date):
            return value.toordinal()
        if spec is not None and (ordered := spec.ordered) is not None and isinstance(value, str):
            try:
                return ordered(value).ordinal
            except ValueError:
                raise CompileError(f"{value!r} is not a value of {ordered.__name__} ({where})") from None
        return value

    # ------------------------------------------------------------------ conditions

    def condition(self, node: Expr, positive: bool = True) -> Cond:
        """The durable condition for ``node`` (``positive``) or ``not node``; ``not`` pushed down."""
        if isinstance(node, BoolOp):
            parts = [self.condition(operand, positive) for operand in node.operands]
            return _all(parts) if (node.op == "and") == positive else _any(parts)
        if isinstance(node, Not):
            return self.condition(node.operand, not positive)
        if isinstance(node, Literal_):
            if not isinstance(node.value, bool):
                raise CompileError(f"the literal {node.value!r} is not a condition")
            return node.value == positive
        if isinstance(node, FieldRef):
            spec = self.spec(node)
            if spec is not None and spec.type is not FieldType.BOOL:
                raise CompileError(f"{node.path!r} is not a boolean field")
            return {node.path: positive}
        if isinstance(node, Compare):
            return self.compare(node, positive)
        if isinstance(node, Membership):
            return self.membership(node, node.negated != positive)
        if isinstance(node, Call):
            return self.call(node, positive)
        raise CompileError(f"{type(node).__name__} is a value, not a condition")

    def call(self, node: Call, positive: bool) -> Cond:
        if len(node.args) != 1 or not isinstance(node.args[0], FieldRef):
            raise CompileError(f"{node.name}() takes exactly one field path")
        path = node.args[0].path
        spec = self.spec(node.args[0])
        if node.name == "exists":
            return {"$ex" if positive else "$nex": {path: 1}}
        if node.name == "empty":
            if spec is not None and spec.type is not FieldType.LIST:
                raise CompileError(f"empty() needs a list field, {path!r} is {spec.type_name}")
            # Lists carry the sentinel: empty means every item is the sentinel.
            if positive:
                return {"$iall": {path: {"$i": LIST_SENTINEL}}}
            return {"$iany": {path: {"$neq": {"$i": LIST_SENTINEL}}}}
        raise CompileError(f"unknown function {node.name}()")

    def compare(self, node: Compare, positive: bool) -> Cond:
        for cond, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(cond, _CONDITION_NODES) and isinstance(other, Literal_) and isinstance(other.value, bool):
                if node.op not in ("==", "!="):
                    raise CompileError(f"operator {node.op} cannot compare conditions")
                keeps = (node.op == "==") == other.value
                return self.condition(cond, positive if keeps else not positive)
        if isinstance(node.left, _CONDITION_NODES) or isinstance(node.right, _CONDITION_NODES):
            raise CompileError("comparing two conditions is not supported; combine them with and / or / not")
        op = node.op if positive else _NEGATED_OP[node.op]
        left, right = node.left, node.right
        if isinstance(left, ListLiteral) or isinstance(right, ListLiteral):
            raise CompileError("a list can only be the right side of 'in' / 'not in'")
        if isinstance(left, Literal_) and isinstance(right, FieldRef):
            left, right, op = right, left, _SWAPPED_OP[op]
        if isinstance(left, FieldRef) and isinstance(right, (FieldRef, Literal_)):
            return self.simple(op, left, right)
        if isinstance(left, Literal_) and isinstance(right, Literal_):
            raise CompileError("the comparison has no fact path on either side")
        return self.arithmetic(op, left, right)

    def simple(self, op: str, left: FieldRef, right: FieldRef | Literal_) -> Cond:
        """``field op literal`` or ``field op field``."""
        spec = self.spec(left)
        for side in (left, right):
            side_spec = self.spec(side)
            if side_spec is not None and side_spec.type is FieldType.LIST:
                raise CompileError(f"{side_spec.path!r} is a list; use 'in' or empty()")
            if (op not in ("==", "!=") and side_spec is not None
                    and side_spec.type in (FieldType.STRING, FieldType.BOOL)):
                raise CompileError(f"operator {op} does not order {side_spec.type_name} values ({side_spec.path!r})")
        if isinstance(right, FieldRef):
            return _all([_exists(right.path), _relation(op, left.path, {"$m": right.path})])
        value = right.value
        if op not in ("==", "!=") and isinstance(value, (str, bool)):
            # Text orders only as a value of an ordinal field (without a schema: cannot tell).
            is_ordinal = spec is None or (spec.type is FieldType.ORDINAL and spec.enum is not None)
            if isinstance(value, bool) or not is_ordinal:
                raise CompileError(f"operator {op} does not order the value {value!r}")
        return _relation(op, left.path, self.literal(value, spec, f"compared with {left.path}"))

    # ------------------------------------------------------------------ arithmetic

    def linear(self, node: Expr) -> tuple[dict[str, Fraction], Fraction]:
        """``node`` as ``sum(coefficient * field) + constant``; non-linear shapes are refused."""
        if isinstance(node, FieldRef):
            spec = self.spec(node)
            if spec is not None and spec.type not in (FieldType.NUMBER, FieldType.DATE, FieldType.ORDINAL):
                raise CompileError(f"{node.path!r} ({spec.type_name}) cannot take part in arithmetic")
            return {node.path: Fraction(1)}, Fraction(0)
        if isinstance(node, Literal_):
            value = node.value
            if isinstance(value, dt.date):
                return {}, Fraction(value.toordinal())
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise CompileError(f"the literal {value!r} cannot take part in arithmetic")
            return {}, Fraction(value)
        if isinstance(node, Negate):
            terms, constant = self.linear(node.operand)
            return {p: -c for p, c in terms.items()}, -constant
        if isinstance(node, Arith):
            lterms, lconst = self.linear(node.left)
            rterms, rconst = self.linear(node.right)
            if node.op in ("+", "-"):
                sign = 1 if node.op == "+" else -1
                terms = dict(lterms)
                for path, coefficient in rterms.items():
                    terms[path] = terms.get(path, Fraction(0)) + sign * coefficient
                return terms, lconst + sign * rconst
            if node.op == "*":
                if lterms and rterms:
                    raise CompileError("a product of two fact values cannot be compiled (only linear arithmetic)")
                terms, factor, constant = (lterms, rconst, lconst) if lterms else (rterms, lconst, rconst)
                return {p: c * factor for p, c in terms.items()}, constant * factor
            if rterms:
                raise CompileError("division by a fact value cannot be compiled (only by a constant)")
            if rconst == 0:
                raise CompileError("division by zero")
            return {p: c / rconst for p, c in lterms.items()}, lconst / rconst
        raise CompileError(f"{type(node).__name__} cannot take part in arithmetic")

    def arithmetic(self, op: str, left: Expr, right: Expr) -> Cond:
        """Rearrange ``left op right`` so one side is a bare field: ``a - b > 2`` -> ``a > b + 2``."""
        lterms, lconst = self.linear(left)
        rterms, rconst = self.linear(right)
        order = list(dict.fromkeys([*lterms, *rterms]))  # first appearance, left to right
        # Every path the comparison reads must exist, even one whose terms cancel out
        # (`x < age + x`): a missing value makes the comparison false, as the language says.
        read = list(order)
        terms = {p: lterms.get(p, Fraction(0)) - rterms.get(p, Fraction(0)) for p in order}
        terms = {p: c for p, c in terms.items() if c != 0}
        constant = lconst - rconst
        if not terms:
            raise CompileError("the comparison has no fact path on either side once simplified")
        # sum(terms) + constant  op  0.  Pivot: a field with coefficient +-1 if there is one.
        pivot = next((p for p in terms if abs(terms[p]) == 1), next(iter(terms)))
        divisor = terms.pop(pivot)
        if divisor < 0:  # -d*f + rest op 0  <=>  d*f - rest op' 0 (op' flipped)
            op = _SWAPPED_OP[op]
            divisor = -divisor
            terms = {p: -c for p, c in terms.items()}
            constant = -constant
        # d*f + rest op 0  <=>  f op (-rest)/d
        numerator = [(p, -c) for p, c in terms.items()]
        offset = -constant
        cancelled = [_exists(path) for path in read if path != pivot and path not in terms]
        if not numerator:
            return _all([*cancelled, _relation(op, pivot, _number(offset / divisor))])
        expr: Any = None
        for path, coefficient in numerator:
            ref: Any = {"$m": path}
            if expr is None:
                expr = ref if coefficient == 1 else {"$mul": {"$l": ref, "$r": _number(coefficient)}}
                continue
            term = ref if abs(coefficient) == 1 else {"$mul": {"$l": ref, "$r": _number(abs(coefficient))}}
            expr = {"$add" if coefficient > 0 else "$sub": {"$l": expr, "$r": term}}
        if offset != 0:
            expr = {"$add" if offset > 0 else "$sub": {"$l": expr, "$r": _number(abs(offset))}}
        if divisor != 1:
            # A float divisor: durable's $div of two integers truncates.
            expr = {"$div": {"$l": expr, "$r": float(divisor)}}
        guards = [_exists(path) for path, _ in numerator]
        return _all([*cancelled, *guards, _relation(op, pivot, expr)])

    # ------------------------------------------------------------------ membership

    def membership(self, node: Membership, wanted_in: bool) -> Cond:
        item, container = node.item, node.container
        if isinstance(container, ListLiteral):
            if isinstance(item, Literal_):
                raise CompileError("membership of a literal in a literal list has no fact path")
            if not isinstance(item, FieldRef):
                raise CompileError("the left side of 'in' must be a field path or a literal")
            spec = self.spec(item)
            if spec is not None and spec.type is FieldType.LIST:
                raise CompileError(f"{item.path!r} is a list; a list cannot be in a list")
            values = [self.literal(lit.value, spec, f"in the list compared with {item.path}")
                      for lit in container.items]
            values = list(dict.fromkeys(values))
            if wanted_in:
                return _any({item.path: v} for v in values)
            if not values:
                return _exists(item.path)  # "x not in []": true whenever x has a value
            return _all({"$neq": {item.path: v}} for v in values)
        if not isinstance(container, FieldRef):
            raise CompileError("the right side of 'in' must be a list field or a list of literals")
        spec = self.spec(container)
        if spec is not None and spec.type is not FieldType.LIST:
            raise CompileError(f"{container.path!r} is not a list ({spec.type_name})")
        path = container.path
        if isinstance(item, Literal_):
            if not isinstance(item.value, str):
                raise CompileError(f"list fields hold text; {item.value!r} is not text")
            value = self.literal(item.value, None, f"in {path}")
            if wanted_in:
                return {"$iany": {path: {"$i": value}}}
            return {"$iall": {path: {"$neq": {"$i": value}}}}
        if isinstance(item, FieldRef):
            item_spec = self.spec(item)
            if item_spec is not None and item_spec.type is not FieldType.STRING:
                raise CompileError(f"list fields hold text; {item.path!r} is {item_spec.type_name}")
            ref = {"$m": item.path}
            if wanted_in:
                return _all([_exists(item.path), {"$iany": {path: {"$i": ref}}}])
            return _all([_exists(item.path), {"$iall": {path: {"$neq": {"$i": ref}}}}])
        raise CompileError("the left side of 'in' must be a field path or a literal")


def compile_condition(expr: Expr, schema: FactSchema | None = None) -> Cond:
    """The durable condition of an expression (without the scope guard); raises CompileError."""
    return _Compiler(schema).condition(expr)


def compile_problem(expr: Expr) -> str | None:
    """Why ``expr`` cannot be compiled to durable_rules, or ``None`` when it can.

    Shape only (no schema): comparisons with no fact path, non-linear arithmetic,
    comparisons of conditions, reserved literals, conditions that are constant once
    compiled. The type checker has already checked the types.
    """
    try:
        compiled = _Compiler(None).condition(expr)
    except CompileError as error:
        return str(error)
    if compiled is True:
        return "the condition is always true once compiled"
    if compiled is False:
        return "the condition can never be true once compiled (for example 'x in []')"
    width = _alternatives(compiled)
    if width > MAX_RULE_ALTERNATIVES:
        return (
            f"the condition expands to {width} or-alternatives (durable_rules evaluates each separately); "
            f"at most {MAX_RULE_ALTERNATIVES} are allowed: simplify nested and/or"
        )
    return None


# --------------------------------------------------------------------------- rule sets


@dataclass(frozen=True)
class CompiledRule:
    index: int
    key: str  # "<ruleset id>/<rule id>"
    loaded: LoadedRuleSet
    rule: Rule
    expr: Expr
    condition: dict[str, Any]  # guarded durable condition
    reads: tuple[tuple[str, tuple[str, ...]], ...]  # (path, parts) the `when` expression reads
    message_reads: tuple[tuple[str, tuple[str, ...]], ...]  # (path, parts) the message placeholders read
    training_reads: tuple[tuple[str, tuple[str, ...]], ...]  # (path, parts) the training template reads


def _expression(loaded: LoadedRuleSet, rule: Rule) -> Expr:
    expr = loaded.expressions.get(rule.id)
    if expr is None:
        from mutasi_rules.rules.language.parser import (
            parse,  # rule sets built by hand may carry only the text
        )

        expr = parse(rule.when)
    return expr


def _applies(ruleset: rulesets.RuleSet, scope: Scope, positive: bool) -> Cond:
    """Whether a rule set applies to the subject (or, not ``positive``, does not)."""
    units = list(dict.fromkeys(ruleset.applies_to.units))
    kind_path = KIND_PATH[scope]
    kinds = list(dict.fromkeys(k.value for k in ruleset.applies_to.position_kinds)) if kind_path else []
    unit_path = UNIT_PATH[scope]
    if positive:
        unit_cond: Cond = True
        if units:
            items = [{"$i": u} for u in units]
            unit_cond = {"$iany": {unit_path: items[0] if len(items) == 1 else {"$or": items}}}
        kind_cond = _any({kind_path: k} for k in kinds) if kinds and kind_path else True
        return _all([unit_cond, kind_cond])
    not_units: Cond = False
    if units:
        excluded: list[dict[str, Any]] = [{"$neq": {"$i": u}} for u in units]
        not_units = {"$iall": {unit_path: excluded[0] if len(excluded) == 1 else {"$and": excluded}}}
    not_kinds = _all({"$neq": {kind_path: k}} for k in kinds) if kinds and kind_path else False
    return _any([not_units, not_kinds])


def rulesets_in_force(loaded_rulesets: Sequence[LoadedRuleSet], as_of: dt.date) -> list[LoadedRuleSet]:
    seen: dict[str, str] = {}
    active = []
    for loaded in loaded_rulesets:
        if not loaded.ruleset.in_force(as_of):
            continue
        if loaded.id in seen:
            raise EngineError(
                f"rule set {loaded.id!r} is loaded twice ({seen[loaded.id]} and {loaded.origin}); "
                "rule set ids must be unique"
            )
        seen[loaded.id] = loaded.origin
        active.append(loaded)
    return sorted(active, key=lambda loaded: loaded.id)


def compile_scope(active: Sequence[LoadedRuleSet], scope: Scope, schema: FactSchema) -> list[CompiledRule]:
    """Every applicable rule of ``scope``, sorted by (rule set id, rule id), guarded and compiled."""
    replacers: dict[str, list[LoadedRuleSet]] = {}
    for loaded in active:
        for rule in loaded.rules:
            if rule.replaces:
                replacers.setdefault(rule.replaces, []).append(loaded)
    compiler = _Compiler(schema)
    problems: list[str] = []
    bodies: list[tuple[LoadedRuleSet, Rule, Expr, dict[str, Any]]] = []
    for loaded in active:
        for rule in sorted(loaded.rules, key=lambda r: r.id):
            if rule.scope != scope:
                continue
            key = f"{loaded.id}/{rule.id}"
            expr = _expression(loaded, rule)
            try:
                condition = compiler.condition(expr)
            except CompileError as error:
                problems.append(f"{loaded.origin}: rule {key}: {error} (when: {rule.when})")
                continue
            suppressed = [_applies(other.ruleset, scope, positive=False) for other in replacers.get(key, [])]
            body = _all([_applies(loaded.ruleset, scope, True), *suppressed, condition])
            if body is False:
                continue  # never fires here: not applicable, overridden everywhere, or x in []
            if body is True:  # cannot happen for a compiled comparison; keep the guard alone
                body = {"$and": []}
            width = _alternatives(body)
            if width > MAX_RULE_ALTERNATIVES:
                problems.append(
                    f"{loaded.origin}: rule {key}: the condition expands to {width} or-alternatives; "
                    f"durable_rules evaluates each separately and at most {MAX_RULE_ALTERNATIVES} are allowed"
                )
                continue
            unknown = [
                p
                for p in (*field_paths(expr), *message_paths(rule.message.id), *message_paths(rule.message.en),
                          *message_paths(rule.training or ""))
                if schema.get(p) is None
            ]
            if unknown:
                problems.append(f"{loaded.origin}: rule {key}: unknown fact path(s) {', '.join(sorted(set(unknown)))}")
                continue
            bodies.append((loaded, rule, expr, body))
    if problems:
        raise EngineError("cannot compile rules for the durable_rules engine:\n  " + "\n  ".join(problems))
    try:
        groups = _group_guards([_alternatives(body) for *_, body in bodies])
    except CompileError as error:
        raise EngineError(f"scope {scope}: {error}") from None
    compiled: list[CompiledRule] = []
    for (loaded, rule, expr, body), guards in zip(bodies, groups, strict=True):
        condition = _all([{"t": scope}, *guards, body])
        assert isinstance(condition, dict)
        message = sorted(set(message_paths(rule.message.id)) | set(message_paths(rule.message.en)))
        compiled.append(
            CompiledRule(
                len(compiled),
                f"{loaded.id}/{rule.id}",
                loaded,
                rule,
                expr,
                condition,
                _split(field_paths(expr)),
                _split(message),
                _split(message_paths(rule.training or "")),
            )
        )
    return compiled


def _alternatives(condition: Any) -> int:
    """How many or-branches of a condition durable may hold pending at once for one message.

    durable expands ``$or`` into separate alpha-network paths (a fact matching two
    branches fires the rule twice). Equality tests of one path against several values are
    mutually exclusive, so they count once; ``$or`` inside ``$iany``/``$iall`` is not expanded.
    """
    if not isinstance(condition, dict) or len(condition) != 1:
        return 1
    [(key, value)] = condition.items()
    if key == "$and":
        width = 1
        for part in value:
            width *= _alternatives(part)
        return width
    if key == "$or":
        paths = {
            next(iter(part))
            for part in value
            if isinstance(part, dict) and len(part) == 1 and not next(iter(part)).startswith("$")
            and not isinstance(next(iter(part.values())), dict)
        }
        if len(paths) == 1 and all(len(part) == 1 and next(iter(part)) in paths for part in value):
            return 1
        return sum(_alternatives(part) for part in value)
    return 1


def _group_guards(widths: Sequence[int]) -> list[list[dict[str, Any]]]:
    """Always-true, distinct guard conditions that arrange the rules of a ruleset as a tree.

    durable evaluates a message depth-first over the alpha network with a stack of 64
    pending nodes (error 303, ERR_MAX_STACK_SIZE): every rule's first condition after the
    shared ``t`` guard is a child of one node, so more than 64 rules whose first condition
    holds for a fact fail the whole batch. Rules are packed into groups of at most
    GROUP_WIDTH alternatives, each behind its own guard ``{"$neq": {"t": "~<group>"}}``
    (identical guards merge into one node), and groups into super-groups the same way.
    Peak stack: fewer than 16 + 16 + 16 entries.
    """
    if sum(widths) <= UNGROUPED_WIDTH:
        return [[] for _ in widths]
    # Consecutive rules (same rule set, mostly) fill a group up to GROUP_WIDTH alternatives.
    assignment: list[int] = []
    group, load = -1, GROUP_WIDTH
    for width in widths:
        if load + width > GROUP_WIDTH:
            group += 1
            load = 0
        load += width
        assignment.append(group)
    count = group + 1
    if count <= GROUP_WIDTH:
        return [[{"$neq": {"t": f"~{g}"}}] for g in assignment]
    if count > GROUP_WIDTH * GROUP_WIDTH:
        raise CompileError(
            f"{sum(widths)} rule alternatives in one scope; the engine arranges at most "
            f"{GROUP_WIDTH ** 3} (split the rules across fewer or simpler conditions)"
        )
    return [[{"$neq": {"t": f"~{g // GROUP_WIDTH}"}}, {"$neq": {"t": f"~{g // GROUP_WIDTH}.{g}"}}] for g in assignment]


def _split(paths: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((path, tuple(path.split("."))) for path in paths)


def condition_paths(condition: Any, out: set[str]) -> None:
    """Every message path a durable condition reads (left sides and ``$m`` references)."""
    if isinstance(condition, list):
        for item in condition:
            condition_paths(item, out)
        return
    if not isinstance(condition, dict):
        return
    for key, value in condition.items():
        if key == "$m":
            out.add(value)
        elif key in ("$iany", "$iall"):
            for path, inner in value.items():
                out.add(path)
                condition_paths(inner, out)
        elif key.startswith("$"):
            condition_paths(value, out)
        else:
            out.add(key)
            condition_paths(value, out)


def property_count(paths: Iterable[str]) -> int:
    """Keys of a message carrying ``paths`` as nested objects, plus t, id and sid."""
    prefixes = {".".join(p.split(".")[: i + 1]) for p in paths for i in range(p.count(".") + 1)}
    return len(prefixes) + 3


def ruleset_definition(scope: Scope, rules: Sequence[CompiledRule]) -> dict[str, Any]:
    definition: dict[str, Any] = {
        r.key: {"all": [{"m": r.condition}], "run": r.key} for r in rules
    }
    definition[CATCH_ALL] = {"all": [{"m": {"t": scope}}], "run": CATCH_ALL}
    return definition


def compile_ruleset_json(
    loaded_rulesets: Sequence[LoadedRuleSet],
    scope: Scope,
    as_of: dt.date,
    extensions: Iterable[ExtensionAttribute] = (),
) -> dict[str, Any]:
    """The durable_rules ruleset definition the engine registers for ``scope`` on ``as_of``.

    Deterministic JSON-able dict ``{"mutasi-rules.<scope>": {rule key: {"all": [...], "run":
    rule key}}}``; in the engine each ``run`` is a Python action. For documentation and
    ``rules check --show-json``.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; expected one of {', '.join(SCOPES)}")
    rules = compile_scope(rulesets_in_force(loaded_rulesets, as_of), scope, fact_schema(scope, extensions))
    return {f"mutasi-rules.{scope}": ruleset_definition(scope, rules)}


