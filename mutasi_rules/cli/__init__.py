"""The ``mutasi-rules`` command line.

One module per command group under this package; each exposes
``register(subparsers)`` which adds its sub-command(s) and sets ``handler`` to a function
``(args) -> int`` returning the exit code. Handlers raise on failure
(:class:`~mutasi_rules.errors.MutasiRulesError` and its subclasses, ``OSError``);
:func:`main` is the one place that turns an error into its exit code
(:data:`mutasi_rules.errors.EXIT_CODES`) and into text on standard error or, with
``--format json``, a JSON problem document on standard output
(``docs/schemas/error.schema.json``).

Exit codes (stable, documented in the README):
  0  success
  1  the input has problems (validation errors, rule check or rule test failures)
  2  usage error (bad arguments)
  3  runtime failure (a plugin or the engine failed; the message says which)

Start-up is kept cheap (``--version`` and ``--help`` import no numpy, highspy, durable,
pydantic models or rich): command modules import what they need inside their handlers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from mutasi_rules._version import __version__
from mutasi_rules.errors import SUMMARIES, TEXT_PREFIXES, ExitCode, MutasiRulesError, UsageError, exit_code_of

#: Set to 1 to see the traceback of an internal error (a bug) instead of only its message.
ENV_TRACEBACK = "MUTASI_RULES_TRACEBACK"

EXIT_OK = ExitCode.OK
EXIT_PROBLEMS = ExitCode.PROBLEMS
EXIT_USAGE = ExitCode.USAGE
EXIT_FAILURE = ExitCode.FAILURE

# Order is the order shown in --help.
COMMAND_MODULES = (
    "demo",
    "validate",
    "generate",
    "schema",
    "rules",
    "workload",
    "plugins",
    "recommend",
    "batch",
    "scenario",
    "whynot",
    "explain",
    "review",
    "audit",
    "serve",
)


def date_arg(text: str) -> dt.date:
    """argparse type for a calendar date written YYYY-MM-DD, within the plausible run dates."""
    from mutasi_rules.data.models import PLAUSIBLE_RUN_DATES

    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None
    low, high = PLAUSIBLE_RUN_DATES
    if not low <= day <= high:
        raise argparse.ArgumentTypeError(f"{text} is not a plausible date ({low.isoformat()} to {high.isoformat()})")
    return day


def positive_int(text: str) -> int:
    """argparse type for a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are raised (so ``main`` reports them, as JSON if asked)."""

    def error(self, message: str) -> NoReturn:
        error = UsageError(f"{self.prog}: {message}", code="usage.arguments")
        error.usage = self.format_usage()  # type: ignore[attr-defined]
        raise error


def add_format_argument(parser: argparse.ArgumentParser, choices: Sequence[str], default: str | None,
                        help: str | None = None) -> None:
    """``--format``: every command offers ``json`` (a failure is then a JSON problem document)."""
    parser.add_argument("--format", choices=tuple(choices), default=default,
                        help=help or f"output format (default: {default}); with json, a failure is a JSON "
                                     "problem document on standard output")


def add_lang_argument(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """``--lang id|en``: Bahasa Indonesia by default; JSON documents stay as they are in either language."""
    parser.add_argument("--lang", choices=("id", "en"), default="id",
                        help=help or "language of the text output and messages (default: id)")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="mutasi-rules",
        description="Explained, rule-based transfer (mutasi ASN) recommendations that balance workload.",
    )
    parser.add_argument("--version", action="version", version=f"mutasi-rules {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="show the library's log messages on standard error (-vv: debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(subparsers)
    return parser


def wants_json(argv: Sequence[str]) -> bool:
    """Whether the command line asks for ``--format json`` (read before parsing, for usage errors too)."""
    for i, arg in enumerate(argv):
        if arg == "--format=json" or (arg == "--format" and i + 1 < len(argv) and argv[i + 1] == "json"):
            return True
    return False


def report_failure(error: BaseException, as_json: bool, lang: str | None = None) -> int:
    """Tell the user (or the calling program) what failed; return the exit code. The one place that does.

    ``lang``: the command's ``--lang``; in Bahasa Indonesia, problems and prefixes are shown from the
    message catalogue (commands without ``--lang`` report as recorded, in English).
    """
    code = exit_code_of(error)
    if as_json:
        from mutasi_rules.core.canonical import canonical_json
        from mutasi_rules.problems import ErrorReport

        sys.stdout.write(canonical_json(ErrorReport.of(error).model_dump(mode="json"), indent=2) + "\n")
        sys.stdout.flush()
        return code
    if lang is not None and lang != "en":
        print(_localised_failure(error, lang), file=sys.stderr)
        return code
    if isinstance(error, MutasiRulesError):
        prefix = TEXT_PREFIXES.get(error.kind)
        text = str(error) or SUMMARIES[error.kind]
    else:  # OSError: a file that cannot be read or written
        prefix, text = "error", str(error)
    print(f"{prefix}: {text}" if prefix else text, file=sys.stderr)
    return code


def _localised_failure(error: BaseException, lang: str) -> str:
    """The failure as text in ``lang``: every problem located and translated, then what it means."""
    from mutasi_rules.cli.validate import format_problem
    from mutasi_rules.core.i18n import localized, translate_message, translator
    from mutasi_rules.problems import InputError

    _ = translator(lang)
    if isinstance(error, InputError) and error.problems:
        errors = [p for p in error.problems if p.severity == "error"]
        lines = [format_problem(p, lang) for p in errors[:50]]
        if len(errors) > 50:
            lines.append(_("... and {count} more").format(count=len(errors) - 50))
        summary = _("{what}: {errors} error(s)").format(what=translate_message(error.what, lang), errors=len(errors))
        return "\n".join([*lines, summary])
    if isinstance(error, MutasiRulesError):
        prefix = TEXT_PREFIXES.get(error.kind)
        text = translate_message(str(error), lang) if str(error) else localized(SUMMARIES[error.kind], lang)
        return f"{_(prefix)}: {text}" if prefix else text
    return f"{_('error')}: {error}"


@contextmanager
def _cli_logging(verbosity: int) -> Iterator[None]:
    """Show the library's log messages on standard error while a command runs (warnings; more with -v).

    The library only logs (logger ``mutasi_rules``); the handler is the command line's and is
    removed again afterwards, so a host program that calls :func:`main` keeps its own logging.
    """
    logger = logging.getLogger("mutasi_rules")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


def _quiet_closed_pipe() -> int:
    """Standard output was closed by the reader (``| head``): stop without a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush must not fail again
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, as a shell reports a pipe writer stopped by the reader


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = wants_json(argv)
    lang: str | None = None  # the command's --lang, once the arguments are parsed
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except UsageError as error:
            if not as_json:
                sys.stderr.write(getattr(error, "usage", ""))
            return report_failure(error, as_json)
        handler = getattr(args, "handler", None)
        if handler is None:
            if as_json:
                return report_failure(UsageError("no command given; see mutasi-rules --help"), True)
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        lang = getattr(args, "lang", None)
        with _cli_logging(args.verbose):
            code = int(handler(args))
            sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except BrokenPipeError:
        return _quiet_closed_pipe()
    except (MutasiRulesError, OSError) as error:
        try:
            return report_failure(error, as_json, lang)
        except BrokenPipeError:
            return _quiet_closed_pipe()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as error:  # noqa: BLE001 - a bug: still no traceback for the user (MUTASI_RULES_TRACEBACK=1 shows it)
        if os.environ.get(ENV_TRACEBACK):
            traceback.print_exc()
        internal = MutasiRulesError(f"internal error (a bug; please report it with the traceback that "
                                    f"{ENV_TRACEBACK}=1 shows): {type(error).__name__}: {error}",
                                    code="internal.error")
        try:
            return report_failure(internal, as_json)
        except BrokenPipeError:
            return _quiet_closed_pipe()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
