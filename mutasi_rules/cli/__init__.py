"""The ``mutasi-rules`` command line.

One module per command group under this package; each exposes
``register(subparsers)`` which adds its sub-command(s) and sets ``handler`` to a function
``(args) -> int`` returning the exit code.

Exit codes (stable, documented in the README):
  0  success
  1  the input has problems (validation errors, rule check or rule test failures)
  2  usage error (bad arguments)
  3  runtime failure (a plugin or the engine failed; the message says which)
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
from collections.abc import Sequence

from .. import __version__

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_FAILURE = 3

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
    "whynot",
    "explain",
    "audit",
)


def date_arg(text: str) -> dt.date:
    """argparse type for a calendar date written YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mutasi-rules",
        description="Explained, rule-based transfer (mutasi ASN) recommendations that balance workload.",
    )
    parser.add_argument("--version", action="version", version=f"mutasi-rules {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # command group not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
