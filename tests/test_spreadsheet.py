"""Excel and CSV output: typed cells, frozen headers, Indonesian CSV, and no formula injection (issues #16, #21)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutasi_rules.cli import EXIT_OK, EXIT_USAGE, main
from mutasi_rules.data.cellformats import neutralise_formula, restore_formula_text
from mutasi_rules.data.generator import generate_dataset
from mutasi_rules.data.loading import load_dataset, save_dataset
from mutasi_rules.data.models import Dataset
from mutasi_rules.explain.spreadsheet import csv_text, plan_workbook

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"klik\")", "+62 811", "-2+3", "@SUM(A1:A9)", "=1+1"]


def book_of(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_plan_workbook_has_every_sheet_typed_and_frozen(example_run):
    _dataset, result = example_run
    book = book_of(plan_workbook(result, "id"))
    assert book.sheetnames == ["Ringkasan", "Mutasi", "Kekurangan", "Kebutuhan pelatihan", "Keseimbangan OPD",
                               "Dikecualikan"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1])
    moves = book["Mutasi"]
    assert moves.max_row == len(result.moves) + 1
    header = [c.value for c in moves[1]]
    first = dict(zip(header, (c.value for c in moves[2]), strict=True))
    move = result.moves[0]
    assert first["NIP"] == move.nip and first["Nama"] == move.name
    assert isinstance(first["Nilai"], float) and first["Nilai"] == pytest.approx(move.score)
    assert moves.column_dimensions["B"].width >= len(move.name)
    summary = {row[0].value: row[1].value for row in book["Ringkasan"].iter_rows(min_row=2)}
    assert summary["Tanggal acuan (as_of)"] == dt.datetime.combine(result.run.as_of, dt.time())  # a real date cell
    assert summary["Jumlah mutasi"] == len(result.moves)
    shortages = book["Kekurangan"]
    reasons = [row[-1].value for row in shortages.iter_rows(min_row=2)]
    unfilled = [s for s in result.shortages if s.unfilled_reason]
    assert unfilled and sum(1 for r in reasons if r) == len(unfilled)
    excluded = book["Dikecualikan"]
    assert excluded.max_row - 1 == sum(len(p.findings) for p in result.excluded)
    rules = {row[3].value for row in excluded.iter_rows(min_row=2)}
    assert rules == {f.rule_key for p in result.excluded for f in p.findings}
    trainings = {row[0].value: row[1].value for row in book["Kebutuhan pelatihan"].iter_rows(min_row=2)}
    assert trainings == {need.name: sum(1 for m in result.moves
                                        if any(t.name == need.name for t in m.trainings_required))
                         for need in result.trainings_total}


def test_balance_sheet_lists_every_opd_with_the_workload(example_run):
    from mutasi_rules.analysis.workload import figures_report

    dataset, result = example_run
    workload = figures_report(dataset, as_of=result.run.as_of, settings=result.run.options.workload)
    sheet = book_of(plan_workbook(result, "id", workload))["Keseimbangan OPD"]
    rows = {row[0].value: [c.value for c in row] for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == {u.unit_id for u in workload.opd_units()}
    for unit in result.units:  # the OPDs the plan touches: before and after from the plan
        assert rows[unit.unit_id][2:6] == [unit.moves_out, unit.moves_in, unit.ej_before, unit.ej_after]
    untouched = next(u for u in workload.opd_units() if u.unit_id not in {x.unit_id for x in result.units}
                     and u.ej is not None)
    assert rows[untouched.unit_id][2:] == [0, 0, untouched.ej, untouched.ej, 0]


def test_plan_workbook_in_english_and_deterministic(example_run):
    _, result = example_run
    data = plan_workbook(result, "en")
    assert data == plan_workbook(result, "en")
    book = book_of(data)
    assert book.sheetnames[:3] == ["Summary", "Moves", "Shortages"]
    assert [c.value for c in book["Moves"][1]][:3] == ["NIP", "Name", "From position"]


def test_names_that_look_like_formulas_stay_text_in_the_plan(example_run):
    _, result = example_run
    moves = [m.model_copy(update={"name": name}) for m, name in zip(result.moves, HOSTILE, strict=False)]
    hostile = result.model_copy(update={"moves": moves})
    sheet = book_of(plan_workbook(hostile, "id"))["Mutasi"]
    for row, name in zip(sheet.iter_rows(min_row=2), HOSTILE, strict=False):
        cell = row[1]
        assert cell.value == name and cell.data_type == "s" and cell.quotePrefix


def hostile_dataset() -> Dataset:
    data = generate_dataset(150, seed=3).model_dump(mode="json")
    for position, name in zip(data["positions"], HOSTILE, strict=False):
        position["name"] = name
    return Dataset.model_validate(data)


def test_workload_csv_and_xlsx_neutralise_formula_text(tmp_path: Path):
    root = tmp_path / "ds"
    save_dataset(hostile_dataset(), root, "csv")
    for dialect in ("standard", "id"):
        out = tmp_path / f"w-{dialect}.csv"
        assert main(["workload", str(root), "--format", "csv", "--csv-dialect", dialect, "--out", str(out)]) == EXIT_OK
        raw = out.read_bytes()
        text = raw.decode("utf-8-sig")
        assert raw.startswith(b"\xef\xbb\xbf") == (dialect == "id")
        rows = list(csv.DictReader(io.StringIO(text), delimiter=";" if dialect == "id" else ","))
        names = {row["name"] for row in rows}
        for name in HOSTILE:
            assert "'" + name in names and name not in names
        negative = next(row["gap_raw"] for row in rows if row["gap_raw"].startswith("-"))
        assert not negative.startswith("'")  # numbers are numbers, not neutralised
        if dialect == "id":
            assert any("," in row["ej"] for row in rows) and not any("." in row["ej"] for row in rows)
    xlsx = tmp_path / "w.xlsx"
    assert main(["workload", str(root), "--format", "xlsx", "--out", str(xlsx)]) == EXIT_OK
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["Unit", "Jabatan", "Keseimbangan"]
    sheet = book["Jabatan"]
    by_name = {row[1].value: row[1] for row in sheet.iter_rows(min_row=2)}
    for name in HOSTILE:
        assert by_name[name].data_type == "s" and by_name[name].quotePrefix
    ej = [row[13].value for row in sheet.iter_rows(min_row=2) if row[13].value is not None]
    assert ej and all(isinstance(v, float) for v in ej)


def test_xlsx_needs_an_out_file(tmp_path: Path):
    assert main(["workload", "examples/pontianak", "--format", "xlsx"]) == EXIT_USAGE


def test_saved_dataset_csv_and_xlsx_neutralise_and_read_back_the_same(tmp_path: Path):
    dataset = hostile_dataset()
    save_dataset(dataset, tmp_path / "csv", "csv")
    text = (tmp_path / "csv" / "positions.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert load_dataset(tmp_path / "csv") == dataset
    save_dataset(dataset, tmp_path / "ds.xlsx", "xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "ds.xlsx")["positions"]
    cells = [row[1] for row in sheet.iter_rows(min_row=2) if row[1].value in HOSTILE]
    assert len(cells) == len(HOSTILE) and all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert load_dataset(tmp_path / "ds.xlsx") == dataset


@given(st.text())
def test_neutralising_is_undone_exactly_and_never_leaves_a_formula_start(text):
    safe = neutralise_formula(text)
    assert restore_formula_text(safe) == text
    assert safe[:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_csv_text_writes_numbers_as_numbers_and_text_safely():
    text = csv_text(["a", "b"], [["=1", -1.5], ["x", 2]], "id")
    assert text == "\ufeffa;b\r\n'=1;-1,5\r\nx;2\r\n"
