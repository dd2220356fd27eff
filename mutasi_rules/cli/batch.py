"""``mutasi-rules batch REGIONS...``: every region's pipeline as one task on Dask distributed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mutasi_rules.errors import UsageError
from mutasi_rules.cli import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, add_format_argument, positive_int
from mutasi_rules.cli.recommend import add_run_arguments, options_from

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
    parser.set_defaults(handler=run)


def _line(report: RegionReport) -> str:
    if report.status == "ok":
        how = "already recorded" if report.reused else "recorded"
        return (f"{report.region}: ok, {report.employees} employees, {report.moves} moves, "
                f"run {report.run_id} ({how}), {report.elapsed_seconds:.1f} s")
    if report.status == "invalid":
        return f"{report.region}: data has {report.problem_count} error(s), nothing run (see {report.region}/problems.json)"
    return f"{report.region}: FAILED: {report.error}"


def run(args: argparse.Namespace) -> int:
    from mutasi_rules.batch import discover_regions, run_batch

    if args.max_moves is not None and args.max_moves < 0:
        raise UsageError("--max-moves must be 0 or more")
    if args.workers is not None and args.scheduler != "local":
        raise UsageError("--workers is for the local cluster; a running scheduler has its own workers")
    out = Path(args.out)
    regions = discover_regions(args.regions, exclude=[out, Path(args.audit_dir) if args.audit_dir else out / "audit"])
    options = options_from(args, max_moves=args.max_moves)
    print(f"batch: {len(regions)} region(s) on {args.scheduler}", file=sys.stderr)
    started = time.perf_counter()
    summary = run_batch(regions, options, out, args.audit_dir, scheduler=args.scheduler, workers=args.workers,
                        on_region=lambda r: print(_line(r), file=sys.stderr))
    totals = summary.totals
    if args.format == "json":
        sys.stdout.write(summary.model_dump_json(indent=2) + "\n")
    print(f"{totals.regions_ok} of {totals.regions} region(s) ok, {totals.employees} employees, {totals.moves} moves "
          f"in {time.perf_counter() - started:.1f} s; summary in {out}/summary.json, summary.md, summary.xlsx",
          file=sys.stderr if args.format == "json" else sys.stdout)
    if totals.regions_invalid:
        print(f"regions with data problems: {', '.join(totals.regions_invalid)}", file=sys.stderr)
    if totals.regions_failed:
        print(f"regions failed: {', '.join(totals.regions_failed)}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_PROBLEMS if totals.regions_invalid else EXIT_OK
