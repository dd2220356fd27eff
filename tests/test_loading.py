"""Reading and writing datasets in every format; round trips; spreadsheet quirks (NIP as number)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutasi_rules.data.loading import TABLES, load_dataset, save_dataset, validate_dataset
from mutasi_rules.data.models import Dataset, Training, WorkloadTask
from mutasi_rules.problems import InputError

GOOD = Path(__file__).parent / "data" / "good"
TARGETS = {"json": "ds.json", "yaml": "ds.yaml", "csv": "ds_csv", "xlsx": "ds.xlsx", "xlsx-dir": "ds_xlsx"}


@pytest.fixture(scope="module")
def small() -> Dataset:
    return load_dataset(GOOD / "small.yaml")


def save(dataset: Dataset, root: Path, kind: str) -> Path:
    target = root / TARGETS[kind]
    save_dataset(dataset, target, kind.removesuffix("-dir"))
    return target


def tree_bytes(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_good_csv_directory_equals_yaml_document(small):
    assert load_dataset(GOOD / "small_csv") == small
    assert len(small.units) == 3 and len(small.positions) == 4 and len(small.employees) == 4


def test_no_workload_data_is_null_not_zero(small):
    positions = small.position_by_id()
    assert positions["DINKES.P2P.KABID"].tasks is None
    assert positions["DINKES.P2P.VAKS"].tasks == [
        WorkloadTask(name="Melaksanakan imunisasi", volume_per_year=4800, norm_minutes=20),
        WorkloadTask(name="Mencatat hasil imunisasi", volume_per_year=4800, norm_minutes=5.5),
    ]


@pytest.mark.parametrize("kind", list(TARGETS))
def test_round_trip_is_equal_and_byte_identical(small, tmp_path, kind):
    first = save(small, tmp_path / "a", kind)
    loaded = load_dataset(first)
    assert loaded == small
    second = save(loaded, tmp_path / "b", kind)
    assert tree_bytes(first) == tree_bytes(second)


def test_save_is_deterministic_across_calls(small, tmp_path):
    save_dataset(small, tmp_path / "x.xlsx", "xlsx")
    one = (tmp_path / "x.xlsx").read_bytes()
    save_dataset(small, tmp_path / "x.xlsx", "xlsx")
    assert (tmp_path / "x.xlsx").read_bytes() == one


def test_empty_task_list_survives_round_trip_with_warning(small, tmp_path):
    positions = [p.model_copy(update={"tasks": []}) if p.id == "DINKES.P2P.KABID" else p for p in small.positions]
    dataset = small.model_copy(update={"positions": positions})
    save_dataset(dataset, tmp_path / "d", "csv")
    loaded, problems = validate_dataset(tmp_path / "d")
    assert loaded == dataset and loaded.position_by_id()["DINKES.P2P.KABID"].tasks == []
    assert [(p.severity, p.code, p.record) for p in problems] == [("warning", "position.no_tasks", "row 3")]


def test_mixed_formats_in_one_directory(small, tmp_path):
    root = tmp_path / "mixed"
    shutil.copytree(GOOD / "small_csv", root)
    # metadata as a YAML mapping of the same keys, units as JSON rows, positions as an xlsx sheet.
    meta = {row["key"]: row["value"] or None for row in csv.DictReader((root / "metadata.csv").open(encoding="utf-8"))}
    (root / "metadata.csv").unlink()
    (root / "metadata.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    units = [{k: v or None for k, v in row.items()}
             for row in csv.DictReader((root / "units.csv").open(encoding="utf-8"))]
    (root / "units.csv").unlink()
    (root / "units.json").write_text(json.dumps(units), encoding="utf-8")
    rows = list(csv.reader((root / "positions.csv").open(encoding="utf-8")))
    (root / "positions.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    for row in rows:
        sheet.append([int(c) if c.isdigit() else (c or None) for c in row])
    book.save(root / "positions.xlsx")
    assert load_dataset(root) == small


def test_semicolon_separated_csv_is_accepted(small, tmp_path):
    root = tmp_path / "semi"
    shutil.copytree(GOOD / "small_csv", root)
    rows = list(csv.reader((root / "units.csv").open(encoding="utf-8")))
    with (root / "units.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    assert load_dataset(root) == small


def _employees_sheet(small: Dataset, nip_cell) -> openpyxl.Workbook:
    """A one-sheet employees workbook as a user would make it, with a chosen NIP cell value."""
    columns = [c.name for c in TABLES["employees"].columns]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "employees"
    sheet.append(columns)
    for e in small.employees:
        row = {
            "nip": nip_cell(e.nip),
            "name": e.name,
            "status": e.status.value,
            "gender": e.gender.value,
            "birth_date": dt.datetime.combine(e.birth_date, dt.time()),
            "rank": e.rank.value if e.rank else None,
            "position_id": e.position_id,
            "unit_id": e.unit_id,
            "position_start": e.position_start,
            "education_level": e.education.level.value,
            "education_field": e.education.field,
            "under_investigation": e.under_investigation,
            "willing_to_move": e.preferences.willing_to_move,
            "preferred_unit_ids": "; ".join(e.preferences.preferred_unit_ids) or None,
        }
        sheet.append([row[c] for c in columns])
    return book


def _with_full_integers(path: Path, nips: list[str]) -> None:
    """Store each NIP as an exact integer cell, as tools other than openpyxl (which writes %.16g) do."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info.filename) for info in source.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    for nip in nips:
        rounded = f"{int(nip):.16g}"
        assert f"<v>{rounded}</v>" in sheet
        sheet = sheet.replace(f"<v>{rounded}</v>", f"<v>{nip}</v>", 1)
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)


def test_xlsx_nip_as_integer_is_accepted(small, tmp_path):
    root = tmp_path / "d"
    shutil.copytree(GOOD / "small_csv", root)
    (root / "employees.csv").unlink()
    _employees_sheet(small, int).save(root / "employees.xlsx")
    _with_full_integers(root / "employees.xlsx", [e.nip for e in small.employees])
    book = openpyxl.load_workbook(root / "employees.xlsx")
    assert book.active["A2"].value == int(small.employees[0].nip)  # really an integer cell
    assert load_dataset(root) == small


def test_xlsx_nip_as_float_is_rejected(small, tmp_path):
    root = tmp_path / "d"
    shutil.copytree(GOOD / "small_csv", root)
    (root / "employees.csv").unlink()
    _employees_sheet(small, float).save(root / "employees.xlsx")
    dataset, problems = validate_dataset(root)
    assert dataset is None
    nip_problems = [p for p in problems if p.code == "nip.not_text"]
    assert [(p.file, p.record, p.field) for p in nip_problems] == [
        (str(root / "employees.xlsx"), f"row {i}", "nip") for i in range(2, 6)
    ]
    assert nip_problems[0].value == float(small.employees[0].nip)
    # The child rows of those employees are not reported again as unknown employees.
    assert {p.code for p in problems.errors} == {"nip.not_text"}


def test_date_cell_with_time_and_number_in_date_column(small, tmp_path):
    root = tmp_path / "d"
    shutil.copytree(GOOD / "small_csv", root)
    (root / "employees.csv").unlink()
    book = _employees_sheet(small, str)
    book.active["E2"] = dt.datetime(1985, 3, 12, 9, 30)  # noqa: DTZ001 - a spreadsheet cell has no time zone
    book.active["I3"] = 42000  # an Excel serial day number in a cell not formatted as a date
    book.active["I3"].number_format = "General"
    book.save(root / "employees.xlsx")
    _, problems = validate_dataset(root)
    assert [(p.code, p.record, p.field) for p in problems] == [
        ("date.invalid", "row 2", "birth_date"),
        ("date.invalid", "row 3", "position_start"),
    ]


def test_workbook_sheets_are_tables(small, tmp_path):
    target = tmp_path / "book.xlsx"
    save_dataset(small, target, "xlsx")
    book = openpyxl.load_workbook(target)
    assert book.sheetnames[:4] == ["metadata", "units", "positions", "employees"]
    assert book["employees"]["A2"].data_type == "s"  # NIP stored as text
    book.create_sheet("catatan")
    book.save(target)
    _, problems = validate_dataset(target)
    assert [(p.code, p.record) for p in problems] == [("table.unknown", "sheet catatan")]


def test_load_dataset_raises_with_all_problems():
    with pytest.raises(InputError) as exc:
        load_dataset(GOOD.parent / "bad" / "many_problems" / "dataset")
    assert len([p for p in exc.value.problems if p.severity == "error"]) == 10
    assert "10 error(s)" in str(exc.value)


def test_missing_path_and_unknown_suffix(tmp_path):
    _, problems = validate_dataset(tmp_path / "nope")
    assert [p.code for p in problems] == ["file.not_found"]
    (tmp_path / "x.txt").write_text("hi")
    _, problems = validate_dataset(tmp_path / "x.txt")
    assert [p.code for p in problems] == ["file.format"]


def test_save_refuses_a_second_file_for_the_same_table(small, tmp_path):
    save_dataset(small, tmp_path / "d", "xlsx")
    with pytest.raises(ValueError, match="twice"):
        save_dataset(small, tmp_path / "d", "csv")


def test_save_refuses_list_item_containing_separator(small, tmp_path):
    positions = list(small.positions)
    req = positions[0].requirements.model_copy(update={"trainings": ["A; B"]})
    positions[0] = positions[0].model_copy(update={"requirements": req})
    with pytest.raises(ValueError, match="separator"):
        save_dataset(small.model_copy(update={"positions": positions}), tmp_path / "d", "csv")


def test_unknown_format(small, tmp_path):
    with pytest.raises(ValueError, match="unknown dataset format"):
        save_dataset(small, tmp_path / "d", "parquet")


# --------------------------------------------------------------------------- round trip law (hypothesis)

text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-'(),.",
               min_size=1, max_size=20).map(str.strip).filter(bool)
# Volumes and norm times as HR files hold them: up to 2 decimals (xlsx keeps 16 significant digits).
number = st.integers(0, 10**8).map(lambda n: n / 100)
day = st.dates(dt.date(2000, 1, 1), dt.date(2024, 6, 30))


@st.composite
def variants(draw, base: Dataset) -> Dataset:
    """The small dataset with free text, numbers, optional values and list shapes drawn at random."""
    units = [u.model_copy(update={"name": draw(text)}) for u in base.units]
    positions = []
    for p in base.positions:
        tasks = draw(st.one_of(st.none(), st.lists(st.builds(WorkloadTask, name=text, volume_per_year=number,
                                                             norm_minutes=number), max_size=3)))
        req = p.requirements.model_copy(update={"education_fields": draw(st.lists(text, max_size=3))})
        positions.append(p.model_copy(update={"name": draw(text), "tasks": tasks, "requirements": req,
                                              "programmes": draw(st.lists(text, max_size=2))}))
    employees = []
    for e in base.employees:
        hours = st.one_of(st.none(), st.integers(0, 10**6).map(lambda n: n / 100))
        trainings = draw(st.lists(st.builds(Training, name=text, completed=day, expires=st.none(), hours=hours),
                                  max_size=2))
        employees.append(e.model_copy(update={"name": draw(text), "trainings": trainings,
                                              "under_investigation": draw(st.booleans())}))
    meta = base.metadata.model_copy(update={
        "description": draw(st.one_of(st.just(""), text)),
        "effective_hours_per_year": draw(st.integers(50000, 300000).map(lambda n: n / 100)),
    })
    return Dataset.model_validate(
        {"metadata": meta, "units": units, "positions": positions, "employees": employees}
    )


@pytest.mark.parametrize("kind", ["json", "yaml", "csv", "xlsx"])
def test_round_trip_law(small, tmp_path_factory, kind):
    root = tmp_path_factory.mktemp(f"law-{kind}")

    @settings(max_examples=15 if kind == "xlsx" else 25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(variants(small))
    def law(dataset: Dataset) -> None:
        target = save(dataset, root, kind)
        loaded, problems = validate_dataset(target)
        assert not problems.errors, [str(p) for p in problems.errors]
        assert loaded == dataset

    law()


def test_every_table_and_column_is_documented():
    from mutasi_rules.data.loading import iter_table_columns

    doc = (Path(__file__).parents[1] / "docs" / "data-format.md").read_text(encoding="utf-8")
    for table, column in iter_table_columns():
        assert f"### {table}" in doc
        assert f"`{column.name}`" in doc, (table, column.name)


def test_a_blank_required_metadata_value_is_reported_missing(small, tmp_path):
    """A metadata table file (here YAML in a CSV directory) whose required value is blank."""
    root = save(small, tmp_path, "csv")
    (root / "metadata.csv").unlink()
    (root / "metadata.yaml").write_text('schema_version: 1\nname: "   "\nas_of: "2024-07-01"\n', encoding="utf-8")
    dataset, problems = validate_dataset(root)
    assert dataset is None
    assert [(p.code, p.file.endswith("metadata.yaml"), p.field) for p in problems.errors] == [
        ("field.missing", True, "name")
    ]


def test_competencies_are_marked_core_or_secondary_in_csv(small, tmp_path):
    import csv

    from mutasi_rules.data.models import ProfileFactor

    root = save(small, tmp_path, "csv")
    path = root / "position_competencies.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    factor = header.index("factor") if "factor" in header else len(header)
    if factor == len(header):
        header.append("factor")
        for row in rows[1:]:
            row.append("")
    rows[1][factor] = "secondary"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    dataset, problems = validate_dataset(root)
    assert not problems.errors, [str(p) for p in problems.errors]
    marked = [c.factor for p in dataset.positions for c in p.requirements.competencies]
    assert marked.count(ProfileFactor.SECONDARY) == 1 and len(marked) >= 1

    rows[1][factor] = "utama"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    dataset, problems = validate_dataset(root)
    (problem,) = problems.errors
    assert problem.file.endswith("position_competencies.csv") and problem.field == "factor"
    assert problem.value == "utama" and "'core' or 'secondary'" in problem.message
