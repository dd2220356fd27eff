"""``mutasi-rules review|replan|diff``: decisions on a recorded plan, the plan re-made around them, and what changed.

Thin over :class:`mutasi_rules.service.Service` (``review``, ``replan``, ``diff``), which the
HTTP API and the web application call too.
"""

from __future__ import annotations

import argparse
import io
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from ..atomic import write_text
from ..audit import AuditError
from ..engine import EngineError
from ..plan import PlanError
from ..plugins.manager import PluginError
from ..problems import InputError
from ..service import Service
from . import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS
from .audit import DB_HELP
from .recommend import progress_reporter, render


def register(subparsers: Any) -> None:
    review = subparsers.add_parser(
        "review", help="record review decisions (reject, pin, exclude_employee, hold_position) on a recorded run",
        description="Check a decisions file (YAML or JSON list of {action, nip, position, reason, reviewer, date}) "
                    "against the run and its lineage and append it to the decision log, linked to the run. "
                    "Invalid decisions are refused whole, each with the reason and the rule.",
    )
    review.add_argument("run_id", metavar="RUN_ID")
    review.add_argument("--decisions", metavar="FILE", required=True, help="the decisions file (YAML or JSON)")
    review.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    review.set_defaults(handler=run_review)

    replan = subparsers.add_parser(
        "replan", help="make and record a new plan that honours every review decision in the run's lineage",
        description="Re-make the plan of RUN_ID on its recorded inputs, honouring every decision recorded on it and "
                    "its ancestors. The result names its parent run and the decisions applied; "
                    "audit replay reproduces it.",
    )
    replan.add_argument("run_id", metavar="RUN_ID")
    _output_arguments(replan)
    replan.set_defaults(handler=run_replan)

    diff = subparsers.add_parser(
        "diff", help="moves added, removed and changed between two recorded runs, with the reasons",
        description="Compare run B with run A: every person whose move differs, why (a review decision, or what the "
                    "optimiser traded), and the balance figures of both.",
    )
    diff.add_argument("run_a", metavar="RUN_A")
    diff.add_argument("run_b", metavar="RUN_B")
    _output_arguments(diff)
    diff.set_defaults(handler=run_diff)


def _output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    parser.add_argument("--format", choices=("table", "json", "md"), default="table")
    parser.add_argument("--out", metavar="FILE", help="write the output to FILE (atomically) instead of stdout")
    parser.add_argument("--lang", choices=("id", "en"), default="id", help="language of table and md output")


def _failure(command: str, error: Exception) -> int:
    if isinstance(error, InputError):
        print(str(error), file=sys.stderr)
        return EXIT_PROBLEMS
    kind = {PluginError: "plugin failure", EngineError: "rule engine failure", PlanError: "plan failure"}
    label = next((v for k, v in kind.items() if isinstance(error, k)), command)
    print(f"{label}: {error}", file=sys.stderr)
    return EXIT_FAILURE


def _emit(text: str, out: str | None, what: str) -> None:
    if out:
        write_text(out, text)
        print(f"{what} written to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def run_review(args: argparse.Namespace) -> int:
    from ..review import read_decisions

    service = Service(args.audit_db)
    try:
        decisions = read_decisions(args.decisions)
        record = service.review(args.run_id, decisions, origin=args.decisions)
    except (InputError, AuditError, PluginError, EngineError) as error:
        return _failure("review", error)
    print(f"review {record.review_id}: {len(record.decisions)} decision(s) recorded on run {record.run_id} "
          f"in {service.audit_path}")
    for decision in record.decisions:
        print(f"  {decision.id}: {decision.describe()} ({decision.reviewer}, {decision.date.isoformat()})")
    return EXIT_OK


def run_replan(args: argparse.Namespace) -> int:
    service = Service(args.audit_db)
    try:
        with progress_reporter(sys.stderr.isatty()) as progress:
            outcome = service.replan(args.run_id, progress=progress)
    except (InputError, AuditError, PluginError, EngineError, PlanError) as error:
        return _failure("replan", error)
    result = outcome.result
    print(f"audit: recorded run {outcome.run_id} (re-plan of {result.run.parent_run_id}, "
          f"{len(result.run.review_decisions)} decision(s)) in {service.audit_path}", file=sys.stderr)
    _emit(render(result, args.format, args.lang), args.out, f"{len(result.moves)} moves")
    return EXIT_OK


def run_diff(args: argparse.Namespace) -> int:
    from ..diff import diff_markdown

    service = Service(args.audit_db)
    try:
        diff = service.diff(args.run_a, args.run_b)
    except AuditError as error:
        return _failure("diff", error)
    if args.format == "json":
        text = diff.model_dump_json(indent=2) + "\n"
    elif args.format == "md":
        text = diff_markdown(diff, args.lang)
    else:
        console = Console(record=True, width=160, file=io.StringIO())
        table = Table(title=f"{diff.run_a} → {diff.run_b}")
        for column in ("", "NIP", "name", "A", "B", "reason"):
            table.add_column(column)
        for change in diff.changes:
            table.add_row(change.kind, change.nip, change.name,
                          change.before.position_id if change.before else "-",
                          change.after.position_id if change.after else "-", change.reason.get(args.lang))
        console.print(table)
        for name, moves, before, after in (("A", diff.moves_a, diff.balance_a_before, diff.balance_a_after),
                                           ("B", diff.moves_b, diff.balance_b_before, diff.balance_b_after)):
            console.print(f"{name}: {moves} moves; EJ std {before.ej_std} -> {after.ej_std}; "
                          f"outside band {before.outside_band_share} -> {after.outside_band_share}")
        text = console.export_text()
    _emit(text, args.out, f"diff ({len(diff.changes)} change(s))")
    return EXIT_OK


__all__ = ["register"]
