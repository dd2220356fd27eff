"""``mutasi-rules batch REGIONS...``: every region's pipeline as one task on Dask distributed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, add_format_argument, add_lang_argument, positive_int
from mutasi_rules.cli.recommend import add_run_arguments, options_from
from mutasi_rules.errors import UsageError

if TYPE_CHECKING:
    from mutasi_rules.batch import RegionReport

DEFAULT_OUT = "mutasi-rules-batch"


def _scheduler(text: str) -> str:
    if text == "local" or "://" in text:
        return text
    raise argparse.ArgumentTypeError(f"expected 'local' or a scheduler address such as tcp://HOST:8786, got {text!r}")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="run many regions (a province, the country) as one batch on Dask",
        description="Run the whole pipeline for every region as one Dask task: a local cluster by default, or a "
                    "running Dask scheduler. Writes each region's result (JSON, Markdown) and a summary (JSON, "
                    "Markdown, xlsx). A region with bad data is reported and does not stop the others; each "
                    "region's run is recorded once in its own decision log (docs/scale.md). Exit code: 3 if a "
                    "region failed, else 1 if a region's data has problems, else 0.",
    )
    parser.add_argument("regions", nargs="+", metavar="REGION",
                        help="a region's dataset (folder or file), or a folder whose sub-folders are regions")
    parser.add_argument("--scheduler", type=_scheduler, default="local", metavar="local|tcp://HOST:PORT",
                        help="'local' (default): a cluster on this machine; else a running scheduler's address")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                        help=f"folder for the results and the summary (default: {DEFAULT_OUT})")
    parser.add_argument("--audit-dir", metavar="DIR",
                        help="folder of the per-region decision logs, <region>.sqlite (default: OUT/audit)")
    add_run_arguments(parser)
    parser.add_argument("--max-moves", type=int, metavar="N", help="at most N moves per region")
    add_format_argument(parser, ("text", "json"), "text",
                        help="text (default): a line per region on standard error and totals; json: the summary "
                             "(batch-summary.schema.json) on standard output")
    add_lang_argument(parser, help="language of the messages and of summary.md (default: id)")
    parser.set_defaults(handler=run)


def _line(report: RegionReport, lang: str) -> str:
    from mutasi_rules.core.i18n import translate_message, translator

    _ = translator(lang)
    if report.status == "ok":
        how = _("already recorded") if report.reused else _("recorded")
        return _("{region}: ok, {employees} employees, {moves} moves, run {run_id} ({how}), {seconds} s").format(
            region=report.region, employees=report.employees, moves=report.moves, run_id=report.run_id, how=how,
            seconds=f"{report.elapsed_seconds:.1f}")
    if report.status == "invalid":
        return _("{region}: data has {count} error(s), nothing run (see {path})").format(
            region=report.region, count=report.problem_count, path=f"{report.region}/problems.json")
    return _("{region}: FAILED: {error}").format(region=report.region,
                                                 error=translate_message(report.error or "", lang))


def run(args: argparse.Namespace) -> int:
    from mutasi_rules.batch import discover_regions, run_batch

    if args.max_moves is not None and args.max_moves < 0:
        raise UsageError("--max-moves must be 0 or more")
    if args.workers is not None and args.scheduler != "local":
        raise UsageError("--workers is for the local cluster; a running scheduler has its own workers")
    out = Path(args.out)
    regions = discover_regions(args.regions, exclude=[out, Path(args.audit_dir) if args.audit_dir else out / "audit"])
    options = options_from(args, max_moves=args.max_moves)
    from mutasi_rules.core.i18n import translator

    _ = translator(args.lang)
    print(_("batch: {count} region(s) on {scheduler}").format(count=len(regions), scheduler=args.scheduler),
          file=sys.stderr)
    started = time.perf_counter()
    summary = run_batch(regions, options, out, args.audit_dir, scheduler=args.scheduler, workers=args.workers,
                        on_region=lambda r: print(_line(r, args.lang), file=sys.stderr), lang=args.lang)
    totals = summary.totals
    if args.format == "json":
        sys.stdout.write(summary.model_dump_json(indent=2) + "\n")
    print(_("{ok} of {regions} region(s) ok, {employees} employees, {moves} moves in {seconds} s; summary in "
            "{path}/summary.json, summary.md, summary.xlsx").format(
        ok=totals.regions_ok, regions=totals.regions, employees=totals.employees, moves=totals.moves,
        seconds=f"{time.perf_counter() - started:.1f}", path=out),
        file=sys.stderr if args.format == "json" else sys.stdout)
    if totals.regions_invalid:
        print(_("regions with data problems: {regions}").format(regions=", ".join(totals.regions_invalid)),
              file=sys.stderr)
    if totals.regions_failed:
        print(_("regions failed: {regions}").format(regions=", ".join(totals.regions_failed)), file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_PROBLEMS if totals.regions_invalid else EXIT_OK
