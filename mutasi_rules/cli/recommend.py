"""``mutasi-rules recommend DATASET``: the main job, an explained transfer plan.

``DATASET`` may be ``-``: a dataset document (JSON, docs/schemas/dataset.schema.json) read
from standard input; ``--options FILE`` reads the run's options (docs/schemas/options.schema.json),
which the command-line options given override.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_OK, add_format_argument, date_arg
from mutasi_rules.cli.audit import add_audit_arguments
from mutasi_rules.cli.plugins import add_plugin_arguments, settings_from_args
from mutasi_rules.cli.validate import STDIN
from mutasi_rules.core.locations import ENV_AUDIT_DB

if TYPE_CHECKING:
    from mutasi_rules.core.i18n import Lang
    from mutasi_rules.data.models import Dataset
    from mutasi_rules.planning.recommendation import RecommendationResult, RecommendOptions
    from mutasi_rules.service import RunOutcome


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs the pipeline (recommend, why-not, replay)."""
    parser.add_argument("--options", metavar="FILE", type=Path,
                        help="read the run's options from a JSON file (docs/schemas/options.schema.json); "
                             "options given on the command line win")
    parser.add_argument("--rules", action="append", default=[], metavar="PATH",
                        help="rule file or directory (repeatable; default: the national rule sets shipped with the "
                             "package, rules/)")
    parser.add_argument("--no-plugins", action="store_true", help="load no plugins at all")
    add_plugin_arguments(parser)
    parser.add_argument("--as-of", type=date_arg, metavar="DATE", help="default: the dataset's metadata.as_of")
    parser.add_argument("--plan-date", type=date_arg, metavar="DATE", help="intended transfer date (default: as-of)")


def _options_file(path: Path) -> RecommendOptions:
    """``--options FILE``: every problem in it is reported with its field (exit code 1)."""
    from pydantic import ValidationError

    from mutasi_rules.planning.recommendation import RecommendOptions
    from mutasi_rules.problems import InputError, Problem

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"options file {path}: cannot read: {error.strerror}", code="options.unreadable") from error
    try:
        return RecommendOptions.model_validate_json(text)
    except ValidationError as error:
        problems = [Problem(code="options.invalid", message=e["msg"], file=str(path),
                            field=".".join(map(str, e["loc"])) or None,
                            value=e.get("input") if not isinstance(e.get("input"), (dict, list)) else None)
                    for e in error.errors(include_url=False)]
        raise InputError(f"options file {path}", problems, code="options.invalid") from error


def options_from(args: argparse.Namespace, **extra: Any) -> RecommendOptions:
    """The run's options: ``--options FILE`` if given, overridden by every option given on the command line."""
    from mutasi_rules.planning.recommendation import RecommendOptions

    base = _options_file(args.options) if getattr(args, "options", None) else RecommendOptions()
    update: dict[str, Any] = {key: value for key, value in extra.items() if value is not None}
    if args.as_of is not None:
        update["as_of"] = args.as_of
    if args.plan_date is not None:
        update["plan_date"] = args.plan_date
    if args.rules:
        update["rules"] = list(args.rules)
    if args.no_plugins:
        update["use_plugins"] = False
    settings = settings_from_args(args)
    if settings != type(settings)() or not getattr(args, "options", None):
        update["plugins"] = settings
    return RecommendOptions.model_validate({**base.model_dump(), **update})


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "recommend",
        help="recommend an explained, workload-balancing transfer plan",
        description="Analyse workload, evaluate every rule and plugin, and choose a transfer plan that moves staff "
                    "from surplus to shortage. Every move is explained.",
    )
    parser.add_argument("dataset", metavar="DATASET",
                        help="dataset directory or file, or - for a JSON dataset document on standard input")
    add_run_arguments(parser)
    parser.add_argument("--max-moves", type=int, metavar="N", help="at most N moves")
    add_format_argument(parser, ("table", "json", "md", "xlsx"), "table",
                        help="output format (default: table); xlsx: a workbook of moves, shortages, trainings, OPD "
                             "balance and people excluded (needs --out); with json, a failure is a JSON problem "
                             "document on standard output")
    parser.add_argument("--out", metavar="FILE", help="write the output to FILE (atomically) instead of stdout")
    parser.add_argument("--lang", choices=("id", "en"), default="id",
                        help="language of the output and messages (default: id)")
    add_audit_arguments(parser)
    parser.set_defaults(handler=run)


@contextmanager
def progress_reporter(enabled: bool, lang: str = "id") -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on stderr for interactive runs, labelled in ``lang``; nothing when stderr is not a terminal."""
    if not enabled:
        yield None
        return
    from rich.console import Console

    from mutasi_rules.core.i18n import translator

    _ = translator(lang)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_(stage), total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield report


def run_pipeline(dataset: Dataset, options: RecommendOptions, audit_db: str | os.PathLike[str] | None,
                 *, record: bool = True, lang: str = "id") -> RunOutcome:
    """Run and record through the service, with a progress bar on a terminal; failures raise
    (cli.main reports them). Recorded before any output: a decision that is shown has been recorded."""
    from mutasi_rules.audit.log import AuditError
    from mutasi_rules.core.i18n import translator
    from mutasi_rules.service import Service

    service = Service(audit_db)
    try:
        with progress_reporter(sys.stderr.isatty(), lang) as progress:
            outcome = service.recommend(dataset, options, record=record, progress=progress)
    except AuditError as error:
        raise AuditError(f"{error}\naudit: the result was NOT recorded in {service.audit_path}. Fix the log path "
                         f"(--audit-db or ${ENV_AUDIT_DB}) or run with --no-audit.", code=error.code) from error
    if outcome.record is not None:
        _ = translator(lang)
        print(_("audit: recorded run {run_id} in {path}").format(run_id=outcome.record.run_id, path=service.audit_path)
              + " (" + _("record hash") + f" {outcome.record.record_hash}; mutasi-rules audit verify --expect-head)",
              file=sys.stderr)
    return outcome


def check_run_dates(dataset: Dataset, options: RecommendOptions) -> None:
    """Refuse --as-of / --plan-date that make no sense for this dataset: a :class:`UsageError` naming each."""
    from mutasi_rules.errors import UsageError
    from mutasi_rules.planning.recommendation import run_date_problems

    problems = run_date_problems(dataset, options).errors
    if problems:
        text = "; ".join(p.message.replace("as_of", "--as-of").replace("plan_date", "--plan-date") for p in problems)
        raise UsageError(text, code=problems[0].code)


def render(result: RecommendationResult, fmt: str, lang: Lang) -> str:
    if fmt == "json":  # what programs ask for: no renderer (rich, explanations) is imported
        return result.to_json(indent=2) + "\n"
    from mutasi_rules.explain.explanations import render_markdown, render_table

    if fmt == "md":
        return render_markdown(result, lang)
    import io

    from rich.console import Console

    console = Console(record=True, width=160, file=io.StringIO())
    render_table(result, console, lang)
    return console.export_text()


def run(args: argparse.Namespace) -> int:
    from mutasi_rules.cli.validate import checked_dataset, stdin_dataset
    from mutasi_rules.core.atomic import check_output_path, write_bytes, write_text
    from mutasi_rules.core.i18n import translator
    from mutasi_rules.errors import UsageError

    _ = translator(args.lang)
    if args.format == "xlsx" and not args.out:
        raise UsageError("--format xlsx writes a workbook: give --out FILE.xlsx")
    if args.max_moves is not None and args.max_moves < 0:
        raise UsageError("--max-moves must be 0 or more")
    if args.out:
        check_output_path(args.out)  # before the work: a plan that cannot be written is not computed first
    options = options_from(args, max_moves=args.max_moves)
    dataset = (stdin_dataset("nothing recommended") if args.dataset == STDIN
               else checked_dataset(args.dataset, "nothing recommended"))
    check_run_dates(dataset, options)
    result = run_pipeline(dataset, options, args.audit_db, record=not args.no_audit, lang=args.lang).result
    if args.format == "xlsx":
        from mutasi_rules.analysis.workload import figures_report
        from mutasi_rules.explain.spreadsheet import plan_workbook

        workload = figures_report(dataset, as_of=result.run.as_of, settings=result.run.options.workload)
        write_bytes(args.out, plan_workbook(result, args.lang, workload))
    else:
        text = render(result, args.format, args.lang)
        if not args.out:
            sys.stdout.write(text)
        else:
            write_text(args.out, text)
    if args.out:
        print(_("{count} moves written to {path}").format(count=len(result.moves), path=args.out), file=sys.stderr)
    for skipped in result.run.skipped_plugins:
        print(_("plugin skipped: {name}").format(name=skipped), file=sys.stderr)
    return EXIT_OK


__all__ = ["add_run_arguments", "check_run_dates", "date_arg", "options_from", "register", "run_pipeline"]
