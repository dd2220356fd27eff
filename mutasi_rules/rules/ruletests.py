"""Rule tests: YAML cases that say which rules of a rule set must (not) fire for given facts.

Format (docs/rule-language.md, "Rule tests")::

    ruleset: national.transfer-norms      # id of the rule set under test
    as_of: 2026-07-01
    cases:
      - name: satu setengah tahun di jabatan -> diblokir
        scope: employee
        facts:                             # partial facts of that scope, in display form
          employee: {years_in_position: 1.5, status: PNS}
        expect:
          fires: [min-time-in-post]
          not_fires: [due-for-rotation]

Every fact path is checked against the scope's fact schema and every value against the
field's type when the file is loaded, with file:line:column. A case runs through the real
rule engine, built from all the rule sets given, and compares the fired rules of the rule
set under test with the expectations.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mutasi_rules.data.facts import ExtensionAttribute, FactSchema, FieldSpec, FieldType, Scope, fact_schema
from mutasi_rules.problems import InputError, Problems
from mutasi_rules.rules.language.checker import did_you_mean
from mutasi_rules.rules.rulesets import (
    LoadedRuleSet,
    RuleId,
    _compose,
    _pydantic_problems,
    _read,
    _Source,
    _YamlPath,
    is_decision_table,
    is_test_file,
)

EngineFactory = Callable[[Sequence[LoadedRuleSet], dt.date], Any]


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fires: list[RuleId] = Field(default_factory=list, description="Rules of the rule set under test that must fire")
    not_fires: list[RuleId] = Field(default_factory=list, description="Rules that must not fire")

    @model_validator(mode="after")
    def _something_expected(self) -> Expectation:
        if not self.fires and not self.not_fires:
            raise ValueError("expect names no rule: give 'fires' or 'not_fires'")
        both = sorted(set(self.fires) & set(self.not_fires))
        if both:
            raise ValueError(f"rule(s) {', '.join(both)} both in 'fires' and 'not_fires'")
        return self


class RuleTestCase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    scope: Scope
    as_of: dt.date | None = Field(default=None, description="Defaults to the file's as_of")
    facts: dict[str, Any] = Field(default_factory=dict, description="Partial facts of the scope, display form")
    expect: Expectation


class RuleTestFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ruleset: RuleId
    as_of: dt.date
    cases: list[RuleTestCase] = Field(min_length=1)


@dataclass(frozen=True)
class LoadedCase:
    case: RuleTestCase
    file: str
    line: int | None
    as_of: dt.date
    facts: dict[str, Any]  # display form, with as_of / context defaults filled in


@dataclass(frozen=True)
class LoadedTestFile:
    path: str
    ruleset: str
    ruleset_line: int | None
    cases: tuple[LoadedCase, ...]


@dataclass(frozen=True)
class CaseResult:
    file: str
    line: int | None
    ruleset: str
    name: str
    scope: str
    passed: bool
    reasons: tuple[str, ...] = ()
    fired: tuple[str, ...] = ()
    error: bool = False  # the engine failed (not an expectation mismatch)

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class RuleTestReport:
    cases: list[CaseResult] = field(default_factory=list)
    unexercised: list[tuple[str, str]] = field(default_factory=list)  # (rule set id, rule id)

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if c.passed)

    @property
    def failed(self) -> int:
        return sum(1 for c in self.cases if not c.passed)

    @property
    def errors(self) -> int:
        return sum(1 for c in self.cases if c.error)

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.cases)


# --------------------------------------------------------------------------- facts


def _display_value(
    spec: FieldSpec, value: Any, report: Callable[[str, Any], None]
) -> Any:
    """Check one fact value against its field; return its display form (None if bad)."""
    if value is None:
        if not spec.nullable:
            report(f"{spec.path} always has a value in real facts; leave it out instead of null", value)
        return None
    kind = spec.type
    if kind is FieldType.NUMBER:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        report(f"{spec.path} is a number, not {type(value).__name__}", value)
    elif kind is FieldType.BOOL:
        if isinstance(value, bool):
            return value
        report(f"{spec.path} is true or false, not {type(value).__name__}", value)
    elif kind is FieldType.DATE:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        report(f"{spec.path} is a date, written YYYY-MM-DD", value)
    elif kind is FieldType.LIST:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        report(f"{spec.path} is a list of strings", value)
    else:  # string or ordinal
        if not isinstance(value, str):
            report(f"{spec.path} is text ({spec.type_name}), not {type(value).__name__}; quote it", value)
            return None
        if spec.enum is not None:
            try:
                return str(spec.enum(value).value)
            except ValueError:
                allowed = spec.values
                hint = did_you_mean(value, allowed, quote='"') or f"; allowed: {', '.join(allowed)}"
                report(f"{value!r} is not a value of {spec.path} ({spec.type_name}){hint}", value)
                return None
        return value
    return None


def _check_facts(
    facts: dict[str, Any],
    schema: FactSchema,
    base: _YamlPath,
    source: _Source,
    problems: Problems,
) -> dict[str, Any]:
    """The facts in display form; every unknown path or bad value is a located problem."""
    paths = schema.paths()

    def walk(mapping: dict[str, Any], prefix: str, yaml_path: _YamlPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in mapping.items():
            path = f"{prefix}{key}"
            here = (*yaml_path, str(key))

            def report(message: str, bad: Any, *, code: str = "ruletest.bad_value",
                       here: _YamlPath = here, path: str = path) -> None:
                line, column = source.locate(here, key=code == "ruletest.unknown_field")
                problems.error(
                    code, message, file=source.origin, line=line, column=column, field=path,
                    value=bad if isinstance(bad, (str, int, float, bool)) else None,
                )

            spec = schema.get(path)
            if spec is not None:
                out[str(key)] = _display_value(spec, value, report)
            elif any(p.startswith(path + ".") for p in paths) or (key == "ext" and isinstance(value, dict)):
                if isinstance(value, dict):
                    out[str(key)] = walk(value, path + ".", here)
                else:
                    report(f"{path} is a group of fields: give a mapping of its fields", value)
            else:
                if ".ext." in path:
                    hint = did_you_mean(path, [p for p in paths if ".ext." in p]) or (
                        "; extension attributes must be declared by a plugin"
                    )
                else:
                    hint = did_you_mean(path, paths)
                report(f"unknown fact path {path!r} for scope {schema.scope}{hint}", None,
                       code="ruletest.unknown_field")
        return out

    return walk(facts, "", base)


# --------------------------------------------------------------------------- loading


def load_rule_test_text(
    text: str, origin: str, *, extensions: Sequence[ExtensionAttribute] = ()
) -> tuple[LoadedTestFile | None, Problems]:
    """Parse and check one test file; the file (or None) and every problem found."""
    problems = Problems()
    source = _Source(text, origin)
    data = _compose(text, source, problems)
    if data is None:
        return None, problems
    try:
        model = RuleTestFile.model_validate(data)
    except ValidationError as exc:
        _pydantic_problems(exc, source, problems)
        return None, problems
    schemas: dict[str, FactSchema] = {}
    cases: list[LoadedCase] = []
    for index, case in enumerate(model.cases):
        schema = schemas.get(case.scope) or schemas.setdefault(case.scope, fact_schema(case.scope, extensions))
        as_of = case.as_of or model.as_of
        facts = _check_facts(dict(case.facts), schema, ("cases", index, "facts"), source, problems)
        facts.setdefault("as_of", as_of.isoformat())
        context = facts.setdefault("context", {})
        if isinstance(context, dict):
            context.setdefault("as_of", as_of.isoformat())
            context.setdefault("plan_date", context["as_of"])
        line, _ = source.locate(("cases", index), key=False)
        cases.append(LoadedCase(case, origin, line, as_of, facts))
    ruleset_line, _ = source.locate(("ruleset",))
    return LoadedTestFile(origin, model.ruleset, ruleset_line, tuple(cases)), problems


def _check_expectations(
    test: LoadedTestFile, rulesets: Sequence[LoadedRuleSet], problems: Problems
) -> None:
    """The rule set under test is loaded; each named rule is one of its rules, of the case's scope."""
    versions = [r for r in rulesets if r.id == test.ruleset]
    if not versions:
        problems.error(
            "ruletest.unknown_ruleset",
            f"rule set {test.ruleset!r} is not loaded{did_you_mean(test.ruleset, sorted({r.id for r in rulesets}))}",
            file=test.path,
            line=test.ruleset_line,
            field="ruleset",
            value=test.ruleset,
        )
        return
    scopes = {rule.id: rule.scope for one in versions for rule in one.rules}
    for loaded in test.cases:
        for key in ("fires", "not_fires"):
            for rule_id in getattr(loaded.case.expect, key):
                where = {"file": test.path, "line": loaded.line, "field": f"expect.{key}", "value": rule_id,
                         "record": f"case {loaded.case.name!r}"}
                if rule_id not in scopes:
                    problems.error(
                        "ruletest.unknown_rule",
                        f"rule set {test.ruleset} has no rule {rule_id!r}{did_you_mean(rule_id, scopes)}",
                        **where,
                    )
                elif scopes[rule_id] != loaded.case.scope:
                    problems.error(
                        "ruletest.scope",
                        f"rule {rule_id} has scope {scopes[rule_id]}, but the case's scope is {loaded.case.scope}",
                        **where,
                    )


def load_rule_tests(
    paths: Iterable[str | os.PathLike[str]],
    rulesets: Sequence[LoadedRuleSet],
    *,
    extensions: Sequence[ExtensionAttribute] = (),
) -> list[LoadedTestFile]:
    """Load test files and check them against the rule sets; raise InputError with all problems."""
    problems = Problems()
    texts: list[tuple[str, str]] = []
    for given in paths:
        path = Path(given)
        text = _read(path, problems)
        if text is not None:
            texts.append((str(path), text))
    return load_rule_test_texts(texts, rulesets, extensions=extensions, problems=problems)


def load_rule_test_texts(
    texts: Iterable[tuple[str, str]],
    rulesets: Sequence[LoadedRuleSet],
    *,
    extensions: Sequence[ExtensionAttribute] = (),
    problems: Problems | None = None,
) -> list[LoadedTestFile]:
    """Load test files given as (name, text) and check them against the rule sets; raise InputError with
    all problems."""
    problems = problems if problems is not None else Problems()
    loaded: list[LoadedTestFile] = []
    for origin, text in texts:
        test, found = load_rule_test_text(text, origin, extensions=extensions)
        problems.extend(found)
        if test is not None:
            _check_expectations(test, rulesets, problems)
            loaded.append(test)
    problems.raise_if_errors("rule tests")
    return loaded


# --------------------------------------------------------------------------- running


def _default_engine(rulesets: Sequence[LoadedRuleSet], as_of: dt.date,
                    extensions: Sequence[ExtensionAttribute] = ()) -> Any:
    from mutasi_rules.rules.engine import RuleEngine  # imported lazily: only running tests needs durable_rules

    return RuleEngine(rulesets, as_of=as_of, extensions=extensions)


def _problem_text(exc: BaseException) -> str:
    if isinstance(exc, InputError):
        return "; ".join(f"{p.field or ''}: {p.message}" for p in exc.problems) or str(exc)
    return f"{type(exc).__name__}: {exc}"


def run_rule_tests(
    test_paths: Iterable[str | os.PathLike[str]],
    rulesets: Sequence[LoadedRuleSet],
    *,
    extensions: Sequence[ExtensionAttribute] = (),
    engine_factory: EngineFactory | None = None,
) -> RuleTestReport:
    """Run every case of the test files against an engine built from ``rulesets``.

    Raises :class:`InputError` when a test file has problems (all of them). Engine failures
    are reported per case (``CaseResult.error``), not raised.
    """
    return run_loaded_rule_tests(load_rule_tests(test_paths, rulesets, extensions=extensions), rulesets,
                                 extensions=extensions, engine_factory=engine_factory)


def run_loaded_rule_tests(
    tests: Sequence[LoadedTestFile],
    rulesets: Sequence[LoadedRuleSet],
    *,
    extensions: Sequence[ExtensionAttribute] = (),
    engine_factory: EngineFactory | None = None,
) -> RuleTestReport:
    """Run the cases of loaded test files (:func:`load_rule_test_texts`); engine failures are per case."""
    # The engine knows the plugins' attributes too, so agency rules reading ext.* can run.
    factory = engine_factory or (lambda sets, day: _default_engine(sets, day, extensions))
    engines: dict[dt.date, Any] = {}
    failures: dict[dt.date, str] = {}
    report = RuleTestReport()
    try:
        for test in tests:
            for loaded in test.cases:
                report.cases.append(_run_case(test, loaded, rulesets, factory, engines, failures))
    finally:
        for engine in engines.values():
            close = getattr(engine, "close", None)
            if close is not None:
                close()
    exercised = {
        (test.ruleset, rule_id)
        for test in tests
        for loaded in test.cases
        for rule_id in (*loaded.case.expect.fires, *loaded.case.expect.not_fires)
    }
    seen: set[tuple[str, str]] = set()
    for one in rulesets:
        for rule in one.rules:
            key = (one.id, rule.id)
            if key not in exercised and key not in seen:
                report.unexercised.append(key)
            seen.add(key)
    report.unexercised.sort()
    return report


def _run_case(
    test: LoadedTestFile,
    loaded: LoadedCase,
    rulesets: Sequence[LoadedRuleSet],
    factory: EngineFactory,
    engines: dict[dt.date, Any],
    failures: dict[dt.date, str],
) -> CaseResult:
    case = loaded.case

    def result(passed: bool, reasons: Sequence[str], fired: Sequence[str] = (), error: bool = False) -> CaseResult:
        return CaseResult(test.path, loaded.line, test.ruleset, case.name, case.scope, passed,
                          tuple(reasons), tuple(fired), error)

    if not any(r.id == test.ruleset and r.ruleset.in_force(loaded.as_of) for r in rulesets):
        return result(False, [f"rule set {test.ruleset} is not in force on {loaded.as_of.isoformat()}"])
    if loaded.as_of in failures:
        return result(False, [f"the rule engine could not be built: {failures[loaded.as_of]}"], error=True)
    engine = engines.get(loaded.as_of)
    if engine is None:
        try:
            engine = engines[loaded.as_of] = factory(rulesets, loaded.as_of)
        except Exception as exc:  # noqa: BLE001 - reported per case, the run goes on
            failures[loaded.as_of] = _problem_text(exc)
            return result(False, [f"the rule engine could not be built: {failures[loaded.as_of]}"], error=True)
    try:
        (findings,) = engine.evaluate(case.scope, [loaded.facts], [case.name])
    except Exception as exc:  # noqa: BLE001
        return result(False, [f"evaluation failed: {_problem_text(exc)}"], error=True)
    fired = sorted({f.rule_id for f in findings if f.ruleset_id == test.ruleset})
    reasons = [f"expected {rule_id} to fire; it did not" for rule_id in case.expect.fires if rule_id not in fired]
    reasons += [f"expected {rule_id} not to fire; it fired" for rule_id in case.expect.not_fires if rule_id in fired]
    return result(not reasons, reasons, fired)


# --------------------------------------------------------------------------- discovery


def find_test_inputs(
    paths: Iterable[str | os.PathLike[str]], problems: Problems
) -> tuple[list[Path], list[Path]]:
    """Rule files and test files named or found under ``paths``.

    A directory gives every ``*.yaml``/``*.yml`` under it; ``*.tests.yaml`` files are tests.
    A test file brings the rule file beside it (``x.tests.yaml`` -> ``x.yaml``), and a rule
    file brings its tests beside it, so either can be named alone.
    """
    rules: dict[Path, None] = {}
    tests: dict[Path, None] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                if found.is_file() and (found.suffix in (".yaml", ".yml") or is_decision_table(found)):
                    (tests if is_test_file(found) else rules).setdefault(found, None)
        elif path.is_file():
            (tests if is_test_file(path) else rules).setdefault(path, None)
        else:
            problems.error("ruletest.not_found", "no such file or directory", file=str(path))
    for test in list(tests):
        stem = test.name.rsplit(".tests.", 1)[0]
        for suffix in (".yaml", ".yml", ".xlsx"):
            beside = test.with_name(stem + suffix)
            if beside.is_file():
                rules.setdefault(beside, None)
    for rule in list(rules):
        for suffix in (".tests.yaml", ".tests.yml"):
            beside = rule.with_name(rule.stem + suffix)
            if beside.is_file():
                tests.setdefault(beside, None)
    return list(rules), list(tests)


__all__ = [
    "CaseResult",
    "Expectation",
    "LoadedCase",
    "LoadedTestFile",
    "RuleTestCase",
    "RuleTestFile",
    "RuleTestReport",
    "find_test_inputs",
    "load_rule_test_text",
    "load_rule_test_texts",
    "load_rule_tests",
    "run_loaded_rule_tests",
    "run_rule_tests",
]
