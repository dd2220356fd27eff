"""Candidate scoring: profile matching (GAP method) plus the workload benefit of a move.

Profile matching is the method Indonesian HR decision support commonly uses
(../shared/DOMAIN.md): per factor, gap = candidate value - target value, mapped to a
weight (0 -> 5, +1 -> 4.5, -1 -> 4, ...); per aspect, score = p x mean(core weights) +
(1 - p) x mean(secondary weights); the total is the weighted sum of aspects. Factors,
targets, weights and p are configuration (:class:`ScoringSettings`); nothing here is
specific to one agency.

Rule-set score components (``effect: score``) and plugin components are added by the
recommendation pipeline; this module only computes what is intrinsic to the pair.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mutasi_rules.data.facts import CandidateScope, FactSchema, FieldType, fact_schema, read_path
from mutasi_rules.data.models import Employee, OrderedEnum, Position, ProfileFactor, ScorePoints

#: Gap -> weight table of the profile-matching method (gaps beyond +-4 take the end value).
GAP_WEIGHTS: dict[int, float] = {0: 5.0, 1: 4.5, -1: 4.0, 2: 3.5, -2: 3.0, 3: 2.5, -3: 2.0, 4: 1.5, -4: 1.0}


def gap_weight(gap: float) -> float:
    """Weight of a gap; fractional gaps round half away from zero, beyond +-4 clip."""
    whole = int(gap + 0.5) if gap >= 0 else -int(-gap + 0.5)
    whole = max(-4, min(4, whole))
    return GAP_WEIGHTS[whole]


class Factor(BaseModel):
    """One profile-matching factor: a candidate value compared with a target.

    ``value`` and ``target`` are candidate-scope fact paths (ordinals compare by rank,
    numbers as they are); ``target_value`` is a fixed target used when ``target`` is not
    given. A factor whose value or target is missing for a pair is left out of its aspect.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    value: str
    target: str | None = None
    target_value: float | str | None = None
    core: bool = True
    scale: float = Field(default=1.0, gt=0, description="Units of value per gap step (e.g. 2 years)")

    @model_validator(mode="after")
    def _has_target(self) -> Factor:
        if (self.target is None) == (self.target_value is None):
            raise ValueError(f"factor {self.name}: give exactly one of target or target_value")
        for path in (self.value, self.target):
            if path is not None:
                _check_factor_path(self.name, path)
        return self


_COMPARABLE = (FieldType.NUMBER, FieldType.ORDINAL, FieldType.BOOL)


@functools.cache
def _candidate_schema() -> FactSchema:
    return fact_schema("candidate")


def _check_factor_path(factor: str, path: str) -> None:
    """A factor reads a candidate-scope path that compares as a number (plugin ``ext`` paths pass:
    they are declared only when the plugins load)."""
    if ".ext." in f".{path}":
        return
    schema = _candidate_schema()
    spec = schema.fields.get(path)
    if spec is None:
        guess = difflib.get_close_matches(path, list(schema.fields), n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else ""
        raise ValueError(f"factor {factor}: {path!r} is not a candidate-scope fact path{hint}")
    if spec.type not in _COMPARABLE:
        raise ValueError(f"factor {factor}: {path!r} is {spec.type.value}, which a gap cannot be computed for")


class Aspect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    weight: float = Field(gt=0)
    factors: list[Factor] = Field(default_factory=list)
    competencies: bool = Field(
        default=False,
        description="Add one factor per competency the target position requires, core or secondary as the "
        "position marks it (CompetencyRequirement.factor)",
    )


#: How a gap above the target profile is weighed (ScoringSettings.above_target).
AboveTarget = Literal["symmetric", "exact_match"]


def factor_weight(gap: float, above_target: AboveTarget = "symmetric") -> float:
    """The weight of a factor's gap under the ``above_target`` setting."""
    return gap_weight(min(gap, 0.0) if above_target == "exact_match" else gap)


class ScoringSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    core_share: float = Field(default=0.6, ge=0, le=1, description="p: share of core factors in an aspect")
    above_target: AboveTarget = Field(
        default="symmetric",
        description="A candidate above the target profile: 'symmetric' weighs the gap as the published GAP "
        "method does (+1 -> 4.5, +2 -> 3.5, ...); 'exact_match' counts meeting or exceeding the target as an "
        "exact match (weight 5), as some HR offices ask",
    )
    aspects: list[Aspect] = Field(
        default_factory=lambda: [
            Aspect(
                name="kualifikasi",
                weight=0.3,
                factors=[
                    Factor(name="pendidikan", value="candidate.employee.education_level",
                           target="candidate.position.min_education"),
                    Factor(name="golongan", value="candidate.employee.rank",
                           target="candidate.position.min_rank", core=False),
                ],
            ),
            Aspect(name="kompetensi", weight=0.4, competencies=True),
            Aspect(
                name="kinerja",
                weight=0.3,
                factors=[
                    Factor(name="predikat", value="candidate.employee.latest_predikat", target_value="Sangat Baik"),
                    Factor(name="masa_kerja", value="candidate.employee.years_of_service", target_value=10,
                           core=False, scale=2.0),
                ],
            ),
        ]
    )
    profile_points: ScorePoints = Field(default=20.0, description="Points per unit of profile score (0-5)")
    workload_points: ScorePoints = Field(default=50.0, description="Points per unit of EJ imbalance removed")


class FactorScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    aspect: str
    factor: str
    core: bool
    value: Any
    target: Any
    gap: float
    weight: float


class AspectScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    aspect: str
    weight: float
    score: float | None = Field(description="0-5; None when no factor applied")
    factors: list[FactorScore]


class ProfileScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    score: float = Field(description="Weighted profile-matching score, 0-5")
    aspects: list[AspectScore]


def _numeric(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Enum) and hasattr(value, "ordinal"):
        return float(value.ordinal)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _target_numeric(value: Any, like: Any) -> float | None:
    """A fixed target written as a label ("Baik") takes the rank of ``like``'s enum."""
    if isinstance(value, str) and isinstance(like, OrderedEnum):
        return _label_rank(type(like), value)
    return _numeric(value)


@functools.lru_cache(maxsize=256)
def _label_rank(enum: type[OrderedEnum], label: str) -> float | None:
    try:
        return float(enum(label).ordinal)
    except ValueError:
        return None


def _display(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


class _Gap(NamedTuple):
    """One factor compared (the fields of :class:`FactorScore`, without pydantic's cost)."""

    factor: str
    core: bool
    value: Any
    target: Any
    gap: float
    weight: float


FactReader = Callable[[str], Any]
"""The value of a candidate-scope fact path for one pair."""


def _profile(
    read: FactReader, employee: Employee, target: Position, settings: ScoringSettings
) -> tuple[float, list[tuple[Aspect, list[_Gap], float | None]]]:
    """The profile-matching total and, per aspect, its factor gaps and score.

    ``read``: the pair's fact paths. The pipeline needs only the total for every eligible
    pair (hundreds of thousands in a city) and the whole breakdown for the chosen moves;
    both come from here, so they agree.
    """
    aspects: list[tuple[Aspect, list[_Gap], float | None]] = []
    for aspect in settings.aspects:
        gaps: list[_Gap] = []
        for factor in aspect.factors:
            raw = read(factor.value)
            value = _numeric(raw)
            if factor.target is not None:
                raw_target = read(factor.target)
                goal = _numeric(raw_target)
            else:
                raw_target = factor.target_value
                goal = _target_numeric(factor.target_value, raw)
            if value is None or goal is None:
                continue
            gap = round((value - goal) / factor.scale, 6)
            gaps.append(_Gap(factor.name, factor.core, _display(raw), _display(raw_target), gap,
                             factor_weight(gap, settings.above_target)))
        if aspect.competencies:
            held = {c.name: c.level for c in employee.competencies}
            for req in sorted(target.requirements.competencies, key=lambda c: c.name):
                level = held[req.name].ordinal if req.name in held else 0
                goal = req.min_level.ordinal
                gap = float(level - goal)
                gaps.append(_Gap(f"kompetensi:{req.name}", req.factor is ProfileFactor.CORE, level, goal, gap,
                                 factor_weight(gap, settings.above_target)))
        aspects.append((aspect, gaps, _aspect_score(gaps, settings.core_share)))
    scored = [(aspect.weight, score) for aspect, _, score in aspects if score is not None]
    total_weight = sum(weight for weight, _ in scored)
    total = sum(weight * score for weight, score in scored) / total_weight if total_weight else 0.0
    return round(total, 6), aspects


def profile_total(fact: CandidateScope, employee: Employee, target: Position, settings: ScoringSettings) -> float:
    """The profile-matching score (0-5) of :func:`profile_score`, without its breakdown."""
    return _profile(functools.partial(read_path, fact), employee, target, settings)[0]


def profile_total_read(read: FactReader, employee: Employee, target: Position, settings: ScoringSettings) -> float:
    """:func:`profile_total` reading the pair's fact paths through ``read`` (no pair fact model needed)."""
    return _profile(read, employee, target, settings)[0]


_ROW_PATH = "candidate.employee."
_COLUMN_PATH = "candidate.position."


def profile_totals(settings: ScoringSettings, employees: Sequence[Employee], employee_facts: Sequence[Any],
                   positions: Sequence[Position], position_facts: Sequence[Any], rows: Any, cols: Any) -> Any:
    """:func:`profile_total` of many pairs at once: pair ``k`` is ``(employees[rows[k]], positions[cols[k]])``.

    ``employee_facts`` / ``position_facts``: the facts a pair's ``candidate.employee`` and
    ``candidate.position`` hold. Returns a float64 array equal, value for value, to what
    :func:`profile_total` gives (the same IEEE operations in the same order; every rounding
    is Python's ``round`` on the distinct values), or None when a factor reads a path of the
    pair itself (computed per pair, e.g. ``candidate.kelas_change``): then score per pair.
    """
    import numpy as np

    sides: dict[str, tuple[Sequence[Any], Any]] = {_ROW_PATH: (employee_facts, rows),
                                                  _COLUMN_PATH: (position_facts, cols)}

    def side(path: str) -> tuple[Sequence[Any], Any, str] | None:
        for prefix, (facts, index) in sides.items():
            if path.startswith(prefix):
                return facts, index, path[len(prefix):]
        return None

    def column(values: Sequence[float | None], index: Any) -> tuple[Any, Any]:
        ok = np.array([v is not None for v in values], dtype=bool)
        val = np.array([v if v is not None else 0.0 for v in values], dtype=np.float64)
        return val[index], ok[index]

    def rounded(values: Any) -> Any:
        if not len(values):
            return values
        distinct, inverse = np.unique(values, return_inverse=True)
        return np.array([round(float(v), 6) for v in distinct], dtype=np.float64)[inverse]

    def weights(gaps: Any) -> Any:
        if not len(gaps):
            return gaps
        distinct, inverse = np.unique(gaps, return_inverse=True)
        return np.array([factor_weight(float(g), settings.above_target) for g in distinct], dtype=np.float64)[inverse]

    count = len(rows)
    levels: dict[str, Any] | None = None
    total = np.zeros(count, dtype=np.float64)
    total_weight = np.zeros(count, dtype=np.float64)
    for aspect in settings.aspects:
        sums = {True: np.zeros(count, dtype=np.float64), False: np.zeros(count, dtype=np.float64)}
        counts = {True: np.zeros(count, dtype=np.int64), False: np.zeros(count, dtype=np.int64)}
        for factor in aspect.factors:
            value_side = side(factor.value)
            if value_side is None:
                return None
            facts, index, rest = value_side
            raws = [read_path(f, rest) for f in facts]
            value, value_ok = column([_numeric(r) for r in raws], index)
            if factor.target is not None:
                target_side = side(factor.target)
                if target_side is None:
                    return None
                t_facts, t_index, t_rest = target_side
                goal, goal_ok = column([_numeric(read_path(f, t_rest)) for f in t_facts], t_index)
            else:
                goal, goal_ok = column([_target_numeric(factor.target_value, r) for r in raws], index)
            present = value_ok & goal_ok
            gap = np.zeros(count, dtype=np.float64)
            gap[present] = rounded((value[present] - goal[present]) / factor.scale)
            add = np.where(present, weights(gap), 0.0)
            sums[factor.core] = np.where(present, sums[factor.core] + add, sums[factor.core])
            counts[factor.core] += present
        if aspect.competencies:
            if levels is None:
                levels = {}
                for i, employee in enumerate(employees):
                    held = {c.name: c.level.ordinal for c in employee.competencies}  # the last entry wins
                    for name, level in held.items():
                        levels.setdefault(name, np.zeros(len(employees), dtype=np.int64))[i] = level
            order = np.argsort(cols, kind="stable")
            bounds = np.flatnonzero(np.diff(cols[order])) + 1
            for group in np.split(order, bounds) if count else []:
                target = positions[int(cols[group[0]])]
                for req in sorted(target.requirements.competencies, key=lambda c: c.name):
                    held_level = levels[req.name][rows[group]] if req.name in levels else np.zeros(len(group), np.int64)
                    gap_c = (held_level - req.min_level.ordinal).astype(np.float64)
                    core = req.factor is ProfileFactor.CORE
                    sums[core][group] = sums[core][group] + weights(gap_c)
                    counts[core][group] += 1
        core_n, sec_n = counts[True], counts[False]
        with np.errstate(divide="ignore", invalid="ignore"):
            only_core = rounded(sums[True] / core_n)
            only_secondary = rounded(sums[False] / sec_n)
            both = rounded(settings.core_share * sums[True] / core_n
                           + (1 - settings.core_share) * sums[False] / sec_n)
        score = np.where(sec_n == 0, only_core, np.where(core_n == 0, only_secondary, both))
        scored = (core_n > 0) | (sec_n > 0)
        total = np.where(scored, total + aspect.weight * score, total)
        total_weight = np.where(scored, total_weight + aspect.weight, total_weight)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(total_weight != 0, total / total_weight, 0.0)
    return rounded(result)


def profile_score(
    fact: CandidateScope,
    employee: Employee,
    target: Position,
    settings: ScoringSettings,
) -> ProfileScore:
    """The profile-matching score of a pair (``fact``: its candidate-scope facts), aspect by aspect."""
    total, aspects = _profile(functools.partial(read_path, fact), employee, target, settings)
    return ProfileScore(
        score=total,
        aspects=[
            AspectScore(aspect=aspect.name, weight=aspect.weight, score=score,
                        factors=[FactorScore(aspect=aspect.name, **gap._asdict()) for gap in gaps])
            for aspect, gaps, score in aspects
        ],
    )


def _aspect_score(factors: Sequence[_Gap], core_share: float) -> float | None:
    core = [f.weight for f in factors if f.core]
    secondary = [f.weight for f in factors if not f.core]
    if not core and not secondary:
        return None
    if not secondary:
        return round(sum(core) / len(core), 6)
    if not core:
        return round(sum(secondary) / len(secondary), 6)
    return round(core_share * sum(core) / len(core) + (1 - core_share) * sum(secondary) / len(secondary), 6)


def imbalance(ej: float | None) -> float:
    """Distance of a job efficiency from the balanced value 1.0 (0 when unknown)."""
    return 0.0 if ej is None else abs(ej - 1.0)


def ej_after(workload_hours: float | None, bezetting: int, effective_hours: float) -> float | None:
    if workload_hours is None or bezetting <= 0:
        return None
    return workload_hours / (bezetting * effective_hours)


def arrival_gain(hours: float | None, bezetting: int, effective_hours: float) -> float:
    """Imbalance removed at a post holding ``bezetting`` people by one more arrival.

    A vacancy that receives its first person counts as fully relieved (imbalance 1 -> the
    new EJ's).
    """
    before = 1.0 if bezetting == 0 and hours else imbalance(ej_after(hours, bezetting, effective_hours))
    return before - imbalance(ej_after(hours, bezetting + 1, effective_hours))


def departure_gain(hours: float | None, bezetting: int, effective_hours: float) -> float:
    """Imbalance removed at a post holding ``bezetting`` people by one departure.

    A post left empty counts its whole workload as newly uncovered (imbalance 1).
    """
    after = 1.0 if bezetting - 1 == 0 and hours else imbalance(ej_after(hours, bezetting - 1, effective_hours))
    return imbalance(ej_after(hours, bezetting, effective_hours)) - after


def arrival_gains(hours: float | None, bezetting: int, count: int, effective_hours: float) -> list[float]:
    """Imbalance removed by the 1st, 2nd, ... ``count``-th arrival at a post (the plan's concave curve)."""
    return [arrival_gain(hours, bezetting + k, effective_hours) for k in range(count)]


def departure_gains(hours: float | None, bezetting: int, count: int, effective_hours: float) -> list[float]:
    """Imbalance removed by the 1st, 2nd, ... ``count``-th departure from a post (none once it is empty)."""
    return [departure_gain(hours, bezetting - k, effective_hours) if bezetting - k > 0 else 0.0
            for k in range(count)]


def workload_benefit(
    source_hours: float | None,
    source_bezetting: int,
    target_hours: float | None,
    target_bezetting: int,
    effective_hours: float,
) -> float:
    """Imbalance removed by moving one person from source to target (positive is better).

    The effect of this move alone (the first arrival and the first departure); the plan
    credits the k-th arrival and departure with their own marginal effects
    (:func:`arrival_gains`, :func:`departure_gains`).
    """
    return round(arrival_gain(target_hours, target_bezetting, effective_hours)
                 + departure_gain(source_hours, source_bezetting, effective_hours), 6)


ScoreOrigin = Literal["profile", "workload", "rule", "plugin"]


class ScoreComponentResult(BaseModel):
    """One line of a candidate's score breakdown."""

    model_config = ConfigDict(frozen=True)

    name: str
    origin: ScoreOrigin
    points: float
    source: str = Field(description="Rule set / plugin / built-in scorer that produced it")
    detail: Mapping[str, Any] | None = None
