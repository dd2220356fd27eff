"""How cells written under Indonesian (and other) regional settings are read, and how cells are written safely.

Excel under Indonesian regional settings saves CSV with ``;`` between cells, dates as
``17/07/2021`` and decimals as ``7,5``, often in Windows-1252; offices type NIPs as printed
on documents (``19840828 200810 2 001``) or with a leading apostrophe to keep them text.
This module knows those forms; :mod:`mutasi_rules.data.loading` decides where they apply and
reports what cannot be read, located to file, row and column.

Dates: ISO ``YYYY-MM-DD`` and ``D MMMM YYYY`` with Indonesian (or English) month names are
never ambiguous and are always read. Numeric ``DD/MM/YYYY``, ``DD-MM-YYYY`` and
``MM/DD/YYYY`` need the order of day and month: declared in the metadata (``date_format``)
or detected per column when some value settles it (a first part above 12 means day first).

Writing: :func:`fill_sheet` and :func:`deterministic_xlsx` write typed, formula-free,
timestamp-free worksheets (datasets, plans, workload); :func:`neutralise_formula` protects
CSV text from formula injection.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mutasi_rules.core.canonical import ZIP_EPOCH, canonical_zip

__all__ = [
    "DATE_FORMATS",
    "DECIMAL_SEPARATORS",
    "DateOrder",
    "decode_text",
    "detect_date_order",
    "normalise_nip",
    "parse_date_text",
    "parse_decimal_text",
]

#: Values accepted for the metadata key ``date_format`` and the day/month order each declares.
DateOrder = Literal["iso", "dmy", "mdy", "named"]
DATE_FORMATS: dict[str, DateOrder] = {
    "YYYY-MM-DD": "iso",
    "DD/MM/YYYY": "dmy",
    "DD-MM-YYYY": "dmy",
    "DD.MM.YYYY": "dmy",
    "MM/DD/YYYY": "mdy",
    "D MMMM YYYY": "named",
}

#: Values accepted for the metadata key ``decimal_separator``.
DECIMAL_SEPARATORS = (".", ",")

MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("januari", "jan", "january"),
        ("februari", "feb", "pebruari", "february"),
        ("maret", "mar", "march"),
        ("april", "apr"),
        ("mei", "may"),
        ("juni", "jun", "june"),
        ("juli", "jul", "july"),
        ("agustus", "agu", "agt", "ags", "aug", "august"),
        ("september", "sep", "sept"),
        ("oktober", "okt", "oct", "october"),
        ("november", "nov", "nop", "nopember"),
        ("desember", "des", "dec", "december"),
    ),
    start=1,
):
    for _name in _names:
        MONTHS[_name] = _number

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{2,4})$")
_NAMED = re.compile(r"^(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})$")


class DateTextError(ValueError):
    """A text that is not a date in any accepted form, or an impossible date."""


def numeric_parts(text: str) -> tuple[int, int] | None:
    """The two leading numbers of a ``DD/MM/YYYY``-shaped text, else None."""
    match = _NUMERIC.match(text)
    return (int(match.group(1)), int(match.group(3))) if match else None


def parse_date_text(text: str, order: DateOrder | None) -> dt.date:
    """A date written as ISO, ``D MMMM YYYY`` or (given ``order``) day/month numbers.

    ``order`` None means the order of a numeric date is not known: such a text raises.
    """
    try:
        if match := _ISO.match(text):
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if match := _NAMED.match(text):
            month = MONTHS.get(match.group(2).lower())
            if month is None:
                raise DateTextError(f"unknown month name {match.group(2)!r} (Januari … Desember)")
            return dt.date(int(match.group(3)), month, int(match.group(1)))
        if match := _NUMERIC.match(text):
            if len(match.group(4)) != 4:
                raise DateTextError("write the year with four digits")
            first, second, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
            if order == "dmy":
                return dt.date(year, second, first)
            if order == "mdy":
                return dt.date(year, first, second)
            raise DateTextError("the order of day and month is not known; declare date_format in the metadata")
    except ValueError as exc:
        if isinstance(exc, DateTextError):
            raise
        raise DateTextError(f"impossible date: {exc}") from None
    raise DateTextError("expected a date: YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY or D MMMM YYYY (17 Agustus 2020)")


@dataclass(frozen=True)
class DateOrderDetection:
    """What the numeric dates of one column say about their day/month order."""

    order: DateOrder | None  # None: no numeric date, or ambiguous
    ambiguous: bool  # numeric dates present, and every one reads both ways
    numeric: int  # how many numeric dates the column holds


def detect_date_order(texts: Iterable[str]) -> DateOrderDetection:
    """Day first or month first, from every numeric date of a column.

    A first part above 12 can only be a day, a second part above 12 only a day too; when
    values disagree, day first wins (the Indonesian order) and the others are reported.
    """
    numeric = day_first = month_first = 0
    for text in texts:
        parts = numeric_parts(text)
        if parts is None:
            continue
        numeric += 1
        if parts[0] > 12:
            day_first += 1
        elif parts[1] > 12:
            month_first += 1
    if not numeric:
        return DateOrderDetection(None, False, 0)
    if day_first:
        return DateOrderDetection("dmy", False, numeric)
    if month_first:
        return DateOrderDetection("mdy", False, numeric)
    return DateOrderDetection(None, True, numeric)


class NumberTextError(ValueError):
    """A number written with a separator this file's settings do not allow."""


_GROUPED_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_decimal_text(text: str, decimal_comma: bool) -> str:
    """A number's text rewritten with a decimal point; raises on thousands separators.

    With a decimal comma ``7,5`` is 7.5 and any ``.`` is a thousands separator; with a
    decimal point any ``,`` is either a thousands separator or an undeclared decimal comma.
    Both are refused rather than guessed: ``1.250`` means 1,250 hours in Indonesian and 1.25
    elsewhere.
    """
    if decimal_comma:
        if "." in text:
            raise NumberTextError(
                "'.' is a thousands separator under a decimal comma and is not accepted; "
                "write the number without it (1250, or 7,5 for seven and a half)"
            )
        if text.count(",") > 1:
            raise NumberTextError("more than one decimal comma")
        return text.replace(",", ".")
    if "," in text:
        if _GROUPED_COMMA.match(text):
            raise NumberTextError("thousands separators are not accepted; write the number without them (1250)")
        raise NumberTextError(
            "a decimal comma is read only when the metadata declares decimal_separator ',' "
            "(or the file is separated by ';'); otherwise write 7.5"
        )
    if text.count(".") > 1:
        raise NumberTextError("thousands separators are not accepted; write the number without them (1250)")
    return text


_PRINTED_NIP = re.compile(r"^(\d{8})\s+(\d{6})\s+(\d)\s+(\d{3})$")


def normalise_nip(text: str) -> str:
    """A NIP as printed (``19840828 200810 2 001``) or kept text by a leading apostrophe, as 18 digits."""
    text = text.removeprefix("'").removeprefix("\u2019").strip()
    match = _PRINTED_NIP.match(text)
    return "".join(match.groups()) if match else text


def decode_text(raw: bytes) -> tuple[str, str]:
    """The file's text and the name of the encoding that read it: UTF-8 (with or without BOM) or Windows-1252.

    Raises :class:`UnicodeDecodeError` when neither reads it.
    """
    try:
        return raw.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    return raw.decode("cp1252"), "Windows-1252"


#: First characters that make a spreadsheet read a cell as a formula (and tab / carriage
#: return, which some spreadsheets skip before one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """``text`` made safe for a CSV opened in a spreadsheet: a leading apostrophe before a formula start.

    A text that already starts with an apostrophe followed by a formula start (or another
    apostrophe) gets one too, so :func:`restore_formula_text` gives back exactly ``text``.
    """
    if text[:1] in FORMULA_STARTS or (text[:1] == "'" and (text[1:2] in FORMULA_STARTS or text[1:2] == "'")):
        return "'" + text
    return text


def restore_formula_text(text: str) -> str:
    """The text :func:`neutralise_formula` was given (reading a CSV this library wrote)."""
    if text[:1] == "'" and (text[1:2] in FORMULA_STARTS or text[1:2] == "'"):
        return text[1:]
    return text


# --------------------------------------------------------------------------- writing workbooks

_MAX_WIDTH = 60


def _display_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, float):
        return len(f"{value:.4f}")
    if isinstance(value, (dt.date, dt.datetime)):
        return 10
    return max((len(line) for line in str(value).splitlines()), default=0)


def fill_sheet(sheet: Any, header: Sequence[str], rows: Iterable[Sequence[Any]],
               number_formats: dict[int, str] | None = None, text_format: bool = False) -> None:
    """Write a header and rows into an openpyxl worksheet: frozen header, sized columns, no formulas.

    ``text_format``: give text cells the ``@`` (text) format, so ids and NIPs stay text when edited.
    """
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    widths = [len(str(h)) for h in header]
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        if isinstance(cell.value, str):
            cell.data_type = TYPE_STRING
    formats = number_formats or {}
    for r, values in enumerate(rows, start=2):
        for c, given in enumerate(values, start=1):
            value = "; ".join(str(v) for v in given) if isinstance(given, (list, tuple)) else given
            cell = sheet.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = TYPE_STRING  # a text is never a formula
                if value[:1] in FORMULA_STARTS:
                    cell.quotePrefix = True  # and stays text when a person edits it
                if text_format:
                    cell.number_format = "@"
            elif isinstance(value, (dt.date, dt.datetime)):
                cell.number_format = "yyyy-mm-dd"
            elif c - 1 in formats and isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.number_format = formats[c - 1]
            if c - 1 < len(widths):
                widths[c - 1] = max(widths[c - 1], _display_width(value))
            else:
                widths.append(_display_width(value))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(_MAX_WIDTH, width + 2)
    sheet.freeze_panes = "A2"


def deterministic_xlsx(book: Any) -> bytes:
    """The workbook's .xlsx bytes with no timestamps anywhere, so equal data give equal bytes."""
    from openpyxl.writer.excel import ExcelWriter

    fixed = dt.datetime(*ZIP_EPOCH)  # noqa: DTZ001 - openpyxl writes naive times; a fixed one keeps files equal
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "mutasi-rules"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()  # save_workbook() would stamp the current time
    return canonical_zip(raw.getvalue())  # zip entries otherwise carry the wall clock
