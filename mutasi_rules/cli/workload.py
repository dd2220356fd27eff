"""``mutasi-rules workload``: workload analysis (ABK) of a dataset, as a table, JSON or CSV, and a chart.

See docs/workload.md for the figures and the JSON layout.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from . import EXIT_OK, add_format_argument, date_arg

if TYPE_CHECKING:
    from ..workload import PositionWorkload, UnitWorkload, WorkloadReport

CSV_COLUMNS = (
    "position_id",
    "name",
    "kind",
    "unit_id",
    "opd_id",
    "has_workload_data",
    "task_count",
    "workload_hours",
    "staff_needed",
    "staff_needed_rounded",
    "bezetting",
    "gap",
    "gap_raw",
    "ej",
    "ej_grade",
    "vacancy",
    "labels",
)
CHART_SUFFIXES = (".png", ".svg")
LABEL_COLOURS = {
    "kekurangan": "#c0392b",
    "kelebihan": "#2e86c1",
    "seimbang": "#27ae60",
}
OTHER_COLOUR = "#7f8c8d"


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0: {text!r}")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "workload",
        help="workload analysis (ABK): staff needed, job efficiency, shortage and surplus, balance",
        description="Workload analysis (ABK) of a dataset: staff needed, job efficiency (EJ) and its grade, "
        "shortage/surplus labels from the staffing-norm rules, and the balance across OPD.",
    )
    parser.add_argument("dataset", metavar="DATASET", help="dataset file or directory")
    add_format_argument(parser, ("table", "json", "csv"), "table",
                        help="table: per OPD (and positions of --unit); json: the full report "
                             "(docs/schemas/workload.schema.json); csv: one row per position (default: table)")
    parser.add_argument("--unit", metavar="ID", help="show the positions of this unit and its sub-units; "
                        "json and csv are limited to them")
    parser.add_argument("--rules", metavar="PATH", action="append", type=Path,
                        help="rule file or directory (repeatable; default: the bundled rules/ directory)")
    parser.add_argument("--as-of", metavar="DATE", type=date_arg, help="analysis date (default: the dataset's as_of)")
    parser.add_argument("--effective-hours", metavar="H", type=_positive,
                        help="effective working hours per person-year (default: the dataset's, else 1250)")
    parser.add_argument("--rounding", choices=("half_up", "ceil", "floor", "none"), default="half_up",
                        help="rounding of staff needed to whole persons (default: half_up)")
    parser.add_argument("--chart", metavar="FILE", type=Path,
                        help="write a bar chart of EJ per unit with the balanced band shaded (.png or .svg)")
    parser.add_argument("--out", metavar="FILE", type=Path, help="write the output here instead of stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.chart is not None and args.chart.suffix.lower() not in CHART_SUFFIXES:
        raise UsageError(f"--chart {args.chart}: the file name must end in .png or .svg")

    from .. import atomic
    from ..loading import load_dataset
    from ..problems import InputError
    from ..rulesets import default_rules_dir, load_rulesets
    from ..workload import WorkloadSettings, analyse_workload

    # Both inputs are read before either is reported, so one run lists every problem.
    problems: list[InputError] = []
    dataset = rulesets = None
    try:
        dataset = load_dataset(args.dataset)
    except InputError as exc:
        problems.append(exc)
    try:
        rulesets = load_rulesets(args.rules or [default_rules_dir()])
    except InputError as exc:
        problems.append(exc)
    if problems or dataset is None or rulesets is None:
        if len(problems) == 1:
            raise problems[0]
        raise InputError("; ".join(exc.what for exc in problems),
                         [p for exc in problems for p in exc.problems])

    if args.unit is not None and args.unit not in {u.id for u in dataset.units}:
        raise UsageError(f"--unit {args.unit!r} is not a unit of the dataset")

    settings = WorkloadSettings(effective_hours_per_year=args.effective_hours, rounding=args.rounding)
    report = analyse_workload(dataset, rulesets, as_of=args.as_of, settings=settings)

    if args.format == "json":
        from ..canonical import canonical_json

        text = canonical_json(restrict(report, args.unit), indent=2) + "\n"
    elif args.format == "csv":
        text = render_csv(positions_in(report, args.unit))
    else:
        text = render_table(report, args.unit, width=120 if args.out else None)

    if args.out is not None:
        atomic.write_text(args.out, text)
    else:
        sys.stdout.write(text)
    if args.chart is not None:
        write_chart(report, args.chart, args.unit)
    return EXIT_OK


# --------------------------------------------------------------------------- selection


def subtree(report: WorkloadReport, unit_id: str) -> set[str]:
    """The unit and all its descendants."""
    children: dict[str, list[str]] = {}
    for unit in report.units:
        if unit.parent_id is not None:
            children.setdefault(unit.parent_id, []).append(unit.unit_id)
    out, stack = set(), [unit_id]
    while stack:
        current = stack.pop()
        if current not in out:
            out.add(current)
            stack.extend(children.get(current, ()))
    return out


def positions_in(report: WorkloadReport, unit_id: str | None) -> list[PositionWorkload]:
    if unit_id is None:
        return list(report.positions)
    units = subtree(report, unit_id)
    return [p for p in report.positions if p.unit_id in units]


def restrict(report: WorkloadReport, unit_id: str | None) -> WorkloadReport:
    """The report limited to one unit's subtree (the balance figure stays city-wide)."""
    if unit_id is None:
        return report
    units = subtree(report, unit_id)
    return report.model_copy(update={
        "units": [u for u in report.units if u.unit_id in units],
        "positions": positions_in(report, unit_id),
    })


# --------------------------------------------------------------------------- renderers


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(getattr(value, "value", value))


def render_csv(positions: Sequence[PositionWorkload]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for position in positions:
        writer.writerow([_cell(getattr(position, column)) for column in CSV_COLUMNS])
    return buffer.getvalue()


def _num(value: float | int | None, places: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:,.{places}f}"


def _unit_row(unit: UnitWorkload) -> list[str]:
    positions = str(unit.position_count)
    if unit.positions_without_data:
        positions += f" ({unit.positions_without_data} ?)"
    return [
        unit.unit_id,
        unit.name,
        positions,
        str(unit.bezetting),
        _num(unit.workload_hours, 0),
        _num(unit.staff_needed),
        _num(unit.staff_needed_rounded),
        _num(unit.gap),
        _num(unit.ej, 3),
        unit.ej_grade or "–",
        ", ".join(unit.labels) or "–",
    ]


def render_table(report: WorkloadReport, unit_id: str | None, width: int | None = None) -> str:
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, width=width or 160, color_system=None, force_terminal=False,
                      highlight=False, emoji=False)
    headers = ["Unit", "Name", "Positions", "Bezetting", "Workload h", "Needed", "Rounded", "Gap",
               "EJ", "Grade", "Label"]
    table = Table(title=f"Workload per OPD: {report.dataset}, {report.as_of.isoformat()}, "
                  f"{report.effective_hours_per_year:g} effective h/year")
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i < 2 or i >= 9 else "right")
    for unit in report.opd_units():
        table.add_row(*_unit_row(unit))
    console.print(table)

    b = report.balance
    console.print(
        f"Balance over {b.units_considered} OPD with an EJ: mean {_num(b.ej_mean, 4)}, "
        f"spread (sd) {_num(b.ej_std, 4)}, min {_num(b.ej_min, 4)} ({b.ej_min_unit or '–'}), "
        f"max {_num(b.ej_max, 4)} ({b.ej_max_unit or '–'}); outside [{b.band_low:g}, {b.band_high:g}]: "
        f"{len(b.outside_band)} ({_num(None if b.outside_band_share is None else b.outside_band_share * 100, 1)}%)"
    )
    if b.units_excluded:
        console.print(f"OPD without an EJ (unknown workload or no staff): {', '.join(b.units_excluded)}")

    if unit_id is not None:
        unit = report.unit(unit_id)
        units = subtree(report, unit_id)
        sub = Table(title=f"Units in {unit_id}" if unit else unit_id)
        for i, header in enumerate(headers):
            sub.add_column(header, justify="left" if i < 2 or i >= 9 else "right")
        for u in report.units:
            if u.unit_id in units:
                sub.add_row(*_unit_row(u))
        console.print(sub)
        positions = Table(title=f"Positions of {unit_id} and its sub-units")
        for i, header in enumerate(["Position", "Name", "Unit", "Bezetting", "Workload h", "Needed", "Rounded",
                                    "Gap", "EJ", "Grade", "Label"]):
            positions.add_column(header, justify="left" if i < 3 or i >= 9 else "right")
        for p in positions_in(report, unit_id):
            positions.add_row(
                p.position_id, p.name, p.unit_id, str(p.bezetting), _num(p.workload_hours, 0),
                _num(p.staff_needed), _num(p.staff_needed_rounded), _num(p.gap), _num(p.ej, 3),
                p.ej_grade or ("vacant" if p.vacancy and p.has_workload_data else "–"),
                ", ".join(p.labels) or "–",
            )
        console.print(positions)
    for warning in report.warnings:
        console.print(f"note: {warning}")
    return buffer.getvalue()


# --------------------------------------------------------------------------- chart


def chart_units(report: WorkloadReport, unit_id: str | None) -> list[UnitWorkload]:
    """The OPD rows, or the direct sub-units of ``unit_id`` (the unit itself when it has none)."""
    if unit_id is None:
        return report.opd_units()
    children = [u for u in report.units if u.parent_id == unit_id]
    return children or [u for u in report.units if u.unit_id == unit_id]


def chart_bytes(report: WorkloadReport, fmt: str, unit_id: str | None = None) -> bytes:
    """A bar chart of EJ per unit with the balanced band shaded; same report, same bytes."""
    import matplotlib

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    units = chart_units(report, unit_id)
    shown = [u for u in units if u.ej is not None]
    missing = len(units) - len(shown)
    band = report.balance
    width = max(6.0, 0.45 * len(shown) + 2.0)
    with matplotlib.rc_context({"svg.hashsalt": "mutasi-rules", "svg.fonttype": "path"}):
        figure = Figure(figsize=(width, 4.8), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        axes.axhspan(band.band_low, band.band_high, color="#27ae60", alpha=0.15, lw=0,
                     label=f"balanced {band.band_low:g}-{band.band_high:g}")
        axes.axhline(1.0, color="#555555", lw=0.8, ls="--")
        positions = list(range(len(shown)))
        colours = [LABEL_COLOURS.get(u.labels[0], OTHER_COLOUR) if len(u.labels) == 1 else OTHER_COLOUR
                   for u in shown]
        bars = axes.bar(positions, [u.ej for u in shown], color=colours)
        axes.bar_label(bars, labels=[f"{u.ej:.2f}" for u in shown], fontsize=7, padding=2)
        axes.set_xticks(positions, [u.unit_id for u in shown], rotation=90, fontsize=8)
        axes.set_ylabel("EJ (efisiensi jabatan)")
        title = f"EJ per unit: {report.dataset}, {report.as_of.isoformat()}"
        if missing:
            title += f" ({missing} without EJ not shown)"
        axes.set_title(title, fontsize=10)
        axes.legend(loc="upper right", fontsize=8)
        figure.tight_layout()
        buffer = io.BytesIO()
        metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def write_chart(report: WorkloadReport, path: Path, unit_id: str | None = None) -> None:
    from .. import atomic

    atomic.write_bytes(path, chart_bytes(report, path.suffix.lower().lstrip("."), unit_id))
