"""Problems in spreadsheet rows keep naming their own file, row and column as written.

Cell locations are worked out only when a problem needs one, and child rows (trainings,
history, tasks...) hand their parent their rows rather than a location per cell; these
tests pin what the user sees of that.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from mutasi_rules.data.loading import validate_dataset

GOOD_CSV = Path(__file__).parent / "data" / "good" / "small_csv"


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    target = tmp_path / "ds"
    shutil.copytree(GOOD_CSV, target)
    return target


def edit(path: Path, header: dict[str, str] | None = None, cells: dict[tuple[int, str], str] | None = None) -> None:
    """Rename header cells and set cells (by 1-based data row and original column name) of a CSV file."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    names = list(rows[0])
    for (row, column), value in (cells or {}).items():
        rows[row][names.index(column)] = value
    rows[0] = [(header or {}).get(name, name) for name in names]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def located(dataset: Path) -> list[tuple[str, str, str | None, str | None]]:
    found, problems = validate_dataset(dataset)
    assert found is None
    return [(p.code, Path(p.file or "").name, p.record, p.field) for p in problems]


def test_a_bad_cell_in_a_child_row_names_the_child_file_row_and_header_as_written(dataset: Path) -> None:
    edit(dataset / "employee_trainings.csv", header={"completed": "Completed"}, cells={(2, "completed"): "2020-02-30"})
    assert located(dataset) == [("date.invalid", "employee_trainings.csv", "row 3", "Completed")]


def test_a_model_error_in_a_child_row_points_at_the_field_its_message_names(dataset: Path) -> None:
    edit(dataset / "employee_history.csv", header={"end": "End "}, cells={(1, "end"): "2010-01-01"})
    _, problems = validate_dataset(dataset)
    (problem,) = problems
    assert (problem.code, Path(problem.file or "").name, problem.record, problem.field) == (
        "field.invalid",
        "employee_history.csv",
        "row 2",
        "End",
    )
    assert "before start" in problem.message


def test_a_pydantic_error_in_a_child_row_is_located_in_that_row(dataset: Path) -> None:
    edit(dataset / "position_tasks.csv", cells={(3, "volume_per_year"): "-40"})
    assert located(dataset) == [("value.out_of_range", "position_tasks.csv", "row 4", "volume_per_year")]


@pytest.mark.parametrize("nip", ["199001012020011001", "set()", "False"])
def test_a_child_row_naming_no_parent_names_its_key_column(dataset: Path, nip: str) -> None:
    # "set()" and "False" once matched the placeholders kept for parent rows without a
    # rejected key, so such a row was dropped without a word.
    edit(dataset / "employee_trainings.csv", cells={(1, "nip"): nip})
    assert located(dataset) == [("ref.unknown_employee", "employee_trainings.csv", "row 2", "nip")]


def test_a_parent_row_problem_names_the_header_as_written(dataset: Path) -> None:
    edit(dataset / "positions.csv", header={"kelas": "KELAS"}, cells={(2, "kelas"): "sebelas"})
    assert located(dataset) == [("field.invalid", "positions.csv", "row 3", "KELAS")]


def test_the_workload_marker_problem_is_located_at_its_column(dataset: Path) -> None:
    edit(dataset / "positions.csv", cells={(1, "has_workload_data"): "false"})
    assert located(dataset) == [("position.tasks_without_workload_data", "positions.csv", "row 2", "has_workload_data")]
