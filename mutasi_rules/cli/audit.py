"""``mutasi-rules audit verify|replay|list``: check, re-run and list the recorded decisions.

Also :func:`add_audit_arguments`, the options of the commands that record their run (the
service layer records it; see docs/audit.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from ..audit import (
    ENV_AUDIT_DB,
    AuditError,
    AuditLog,
    default_audit_path,
    replay,
    verify_with_reviews,
)
from ..canonical import canonical_json
from . import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE

DB_HELP = (f"the decision log (default: ${ENV_AUDIT_DB} if set, else mutasi-rules-audit.sqlite in the folder that "
           "holds the dataset; for audit commands, in the current directory)")


def add_audit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--audit-db PATH`` and ``--no-audit`` for commands that record their run."""
    group = parser.add_argument_group("audit", "Every run is recorded in an append-only, hash-chained decision log.")
    group.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    group.add_argument("--no-audit", action="store_true", help="do not record this run")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="verify, replay and list the recorded decisions",
        description="The decision log records every recommend run with its inputs and result, hash-chained. "
                    "Verify the chain, replay a run from its stored inputs, or list the runs.",
    )
    commands = parser.add_subparsers(dest="audit_command", metavar="SUBCOMMAND")
    parser.set_defaults(handler=lambda args: _usage(parser))

    verify = commands.add_parser(
        "verify", help="check the whole hash chain",
        description="Check every record's hashes and the chain linking them. Exit 0 intact, 1 tampered or broken.",
    )
    verify.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    verify.set_defaults(handler=run_verify)

    replay_parser = commands.add_parser(
        "replay", help="re-run a recorded decision and compare",
        description="Re-run a recorded decision from its stored dataset, rule-set texts, options and the recorded "
                    "plugins, and compare the result with the stored one. Exit 0 identical, 1 different or not "
                    "verifiable, 2 unknown run id, 3 the run cannot be replayed (e.g. a plugin is missing).",
    )
    replay_parser.add_argument("run_id", metavar="RUN_ID", help="e.g. R000042-1a2b3c4d5e (a unique prefix will do)")
    replay_parser.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    replay_parser.set_defaults(handler=run_replay)

    list_parser = commands.add_parser("list", help="list the recorded runs",
                                      description="List the recorded runs in sequence order.")
    list_parser.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    list_parser.add_argument("--format", choices=("table", "json"), default="table")
    list_parser.set_defaults(handler=run_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _path(args: argparse.Namespace) -> str:
    return os.fspath(args.audit_db or default_audit_path())


def _open(path: str) -> AuditLog:
    return AuditLog(path, create=False)


def run_verify(args: argparse.Namespace) -> int:
    path = _path(args)
    if not os.path.exists(path):
        print(f"audit verify: no audit log at {path}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        with _open(path) as log:
            report = verify_with_reviews(log)
    except AuditError as error:
        print(f"audit verify: BROKEN: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.ok:
        head = f"; head hash {report.head_hash}" if report.head_hash else ""
        print(f"{path}: {report.records} record(s), chain intact{head}")
        return EXIT_OK
    who = f" ({report.first_bad_run_id})" if report.first_bad_run_id else ""
    where = f"first bad record seq {report.first_bad}{who}: " if report.first_bad is not None else ""
    print(f"{path}: TAMPERED OR BROKEN: {where}{report.reason}")
    for problem in report.problems:
        print(f"  {problem}")
    return EXIT_PROBLEMS


def run_replay(args: argparse.Namespace) -> int:
    path = _path(args)
    try:
        with _open(path) as log:
            try:
                log.get(args.run_id)
            except AuditError as error:
                print(f"audit replay: {error}", file=sys.stderr)
                return EXIT_USAGE
            report = replay(log, args.run_id)
    except AuditError as error:  # ReplayError included: a plugin is missing, the log cannot be read
        print(f"audit replay: {error}", file=sys.stderr)
        return EXIT_FAILURE
    if report.identical:
        print(f"run {report.run_id}: replay identical (result sha256 {report.recorded_sha256})")
        return EXIT_OK
    state = "NOT VERIFIABLE" if not report.verifiable else "DIFFERENT"
    print(f"run {report.run_id}: replay {state}: recorded sha256 {report.recorded_sha256}, "
          f"replayed {report.replayed_sha256 or '-'}")
    for difference in report.differences:
        print(f"  {difference}")
    return EXIT_PROBLEMS


def run_list(args: argparse.Namespace) -> int:
    path = _path(args)
    try:
        with _open(path) as log:
            rows = list(log.summaries())
    except AuditError as error:
        print(f"audit list: {error}", file=sys.stderr)
        return EXIT_FAILURE
    if args.format == "json":
        sys.stdout.write(canonical_json([r.as_dict() for r in rows], indent=2) + "\n")
        return EXIT_OK
    table = Table(title=f"{path}: {len(rows)} run(s)")
    for column in ("run id", "seq", "as_of", "plan date", "dataset", "moves", "recorded at (UTC)"):
        table.add_column(column, justify="right" if column in ("seq", "moves") else "left")
    for r in rows:
        table.add_row(r.run_id, str(r.seq), r.as_of, r.plan_date, f"{r.dataset_name} ({r.dataset_sha256[:12]})",
                      str(r.moves), r.recorded_at)
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    return EXIT_OK


__all__ = ["add_audit_arguments", "register"]
