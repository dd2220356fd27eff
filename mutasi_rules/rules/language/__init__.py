"""The rule expression language: syntax tree, parser, type checker and pretty-printer.

``parse(text)`` gives an :mod:`~mutasi_rules.rules.language.ast` tree or raises
:class:`ExprSyntaxError` with a 1-based line/column; ``check(expr, schema)`` types it against
a fact schema and returns every problem; ``pretty(expr)`` prints it back.
"""

from mutasi_rules.rules.language.checker import ExprProblem, TypeInfo, check, check_path, did_you_mean
from mutasi_rules.rules.language.parser import MAX_DEPTH, MAX_EXPRESSION_LENGTH, ExprSyntaxError, parse
from mutasi_rules.rules.language.pretty import pretty, pretty_literal, without_spans

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "ExprProblem",
    "ExprSyntaxError",
    "TypeInfo",
    "check",
    "check_path",
    "did_you_mean",
    "parse",
    "pretty",
    "pretty_literal",
    "without_spans",
]
