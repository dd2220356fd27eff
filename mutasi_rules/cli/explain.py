"""``mutasi-rules explain RUN_ID``: why a recorded run moved whom, letters to the people moved, a report.

The run comes from the decision log (:mod:`mutasi_rules.audit`), or from a result file
written by ``mutasi-rules recommend --format json`` (``--result FILE``). Nothing is
recomputed: what is shown is what was recorded. The recorded dataset is read only to ask
the plugins for each employee's contact office (notices) and to chart the OPDs the plan
does not touch (report).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..atomic import write_text
from ..audit import (
    AuditError,
    AuditLog,
    DecisionRecord,
    ReplayError,
    default_audit_path,
    replay_plugins,
)
from ..canonical import canonical_json
from ..explain import Lang, explain_employee, explain_result, explanation_json
from ..loading import validate_dataset
from ..models import Dataset
from ..notices import NoticeSettings, plugin_contacts, write_notices
from ..plugins.manager import PluginError, PluginManager, load_plugins
from ..recommendation import RecommendationResult
from ..report import write_report
from ..service import Service
from ..training_plan import render_markdown as render_training_plan
from ..training_plan import xlsx_rows as training_xlsx_rows
from ..workbook import write_workbook
from ..workload import figures_report
from . import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from .audit import DB_HELP
from .validate import format_problem


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
    parser.add_argument("--result", metavar="FILE",
                        help="explain a result file (recommend --format json) instead of a logged run")
    parser.add_argument("--dataset", metavar="PATH",
                        help="with --result: the dataset, for plugin contact offices and the full OPD chart")
    parser.add_argument("--employee", metavar="NIP", help="only this person")
    parser.add_argument("--lang", choices=("id", "en"), default="id", help="language (default: id)")
    parser.add_argument("--format", choices=("text", "md", "json"), help="explanation format (default: text)")
    parser.add_argument("--out", metavar="FILE", help="write the explanation to FILE (atomically), not stdout")
    parser.add_argument("--notices", metavar="DIR",
                        help="write one letter draft per moved employee into DIR (<NIP>.md; <NIP>.en.md too "
                             "with --notice-lang both)")
    parser.add_argument("--notice-lang", choices=("id", "en", "both"), default="id",
                        help="language of the letters (default: id)")
    parser.add_argument("--objection-days", type=int, default=NoticeSettings().objection_days, metavar="N",
                        help="days to raise an objection, stated in the letters (default: %(default)s)")
    parser.add_argument("--report", metavar="FILE",
                        help="write the report for the head of the region: FILE.html (self-contained) or FILE.md")
    parser.add_argument("--training-plan", metavar="FILE",
                        help="write the training plan the run implies (participants, JP, provider, batches, latest "
                             "start, effective dates): FILE.md, FILE.json or FILE.xlsx")
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

    def dataset(self) -> Dataset | None:
        if self.record is not None:
            return self.record.dataset()
        if self.dataset_path is None:
            return None
        dataset, problems = validate_dataset(self.dataset_path)
        if dataset is None:
            for problem in problems.errors:
                print(format_problem(problem), file=sys.stderr)
            raise _Failure(EXIT_PROBLEMS, f"dataset {self.dataset_path}: {len(problems.errors)} error(s)")
        return dataset

    def plugins(self) -> PluginManager | None:
        """The recorded plugins (for contact offices); None, with a note, when they cannot be loaded."""
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


class _Failure(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _load(args: argparse.Namespace) -> _Source:
    if (args.run_id is None) == (args.result is None):
        raise _Failure(EXIT_USAGE, "give either RUN_ID (a logged run) or --result FILE")
    if args.dataset and args.result is None:
        raise _Failure(EXIT_USAGE, "--dataset goes with --result (a logged run holds its dataset)")
    if args.result is not None:
        path = Path(args.result)
        try:
            result = RecommendationResult.model_validate_json(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise _Failure(EXIT_PROBLEMS, f"{path}: cannot read: {error.strerror}") from error
        except ValidationError as error:
            raise _Failure(EXIT_PROBLEMS, f"{path}: not a mutasi-rules result: {error}") from error
        return _Source(result, None, None, args.dataset)
    log_path = Path(args.audit_db) if args.audit_db else default_audit_path()
    try:
        with AuditLog(log_path, create=False) as log:
            record = log.get(args.run_id)
        return _Source(record.result(), record.run_id, record, None)
    except AuditError as error:
        raise _Failure(EXIT_PROBLEMS, str(error)) from error
    except ValidationError as error:
        raise _Failure(EXIT_PROBLEMS, f"audit log {log_path}, run {args.run_id}: the stored result does not "
                                      f"load: {error}") from error


def _explanation(source: _Source, args: argparse.Namespace) -> str:
    fmt = args.format or "text"
    lang: Lang = args.lang
    if fmt == "json":
        return canonical_json(explanation_json(source.result, nip=args.employee, lang=lang, run_id=source.run_id),
                              indent=2) + "\n"
    if args.employee:
        return explain_employee(source.result, args.employee, lang, fmt, run_id=source.run_id,
                                dataset_hint=args.dataset or "DATASET")
    return explain_result(source.result, lang, fmt, run_id=source.run_id)


def _guarded(step: Callable[[], int]) -> int:
    try:
        return step()
    except _Failure as failure:
        print(str(failure), file=sys.stderr)
        return failure.code
    except AuditError as error:  # e.g. a damaged dataset blob in the record
        print(str(error), file=sys.stderr)
        return EXIT_PROBLEMS
    except PluginError as error:
        print(f"plugin failure: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _write_training_plan(result: RecommendationResult, path: str, lang: str) -> None:
    suffix = Path(path).suffix.lower()
    plan = Service.training_plan(result)
    if suffix == ".json":
        write_text(path, canonical_json(plan.model_dump(mode="json"), indent=2) + "\n")
    elif suffix == ".xlsx":
        write_workbook(path, training_xlsx_rows(plan))
    else:
        write_text(path, render_training_plan(plan, lang))
    print(f"training plan written to {path}: {len(plan.trainings)} training(s), {plan.participants_total} "
          "participant place(s)", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if args.training_plan is not None and Path(args.training_plan).suffix.lower() not in (".md", ".json", ".xlsx"):
        print("--training-plan: the file name must end in .md, .json or .xlsx", file=sys.stderr)
        return EXIT_USAGE
    if args.objection_days < 1:
        print("--objection-days must be 1 or more", file=sys.stderr)
        return EXIT_USAGE
    return _guarded(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    source = _load(args)
    result = source.result
    writes = args.notices is not None or args.report is not None
    if args.training_plan is not None:
        _write_training_plan(result, args.training_plan, args.lang)
        writes = True
    if not writes or args.employee or args.format or args.out:
        text = _explanation(source, args)
        if args.out:
            write_text(args.out, text)
            print(f"explanation written to {args.out}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    dataset = source.dataset() if args.notices is not None or args.report is not None else None
    if args.notices is not None:
        plugins = source.plugins()
        contacts = plugin_contacts(plugins, dataset) if plugins is not None and dataset is not None else None
        langs: tuple[Lang, ...] = ("id", "en") if args.notice_lang == "both" else (args.notice_lang,)
        paths = write_notices(result, args.notices, langs=langs, contacts=contacts,
                              settings=NoticeSettings(objection_days=args.objection_days), run_id=source.run_id)
        print(f"{len(paths)} notice(s) written to {args.notices}", file=sys.stderr)
    if args.report is not None:
        workload = (figures_report(dataset, as_of=result.run.as_of, settings=result.run.options.workload)
                    if dataset is not None else None)
        write_report(result, args.report, lang=args.lang, run_id=source.run_id, workload=workload)
        print(f"report written to {args.report}", file=sys.stderr)
    for note in source.notes:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK


__all__ = ["register"]
