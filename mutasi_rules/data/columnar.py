"""The columnar dataset reader: a directory of CSV (polars) or xlsx (calamine) tables, column by column.

:mod:`mutasi_rules.data.loading` reads every cell through Python one row at a time, keeping enough
to name the file, row and column of any problem. Most datasets have no problem at all, and
for them that bookkeeping is the cost (30 s of 100,000 employees). This reader parses each
file with polars, converts each column with vectorised expressions, and hands pydantic (which
stays the authority on every record) plain dicts.

It only ever *accepts*: the moment anything could become a problem (an error or a warning:
a cell its column cannot take, an unknown or missing column, a record pydantic refuses, a
reference that points nowhere, a quoting polars and Python's ``csv`` might read apart, an
unusual file) it raises :class:`NotClean`, and the row-by-row reader reads the dataset from
the start and reports every problem located as before. So a dataset this reader returns is
one the row-by-row reader returns unchanged and without a single problem (the differential
test ``tests/test_loading_columnar.py`` holds it to that), and every problem report is the
row-by-row reader's own.

The exactness rule for cells: a cell of the common, unambiguous shape (``2024-01-31``,
``7.5``, 18 ASCII digits, a plain text) is converted by a vectorised expression whose result
is by construction the Python converter's; every other present cell goes through the very
converter the row-by-row reader uses (``loading._cell_value``), one cell at a time.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from mutasi_rules.data import loading as _l
from mutasi_rules.data.cellformats import detect_date_order, restore_formula_text
from mutasi_rules.data.integrity import dataset_problems
from mutasi_rules.data.models import Dataset, DatasetMetadata, Employee, Position, Unit

__all__ = ["NotClean", "read_clean_directory", "read_clean_workbook"]


class NotClean(Exception):
    """The dataset has, or may have, a problem: the row-by-row reader must read (and report) it."""


#: Every character Python's ``str.strip()`` removes, so polars strips exactly what Python strips
#: (Rust's notion of whitespace leaves out U+001C..U+001F).
PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                 "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

#: Largest cell this reader accepts; Python's csv module refuses fields over 131,072 characters
#: (a located problem of the row-by-row reader), polars does not.
_MAX_CELL_CHARS = 100_000

_MODELS: dict[str, type[BaseModel]] = {"units": Unit, "positions": Position, "employees": Employee}

_BOOL_WORDS = sorted(_l._TRUE | _l._FALSE)


# --------------------------------------------------------------------------- reading files


def _csv_frame(path: Path, file: str, out: _l._Collector) -> tuple[Any, str]:
    """The file's cells as an all-text polars frame (header row included, as row 0) and its delimiter."""
    import polars as pl

    source = _l._csv_source(path, file, out)
    if source is None or out.problems:
        raise NotClean(file)
    text, delimiter = source
    # polars and Python's csv agree on well-formed CSV; where they could read a file apart
    # (a lone carriage return, Python's own limit on a field), the row-by-row reader decides.
    if text.count("\r") != text.count("\r\n"):
        raise NotClean(file)
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            has_header=False,
            separator=delimiter,
            quote_char='"',
            infer_schema=False,
            encoding="utf8",
            truncate_ragged_lines=False,
            raise_if_empty=True,
        )
    except Exception as exc:  # noqa: BLE001 - polars raises several kinds for a malformed file; the row reader names it
        raise NotClean(f"{file}: {exc}") from None
    longest = frame.select(pl.max_horizontal(pl.all().str.len_chars().max())).item() if frame.height else 0
    if (longest or 0) > _MAX_CELL_CHARS:
        raise NotClean(file)
    return frame, delimiter


def _csv_sheet(path: Path, name: str, file: str, out: _l._Collector) -> _Sheet:
    frame, delimiter = _csv_frame(path, file, out)
    header_cells = [_grid_cell(v) for v in frame.row(0)] if frame.height else []
    return _named_columns(frame.slice(1), header_cells, name, file, out, delimiter)


#: Number formats calamine may read as dates that openpyxl reads as numbers: locale-specific built-ins.
_LOCALE_DATE_FORMAT_IDS = {*range(27, 37), *range(50, 59), *range(71, 82)}
#: A formula (``<f>``), an error cell or an ISO-date cell in a worksheet's XML.
_FORMULA_OR_ODD_CELL = (b"<f>", b"<f ", b"<f/", b' t="e"', b' t="d"')
_ROW = re.compile(rb"<row\b([^>]*)>")
_ROW_ONE = re.compile(rb'(?:^|\s)r="1"')


def _workbook_sheets(path: Path, file: str, out: _l._Collector) -> dict[str, int]:
    """Sheet name -> how many cells hold a value, for a workbook calamine and openpyxl are sure to read alike.

    The count lets the reader check that calamine dropped no cell (it reads a date serial
    beyond the year 9999 as empty, openpyxl as an error).

    :class:`NotClean` for anything they might not: a formula (openpyxl reports one saved
    without its value), an error or ISO-date cell, a number format one reads as a date and
    the other as a number, a sheet whose first row is not its header row (calamine starts
    at the first row holding a value), limits exceeded.
    """
    from xml.etree import ElementTree

    from openpyxl.styles.numbers import is_date_format

    if not _l._workbook_within_limits(path, file, out):
        raise NotClean(file)
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): (r.get("Target") or "").lstrip("/") for r in rels}
            sheets: dict[str, str] = {}
            for sheet in book.iter(f"{main}sheet"):
                target = targets.get(sheet.get(rel), "")
                part = target if target.startswith("xl/") else f"xl/{target}"
                sheets[sheet.get("name") or ""] = part
            if "xl/styles.xml" in names:
                styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
                for fmt in styles.iter(f"{main}numFmt"):
                    code = fmt.get("formatCode") or ""
                    bare = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code)
                    if not is_date_format(code) and re.search("[dmyhs]", bare, re.I):
                        raise NotClean(f"{file}: number format {code!r}")
                xfs = next(styles.iter(f"{main}cellXfs"), None)
                if xfs is not None and any(int(xf.get("numFmtId") or 0) in _LOCALE_DATE_FORMAT_IDS for xf in xfs):
                    raise NotClean(f"{file}: locale-specific number format")
            counts: dict[str, int] = {}
            for sheet_name, part in sheets.items():
                if part not in names:
                    raise NotClean(f"{file}: {part}")
                xml = archive.read(part)
                counts[sheet_name] = xml.count(b"<v>") + xml.count(b"<is>")
                if any(token in xml for token in _FORMULA_OR_ODD_CELL):
                    raise NotClean(f"{file}: formula or unusual cell")
                # The first row element must be row 1 and hold a value: openpyxl starts there.
                first = _ROW.search(xml)
                end = xml.find(b"</row>", first.end()) if first is not None else -1
                if (first is None or first.group(1).endswith(b"/") or not _ROW_ONE.search(first.group(1))
                        or not re.search(rb"<(?:v|is)\b", xml[first.end():end])):
                    raise NotClean(f"{file}: the first row is not the header row")
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError, ValueError) as exc:
        raise NotClean(f"{file}: {exc}") from None
    return counts


def _calamine(path: Path, file: str, sheets: list[str]) -> Any:
    """fastexcel's reader of the workbook, which must list the same sheets as its workbook.xml."""
    import fastexcel

    # fastexcel logs a warning for a column without a value ("falling back to string"): normal here.
    logging.getLogger("fastexcel").setLevel(logging.ERROR)
    try:
        reader = fastexcel.read_excel(path)
    except BaseException as exc:  # noqa: BLE001 - fastexcel's kinds for a damaged file, a Rust panic: _unread decides
        raise _unread(exc, file) from None
    if list(reader.sheet_names) != sheets:
        raise NotClean(file)
    return reader


def _unread(exc: BaseException, file: str) -> NotClean:
    """What calamine could not read is the row reader's to read and report.

    pyo3 turns a panic in Rust (calamine on a date serial out of range) into
    ``PanicException``, a ``BaseException``: it is caught here too, nothing else is.
    """
    if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
        raise exc
    return NotClean(f"{file}: {type(exc).__name__}: {exc}")


def _xlsx_sheet(path: Path, name: str, file: str, out: _l._Collector, sheet: str | None = None,
                reader: Any = None, counts: dict[str, int] | None = None) -> _Sheet:
    """One table of a workbook read by calamine (fastexcel): ``sheet``, by default the sheet
    named after the table or the only sheet (a directory's workbook). ``reader`` and
    ``counts``: a workbook already checked and opened (:func:`_workbook_sheets`, :func:`_calamine`)."""
    import polars as pl

    if reader is None or counts is None:
        counts = _workbook_sheets(path, file, out)
        sheets = list(counts)
        sheet = name if name in sheets else (sheets[0] if len(sheets) == 1 else None)
        if sheet is None:
            raise NotClean(file)
        reader = _calamine(path, file, sheets)
    assert sheet is not None
    lim = _l.limits.current()
    try:
        # Every row decides a column's type; a column of mixed types is the row reader's to read.
        loaded = reader.load_sheet(sheet, header_row=0, dtype_coercion="strict", schema_sample_rows=None)
        frame = loaded.to_polars()
        # A header cell fastexcel named itself (an empty one) is None, as the grid holds it; a
        # duplicate it renamed ("kind_1") is then an unknown column: the row reader's to report.
        header_cells = [c.name if c.column_name_from == "looked_up" else None for c in loaded.available_columns()]
    except NotClean:
        raise
    except BaseException as exc:  # noqa: BLE001 - fastexcel's kinds (mixed columns, damage), a Rust panic: _unread decides
        raise _unread(exc, file) from None
    if frame.height > lim.rows or frame.width > lim.columns:
        raise NotClean(file)
    read = sum(cell is not None for cell in header_cells) + frame.height * frame.width - sum(frame.null_count().row(0))
    if read != counts[sheet]:  # a cell calamine read as empty (or an empty text): the row reader's
        raise NotClean(file)
    strings = [c for c in frame.columns if frame.schema[c] == pl.String]
    longest = frame.select(pl.max_horizontal(pl.col(strings).str.len_chars().max())).item() if strings else 0
    if (longest or 0) > lim.cell_chars:
        raise NotClean(file)
    return _named_columns(frame, header_cells, name, file, out, None)


def _grid_cell(raw: str | None) -> str | None:
    """A raw CSV cell as the row-by-row reader's grid holds it (``loading._read_csv``)."""
    if raw is None or not raw.strip():
        return None
    return restore_formula_text(raw) if raw[:1] == "'" else raw


@dataclass
class _Sheet:
    """One table's data rows, columns named by their normalised header."""

    raw: Any  # CSV: the cells as written; xlsx: the cells as calamine types them
    stripped: Any  # text columns as ``str.strip`` leaves them, null when blank; other columns as in ``raw``
    header: dict[str, str]  # normalised name -> as written
    delimiter: str | None  # CSV only
    csv: bool  # a leading apostrophe is this library's formula protection (CSV only)

    def cell(self, raw: Any) -> Any:
        """A raw cell as the row-by-row reader's grid holds it."""
        return _grid_cell(raw) if self.csv else raw


def _named_columns(frame: Any, header_cells: list[Any], name: str, file: str, out: _l._Collector,
                   delimiter: str | None) -> _Sheet:
    """The data rows of ``frame`` under ``header_cells`` (as the grid holds them); blank rows dropped.

    Blank rows are dropped, as the row-by-row reader skips them. A duplicate or unnamed
    column is left to the row-by-row reader.
    """
    import polars as pl

    table = _l._rows_from_grid([header_cells], name, file, "", out)
    keys = [_l._norm_header(cell) for cell in header_cells]
    if out.problems or "" in keys or len(set(keys)) != len(keys) or table.header is None or len(keys) != frame.width:
        raise NotClean(file)
    raw = frame.rename(dict(zip(frame.columns, keys, strict=True)))
    stripped = raw.select(_stripped(pl.col(key)).alias(key) if raw.schema[key] == pl.String else pl.col(key)
                          for key in keys)
    written = ~pl.all_horizontal(pl.all().is_null())
    keep = stripped.select(written).to_series()
    if not keep.all():
        raw, stripped = raw.filter(keep), stripped.filter(keep)
    return _Sheet(raw, stripped, table.header, delimiter, delimiter is not None)


def _stripped(raw: Any) -> Any:
    """A cell as ``str.strip`` leaves it; null when that is empty (a blank cell)."""
    text = raw.str.strip_chars(PY_WHITESPACE)
    return _when(text.str.len_bytes() > 0, text)


def _when(condition: Any, value: Any) -> Any:
    import polars as pl

    return pl.when(condition).then(value).otherwise(None)


# --------------------------------------------------------------------------- converting columns


def _numeric_date(text: Any, order: str) -> Any:
    """A ``DD/MM/YYYY`` (or ``MM/DD/YYYY``, ``-`` or ``.`` between) text as a date; null when not one.

    ``cellformats.parse_date_text`` reads the same texts the same way for this column's order.
    """
    import polars as pl

    parts = text.str.extract_groups(r"^([0-9]{1,2})([/.-])([0-9]{1,2})([/.-])([0-9]{4})$")
    first, second, year = (parts.struct.field(f) for f in ("1", "3", "5"))
    day, month = (first, second) if order == "dmy" else (second, first)
    iso = pl.concat_str([year, pl.lit("-"), month.str.zfill(2), pl.lit("-"), day.str.zfill(2)])
    same_separator = parts.struct.field("2") == parts.struct.field("4")
    return _when(same_separator & (year != "0000"), iso.str.strptime(pl.Date, "%Y-%m-%d", strict=False))


def _fast_cells(name: str, kind: str, decimal_comma: bool, quoted: Any, order: str | None = None) -> tuple[Any, Any]:
    """(value where the cell has the common shape, else null; whether Python must convert the cell).

    ``name`` is the column of stripped text; ``quoted`` marks cells written with a leading
    apostrophe (None: the column has none), which may protect a formula and go to Python.
    Each vectorised value equals what the row-by-row converter gives the same cell: text is
    stripped as ``str.strip`` strips; an ISO date is the date; a number keeps its text
    (pydantic parses it, as it parses the row reader's); a boolean word its value.
    """
    import polars as pl

    text = pl.col(name)
    present = text.is_not_null()
    plain = present if quoted is None else present & ~quoted
    value: Any
    if name == "nip":
        fast = plain & text.str.contains(r"^[0-9]{18}$")
        value = text
    elif kind in ("text", "int"):
        fast = plain
        value = text
    elif kind == "date":
        shaped = text.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$") & ~text.str.starts_with("0000")
        value = _when(shaped, text.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
        if order in ("dmy", "mdy"):  # the order the column's converter reads numeric dates in
            value = pl.coalesce(value, _numeric_date(text, order))
        fast = plain & value.is_not_null()
    elif kind == "float":
        if decimal_comma:
            fast = plain & text.str.contains(r"^[0-9]+(,[0-9]+)?$")
            value = text.str.replace(",", ".", literal=True)
        else:
            fast = plain & text.str.contains(r"^[0-9]+(\.[0-9]+)?$")
            value = text
    elif kind == "bool":
        lower = text.str.to_lowercase()
        fast = plain & text.str.contains(r"^[A-Za-z01]+$") & lower.is_in(_BOOL_WORDS)
        value = lower.is_in(sorted(_l._TRUE))
    else:  # lists: split by Python, cell by cell
        return pl.lit(None), present
    if name != "nip" and kind in ("text", "int") and quoted is None:  # every present cell is converted
        return value, pl.lit(False)
    return _when(fast, value), present & ~fast


def _date_order_texts(sheet: _Sheet, name: str) -> list[str]:
    """The column's date texts that need a day/month order (``loading._date_texts``), in file order."""
    import polars as pl

    if sheet.raw.schema[name] != pl.String:
        return []
    text = sheet.stripped.get_column(name)
    iso_shaped = (text.str.len_chars() == 10) & (text.str.slice(4, 1) == "-") & (text.str.slice(7, 1) == "-")
    wanted = text.is_not_null() & ~iso_shaped.fill_null(False)
    if sheet.csv:
        wanted = wanted | sheet.raw.get_column(name).str.starts_with("'").fill_null(False)
    candidates = sheet.raw.get_column(name).filter(wanted).to_list()
    return _l._date_texts(sheet.cell(v) for v in candidates)


def _localised_plan(
    plan: tuple[_l.CellPlan, ...], spec: _l.Table, sheet: _Sheet, file: str,
    style: _l.ReadingStyle, decimal_comma: bool, out: _l._Collector, orders: dict[str, str | None],
) -> tuple[_l.CellPlan, ...]:
    """The row-by-row reader's converters for this file (``loading._localised``), for the cells Python converts.

    ``orders`` receives the day/month order of each date column that has numeric dates.
    """
    result: list[_l.CellPlan] = []
    for name, path, base in plan:
        column = spec.column(name)
        convert = base
        if column is not None and column.kind == "float":
            convert = _l._number_reader(base, decimal_comma)
        elif column is not None and column.kind == "date":
            texts = _date_order_texts(sheet, name)
            if texts:
                where = _l.Where(file, "row 1", field=sheet.header.get(name, name))
                convert = _l._localised_date(texts, style, where, out)
                if out.problems:
                    raise NotClean(f"{file}: {name}")
                # As _localised_date decides it (not ambiguous: that was a problem).
                orders[name] = style.date_order or detect_date_order(texts).order
        result.append((name, path, convert))
    return tuple(result)


def _converted_columns(
    sheet: _Sheet, cells: tuple[_l.CellPlan, ...], spec: _l.Table, decimal_comma: bool, file: str,
    orders: dict[str, str | None],
) -> list[list[Any]]:
    """Every planned column's values, in row order; None where the cell is blank."""
    import polars as pl

    raw, stripped = sheet.raw, sheet.stripped
    names = [name for name, _, _ in cells]
    texts = [raw.schema[n] == pl.String for n in names]
    quoting = [sheet.csv and texts[i] for i in range(len(names))]
    apostrophes = raw.select((pl.col(n).str.starts_with("'").any() if quoting[i] else pl.lit(False)).alias(f"q{i}")
                             for i, n in enumerate(names)).row(0) if names else ()
    work = stripped.with_columns(
        raw.get_column(n).str.starts_with("'").fill_null(False).alias(f"q{i}")
        for i, n in enumerate(names) if apostrophes[i]
    )
    exprs = []
    for i, name in enumerate(names):
        column = spec.column(name)
        assert column is not None
        if texts[i]:
            quoted = pl.col(f"q{i}") if apostrophes[i] else None
            value, slow = _fast_cells(name, column.kind, decimal_comma, quoted, orders.get(name))
        else:
            value, slow = _typed_cells(work, name, column.kind, file)
        exprs += [value.alias(f"v{i}"), slow.alias(f"s{i}")]
    converted = work.select(exprs)
    any_slow = converted.select(pl.col(f"s{i}").any() for i in range(len(cells))).row(0) if cells else ()
    columns: list[list[Any]] = []
    for i, (name, _, convert) in enumerate(cells):
        values = converted.get_column(f"v{i}").to_list()
        if any_slow[i]:
            slow_rows = converted.select(pl.arg_where(pl.col(f"s{i}"))).to_series().to_list()
            for row, cell in zip(slow_rows, raw.get_column(name).gather(slow_rows).to_list(), strict=True):
                values[row] = _python_cell(sheet.cell(cell), convert, file)
        columns.append(values)
    return columns


#: Date cells (days since 1970) both libraries read alike: from March 1900 to the year 9999.
_EXCEL_FIRST_SAFE_DAY = (dt.date(1900, 3, 1) - dt.date(1970, 1, 1)).days
_LAST_DAY = (dt.date(9999, 12, 31) - dt.date(1970, 1, 1)).days

#: Below this, a number calamine reads as a float is the integer openpyxl reads, digit for digit.
_EXACT_INTEGERS = 2**53


def _typed_cells(frame: Any, name: str, kind: str, file: str) -> tuple[Any, Any]:
    """(value, whether Python converts the cell) for an xlsx column of numbers, booleans or dates.

    openpyxl (the row-by-row reader's) gives an integer where calamine gives its float, and
    both the same date: a float column's values and a date column's midnight dates are
    converted here, every other cell by the row reader's converter. What the two libraries
    might read apart (huge integers, times of day, dates before March 1900, durations) is
    left to the row-by-row reader.
    """
    import polars as pl

    column = frame.get_column(name)
    dtype = column.dtype
    col = pl.col(name)
    present = col.is_not_null()
    if dtype == pl.Null:
        return pl.lit(None), pl.lit(False)
    if dtype.is_numeric():
        if kind != "float" and (column.abs().max() or 0) >= _EXACT_INTEGERS:
            raise NotClean(f"{file}: {name}")
        if kind == "float":
            return col, pl.lit(False)
        if kind == "int":
            integral = col == col.floor()
            return _when(integral, col.cast(pl.Int64)), present & ~integral
        return pl.lit(None), present
    if dtype == pl.Boolean:
        return pl.lit(None), present
    if dtype in (pl.Date, pl.Datetime) or isinstance(dtype, pl.Datetime):
        day = col.cast(pl.Date)
        # Days since 1970 (no Python date is made of an out-of-range value). Before March 1900
        # Excel's leap-year bug makes the libraries disagree; past 9999 openpyxl reads an error.
        days = day.cast(pl.Int64)
        first, last = frame.select(days.min().alias("first"), days.max().alias("last")).row(0)
        if first is not None and (first < _EXCEL_FIRST_SAFE_DAY or last > _LAST_DAY):
            raise NotClean(f"{file}: {name}")
        midnight = (col.dt.time() == dt.time(0)) if dtype != pl.Date else pl.lit(True)
        if kind == "date":
            return _when(midnight, day), present & ~midnight
        if not frame.select((midnight | ~present).all()).item():  # a time of day: precision may differ
            raise NotClean(f"{file}: {name}")
        return pl.lit(None), present
    raise NotClean(f"{file}: {name} holds {dtype}")


def _python_cell(cell: Any, convert: _l.Converter, file: str) -> Any:
    """One cell (as the grid holds it) through the row-by-row reader's own converter; any doubt is :class:`NotClean`."""
    try:
        value = _l._cell_value(cell, convert)
    except _l._BadValue:
        raise NotClean(file) from None
    if value is _l._ABSENT:  # e.g. "'\t": blank only once restored; the row reader decides about its row
        raise NotClean(file)
    return value


def _row_dicts(columns: list[list[Any]], paths: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    """Each row's record dict, as ``loading._row_record`` builds it (blank cells leave their key out)."""
    if not columns:
        return []
    # Top-level columns without a blank cell go in whole (dict(zip) runs in C); the others,
    # and nested paths (education.level), cell by cell, as loading._put places them.
    full = [i for i, path in enumerate(paths) if len(path) == 1 and None not in columns[i]]
    keys = [paths[i][0] for i in full]
    rows: list[dict[str, Any]] = (
        [dict(zip(keys, row, strict=True)) for row in zip(*(columns[i] for i in full), strict=True)]
        if full else [{} for _ in columns[0]])
    put = _l._put
    for i, path in enumerate(paths):
        if i in full:
            continue
        if len(path) == 1:
            key = path[0]
            for record, value in zip(rows, columns[i], strict=True):
                if value is not None:
                    record[key] = value
        else:
            for record, value in zip(rows, columns[i], strict=True):
                if value is not None:
                    put(record, path, value)
    return rows


# --------------------------------------------------------------------------- the dataset


#: Reads one table (a partial application of _csv_sheet or _xlsx_sheet).
SheetSource = Callable[[], _Sheet]


def _table_dicts(
    name: str, file: str, source: SheetSource, style: _l.ReadingStyle, out: _l._Collector
) -> tuple[list[dict[str, Any]], list[Any]]:
    """The table's record dicts and, for a child table, the parent key of each (kept out of the dict)."""
    spec = _l.TABLES[name]
    sheet = source()
    header = sheet.header
    missing = _l._check_header(_l.RawTable(name, file, [], header, _l.Where(file, "row 1"), sheet.delimiter), spec, out)
    if out.problems or missing:
        raise NotClean(file)
    decimal_comma = style.decimal_comma if style.decimal_comma is not None else sheet.delimiter == ";"
    cells = tuple(cell for cell in _l._table_plan(spec).cells if cell[0] in header)
    orders: dict[str, str | None] = {}
    cells = _localised_plan(cells, spec, sheet, file, style, decimal_comma, out, orders)
    columns = _converted_columns(sheet, cells, spec, decimal_comma, file, orders)
    names = [cell[0] for cell in cells]
    if spec.key is None:
        return _row_dicts(columns, [path for _, path, _ in cells]), []
    at = names.index(spec.key)  # present: a missing required column was NotClean above
    keys = columns.pop(at)
    if not columns:
        return [{} for _ in keys], keys
    return _row_dicts(columns, [path for i, (_, path, _) in enumerate(cells) if i != at]), keys


def _attach_children(
    name: str, spec: _l.Table, rows: list[dict[str, Any]], keys: list[Any], parents: dict[str, dict[str, Any]],
    tasks: dict[int, int],
) -> None:
    """Child rows become list items of their parent, in file order (``loading._records_from_tables``)."""
    assert spec.key is not None and spec.parent is not None
    head, last = spec.list_path[:-1], spec.list_path[-1]
    for key, data in zip(keys, rows, strict=True):
        parent = parents.get(key) if key is not None else None
        if parent is None:  # a row without its key, or naming no parent: a located problem
            raise NotClean(f"{name}: {key!r}")
        target = parent
        for part in head:
            target = target.setdefault(part, {})
        target.setdefault(last, []).append(data)
        if name == "position_tasks":
            tasks[id(parent)] = tasks.get(id(parent), 0) + 1


def _workload_marker(data: dict[str, Any], n_tasks: int) -> None:
    """``has_workload_data`` as ``loading._attach_workload_marker`` applies it, when it reports nothing."""
    marker = data.pop(_l.WORKLOAD_MARKER, None)
    if marker is False:
        if n_tasks:
            raise NotClean("has_workload_data is false but tasks are given")
        data.pop("tasks", None)
    elif marker is True:
        if not n_tasks:
            raise NotClean("has_workload_data is true without tasks (a warning)")
        data.setdefault("tasks", [])


@functools.cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _validated(model: type[BaseModel], data: Any) -> Any:
    """``data`` (a record, or a list of records) validated by ``model``; any error is :class:`NotClean`."""
    try:
        return _list_adapter(model).validate_python(data) if isinstance(data, list) else model.model_validate(data)
    except ValidationError:
        raise NotClean(model.__name__) from None


def read_clean_directory(root: Path, *, allow_extra_columns: bool = False) -> Dataset:
    """The dataset in directory ``root`` of CSV or xlsx tables; :class:`NotClean` unless it has no problem at all.

    The dataset returned is the one :func:`mutasi_rules.data.loading.validate_dataset` reads from
    ``root``, and that reader would report nothing about it, not even a warning.
    """
    out = _l._Collector(allow_extra_columns)
    files = _l._dataset_files(root, out)
    if out.problems or any(name not in files for name in _l.REQUIRED_TABLES):
        raise NotClean(str(root))
    if any(fmt not in ("csv", "xlsx") for _, fmt in files.values()):
        raise NotClean("only CSV and xlsx tables are read column by column")
    meta_path, meta_format = files["metadata"]
    meta_table = _metadata_table(meta_path, meta_format, out)  # a few rows: the row-by-row reader's
    sources: dict[str, tuple[str, SheetSource]] = {}
    for name, (path, fmt) in files.items():
        if name != "metadata":
            read = _csv_sheet if fmt == "csv" else _xlsx_sheet
            sources[name] = (str(path), functools.partial(read, path, name, str(path), out))
    return _assembled(meta_table, sources, out)


def read_clean_workbook(path: Path, *, allow_extra_columns: bool = False) -> Dataset:
    """The dataset in workbook ``path`` (one sheet per table); :class:`NotClean` unless it has no problem at all.

    As :func:`read_clean_directory`: the dataset the row-by-row reader reads, without a problem.
    """
    out = _l._Collector(allow_extra_columns)
    file = str(path)
    counts = _workbook_sheets(path, file, out)
    sheets = list(counts)
    tables: dict[str, str] = {}
    for sheet in sheets:
        name = sheet.strip().lower()
        if name not in _l.ALL_TABLES or name in tables:  # unknown or twice: a located problem
            raise NotClean(f"{file}: sheet {sheet}")
        tables[name] = sheet
    if any(name not in tables for name in _l.REQUIRED_TABLES):
        raise NotClean(file)
    meta_table = None
    book = _l._open_workbook(path, file, out)  # the metadata's mixed cells as openpyxl reads them
    if book is not None:
        try:
            meta_table = _l._read_sheet(book[tables["metadata"]], "metadata", file, f"sheet {tables['metadata']} ", out)
        finally:
            book.close()
    reader = _calamine(path, file, sheets)
    sources: dict[str, tuple[str, SheetSource]] = {
        name: (file, functools.partial(_xlsx_sheet, path, name, file, out, sheet, reader, counts))
        for name, sheet in tables.items() if name != "metadata"}
    return _assembled(meta_table, sources, out)


def _assembled(meta_table: _l.RawTable | None, sources: dict[str, tuple[str, SheetSource]],
               out: _l._Collector) -> Dataset:
    """The dataset from its metadata table and a reader per table, as ``loading._validate_dataset`` assembles it."""
    if meta_table is None or out.problems:
        raise NotClean("metadata")
    missing = _l._check_header(meta_table, None, out)
    metadata, style = _l._metadata_from_table(meta_table, missing, out)
    if out.problems:
        raise NotClean("metadata")
    meta_model = _validated(DatasetMetadata, metadata.data)

    records: dict[str, list[dict[str, Any]]] = {}
    for name in _l.PARENT_TABLES:
        records[name], _ = _table_dicts(name, *sources[name], style, out)
    parents = {
        "positions": _first_by(records["positions"], "id"),
        "employees": _first_by(records["employees"], "nip"),
    }
    tasks: dict[int, int] = {}
    for name, spec in _l.TABLES.items():
        if spec.parent is None or name not in sources:
            continue
        rows, keys = _table_dicts(name, *sources[name], style, out)
        _attach_children(name, spec, rows, keys, parents[spec.parent], tasks)
        del rows
    for data in records["positions"]:
        _workload_marker(data, tasks.get(id(data), 0))

    validated = {name: _validated(_MODELS[name], records[name]) for name in _l.PARENT_TABLES}
    dataset = Dataset.model_construct(metadata=meta_model, **validated)
    if dataset_problems(dataset):  # the cross-record checks the row-by-row reader locates
        raise NotClean("cross-record problems")
    return dataset


def _metadata_table(path: Path, fmt: str, out: _l._Collector) -> _l.RawTable | None:
    """The metadata table as the row-by-row reader reads it (``loading._read_directory``)."""
    if fmt == "csv":
        return _l._read_csv(path, "metadata", str(path), out)
    book = _l._open_workbook(path, str(path), out)
    if book is None:
        return None
    try:
        sheets = book.sheetnames
        sheet = "metadata" if "metadata" in sheets else (sheets[0] if len(sheets) == 1 else None)
        return _l._read_sheet(book[sheet], "metadata", str(path), "", out) if sheet is not None else None
    finally:
        book.close()


def _first_by(rows: Iterable[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """Each key's first record (``loading._first_by_key``)."""
    index: dict[str, dict[str, Any]] = {}
    for data in rows:
        value = data.get(key)
        if isinstance(value, str) and value:
            index.setdefault(value, data)
    return index

