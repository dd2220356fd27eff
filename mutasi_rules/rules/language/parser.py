"""Tokenizer and recursive-descent parser of the rule expression language.

Grammar (docs/rule-language.md), loosest first::

    expr        := or_expr
    or_expr     := and_expr ("or" and_expr)*
    and_expr    := not_expr ("and" not_expr)*
    not_expr    := "not" not_expr | comparison
    comparison  := additive [ (CMP | "in" | "not" "in") additive ]      -- never chained
    additive    := term (("+" | "-") term)*
    term        := unary (("*" | "/") unary)*
    unary       := "-" unary | primary
    primary     := NUMBER | STRING | "true" | "false" | date("YYYY-MM-DD")
                 | "[" [literal ("," literal)* [","]] "]"
                 | path | ("exists" | "empty") "(" path ")" | "(" expr ")"
    path        := NAME ("." NAME)*

The parser never hands text to Python (no eval/exec/compile/literal_eval): every accepted
construct is built here, and everything else is a syntax error that says what was found and
what to write instead. Length and nesting are bounded so a hostile rule file cannot exhaust
the interpreter's recursion limit (here, in the checker, or in the engine's compiler).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

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

MAX_EXPRESSION_LENGTH = 4000
MAX_DEPTH = 64

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})
FUNCTIONS = ("exists", "empty")
COMPARE_OPS = ("<=", ">=", "==", "!=", "<", ">")

# Words that are valid Python but mean nothing here: say what to write instead.
_FOREIGN_WORDS: dict[str, str] = {
    "lambda": "lambda expressions are not supported",
    "import": "'import' is not supported",
    "is": "'is' is not supported; use == or !=",
    "if": "conditional expressions are not supported; combine conditions with and/or",
    "else": "conditional expressions are not supported; combine conditions with and/or",
    "for": "comprehensions are not supported",
    "None": "there is no null literal; use exists(path) or not exists(path)",
    "null": "there is no null literal; use exists(path) or not exists(path)",
    "none": "there is no null literal; use exists(path) or not exists(path)",
}
_STRING_PREFIXES = frozenset({"f", "r", "b", "u", "rb", "br", "fr", "rf", "F", "R", "B", "U"})
_NUMBER_RE = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n"}

# Single characters (or pairs) that are not part of the language, with the reason.
_BAD_OPERATORS: dict[str, str] = {
    "&&": "use 'and' instead of '&&'",
    "||": "use 'or' instead of '||'",
    ":=": "assignment is not allowed; use '==' to compare",
    "**": "'**' (power) is not supported",
    "//": "'//' (floor division) is not supported; use '/'",
    "=": "assignment is not allowed; use '==' to compare",
    "!": "use 'not' instead of '!'",
    ";": "';' is not allowed: a condition is one expression",
    "%": "'%' is not supported",
    "&": "use 'and' instead of '&'",
    "|": "use 'or' instead of '|'",
    "~": "'~' is not supported",
    "^": "'^' is not supported",
    "@": "'@' is not supported",
    "{": "'{' is not supported (no dicts, sets or placeholders in conditions)",
    "}": "'}' is not supported",
    ":": "':' is not supported (no slices, lambdas or annotations)",
    "`": "'`' is not supported",
    "#": "comments are not supported inside a condition",
    "$": "'$' is not supported",
    "?": "'?' is not supported",
    "\\": "'\\' is not allowed outside a string",
}


class ExprSyntaxError(ValueError):
    """A syntax error at ``span`` (1-based line/column inside the expression)."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(f"{span.line}:{span.column}: {message}")
        self.message = message
        self.span = span


@dataclass(frozen=True)
class Token:
    kind: str  # NUMBER STRING NAME OP DOT LPAREN RPAREN LBRACKET RBRACKET COMMA EOF
    text: str
    value: object
    start: int
    end: int


class _Positions:
    """Maps 0-based offsets of the expression text to spans with 1-based line/column."""

    def __init__(self, text: str) -> None:
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def span(self, start: int, end: int) -> Span:
        line = 0
        lo, hi = 0, len(self.line_starts) - 1
        while lo <= hi:  # last line start <= start
            mid = (lo + hi) // 2
            if self.line_starts[mid] <= start:
                line, lo = mid, mid + 1
            else:
                hi = mid - 1
        return Span(start, end, line + 1, start - self.line_starts[line] + 1)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raise :class:`ExprSyntaxError` on anything foreign."""
    tokens = _tokenize(text)
    for token in tokens:
        if token.kind == "ERROR":
            raise token.value  # type: ignore[misc]
    return tokens


def _tokenize(text: str) -> list[Token]:
    """Tokens up to the first foreign character, which becomes an ERROR token.

    The parser raises the error only when it reaches that token, so ``lambda: 1`` is
    reported as a lambda rather than as a stray ':'.
    """
    try:
        return _scan(text)
    except _ScanError as exc:
        return [*exc.tokens, Token("ERROR", "", exc.error, exc.error.span.start, exc.error.span.end)]


class _ScanError(Exception):
    def __init__(self, error: ExprSyntaxError, tokens: list[Token]) -> None:
        self.error = error
        self.tokens = tokens


def _scan(text: str) -> list[Token]:
    pos = _Positions(text)
    tokens: list[Token] = []

    def fail(message: str, start: int, end: int | None = None) -> NoReturn:
        raise _ScanError(ExprSyntaxError(message, pos.span(start, start + 1 if end is None else end)), tokens)

    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
            continue
        if "0" <= ch <= "9":
            match = _NUMBER_RE.match(text, i)
            assert match is not None
            end = match.end()
            if end < n and (text[end].isalnum() or text[end] in "_.'\""):
                tail = re.match(r"[A-Za-z0-9_.]*", text[end:])
                stop = end + (tail.end() if tail else 0)
                fail(f"invalid number {text[i:stop]!r}", i, stop)
            literal = match.group(0)
            value: object = float(literal) if (match.group(1) or match.group(2)) else int(literal)
            if isinstance(value, float) and value in (float("inf"), float("-inf")):
                fail(f"number {literal!r} is too large", i, end)
            tokens.append(Token("NUMBER", literal, value, i, end))
            i = end
            continue
        if ch in "\"'":
            i = _read_string(text, i, tokens, fail)
            continue
        if ("a" <= ch.lower() <= "z") or ch == "_":
            match = _NAME_RE.match(text, i)
            assert match is not None
            word, end = match.group(0), match.end()
            if end < n and text[end] in "\"'" and word in _STRING_PREFIXES:
                fail(f"string prefixes ({word}\"...\": f-strings, raw or byte strings) are not supported", i, end)
            tokens.append(Token("NAME", word, word, i, end))
            i = end
            continue
        if not ch.isascii():
            # Python would accept non-ASCII identifiers; field names here are ASCII only.
            fail(f"unexpected character {ch!r}", i)
        two = text[i : i + 2]
        if two in COMPARE_OPS:
            tokens.append(Token("OP", two, two, i, i + 2))
            i += 2
            continue
        if two in _BAD_OPERATORS:
            fail(_BAD_OPERATORS[two], i, i + 2)
        simple = {
            "<": "OP",
            ">": "OP",
            "+": "OP",
            "-": "OP",
            "*": "OP",
            "/": "OP",
            ".": "DOT",
            "(": "LPAREN",
            ")": "RPAREN",
            "[": "LBRACKET",
            "]": "RBRACKET",
            ",": "COMMA",
        }
        if ch in simple:
            tokens.append(Token(simple[ch], ch, ch, i, i + 1))
            i += 1
            continue
        if ch in _BAD_OPERATORS:
            fail(_BAD_OPERATORS[ch], i)
        fail(f"unexpected character {ch!r}", i)
    tokens.append(Token("EOF", "", None, n, n))
    return tokens


def _read_string(text: str, start: int, tokens: list[Token], fail: Callable[..., NoReturn]) -> int:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == quote:
            tokens.append(Token("STRING", text[start : i + 1], "".join(out), start, i + 1))
            return i + 1
        if ch == "\n":
            fail("string is not closed before the end of the line", start, i)
        if ch == "\\":
            if i + 1 >= len(text):
                break
            escaped = text[i + 1]
            if escaped not in _ESCAPES:
                fail(f"unknown escape '\\{escaped}' in string (allowed: \\\\ \\\" \\' \\n)", i, i + 2)
            out.append(_ESCAPES[escaped])
            i += 2
            continue
        out.append(ch)
        i += 1
    fail("string is not closed", start, len(text))


class Parser:
    """Recursive-descent parser over the token list (one instance per expression)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.positions = _Positions(text)
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    # -- helpers -------------------------------------------------------------------------
    @property
    def token(self) -> Token:
        token = self.tokens[self.index]
        if token.kind == "ERROR":
            raise token.value  # type: ignore[misc]
        return token

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.token
        if token.kind != "EOF":
            self.index += 1
        return token

    def span(self, start: int, end: int) -> Span:
        return self.positions.span(start, end)

    def fail(self, message: str, token: Token | None = None) -> NoReturn:
        token = token or self.token
        raise ExprSyntaxError(message, self.span(token.start, max(token.end, token.start + 1)))

    def is_word(self, word: str, token: Token | None = None) -> bool:
        token = token or self.token
        return token.kind == "NAME" and token.text == word

    def describe(self, token: Token) -> str:
        if token.kind == "EOF":
            return "end of expression"
        return repr(token.text)

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"expression nests too deeply (more than {MAX_DEPTH} levels)", token)

    def leave(self) -> None:
        self.depth -= 1

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Expr:
        if not self.text.strip():
            raise ExprSyntaxError("empty expression", self.span(0, 0))
        expr = self.parse_or()
        if self.token.kind != "EOF":
            self.unexpected_after(expr)
        return expr

    def unexpected_after(self, expr: Expr) -> NoReturn:
        token = self.token
        if token.kind == "OP" and token.text in COMPARE_OPS and isinstance(expr, (Compare, Membership)):
            self.fail(
                f"comparisons cannot be chained: write 'a {'<'} b and b {'<'} c' instead of 'a < b < c' "
                f"(found {token.text!r} after a comparison)"
            )
        if token.kind == "NAME" and token.text == "in" and isinstance(expr, (Compare, Membership)):
            self.fail("comparisons cannot be chained: combine them with 'and'")
        if token.kind == "LBRACKET":
            self.fail("subscripts (x[...]) are not supported")
        if token.kind == "LPAREN":
            self.fail("only exists(path) and empty(path) can be called")
        if token.kind == "DOT":
            self.fail("attribute access is only allowed on field paths")
        if token.kind == "NAME" and token.text in _FOREIGN_WORDS:
            self.fail(_FOREIGN_WORDS[token.text])
        if token.kind == "NAME" and token.text.lower() in ("and", "or", "not", "in") and token.text not in KEYWORDS:
            self.fail(f"keywords are lower case: write {token.text.lower()!r}")
        self.fail(f"unexpected {self.describe(token)}; expected an operator or the end of the expression")

    def parse_or(self) -> Expr:
        first = self.parse_and()
        operands = [first]
        while self.is_word("or"):
            self.advance()
            operands.append(self.parse_and())
        if len(operands) == 1:
            return first
        return BoolOp("or", tuple(operands), self.span(first.span.start, operands[-1].span.end))

    def parse_and(self) -> Expr:
        first = self.parse_not()
        operands = [first]
        while self.is_word("and"):
            self.advance()
            operands.append(self.parse_not())
        if len(operands) == 1:
            return first
        return BoolOp("and", tuple(operands), self.span(first.span.start, operands[-1].span.end))

    def parse_not(self) -> Expr:
        if self.is_word("not"):
            token = self.advance()
            self.enter(token)
            operand = self.parse_not()
            self.leave()
            return Not(operand, self.span(token.start, operand.span.end))
        return self.parse_comparison()

    def parse_comparison(self) -> Expr:
        left = self.parse_additive()
        token = self.token
        if token.kind == "OP" and token.text in COMPARE_OPS:
            self.advance()
            right = self.parse_additive()
            expr: Expr = Compare(token.text, left, right, self.span(left.span.start, right.span.end))  # type: ignore[arg-type]
        elif self.is_word("in"):
            self.advance()
            right = self.parse_additive()
            expr = Membership(left, right, False, self.span(left.span.start, right.span.end))
        elif self.is_word("not") and self.is_word("in", self.peek()):
            self.advance()
            self.advance()
            right = self.parse_additive()
            expr = Membership(left, right, True, self.span(left.span.start, right.span.end))
        else:
            return left
        after = self.token
        if (after.kind == "OP" and after.text in COMPARE_OPS) or self.is_word("in") or (
            self.is_word("not") and self.is_word("in", self.peek())
        ):
            self.fail(
                f"comparisons cannot be chained (found {after.text!r} after a comparison): "
                "write 'a < b and b < c' instead of 'a < b < c'",
                after,
            )
        return expr

    def parse_additive(self) -> Expr:
        left = self.parse_term()
        while self.token.kind == "OP" and self.token.text in ("+", "-"):
            op = self.advance().text
            right = self.parse_term()
            left = Arith(op, left, right, self.span(left.span.start, right.span.end))  # type: ignore[arg-type]
        return left

    def parse_term(self) -> Expr:
        left = self.parse_unary()
        while self.token.kind == "OP" and self.token.text in ("*", "/"):
            op = self.advance().text
            right = self.parse_unary()
            left = Arith(op, left, right, self.span(left.span.start, right.span.end))  # type: ignore[arg-type]
        return left

    def parse_unary(self) -> Expr:
        token = self.token
        if token.kind == "OP" and token.text == "-":
            self.advance()
            number = self.token
            if number.kind == "NUMBER" and number.start == token.end:
                # "-2" is a negative literal (so list literals can hold it); "- 2" and "-(2)" negate.
                self.advance()
                return Literal_(-number.value, self.span(token.start, number.end))  # type: ignore[operator]
            self.enter(token)
            operand = self.parse_unary()
            self.leave()
            return Negate(operand, self.span(token.start, operand.span.end))
        if token.kind == "OP" and token.text == "+":
            self.fail("unary '+' is not supported")
        return self.parse_primary()

    def parse_primary(self) -> Expr:
        token = self.token
        if token.kind == "NUMBER":
            self.advance()
            return self.no_postfix(Literal_(token.value, self.span(token.start, token.end)))  # type: ignore[arg-type]
        if token.kind == "STRING":
            self.advance()
            return self.no_postfix(Literal_(token.value, self.span(token.start, token.end)))  # type: ignore[arg-type]
        if token.kind == "LPAREN":
            self.advance()
            if self.token.kind == "RPAREN":
                self.fail("empty parentheses: tuples and calls are not supported", self.token)
            self.enter(token)
            inner = self.parse_or()
            self.leave()
            if self.token.kind == "COMMA":
                self.fail("tuples are not supported; use a list literal [...] on the right of 'in'")
            if self.token.kind != "RPAREN":
                self.fail(f"expected ')' to close the '(' at column {self.span(token.start, token.end).column}, "
                          f"found {self.describe(self.token)}")
            self.advance()
            return self.no_postfix(inner)
        if token.kind == "LBRACKET":
            return self.no_postfix(self.parse_list())
        if token.kind == "NAME":
            return self.parse_name()
        if token.kind == "EOF":
            self.fail("unexpected end of expression; expected a value")
        if token.kind == "OP" and token.text in (*COMPARE_OPS, "*", "/"):
            self.fail(f"unexpected operator {token.text!r}; expected a value")
        self.fail(f"unexpected {self.describe(token)}; expected a value")

    def no_postfix(self, expr: Expr) -> Expr:
        """Reject ``(...).x``, ``"a".upper``, ``x[0]``, ``(f)(x)`` after a non-path value."""
        token = self.token
        if token.kind == "DOT":
            self.fail("attribute access is only allowed on field paths")
        if token.kind == "LBRACKET":
            self.fail("subscripts (x[...]) are not supported")
        if token.kind == "LPAREN":
            self.fail("only exists(path) and empty(path) can be called")
        return expr

    def parse_literal_in_list(self) -> Literal_:
        if self.token.kind == "LBRACKET":
            self.fail("lists cannot be nested")
        expr = self.parse_unary()
        if isinstance(expr, Literal_):
            return expr
        raise ExprSyntaxError(
            "a list literal may contain only literals (numbers, strings, true/false, dates)", expr.span
        )

    def parse_list(self) -> ListLiteral:
        open_token = self.advance()
        items: list[Literal_] = []
        while self.token.kind != "RBRACKET":
            if self.token.kind == "EOF":
                self.fail("list is not closed; expected ']'")
            items.append(self.parse_literal_in_list())
            if self.token.kind == "COMMA":
                self.advance()
            elif self.token.kind != "RBRACKET":
                self.fail(f"expected ',' or ']' in list, found {self.describe(self.token)}")
        close = self.advance()
        return ListLiteral(tuple(items), self.span(open_token.start, close.end))

    def parse_name(self) -> Expr:
        token = self.token
        word = token.text
        if word in ("true", "false"):
            self.advance()
            return self.no_postfix(Literal_(word == "true", self.span(token.start, token.end)))
        if word in KEYWORDS:
            self.fail(f"unexpected keyword {word!r}; expected a value")
        if word in _FOREIGN_WORDS:
            self.fail(_FOREIGN_WORDS[word])
        if word in ("True", "False", "TRUE", "FALSE"):
            self.fail(f"keywords are lower case: write {word.lower()!r}")
        if word.lower() in ("and", "or", "not", "in"):
            self.fail(f"keywords are lower case: write {word.lower()!r}")
        if self.peek().kind == "LPAREN":
            return self.no_postfix(self.parse_call())
        return self.no_postfix(self.parse_path())

    def parse_path(self) -> FieldRef:
        first = self.token
        parts: list[str] = []
        last = first
        while True:
            token = self.token
            if token.kind != "NAME":
                self.fail(f"expected a field name after '.', found {self.describe(token)}")
            if token.text.startswith("_"):
                self.fail(f"path segment {token.text!r} starts with '_': not allowed")
            if token.text in KEYWORDS:
                self.fail(f"{token.text!r} is a keyword and cannot be a field name")
            parts.append(token.text)
            last = self.advance()
            if self.token.kind != "DOT":
                break
            self.advance()
        return FieldRef(".".join(parts), self.span(first.start, last.end))

    def parse_call(self) -> Expr:
        name = self.advance()
        if name.text == "date":
            return self.parse_date(name)
        if name.text not in FUNCTIONS:
            self.fail(
                f"unknown function {name.text!r}; only exists(path), empty(path) and date(\"YYYY-MM-DD\") "
                "can be called",
                name,
            )
        self.advance()  # (
        if self.token.kind == "RPAREN":
            self.fail(f"{name.text}() needs one field path")
        self.enter(name)
        arg = self.parse_or()
        self.leave()
        if not isinstance(arg, FieldRef):
            raise ExprSyntaxError(f"the argument of {name.text}() must be a field path", arg.span)
        if self.token.kind == "COMMA":
            self.fail(f"{name.text}() takes exactly one field path")
        if self.token.kind != "RPAREN":
            self.fail(f"expected ')' after the argument of {name.text}(), found {self.describe(self.token)}")
        close = self.advance()
        return Call(name.text, (arg,), self.span(name.start, close.end))  # type: ignore[arg-type]

    def parse_date(self, name: Token) -> Literal_:
        self.advance()  # (
        token = self.token
        if token.kind != "STRING":
            self.fail('date() takes one string "YYYY-MM-DD"')
        self.advance()
        text = str(token.value)
        if not _ISO_DATE_RE.fullmatch(text):
            self.fail(f'date {text!r} is not written as "YYYY-MM-DD"', token)
        try:
            value = dt.date.fromisoformat(text)
        except ValueError as exc:
            self.fail(f"date {text!r} is not a calendar date ({exc})", token)
        if self.token.kind != "RPAREN":
            self.fail('date() takes one string "YYYY-MM-DD"; expected \')\'')
        close = self.advance()
        return Literal_(value, self.span(name.start, close.end))


def _tree_depth(expr: Expr) -> int:
    """Depth of the syntax tree, computed without recursion (long operator chains nest)."""
    deepest = 0
    stack: list[tuple[Expr, int]] = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, (Not, Negate)):
            stack.append((node.operand, depth + 1))
        elif isinstance(node, (Arith, Compare)):
            stack.extend(((node.left, depth + 1), (node.right, depth + 1)))
        elif isinstance(node, Membership):
            stack.extend(((node.item, depth + 1), (node.container, depth + 1)))
        elif isinstance(node, BoolOp):
            stack.extend((o, depth + 1) for o in node.operands)
        elif isinstance(node, Call):
            stack.extend((a, depth + 1) for a in node.args)
        elif isinstance(node, ListLiteral):
            stack.extend((a, depth + 1) for a in node.items)
    return deepest


def parse(text: str) -> Expr:
    """Parse one condition; raise :class:`ExprSyntaxError` with the position of the problem."""
    if not isinstance(text, str):
        raise ExprSyntaxError(f"expression must be text, not {type(text).__name__}", Span(0, 0, 1, 1))
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExprSyntaxError(
            f"expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_LENGTH}",
            _Positions(text).span(MAX_EXPRESSION_LENGTH, len(text)),
        )
    expr = Parser(text).parse()
    if _tree_depth(expr) > MAX_DEPTH:
        raise ExprSyntaxError(
            f"expression nests too deeply (more than {MAX_DEPTH} levels); split it or use fewer operators in one chain",
            expr.span,
        )
    return expr


__all__ = ["MAX_DEPTH", "MAX_EXPRESSION_LENGTH", "ExprSyntaxError", "Token", "parse", "tokenize"]
