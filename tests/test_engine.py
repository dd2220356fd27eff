"""The durable_rules adapter: findings, applicability, overrides, effects, operators, missing values."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from engine_support import (
    AS_OF,
    candidate_scope,
    employee_scope,
    position_scope,
    rule,
    ruleset,
    unit_scope,
)
from pydantic import ValidationError

from mutasi_rules.data import facts as F
from mutasi_rules.problems import InputError
from mutasi_rules.rules.engine import (
    CATCH_ALL,
    LIST_SENTINEL,
    EngineError,
    Finding,
    RuleEngine,
    compile_problem,
    compile_ruleset_json,
)
from mutasi_rules.rules.language.interpreter import evaluate as interpret
from mutasi_rules.rules.language.parser import parse
from mutasi_rules.rules.rulesets import Effect


def fired(loaded: list[Any], scope: str, facts: list[Any], as_of: dt.date = AS_OF) -> list[list[str]]:
    """Rule keys that fired per fact (and the reference interpreter agrees, for applicable rules)."""
    with RuleEngine(loaded, as_of) as engine:
        results = engine.evaluate(scope, facts, [f"s{i}" for i in range(len(facts))])
    return [[f.rule_key for f in findings] for findings in results]


def when_fires(when: str, scope: str, fact: Any) -> bool:
    """Whether a single unrestricted rule with condition ``when`` fires for ``fact``; checks the oracle too."""
    loaded = [ruleset("t", [rule("r", when, scope)])]
    engine_says = fired(loaded, scope, [fact]) == [["t/r"]]
    oracle_says = interpret(parse(when), fact)
    assert engine_says == oracle_says, f"engine {engine_says} != interpreter {oracle_says} for {when!r}"
    return engine_says


# --------------------------------------------------------------------------- findings content


def test_finding_carries_rendered_messages_facts_read_and_provenance() -> None:
    loaded = ruleset(
        "national.transfer-norms",
        [
            rule(
                "min-time-in-post",
                "employee.years_in_position < 5 and employee.rank >= \"III/a\"",
                message={
                    "id": "Baru {employee.years_in_position:.1f} tahun; pangkat {employee.rank}, {employee.name}.",
                    "en": "Only {employee.years_in_position:.1f} years; rank {employee.rank}, {employee.name}.",
                },
                legal_basis="Peraturan BKN 5/2019",
                effect="block",
            )
        ],
    )
    fact = employee_scope(years_in_position=1.25)
    with RuleEngine([loaded], AS_OF) as engine:
        [[finding]] = engine.evaluate("employee", [fact], ["198001012005011001"])
    assert isinstance(finding, Finding)
    assert finding.rule_id == "min-time-in-post"
    assert finding.ruleset_id == "national.transfer-norms"
    assert finding.ruleset_version == "2024.1"
    assert finding.source == "rules/national.transfer-norms.yaml"
    assert finding.scope == "employee"
    assert finding.subject == "198001012005011001"
    assert finding.effect is Effect.BLOCK
    assert finding.message.id == "Baru 1,2 tahun; pangkat III/b, Budi Santoso."  # Indonesian decimal comma
    assert finding.message.en == "Only 1.2 years; rank III/b, Budi Santoso."
    assert finding.title.en == "Title min-time-in-post"
    assert finding.legal_basis == "Peraturan BKN 5/2019"
    assert finding.facts_read == {"employee.rank": "III/b", "employee.years_in_position": 1.25}
    assert finding.replaces is None
    with pytest.raises(ValidationError, match="frozen"):
        finding.rule_id = "other"  # type: ignore[misc]  # frozen


def test_findings_are_in_input_order_and_sorted_by_ruleset_then_rule() -> None:
    loaded = [
        ruleset("b.set", [rule("z", "employee.age > 40"), rule("a", "employee.age > 40")]),
        ruleset("a.set", [rule("m", "employee.age > 40"), rule("b", "employee.age > 50")]),
    ]
    facts = [employee_scope(age=30), employee_scope(age=45), employee_scope(age=55)]
    assert fired(loaded, "employee", facts) == [
        [],
        ["a.set/m", "b.set/a", "b.set/z"],
        ["a.set/b", "a.set/m", "b.set/a", "b.set/z"],
    ]


def test_models_and_display_dicts_give_identical_findings() -> None:
    loaded = [
        ruleset(
            "n",
            [
                rule("dates", "as_of - employee.position_start >= 730",
                     message={"id": "{employee.position_start}", "en": "x"}),
                rule("rank", 'employee.rank < "IV/a" and employee.education_level >= "S1"'),
                rule("lists", '"Vaksinator" not in employee.trainings and employee.status in ["PNS", "PPPK"]'),
                rule("bool", "not employee.under_sanction and employee.willing_to_move"),
            ],
        )
    ]
    models = [employee_scope(), employee_scope(rank=None, trainings=["Vaksinator"]),
              employee_scope(willing_to_move=None)]
    dicts = [m.model_dump(mode="json") for m in models]
    with RuleEngine(loaded, AS_OF) as engine:
        from_models = engine.evaluate("employee", models, ["a", "b", "c"])
        from_dicts = engine.evaluate("employee", dicts, ["a", "b", "c"])
    assert from_models == from_dicts
    assert [[f.rule_id for f in fs] for fs in from_models] == [
        ["bool", "dates", "lists", "rank"],
        ["bool", "dates"],
        ["dates", "lists", "rank"],
    ]
    assert from_models[0][1].message.id == "2020-03-01"
    assert from_models[0][1].facts_read == {"as_of": "2024-07-01", "employee.position_start": "2020-03-01"}


def test_effect_parameters_are_carried() -> None:
    loaded = [
        ruleset(
            "p",
            [
                rule(
                    "needs-vaccinator",
                    '"Vaksinator" in candidate.missing_trainings',
                    "candidate",
                    effect="require_training",
                    training="Pelatihan Vaksinator",
                ),
                rule(
                    "experience",
                    "candidate.employee.years_of_service >= 10",
                    "candidate",
                    effect="score",
                    component="pengalaman",
                    points=2.5,
                ),
                rule("overloaded", "candidate.position.ej > 1.1", "candidate", effect="classify", label="kekurangan"),
            ],
        )
    ]
    with RuleEngine(loaded, AS_OF) as engine:
        [findings] = engine.evaluate("candidate", [candidate_scope()], ["198001012005011001->pos-vaksinator"])
    by_id = {f.rule_id: f for f in findings}
    assert by_id["needs-vaccinator"].effect is Effect.REQUIRE_TRAINING
    assert by_id["needs-vaccinator"].training == "Pelatihan Vaksinator"
    assert (by_id["experience"].component, by_id["experience"].points) == ("pengalaman", 2.5)
    assert by_id["overloaded"].label == "kekurangan"
    assert by_id["overloaded"].subject == "198001012005011001->pos-vaksinator"


# --------------------------------------------------------------------------- applicability


def test_units_match_any_ancestor_on_the_unit_path() -> None:
    loaded = [ruleset("dinkes.local", [rule("r", "employee.age > 0")], units=["dinkes"])]
    inside = employee_scope(unit_id="puskesmas-1", unit_path=["puskesmas-1", "dinkes"])
    outside = employee_scope()
    top = employee_scope(unit_id="dinkes", unit_path=["dinkes"])
    assert fired(loaded, "employee", [inside, outside, top]) == [["dinkes.local/r"], [], ["dinkes.local/r"]]


def test_several_units_and_position_kinds_combine() -> None:
    loaded = [
        ruleset("local", [rule("r", "employee.age > 0")], units=["dinkes", "setda"], kinds=["fungsional", "jpt"])
    ]
    facts = [
        employee_scope(position_kind="fungsional"),  # setda, fungsional
        employee_scope(position_kind="pelaksana"),  # setda, wrong kind
        employee_scope(position_kind="jpt", unit_path=["disdik"], unit_id="disdik"),  # wrong unit
    ]
    assert fired(loaded, "employee", facts) == [["local/r"], [], []]


def test_candidate_applicability_reads_the_target_position() -> None:
    loaded = [ruleset("dinkes.local", [rule("r", "candidate.kelas_change >= 0", "candidate")], units=["dinkes"],
                      kinds=["fungsional"])]
    to_dinkes = candidate_scope()  # employee in setda, target in dinkes (fungsional)
    to_setda = candidate_scope(position_changes={"unit_id": "bidang-umum", "opd_id": "setda",
                                                 "unit_path": ["bidang-umum", "setda"]})
    to_pelaksana = candidate_scope(position_changes={"kind": "pelaksana", "level": None})
    assert fired(loaded, "candidate", [to_dinkes, to_setda, to_pelaksana]) == [["dinkes.local/r"], [], []]


def test_position_scope_reads_position_kind_and_unit_scope_ignores_kinds() -> None:
    pos_rules = ruleset("p", [rule("r", "position.kelas > 0", "position")], kinds=["pelaksana"])
    scopes = [position_scope(), position_scope(kind="pelaksana", level=None)]
    assert fired([pos_rules], "position", scopes) == [[], ["p/r"]]
    unit_rules = ruleset("u", [rule("r", "unit.position_count > 0", "unit")], units=["dinkes"], kinds=["jpt"])
    assert fired([unit_rules], "unit", [unit_scope(), unit_scope(unit_path=["x"])]) == [["u/r"], []]


def test_rule_sets_only_apply_while_in_force() -> None:
    loaded = [
        ruleset("future", [rule("r", "employee.age > 0")], effective_from=dt.date(2024, 7, 2)),
        ruleset("past", [rule("r", "employee.age > 0")], effective_from=dt.date(2019, 1, 1),
                effective_until=dt.date(2024, 6, 30)),
        ruleset("starts-today", [rule("r", "employee.age > 0")], effective_from=AS_OF),
        ruleset("ends-today", [rule("r", "employee.age > 0")], effective_until=AS_OF),
    ]
    assert fired(loaded, "employee", [employee_scope()]) == [["ends-today/r", "starts-today/r"]]
    assert fired(loaded, "employee", [employee_scope()], as_of=dt.date(2024, 7, 2)) == [["future/r", "starts-today/r"]]


def test_scopes_are_kept_apart() -> None:
    loaded = [ruleset("s", [rule("e", "employee.age > 0"), rule("p", "position.kelas > 0", "position")])]
    with RuleEngine(loaded, AS_OF) as engine:
        assert [[f.rule_key for f in fs] for fs in engine.evaluate("employee", [employee_scope()], ["e"])] == [["s/e"]]
        assert [[f.rule_key for f in fs] for fs in engine.evaluate("position", [position_scope()], ["p"])] == [["s/p"]]
        assert engine.evaluate("unit", [unit_scope()], ["u"]) == [[]]
        assert engine.rule_keys("employee") == ["s/e"]


# --------------------------------------------------------------------------- overrides


def _override_rulesets(agency_from: dt.date = dt.date(2020, 1, 1)) -> list[Any]:
    national = ruleset("national", [rule("max-time", "employee.years_in_position > 5", overridable=True)])
    agency = ruleset(
        "dinkes.local",
        [rule("max-time", "employee.years_in_position > 8", replaces="national/max-time")],
        units=["dinkes"],
        effective_from=agency_from,
    )
    return [national, agency]


def test_override_replaces_the_rule_only_where_the_replacing_rule_set_applies() -> None:
    in_dinkes = {"unit_id": "puskesmas-1", "unit_path": ["puskesmas-1", "dinkes"]}
    facts = [
        employee_scope(years_in_position=6, **in_dinkes),  # national suppressed, agency not met
        employee_scope(years_in_position=9, **in_dinkes),  # agency fires
        employee_scope(years_in_position=6),  # elsewhere: national still applies
    ]
    with RuleEngine(_override_rulesets(), AS_OF) as engine:
        results = engine.evaluate("employee", facts, ["a", "b", "c"])
    assert [[f.rule_key for f in fs] for fs in results] == [[], ["dinkes.local/max-time"], ["national/max-time"]]
    assert results[1][0].replaces == "national/max-time"
    assert results[2][0].replaces is None


def test_applicable_rule_keys_say_what_a_subject_is_checked_against() -> None:
    kinds = ruleset("kinds", [rule("guru-only", "employee.years_in_position > 1")], kinds=["fungsional"])
    with RuleEngine([*_override_rulesets(), kinds], AS_OF) as engine:
        assert engine.applicable_rule_keys("employee", ["puskesmas-1", "dinkes"], "fungsional") == [
            "dinkes.local/max-time", "kinds/guru-only"]  # the national rule is replaced there
        assert engine.applicable_rule_keys("employee", ["setda"], "pelaksana") == ["national/max-time"]
        assert engine.applicable_rule_keys("candidate", ["setda"], "pelaksana") == []
    # The same answer the compiled guards give: the agency rule fires only inside its units.
    with RuleEngine(_override_rulesets(), AS_OF) as engine:
        (found,) = engine.evaluate("employee", [employee_scope(years_in_position=9)], ["x"])
        assert [f.rule_key for f in found] == engine.applicable_rule_keys("employee", ["setda"], None)


def test_override_by_a_rule_set_not_in_force_changes_nothing() -> None:
    in_dinkes = employee_scope(years_in_position=6, unit_id="puskesmas-1", unit_path=["puskesmas-1", "dinkes"])
    assert fired(_override_rulesets(agency_from=dt.date(2025, 1, 1)), "employee",
                 [in_dinkes]) == [["national/max-time"]]


def test_override_everywhere_drops_the_replaced_rule() -> None:
    national = ruleset("national", [rule("r", "employee.age > 0", overridable=True)])
    city = ruleset("city", [rule("r", "employee.age > 60", replaces="national/r")])
    with RuleEngine([national, city], AS_OF) as engine:
        assert engine.rule_keys("employee") == ["city/r"]
        assert engine.evaluate("employee", [employee_scope()], ["x"]) == [[]]


# --------------------------------------------------------------------------- operators


def test_candidate_nested_field_comparisons() -> None:
    when = "candidate.employee.rank < candidate.position.min_rank"
    assert when_fires(when, "candidate", candidate_scope(employee_changes={"rank": "II/a"}))
    assert not when_fires(when, "candidate", candidate_scope(employee_changes={"rank": "II/c"}))
    # Missing on either side: neither the comparison nor its negation holds.
    for fact in (
        candidate_scope(employee_changes={"rank": None, "status": "PPPK"}),
        candidate_scope(position_changes={"min_rank": None}),
    ):
        assert not when_fires(when, "candidate", fact)
        assert not when_fires(f"not ({when})", "candidate", fact)
    assert when_fires("candidate.employee.education_level >= candidate.position.min_education", "candidate",
                      candidate_scope())


def test_date_arithmetic_and_date_literals() -> None:
    fact = employee_scope()  # position_start 2020-03-01, as_of 2024-07-01: 1583 days
    assert when_fires("as_of - employee.position_start >= 730", "employee", fact)
    assert when_fires("as_of - employee.position_start == 1583", "employee", fact)
    assert not when_fires("as_of - employee.position_start > 1583", "employee", fact)
    assert when_fires("employee.position_start + 1583 <= as_of", "employee", fact)
    assert not when_fires("employee.position_start + 1584 <= as_of", "employee", fact)
    assert when_fires('employee.position_start < date("2020-03-02")', "employee", fact)
    assert not when_fires('employee.position_start < date("2020-03-01")', "employee", fact)
    assert when_fires("employee.retirement_date - as_of > 365 * 13", "employee", fact)
    assert when_fires("(employee.retirement_date - as_of) / 365 > 13.5", "employee", fact)
    # A missing date: false both ways.
    assert not when_fires("employee.sanction_end - as_of < 100", "employee", fact)
    assert not when_fires("not (employee.sanction_end - as_of < 100)", "employee", fact)


def test_linear_arithmetic_rearranged_with_float_division() -> None:
    fact = employee_scope(age=45, kelas=6, positions_held=3)
    assert when_fires("employee.age - employee.kelas > 38", "employee", fact)
    assert not when_fires("employee.age - employee.kelas > 39", "employee", fact)
    assert when_fires("employee.age / 4 > 11", "employee", fact)  # age > 44
    # age >= (2 * kelas + 124) / 3 = 45.33: durable's integer $div would give 45 and fire;
    # the compiled divisor is a float.
    assert not when_fires("3 * employee.age >= 2 * employee.kelas + 124", "employee", fact)
    assert when_fires("3 * employee.age >= 2 * employee.kelas + 123", "employee", fact)
    assert when_fires("2 * employee.positions_held > employee.kelas - 1", "employee", fact)
    assert when_fires("-employee.age < -44", "employee", fact)


def test_membership_in_lists_both_ways_including_empty_lists() -> None:
    none = employee_scope(trainings=[])
    some = employee_scope(trainings=["Vaksinator", "Manajemen"])
    assert when_fires('"Vaksinator" in employee.trainings', "employee", some)
    assert not when_fires('"Vaksinator" in employee.trainings', "employee", none)
    assert when_fires('"Vaksinator" not in employee.trainings', "employee", none)
    assert not when_fires('"Vaksinator" not in employee.trainings', "employee", some)
    assert when_fires('not ("Vaksinator" in employee.trainings)', "employee", none)
    assert when_fires("empty(employee.trainings)", "employee", none)
    assert not when_fires("empty(employee.trainings)", "employee", some)
    assert when_fires("not empty(employee.trainings)", "employee", some)
    assert when_fires('employee.status in ["PNS", "PPPK"]', "employee", none)
    assert when_fires('employee.status not in ["CPNS"]', "employee", none)
    assert not when_fires('employee.status not in ["PNS", "CPNS"]', "employee", none)
    assert when_fires('employee.rank in ["III/a", "III/b"]', "employee", none)
    assert not when_fires('employee.rank in ["III/a", "III/c"]', "employee", none)


def test_field_in_list_field() -> None:
    when = "candidate.employee.education_field in candidate.position.education_fields"
    matching = candidate_scope(employee_changes={"education_field": "Keperawatan"})
    other = candidate_scope()
    empty = candidate_scope(position_changes={"education_fields": []})
    no_field = candidate_scope(employee_changes={"education_field": None})
    assert when_fires(when, "candidate", matching)
    assert not when_fires(when, "candidate", other)
    assert not when_fires(when, "candidate", empty)
    negated = when.replace(" in ", " not in ")
    assert when_fires(negated, "candidate", other)
    assert when_fires(negated, "candidate", empty)  # nothing is in an empty list
    assert not when_fires(negated, "candidate", matching)
    assert not when_fires(when, "candidate", no_field) and not when_fires(negated, "candidate", no_field)


def test_missing_values_make_a_test_and_its_negation_false() -> None:
    pppk = employee_scope(
        status="PPPK", rank=None, latest_predikat=None, latest_predikat_year=None, willing_to_move=None
    )
    for when in (
        'employee.latest_predikat < "Baik"',
        'employee.rank == "III/b"',
        'employee.rank in ["III/b"]',
        "employee.willing_to_move",
        "employee.willing_to_move == true",
        "employee.latest_predikat_year - 2000 > 0",
    ):
        assert not when_fires(when, "employee", pppk), when
        assert not when_fires(f"not ({when})", "employee", pppk), when
    assert when_fires("not exists(employee.rank)", "employee", pppk)
    assert not when_fires("exists(employee.rank)", "employee", pppk)
    assert when_fires("not exists(employee.rank) or employee.rank < \"III/a\"", "employee", pppk)
    assert when_fires('employee.status == "PPPK" and not exists(employee.latest_predikat)', "employee", pppk)


def test_boolean_fields_and_conditions_compared_with_literals() -> None:
    fact = employee_scope(under_sanction=True, willing_to_move=False)
    assert when_fires("employee.under_sanction", "employee", fact)
    assert when_fires("not employee.willing_to_move", "employee", fact)
    assert when_fires("employee.willing_to_move == false", "employee", fact)
    assert when_fires("employee.willing_to_move != true", "employee", fact)
    assert when_fires("(employee.age > 40) == true", "employee", fact)
    assert not when_fires("(employee.age > 40) == false", "employee", fact)
    assert when_fires("not (employee.under_sanction and employee.willing_to_move)", "employee", fact)


def test_or_with_several_true_branches_gives_one_finding() -> None:
    loaded = [ruleset("o", [rule("r", "employee.age > 40 or employee.kelas > 5 or employee.under_sanction == false")])]
    assert fired(loaded, "employee", [employee_scope()]) == [["o/r"]]


# --------------------------------------------------------------------------- compile_problem and JSON


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        ("1 < 2 and employee.age > 3", "no fact path"),
        ("employee.age * employee.kelas > 3", "product of two fact values"),
        ("employee.age / employee.kelas > 3", "division by a fact value"),
        ("employee.age / 0 > 3", "division by zero"),
        ("employee.age - employee.age > 3", "no fact path"),
        ("(employee.age > 3) == (employee.kelas > 2)", "comparing two conditions"),
        (f'"{LIST_SENTINEL}" in employee.trainings', "reserved"),
        ('employee.status in []', "never be true"),
    ],
)
def test_compile_problem_explains_what_cannot_be_compiled(when: str, reason: str) -> None:
    problem = compile_problem(parse(when))
    assert problem is not None and reason in problem


@pytest.mark.parametrize(
    "when",
    [
        "employee.age - employee.kelas > 2",
        "as_of - employee.position_start >= 730",
        "2 * employee.age + 1 >= employee.kelas / 2",
        "candidate.employee.rank < candidate.position.min_rank",
        'employee.status not in []',
        "not (employee.age > 3 and exists(employee.rank))",
    ],
)
def test_compile_problem_accepts_compilable_expressions(when: str) -> None:
    assert compile_problem(parse(when)) is None


def test_engine_refuses_rules_it_cannot_compile() -> None:
    loaded = [ruleset("bad", [rule("r", "employee.age * employee.kelas > 3")])]
    with pytest.raises(EngineError, match=r"bad/r.*product"):
        RuleEngine(loaded, AS_OF)


def test_compiled_json_is_deterministic_guarded_and_serialisable() -> None:
    loaded = [
        ruleset("b", [rule("r", '"X" not in employee.trainings and employee.age < employee.kelas + 40')],
                units=["dinkes"]),
        ruleset("a", [rule("r", "not exists(employee.rank)")], kinds=["jpt"]),
    ]
    first = compile_ruleset_json(loaded, "employee", AS_OF)
    again = compile_ruleset_json(list(reversed(loaded)), "employee", AS_OF)
    assert json.dumps(first, sort_keys=False) == json.dumps(again, sort_keys=False)
    [(name, rules)] = first.items()
    assert name == "mutasi-rules.employee"
    assert list(rules) == ["a/r", "b/r", CATCH_ALL]
    for definition in rules.values():
        [pattern] = definition["all"]
        condition = pattern["m"]
        guard = condition["$and"][0] if "$and" in condition else condition
        assert guard == {"t": "employee"}
    assert {"$nex": {"employee.rank": 1}} in rules["a/r"]["all"][0]["m"]["$and"]
    assert {"$iany": {"employee.unit_path": {"$i": "dinkes"}}} in rules["b/r"]["all"][0]["m"]["$and"]


def test_engine_json_matches_compile_ruleset_json() -> None:
    loaded = [ruleset("a", [rule("r", "employee.age > 1")])]
    with RuleEngine(loaded, AS_OF) as engine:
        assert engine.ruleset_json("employee") == compile_ruleset_json(loaded, "employee", AS_OF)


# --------------------------------------------------------------------------- errors


def test_bad_input_is_reported_with_subject_field_and_value() -> None:
    loaded = [ruleset("a", [rule("r", "as_of - employee.position_start > 1 and employee.rank > \"I/a\"")])]
    good = employee_scope().model_dump(mode="json")
    bad_date = employee_scope().model_dump(mode="json")
    bad_date["employee"]["position_start"] = "2024-13-01"
    bad_rank = employee_scope().model_dump(mode="json")
    bad_rank["employee"]["rank"] = "V/a"
    with RuleEngine(loaded, AS_OF) as engine, pytest.raises(InputError) as caught:
        engine.evaluate("employee", [good, bad_date, bad_rank], ["ok", "nip-1", "nip-2"])
    problems = caught.value.problems
    assert [(p.field, p.value) for p in problems] == [
        ("employee.position_start", "2024-13-01"),
        ("employee.rank", "V/a"),
    ]
    assert "nip-1" in (problems[0].record or "") and "nip-2" in (problems[1].record or "")


def test_usage_errors() -> None:
    loaded = [ruleset("a", [rule("r", "employee.age > 1")])]
    engine = RuleEngine(loaded, AS_OF)
    with pytest.raises(ValueError, match="one subject per fact"):
        engine.evaluate("employee", [employee_scope()], [])
    with pytest.raises(ValueError, match="unknown scope"):
        engine.evaluate("employees", [], [])  # type: ignore[arg-type]
    engine.close()
    engine.close()
    with pytest.raises(EngineError, match="closed"):
        engine.evaluate("employee", [employee_scope()], ["x"])
    with pytest.raises(EngineError, match="loaded twice"):
        RuleEngine(loaded + loaded, AS_OF)


def test_extension_attributes_are_readable() -> None:
    ext = F.ExtensionAttribute(entity="employee", name="skor_potensi", type=F.FieldType.NUMBER, source="demo")
    loaded = [ruleset("a", [rule("r", "employee.ext.skor_potensi >= 7")])]
    facts = [
        employee_scope().model_copy(
            update={"employee": employee_scope().employee.model_copy(update={"ext": {"skor_potensi": 8}})}),
        employee_scope(),
    ]
    with RuleEngine(loaded, AS_OF, extensions=[ext]) as engine:
        results = engine.evaluate("employee", facts, ["a", "b"])
    assert [[f.rule_key for f in fs] for fs in results] == [["a/r"], []]
    assert results[0][0].facts_read == {"employee.ext.skor_potensi": 8}


def test_training_template_names_each_missing_training():
    from mutasi_rules.rules.rulesets import load_ruleset_text

    text = """
ruleset:
  id: t.training
  version: "1"
  title: {id: Pelatihan, en: Training}
  authority: test
  source: test
  effective_from: 2020-01-01
rules:
  - id: missing
    title: {id: Kurang pelatihan, en: Missing training}
    scope: candidate
    when: not empty(candidate.missing_trainings)
    effect: require_training
    training: "{candidate.missing_trainings}"
    message: {id: "Perlu {candidate.missing_trainings}", en: "Needs {candidate.missing_trainings}"}
    legal_basis: test
"""
    loaded = load_ruleset_text(text, "t.yaml")
    fact = {"as_of": "2026-07-01", "candidate": {"missing_trainings": ["Pelatihan Vaksinator", "BTCLS"]}}
    with RuleEngine([loaded], AS_OF) as engine:
        [[finding]] = engine.evaluate("candidate", [fact], ["x->y"])
    assert finding.trainings == ["BTCLS", "Pelatihan Vaksinator"]
    assert finding.training == "BTCLS, Pelatihan Vaksinator"


def test_training_template_paths_are_checked_at_load_time():
    import pytest

    from mutasi_rules.problems import InputError
    from mutasi_rules.rules.rulesets import load_ruleset_text

    text = """
ruleset: {id: t.bad, version: "1", title: {id: a, en: a}, authority: t, source: t, effective_from: 2020-01-01}
rules:
  - id: missing
    title: {id: a, en: a}
    scope: candidate
    when: not empty(candidate.missing_trainings)
    effect: require_training
    training: "{candidate.missing_trainingz}"
    message: {id: a, en: a}
    legal_basis: t
"""
    with pytest.raises(InputError) as error:
        load_ruleset_text(text, "t.yaml")
    assert "missing_trainings" in str(error.value)  # did you mean


def test_a_path_whose_terms_cancel_out_still_must_exist():
    """Found by the differential test: `x < age + x` with x missing is false, not `0 < age`."""
    when = "employee.latest_predikat_year < employee.age + employee.latest_predikat_year"
    assert not when_fires(when, "employee",
                          {"as_of": "2024-07-01", "employee": {"age": 40, "latest_predikat_year": None}})
    assert when_fires(when, "employee", {"as_of": "2024-07-01", "employee": {"age": 40, "latest_predikat_year": 2023}})
    assert not when_fires("not (" + when + ")", "employee",
                          {"as_of": "2024-07-01", "employee": {"age": 40, "latest_predikat_year": None}})


def test_findings_do_not_depend_on_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """durable's Python dispatch drops an action once ten wall-clock seconds have passed
    (a GC pause or a suspended process); the adapter's own batch loop must not."""
    import durable.engine

    ticks = iter(range(0, 10**9, 60))  # every reading of the clock is a minute later
    monkeypatch.setattr(durable.engine, "_unix_now", lambda: float(next(ticks)))
    loaded = [ruleset("t",
                      [rule("old", "employee.age >= 40", "employee"), rule("any", "employee.age > 0", "employee")])]
    facts = [employee_scope(age=age) for age in (30, 45, 50, 20)]
    assert fired(loaded, "employee", facts) == [["t/any"], ["t/any", "t/old"], ["t/any", "t/old"], ["t/any"]]
