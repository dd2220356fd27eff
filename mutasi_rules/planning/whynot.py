"""Why-not queries: every reason a person is not (or would not be) moved to a position, with counterfactuals.

``WhyNot(ctx)`` is a prepared service: it is built once over a
:class:`~mutasi_rules.planning.recommendation.RunContext` (dataset index, workload labels, fact builders)
and keeps one open :class:`~mutasi_rules.rules.engine.RuleEngine`, so that each
``query(nip, position_id)`` costs a few engine evaluations of one person and one pair.

A report lists

* the ``block`` findings of the employee scope and of the candidate scope for the pair,
  as the engine (durable_rules, the authority) fired them, with the values each rule read;
* plugin vetoes;
* the pipeline's preconditions: the target must be short of staff by the staffing-norm
  labels, the person's own position must have a surplus, and the person must not already
  hold the target;
* ``warn`` and ``require_training`` findings (training first makes a move conditional,
  it does not block it);
* counterfactuals: for each blocking finding, the smallest change to the facts that makes
  the rule stop firing, found by analysing the rule's condition. The negation of the
  condition is put in disjunctive normal form; each conjunction is one way out. Every
  literal of it that does not hold yet is fixed by *time* (the first date it holds, on
  facts rebuilt for that date with the calendar-exact builders of :mod:`mutasi_rules.data.facts`),
  by an *action* on the person's record (a training, a certificate, a competency, an
  education level or field, a promotion, a recorded predikat), or is *impossible* (a fact
  that cannot change in the right direction: status CPNS, approaching retirement, birth
  date, the target position's own requirements). Impossible ones are stated as the
  hypothetical change of the fact itself. Every counterfactual is re-evaluated through
  the engine and the reference interpreter and kept only if the rule no longer fires; the
  rules that would still block after it are listed.

Nothing reads the clock: dates come from the run's ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.core.escaping import md_escape
from mutasi_rules.core.i18n import N_, localized
from mutasi_rules.data.facts import (
    CandidateScope,
    EmployeeScope,
    FactSchema,
    FieldType,
    Scope,
    add_years,
    candidate_facts,
    context_facts,
    display_value,
    employee_facts,
    fact_schema,
    read_path,
)
from mutasi_rules.data.models import (
    Competency,
    CompetencyLevel,
    Education,
    EducationLevel,
    Employee,
    Golongan,
    OrderedEnum,
    PerformanceRecord,
    Predikat,
    Training,
)
from mutasi_rules.errors import MutasiRulesError
from mutasi_rules.planning.recommendation import SHORT_LABEL, SURPLUS_LABEL, PositionRef, RunContext, pair_subject
from mutasi_rules.plugins.types import Veto
from mutasi_rules.rules.engine import Finding, RuleEngine
from mutasi_rules.rules.language.ast import (
    BoolOp,
    Call,
    Compare,
    Expr,
    FieldRef,
    ListLiteral,
    Literal_,
    Membership,
    Not,
    field_paths,
)
from mutasi_rules.rules.language.checker import did_you_mean
from mutasi_rules.rules.language.interpreter import NEGATED_OP, EvaluationError, evaluate, value_of
from mutasi_rules.rules.language.pretty import pretty
from mutasi_rules.rules.rulesets import EFFECTS, Effect, LoadedRuleSet, Localized

REPORT_FORMAT: Final = "mutasi-rules.why-not/1"
MAX_TERMS = 64  # ways out of one rule considered (disjunctive normal form is cut here)
MAX_YEARS_AHEAD = 50  # a time counterfactual never looks further than this (or retirement)


class UnknownSubject(MutasiRulesError, LookupError):
    """The NIP or position id of a query is not in the dataset (the message says which; exit code 1)."""

    kind = "query"
    code = "query.unknown_subject"


def check_subject(nips: Collection[str], position_ids: Collection[str], nip: str, position_id: str) -> None:
    """Raise :class:`UnknownSubject` naming every part of the query the dataset does not have."""
    problems = []
    if nip not in nips:
        problems.append(f"employee NIP {nip!r} is not in the dataset" + did_you_mean(nip, sorted(nips), quote="'"))
    if position_id not in position_ids:
        problems.append(f"position {position_id!r} is not in the dataset"
                        + did_you_mean(position_id, sorted(position_ids), quote="'"))
    if problems:
        raise UnknownSubject("; ".join(problems))


# =========================================================================== report model


class PersonRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    nip: str
    name: str
    status: str
    position: PositionRef = Field(description="The position the person holds now")


ReasonKind = Literal["block", "veto", "precondition", "warn", "require_training"]


class Reason(BaseModel):
    """One reason (or condition, or warning) of a why-not report."""

    model_config = ConfigDict(frozen=True)

    kind: ReasonKind
    code: str = Field(description="'<ruleset>/<rule>' for findings, 'veto:<source>', or a precondition code")
    scope: Scope | None = Field(default=None, description="employee | candidate for findings; null otherwise")
    title: Localized
    message: Localized
    facts_read: dict[str, Any] = Field(default_factory=dict, description="Display value of every path read")
    legal_basis: str = ""
    basis_kind: str | None = Field(default=None, description="Findings: statutory, convention or agency_policy")
    source: str = Field(default="", description="Rule-set origin (file or plugin:<name>==<version>) or plugin")
    ruleset_version: str | None = None
    trainings: list[str] = Field(default_factory=list, description="require_training: the trainings named")


CounterfactualKind = Literal["time", "action", "impossible"]


class Counterfactual(BaseModel):
    """A change to the facts after which the rules in ``resolves`` no longer fire (checked)."""

    model_config = ConfigDict(frozen=True)

    kind: CounterfactualKind
    description: Localized
    changes: dict[str, Any] = Field(description="Fact path (in the rule's scope) -> new value, display form")
    effective_date: dt.date | None = Field(default=None, description="time (and timed actions): the first date")
    resolves: list[str] = Field(description="'<ruleset>/<rule>' of the blocking rules that no longer fire")
    still_blocking: list[str] = Field(
        description="Rules ('<ruleset>/<rule>') and vetoes ('veto:<source>') that would still block after it"
    )
    verified: bool = Field(default=True, description="Re-evaluated through the engine and the reference interpreter")


class WhyNotReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: Literal["mutasi-rules.why-not/1"] = REPORT_FORMAT
    employee: PersonRef
    position: PositionRef
    as_of: dt.date
    plan_date: dt.date
    eligible: bool = Field(description="No reason of kind block, veto or precondition")
    passes_rules: bool = Field(description="No block finding and no veto (workload preconditions aside)")
    would_be_conditional: bool = Field(description="Some require_training finding fired: training comes first")
    reasons: list[Reason] = Field(description="Preconditions, then block findings (employee, candidate), then vetoes")
    conditions: list[Reason] = Field(description="require_training findings")
    warnings: list[Reason] = Field(description="warn findings")
    counterfactuals: list[Counterfactual] = Field(description="time (by date), then action, then impossible")
    unresolved: list[str] = Field(
        default_factory=list, description="Blocking rules for which no verified counterfactual was found"
    )

    def to_json(self, *, indent: int | None = 2) -> str:
        return canonical_json(self.model_dump(mode="json"), indent=indent)


# =========================================================================== condition analysis

_CONDITIONS = (Compare, BoolOp, Not, Membership, Call)


@dataclass(frozen=True)
class _Lit:
    """An atom of a condition with its polarity (``positive`` False: the atom must not hold)."""

    node: Expr
    positive: bool

    @property
    def expr(self) -> Expr:
        return self.node if self.positive else Not(self.node, self.node.span)

    def text(self) -> str:
        """The literal as people read it: the negation pushed into the comparison."""
        node = self.node
        if self.positive:
            return pretty(node)
        if isinstance(node, Compare) and not any(isinstance(s, _CONDITIONS) for s in (node.left, node.right)):
            return pretty(Compare(NEGATED_OP[node.op], node.left, node.right, node.span))  # type: ignore[arg-type]
        if isinstance(node, Membership):
            return pretty(Membership(node.item, node.container, not node.negated, node.span))
        return pretty(self.expr)


def ways_out(expr: Expr) -> list[list[_Lit]]:
    """The negation of ``expr`` in disjunctive normal form: each inner list, all true, stops it."""
    return _dnf(expr, False)


def _dnf(node: Expr, positive: bool) -> list[list[_Lit]]:
    if isinstance(node, BoolOp):
        conjunction = (node.op == "and") == positive  # De Morgan, as the interpreter does
        parts = [_dnf(operand, positive) for operand in node.operands]
        if not conjunction:
            return list(itertools.chain.from_iterable(parts))[:MAX_TERMS]
        terms: list[list[_Lit]] = [[]]
        for part in parts:
            terms = [a + b for a in terms for b in part][:MAX_TERMS]
        return terms
    if isinstance(node, Not):
        return _dnf(node.operand, not positive)
    if isinstance(node, Compare):
        for cond, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(cond, _CONDITIONS) and isinstance(other, Literal_) and isinstance(other.value, bool):
                keeps = (node.op == "==") == other.value
                return _dnf(cond, positive if keeps else not positive)
    return [[_Lit(node, positive)]]


def _holds(lit: _Lit, fact: Any) -> bool:
    try:
        return evaluate(lit.expr, fact)
    except EvaluationError:
        return False


# --------------------------------------------------------------------------- fact paths

# Person fields (relative to ``employee.`` / ``candidate.employee.``) that change with as_of.
_TIME_NUMERIC = {"age", "years_in_position", "years_of_service", "years_to_retirement"}
_TIME_EVENTS = {"under_sanction", "sanction_level", "sanction_end", "trainings", "certificates", "expired_certificates"}
_TIME_GLOBAL = {"as_of", "context.as_of", "context.plan_date", "context.months_to_candidate_determination",
                "context.months_since_inauguration", "candidate.years_to_retirement_at_target"}
_TIME_GLOBAL_EVENTS = {"candidate.missing_trainings", "candidate.missing_certificates"}


def _person_prefix(scope: Scope) -> str:
    return "candidate.employee." if scope == "candidate" else "employee."


def _relative(path: str, scope: Scope) -> str | None:
    """The person field a path names (``rank`` for ``candidate.employee.rank``), or None."""
    prefix = _person_prefix(scope)
    return path[len(prefix):] if path.startswith(prefix) else None


def _time_kind(path: str, scope: Scope) -> str | None:
    rel = _relative(path, scope)
    if rel in _TIME_NUMERIC or path in _TIME_GLOBAL:
        return "numeric"
    if rel in _TIME_EVENTS or path in _TIME_GLOBAL_EVENTS:
        return "event"
    return None


def _mirror(path: str, scope: Scope) -> tuple[str | None, str | None]:
    """(employee-scope path, candidate-scope path) of one fact path, None where it has no twin."""
    if path == "as_of" or path.startswith("context."):
        return path, path
    if scope == "candidate":
        rel = _relative(path, scope)
        return (f"employee.{rel}" if rel is not None else None), path
    rel = _relative(path, scope)
    return path, (f"candidate.employee.{rel}" if rel is not None else None)


def _with(model: Any, parts: Sequence[str], value: Any) -> Any:
    """A copy of a frozen fact model (or dict) with the value at ``parts`` replaced."""
    head, rest = parts[0], parts[1:]
    if isinstance(model, Mapping):
        return {**model, head: value if not rest else _with(model.get(head), rest, value)}
    new = value if not rest else _with(getattr(model, head), rest, value)
    return model.model_copy(update={head: new})


def _apply_overrides(fact: Any, overrides: Mapping[str, Any]) -> Any:
    for path, value in sorted(overrides.items()):
        fact = _with(fact, path.split("."), value)
    return fact


# --------------------------------------------------------------------------- actions on the record


@dataclass(frozen=True)
class _Action:
    """A change to the person's record an employee or the agency can bring about."""

    key: tuple[str, str]
    value: Any
    phrase: Localized

    def apply(self, employee: Employee, day: dt.date) -> Employee:
        what = self.key[0]
        if what == "all":  # several actions that one conjunction needs together
            for part in self.value:
                employee = part.apply(employee, day)
            return employee
        if what in ("training", "certificate"):
            name = "trainings" if what == "training" else "certificates"
            return employee.model_copy(update={name: [*getattr(employee, name),
                                                      Training(name=self.value, completed=day)]})
        if what == "competency":
            name, level, kind = self.value
            kept = [c for c in employee.competencies if c.name != name]
            return employee.model_copy(update={"competencies": [*kept, Competency(name=name, kind=kind, level=level)]})
        if what == "education_level":
            return employee.model_copy(update={"education": Education(level=self.value,
                                                                      field=employee.education.field)})
        if what == "education_field":
            return employee.model_copy(update={"education": Education(level=employee.education.level,
                                                                      field=self.value)})
        if what == "rank":
            return employee.model_copy(update={"rank": self.value})
        if what == "predikat":
            year = max((p.year for p in employee.performance), default=day.year - 1) + 1
            record = PerformanceRecord(year=year, predikat=self.value)
            return employee.model_copy(update={"performance": [*employee.performance, record]})
        raise ValueError(f"unknown action {self.key}")


def _training_action(name: str) -> _Action:
    return _Action(("training", name), name, Localized.of(N_("after completing {name}"), name=name))


def _certificate_action(name: str) -> _Action:
    return _Action(("certificate", name), name, Localized.of(N_("after obtaining a valid {name}"), name=name))


# Ordinal person fields an action can raise (never lower), with their phrases.
_RAISABLE: dict[str, tuple[type[OrderedEnum], Callable[[str], Localized]]] = {
    "rank": (Golongan, lambda v: Localized.of(N_("after promotion to rank (golongan) {value}"), value=v)),
    "education_level": (EducationLevel, lambda v: Localized.of(N_("with education {value} or higher"), value=v)),
    "latest_predikat": (Predikat, lambda v: Localized.of(
        N_("after a performance rating (predikat) of {value} or better is recorded"), value=v)),
}
_ACTION_KEY = {"rank": "rank", "education_level": "education_level", "latest_predikat": "predikat"}


# --------------------------------------------------------------------------- phrases

def _impossible_phrase(lit: _Lit, scope: Scope, retirement: dt.date) -> Localized:
    """Why a literal cannot be brought about by time or by an action within this decision."""
    paths = field_paths(lit.node)
    rels = {_relative(p, scope) for p in paths}
    if rels & {"years_in_position", "years_of_service"}:
        return Localized.of(N_("{condition} would hold only after retirement ({date})"), condition=lit.text(),
                            date=retirement.isoformat())
    if "status" in rels:
        return Localized.of(N_("it takes appointment as PNS, which is outside this decision"))
    if rels & {"years_to_retirement", "retirement_date", "retirement_age"} or \
            "candidate.years_to_retirement_at_target" in paths or "candidate.target_retirement_age" in paths:
        return Localized.of(N_("retirement is approaching and the years to retirement only shrink"))
    if rels & {"birth_date", "age"}:
        return Localized.of(N_("a birth date (and the age it gives) cannot change"))
    if "under_investigation" in rels:
        return Localized.of(N_("it takes the investigation to be closed, which is outside this decision"))
    if rels & {"under_sanction", "sanction_level", "sanction_end"}:
        return Localized.of(N_("a disciplinary sanction without an end date would have to end"))
    if "rank" in rels:
        return Localized.of(N_("a rank (golongan) does not go down"))
    if "education_level" in rels:
        return Localized.of(N_("an education level does not go down"))
    others = [p for p in paths if _relative(p, scope) is None and p != "as_of" and not p.startswith("context.")]
    text = lit.text()
    if others and all(p.startswith("candidate.") for p in others):
        return Localized.of(N_("the position's or unit's own requirement or state ({condition}) would have to change; "
                               "no change to the person does it"), condition=text)
    return Localized.of(N_("{condition} would have to hold; nothing within this decision can bring that about"),
                        condition=text)


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _time_phrase(lit: _Lit, scope: Scope, later: Any, base: Any, day: dt.date) -> Localized:
    """What happens by ``day`` that makes the literal hold (read from the rebuilt facts)."""
    for path in field_paths(lit.node):
        rel = _relative(path, scope)
        value = read_path(later, path)
        if rel == "years_in_position":
            return Localized.of(N_("when {years} years in the current post are complete"), years=_number(value))
        if rel == "years_of_service":
            return Localized.of(N_("when {years} years of service are complete"), years=_number(value))
        if rel == "age":
            return Localized.of(N_("when the employee turns {age}"), age=value)
        if rel in ("under_sanction", "sanction_level", "sanction_end"):
            end = read_path(base, _person_prefix(scope) + "sanction_end")
            until = f" ({end.isoformat()})" if isinstance(end, dt.date) else ""
            return Localized.of(N_("when the disciplinary sanction ends{until}"), until=until)
    return Localized.of(N_("when {condition} holds"), condition=lit.text())


# =========================================================================== the service


@dataclass
class _Scenario:
    """One candidate counterfactual: a date, actions on the record, and/or hypothetical facts."""

    kind: CounterfactualKind
    rule_key: str
    day: dt.date | None = None
    actions: tuple[_Action, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)  # path in the rule's scope -> typed value
    scope: Scope = "employee"
    phrases: list[Localized] = field(default_factory=list)
    cost: tuple[Any, ...] = ()

    def signature(self) -> tuple[Any, ...]:
        return (self.kind, self.day, tuple(sorted(a.key for a in self.actions)),
                tuple(sorted((k, repr(v)) for k, v in self.overrides.items())))


@dataclass
class _Facts:
    """Employee-scope facts and, built only when first read, the pair's candidate-scope facts."""

    employee: EmployeeScope
    _candidate: CandidateScope | Callable[[], CandidateScope | None] | None

    @property
    def candidate(self) -> CandidateScope | None:
        if callable(self._candidate):
            self._candidate = self._candidate()
        return self._candidate


@dataclass
class _Query:
    """What one query knows while it runs: the subject, the base facts, facts by date."""

    nip: str
    target: str
    record: Employee
    base: _Facts
    horizon: dt.date
    by_day: dict[dt.date, _Facts] = field(default_factory=dict)


class WhyNot:
    """A prepared why-not service over one run context; ``query`` answers one (person, position).

    Build once (``WhyNot(ctx)``), query many times, ``close()`` (or use as a context manager)
    to free the engine.
    """

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.engine = ctx.engine()
        self._engines: dict[tuple[tuple[str, str], ...], RuleEngine] = {self._in_force(ctx.as_of): self.engine}
        self._rules: dict[tuple[str, str, str], tuple[LoadedRuleSet, Expr]] = {}
        for loaded in ctx.rulesets:
            for rule in loaded.rules:
                if rule.id in loaded.expressions:
                    self._rules[(loaded.id, loaded.version, rule.id)] = (loaded, loaded.expressions[rule.id])
        self._schemas: dict[Scope, FactSchema] = {
            scope: fact_schema(scope, ctx.extensions) for scope in ("employee", "candidate")
        }

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _in_force(self, day: dt.date) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((r.id, r.version) for r in self.ctx.rulesets if r.ruleset.in_force(day)))

    def _engine_for(self, day: dt.date | None) -> RuleEngine:
        """The engine whose rule sets are the ones in force on ``day`` (built once per set)."""
        if day is None:
            return self.engine
        key = self._in_force(day)
        if key not in self._engines:
            self._engines[key] = self.ctx.engine(day)
        return self._engines[key]

    # ------------------------------------------------------------------ facts

    def _enrich(self, entity: str, subject: str, record: Any, facts: Any, day: dt.date) -> Any:
        if self.ctx.plugins is None:
            return facts
        return self.ctx.plugins.enrich_model(entity, subject, record, facts, self.ctx.dataset, day)

    def _facts(self, q: _Query, day: dt.date | None = None, record: Employee | None = None) -> _Facts:
        """Facts of the person (and the pair) on ``day`` with ``record`` in place of theirs.

        The base case is the run context's own facts. Other days or records are built with the
        same public builders RunContext uses (facts.employee_facts / candidate_facts, plugin
        enrichment for that day), over the run's position and unit facts: the workload
        situation is the run's, the person's facts are those of that day.
        """
        if day is None and record is None:
            return q.base
        if record is None and day in q.by_day:
            return q.by_day[day]
        ctx = self.ctx
        on = day or ctx.as_of
        person = record or q.record
        base = self._enrich("employee", q.nip, person, employee_facts(person, ctx.index, on), on)
        context = ctx.context if on == ctx.as_of else context_facts(on, ctx.dataset, max(ctx.plan_date, on))
        employee = EmployeeScope(as_of=on, context=context, employee=base)

        def candidate() -> CandidateScope | None:
            if q.base.candidate is None:
                return None
            source = person.position_id
            pair = candidate_facts(
                person, base, ctx.position_facts(q.target), ctx.position_facts(source),
                ctx.unit_facts(ctx.index.positions[source].unit_id),
                ctx.unit_facts(ctx.index.positions[q.target].unit_id),
                ctx.index.positions[q.target], on,
            )
            pair = self._enrich("candidate", pair_subject(q.nip, q.target), person, pair, on)
            return CandidateScope(as_of=on, context=context, candidate=pair)

        built = _Facts(employee, candidate)
        if record is None:
            q.by_day[on] = built
        return built

    @staticmethod
    def _scoped(facts: _Facts, scope: Scope) -> Any:
        return facts.candidate if scope == "candidate" else facts.employee

    # ------------------------------------------------------------------ query

    def _check_subject(self, nip: str, position_id: str) -> None:
        check_subject(self.ctx.employees, self.ctx.index.positions, nip, position_id)

    def _query_state(self, nip: str, position_id: str) -> _Query:
        ctx = self.ctx
        record = ctx.employees[nip]
        employee_scope = ctx.employee_scope(nip)
        candidate_scope = None if record.position_id == position_id else ctx.candidate_scope(nip, position_id)
        return _Query(nip, position_id, record, _Facts(employee_scope, candidate_scope),
                      horizon=min(employee_scope.employee.retirement_date - dt.timedelta(days=1),
                                  add_years(ctx.as_of, MAX_YEARS_AHEAD)))

    def facts(self, nip: str, position_id: str, *, on: dt.date | None = None,
              record: Employee | None = None) -> tuple[EmployeeScope, CandidateScope | None]:
        """The employee-scope and candidate-scope facts of a pair on ``on`` with ``record`` (what-if).

        Without ``on`` and ``record`` these are the run context's own facts; the candidate facts
        are None when the person already holds the position.
        """
        self._check_subject(nip, position_id)
        built = self._facts(self._query_state(nip, position_id), on, record)
        return built.employee, built.candidate

    def query(self, nip: str, position_id: str) -> WhyNotReport:
        """Every reason ``nip`` is not (or would not be) moved to ``position_id``, with counterfactuals.

        Raises :class:`UnknownSubject` when the NIP or the position is not in the dataset.
        """
        self._check_subject(nip, position_id)
        ctx = self.ctx
        q = self._query_state(nip, position_id)
        record, same = q.record, q.base.candidate is None
        employee_scope, candidate_scope = q.base.employee, q.base.candidate
        found = self.engine.evaluate("employee", [employee_scope], [nip])[0]
        if candidate_scope is not None:
            found += self.engine.evaluate("candidate", [candidate_scope], [pair_subject(nip, position_id)])[0]
        vetoes = self._vetoes(candidate_scope, ctx.as_of)

        preconditions = self._preconditions(record, position_id, same)
        blocks = [f for f in found if EFFECTS[f.effect].blocks]
        reasons = [*preconditions, *(_finding_reason(f, "block") for f in blocks), *(_veto_reason(v) for v in vetoes)]
        conditions = [_finding_reason(f, "require_training") for f in found if EFFECTS[f.effect].conditional]
        warnings = [_finding_reason(f, "warn") for f in found if f.effect is Effect.WARN]

        counterfactuals = self._counterfactuals(
            q, blocks, [f for f in found if EFFECTS[f.effect].conditional], not preconditions)
        resolved = {key for c in counterfactuals for key in c.resolves}
        return WhyNotReport(
            employee=PersonRef(nip=nip, name=record.name, status=record.status.value,
                               position=self._ref(record.position_id)),
            position=self._ref(position_id),
            as_of=ctx.as_of,
            plan_date=ctx.plan_date,
            eligible=not reasons,
            passes_rules=not blocks and not vetoes,
            would_be_conditional=bool(conditions),
            reasons=reasons,
            conditions=conditions,
            warnings=warnings,
            counterfactuals=counterfactuals,
            unresolved=sorted({f.rule_key for f in blocks} - resolved),
        )

    def _ref(self, position_id: str) -> PositionRef:
        position = self.ctx.index.positions[position_id]
        return PositionRef(position_id=position.id, position_name=position.name, unit_id=position.unit_id,
                           unit_name=self.ctx.index.units[position.unit_id].name,
                           opd_id=self.ctx.index.opd_of(position.unit_id))

    def _vetoes(self, candidate: CandidateScope | None, day: dt.date) -> list[Veto]:
        if candidate is None or self.ctx.plugins is None:
            return []
        return self.ctx.plugins.veto_candidate(candidate.candidate, self.ctx.dataset, day)

    # ------------------------------------------------------------------ preconditions

    def _preconditions(self, record: Employee, target: str, same: bool) -> list[Reason]:
        ctx = self.ctx
        out: list[Reason] = []
        position = ctx.index.positions[target]
        if same:
            out.append(Reason(
                kind="precondition", code="already-in-position",
                title=Localized.of(N_("Already holds this position")),
                message=Localized.of(N_("The employee already holds the post {name} ({position_id}); a transfer into "
                                        "the same post is not considered."), name=position.name, position_id=target),
                facts_read={"employee.position_id": record.position_id},
            ))
        if target not in ctx.shortages:
            out.append(self._workload_reason(
                target, "target-not-short",
                Localized.of(N_("The target post is not short of staff")),
                Localized.of(N_("By the staffing-norm rules the post {name} is not labelled '{label}' with a gap of at "
                                "least one person; the transfer plan only fills posts short of staff."),
                             name=position.name, label=SHORT_LABEL),
            ))
        if record.position_id not in ctx.surplus and not same:
            source = ctx.index.positions[record.position_id]
            out.append(self._workload_reason(
                record.position_id, "source-no-surplus",
                Localized.of(N_("The current post has no surplus")),
                Localized.of(N_("By the staffing-norm rules the current post {name} is not labelled '{label}' with a "
                                "surplus of at least one person; the transfer plan only moves staff out of posts with "
                                "a surplus."), name=source.name, label=SURPLUS_LABEL),
            ))
        return out

    def _workload_reason(self, position_id: str, code: str, title: Localized, message: Localized) -> Reason:
        pw = self.ctx.pw[position_id]
        label_findings = [f for f in pw.findings if f.label]
        return Reason(
            kind="precondition", code=code, title=title, message=message,
            facts_read={"position.id": position_id, "position.labels": list(pw.labels), "position.ej": pw.ej,
                        "position.staff_needed": pw.staff_needed, "position.bezetting": pw.bezetting,
                        "position.gap": pw.gap, "position.has_workload_data": pw.has_workload_data},
            legal_basis="; ".join(sorted({f.legal_basis for f in label_findings}))
            or "PermenPANRB 1/2020 (analisis jabatan dan analisis beban kerja)",
            source=", ".join(sorted({f.rule_key for f in label_findings})),
        )

    # ------------------------------------------------------------------ counterfactuals

    def _rule(self, finding: Finding) -> Expr | None:
        entry = self._rules.get((finding.ruleset_id, finding.ruleset_version, finding.rule_id))
        return entry[1] if entry else None

    def _counterfactuals(self, q: _Query, blocks: Sequence[Finding], conditions: Sequence[Finding],
                         preconditions_ok: bool) -> list[Counterfactual]:
        """Ways out of every blocking finding, and out of every training condition."""
        scenarios: dict[tuple[Any, ...], _Scenario] = {}
        for finding in [*blocks, *conditions]:
            expr = self._rule(finding)
            if expr is None:
                continue
            best: dict[CounterfactualKind, _Scenario] = {}
            for term in ways_out(expr):
                scenario = self._plan(q, finding, term)
                if scenario is None:
                    continue
                kept = best.get(scenario.kind)
                if kept is None or scenario.cost < kept.cost:
                    best[scenario.kind] = scenario
            # Offer the earliest time and the cheapest action; "impossible" only when neither exists.
            chosen = ([best[k] for k in ("time", "action") if k in best]
                      or [best[k] for k in ("impossible",) if k in best])
            for scenario in chosen:
                scenarios.setdefault(scenario.signature(), scenario)
        blocking = {f.rule_key for f in blocks}
        combined = _together([s for s in scenarios.values() if s.kind != "impossible" and s.rule_key in blocking])
        if combined is not None:
            scenarios.setdefault(combined.signature(), combined)
        if not scenarios:
            return []
        return self._verify(q, [*blocks, *conditions], list(scenarios.values()), preconditions_ok)

    def _plan(self, q: _Query, finding: Finding, term: Sequence[_Lit]) -> _Scenario | None:
        """How to make every literal of one conjunction hold, or None when no way is found."""
        scope: Scope = finding.scope
        base = self._scoped(q.base, scope)
        pending = [lit for lit in term if not _holds(lit, base)]
        if not pending:
            return None  # holds already (a missing value keeps the rule from being negated)
        timed: list[tuple[_Lit, dt.date]] = []
        actions: list[_Action] = []
        stuck: list[_Lit] = []
        for lit in pending:
            day = self._time_fix(q, lit, scope)
            if day is not None:
                timed.append((lit, day))
                continue
            action = self._action_fix(q, lit, scope, base)
            if action is not None:
                actions.append(action)
            else:
                stuck.append(lit)
        if stuck:
            overrides: dict[str, Any] = {}
            for lit in pending:
                change = self._hypothesis(lit, scope, base)
                if change is None:
                    return None
                overrides.update(change)
            return _Scenario("impossible", finding.rule_key, overrides=overrides, scope=scope,
                             phrases=[_impossible_phrase(lit, scope, q.base.employee.employee.retirement_date)
                                      for lit in stuck], cost=(len(overrides),))
        day = max((d for _, d in timed), default=None)
        if day is not None:
            later = self._scoped(self._facts(q, day), scope)
            if not all(_holds(lit, later) for lit, _ in timed):
                return None  # not monotone together; no single date found
            phrases = [_time_phrase(lit, scope, later, base, day) for lit, _ in timed]
        else:
            phrases = []
        unique = {a.key: a for a in actions}
        acts = tuple(unique[k] for k in sorted(unique))
        phrases += [a.phrase for a in acts]
        kind: CounterfactualKind = "action" if acts else "time"
        cost = (len(acts), day or dt.date.min) if acts else (day,)
        return _Scenario(kind, finding.rule_key, day=day, actions=acts, scope=scope, phrases=phrases, cost=cost)

    # .................................................................. time

    def _time_fix(self, q: _Query, lit: _Lit, scope: Scope) -> dt.date | None:
        """The first date after as_of (before retirement) on which the literal holds, if time moves it."""
        kinds = {_time_kind(p, scope) for p in field_paths(lit.node)} - {None}
        if not kinds:
            return None
        def holds(day: dt.date) -> bool:
            return _holds(lit, self._scoped(self._facts(q, day), scope))

        found: list[dt.date] = []
        if "event" in kinds:
            for day in self._event_days(q):
                if holds(day):
                    found.append(day)
                    break
        if "numeric" in kinds:
            lo, hi = self.ctx.as_of, q.horizon
            if hi > lo and holds(hi):
                # Binary search for the first day it holds: each time-driven figure is monotone in the date.
                while (hi - lo).days > 1:
                    mid = lo + dt.timedelta(days=(hi - lo).days // 2)
                    if holds(mid):
                        hi = mid
                    else:
                        lo = mid
                found.append(hi)
        return min(found, default=None)

    def _event_days(self, q: _Query) -> list[dt.date]:
        """Days after as_of on which a sanction, training or certificate of the person starts or lapses."""
        record, start = q.record, self.ctx.as_of
        days: set[dt.date] = set()
        for sanction in record.sanctions:
            days.add(sanction.start)
            if sanction.end is not None:
                days.add(sanction.end + dt.timedelta(days=1))
        for item in [*record.trainings, *record.certificates]:
            days.add(item.completed)
            if item.expires is not None:
                days.add(item.expires + dt.timedelta(days=1))
        return sorted(d for d in days if start < d <= q.horizon)

    # .................................................................. actions

    def _action_fix(self, q: _Query, lit: _Lit, scope: Scope, fact: Any) -> _Action | None:
        node = lit.node
        requirements = self.ctx.index.positions[q.target].requirements if q.base.candidate is not None else None
        if isinstance(node, Membership) and isinstance(node.container, FieldRef):
            wanted_in = node.negated != lit.positive
            item = value_of(node.item, fact)
            if not isinstance(item, str):
                return None
            rel = _relative(node.container.path, scope)
            if wanted_in and rel == "trainings":
                return _training_action(item)
            if (wanted_in and rel == "certificates") or (not wanted_in and rel == "expired_certificates"):
                return _certificate_action(item)
            if wanted_in and rel == "competencies":
                return self._competency_actions([item], requirements)
            if not wanted_in and node.container.path == "candidate.missing_trainings":
                return _training_action(item)
            if not wanted_in and node.container.path == "candidate.missing_certificates":
                return _certificate_action(item)
            if not wanted_in and node.container.path == "candidate.missing_competencies":
                return self._competency_actions([item], requirements)
            return None
        if isinstance(node, Call) and node.name == "empty" and lit.positive and isinstance(node.args[0], FieldRef):
            path = node.args[0].path
            items = list(read_path(fact, path) or [])
            if not items:
                return None
            if path == "candidate.missing_trainings":
                return _combined([_training_action(i) for i in items])
            if path == "candidate.missing_certificates":
                return _combined([_certificate_action(i) for i in items])
            if path == "candidate.missing_competencies":
                return self._competency_actions(items, requirements)
            return None
        if isinstance(node, FieldRef) and node.path == "candidate.education_field_ok" and lit.positive:
            fields = sorted(requirements.education_fields) if requirements else []
            if not fields:
                return None
            return _Action(("education_field", fields[0]), fields[0],
                           Localized.of(N_("with an education in {fields}"), fields=" / ".join(fields)))
        if isinstance(node, Compare):
            for side in (node.left, node.right):
                if not isinstance(side, FieldRef):
                    continue
                rel = _relative(side.path, scope)
                if rel not in _RAISABLE:
                    continue
                enum, phrase = _RAISABLE[rel]
                current = read_path(fact, side.path)
                if current is None and rel == "rank":
                    return None  # a PPPK has no golongan to raise
                for member in enum:
                    if current is not None and member.ordinal <= current.ordinal:
                        continue
                    if _holds(lit, _with(fact, side.path.split("."), member)):
                        return _Action((_ACTION_KEY[rel], member.value), member, phrase(member.value))
                return None
        return None

    def _competency_actions(self, names: Iterable[str], requirements: Any) -> _Action | None:
        needed = {c.name: c for c in (requirements.competencies if requirements else [])}
        actions = []
        for name in sorted(set(names)):
            req = needed.get(name)
            level = req.min_level if req else CompetencyLevel.L1
            kind = req.kind if req else Competency.model_fields["kind"].default
            actions.append(_Action(("competency", name), (name, level, kind),
                                   Localized.of(N_("after attaining the competency {name} at level {level}"),
                                                name=name, level=level.value)))
        return _combined(actions)

    # .................................................................. hypothetical facts

    def _hypothesis(self, lit: _Lit, scope: Scope, fact: Any) -> dict[str, Any] | None:
        """A direct change of one fact that makes the literal hold (for what nothing can bring about)."""
        schema = self._schemas[scope]
        node = lit.node

        def first(path: str, values: Iterable[Any]) -> dict[str, Any] | None:
            for value in values:
                if _holds(lit, _with(fact, path.split("."), value)):
                    return {path: value}
            return None

        if isinstance(node, FieldRef):
            return first(node.path, [lit.positive])
        if isinstance(node, Call) and isinstance(node.args[0], FieldRef):
            path = node.args[0].path
            return first(path, [[], None] if node.name == "empty" or not lit.positive else [])
        if isinstance(node, Membership):
            wanted_in = node.negated != lit.positive
            if isinstance(node.container, FieldRef):
                item = value_of(node.item, fact)
                current = list(read_path(fact, node.container.path) or [])
                if item is None:
                    return None
                changed = sorted({*current, item}) if wanted_in else [v for v in current if v != item]
                return first(node.container.path, [changed])
            if isinstance(node.item, FieldRef) and isinstance(node.container, ListLiteral):
                return first(node.item.path,
                             self._values(schema, node.item.path, [i.value for i in node.container.items]))
            return None
        if isinstance(node, Compare):
            sides = [s for s in (node.left, node.right) if isinstance(s, FieldRef)]
            sides.sort(key=lambda s: _relative(s.path, scope) is None)  # the person's side first
            for side in sides:
                other = node.right if side is node.left else node.left
                try:
                    seen = value_of(other, fact) if not isinstance(other, Literal_) else other.value
                except EvaluationError:
                    seen = None
                change = first(side.path, self._values(schema, side.path, [seen] if seen is not None else [],
                                                       read_path(fact, side.path)))
                if change is not None:
                    return change
        return None

    @staticmethod
    def _values(schema: FactSchema, path: str, near: Sequence[Any], current: Any = None) -> list[Any]:
        """Values to try for ``path``: every member of an enumeration, else values around ``near``."""
        spec = schema.get(path)
        if spec is None:
            return []
        if spec.enum is not None:
            if spec.ordered is not None and isinstance(current, OrderedEnum):  # nearest first
                return sorted(spec.ordered, key=lambda m: abs(m.ordinal - current.ordinal))
            return list(spec.enum)
        if spec.type is FieldType.BOOL:
            return [True, False]
        out: list[Any] = []
        for value in near:
            if spec.type is FieldType.NUMBER and isinstance(value, (int, float)) and not isinstance(value, bool):
                out += [value, value + 1, value - 1, value + 0.5, value - 0.5]
            elif spec.type is FieldType.DATE and isinstance(value, int):
                day = dt.date.fromordinal(value)
                out += [day, day + dt.timedelta(days=1), day - dt.timedelta(days=1)]
            elif spec.type is FieldType.DATE and isinstance(value, dt.date):
                out += [value, value + dt.timedelta(days=1), value - dt.timedelta(days=1)]
            elif spec.type is FieldType.STRING:
                out += [value, f"{value} (lain)"]
        return out

    # .................................................................. verification

    def _scenario_facts(self, q: _Query, scenario: _Scenario) -> _Facts:
        day = scenario.day
        record = None
        if scenario.actions:
            record = q.record
            for action in scenario.actions:
                record = action.apply(record, day or self.ctx.as_of)
        facts = self._facts(q, day, record)
        if not scenario.overrides:
            return facts
        employee_over: dict[str, Any] = {}
        candidate_over: dict[str, Any] = {}
        for path, value in scenario.overrides.items():
            as_employee, as_candidate = _mirror(path, scenario.scope)
            if as_employee is not None:
                employee_over[as_employee] = value
            if as_candidate is not None:
                candidate_over[as_candidate] = value
        return _Facts(_apply_overrides(facts.employee, employee_over),
                      _apply_overrides(facts.candidate, candidate_over) if facts.candidate is not None else None)

    def _verify(self, q: _Query, targets: Sequence[Finding], scenarios: list[_Scenario],
                preconditions_ok: bool) -> list[Counterfactual]:
        """Re-evaluate every scenario through the engine (in one batch per engine and scope)."""
        blocking = {f.rule_key: f for f in targets}
        built = [self._scenario_facts(q, s) for s in scenarios]
        after: list[list[Finding]] = [[] for _ in scenarios]
        groups: dict[int, list[int]] = {}
        engines: dict[int, RuleEngine] = {}
        for i, scenario in enumerate(scenarios):
            engine = self._engine_for(scenario.day)
            engines[id(engine)] = engine
            groups.setdefault(id(engine), []).append(i)
        for engine_id, members in groups.items():
            engine = engines[engine_id]
            for i, found in zip(members, engine.evaluate("employee", [built[i].employee for i in members],
                                                         [q.nip] * len(members)), strict=True):
                after[i] += found
            with_pairs = [i for i in members if built[i].candidate is not None]
            if with_pairs:
                subject = pair_subject(q.nip, q.target)
                for i, found in zip(with_pairs, engine.evaluate("candidate", [built[i].candidate for i in with_pairs],
                                                                [subject] * len(with_pairs)), strict=True):
                    after[i] += found
        out: list[Counterfactual] = []
        for scenario, facts, found in zip(scenarios, built, after, strict=True):
            still = {f.rule_key for f in found if EFFECTS[f.effect].blocks}
            conditional = any(EFFECTS[f.effect].conditional for f in found)
            resolves = []
            for key, finding in blocking.items():
                expr = self._rule(finding)
                if key in still or expr is None:
                    continue
                try:
                    holds = evaluate(expr, self._scoped(facts, finding.scope))
                except EvaluationError:
                    continue
                if not holds:  # the reference interpreter agrees with the engine
                    resolves.append(key)
            if scenario.rule_key == "*":
                if len(resolves) < 2:
                    continue
            elif scenario.rule_key not in resolves:
                continue
            vetoes = self._vetoes(facts.candidate, scenario.day or self.ctx.as_of)
            still_blocking = sorted(still) + sorted(f"veto:{v.source}" for v in vetoes)
            out.append(Counterfactual(
                kind=scenario.kind,
                description=self._describe(scenario, blocking.get(scenario.rule_key),
                                           bool(still_blocking) or not preconditions_ok, conditional),
                changes=self._changes(q, scenario, facts, [blocking[k] for k in resolves]),
                effective_date=scenario.day,
                resolves=sorted(resolves),
                still_blocking=still_blocking,
                verified=True,
            ))
        order = {"time": 0, "action": 1, "impossible": 2}
        out.sort(key=lambda c: (order[c.kind], c.effective_date or dt.date.min, len(c.changes), c.resolves))
        return out

    def _changes(self, q: _Query, scenario: _Scenario, facts: _Facts, resolved: Sequence[Finding]) -> dict[str, Any]:
        """Paths the resolved rules read whose value the scenario changes (display form)."""
        if scenario.overrides and not scenario.actions and scenario.day is None:
            return {path: display_value(value) for path, value in sorted(scenario.overrides.items())}
        changes: dict[str, Any] = {}
        if scenario.day is not None:
            changes["as_of"] = scenario.day.isoformat()
        if scenario.actions:  # what the actions changed in the person's own facts (on the same day)
            before_person, now_person = self._facts(q, scenario.day).employee.employee, facts.employee.employee
            prefix = _person_prefix(scenario.scope if q.base.candidate is not None else "employee")
            for name in sorted(set(type(before_person).model_fields) - {"ext"}):
                old, new = getattr(before_person, name), getattr(now_person, name)
                if old != new:
                    changes[prefix + name] = display_value(new)
        for finding in resolved:
            expr = self._rule(finding)
            if expr is None:
                continue
            before, now = self._scoped(q.base, finding.scope), self._scoped(facts, finding.scope)
            for path in field_paths(expr):
                old, new = read_path(before, path), read_path(now, path)
                if old != new:
                    changes[path] = display_value(new)
        return dict(sorted(changes.items()))

    @staticmethod
    def _describe(scenario: _Scenario, finding: Finding | None, still: bool, conditional: bool) -> Localized:
        # The phrases are joined as they are (each already in both languages; none at all gives an empty text).
        how = Localized.model_construct(id="; ".join(p.id for p in scenario.phrases),
                                        en="; ".join(p.en for p in scenario.phrases))
        title = finding.title if finding is not None else Localized.of(N_("all the rules above"))
        if scenario.kind == "impossible":
            return Localized.of(N_("The rule «{title}» cannot be resolved within this decision: {how}."),
                                title=title, how=how)
        when: Localized | str = (Localized.of(N_(" (from {date})"), date=scenario.day.isoformat())
                                 if scenario.day else "")
        if finding is not None and EFFECTS[finding.effect].conditional:
            return Localized.of(N_("The condition «{title}» is met {how}{when}."), title=title, how=how, when=when)
        clear = not still
        if clear and conditional:
            how = Localized.of(N_("{how} (on condition that training comes first)"), how=how)
        if scenario.day is not None and scenario.kind == "time":
            day = scenario.day.isoformat()
            if clear:
                return Localized.of(N_("Eligible from {date}, {how}."), date=day, how=how)
            return Localized.of(N_("The rule «{title}» no longer blocks from {date}, {how}."), title=title, date=day,
                                how=how)
        if clear:
            return Localized.of(N_("Eligible {how}{when}."), how=how, when=when)
        if finding is None:
            return Localized.of(N_("Every blocking rule that can be resolved is resolved {how}{when}."), how=how,
                                when=when)
        return Localized.of(N_("The rule «{title}» no longer blocks {how}{when}."), title=title, how=how, when=when)


def _together(scenarios: Sequence[_Scenario]) -> _Scenario | None:
    """All the possible ways out at once (latest date, every action): what it takes to clear every rule.

    Only when it differs from each single scenario (two rules or more with a way out).
    """
    by_rule = {s.rule_key for s in scenarios}
    if len(by_rule) < 2:
        return None
    # One way out per rule: the earliest time or else the cheapest action (time first, as they are sorted).
    picked: dict[str, _Scenario] = {}
    for scenario in sorted(scenarios, key=lambda s: (s.kind != "time", s.cost)):
        picked.setdefault(scenario.rule_key, scenario)
    day = max((s.day for s in picked.values() if s.day is not None), default=None)
    unique = {a.key: a for s in picked.values() for a in s.actions}
    actions = tuple(unique[k] for k in sorted(unique))
    phrases: list[Localized] = []
    for scenario in picked.values():
        for phrase in scenario.phrases:
            if phrase not in phrases:
                phrases.append(phrase)
    return _Scenario("action" if actions else "time", "*", day=day, actions=actions, phrases=phrases,
                     scope="candidate", cost=(len(actions), day or dt.date.min))


def _combined(actions: Sequence[_Action]) -> _Action | None:
    """Several actions as one (a conjunction needs them all); None when there is none."""
    if not actions:
        return None
    if len(actions) == 1:
        return actions[0]
    return _Action(("all", "|".join(f"{a.key[0]}:{a.key[1]}" for a in actions)), tuple(actions),
                   Localized(id="; ".join(a.phrase.id for a in actions), en="; ".join(a.phrase.en for a in actions)))


def _finding_reason(finding: Finding, kind: ReasonKind) -> Reason:
    return Reason(kind=kind, code=finding.rule_key, scope=finding.scope, title=finding.title, message=finding.message,
                  facts_read=finding.facts_read, legal_basis=finding.legal_basis, basis_kind=finding.basis_kind,
                  source=finding.source,
                  ruleset_version=finding.ruleset_version, trainings=list(finding.trainings))


def _veto_reason(veto: Veto) -> Reason:
    return Reason(kind="veto", code=f"veto:{veto.source}",
                  title=Localized.of(N_("Vetoed by an agency plugin")),
                  message=veto.reason, legal_basis=veto.legal_basis, source=veto.source)


# =========================================================================== rendering

_LABELS: dict[str, str | tuple[str, str]] = {
    "title": N_("Why not"),
    "as_of": N_("Data as of {as_of}; plan date {plan_date}."),
    "eligible": N_("Eligible for a transfer to this position."),
    "conditional": N_("Eligible, on condition that training comes first."),
    "blocked": N_("Not moved to this position: {n} reason(s)."),
    "reasons": N_("Reasons"),
    "conditions": N_("Conditions (training first; not a block)"),
    "warnings": N_("Warnings"),
    "counterfactuals": N_("What would change it"),
    "none": N_("None."),
    "read": N_("values read"),
    "basis": N_("legal basis"),
    "rule": N_("rule"),
    "changes": N_("changes"),
    "resolves": N_("resolves"),
    "still": N_("still blocking"),
    "nothing_else": N_("no other rule blocks"),
    "verified": N_("re-checked through the rule engine"),
    "unresolved": N_("No verified counterfactual for"),
    "block": N_("block"),
    "veto": N_("veto"),
    "precondition": N_("precondition"),
    "warn": N_("warning"),
    "require_training": N_("training"),
    "time": N_("time"),
    "action": N_("action"),
    "impossible": N_("impossible"),
}


def _label(key: str, lang: str, **values: object) -> str:
    text = localized(_LABELS[key], lang)
    return text.format(**values) if values else text




def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "-"
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_report(report: WhyNotReport, lang: str = "id", fmt: Literal["text", "md"] = "text") -> str:
    """The report as plain text or Markdown (data values escaped in Markdown)."""
    md = fmt == "md"
    esc = md_escape if md else (lambda text: text)
    out: list[str] = []

    def heading(text: str, level: int) -> None:
        if md:
            out.extend(["#" * level + " " + esc(text), ""])
        else:
            out.extend([text, ("=" if level == 1 else "-") * len(text), ""])

    def item(text: str, depth: int = 0) -> None:
        out.append("  " * depth + "- " + esc(text))

    def reason_items(reasons: Sequence[Reason]) -> None:
        if not reasons:
            out.extend([esc(_label("none", lang)), ""])
            return
        for reason in reasons:
            item(f"[{_label(reason.kind, lang)}] {reason.title.get(lang)}: {reason.message.get(lang)}")
            read = "; ".join(f"{path} = {_shown(value)}" for path, value in sorted(reason.facts_read.items()))
            item(f"{_label('read', lang)}: {read or '-'}", 1)
            if reason.legal_basis:
                item(f"{_label('basis', lang)}: {reason.legal_basis}", 1)
            item(f"{_label('rule', lang)}: {reason.code}" + (f" ({reason.source})" if reason.source else ""), 1)
        out.append("")

    person, target = report.employee, report.position
    heading(f"{_label('title', lang)}: {person.name} ({person.nip}) -> {target.position_name} "
            f"({target.position_id})", 1)
    dates = _label("as_of", lang, as_of=report.as_of, plan_date=report.plan_date)
    out.extend([esc(f"{person.position.position_name} ({person.position.position_id}), {person.position.unit_name}"
                    f" -> {target.unit_name}. " + dates),
                ""])
    if report.eligible:
        verdict = _label("conditional" if report.would_be_conditional else "eligible", lang)
    else:
        verdict = _label("blocked", lang, n=len(report.reasons))
    out.extend([f"**{esc(verdict)}**" if md else verdict, ""])
    heading(_label("reasons", lang), 2)
    reason_items(report.reasons)
    heading(_label("conditions", lang), 2)
    reason_items(report.conditions)
    if report.warnings:
        heading(_label("warnings", lang), 2)
        reason_items(report.warnings)
    if report.counterfactuals or report.unresolved:
        heading(_label("counterfactuals", lang), 2)
        for cf in report.counterfactuals:
            when = f" {cf.effective_date.isoformat()}" if cf.effective_date else ""
            item(f"[{_label(cf.kind, lang)}{when}] {cf.description.get(lang)}")
            changes = "; ".join(f"{path} = {_shown(value)}" for path, value in cf.changes.items())
            item(f"{_label('changes', lang)}: {changes or '-'}", 1)
            item(f"{_label('resolves', lang)}: {', '.join(cf.resolves)}", 1)
            item(f"{_label('still', lang)}: {', '.join(cf.still_blocking) or _label('nothing_else', lang)}", 1)
            if cf.verified:
                item(_label("verified", lang), 1)
        if report.unresolved:
            item(f"{_label('unresolved', lang)}: {', '.join(report.unresolved)}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


__all__ = [
    "REPORT_FORMAT",
    "Counterfactual",
    "PersonRef",
    "Reason",
    "UnknownSubject",
    "WhyNot",
    "WhyNotReport",
    "check_subject",
    "render_report",
    "ways_out",
]
