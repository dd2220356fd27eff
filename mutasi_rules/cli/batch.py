"""``mutasi-rules batch REGIONS...``: every region's pipeline as one task on Dask distributed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..batch import BatchEngineError, BatchUsageError, RegionReport, discover_regions, run_batch
from . import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from .recommend import add_run_arguments, options_from

DEFAULT_OUT = "mutasi-rules-batch"


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


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
                    "region's run is recorded once in its own decision log (docs/scale.md).",
    )
    parser.add_argument("regions", nargs="+", metavar="REGION",
                        help="a region's dataset (folder or file), or a folder whose sub-folders are regions")
    parser.add_argument("--scheduler", type=_scheduler, default="local", metavar="local|tcp://HOST:PORT",
                        help="'local' (default): a cluster on this machine; else a running scheduler's address")
    parser.add_argument("--workers", type=_workers, metavar="N",
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                        help=f"folder for the results and the summary (default: {DEFAULT_OUT})")
    parser.add_argument("--audit-dir", metavar="DIR",
                        help="folder of the per-region decision logs, <region>.sqlite (default: OUT/audit)")
    add_run_arguments(parser)
    parser.add_argument("--max-moves", type=int, metavar="N", help="at most N moves per region")
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
    if args.max_moves is not None and args.max_moves < 0:
        print("--max-moves must be 0 or more", file=sys.stderr)
        return EXIT_USAGE
    if args.workers is not None and args.scheduler != "local":
        print("--workers is for the local cluster; a running scheduler has its own workers", file=sys.stderr)
        return EXIT_USAGE
    try:
        out = Path(args.out)
        regions = discover_regions(args.regions, exclude=[out, Path(args.audit_dir) if args.audit_dir else out / "audit"])
        options = options_from(args, max_moves=args.max_moves)
    except (BatchUsageError, ValueError) as error:
        print(f"mutasi-rules batch: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"batch: {len(regions)} region(s) on {args.scheduler}", file=sys.stderr)
    started = time.perf_counter()
    try:
        summary = run_batch(regions, options, args.out, args.audit_dir, scheduler=args.scheduler,
                            workers=args.workers, on_region=lambda r: print(_line(r), file=sys.stderr))
    except BatchEngineError as error:
        print(f"mutasi-rules batch: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as error:
        print(f"mutasi-rules batch: cannot write into {args.out}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    totals = summary.totals
    print(f"{totals.regions_ok} of {totals.regions} region(s) ok, {totals.employees} employees, {totals.moves} moves "
          f"in {time.perf_counter() - started:.1f} s; summary in {args.out}/summary.json, summary.md, summary.xlsx")
    if totals.regions_invalid:
        print(f"regions with data problems: {', '.join(totals.regions_invalid)}", file=sys.stderr)
    if totals.regions_failed:
        print(f"regions failed: {', '.join(totals.regions_failed)}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_PROBLEMS if totals.regions_invalid else EXIT_OK
