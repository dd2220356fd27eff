"""``mutasi-rules review|replan|diff``: decisions on a recorded plan, the plan re-made around them, and what changed.

Thin over :class:`mutasi_rules.service.Service` (``review``, ``replan``, ``diff``), which the
HTTP API and the web application call too. Failures raise; :func:`mutasi_rules.cli.main`
reports them (a JSON problem document with ``--format json``) with the exit code of their kind.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_OK, add_format_argument, add_lang_argument
from mutasi_rules.cli.audit import DB_HELP

if TYPE_CHECKING:
    from mutasi_rules.planning.diff import RunDiff


def register(subparsers: Any) -> None:
    review = subparsers.add_parser(
        "review", help="record review decisions (reject, pin, exclude_employee, hold_position) on a recorded run",
        description="Check a decisions file (YAML or JSON list of {action, nip, position, reason, reviewer, date}; "
                    "docs/schemas/review-decisions.schema.json) against the run and its lineage and append it to "
                    "the decision log, linked to the run. Invalid decisions are refused whole, each with the reason "
                    "and the rule (exit 1).",
    )
    review.add_argument("run_id", metavar="RUN_ID")
    review.add_argument("--decisions", metavar="FILE", required=True, help="the decisions file (YAML or JSON)")
    review.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    add_format_argument(review, ("text", "json"), "text")
    add_lang_argument(review)
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
                    "optimiser traded), and the balance figures of both (docs/schemas/diff.schema.json).",
    )
    diff.add_argument("run_a", metavar="RUN_A")
    diff.add_argument("run_b", metavar="RUN_B")
    _output_arguments(diff)
    diff.set_defaults(handler=run_diff)


def _output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    add_format_argument(parser, ("table", "json", "md"), "table")
    parser.add_argument("--out", metavar="FILE", help="write the output to FILE (atomically) instead of stdout")
    add_lang_argument(parser, help="language of table and md output (default: id)")


def _emit(text: str, out: str | None, what: str, lang: str) -> None:
    if out:
        from mutasi_rules.core.atomic import write_text
        from mutasi_rules.core.i18n import translator

        write_text(out, text)
        print(translator(lang)("{what} written to {path}").format(what=what, path=out), file=sys.stderr)
    else:
        sys.stdout.write(text)


def run_review(args: argparse.Namespace) -> int:
    from mutasi_rules.core.canonical import canonical_json
    from mutasi_rules.documents import ReviewView
    from mutasi_rules.planning.review import read_decisions
    from mutasi_rules.service import Service

    service = Service(args.audit_db)
    record = service.review(args.run_id, read_decisions(args.decisions), origin=args.decisions)
    if args.format == "json":
        sys.stdout.write(canonical_json(ReviewView.of(record).model_dump(mode="json"), indent=2) + "\n")
        return EXIT_OK
    from mutasi_rules.core.i18n import translator

    print(translator(args.lang)("review {review_id}: {count} decision(s) recorded on run {run_id} in {path}").format(
        review_id=record.review_id, count=len(record.decisions), run_id=record.run_id, path=service.audit_path))
    for decision in record.decisions:
        print(f"  {decision.id}: {decision.describe()} ({decision.reviewer}, {decision.date.isoformat()})")
    return EXIT_OK


def run_replan(args: argparse.Namespace) -> int:
    from mutasi_rules.cli.recommend import progress_reporter, render
    from mutasi_rules.core.i18n import translator
    from mutasi_rules.service import Service

    _ = translator(args.lang)
    service = Service(args.audit_db)
    with progress_reporter(sys.stderr.isatty(), args.lang) as progress:
        outcome = service.replan(args.run_id, progress=progress)
    result = outcome.result
    print(_("audit: recorded run {run_id} (re-plan of {parent}, {count} decision(s)) in {path}").format(
        run_id=outcome.run_id, parent=result.run.parent_run_id, count=len(result.run.review_decisions),
        path=service.audit_path), file=sys.stderr)
    _emit(render(result, args.format, args.lang), args.out,
          _("{count} moves").format(count=len(result.moves)), args.lang)
    return EXIT_OK


def run_diff(args: argparse.Namespace) -> int:
    from mutasi_rules.service import Service

    diff = Service(args.audit_db).diff(args.run_a, args.run_b)
    if args.format == "json":
        text = diff.model_dump_json(indent=2) + "\n"
    elif args.format == "md":
        from mutasi_rules.planning.diff import diff_markdown

        text = diff_markdown(diff, args.lang)
    else:
        text = _diff_table(diff, args.lang)
    from mutasi_rules.core.i18n import translator

    _emit(text, args.out, translator(args.lang)("diff ({count} change(s))").format(count=len(diff.changes)),
          args.lang)
    return EXIT_OK


def _diff_table(diff: RunDiff, lang: str) -> str:
    import io

    from rich.console import Console
    from rich.table import Table

    from mutasi_rules.core.i18n import translator

    _ = translator(lang)
    console = Console(record=True, width=160, file=io.StringIO())
    table = Table(title=f"{diff.run_a} → {diff.run_b}")
    for column in ("", "NIP", _("name"), "A", "B", _("reason")):
        table.add_column(column)
    for change in diff.changes:
        table.add_row(_(change.kind), change.nip, change.name, change.before.position_id if change.before else "-",
                      change.after.position_id if change.after else "-", change.reason.get(lang))
    console.print(table)
    for name, moves, before, after in (("A", diff.moves_a, diff.balance_a_before, diff.balance_a_after),
                                       ("B", diff.moves_b, diff.balance_b_before, diff.balance_b_after)):
        console.print(_("{plan}: {moves} moves; EJ std {before} -> {after}; outside band {outside_before} -> "
                        "{outside_after}").format(plan=name, moves=moves, before=before.ej_std, after=after.ej_std,
                                                  outside_before=before.outside_band_share,
                                                  outside_after=after.outside_band_share), markup=False)
    return console.export_text()


__all__ = ["register"]
