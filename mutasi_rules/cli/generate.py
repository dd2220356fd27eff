"""``mutasi-rules generate``: write a synthetic Kota Pontianak dataset, or a province of regions.

With ``--regions N --employees-total M`` it writes N region datasets of unequal sizes, one
folder (or file) each under ``--out``: the input of ``mutasi-rules batch``.

The dataset is built completely in memory first, so a failure leaves nothing behind.
A new output directory is written beside its final place and renamed into it in one step;
into an existing directory every table file is replaced atomically (``save_dataset``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_OK, add_lang_argument, date_arg, positive_int
from mutasi_rules.errors import UsageError

if TYPE_CHECKING:
    from mutasi_rules.data.models import Dataset

# The same values as generator.MIN_EMPLOYEES and loading.FORMATS (a test pins that), written
# here so that --help does not import the generator and the loaders.
MIN_EMPLOYEES = 150
FORMATS = ("json", "yaml", "csv", "xlsx")
DEFAULT_EMPLOYEES = 7000
DEFAULT_SEED = 1
DEFAULT_AS_OF = dt.date(2026, 7, 1)
DOCUMENT_SUFFIXES = {"json": (".json",), "yaml": (".yaml", ".yml"), "xlsx": (".xlsx",)}


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < MIN_EMPLOYEES:
        raise argparse.ArgumentTypeError(f"must be at least {MIN_EMPLOYEES} (every unit needs staff), got {value}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write a synthetic Kota Pontianak dataset",
        description=(
            "Generate a deterministic synthetic dataset for Kota Pontianak (same arguments, same bytes): "
            "OPD, kecamatan and kelurahan, puskesmas and schools, positions with workload tasks and employees. "
            "Dinas Kesehatan is short of staff for the vaccination programme; Sekretariat Daerah, Disdukcapil "
            "and Dinas Perhubungan have surplus pelaksana."
        ),
    )
    parser.add_argument("--employees", type=_count, metavar="N",
                        help=f"number of employees (default: {DEFAULT_EMPLOYEES}, minimum {MIN_EMPLOYEES})")
    parser.add_argument("--regions", type=positive_int, metavar="N",
                        help="write N regions of realistic, unequal sizes (Kalimantan Barat's names for up to 14), "
                             "one folder each under --out; needs --employees-total")
    parser.add_argument("--employees-total", type=positive_int, metavar="M",
                        help=f"employees of all regions together (at least {MIN_EMPLOYEES} per region)")
    parser.add_argument("--seed", type=_seed, default=DEFAULT_SEED, metavar="S",
                        help=f"random seed (default: {DEFAULT_SEED})")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="output directory (csv, xlsx); for json/yaml a file, or a directory to hold "
                             "dataset.json / dataset.yaml; for xlsx a path ending in .xlsx gives one workbook")
    parser.add_argument("--format", choices=FORMATS, default="csv",
                        help="format of the dataset written (default: csv); with json, the summary line goes to "
                             "standard error and a failure is a JSON problem document on standard output")
    parser.add_argument("--csv-dialect", choices=("standard", "id"), default="standard",
                        help="csv for: standard (',' and ISO dates) or id (Excel under Indonesian settings: ';', "
                             "DD/MM/YYYY, decimal comma, BOM; declared in metadata.csv)")
    parser.add_argument("--as-of", type=date_arg, default=DEFAULT_AS_OF, metavar="DATE",
                        help=f"date the data describe (default: {DEFAULT_AS_OF.isoformat()})")
    parser.add_argument("--candidate-determination", type=date_arg, metavar="DATE",
                        help="election calendar: penetapan pasangan calon (default: none)")
    parser.add_argument("--inauguration", type=date_arg, metavar="DATE",
                        help="election calendar: pelantikan kepala daerah (default: none)")
    add_lang_argument(parser)
    parser.set_defaults(handler=run)


def output_path(out: str, fmt: str) -> Path:
    """Where ``save_dataset`` writes: a document for json/yaml (inside ``out`` unless it names a file)."""
    path = Path(out)
    if fmt in ("json", "yaml") and path.suffix.lower() not in DOCUMENT_SUFFIXES[fmt]:
        return path / f"dataset.{fmt}"
    return path


def is_directory_output(target: Path, fmt: str) -> bool:
    return fmt == "csv" or (fmt == "xlsx" and target.suffix.lower() != ".xlsx")


def write(dataset: Dataset, target: Path, fmt: str, csv_dialect: str = "standard") -> None:
    """Save atomically: documents via ``save_dataset``; a new directory via a renamed sibling."""
    from mutasi_rules.data.loading import save_dataset

    if not is_directory_output(target, fmt) or target.exists():
        save_dataset(dataset, target, fmt, csv_dialect=csv_dialect)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        save_dataset(dataset, staging, fmt, csv_dialect=csv_dialect)
        os.chmod(staging, 0o777 & ~_umask())
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def run(args: argparse.Namespace) -> int:
    from mutasi_rules.core.i18n import translator

    if args.regions is not None or args.employees_total is not None:
        return run_regions(args)
    target = output_path(args.out, args.format)
    wants_directory = is_directory_output(target, args.format)
    if target.exists() and target.is_dir() != wants_directory:
        kind = "directory" if wants_directory else "file"
        raise UsageError(f"mutasi-rules generate: {target} exists and is not a {kind}, which --format "
                         f"{args.format} writes", code="usage.output_kind")
    from mutasi_rules.data.generator import generate_dataset

    employees = args.employees if args.employees is not None else DEFAULT_EMPLOYEES

    try:
        dataset = generate_dataset(
            employees, args.seed, args.as_of,
            candidate_determination=args.candidate_determination, inauguration=args.inauguration,
        )
    except ValueError as exc:
        raise UsageError(f"mutasi-rules generate: {exc}") from exc
    try:
        write(dataset, target, args.format, args.csv_dialect)
    except ValueError as exc:
        raise OSError(f"mutasi-rules generate: cannot write {target}: {exc}") from exc
    print(
        translator(args.lang)("generated {employees} employees, {positions} positions, {units} units (seed {seed}, "
                              "as of {as_of}) into {path} ({format})").format(
            employees=len(dataset.employees), positions=len(dataset.positions), units=len(dataset.units),
            seed=args.seed, as_of=args.as_of.isoformat(), path=target, format=args.format),
        file=sys.stderr if args.format == "json" else sys.stdout,
    )
    return EXIT_OK


def run_regions(args: argparse.Namespace) -> int:
    """``--regions N --employees-total M``: one dataset per region under ``--out``, written one at a time."""
    from mutasi_rules.core.i18n import translator

    if args.regions is None or args.employees_total is None:
        raise UsageError("mutasi-rules generate: --regions and --employees-total go together")
    if args.employees is not None or args.candidate_determination or args.inauguration:
        raise UsageError("mutasi-rules generate: --employees, --candidate-determination and --inauguration are "
                         "for one dataset, not with --regions")
    root = Path(args.out)
    if root.exists() and not root.is_dir():
        raise UsageError(f"mutasi-rules generate: {root} exists and is not a directory", code="usage.output_kind")
    from mutasi_rules.data.generator import generate_regions, region_sizes

    try:
        region_sizes(args.regions, args.employees_total, args.seed)
    except ValueError as exc:
        raise UsageError(f"mutasi-rules generate: {exc}") from exc
    _ = translator(args.lang)
    count = 0
    for plan, dataset in generate_regions(args.regions, args.employees_total, args.seed, args.as_of):
        target = output_path(str(root / plan.slug), args.format)
        try:
            write(dataset, target, args.format, args.csv_dialect)
        except ValueError as exc:
            raise OSError(f"mutasi-rules generate: cannot write {target}: {exc}") from exc
        count += len(dataset.employees)
        print(f"  {plan.slug}: " + _("{employees} employees").format(employees=len(dataset.employees)),
              file=sys.stderr)
    print(_("generated {regions} regions, {employees} employees (seed {seed}, as of {as_of}) into {path} ({format})")
          .format(regions=args.regions, employees=count, seed=args.seed, as_of=args.as_of.isoformat(), path=root,
                  format=args.format), file=sys.stderr if args.format == "json" else sys.stdout)
    return EXIT_OK
