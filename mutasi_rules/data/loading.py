"""Read, validate and write datasets: JSON, YAML, CSV and Excel; one file or one file per table.

A dataset is either

* one document: ``.json`` / ``.yaml`` / ``.yml`` holding the whole :class:`~mutasi_rules.data.models.Dataset`,
  or one ``.xlsx`` workbook with one sheet per table; or
* a directory with one file per table (``units.csv``, ``employees.xlsx``, ``metadata.yaml``...).

Spreadsheets cannot nest, so list fields live in child tables keyed by ``position_id`` or
``nip`` and simple string lists sit in one cell separated by ``;``. The exact tables and
columns are :data:`TABLES` and :data:`METADATA_KEYS`, documented in ``docs/data-format.md``.

Validation collects every problem (file, row or record, field, value, reason) before
anything is rejected: :func:`validate_dataset` returns them, :func:`load_dataset` raises
:class:`~mutasi_rules.problems.InputError` carrying them all.

Writing (:func:`save_dataset`) is atomic and deterministic: records keep the dataset's
order, columns and keys have a fixed order, spreadsheets carry no timestamps, so saving the
same dataset twice gives the same bytes and ``load(save(ds)) == ds`` for every format.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import functools
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, NamedTuple, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from mutasi_rules.core import atomic, limits
from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.core.runtime import fewer_collections
from mutasi_rules.data.cellformats import (
    DATE_FORMATS,
    DECIMAL_SEPARATORS,
    DateOrder,
    DateTextError,
    NumberTextError,
    decode_text,
    detect_date_order,
    deterministic_xlsx,
    fill_sheet,
    neutralise_formula,
    normalise_nip,
    numeric_parts,
    parse_date_text,
    parse_decimal_text,
    restore_formula_text,
)
from mutasi_rules.data.integrity import parent_cycles
from mutasi_rules.data.models import (
    Dataset,
    DatasetMetadata,
    Employee,
    EmployeeStatus,
    Gender,
    Position,
    Unit,
    parse_nip,
)
from mutasi_rules.problems import InputError, Problem, Problems, Severity

__all__ = [
    "FORMATS",
    "METADATA_KEYS",
    "TABLES",
    "load_dataset",
    "save_dataset",
    "validate_dataset",
]

SaveFormat = Literal["json", "yaml", "csv", "xlsx"]
FORMATS: tuple[str, ...] = ("json", "yaml", "csv", "xlsx")
TABLE_EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
LIST_SEPARATOR = ";"

# --------------------------------------------------------------------------- table layout

ColumnKind = Literal["text", "int", "float", "date", "bool", "list"]


@dataclass(frozen=True)
class Column:
    """One spreadsheet column and where its value goes in the record (``path``)."""

    name: str
    kind: ColumnKind
    required: bool = False
    path: tuple[str, ...] = ()

    @property
    def target(self) -> tuple[str, ...]:
        return self.path or (self.name,)


@dataclass(frozen=True)
class Table:
    """A table: parent tables hold records, child tables hold list items of a parent."""

    name: str
    columns: tuple[Column, ...]
    parent: str | None = None  # "positions" or "employees" for child tables
    key: str | None = None  # the column naming the parent (position_id / nip)
    list_path: tuple[str, ...] = ()  # where the items go in the parent record

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _c(name: str, kind: ColumnKind = "text", required: bool = False, *path: str) -> Column:
    return Column(name, kind, required, tuple(path))


_TRAINING_COLUMNS = (
    _c("nip", "text", True),
    _c("name", "text", True),
    _c("completed", "date", True),
    _c("expires", "date"),
    _c("hours", "float"),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("units", (_c("id", "text", True), _c("name", "text", True), _c("kind", "text", True), _c("parent_id"))),
        Table(
            "positions",
            (
                _c("id", "text", True),
                _c("name", "text", True),
                _c("kind", "text", True),
                _c("level"),
                _c("kelas", "int", True),
                _c("unit_id", "text", True),
                _c("min_rank", "text", False, "requirements", "min_rank"),
                _c("max_rank", "text", False, "requirements", "max_rank"),
                _c("min_education", "text", False, "requirements", "min_education"),
                _c("education_fields", "list", False, "requirements", "education_fields"),
                _c("required_trainings", "list", False, "requirements", "trainings"),
                _c("required_certificates", "list", False, "requirements", "certificates"),
                _c("programmes", "list"),
                # Not a model field: says whether task rows exist (see _attach_tasks).
                _c("has_workload_data", "bool", False, "__has_workload_data__"),
            ),
        ),
        Table(
            "position_tasks",
            (
                _c("position_id", "text", True),
                _c("name", "text", True),
                _c("volume_per_year", "float", True),
                _c("norm_minutes", "float", True),
            ),
            parent="positions",
            key="position_id",
            list_path=("tasks",),
        ),
        Table(
            "position_competencies",
            (_c("position_id", "text", True), _c("name", "text", True), _c("kind"), _c("min_level"), _c("factor")),
            parent="positions",
            key="position_id",
            list_path=("requirements", "competencies"),
        ),
        Table(
            "employees",
            (
                _c("nip", "text", True),
                _c("name", "text", True),
                _c("status", "text", True),
                _c("gender", "text", True),
                _c("birth_date", "date", True),
                _c("rank"),
                _c("position_id", "text", True),
                _c("unit_id", "text", True),
                _c("position_start", "date", True),
                _c("education_level", "text", True, "education", "level"),
                _c("education_field", "text", False, "education", "field"),
                _c("under_investigation", "bool"),
                _c("willing_to_move", "bool", False, "preferences", "willing_to_move"),
                _c("preferred_unit_ids", "list", False, "preferences", "preferred_unit_ids"),
            ),
        ),
        Table(
            "employee_competencies",
            (_c("nip", "text", True), _c("name", "text", True), _c("kind"), _c("level", "text", True)),
            parent="employees",
            key="nip",
            list_path=("competencies",),
        ),
        Table("employee_trainings", _TRAINING_COLUMNS, parent="employees", key="nip", list_path=("trainings",)),
        Table("employee_certificates", _TRAINING_COLUMNS, parent="employees", key="nip", list_path=("certificates",)),
        Table(
            "employee_performance",
            (_c("nip", "text", True), _c("year", "int", True), _c("predikat", "text", True)),
            parent="employees",
            key="nip",
            list_path=("performance",),
        ),
        Table(
            "employee_sanctions",
            (
                _c("nip", "text", True),
                _c("level", "text", True),
                _c("description"),
                _c("start", "date", True),
                _c("end", "date"),
            ),
            parent="employees",
            key="nip",
            list_path=("sanctions",),
        ),
        Table(
            "employee_history",
            (
                _c("nip", "text", True),
                _c("position_name", "text", True),
                _c("unit_id"),
                _c("position_id"),
                _c("start", "date", True),
                _c("end", "date", True),
            ),
            parent="employees",
            key="nip",
            list_path=("position_history",),
        ),
    )
}

PARENT_TABLES = ("units", "positions", "employees")
ModelT = TypeVar("ModelT", bound=BaseModel)
REQUIRED_TABLES = ("metadata", "units", "positions", "employees")
ALL_TABLES = ("metadata", *TABLES)
WORKLOAD_MARKER = "__has_workload_data__"

#: metadata keys (the ``key`` column of the metadata table) and where each goes.
METADATA_KEYS: dict[str, Column] = {
    c.name: c
    for c in (
        _c("schema_version"),
        _c("name", "text", True),
        _c("as_of", "date", True),
        _c("description"),
        _c("source"),
        _c("effective_hours_per_year", "float"),
        _c("election_candidate_determination", "date", False, "election", "candidate_determination"),
        _c("election_inauguration", "date", False, "election", "inauguration"),
    )
}

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"true", "ya", "yes", "y", "1", "benar"}
_FALSE = {"false", "tidak", "no", "n", "0", "salah"}

# --------------------------------------------------------------------------- locations


@dataclass(frozen=True)
class Where:
    """Where a value came from, as the user sees it."""

    file: str | None
    record: str | None = None
    line: int | None = None
    field: str | None = None


def _dotted(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _json_value(value: Any) -> Any:
    """A problem's value in a form JSON output can carry."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool, NoneType)) for v in value):
        return list(value)
    return str(value)


#: Where a table row's values sit in a record: record path -> column name (None: the row as a whole).
CellPaths = dict[tuple[str, ...], str | None]


@dataclass
class Record:
    """One unit, position or employee being assembled, with the location of each of its values.

    Locations are kept cheaply and turned into a :class:`Where` only when a problem needs
    one: ``fieldmap`` holds ready locations (metadata keys), ``rows`` the spreadsheet rows
    the record was built from, by path prefix (``()`` for its own row, ``("trainings", 2)``
    for a child row), each with its table's :data:`CellPaths`.
    """

    kind: str  # "units" | "positions" | "employees" | "metadata"
    data: dict[str, Any]
    base: Where
    fieldmap: dict[tuple[str | int, ...], Where] = field(default_factory=dict)
    lines: Callable[[tuple[str | int, ...]], int | None] | None = None
    reported: set[tuple[str | int, ...]] = field(default_factory=set)
    consistency_reported: bool = False
    rows: dict[tuple[str | int, ...], tuple[Row, CellPaths]] = field(default_factory=dict)

    def where(self, loc: tuple[str | int, ...]) -> Where:
        """Map a path inside the record (a pydantic ``loc``) to file, row and column."""
        for n in range(len(loc), -1, -1):
            hit = self._located(loc[:n])
            if hit is not None:
                rest = loc[n:]
                if hit.field is None and rest:
                    return Where(hit.file, hit.record, hit.line, _dotted(rest))
                return hit
        line = self.lines(loc) if self.lines else None
        return Where(self.base.file, self.base.record, line or self.base.line, _dotted(loc) or None)

    def _located(self, path: tuple[str | int, ...]) -> Where | None:
        """The location recorded for exactly ``path``, if any."""
        hit = self.fieldmap.get(path)
        if hit is not None:
            return hit
        for n in range(len(path) + 1):
            source = self.rows.get(path[:n])
            if source is not None and path[n:] in source[1]:
                row, paths = source
                column = paths[path[n:]]  # type: ignore[index]
                return row.where if column is None else row.at(column)
        return None

    def located_paths(self) -> Iterator[tuple[str | int, ...]]:
        """Every path that has a location of its own."""
        yield from self.fieldmap
        for prefix, (_, paths) in self.rows.items():
            for path in paths:
                yield (*prefix, *path)

    def key(self, name: str) -> str | None:
        value = self.data.get(name)
        return value if isinstance(value, str) and value else None


class _Collector:
    """Problems plus helpers that turn a :class:`Where` into a :class:`Problem`."""

    def __init__(self, allow_extra_columns: bool) -> None:
        self.problems = Problems()
        self.allow_extra = allow_extra_columns

    def add(self, code: str, message: str, where: Where, value: Any = None, severity: Severity = "error") -> None:
        self.problems.add(
            Problem(
                severity=severity,
                code=code,
                message=message,
                file=where.file,
                line=where.line,
                record=where.record,
                field=where.field,
                value=_json_value(value),
            )
        )

    def at(self, record: Record, loc: tuple[str | int, ...], code: str, message: str, value: Any = None) -> None:
        record.reported.add(loc)
        self.add(code, message, record.where(loc), value)

    def reject(self, bad: _BadValue, where: Where) -> None:
        if not bad.silent:  # silent: one problem for the whole column says why
            self.add(bad.code, bad.message, where, bad.value)

    def unknown(self, what: str, name: str, known: Iterable[str], where: Where) -> None:
        """An unknown column or key: an error unless extra columns are allowed."""
        label = what.replace("_", " ")
        guess = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
        hint = f"; did you mean {guess[0]!r}?" if guess else ""
        if self.allow_extra:
            self.add(f"{what}.unknown", f"unknown {label} {name!r} is ignored{hint}", where, name, "warning")
        else:
            self.add(
                f"{what}.unknown",
                f"unknown {label} {name!r}{hint} (its data would be lost; use --allow-extra-columns to ignore it)",
                where,
                name,
            )


# --------------------------------------------------------------------------- YAML / JSON reading


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML loader that keeps dates as text, so an impossible date is a located problem, not a crash."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _node_lines(node: yaml.Node) -> dict[tuple[str | int, ...], int]:
    """1-based start line of every mapping value and sequence item, by path."""
    lines: dict[tuple[str | int, ...], int] = {}

    def walk(n: yaml.Node, path: tuple[str | int, ...]) -> None:
        lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                if isinstance(key, yaml.ScalarNode):
                    walk(value, (*path, str(key.value)))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i))

    walk(node, ())
    return lines


class _Document:
    """A parsed JSON or YAML file whose line numbers are computed only when a problem needs one."""

    def __init__(self, text: str, data: Any, node: yaml.Node | None) -> None:
        self._text = text
        self.data = data
        self._node = node
        self._lines: dict[tuple[str | int, ...], int] | None = None

    def line(self, path: tuple[str | int, ...]) -> int | None:
        if self._lines is None:
            node = self._node
            if node is None:
                try:  # JSON is (nearly) YAML: borrow the YAML parser's positions.
                    node = yaml.compose(self._text, Loader=_Loader)
                except yaml.YAMLError:
                    node = None
            self._lines = _node_lines(node) if node is not None else {}
        for n in range(len(path), -1, -1):
            if path[:n] in self._lines:
                return self._lines[path[:n]]
        return None


def _within_size_limit(path: Path, name: str, out: _Collector) -> bool:
    """Whether a text file is within the size limit (it is read whole); a located problem when not."""
    lim = limits.current()
    try:
        size = path.stat().st_size
    except OSError:
        return True  # reading it reports why it cannot be read
    if size <= lim.text_file_mb * 2**20:
        return True
    out.add("file.too_large", f"the file is {size / 2**20:,.0f} MB, more than the limit of {lim.text_file_mb:,} MB; "
            f"{limits.how_to_raise('text_file_mb')}", Where(name))
    return False


def _read_text_file(path: Path, name: str, out: _Collector) -> str | None:
    """The text of a JSON or YAML dataset file, after checking its size against the limit."""
    if not _within_size_limit(path, name, out):
        return None
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        out.add("file.unreadable", f"cannot read file: {exc}", Where(name))
        return None


def _read_document(path: Path, fmt: str, name: str, out: _Collector) -> _Document | None:
    text = _read_text_file(path, name, out)
    if text is None:
        return None
    try:
        with limits.nesting_guard():
            if fmt == "json":
                data = json.loads(text)
                limits.check_nesting(data)
                return _Document(text, data, None)
            loader = _Loader(text)
            try:
                node = loader.get_single_node()
                limits.check_yaml_node(node)  # before constructing: an alias bomb is refused, not expanded
                data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
            return _Document(text, data, node)
    except json.JSONDecodeError as exc:
        out.add("file.syntax", f"invalid JSON: {exc.msg} (column {exc.colno})", Where(name, line=exc.lineno))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        column = f" (column {mark.column + 1})" if mark else ""
        out.add("file.syntax", f"invalid YAML: {reason}{column}", Where(name, line=mark.line + 1 if mark else None))
    except yaml.YAMLError as exc:
        out.add("file.syntax", f"invalid YAML: {exc}", Where(name))
    except limits.LimitExceeded as exc:
        out.add("file.too_large", str(exc), Where(name))
    return None


# --------------------------------------------------------------------------- spreadsheet reading


@dataclass
class Row:
    """One data row. Its :class:`Where` is built when asked for: most rows never have a problem."""

    file: str
    record: str | None  # "row 7", "sheet employees row 7", "[6]"
    line: int | None
    cells: dict[str, Any]  # normalised column name -> raw value
    columns: dict[str, str]  # normalised column name -> header as written

    @property
    def where(self) -> Where:
        """File and row; field None."""
        return Where(self.file, self.record, self.line)

    def at(self, column: str) -> Where:
        """The location of this row's cell in ``column``, named as its header is written."""
        return Where(self.file, self.record, self.line, self.columns.get(column, column))


@dataclass
class RawTable:
    name: str
    file: str
    rows: list[Row]
    header: dict[str, str] | None  # None for JSON/YAML tables (no header row)
    header_where: Where
    delimiter: str | None = None  # CSV only: ';' is what Excel writes under Indonesian settings


def _norm_header(name: Any) -> str:
    return re.sub(r"\s+", "_", str(name).strip().lower()) if name is not None else ""


def _rows_from_grid(
    grid: Iterable[Iterable[Any]], name: str, file: str, record_prefix: str, out: _Collector
) -> RawTable:
    """Turn a header row plus data rows (CSV or a sheet) into a :class:`RawTable`."""
    rows_iter = iter(grid)
    header_cells = list(next(rows_iter, []))
    header_where = Where(file, f"{record_prefix}row 1")
    header: dict[str, str] = {}
    positions: list[str | None] = []
    for raw in header_cells:
        key = _norm_header(raw)
        if not key:
            positions.append(None)
            continue
        if key in header:
            out.add("column.duplicate", f"column {raw!r} appears twice in the header", header_where, raw)
            positions.append(None)
            continue
        header[key] = str(raw).strip()
        positions.append(key)
    # Without unnamed or duplicate columns, a row no longer than the header maps cell by cell.
    plain = None not in positions
    rows: list[Row] = []
    for number, cells in enumerate(rows_iter, start=2):
        values = cells if isinstance(cells, (list, tuple)) else list(cells)
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue  # blank line or formatted-but-empty row
        record = f"{record_prefix}row {number}"
        if plain and len(values) <= len(positions):
            rows.append(Row(file, record, None, dict(zip(positions, values, strict=False)), header))  # type: ignore[arg-type]
            continue
        row: dict[str, Any] = {}
        for i, value in enumerate(values):
            column = positions[i] if i < len(positions) else None
            if column is None:
                if value is not None and not (isinstance(value, str) and not value.strip()):
                    out.add("row.extra_cell", f"cell {i + 1} has a value but no column header", Where(file, record),
                            value)
                continue
            row[column] = value
        rows.append(Row(file, record, None, row, header))
    return RawTable(name, file, rows, header, header_where)


def _csv_source(path: Path, file: str, out: _Collector) -> tuple[str, str] | None:
    """A CSV file's text and its cell delimiter, after the size limit; None (reported) when unreadable.

    Shared by this row-by-row reader and the columnar one (:mod:`mutasi_rules.data.columnar`).
    """
    if not _within_size_limit(path, file, out):
        return None
    try:
        text, encoding = decode_text(path.read_bytes())
    except OSError as exc:
        out.add("file.unreadable", f"cannot read CSV file: {exc}", Where(file))
        return None
    except UnicodeDecodeError as exc:
        out.add("file.unreadable",
                f"cannot read CSV file: neither UTF-8 nor Windows-1252 ({exc.reason} at byte {exc.start})", Where(file))
        return None
    if encoding != "UTF-8":
        out.add("file.encoding", f"read as {encoding}, not UTF-8; save as 'CSV UTF-8' to be sure every letter is kept",
                Where(file), encoding, "warning")
    first = text.split("\n", 1)[0]
    # Spreadsheets in the Indonesian locale save CSV with ';' between cells.
    return text, (";" if first.count(";") > first.count(",") else ",")


def _read_csv(path: Path, name: str, file: str, out: _Collector) -> RawTable | None:
    read = _csv_source(path, file, out)
    if read is None:
        return None
    text, delimiter = read
    try:
        # restore_formula_text: a text this library wrote with a protective apostrophe reads as it was.
        grid = [[(restore_formula_text(cell) if cell[:1] == "'" else cell) if cell.strip() else None for cell in row]
                for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        out.add("file.syntax", f"invalid CSV: {exc}", Where(file))
        return None
    table = _rows_from_grid(grid, name, file, "", out)
    table.delimiter = delimiter
    return table


def _workbook_within_limits(path: Path, file: str, out: _Collector) -> bool:
    """Whether the workbook is a zip within the size limit; a located problem when not.

    Before any reader reads anything (openpyxl reads all shared strings when opening): the
    sizes the archive declares bound what zipfile will ever decompress, so a zip bomb stops here.
    """
    import zipfile

    lim = limits.current()
    try:
        with zipfile.ZipFile(path) as archive:
            uncompressed = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        out.add("file.unreadable", f"cannot read Excel workbook: not a valid .xlsx (zip) file: {exc}", Where(file))
        return False
    if uncompressed > lim.xlsx_uncompressed_mb * 2**20:
        out.add("file.too_large", f"the workbook unpacks to {uncompressed / 2**20:,.0f} MB, more than the limit of "
                f"{lim.xlsx_uncompressed_mb:,} MB (a zip bomb?); {limits.how_to_raise('xlsx_uncompressed_mb')}",
                Where(file))
        return False
    return True


def _open_workbook(path: Path, file: str, out: _Collector) -> Any:
    import openpyxl  # imported here: only spreadsheet users pay for it

    if not _workbook_within_limits(path, file, out):
        return None
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds (zip, XML, KeyError) for a damaged file
        out.add("file.unreadable", f"cannot read Excel workbook: {type(exc).__name__}: {exc}", Where(file))
        return None


class _UncachedFormula:
    """A formula cell saved without its computed value (written by a program that does not calculate).

    openpyxl reads such a cell as empty: ``=TRUE()`` in ``under_investigation`` would become
    false. It is reported instead, naming the cell.
    """

    __slots__ = ("formula",)

    def __init__(self, formula: str) -> None:
        self.formula = formula


def _sheet_grid(sheet: Any, file: str, prefix: str, out: _Collector) -> Iterator[list[Any]]:
    """The rows of a read-only sheet as lists of values, within the limits, formula cells checked.

    Reads the sheet XML with openpyxl's own parser (cached values, dates, shared strings),
    but sees the formula of a cell that has no cached value. Missing rows come as ``[]``
    so that row numbers stay those of the sheet.
    """
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                cell["value"] = _UncachedFormula(element.findtext(FORMULA_TAG) or "")
            return cell

    lim = limits.current()
    book = sheet.parent
    header: list[Any] = []
    expected = 1
    with sheet._get_source() as source:
        parser = Parser(source, sheet._shared_strings, data_only=True, epoch=book.epoch,
                        date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
        for index, cells in parser.parse():
            if index > lim.rows + 1:  # the header row and at most lim.rows data rows
                out.add("file.too_large", f"the sheet has more than {lim.rows:,} data rows; "
                        f"{limits.how_to_raise('rows')}", Where(file, f"{prefix}row {index}"))
                return
            while expected < index:
                yield []
                expected += 1
            expected = index + 1
            values: list[Any] = []
            for cell in cells:
                column, value = cell["column"], cell["value"]
                if column > lim.columns:
                    if value is not None:
                        out.add("file.too_large", f"cell {get_column_letter(min(column, 16384))}{index} is beyond "
                                f"column {lim.columns:,}; {limits.how_to_raise('columns')}",
                                Where(file, f"{prefix}row {index}"))
                    break
                if type(value) is _UncachedFormula or (type(value) is str and len(value) > lim.cell_chars):
                    _cell_problem(value, index, column, header, file, prefix, lim, out)
                    value = None
                if column > len(values) + 1:
                    values.extend([None] * (column - 1 - len(values)))
                values.append(value)
            if index == 1:
                header = values
            yield values


def _cell_problem(value: Any, row: int, column: int, header: list[Any], file: str, prefix: str,
                  lim: limits.Limits, out: _Collector) -> None:
    """Report a formula cell without a saved value, or a cell longer than the limit; the cell reads as empty."""
    from openpyxl.utils import get_column_letter

    coordinate = f"{get_column_letter(column)}{row}"
    named = header[column - 1] if row > 1 and column <= len(header) and header[column - 1] else None
    where = Where(file, f"{prefix}row {row}", None, str(named) if named is not None else None)
    if isinstance(value, _UncachedFormula):
        out.add("cell.formula_without_value",
                f"cell {coordinate} holds the formula ={value.formula} without a saved value: save the workbook in "
                "a spreadsheet program (which calculates it) or type the value", where, f"={value.formula}")
    else:
        out.add("cell.too_long", f"cell {coordinate} holds {len(value):,} characters, more than {lim.cell_chars:,}; "
                f"{limits.how_to_raise('cell_chars')}", where, value)


def _read_sheet(sheet: Any, name: str, file: str, prefix: str, out: _Collector) -> RawTable:
    return _rows_from_grid(_sheet_grid(sheet, file, prefix, out), name, file, prefix, out)


def _table_from_document(doc: _Document, name: str, file: str, out: _Collector) -> RawTable | None:
    """A JSON/YAML table file: a list of row objects using the spreadsheet column names."""
    if not isinstance(doc.data, list):
        out.add("file.structure", f"a {name} table file must be a list of row objects", Where(file, line=1))
        return None
    rows: list[Row] = []
    for i, item in enumerate(doc.data):
        line = doc.line((i,))
        if not isinstance(item, dict):
            out.add("file.structure", "each row must be an object of column: value", Where(file, f"[{i}]", line), item)
            continue
        cells = {_norm_header(k): v for k, v in item.items()}
        rows.append(Row(file, f"[{i}]", line, cells, {_norm_header(k): str(k) for k in item}))
    return RawTable(name, file, rows, None, Where(file))


# --------------------------------------------------------------------------- cell values


class _BadValue(ValueError):
    """A cell value its column cannot take; whoever knows where the cell is reports it."""

    def __init__(self, code: str, message: str, value: Any, silent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.value = value
        self.silent = silent


#: Normalises one present (non-blank, stripped) cell value for a column; raises :class:`_BadValue`.
Converter = Callable[[Any], Any]

#: How one column is read: its name, the path of its value in the record, its converter.
CellPlan = tuple[str, tuple[str, ...], Converter]

#: What :func:`_cell_value` gives for a blank cell.
_ABSENT: Any = object()


def _cell_value(value: Any, convert: Converter) -> Any:
    """A raw cell normalised for its column, or :data:`_ABSENT` when blank; raises :class:`_BadValue`."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return _ABSENT
    elif value is None:
        return _ABSENT
    return convert(value)


def _to_text(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return _date_of(value).isoformat() if _is_midnight(value) else value.isoformat()
    return value


def _to_list(value: Any) -> list[str]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(LIST_SEPARATOR) if part.strip()]


def _to_date(value: Any) -> dt.date:
    if isinstance(value, str):
        if not _DATE_RE.match(value):
            raise _BadValue("date.invalid", "expected a date written YYYY-MM-DD", value)
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise _BadValue("date.invalid", f"impossible date: {exc}", value) from None
    if isinstance(value, (dt.date, dt.datetime)):
        if not _is_midnight(value):
            raise _BadValue("date.invalid", "a date must not carry a time of day", value)
        return _date_of(value)
    raise _BadValue("date.invalid", "expected a date written YYYY-MM-DD, not a number", value)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if isinstance(value, (int, float)):
        text = str(int(value)) if float(value).is_integer() else text
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _BadValue("field.invalid", "expected true or false (ya/tidak)", value)


def _to_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # pydantic reports anything that is not an integer


def _as_is(value: Any) -> Any:
    return value  # float: pydantic parses text and rejects the rest


_CONVERTERS: dict[ColumnKind, Converter] = {
    "text": _to_text,
    "list": _to_list,
    "date": _to_date,
    "bool": _to_bool,
    "int": _to_int,
    "float": _as_is,
}


@functools.cache
def _converter(column: Column) -> Converter:
    """The converter of a column's kind; a NIP column also refuses numbers that lost digits."""
    convert = _CONVERTERS[column.kind]
    if column.name != "nip":
        return convert

    def nip(value: Any) -> Any:
        if isinstance(value, float):
            raise _BadValue(
                "nip.not_text", "NIP is stored as a decimal number and has lost digits; format the column as text",
                value,
            )
        if isinstance(value, str) and not (len(value) == 18 and value.isdigit()):
            value = normalise_nip(value)  # as printed, or kept text by a leading apostrophe
        return convert(value)

    return nip


def _is_midnight(value: dt.date | dt.datetime) -> bool:
    return not isinstance(value, dt.datetime) or value.time() == dt.time(0)


def _date_of(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _iso_date(value: Any) -> dt.date | None:
    """A well-formed YYYY-MM-DD text as a date, else None (the slow path then says why)."""
    if isinstance(value, str) and _DATE_RE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _put(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target = data
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


# --------------------------------------------------------------------------- regional settings of a file


@dataclass(frozen=True)
class ReadingStyle:
    """How the metadata declares cells are written (keys ``date_format`` and ``decimal_separator``).

    These keys say how to read the files, not what the data are: they never reach the
    dataset, so a file saved under Indonesian settings reads to the same dataset as the original.
    """

    date_format: str | None = None
    decimal_comma: bool | None = None  # None: not declared; a ';'-separated file then means a comma

    @property
    def date_order(self) -> DateOrder | None:
        return DATE_FORMATS[self.date_format] if self.date_format else None


#: Metadata keys that describe how the files are written rather than the data.
READING_KEYS = ("date_format", "decimal_separator")


def _reading_style(pairs: list[tuple[str, Any, Where]], out: _Collector) -> ReadingStyle:
    """The declared date format and decimal separator among the metadata pairs (removed from them)."""
    declared: dict[str, Any] = {}
    for key, value, where in [p for p in pairs if p[0] in READING_KEYS]:
        pairs.remove((key, value, where))
        text = _csv_cell(value).strip()
        if not text:
            continue
        if key in declared:
            out.add("metadata.duplicate_key", f"metadata key {key!r} is given twice", where, value)
        elif key == "date_format" and text.upper() not in DATE_FORMATS:
            out.add("metadata.date_format", f"unknown date_format; one of {', '.join(DATE_FORMATS)}", where, value)
        elif key == "decimal_separator" and text not in DECIMAL_SEPARATORS:
            out.add("metadata.decimal_separator", "decimal_separator is '.' or ','", where, value)
        else:
            declared[key] = text.upper() if key == "date_format" else text
    return ReadingStyle(declared.get("date_format"),
                        declared["decimal_separator"] == "," if "decimal_separator" in declared else None)


def _number_reader(convert: Converter, decimal_comma: bool) -> Converter:
    """A float column's converter that reads the file's decimal separator and refuses thousands separators."""

    def read(value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = parse_decimal_text(value, decimal_comma)
            except NumberTextError as exc:
                raise _BadValue("number.separator", str(exc), value) from None
        return convert(value)

    return read


def _date_reader(order: DateOrder | None, style: ReadingStyle, ambiguous: bool) -> Converter:
    """A date column's converter for ISO, named-month and (in ``order``) numeric dates.

    ``ambiguous``: the column's numeric dates read both ways and one problem for the whole
    column says so; its cells are then not reported one by one.
    """

    def read(value: Any) -> Any:
        if not isinstance(value, str):
            return _to_date(value)
        fast = _iso_date(value)
        if fast is not None:
            return fast
        numeric = numeric_parts(value) is not None
        if numeric and style.date_format and order not in ("dmy", "mdy"):
            raise _BadValue("date.invalid", f"expected a date written {style.date_format}, as the metadata declares",
                            value)
        try:
            return parse_date_text(value, order)
        except DateTextError as exc:
            raise _BadValue("date.invalid", str(exc), value, silent=ambiguous and numeric) from None

    return read


def _date_texts(values: Iterable[Any]) -> list[str]:
    """The non-ISO date texts of a column (only these need the day/month order)."""
    # ISO-shaped texts never need the order (a malformed one is reported by the ISO reader).
    return [text for value in values
            if isinstance(value, str) and (text := value.strip()) and not (len(text) == 10 and text[4] == "-"
                                                                         and text[7] == "-")]


def _localised_date(texts: list[str], style: ReadingStyle, where: Where, out: _Collector) -> Converter:
    """The converter for one date column, detecting its day/month order unless declared; one problem if ambiguous."""
    order = style.date_order
    ambiguous = False
    if order is None:
        detected = detect_date_order(texts)
        order = detected.order
        if detected.ambiguous:
            ambiguous = True
            out.add(
                "date.ambiguous",
                f"{detected.numeric} date(s) such as {texts[0]!r} read both as day/month and as month/day "
                "(no part above 12); declare the order in the metadata: date_format DD/MM/YYYY or MM/DD/YYYY",
                where,
                texts[0],
            )
    return _date_reader(order, style, ambiguous)


def _localised(cells: tuple[CellPlan, ...], spec: Table, table: RawTable, style: ReadingStyle,
               out: _Collector) -> tuple[CellPlan, ...]:
    """A table's cell plans with date and number converters for how this file is written."""
    decimal_comma = style.decimal_comma if style.decimal_comma is not None else table.delimiter == ";"
    result: list[CellPlan] = []
    for name, path, given in cells:
        convert = given
        column = spec.column(name)
        if column is not None and column.kind == "float":
            convert = _number_reader(convert, decimal_comma)
        elif column is not None and column.kind == "date":
            texts = _date_texts(row.cells.get(name) for row in table.rows)
            if texts:
                header = table.header.get(name, name) if table.header is not None else name
                convert = _localised_date(texts, style, Where(table.file, table.header_where.record, field=header), out)
        result.append((name, path, convert))
    return tuple(result)


# --------------------------------------------------------------------------- assembling records from tables


def _check_header(table: RawTable, spec: Table | None, out: _Collector) -> set[str]:
    """Report unknown and missing columns; return the missing required column names."""
    known = [c.name for c in spec.columns] if spec else ["key", "value"]
    missing: set[str] = set()
    if table.header is not None:
        for key, written in table.header.items():
            if key not in known:
                out.unknown("column", written, known, Where(table.file, table.header_where.record, field=written))
        required = [c.name for c in spec.columns if c.required] if spec else ["key", "value"]
        for name in required:
            if name not in table.header:
                missing.add(name)
                out.add("column.missing", f"required column {name!r} is missing", table.header_where, None)
    else:  # JSON/YAML tables: keys are checked row by row
        for row in table.rows:
            for key, written in row.columns.items():
                if key not in known:
                    out.unknown("column", written, known, Where(row.file, row.record, row.line, written))
    return missing


class _TablePlan(NamedTuple):
    """How a table's rows become records, worked out once per table rather than per cell."""

    cells: tuple[CellPlan, ...]
    paths: CellPaths  # where each value is, for locating problems (not the parent key of a child row)

    def reading(self, missing: set[str]) -> tuple[tuple[CellPlan, ...], frozenset[tuple[str, ...]]]:
        """The cells to read, and the paths of the ``missing`` columns (reported once for the whole table)."""
        return (
            tuple(cell for cell in self.cells if cell[0] not in missing),
            frozenset(path for name, path, _ in self.cells if name in missing),
        )


@functools.cache
def _table_plan(spec: Table) -> _TablePlan:
    paths: CellPaths = {c.target: c.name for c in spec.columns if c.name != spec.key}
    if spec.parent is not None:
        paths[()] = None  # a child row as a whole: a list item of its parent
    return _TablePlan(tuple((c.name, c.target, _converter(c)) for c in spec.columns), paths)


def _row_record(
    row: Row,
    cells: tuple[CellPlan, ...],
    missing_paths: frozenset[tuple[str, ...]],
    out: _Collector,
) -> tuple[dict[str, Any], set[tuple[str | int, ...]]]:
    """Convert one row into a record dict and the paths already reported (``missing_paths`` among them)."""
    data: dict[str, Any] = {}
    reported: set[tuple[str | int, ...]] = set(missing_paths)
    raw = row.cells
    for name, path, convert in cells:
        value = raw.get(name)
        if value is None:
            continue
        try:
            value = _cell_value(value, convert)
        except _BadValue as bad:
            out.reject(bad, row.at(name))
            reported.add(path)
            continue
        if value is not _ABSENT:
            _put(data, path, value)
    return data, reported


def _records_from_tables(tables: dict[str, RawTable], out: _Collector) -> tuple[Record | None, dict[str, list[Record]]]:
    records: dict[str, list[Record]] = {name: [] for name in PARENT_TABLES}
    missing_cols: dict[str, set[str]] = {}
    for name, table in tables.items():
        missing_cols[name] = _check_header(table, TABLES.get(name), out)

    metadata, style = (
        _metadata_from_table(tables["metadata"], missing_cols["metadata"], out) if "metadata" in tables
        else (None, ReadingStyle())
    )

    for name in PARENT_TABLES:
        if name not in tables:
            continue
        plan = _table_plan(TABLES[name])
        cells, missing_paths = plan.reading(missing_cols[name])
        cells = _localised(cells, TABLES[name], tables[name], style, out)
        for row in tables[name].rows:
            data, reported = _row_record(row, cells, missing_paths, out)
            records[name].append(Record(name, data, row.where, reported=reported, rows={(): (row, plan.paths)}))

    # Child rows become list items of their parent, in file order.
    index = {
        "positions": _first_by_key(records["positions"], "id"),
        "employees": _first_by_key(records["employees"], "nip"),
    }
    # Parent keys that were rejected (e.g. a NIP stored as a float): their child rows are
    # not reported again as pointing nowhere, since the parent row's problem says why.
    rejected: dict[str, list[Any]] = {
        name: [raw for r in records[name]
               if (("id",) if name == "positions" else ("nip",)) in r.reported
               and (raw := _raw_key(tables[name], r)) is not None]
        for name in ("positions", "employees")
        if name in tables
    }
    task_rows: dict[int, int] = {}
    for name, spec in TABLES.items():
        if spec.parent is None or name not in tables:
            continue
        plan = _table_plan(spec)
        cells, missing_paths = plan.reading(missing_cols[name])
        cells = _localised(cells, spec, tables[name], style, out)
        for row in tables[name].rows:
            data, reported = _row_record(row, cells, missing_paths, out)
            key = data.pop(spec.key) if spec.key in data else None
            if key is None:
                if (spec.key,) not in reported and spec.key not in missing_cols[name]:
                    out.add("field.missing", f"{spec.key} is required", Where(row.file, row.record, row.line, spec.key))
                continue
            parent = index[spec.parent].get(key)
            if parent is None and _matches_rejected(key, rejected.get(spec.parent, [])):
                continue
            if parent is None:
                what = "position" if spec.parent == "positions" else "employee"
                out.add(
                    f"ref.unknown_{what}",
                    f"no {what} with {spec.key} {key!r} in {spec.parent}",
                    Where(row.file, row.record, row.line, spec.key),
                    key,
                )
                continue
            target = parent.data
            for part in spec.list_path[:-1]:
                target = target.setdefault(part, {})
            items = target.setdefault(spec.list_path[-1], [])
            i = len(items)
            items.append(data)
            prefix: tuple[str | int, ...] = (*spec.list_path, i)
            parent.rows[prefix] = (row, plan.paths)
            if reported:
                parent.reported.update((*prefix, *loc) for loc in reported)
            if name == "position_tasks":
                task_rows[id(parent)] = task_rows.get(id(parent), 0) + 1

    for record in records["positions"]:
        _attach_workload_marker(record, task_rows.get(id(record), 0), out)
    return metadata, records


def _raw_key(table: RawTable, record: Record) -> Any:
    row = next((r for r in table.rows if r.where == record.base), None)
    return None if row is None else row.cells.get("id" if table.name == "positions" else "nip")


def _matches_rejected(key: str, rejected: list[Any]) -> bool:
    for raw in rejected:
        if isinstance(raw, float) and key.isdigit() and float(key) == raw:
            return True
        if str(raw).strip() == key:
            return True
    return False


def _first_by_key(records: list[Record], key: str) -> dict[str, Record]:
    index: dict[str, Record] = {}
    for record in records:
        value = record.key(key)
        if value is not None:
            index.setdefault(value, record)
    return index


def _attach_workload_marker(record: Record, n_tasks: int, out: _Collector) -> None:
    """``has_workload_data``: true = tasks are known (possibly none); false = unknown (null, never zero).

    Empty means "infer from the task rows": rows present -> known, none -> unknown.
    """
    marker = record.data.pop(WORKLOAD_MARKER, None)
    where = record.where((WORKLOAD_MARKER,))
    if marker is False:
        if n_tasks:
            out.add(
                "position.tasks_without_workload_data",
                f"has_workload_data is false but {n_tasks} position_tasks row(s) name this position",
                where,
                False,
            )
            record.reported.add(("tasks",))
        record.data.pop("tasks", None)  # null: no workload data
    elif marker is True:
        record.data.setdefault("tasks", [])
        if not n_tasks:
            out.add(
                "position.no_tasks",
                "has_workload_data is true but no position_tasks rows name this position: its workload counts as zero",
                where,
                True,
                severity="warning",
            )


def _metadata_from_table(table: RawTable, missing: set[str], out: _Collector) -> tuple[Record, ReadingStyle]:
    """The metadata table: key/value rows (CSV, sheet) or one mapping (JSON/YAML), and how the files are written."""
    data: dict[str, Any] = {}
    fieldmap: dict[tuple[str | int, ...], Where] = {}
    reported: set[tuple[str | int, ...]] = set()
    seen: dict[str, Where] = {}
    pairs: list[tuple[str, Any, Where]] = []
    if table.header is None:
        pairs = [(k, v, Where(table.file, None, row.line, k)) for row in table.rows for k, v in row.cells.items()]
    elif not missing:
        for row in table.rows:
            key = row.cells.get("key")
            if key is None:
                out.add("field.missing", "metadata row has no key", Where(table.file, row.record, field="key"))
                continue
            pairs.append((_norm_header(key), row.cells.get("value"),
                          Where(table.file, row.record, field=str(key).strip())))
    style = _reading_style(pairs, out)
    decimal_comma = style.decimal_comma if style.decimal_comma is not None else table.delimiter == ";"
    # The metadata's dates (as_of, election dates) count as one column for the day/month order.
    dates = [(value, where)
             for key, value, where in pairs if key in METADATA_KEYS and METADATA_KEYS[key].kind == "date"]
    texts = _date_texts(value for value, _ in dates)
    first = next((where for value, where in dates if _date_texts([value])), None)
    read_date = _localised_date(texts, style, first, out) if first is not None else None
    for key, value, where in pairs:
        column = METADATA_KEYS.get(key)
        if column is None:
            out.unknown("metadata_key", key, METADATA_KEYS, where)
            continue
        if key in seen:
            out.add("metadata.duplicate_key", f"metadata key {key!r} is given twice", where, value)
            continue
        seen[key] = where
        if key == "schema_version":  # belongs to the Dataset, not to its metadata
            if value is not None and _csv_cell(value) != "1":
                out.add("dataset.schema_version", "unsupported schema_version; this library reads version 1", where,
                        value)
            continue
        fieldmap[column.target] = where
        convert = _converter(column)
        if column.kind == "date" and read_date is not None:
            convert = read_date
        elif column.kind == "float":
            convert = _number_reader(convert, decimal_comma)
        try:
            converted = _cell_value(value, convert)
        except _BadValue as bad:
            out.reject(bad, where)
            reported.add(column.target)
            continue
        if converted is not _ABSENT:  # a blank value is absent: a required key is then reported missing
            _put(data, column.target, converted)
    return Record("metadata", data, Where(table.file), fieldmap, None, reported), style


# --------------------------------------------------------------------------- whole documents


def _model_class(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``X``, ``X | None`` or ``list[X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, Union, UnionType):
        for arg in get_args(annotation):
            found = _model_class(arg)
            if found is not None:
                return found
    return None


def _is_date_field(annotation: Any) -> bool:
    if annotation is dt.date:
        return True
    return get_origin(annotation) in (Union, UnionType) and dt.date in get_args(annotation)


@functools.cache
def _field_kinds(cls: type[BaseModel]) -> dict[str, tuple[bool, type[BaseModel] | None]]:
    """Field name -> (is a date, nested model) for a model class."""
    return {name: (_is_date_field(info.annotation), _model_class(info.annotation))
            for name, info in cls.model_fields.items()}


def _lines_under(doc: _Document, prefix: tuple[str | int, ...]) -> Callable[[tuple[str | int, ...]], int | None]:
    """The line of a path inside the item at ``prefix`` of ``doc`` (looked up only when a problem needs it)."""
    return lambda loc: doc.line((*prefix, *loc))


def _precheck_document(record: Record, model: type[BaseModel], out: _Collector) -> None:
    """Unknown keys and dates in a JSON/YAML record, checked before pydantic sees it."""

    def walk(data: Any, cls: type[BaseModel], loc: tuple[str | int, ...]) -> None:
        if not isinstance(data, dict):
            return
        fields = _field_kinds(cls)
        for key in list(data):
            if key not in fields:
                out.unknown("field", str(key), cls.model_fields, record.where((*loc, str(key))))
                del data[key]  # reported; without it pydantic would report it again
                continue
            value = data[key]
            is_date, sub = fields[key]
            if is_date and value is not None:
                fast = _iso_date(value)
                if fast is not None:
                    data[key] = fast
                    continue
                try:
                    data[key] = _to_date(value)
                except _BadValue as bad:
                    out.reject(bad, record.where((*loc, key)))
                    record.reported.add((*loc, key))
                continue
            if sub is None:
                continue
            if isinstance(value, list):
                for i, item in enumerate(value):
                    walk(item, sub, (*loc, key, i))
            else:
                walk(value, sub, (*loc, key))

    walk(record.data, model, ())


def _records_from_document(doc: _Document, file: str, out: _Collector) -> tuple[Record | None, dict[str, list[Record]]]:
    records: dict[str, list[Record]] = {name: [] for name in PARENT_TABLES}
    data = doc.data
    if not isinstance(data, dict):
        out.add("file.structure", "a dataset document must be a mapping with metadata, units, positions, employees",
                Where(file, line=1))
        return None, records
    known = ["schema_version", "metadata", *PARENT_TABLES]
    for key in data:
        if key not in known:
            out.unknown("field", str(key), known, Where(file, line=doc.line((str(key),)), field=str(key)))
    version = data.get("schema_version", "1")
    if str(version) != "1":
        out.add("dataset.schema_version", "unsupported schema_version; this library reads version 1",
                Where(file, line=doc.line(("schema_version",)), field="schema_version"), version)
    metadata: Record | None = None
    if "metadata" not in data:
        out.add("field.missing", "the document has no metadata", Where(file, field="metadata"))
    else:
        raw = data["metadata"]
        metadata = Record("metadata", raw if isinstance(raw, dict) else {}, Where(file, "metadata"),
                          lines=_lines_under(doc, ("metadata",)))
        if not isinstance(raw, dict):
            out.add("file.structure", "metadata must be a mapping", metadata.where(()), raw)
            metadata = None
        else:
            _precheck_document(metadata, DatasetMetadata, out)
    models: dict[str, type[BaseModel]] = {"units": Unit, "positions": Position, "employees": Employee}
    for name in PARENT_TABLES:
        items = data.get(name)
        if items is None:
            out.add("field.missing", f"the document has no {name} list", Where(file, field=name))
            continue
        if not isinstance(items, list):
            out.add("file.structure", f"{name} must be a list", Where(file, line=doc.line((name,)), field=name), None)
            continue
        for i, item in enumerate(items):
            base = Where(file, f"{name}[{i}]")  # lines are looked up only when a problem needs one
            if not isinstance(item, dict):
                out.add("file.structure", f"each item of {name} must be a mapping",
                        Where(file, base.record, doc.line((name, i))), item)
                continue
            record = Record(name, item, base, lines=_lines_under(doc, (name, i)))
            _precheck_document(record, models[name], out)
            records[name].append(record)
    return metadata, records


# --------------------------------------------------------------------------- sources


def _dataset_files(root: Path, out: _Collector) -> dict[str, tuple[Path, str]]:
    """Table name -> (file, format) for a directory dataset."""
    found: dict[str, tuple[Path, str]] = {}
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        fmt = TABLE_EXTENSIONS.get(path.suffix.lower())
        if fmt is None:
            out.add("file.ignored", "not a table file (.csv, .xlsx, .json, .yaml) and ignored", Where(str(path)),
                    severity="warning")
            continue
        name = path.stem.lower()
        if name not in ALL_TABLES:
            out.unknown("table", path.name, [f"{t}{path.suffix}" for t in ALL_TABLES], Where(str(path)))
            continue
        if name in found:
            out.add(
                "table.duplicate",
                f"table {name} is given twice: {found[name][0].name} and {path.name}",
                Where(str(path)),
                path.name,
            )
            continue
        found[name] = (path, fmt)
    return found


def _read_directory(root: Path, out: _Collector) -> dict[str, RawTable]:
    tables: dict[str, RawTable] = {}
    for name, (path, fmt) in _dataset_files(root, out).items():
        file = str(path)
        table: RawTable | None = None
        if fmt == "csv":
            table = _read_csv(path, name, file, out)
        elif fmt == "xlsx":
            book = _open_workbook(path, file, out)
            if book is not None:
                sheets = book.sheetnames
                sheet = name if name in sheets else (sheets[0] if len(sheets) == 1 else None)
                if sheet is None:
                    out.add("file.structure", f"workbook has several sheets and none is named {name!r}", Where(file),
                            sheets)
                else:
                    table = _read_sheet(book[sheet], name, file, "", out)
                book.close()
        else:
            doc = _read_document(path, fmt, file, out)
            if doc is not None:
                if name == "metadata":
                    if isinstance(doc.data, dict):
                        rows = [Row(file, None, doc.line((str(k),)), {_norm_header(k): v}, {})
                                for k, v in doc.data.items()]
                        table = RawTable(name, file, rows, None, Where(file))
                    else:
                        out.add("file.structure", "a metadata file must be a mapping of key: value",
                                Where(file, line=1))
                else:
                    table = _table_from_document(doc, name, file, out)
        if table is not None:
            tables[name] = table
    return tables


def _read_workbook(path: Path, out: _Collector) -> dict[str, RawTable]:
    file = str(path)
    book = _open_workbook(path, file, out)
    if book is None:
        return {}
    tables: dict[str, RawTable] = {}
    try:
        for sheet in book.sheetnames:
            name = sheet.strip().lower()
            if name not in ALL_TABLES:
                out.unknown("table", sheet, ALL_TABLES, Where(file, f"sheet {sheet}"))
                continue
            if name in tables:
                out.add("table.duplicate", f"two sheets hold table {name}", Where(file, f"sheet {sheet}"), sheet)
                continue
            tables[name] = _read_sheet(book[sheet], name, file, f"sheet {sheet} ", out)
    finally:
        book.close()
    return tables


# --------------------------------------------------------------------------- validation


_ERROR_CODES = {
    "missing": "field.missing",
    "enum": "field.enum",
    "greater_than_equal": "value.out_of_range",
    "greater_than": "value.out_of_range",
    "less_than_equal": "value.out_of_range",
    "less_than": "value.out_of_range",
    "string_too_short": "field.invalid",
    "string_pattern_mismatch": "field.invalid",
}


def _validate_record(record: Record, model: type[ModelT], out: _Collector) -> ModelT | None:
    """Validate one record; every pydantic error becomes a located problem."""
    try:
        return model.model_validate(record.data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            if any(loc[: len(r)] == r for r in record.reported):
                continue  # already reported with a better message
            if not loc and record.consistency_reported:
                continue  # the employee consistency check said precisely what is wrong
            message = err["msg"].removeprefix("Value error, ")
            code = _ERROR_CODES.get(err["type"], "field.invalid")
            value = None if err["type"] == "missing" else err.get("input")
            if loc and loc[-1] == "nip" and err["type"] == "value_error":
                code = "nip.invalid"
            named = _field_in_message(record, loc, message) if err["type"] == "value_error" else None
            if named is not None:  # a model-level check: point at the field its message names first
                loc = (*loc, named)
                value = value.get(named) if isinstance(value, dict) else None
            if isinstance(value, dict):
                value = None
            if err["type"] == "string_pattern_mismatch" and isinstance(value, str):
                control = _control_character(value)
                if control is not None:
                    code, message = "text.control_character", control
            elif code == "value.out_of_range" and loc and loc[-1] in _PLAUSIBLE_FIELDS:
                message += " (outside the plausible range, see docs/data-format.md; a decimal point for thousands?)"
            out.add(code, message, record.where(loc), value)
        return None


#: Fields with plausible bounds (models.py); a value outside them is most often a typing slip.
_PLAUSIBLE_FIELDS = {"effective_hours_per_year", "volume_per_year", "norm_minutes", "hours"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # never allowed
_LINE_CONTROL = re.compile(r"[\t\n\r]")  # allowed in free text, not in names


def _control_character(text: str) -> str | None:
    """Why ``text`` is refused when it holds a control character (None when it holds none)."""
    found = _CONTROL.search(text) or _LINE_CONTROL.search(text)
    if found is None:
        return None
    return (f"holds the control character U+{ord(found.group()):04X} at character {found.start() + 1}; text must "
            "be printable (control characters would reach letters, reports and terminals)")


def _field_in_message(record: Record, loc: tuple[str | int, ...], message: str) -> str | None:
    """For a model-level check ("end ... is before start ..."), the field of that model it names first."""
    target: Any = record.data
    for part in loc:
        try:
            target = target[part]
        except (KeyError, IndexError, TypeError):
            return None
    if not isinstance(target, dict):
        return None
    names = set(target) | {k[len(loc)]
                           for k in record.located_paths() if len(k) == len(loc) + 1 and k[: len(loc)] == loc}
    for word in re.findall(r"[a-z_]+", message):
        if word in names:
            return word
    return None


def _check_employee_consistency(record: Record, out: _Collector) -> None:
    """The Employee model validator's checks, each reported on the column at fault."""
    data = record.data
    nip = data.get("nip")
    try:
        parts = parse_nip(nip) if isinstance(nip, str) else None
    except ValueError:
        parts = None
    birth = data.get("birth_date")
    if parts and isinstance(birth, dt.date) and parts.birth_date != birth:
        record.consistency_reported = True
        out.at(record, ("birth_date",), "nip.birth_date_mismatch",
               f"NIP {nip} encodes birth date {parts.birth_date}, but birth_date is {birth}", birth)
    gender = data.get("gender")
    if parts and gender in {g.value for g in Gender} and parts.gender.value != gender:
        record.consistency_reported = True
        out.at(record, ("gender",), "nip.gender_mismatch",
               f"NIP {nip} gender digit says {parts.gender.value}, but gender is {gender}", gender)
    status = data.get("status")
    if (status in (EmployeeStatus.PNS.value, EmployeeStatus.CPNS.value) and data.get("rank") is None
            and ("rank",) not in record.reported):
        record.consistency_reported = True
        out.at(record, ("rank",), "field.missing", f"rank (golongan) is required for status {status}")
    seen: set[Any] = set()
    for i, item in enumerate(data.get("performance") or []):
        year = item.get("year") if isinstance(item, dict) else None
        if year is None:
            continue
        if str(year) in seen:
            record.consistency_reported = True
            out.at(record, ("performance", i, "year"), "performance.duplicate_year",
                   f"more than one predikat for year {year}", year)
        seen.add(str(year))


def _check_references(records: dict[str, list[Record]], out: _Collector) -> None:
    units = records["units"]
    positions = records["positions"]
    employees = records["employees"]

    for kind, key in (("units", "id"), ("positions", "id")):
        first: dict[str, Record] = {}
        for record in records[kind]:
            value = record.key(key)
            if value is None:
                continue
            if value in first:
                out.at(record, (key,), "id.duplicate",
                       f"{kind[:-1]} id {value!r} is already used at {_describe(first[value])}", value)
            else:
                first[value] = record

    unit_ids = {r.key("id") for r in units} - {None}
    position_unit = {r.key("id"): r.key("unit_id") for r in reversed(positions) if r.key("id")}

    parents: dict[str, str] = {}
    for record in units:
        parent = record.key("parent_id")
        if parent is None:
            continue
        if parent not in unit_ids:
            out.at(record, ("parent_id",), "ref.unknown_unit", f"parent unit {parent!r} does not exist", parent)
        elif (unit_id := record.key("id")) is not None:
            parents.setdefault(unit_id, parent)
    _check_cycles(units, parents, out)

    for record in positions:
        unit = record.key("unit_id")
        if unit is not None and unit not in unit_ids:
            out.at(record, ("unit_id",), "ref.unknown_unit", f"unit {unit!r} does not exist", unit)

    placed: dict[str, Record] = {}
    for record in employees:
        nip = record.key("nip")
        position = record.key("position_id")
        unit = record.key("unit_id")
        if nip is not None:
            if nip in placed:
                earlier = placed[nip]
                if position and earlier.key("position_id") and position != earlier.key("position_id"):
                    out.at(
                        record,
                        ("position_id",),
                        "employee.two_positions",
                        f"NIP {nip} is placed in two positions: {earlier.key('position_id')} at {_describe(earlier)} "
                        f"and {position} here; an employee holds one position",
                        position,
                    )
                else:
                    out.at(record, ("nip",), "nip.duplicate", f"NIP {nip} is already used at {_describe(earlier)}", nip)
            else:
                placed[nip] = record
        if position is not None and position not in position_unit:
            out.at(record, ("position_id",), "ref.unknown_position", f"position {position!r} does not exist", position)
        if unit is not None and unit not in unit_ids:
            out.at(record, ("unit_id",), "ref.unknown_unit", f"unit {unit!r} does not exist", unit)
        elif unit is not None and position in position_unit and position_unit[position] in unit_ids - {unit}:
            out.at(
                record,
                ("unit_id",),
                "employee.unit_mismatch",
                f"position {position} belongs to unit {position_unit[position]}, but unit_id is {unit}",
                unit,
            )
        prefs = record.data.get("preferences")
        preferred = prefs.get("preferred_unit_ids") if isinstance(prefs, dict) else None
        for i, pref in enumerate(preferred if isinstance(preferred, list) else []):
            if isinstance(pref, str) and pref not in unit_ids:
                out.at(record, ("preferences", "preferred_unit_ids", i), "ref.unknown_unit",
                       f"preferred unit {pref!r} does not exist", pref)


def _check_cycles(units: list[Record], parents: dict[str, str], out: _Collector) -> None:
    """Report each cycle of unit parents once, at its first unit in file order."""
    by_id = _first_by_key(units, "id")
    order = [uid for uid in (r.key("id") for r in units) if uid is not None]
    for cycle in parent_cycles(order, parents):
        first = cycle[0]
        out.at(by_id[first], ("parent_id",), "unit.parent_cycle",
               "unit parents form a cycle: " + " -> ".join([*cycle, first]), parents[first])


def _describe(record: Record) -> str:
    where = record.base
    if where.record:
        return f"{Path(where.file).name if where.file else ''} {where.record}".strip()
    return f"line {where.line}" if where.line else "an earlier record"


def _check_dates(metadata: DatasetMetadata, items: list[tuple[Record, BaseModel]], out: _Collector) -> None:
    """Dates that cannot lie after ``as_of`` (the day the data describe)."""
    as_of = metadata.as_of

    def late(record: Record, loc: tuple[str | int, ...], day: dt.date, what: str) -> None:
        if day > as_of:
            out.at(record, loc, "date.after_as_of", f"{what} {day} is after the dataset's as_of {as_of}", day)

    for record, model in items:
        if not isinstance(model, Employee):
            continue
        late(record, ("birth_date",), model.birth_date, "birth date")
        late(record, ("position_start",), model.position_start, "TMT jabatan")
        for name in ("trainings", "certificates"):
            for i, t in enumerate(getattr(model, name)):
                late(record, (name, i, "completed"), t.completed, "completion date")
        for i, s in enumerate(model.sanctions):
            late(record, ("sanctions", i, "start"), s.start, "sanction start")
        for i, p in enumerate(model.performance):
            if p.year > as_of.year:
                out.at(record, ("performance", i, "year"), "date.after_as_of",
                       f"performance year {p.year} is after the as_of year {as_of.year}", p.year)
        for i, h in enumerate(model.position_history):
            late(record, ("position_history", i, "start"), h.start, "history start")


def _validate_records(
    metadata: Record | None, records: dict[str, list[Record]], out: _Collector
) -> Dataset | None:
    for record in records["employees"]:
        _check_employee_consistency(record, out)
    _check_references(records, out)

    meta_model = _validate_record(metadata, DatasetMetadata, out) if metadata is not None else None
    pairs: list[tuple[Record, BaseModel]] = []
    # In the order of PARENT_TABLES, so that problems come in the same order.
    units = _validate_table(records["units"], Unit, pairs, out)
    positions = _validate_table(records["positions"], Position, pairs, out)
    employees = _validate_table(records["employees"], Employee, pairs, out)
    if meta_model is not None:
        _check_dates(meta_model, pairs, out)
    if out.problems.errors or meta_model is None:
        return None
    # Every part is validated already; Dataset(...) would run each record's after-validators
    # again (pydantic runs them on model instances too): 0.2 s for 14,000 employees.
    return Dataset.model_construct(metadata=meta_model, units=units, positions=positions, employees=employees)


def _validate_table(records: list[Record], model: type[ModelT], pairs: list[tuple[Record, BaseModel]],
                    out: _Collector) -> list[ModelT]:
    """The valid records of one table as ``model`` instances; each also appended to ``pairs``."""
    valid: list[ModelT] = []
    for record in records:
        instance = _validate_record(record, model, out)
        if instance is not None:
            valid.append(instance)
            pairs.append((record, instance))
    return valid


# --------------------------------------------------------------------------- public API: reading


#: Below this many bytes of tables the row-by-row reader is faster than importing polars (0.3 s or more).
COLUMNAR_MIN_BYTES = 2_000_000


def _large(root: Path) -> bool:
    """Whether the tables at ``root`` hold COLUMNAR_MIN_BYTES of CSV (xlsx counts four times: it is compressed)."""
    weight = {".csv": 1, ".xlsx": 4}
    try:
        files = root.iterdir() if root.is_dir() else [root]
        return sum(p.stat().st_size * weight.get(p.suffix.lower(), 0) for p in files) >= COLUMNAR_MIN_BYTES
    except OSError:
        return False


def validate_dataset(
    path: str | os.PathLike[str], *, allow_extra_columns: bool = False, columnar: bool | None = None
) -> tuple[Dataset | None, Problems]:
    """Read and check a dataset; return it (None when there are errors) and every problem found.

    A directory of CSV or xlsx tables, or one workbook, is read column by column first
    (:mod:`mutasi_rules.data.columnar`);
    whenever that reader meets anything that is or may be a problem, this row-by-row reader
    reads the dataset and reports every problem. ``columnar``: None reads column by column
    from :data:`COLUMNAR_MIN_BYTES` of tables on, True always, False never.
    """
    with fewer_collections():
        root = Path(path)
        workbook = root.suffix.lower() == ".xlsx" and root.is_file()
        if columnar is None:
            columnar = (root.is_dir() or workbook) and _large(root)
        if columnar and (root.is_dir() or workbook):
            from mutasi_rules.data.columnar import NotClean, read_clean_directory, read_clean_workbook

            try:
                read = read_clean_workbook if workbook else read_clean_directory
                return read(root, allow_extra_columns=allow_extra_columns), Problems()
            except NotClean:
                pass
        return _validate_dataset(path, allow_extra_columns)


def _validate_dataset(path: str | os.PathLike[str], allow_extra_columns: bool) -> tuple[Dataset | None, Problems]:
    out = _Collector(allow_extra_columns)
    root = Path(path)
    metadata: Record | None = None
    records: dict[str, list[Record]] = {name: [] for name in PARENT_TABLES}
    if root.is_dir():
        tables = _read_directory(root, out)
        for name in REQUIRED_TABLES:
            if name not in tables and not any(p.code == "file.unreadable" and Path(p.file or "").stem == name
                                              for p in out.problems):
                out.add("table.missing", f"required table {name} is missing (e.g. {name}.csv)", Where(str(root)), name)
        metadata, records = _records_from_tables(tables, out)
    elif not root.exists():
        out.add("file.not_found", "no such file or directory", Where(str(root)))
        return None, out.problems
    else:
        fmt = TABLE_EXTENSIONS.get(root.suffix.lower())
        if fmt in ("json", "yaml"):
            doc = _read_document(root, fmt, str(root), out)
            if doc is not None:
                metadata, records = _records_from_document(doc, str(root), out)
        elif fmt == "xlsx":
            tables = _read_workbook(root, out)
            if tables or not out.problems:
                for name in REQUIRED_TABLES:
                    if name not in tables:
                        out.add("table.missing", f"required sheet {name!r} is missing", Where(str(root)), name)
            metadata, records = _records_from_tables(tables, out)
        else:
            out.add("file.format", "a dataset is a directory or a .json, .yaml, .yml or .xlsx file", Where(str(root)),
                    root.suffix)
            return None, out.problems
    dataset = _validate_records(metadata, records, out)
    return dataset, Problems(sorted(out.problems, key=_problem_order))


def _problem_order(problem: Problem) -> tuple[str, int, int, str]:
    """File, then row / record number, then line: the order a person fixes them in."""
    numbers = [int(n) for n in re.findall(r"\d+", problem.record or "")]
    return (problem.file or "", numbers[-1] if numbers else -1, problem.line or 0, problem.field or "")


def load_dataset(path: str | os.PathLike[str], *, allow_extra_columns: bool = False) -> Dataset:
    """Read a dataset; raise :class:`InputError` carrying every problem if any is an error."""
    dataset, problems = validate_dataset(path, allow_extra_columns=allow_extra_columns)
    if dataset is None:
        problems.raise_if_errors(f"dataset {os.fspath(path)}")
        raise InputError(f"dataset {os.fspath(path)}", list(problems))  # pragma: no cover - errors always exist here
    return dataset


# --------------------------------------------------------------------------- writing


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _typed(value: Any, column: Column, context: str) -> Any:
    """A JSON-mode model value as the typed cell value of its column."""
    if value is None:
        return None
    if column.kind == "date":
        return dt.date.fromisoformat(value)
    if column.kind == "list":
        for item in value:
            if LIST_SEPARATOR in item:
                raise ValueError(
                    f"{context}: {column.name} item {item!r} contains {LIST_SEPARATOR!r}, the list separator")
        return list(value)
    return value


def _to_tables(dataset: Dataset) -> dict[str, list[list[Any]]]:
    """Every table as typed rows (header excluded), in the dataset's order."""
    data = dataset.model_dump(mode="json")
    tables: dict[str, list[list[Any]]] = {}
    meta = data["metadata"]
    tables["metadata"] = [["schema_version", data["schema_version"]]] + [
        [key, _typed(_get(meta, col.target), col, f"metadata {key}")]
        for key, col in METADATA_KEYS.items() if key != "schema_version"
    ]
    for name in PARENT_TABLES:
        tables[name] = []
    for name, spec in TABLES.items():
        if spec.parent:
            tables[name] = []
    for name in PARENT_TABLES:
        spec = TABLES[name]
        key_name = "nip" if name == "employees" else "id"
        for item in data[name]:
            row = []
            for col in spec.columns:
                if col.target == (WORKLOAD_MARKER,):
                    row.append(item.get("tasks") is not None)
                else:
                    row.append(_typed(_get(item, col.target), col, f"{name} {item[key_name]}"))
            tables[name].append(row)
            for child_name, child in TABLES.items():
                if child.parent != name:
                    continue
                for sub in _get(item, child.list_path) or []:
                    tables[child_name].append(
                        [item[key_name] if c.name == child.key
                         else _typed(_get(sub, c.target), c, f"{child_name} of {item[key_name]}")
                         for c in child.columns]
                    )
    return tables


def _headers() -> dict[str, list[str]]:
    heads = {"metadata": ["key", "value"]}
    heads.update({name: [c.name for c in spec.columns] for name, spec in TABLES.items()})
    return heads


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return f"{LIST_SEPARATOR} ".join(value)
    return str(value)


def _csv_text(header: list[str], rows: list[list[Any]], dialect: str = "standard") -> str:
    """A table as CSV. ``id``: as Excel under Indonesian settings writes it (``;``, DD/MM/YYYY, decimal comma, BOM)."""
    indonesian = dialect == "id"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if indonesian else ",", lineterminator="\r\n" if indonesian else "\n")
    writer.writerow(header)
    for row in rows:
        # A text starting like a formula gets a leading apostrophe (read back as it was).
        writer.writerow([neutralise_formula(v) if isinstance(v, str)
                         else _id_csv_cell(v) if indonesian else _csv_cell(v) for v in row])
    return ("\ufeff" if indonesian else "") + buffer.getvalue()


def _id_csv_cell(value: Any) -> str:
    """A cell as Indonesian Excel shows it: dates DD/MM/YYYY and a decimal comma (never a thousands separator)."""
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return _csv_cell(value).replace(".", ",")
    return _csv_cell(value)


#: What a CSV dataset in the ``id`` dialect declares in its metadata, so it reads back unambiguously.
ID_DIALECT_DECLARATIONS = [["date_format", "DD/MM/YYYY"], ["decimal_separator", ","]]


def _fill_sheet(sheet: Any, header: list[str], rows: list[list[Any]]) -> None:
    cells = ([f"{LIST_SEPARATOR} ".join(v) if isinstance(v, list) else v for v in row] for row in rows)
    fill_sheet(sheet, header, cells, text_format=True)


def _workbook_bytes(sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> bytes:
    """An .xlsx with no timestamps anywhere, so equal data give equal bytes."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])  # the default empty sheet
    for name, (header, rows) in sheets.items():
        _fill_sheet(book.create_sheet(name), header, rows)
    return deterministic_xlsx(book)


def save_dataset(dataset: Dataset, path: str | os.PathLike[str], fmt: SaveFormat | str,
                 *, csv_dialect: str = "standard") -> None:
    """Write ``dataset`` atomically and deterministically.

    ``json`` / ``yaml``: one document at ``path``. ``csv``: a directory with one file per
    table (``csv_dialect="id"``: for Excel under Indonesian settings, declared in the
    metadata so it reads back to the same dataset). ``xlsx``: one workbook when ``path``
    ends in ``.xlsx``, else a directory with one workbook per table. Records keep the
    dataset's order; child rows follow their parent.
    """
    target = Path(path)
    if fmt == "json":
        atomic.write_text(target, canonical_json(dataset, indent=2) + "\n")
        return
    if fmt == "yaml":
        text = yaml.safe_dump(dataset.model_dump(mode="json"), sort_keys=True, allow_unicode=True, width=120)
        atomic.write_text(target, text)
        return
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown dataset format {fmt!r}; expected one of {', '.join(FORMATS)}")
    tables = _to_tables(dataset)
    headers = _headers()
    if fmt == "xlsx" and target.suffix.lower() == ".xlsx":
        atomic.write_bytes(target, _workbook_bytes({n: (headers[n], rows) for n, rows in tables.items()}))
        return
    if target.exists() and not target.is_dir():
        raise ValueError(f"{target} exists and is not a directory")
    if target.is_dir():
        for other in sorted(target.iterdir()):
            ext = TABLE_EXTENSIONS.get(other.suffix.lower())
            if other.stem.lower() in tables and ext is not None and other.suffix.lower() != f".{fmt}":
                raise ValueError(
                    f"{other} already holds table {other.stem}; writing {fmt} beside it would give the table twice"
                )
    if fmt == "csv" and csv_dialect == "id":
        tables["metadata"] = tables["metadata"] + ID_DIALECT_DECLARATIONS
    for name, rows in tables.items():
        if fmt == "csv":
            atomic.write_text(target / f"{name}.csv", _csv_text(headers[name], rows, csv_dialect))
        else:
            atomic.write_bytes(target / f"{name}.xlsx", _workbook_bytes({name: (headers[name], rows)}))


def iter_table_columns() -> Iterator[tuple[str, Column]]:
    """(table, column) for every documented column, metadata keys included (for docs and tests)."""
    for col in METADATA_KEYS.values():
        yield "metadata", col
    for name, spec in TABLES.items():
        for col in spec.columns:
            yield name, col
