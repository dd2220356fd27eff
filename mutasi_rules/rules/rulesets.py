"""Rule files: the pydantic models of a rule set, and loading them from YAML.

A rule file is data (docs/rule-language.md). Loading parses every ``when`` expression with
the project's own parser and checks it against the fact schema of the rule's scope, so a
rule set that loads is a rule set the engine can run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mutasi_rules.core.canonical import sha256_of
from mutasi_rules.core.i18n import N_, localized
from mutasi_rules.data.facts import (
    SCOPES,
    ExtensionAttribute,
    FactSchema,
    FieldType,
    Scope,
    calendar_difference,
    fact_schema,
    read_path,
)
from mutasi_rules.data.models import JabatanKind, ScorePoints
from mutasi_rules.data.yaml_source import MAX_YAML_VALUES as MAX_YAML_VALUES  # noqa: PLC0414 - re-exported
from mutasi_rules.data.yaml_source import YamlPath as _YamlPath
from mutasi_rules.data.yaml_source import YamlSource as _Source
from mutasi_rules.data.yaml_source import compose as _compose
from mutasi_rules.data.yaml_source import dotted as _dotted
from mutasi_rules.data.yaml_source import pydantic_problems as _pydantic_problems
from mutasi_rules.problems import InputError, Problem, Problems
from mutasi_rules.rules.language.ast import BoolOp, Compare, Expr, FieldRef, Literal_, Not, field_paths
from mutasi_rules.rules.language.checker import check, check_path, did_you_mean
from mutasi_rules.rules.language.parser import ExprSyntaxError, parse

RuleId = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_.\-]*$")]


class Localized(BaseModel):
    """A text in Bahasa Indonesia (``id``) and English (``en``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.id

    @classmethod
    def of(cls, message: str | tuple[str, str], **values: object) -> Localized:
        """A text of the message catalogue (marked with ``N_``/``NC_``) in both languages, its ``{name}``
        placeholders filled; a :class:`Localized` value fills each language with its own text."""

        def text(lang: str) -> str:
            words = localized(message, lang)
            if not values:
                return words
            return words.format(**{k: v.get(lang) if isinstance(v, Localized) else v for k, v in values.items()})

        return cls(id=text("id"), en=text("en"))


class Effect(str, Enum):
    BLOCK = "block"
    WARN = "warn"
    REQUIRE_TRAINING = "require_training"
    SCORE = "score"
    CLASSIFY = "classify"


@dataclass(frozen=True)
class EffectSpec:
    """What a rule effect needs and means: the one table that loading, the engine, the pipeline,
    explanations, notices and the docs read. A new effect is one entry here (plus its use)."""

    effect: Effect
    parameters: tuple[str, ...]
    #: Its name and what it does, in English marked for the catalogue (both languages: :attr:`label`, :attr:`meaning`).
    label_text: str
    meaning_text: str
    #: The subject is not eligible (the pipeline's and why-not's "block").
    blocks: bool = False
    #: A move it fires on is conditional on something done first (a training).
    conditional: bool = False
    #: Told to the person moved, in the letter (reasons for the move, not hidden machinery).
    in_notice: bool = False

    @functools.cached_property
    def label(self) -> Localized:
        return Localized.of(self.label_text)

    @functools.cached_property
    def meaning(self) -> Localized:
        return Localized.of(self.meaning_text)


#: Rule keys that carry an effect's parameters; each effect needs exactly its own.
EFFECT_PARAMETERS = ("training", "component", "points", "label")

EFFECTS: dict[Effect, EffectSpec] = {spec.effect: spec for spec in (
    EffectSpec(Effect.BLOCK, (), N_("blocks"), N_("the subject is not eligible"), blocks=True),
    EffectSpec(Effect.WARN, (), N_("warning"), N_("eligible, with a warning shown in the explanation"),
               in_notice=True),
    EffectSpec(Effect.REQUIRE_TRAINING, ("training",), N_("training required"),
               N_("eligible once the named training or certificate is obtained"), conditional=True, in_notice=True),
    EffectSpec(Effect.SCORE, ("component", "points"), N_("score component"),
               N_("adds points to a named score component"), in_notice=True),
    EffectSpec(Effect.CLASSIFY, ("label",), N_("classification"),
               N_("attaches a label (e.g. kekurangan, kelebihan, seimbang)")),
)}


#: What sets a rule's number or requirement (see docs/legal-basis.md).
BasisKind = Literal["statutory", "convention", "agency_policy"]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RuleId
    title: Localized
    scope: Scope
    when: str = Field(min_length=1, description="Condition in the rule expression language")
    effect: Effect
    training: str | None = Field(default=None, description="require_training: the training or certificate")
    component: str | None = Field(default=None, description="score: the score component")
    points: ScorePoints | None = Field(default=None, description="score: points added when the condition holds "
                                                                   "(finite, -10000 to 10000)")
    label: str | None = Field(default=None, description="classify: the label attached")
    message: Localized = Field(description="Shown when the rule fires; {path} placeholders read facts")
    legal_basis: str = Field(min_length=1, description="Dasar hukum, at article level where the instrument has one")
    basis_kind: BasisKind | None = Field(
        default=None,
        description="What sets the rule's number or requirement: the cited instrument itself ('statutory'), a "
        "commonly applied convention ('convention'), or the agency's own policy ('agency_policy')",
    )
    overridable: bool = Field(default=False, description="May an agency rule set replace this rule?")
    replaces: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_.\-]*/[a-z0-9][a-z0-9_.\-]*$",
        description="'<ruleset id>/<rule id>' of an overridable rule this rule replaces where its rule set applies",
    )

    @model_validator(mode="after")
    def _effect_parameters(self) -> Rule:
        needs = EFFECTS[self.effect].parameters
        for name in needs:
            if getattr(self, name) is None:
                raise ValueError(f"effect {self.effect.value} needs '{name}'")
        for name in EFFECT_PARAMETERS:
            if name not in needs and getattr(self, name) is not None:
                raise ValueError(f"'{name}' does not apply to effect {self.effect.value}")
        return self


class AppliesTo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    units: list[str] = Field(default_factory=list, description="Unit ids (with their sub-units); empty: all")
    position_kinds: list[JabatanKind] = Field(default_factory=list, description="Empty: all")

    def covers(self, unit_path: Sequence[str], kind: JabatanKind | str | None) -> bool:
        """Whether a subject in ``unit_path`` (the unit and its ancestors) holding a position
        of ``kind`` is covered (the engine's guard, for reporting; None ignores the kind)."""
        if self.units and not set(self.units) & set(unit_path):
            return False
        if self.position_kinds and kind is not None:
            return JabatanKind(kind) in self.position_kinds
        return True


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RuleId
    version: str = Field(min_length=1)
    title: Localized
    authority: str = Field(min_length=1, description="Who issued the norms")
    source: str = Field(min_length=1, description="The document the rule set encodes")
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    effective_from: dt.date
    effective_until: dt.date | None = None

    @model_validator(mode="after")
    def _validity_ordered(self) -> RuleSet:
        if self.effective_until is not None and self.effective_until < self.effective_from:
            raise ValueError(f"effective_until {self.effective_until} is before effective_from {self.effective_from}")
        return self

    def in_force(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_until is None or day <= self.effective_until)


class RuleFile(BaseModel):
    """The top level of a rule file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ruleset: RuleSet
    rules: list[Rule] = Field(min_length=1)


class RuleSetRef(BaseModel):
    """Which rule set, and which exact text of it, a result was computed with (results and reports cite it)."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    origin: str
    sha256: str


@dataclass(frozen=True)
class LoadedRuleSet:
    """A validated rule set with where it came from and its checked expressions."""

    ruleset: RuleSet
    rules: tuple[Rule, ...]
    origin: str  # file path, or "plugin:<name>==<version>"
    sha256: str  # of the canonical JSON of the RuleFile
    expressions: dict[str, Expr] = field(default_factory=dict)  # rule id -> checked expression
    # Where things are in the source, for cross-file problems: "ruleset" and each rule id
    # -> (line, column), 1-based. Empty for rule sets not loaded from text.
    locations: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The YAML it was loaded from, so an audit record can store and replay the exact rules.
    text: str = ""

    @property
    def id(self) -> str:
        return self.ruleset.id

    @property
    def version(self) -> str:
        return self.ruleset.version


# =========================================================================== loading
#
# YAML is read with PyYAML's SafeLoader only (no tag constructs an object), composed to a
# node tree first so that every value -- and every character of a ``when`` expression --
# maps back to file:line:column.

MAX_RULE_FILE_BYTES = 2_000_000
MAX_FACT_PATHS_PER_SCOPE = 200  # durable_rules carries at most 255 properties per message

def _expression_position(source: _Source, path: _YamlPath, offset: int) -> tuple[int | None, int | None]:
    offsets = source.value_offsets(path)
    if not offsets:
        return source.locate(path, key=False)
    if offset >= len(offsets):  # at the end of the expression: just after its last character
        return source.position(offsets[-1] + 1)
    return source.position(offsets[offset])


def _check_when(
    rule_index: int, text: str, schema: FactSchema, source: _Source, problems: Problems
) -> Expr | None:
    path: _YamlPath = ("rules", rule_index, "when")
    where = _dotted(path)
    try:
        expr = parse(text)
    except ExprSyntaxError as exc:
        line, column = _expression_position(source, path, exc.span.start)
        problems.error(
            "rule.syntax", exc.message, file=source.origin, line=line, column=column, field=where, value=text
        )
        return None
    from mutasi_rules.rules.durable_compile import compile_problem  # same layer; imported here: it imports this module

    _, found = check(expr, schema, compile_check=compile_problem)
    for problem in found:
        line, column = _expression_position(source, path, problem.span.start)
        problems.add(
            Problem(
                severity=problem.severity,
                code=problem.code,
                message=problem.message,
                file=source.origin,
                line=line,
                column=column,
                field=where,
                value=text,
            )
        )
    return None if any(p.severity == "error" for p in found) else expr


# --------------------------------------------------------------------------- messages

# Numeric specs: Python's, restricted; `up` / `down` round toward +inf / -inf, so a value
# shown next to a strict threshold never lands on the threshold's other side
# (EJ 1.1004 with `.2f up` shows 1.11, never "1.10 is above 1.10").
_FORMAT_SPEC_RE = re.compile(r"(?:,?(?:\.[0-6][f%])?|,?d|\.[0-6]f)")
_DIRECTED_RE = re.compile(r"(?P<spec>,?\.[0-6][f%]) (?P<mode>up|down)")
# Duration specs on date fields: `since [REF]` is the calendar time from the date forward to
# REF, `until [REF]` from the date back to REF (REF: a date path, default `as_of`).
_DURATION_RE = re.compile(r"(?P<mode>since|until)(?: +(?P<ref>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*))?")
DURATION_DEFAULT_REFERENCE = "as_of"


@dataclass(frozen=True)
class Placeholder:
    """``{path}`` or ``{path:fmt}`` in a message template; offsets of the braces."""

    path: str
    format_spec: str
    start: int
    end: int

    @functools.cached_property
    def duration(self) -> tuple[str, str] | None:
        """(``since``/``until``, reference path) for a duration spec, else None."""
        match = _DURATION_RE.fullmatch(self.format_spec.strip())
        if match is None:
            return None
        return match["mode"], match["ref"] or DURATION_DEFAULT_REFERENCE

    @functools.cached_property
    def reads(self) -> tuple[str, ...]:
        """Every fact path the placeholder reads (a duration also reads its reference)."""
        duration = self.duration
        return (self.path, duration[1]) if duration else (self.path,)


class TemplateError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@functools.lru_cache(maxsize=4096)
def parse_template(template: str) -> tuple[str | Placeholder, ...]:
    """Split a message template into literal text and placeholders (``{{``/``}}`` escape).

    Cached: every finding renders its rule's message, and a rule has one template.
    """
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "{" and template.startswith("{{", i):
            literal.append("{")
            i += 2
        elif ch == "}" and template.startswith("}}", i):
            literal.append("}")
            i += 2
        elif ch == "}":
            raise TemplateError("single '}' in message; write '}}' for a literal brace", i)
        elif ch == "{":
            close = template.find("}", i + 1)
            if close < 0:
                raise TemplateError("'{' is not closed; write '{{' for a literal brace", i)
            inner = template[i + 1 : close]
            if "{" in inner:
                raise TemplateError("placeholders cannot be nested", i)
            path, _, spec = inner.partition(":")
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Placeholder(path.strip(), spec, i, close + 1))
            i = close + 1
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def message_paths(template: str) -> list[str]:
    """The fact paths a message template reads (sorted, no repeats; [] if malformed)."""
    try:
        return sorted({path for p in parse_template(template) if isinstance(p, Placeholder) for path in p.reads})
    except TemplateError:
        return []


def _check_template(
    template: str, schema: FactSchema, path: _YamlPath, source: _Source, problems: Problems
) -> None:
    def report(code: str, message: str, offset: int) -> None:
        line, column = _expression_position(source, path, offset)
        problems.error(code, message, file=source.origin, line=line, column=column, field=_dotted(path), value=template)

    try:
        parts = parse_template(template)
    except TemplateError as exc:
        report("rule.message", exc.message, exc.offset)
        return
    for part in parts:
        if not isinstance(part, Placeholder):
            continue
        offset = part.start + 1
        if "!" in part.path:
            report("rule.message", "conversions (!r, !s, !a) are not allowed in placeholders",
                   offset + part.path.index("!"))
            continue
        try:
            expr = parse(part.path)
        except ExprSyntaxError as exc:
            report("rule.message", f"placeholder {{{part.path}}}: {exc.message}", offset + exc.span.start)
            continue
        if not isinstance(expr, FieldRef):
            report("rule.message", f"placeholder {{{part.path}}} must be a fact path", offset)
            continue
        spec, found = check_path(expr, schema)
        for problem in found:
            report(problem.code, f"placeholder: {problem.message}", offset)
        if part.format_spec:
            _check_format_spec(part, spec, schema, report, offset + len(part.path) + 1)


def _check_format_spec(
    part: Placeholder, spec: Any, schema: FactSchema, report: Any, offset: int
) -> None:
    fmt = part.format_spec
    duration = part.duration
    if duration is not None:
        if spec is not None and spec.type is not FieldType.DATE:
            report("rule.message", f"duration format {fmt!r} applies to dates; {part.path!r} is {spec.type_name}",
                   offset)
        try:
            ref_expr = parse(duration[1])
        except ExprSyntaxError as exc:
            report("rule.message", f"duration reference {duration[1]!r}: {exc.message}", offset)
            return
        ref_spec, found = check_path(ref_expr, schema) if isinstance(ref_expr, FieldRef) else (None, [])
        for problem in found:
            report(problem.code, f"duration reference: {problem.message}", offset)
        if ref_spec is not None and ref_spec.type is not FieldType.DATE:
            report("rule.message", f"duration reference {duration[1]!r} is {ref_spec.type_name}, not a date", offset)
        return
    if not (_FORMAT_SPEC_RE.fullmatch(fmt) or _DIRECTED_RE.fullmatch(fmt)):
        report(
            "rule.message",
            f"format spec {fmt!r} is not allowed (use .1f, .0f, d, ,d, .2f up, .2f down, since, until or none)",
            offset,
        )
    elif spec is not None and spec.type is not FieldType.NUMBER:
        report("rule.message", f"format spec {fmt!r} applies to numbers; {part.path!r} is {spec.type_name}", offset)


_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def numeric_thresholds(expr: Expr, negated: bool = False) -> list[tuple[str, str, float]]:
    """``(path, operator, number)`` of every ``path OP number`` comparison in a condition, with
    ``not`` pushed down: the comparison as it holds when the rule fires through it."""
    if isinstance(expr, Not):
        return numeric_thresholds(expr.operand, not negated)
    if isinstance(expr, BoolOp):
        return [t for operand in expr.operands for t in numeric_thresholds(operand, negated)]
    if isinstance(expr, Compare):
        op: str = expr.op
        left, right = expr.left, expr.right
        if isinstance(left, Literal_) and isinstance(right, FieldRef):
            op, left, right = _MIRRORED[op], right, left
        if (isinstance(left, FieldRef) and isinstance(right, Literal_) and isinstance(right.value, (int, float))
                and not isinstance(right.value, bool)):
            return [(left.path, _NEGATED[op] if negated else op, float(right.value))]
    return []


def _check_rounding(expr: Expr, template: str, path: _YamlPath, source: _Source, problems: Problems) -> None:
    """Warn where a message shows a thresholded number with a spec that can round it across
    the threshold (``{x:.1f}`` for ``x < 2`` shows 1.99 as "2.0")."""
    try:
        parts = [p for p in parse_template(template) if isinstance(p, Placeholder)]
    except TemplateError:
        return
    for field_path, op, limit in numeric_thresholds(expr):
        for part in parts:
            if part.path != field_path or not part.format_spec or _DIRECTED_RE.fullmatch(part.format_spec):
                continue
            spec = part.format_spec
            places = int(spec[-2]) if re.search(r"\.\d[f%]$", spec) else 0
            scaled = limit * 100 if spec.endswith("%") else limit
            exact = round(scaled, places) == scaled
            if op in ("<", ">") or not exact:
                direction = "down" if op in ("<", "<=") else "up"
                line, column = _expression_position(source, path, part.start + 1)
                problems.warning(
                    "rule.message_rounding",
                    f"{{{part.path}:{spec}}} can round {part.path} across the threshold of "
                    f"'{part.path} {op} {limit:g}' (the message would contradict the rule); write "
                    f"'{spec if _FORMAT_SPEC_RE.fullmatch(spec) and '.' in spec else '.1f'} {direction}', "
                    "or a duration (since/until) of the dates it is computed from",
                    file=source.origin, line=line, column=column, field=_dotted(path), value=template,
                )


_BOOL_WORDS = {"id": ("ya", "tidak"), "en": ("yes", "no")}


_ID_SEPARATORS = str.maketrans(".,", ",.")


def localize_number(text: str, lang: str | None) -> str:
    """Indonesian writes 1.234,5 where English writes 1,234.5."""
    if lang != "id":
        return text
    return text.translate(_ID_SEPARATORS)


def display_text(value: Any, lang: str | None) -> str:
    """A fact value as a message shows it (enum labels, ISO dates, localized numbers and yes/no)."""
    if value is None:
        return "-"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        yes, no = _BOOL_WORDS.get(lang or "", ("true", "false"))
        return yes if value else no
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return localize_number(repr(round(value, 6)), lang)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return ", ".join(display_text(v, lang) for v in items) if items else "-"
    return str(value)


def render_message(template: str, values: Mapping[str, Any] | BaseModel, lang: str | None = None) -> str:
    """Fill a message template from fact values.

    ``values`` maps dotted paths to values, or is a (nested) fact mapping or model.
    Values are shown in display form: enum labels, ISO dates, lists joined by commas,
    and ``-`` for a missing value. A numeric spec (``.1f``, ``.2f up``...) applies to numbers,
    a duration spec (``since``, ``until REF``) to dates. Booleans read ``ya``/``tidak``
    (``lang="id"``), ``yes``/``no`` (``"en"``), else ``true``/``false``.
    """
    out: list[str] = []
    for part in parse_template(template):
        if isinstance(part, str):
            out.append(part)
            continue
        value = _lookup(values, part.path)
        duration = part.duration
        if duration is not None:
            out.append(format_duration(value, _lookup(values, duration[1]), duration[0], lang))
            continue
        if part.format_spec and isinstance(value, (int, float)) and not isinstance(value, bool):
            text = format_number(value, part.format_spec)
            if text is not None:
                out.append(localize_number(text, lang))
                continue
        out.append(display_text(value, lang))
    return "".join(out)


def _lookup(values: Mapping[str, Any] | BaseModel, path: str) -> Any:
    if isinstance(values, Mapping) and path in values:
        return values[path]
    return read_path(values, path)


def format_number(value: float, spec: str) -> str | None:
    """``value`` with an allowed numeric spec (None when the spec does not fit the value).

    ``<spec> up`` / ``<spec> down`` round toward +inf / -inf at the spec's precision, from the
    value's shortest decimal form (1.1 stays 1.1, not 1.1000000000000001).
    """
    directed = _DIRECTED_RE.fullmatch(spec)
    if directed is None:
        try:
            return format(value, spec)
        except ValueError:
            return None  # e.g. "d" on a float: the caller falls back to the plain display form
    base = directed["spec"]
    places = int(base[-2])
    exact = Decimal(repr(float(value)))
    if base.endswith("%"):
        exact *= 100
        base = base[:-1] + "f"
    rounding = ROUND_CEILING if directed["mode"] == "up" else ROUND_FLOOR
    rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=rounding)
    text = format(rounded, base)
    return text + "%" if directed["spec"].endswith("%") else text


_DURATION_WORDS: dict[str, tuple[tuple[str, str], ...]] = {
    "id": (("tahun", "tahun"), ("bulan", "bulan"), ("hari", "hari")),
    "en": (("year", "years"), ("month", "months"), ("day", "days")),
}


def format_duration(value: Any, reference: Any, mode: str, lang: str | None = None) -> str:
    """``1 tahun 11 bulan 27 hari`` / ``1 year 11 months 27 days`` between two dates, or ``-``.

    Counted from ``value`` (the date the placeholder names): ``since`` forward to the later
    ``reference``, ``until`` back to the earlier ``reference`` (see :func:`calendar_difference`).
    Zero parts are left out (``2 tahun 3 hari``); no time at all reads ``0 hari``. A leading
    ``-`` marks dates the other way round (``since`` a date after the reference).
    """
    if not isinstance(value, dt.date) or not isinstance(reference, dt.date):
        return "-"
    reversed_ = reference < value if mode == "since" else reference > value
    words = _DURATION_WORDS["en" if lang == "en" else "id"]
    parts = [f"{n} {one if n == 1 else many}"
             for n, (one, many) in zip(calendar_difference(value, reference), words, strict=True) if n]
    return ("-" if reversed_ else "") + (" ".join(parts) if parts else f"0 {words[2][1]}")


# --------------------------------------------------------------------------- one file


def _load_text(
    text: str, origin: str, extensions: Sequence[ExtensionAttribute]
) -> tuple[LoadedRuleSet | None, Problems]:
    problems = Problems()
    source = _Source(text, origin)
    data = _compose(text, source, problems)
    if data is None:
        return None, problems
    if not isinstance(data, dict):
        problems.error(
            "rulefile.invalid", "a rule file is a mapping with keys 'ruleset' and 'rules'",
            file=origin, line=1, column=1
        )
        return None, problems
    rule_file: RuleFile | None = None
    try:
        rule_file = RuleFile.model_validate(data)
    except ValidationError as exc:
        _pydantic_problems(exc, source, problems)

    schemas: dict[str, FactSchema] = {}
    expressions: dict[str, Expr] = {}
    rules = data.get("rules")
    seen_ids: dict[str, int] = {}
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict):
            continue
        rule_id = rule.get("id")
        if isinstance(rule_id, str):
            if rule_id in seen_ids:
                line, column = source.locate(("rules", index, "id"), key=False)
                problems.error(
                    "ruleset.duplicate_rule",
                    f"rule id {rule_id!r} is used twice in this rule set (first as rules[{seen_ids[rule_id]}])",
                    file=origin,
                    line=line,
                    column=column,
                    field=f"rules[{index}].id",
                    value=rule_id,
                )
            seen_ids.setdefault(rule_id, index)
        scope = rule.get("scope")
        if scope not in SCOPES:
            continue  # reported by validation; without a scope nothing can be checked
        schema = schemas.get(scope) or schemas.setdefault(scope, fact_schema(scope, extensions))
        when = rule.get("when")
        expr = None
        if isinstance(when, str) and when.strip():
            expr = _check_when(index, when, schema, source, problems)
            if expr is not None and isinstance(rule_id, str):
                expressions[rule_id] = expr
        training = rule.get("training")
        if isinstance(training, str):
            _check_template(training, schema, ("rules", index, "training"), source, problems)
        message = rule.get("message")
        if isinstance(message, dict):
            for lang in ("id", "en"):
                template = message.get(lang)
                if isinstance(template, str):
                    _check_template(template, schema, ("rules", index, "message", lang), source, problems)
                    if expr is not None:
                        _check_rounding(expr, template, ("rules", index, "message", lang), source, problems)

    if problems.errors or rule_file is None:
        return None, problems
    locations = {"ruleset": source.locate(("ruleset",), key=True)}
    for index, rule in enumerate(rule_file.rules):
        locations[rule.id] = source.locate(("rules", index, "id"), key=False)
    loaded = LoadedRuleSet(
        ruleset=rule_file.ruleset,
        rules=tuple(rule_file.rules),
        origin=origin,
        sha256=sha256_of(rule_file.model_dump(mode="json")),
        text=text,
        expressions=expressions,
        locations={k: (v[0] or 1, v[1] or 1) for k, v in locations.items()},
    )
    problems.extend(_size_problems(loaded))
    return (None if problems.errors else loaded), problems


def _size_problems(loaded: LoadedRuleSet) -> list[Problem]:
    """A rule set whose rules of one scope read more paths than one engine message carries."""
    per_scope: dict[str, set[str]] = {}
    for rule in loaded.rules:
        paths = per_scope.setdefault(rule.scope, set())
        expr = loaded.expressions.get(rule.id)
        if expr is not None:
            paths.update(field_paths(expr))
        paths.update(message_paths(rule.message.id))
        paths.update(message_paths(rule.message.en))
    line, column = loaded.locations.get("ruleset", (None, None))
    return [
        Problem(
            code="ruleset.too_many_paths",
            message=(
                f"rules of scope {scope} read {len(paths)} distinct fact paths; the engine carries at most "
                f"{MAX_FACT_PATHS_PER_SCOPE} per scope (durable_rules: 255 properties per message)"
            ),
            file=loaded.origin,
            line=line,
            column=column,
            field="rules",
        )
        for scope, paths in sorted(per_scope.items())
        if len(paths) > MAX_FACT_PATHS_PER_SCOPE
    ]


def load_ruleset_text(
    text: str | Mapping[str, Any] | RuleFile, origin: str, extensions: Sequence[ExtensionAttribute] = ()
) -> LoadedRuleSet:
    """Load one rule set from YAML text, or from a mapping / RuleFile (plugins contribute rule sets so).

    A mapping or model goes through the same checks as a file; its problems carry the
    field path but no line, since there is no text to point into.
    """
    if isinstance(text, str):
        loaded, problems = _load_text(text, origin, tuple(extensions))
    else:
        data = text.model_dump(mode="json") if isinstance(text, RuleFile) else text
        try:
            dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        except yaml.YAMLError as exc:
            raise InputError(
                f"rule set {origin}", [Problem(code="rulefile.invalid", message=f"not plain data: {exc}", file=origin)]
            ) from exc
        loaded, found = _load_text(dumped, origin, tuple(extensions))
        problems = Problems(p.model_copy(update={"line": None, "column": None}) for p in found)
        if loaded is not None:
            loaded = dataclasses.replace(loaded, locations={})
    problems.raise_if_errors(f"rule set {origin}")
    assert loaded is not None
    return loaded


def _read(path: Path, problems: Problems) -> str | None:
    try:
        size = path.stat().st_size
        if size > MAX_RULE_FILE_BYTES:
            problems.error(
                "rulefile.too_large", f"the file is {size} bytes; the limit is {MAX_RULE_FILE_BYTES}", file=str(path)
            )
            return None
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.error("rulefile.encoding", f"not UTF-8 text: {exc.reason} at byte {exc.start}", file=str(path))
    except OSError as exc:
        problems.error("rulefile.unreadable", f"cannot read the file: {exc.strerror or exc}", file=str(path))
    return None


def load_ruleset_file(
    path: str | os.PathLike[str], *, extensions: Sequence[ExtensionAttribute] = (), origin: str | None = None
) -> LoadedRuleSet:
    """Load and check one rule file (YAML, or a decision table holding one rule set); raise :class:`InputError`."""
    if is_decision_table(Path(path)):
        from mutasi_rules.rules.decision_tables import load_decision_table

        tables = load_decision_table(path, extensions=extensions, origin=origin)
        if len(tables) != 1:
            raise InputError(f"decision table {path}", [Problem(
                code="rulefile.several_rulesets", file=str(path),
                message=f"the workbook holds {len(tables)} rule sets; contribute one rule set per file")])
        return tables[0]
    problems = Problems()
    text = _read(Path(path), problems)
    problems.raise_if_errors(f"rule file {path}")
    assert text is not None
    return load_ruleset_text(text, origin or str(path), extensions)


def is_test_file(path: Path) -> bool:
    return path.name.endswith((".tests.yaml", ".tests.yml"))


def is_decision_table(path: Path) -> bool:
    """An Excel decision table (``mutasi_rules.rules.decision_tables``); Excel's ``~$`` lock files are not."""
    return path.suffix.lower() == ".xlsx" and not path.name.startswith("~$")


def is_rule_file(path: Path) -> bool:
    return (path.suffix in (".yaml", ".yml") and not is_test_file(path)) or is_decision_table(path)


def rule_file_paths(paths: Iterable[str | os.PathLike[str]], problems: Problems) -> list[Path]:
    """Rule files named or found (recursively, sorted) under directories; tests files skipped."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside = [p for p in sorted(path.rglob("*")) if is_rule_file(p) and p.is_file()]
            if not inside:  # an empty or wrong folder must not mean "no rules, everything allowed"
                problems.error("rulefile.none", "the folder holds no rule files (*.yaml, *.yml, *.xlsx)",
                               file=str(path))
            found.extend(inside)
        elif path.is_file():
            if not is_test_file(path):  # shell globs pick up the tests beside rule files
                found.append(path)
        else:
            problems.error("rulefile.not_found", "no such file or directory", file=str(path))
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path, None)
    return list(unique)


def default_rules_dir() -> Path:
    """The national rule sets shipped inside the package (the repository's ``rules/``)."""
    from mutasi_rules.core.locations import bundled_rules_dir

    return bundled_rules_dir()


def rule_file_origin(path: Path, roots: Sequence[Path]) -> str:
    """How a rule file is named in findings and audit records.

    A file found under an absolute directory is named from that directory's own name
    (``rules/national/transfer-norms.yaml``), so the same rules give the same output on
    every machine; a path the user gave relative stays as given.
    """
    for root in roots:
        if root.is_absolute() and root.is_dir() and path.is_relative_to(root):
            return (Path(root.name) / path.relative_to(root)).as_posix()
    return path.as_posix()


def collect_rulesets(
    paths: Iterable[str | os.PathLike[str]], *, extensions: Sequence[ExtensionAttribute] = ()
) -> tuple[list[LoadedRuleSet], Problems]:
    """Load every rule file under ``paths`` and run the cross-file checks; never raises.

    Returns the rule sets that loaded and every problem (of all files, and across them).
    """
    problems = Problems()
    loaded: list[LoadedRuleSet] = []
    roots = [Path(p) for p in paths]
    for path in rule_file_paths(roots, problems):
        if is_decision_table(path):
            from mutasi_rules.rules.decision_tables import collect_decision_table

            tables, found = collect_decision_table(path, extensions=extensions, origin=rule_file_origin(path, roots))
            problems.extend(found)
            loaded.extend(tables)
            continue
        text = _read(path, problems)
        if text is not None:
            _collect_text(rule_file_origin(path, roots), text, extensions, loaded, problems)
    problems.extend(check_rulesets(loaded))
    return loaded, problems


def collect_ruleset_texts(
    texts: Iterable[tuple[str, str]], *, extensions: Sequence[ExtensionAttribute] = ()
) -> tuple[list[LoadedRuleSet], Problems]:
    """Load rule files given as (name, text) -- e.g. posted to the HTTP service -- and check them together.

    As :func:`collect_rulesets`, never raises; problems name the given names.
    """
    problems = Problems()
    loaded: list[LoadedRuleSet] = []
    for origin, text in texts:
        size = len(text.encode("utf-8"))
        if size > MAX_RULE_FILE_BYTES:
            problems.error("rulefile.too_large", f"the file is {size} bytes; the limit is {MAX_RULE_FILE_BYTES}",
                           file=origin)
            continue
        _collect_text(origin, text, extensions, loaded, problems)
    problems.extend(check_rulesets(loaded))
    return loaded, problems


def _collect_text(origin: str, text: str, extensions: Sequence[ExtensionAttribute], loaded: list[LoadedRuleSet],
                  problems: Problems) -> None:
    one, found = _load_text(text, origin, tuple(extensions))
    problems.extend(found)
    if one is not None:
        loaded.append(one)


def load_rulesets(
    paths: Iterable[str | os.PathLike[str]], *, extensions: Sequence[ExtensionAttribute] = ()
) -> list[LoadedRuleSet]:
    """Load rule files and directories; raise :class:`InputError` with all problems of all files."""
    loaded, problems = collect_rulesets(paths, extensions=extensions)
    problems.raise_if_errors("rule sets")
    return loaded


# --------------------------------------------------------------------------- across files


def _where(loaded: LoadedRuleSet, key: str = "ruleset") -> dict[str, Any]:
    line, column = loaded.locations.get(key, (None, None))
    return {"file": loaded.origin, "line": line, "column": column}


def _overlap(a: RuleSet, b: RuleSet) -> bool:
    a_end = a.effective_until or dt.date.max
    b_end = b.effective_until or dt.date.max
    return a.effective_from <= b_end and b.effective_from <= a_end


def _validity(r: RuleSet) -> str:
    return f"{r.effective_from.isoformat()} to {r.effective_until.isoformat() if r.effective_until else 'open'}"


def check_rulesets(loaded: Sequence[LoadedRuleSet]) -> Problems:
    """Problems between rule sets: duplicates, overlapping versions, bad ``replaces``, size."""
    problems = Problems()
    by_key: dict[tuple[str, str], LoadedRuleSet] = {}
    by_id: dict[str, list[LoadedRuleSet]] = {}
    for one in loaded:
        key = (one.id, one.version)
        if key in by_key:
            problems.error(
                "ruleset.duplicate",
                f"rule set {one.id} version {one.version} is also defined in {by_key[key].origin}",
                value=one.id,
                **_where(one),
            )
            continue
        by_key[key] = one
        by_id.setdefault(one.id, []).append(one)
        seen: set[str] = set()
        for rule in one.rules:
            if rule.id in seen:
                problems.error(
                    "ruleset.duplicate_rule",
                    f"rule id {rule.id!r} is used twice in rule set {one.id}",
                    value=rule.id,
                    **_where(one, rule.id),
                )
            seen.add(rule.id)

    for rule_set_id, versions in by_id.items():
        for i, a in enumerate(versions):
            for b in versions[i + 1 :]:
                if _overlap(a.ruleset, b.ruleset):
                    problems.error(
                        "ruleset.overlapping_versions",
                        f"versions {a.version} ({_validity(a.ruleset)}, {a.origin}) and {b.version} "
                        f"({_validity(b.ruleset)}) of rule set {rule_set_id} are both in force on "
                        f"{max(a.ruleset.effective_from, b.ruleset.effective_from).isoformat()}",
                        value=b.version,
                        **_where(b),
                    )

    for one in by_key.values():
        for rule in one.rules:
            if rule.replaces is None:
                continue
            target_set, _, target_rule = rule.replaces.partition("/")
            where = {**_where(one, rule.id), "field": f"{rule.id}.replaces", "value": rule.replaces}
            if target_set == one.id:
                problems.error("rule.replaces", "a rule cannot replace a rule of its own rule set", **where)
                continue
            if target_set not in by_id:
                hint = did_you_mean(target_set, by_id)
                problems.error(
                    "rule.replaces", f"replaces a rule of rule set {target_set!r}, which is not loaded{hint}", **where
                )
                continue
            targets = [r for s in by_id[target_set] for r in s.rules if r.id == target_rule]
            if not targets:
                names = {r.id for s in by_id[target_set] for r in s.rules}
                problems.error(
                    "rule.replaces",
                    f"rule set {target_set} has no rule {target_rule!r}{did_you_mean(target_rule, names)}",
                    **where,
                )
                continue
            if not all(t.overridable for t in targets):
                problems.error(
                    "rule.replaces", f"rule {rule.replaces} is not overridable (overridable: false)", **where
                )
            elif any(t.scope != rule.scope for t in targets):
                problems.error(
                    "rule.replaces",
                    f"rule {rule.replaces} has scope {targets[0].scope}; this rule has scope {rule.scope}",
                    **where,
                )
        problems.extend(_size_problems(one) if not one.locations else [])
    return problems


# --------------------------------------------------------------------------- JSON Schema

RULE_FILE_SCHEMA_ID = "urn:mutasi-rules:schema:rule-file:1"


def rule_file_json_schema() -> dict[str, Any]:
    """JSON Schema of a rule file (for editor completion and validation of YAML)."""
    schema = RuleFile.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = RULE_FILE_SCHEMA_ID
    schema["title"] = "mutasi-rules rule file"
    schema["description"] = (
        "A rule set and its rules. Each rule's 'when' is a condition in the mutasi-rules expression "
        "language (docs/rule-language.md), checked against the fact schema of the rule's scope."
    )
    defs = schema.get("$defs", {})
    if "Effect" in defs:
        defs["Effect"]["description"] = (
            "block: not eligible; warn: eligible with a warning; require_training: eligible once the "
            "named training is obtained (needs 'training'); score: adds 'points' to score 'component'; "
            "classify: attaches 'label'"
        )
    rule = defs.get("Rule", {}).get("properties", {})
    if "scope" in rule:
        rule["scope"]["description"] = (
            "What one fact is: employee, position, unit, or candidate (an employee for a target position)"
        )
    if "when" in rule:
        rule["when"]["description"] = (
            "Condition: fact paths, literals, date(\"YYYY-MM-DD\"), comparisons < <= > >= == !=, "
            "in / not in, + - * /, and / or / not, exists(path), empty(list_path)"
        )
    return schema
