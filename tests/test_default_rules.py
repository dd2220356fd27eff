"""The default rule sets in rules/: they check, their tests pass, and they are complete.

Every rule must cite its legal basis and explain itself in both languages, and every
national rule set must be in force on the reference date the project plans for.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from mutasi_rules.cli import main
from mutasi_rules.rules.rulesets import RuleFile
from mutasi_rules.rules.ruletests import RuleTestFile

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
REFERENCE_DAY = dt.date(2026, 7, 1)


def _rule_files() -> list[Path]:
    return sorted(p for p in RULES.rglob("*.yaml") if not p.name.endswith(".tests.yaml"))


def _rule_file(path: Path) -> RuleFile:
    return RuleFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


RULE_FILES = _rule_files()


def test_the_national_rule_sets_are_there() -> None:
    ids = {_rule_file(p).ruleset.id for p in RULE_FILES}
    assert {
        "national.transfer-norms",
        "national.competency-prerequisites",
        "national.training-requirements",
        "national.staffing-norms",
    } <= ids


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_every_rule_cites_a_legal_basis_and_explains_itself(path: Path) -> None:
    rule_file = _rule_file(path)
    for rule in rule_file.rules:
        assert rule.legal_basis.strip(), f"{path.name}: {rule.id} has no legal_basis"
        assert rule.message.id.strip() and rule.message.en.strip(), f"{path.name}: {rule.id} lacks a message"
        assert rule.message.id != rule.message.en, f"{path.name}: {rule.id} has the same text in both languages"


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_every_rule_set_is_in_force_on_the_reference_day(path: Path) -> None:
    ruleset = _rule_file(path).ruleset
    assert ruleset.in_force(REFERENCE_DAY), f"{ruleset.id} is not in force on {REFERENCE_DAY}"


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_every_rule_set_has_a_test_file_naming_it(path: Path) -> None:
    tests = path.with_name(path.name.removesuffix(".yaml") + ".tests.yaml")
    assert tests.is_file(), f"{path.name} has no {tests.name}"


@pytest.mark.parametrize("path", [p for p in RULE_FILES if p.parent.name == "national"], ids=lambda p: p.name)
def test_national_rule_sets_apply_everywhere_with_no_end(path: Path) -> None:
    ruleset = _rule_file(path).ruleset
    assert ruleset.id.startswith("national."), ruleset.id
    assert not ruleset.applies_to.units and not ruleset.applies_to.position_kinds, ruleset.id
    assert ruleset.effective_until is None, ruleset.id
    assert ruleset.authority.strip() and ruleset.source.strip(), ruleset.id


def test_staffing_labels_are_the_ones_the_workload_analysis_reads() -> None:
    staffing = next(r for p in RULE_FILES if (r := _rule_file(p)).ruleset.id == "national.staffing-norms")
    for scope in ("position", "unit"):
        labels = {r.label for r in staffing.rules if r.scope == scope}
        assert labels == {"kekurangan", "kelebihan", "seimbang", "tidak_diketahui"}, scope


def test_rules_check_passes() -> None:
    assert main(["rules", "check", str(RULES)]) == 0


def test_rules_test_passes_and_exercises_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["rules", "test", str(RULES), "--lang", "en"])
    out = capsys.readouterr().out
    assert code == 0, out
    # An unexercised rule does not change the exit code; it is reported in the summary.
    assert "Every rule is exercised by at least one case." in out, out


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_every_rule_has_a_case_where_it_fires_and_one_where_it_does_not(path: Path) -> None:
    rule_file = _rule_file(path)
    tests = RuleTestFile.model_validate(
        yaml.safe_load(path.with_name(path.name.removesuffix(".yaml") + ".tests.yaml").read_text(encoding="utf-8"))
    )
    assert tests.ruleset == rule_file.ruleset.id
    fires = {rule_id for case in tests.cases for rule_id in case.expect.fires}
    not_fires = {rule_id for case in tests.cases for rule_id in case.expect.not_fires}
    for rule in rule_file.rules:
        assert rule.id in fires, f"{rule_file.ruleset.id}/{rule.id}: no case where it fires"
        assert rule.id in not_fires, f"{rule_file.ruleset.id}/{rule.id}: no case where it does not fire"
