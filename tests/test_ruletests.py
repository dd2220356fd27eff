"""Rule tests: loading and checking test files, running cases (fake and real engine), the CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mutasi_rules.cli import main
from mutasi_rules.data.facts import read_path
from mutasi_rules.problems import InputError, Problems
from mutasi_rules.rules.language.ast import BoolOp, Compare, Expr, FieldRef, Literal_
from mutasi_rules.rules.rulesets import LoadedRuleSet, load_ruleset_file, load_rulesets
from mutasi_rules.rules.ruletests import find_test_inputs, load_rule_test_text, run_rule_tests

DATA = Path(__file__).parent / "data" / "rules"
AGENCY = DATA / "good" / "agency.yaml"
AGENCY_TESTS = DATA / "good" / "agency.tests.yaml"


# ----------------------------------------------------------------------------- a tiny fake engine


@dataclass(frozen=True)
class FakeFinding:
    rule_id: str
    ruleset_id: str


class FakeEngine:
    """Evaluates only 'path OP number' and 'and' -- enough to test the runner on its own."""

    instances: ClassVar[list[FakeEngine]] = []

    def __init__(self, rulesets: Sequence[LoadedRuleSet], as_of: dt.date) -> None:
        self.rulesets = [r for r in rulesets if r.ruleset.in_force(as_of)]
        self.as_of = as_of
        self.calls: list[tuple[str, list[Any]]] = []
        self.closed = False
        FakeEngine.instances.append(self)

    def holds(self, expr: Expr, fact: dict[str, Any]) -> bool:
        if isinstance(expr, BoolOp) and expr.op == "and":
            return all(self.holds(o, fact) for o in expr.operands)
        if isinstance(expr, Compare) and isinstance(expr.left, FieldRef) and isinstance(expr.right, Literal_):
            value = read_path(fact, expr.left.path)
            if value is None:
                return False
            return {
                "<": value < expr.right.value, ">": value > expr.right.value, "==": value == expr.right.value,
                "<=": value <= expr.right.value, ">=": value >= expr.right.value, "!=": value != expr.right.value,
            }[expr.op]
        return False

    def evaluate(self, scope: str, facts: list[Any], subjects: list[str]) -> list[list[FakeFinding]]:
        self.calls.append((scope, facts))
        return [
            [
                FakeFinding(rule.id, one.id)
                for one in self.rulesets
                for rule in one.rules
                if rule.scope == scope and self.holds(one.expressions[rule.id], fact)
            ]
            for fact in facts
        ]

    def close(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def _reset_fake() -> None:
    FakeEngine.instances.clear()


def fake(rulesets: Sequence[LoadedRuleSet], as_of: dt.date) -> FakeEngine:
    return FakeEngine(rulesets, as_of)


def write_tests(tmp_path: Path, body: str, name: str = "agency.tests.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- loading


def test_facts_are_checked_against_the_scope_schema_with_positions() -> None:
    text = """\
ruleset: test.agency
as_of: 2026-07-01
cases:
  - name: bad facts
    scope: employee
    facts:
      employee:
        years_in_postion: 1.5
        status: PNs
        rank: "III/x"
        birth_date: 01-05-1990
        age: "41"
        under_sanction: "no"
        trainings: Vaksinator
        ext: {distance: 3}
      context: {plan_date: 2026-08-01, as_of: "2026-13-01"}
      candidate: {same_opd: true}
    expect: {fires: [short-tenure]}
"""
    _test, problems = load_rule_test_text(text, "t.tests.yaml")
    found = {p.field: p for p in problems}
    assert found["employee.years_in_postion"].message.endswith("did you mean employee.years_in_position?") or (
        "did you mean employee.years_in_position" in found["employee.years_in_postion"].message
    )
    assert (found["employee.years_in_postion"].line, found["employee.years_in_postion"].column) == (8, 9)
    assert 'did you mean "PNS"' in found["employee.status"].message and found["employee.status"].line == 9
    assert 'did you mean "III/' in found["employee.rank"].message
    assert "YYYY-MM-DD" in found["employee.birth_date"].message
    assert "is a number" in found["employee.age"].message
    assert "true or false" in found["employee.under_sanction"].message
    assert "list of strings" in found["employee.trainings"].message
    assert "declared by a plugin" in found["employee.ext.distance"].message
    assert "YYYY-MM-DD" in found["context.as_of"].message
    assert "unknown fact path 'candidate'" in found["candidate"].message
    assert "context.plan_date" not in found
    assert len(problems) == 10


def test_display_form_and_as_of_defaults() -> None:
    text = """\
ruleset: test.agency
as_of: 2026-07-01
cases:
  - name: defaults
    scope: employee
    facts:
      employee: {rank: "III/a", education_level: SMA, birth_date: 1990-05-01, latest_predikat: null}
    expect: {fires: [short-tenure]}
  - name: own date
    scope: employee
    as_of: 2025-01-01
    facts: {context: {plan_date: 2025-03-01}}
    expect: {not_fires: [short-tenure]}
"""
    test, problems = load_rule_test_text(text, "t.tests.yaml")
    assert not problems and test is not None
    first, second = test.cases
    assert first.facts == {
        "employee": {"rank": "III/a", "education_level": "SMA/SMK", "birth_date": "1990-05-01",
                     "latest_predikat": None},
        "as_of": "2026-07-01",
        "context": {"as_of": "2026-07-01", "plan_date": "2026-07-01"},
    }
    assert second.as_of == dt.date(2025, 1, 1)
    assert second.facts["context"] == {"plan_date": "2025-03-01", "as_of": "2025-01-01"}
    assert (first.line, second.line) == (4, 9)


def test_structure_problems() -> None:
    text = """\
ruleset: test.agency
as_of: 2026-07-01
cases:
  - name: nothing expected
    scope: employe
    expect: {}
  - name: both
    scope: employee
    expect: {fires: [a], not_fires: [a]}
    extra: 1
"""
    _, problems = load_rule_test_text(text, "t.tests.yaml")
    messages = {p.field: (p.message, p.line) for p in problems}
    assert "did you mean 'employee'" in messages["cases[0].scope"][0]
    assert messages["cases[0].expect"] == ("expect names no rule: give 'fires' or 'not_fires'", 6)
    assert "both in 'fires' and 'not_fires'" in messages["cases[1].expect"][0]
    assert messages["cases[1].extra"][0] == "unknown key 'extra'"


def test_expectations_must_name_rules_of_the_rule_set(tmp_path: Path) -> None:
    loaded = [load_ruleset_file(AGENCY)]
    path = write_tests(tmp_path, """\
ruleset: test.agency
as_of: 2026-07-01
cases:
  - name: typo and wrong scope
    scope: position
    expect: {fires: [short-tenur], not_fires: [long-tenure]}
""")
    with pytest.raises(InputError) as info:
        run_rule_tests([path], loaded, engine_factory=fake)
    messages = [p.message for p in info.value.problems]
    assert any("no rule 'short-tenur'; did you mean short-tenure" in m for m in messages)
    assert any("has scope employee, but the case's scope is position" in m for m in messages)
    assert all(p.line == 4 for p in info.value.problems)
    other = write_tests(tmp_path, "ruleset: test.agenci\nas_of: 2026-07-01\ncases:\n"
                        "  - {name: x, scope: employee, expect: {fires: [a]}}\n", "other.tests.yaml")
    with pytest.raises(InputError, match=r"not loaded; did you mean test.agency"):
        run_rule_tests([other], loaded, engine_factory=fake)


# ----------------------------------------------------------------------------- running (fake engine)


def test_runner_with_fake_engine_passes_and_fails(tmp_path: Path) -> None:
    loaded = [load_ruleset_file(AGENCY)]
    path = write_tests(tmp_path, """\
ruleset: test.agency
as_of: 2026-07-01
cases:
  - name: passes
    scope: employee
    facts: {employee: {years_in_position: 1.5}}
    expect: {fires: [short-tenure], not_fires: [long-tenure]}
  - name: fails both ways
    scope: employee
    facts: {employee: {years_in_position: 1.0}}
    expect: {fires: [long-tenure], not_fires: [short-tenure]}
  - name: another date
    scope: employee
    as_of: 2025-01-01
    facts: {employee: {years_in_position: 3}}
    expect: {not_fires: [short-tenure]}
  - name: before the rule set
    scope: employee
    as_of: 2023-01-01
    facts: {employee: {years_in_position: 1}}
    expect: {fires: [short-tenure]}
""")
    report = run_rule_tests([path], loaded, engine_factory=fake)
    results = {c.name: c for c in report.cases}
    assert results["passes"].passed and results["passes"].fired == ("short-tenure",)
    failing = results["fails both ways"]
    assert not failing.passed and not failing.error
    assert failing.reasons == ("expected long-tenure to fire; it did not",
                               "expected short-tenure not to fire; it fired")
    assert results["another date"].passed
    assert not results["before the rule set"].passed
    assert "not in force on 2023-01-01" in results["before the rule set"].reasons[0]
    assert (report.passed, report.failed, report.ok) == (2, 2, False)
    # one engine per as_of, all closed; the engine got display-form facts with context defaults
    assert sorted(e.as_of for e in FakeEngine.instances) == [dt.date(2025, 1, 1), dt.date(2026, 7, 1)]
    assert all(e.closed for e in FakeEngine.instances)
    scope, facts = FakeEngine.instances[0].calls[0]
    assert scope == "employee" and facts[0]["context"]["as_of"] == "2026-07-01"
    assert report.unexercised == [("test.agency", "low-rank")]


def test_engine_failures_are_reported_per_case(tmp_path: Path) -> None:
    loaded = [load_ruleset_file(AGENCY)]

    def broken(rulesets: Sequence[LoadedRuleSet], as_of: dt.date) -> Any:
        raise RuntimeError("durable is unhappy")

    report = run_rule_tests([AGENCY_TESTS], loaded, engine_factory=broken)
    assert all(c.error and not c.passed for c in report.cases)
    assert "durable is unhappy" in report.cases[0].reasons[0]


# ----------------------------------------------------------------------------- the real engine


def test_real_engine_runs_the_agency_tests() -> None:
    pytest.importorskip("mutasi_rules.rules.engine")
    loaded = load_rulesets([DATA / "good"])
    report = run_rule_tests([AGENCY_TESTS], loaded)
    assert [c.passed for c in report.cases] == [True, True, True], report.cases
    assert report.unexercised == []


def test_real_engine_detects_a_wrong_expectation(tmp_path: Path) -> None:
    pytest.importorskip("mutasi_rules.rules.engine")
    loaded = load_rulesets([DATA / "good"])
    path = write_tests(tmp_path, """\
ruleset: test.agency
as_of: 2026-07-01
cases:
  - name: wrong on purpose
    scope: employee
    facts: {employee: {years_in_position: 6, status: PPPK, rank: "II/a"}}
    expect: {fires: [long-tenure], not_fires: [low-rank]}
""")
    (case,) = run_rule_tests([path], loaded).cases
    assert not case.passed
    assert case.fired == ("low-rank",)
    assert case.reasons == ("expected long-tenure to fire; it did not", "expected low-rank not to fire; it fired")


# ----------------------------------------------------------------------------- discovery and CLI


def test_discovery_finds_rules_and_tests_beside_each_other(tmp_path: Path) -> None:
    shutil.copy(AGENCY, tmp_path / "agency.yaml")
    shutil.copy(AGENCY_TESTS, tmp_path / "agency.tests.yaml")
    problems = Problems()
    assert find_test_inputs([tmp_path / "agency.tests.yaml"], problems) == (
        [tmp_path / "agency.yaml"], [tmp_path / "agency.tests.yaml"]
    )
    assert find_test_inputs([tmp_path / "agency.yaml"], problems)[1] == [tmp_path / "agency.tests.yaml"]
    assert find_test_inputs([tmp_path], problems) == ([tmp_path / "agency.yaml"], [tmp_path / "agency.tests.yaml"])
    assert not problems
    find_test_inputs([tmp_path / "nope"], problems)
    assert problems.errors[0].code == "ruletest.not_found"


def test_cli_rules_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("mutasi_rules.rules.engine")
    shutil.copy(AGENCY, tmp_path / "agency.yaml")
    shutil.copy(AGENCY_TESTS, tmp_path / "agency.tests.yaml")
    assert main(["rules", "test", str(tmp_path), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == 3 and "Every rule is exercised" in out
    text = AGENCY_TESTS.read_text(encoding="utf-8").replace("fires: [low-rank]", "not_fires: [low-rank]")
    (tmp_path / "agency.tests.yaml").write_text(text, encoding="utf-8")
    assert main(["rules", "test", str(tmp_path / "agency.yaml"), "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  test.agency: pangkat II/c" in out and "expected low-rank not to fire; it fired" in out
    (tmp_path / "agency.tests.yaml").write_text(text.replace("rank:", "rang:"), encoding="utf-8")
    assert main(["rules", "test", str(tmp_path), "--lang", "en"]) == 1
    assert "unknown fact path 'employee.rang'" in capsys.readouterr().out


def test_cli_rules_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check", str(DATA / "good"), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "test.agency" in out and "0 error(s)" in out
    assert main(["rules", "check", str(DATA / "bad" / "bad-field.yaml"), "--lang", "en"]) == 1
    out = capsys.readouterr().out
    line = "bad-field.yaml:13:11: error: unknown field 'employee.years_in_postion'"
    assert line in out
    # the source line and a caret under column 11
    lines = out.splitlines()
    index = next(i for i, text in enumerate(lines) if line in text)
    assert lines[index + 1] == "        when: employee.years_in_postion < 2"
    assert lines[index + 2] == "    " + " " * 10 + "^"
    assert main(["rules", "check", "--format", "json", str(DATA / "overlap")]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False and len(document["rulesets"]) == 3
    assert {p["code"] for p in document["problems"]} == {"ruleset.duplicate", "ruleset.overlapping_versions"}


def test_agency_rules_reading_plugin_attributes_check_with_the_plugin_loaded(capsys):
    """An analyst checks an agency rule file that reads employee.ext.* declared by its plugin."""
    from pathlib import Path

    from mutasi_rules.cli import main

    root = Path(__file__).resolve().parent.parent
    agency = root / "plugins" / "dinkes_pontianak" / "mutasi_rules_dinkes_pontianak" / "rules"
    assert main(["rules", "check", str(root / "rules"), str(agency)]) == 0
    assert main(["rules", "check", "--no-plugins", str(root / "rules"), str(agency)]) == 1
    assert "candidate.employee.ext.health_education" in capsys.readouterr().out
