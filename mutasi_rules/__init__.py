"""mutasi-rules: explained, rule-based transfer recommendations for ASN workload balance.

The public API for embedding, importable from the package itself::

    from mutasi_rules import bundled_example_dir, load_dataset, recommend, RecommendOptions

    result = recommend(load_dataset(bundled_example_dir()), RecommendOptions(max_moves=10))
    print(result.to_json())

Names are resolved lazily so that ``import mutasi_rules`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from mutasi_rules._moved import install_moved_module_aliases
from mutasi_rules._version import __version__

install_moved_module_aliases()

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    # data
    "Dataset": "data.models",
    "Employee": "data.models",
    "Position": "data.models",
    "Unit": "data.models",
    "load_dataset": "data.loading",
    "save_dataset": "data.loading",
    "validate_dataset": "data.loading",
    "generate_dataset": "data.generator",
    "bundled_example_dir": "core.locations",
    "InputError": "problems",
    "Problem": "problems",
    # errors: every error raised on purpose derives from MutasiRulesError
    "MutasiRulesError": "errors",
    "EngineError": "rules.backend",
    # rules
    "load_rulesets": "rules.rulesets",
    "default_rules_dir": "rules.rulesets",
    "RuleEngine": "rules.engine",
    "Finding": "rules.engine",
    # workload
    "analyse_workload": "analysis.workload",
    "WorkloadSettings": "analysis.workload",
    "WorkloadReport": "analysis.workload",
    # recommendation
    "recommend": "planning.recommendation",
    "prepare": "planning.recommendation",
    "RecommendOptions": "planning.recommendation",
    "RecommendationResult": "planning.recommendation",
    # plugins
    "load_plugins": "plugins.manager",
    "PluginSettings": "plugins.manager",
    "PluginError": "plugins.manager",
    # the service layer: run, record, notify, query
    "Service": "service",
    "RunOutcome": "service",
    # schemas
    "schema_for": "schemas",
}

__all__ = ["__version__", *sorted(_EXPORTS)]  # noqa: PLE0604 - the names __getattr__ imports on first use


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mutasi_rules' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
