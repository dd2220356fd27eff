"""One error hierarchy: every error the library raises on purpose is a :class:`MutasiRulesError`.

Each error has a stable machine-readable ``code`` (``input.invalid``, ``plugin.failed``…)
and a ``kind``; the kind decides the exit code through :data:`EXIT_CODES`, the one map
from errors to exit codes (documented in the README):

====  ==========================================================
0     success
1     the input has problems (``input``, ``query``)
2     usage error (``usage``)
3     runtime failure (``plugin``, ``engine``, ``audit``, ``io``, ``failure``)
====  ==========================================================

The subclasses stay where they are raised and keep their import paths
(:class:`mutasi_rules.problems.InputError`, :class:`mutasi_rules.plugins.PluginError`,
:class:`mutasi_rules.rules.engine.EngineError`, :class:`mutasi_rules.audit.log.AuditError`,
:class:`mutasi_rules.planning.whynot.UnknownSubject`); a host application catches them all with
``except MutasiRulesError``. This module imports nothing heavy: the command line needs it
before it knows which command runs.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar, Literal

from mutasi_rules.core.i18n import LANGS, N_, localized

Kind = Literal["input", "query", "usage", "plugin", "engine", "audit", "io", "failure"]


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1
    USAGE = 2
    FAILURE = 3
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


#: The one map from an error's kind to the process exit code.
EXIT_CODES: dict[Kind, ExitCode] = {
    "input": ExitCode.PROBLEMS,
    "query": ExitCode.PROBLEMS,
    "usage": ExitCode.USAGE,
    "plugin": ExitCode.FAILURE,
    "engine": ExitCode.FAILURE,
    "audit": ExitCode.FAILURE,
    "io": ExitCode.FAILURE,
    "failure": ExitCode.FAILURE,
}

#: What each kind means, in English; Bahasa Indonesia from the catalogue (:func:`summary`).
SUMMARIES: dict[Kind, str] = {
    "input": N_("The input has problems; fix them all and run again."),
    "query": N_("What was asked for is not in the data."),
    "usage": N_("The command or its arguments are wrong."),
    "plugin": N_("A plugin failed; the message names the plugin and the hook."),
    "engine": N_("The rule engine failed."),
    "audit": N_("The decision log cannot be opened, read, written or replayed."),
    "io": N_("A file cannot be read or written."),
    "failure": N_("The run failed."),
}

def summary(kind: Kind) -> dict[str, str]:
    """What ``kind`` means in both languages: the ``message`` (``{"id": ..., "en": ...}``) of a JSON problem
    document."""
    return {lang: localized(SUMMARIES[kind], lang) for lang in LANGS}


#: How the command line prefixes the message of each kind on standard error.
TEXT_PREFIXES: dict[Kind, str] = {
    "usage": "error",
    "plugin": "plugin failure",
    "engine": "rule engine failure",
    "audit": "audit",
    "io": "error",
    "failure": "error",
}


class MutasiRulesError(Exception):
    """Base of every error mutasi-rules raises on purpose.

    ``code`` is stable across releases (a class default, refined per instance where the
    raiser knows more); ``kind`` selects the exit code in :data:`EXIT_CODES`.
    """

    kind: ClassVar[Kind] = "failure"
    code: str = "failure"

    def __init__(self, *args: object, code: str | None = None) -> None:
        super().__init__(*args)
        if code is not None:
            self.code = code

    @property
    def exit_code(self) -> ExitCode:
        return EXIT_CODES[self.kind]

    def details(self) -> dict[str, str]:
        """What the error is about, beyond its message (plugin, hook, file…), for machines."""
        return {}


class UsageError(MutasiRulesError, ValueError):
    """A command was called wrongly: a bad argument, a missing option, an unknown id."""

    kind = "usage"
    code = "usage.invalid"


def exit_code_of(error: BaseException) -> ExitCode:
    """The exit code for ``error``: its kind's for a :class:`MutasiRulesError`; an OSError is a failure."""
    if isinstance(error, MutasiRulesError):
        return error.exit_code
    return ExitCode.FAILURE


__all__ = [
    "EXIT_CODES",
    "SUMMARIES",
    "TEXT_PREFIXES",
    "ExitCode",
    "Kind",
    "MutasiRulesError",
    "UsageError",
    "exit_code_of",
    "summary",
]
