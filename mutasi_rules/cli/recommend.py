"""``mutasi-rules recommend DATASET``: the main job, an explained transfer plan."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..atomic import write_bytes, write_text
from ..audit import default_audit_path
from ..engine import EngineError
from ..explain import render_markdown, render_table
from ..models import Dataset
from ..plugins.manager import PluginError, PluginManager, load_plugins
from ..problems import InputError
from ..recommendation import RecommendationResult, RecommendOptions, load_run_rulesets, recommend
from ..rulesets import LoadedRuleSet
from ..i18n import translator
from ..spreadsheet import plan_workbook
from . import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, date_arg
from .audit import add_audit_arguments, record_run
from .plugins import add_plugin_arguments, settings_from_args
from .validate import checked_dataset


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
    parser.add_argument("--format", choices=("table", "json", "md", "xlsx"), default="table",
                        help="xlsx: a workbook of moves, shortages, trainings, OPD balance and people excluded "
                        "(needs --out)")
    parser.add_argument("--out", metavar="FILE", help="write the output to FILE (atomically) instead of stdout")
    parser.add_argument("--lang", choices=("id", "en"), default="id", help="language of table, md and xlsx output")
    add_audit_arguments(parser)
    parser.set_defaults(handler=run)


@contextmanager
def progress_reporter(enabled: bool, lang: str = "id") -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on stderr for interactive runs, its labels in ``lang``; nothing when stderr is not a terminal."""
    _ = translator(lang)
    if not enabled:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_(stage), total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield report


#: A pipeline run as the CLI needs it: the result and the plugins and rule sets it used (for the audit log).
PipelineRun = tuple[RecommendationResult, PluginManager | None, list[LoadedRuleSet]]


def run_pipeline(dataset: Dataset, options: RecommendOptions, lang: str = "id") -> PipelineRun | int:
    """Load the plugins and rule sets (as prepare() would, so the audit log can store the rule sets)
    and run the pipeline with a progress bar on a terminal; on failure, report it and return the exit code."""
    try:
        plugins = load_plugins(options.plugins) if options.use_plugins else None
        rulesets = load_run_rulesets(options, plugins)
        with progress_reporter(sys.stderr.isatty(), lang) as progress:
            result = recommend(dataset, options, plugins=plugins, rulesets=rulesets, progress=progress)
    except InputError as error:
        print(str(error), file=sys.stderr)
        return EXIT_PROBLEMS
    except PluginError as error:
        print(f"plugin failure: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except EngineError as error:
        print(f"rule engine failure: {error}", file=sys.stderr)
        return EXIT_FAILURE
    return result, plugins, rulesets


def render(result: RecommendationResult, fmt: str, lang: str) -> str:
    if fmt == "json":
        return result.to_json(indent=2) + "\n"
    if fmt == "md":
        return render_markdown(result, lang)  # type: ignore[arg-type]
    console = Console(record=True, width=160, file=io.StringIO())
    render_table(result, console, lang)  # type: ignore[arg-type]
    return console.export_text()


def run(args: argparse.Namespace) -> int:
    if args.format == "xlsx" and not args.out:
        print("--format xlsx writes a workbook: give --out FILE.xlsx", file=sys.stderr)
        return EXIT_USAGE
    if args.max_moves is not None and args.max_moves < 0:
        print("--max-moves must be 0 or more", file=sys.stderr)
        return EXIT_USAGE
    _ = translator(args.lang)
    dataset = checked_dataset(args.dataset, "nothing recommended", args.lang)
    if dataset is None:
        return EXIT_PROBLEMS
    try:
        options = options_from(args, max_moves=args.max_moves)
    except ValueError as error:  # a malformed --plugin-option
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    ran = run_pipeline(dataset, options, args.lang)
    if isinstance(ran, int):
        return ran
    result, plugins, rulesets = ran
    # Recorded before any output: a decision that is shown has been recorded.
    if not args.no_audit and record_run(args.audit_db or default_audit_path(args.dataset), result, dataset,
                                        rulesets, plugins, lang=args.lang) is None:
        return EXIT_FAILURE
    if args.format == "xlsx":
        write_bytes(args.out, plan_workbook(result, args.lang))
        print(_("{count} moves written to {path}").format(count=len(result.moves), path=args.out), file=sys.stderr)
        return _finish(result, args.lang)
    text = render(result, args.format, args.lang)
    if args.out:
        write_text(args.out, text)
        print(_("{count} moves written to {path}").format(count=len(result.moves), path=args.out), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return _finish(result, args.lang)


def _finish(result: RecommendationResult, lang: str = "id") -> int:
    _ = translator(lang)
    for skipped in result.run.skipped_plugins:
        print(_("plugin skipped: {name}").format(name=skipped), file=sys.stderr)
    return EXIT_OK


__all__ = ["add_run_arguments", "date_arg", "options_from", "register"]
