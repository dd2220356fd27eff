"""The rule engine adapter: compiles rule sets to durable_rules and evaluates facts into findings.

This is the only module that imports ``durable``. Everything durable-specific lives here:
how a condition becomes durable JSON, how facts are encoded into messages, and how the
measured failure modes of durable_rules 2.0.28 (docs/engine.md,
/work/shared/DURABLE_RULES_NOTES.md) are designed around:

* every pattern is guarded with the discriminator ``{"t": <scope>}`` so the state
  messages (``"$s": 1``) durable posts after each action never match a rule (no
  re-firing loop), and every ruleset has a guarded catch-all rule, so no message is ever
  unhandled (no ``MessageNotHandledException``, no crash on ``delete_state``);
* facts (``assert_facts``), not events, so every matching rule fires for a fact;
* one session per batch, deleted after the batch, so the 1,024-session limit is never near;
* only the paths the scope's rules read are sent, and the property count of a message is
  checked against durable's limit when the engine is built (beyond it durable segfaults);
* the ``Host`` subclass runs no background dispatch threads, and the adapter takes each
  batch's firings from the C core itself on the calling thread (durable's Python dispatch
  abandons an action after ten wall-clock seconds); the catch-all count checks that every
  fact was seen;
* there is no expression-level ``$not`` in durable: negation is pushed down to the atoms;
  ``$iall`` never matches an empty array: every list is padded with a sentinel item;
  a ``$m`` reference to a missing field compares as true: every one gets an ``$ex`` guard;
  ``$div`` of two integers truncates: divisors are always emitted as floats, and
  arithmetic between two constants is folded here (durable mis-evaluates it).

The translation of rules into durable JSON is :mod:`mutasi_rules.rules.durable_compile`; findings
are built by :mod:`mutasi_rules.rules.findings`; this module encodes facts and runs durable.
Public: :class:`RuleEngine` and :data:`DURABLE` (the :class:`~mutasi_rules.rules.backend.RuleBackend`),
with :class:`Finding`, :func:`compile_problem`, :func:`compile_ruleset_json`, :class:`EngineError`
re-exported from where they now live.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import durable_rules_engine
from durable import engine as durable_engine

from mutasi_rules.data.facts import (
    SCOPES,
    ExtensionAttribute,
    FactSchema,
    FieldSpec,
    FieldType,
    Scope,
    fact_schema,
    is_frozen_model,
    read_parts,
)
from mutasi_rules.data.models import OrderedEnum
from mutasi_rules.problems import InputError, Problem
from mutasi_rules.rules.backend import EngineError
from mutasi_rules.rules.durable_compile import (
    CATCH_ALL,
    DEFAULT_BATCH_SIZE,
    LIST_SENTINEL,
    MAX_MESSAGE_PROPERTIES,
    MAX_RULE_ALTERNATIVES,
    RESERVED_KEYS,
    CompiledRule,
    CompileError,
    compile_condition,
    compile_problem,
    compile_ruleset_json,
    compile_scope,
    condition_paths,
    property_count,
    ruleset_definition,
    rulesets_in_force,
)
from mutasi_rules.rules.findings import Finding, FindingRenderer
from mutasi_rules.rules.language.ast import (
    Expr,
)
from mutasi_rules.rules.rulesets import LoadedRuleSet, RuleSet, message_paths

# --------------------------------------------------------------------------- fact encoding

Encoder = Callable[[Any], Any]


def _encoder(spec: FieldSpec) -> Encoder:
    """Display or typed value -> what durable compares (day ordinals, ranks, text)."""
    if spec.type is FieldType.DATE:

        def encode_date(value: Any) -> int:
            if isinstance(value, dt.date):
                return value.toordinal()
            return dt.date.fromisoformat(value).toordinal()

        return encode_date
    if spec.type is FieldType.ORDINAL and spec.enum is not None and issubclass(spec.enum, OrderedEnum):
        ranks = {str(member.value): member.ordinal for member in spec.enum}

        def encode_ordinal(value: Any) -> int:
            label = value.value if isinstance(value, Enum) else value
            if label not in ranks:
                raise ValueError(f"not one of {', '.join(ranks)}")
            return ranks[label]

        return encode_ordinal
    if spec.type is FieldType.LIST:

        def encode_list(value: Any) -> list[Any]:
            if not isinstance(value, (list, tuple)):
                raise ValueError("not a list")
            return [v.value if isinstance(v, Enum) else v for v in value] + [LIST_SENTINEL]

        return encode_list
    if spec.type is FieldType.STRING:

        def encode_text(value: Any) -> str:
            if isinstance(value, Enum):
                return str(value.value)
            if not isinstance(value, str):
                raise ValueError("not text")
            return value

        return encode_text
    if spec.type is FieldType.BOOL:

        def encode_bool(value: Any) -> bool:
            if not isinstance(value, bool):
                raise ValueError("not true/false")
            return value

        return encode_bool

    def encode_number(value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("not a number")
        return value

    return encode_number


_Leaf = tuple[str, Encoder]  # (dotted path, encoder)
_Node = dict[str, "_Leaf | _Node"]  # the read paths as a tree, one level per key


class _FactEncoder:
    """Builds the durable message of one fact: only the read paths, nested as in the fact.

    A pair's fact shares most of its parts with other pairs (the same employee, target
    position, units and context facts, which are frozen models). :meth:`encode` takes a
    ``shared`` cache, kept for one batch of facts, so each such part is encoded once.
    """

    def __init__(self, scope: Scope, schema: FactSchema, paths: Iterable[str]) -> None:
        self.scope = scope
        self.root: _Node = {}
        for path in sorted(paths):
            spec = schema.get(path)
            if spec is None:
                raise EngineError(f"scope {scope}: no field {path!r} in the fact schema")
            parts = tuple(path.split("."))
            if parts[0] in RESERVED_KEYS:
                raise EngineError(f"scope {scope}: the path {path!r} collides with a key durable_rules reserves")
            node = self.root
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                assert isinstance(child, dict)  # the schema has no path that is both a leaf and a parent
                node = child
            node[parts[-1]] = (path, _encoder(spec))

    def encode(self, fact: Any, ident: int, sid: str, subject: str, problems: list[Problem],
               shared: dict[tuple[int, int], Any] | None = None) -> dict[str, Any]:
        """The message of ``fact``; a value that cannot be encoded becomes a problem naming ``subject``.

        ``shared``: cache of encoded frozen sub-facts, keyed by (tree node, object) identity;
        valid while those objects are alive (the caller keeps the facts for the batch).
        """
        message: dict[str, Any] = {"t": self.scope, "id": ident, "sid": sid}
        errors: list[tuple[str, str, Any]] = []
        message.update(self._fill(fact, self.root, errors, shared))
        for path, error, raw in errors:
            problems.append(
                Problem(
                    code="fact.bad_value",
                    message=f"cannot encode the value for the rule engine: {error}",
                    record=f"{self.scope} fact #{ident} ({subject})",
                    field=path,
                    value=raw if isinstance(raw, (str, int, float, bool)) else repr(raw),
                )
            )
        return message

    def _fill(self, obj: Any, node: _Node, errors: list[tuple[str, str, Any]],
              shared: dict[tuple[int, int], Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, child in node.items():
            raw = read_parts(obj, (key,))
            if raw is None:
                continue  # missing: the key is absent, so every comparison reading it is false
            if isinstance(child, tuple):
                path, encode = child
                try:
                    out[key] = encode(raw)
                except (ValueError, TypeError, AttributeError) as error:
                    errors.append((path, str(error), raw))
                continue
            if shared is not None and is_frozen_model(type(raw)):  # type: ignore[arg-type]  # a class is hashable
                cache_key = (id(child), id(raw))
                hit = shared.get(cache_key)
                if hit is None:
                    own: list[tuple[str, str, Any]] = []
                    hit = shared[cache_key] = (raw, self._fill(raw, child, own, shared), own)
                sub, sub_errors = hit[1], hit[2]
                errors.extend(sub_errors)
            else:
                sub = self._fill(raw, child, errors, shared)
            if sub:  # a part none of whose read paths has a value is left out, as a missing value
                out[key] = sub
        return out


# --------------------------------------------------------------------------- the engine


class _QuietHost(durable_engine.Host):
    """A durable Host without its two background dispatch threads.

    The stock Host polls every ruleset from timer threads and may run pending actions there;
    this adapter takes each batch's firings from the C core on the calling thread
    (:meth:`RuleEngine._run_batch`), so a batch's findings are complete when it returns.
    """

    def _run(self) -> None:
        return None


_ENGINE_SERIAL = itertools.count(1)


@dataclass
class _ScopePlan:
    scope: Scope
    name: str
    rules: list[CompiledRule]
    encoder: _FactEncoder
    definition: dict[str, Any]
    action_index: dict[str, int] = field(default_factory=dict)  # durable action name -> rule index (-1 catch-all)


class RuleEngine:
    """Evaluates facts of one scope against every applicable rule, through durable_rules.

    One durable Host per engine, one durable ruleset per scope holding every rule of that
    scope whose rule set is in force on ``as_of``. Use as a context manager, or call
    :meth:`close`. Thread-safe: evaluations of one engine run one at a time.
    """

    def __init__(
        self,
        loaded_rulesets: Sequence[LoadedRuleSet],
        as_of: dt.date,
        extensions: Iterable[ExtensionAttribute] = (),
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.as_of = as_of
        self.batch_size = batch_size
        self.extensions = tuple(extensions)
        self.rulesets = rulesets_in_force(loaded_rulesets, as_of)
        self._serial = next(_ENGINE_SERIAL)
        self._lock = threading.Lock()
        self._batches = itertools.count(1)
        self._renderer = FindingRenderer()
        self._plans: dict[Scope, _ScopePlan] = {}
        self._host: _QuietHost | None = _QuietHost()
        self._schemas: dict[Scope, FactSchema] = {}
        problems: list[str] = []
        for scope in SCOPES:
            schema = fact_schema(scope, self.extensions)
            self._schemas[scope] = schema
            try:
                rules = compile_scope(self.rulesets, scope, schema)
            except EngineError as error:
                problems.append(str(error))
                continue
            if not rules:
                continue
            paths: set[str] = set()
            for rule in rules:
                condition_paths(rule.condition, paths)
            paths.discard("t")
            count = property_count(paths)
            if count > MAX_MESSAGE_PROPERTIES:
                problems.append(
                    f"scope {scope}: the rules read {len(paths)} fact paths, which makes {count} message "
                    f"properties; durable_rules handles at most {MAX_MESSAGE_PROPERTIES} (it crashes beyond)"
                )
                continue
            name = f"mutasi-rules.{self._serial}.{scope}"
            definition = ruleset_definition(scope, rules)
            self._plans[scope] = _ScopePlan(scope, name, rules, _FactEncoder(scope, schema, paths), definition)
        if problems:
            raise EngineError("\n".join(problems))
        for plan in self._plans.values():
            self._register(plan)

    # ------------------------------------------------------------------ durable plumbing

    def _register(self, plan: _ScopePlan) -> None:
        assert self._host is not None

        def action(c: Any) -> None:  # durable requires one per rule; the adapter runs them itself
            raise EngineError("durable_rules dispatched an action outside the adapter's batch loop")

        live = {key: dict(rule) for key, rule in plan.definition.items()}
        for rule in live.values():
            rule["run"] = action
        try:
            self._host.register_rulesets({plan.name: live})
        except Exception as error:  # durable reports a bad definition as a bare Exception
            raise EngineError(f"durable_rules rejected the ruleset of scope {plan.scope}: {error}") from error
        plan.action_index = {rule.key: rule.index for rule in plan.rules}
        plan.action_index[CATCH_ALL] = -1

    def _run_batch(self, plan: _ScopePlan, messages: list[dict[str, Any]], sid: str) -> list[tuple[int, int]]:
        """Assert one batch and run its firings: ``(rule index or -1 for the catch-all, fact id)`` each.

        The firings are taken from durable's C core directly rather than through durable's
        Python dispatch, which builds a closure, re-encodes the session state per firing
        and gives up on an action when ten seconds of wall-clock time have passed since
        it started (a long GC pause or a suspended process would then lose findings).
        Each action only records the firing; durable's state is passed back unchanged.
        """
        assert self._host is not None
        ruleset = self._host.get_ruleset(plan.name)
        try:
            state = ruleset.assert_facts(messages)
            fired = self._firings(plan, ruleset._handle, state)
        except Exception as error:
            # Do not delete this session's state: after an unhandled message that can crash.
            raise EngineError(
                f"durable_rules failed on a batch of {len(messages)} {plan.scope} facts: {error}") from error
        handled = sum(1 for index, _ in fired if index < 0)
        if handled != len(messages):
            raise EngineError(
                f"durable_rules ran the catch-all rule {handled} times for {len(messages)} facts; "
                "findings would be incomplete"
            )
        self._host.delete_state(plan.name, sid)
        return fired

    @staticmethod
    def _firings(plan: _ScopePlan, handle: int, state: int) -> list[tuple[int, int]]:
        fired: list[tuple[int, int]] = []
        started = durable_rules_engine.start_action_for_state(handle, state)
        while started:
            session, message, state = started[0], started[1], (started[2] if len(started) > 2 else state)
            while message:
                ((name, matched),) = json.loads(message).items()  # one action per result: {rule key: {"m": fact}}
                fired.append((plan.action_index[name], matched["m"]["id"]))
                durable_rules_engine.update_state(handle, session)
                message = durable_rules_engine.complete_and_start_action(handle, state)
            started = durable_rules_engine.start_action(handle)  # anything durable left queued (none expected)
        return fired

    # ------------------------------------------------------------------ public

    def rule_keys(self, scope: Scope) -> list[str]:
        """``<ruleset>/<rule>`` of every rule evaluated for ``scope``, in finding order."""
        plan = self._plans.get(scope)
        return [r.key for r in plan.rules] if plan else []

    def applicable_rule_keys(self, scope: Scope, unit_path: Sequence[str], kind: str | None) -> list[str]:
        """``<ruleset>/<rule>`` of the rules of ``scope`` that apply to a subject in ``unit_path``
        with a position of ``kind``: its rule set covers the subject and no rule replacing it
        does (what the compiled guards decide, for saying which rules a subject was checked
        against)."""
        plan = self._plans.get(scope)
        if plan is None:
            return []
        replacers: dict[str, list[RuleSet]] = {}
        for compiled in plan.rules:
            if compiled.rule.replaces:
                replacers.setdefault(compiled.rule.replaces, []).append(compiled.loaded.ruleset)
        return [
            compiled.key for compiled in plan.rules
            if compiled.loaded.ruleset.applies_to.covers(unit_path, kind)
            and not any(other.applies_to.covers(unit_path, kind) for other in replacers.get(compiled.key, []))
        ]

    def ruleset_json(self, scope: Scope) -> dict[str, Any]:
        """The durable definition registered for ``scope`` (actions named by rule key)."""
        plan = self._plans.get(scope)
        return {f"mutasi-rules.{scope}": plan.definition if plan else {}}

    def evaluate(self, scope: Scope, facts: Sequence[Any], subjects: Sequence[str]) -> list[list[Finding]]:
        """Findings per fact, in input order; each list sorted by (rule set id, rule id).

        ``facts``: instances of ``facts.SCOPE_MODELS[scope]`` or their display-form dicts.
        Raises :class:`~mutasi_rules.problems.InputError` listing every value that cannot be
        encoded, :class:`EngineError` when durable fails.
        """
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}; expected one of {', '.join(SCOPES)}")
        facts = list(facts)
        subjects = [str(s) for s in subjects]
        if len(facts) != len(subjects):
            raise ValueError(f"{len(facts)} facts but {len(subjects)} subjects; give one subject per fact")
        plan = self._plans.get(scope)
        if plan is None or not facts:
            self._check_open()
            return [[] for _ in facts]
        with self._lock:
            self._check_open()
            problems: list[Problem] = []
            hits: list[set[int]] = [set() for _ in facts]
            batch_ids = [f"{self._serial}.{next(self._batches)}" for _ in range(0, len(facts), self.batch_size)]
            batches: list[tuple[str, list[dict[str, Any]]]] = []
            shared: dict[tuple[int, int], Any] = {}  # encoded frozen sub-facts; ``facts`` keeps them alive
            for number, start in enumerate(range(0, len(facts), self.batch_size)):
                sid = batch_ids[number]
                stop = min(start + self.batch_size, len(facts))
                messages = [plan.encoder.encode(facts[i], i, sid, subjects[i], problems, shared)
                            for i in range(start, stop)]
                batches.append((sid, messages))
            if problems:
                raise InputError(f"{scope} facts for the rule engine", problems)
            for sid, messages in batches:
                for index, ident in self._run_batch(plan, messages, sid):
                    if index >= 0:
                        hits[ident].add(index)
        return [
            [self._finding(plan, plan.rules[index], facts[i], subjects[i]) for index in sorted(hits[i])]
            for i in range(len(facts))
        ]

    def _finding(self, plan: _ScopePlan, compiled: CompiledRule, fact: Any, subject: str) -> Finding:
        return self._renderer.finding(
            loaded=compiled.loaded, rule=compiled.rule, scope=plan.scope, subject=subject, fact=fact,
            reads=compiled.reads, message_reads=compiled.message_reads, training_reads=compiled.training_reads,
            cache_key=(plan.scope, compiled.index),
        )

    def _check_open(self) -> None:
        if self._host is None:
            raise EngineError("the rule engine is closed")

    def close(self) -> None:
        """Free the durable rulesets of this engine. Idempotent."""
        with self._lock:
            if self._host is None:
                return
            for plan in self._plans.values():
                with contextlib.suppress(Exception):  # freeing is best effort; the host is dropped anyway
                    durable_rules_engine.delete_ruleset(self._host.get_ruleset(plan.name)._handle)
            self._host = None

    def __enter__(self) -> RuleEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DurableBackend:
    """durable_rules as the library's :class:`~mutasi_rules.rules.backend.RuleBackend`."""

    name = "durable_rules"

    @staticmethod
    def compile_problem(expr: Expr) -> str | None:
        return compile_problem(expr)

    @staticmethod
    def evaluator(rulesets: Sequence[LoadedRuleSet], as_of: dt.date,
                  extensions: Iterable[ExtensionAttribute] = ()) -> RuleEngine:
        return RuleEngine(rulesets, as_of, extensions)


DURABLE = DurableBackend()


__all__ = [
    "CATCH_ALL",
    "DURABLE",
    "LIST_SENTINEL",
    "MAX_MESSAGE_PROPERTIES",
    "MAX_RULE_ALTERNATIVES",
    "CompileError",
    "EngineError",
    "Finding",
    "RuleEngine",
    "compile_condition",
    "compile_problem",
    "compile_ruleset_json",
    "message_paths",
]
