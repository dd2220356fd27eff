"""Rule sets written as decision tables in Excel, as Drools and DMN users write them.

One sheet per rule set::

    ruleset_id        | agency.dinkes-pontianak          <- header block: key in A, value in B
    version           | 2026.1
    title_id / title_en, authority, source, effective_from, effective_until,
    applies_to_units, applies_to_position_kinds (lists separated by ';')
                                                         <- a blank row
    rule_id | title_id | title_en | scope | candidate.position.programmes contains | ... | effect | ...
    vaksinator-training | ... | candidate | vaksinasi | ... | require_training | ...

Columns of the rules table: ``rule_id``, ``title_id``, ``title_en``, ``scope``, then
condition columns, then ``effect``, ``training``, ``component``, ``points``, ``label``,
``message_id``, ``message_en``, ``legal_basis``, ``basis_kind``, ``overridable``, ``replaces`` (the
order is free). A condition column's header names a fact path and an operator
(``employee.years_in_position <``, ``candidate.position.programmes contains``); each cell
holds a value, typed by the fact schema (a text, a number, ``ya``/``tidak``, a date; for
``in`` a list separated by ``;``); a blank cell or ``-`` means "any". A column headed
``when`` holds a whole condition in the rule language. A rule's conditions are joined
with ``and``.

Rules stay data: each cell becomes a literal of the rule language, the condition is parsed
and checked against the fact schema by the project's own parser and checker (never
``eval``), formulas are refused, and the compiled rule set goes through exactly the checks
of a YAML rule file. Problems are located as ``file.xlsx!Sheet!C7``. The compiled rule set
carries its YAML text, so the decision log records and replays it like any rule file.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mutasi_rules.data.cellformats import DateTextError, NumberTextError, parse_date_text, parse_decimal_text
from mutasi_rules.data.facts import SCOPES, ExtensionAttribute, FactSchema, FieldType, fact_schema
from mutasi_rules.problems import InputError, Problem, Problems
from mutasi_rules.rules.language.checker import check, did_you_mean
from mutasi_rules.rules.language.parser import ExprSyntaxError, parse

__all__ = ["DECISION_TABLE_SUFFIXES", "collect_decision_table", "compile_decision_table", "load_decision_table"]

DECISION_TABLE_SUFFIXES = (".xlsx",)
MAX_TABLE_BYTES = 2_000_000
MAX_UNPACKED_BYTES = 50_000_000  # a zip bomb is refused before it is read

#: Header-block keys -> path in the rule file.
RULESET_KEYS: dict[str, tuple[str, ...]] = {
    "ruleset_id": ("id",),
    "version": ("version",),
    "title_id": ("title", "id"),
    "title_en": ("title", "en"),
    "authority": ("authority",),
    "source": ("source",),
    "effective_from": ("effective_from",),
    "effective_until": ("effective_until",),
    "applies_to_units": ("applies_to", "units"),
    "applies_to_position_kinds": ("applies_to", "position_kinds"),
}
_LIST_KEYS = {"applies_to_units", "applies_to_position_kinds"}
_DATE_KEYS = {"effective_from", "effective_until"}

#: Rules-table columns that are not conditions -> path in the rule.
RULE_COLUMNS: dict[str, tuple[str, ...]] = {
    "rule_id": ("id",),
    "title_id": ("title", "id"),
    "title_en": ("title", "en"),
    "scope": ("scope",),
    "effect": ("effect",),
    "training": ("training",),
    "component": ("component",),
    "points": ("points",),
    "label": ("label",),
    "message_id": ("message", "id"),
    "message_en": ("message", "en"),
    "legal_basis": ("legal_basis",),
    "basis_kind": ("basis_kind",),
    "overridable": ("overridable",),
    "replaces": ("replaces",),
}

#: Operators of a condition header, longest first so ``not in`` is not read as ``in``.
OPERATORS = ("not contains", "contains", "not in", "in", "==", "!=", "<=", ">=", "<", ">")
_TRUE = {"true", "ya", "yes", "y", "1", "benar"}
_FALSE = {"false", "tidak", "no", "n", "0", "salah"}
_ANY = {"", "-"}


def _cell_ref(row: int, column: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(column)}{row}"


@dataclass
class _Cell:
    value: Any
    ref: str  # "C7"


@dataclass(frozen=True)
class Condition:
    """A condition column: ``path`` and ``operator``, or a free ``when`` expression."""

    header: str
    path: str | None
    operator: str  # one of OPERATORS, or "when"


@dataclass
class CompiledSheet:
    """One sheet compiled to a rule-file mapping, and where each of its values came from."""

    sheet: str
    data: dict[str, Any]
    cells: dict[str, str] = field(default_factory=dict)  # "ruleset.version" / "rules[2].effect" -> "C7"
    rows: dict[int, str] = field(default_factory=dict)  # rule index -> the ref of its rule_id cell


def _norm(header: Any) -> str:
    return re.sub(r"\s+", " ", str(header).strip()) if header is not None else ""


def _key(header: Any) -> str:
    return _norm(header).lower().replace(" ", "_")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    return str(value).strip()


def _quoted(text: str) -> str:
    """A string literal of the rule language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class _CellError(ValueError):
    pass


def _date_value(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date_text(_text(value), "dmy")  # Indonesian order for 17/08/2024
    except DateTextError as exc:
        raise _CellError(str(exc)) from None


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise _CellError("expected a number, not true/false")
    if isinstance(value, (int, float)):
        number = value
    else:
        text = _text(value)
        try:
            number = float(parse_decimal_text(text, "," in text and "." not in text))
        except (NumberTextError, ValueError) as exc:
            raise _CellError(f"expected a number: {exc}" if isinstance(exc, NumberTextError)
                             else "expected a number") from None
    if not math.isfinite(number) or abs(number) > 1e12:
        raise _CellError("the number must be finite and at most 1e12")
    return int(number) if float(number).is_integer() else number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _CellError("expected ya/tidak (true/false)")


def _literal(value: Any, kind: FieldType | None) -> str:
    """One cell value as a literal of the rule language, typed by the fact the condition reads."""
    if kind is FieldType.NUMBER:
        return repr(_number(value))
    if kind is FieldType.BOOL:
        return "true" if _bool(value) else "false"
    if kind is FieldType.DATE:
        return f'date("{_date_value(value).isoformat()}")'
    return _quoted(_text(value))


def _condition_text(condition: Condition, value: Any, schema: FactSchema) -> str:
    """The condition one cell states, in the rule language."""
    if condition.operator == "when":
        return _text(value)
    assert condition.path is not None
    spec = schema.get(condition.path)
    kind = spec.type if spec is not None else None
    if condition.operator in ("contains", "not contains"):
        negated = "not in" if condition.operator == "not contains" else "in"
        return f"{_quoted(_text(value))} {negated} {condition.path}"
    if condition.operator in ("in", "not in"):
        items = [part.strip() for part in _text(value).split(";") if part.strip()]
        if not items:
            raise _CellError("expected a list of values separated by ';'")
        return f"{condition.path} {condition.operator} [{', '.join(_literal(item, kind) for item in items)}]"
    return f"{condition.path} {condition.operator} {_literal(value, kind)}"


def _parse_condition_header(header: str) -> Condition | None:
    text = _norm(header)
    if text.lower() == "when":
        return Condition(text, None, "when")
    for operator in OPERATORS:
        if text.lower().endswith(" " + operator):
            path = text[: -len(operator)].strip()
            if path and " " not in path:
                return Condition(text, path, operator)
    return Condition(text, text, "==") if " " not in text and "." in text else None


class _SheetReader:
    """Reads one sheet into a rule-file mapping, reporting every problem at its cell."""

    def __init__(self, sheet: Any, label: str, extensions: Sequence[ExtensionAttribute], problems: Problems) -> None:
        self.sheet = sheet
        self.label = label  # "path.xlsx!Sheet"
        self.extensions = extensions
        self.problems = problems
        self.schemas: dict[str, FactSchema] = {}

    def error(self, ref: str, code: str, message: str, value: Any = None, field: str | None = None) -> None:
        self.problems.add(Problem(code=code, message=message, file=f"{self.label}!{ref}", field=field,
                                  value=value if isinstance(value, (str, int, float, bool)) or value is None
                                  else str(value)))

    def schema(self, scope: str) -> FactSchema:
        if scope not in self.schemas:
            self.schemas[scope] = fact_schema(scope, self.extensions)  # type: ignore[arg-type]
        return self.schemas[scope]

    def rows(self) -> list[list[_Cell]]:
        rows = []
        for r, values in enumerate(self.sheet.iter_rows(), start=1):
            cells = []
            for c, cell in enumerate(values, start=1):
                value = cell.value
                if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")
                                                               and getattr(cell, "data_type", None) != "s"):
                    self.error(_cell_ref(r, c), "table.formula",
                               "formulas are not allowed in a decision table (rules are data); type the value", value)
                    value = None
                cells.append(_Cell(value, _cell_ref(r, c)))
            rows.append(cells)
        return rows

    def read(self) -> CompiledSheet | None:
        rows = self.rows()
        compiled = CompiledSheet(self.sheet.title, {"ruleset": {}, "rules": []})
        start = next((i for i, row in enumerate(rows) if row and _key(row[0].value) == "rule_id"), None)
        if start is None:
            self.error("A1", "table.no_rules", "no rules table: a row whose first cell is 'rule_id' starts it")
            return None
        self._read_header(rows[:start], compiled)
        self._read_rules(rows[start], rows[start + 1:], compiled)
        return compiled

    def _read_header(self, rows: list[list[_Cell]], compiled: CompiledSheet) -> None:
        ruleset: dict[str, Any] = compiled.data["ruleset"]
        seen: set[str] = set()
        for row in rows:
            if not row or _key(row[0].value) == "":
                continue
            key = _key(row[0].value)
            value_cell = row[1] if len(row) > 1 else _Cell(None, row[0].ref.replace("A", "B", 1))
            if key not in RULESET_KEYS:
                self.error(row[0].ref, "table.unknown_key", f"unknown rule-set key {key!r}"
                           + did_you_mean(key, RULESET_KEYS, quote="'"), key)
                continue
            if key in seen:
                self.error(row[0].ref, "table.duplicate_key", f"rule-set key {key!r} is given twice", key)
                continue
            seen.add(key)
            path = RULESET_KEYS[key]
            value = value_cell.value
            try:
                if key in _LIST_KEYS:
                    converted: Any = [part.strip() for part in _text(value).split(";") if part.strip()]
                elif key in _DATE_KEYS:
                    converted = None if _text(value) in _ANY else _date_value(value).isoformat()
                else:
                    converted = _text(value) if value is not None else None
            except _CellError as exc:
                self.error(value_cell.ref, "table.invalid", str(exc), value, key)
                continue
            if converted is None or converted == "":
                continue
            _put(ruleset, path, converted)
            compiled.cells["ruleset." + ".".join(path)] = value_cell.ref

    def _read_rules(self, header: list[_Cell], rows: list[list[_Cell]], compiled: CompiledSheet) -> None:
        columns: dict[int, str | Condition] = {}
        seen: set[str] = set()
        for index, cell in enumerate(header):
            if _norm(cell.value) == "":
                continue
            key = _key(cell.value)
            if key in RULE_COLUMNS:
                if key in seen:
                    self.error(cell.ref, "table.duplicate_column", f"column {key!r} appears twice", key)
                    continue
                seen.add(key)
                columns[index] = key
                continue
            condition = _parse_condition_header(cell.value)
            if condition is None:
                self.error(cell.ref, "table.column", f"column {_norm(cell.value)!r} is neither a rule column ("
                           + ", ".join(RULE_COLUMNS) + ") nor a condition '<fact path> <operator>' (operators: "
                           + ", ".join(OPERATORS) + ") nor 'when'", _norm(cell.value))
                continue
            columns[index] = condition
        for name in ("rule_id", "scope", "effect"):
            if name not in seen:
                self.error(header[0].ref, "table.missing_column", f"the rules table has no column {name!r}")
        for row in rows:
            values = {i: row[i] for i in columns if i < len(row)}
            if all(_text(cell.value) == "" for cell in values.values()):
                continue
            self._read_rule(row, columns, values, compiled)

    def _read_rule(self, row: list[_Cell], columns: dict[int, str | Condition], values: dict[int, _Cell],
                   compiled: CompiledSheet) -> None:
        index = len(compiled.data["rules"])
        prefix = f"rules[{index}]"
        rule: dict[str, Any] = {}
        conditions: list[tuple[Condition, _Cell]] = []
        compiled.rows[index] = row[0].ref
        for i, column in columns.items():
            cell = values.get(i)
            if cell is None:
                continue
            if isinstance(column, Condition):
                if _text(cell.value) not in _ANY:
                    conditions.append((column, cell))
                continue
            if _text(cell.value) == "":
                continue
            path = RULE_COLUMNS[column]
            try:
                if column == "points":
                    converted: Any = _number(cell.value)
                elif column == "overridable":
                    converted = _bool(cell.value)
                else:
                    converted = _text(cell.value)
            except _CellError as exc:
                self.error(cell.ref, "table.invalid", str(exc), cell.value, column)
                continue
            _put(rule, path, converted)
            compiled.cells[f"{prefix}." + ".".join(path)] = cell.ref
        scope = rule.get("scope")
        parts: list[str] = []
        if scope in SCOPES:
            schema = self.schema(scope)
            for condition, cell in conditions:
                try:
                    text = _condition_text(condition, cell.value, schema)
                except _CellError as exc:
                    self.error(cell.ref, "table.invalid", f"{condition.header}: {exc}", cell.value)
                    continue
                if self._check(text, schema, cell, condition):
                    parts.append(text if condition.operator != "when" else f"({text})")
        if conditions:
            compiled.cells[f"{prefix}.when"] = conditions[0][1].ref
        # A rule whose every condition is "any" always applies (DMN's "-" in every column).
        rule["when"] = " and ".join(parts) if parts else ("true" if not conditions else "")
        compiled.data["rules"].append(rule)

    def _check(self, text: str, schema: FactSchema, cell: _Cell, condition: Condition) -> bool:
        """Parse and type-check one cell's condition; report its problems at the cell."""
        try:
            expr = parse(text)
        except ExprSyntaxError as exc:
            self.error(cell.ref, "rule.syntax", f"{condition.header}: {exc.message} in {text!r}", cell.value)
            return False
        _, found = check(expr, schema)  # the whole rule is compile-checked with the rule file checks
        for problem in found:
            if problem.severity == "error":
                self.error(cell.ref, problem.code, f"{condition.header}: {problem.message} (in {text!r})", cell.value)
        return not any(p.severity == "error" for p in found)


def _put(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


_FIELD_INDEX = re.compile(r"^rules\[(\d+)\]")


def _locate(problem: Problem, compiled: CompiledSheet) -> str:
    """The cell a rule-file problem (field ``rules[2].message.id``) comes from; A1 when unknown."""
    name = problem.field or ""
    while name:
        if name in compiled.cells:
            return compiled.cells[name]
        name = name.rsplit(".", 1)[0] if "." in name else re.sub(r"\[\d+\]$", "", name) if name.endswith("]") else ""
    match = _FIELD_INDEX.match(problem.field or "")
    if match and int(match.group(1)) in compiled.rows:
        return compiled.rows[int(match.group(1))]
    return "A1"


def _open(path: Path, problems: Problems) -> Any:
    import openpyxl

    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_TABLE_BYTES:
            problems.error("rulefile.too_large", f"the file is {size} bytes; the limit is {MAX_TABLE_BYTES}", file=file)
            return None
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            problems.error("rulefile.too_large", f"the workbook unpacks to {unpacked} bytes; the limit is "
                           f"{MAX_UNPACKED_BYTES}", file=file)
            return None
        return openpyxl.load_workbook(path, data_only=False)
    except (OSError, zipfile.BadZipFile) as exc:
        problems.error("rulefile.unreadable", f"cannot read the workbook: {exc}", file=file)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds (XML, KeyError) for a damaged file
        problems.error("rulefile.unreadable", f"cannot read the workbook: {type(exc).__name__}: {exc}", file=file)
    return None


def compile_decision_table(path: str | os.PathLike[str], *, extensions: Sequence[ExtensionAttribute] = (),
                           origin: str | None = None) -> tuple[list[CompiledSheet], Problems]:
    """Each rule-set sheet of the workbook as a rule-file mapping; sheets named ``_…`` are notes and skipped."""
    problems = Problems()
    book = _open(Path(path), problems)
    if book is None:
        return [], problems
    label = origin or os.fspath(path)
    compiled = []
    for sheet in book.worksheets:
        if sheet.title.startswith("_"):
            continue
        one = _SheetReader(sheet, f"{label}!{sheet.title}", tuple(extensions), problems).read()
        if one is not None:
            compiled.append(one)
    if not compiled and not problems.errors:
        problems.error("table.no_rulesets", "the workbook has no rule-set sheet", file=label)
    return compiled, problems


def collect_decision_table(path: str | os.PathLike[str], *, extensions: Sequence[ExtensionAttribute] = (),
                           origin: str | None = None) -> tuple[list[Any], Problems]:
    """Load every rule set of a decision-table workbook; never raises. Problems are located ``file!Sheet!C7``."""
    from mutasi_rules.rules.rulesets import load_ruleset_text

    label = origin or os.fspath(path)
    sheets, problems = compile_decision_table(path, extensions=extensions, origin=label)
    loaded = []
    for sheet in sheets:
        if any(p.file and p.file.startswith(f"{label}!{sheet.sheet}!") for p in problems.errors):
            continue  # its cells have problems already; the rule-file checks would repeat them
        try:
            loaded.append(load_ruleset_text(sheet.data, f"{label}!{sheet.sheet}", extensions))
        except InputError as error:
            for problem in error.problems:
                ref = _locate(problem, sheet)
                problems.add(problem.model_copy(update={"file": f"{label}!{sheet.sheet}!{ref}", "line": None,
                                                         "column": None}))
    return loaded, problems


def load_decision_table(path: str | os.PathLike[str], *, extensions: Sequence[ExtensionAttribute] = (),
                        origin: str | None = None) -> list[Any]:
    """Every rule set of a decision-table workbook; raise :class:`InputError` with every problem."""
    loaded, problems = collect_decision_table(path, extensions=extensions, origin=origin)
    problems.raise_if_errors(f"decision table {origin or os.fspath(path)}")
    return loaded
