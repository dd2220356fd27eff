"""The result of a run: the explained transfer plan (:class:`RecommendationResult`) and its parts.

pydantic models only (the published ``result`` schema); the pipeline stages build them
(mutasi_rules.planning.reporting).
"""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.analysis.workload import BalanceFigure
from mutasi_rules.core.runtime import fewer_collections
from mutasi_rules.data.decisions import AppliedDecision, MoveReview
from mutasi_rules.planning.options import RecommendOptions
from mutasi_rules.planning.scoring import ProfileScore, ScoreComponentResult
from mutasi_rules.plugins.manager import PluginManager
from mutasi_rules.plugins.types import TrainingOffer, Veto
from mutasi_rules.rules.findings import Finding
from mutasi_rules.rules.rulesets import Localized, RuleSetRef

RESULT_FORMAT: Final = "mutasi-rules.recommendation/1"



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
OUTCOME_ORDER: dict[str, int] = {"chosen": 0, "outscored": 1, "chosen_elsewhere": 1, "withheld_for_balance": 1,
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



def plugin_refs(plugins: PluginManager | None) -> list[PluginRef]:
    """The enabled plugins as a run records them, sorted by name."""
    refs = [PluginRef(name=p.name, version=p.version, source=p.source) for p in (plugins.enabled if plugins else [])]
    return sorted(refs, key=lambda p: p.name)



__all__ = [
    "OUTCOME_ORDER",
    "RESULT_FORMAT",
    "TEMPORARY_LABEL",
    "Alternative",
    "EjChange",
    "ExcludedEmployee",
    "Move",
    "Outcome",
    "PluginRef",
    "PositionRef",
    "RecommendationResult",
    "RuleSetRef",
    "RunInfo",
    "ShortageReport",
    "TimeBoundedAssignment",
    "TrainingNeed",
    "UnitChange",
    "plugin_refs",
]
