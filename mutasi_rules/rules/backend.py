"""The rule-backend seam: what the rest of the library needs from a rule engine, and nothing more.

The library evaluates rules through one backend, durable_rules (:mod:`mutasi_rules.rules.engine`,
the only module that imports ``durable``). Everything above it (workload labels, the
pipeline, why-not, rule tests) depends on these protocols; the checker is handed the
backend's compile check (:func:`mutasi_rules.rules.durable_compile.compile_problem`) instead of
importing the engine, and the vectorised pre-screen (:mod:`mutasi_rules.rules.screen`) declares
that it reads the durable backend's compiled form (``durable_compile``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from mutasi_rules.errors import MutasiRulesError

if TYPE_CHECKING:
    from mutasi_rules.data.facts import ExtensionAttribute, Scope
    from mutasi_rules.rules.findings import Finding
    from mutasi_rules.rules.language.ast import Expr
    from mutasi_rules.rules.rulesets import LoadedRuleSet

#: Why an expression cannot be compiled by the backend, or None when it can.
CompileCheck = Callable[["Expr"], "str | None"]


class EngineError(MutasiRulesError, RuntimeError):
    """The engine cannot be built or run (a rule set it cannot compile, a durable failure; exit code 3)."""

    kind = "engine"
    code = "engine.failed"


class RuleEvaluator(Protocol):
    """Evaluates facts of one scope against every applicable rule in force on its ``as_of``."""

    as_of: dt.date

    def evaluate(self, scope: Scope, facts: Sequence[Any], subjects: Sequence[str]) -> list[list[Finding]]:
        """Findings per fact, in input order; each list sorted by (rule set id, rule id)."""
        ...

    def close(self) -> None:
        """Free the backend's resources. Idempotent."""
        ...


class RuleBackend(Protocol):
    """A rule engine the library can run on."""

    name: str

    def compile_problem(self, expr: Expr) -> str | None:
        """Why ``expr`` cannot be compiled by this backend, or None when it can (load-time check)."""
        ...

    def evaluator(self, rulesets: Sequence[LoadedRuleSet], as_of: dt.date,
                  extensions: Iterable[ExtensionAttribute] = ()) -> RuleEvaluator:
        """An evaluator over ``rulesets`` for ``as_of``; raises :class:`EngineError`."""
        ...


__all__ = ["CompileCheck", "EngineError", "RuleBackend", "RuleEvaluator"]
