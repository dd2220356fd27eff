"""``mutasi-rules rules check|test``: check rule files, and run their YAML test cases."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mutasi_rules.cli import EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_format_argument, add_lang_argument
from mutasi_rules.cli.plugins import add_plugin_arguments, settings_from_args

if TYPE_CHECKING:
    from mutasi_rules.core.escaping import DataTable as Table
    from mutasi_rules.data.facts import ExtensionAttribute
    from mutasi_rules.problems import Problem
    from mutasi_rules.rules.rulesets import LoadedRuleSet


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="check rule files and run rule tests",
        description="Check rule files against the fact schema, and run their YAML test cases.",
    )
    commands = parser.add_subparsers(dest="rules_command", metavar="SUBCOMMAND")
    parser.set_defaults(handler=lambda args: _usage(parser))

    check = commands.add_parser(
        "check",
        help="load and check rule files and directories",
        description="Load every rule file (directories are searched for *.yaml/*.yml; *.tests.yaml are skipped), "
        "check every condition and message, and the rule sets against each other. Exit 1 on any error.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="rule file or directory")
    add_format_argument(check, ("text", "json"), "text")
    add_lang_argument(check)
    _add_extension_arguments(check)
    check.set_defaults(handler=run_check)

    test = commands.add_parser(
        "test",
        help="run rule test cases (*.tests.yaml)",
        description="Run the test cases of rule sets. PATH may be rule files, test files or directories; "
        "a rule file's tests are found beside it (x.yaml -> x.tests.yaml) and a test file's rule set too. "
        "Exit 1 on any failure or load problem.",
    )
    test.add_argument("paths", nargs="+", metavar="PATH", help="rule file, test file or directory")
    add_format_argument(test, ("text", "json"), "text")
    add_lang_argument(test)
    _add_extension_arguments(test)
    test.set_defaults(handler=run_test)


def _add_extension_arguments(parser: argparse.ArgumentParser) -> None:
    """Agency rules read attributes their plugin declares (``employee.ext.*``); load them to check."""
    parser.add_argument("--no-plugins", action="store_true",
                        help="do not load plugins (rules reading plugin attributes, ext.*, then fail to check)")
    add_plugin_arguments(parser)


def _extensions(args: argparse.Namespace) -> list[ExtensionAttribute]:
    """The fact attributes the enabled plugins declare (installed ones and --plugin)."""
    if args.no_plugins:
        return []
    from mutasi_rules.plugins.manager import load_plugins

    return load_plugins(settings_from_args(args)).fact_attributes()


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


# --------------------------------------------------------------------------- output


def _source_line(problem: Problem, cache: dict[str, list[str] | None]) -> str | None:
    if not problem.file or problem.line is None:
        return None
    if problem.file not in cache:
        try:
            cache[problem.file] = Path(problem.file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            cache[problem.file] = None
    lines = cache[problem.file]
    if not lines or problem.line > len(lines):
        return None
    return lines[problem.line - 1]


def format_problem(problem: Problem, cache: dict[str, list[str] | None] | None = None, lang: str = "en") -> str:
    """``file:line:column: severity: message``, then the source line and a caret under the column.

    In ``lang``: the severity and the message from the catalogue (a message it does not know as recorded).
    """
    from mutasi_rules.core.i18n import translate_message, translator

    _ = translator(lang)
    cache = {} if cache is None else cache
    where = problem.file or "<input>"
    if problem.line is not None:
        where += f":{problem.line}"
        if problem.column is not None:
            where += f":{problem.column}"
    context = []
    if problem.record:
        context.append(problem.record)
    if problem.field:
        context.append(problem.field)
    text = f"{where}: {_(problem.severity)}: {translate_message(problem.message, lang)}"
    if context:
        text += f" [{', '.join(context)}]"
    line = _source_line(problem, cache)
    if line is not None:
        caret = ""
        if problem.column is not None:
            # keep tabs so the caret lines up under the same character
            caret = "".join(ch if ch == "\t" else " " for ch in line[: problem.column - 1]) + "^"
        text += f"\n    {line}" + (f"\n    {caret}" if caret else "")
    elif isinstance(problem.value, str) and problem.field and problem.field.endswith("when"):
        text += f"\n    {problem.value}"
    return text


def _validity(loaded: LoadedRuleSet, lang: str) -> str:
    from mutasi_rules.core.i18n import translator

    r = loaded.ruleset
    until = r.effective_until.isoformat() if r.effective_until else translator(lang)("open")
    return f"{r.effective_from.isoformat()} – {until}"


def _summary_table(loaded: Sequence[LoadedRuleSet], lang: str) -> Table:
    from mutasi_rules.core.escaping import DataTable as Table
    from mutasi_rules.core.i18n import translator
    from mutasi_rules.documents import rule_effects
    from mutasi_rules.rules.rulesets import EFFECTS, Effect

    _ = translator(lang)
    table = Table(title=_("Rule sets"), show_lines=False)
    for name in (_("id"), _("version"), _("validity"), _("origin"), _("rules"), _("by effect")):
        table.add_column(name, overflow="fold")
    for one in sorted(loaded, key=lambda r: (r.id, r.version)):
        # People read the effect's label (menghalangi 6); English keeps the rule files' keyword (block 6).
        effects = ", ".join(f"{effect if lang == 'en' else EFFECTS[Effect(effect)].label.get(lang)} {count}"
                            for effect, count in rule_effects(one).items())
        table.add_row(one.id, one.version, _validity(one, lang), one.origin, str(len(one.rules)), effects)
    return table


def _print_problems(problems: Sequence[Problem], out: Any, lang: str) -> None:
    cache: dict[str, list[str] | None] = {}
    for problem in problems:
        print(format_problem(problem, cache, lang), file=out)


# --------------------------------------------------------------------------- commands


def run_check(args: argparse.Namespace) -> int:
    from mutasi_rules.core.i18n import translator
    from mutasi_rules.rules.rulesets import collect_rulesets

    extensions = _extensions(args)
    loaded, problems = collect_rulesets(args.paths, extensions=extensions)
    errors = problems.errors
    if args.format == "json":
        from mutasi_rules.core.canonical import canonical_json
        from mutasi_rules.documents import RuleCheckReport

        data = RuleCheckReport.of(loaded, list(problems)).model_dump(mode="json")
        data["problems"] = [p.model_dump(mode="json", exclude_none=True) for p in problems]  # only what is known
        sys.stdout.write(canonical_json(data, indent=2) + "\n")
        return EXIT_PROBLEMS if errors else EXIT_OK
    from rich.console import Console

    # Not a terminal (a pipe, a CI log): wide enough that ids and paths are not folded.
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160)
    if loaded:
        console.print(_summary_table(loaded, args.lang))
    _print_problems(list(problems), sys.stdout, args.lang)
    rules = sum(len(one.rules) for one in loaded)
    print(translator(args.lang)("{rulesets} rule set(s), {rules} rule(s); {errors} error(s), {warnings} warning(s)")
          .format(rulesets=len(loaded), rules=rules, errors=len(errors), warnings=len(problems.warnings)),
          file=sys.stdout)
    return EXIT_PROBLEMS if errors else EXIT_OK


def run_test(args: argparse.Namespace) -> int:
    from mutasi_rules.core.i18n import translate_message, translator
    from mutasi_rules.problems import InputError, Problems
    from mutasi_rules.rules.rulesets import collect_rulesets
    from mutasi_rules.rules.ruletests import RuleTestReport, find_test_inputs, run_rule_tests

    extensions = _extensions(args)
    problems = Problems()
    rule_paths, test_paths = find_test_inputs(args.paths, problems)
    loaded, found = collect_rulesets(rule_paths, extensions=extensions) if rule_paths else ([], Problems())
    problems.extend(found)
    if not test_paths:
        problems.error("ruletest.none", "no test files (*.tests.yaml) found in: " + ", ".join(map(str, args.paths)))
    report: RuleTestReport | None = None
    if not problems.errors:
        try:
            report = run_rule_tests(test_paths, loaded, extensions=extensions)
        except InputError as exc:
            problems.extend(exc.problems)
    if args.format == "json":
        from mutasi_rules.core.canonical import canonical_json
        from mutasi_rules.documents import RuleTestSummary

        summary = RuleTestSummary.of(report, list(problems))
        data = summary.model_dump(mode="json")
        data["problems"] = [p.model_dump(mode="json", exclude_none=True) for p in problems]  # only what is known
        sys.stdout.write(canonical_json(data, indent=2) + "\n")
    if report is None:
        if args.format != "json":
            _print_problems(list(problems), sys.stdout, args.lang)
        return EXIT_PROBLEMS
    if args.format == "json":
        return EXIT_FAILURE if report.errors else EXIT_OK if report.ok else EXIT_PROBLEMS
    _ = translator(args.lang)
    for case in report.cases:
        # The status words are short and fixed (a CI log greps them): LULUS/GAGAL/GALAT, PASS/FAIL/ERROR.
        status = _("PASS") if case.passed else (_("ERROR") if case.error else _("FAIL"))
        print(f"{status}  {case.ruleset}: {case.name}  ({case.location})")
        for reason in case.reasons:
            print(f"      {translate_message(reason, args.lang)}")
        if not case.passed and not case.error:
            print(f"      {_('fired')}: {', '.join(case.fired) or _('(none)')}")
    print()
    if report.unexercised:
        print(_("Rules no case exercises:"))
        for ruleset_id, rule_id in report.unexercised:
            print(f"  {ruleset_id}/{rule_id}")
    else:
        print(_("Every rule is exercised by at least one case."))
    print(_("{passed} passed, {failed} failed, {cases} case(s)").format(
        passed=report.passed, failed=report.failed, cases=len(report.cases)))
    if report.errors:
        return EXIT_FAILURE
    return EXIT_OK if report.ok else EXIT_PROBLEMS


__all__ = ["format_problem", "register", "run_check", "run_test"]
