"""Differential test: the durable_rules path and the reference interpreter agree on every rule.

Hypothesis builds well-typed conditions over a small slice of the employee fact schema
(numbers, dates, ordinals, enums, text, lists, booleans; several nullable) and display-form
facts with missing values and empty lists, then checks that each rule fires through the
engine exactly when the interpreter says its condition holds. Numbers are integers and
quarter multiples so the engine's rearranged arithmetic is exact.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine_support import AS_OF, ruleset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutasi_rules.data.facts import fact_schema
from mutasi_rules.rules.engine import CompileError, RuleEngine, compile_condition
from mutasi_rules.rules.language.ast import (
    Arith,
    BoolOp,
    Call,
    Compare,
    Expr,
    FieldRef,
    ListLiteral,
    Literal_,
    Membership,
    Negate,
    Not,
    Span,
)
from mutasi_rules.rules.language.interpreter import evaluate

SPAN = Span(0, 0)
SCHEMA = fact_schema("employee")

NUMBERS = ["employee.age", "employee.kelas", "employee.years_in_position", "employee.latest_predikat_year"]
DATES = ["as_of", "employee.position_start", "employee.sanction_end"]
ORDINALS = {
    "employee.rank": ["II/a", "II/c", "III/a", "III/b", "III/d", "IV/a"],
    "employee.education_level": ["SMA/SMK", "D3", "S1", "S2"],
    "employee.latest_predikat": ["Kurang", "Butuh Perbaikan", "Baik", "Sangat Baik"],
}
TEXTS = {
    "employee.status": ["PNS", "PPPK", "CPNS"],
    "employee.education_field": ["Hukum", "Keperawatan", "Akuntansi"],
    "employee.position_kind": ["pelaksana", "fungsional", "jpt"],
}
LISTS = {"employee.trainings": ["Vaksinator", "Manajemen", "Keperawatan"], "employee.certificates": ["K3", "Hukum"]}
BOOLS = ["employee.under_sanction", "employee.willing_to_move"]
NULLABLE = {
    "employee.latest_predikat_year",
    "employee.sanction_end",
    "employee.rank",
    "employee.latest_predikat",
    "employee.education_field",
    "employee.willing_to_move",
}
COMPARE_OPS = ["<", "<=", ">", ">=", "==", "!="]


def field(path: str) -> FieldRef:
    return FieldRef(path, SPAN)


def lit(value: Any) -> Literal_:
    return Literal_(value, SPAN)


# Small value sets, so that ties (a == b, the boundary of every < and <=) are common.
quarters = st.integers(-4, 12).map(lambda n: n / 4)
small_ints = st.sampled_from([0, 1, 2, 3, 5, 6, 7, 40, 42, 44, 45, 2022])
DAY_OFFSETS = [-731, -730, -365, -1, 0, 1, 365]


@st.composite
def numeric_side(draw: st.DrawFn, depth: int = 0) -> Expr:
    choice = draw(st.integers(0, 5 if depth < 2 else 1))
    if choice == 0:
        return field(draw(st.sampled_from(NUMBERS)))
    if choice == 1:
        return lit(draw(st.one_of(small_ints, quarters)))
    if choice in (2, 3):
        return Arith(draw(st.sampled_from(["+", "-"])), draw(numeric_side(depth + 1)), draw(numeric_side(depth + 1)),
                     SPAN)
    if choice == 4:
        factor = lit(draw(st.sampled_from([2, 3, -1, 0.5])))
        term = field(draw(st.sampled_from(NUMBERS)))
        return Arith("*", factor, term, SPAN) if draw(st.booleans()) else Arith("*", term, factor, SPAN)
    if draw(st.booleans()):
        return Negate(field(draw(st.sampled_from(NUMBERS))), SPAN)
    return Arith("/", field(draw(st.sampled_from(NUMBERS))), lit(draw(st.sampled_from([2, 4]))), SPAN)


@st.composite
def numeric_compare(draw: st.DrawFn) -> Expr:
    return Compare(draw(st.sampled_from(COMPARE_OPS)), draw(numeric_side()), draw(numeric_side()), SPAN)


@st.composite
def date_compare(draw: st.DrawFn) -> Expr:
    op = draw(st.sampled_from(COMPARE_OPS))
    a, b = field(draw(st.sampled_from(DATES))), field(draw(st.sampled_from(DATES)))
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return Compare(op, a, b, SPAN)
    if shape == 1:
        day = AS_OF + dt.timedelta(days=draw(st.sampled_from(DAY_OFFSETS)))
        return Compare(op, a, lit(day), SPAN) if draw(st.booleans()) else Compare(op, lit(day), a, SPAN)
    if shape == 2:
        return Compare(op, Arith("-", a, b, SPAN), lit(draw(st.sampled_from(DAY_OFFSETS))), SPAN)
    return Compare(op, Arith("+", a, lit(draw(st.sampled_from(DAY_OFFSETS))), SPAN), b, SPAN)


@st.composite
def ordinal_compare(draw: st.DrawFn) -> Expr:
    path = draw(st.sampled_from(sorted(ORDINALS)))
    value = lit(draw(st.sampled_from(ORDINALS[path])))
    op = draw(st.sampled_from(COMPARE_OPS))
    return Compare(op, field(path), value, SPAN) if draw(st.booleans()) else Compare(op, value, field(path), SPAN)


@st.composite
def text_compare(draw: st.DrawFn) -> Expr:
    path = draw(st.sampled_from(sorted(TEXTS)))
    op = draw(st.sampled_from(["==", "!="]))
    if path == "employee.education_field" and draw(st.booleans()):
        return Compare(op, field(path), field("employee.education_field"), SPAN)
    return Compare(op, field(path), lit(draw(st.sampled_from(TEXTS[path]))), SPAN)


@st.composite
def membership(draw: st.DrawFn) -> Expr:
    negated = draw(st.booleans())
    shape = draw(st.integers(0, 2))
    if shape == 0:  # scalar field in a literal list
        path = draw(st.sampled_from(sorted(TEXTS) + sorted(ORDINALS)))
        values = TEXTS.get(path) or ORDINALS[path]
        items = draw(st.lists(st.sampled_from(values), max_size=3, unique=True))
        return Membership(field(path), ListLiteral(tuple(lit(v) for v in items), SPAN), negated, SPAN)
    list_path = draw(st.sampled_from(sorted(LISTS)))
    if shape == 1:  # literal in a list field
        return Membership(lit(draw(st.sampled_from(LISTS[list_path]))), field(list_path), negated, SPAN)
    return Membership(field("employee.education_field"), field(list_path), negated, SPAN)


@st.composite
def call_or_bool(draw: st.DrawFn) -> Expr:
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return Call("exists", (field(draw(st.sampled_from(sorted(NULLABLE)))),), SPAN)
    if shape == 1:
        return Call("empty", (field(draw(st.sampled_from(sorted(LISTS)))),), SPAN)
    path = field(draw(st.sampled_from(BOOLS)))
    if shape == 2:
        return path
    return Compare(draw(st.sampled_from(["==", "!="])), path, lit(draw(st.booleans())), SPAN)


atoms = st.one_of(numeric_compare(), date_compare(), ordinal_compare(), text_compare(), membership(), call_or_bool())


def conditions() -> st.SearchStrategy[Expr]:
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.builds(lambda e: Not(e, SPAN), inner),
            st.builds(lambda ops, xs: BoolOp(ops, tuple(xs), SPAN), st.sampled_from(["and", "or"]),
                      st.lists(inner, min_size=2, max_size=3)),
        ),
        max_leaves=5,
    )


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def iso(offset: int) -> str:
    return (AS_OF + dt.timedelta(days=offset)).isoformat()


@st.composite
def fact(draw: st.DrawFn) -> dict[str, Any]:
    """A display-form employee fact holding only the paths the generated rules read."""
    employee = {
        "age": draw(st.integers(40, 45)),
        "kelas": draw(st.integers(1, 7)),
        "years_in_position": draw(quarters),
        "latest_predikat_year": draw(maybe(st.integers(2021, 2023))),
        "position_start": iso(draw(st.sampled_from(DAY_OFFSETS[:5]))),
        "sanction_end": draw(maybe(st.sampled_from(DAY_OFFSETS).map(iso))),
        "rank": draw(maybe(st.sampled_from(ORDINALS["employee.rank"]))),
        "education_level": draw(st.sampled_from(ORDINALS["employee.education_level"])),
        "latest_predikat": draw(maybe(st.sampled_from(ORDINALS["employee.latest_predikat"]))),
        "status": draw(st.sampled_from(TEXTS["employee.status"])),
        "education_field": draw(maybe(st.sampled_from(TEXTS["employee.education_field"]))),
        "position_kind": draw(st.sampled_from(TEXTS["employee.position_kind"])),
        "trainings": draw(st.lists(st.sampled_from(LISTS["employee.trainings"] + ["Hukum"]), max_size=3, unique=True)),
        "certificates": draw(st.lists(st.sampled_from(LISTS["employee.certificates"] + ["Keperawatan"]), max_size=2,
                                      unique=True)),
        "under_sanction": draw(st.booleans()),
        "willing_to_move": draw(maybe(st.booleans())),
        "unit_path": ["bidang-umum", "setda"],
    }
    return {"as_of": AS_OF.isoformat(), "employee": employee}


def compilable(expr: Expr) -> bool:
    try:
        compile_condition(expr, SCHEMA)
    except CompileError:
        return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    exprs=st.lists(conditions().filter(compilable), min_size=1, max_size=8),
    facts=st.lists(fact(), min_size=1, max_size=40),
)
def test_engine_and_interpreter_agree(exprs: list[Expr], facts: list[dict[str, Any]]) -> None:
    rules = [
        {
            "id": f"r{i}",
            "title": {"id": "t", "en": "t"},
            "scope": "employee",
            "when": "generated",
            "effect": "warn",
            "message": {"id": "m", "en": "m"},
            "legal_basis": "b",
        }
        for i in range(len(exprs))
    ]
    loaded = ruleset("gen", rules, expressions={f"r{i}": e for i, e in enumerate(exprs)})
    with RuleEngine([loaded], AS_OF, batch_size=10) as engine:
        results = engine.evaluate("employee", facts, [f"s{i}" for i in range(len(facts))])
    for fact_dict, findings in zip(facts, results, strict=True):
        expected = sorted(f"r{i}" for i, e in enumerate(exprs) if evaluate(e, fact_dict, SCHEMA))
        assert sorted(f.rule_id for f in findings) == expected, (exprs, fact_dict)


def test_every_operator_and_its_negation_at_and_around_ties() -> None:
    """Exhaustive over the boundaries hypothesis rarely hits: each operator, negated or not,
    with the field below, equal to and above the other side, in every compiled shape."""
    age, kelas = field("employee.age"), field("employee.kelas")
    shapes = {
        "field-literal": lambda op: Compare(op, age, lit(42), SPAN),
        "literal-field": lambda op: Compare(op, lit(42), age, SPAN),
        "field-field": lambda op: Compare(op, age, field("employee.latest_predikat_year"), SPAN),
        "arithmetic": lambda op: Compare(op, Arith("-", age, kelas, SPAN), lit(36), SPAN),
        "scaled": lambda op: Compare(op, Arith("*", lit(3), age, SPAN), Arith("+", kelas, lit(120), SPAN), SPAN),
        "ordinal": lambda op: Compare(op, field("employee.rank"), lit("III/b"), SPAN),
        "date": lambda op: Compare(op, Arith("-", field("as_of"), field("employee.position_start"), SPAN), lit(365),
                                   SPAN),
    }
    exprs: list[Expr] = []
    for make in shapes.values():
        for op in COMPARE_OPS:
            exprs += [make(op), Not(make(op), SPAN)]
    facts = []
    for age_value, rank, start, year in [(41, "III/a", -364, 41), (42, "III/b", -365, 42), (43, "III/c", -366, 43)]:
        for kelas_value in (5, 6, 7):
            employee = {"age": age_value, "kelas": kelas_value, "rank": rank, "position_start": iso(start)}
            employee["latest_predikat_year"] = year if kelas_value != 7 else None
            facts.append({"as_of": AS_OF.isoformat(), "employee": employee})
    rules = [
        {"id": f"r{i}", "title": {"id": "t", "en": "t"}, "scope": "employee", "when": "generated", "effect": "warn",
         "message": {"id": "m", "en": "m"}, "legal_basis": "b"}
        for i in range(len(exprs))
    ]
    loaded = ruleset("ties", rules, expressions={f"r{i}": e for i, e in enumerate(exprs)})
    with RuleEngine([loaded], AS_OF) as engine:
        results = engine.evaluate("employee", facts, [str(i) for i in range(len(facts))])
    for fact_dict, findings in zip(facts, results, strict=True):
        expected = sorted(f"r{i}" for i, e in enumerate(exprs) if evaluate(e, fact_dict, SCHEMA))
        assert sorted(f.rule_id for f in findings) == expected, fact_dict
