"""The columnar reader gives exactly what the row-by-row reader gives (differential tests).

``validate_dataset`` reads a directory of CSV tables column by column (polars) and hands
anything doubtful to the row-by-row reader. The law: with or without the columnar reader,
the same dataset (same canonical SHA-256) and the same problems, for every input. The good
inputs must actually take the columnar path, or the law would hold vacuously.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from mutasi_rules.core.canonical import sha256_of
from mutasi_rules.data.columnar import NotClean, read_clean_directory, read_clean_workbook
from mutasi_rules.data.generator import generate_dataset
from mutasi_rules.data.loading import save_dataset, validate_dataset

ROOT = Path(__file__).parent.parent
GOOD_CSV = Path(__file__).parent / "data" / "good" / "small_csv"
EXAMPLE = ROOT / "examples" / "pontianak"


def outcome(path: Path, columnar: bool) -> tuple[str | None, list[dict[str, Any]]]:
    dataset, problems = validate_dataset(path, columnar=columnar)
    return (sha256_of(dataset) if dataset is not None else None), [p.model_dump() for p in problems]


def assert_same_reading(path: Path) -> bool:
    """Both readers agree on ``path``; returns whether the columnar reader accepted it."""
    try:
        fast = read_clean_directory(path)
    except NotClean:
        fast = None
    rows = outcome(path, columnar=False)
    assert outcome(path, columnar=True) == rows
    if fast is not None:
        assert rows == (sha256_of(fast), []), "the columnar reader accepted a dataset the row reader objects to"
    return fast is not None


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A generated dataset saved as standard CSV and as CSV the way Excel writes it under Indonesian settings."""
    dataset = generate_dataset(employees=300, seed=11)
    folders = {}
    for dialect in ("standard", "id"):
        folder = tmp_path_factory.mktemp(f"generated-{dialect}")
        save_dataset(dataset, folder, "csv", csv_dialect=dialect)
        folders[dialect] = folder
    folders["xlsx"] = tmp_path_factory.mktemp("generated-xlsx")
    save_dataset(dataset, folders["xlsx"], "xlsx")
    return folders


@pytest.mark.parametrize("path", [GOOD_CSV, EXAMPLE], ids=["tests-data-good", "bundled-example"])
def test_good_datasets_read_column_by_column_to_the_same_dataset(path: Path) -> None:
    assert assert_same_reading(path)


@pytest.mark.parametrize("dialect", ["standard", "id", "xlsx"])
def test_generated_datasets_read_column_by_column_to_the_same_dataset(generated: dict[str, Path], dialect: str) -> None:
    assert assert_same_reading(generated[dialect])


def test_a_problem_is_reported_by_the_row_reader_exactly(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    shutil.copytree(GOOD_CSV, target)
    edit_cell(target / "employee_trainings.csv", 2, "completed", "2020-02-30")
    with pytest.raises(NotClean):
        read_clean_directory(target)
    dataset, problems = validate_dataset(target, columnar=True)
    assert dataset is None
    assert [(p.code, Path(p.file or "").name, p.record, p.field, p.value) for p in problems] == [
        ("date.invalid", "employee_trainings.csv", "row 3", "completed", "2020-02-30")
    ]


def test_a_windows_1252_file_keeps_its_warning(tmp_path: Path) -> None:
    target = tmp_path / "ds"
    shutil.copytree(GOOD_CSV, target)
    units = target / "units.csv"
    units.write_bytes(units.read_text(encoding="utf-8").replace("Dinas", "Dinàs").encode("cp1252"))
    assert not assert_same_reading(target)
    _, problems = validate_dataset(target, columnar=True)
    assert [p.code for p in problems] == ["file.encoding"]


# --------------------------------------------------------------------------- edits


def read_rows(path: Path) -> tuple[list[list[str]], str]:
    text = path.read_text(encoding="utf-8-sig")
    delimiter = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter)), delimiter


def write_rows(path: Path, rows: list[list[str]], delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def edit_cell(path: Path, row: int, column: str, value: str) -> None:
    rows, delimiter = read_rows(path)
    rows[row][rows[0].index(column)] = value
    write_rows(path, rows, delimiter)


#: Cells that exercise every converter: blanks, padding, protected text, localised dates and
#: numbers, boolean words, control and exotic whitespace characters, NIPs as printed.
CELLS = st.one_of(
    st.sampled_from([
        "", " ", "\t", "\x1c", "\u00a0", "'", "''", "'=1+1", "'\t", "=SUM(A1)", "x\x1f", "\x1fx",
        "2020-02-30", "2020-2-3", "0000-01-01", "30/01/2020", "01/30/2020", "1/2/2020", "03-04-2021",
        "17 Agustus 2020", "17 Agt 2020", "7,5", "1.250", "1,250", "+3", "-1", "1e3", "12", "12.0",
        "TRUE", "Ya", "tidak", "N", "0", "\u212a", "19850312 201001 1 002", "'198503122010011002",
        "198503122010011002", "III/d", "S1", "PNS", "a; b;", ";", "\u0661\u0662",
    ]),
    st.text(max_size=6),
)

TABLE_FILES = sorted(p.name for p in GOOD_CSV.iterdir() if p.name != "metadata.csv")


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["cell", "pad", "apostrophe", "blank_row", "quote_all", "semicolon", "header_case",
                                     "extra_column"]))
        ops.append((kind, draw(st.sampled_from(TABLE_FILES)), draw(st.integers(0, 50)), draw(st.integers(0, 50)),
                    draw(CELLS)))
    return ops


def apply(folder: Path, op: tuple[Any, ...]) -> None:
    kind, name, r, c, value = op
    path = folder / name
    rows, delimiter = read_rows(path)
    body = rows[1:]
    row = 1 + r % len(body) if body else 0
    column = c % len(rows[0])
    if body and len(rows[row]) <= column:  # a blank row inserted by an earlier edit
        rows[row] += [""] * (column + 1 - len(rows[row]))
    if kind == "cell" and body:
        rows[row][column] = value
    elif kind == "pad" and body:
        rows[row][column] = f" {rows[row][column]}\u00a0"
    elif kind == "apostrophe" and body:
        rows[row][column] = "'" + rows[row][column]
    elif kind == "blank_row":
        rows.insert(row or 1, [""] * len(rows[0]) if c % 2 else [])
    elif kind == "header_case":
        rows[0][column] = f" {rows[0][column].upper()} "
    elif kind == "extra_column":
        rows[0].append("catatan")
        for other in rows[1:]:
            other.append(value)
    write_rows(path, rows, ";" if kind == "semicolon" else delimiter,
               csv.QUOTE_ALL if kind == "quote_all" else csv.QUOTE_MINIMAL)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=edits())
def test_any_edit_reads_the_same_with_and_without_the_columnar_reader(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ds"
        shutil.copytree(GOOD_CSV, folder)
        for op in ops:
            apply(folder, op)
        assert_same_reading(folder)


@pytest.mark.parametrize(
    "op",
    [
        ("pad", "employees.csv", 0, 1, ""),  # padded with spaces and a no-break space
        ("apostrophe", "employees.csv", 0, 0, ""),  # '198503122010011002: a NIP kept as text
        ("cell", "employees.csv", 0, 0, "19850312 201001 1 002"),  # a NIP as printed
        ("blank_row", "position_tasks.csv", 1, 1, ""),
        ("quote_all", "employee_trainings.csv", 0, 0, ""),
        ("header_case", "positions.csv", 0, 2, ""),
        ("cell", "employees.csv", 0, 11, "Ya"),
    ],
)
def test_harmless_edits_stay_on_the_columnar_path(tmp_path: Path, op: tuple[Any, ...]) -> None:
    folder = tmp_path / "ds"
    shutil.copytree(GOOD_CSV, folder)
    apply(folder, op)
    assert assert_same_reading(folder)


# --------------------------------------------------------------------------- workbooks


@pytest.fixture(scope="module")
def small_xlsx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/data/good as a directory of workbooks (typed cells: dates, numbers, booleans)."""
    dataset, _ = validate_dataset(GOOD_CSV)
    folder = tmp_path_factory.mktemp("small-xlsx")
    save_dataset(dataset, folder, "xlsx")
    return folder


def edit_sheet(path: Path, cell: str, value: Any, number_format: str | None = None) -> None:
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    sheet[cell] = value
    if number_format:
        sheet[cell].number_format = number_format
    book.save(path)


def test_a_directory_of_workbooks_reads_column_by_column(small_xlsx: Path) -> None:
    assert assert_same_reading(small_xlsx)


@pytest.mark.parametrize(
    ("table", "cell", "value", "number_format", "columnar"),
    [
        ("positions", "E2", 9, None, True),  # kelas as a number: openpyxl 9, calamine 9.0
        ("position_tasks", "C2", 12.5, None, True),
        ("employees", "B2", "  Budi Santoso  ", None, True),
        ("employees", "E2", "12/03/1985", None, False),  # text among dates: a mixed column, read by rows
        ("employees", "L2", "ya", None, False),  # text among booleans: mixed, read by rows
        ("employees", "L2", "=TRUE()", None, False),  # a formula without a saved value: reported
        ("employees", "E2", 31118, "0.00", False),  # a date column holding a plain number
        ("employees", "E2", 31118, "dd/mm/yyyy", True),  # the same number shown as a date
        ("employees", "A2", 198503122010011002, None, False),  # a NIP stored as a number
        ("positions", "E2", "sebelas", None, False),
        ("units", "A1", None, None, False),  # header cell removed
    ],
)
def test_workbook_edits_read_the_same_with_and_without_the_columnar_reader(
    small_xlsx: Path, tmp_path: Path, table: str, cell: str, value: Any, number_format: str | None, columnar: bool
) -> None:
    folder = tmp_path / "ds"
    shutil.copytree(small_xlsx, folder)
    edit_sheet(folder / f"{table}.xlsx", cell, value, number_format)
    assert assert_same_reading(folder) is columnar


def test_a_sheet_starting_below_row_one_goes_to_the_row_reader(small_xlsx: Path, tmp_path: Path) -> None:
    import openpyxl

    folder = tmp_path / "ds"
    shutil.copytree(small_xlsx, folder)
    book = openpyxl.load_workbook(folder / "units.xlsx")
    book.worksheets[0].insert_rows(1)  # calamine would start at the header, openpyxl at the empty row
    book.save(folder / "units.xlsx")
    assert not assert_same_reading(folder)


#: Typed cells a workbook may hold where any column expects anything.
SHEET_CELLS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1899, 12, 31), max_value=dt.datetime(2100, 1, 1)),  # noqa: DTZ001 - cells have no zone
    st.dates(min_value=dt.date(1899, 12, 31), max_value=dt.date(2100, 1, 1)),
    CELLS,
)
SHEETS = sorted(p.stem for p in GOOD_CSV.iterdir() if p.name != "metadata.csv")


@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date:UserWarning")  # openpyxl: a huge date serial
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(sheet=st.sampled_from(SHEETS), row=st.integers(2, 6), column=st.integers(1, 14), value=SHEET_CELLS,
       number_format=st.sampled_from([None, "0.00", "yyyy-mm-dd", "dd/mm/yyyy hh:mm", "@"]))
def test_any_workbook_cell_reads_the_same_with_and_without_the_columnar_reader(
    small_xlsx: Path, sheet: str, row: int, column: int, value: Any, number_format: str | None
) -> None:
    import openpyxl
    from openpyxl.utils.exceptions import IllegalCharacterError

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ds"
        shutil.copytree(small_xlsx, folder)
        book = openpyxl.load_workbook(folder / f"{sheet}.xlsx")
        target = book.worksheets[0].cell(row=row, column=min(column, book.worksheets[0].max_column))
        try:
            target.value = value
        except IllegalCharacterError:  # openpyxl cannot store control characters at all
            reject()
        if number_format:
            target.number_format = number_format
        book.save(folder / f"{sheet}.xlsx")
        assert_same_reading(folder)


def test_one_workbook_reads_column_by_column_to_the_same_dataset(tmp_path: Path) -> None:
    dataset = generate_dataset(employees=200, seed=4)
    book = tmp_path / "dataset.xlsx"
    save_dataset(dataset, book, "xlsx")
    assert sha256_of(read_clean_workbook(book)) == sha256_of(dataset)
    assert outcome(book, columnar=True) == outcome(book, columnar=False) == (sha256_of(dataset), [])


def test_one_workbook_with_a_problem_is_reported_by_the_row_reader(tmp_path: Path) -> None:
    import openpyxl

    dataset = generate_dataset(employees=200, seed=4)
    book = tmp_path / "dataset.xlsx"
    save_dataset(dataset, book, "xlsx")
    workbook = openpyxl.load_workbook(book)
    workbook["employees"]["F2"] = "IX/z"  # rank
    workbook.create_sheet("Catatan")  # an unknown sheet
    workbook.save(book)
    with pytest.raises(NotClean):
        read_clean_workbook(book)
    fast, rows = outcome(book, columnar=True), outcome(book, columnar=False)
    assert fast == rows and rows[0] is None
    assert {p["code"] for p in rows[1]} >= {"table.unknown", "field.enum"}


def test_the_columnar_reader_strips_what_python_strips() -> None:
    from mutasi_rules.data.columnar import PY_WHITESPACE

    assert set(PY_WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
