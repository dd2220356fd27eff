"""``mutasi-rules demo [DATASET]``: the main job on the bundled Kota Pontianak example.

Validates the dataset, shows the workload by agency (OPD), runs the full recommendation
pipeline with the installed agency plugins, prints the plan, and writes the plan as JSON
and Markdown under ``--out-dir`` so the files can be opened afterwards; the run is recorded in
``<out-dir>/audit.sqlite`` (see docs/audit.md). With ``--format json`` the plan (the result
document) goes to standard output instead of the tables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_OK, add_format_argument

if TYPE_CHECKING:
    from mutasi_rules.core.escaping import DataTable as Table
    from mutasi_rules.planning.recommendation import RecommendationResult

DEFAULT_OUT = "out"
AUDIT_FILE = "audit.sqlite"  # the demo's decision log, beside the plan files


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the whole job on the Kota Pontianak example",
        description="Validate a dataset (default: the bundled Kota Pontianak example), show its workload by "
                    "agency, recommend an explained transfer plan and write it as JSON and Markdown.",
    )
    parser.add_argument("dataset", metavar="DATASET", nargs="?",
                        help="default: the Kota Pontianak example shipped with the package (examples/pontianak)")
    parser.add_argument("--out-dir", default=DEFAULT_OUT, help=f"where the plan files go (default: {DEFAULT_OUT}/)")
    parser.add_argument("--lang", choices=("id", "en"), default="id")
    add_format_argument(parser, ("table", "json"), "table",
                        help="table: the workload and the plan as tables (default); json: the result document "
                             "(docs/schemas/result.schema.json) on standard output")
    parser.set_defaults(handler=run)


def workload_table(result: RecommendationResult, dataset: Any, lang: str = "id") -> Table:
    from mutasi_rules.analysis.workload import figures_report
    from mutasi_rules.core.escaping import DataTable as Table
    from mutasi_rules.core.i18n import translator

    _ = translator(lang)
    report = figures_report(dataset)
    after = {u.unit_id: u.ej_after for u in result.units}
    table = Table(title=_("Workload by agency"))
    for i, column in enumerate((_("OPD"), _("Staff"), _("Staff needed"), _("EJ"), _("EJ after"))):
        table.add_column(column, justify="left" if i == 0 else "right")
    for unit in sorted(report.opd_units(), key=lambda u: u.name):
        ej = "-" if unit.ej is None else f"{unit.ej:.2f}"
        ej_after = after.get(unit.unit_id)
        table.add_row(unit.name, str(unit.bezetting), "-" if unit.staff_needed is None else f"{unit.staff_needed:.1f}",
                      ej, "" if ej_after is None else f"{ej_after:.2f}")
    return table


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from mutasi_rules.analysis.workload import figures_report
    from mutasi_rules.cli.recommend import run_pipeline
    from mutasi_rules.cli.validate import checked_dataset
    from mutasi_rules.core.atomic import write_bytes, write_text
    from mutasi_rules.core.i18n import translator
    from mutasi_rules.core.locations import bundled_example_dir
    from mutasi_rules.explain.explanations import render_markdown, render_table
    from mutasi_rules.explain.spreadsheet import plan_workbook
    from mutasi_rules.planning.recommendation import RecommendOptions

    _ = translator(args.lang)
    as_json = args.format == "json"
    # Piped output (CI logs, files) gets a width that fits the plan table, not the 80-column default.
    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 150, stderr=as_json)
    dataset_path = args.dataset or str(bundled_example_dir())
    dataset = checked_dataset(dataset_path, "fix them first (mutasi-rules validate)")
    meta = dataset.metadata
    console.print(Text(meta.name, style="bold") + _(", as_of {as_of}: {units} units, {positions} positions, "
                                                  "{employees} employees; dataset valid").format(
        as_of=meta.as_of.isoformat(), units=len(dataset.units), positions=len(dataset.positions),
        employees=len(dataset.employees)))
    out = Path(args.out_dir)
    result = run_pipeline(dataset, RecommendOptions(), out / AUDIT_FILE, lang=args.lang).result
    plugin_names = ", ".join(f"{p.name} {p.version}" for p in result.run.plugins) or _("none")
    ruleset_names = ", ".join(f"{r.id} {r.version}" for r in result.run.rulesets)
    console.print(Text(_("rule sets: {rulesets}\nplugins: {plugins}").format(rulesets=ruleset_names,
                                                                          plugins=plugin_names)))
    if not as_json:
        console.print(workload_table(result, dataset, args.lang))
        render_table(result, console, args.lang)
    plan_json = result.to_json(indent=2) + "\n"
    write_text(out / "plan.json", plan_json)
    write_text(out / "plan.md", render_markdown(result, args.lang))
    workload = figures_report(dataset, as_of=result.run.as_of, settings=result.run.options.workload)
    write_bytes(out / "plan.xlsx", plan_workbook(result, args.lang, workload))
    console.print(Text(_("written: {files}").format(files=f"{out / 'plan.json'}, {out / 'plan.md'}, "
                                                          f"{out / 'plan.xlsx'}")))
    if as_json:
        sys.stdout.write(plan_json)
    return EXIT_OK
