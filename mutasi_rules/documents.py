"""The JSON documents the command line prints, as pydantic models (the source of their JSON Schemas).

``explain``, ``audit list|verify|replay``, ``plugins list`` and ``rules check|test`` print
these with ``--format json``; ``docs/schemas/`` publishes their schemas (registered in
:mod:`mutasi_rules.schemas`). Each model is built from the library's own result objects
(``from_attributes``), and every model forbids extra keys, so a test that validates real
output against it catches any drift between the output and its published schema.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from mutasi_rules.audit.log import RecordSummary
from mutasi_rules.data.decisions import AppliedDecision, MoveReview
from mutasi_rules.data.facts import Scope
from mutasi_rules.planning.recommendation import Outcome, PluginRef, PositionRef, TrainingNeed
from mutasi_rules.planning.scoring import ProfileScore, ScoreComponentResult
from mutasi_rules.plugins.types import Veto
from mutasi_rules.problems import Problem
from mutasi_rules.rules.rulesets import Effect, RuleSetRef
from mutasi_rules.rules.ruletests import CaseResult

if TYPE_CHECKING:
    from mutasi_rules.audit.log import ReviewRecord
    from mutasi_rules.plugins.manager import PluginInfo
    from mutasi_rules.rules.rulesets import LoadedRuleSet
    from mutasi_rules.rules.ruletests import RuleTestReport


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, from_attributes=True)


# --------------------------------------------------------------------------- plugins list


class PluginListEntry(_Document):
    name: str
    version: str
    source: str = Field(description="dist==version for an installed plugin, else the module's file or name")
    module: str
    status: Literal["enabled", "disabled", "broken"]
    hooks: list[str] = Field(description="The mutasi_rules_* hooks the plugin implements")
    reason: str = Field(description="Why disabled or broken; empty when enabled")


class PluginList(_Document):
    """``mutasi-rules plugins list --format json``."""

    plugins: list[PluginListEntry]

    @classmethod
    def of(cls, plugins: Sequence[PluginInfo]) -> PluginList:
        return cls(plugins=[PluginListEntry.model_validate(p) for p in plugins])


# --------------------------------------------------------------------------- rules check / test


class RuleSetSummary(_Document):
    id: str
    version: str
    effective_from: dt.date
    effective_until: dt.date | None
    origin: str = Field(description="Where the rule set came from: its file, or plugin:<name>==<version>")
    sha256: str
    rules: int = Field(description="Number of rules")
    effects: dict[str, int] = Field(description="Number of rules by effect")


class RuleCheckReport(_Document):
    """``mutasi-rules rules check --format json`` (and ``POST /v1/rules/check``)."""

    ok: bool = Field(description="True when no problem is an error")
    rulesets: list[RuleSetSummary]
    problems: list[Problem]

    @classmethod
    def of(cls, loaded: Sequence[LoadedRuleSet], problems: Sequence[Problem]) -> RuleCheckReport:
        return cls(
            ok=not any(p.severity == "error" for p in problems),
            rulesets=[
                RuleSetSummary(id=one.id, version=one.version, effective_from=one.ruleset.effective_from,
                               effective_until=one.ruleset.effective_until, origin=one.origin, sha256=one.sha256,
                               rules=len(one.rules), effects=rule_effects(one))
                for one in sorted(loaded, key=lambda r: (r.id, r.version))
            ],
            problems=list(problems),
        )


def rule_effects(loaded: LoadedRuleSet) -> dict[str, int]:
    """Number of rules of a rule set by effect, by effect name."""
    return dict(sorted(Counter(rule.effect.value for rule in loaded.rules).items()))


class UnexercisedRule(_Document):
    ruleset: str
    rule: str


class RuleTestSummary(_Document):
    """``mutasi-rules rules test --format json``."""

    ok: bool = Field(description="Every case passed and nothing failed to load")
    passed: int
    failed: int
    errors: int = Field(description="Cases on which the engine failed")
    cases: list[CaseResult]
    unexercised: list[UnexercisedRule] = Field(description="Rules no case exercises")
    problems: list[Problem] = Field(description="Problems loading the rule and test files")

    @classmethod
    def of(cls, report: RuleTestReport | None, problems: Sequence[Problem] = ()) -> RuleTestSummary:
        cases = list(report.cases) if report else []
        errors = any(p.severity == "error" for p in problems)
        return cls(ok=bool(report and report.ok) and not errors, passed=report.passed if report else 0,
                   failed=report.failed if report else 0, errors=report.errors if report else 0, cases=cases,
                   unexercised=[UnexercisedRule(ruleset=r, rule=u) for r, u in (report.unexercised if report else [])],
                   problems=list(problems))


# --------------------------------------------------------------------------- audit


class ReviewView(_Document):
    """``mutasi-rules review --format json``, and a review over HTTP: decisions recorded on one run."""

    review_id: str = Field(description="'V<seq>-<first 10 hex digits of the record hash>'")
    seq: int = Field(description="Place in the review chain of the decision log")
    run_id: str = Field(description="The run the decisions were given on")
    run_record_hash: str = Field(description="The record hash of that run: the review is bound to it")
    recorded_at: str = Field(description="When the review was recorded (audit metadata, UTC)")
    record_hash: str = Field(description="SHA-256 that chains this review record")
    decisions: list[AppliedDecision] = Field(description="In the order given; ids '<review id>/<n>'")

    @classmethod
    def of(cls, record: ReviewRecord) -> ReviewView:
        return cls.model_validate(record)


class ReviewList(RootModel[list[ReviewView]]):
    """The reviews recorded on one run, oldest first."""


class AuditList(RootModel[list[RecordSummary]]):
    """``mutasi-rules audit list --format json``: the recorded runs in sequence order (a JSON array)."""


class AuditVerifyReport(_Document):
    """``mutasi-rules audit verify --format json``."""

    log: str = Field(description="The decision log checked")
    ok: bool
    records: int
    first_bad: int | None = Field(description="Sequence number of the first bad (or missing) record")
    first_bad_run_id: str | None
    reason: str
    problems: list[str]
    warnings: list[str] = Field(description="Findings that do not break the chain (e.g. missing triggers)")
    head_hash: str | None


class AuditReplayReport(_Document):
    """``mutasi-rules audit replay RUN_ID --format json``."""

    log: str
    run_id: str
    identical: bool = Field(description="Verifiable record and byte-identical canonical result JSON")
    verifiable: bool = Field(description="False when the record fails its own integrity checks")
    recorded_sha256: str
    replayed_sha256: str | None
    differences: list[str]


# --------------------------------------------------------------------------- explain


class ExplainedFinding(_Document):
    rule: str = Field(description="'<ruleset>/<rule>'")
    ruleset_version: str
    source: str
    scope: Scope
    effect: Effect
    title: str | None
    message: str | None
    legal_basis: str
    basis_kind: str | None = Field(default=None, description="statutory, convention or agency_policy")
    facts_read: dict[str, Any]
    trainings: list[str]
    points: float | None
    component: str | None
    replaces: str | None


class ExplainedEjChange(_Document):
    position_ej_before: float | None
    position_ej_after: float | None
    opd_ej_before: float | None
    opd_ej_after: float | None
    position_ej_before_grade: str | None
    position_ej_after_grade: str | None
    opd_ej_before_grade: str | None
    opd_ej_after_grade: str | None


class ExplainedMove(_Document):
    nip: str
    name: str
    moved: Literal[True]
    from_: PositionRef = Field(alias="from")
    to: PositionRef
    status: Literal["recommended", "conditional"]
    status_text: str
    score: float
    findings: list[ExplainedFinding]
    rules_passed: list[str]
    score_breakdown: list[ScoreComponentResult]
    profile: ProfileScore
    trainings_required: list[TrainingNeed]
    ej_effect: dict[Literal["source", "target"], ExplainedEjChange]
    review: MoveReview | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="A pinned move: reviewer, reason, date and every rule the pin overrides (docs/review.md)",
    )


class ExcludedAt(_Document):
    position_id: str
    findings: list[ExplainedFinding]


class ConsideredFor(_Document):
    position: PositionRef
    outcome: Outcome
    outcome_text: str
    score: float | None
    reason: str | None
    blocking: list[ExplainedFinding]
    vetoes: list[Veto]


class ExplainedNotMoved(_Document):
    nip: str
    name: str | None
    moved: Literal[False]
    known: bool = Field(description="The record mentions the person at all")
    excluded: list[ExcludedAt]
    alternatives: list[ConsideredFor]
    why_not: list[str] = Field(description="mutasi-rules why-not commands to ask further")


class Explanation(_Document):
    """``mutasi-rules explain --format json``: every move of a run, or one person (``--employee``)."""

    model_config = ConfigDict(populate_by_name=True)

    format: Literal["mutasi-rules.explanation/1"]
    run_id: str | None
    lang: Literal["id", "en"]
    dataset: str
    as_of: dt.date
    plan_date: dt.date
    rulesets: list[RuleSetRef]
    plugins: list[PluginRef]
    moves: list[ExplainedMove] | None = Field(default=None, description="Without --employee")
    employee: ExplainedMove | ExplainedNotMoved | None = Field(default=None, description="With --employee")


__all__ = [
    "AuditList",
    "AuditReplayReport",
    "AuditVerifyReport",
    "Explanation",
    "PluginList",
    "RuleCheckReport",
    "RuleTestSummary",
]
