"""The corpus of bad datasets: each case lists, in expected.yaml, exactly the problems it must produce."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from mutasi_rules.cli import EXIT_OK, EXIT_PROBLEMS, main
from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.data.loading import validate_dataset
from mutasi_rules.data.models import Dataset

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if (p / "expected.yaml").exists())


def dataset_of(case: Path) -> Path:
    return next(p for p in sorted(case.iterdir()) if p.name.startswith("dataset"))


def as_expected(problem, case: Path) -> dict:
    item = {"severity": problem.severity, "code": problem.code, "file": Path(problem.file).relative_to(case).as_posix()}
    for key in ("line", "record", "field", "value"):
        if getattr(problem, key) is not None:
            item[key] = getattr(problem, key)
    return item


def test_corpus_is_not_empty():
    assert len(CASES) >= 20


@pytest.mark.parametrize("name", CASES)
def test_bad_case_reports_exactly_the_expected_problems(name):
    case = BAD / name
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    dataset, problems = validate_dataset(dataset_of(case))
    assert dataset is None
    assert [as_expected(p, case) for p in problems] == expected
    for problem in problems:  # every problem says why, in words
        assert problem.message


def test_many_problems_are_all_reported_at_once():
    case = BAD / "many_problems"
    _, problems = validate_dataset(dataset_of(case))
    codes = {p.code for p in problems.errors}
    assert {
        "ref.unknown_employee",
        "column.unknown",
        "nip.birth_date_mismatch",
        "date.invalid",
        "nip.invalid",
        "employee.unit_mismatch",
        "metadata_key.unknown",
        "value.out_of_range",
        "ref.unknown_unit",
    } <= codes
    assert len(problems.errors) == 10


def test_two_positions_is_not_called_a_mere_duplicate():
    _, problems = validate_dataset(dataset_of(BAD / "two_positions"))
    (problem,) = problems.errors
    assert problem.code == "employee.two_positions"
    assert "BKPSDM.PENGADM" in problem.message and "BKPSDM.ANALIS" in problem.message


def test_unknown_columns_become_warnings_when_allowed():
    dataset, problems = validate_dataset(dataset_of(BAD / "unknown_column"), allow_extra_columns=True)
    assert dataset is not None
    (warning,) = problems
    assert (warning.severity, warning.code, warning.field) == ("warning", "column.unknown", "educaton_field")
    assert "did you mean 'education_field'" in warning.message


def test_unknown_document_field_allowed_as_warning(tmp_path):
    text = (DATA / "good" / "small.yaml").read_text(encoding="utf-8").replace(
        "{id: DINKES, name: Dinas Kesehatan, kind: dinas}",
        "{id: DINKES, name: Dinas Kesehatan, kind: dinas, kode: 1.02}"
    )
    (tmp_path / "d.yaml").write_text(text, encoding="utf-8")
    assert validate_dataset(tmp_path / "d.yaml")[0] is None
    dataset, problems = validate_dataset(tmp_path / "d.yaml", allow_extra_columns=True)
    assert dataset is not None and [(p.severity, p.code, p.record, p.line) for p in problems] == [
        ("warning", "field.unknown", "units[0]", 12)
    ]


# --------------------------------------------------------------------------- CLI


def test_cli_validate_good_dataset_exits_0(capsys):
    assert main(["validate", "--lang", "en", str(DATA / "good" / "small_csv")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "dataset is valid: 0 error(s), 0 warning(s)" in out
    assert re.search(r"employees\s*│\s*4\s*│", out) and re.search(r"units\s*│\s*3\s*│", out)


def test_cli_validate_bad_dataset_prints_every_problem_and_exits_1(capsys):
    case = BAD / "many_problems"
    assert main(["validate", "--lang", "en", str(dataset_of(case))]) == EXIT_PROBLEMS
    lines = capsys.readouterr().out.splitlines()
    problem_lines = [line for line in lines if ": error: " in line]
    assert len(problem_lines) == 10
    assert any(
        line.endswith(
            "employees.csv:row 3: position_start: error: impossible date: day is out of range for month ('2017-04-31')"
        )
        for line in problem_lines
    )
    assert lines[-1] == "dataset is invalid: 10 error(s), 0 warning(s)"


def test_cli_validate_json_output_is_a_list_of_problems(capsys):
    case = BAD / "unit_cycle"
    assert main(["validate", "--format", "json", str(dataset_of(case))]) == EXIT_PROBLEMS
    captured = capsys.readouterr()
    problems = json.loads(captured.out)
    assert [(p["code"], p["record"], p["field"], p["value"]) for p in problems] == [
        ("unit.parent_cycle", "row 2", "parent_id", "DINKES.P2P"),
        ("unit.parent_cycle", "row 4", "parent_id", "BKPSDM"),
    ]
    assert json.loads(captured.err)["errors"] == 2


def test_cli_validate_allow_extra_columns_exits_0(capsys):
    case = BAD / "unknown_column"
    assert main(["validate", "--lang", "en", str(dataset_of(case))]) == EXIT_PROBLEMS
    assert main(["validate", "--lang", "en", "--allow-extra-columns", str(dataset_of(case))]) == EXIT_OK
    assert "warning: unknown column 'educaton_field' is ignored" in capsys.readouterr().out


def test_cli_validate_missing_argument_is_usage_error(capsys):
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: mutasi-rules validate") and "DATASET" in err


def test_cli_schema_prints_canonical_dataset_schema(capsys):
    assert main(["schema", "dataset"]) == EXIT_OK
    schema = json.loads(capsys.readouterr().out)
    assert schema["$id"].endswith("dataset.schema.json")
    assert {k: v for k, v in schema.items() if k not in ("$id", "$schema")} == json.loads(
        canonical_json(Dataset.model_json_schema())
    )


def test_cli_schema_rules_written_to_file(tmp_path, capsys):
    out = tmp_path / "sub" / "rules.schema.json"
    assert main(["schema", "rules", "--out", str(out)]) == EXIT_OK
    schema = json.loads(out.read_text(encoding="utf-8"))
    assert "ruleset" in schema["properties"] and capsys.readouterr().out == ""


def test_cli_demo_runs_the_whole_job_and_writes_the_plan(capsys, tmp_path):
    assert main(["demo", str(DATA / "good" / "small.yaml"), "--out-dir", str(tmp_path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Kota Pontianak (small test set), as_of 2024-07-01" in out
    assert "Dinas Kesehatan" in out and "Badan Kepegawaian dan Pengembangan SDM" in out
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert plan["format"] == "mutasi-rules.recommendation/1"
    assert (tmp_path / "plan.md").read_text(encoding="utf-8").startswith("# Rencana mutasi")
    assert (tmp_path / "plan.xlsx").read_bytes().startswith(b"PK")


def test_cli_demo_on_bad_dataset_exits_1(capsys):
    assert main(["demo", "--lang", "en", str(dataset_of(BAD / "nip_invalid"))]) == EXIT_PROBLEMS
    assert "3 error(s)" in capsys.readouterr().err
