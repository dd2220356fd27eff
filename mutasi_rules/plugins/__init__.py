"""Agency plugins: pluggy hook specifications, the values plugins return, and the manager.

An agency (OPD) adds its own norms without forking the library: a plugin contributes rule
sets, derived fact attributes, score components, vetoes, trainings, plan constraints, a
notice contact and audit sinks. See docs/plugins.md and the examples under plugins/.
"""

from __future__ import annotations

from mutasi_rules.plugins.hookspecs import HOOK_NAMES, hookimpl, hookspec
from mutasi_rules.plugins.manager import (
    ENTRY_POINT_GROUP,
    ENV_DISABLE,
    PluginConflictError,
    PluginError,
    PluginInfo,
    PluginManager,
    PluginNameError,
    PluginSettings,
    SkippedPlugin,
    load_plugins,
)
from mutasi_rules.plugins.types import (
    NoticeContact,
    PlanConstraint,
    RuleSetContribution,
    ScoreComponent,
    TrainingOffer,
    Veto,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "ENV_DISABLE",
    "HOOK_NAMES",
    "NoticeContact",
    "PlanConstraint",
    "PluginConflictError",
    "PluginError",
    "PluginInfo",
    "PluginManager",
    "PluginNameError",
    "PluginSettings",
    "RuleSetContribution",
    "ScoreComponent",
    "SkippedPlugin",
    "TrainingOffer",
    "Veto",
    "hookimpl",
    "hookspec",
    "load_plugins",
]
