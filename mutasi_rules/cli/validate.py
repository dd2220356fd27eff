"""``mutasi-rules validate DATASET``: report every problem in a dataset, then a summary."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_OK, EXIT_PROBLEMS, add_format_argument

if TYPE_CHECKING:
    from mutasi_rules.data.models import Dataset
    from mutasi_rules.problems import Problem, Problems


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a dataset and list every problem",
        description="Check a dataset (directory of tables, .json, .yaml or .xlsx) and list every problem found. "
                    "With --format json: the list of problems on standard output (docs/schemas/validate.schema.json) "
                    "and the counts on standard error.",
    )
    parser.add_argument("dataset", metavar="DATASET",
                        help="dataset directory or file, or - for a JSON dataset document on standard input")
    add_format_argument(parser, ("text", "json"), "text")
    parser.add_argument(
        "--allow-extra-columns",
        action="store_true",
        help="report unknown columns as warnings instead of errors (their data is ignored)",
    )
    parser.add_argument("--lang", choices=("id", "en"), default="id",
                        help="language of the messages (default: id; --format json keeps the recorded English "
                             "message beside its code)")
    parser.set_defaults(handler=run)


def format_problem(problem: Problem, lang: str = "id") -> str:
    """``file:row: field: message (value)``: one line per problem, as the user can locate it, in ``lang``."""
    from mutasi_rules.core.i18n import translate_message, translator

    _ = translator(lang)
    where = problem.file or "<input>"
    if problem.record:
        where += f":{_translate_record(problem.record, lang)}"
    if problem.line is not None:
        where += ":" + _("line {number}").format(number=problem.line)
    text = f"{where}: "
    if problem.field:
        text += f"{problem.field}: "
    text += f"{_(problem.severity)}: {translate_message(problem.message, lang)}"
    if problem.value is not None:
        text += f" ({problem.value!r})"
    return text


def _translate_record(record: str, lang: str) -> str:
    """``row 7`` / ``sheet employees row 7`` in ``lang`` (sheet names are data and stay)."""
    from mutasi_rules.core.i18n import translator

    _ = translator(lang)
    return re.sub(r"\b(sheet|row)\b", lambda m: _(m.group(1)), record)


STDIN = "-"


def read_stdin_dataset() -> tuple[Dataset | None, Problems]:
    """A JSON dataset document from standard input, checked exactly as a dataset file is
    (problems name the file ``<stdin>``)."""
    import tempfile
    from pathlib import Path

    from mutasi_rules.problems import Problems
    from mutasi_rules.service import Service

    text = sys.stdin.read()
    with tempfile.TemporaryDirectory(prefix="mutasi-rules-stdin-") as folder:
        path = Path(folder) / "dataset.json"
        path.write_text(text, encoding="utf-8")
        dataset, problems = Service.read_dataset(path)
    return dataset, Problems(p.model_copy(update={"file": "<stdin>"}) if p.file == str(path) else p
                             for p in problems)


def stdin_dataset(consequence: str) -> Dataset:
    """The dataset on standard input; raises :class:`InputError` with every error if it has any."""
    from mutasi_rules.problems import InputError

    dataset, problems = read_stdin_dataset()
    if dataset is None:
        raise InputError(f"dataset on standard input ({consequence})", problems.errors, code="dataset.invalid")
    return dataset


def checked_dataset(path: str, consequence: str) -> Dataset:
    """The dataset at ``path``; raises :class:`InputError` with every error (and ``consequence``) if it has any."""
    from mutasi_rules.problems import InputError
    from mutasi_rules.service import Service

    dataset, problems = Service.read_dataset(path)
    if dataset is None:
        raise InputError(f"dataset {path} ({consequence})", problems.errors, code="dataset.invalid")
    return dataset


def read_all(*readers: Callable[[], Any]) -> list[Any]:
    """Call every reader, then raise one :class:`InputError` with the problems of all that failed.

    Each input is read before any is reported, so one run lists every problem of every file.
    """
    from mutasi_rules.problems import InputError

    values, failures = [], []
    for reader in readers:
        try:
            values.append(reader())
        except InputError as error:
            failures.append(error)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise InputError("; ".join(f.what for f in failures), [p for f in failures for p in f.problems])
    return values


def summary(dataset: Dataset | None, problems: Problems) -> dict[str, int | None]:
    return {
        "units": len(dataset.units) if dataset else None,
        "positions": len(dataset.positions) if dataset else None,
        "employees": len(dataset.employees) if dataset else None,
        "errors": len(problems.errors),
        "warnings": len(problems.warnings),
    }


def run(args: argparse.Namespace) -> int:
    from mutasi_rules.data.loading import validate_dataset

    if args.dataset == STDIN:
        dataset, problems = read_stdin_dataset()
    else:
        dataset, problems = validate_dataset(args.dataset, allow_extra_columns=args.allow_extra_columns)
    counts = summary(dataset, problems)
    if args.format == "json":
        payload = [p.model_dump(mode="json") for p in problems]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        print(json.dumps(counts, sort_keys=True), file=sys.stderr)
    else:
        from rich.console import Console

        from mutasi_rules.core.escaping import DataTable as Table
        from mutasi_rules.core.i18n import translator

        _ = translator(args.lang)
        for problem in problems:
            print(format_problem(problem, args.lang))
        table = Table(title=_("Dataset {path}").format(path=args.dataset), show_header=True)
        table.add_column(_("what"))
        table.add_column(_("count"), justify="right")
        for key, value in counts.items():
            table.add_row(_(key), "-" if value is None else str(value))
        Console(soft_wrap=True).print(table)
        verdict = _("dataset is invalid") if problems.errors else _("dataset is valid")
        print(_("{verdict}: {errors} error(s), {warnings} warning(s)").format(
            verdict=verdict, errors=counts["errors"], warnings=counts["warnings"]))
    return EXIT_PROBLEMS if problems.errors else EXIT_OK
