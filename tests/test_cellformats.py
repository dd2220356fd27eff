"""Data saved by Excel under Indonesian regional settings reads as what it means (issue #16)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutasi_rules.core.canonical import sha256_of
from mutasi_rules.data.cellformats import NumberTextError, normalise_nip, parse_date_text, parse_decimal_text
from mutasi_rules.data.loading import load_dataset, save_dataset, validate_dataset
from mutasi_rules.data.models import Dataset

EXAMPLE = Path(__file__).parent.parent / "examples" / "pontianak"
ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember"]


def indonesian_excel_copy(src: Path, dst: Path, *, declare: bool = True, named_months: tuple[str, ...] = ()) -> None:
    """Save every table of ``src`` as Excel does under Indonesian settings: ';', DD/MM/YYYY, decimal comma,
    Windows-1252 with CRLF, NIPs as printed; columns in ``named_months`` as ``17 Agustus 2020``."""
    dst.mkdir(parents=True)
    for f in sorted(src.glob("*.csv")):
        rows = list(csv.reader(io.StringIO(f.read_text(encoding="utf-8"))))
        header = rows[0]
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        for row in rows[1:]:
            cells = []
            for column, value in zip(header, row, strict=True):
                cell = value
                if match := ISO.match(value):
                    year, month, day = match.groups()
                    if column in named_months:
                        cell = f"{int(day)} {BULAN[int(month) - 1]} {year}"
                    else:
                        cell = f"{day}/{month}/{year}"
                elif re.fullmatch(r"\d+\.\d+", value):
                    cell = value.replace(".", ",")
                elif re.fullmatch(r"\d{18}", value):
                    cell = f"{value[:8]} {value[8:14]} {value[14]} {value[15:]}"
                cells.append(cell)
            writer.writerow(cells)
        text = out.getvalue()
        if f.stem == "metadata" and declare:
            text += "date_format;DD/MM/YYYY\r\n"
        (dst / f.name).write_bytes(text.encode("cp1252"))


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> tuple[Path, str]:
    """The bundled example with a few values Indonesian Excel writes differently: non-ASCII letters, decimals."""
    data = load_dataset(EXAMPLE).model_dump(mode="json")
    data["units"][0]["name"] = "Sekretariat Daerah – Bagian Umum (Pelayanan Café)"
    data["positions"][0]["tasks"][0]["norm_minutes"] = 7.5
    trained = next(e for e in data["employees"] if e["trainings"])
    trained["trainings"][0]["hours"] = 22.25
    dataset = Dataset.model_validate(data)
    path = tmp_path_factory.mktemp("original") / "dataset"
    save_dataset(dataset, path, "csv")
    reread = load_dataset(path)
    return path, sha256_of(reread.model_dump(mode="json"))


def test_the_bundled_example_as_indonesian_excel_saves_it_reads_to_the_same_dataset(tmp_path):
    copy = tmp_path / "id"
    indonesian_excel_copy(EXAMPLE, copy)
    assert "17/07/2021" in (copy / "employee_certificates.csv").read_text(encoding="cp1252")
    assert (sha256_of(load_dataset(copy).model_dump(mode="json"))
            == sha256_of(load_dataset(EXAMPLE).model_dump(mode="json")))


def test_example_saved_in_indonesian_excel_style_reads_to_the_same_dataset(original, tmp_path):
    path, sha = original
    copy = tmp_path / "id"
    indonesian_excel_copy(path, copy, named_months=("completed",))
    assert ";7,5\r\n" in (copy / "position_tasks.csv").read_bytes().decode("cp1252")
    assert b"\x96" in (copy / "units.csv").read_bytes()  # the en dash as Windows-1252 writes it
    dataset, problems = validate_dataset(copy)
    assert [p.code for p in problems.errors] == []
    assert dataset is not None
    assert sha256_of(dataset.model_dump(mode="json")) == sha
    warnings = [p for p in problems if p.code == "file.encoding"]
    # Only units.csv holds a letter outside ASCII; the other files read as UTF-8 as they are.
    assert [(Path(p.file).name, p.value) for p in warnings] == [("units.csv", "Windows-1252")]
    assert "Windows-1252" in warnings[0].message


def test_saving_in_the_indonesian_dialect_reads_back_the_same(original, tmp_path):
    path, sha = original
    dataset = load_dataset(path)
    save_dataset(dataset, tmp_path / "id", "csv", csv_dialect="id")
    raw = (tmp_path / "id" / "position_tasks.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b";7,5\r\n" in raw
    assert b"date_format;DD/MM/YYYY" in (tmp_path / "id" / "metadata.csv").read_bytes()
    assert sha256_of(load_dataset(tmp_path / "id").model_dump(mode="json")) == sha


def test_an_ambiguous_date_column_without_declaration_is_one_problem(original, tmp_path):
    path, _ = original
    copy = tmp_path / "id"
    indonesian_excel_copy(path, copy, declare=False)
    dataset, problems = validate_dataset(copy)
    assert dataset is None
    errors = problems.errors
    # Only the metadata's as_of (01/07/2026) cannot tell day from month; every other column has a day above 12.
    assert [(p.code, p.field, p.value) for p in errors] == [("date.ambiguous", "as_of", "01/07/2026")]
    assert "date_format" in errors[0].message


def write(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def small(tmp_path: Path, employees: str, metadata_extra: str = "", sep: str = ",", tasks: str | None = None) -> Path:
    root = tmp_path / "ds"
    s = sep
    write(root / "metadata.csv", f"key{s}value\nname{s}Kab. Contoh\nas_of{s}2026-07-01\n{metadata_extra}")
    write(root / "units.csv", f"id{s}name{s}kind\nsetda{s}Sekretariat Daerah{s}sekretariat\n")
    write(root / "positions.csv", f"id{s}name{s}kind{s}level{s}kelas{s}unit_id\n"
                                  f"setda.staf{s}Pengadministrasi{s}pelaksana{s}{s}5{s}setda\n")
    if tasks is not None:
        write(root / "position_tasks.csv", tasks)
    write(root / "employees.csv", employees)
    return root


EMP_HEADER = "nip,name,status,gender,birth_date,rank,position_id,unit_id,position_start,education_level\n"


def test_an_ambiguous_employee_column_is_one_problem_not_one_per_row(tmp_path):
    rows = "".join(
        f"1984{m:02d}0{d}2008102001,Orang {m},PNS,P,0{d}/{m:02d}/1984,III/a,setda.staf,setda,2026-01-0{d},S1\n"
        for m, d in ((8, 2), (9, 3), (10, 4))
    )
    dataset, problems = validate_dataset(small(tmp_path, EMP_HEADER + rows))
    assert [(p.code, p.field) for p in problems.errors] == [("date.ambiguous", "birth_date")]
    root = small(tmp_path / "declared", EMP_HEADER + rows, "date_format,DD/MM/YYYY\n")
    dataset = load_dataset(root)
    assert [e.birth_date for e in dataset.employees] == [dt.date(1984, 8, 2), dt.date(1984, 9, 3), dt.date(1984, 10, 4)]


def test_day_first_is_detected_per_column_and_named_months_are_read(tmp_path):
    rows = ("19840828 200810 2 001,Siti,PNS,P,28/08/1984,III/a,setda.staf,setda,17 Agustus 2020,S1\n"
            "'198501052009011001,Budi,PNS,L,05/01/1985,III/b,setda.staf,setda,1 Mei 2019,S1\n")
    dataset = load_dataset(small(tmp_path, EMP_HEADER + rows))
    assert [e.nip for e in dataset.employees] == ["198408282008102001", "198501052009011001"]
    assert [e.birth_date for e in dataset.employees] == [dt.date(1984, 8, 28), dt.date(1985, 1, 5)]
    assert [e.position_start for e in dataset.employees] == [dt.date(2020, 8, 17), dt.date(2019, 5, 1)]


def test_decimal_comma_when_separated_by_semicolons_and_thousands_separators_refused(tmp_path):
    emp = (EMP_HEADER.replace(",", ";")
           + "198408282008102001;Siti;PNS;P;28/08/1984;III/a;setda.staf;setda;17/08/2020;S1\n")
    tasks = "position_id;name;volume_per_year;norm_minutes\nsetda.staf;Surat;1200;7,5\nsetda.staf;Arsip;1.250;30\n"
    _dataset, problems = validate_dataset(small(tmp_path, emp, sep=";", tasks=tasks))
    assert [(p.code, p.field, p.value) for p in problems.errors] == [("number.separator", "volume_per_year", "1.250")]
    assert "thousands separator" in problems.errors[0].message


def test_decimal_comma_is_refused_unless_declared(tmp_path):
    tasks = "position_id,name,volume_per_year,norm_minutes\nsetda.staf,Surat,1200,\"7,5\"\n"
    emp = EMP_HEADER + "198408282008102001,Siti,PNS,P,1984-08-28,III/a,setda.staf,setda,2020-08-17,S1\n"
    _, problems = validate_dataset(small(tmp_path, emp, tasks=tasks))
    assert [(p.code, p.value) for p in problems.errors] == [("number.separator", "7,5")]
    assert "decimal_separator" in problems.errors[0].message
    dataset = load_dataset(small(tmp_path / "declared", emp, 'decimal_separator,","\n', tasks=tasks))
    assert dataset.positions[0].tasks[0].norm_minutes == 7.5


def test_utf8_with_bom_reads_without_a_warning_and_windows_1252_with_one(tmp_path):
    emp = EMP_HEADER + "198408282008102001,Siti Zulaikhä,PNS,P,1984-08-28,III/a,setda.staf,setda,2020-08-17,S1\n"
    root = small(tmp_path, "\ufeff" + emp)
    dataset, problems = validate_dataset(root)
    assert dataset is not None and dataset.employees[0].name == "Siti Zulaikhä"
    assert not list(problems)
    write(root / "employees.csv", emp, "cp1252")
    dataset, problems = validate_dataset(root)
    assert dataset is not None and dataset.employees[0].name == "Siti Zulaikhä"
    assert [(p.severity, p.code, p.value) for p in problems] == [("warning", "file.encoding", "Windows-1252")]


def test_an_unknown_declared_date_format_is_reported(tmp_path):
    emp = EMP_HEADER + "198408282008102001,Siti,PNS,P,1984-08-28,III/a,setda.staf,setda,2020-08-17,S1\n"
    _, problems = validate_dataset(small(tmp_path, emp, "date_format,DD/MM/YY\n"))
    assert [(p.code, p.value) for p in problems.errors] == [("metadata.date_format", "DD/MM/YY")]


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_every_written_form_of_a_date_reads_back(day):
    assert parse_date_text(f"{day.day:02d}/{day.month:02d}/{day.year}", "dmy") == day
    assert parse_date_text(f"{day.day}-{day.month}-{day.year}", "dmy") == day
    assert parse_date_text(f"{day.month:02d}/{day.day:02d}/{day.year}", "mdy") == day
    assert parse_date_text(f"{day.day} {BULAN[day.month - 1]} {day.year}", None) == day
    assert parse_date_text(day.isoformat(), None) == day


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_decimal_comma_reads_the_same_number_as_decimal_point(whole, fraction):
    assert float(parse_decimal_text(f"{whole},{fraction}", True)) == float(f"{whole}.{fraction}")
    if whole >= 1000:
        with pytest.raises(NumberTextError):
            parse_decimal_text(f"{whole:,}", False)


def test_nip_as_printed():
    assert normalise_nip("19840828 200810 2 001") == "198408282008102001"
    assert normalise_nip("'198408282008102001") == "198408282008102001"
    assert normalise_nip("1984 0828") == "1984 0828"  # not a printed NIP: left for the NIP check to refuse


def test_a_workbook_with_indonesian_text_dates_and_decimal_commas_reads_the_same(original, tmp_path):
    import openpyxl

    path, sha = original
    book_path = tmp_path / "data.xlsx"
    save_dataset(load_dataset(path), book_path, "xlsx")
    book = openpyxl.load_workbook(book_path)
    for sheet in book.worksheets:  # dates and decimals typed as text, the way they are pasted from elsewhere
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, dt.datetime):
                    cell.value = f"{cell.value.day} {BULAN[cell.value.month - 1]} {cell.value.year}"
                elif isinstance(cell.value, float) and not cell.value.is_integer():
                    cell.value = str(cell.value).replace(".", ",")
    book["metadata"].append(["decimal_separator", ","])
    book.save(book_path)
    dataset, problems = validate_dataset(book_path)
    assert problems.errors == [] and dataset is not None
    assert sha256_of(dataset.model_dump(mode="json")) == sha
