"""The type checker: each kind of problem, with its did-you-mean and position."""

from __future__ import annotations

import sys
import types

import pytest

from mutasi_rules.data.facts import ExtensionAttribute, FieldType, fact_schema
from mutasi_rules.rules.language.checker import ExprProblem, check
from mutasi_rules.rules.language.parser import parse


def problems(text: str, scope: str = "employee", **kwargs: object) -> list[ExprProblem]:
    return check(parse(text), fact_schema(scope), **kwargs)[1]  # type: ignore[arg-type]


def only(text: str, scope: str = "employee") -> ExprProblem:
    found = problems(text, scope)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    "text",
    [
        "employee.years_in_position < 2",
        'employee.rank >= "III/a" and employee.education_level < "S1"',
        'employee.latest_predikat < "Baik"',
        'employee.status == "PNS" or employee.status in ["PPPK", "CPNS"]',
        '"Vaksinator" in employee.trainings and "Vaksinator" not in employee.certificates',
        "not exists(employee.latest_predikat)",
        "empty(employee.trainings)",
        "employee.under_sanction",
        "employee.willing_to_move == false",
        'as_of - employee.position_start > 365 and employee.retirement_date - 365 < date("2030-01-01")',
        "employee.age * 12 + 1 >= -employee.kelas / 2",
        "employee.kelas in [7, 8, 9]",
        "context.months_to_candidate_determination >= 0",
    ],
)
def test_valid_employee_conditions(text: str) -> None:
    info, found = check(parse(text), fact_schema("employee"))
    assert found == []
    assert info is not None and info.type is FieldType.BOOL


def test_candidate_scope_compares_ranks_of_two_entities() -> None:
    assert problems("candidate.employee.rank < candidate.position.min_rank", "candidate") == []
    assert problems("candidate.position.ej > 1.1 and candidate.same_opd", "candidate") == []


def test_unknown_field_with_did_you_mean() -> None:
    problem = only("employee.years_in_postion < 2")
    assert problem.code == "rule.unknown_field"
    assert "did you mean employee.years_in_position" in problem.message
    assert (problem.span.line, problem.span.column) == (1, 1)
    # a path of another scope
    assert "unknown field 'candidate.position.kelas' for scope employee" in only("candidate.position.kelas > 1").message
    # a group is not a value
    assert "group of fields" in only("candidate.position > 1", "candidate").message


def test_unknown_ordinal_value() -> None:
    problem = only('employee.rank < "III/x"')
    assert problem.code == "rule.unknown_value"
    assert 'did you mean "III/' in problem.message
    assert problem.span.column == 17
    assert 'did you mean "Baik"' in only('employee.latest_predikat == "baik"').message


def test_unknown_enum_value_case_insensitive_hint() -> None:
    problem = only('employee.status == "PNs"')
    assert problem.code == "rule.unknown_value"
    assert 'did you mean "PNS"?' in problem.message
    problem = only('employee.status in ["PNS", "PPK"]')
    assert 'did you mean "PPPK"' in problem.message and problem.span.column == 28
    problem = only('"fungsionall" == employee.position_kind')
    assert 'did you mean "fungsional"' in problem.message


def test_type_mismatches() -> None:
    assert "different scales" in only("employee.rank < employee.education_level").message
    assert 'date("YYYY-MM-DD")' in only('employee.birth_date < "2020-01-01"').message
    assert "without quotes" in only('employee.age > "50"').message
    assert "ordered values" in only('employee.status < "PNS"').message
    assert "cannot compare date with number" in only("employee.birth_date > 5").message
    assert "use 'in', 'not in' or empty" in only('employee.trainings == "x"').message
    assert "cannot compare ordinal Golongan with string" in only("employee.rank == employee.name").message


def test_arithmetic_types() -> None:
    assert "cannot apply '*' to date and number" in only("employee.birth_date * 2 > as_of").message
    assert "cannot apply '+' to date and date" in only("as_of + employee.birth_date > as_of").message
    assert "cannot apply '+' to string and string" in only('employee.name + "x" == "y"').message
    assert "unary '-' needs a number" in only("-employee.name == 1").message
    assert "division by zero" in only("employee.age / 0 > 1").message


def test_membership_types() -> None:
    assert "must be a list field or a list literal" in only('"x" in employee.name').message
    assert "cannot test whether number" in only("employee.age in employee.trainings").message
    assert "cannot be a list" in only("employee.trainings in employee.certificates").message
    problem = only('employee.age in [1, "2"]')
    assert "one kind of value" in problem.message
    warning = only("employee.status in []")
    assert warning.severity == "warning" and "always false" in warning.message


def test_functions() -> None:
    assert "empty() needs a list field" in only("empty(employee.age)").message
    warning = only("exists(employee.age)")
    assert warning.severity == "warning" and "always true" in warning.message
    assert only("exists(employee.agee)").code == "rule.unknown_field"


def test_condition_must_be_boolean() -> None:
    problem = only("employee.age + 1")
    assert problem.code == "rule.not_boolean" and "number" in problem.message
    assert only("employee.age and employee.under_sanction").code == "rule.not_boolean"
    assert "operand of 'not'" in only("not employee.rank").message


def test_constant_conditions() -> None:
    assert only("1 < 2").code == "rule.constant_condition"
    assert only('"a" in ["a"]').code == "rule.constant_condition"
    assert only("true").code == "rule.constant_condition"
    assert only("true and false").code == "rule.constant_condition"
    assert problems("employee.under_sanction and true") == []


def test_problems_are_all_collected_and_do_not_cascade() -> None:
    found = problems('employee.agee > 1 and employee.rank < "X" and employee.status == 2')
    codes = [p.code for p in found]
    assert codes == ["rule.unknown_field", "rule.unknown_value", "rule.type_mismatch"]


def test_extension_attributes() -> None:
    ext = ExtensionAttribute("employee", "distance_km", FieldType.NUMBER, source="geo")
    schema = fact_schema("employee", [ext])
    assert check(parse("employee.ext.distance_km > 10"), schema)[1] == []
    assert check(parse("candidate.employee.ext.distance_km > 10"), fact_schema("candidate", [ext]))[1] == []
    found = check(parse("employee.ext.distanse_km > 10"), schema)[1]
    assert "did you mean employee.ext.distance_km" in found[0].message
    found = check(parse("employee.ext.unknown > 10"), fact_schema("employee"))[1]
    assert "declared by a plugin" in found[0].message


def test_the_backend_compile_check_is_consulted() -> None:
    asked: list[str] = []

    def compile_check(expr: object) -> str:
        asked.append("asked")
        return "two fields in one arithmetic side"

    found = check(parse("employee.age + employee.kelas > 3"), fact_schema("employee"), compile_check=compile_check)[1]
    assert [p.code for p in found] == ["rule.not_compilable"]
    assert "two fields" in found[0].message
    # not consulted when the expression already has errors
    found = check(parse("employee.agee > 3"), fact_schema("employee"), compile_check=compile_check)[1]
    assert [p.code for p in found] == ["rule.unknown_field"] and asked == ["asked"]



def test_engine_without_hook_is_tolerated(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("mutasi_rules.rules.engine")
    monkeypatch.setitem(sys.modules, "mutasi_rules.rules.engine", fake)
    import mutasi_rules

    monkeypatch.setattr(mutasi_rules, "engine", fake, raising=False)
    assert check(parse("employee.age > 3"), fact_schema("employee"))[1] == []


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_schema = fact_schema("candidate")
_atoms = st.one_of(
    st.sampled_from([*_schema.paths(), "candidate.nope", "candidate.employee"]),
    st.sampled_from(['"III/a"', '"S1"', '"Baik"', '"PNS"', '"x"', "1", "2.5", "true", 'date("2024-01-01")',
                     '["a", "b"]', "[1, 2]", "[]"]),
)


def _combine(parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    ops = st.sampled_from(["<", "==", "!=", ">=", "+", "-", "*", "/", "and", "or", "in", "not in"])
    return st.one_of(
        st.tuples(parts, ops, parts).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        parts.map(lambda p: f"not ({p})"),
        parts.map(lambda p: f"-({p})"),
    )


@settings(max_examples=300, deadline=None)
@given(st.recursive(_atoms, _combine, max_leaves=6))
def test_checker_types_any_parsable_expression_without_crashing(text: str) -> None:
    from mutasi_rules.rules.language.parser import ExprSyntaxError

    try:
        expr = parse(text)
    except ExprSyntaxError:
        return
    info, found = check(expr, _schema)
    for problem in found:
        assert 0 <= problem.span.start <= len(text) and problem.message
    if not any(p.severity == "error" for p in found):
        assert info is not None and info.type is FieldType.BOOL


def test_the_rule_loader_hands_the_checker_the_backend_compile_check() -> None:
    """A rule the durable backend cannot run is refused at load time, located, not when the engine is built."""
    from mutasi_rules.problems import InputError
    from mutasi_rules.rules.rulesets import load_ruleset_text

    text = """\
ruleset:
  id: t
  version: "1"
  title: {id: t, en: t}
  authority: test
  source: test
  effective_from: 2020-01-01
rules:
  - id: product
    title: {id: t, en: t}
    scope: employee
    when: employee.age * employee.years_in_position > 3
    effect: warn
    message: {id: m, en: m}
    legal_basis: test
"""
    with pytest.raises(InputError) as caught:
        load_ruleset_text(text, "product.yaml")
    (problem,) = caught.value.problems
    assert problem.code == "rule.not_compilable" and "linear" in problem.message
    assert (problem.file, problem.line, problem.column) == ("product.yaml", 12, 11)
