"""``mutasi-rules explain RUN_ID``: why a recorded run moved whom, letters to the people moved, a report.

The run comes from the decision log (:mod:`mutasi_rules.audit.log`), or from a result file
written by ``mutasi-rules recommend --format json`` (``--result FILE``). Nothing is
recomputed: what is shown is what was recorded. The recorded dataset is read only to ask
the plugins for each employee's contact office (notices) and to chart the OPDs the plan
does not touch (report).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mutasi_rules.cli import EXIT_OK, add_format_argument
from mutasi_rules.cli.audit import DB_HELP
from mutasi_rules.cli.settings import add_settings_argument, region_from_args
from mutasi_rules.core.locations import default_audit_path
from mutasi_rules.errors import UsageError

#: notices.NoticeSettings().objection_days (a test pins it); written here so --help loads no notices code.
DEFAULT_OBJECTION_DAYS = 14

if TYPE_CHECKING:
    from mutasi_rules.audit.log import DecisionRecord
    from mutasi_rules.data.models import Dataset
    from mutasi_rules.explain.explanations import Lang
    from mutasi_rules.planning.recommendation import RecommendationResult
    from mutasi_rules.plugins.manager import PluginManager


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain a recorded run; write notices to the people moved and a report for the head of the region",
        description="Explain why each move of a recorded run was recommended, rule by rule (findings, rules "
                    "passed, score breakdown, trainings, effect on job efficiency). With --employee, one person: "
                    "their move, or what the record says about them. --notices writes a letter draft per moved "
                    "employee; --report writes the report for the head of the region (.md or .html).",
    )
    parser.add_argument("run_id", metavar="RUN_ID", nargs="?",
                        help="run id in the decision log (a unique prefix is enough); see: mutasi-rules audit list")
    parser.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    parser.add_argument("--expect-head", metavar="HASH",
                        help="refuse the log unless it still holds the record with this hash (printed on earlier "
                             "reports and letters)")
    parser.add_argument("--result", metavar="FILE",
                        help="explain a result file (recommend --format json) instead of a logged run")
    parser.add_argument("--dataset", metavar="PATH",
                        help="with --result: the dataset, for plugin contact offices and the full OPD chart")
    parser.add_argument("--employee", metavar="NIP", help="only this person")
    parser.add_argument("--lang", choices=("id", "en"), default="id", help="language (default: id)")
    add_format_argument(parser, ("text", "md", "json"), None,
                        help="explanation format (default: text); json: docs/schemas/explain.schema.json")
    parser.add_argument("--out", metavar="FILE", help="write the explanation to FILE (atomically), not stdout")
    parser.add_argument("--notices", metavar="DIR",
                        help="write one letter draft per moved employee into DIR (<NIP>.md; <NIP>.en.md too "
                             "with --notice-lang both)")
    parser.add_argument("--notice-lang", choices=("id", "en", "both"), default="id",
                        help="language of the letters (default: id)")
    parser.add_argument("--notice-format", choices=("md", "docx"), default="md",
                        help="letters as Markdown or as Word documents from the region's template (default: md)")
    parser.add_argument("--objection-days", type=int, metavar="N",
                        help="days to raise an objection, stated in the letters (default: the settings' period, "
                             f"else {DEFAULT_OBJECTION_DAYS})")
    add_settings_argument(parser)
    parser.add_argument("--report", metavar="FILE",
                        help="write the report for the head of the region: FILE.html (self-contained) or FILE.md")
    parser.add_argument("--training-plan", metavar="FILE",
                        help="write the training plan the run implies (participants, JP, provider, batches, latest "
                             "start, effective dates): FILE.md, FILE.json (docs/schemas/training-plan.schema.json) "
                             "or FILE.xlsx")
    parser.set_defaults(handler=run)


class _Source:
    """The run to explain and, lazily, its dataset and plugins (only notices and the report need them)."""

    def __init__(self, result: RecommendationResult, run_id: str | None, record: DecisionRecord | None,
                 dataset_path: str | None) -> None:
        self.result = result
        self.run_id = run_id
        self.record = record
        self.dataset_path = dataset_path
        self.notes: list[str] = []
        #: The anchor printed on letters and reports (``audit verify --expect-head``).
        self.record_hash = record.record_hash if record is not None else None

    def dataset(self) -> Dataset | None:
        from mutasi_rules.audit.log import AuditError
        from mutasi_rules.cli.validate import checked_dataset
        from mutasi_rules.problems import InputError

        if self.record is not None:
            try:
                return self.record.dataset()
            except AuditError as error:  # a damaged dataset blob in the record: the input is bad
                raise InputError(str(error), code="audit.record_unreadable") from error
        if self.dataset_path is None:
            return None
        return checked_dataset(self.dataset_path, "no notices or report written")

    def plugins(self) -> PluginManager | None:
        """The recorded plugins (for contact offices); None, with a note, when they cannot be loaded."""
        from mutasi_rules.audit.log import ReplayError, replay_plugins
        from mutasi_rules.plugins.manager import PluginError, load_plugins

        options = self.result.run.options
        if not options.use_plugins:
            return None
        try:
            if self.record is not None:
                manager, notes = replay_plugins(self.record)
                self.notes += notes
                return manager
            return load_plugins(options.plugins)
        except (ReplayError, PluginError) as error:
            self.notes.append(f"plugins not loaded, the default contact office is used: {error}")
            return None


def _load(args: argparse.Namespace) -> _Source:
    """The run to explain. A run or result that cannot be found or read is bad input (exit code 1)."""
    from pydantic import ValidationError

    from mutasi_rules.audit.log import AuditError, TamperedLogError, open_verified_record
    from mutasi_rules.planning.recommendation import RecommendationResult
    from mutasi_rules.problems import InputError

    if (args.run_id is None) == (args.result is None):
        raise UsageError("give either RUN_ID (a logged run) or --result FILE")
    if args.expect_head and args.result is not None:
        raise UsageError("--expect-head goes with RUN_ID (it anchors the decision log)")
    if args.dataset and args.result is None:
        raise UsageError("--dataset goes with --result (a logged run holds its dataset)")
    if args.result is not None:
        path = Path(args.result)
        try:
            result = RecommendationResult.model_validate_json(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise InputError(f"{path}: cannot read: {error.strerror}", code="result.unreadable") from error
        except ValidationError as error:
            raise InputError(f"{path}: not a mutasi-rules result: {error}", code="result.invalid") from error
        return _Source(result, None, None, args.dataset)
    log_path = Path(args.audit_db) if args.audit_db else default_audit_path()
    try:
        # Read only from a log that verifies: letters and reports are never built from an edited record.
        record = open_verified_record(log_path, args.run_id, expect_head=args.expect_head)
        return _Source(record.result(), record.run_id, record, None)
    except TamperedLogError as error:
        raise InputError(str(error), code="audit.tampered") from error
    except AuditError as error:
        raise InputError(str(error), code="audit.unknown_run") from error
    except ValidationError as error:
        raise InputError(f"audit log {log_path}, run {args.run_id}: the stored result does not load: {error}",
                         code="audit.record_unreadable") from error


def _explanation(source: _Source, args: argparse.Namespace) -> str:
    from mutasi_rules.explain.explanations import explain_employee, explain_result, explanation_json

    fmt: Literal["text", "md", "json"] = args.format or "text"
    lang: Lang = args.lang
    if fmt == "json":
        from mutasi_rules.core.canonical import canonical_json
        from mutasi_rules.documents import Explanation

        data = explanation_json(source.result, nip=args.employee, lang=lang, run_id=source.run_id)
        Explanation.model_validate(data)  # the published schema describes exactly this document
        return canonical_json(data, indent=2) + "\n"
    if args.employee:
        return explain_employee(source.result, args.employee, lang, fmt, run_id=source.run_id,
                                dataset_hint=args.dataset or "DATASET")
    return explain_result(source.result, lang, fmt, run_id=source.run_id)


def _write_training_plan(result: RecommendationResult, path: str, lang: str) -> None:
    from mutasi_rules.core.atomic import write_text
    from mutasi_rules.service import Service

    plan = Service.training_plan(result)
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        from mutasi_rules.core.canonical import canonical_json

        write_text(path, canonical_json(plan, indent=2) + "\n")
    elif suffix == ".xlsx":
        from mutasi_rules.core.atomic import write_bytes
        from mutasi_rules.explain.spreadsheet import workbook_bytes
        from mutasi_rules.planning.training_plan import xlsx_sheets

        write_bytes(path, workbook_bytes(xlsx_sheets(plan)))
    else:
        from mutasi_rules.planning.training_plan import render_markdown

        write_text(path, render_markdown(plan, lang))
    from mutasi_rules.core.i18n import translator

    print(translator(lang)("training plan written to {path}: {trainings} training(s), {places} participant place(s)")
          .format(path=path, trainings=len(plan.trainings), places=plan.participants_total), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from mutasi_rules.core.atomic import check_output_path, write_text
    from mutasi_rules.core.i18n import translate_message, translator
    from mutasi_rules.explain.notices import NoticeSettings, check_notice_folder, plugin_contacts, write_notices
    from mutasi_rules.explain.report import check_report_path

    _ = translator(args.lang)
    if args.objection_days is not None and args.objection_days < 1:
        raise UsageError("--objection-days must be 1 or more")
    # Every output path is checked before anything is read or written (OutputError: a usage error).
    if args.out:
        check_output_path(args.out)
    if args.report:
        check_report_path(args.report)
    if args.notices:
        check_notice_folder(args.notices)
    if args.training_plan is not None and Path(args.training_plan).suffix.lower() not in (".md", ".json", ".xlsx"):
        raise UsageError("--training-plan: the file name must end in .md, .json or .xlsx")
    region = region_from_args(args)  # before any output: bad settings write nothing
    settings = NoticeSettings.from_region(region, args.objection_days)
    source = _load(args)
    result = source.result
    if args.training_plan is not None:
        _write_training_plan(result, args.training_plan, args.lang)
    writes = args.notices is not None or args.report is not None
    if not (writes or args.training_plan) or args.employee or args.format or args.out:
        text = _explanation(source, args)
        if args.out:
            write_text(args.out, text)
            print(_("explanation written to {path}").format(path=args.out), file=sys.stderr)
        else:
            sys.stdout.write(text)
    dataset = source.dataset() if writes else None
    if args.notices is not None:
        plugins = source.plugins()
        contacts = plugin_contacts(plugins, dataset) if plugins is not None and dataset is not None else None
        langs: tuple[Lang, ...] = ("id", "en") if args.notice_lang == "both" else (args.notice_lang,)
        if args.notice_format == "docx":
            from mutasi_rules.explain.notice_docx import write_docx_notices

            paths = write_docx_notices(result, args.notices, langs=langs, contacts=contacts, region=region,
                                       objection_days=args.objection_days, run_id=source.run_id,
                                       record_hash=source.record_hash)
        else:
            paths = write_notices(result, args.notices, langs=langs, contacts=contacts,
                                  settings=settings, run_id=source.run_id, record_hash=source.record_hash)
        print(_("{count} notice(s) written to {path}").format(count=len(paths), path=args.notices), file=sys.stderr)
    if args.report is not None:
        from mutasi_rules.analysis.workload import figures_report
        from mutasi_rules.explain.report import write_report

        workload = (figures_report(dataset, as_of=result.run.as_of, settings=result.run.options.workload)
                    if dataset is not None else None)
        write_report(result, args.report, lang=args.lang, run_id=source.run_id, workload=workload, region=region,
                     record_hash=source.record_hash)
        print(_("report written to {path}").format(path=args.report), file=sys.stderr)
    for note in source.notes:
        print(f"{_('note')}: {translate_message(note, args.lang)}", file=sys.stderr)
    return EXIT_OK


__all__ = ["register"]
