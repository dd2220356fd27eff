"""The expression parser: precedence, every construct, error positions, hostile input."""

from __future__ import annotations

import builtins
import datetime as dt
import re
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutasi_rules.rules.language import parser as parser_module
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
from mutasi_rules.rules.language.parser import MAX_DEPTH, MAX_EXPRESSION_LENGTH, ExprSyntaxError, parse
from mutasi_rules.rules.language.pretty import pretty, without_spans

S = Span(0, 0, 0, 0)


def ast(text: str) -> Expr:
    return without_spans(parse(text))


def f(path: str) -> FieldRef:
    return FieldRef(path, S)


def lit(value: object) -> Literal_:
    return Literal_(value, S)  # type: ignore[arg-type]


def error_of(text: str) -> ExprSyntaxError:
    with pytest.raises(ExprSyntaxError) as info:
        parse(text)
    return info.value


# ----------------------------------------------------------------------------- constructs


def test_literals() -> None:
    assert ast("a == 2") == Compare("==", f("a"), lit(2), S)
    assert ast("a == 0.5").right == lit(0.5)  # type: ignore[union-attr]
    assert isinstance(parse("a == 2.0").right.value, float)  # type: ignore[union-attr]
    assert ast("a == 1.5e3").right == lit(1500.0)  # type: ignore[union-attr]
    assert ast("a == 'PNS'").right == lit("PNS")  # type: ignore[union-attr]
    assert ast('a == "it\\"s \\\\ \\n \\\'"').right == lit('it"s \\ \n \'')  # type: ignore[union-attr]
    assert ast("a == true").right == lit(True)  # type: ignore[union-attr]
    assert ast("a == false").right == lit(False)  # type: ignore[union-attr]
    assert ast('a < date("2027-01-01")').right == lit(dt.date(2027, 1, 1))  # type: ignore[union-attr]
    assert ast('a in ["PNS", \'PPPK\',]').container == ListLiteral((lit("PNS"), lit("PPPK")), S)  # type: ignore[union-attr]
    assert ast("a in [1, -2, 3.5]").container == ListLiteral((lit(1), lit(-2), lit(3.5)), S)  # type: ignore[union-attr]
    assert ast("a in []").container == ListLiteral((), S)  # type: ignore[union-attr]


def test_paths_calls_membership() -> None:
    assert ast("candidate.position.min_rank") == f("candidate.position.min_rank")
    assert ast("as_of") == f("as_of")
    assert ast("exists(employee.rank)") == Call("exists", (f("employee.rank"),), S)
    assert ast("empty( employee.trainings )") == Call("empty", (f("employee.trainings"),), S)
    assert ast('"Vaksinator" in employee.trainings') == Membership(lit("Vaksinator"), f("employee.trainings"), False, S)
    assert ast('employee.status not in ["CPNS"]') == Membership(
        f("employee.status"), ListLiteral((lit("CPNS"),), S), True, S
    )


def test_precedence() -> None:
    # or < and < not < comparison < + - < * / < unary -
    assert ast("a or b and c") == BoolOp("or", (f("a"), BoolOp("and", (f("b"), f("c")), S)), S)
    assert ast("not a and b") == BoolOp("and", (Not(f("a"), S), f("b")), S)
    assert ast("not a < b") == Not(Compare("<", f("a"), f("b"), S), S)
    assert ast("a + b * c < d") == Compare("<", Arith("+", f("a"), Arith("*", f("b"), f("c"), S), S), f("d"), S)
    assert ast("a - b - c") == Arith("-", Arith("-", f("a"), f("b"), S), f("c"), S)
    assert ast("a / b * c") == Arith("*", Arith("/", f("a"), f("b"), S), f("c"), S)
    assert ast("-a * b") == Arith("*", Negate(f("a"), S), f("b"), S)
    assert ast("(a or b) and c") == BoolOp("and", (BoolOp("or", (f("a"), f("b")), S), f("c")), S)
    assert ast("a and b and c") == BoolOp("and", (f("a"), f("b"), f("c")), S)
    assert ast("(a and b) and c") == BoolOp("and", (BoolOp("and", (f("a"), f("b")), S), f("c")), S)
    assert ast("not not a") == Not(Not(f("a"), S), S)
    assert ast("a - -2") == Arith("-", f("a"), lit(-2), S)
    assert ast("- 2") == Negate(lit(2), S)
    assert ast("x in [1] and y") == BoolOp("and", (Membership(f("x"), ListLiteral((lit(1),), S), False, S), f("y")), S)


def test_spans_are_one_based_and_multiline() -> None:
    expr = parse("a < 1\n  and employee.rank == 'II/a'")
    assert isinstance(expr, BoolOp)
    second = expr.operands[1]
    assert isinstance(second, Compare)
    assert (second.span.line, second.span.column) == (2, 7)
    assert (second.right.span.line, second.right.span.column) == (2, 24)
    assert second.right.span.start == 29


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("a < b < c", 7, "cannot be chained"),
        ("a == b != c", 8, "cannot be chained"),
        ("a < b in c", 7, "cannot be chained"),
        ("a and", 6, "unexpected end"),
        ("(a", 3, "expected ')'"),
        ("a.b.", 5, "expected a field name"),
        ('a == "open', 6, "not closed"),
        ('a == "\\t"', 7, "unknown escape"),
        ("a == 2x", 6, "invalid number"),
        ('a < date("2024-02-30")', 10, "not a calendar date"),
        ('a < date("1/2/2024")', 10, 'not written as "YYYY-MM-DD"'),
        ("a in [1, b]", 10, "only literals"),
        ("a in [[1]]", 7, "nested"),
        ("a < 1 AND b", 7, "lower case"),
        ("a == True", 6, "lower case"),
        ("a == None", 6, "no null literal"),
        ("a is b", 3, "'is'"),
        ("a && b", 3, "'and'"),
        ("!a", 1, "'not'"),
        ("a ** 2", 3, "power"),
        ("a % 2", 3, "not supported"),
        ("+a", 1, "unary '+'"),
        ("exists(a, b)", 9, "exactly one"),
        ("exists(1)", 8, "must be a field path"),
        ("empty()", 7, "needs one field path"),
        ("", 1, "empty expression"),
        ("a < ", 5, "unexpected end"),
        ("a.and", 3, "keyword"),
        ("a b", 3, "unexpected 'b'"),
        ("a == é", 6, "unexpected character"),
    ],
)
def test_syntax_errors_point_at_the_problem(text: str, column: int, fragment: str) -> None:
    error = error_of(text)
    assert fragment in error.message
    assert error.span.line == 1
    assert error.span.column == column


def test_error_on_second_line() -> None:
    error = error_of("a < 1 and\n   b <")
    assert (error.span.line, error.span.column) == (2, 7)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('ls')", "unknown function"),
        ("().__class__", "empty parentheses"),
        ("(a).__class__", "attribute access"),
        ("'x'.join", "attribute access"),
        ("lambda: 1", "lambda"),
        ("employee.__class__", "starts with '_'"),
        ("employee._private < 1", "starts with '_'"),
        ("_x", "starts with '_'"),
        ('open("x")', "unknown function 'open'"),
        ("eval('1')", "unknown function 'eval'"),
        ("date.today()", "only exists(path)"),
        ("x[0]", "subscripts"),
        ("employee.trainings[0] == 'a'", "subscripts"),
        ("a; b", "';'"),
        ("a = 1", "assignment"),
        ("(a := 1)", "assignment"),
        ('f"{a}"', "f-strings"),
        ("rb'x' == a", "string prefixes"),
        ("a if b else c", "conditional"),
        ("[x for x in a]", "only literals"),
        ("{'a': 1}", "'{'"),
        ("a == 1 # comment", "comments"),
        ("import os", "'import'"),
        ("(a, b)", "tuples"),
        ("exists(a)(b)", "only exists(path) and empty(path) can be called"),
        ("a\\\nb", "outside a string"),
    ],
)
def test_hostile_input_is_rejected(text: str, fragment: str) -> None:
    assert fragment in error_of(text).message


def test_no_code_path_calls_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def spy(name: str):  # type: ignore[no-untyped-def]
        def forbidden(*args: object, **kwargs: object) -> None:
            calls.append(name)
            raise AssertionError(f"the parser must never call {name}")

        return forbidden

    import ast as python_ast

    outcomes: list[object] = []
    with monkeypatch.context() as patch:
        for name in ("eval", "exec", "compile"):
            patch.setattr(builtins, name, spy(name))
        patch.setattr(python_ast, "literal_eval", spy("literal_eval"))
        for text in (
            'employee.rank >= "III/a" and not exists(x) or a in [1, -2.5] and d < date("2024-01-01")',
            "__import__('os').system('true')",
            "a < b < c",
        ):
            try:
                outcomes.append(parse(text))
            except ExprSyntaxError as exc:
                outcomes.append(exc)
    assert calls == []
    assert isinstance(outcomes[0], BoolOp)
    assert isinstance(outcomes[1], ExprSyntaxError) and isinstance(outcomes[2], ExprSyntaxError)
    source = Path(parser_module.__file__).read_text(encoding="utf-8")
    assert not re.search(r"(?<![.\w])(eval|exec|compile|literal_eval)\(|^\s*(import|from) ast\b", source, re.M)


def test_length_and_depth_limits() -> None:
    long = "a < " + "1" * MAX_EXPRESSION_LENGTH
    assert "limit" in error_of(long).message
    deep = "(" * 500 + "a" + ")" * 500
    assert "nests too deeply" in error_of(deep).message
    assert "nests too deeply" in error_of("-" * 300 + "a").message
    assert "nests too deeply" in error_of("not " * 300 + "a").message
    assert "nests too deeply" in error_of("exists(" * 300 + "a" + ")" * 300).message
    assert "nests too deeply" in error_of(" + ".join(["a"] * (MAX_DEPTH + 5)) + " > 1").message
    # A long flat chain of 'and' is fine: it does not nest.
    assert isinstance(parse(" and ".join(f"x{i} > 1" for i in range(200))), BoolOp)
    assert "lists cannot be nested" in error_of("a in " + "[" * 2000).message


# ----------------------------------------------------------------------------- round trip

_names = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6).filter(
    lambda s: s not in {"and", "or", "not", "in", "true", "false", "is", "if", "for", "none", "null", "lambda",
                        "else", "import", "date", "exists", "empty", "rb", "br", "fr", "rf", "f", "r", "b", "u"}
)
_paths = st.lists(_names, min_size=1, max_size=3).map(lambda parts: FieldRef(".".join(parts), S))
_scalar_values = st.one_of(
    st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2999, 12, 31)),
)
_literals = _scalar_values.map(lambda v: Literal_(v, S))
_lists = st.lists(_literals, max_size=3).map(lambda items: ListLiteral(tuple(items), S))
_calls = st.builds(lambda name, p: Call(name, (p,), S), st.sampled_from(["exists", "empty"]), _paths)


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    def negate(e: Expr) -> Expr:
        return Negate(e, S)

    return st.one_of(
        children.map(negate),
        children.map(lambda e: Not(e, S)),
        st.builds(lambda op, a, b: Arith(op, a, b, S), st.sampled_from(["+", "-", "*", "/"]), children, children),
        st.builds(
            lambda op, a, b: Compare(op, a, b, S),
            st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), children, children
        ),
        st.builds(lambda a, b, neg: Membership(a, b, neg, S), children, st.one_of(children, _lists), st.booleans()),
        st.builds(
            lambda op, items: BoolOp(op, tuple(items), S),
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=2, max_size=3),
        ),
    )


_exprs = st.recursive(st.one_of(_paths, _literals, _calls), _extend, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_exprs)
def test_parse_of_pretty_is_identity(expr: Expr) -> None:
    text = pretty(expr)
    assert without_spans(parse(text)) == expr, text
    # types survive too (2 stays int, 2.0 stays float)
    assert pretty(parse(text)) == text


_fragments = st.sampled_from(
    ["a", "b.c", " ", "(", ")", "[", "]", ",", ".", "-", "+", "*", "/", "<", "<=", "==", "!=", ">", "=", "!",
     "and", "or", "not", "in", "true", "1", "2.5", "'x'", '"y', "\\", "date(", '"2024-01-01"', "exists(",
     "empty(", "__x", "\n", ";", ":", "lambda", "é", "1e", "0x1"]
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(_fragments, max_size=30).map("".join), st.text(max_size=60)))
def test_any_text_parses_or_raises_a_syntax_error(text: str) -> None:
    """No input makes the parser fail any other way (IndexError, RecursionError...)."""
    try:
        expr = parse(text)
    except ExprSyntaxError as exc:  # a property over any text: raising is one of the two outcomes
        assert exc.span.line >= 1 and exc.span.column >= 1  # noqa: PT017
        assert exc.span.start <= max(len(text), 0) + 1  # noqa: PT017
    else:
        assert without_spans(parse(pretty(expr))) == without_spans(expr)
