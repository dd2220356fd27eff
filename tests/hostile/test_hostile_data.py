"""Hostile and faulty datasets: every case ends in a clear, located problem (or a correct result),
never a traceback, a hang or a silently wrong value. Bombs are built here, small and bounded."""

from __future__ import annotations

import copy
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import yaml

from mutasi_rules.cli import main
from mutasi_rules.core import limits
from mutasi_rules.data.loading import save_dataset, validate_dataset
from mutasi_rules.data.models import Dataset

SMALL = Path(__file__).resolve().parents[1] / "data" / "good" / "small.yaml"


@pytest.fixture(scope="module")
def small_data() -> dict:
    return yaml.safe_load(SMALL.read_text(encoding="utf-8"))


def _yaml(tmp: Path, data: dict) -> Path:
    path = tmp / "dataset.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _edit(change: Callable[[dict], None]) -> Callable[[dict], dict]:
    def build(data: dict) -> dict:
        data = copy.deepcopy(data)
        change(data)
        return data
    return build


def _set(path: str, value: object) -> Callable[[dict], dict]:
    def change(data: dict) -> None:
        target = data
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        target[parts[-1]] = value
    return _edit(change)


# (case, edit of the small dataset, problem code, field the problem names, text in the message)
CORPUS = [
    ("effective hours written 1.250 (Indonesian for 1,250)", _set("metadata.effective_hours_per_year", 1.25),
     "value.out_of_range", "effective_hours_per_year", "plausible"),
    ("effective hours absurdly high", _set("metadata.effective_hours_per_year", 87600),
     "value.out_of_range", "effective_hours_per_year", "3000"),
    ("norm minutes inf", _set("positions.0.tasks.0.norm_minutes", float("inf")),
     "field.invalid", "norm_minutes", "finite"),
    ("norm minutes nan", _set("positions.0.tasks.0.norm_minutes", float("nan")),
     "field.invalid", "norm_minutes", "finite"),
    ("volume 1e300", _set("positions.0.tasks.0.volume_per_year", 1e300),
     "value.out_of_range", "volume_per_year", "plausible"),
    ("negative volume", _set("positions.0.tasks.1.volume_per_year", -5),
     "value.out_of_range", "volume_per_year", ""),
    ("training hours absurd", _set("employees.0.trainings", [{"name": "Diklat", "completed": "2020-01-01",
                                                               "hours": 1e9}]),
     "value.out_of_range", "hours", ""),
    ("NUL in an employee name", _set("employees.0.name", "Siti\x00Aminah"),
     "text.control_character", "name", "U+0000"),
    ("escape sequence in a unit name", _set("units.0.name", "Dinas\x1b[31m Merah"),
     "text.control_character", "name", "U+001B"),
    ("C1 control in a position name", _set("positions.1.name", "Kepala\x9bBidang"),
     "text.control_character", "name", "U+009B"),
    ("line break in a position name", _set("positions.0.name", "Vaksinator\nPalsu"),
     "text.control_character", "name", "U+000A"),
    ("bell in free text", _set("metadata.description", "o\x07k"),
     "text.control_character", "description", "U+0007"),
]


@pytest.mark.parametrize(("case", "edit", "code", "field", "text"), CORPUS, ids=[c[0] for c in CORPUS])
def test_faulty_values_are_located_problems(small_data, tmp_path, case, edit, code, field, text):
    dataset, problems = validate_dataset(_yaml(tmp_path, edit(small_data)))
    assert dataset is None, f"{case}: accepted"
    hits = [p for p in problems.errors if p.code == code and (p.field or "").endswith(field)]
    assert hits, [str(p) for p in problems.errors]
    assert text in hits[0].message and hits[0].file and (hits[0].line or hits[0].record)


def test_plausible_values_still_load(small_data, tmp_path):
    data = _set("metadata.effective_hours_per_year", 1500)(small_data)
    data["metadata"]["description"] = "two lines\nand a\ttab are fine in free text"
    dataset, problems = validate_dataset(_yaml(tmp_path, data))
    assert dataset is not None, [str(p) for p in problems.errors]


def test_a_long_value_is_shortened_in_the_problem(small_data, tmp_path, capsys):
    path = _yaml(tmp_path, _set("employees.0.name", "A" * 100_000)(small_data))
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr()
    lines = (err.out + err.err).splitlines()
    assert any("100,000 characters" in line for line in lines)
    assert max(len(line) for line in lines) < 1_000


# --------------------------------------------------------------------------- bombs


def test_yaml_billion_laughs_is_refused_at_once(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(9)]
    path = tmp_path / "dataset.yaml"
    path.write_text("\n".join(levels) + "\n", encoding="utf-8")
    started = time.perf_counter()
    dataset, problems = validate_dataset(path)
    assert time.perf_counter() - started < 5
    assert dataset is None
    (problem,) = problems.errors
    assert problem.code == "file.too_large" and "alias" in problem.message and problem.file == str(path)


def test_a_self_referencing_alias_is_refused(tmp_path):
    path = tmp_path / "dataset.yaml"
    path.write_text("metadata: &m {name: x, self: *m}\n", encoding="utf-8")
    dataset, problems = validate_dataset(path)
    assert dataset is None and problems.errors[0].code in ("file.too_large", "file.syntax")


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path, suffix):
    depth = 100_000
    path = tmp_path / f"dataset.{suffix}"
    path.write_text("[" * depth + "]" * depth, encoding="utf-8")
    dataset, problems = validate_dataset(path)
    assert dataset is None
    assert problems.errors[0].code in ("file.too_large", "file.syntax")
    assert "nest" in problems.errors[0].message


def test_moderate_nesting_beyond_the_limit_is_refused(tmp_path):
    path = tmp_path / "dataset.json"
    nested: object = 1
    for _ in range(20):
        nested = [nested]
    path.write_text(json.dumps({"metadata": {"name": nested}}), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MUTASI_RULES_LIMIT_NESTING", "10")
        dataset, problems = validate_dataset(path)
    assert dataset is None and "nests deeper than 10" in problems.errors[0].message
    assert "MUTASI_RULES_LIMIT_NESTING" in problems.errors[0].message


def _workbook(small_data: dict, tmp: Path) -> Path:
    path = tmp / "dataset.xlsx"
    save_dataset(Dataset.model_validate(small_data), path, "xlsx")
    return path


def test_xlsx_zip_bomb_is_refused_before_reading(small_data, tmp_path, monkeypatch):
    """The limit is lowered so the bomb stays small: 3 MB of sheet XML in a few kB of file."""
    path = _workbook(small_data, tmp_path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.xml", b"0" * (3 * 2**20))
    assert path.stat().st_size < 200_000
    monkeypatch.setenv("MUTASI_RULES_LIMIT_XLSX_UNCOMPRESSED_MB", "2")
    dataset, problems = validate_dataset(path)
    assert dataset is None
    (problem,) = problems.errors
    assert problem.code == "file.too_large" and "zip bomb" in problem.message
    assert "MUTASI_RULES_LIMIT_XLSX_UNCOMPRESSED_MB" in problem.message
    # The bomb (285 MB of sheet XML) is above the default limit.
    assert limits.Limits().xlsx_uncompressed_mb * 2**20 < 285 * 2**20


def test_xlsx_formula_without_a_saved_value_names_the_cell(small_data, tmp_path):
    """``=TRUE()`` in under_investigation, saved by a program that does not calculate, is not read as false."""
    path = _workbook(small_data, tmp_path)
    book = openpyxl.load_workbook(path)
    sheet = book["employees"]
    header = [c.value for c in sheet[1]]
    column = header.index("under_investigation") + 1
    sheet.cell(row=2, column=column, value="=TRUE()")
    book.save(path)
    dataset, problems = validate_dataset(path)
    assert dataset is None
    (problem,) = [p for p in problems.errors if p.code == "cell.formula_without_value"]
    letter = openpyxl.utils.get_column_letter(column)
    assert f"cell {letter}2" in problem.message and "=TRUE()" in problem.message
    assert problem.field == "under_investigation" and problem.record == "sheet employees row 2"


def test_xlsx_formula_with_a_saved_value_is_read(small_data, tmp_path):
    """A workbook saved by a spreadsheet program keeps the computed value: it is used."""
    path = _workbook(small_data, tmp_path)
    book = openpyxl.load_workbook(path)
    sheet = book["employees"]
    column = [c.value for c in sheet[1]].index("under_investigation") + 1
    letter = openpyxl.utils.get_column_letter(column)
    sheet.cell(row=2, column=column, value="=TRUE()")
    book.save(path)
    # What Excel writes: the formula and its cached value <v>1</v>, as a boolean cell.
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    name = next(n for n in parts if n.startswith("xl/worksheets/") and b"TRUE()" in parts[n])
    xml = parts[name].decode()
    start = xml.index(f'<c r="{letter}2"')
    end = xml.index("</c>", start) + len("</c>")
    parts[name] = (xml[:start] + f'<c r="{letter}2" t="b"><f>TRUE()</f><v>1</v></c>' + xml[end:]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, data in parts.items():
            archive.writestr(part, data)
    dataset, problems = validate_dataset(path)
    assert dataset is not None, [str(p) for p in problems.errors]
    nip = str(sheet.cell(row=2, column=[c.value for c in sheet[1]].index("nip") + 1).value)
    assert dataset.employee_by_nip()[nip].under_investigation is True


def test_xlsx_rows_and_cell_length_limits(small_data, tmp_path, monkeypatch):
    path = _workbook(small_data, tmp_path)
    book = openpyxl.load_workbook(path)
    book["units"].cell(row=2, column=2, value="B" * 5_000)
    book.save(path)
    monkeypatch.setenv("MUTASI_RULES_LIMIT_CELL_CHARS", "1000")
    monkeypatch.setenv("MUTASI_RULES_LIMIT_ROWS", "3")
    dataset, problems = validate_dataset(path)
    assert dataset is None
    codes = {p.code for p in problems.errors}
    assert "cell.too_long" in codes
    too_long = next(p for p in problems.errors if p.code == "cell.too_long")
    assert "5,000 characters" in too_long.message and len(str(too_long)) < 1_000
    assert any(p.code == "file.too_large" and "more than 3 data rows" in p.message for p in problems.errors)


def test_a_bad_limit_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("MUTASI_RULES_LIMIT_ROWS", "lots")
    with pytest.raises(limits.LimitExceeded, match="MUTASI_RULES_LIMIT_ROWS"):
        limits.current()


def test_workload_of_infinite_norm_minutes_is_a_located_problem_not_a_decimal_error(small_data, tmp_path, capsys):
    path = _yaml(tmp_path, _set("positions.0.tasks.0.norm_minutes", float("inf"))(small_data))
    assert main(["workload", str(path)]) == 1
    err = capsys.readouterr().err
    assert "norm_minutes" in err and "finite" in err and "InvalidOperation" not in err
