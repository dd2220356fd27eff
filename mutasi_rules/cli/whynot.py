"""``mutasi-rules why-not DATASET --employee NIP --position ID``: why a person is not moved there,
and what would change it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mutasi_rules.cli import EXIT_OK, add_format_argument
from mutasi_rules.cli.recommend import add_run_arguments, options_from
from mutasi_rules.cli.validate import STDIN


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "why-not",
        help="why a person is not (or would not be) moved to a position, with counterfactuals",
        description="Every reason this person is not moved to this position: blocking rules with the values they "
                    "read, plugin vetoes and the workload preconditions; then what would change it (a date, an "
                    "action, or nothing within this decision), each checked through the rule engine.",
    )
    parser.add_argument("dataset", metavar="DATASET",
                        help="dataset directory or file, or - for a JSON dataset document on standard input")
    parser.add_argument("--employee", required=True, metavar="NIP", help="the person's NIP")
    parser.add_argument("--position", required=True, metavar="ID", help="the target position id")
    add_run_arguments(parser)
    parser.add_argument("--lang", choices=("id", "en"), default="id", help="language of text and md output")
    add_format_argument(parser, ("text", "md", "json"), "text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mutasi_rules.cli.recommend import check_run_dates
    from mutasi_rules.cli.validate import checked_dataset, stdin_dataset
    from mutasi_rules.planning.whynot import UnknownSubject, render_report
    from mutasi_rules.service import Service

    options = options_from(args)
    dataset = (stdin_dataset("no query answered") if args.dataset == STDIN
               else checked_dataset(args.dataset, "no query answered"))
    check_run_dates(dataset, options)
    try:
        with Service() as service:
            report = service.why_not(dataset, args.employee, args.position, options)
    except UnknownSubject as error:  # checked before the run is prepared: a typo answers at once
        raise UnknownSubject(f"{args.dataset}: {error}") from error
    sys.stdout.write(report.to_json(indent=2) + "\n" if args.format == "json"
                     else render_report(report, args.lang, args.format))
    return EXIT_OK


__all__ = ["register"]
