"""The recommendation pipeline's public names, in one place (the documented import path).

The pipeline is split by stage (OPA-style: each stage passes data to the next):

- :mod:`mutasi_rules.planning.options`: :class:`RecommendOptions`;
- :mod:`mutasi_rules.planning.results`: the result models (:class:`RecommendationResult` ...);
- :mod:`mutasi_rules.planning.context`: :func:`prepare` and the :class:`RunContext`;
- :mod:`mutasi_rules.planning.candidates`: employee and candidate rules, the screen, scores;
- :mod:`mutasi_rules.planning.solving`: the plan problem, review decisions, the balanced plan;
- :mod:`mutasi_rules.planning.reporting`: moves, shortage reports and the rest of the result;
- :mod:`mutasi_rules.planning.pipeline`: the stages in sequence, :func:`recommend`, :func:`run_prepared`.
"""

from __future__ import annotations

from mutasi_rules.planning.context import (
    SHORT_LABEL,
    SURPLUS_LABEL,
    Progress,
    RunContext,
    load_run_rulesets,
    pair_subject,
    prepare,
    receive_limit,
    release_limit,
    rule_overridable,
    run_date_problems,
)
from mutasi_rules.planning.options import RecommendOptions
from mutasi_rules.planning.pipeline import recommend, run_prepared
from mutasi_rules.planning.results import (
    RESULT_FORMAT,
    TEMPORARY_LABEL,
    Alternative,
    EjChange,
    ExcludedEmployee,
    Move,
    Outcome,
    PluginRef,
    PositionRef,
    RecommendationResult,
    RuleSetRef,
    RunInfo,
    ShortageReport,
    TimeBoundedAssignment,
    TrainingNeed,
    UnitChange,
    plugin_refs,
)

__all__ = [
    "RESULT_FORMAT",
    "SHORT_LABEL",
    "SURPLUS_LABEL",
    "TEMPORARY_LABEL",
    "Alternative",
    "EjChange",
    "ExcludedEmployee",
    "Move",
    "Outcome",
    "PluginRef",
    "PositionRef",
    "Progress",
    "RecommendOptions",
    "RecommendationResult",
    "RuleSetRef",
    "RunContext",
    "RunInfo",
    "ShortageReport",
    "TimeBoundedAssignment",
    "TrainingNeed",
    "UnitChange",
    "load_run_rulesets",
    "pair_subject",
    "plugin_refs",
    "prepare",
    "receive_limit",
    "recommend",
    "release_limit",
    "rule_overridable",
    "run_date_problems",
    "run_prepared",
]
