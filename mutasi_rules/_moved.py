"""Old import paths of modules that moved into the stage subpackages, kept working.

In 0.1 the modules sat side by side in ``mutasi_rules``; they are now grouped by pipeline
stage (``data``, ``rules``, ``analysis``, ``planning``, ``explain``, ``audit``, ``hosting``,
``core``). ``import mutasi_rules.recommendation`` and ``from mutasi_rules.engine import X``
still work: the old name is an alias of the new module (the same module object, so
``isinstance`` checks and monkeypatching behave), with a :class:`DeprecationWarning`.
``mutasi_rules.explain`` and ``mutasi_rules.audit`` became packages that re-export their
old names themselves.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

#: Old module (under ``mutasi_rules``) -> new module (under ``mutasi_rules``).
MOVED: dict[str, str] = {
    "access": "hosting.access",
    "atomic": "core.atomic",
    "backend": "rules.backend",
    "canonical": "core.canonical",
    "cellformats": "data.cellformats",
    "comparison": "planning.comparison",
    "datasets_store": "hosting.datasets_store",
    "decision_tables": "rules.decision_tables",
    "decisions": "data.decisions",
    "diff": "planning.diff",
    "durable_compile": "rules.durable_compile",
    "engine": "rules.engine",
    "escaping": "core.escaping",
    "facts": "data.facts",
    "findings": "rules.findings",
    "generator": "data.generator",
    "hosted": "hosting.hosted",
    "i18n": "core.i18n",
    "integrity": "data.integrity",
    "language": "rules.language",
    "limits": "core.limits",
    "loading": "data.loading",
    "locations": "core.locations",
    "models": "data.models",
    "notice_docx": "explain.notice_docx",
    "notices": "explain.notices",
    "plan": "planning.plan",
    "recommendation": "planning.recommendation",
    "report": "explain.report",
    "review": "planning.review",
    "rulesets": "rules.rulesets",
    "ruletests": "rules.ruletests",
    "runtime": "core.runtime",
    "scenario": "data.scenario",
    "scoring": "planning.scoring",
    "screen": "rules.screen",
    "settings": "core.settings",
    "spreadsheet": "explain.spreadsheet",
    "training_plan": "planning.training_plan",
    "trend": "analysis.trend",
    "unitscope": "hosting.unitscope",
    "whynot": "planning.whynot",
    "workload": "analysis.workload",
    "yaml_source": "data.yaml_source",
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, new: str) -> None:
        self.new = new
        self._spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.new)
        self._spec = module.__spec__  # the import system overwrites it; exec_module puts it back
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self._spec


class _MovedModuleFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        prefix, _, old = fullname.partition(".")
        if prefix != "mutasi_rules":
            return None
        head, _, rest = old.partition(".")
        if head not in MOVED:
            return None
        new = "mutasi_rules." + MOVED[head] + ("." + rest if rest else "")
        warnings.warn(f"{fullname} has moved to {new}; the old path will be removed in 1.0",
                      DeprecationWarning, stacklevel=3)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(new))


def install_moved_module_aliases() -> None:
    """Let the old module paths import (once per process)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        # First, so that a stale folder left by an old checkout (a namespace package to the
        # path finder) cannot shadow an alias.
        sys.meta_path.insert(0, _MovedModuleFinder())
