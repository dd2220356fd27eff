"""The public namespace for plugin authors: everything an agency plugin imports, from one place.

::

    from mutasi_rules.plugin import RuleSetContribution, TrainingOffer, hookimpl

    @hookimpl
    def mutasi_rules_training_catalogue():
        return [TrainingOffer(name="Pelatihan Vaksinator", provider="Dinkes", hours=40)]

The hooks themselves, one documented stub each, are in :mod:`mutasi_rules.plugins.hookspecs`
(and docs/plugins.md). Names here are stable; the modules behind them are not part of the
plugin API.
"""

from __future__ import annotations

from mutasi_rules.data.facts import CandidateFacts, ExtensionAttribute, ExtValue, FieldType
from mutasi_rules.data.models import Dataset, Employee, Position, Unit, UnitKind
from mutasi_rules.plugins.hookspecs import hookimpl
from mutasi_rules.plugins.manager import PluginError, PluginSettings
from mutasi_rules.plugins.types import (
    NoticeContact,
    PlanConstraint,
    RuleSetContribution,
    ScoreComponent,
    TrainingOffer,
    Veto,
)
from mutasi_rules.rules.rulesets import Localized

__all__ = [
    "CandidateFacts",
    "Dataset",
    "Employee",
    "ExtValue",
    "ExtensionAttribute",
    "FieldType",
    "Localized",
    "NoticeContact",
    "PlanConstraint",
    "PluginError",
    "PluginSettings",
    "Position",
    "RuleSetContribution",
    "ScoreComponent",
    "TrainingOffer",
    "Unit",
    "UnitKind",
    "Veto",
    "hookimpl",
]
