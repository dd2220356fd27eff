"""``mutasi-rules recommend DATASET``: the main job, an explained transfer plan."""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from ..atomic import write_text
from ..audit import ENV_AUDIT_DB, AuditError, default_audit_path
from ..engine import EngineError
from ..explain import render_markdown, render_table
from ..models import Dataset
from ..plugins.manager import PluginError
from ..problems import InputError
from ..recommendation import RecommendationResult, RecommendOptions
from ..service import RunOutcome, Service
from . import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, date_arg
from .audit import add_audit_arguments
from .plugins import add_plugin_arguments, settings_from_args
from .validate import checked_dataset


T = TypeVar("T")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs the pipeline (recommend, why-not, replay)."""
    parser.add_argument("--rules", action="append", default=[], metavar="PATH",
                        help="rule file or directory (repeatable; default: the bundled rules/)")
    parser.add_argument("--no-plugins", action="store_true", help="load no plugins at all")
    add_plugin_arguments(parser)
    parser.add_argument("--as-of", type=date_arg, metavar="DATE", help="default: the dataset's metadata.as_of")
    parser.add_argument("--plan-date", type=date_arg, metavar="DATE", help="intended transfer date (default: as-of)")


def options_from(args: argparse.Namespace, **extra: Any) -> RecommendOptions:
    return RecommendOptions(
        as_of=args.as_of,
        plan_date=args.plan_date,
        rules=list(args.rules),
        use_plugins=not args.no_plugins,
        plugins=settings_from_args(args),
        **extra,
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "recommend",
        help="recommend an explained, workload-balancing transfer plan",
        description="Analyse workload, evaluate every rule and plugin, and choose a transfer plan that moves staff "
                    "from surplus to shortage. Every move is explained.",
    )
    parser.add_argument("dataset", metavar="DATASET", help="dataset directory or file")
    add_run_arguments(parser)
    parser.add_argument("--max-moves", type=int, metavar="N", help="at most N moves")
    parser.add_argument("--format", choices=("table", "json", "md"), default="table")
    parser.add_argument("--out", metavar="FILE", help="write the output to FILE (atomically) instead of stdout")
    parser.add_argument("--lang", choices=("id", "en"), default="id", help="language of table and md output")
    add_audit_arguments(parser)
    parser.set_defaults(handler=run)


@contextmanager
def progress_reporter(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on stderr for interactive runs; nothing when stderr is not a terminal."""
    if not enabled:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield report


def run_guarded(step: Callable[[], T]) -> T | int:
    """Run a service call; when the input has problems or a plugin or the engine fails, say so on
    stderr and return the exit code (1 or 3) instead of a result."""
    try:
        return step()
    except InputError as error:
        print(str(error), file=sys.stderr)
        return EXIT_PROBLEMS
    except PluginError as error:
        print(f"plugin failure: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except EngineError as error:
        print(f"rule engine failure: {error}", file=sys.stderr)
        return EXIT_FAILURE


def run_pipeline(dataset: Dataset, options: RecommendOptions, audit_db: str | os.PathLike[str] | None,
                 *, record: bool = True) -> RunOutcome | int:
    """Run and record through the service, with a progress bar on a terminal; on failure, report it
    and return the exit code. Recorded before any output: a decision that is shown has been recorded."""
    service = Service(audit_db)

    def run() -> RunOutcome | int:
        try:
            return service.recommend(dataset, options, record=record, progress=progress)
        except AuditError as error:
            print(f"audit: {error}", file=sys.stderr)
            print(f"audit: the result was NOT recorded in {service.audit_path}. Fix the log path "
                  f"(--audit-db or ${ENV_AUDIT_DB}) or run with --no-audit.", file=sys.stderr)
            return EXIT_FAILURE

    with progress_reporter(sys.stderr.isatty()) as progress:
        outcome = run_guarded(run)
    if isinstance(outcome, int):
        return outcome
    if outcome.record is not None:
        print(f"audit: recorded run {outcome.record.run_id} in {service.audit_path}", file=sys.stderr)
    return outcome


def render(result: RecommendationResult, fmt: str, lang: str) -> str:
    if fmt == "json":
        return result.to_json(indent=2) + "\n"
    if fmt == "md":
        return render_markdown(result, lang)  # type: ignore[arg-type]
    console = Console(record=True, width=160, file=io.StringIO())
    render_table(result, console, lang)  # type: ignore[arg-type]
    return console.export_text()


def run(args: argparse.Namespace) -> int:
    if args.max_moves is not None and args.max_moves < 0:
        print("--max-moves must be 0 or more", file=sys.stderr)
        return EXIT_USAGE
    dataset = checked_dataset(args.dataset, "nothing recommended")
    if dataset is None:
        return EXIT_PROBLEMS
    try:
        options = options_from(args, max_moves=args.max_moves)
    except ValueError as error:  # a malformed --plugin-option
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    ran = run_pipeline(dataset, options, args.audit_db or default_audit_path(args.dataset), record=not args.no_audit)
    if isinstance(ran, int):
        return ran
    result = ran.result
    text = render(result, args.format, args.lang)
    if args.out:
        write_text(args.out, text)
        print(f"{len(result.moves)} moves written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    for skipped in result.run.skipped_plugins:
        print(f"plugin skipped: {skipped}", file=sys.stderr)
    return EXIT_OK


__all__ = ["add_run_arguments", "date_arg", "options_from", "register", "run_guarded"]
