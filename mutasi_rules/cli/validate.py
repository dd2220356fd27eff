"""``mutasi-rules validate DATASET``: report every problem in a dataset, then a summary."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from . import EXIT_OK, EXIT_PROBLEMS, add_format_argument

if TYPE_CHECKING:
    from ..models import Dataset
    from ..problems import Problem, Problems


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a dataset and list every problem",
        description="Check a dataset (directory of tables, .json, .yaml or .xlsx) and list every problem found. "
                    "With --format json: the list of problems on standard output (docs/schemas/validate.schema.json) "
                    "and the counts on standard error.",
    )
    parser.add_argument("dataset", metavar="DATASET", help="dataset directory or file")
    add_format_argument(parser, ("text", "json"), "text")
    parser.add_argument(
        "--allow-extra-columns",
        action="store_true",
        help="report unknown columns as warnings instead of errors (their data is ignored)",
    )
    parser.set_defaults(handler=run)


def format_problem(problem: Problem) -> str:
    """``file:row: field: message (value)``: one line per problem, as the user can locate it."""
    where = problem.file or "<input>"
    if problem.record:
        where += f":{problem.record}"
    if problem.line is not None:
        where += f":line {problem.line}"
    text = f"{where}: "
    if problem.field:
        text += f"{problem.field}: "
    text += f"{problem.severity}: {problem.message}"
    if problem.value is not None:
        text += f" ({problem.value!r})"
    return text


def checked_dataset(path: str, consequence: str) -> Dataset:
    """The dataset at ``path``; raises :class:`InputError` with every error (and ``consequence``) if it has any."""
    from ..loading import validate_dataset
    from ..problems import InputError

    dataset, problems = validate_dataset(path)
    if dataset is None:
        raise InputError(f"dataset {path} ({consequence})", problems.errors, code="dataset.invalid")
    return dataset


def summary(dataset: Dataset | None, problems: Problems) -> dict[str, int | None]:
    return {
        "units": len(dataset.units) if dataset else None,
        "positions": len(dataset.positions) if dataset else None,
        "employees": len(dataset.employees) if dataset else None,
        "errors": len(problems.errors),
        "warnings": len(problems.warnings),
    }


def run(args: argparse.Namespace) -> int:
    from ..loading import validate_dataset

    dataset, problems = validate_dataset(args.dataset, allow_extra_columns=args.allow_extra_columns)
    counts = summary(dataset, problems)
    if args.format == "json":
        payload = [p.model_dump(mode="json") for p in problems]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        print(json.dumps(counts, sort_keys=True), file=sys.stderr)
    else:
        from rich.console import Console
        from rich.table import Table

        for problem in problems:
            print(format_problem(problem))
        table = Table(title=f"Dataset {args.dataset}", show_header=True)
        table.add_column("what")
        table.add_column("count", justify="right")
        for key, value in counts.items():
            table.add_row(key, "-" if value is None else str(value))
        Console(soft_wrap=True).print(table)
        verdict = "invalid" if problems.errors else "valid"
        print(f"dataset is {verdict}: {counts['errors']} error(s), {counts['warnings']} warning(s)")
    return EXIT_PROBLEMS if problems.errors else EXIT_OK
