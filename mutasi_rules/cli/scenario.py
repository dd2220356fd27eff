"""``mutasi-rules scenario DATASET --scenario FILE...``: the baseline and each scenario planned and compared."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_OK, add_format_argument
from mutasi_rules.cli.recommend import add_run_arguments, options_from, progress_reporter
from mutasi_rules.errors import UsageError

if TYPE_CHECKING:
    from mutasi_rules.planning.comparison import ScenarioReport


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scenario",
        help="what-if workload scenarios: the baseline and each scenario planned with the same rules, compared",
        description="Apply each scenario file (YAML; schema: mutasi-rules schema scenario) to a copy of the dataset, "
                    "plan the baseline and every scenario with the same rules and options, and compare: EJ per "
                    "agency before and after, moves added and removed, training needs added. What-if runs are not "
                    "recorded in the decision log.",
    )
    parser.add_argument("dataset", metavar="DATASET", help="dataset directory or file")
    parser.add_argument("--scenario", action="append", required=True, metavar="FILE",
                        help="scenario file (repeatable)")
    add_run_arguments(parser)
    parser.add_argument("--max-moves", type=int, metavar="N", help="at most N moves in every plan")
    add_format_argument(parser, ("table", "json", "md", "xlsx"), "table",
                        help="table (default), json (docs/schemas/scenarios.schema.json), md, or xlsx (needs --out)")
    parser.add_argument("--out", metavar="FILE", help="write the output to FILE (atomically); required for xlsx")
    parser.add_argument("--lang", choices=("id", "en"), default="id", help="language of table and md output")
    parser.set_defaults(handler=run)


def render_table(report: ScenarioReport, lang: str) -> str:
    import io

    from rich.console import Console
    from rich.table import Table

    from mutasi_rules.core.i18n import translate_message, translator

    _ = translator(lang)
    console = Console(record=True, width=160, file=io.StringIO())
    summary = Table(title=_("Scenarios"))
    columns = (_("scenario"), _("moves"), _("time-bounded"), _("training places"), "JP", _("EJ spread after"))
    for i, column in enumerate(columns):
        summary.add_column(column, justify="left" if i == 0 else "right")
    base = report.baseline
    summary.add_row(_("(baseline)"), str(len(base.moves)),
                    str(sum(1 for m in base.moves if m.assignment)),
                    str(report.baseline_training_plan.participants_total),
                    f"{report.baseline_training_plan.hours_total:g}", f"{base.balance_after.ej_std}")
    for item in report.scenarios:
        c = item.comparison
        summary.add_row(item.name, str(c.moves_scenario), str(c.time_bounded_assignments),
                        str(c.training_participants_scenario), f"{c.training_hours_scenario:g}",
                        f"{c.balance_std_scenario_after}")
    console.print(summary)
    for item in report.scenarios:
        c = item.comparison
        table = Table(title=_("{scenario}: EJ per OPD (changed)").format(scenario=item.name))
        for i, column in enumerate(("OPD", _("baseline"), _("baseline after"), _("scenario"), _("scenario after"))):
            table.add_column(column, justify="left" if i == 0 else "right")
        for a in c.agencies:
            if (a.baseline_before, a.baseline_after) != (a.scenario_before, a.scenario_after):
                table.add_row(a.unit_id, *[f"{v:.2f}" if v is not None else "-" for v in
                                           (a.baseline_before, a.baseline_after, a.scenario_before, a.scenario_after)])
        console.print(table)
        moves = Table(title=_("{scenario}: moves added / removed").format(scenario=item.name))
        for column in ("", "NIP", _("from"), _("to"), _("kind")):
            moves.add_column(column)
        for sign, refs in (("+", c.moves_added), ("-", c.moves_removed), ("~", c.moves_changed)):
            for m in refs:
                moves.add_row(sign, m.nip, m.from_position_id, m.to_position_id,
                              _("until {date}").format(date=m.assignment_until) if m.assignment_until
                              else _("transfer"))
        console.print(moves)
        for t in c.trainings:
            if t.added or t.removed:
                console.print(_("training {name}: {before} -> {after} participant(s)").format(
                    name=t.name, before=t.baseline_participants, after=t.scenario_participants)
                    + (f", {t.hours_added:+g} JP" if t.hours_added is not None else ""), markup=False)
        for warning in [*item.warnings, *item.training_plan.warnings]:
            console.print(f"{_('warning')}: {translate_message(warning, lang)}", markup=False)
    return console.export_text()


def run(args: argparse.Namespace) -> int:
    from mutasi_rules.cli.validate import checked_dataset, read_all
    from mutasi_rules.core.atomic import write_text
    from mutasi_rules.core.i18n import translator
    from mutasi_rules.data.scenario import load_scenarios
    from mutasi_rules.planning.comparison import render_markdown, xlsx_sheets
    from mutasi_rules.service import Service

    if args.format == "xlsx" and not args.out:
        raise UsageError("--format xlsx needs --out FILE.xlsx")
    if args.max_moves is not None and args.max_moves < 0:
        raise UsageError("--max-moves must be 0 or more")
    options = options_from(args, max_moves=args.max_moves)
    scenarios, dataset = read_all(lambda: load_scenarios(args.scenario),
                                  lambda: checked_dataset(args.dataset, "nothing planned"))
    with progress_reporter(sys.stderr.isatty(), args.lang) as progress:
        report = Service().scenarios(dataset, scenarios, options, progress=progress)
    if args.format == "xlsx":
        from mutasi_rules.core.atomic import write_bytes
        from mutasi_rules.explain.spreadsheet import workbook_bytes

        write_bytes(args.out, workbook_bytes(xlsx_sheets(report)))
        print(translator(args.lang)("{count} scenario(s) written to {path}").format(
            count=len(report.scenarios), path=args.out), file=sys.stderr)
        return EXIT_OK
    if args.format == "json":
        text = report.to_json(indent=2) + "\n"
    elif args.format == "md":
        text = render_markdown(report, args.lang)
    else:
        text = render_table(report, args.lang)
    if args.out:
        write_text(args.out, text)
        print(translator(args.lang)("{count} scenario(s) written to {path}").format(
            count=len(report.scenarios), path=args.out), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


__all__ = ["register"]
