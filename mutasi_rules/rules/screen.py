"""Vectorised pre-screen of candidate pairs: which (employee, target) pairs a ``block`` rule surely stops.

The recommendation pipeline considers every movable employee of a surplus position for
every short position. Sending each pair through durable_rules costs ~100 us of Python per
pair (docs/engine.md, "Cost"), which does not scale to 100,000 employees. This module
evaluates the candidate-scope ``block`` rules over *columns* of pair facts with numpy, a
chunk of target positions at a time, and reports the pairs that some block rule certainly
fires for. Only the other pairs (and the few blocked pairs a result must explain) go
through the engine, which stays the authority for every recommended move and every
finding.

What is evaluated is the engine's own compiled condition
(:func:`mutasi_rules.rules.engine.compile_ruleset_json`): the durable JSON with negation already
pushed down, arithmetic rearranged, the rule set's applicability (unit path, position
kind), the override guards and the ``$ex`` guards included. So the screen needs no second
compiler of the rule language that could drift from the engine's, and rule-set
applicability and overrides mean exactly what the engine makes of them.

Soundness: a durable condition has no negation (``$neq``, ``$nex`` and ``$iall`` are
atoms), so it is monotone in its atoms. Every atom the screen cannot evaluate exactly
(a plugin's pair-level ``candidate.ext.*`` attribute, a list membership of a field value,
an operator it does not know) is taken as *false*, which can only make fewer rules fire:
``screen-blocked => engine-blocked`` always holds; on the bundled rule sets the screen is
exact. Missing values follow durable's (and the language's) rule: a comparison that reads
a missing value is false; ``$nex`` is true exactly when the value is missing; ``$iany`` /
``$iall`` over a missing list are false; lists carry the engine's end-of-list sentinel.

Derived pair fields (``missing_trainings``, ``missing_certificates``,
``missing_competencies``, ``education_field_ok``, ``same_unit``, ``same_opd``,
``kelas_change``, ``target_retirement_age``, ``years_to_retirement_at_target``) are
computed as :func:`mutasi_rules.data.facts.candidate_facts` computes them, from the same fact
models the engine sees (plugin enrichment included).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mutasi_rules.data.facts import (
    FieldType,
    add_months,
    add_years,
    elapsed_years,
    fact_schema,
    read_path,
)
from mutasi_rules.rules.durable_compile import (  # the durable backend's compiled form
    LIST_SENTINEL,
    compile_ruleset_json,
)
from mutasi_rules.rules.rulesets import Effect

if TYPE_CHECKING:
    from mutasi_rules.planning.recommendation import RunContext

#: Pair cells (employees x targets) evaluated at once; bounds the screen's working memory.
CHUNK_CELLS = 4_000_000

_COMPARE = {"$lt": np.less, "$lte": np.less_equal, "$gt": np.greater, "$gte": np.greater_equal,
            "$neq": np.not_equal}
_ARITH = {"$add": np.add, "$sub": np.subtract, "$mul": np.multiply, "$div": np.divide}
_PAIR_DERIVED = ("education_field_ok", "missing_competencies", "missing_trainings", "missing_certificates",
                 "same_unit", "same_opd", "kelas_change", "target_retirement_age", "years_to_retirement_at_target")


class _Unsupported(Exception):
    """An atom the screen does not evaluate; it is taken as false (never fires)."""


@dataclass
class _Value:
    """A scalar column: numbers (float64) or text codes (int64), with a presence mask."""

    val: Any
    ok: Any
    text: bool


@dataclass
class _List:
    """A list column: membership of a literal and the number of distinct items (without the sentinel)."""

    member: Callable[[str], Any]
    size: Any
    ok: Any


class _Entities:
    """Encoded columns of one entity axis (employees as rows or targets as columns)."""

    def __init__(self, facts: Sequence[Any], codes: dict[str, int], shape: Callable[[Any], Any]) -> None:
        self.facts = facts
        self.codes = codes
        self.shape = shape
        self._cache: dict[tuple[str, str], Any] = {}

    def scalar(self, attr: str, kind: FieldType) -> _Value:
        key = ("scalar", attr)
        if key not in self._cache:
            raws = [read_path(f, attr) for f in self.facts]
            ok = np.array([r is not None for r in raws], dtype=bool)
            if kind is FieldType.STRING:
                val = np.array([self.codes.setdefault(_text(r), len(self.codes)) if r is not None else -1
                                for r in raws], dtype=np.int64)
            else:
                val = np.array([_number(r) if r is not None else np.nan for r in raws], dtype=np.float64)
            self._cache[key] = _Value(self.shape(val), self.shape(ok), kind is FieldType.STRING)
        return self._cache[key]

    def listing(self, attr: str) -> _List:
        key = ("list", attr)
        if key not in self._cache:
            items = [read_path(f, attr) for f in self.facts]
            sets = [None if r is None else {_text(v) for v in r} for r in items]
            ok = np.array([s is not None for s in sets], dtype=bool)
            size = np.array([len(s) if s is not None else 0 for s in sets], dtype=np.int64)
            members: dict[str, Any] = {}

            def member(literal: str) -> Any:
                if literal not in members:
                    members[literal] = self.shape(np.array([s is not None and literal in s for s in sets], dtype=bool))
                return members[literal]

            self._cache[key] = _List(member, self.shape(size), self.shape(ok))
        return self._cache[key]


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))


def _number(value: Any) -> float:
    if isinstance(value, dt.date):
        return float(value.toordinal())
    ordinal = getattr(value, "ordinal", None)
    if ordinal is not None:
        return float(ordinal)
    return float(value)


class PairScreen:
    """Screens ``employees`` (rows) x ``targets`` (columns) with the candidate-scope block rules.

    ``employees``: NIPs of the movable pool; ``targets``: short position ids. Use
    :meth:`blocked` for one chunk of targets, or :meth:`chunks` for all of them.
    """

    def __init__(self, ctx: RunContext, employees: Sequence[str], targets: Sequence[str]) -> None:
        self.ctx = ctx
        self.employees = list(employees)
        self.targets = list(targets)
        self.schema = fact_schema("candidate", ctx.extensions)
        definition = compile_ruleset_json(ctx.rulesets, "candidate", ctx.as_of, ctx.extensions)
        declared = {f"{loaded.id}/{rule.id}": (loaded.id, rule.id, rule) for loaded in ctx.rulesets
                    for rule in loaded.rules if rule.scope == "candidate"}
        # The engine's finding order: rule set id, then rule id (points add up in that order).
        compiled = sorted(((key, body["all"][0]["m"]) for key, body in next(iter(definition.values())).items()
                           if key in declared), key=lambda kc: declared[kc[0]][:2])
        #: (rule key, compiled durable condition) of every block rule the engine registers.
        self.rules: list[tuple[str, Any]] = [(key, cond) for key, cond in compiled
                                             if declared[key][2].effect is Effect.BLOCK]
        #: (rule key, compiled condition) of every other candidate rule (score, warn, require_training,
        #: classify) the engine registers, in the engine's finding order.
        self.other_rules: list[tuple[str, Any]] = [(key, cond) for key, cond in compiled
                                                   if declared[key][2].effect is not Effect.BLOCK]
        #: Points of every score rule among :attr:`other_rules`.
        self.points: dict[str, float] = {}
        for key, _ in self.other_rules:
            rule = declared[key][2]
            if rule.effect is Effect.SCORE and rule.points is not None:
                self.points[key] = float(rule.points)
        #: Rules whose condition met an atom the screen cannot evaluate (taken as false): for
        #: them the screen's answer is a lower bound of the engine's, not the engine's answer.
        self.inexact: set[str] = set()
        self.codes: dict[str, int] = {}
        rows = [ctx.employees[nip] for nip in self.employees]
        self._rows = rows
        self._emp_facts = [ctx.employee_facts(nip) for nip in self.employees]
        self._src_facts = [ctx.position_facts(e.position_id) for e in rows]
        self._src_units = [ctx.unit_facts(ctx.index.positions[e.position_id].unit_id) for e in rows]
        self._tgt_facts = [ctx.position_facts(t) for t in self.targets]
        self._tgt_units = [ctx.unit_facts(ctx.index.positions[t].unit_id) for t in self.targets]
        def column(values: Any) -> Any:  # employees run down the rows
            return values[:, None]

        self.emp = _Entities(self._emp_facts, self.codes, column)
        self.src = _Entities(self._src_facts, self.codes, column)
        self.src_unit = _Entities(self._src_units, self.codes, column)
        self._tgt = _Entities(self._tgt_facts, self.codes, lambda a: a)
        self._tgt_unit = _Entities(self._tgt_units, self.codes, lambda a: a)
        self._retire: dict[int, Any] = {}
        self._levels: dict[str, Any] | None = None

    # ------------------------------------------------------------------ public

    def chunk_size(self) -> int:
        return max(1, min(len(self.targets), CHUNK_CELLS // max(1, len(self.employees))))

    def chunks(self) -> Iterator[tuple[int, int, Any]]:
        """``(start, stop, blocked)`` for consecutive target chunks; ``blocked`` is rows x (stop - start)."""
        step = self.chunk_size()
        for start in range(0, len(self.targets), step):
            stop = min(start + step, len(self.targets))
            yield start, stop, self.blocked(start, stop)

    def blocked(self, start: int, stop: int) -> Any:
        """Boolean matrix: some block rule certainly fires for (employee, target) in ``targets[start:stop]``."""
        return self.evaluate(start, stop, others=False)[0]

    def evaluate(self, start: int, stop: int, *, others: bool = True) -> tuple[Any, dict[str, Any]]:
        """``(blocked, rule key -> where it fires)`` for ``targets[start:stop]``, the second for every
        non-block rule (``others``); rules that met an atom the screen cannot evaluate are added to
        :attr:`inexact`. The matrices of the second may be broadcast views (read-only)."""
        chunk = _Chunk(self, start, stop)
        shape = (len(self.employees), stop - start)
        out = np.zeros(shape, dtype=bool)
        for key, condition in self.rules:
            out |= np.broadcast_to(self._fires(chunk, key, condition), shape)
        fired = {key: np.broadcast_to(self._fires(chunk, key, condition), shape)
                 for key, condition in (self.other_rules if others else [])}
        return out, fired

    def evaluations(self) -> Iterator[tuple[int, int, Any, dict[str, Any]]]:
        """``(start, stop, blocked, rule key -> where it fires)`` for consecutive target chunks
        (see :meth:`evaluate`)."""
        step = self.chunk_size()
        for start in range(0, len(self.targets), step):
            stop = min(start + step, len(self.targets))
            yield start, stop, *self.evaluate(start, stop)

    def exact(self, keys: Iterable[str]) -> bool:
        """Whether the rules ``keys`` were all evaluated exactly (as the engine evaluates them) so far."""
        return not self.inexact.intersection(keys)

    def _fires(self, chunk: _Chunk, key: str, condition: Any) -> Any:
        chunk.unsupported = False
        fires = chunk.condition(condition)
        if chunk.unsupported:
            self.inexact.add(key)
        return fires

    def fires(self, start: int, stop: int) -> dict[str, Any]:
        """Per rule (block rules and the others), where the screen says it fires (for tests and diagnostics)."""
        chunk = _Chunk(self, start, stop)
        shape = (len(self.employees), stop - start)
        return {key: np.broadcast_to(self._fires(chunk, key, cond), shape).copy()
                for key, cond in [*self.rules, *self.other_rules]}

    # ------------------------------------------------------------------ derived pair fields

    def competency_levels(self) -> dict[str, Any]:
        """Per competency, the level each row holds (0: not held), as candidate_facts reads it."""
        if self._levels is None:
            levels: dict[str, Any] = {}
            for index, e in enumerate(self._rows):
                held = {c.name: c.level.ordinal for c in e.competencies}  # the last entry wins, as there
                for name, level in held.items():
                    levels.setdefault(name, np.zeros(len(self._rows), dtype=np.int64))[index] = level
            self._levels = levels
        return self._levels

    def retirement_years(self, bup: int) -> Any:
        """``years_to_retirement_at_target`` of every row for a target with retirement age ``bup``."""
        if bup not in self._retire:
            as_of = self.ctx.as_of
            self._retire[bup] = np.array(
                [elapsed_years(as_of, add_months(add_years(e.birth_date, bup).replace(day=1), 1)) for e in self._rows],
                dtype=np.float64,
            )
        return self._retire[bup]


class _Chunk:
    """Evaluation of compiled conditions for one chunk of target columns."""

    def __init__(self, screen: PairScreen, start: int, stop: int) -> None:
        self.s = screen
        self.start, self.stop = start, stop
        sl = slice(start, stop)
        self.tgt = _Sliced(screen._tgt, sl)
        self.tgt_unit = _Sliced(screen._tgt_unit, sl)
        self.n = len(screen.employees)
        self.m = stop - start
        self._derived: dict[str, Any] = {}
        #: Set when a condition met an atom it cannot evaluate (see PairScreen.inexact).
        self.unsupported = False

    # ------------------------------------------------------------------ columns

    def column(self, path: str) -> _Value | _List:
        if path == "t":
            return _Value(np.int64(self.code("candidate")), np.bool_(True), True)
        spec = self.s.schema.get(path)
        if spec is None:
            raise _Unsupported(path)
        if path == "as_of" or path.startswith("context."):
            raw = read_path({"as_of": self.s.ctx.as_of, "context": self.s.ctx.context}, path)
            if spec.type is FieldType.LIST:
                raise _Unsupported(path)
            if raw is None:
                return _Value(np.float64(np.nan), np.bool_(False), spec.type is FieldType.STRING)
            if spec.type is FieldType.STRING:
                return _Value(np.int64(self.code(_text(raw))), np.bool_(True), True)
            return _Value(np.float64(_number(raw)), np.bool_(True), False)
        parts = path.split(".")
        head, rest = parts[1], ".".join(parts[2:])
        axes: dict[str, _Entities | _Sliced] = {
            "employee": self.s.emp, "source_position": self.s.src, "source_unit": self.s.src_unit,
            "position": self.tgt, "target_unit": self.tgt_unit}
        entities = axes.get(head)
        if entities is None:
            if head in _PAIR_DERIVED:
                return self.derived(head)
            raise _Unsupported(path)  # candidate.ext.*: computed per pair by plugins
        if spec.type is FieldType.LIST:
            return entities.listing(rest)
        return entities.scalar(rest, spec.type)

    def code(self, text: str) -> int:
        return self.s.codes.setdefault(text, len(self.s.codes))

    def derived(self, name: str) -> _Value | _List:
        if name in self._derived:
            return self._derived[name]
        s, ctx = self.s, self.s.ctx
        positions = [ctx.index.positions[t] for t in s.targets[self.start:self.stop]]
        full = np.ones((self.n, self.m), dtype=bool)
        result: _Value | _List
        if name in ("missing_trainings", "missing_certificates"):
            held_attr = "trainings" if name == "missing_trainings" else "certificates"
            required = [set(p.requirements.trainings if held_attr == "trainings" else p.requirements.certificates)
                        for p in positions]
            held = s.emp.listing(held_attr)
            result = self._missing(required, lambda item: held.member(item) & held.ok)
        elif name == "missing_competencies":
            levels = s.competency_levels()
            req: list[dict[str, int]] = []
            for p in positions:
                wants: dict[str, int] = {}
                for c in p.requirements.competencies:  # a name listed twice: unmet below either level
                    wants[c.name] = max(wants.get(c.name, 0), c.min_level.ordinal)
                req.append(wants)
            zero = np.zeros(self.n, dtype=np.int64)
            size = np.zeros((self.n, self.m), dtype=np.int64)
            by_item: dict[str, list[tuple[int, int]]] = {}
            for j, wants in enumerate(req):
                for item, level in wants.items():
                    by_item.setdefault(item, []).append((j, level))
            member_cache: dict[str, Any] = {}
            for item, cols in by_item.items():
                idx = np.array([j for j, _ in cols])
                need = np.array([lv for _, lv in cols])
                lacking = levels.get(item, zero)[:, None] < need[None, :]
                size[:, idx] += lacking
                cell = np.zeros((self.n, self.m), dtype=bool)
                cell[:, idx] = lacking
                member_cache[item] = cell
            none = np.zeros((self.n, self.m), dtype=bool)
            result = _List(lambda item: member_cache.get(item, none), size, full)
        elif name == "education_field_ok":
            fields = [{f.casefold() for f in p.requirements.education_fields} for p in positions]
            own = [e.education.field.casefold() if e.education.field is not None else None for e in s._rows]
            vocab = {f: i for i, f in enumerate(sorted({f for fs in fields for f in fs}))}
            codes = np.array([vocab.get(f, len(vocab)) if f is not None else len(vocab) for f in own], dtype=np.int64)
            accepts = np.zeros((len(vocab) + 1, self.m), dtype=bool)
            for j, fs in enumerate(fields):
                if not fs:
                    accepts[:, j] = True
                for f in fs:
                    accepts[vocab[f], j] = True
            result = _Value(accepts[codes].astype(np.float64), full, False)
        elif name in ("same_unit", "same_opd"):
            attr = "unit_id" if name == "same_unit" else "opd_id"
            a, b = s.emp.scalar(attr, FieldType.STRING), self.tgt.scalar(attr, FieldType.STRING)
            result = _Value((a.val == b.val).astype(np.float64), full, False)
        elif name == "kelas_change":
            a, b = s.emp.scalar("kelas", FieldType.NUMBER), self.tgt.scalar("kelas", FieldType.NUMBER)
            result = _Value(b.val - a.val, full, False)
        elif name == "target_retirement_age":
            b = self.tgt.scalar("retirement_age", FieldType.NUMBER)
            result = _Value(np.broadcast_to(b.val, (self.n, self.m)), full, False)
        else:  # years_to_retirement_at_target
            values = np.empty((self.n, self.m), dtype=np.float64)
            for j, p in enumerate(positions):
                values[:, j] = s.retirement_years(p.retirement_age)
            result = _Value(values, full, False)
        self._derived[name] = result
        return result

    def _missing(self, required: list[set[str]], held: Callable[[str], Any]) -> _List:
        """``sorted(required - held)`` as a pair list column."""
        size = np.zeros((self.n, self.m), dtype=np.int64)
        by_item: dict[str, list[int]] = {}
        for j, items in enumerate(required):
            for item in items:
                by_item.setdefault(item, []).append(j)
        cells: dict[str, Any] = {}
        for item, cols in by_item.items():
            lacking = ~np.broadcast_to(held(item), (self.n, 1))
            idx = np.array(cols)
            size[:, idx] += lacking
            cell = np.zeros((self.n, self.m), dtype=bool)
            cell[:, idx] = lacking
            cells[item] = cell
        none = np.zeros((self.n, self.m), dtype=bool)
        return _List(lambda item: cells.get(item, none), size, np.ones((self.n, self.m), dtype=bool))

    # ------------------------------------------------------------------ conditions

    def condition(self, cond: Any) -> Any:
        """Where a compiled durable condition certainly holds (unsupported atoms: false)."""
        if not isinstance(cond, dict) or len(cond) != 1:
            self.unsupported = True
            return np.bool_(False)
        [(key, value)] = cond.items()
        if key == "$and":
            out: Any = np.bool_(True)
            for part in value:
                out = out & self.condition(part)
            return out
        if key == "$or":
            out = np.bool_(False)
            for part in value:
                out = out | self.condition(part)
            return out
        try:
            return self.atom(key, value)
        except _Unsupported:
            self.unsupported = True
            return np.bool_(False)

    def atom(self, key: str, value: Any) -> Any:
        if key in ("$ex", "$nex"):
            [path] = value
            column = self.column(path)
            return column.ok if key == "$ex" else ~column.ok
        if key in ("$iany", "$iall"):
            [(path, inner)] = value.items()
            column = self.column(path)
            if not isinstance(column, _List):
                raise _Unsupported(path)
            return self.quantified(key == "$iany", column, inner)
        if key in _COMPARE:
            [(path, rvalue)] = value.items()
            return self.relation(_COMPARE[key], path, rvalue)
        if key.startswith("$"):
            raise _Unsupported(key)
        return self.relation(np.equal, key, value)  # {path: value}: equality

    def relation(self, op: Any, path: str, rvalue: Any) -> Any:
        left = self.column(path)
        if not isinstance(left, _Value):
            raise _Unsupported(path)
        right = self.operand(rvalue, left.text)
        if right.text != left.text:
            raise _Unsupported(path)
        return left.ok & right.ok & op(left.val, right.val)

    def operand(self, node: Any, text: bool) -> _Value:
        if isinstance(node, bool):
            return _Value(np.float64(1.0 if node else 0.0), np.bool_(True), False)
        if isinstance(node, (int, float)):
            return _Value(np.float64(node), np.bool_(True), False)
        if isinstance(node, str):
            return _Value(np.int64(self.code(node)), np.bool_(True), True)
        if isinstance(node, dict) and len(node) == 1:
            [(key, inner)] = node.items()
            if key == "$m":
                column = self.column(inner)
                if not isinstance(column, _Value):
                    raise _Unsupported(inner)
                return column
            if key in _ARITH and isinstance(inner, dict) and set(inner) == {"$l", "$r"}:
                a, b = self.operand(inner["$l"], False), self.operand(inner["$r"], False)
                if a.text or b.text:
                    raise _Unsupported(key)
                with np.errstate(divide="ignore", invalid="ignore"):
                    return _Value(_ARITH[key](a.val, b.val), a.ok & b.ok, False)
        raise _Unsupported(repr(node))

    def quantified(self, some: bool, column: _List, inner: Any) -> Any:
        """``$iany`` / ``$iall`` of an item predicate made of ``$i`` equalities with literals.

        The engine appends a sentinel item to every list; an item not among the literals
        the predicate names is "other", and the sentinel always is one unless named.
        """
        literals: list[str] = []
        _item_literals(inner, literals)
        named = [lit for lit in dict.fromkeys(literals) if lit != LIST_SENTINEL]
        sentinel_named = LIST_SENTINEL in literals
        found = [column.member(lit) for lit in named]
        counted: Any = np.int64(0)
        for mask in found:
            counted = counted + mask
        real_other = column.size - counted > 0  # a real item not named by the predicate
        other = real_other if sentinel_named else np.bool_(True)
        pieces: list[tuple[Any, bool]] = [(mask, _item_holds(inner, lit))
                                          for lit, mask in zip(named, found, strict=True)]
        if sentinel_named:
            pieces.append((np.bool_(True), _item_holds(inner, LIST_SENTINEL)))
        other_holds = _item_holds(inner, None)
        if some:
            out: Any = other & other_holds
            for mask, holds in pieces:
                if holds:
                    out = out | mask
        else:
            out = ~other | other_holds
            for mask, holds in pieces:
                if not holds:
                    out = out & ~mask
        return column.ok & out


class _Sliced:
    """Target-axis columns restricted to one chunk."""

    def __init__(self, entities: _Entities, sl: slice) -> None:
        self.e = entities
        self.sl = sl

    def scalar(self, attr: str, kind: FieldType) -> _Value:
        full = self.e.scalar(attr, kind)
        return _Value(full.val[None, self.sl], full.ok[None, self.sl], full.text)

    def listing(self, attr: str) -> _List:
        full = self.e.listing(attr)
        return _List(lambda lit: full.member(lit)[None, self.sl], full.size[None, self.sl], full.ok[None, self.sl])


def _item_literals(node: Any, out: list[str]) -> None:
    if not isinstance(node, dict) or len(node) != 1:
        raise _Unsupported(repr(node))
    [(key, value)] = node.items()
    if key in ("$and", "$or"):
        for part in value:
            _item_literals(part, out)
    elif key == "$i" and isinstance(value, str):
        out.append(value)
    elif key == "$neq" and isinstance(value, dict) and set(value) == {"$i"} and isinstance(value["$i"], str):
        out.append(value["$i"])
    else:
        raise _Unsupported(repr(node))


def _item_holds(node: Any, item: str | None) -> bool:
    """The item predicate for one concrete item (``None``: an item no literal names)."""
    [(key, value)] = node.items()
    if key == "$and":
        return all(_item_holds(part, item) for part in value)
    if key == "$or":
        return any(_item_holds(part, item) for part in value)
    if key == "$i":
        return item == value
    return item != value["$i"]


__all__ = ["CHUNK_CELLS", "PairScreen"]
