"""``mutasi-rules audit verify|replay|list``: check, re-run and list the recorded decisions.

Also :func:`add_audit_arguments`, the options of the commands that record their run (the
service layer records it; see docs/audit.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_format_argument, add_lang_argument
from mutasi_rules.core.locations import ENV_AUDIT_DB, default_audit_path
from mutasi_rules.errors import UsageError

if TYPE_CHECKING:
    from mutasi_rules.audit.log import AuditLog

DB_HELP = (f"the decision log (default: ${ENV_AUDIT_DB} if set, else mutasi-rules-audit.sqlite in your data folder, "
           "$XDG_DATA_HOME/mutasi-rules or ~/.local/share/mutasi-rules)")


def add_audit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--audit-db PATH`` and ``--no-audit`` for commands that record their run."""
    group = parser.add_argument_group("audit", "Every run is recorded in an append-only, hash-chained decision log.")
    group.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    group.add_argument("--no-audit", action="store_true", help="do not record this run")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="verify, replay and list the recorded decisions",
        description="The decision log records every recommend run with its inputs and result, hash-chained. "
                    "Verify the chain, replay a run from its stored inputs, or list the runs.",
    )
    commands = parser.add_subparsers(dest="audit_command", metavar="SUBCOMMAND")
    parser.set_defaults(handler=lambda args: _usage(parser))

    verify = commands.add_parser(
        "verify", help="check the whole hash chain",
        description="Check every record's hashes and the chain linking them. Exit 0 intact, 1 tampered or broken. "
                    "JSON layout: docs/schemas/audit-verify.schema.json.",
    )
    verify.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    verify.add_argument("--expect-head", metavar="HASH",
                        help="the record hash printed on a report or letter (or by recommend): the log must still "
                             "hold that record, else records at the end were cut off and the head rewound")
    add_format_argument(verify, ("text", "json"), "text")
    add_lang_argument(verify)
    verify.set_defaults(handler=run_verify)

    replay_parser = commands.add_parser(
        "replay", help="re-run a recorded decision and compare",
        description="Re-run a recorded decision from its stored dataset, rule-set texts, options and the recorded "
                    "plugins, and compare the result with the stored one. Exit 0 identical, 1 different or not "
                    "verifiable, 2 unknown run id, 3 the run cannot be replayed (e.g. a plugin is missing). "
                    "JSON layout: docs/schemas/audit-replay.schema.json.",
    )
    replay_parser.add_argument("run_id", metavar="RUN_ID", help="e.g. R000042-1a2b3c4d5e (a unique prefix will do)")
    replay_parser.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    add_format_argument(replay_parser, ("text", "json"), "text")
    add_lang_argument(replay_parser)
    replay_parser.set_defaults(handler=run_replay)

    list_parser = commands.add_parser("list", help="list the recorded runs",
                                      description="List the recorded runs in sequence order. JSON layout: "
                                                  "docs/schemas/audit-list.schema.json.")
    list_parser.add_argument("--audit-db", metavar="PATH", help=DB_HELP)
    add_format_argument(list_parser, ("table", "json"), "table")
    add_lang_argument(list_parser)
    list_parser.set_defaults(handler=run_list)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _path(args: argparse.Namespace) -> str:
    return os.fspath(args.audit_db or default_audit_path())


def _open(path: str) -> AuditLog:
    from mutasi_rules.audit.log import AuditLog

    return AuditLog(path, create=False)


def _emit(document: Any) -> None:
    from mutasi_rules.core.canonical import canonical_json

    sys.stdout.write(canonical_json(document.model_dump(mode="json"), indent=2) + "\n")


def run_verify(args: argparse.Namespace) -> int:
    from mutasi_rules.audit.log import AuditError, VerifyReport, verify_with_reviews

    path = _path(args)
    if not os.path.exists(path):
        raise AuditError(f"audit verify: no audit log at {path}", code="audit.not_found")
    unreadable: AuditError | None = None
    try:
        with _open(path) as log:
            report = verify_with_reviews(log, expect_head=args.expect_head)
    except AuditError as error:  # the log cannot even be read: broken, as far as anyone can tell
        unreadable = error
        report = VerifyReport(ok=False, records=0, reason=f"the log cannot be read: {error}", problems=[str(error)])
    if args.format == "json":
        from mutasi_rules.documents import AuditVerifyReport

        _emit(AuditVerifyReport.model_validate({**report.__dict__, "log": path}))
        return EXIT_OK if report.ok else EXIT_PROBLEMS
    from mutasi_rules.core.i18n import translate_message, translator

    _ = translator(args.lang)
    for warning in report.warnings:
        print(f"{_('warning')}: {translate_message(warning, args.lang)}", file=sys.stderr)
    if report.ok:
        head = _("; head hash {hash}").format(hash=report.head_hash) if report.head_hash else ""
        if args.expect_head:
            head += _("; holds the expected record {hash}").format(hash=args.expect_head.strip())
        print(_("{path}: {records} record(s), chain intact").format(path=path, records=report.records) + head)
        return EXIT_OK
    if unreadable is not None:
        print(_("audit verify: BROKEN: {reason}").format(reason=translate_message(str(unreadable), args.lang)),
              file=sys.stderr)
        return EXIT_PROBLEMS
    who = f" ({report.first_bad_run_id})" if report.first_bad_run_id else ""
    where = (_("first bad record seq {seq}").format(seq=report.first_bad) + f"{who}: "
             if report.first_bad is not None else "")
    reason = translate_message(report.reason or "", args.lang)
    print(_("{path}: TAMPERED OR BROKEN: ").format(path=path) + where + reason)
    for problem in report.problems:
        print(f"  {translate_message(problem, args.lang)}")
    return EXIT_PROBLEMS


def run_replay(args: argparse.Namespace) -> int:
    from mutasi_rules.audit.log import AuditError, replay

    path = _path(args)
    with _open(path) as log:  # an AuditError (ReplayError included: a missing plugin) is a failure, exit 3
        try:
            log.get(args.run_id)
        except AuditError as error:
            raise UsageError(f"audit replay: {error}", code="audit.unknown_run") from error
        report = replay(log, args.run_id)
    if args.format == "json":
        from mutasi_rules.documents import AuditReplayReport

        _emit(AuditReplayReport(log=path, run_id=report.run_id, identical=report.identical,
                                verifiable=report.verifiable, recorded_sha256=report.recorded_sha256,
                                replayed_sha256=report.replayed_sha256, differences=list(report.differences)))
        return EXIT_OK if report.identical else EXIT_PROBLEMS
    from mutasi_rules.core.i18n import translate_message, translator

    _ = translator(args.lang)
    if report.identical:
        print(_("run {run_id}: replay identical (result sha256 {sha256})").format(
            run_id=report.run_id, sha256=report.recorded_sha256))
        return EXIT_OK
    state = _("NOT VERIFIABLE") if not report.verifiable else _("DIFFERENT")
    print(_("run {run_id}: replay {state}: recorded sha256 {recorded}, replayed {replayed}").format(
        run_id=report.run_id, state=state, recorded=report.recorded_sha256, replayed=report.replayed_sha256 or "-"))
    for difference in report.differences:
        print(f"  {translate_message(difference, args.lang)}")
    return EXIT_PROBLEMS


def run_list(args: argparse.Namespace) -> int:
    path = _path(args)
    with _open(path) as log:
        rows = list(log.summaries())
    if args.format == "json":
        from mutasi_rules.documents import AuditList

        _emit(AuditList.model_validate([r.as_dict() for r in rows]))
        return EXIT_OK
    from rich.console import Console

    from mutasi_rules.core.escaping import DataTable
    from mutasi_rules.core.i18n import translator

    _ = translator(args.lang)
    table = DataTable(title=_("{path}: {count} run(s)").format(path=path, count=len(rows)))
    columns = (_("run id"), _("seq"), "as_of", _("plan date"), _("dataset"), _("moves"), _("recorded at (UTC)"))
    for i, column in enumerate(columns):
        table.add_column(column, justify="right" if i in (1, 5) else "left")
    for r in rows:
        table.add_row(r.run_id, str(r.seq), r.as_of, r.plan_date, f"{r.dataset_name} ({r.dataset_sha256[:12]})",
                      str(r.moves), r.recorded_at)
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    return EXIT_OK


__all__ = ["add_audit_arguments", "register"]
