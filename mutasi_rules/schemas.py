"""The published JSON Schemas: every document the library reads or writes.

The pydantic models are the single source of truth; this module only names them. The
schemas are also committed under ``docs/schemas/`` (a test keeps them current), so any
change to a published shape shows up in review as a change to a schema file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SCHEMA_BASE_ID = "https://mutasi-rules.invalid/schemas/"


def _dataset() -> dict[str, Any]:
    from mutasi_rules.data.models import Dataset

    return Dataset.model_json_schema()


def _rules() -> dict[str, Any]:
    from mutasi_rules.rules.rulesets import rule_file_json_schema

    return rule_file_json_schema()


def _options() -> dict[str, Any]:
    from mutasi_rules.planning.recommendation import RecommendOptions

    return RecommendOptions.model_json_schema()


def _result() -> dict[str, Any]:
    from mutasi_rules.planning.recommendation import RecommendationResult

    return RecommendationResult.model_json_schema(by_alias=True, mode="serialization")


def _workload() -> dict[str, Any]:
    from mutasi_rules.analysis.workload import WorkloadReport

    return WorkloadReport.model_json_schema(mode="serialization")


def _why_not() -> dict[str, Any]:
    from mutasi_rules.planning.whynot import WhyNotReport

    return WhyNotReport.model_json_schema(mode="serialization")


def _batch_summary() -> dict[str, Any]:
    from mutasi_rules.batch import BatchSummary

    return BatchSummary.model_json_schema(mode="serialization")


def _scenario() -> dict[str, Any]:
    from mutasi_rules.data.scenario import scenario_json_schema

    return scenario_json_schema()


def _scenarios() -> dict[str, Any]:
    from mutasi_rules.planning.comparison import ScenarioReport

    return ScenarioReport.model_json_schema(by_alias=True, mode="serialization")


def _training_plan() -> dict[str, Any]:
    from mutasi_rules.planning.training_plan import TrainingPlan

    return TrainingPlan.model_json_schema(mode="serialization")


def _workload_trend() -> dict[str, Any]:
    from mutasi_rules.analysis.trend import WorkloadTrend

    return WorkloadTrend.model_json_schema(mode="serialization")


def _settings() -> dict[str, Any]:
    from mutasi_rules.core.settings import RegionSettings

    return RegionSettings.model_json_schema()


def _document(name: str) -> Callable[[], dict[str, Any]]:
    """The schema of a command's JSON output, from its model in :mod:`mutasi_rules.documents`."""

    def build() -> dict[str, Any]:
        from mutasi_rules import documents

        return getattr(documents, name).model_json_schema(by_alias=True, mode="serialization")

    return build


def _validate() -> dict[str, Any]:
    from pydantic import TypeAdapter

    from mutasi_rules.problems import Problem

    return TypeAdapter(list[Problem]).json_schema(mode="serialization")


def _error() -> dict[str, Any]:
    from mutasi_rules.problems import ErrorReport

    return ErrorReport.model_json_schema(mode="serialization")


def _review_decisions() -> dict[str, Any]:
    from mutasi_rules.data.decisions import DecisionsFile

    return DecisionsFile.model_json_schema()


def _diff() -> dict[str, Any]:
    from mutasi_rules.planning.diff import RunDiff

    return RunDiff.model_json_schema(mode="serialization")


#: Target name -> (what it describes, schema builder). Other modules add their documents here.
SCHEMAS: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "dataset": ("a dataset document (input)", _dataset),
    "rules": ("a rule file (input)", _rules),
    "options": ("the options of a recommendation run (input)", _options),
    "result": ("a recommendation result (output of recommend)", _result),
    "workload": ("a workload report (output of workload --format json)", _workload),
    "why-not": ("a why-not report (output of why-not --format json)", _why_not),
    "scenario": ("a scenario file (input of scenario --scenario)", _scenario),
    "scenarios": ("a baseline and scenarios compared (output of scenario --format json)", _scenarios),
    "training-plan": ("a training plan (output of explain --training-plan FILE.json)", _training_plan),
    "workload-trend": ("EJ per agency across snapshots (output of workload --trend --format json)", _workload_trend),
    "explain": ("an explanation of a recorded run (output of explain --format json)", _document("Explanation")),
    "validate": ("the problems of a dataset (output of validate --format json)", _validate),
    "audit-list": ("the recorded runs (output of audit list --format json)", _document("AuditList")),
    "audit-verify": ("a check of the decision log (output of audit verify --format json)",
                     _document("AuditVerifyReport")),
    "audit-replay": ("a replayed run compared (output of audit replay --format json)",
                     _document("AuditReplayReport")),
    "plugins-list": ("the discovered plugins (output of plugins list --format json)", _document("PluginList")),
    "rules-check": ("checked rule sets and their problems (output of rules check --format json)",
                    _document("RuleCheckReport")),
    "rules-test": ("rule test results (output of rules test --format json)", _document("RuleTestSummary")),
    "error": ("the problem document of a failed command (any command with --format json)", _error),
    "settings": ("a region's settings file (input of --settings)", _settings),
    "review-decisions": ("a review decisions file (input of review --decisions)", _review_decisions),
    "review": ("decisions recorded on a run (output of review --format json)", _document("ReviewView")),
    "diff": ("the difference between two runs (output of diff --format json)", _diff),
    "batch-summary": ("the summary of a batch of regions (summary.json of batch)", _batch_summary),
}


def schema_for(target: str) -> dict[str, Any]:
    """The JSON Schema of ``target`` (one of :data:`SCHEMAS`), with a stable ``$id``."""
    if target not in SCHEMAS:
        raise KeyError(f"unknown schema {target!r}; known: {', '.join(sorted(SCHEMAS))}")
    schema = dict(SCHEMAS[target][1]())
    schema.setdefault("$id", f"{SCHEMA_BASE_ID}{target}.schema.json")
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    return schema
