"""``mutasi-rules workload``: workload analysis (ABK) of a dataset, as a table, JSON or CSV, and a chart.

See docs/workload.md for the figures and the JSON layout.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_OK, add_format_argument, date_arg
from mutasi_rules.cli.validate import read_all
from mutasi_rules.errors import UsageError
from mutasi_rules.explain.charts import CHART_SUFFIXES, chart_format, trend_chart, workload_chart

if TYPE_CHECKING:
    from mutasi_rules.analysis.workload import PositionWorkload, UnitWorkload, WorkloadReport, WorkloadSettings

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
    parser.add_argument("dataset", metavar="DATASET", nargs="+",
                        help="dataset file or directory; with --trend, two or more snapshots")
    parser.add_argument("--trend", action="store_true",
                        help="EJ per OPD across the DATASET snapshots, ordered by their as_of (table, json: "
                        "docs/schemas/workload-trend.schema.json, or xlsx; --chart draws lines)")
    add_format_argument(parser, ("table", "json", "csv", "xlsx"), "table",
                        help="table: per OPD (and positions of --unit); json: the full report "
                             "(docs/schemas/workload.schema.json); csv: one row per position; xlsx: a workbook of "
                             "units, positions and the balance (needs --out) (default: table)")
    parser.add_argument("--csv-dialect", choices=("standard", "id"), default="standard",
                        help="csv for: standard (',' and a decimal point) or id (Excel under Indonesian settings: "
                        "';', decimal comma, UTF-8 with BOM)")
    parser.add_argument("--lang", choices=("id", "en"), default="id",
                        help="language of the table, chart and xlsx headers (default: id)")
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
    if args.format == "xlsx" and args.out is None:
        raise UsageError("--format xlsx writes a workbook: give --out FILE.xlsx")
    if args.chart is not None and args.chart.suffix.lower() not in CHART_SUFFIXES:
        raise UsageError(f"--chart {args.chart}: the file name must end in .png or .svg")
    if args.trend:
        return run_trend(args)
    if len(args.dataset) > 1:
        raise UsageError("several datasets are compared with --trend")
    args.dataset = args.dataset[0]

    from mutasi_rules.analysis.workload import WorkloadSettings, analyse_workload
    from mutasi_rules.core import atomic
    from mutasi_rules.data.loading import load_dataset
    from mutasi_rules.rules.rulesets import default_rules_dir, load_rulesets

    dataset, rulesets = read_all(lambda: load_dataset(args.dataset),
                                 lambda: load_rulesets(args.rules or [default_rules_dir()]))

    if args.unit is not None and args.unit not in {u.id for u in dataset.units}:
        raise UsageError(f"--unit {args.unit!r} is not a unit of the dataset")

    settings = WorkloadSettings(effective_hours_per_year=args.effective_hours, rounding=args.rounding)
    report = analyse_workload(dataset, rulesets, as_of=args.as_of, settings=settings)

    if args.format == "json":
        from mutasi_rules.core.canonical import canonical_json

        text = canonical_json(restrict(report, args.unit), indent=2) + "\n"
    elif args.format == "csv":
        text = render_csv(positions_in(report, args.unit), args.csv_dialect)
    elif args.format == "xlsx":
        from mutasi_rules.explain.spreadsheet import workload_workbook

        shown = restrict(report, args.unit)
        atomic.write_bytes(args.out, workload_workbook(report, shown.positions, shown.units, CSV_COLUMNS, args.lang))
        text = None
    else:
        text = render_table(report, args.unit, width=120 if args.out else None, lang=args.lang)

    if text is None:
        pass  # the workbook is written
    elif args.out is not None:
        atomic.write_text(args.out, text)
    else:
        sys.stdout.write(text)
    if args.chart is not None:
        write_chart(report, args.chart, args.unit, args.lang)
    return EXIT_OK


def run_trend(args: argparse.Namespace) -> int:
    """``workload A B C --trend``: EJ per OPD across snapshots (mutasi_rules.analysis.trend)."""
    if args.format == "csv" or args.unit is not None or args.rules or args.as_of is not None:
        raise UsageError("--trend gives a table, json or xlsx, city-wide, each snapshot on its own as_of "
                         "(no csv, --unit, --rules or --as-of)")
    from mutasi_rules.analysis.trend import render_table as render_trend
    from mutasi_rules.analysis.trend import xlsx_sheets
    from mutasi_rules.analysis.workload import WorkloadSettings
    from mutasi_rules.core import atomic
    from mutasi_rules.planning.recommendation import RecommendOptions
    from mutasi_rules.service import Service

    datasets = read_all(*[lambda path=path: Service.load_dataset(path) for path in args.dataset])
    settings = WorkloadSettings(effective_hours_per_year=args.effective_hours, rounding=args.rounding)
    trend = Service().trend(datasets, RecommendOptions(workload=settings), sources=list(args.dataset))
    if args.format == "xlsx":
        from mutasi_rules.explain.spreadsheet import workbook_bytes

        atomic.write_bytes(args.out, workbook_bytes(xlsx_sheets(trend)))
    else:
        if args.format == "json":
            from mutasi_rules.core.canonical import canonical_json

            text = canonical_json(trend, indent=2) + "\n"
        else:
            text = render_trend(trend)
        if args.out is not None:
            atomic.write_text(args.out, text)
        else:
            sys.stdout.write(text)
    if args.chart is not None:
        atomic.write_bytes(args.chart, trend_chart(trend, chart_format(args.chart.suffix)))
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


def render_csv(positions: Sequence[PositionWorkload], dialect: str = "standard") -> str:
    """One row per position; text that would start a formula is neutralised (see spreadsheet.csv_text)."""
    from mutasi_rules.explain.spreadsheet import csv_text, workload_rows

    return csv_text(CSV_COLUMNS, workload_rows(positions, CSV_COLUMNS), dialect)


def _num(value: float | int | None, places: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:,.{places}f}"


def _ej(value: float | None, settings: WorkloadSettings) -> str:
    """An EJ on its own side of every grade and band edge (1.0004 is A: 1.001, not 1.000)."""
    return _num(None if value is None else settings.ej_shown(value, 3), 3)


def _unit_row(unit: UnitWorkload, settings: WorkloadSettings) -> list[str]:
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
        _ej(unit.ej, settings),
        unit.ej_grade or "–",
        ", ".join(unit.labels) or "–",
    ]


def render_table(report: WorkloadReport, unit_id: str | None, width: int | None = None, lang: str = "id") -> str:
    from rich.console import Console

    from mutasi_rules.core.escaping import DataTable as Table
    from mutasi_rules.core.i18n import translate_message, translator

    _ = translator(lang)
    buffer = io.StringIO()
    console = Console(file=buffer, width=width or 160, color_system=None, force_terminal=False,
                      highlight=False, emoji=False, markup=False)
    headers = [_("Unit"), _("Name"), _("Positions"), _("Bezetting"), _("Workload h"), _("Needed"), _("Rounded"),
               _("Gap"), _("EJ"), _("Grade"), _("Label")]
    table = Table(title=_("Workload per OPD: {dataset}, {as_of}, {hours} effective h/year").format(
        dataset=report.dataset, as_of=report.as_of.isoformat(), hours=f"{report.effective_hours_per_year:g}"))
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i < 2 or i >= 9 else "right")
    for unit in report.opd_units():
        table.add_row(*_unit_row(unit, report.settings))
    console.print(table)

    b = report.balance
    console.print(_(
        "Balance over {count} OPD with an EJ: mean {mean}, spread (sd) {sd}, min {min} ({min_unit}), "
        "max {max} ({max_unit}); outside [{low}, {high}]: {outside} ({share}%)").format(
        count=b.units_considered, mean=_num(b.ej_mean, 4), sd=_num(b.ej_std, 4), min=_num(b.ej_min, 4),
        min_unit=b.ej_min_unit or "–", max=_num(b.ej_max, 4), max_unit=b.ej_max_unit or "–",
        low=f"{b.band_low:g}", high=f"{b.band_high:g}", outside=len(b.outside_band),
        share=_num(None if b.outside_band_share is None else b.outside_band_share * 100, 1)))
    if b.units_excluded:
        console.print(_("OPD without an EJ (unknown workload or no staff): {units}").format(
            units=", ".join(b.units_excluded)))

    if unit_id is not None:
        units = subtree(report, unit_id)
        known = report.unit(unit_id) is not None
        sub = Table(title=_("Units in {unit}").format(unit=unit_id) if known else unit_id)
        for i, header in enumerate(headers):
            sub.add_column(header, justify="left" if i < 2 or i >= 9 else "right")
        for u in report.units:
            if u.unit_id in units:
                sub.add_row(*_unit_row(u, report.settings))
        console.print(sub)
        positions = Table(title=_("Positions of {unit} and its sub-units").format(unit=unit_id))
        for i, header in enumerate([_("Position"), _("Name"), _("Unit"), _("Bezetting"), _("Workload h"),
                                    _("Needed"), _("Rounded"), _("Gap"), _("EJ"), _("Grade"), _("Label")]):
            positions.add_column(header, justify="left" if i < 3 or i >= 9 else "right")
        for p in positions_in(report, unit_id):
            positions.add_row(
                p.position_id, p.name, p.unit_id, str(p.bezetting), _num(p.workload_hours, 0),
                _num(p.staff_needed), _num(p.staff_needed_rounded), _num(p.gap), _ej(p.ej, report.settings),
                p.ej_grade or (_("vacant") if p.vacancy and p.has_workload_data else "–"),
                ", ".join(p.labels) or "–",
            )
        console.print(positions)
    for warning in report.warnings:
        console.print(_("note: {text}").format(text=translate_message(warning, lang)))
    return buffer.getvalue()


# --------------------------------------------------------------------------- chart


def write_chart(report: WorkloadReport, path: Path, unit_id: str | None = None, lang: str = "id") -> None:
    """The bar chart of ``report`` (mutasi_rules.explain.charts), written atomically as .png or .svg."""
    from mutasi_rules.core import atomic

    atomic.write_bytes(path, workload_chart(report, chart_format(path.suffix), unit_id, lang))
