"""The recommendation pipeline: from a dataset to an explained, workload-balancing transfer plan.

    workload analysis -> short positions and surplus positions -> candidate pool
    -> rules by scope (employee once per person, candidate once per surviving pair)
    -> plugin vetoes -> scores -> global plan (plan.py) -> result

The rule engine is the authority on eligibility: a pair is eligible only if no ``block``
finding fired for the person or the pair and no plugin vetoed it. The vectorised screen
(screen.py) only spares the engine the pairs a block rule certainly stops; every
finding in the result is the engine's (docs/performance.md). Every move in the
result carries the findings that were evaluated for it, its score breakdown, the
trainings it is conditional on and its effect on both units' job efficiency.

Determinism: the pipeline reads no clock; every list is sorted by a documented key
(moves by NIP, shortages by position id, alternatives by score then NIP); JSON is written
with :func:`mutasi_rules.core.canonical.canonical_json`.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules import __version__
from mutasi_rules.analysis.workload import (
    BalanceFigure,
    PositionWorkload,
    UnitWorkload,
    WorkloadCalculator,
    WorkloadReport,
    WorkloadSettings,
    figures_report,
    label_report,
)
from mutasi_rules.core.canonical import canonical_json, sha256_of
from mutasi_rules.core.runtime import fewer_collections
from mutasi_rules.data.decisions import AppliedDecision, MoveReview
from mutasi_rules.data.facts import (
    CandidateScope,
    DatasetIndex,
    EmployeeFacts,
    EmployeeScope,
    PositionFacts,
    UnitFacts,
    candidate_facts,
    context_facts,
    employee_facts,
    position_facts,
    unit_facts,
)
from mutasi_rules.data.integrity import dataset_problems
from mutasi_rules.data.models import PLAUSIBLE_RUN_DATES, Dataset, Employee, Position
from mutasi_rules.planning.plan import MoveOption, PlanError, PlanProblem, PlanSolver
from mutasi_rules.planning.scoring import (
    ProfileScore,
    ScoreComponentResult,
    ScoringSettings,
    arrival_gains,
    departure_gains,
    profile_score,
    profile_total,
    workload_benefit,
)
from mutasi_rules.plugins.manager import PluginManager, PluginSettings, load_plugins
from mutasi_rules.plugins.types import ScoreComponent, TrainingOffer, Veto
from mutasi_rules.problems import Problems
from mutasi_rules.rules.engine import DURABLE, Finding, RuleEngine
from mutasi_rules.rules.rulesets import (
    EFFECTS,
    Effect,
    LoadedRuleSet,
    Localized,
    RuleSetRef,
    default_rules_dir,
    load_rulesets,
)
from mutasi_rules.rules.screen import PairScreen

RESULT_FORMAT: Final = "mutasi-rules.recommendation/1"
SHORT_LABEL = "kekurangan"
SURPLUS_LABEL = "kelebihan"

Progress = Callable[[str, int, int], None]  # (stage, done, total)


# --------------------------------------------------------------------------- options


class RecommendOptions(BaseModel):
    """Everything besides the dataset that decides a run (recorded with every decision)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: dt.date | None = Field(default=None, description="Default: the dataset's metadata.as_of")
    plan_date: dt.date | None = Field(default=None, description="Intended transfer date; default: as_of")
    rules: list[str] = Field(default_factory=list, description="Rule files or directories; empty: the default rules/")
    plugins: PluginSettings = Field(default_factory=PluginSettings)
    use_plugins: bool = Field(default=True, description="Load installed and explicit plugins")
    max_moves: int | None = Field(default=None, ge=0)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    workload: WorkloadSettings = Field(default_factory=WorkloadSettings)
    alternatives_per_position: int = Field(default=5, ge=0, description="Ranked alternatives kept per shortage")


# --------------------------------------------------------------------------- result


class PositionRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    position_id: str
    position_name: str
    unit_id: str
    unit_name: str
    opd_id: str


class EjChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    position_ej_before: float | None
    position_ej_after: float | None
    opd_ej_before: float | None
    opd_ej_after: float | None


class TrainingNeed(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    required_by: list[str] = Field(description="'<ruleset>/<rule>' of every rule that requires it")
    offer: TrainingOffer | None = Field(description="From the plugins' training catalogue, if offered")


TEMPORARY_LABEL = "penugasan_sementara"
"""The ``classify`` label of a candidate rule that allows a move to be a time-bounded assignment."""


class TimeBoundedAssignment(BaseModel):
    """A move that serves temporary workload only: the person returns to ``return_to`` after ``until``."""

    model_config = ConfigDict(frozen=True)

    start: dt.date = Field(description="The plan date, or the start of the temporary workload if later")
    until: dt.date = Field(description="End of the target post's temporary workload; the assignment ends then")
    return_to: PositionRef = Field(description="The person's own post, kept and returned to")
    allowed_by: list[str] = Field(description="'<ruleset>/<rule>' of the classify rules that allowed it")


class Move(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    nip: str
    name: str
    from_: PositionRef = Field(alias="from")
    to: PositionRef
    status: Literal["recommended", "conditional"]
    score: float
    score_breakdown: list[ScoreComponentResult]
    profile: ProfileScore
    findings: list[Finding] = Field(description="Every rule that fired for the person and the pair")
    rules_passed: list[str] = Field(
        description="'<ruleset>/<rule>' of the employee and candidate rules that apply to the person and "
        "the pair and did not fire"
    )
    trainings_required: list[TrainingNeed]
    source_effect: EjChange
    target_effect: EjChange
    assignment: TimeBoundedAssignment | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="Present when the move is a time-bounded assignment rather than a transfer")
    review: MoveReview | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="Present when a reviewer pinned the move: who, why, and every rule the pin overrides",
    )


Outcome = Literal[
    "chosen", "outscored", "chosen_elsewhere", "withheld_for_balance", "constraint", "blocked", "vetoed",
    "review",
]


#: Alternatives are listed chosen first, then the eligible by score, then vetoed, then blocked.
_OUTCOME_ORDER: dict[str, int] = {"chosen": 0, "outscored": 1, "chosen_elsewhere": 1, "withheld_for_balance": 1,
                                  "constraint": 1, "review": 1, "vetoed": 2, "blocked": 3}


class Alternative(BaseModel):
    model_config = ConfigDict(frozen=True)

    nip: str
    name: str
    from_position_id: str
    score: float | None = Field(description="Null for blocked or vetoed candidates (not scored)")
    outcome: Outcome
    reason: Localized
    blocking: list[Finding] = Field(default_factory=list)
    vetoes: list[Veto] = Field(default_factory=list)


class ShortageReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    position: PositionRef
    shortage: int = Field(description="Persons the position may receive (rounded staff needed - bezetting)")
    received: int
    remaining: int
    ej_before: float | None
    ej_after: float | None
    candidates_considered: int
    candidates_eligible: int
    alternatives: list[Alternative] = Field(description="Best first: chosen, then by score, then NIP")
    unfilled_reason: Localized | None = None


class UnitChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit_id: str
    name: str
    moves_out: int
    moves_in: int
    ej_before: float | None
    ej_after: float | None


class ExcludedEmployee(BaseModel):
    """A person in a surplus position who cannot be moved at all, and why."""

    model_config = ConfigDict(frozen=True)

    nip: str
    name: str
    position_id: str
    findings: list[Finding]


class PluginRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    source: str


class RunInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    library_version: str
    dataset: str
    dataset_sha256: str = Field(description="SHA-256 of the canonical JSON of the dataset")
    as_of: dt.date
    plan_date: dt.date
    rulesets: list[RuleSetRef]
    plugins: list[PluginRef]
    skipped_plugins: list[str] = Field(default_factory=list)
    options: RecommendOptions
    parent_run_id: str | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="A re-plan: the run it was re-made from (absent for a first plan)",
    )
    review_decisions: list[AppliedDecision] = Field(
        default_factory=list, exclude_if=lambda value: not value,
        description="A re-plan: every review decision of its lineage it honours, by id (absent for a first plan)",
    )


class RecommendationResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: Literal["mutasi-rules.recommendation/1"] = RESULT_FORMAT
    run: RunInfo
    balance_before: BalanceFigure
    balance_after: BalanceFigure
    moves: list[Move] = Field(description="Sorted by NIP")
    shortages: list[ShortageReport] = Field(description="Every short position, sorted by position id")
    units: list[UnitChange] = Field(description="OPD-level units touched by the plan, sorted by id")
    excluded: list[ExcludedEmployee] = Field(description="Surplus staff blocked for any move, sorted by NIP")
    trainings_total: list[TrainingNeed] = Field(description="Trainings the conditional moves need, by name")
    warnings: list[str] = Field(default_factory=list)

    def to_json(self, *, indent: int | None = 2) -> str:
        from mutasi_rules.core.canonical import canonical_json

        with fewer_collections():  # tens of MB of acyclic dicts and strings for a city
            return canonical_json(self.model_dump(mode="json", by_alias=True), indent=indent)


# --------------------------------------------------------------------------- pipeline


def _ref(position: Position, index: DatasetIndex) -> PositionRef:
    return PositionRef(
        position_id=position.id,
        position_name=position.name,
        unit_id=position.unit_id,
        unit_name=index.units[position.unit_id].name,
        opd_id=index.opd_of(position.unit_id),
    )


def _blocking(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if EFFECTS[f.effect].blocks]


def run_date_problems(dataset: Dataset, options: RecommendOptions) -> Problems:
    """Problems of the dates a run is computed for: implausible, a plan before ``as_of``, nobody born yet.

    Checked by :class:`RunContext` (an :class:`InputError`); front ends check first and
    report a usage error.
    """
    problems = Problems()
    as_of = options.as_of or dataset.metadata.as_of
    plan_date = options.plan_date or as_of
    low, high = PLAUSIBLE_RUN_DATES
    for name, day in (("as_of", as_of), ("plan_date", plan_date)):
        if not low <= day <= high:
            problems.error("options.date_implausible", f"{name} {day.isoformat()} is not a plausible date for a run "
                           f"({low.isoformat()} to {high.isoformat()})", field=name, value=day.isoformat())
    if plan_date < as_of:
        problems.error("options.plan_before_as_of", f"plan_date {plan_date.isoformat()} is before as_of "
                       f"{as_of.isoformat()}: a transfer is planned on or after the day the data describes",
                       field="plan_date", value=plan_date.isoformat())
    births = [e.birth_date for e in dataset.employees]
    if births and as_of < min(births):
        problems.error("options.as_of_before_births", f"as_of {as_of.isoformat()} is before every employee's birth "
                       f"date (the earliest is {min(births).isoformat()}): a typing slip?", field="as_of",
                       value=as_of.isoformat())
    return problems


class RunContext:
    """What one run prepares once and every later step reads.

    The dataset index, the ``as_of`` date, the labelled workload report (which positions
    are short and which have surplus), and fact builders that cache and apply plugin
    enrichment. The recommendation pipeline, why-not queries and audit replays all build
    their facts here, so a fact means the same thing wherever it is evaluated.
    """

    def __init__(self, dataset: Dataset, options: RecommendOptions, plugins: PluginManager | None,
                 rulesets: list[LoadedRuleSet]) -> None:
        self.dataset = dataset
        self.options = options
        self.plugins = plugins
        self.rulesets = rulesets
        run_date_problems(dataset, options).raise_if_errors("run dates")
        self.as_of = options.as_of or dataset.metadata.as_of
        self.plan_date = options.plan_date or self.as_of
        self.index = DatasetIndex(dataset)
        self.context = context_facts(self.as_of, dataset, self.plan_date)
        self.extensions = plugins.fact_attributes() if plugins else []
        #: The enrich hook runs per candidate pair only if some plugin declares a candidate attribute.
        self.enrich_candidates = any(attr.entity == "candidate" for attr in self.extensions)
        self.calc = WorkloadCalculator(dataset, options.workload, self.index)
        self.employees = {e.nip: e for e in dataset.employees}
        self.report: WorkloadReport = label_report(
            figures_report(dataset, as_of=self.as_of, settings=options.workload),
            dataset, rulesets, extensions=self.extensions,
        )
        self.pw: dict[str, PositionWorkload] = {p.position_id: p for p in self.report.positions}
        self.uw: dict[str, UnitWorkload] = {u.unit_id: u for u in self.report.units}
        #: Target position -> persons it may receive (short by the staffing-norm labels).
        settings = options.workload
        self.shortages: dict[str, int] = {
            pid: limit for pid, p in self.pw.items()
            if SHORT_LABEL in p.labels and (limit := receive_limit(p, settings.band_low)) >= 1
        }
        #: Source position -> persons it may release.
        self.surplus: dict[str, int] = {
            pid: limit for pid, p in self.pw.items()
            if SURPLUS_LABEL in p.labels and (limit := release_limit(p, settings.band_high)) >= 1
        }
        #: Per screen setting: the decision-independent part of a run (see _Run.planning).
        self.planning: dict[bool, _Planning] = {}
        self._positions: dict[str, PositionFacts] = {}
        self._units: dict[str, UnitFacts] = {}
        self._employees: dict[str, EmployeeFacts] = {}

    @functools.cached_property
    def dataset_json(self) -> str:
        """The dataset's canonical JSON (~1 s at 7,000 employees: built once per context)."""
        return canonical_json(self.dataset)

    @functools.cached_property
    def dataset_sha256(self) -> str:
        """SHA-256 of the dataset's canonical JSON (the result's ``run.dataset_sha256``)."""
        return sha256_of(self.dataset_json)

    @functools.cached_property
    def dataset_blob(self) -> bytes:
        """The canonical JSON zlib-compressed, as the decision log stores it (re-plans record it again)."""
        return zlib.compress(self.dataset_json.encode("utf-8"), 9)

    def engine(self, as_of: dt.date | None = None) -> RuleEngine:
        """An evaluator of the run's rule sets (on ``as_of``, default the run's) from the rule backend."""
        return DURABLE.evaluator(self.rulesets, as_of or self.as_of, self.extensions)

    def enrich(self, entity: str, subject: str, record: Any, facts: Any) -> Any:
        if self.plugins is None:
            return facts
        return self.plugins.enrich_model(entity, subject, record, facts, self.dataset, self.as_of)

    def position_facts(self, pid: str) -> PositionFacts:
        if pid not in self._positions:
            position = self.index.positions[pid]
            base = position_facts(position, self.index, self.pw[pid].figures())
            self._positions[pid] = self.enrich("position", pid, position, base)
        return self._positions[pid]

    def unit_facts(self, uid: str) -> UnitFacts:
        if uid not in self._units:
            base = unit_facts(self.index.units[uid], self.index, self.uw[uid].figures())
            self._units[uid] = self.enrich("unit", uid, self.index.units[uid], base)
        return self._units[uid]

    def employee_facts(self, nip: str) -> EmployeeFacts:
        if nip not in self._employees:
            employee = self.employees[nip]
            base = employee_facts(employee, self.index, self.as_of)
            self._employees[nip] = self.enrich("employee", nip, employee, base)
        return self._employees[nip]

    def employee_scope(self, nip: str) -> EmployeeScope:
        return EmployeeScope(as_of=self.as_of, context=self.context, employee=self.employee_facts(nip))

    def candidate_scope(self, nip: str, target: str) -> CandidateScope:
        employee = self.employees[nip]
        source = employee.position_id
        base = candidate_facts(
            employee, self.employee_facts(nip), self.position_facts(target), self.position_facts(source),
            self.unit_facts(self.index.positions[source].unit_id),
            self.unit_facts(self.index.positions[target].unit_id),
            self.index.positions[target], self.as_of,
        )
        if self.enrich_candidates:
            base = self.enrich("candidate", pair_subject(nip, target), employee, base)
        return CandidateScope(as_of=self.as_of, context=self.context, candidate=base)


def receive_limit(position: PositionWorkload, band_low: float) -> int:
    """Persons a short position may receive.

    At most its staffing gap (rounded staff needed - bezetting), and no more than keeps
    its job efficiency inside the balanced band: a post needing 2.5 people with 1 in post
    takes 1 more (EJ 1.25), not 2 (EJ 0.83, then in surplus). A vacancy with any workload
    may always take its first person.
    """
    if position.gap is None or position.staff_needed is None:
        return 0
    in_band = (math.floor(round(position.staff_needed / band_low, 6)) - position.bezetting if band_low > 0
               else position.gap)
    if position.bezetting == 0 and position.staff_needed > 0:
        in_band = max(in_band, 1)
    return max(0, min(int(position.gap), int(in_band)))


def release_limit(position: PositionWorkload, band_high: float) -> int:
    """Persons a surplus position may release.

    At most its surplus (bezetting - rounded staff needed), and no more than keeps its job
    efficiency inside the band: two people on a post needing 1.4 may not become one
    (EJ 1.40, overloaded). A post with any workload keeps at least one person.
    """
    if position.gap is None or position.staff_needed is None:
        return 0
    keep = math.ceil(round(position.staff_needed / band_high, 6))
    if position.staff_needed > 0:
        keep = max(keep, 1)
    return max(0, min(int(-position.gap), position.bezetting - keep))


def rule_overridable(rulesets: Sequence[LoadedRuleSet], finding: Finding) -> bool:
    """Whether the rule behind ``finding`` allows an override (``overridable: true``): a reviewer's pin
    may set it aside."""
    for loaded in rulesets:
        if loaded.id == finding.ruleset_id and loaded.version == finding.ruleset_version:
            return any(rule.overridable for rule in loaded.rules if rule.id == finding.rule_id)
    return False


def pair_subject(nip: str, position_id: str) -> str:
    """The subject id of a candidate pair in findings."""
    return f"{nip}->{position_id}"


#: The vectorised candidate screen is on; tests switch it off per run (_Run(screen=False)).
_SCREEN = True


def _score_points(finding: Finding) -> float:
    """The points of a score finding (the checker requires them on every score rule)."""
    if finding.points is None:
        raise ValueError(f"score rule {finding.rule_key} gave no points")
    return finding.points


@dataclass(frozen=True, slots=True)
class _PairScore:
    """The score of one eligible pair as plain numbers.

    Every eligible pair needs its total (the plan maximises it); only moves show the
    breakdown. Both come from :meth:`points`, so the total is the sum of the breakdown.
    """

    profile: float  # profile-matching score, 0-5
    benefit: float  # EJ imbalance the move removes
    rules: tuple[Finding, ...]  # score findings of the person and the pair
    plugins: tuple[ScoreComponent, ...]
    settings: ScoringSettings

    def points(self) -> list[float]:
        return [
            round(self.profile * self.settings.profile_points, 6),
            round(self.benefit * self.settings.workload_points, 6),
            *(_score_points(f) for f in self.rules),
            *(c.points for c in self.plugins),
        ]

    @property
    def total(self) -> float:
        return round(sum(self.points()), 6)

    def breakdown(self) -> list[ScoreComponentResult]:
        points = self.points()
        parts = [
            ScoreComponentResult(name="profile_matching", origin="profile", points=points[0],
                                 source="mutasi_rules.scoring (GAP)",
                                 detail={"score": self.profile, "points_per_unit": self.settings.profile_points}),
            ScoreComponentResult(name="workload_balance", origin="workload", points=points[1],
                                 source="mutasi_rules.scoring (EJ)",
                                 detail={"imbalance_removed": self.benefit,
                                         "points_per_unit": self.settings.workload_points}),
        ]
        parts.extend(
            ScoreComponentResult(
                name=f.component or f.rule_id, origin="rule", points=_score_points(f),
                source=f"{f.ruleset_id}/{f.rule_id}@{f.ruleset_version} ({f.source})",
            )
            for f in self.rules
        )
        parts.extend(
            ScoreComponentResult(name=c.name, origin="plugin", points=c.points, source=c.source,
                                 detail={"reason": c.reason.model_dump()})
            for c in self.plugins
        )
        return parts


@dataclass
class _CandidateStage:
    """What the candidate stage hands to the plan and the reports."""

    considered: dict[str, int]  # target -> pairs considered (screened ones included)
    by_target: dict[str, list[Employee]]  # target -> employees the engine evaluated for it, by NIP
    evaluated: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    items: list[tuple[tuple[Employee, str], dict[str, Any]]] = field(default_factory=list)
    options: list[MoveOption] = field(default_factory=list)


@dataclass
class _Planning:
    """The part of a run review decisions do not change, prepared once per context and reused by re-plans.

    Employee rules, the candidate stage (every pair's findings and score), the plan problem
    and, once solved, the solver holding its last basis (a re-plan warm-starts from it).
    """

    employee_findings: dict[str, list[Finding]]
    excluded: list[ExcludedEmployee]
    targets: list[str]
    stage: _CandidateStage
    engine: RuleEngine  # closed; still answers which rules apply (Move.rules_passed)
    problem: PlanProblem
    solver: PlanSolver | None = None

    def options_by(self, what: Literal["nip", "target"]) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for option in self.problem.options:
            found[option.nip if what == "nip" else option.target_position_id].append(option.key)
        return found

    def option_keys(self) -> set[tuple[str, str]]:
        return {option.key for option in self.problem.options}


@dataclass
class _Review:
    """The review decisions of one run applied to its planning: what the plan must and must not do."""

    evaluated: dict[tuple[str, str], dict[str, Any]]
    employee_findings: dict[str, list[Finding]]
    by_target: dict[str, list[Employee]]  # shortage lists that gained a pinned person
    forced: set[tuple[str, str]] = field(default_factory=set)
    forbidden: set[tuple[str, str]] = field(default_factory=set)
    reasons: dict[tuple[str, str], AppliedDecision] = field(default_factory=dict)  # why a move is forbidden
    held: dict[str, AppliedDecision] = field(default_factory=dict)
    pins: dict[tuple[str, str], MoveReview] = field(default_factory=dict)
    solver: PlanSolver | None = None


class _Run:
    """One pipeline run over a prepared :class:`RunContext` (kept out of the public API).

    ``decisions``: review decisions to honour (a re-plan); ``parent_run_id``: the run re-planned.
    """

    def __init__(self, ctx: RunContext, progress: Progress | None, *, screen: bool | None = None,
                 decisions: Sequence[AppliedDecision] = (), parent_run_id: str | None = None) -> None:
        self.ctx = ctx
        self.decisions = sorted(decisions, key=lambda d: d.id)
        self.parent_run_id = parent_run_id
        self.warnings: list[str] = []
        #: Pre-screen candidate pairs with the vectorised block rules (mutasi_rules.rules.screen);
        #: off, every pair goes through the engine (the reference the screened run must equal).
        self.screen = _SCREEN if screen is None else screen
        # Per-pair hooks no plugin implements are not called (a call costs ~2 to 60 us per pair).
        self.vetoing = bool(ctx.plugins and ctx.plugins.call_order("mutasi_rules_veto_candidate"))
        self.scoring_plugins = bool(ctx.plugins and ctx.plugins.call_order("mutasi_rules_score_candidate"))
        self.dataset = ctx.dataset
        self.options = ctx.options
        self.plugins = ctx.plugins
        self.rulesets = ctx.rulesets
        self.progress = progress or (lambda stage, done, total: None)
        self.as_of = ctx.as_of
        self.plan_date = ctx.plan_date
        self.index = ctx.index
        self.calc = ctx.calc
        self.employees = ctx.employees

    def planning(self) -> _Planning:
        """The decision-independent part of the run, computed once per context (re-plans reuse it)."""
        cached = self.ctx.planning.get(self.screen)
        if cached is None:
            cached = self.ctx.planning[self.screen] = self.make_planning()
        return cached

    def make_planning(self) -> _Planning:
        opts = self.options
        ctx = self.ctx
        report, shortages, surplus = ctx.report, ctx.shortages, ctx.surplus
        # Candidate pool: staff of surplus positions who are not candidates for appointment.
        pool = sorted(
            (e for e in self.dataset.employees if e.position_id in surplus),
            key=lambda e: e.nip,
        )
        with ctx.engine() as engine:
            self.progress("employee rules", 0, len(pool))
            employee_findings = dict(zip(
                [e.nip for e in pool],
                engine.evaluate("employee", [ctx.employee_scope(e.nip) for e in pool], [e.nip for e in pool]),
                strict=True,
            ))
            self.progress("employee rules", len(pool), len(pool))
            movable = [e for e in pool if not _blocking(employee_findings[e.nip])]
            excluded = [
                ExcludedEmployee(nip=e.nip, name=e.name, position_id=e.position_id,
                                 findings=employee_findings[e.nip])
                for e in pool if _blocking(employee_findings[e.nip])
            ]

            targets = sorted(shortages)
            stage = self.candidate_stage(engine, movable, targets, employee_findings)
        unit_release = {
            u.unit_id: max(0, int(u.bezetting_with_data - (u.staff_needed_rounded or 0)))
            for u in report.units if u.is_opd and u.staff_needed_rounded is not None
        }
        constraints = self.plugins.plan_constraints(self.dataset, self.as_of) if self.plugins else []
        problem = PlanProblem(
            options=stage.options,
            receive_limit=shortages,
            release_limit=surplus,
            unit_release_limit=unit_release,
            min_staff=[c.to_min_staff(self.dataset, self.index.bezetting) for c in constraints],
            max_moves=opts.max_moves,
            arrival_gain={t: self.gain_points(t, n, arrival=True) for t, n in shortages.items()},
            departure_gain={s: self.gain_points(s, n, arrival=False) for s, n in surplus.items()},
        )
        return _Planning(employee_findings=employee_findings, excluded=excluded, targets=targets, stage=stage,
                         engine=engine, problem=problem)

    def gain_points(self, position_id: str, count: int, *, arrival: bool) -> list[float]:
        """Points of the 1st, 2nd, ... ``count``-th arrival at (or departure from) a position."""
        figures = self.ctx.pw[position_id]
        curve = arrival_gains if arrival else departure_gains
        points = self.options.scoring.workload_points
        return [round(g * points, 6)
                for g in curve(figures.workload_hours, figures.bezetting, count, self.calc.hours)]

    def run(self) -> RecommendationResult:
        ctx = self.ctx
        report, pw, uw = ctx.report, ctx.pw, ctx.uw
        shortages = ctx.shortages
        planning = self.planning()
        review = self.apply_review(planning)
        evaluated, employee_findings = review.evaluated, review.employee_findings
        catalogue = {o.name.casefold(): o for o in (self.plugins.training_catalogue() if self.plugins else [])}

        self.progress("plan", 0, 1)
        assert review.solver is not None, "apply_review always prepares the solver"
        chosen, withheld = self.balanced_plan(review.solver, review.forced, review.forbidden, report.balance)
        self.progress("plan", 1, 1)
        delta = self.delta(chosen)
        after_positions = {p.position_id: p for p in self.calc.positions(delta)}
        after_units_list = self.calc.units(delta, list(after_positions.values()))
        after_units = {u.unit_id: u for u in after_units_list}

        moves = [
            # applicable_rule_keys reads only the compiled rules, so the closed engine still answers.
            self.move(nip, target, evaluated[(nip, target)], employee_findings[nip],
                      self.checked_rules(planning.engine, nip, target),
                      pw, uw, after_positions, after_units, catalogue, review.pins.get((nip, target)))
            for nip, target in sorted(chosen)
        ]
        moves = self.time_bounded(moves)
        shortage_reports = [
            self.shortage_report(target, shortages[target], planning.stage.considered[target],
                                 review.by_target.get(target, planning.stage.by_target[target]),
                                 evaluated, chosen, withheld, pw, after_positions, review)
            for target in planning.targets
        ]
        touched = sorted({m.from_.opd_id for m in moves} | {m.to.opd_id for m in moves})
        units = [
            UnitChange(
                unit_id=u,
                name=self.index.units[u].name,
                moves_out=sum(1 for m in moves if m.from_.opd_id == u and m.to.opd_id != u),
                moves_in=sum(1 for m in moves if m.to.opd_id == u and m.from_.opd_id != u),
                ej_before=uw[u].ej,
                ej_after=after_units[u].ej,
            )
            for u in touched
        ]
        totals: dict[str, TrainingNeed] = {}
        for move in moves:
            for need in move.trainings_required:
                key = need.name.casefold()
                previous = totals.get(key)
                rules = sorted(set(need.required_by) | set(previous.required_by if previous else []))
                totals[key] = need.model_copy(update={"required_by": rules})
        warnings = list(report.warnings)
        if not shortages:
            warnings.append("no position is short of staff by the staffing-norm rules: nothing to plan")
        warnings.extend(self.warnings)
        return RecommendationResult(
            run=self.run_info(),
            balance_before=report.balance,
            balance_after=self.calc.balance(delta, after_units_list),
            moves=moves,
            shortages=shortage_reports,
            units=units,
            excluded=planning.excluded,
            trainings_total=[totals[k] for k in sorted(totals)],
            warnings=warnings,
        )

    def time_bounded(self, moves: list[Move]) -> list[Move]:
        """Mark the moves that serve only a target's temporary workload as time-bounded assignments.

        A post with temporary tasks keeps as permanent transfers the moves its permanent
        workload alone would take (:func:`receive_limit` on the figures without the
        temporary tasks), the best scores first (ties: NIP); each further move into it
        becomes a time-bounded assignment, if a candidate rule labelled the pair
        ``penugasan_sementara`` (``national.temporary-assignment``; an agency may forbid it
        by replacing that rule). Otherwise it stays a transfer.
        """
        by_target: dict[str, list[Move]] = defaultdict(list)
        for move in moves:
            by_target[move.to.position_id].append(move)
        assigned: dict[str, TimeBoundedAssignment] = {}
        for target, into in by_target.items():
            position = self.index.positions[target]
            temporary = [t for t in position.tasks or () if t.temporary_until is not None]
            figures = self.ctx.pw[target]
            if not temporary or figures.workload_hours is None:
                continue
            permanent_hours = figures.workload_hours - math.fsum(t.volume_per_year * t.norm_minutes / 60.0
                                                                 for t in temporary)
            needed = max(0.0, permanent_hours) / self.calc.hours
            rounded = self.options.workload.round_staff(needed) or 0
            permanent = receive_limit(figures.model_copy(update={"staff_needed": needed,
                                                                  "gap": rounded - figures.bezetting}),
                                      self.options.workload.band_low)
            until = max(t.temporary_until for t in temporary if t.temporary_until is not None)
            starts = [t.temporary_from for t in temporary if t.temporary_from is not None]
            start = max(self.plan_date, min(starts)) if len(starts) == len(temporary) else self.plan_date
            ranked = sorted(into, key=lambda m: (-m.score, m.nip))
            for move in ranked[permanent:]:
                allowed = sorted(f.rule_key for f in move.findings
                                 if f.effect is Effect.CLASSIFY and f.label == TEMPORARY_LABEL
                                 and f.scope == "candidate")
                if allowed and until > start:
                    assigned[move.nip] = TimeBoundedAssignment(start=start, until=until, return_to=move.from_,
                                                               allowed_by=allowed)
        return [m.model_copy(update={"assignment": assigned[m.nip]}) if m.nip in assigned else m for m in moves]

    def apply_review(self, planning: _Planning) -> _Review:
        """The plan problem with the review decisions: rejected, held and excluded moves forbidden, pins forced.

        A pin on a pair that is already a plan option only forces it, and the prepared solver
        is reused (a warm start). A pin on any other pair (blocked by overridable rules only,
        or outside the surplus/shortage pool) is evaluated here through the engine, scored and
        added as an option; its blocking rules become the recorded human override.
        """
        review = _Review(evaluated=planning.stage.evaluated, employee_findings=planning.employee_findings,
                         by_target={})
        options_of_person: dict[str, list[tuple[str, str]]] = planning.options_by("nip")
        options_to: dict[str, list[tuple[str, str]]] = planning.options_by("target")
        pin_decisions: list[AppliedDecision] = []
        for decision in self.decisions:
            if decision.action == "reject":
                review.reasons.setdefault(decision.move, decision)
                review.forbidden.add(decision.move)
            elif decision.action == "exclude_employee":
                for key in options_of_person.get(decision.nip_given, ()):
                    review.reasons.setdefault(key, decision)
                    review.forbidden.add(key)
            elif decision.action == "hold_position":
                review.held[decision.position_given] = decision
                for key in options_to.get(decision.position_given, ()):
                    review.reasons.setdefault(key, decision)
                    review.forbidden.add(key)
            else:
                pin_decisions.append(decision)
        known = planning.option_keys()
        outside = [d for d in pin_decisions if d.pair not in known]
        for decision in pin_decisions:
            review.forced.add(decision.move)
        review.forbidden -= review.forced  # validation refuses such conflicts; a pin wins if one slips through
        if not outside:
            if planning.solver is None:
                planning.solver = PlanSolver(planning.problem)
            review.solver = planning.solver
            for decision in pin_decisions:
                review.pins[decision.move] = MoveReview(
                    decision=decision.id, reviewer=decision.reviewer, reason=decision.reason, date=decision.date)
            return review
        # Pins outside the prepared options: evaluate and score them, then solve a model that includes them.
        review.evaluated = dict(planning.stage.evaluated)
        review.employee_findings = dict(planning.employee_findings)
        scratch = _CandidateStage(considered={}, by_target=defaultdict(list))
        with self.ctx.engine() as engine:
            people = sorted({d.nip_given for d in outside if d.nip_given not in review.employee_findings})
            found = engine.evaluate("employee", [self.ctx.employee_scope(n) for n in people], people)
            review.employee_findings.update(zip(people, found, strict=True))
            # Pairs the engine never saw, and blocked ones (evaluated but never scored): again, scored.
            pairs = [(self.employees[d.nip_given], d.position_given) for d in outside
                     if "pair_score" not in review.evaluated.get(d.move, {})]
            self.evaluate_pairs(engine, pairs, review.employee_findings, scratch, force=True)
        review.evaluated.update(scratch.evaluated)
        new_options = {o.key: o for o in scratch.options}
        for decision in pin_decisions:
            nip, target = decision.move
            entry = review.evaluated[(nip, target)]
            if entry["vetoes"]:
                raise PlanError(f"pin {decision.id}: {pair_subject(nip, target)} is vetoed by an agency plugin; "
                                "a veto cannot be overridden")
            overridden = [*_blocking(review.employee_findings[nip]), *entry["blocked"]]
            not_overridable = [f.rule_key for f in overridden if not rule_overridable(self.rulesets, f)]
            if not_overridable:
                raise PlanError(f"pin {decision.id}: {pair_subject(nip, target)} is blocked by rules that cannot be "
                                f"overridden: {', '.join(not_overridable)}")
            if (nip, target) not in known and (nip, target) not in new_options:
                new_options[(nip, target)] = self.option(self.employees[nip], target, entry)
            review.pins[(nip, target)] = MoveReview(
                decision=decision.id, reviewer=decision.reviewer, reason=decision.reason, date=decision.date,
                overridden=sorted({f.rule_key for f in overridden}))
            if target in planning.stage.by_target and (nip, target) not in known:
                listed = review.by_target.setdefault(target, list(planning.stage.by_target[target]))
                if all(e.nip != nip for e in listed):
                    listed.append(self.employees[nip])
                    listed.sort(key=lambda e: e.nip)
        problem = planning.problem
        arrival, departure = dict(problem.arrival_gain), dict(problem.departure_gain)
        for option in new_options.values():
            pinned_to = sum(1 for d in pin_decisions if d.position == option.target_position_id)
            pinned_from = sum(1 for d in pin_decisions
                              if self.employees[d.nip_given].position_id == option.source_position_id)
            target, source = option.target_position_id, option.source_position_id
            arrival[target] = self.gain_points(target, problem.receive_limit.get(target, 0) + pinned_to, arrival=True)
            departure[source] = self.gain_points(source, problem.release_limit.get(source, 0) + pinned_from,
                                                 arrival=False)
        review.solver = PlanSolver(problem.model_copy(update={
            "options": [*problem.options, *new_options.values()], "arrival_gain": arrival,
            "departure_gain": departure,
        }))
        return review

    def option(self, employee: Employee, target: str, entry: dict[str, Any]) -> MoveOption:
        pair_score: _PairScore = entry["pair_score"]
        source_position = self.index.positions[employee.position_id]
        return MoveOption(
            nip=employee.nip,
            source_position_id=source_position.id,
            source_unit_id=self.index.opd_of(source_position.unit_id),
            target_position_id=target,
            target_unit_id=self.index.opd_of(self.index.positions[target].unit_id),
            score=entry["score"],
            balance_points=pair_score.points()[1],
        )

    def candidate_stage(self, engine: RuleEngine, movable: list[Employee], targets: list[str],
                        employee_findings: dict[str, list[Finding]]) -> _CandidateStage:
        """Candidate rules, vetoes and scores for every (movable employee, short position) pair.

        The vectorised screen (mutasi_rules.rules.screen) marks the pairs some ``block`` rule
        surely stops; the engine evaluates every other pair, and of the blocked ones only
        those a shortage report lists as alternatives (the first by NIP after the
        eligible ones), so every finding in the result is the engine's.
        """
        ctx = self.ctx
        n, m = len(movable), len(targets)
        column = {t: j for j, t in enumerate(targets)}
        own = np.array([column.get(e.position_id, -1) for e in movable], dtype=np.int64)
        pair = np.ones((n, m), dtype=bool)
        inside = np.flatnonzero(own >= 0)
        pair[inside, own[inside]] = False  # nobody is a candidate for the post they hold
        screened = np.zeros((n, m), dtype=bool)
        if self.screen and n and m:
            self.progress("candidate screen", 0, m)
            screen = PairScreen(ctx, [e.nip for e in movable], targets)
            for start, stop, blocked in screen.chunks():
                screened[:, start:stop] = blocked
                self.progress("candidate screen", stop, m)
        screened &= pair
        rows, cols = np.nonzero(pair & ~screened)  # row-major: by NIP, then position id
        stage = _CandidateStage(
            considered={t: int(pair[:, j].sum()) for j, t in enumerate(targets)},
            by_target={t: [] for t in targets},
        )
        survivors = [(movable[i], targets[j]) for i, j in zip(rows.tolist(), cols.tolist(), strict=True)]
        self.progress("candidate rules", 0, len(survivors))
        self.evaluate_pairs(engine, survivors, employee_findings, stage)
        self.progress("candidate rules", len(survivors), len(survivors))
        # Blocked alternatives a report may list: the first by NIP after the unblocked ones.
        extra: list[tuple[Employee, str]] = []
        engine_blocked = np.zeros((n, m), dtype=bool)
        row_of = {e.nip: i for i, e in enumerate(movable)}
        for (employee, target), entry in stage.items:
            if entry["blocked"]:
                engine_blocked[row_of[employee.nip], column[target]] = True
        for j, target in enumerate(targets):
            unblocked = sum(1 for e in stage.by_target[target] if not stage.evaluated[(e.nip, target)]["blocked"])
            room = max(self.options.alternatives_per_position, ctx.shortages[target]) - unblocked
            if room <= 0 or not screened[:, j].any():
                continue
            shown = np.flatnonzero(screened[:, j] | engine_blocked[:, j])[:room]
            extra.extend((movable[i], target) for i in shown.tolist() if screened[i, j])
        extra.sort(key=lambda pair_: (pair_[0].nip, pair_[1]))
        self.evaluate_pairs(engine, extra, employee_findings, stage)
        for (employee, target), entry in stage.items[len(survivors):]:
            if not entry["blocked"]:
                raise RuntimeError(f"screen error: {pair_subject(employee.nip, target)} was screened out but the "
                                   "engine does not block it")
        for target in targets:
            stage.by_target[target].sort(key=lambda e: e.nip)
        return stage

    def evaluate_pairs(self, engine: RuleEngine, pairs: Sequence[tuple[Employee, str]],
                       employee_findings: dict[str, list[Finding]], stage: _CandidateStage, *,
                       force: bool = False) -> None:
        """Findings, vetoes and (when eligible) scores and plan options of ``pairs``, into ``stage``.

        An eligible pair keeps its score as numbers (:class:`_PairScore`); the pydantic
        breakdown is built only for the pairs that become moves (:meth:`move`). ``force``
        (pinned pairs): a blocked pair is scored too, and no option is added.
        """
        ctx = self.ctx
        facts = [ctx.candidate_scope(e.nip, t) for e, t in pairs]
        found_all = engine.evaluate("candidate", facts, [pair_subject(e.nip, t) for e, t in pairs])
        for (employee, target), fact, found in zip(pairs, facts, found_all, strict=True):
            key = (employee.nip, target)
            vetoes = (self.plugins.veto_candidate(fact.candidate, self.dataset, self.as_of)
                      if self.plugins and self.vetoing else [])
            blocked = _blocking(found)
            entry: dict[str, Any] = {"findings": found, "vetoes": vetoes, "blocked": blocked}
            stage.evaluated[key] = entry
            stage.items.append(((employee, target), entry))
            stage.by_target[target].append(employee)
            if vetoes or (blocked and not force):
                continue
            pair_score = self.pair_score(employee, target, fact, [*employee_findings[employee.nip], *found])
            entry["pair_score"], entry["score"] = pair_score, pair_score.total
            if not blocked and not force:
                stage.options.append(self.option(employee, target, entry))

    def delta(self, chosen: set[tuple[str, str]]) -> dict[str, int]:
        """Change in staff per position if the moves ``chosen`` are made."""
        delta: dict[str, int] = defaultdict(int)
        for nip, target in chosen:
            delta[self.employees[nip].position_id] -= 1
            delta[target] += 1
        return dict(delta)

    def balance_key(self, chosen: set[tuple[str, str]]) -> tuple[float, float]:
        after = self.calc.balance(self.delta(chosen))
        return (after.ej_std or 0.0, after.outside_band_share or 0.0)

    def balanced_plan(self, solver: PlanSolver, forced: set[tuple[str, str]], forbidden: set[tuple[str, str]],
                      before: BalanceFigure) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        """The optimal plan that does not make the city balance worse.

        Moves are chosen for score, and each one relieves its own positions, but a set of
        moves can still widen the spread between agencies (a move into a post that is short
        inside an agency that is in surplus overall). When the optimum would worsen the
        balance figure (EJ spread or the share of agencies outside the band), the move whose
        removal helps the balance most is withheld and the plan solved again, from the last
        basis (a warm start). The empty plan never worsens the balance, so this ends; ties go
        to the lowest (NIP, position) key. Pinned moves are never withheld: when they alone
        worsen the balance, the plan keeps them and says so in a warning.
        """
        limit = (before.ej_std or 0.0, before.outside_band_share or 0.0)
        tolerance = 1e-9
        withheld: set[tuple[str, str]] = set()
        while True:
            chosen = set(solver.solve(forced, forbidden | withheld).chosen)
            std, share = self.balance_key(chosen)
            if std <= limit[0] + tolerance and share <= limit[1] + tolerance:
                return chosen, withheld
            optional = sorted(chosen - forced)
            if not optional:
                self.warnings.append("the pinned moves worsen the workload balance across agencies; they are kept "
                                     "as the reviewers decided")
                return chosen, withheld
            worst = min(optional, key=lambda key: self.balance_key(chosen - {key}))
            withheld.add(worst)

    def pair_score(self, employee: Employee, target: str, fact: CandidateScope, found: Sequence[Finding]) -> _PairScore:
        """The score components of one eligible pair (``found``: the person's and the pair's findings)."""
        settings = self.options.scoring
        source, goal = self.ctx.pw[employee.position_id], self.ctx.pw[target]
        plugin_parts = (tuple(self.plugins.score_candidate(fact.candidate, self.dataset, self.as_of))
                        if self.plugins and self.scoring_plugins else ())
        return _PairScore(
            profile=profile_total(fact, employee, self.index.positions[target], settings),
            benefit=workload_benefit(source.workload_hours, source.bezetting, goal.workload_hours, goal.bezetting,
                                     self.calc.hours),
            # Employee-scope score rules (e.g. due for rotation) count for every pair of the person.
            rules=tuple(f for f in found if f.effect is Effect.SCORE and f.points is not None),
            plugins=plugin_parts,
            settings=settings,
        )

    def checked_rules(self, engine: RuleEngine, nip: str, target: str) -> list[str]:
        """The rules a move was checked against: the employee rules that apply to the person's
        post and the candidate rules that apply to the target (a teacher's move is not checked
        against Dinas Kesehatan's rules, so it does not claim to pass them)."""
        source = self.index.positions[self.employees[nip].position_id]
        goal = self.index.positions[target]
        return [
            *engine.applicable_rule_keys("employee", self.index.unit_path(source.unit_id), source.kind.value),
            *engine.applicable_rule_keys("candidate", self.index.unit_path(goal.unit_id), goal.kind.value),
        ]

    def move(self, nip: str, target: str, entry: dict[str, Any], employee_found: list[Finding],
             checked: list[str], pw: dict[str, PositionWorkload], uw: dict[str, UnitWorkload],
             after_p: dict[str, PositionWorkload], after_u: dict[str, UnitWorkload],
             catalogue: dict[str, TrainingOffer], review: MoveReview | None = None) -> Move:
        employee = self.employees[nip]
        source_position = self.index.positions[employee.position_id]
        target_position = self.index.positions[target]
        findings: list[Finding] = sorted([*employee_found, *entry["findings"]],
                                         key=lambda f: (f.scope, f.ruleset_id, f.rule_id))
        fired = {f.rule_key for f in findings}
        needs: dict[str, TrainingNeed] = {}
        for finding in findings:
            if EFFECTS[finding.effect].conditional:
                for name in finding.trainings:
                    key = name.casefold()
                    rules = needs[key].required_by if key in needs else []
                    needs[key] = TrainingNeed(name=name, required_by=sorted({*rules, finding.rule_key}),
                                              offer=catalogue.get(key))
        pair_score: _PairScore = entry["pair_score"]
        profile = profile_score(self.ctx.candidate_scope(nip, target), employee, target_position,
                                self.options.scoring)
        if profile.score != pair_score.profile:  # one computation (scoring._profile) behind both
            raise RuntimeError(f"profile score of {pair_subject(nip, target)} changed between plan and result")
        src_opd, dst_opd = self.index.opd_of(source_position.unit_id), self.index.opd_of(target_position.unit_id)
        return Move(
            nip=nip,
            name=employee.name,
            from_=_ref(source_position, self.index),
            to=_ref(target_position, self.index),
            status="conditional" if needs else "recommended",
            score=pair_score.total,
            score_breakdown=pair_score.breakdown(),
            profile=profile,
            findings=findings,
            rules_passed=sorted(set(checked) - fired),
            trainings_required=[needs[k] for k in sorted(needs)],
            source_effect=EjChange(position_ej_before=pw[source_position.id].ej,
                                   position_ej_after=after_p[source_position.id].ej,
                                   opd_ej_before=uw[src_opd].ej, opd_ej_after=after_u[src_opd].ej),
            target_effect=EjChange(position_ej_before=pw[target].ej, position_ej_after=after_p[target].ej,
                                   opd_ej_before=uw[dst_opd].ej, opd_ej_after=after_u[dst_opd].ej),
            review=review,
        )

    def shortage_report(self, target: str, shortage: int, considered: int, reported: Sequence[Employee],
                        evaluated: dict[tuple[str, str], dict[str, Any]], chosen: set[tuple[str, str]],
                        withheld: set[tuple[str, str]], pw: dict[str, PositionWorkload],
                        after_p: dict[str, PositionWorkload], review: _Review) -> ShortageReport:
        """``considered``: pairs for ``target``; ``reported``: those the engine evaluated (see _CandidateStage).

        Pairs the screen blocked and the engine never saw are blocked, so not eligible, and
        sort after every reported one (blocked last, by NIP): the truncated list is the same.
        """
        position = self.index.positions[target]
        chosen_here = [nip for nip, t in chosen if t == target]
        chosen_scores = sorted(evaluated[(n, target)]["score"] for n in chosen_here)
        moved_to = dict(chosen)
        ranked: list[tuple[int, float, str, Employee, dict[str, Any], Outcome]] = []
        for employee in reported:
            entry = evaluated[(employee.nip, target)]
            score = entry.get("score")
            outcome: Outcome
            if (employee.nip, target) in chosen:
                outcome = "chosen"
            elif entry["blocked"]:
                outcome = "blocked"
            elif entry["vetoes"]:
                outcome = "vetoed"
            elif (employee.nip, target) in review.reasons:
                outcome = "review"
            elif (employee.nip, target) in withheld:
                outcome = "withheld_for_balance"
            elif employee.nip in moved_to:
                outcome = "chosen_elsewhere"
            elif chosen_scores and len(chosen_here) >= shortage and score is not None and score <= chosen_scores[0]:
                outcome = "outscored"
            else:
                outcome = "constraint"
            ranked.append((_OUTCOME_ORDER[outcome], -(score if score is not None else -math.inf), employee.nip,
                           employee, entry, outcome))
        # Sorted and cut before any model is built: a city has ~100,000 pairs, a report lists a few.
        ranked.sort(key=lambda r: r[:3])
        received = len(chosen_here)
        alternatives = [
            Alternative(nip=employee.nip, name=employee.name, from_position_id=employee.position_id,
                        score=entry.get("score"), outcome=outcome,
                        reason=self.alternative_reason(outcome, entry, moved_to.get(employee.nip), chosen_scores,
                                                       review.reasons.get((employee.nip, target))),
                        blocking=entry["blocked"], vetoes=entry["vetoes"])
            for _, _, _, employee, entry, outcome in ranked[: max(self.options.alternatives_per_position, received)]
        ]
        eligible = sum(1 for r in ranked if r[5] not in ("blocked", "vetoed"))
        unfilled = None
        if received < shortage:
            if target in review.held:
                held = review.held[target]
                unfilled = Localized(id=f"Ditahan oleh keputusan peninjauan {held.id} ({held.reviewer}, "
                                        f"{held.date.isoformat()}): {held.reason}",
                                     en=f"Held by review decision {held.id} ({held.reviewer}, "
                                        f"{held.date.isoformat()}): {held.reason}")
            elif not considered:
                unfilled = Localized(id="Tidak ada pegawai dari unit yang kelebihan pegawai untuk dipertimbangkan.",
                                     en="No staff from surplus positions to consider.")
            elif eligible == 0:
                unfilled = Localized(id="Tidak ada calon yang memenuhi syarat.", en="No eligible candidate.")
            else:
                unfilled = Localized(id="Calon yang memenuhi syarat lebih dibutuhkan di tempat lain atau dibatasi "
                                        "oleh batasan rencana.",
                                     en="Eligible candidates were needed elsewhere or held back by plan constraints.")
        return ShortageReport(
            position=_ref(position, self.index),
            shortage=shortage,
            received=received,
            remaining=shortage - received,
            ej_before=pw[target].ej,
            ej_after=after_p[target].ej,
            candidates_considered=considered,
            candidates_eligible=eligible,
            alternatives=alternatives,
            unfilled_reason=unfilled,
        )

    @staticmethod
    def alternative_reason(outcome: Outcome, entry: dict[str, Any], placed: str | None,
                           chosen_scores: list[float], decision: AppliedDecision | None = None) -> Localized:
        """Why an alternative ended as it did, in both languages."""
        if outcome == "review" and decision is not None:
            said = (f"{decision.id} ({decision.action}, {decision.reviewer}, {decision.date.isoformat()}): "
                    f"{decision.reason}")
            return Localized(id=f"Tidak dipilih karena keputusan peninjauan {said}",
                             en=f"Not chosen because of review decision {said}")
        if outcome == "chosen":
            return Localized(id="Dipilih dalam rencana mutasi.", en="Chosen in the transfer plan.")
        if outcome == "blocked":
            rules = ", ".join(f.rule_key for f in entry["blocked"])
            return Localized(id=f"Tidak memenuhi syarat menurut aturan: {rules}.",
                             en=f"Not eligible under the rules: {rules}.")
        if outcome == "vetoed":
            return Localized(id="Ditolak oleh aturan instansi: " + "; ".join(v.reason.id for v in entry["vetoes"]),
                             en="Vetoed by agency rules: " + "; ".join(v.reason.en for v in entry["vetoes"]))
        if outcome == "withheld_for_balance":
            return Localized(id="Ditahan karena rencana secara keseluruhan akan memperburuk keseimbangan beban "
                                "kerja antar-OPD.",
                             en="Withheld because the plan as a whole would worsen the workload balance "
                                "across agencies.")
        if outcome == "chosen_elsewhere":
            return Localized(id=f"Lebih tepat dimutasi ke jabatan {placed} (nilai keseluruhan rencana lebih tinggi).",
                             en=f"Placed in position {placed} instead (higher overall plan value).")
        if outcome == "outscored":
            score = entry["score"]
            return Localized(id=f"Nilai {score:.2f} di bawah calon terpilih (terendah {chosen_scores[0]:.2f}).",
                             en=f"Score {score:.2f} below the chosen candidates (lowest {chosen_scores[0]:.2f}).")
        return Localized(
            id="Tidak dipilih karena batasan rencana (kelebihan unit asal, batas penerimaan, jumlah mutasi maksimal, "
               "atau batasan instansi) atau karena nilainya tidak positif.",
            en="Not chosen because of a plan constraint (source surplus, receiving limit, move cap or an "
               "agency constraint) or a score that is not positive.",
        )

    def run_info(self) -> RunInfo:
        skipped = [f"{s.plugin} ({s.hook}): {s.reason}" for s in (self.plugins.skipped if self.plugins else [])]
        return RunInfo(
            library_version=__version__,
            dataset=self.dataset.metadata.name,
            dataset_sha256=self.ctx.dataset_sha256,
            as_of=self.as_of,
            plan_date=self.plan_date,
            rulesets=sorted(
                (RuleSetRef(id=r.id, version=r.version, origin=r.origin, sha256=r.sha256) for r in self.rulesets),
                key=lambda r: (r.id, r.version, r.origin),
            ),
            plugins=plugin_refs(self.plugins),
            skipped_plugins=skipped,
            options=self.options,
            parent_run_id=self.parent_run_id,
            review_decisions=list(self.decisions),
        )


def plugin_refs(plugins: PluginManager | None) -> list[PluginRef]:
    """The enabled plugins as a run records them, sorted by name."""
    refs = [PluginRef(name=p.name, version=p.version, source=p.source) for p in (plugins.enabled if plugins else [])]
    return sorted(refs, key=lambda p: p.name)


def load_run_rulesets(options: RecommendOptions, plugins: PluginManager | None) -> list[LoadedRuleSet]:
    """National (or given) rule sets plus every enabled plugin's, checked together."""
    extensions = plugins.fact_attributes() if plugins else []
    paths = [Path(p) for p in options.rules] or [default_rules_dir()]
    national = load_rulesets(paths, extensions=extensions)
    contributed = plugins.rulesets(national) if plugins else []
    return [*national, *contributed]


def prepare(
    dataset: Dataset,
    options: RecommendOptions | None = None,
    *,
    plugins: PluginManager | None = None,
    rulesets: Sequence[LoadedRuleSet] | None = None,
) -> RunContext:
    """Load plugins and rule sets as ``options`` say and prepare a run over ``dataset``.

    ``plugins``: a loaded manager to use; by default the installed and explicit plugins
    named by ``options.plugins`` are loaded (unless ``options.use_plugins`` is false).
    ``rulesets``: the exact rule sets to use (an audit replay passes the recorded ones);
    by default ``options.rules`` (or the bundled rules) plus every plugin's.
    Raises :class:`~mutasi_rules.problems.InputError` when the dataset's records do not fit
    together (an unknown position, a duplicate NIP …: :func:`mutasi_rules.data.integrity.dataset_problems`).
    """
    options = options or RecommendOptions()
    # A dataset built in memory has not been through the file loader's cross-record checks.
    dataset_problems(dataset).raise_if_errors(f"dataset {dataset.metadata.name!r}")
    if plugins is None and options.use_plugins:
        plugins = load_plugins(options.plugins)
    loaded = list(rulesets) if rulesets is not None else load_run_rulesets(options, plugins)
    return RunContext(dataset, options, plugins, loaded)


def recommend(
    dataset: Dataset,
    options: RecommendOptions | None = None,
    *,
    plugins: PluginManager | None = None,
    rulesets: Sequence[LoadedRuleSet] | None = None,
    progress: Progress | None = None,
    decisions: Sequence[AppliedDecision] = (),
    parent_run_id: str | None = None,
) -> RecommendationResult:
    """Run the whole pipeline on ``dataset``: the main entry point for embedding.

    See :func:`prepare` for ``plugins`` and ``rulesets``, :func:`run_prepared` for
    ``decisions`` and ``parent_run_id``. Raises :class:`~mutasi_rules.problems.InputError`
    for bad rules and :class:`~mutasi_rules.plugins.manager.PluginError` for a failing plugin.
    """
    with fewer_collections():
        if progress:
            progress("workload", 0, 1)
        ctx = prepare(dataset, options, plugins=plugins, rulesets=rulesets)
        if progress:
            progress("workload", 1, 1)
        return _Run(ctx, progress, decisions=decisions, parent_run_id=parent_run_id).run()


def run_prepared(ctx: RunContext, *, decisions: Sequence[AppliedDecision] = (), parent_run_id: str | None = None,
                 progress: Progress | None = None) -> RecommendationResult:
    """Run the pipeline over a prepared context, honouring review ``decisions`` (a re-plan of ``parent_run_id``).

    The rules, candidates and scores are computed once per context and kept in it; a later
    run with other decisions re-solves the plan from the last basis. The result is the one
    :func:`recommend` gives for the same inputs and decisions. Not thread-safe: one run per
    context at a time (the service holds the context's lock). Raises
    :class:`~mutasi_rules.planning.plan.PlanError` when the pins cannot be honoured.
    """
    with fewer_collections():
        return _Run(ctx, progress, decisions=decisions, parent_run_id=parent_run_id).run()




__all__ = [
    "TEMPORARY_LABEL",
    "Alternative",
    "EjChange",
    "ExcludedEmployee",
    "Move",
    "PositionRef",
    "RecommendOptions",
    "RecommendationResult",
    "RunContext",
    "ShortageReport",
    "TimeBoundedAssignment",
    "TrainingNeed",
    "UnitChange",
    "pair_subject",
    "plugin_refs",
    "prepare",
    "recommend",
    "rule_overridable",
    "run_prepared",
]
