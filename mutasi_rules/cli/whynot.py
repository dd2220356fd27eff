"""``mutasi-rules why-not DATASET --employee NIP --position ID``: why a person is not moved there, and what would change it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..engine import EngineError
from ..plugins.manager import PluginError
from ..problems import InputError
from ..service import Service
from ..whynot import UnknownSubject, render_report
from . import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from .recommend import add_run_arguments, options_from
from .validate import checked_dataset


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "why-not",
        help="why a person is not (or would not be) moved to a position, with counterfactuals",
        description="Every reason this person is not moved to this position: blocking rules with the values they "
                    "read, plugin vetoes and the workload preconditions; then what would change it (a date, an "
                    "action, or nothing within this decision), each checked through the rule engine.",
    )
    parser.add_argument("dataset", metavar="DATASET", help="dataset directory or file")
    parser.add_argument("--employee", required=True, metavar="NIP", help="the person's NIP")
    parser.add_argument("--position", required=True, metavar="ID", help="the target position id")
    add_run_arguments(parser)
    parser.add_argument("--lang", choices=("id", "en"), default="id", help="language of text and md output")
    parser.add_argument("--format", choices=("text", "md", "json"), default="text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        options = options_from(args)
    except ValueError as error:  # a malformed --plugin-option
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    dataset = checked_dataset(args.dataset, "no query answered")
    if dataset is None:
        return EXIT_PROBLEMS
    try:
        with Service() as service:
            report = service.why_not(dataset, args.employee, args.position, options)
    except UnknownSubject as error:
        print(f"{args.dataset}: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    except InputError as error:
        print(str(error), file=sys.stderr)
        return EXIT_PROBLEMS
    except PluginError as error:
        print(f"plugin failure: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except EngineError as error:
        print(f"rule engine failure: {error}", file=sys.stderr)
        return EXIT_FAILURE
    sys.stdout.write(report.to_json(indent=2) + "\n" if args.format == "json"
                     else render_report(report, args.lang, args.format))
    return EXIT_OK


__all__ = ["register"]
