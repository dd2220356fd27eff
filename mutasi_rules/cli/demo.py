"""``mutasi-rules demo [DATASET]``: load the example dataset and summarise it.

For now this validates the dataset and prints its size by OPD; it becomes the full
recommendation walk-through once the pipeline exists.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table

from ..loading import validate_dataset
from ..models import Dataset
from . import EXIT_OK, EXIT_PROBLEMS
from .validate import format_problem

DEFAULT_DATASET = "examples/pontianak"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="load the example dataset and summarise it",
        description="Load and validate a dataset (default: the Kota Pontianak example) and summarise it by OPD.",
    )
    parser.add_argument("dataset", metavar="DATASET", nargs="?", default=DEFAULT_DATASET, help=f"default: {DEFAULT_DATASET}")
    parser.set_defaults(handler=run)


def opd_of(dataset: Dataset) -> dict[str, str]:
    """Unit id -> id of its top-level unit (the OPD); units are acyclic once validated."""
    parents = {u.id: u.parent_id for u in dataset.units}
    top: dict[str, str] = {}
    for unit_id in parents:
        node = unit_id
        while parents.get(node):
            node = parents[node]  # type: ignore[assignment]
        top[unit_id] = node
    return top


def run(args: argparse.Namespace) -> int:
    dataset, problems = validate_dataset(args.dataset)
    console = Console(soft_wrap=True)
    for problem in problems:
        print(format_problem(problem))
    if dataset is None:
        print(f"dataset {args.dataset} has {len(problems.errors)} error(s); fix them first (mutasi-rules validate)")
        return EXIT_PROBLEMS
    meta = dataset.metadata
    console.print(f"[bold]{meta.name}[/bold] as of {meta.as_of.isoformat()}")
    top = opd_of(dataset)
    names = dataset.unit_by_id()
    units = Counter(top[u.id] for u in dataset.units)
    positions = Counter(top.get(p.unit_id, p.unit_id) for p in dataset.positions)
    employees = Counter(top.get(e.unit_id, e.unit_id) for e in dataset.employees)
    table = Table(title="By OPD")
    for column in ("OPD", "units", "positions", "employees"):
        table.add_column(column, justify="left" if column == "OPD" else "right")
    for opd in sorted(units, key=lambda o: names[o].name):
        table.add_row(names[opd].name, str(units[opd]), str(positions[opd]), str(employees[opd]))
    table.add_row("[bold]total[/bold]", str(len(dataset.units)), str(len(dataset.positions)), str(len(dataset.employees)))
    console.print(table)
    return EXIT_OK
