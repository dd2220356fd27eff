"""Scenario files: parsing and every problem they can have, applying them, and side-by-side plans."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest

from mutasi_rules import RecommendOptions, load_dataset
from mutasi_rules.cli import main
from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.data.models import Dataset, WorkloadTask
from mutasi_rules.data.scenario import apply_scenario, load_scenario, load_scenario_text, load_scenarios
from mutasi_rules.explain.spreadsheet import workbook_bytes
from mutasi_rules.planning.comparison import render_markdown, xlsx_sheets
from mutasi_rules.problems import InputError
from mutasi_rules.service import Service, dataset_sha256

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pontianak"
SURGE = EXAMPLE / "scenarios" / "vaksinasi-lonjakan.yaml"
PLAN_DATE = dt.date(2026, 8, 3)
#: The one example employee eligible for a vaccination post in a surplus post of another agency.
ELIGIBLE_NIP = "198408282008102001"

TRIPLE = """\
name: vaksinasi-x3
description: Volume imunisasi Dinkes tiga kali lipat.
changes:
  - scale_volume: 3
    select: {unit: dinkes, programme: vaksinasi, task: "*imunisasi*"}
"""


@pytest.fixture(scope="module")
def example() -> Dataset:
    return load_dataset(EXAMPLE)


@pytest.fixture(scope="module")
def staffed_example(example: Dataset) -> Dataset:
    """The example with eight more people like its eligible nurse-midwife, in the same surplus post.

    The bundled example has a single eligible candidate for vaccination posts, so a surge there
    cannot change the plan; with more qualified surplus staff it can.
    """
    source = example.employee_by_nip()[ELIGIBLE_NIP]
    clones = [source.model_copy(update={"nip": source.nip[:15] + f"{100 + i:03d}", "name": f"{source.name} {i}"})
              for i in range(8)]
    return example.model_copy(update={"employees": [*example.employees, *clones]})


def _problems(text: str, dataset: Dataset | None = None) -> list:
    with pytest.raises(InputError) as caught:  # noqa: PT012 - reading or applying, whichever fails
        loaded = load_scenario_text(textwrap.dedent(text), "s.yaml")
        if dataset is not None:
            apply_scenario(dataset, loaded)
    return [p for p in caught.value.problems if p.severity == "error"]


# --------------------------------------------------------------------------- reading


def test_the_bundled_scenario_parses():
    loaded = load_scenario(SURGE)
    scenario = loaded.scenario
    assert scenario.name == "vaksinasi-lonjakan"
    assert [c.action for c in scenario.changes] == ["scale_volume", "add_position"]
    assert scenario.changes[0].scale_volume == 3
    assert scenario.changes[0].until == dt.date(2027, 1, 31)
    assert scenario.changes[1].add_position.id == "dinkes-p2p.pelaksana-vaksinasi"


SHAPE_PROBLEMS = [
    # (text, code, line, column, message part)
    ("name: a\nchanges: [\n", "scenario.yaml", 3, 1, ""),
    ("- just a list\n", "scenario.invalid", 1, 1, "mapping"),
    ("name: a\nchanges:\n  - scale_volume: 2\n    selct: {unit: dinkes}\n", "scenario.invalid", 4, 5,
     "unknown key 'selct'"),
    ("name: a\nchanges:\n  - scale_volume: 2\n    set_volume: 4\n    select: {unit: dinkes}\n", "scenario.invalid",
     3, 5, "exactly one of"),
    ("name: a\nchanges:\n  - scale_volume: 2\n", "scenario.invalid", 3, 5, "needs 'select'"),
    ("name: a\nchanges:\n  - remove_position: x\n    select: {unit: dinkes}\n", "scenario.invalid", 3, 5,
     "'select' goes with"),
    ("name: a\nchanges:\n  - scale_volume: 2\n    select: {unit: dinkes}\n    from: 2027-01-01\n"
     "    until: 2026-12-01\n", "scenario.invalid", 3, 5, "before from"),
    ("name: a\nchanges:\n  - scale_volume: 2\n    select: {}\n", "scenario.invalid", 4, 5, "at least one"),
    ("name: a\nchanges:\n  - scale_volume: -1\n    select: {unit: dinkes}\n", "scenario.invalid", 3, 5,
     "greater than or equal to 0"),
    ("name: a\nname: b\nchanges:\n  - remove_position: x\n", "scenario.duplicate_key", 2, 1, "twice"),
    ("name: !!python/object:os.system a\nchanges: []\n", "scenario.yaml", 1, 7, "tag not allowed"),
    ("name: a\n", "scenario.invalid", 1, 1, "'changes' is missing"),
    ("name: a b\nchanges:\n  - remove_position: x\n", "scenario.invalid", 1, 1, "pattern"),
    ("name: a\nchanges:\n  - add_position: {id: x, name: X, kind: fungsional, kelas: 6, unit_id: dinkes}\n",
     "scenario.invalid", 3, 5, "needs a level"),
]


@pytest.mark.parametrize(("text", "code", "line", "column", "part"), SHAPE_PROBLEMS,
                         ids=[f"{p[1]}:{p[4] or p[2]}" for p in SHAPE_PROBLEMS])
def test_every_shape_problem_is_located(text, code, line, column, part):
    found = _problems(text)
    assert any(p.code == code and p.file == "s.yaml" and (p.line, p.column) == (line, column) and part in p.message
               for p in found), [str(p) for p in found]


def test_all_problems_of_a_file_are_reported_at_once():
    found = _problems("name: a\nchanges:\n  - scale_volume: 2\n  - remove_position: x\n    until: 2020-01-01\n"
                      "    frm: 2019-01-01\n  - set_effective_hours: 0\n")
    assert len(found) >= 3
    assert {p.line for p in found} >= {3, 6, 7}


APPLY_PROBLEMS = [
    ("  - scale_volume: 2\n    select: {position: [dinkes.kepla]}\n", "scenario.unknown_position", 4, 5,
     "did you mean 'dinkes.kepala'"),
    ("  - scale_volume: 2\n    select: {unit: dinks}\n", "scenario.unknown_unit", 4, 5, "dinkes"),
    ("  - scale_volume: 2\n    select: {unit: dinkes, task: '*tidak ada tugas ini*'}\n", "scenario.no_match", 4, 5,
     "matches no task"),
    ("  - add_position: {id: dinkes.kepala, name: X, kind: pelaksana, kelas: 5, unit_id: dinkes}\n",
     "scenario.duplicate_position", 3, 5, "already in the dataset"),
    ("  - add_position: {id: baru, name: X, kind: pelaksana, kelas: 5, unit_id: nowhere}\n",
     "scenario.unknown_unit", 3, 5, "not in the dataset"),
    ("  - add_position: {id: baru, name: X, kind: pelaksana, kelas: 5, unit_id: dinkes}\n    until: 2027-01-01\n",
     "scenario.temporary_without_tasks", 3, 5, "needs tasks"),
    ("  - remove_position: tidak-ada\n", "scenario.unknown_position", 3, 5, "not in the dataset"),
    ("  - remove_position: dinkes.kepala\n    until: 2027-01-01\n", "scenario.temporary_removal", 4, 5,
     "scale_volume: 0"),
    ("  - set_effective_hours: 1000\n    until: 2026-06-30\n", "scenario.period_over", 4, 5, "as_of"),
]


@pytest.mark.parametrize(("change", "code", "line", "column", "part"), APPLY_PROBLEMS,
                         ids=[p[1] for p in APPLY_PROBLEMS])
def test_every_problem_found_when_applying_is_located(example, change, code, line, column, part):
    found = _problems("name: a\nchanges:\n" + change, example)
    assert any(p.code == code and (p.line, p.column) == (line, column) and part in p.message for p in found), \
        [str(p) for p in found]


def test_repeated_scenario_names_and_unreadable_files_are_problems(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(TRIPLE, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_scenarios([tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "missing.yaml"])
    codes = {p.code for p in caught.value.problems}
    assert codes == {"scenario.duplicate_name", "scenario.unreadable"}


# --------------------------------------------------------------------------- applying


def test_a_time_bounded_increase_is_kept_apart_as_temporary_tasks(example):
    changed, applied, _ = apply_scenario(example, load_scenario(SURGE))
    before = example.position_by_id()["pkm-alianyang.perawat-vaksin-terampil"]
    after = changed.position_by_id()["pkm-alianyang.perawat-vaksin-terampil"]
    permanent = [t for t in after.tasks if t.temporary_until is None]
    temporary = [t for t in after.tasks if t.temporary_until is not None]
    assert permanent == before.tasks  # the permanent workload is untouched
    immunisation = [t for t in before.tasks if "imunisasi" in t.name.lower()]
    assert [t.volume_per_year for t in temporary] == [2 * t.volume_per_year for t in immunisation]
    assert {(t.temporary_from, t.temporary_until) for t in temporary} == {(PLAN_DATE, dt.date(2027, 1, 31))}
    assert applied[0].tasks_changed == 22 and applied[0].temporary
    added = changed.position_by_id()["dinkes-p2p.pelaksana-vaksinasi"]
    assert all(t.temporary_until == dt.date(2027, 1, 31) for t in added.tasks)
    assert "vaksinasi-lonjakan" in changed.metadata.name
    assert dataset_sha256(example) == dataset_sha256(load_dataset(EXAMPLE))  # the input is not changed


def test_permanent_changes(example):
    text = """\
    name: tetap
    changes:
      - set_volume: 100
        select: {position: [dinkes.kepala], task: "Memimpin*"}
      - scale_volume: 2
        select: {position: [dinkes.sekretaris]}
      - remove_position: dinkes.kepala
      - set_effective_hours: 1300
    """
    changed, applied, _ = apply_scenario(example, load_scenario_text(textwrap.dedent(text), "t.yaml"))
    positions = changed.position_by_id()
    old = example.position_by_id()
    assert positions["dinkes.kepala"].tasks == []  # abolished; its holder stays, now surplus
    assert [t.volume_per_year for t in positions["dinkes.sekretaris"].tasks] == \
        [2 * t.volume_per_year for t in old["dinkes.sekretaris"].tasks]
    assert changed.metadata.effective_hours_per_year == 1300
    assert [a.action for a in applied] == ["set_volume", "scale_volume", "remove_position", "set_effective_hours"]


def test_fewer_effective_hours_for_a_period_is_temporary_workload(example):
    text = "name: ramadan\nchanges:\n  - set_effective_hours: 1000\n    until: 2027-03-31\n"
    changed, _, _ = apply_scenario(example, load_scenario_text(text, "r.yaml"))
    position = changed.position_by_id()["dinkes.sekretaris"]
    extra = sum(t.volume_per_year * t.norm_minutes for t in position.tasks if t.temporary_until)
    base = sum(t.volume_per_year * t.norm_minutes for t in position.tasks if not t.temporary_until)
    assert extra == pytest.approx(base * (1250 / 1000 - 1))
    assert changed.metadata.effective_hours_per_year == 1250


def test_a_permanent_task_serialises_as_before_temporary_tasks_existed():
    task = WorkloadTask(name="a", volume_per_year=1, norm_minutes=2)
    assert task.model_dump(mode="json") == {"name": "a", "volume_per_year": 1.0, "norm_minutes": 2.0}
    temporary = WorkloadTask(name="a", volume_per_year=1, norm_minutes=2, temporary_until=dt.date(2027, 1, 1))
    assert WorkloadTask.model_validate(temporary.model_dump(mode="json")) == temporary


# --------------------------------------------------------------------------- plans side by side


@pytest.fixture(scope="module")
def tripled(staffed_example):
    scenario = load_scenario_text(TRIPLE, "triple.yaml")
    return Service().scenarios(staffed_example, [scenario], RecommendOptions(plan_date=PLAN_DATE))


def test_tripling_vaccination_moves_more_people_into_dinkes_and_trains_more(tripled):
    comparison = tripled.scenarios[0].comparison
    baseline_in, scenario_in = comparison.moves_into["dinkes"]
    assert scenario_in > baseline_in
    assert comparison.moves_added and all(m.to_opd_id == "dinkes" for m in comparison.moves_added)
    assert comparison.training_participants_scenario > comparison.training_participants_baseline
    vaccinator = next(t for t in comparison.trainings if t.name == "Pelatihan Vaksinator")
    assert vaccinator.scenario_participants - vaccinator.baseline_participants == len(vaccinator.added) > 0
    assert vaccinator.hours_added == 40 * len(vaccinator.added)
    dinkes = next(a for a in comparison.agencies if a.unit_id == "dinkes")
    assert dinkes.scenario_before > dinkes.baseline_before  # the surge raises its EJ
    assert dinkes.scenario_after < dinkes.scenario_before  # and the plan relieves it


def test_scenario_json_has_the_documented_shape(tripled):
    data = json.loads(tripled.to_json())
    assert set(data) >= {"baseline", "scenarios"}
    assert data["baseline"]["format"] == "mutasi-rules.recommendation/1"
    item = data["scenarios"][0]
    assert set(item) >= {"name", "result", "comparison"}
    assert item["name"] == "vaksinasi-x3"
    assert set(item["comparison"]) >= {"agencies", "moves_added", "moves_removed", "trainings"}
    # The baseline is the plain recommendation: same rules, same options.
    assert data["baseline"]["run"]["options"] == item["result"]["run"]["options"]


@pytest.fixture(scope="module")
def surge(surge_report):
    """The bundled surge scenario against the bundled example (tests/conftest.py)."""
    return surge_report


def test_a_time_bounded_surge_gives_time_bounded_assignments(surge):
    report = surge
    result = report.scenarios[0].result
    assigned = [m for m in result.moves if m.assignment is not None]
    assert len(assigned) >= 2
    for move in assigned:
        assert move.to.position_id == "dinkes-p2p.pelaksana-vaksinasi"
        assert move.assignment.until == dt.date(2027, 1, 31) and move.assignment.start == PLAN_DATE
        assert move.assignment.return_to == move.from_
        assert move.assignment.allowed_by == ["national.temporary-assignment/time-bounded-assignment"]
        assert any(f.label == "penugasan_sementara" for f in move.findings)
    # A post short of staff for good keeps its permanent transfer.
    assert any(m.assignment is None and m.to.opd_id == "dinkes" for m in result.moves)
    assert not [m for m in report.baseline.moves if m.assignment is not None]


def test_an_agency_can_forbid_time_bounded_assignments(example, tmp_path):
    forbid = tmp_path / "no-temporary.yaml"
    forbid.write_text(textwrap.dedent("""\
        ruleset:
          id: agency.dinkes-no-temporary
          version: "1"
          title: {id: Tanpa penugasan sementara, en: No time-bounded assignments}
          authority: Dinas Kesehatan
          source: kebijakan Dinkes
          applies_to: {units: [dinkes], position_kinds: []}
          effective_from: 2020-01-01
        rules:
          - id: no-time-bounded-assignment
            title: {id: Tidak ada penugasan sementara, en: No time-bounded assignment}
            scope: candidate
            replaces: national.temporary-assignment/time-bounded-assignment
            when: candidate.position.temporary_workload_hours < 0
            effect: classify
            label: penugasan_sementara
            message: {id: "-", en: "-"}
            legal_basis: kebijakan Dinkes
        """), encoding="utf-8")
    options = RecommendOptions(plan_date=PLAN_DATE, rules=[str(ROOT / "rules"), str(forbid)])
    report = Service().scenarios(example, [load_scenario(SURGE)], options)
    moves = report.scenarios[0].result.moves
    assert any(m.to.position_id == "dinkes-p2p.pelaksana-vaksinasi" for m in moves)
    assert all(m.assignment is None for m in moves)


# --------------------------------------------------------------------------- command line


def test_cli_scenario_md_and_xlsx(surge, tmp_path, capsys):
    data = json.loads(surge.to_json())
    assert data["scenarios"][0]["comparison"]["time_bounded_assignments"] >= 2
    args = ["scenario", str(EXAMPLE), "--scenario", str(SURGE), "--plan-date", "2026-08-03"]
    assert main([*args, "--format", "md", "--out", str(tmp_path / "s.md")]) == 0
    text = (tmp_path / "s.md").read_text(encoding="utf-8")
    assert "vaksinasi-lonjakan" in text and "penugasan sampai 2027-01-31" in text
    assert text == render_markdown(surge, "id")
    assert main([*args, "--format", "xlsx", "--out", str(tmp_path / "a.xlsx")]) == 0
    # The same comparison gives the same workbook bytes, in this process or another run.
    assert (tmp_path / "a.xlsx").read_bytes() == workbook_bytes(xlsx_sheets(surge))
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "a.xlsx")
    assert book.sheetnames == ["Ringkasan", "EJ per OPD", "Mutasi", "Pelatihan"]


def test_cli_scenario_problems_exit_1_with_locations(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: a\nchanges:\n  - scale_volume: 2\n    select: {unit: dinks}\n", encoding="utf-8")
    assert main(["scenario", str(EXAMPLE), "--scenario", str(bad), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:4:5" in err and "changes[0].select" in err and "dinks" in err
    assert main(["scenario", str(EXAMPLE), "--scenario", str(SURGE), "--format", "xlsx"]) == 2
    capsys.readouterr()
    # With --format json a failure is the JSON problem document, every problem located.
    assert main(["scenario", str(EXAMPLE), "--scenario", str(bad), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False and document["exit_code"] == 1
    assert [(p["code"], p["line"], p["column"]) for p in document["problems"]] == [("scenario.unknown_unit", 4, 5)]


def test_scenario_output_is_deterministic(tripled, staffed_example):
    again = Service().scenarios(staffed_example, [load_scenario_text(TRIPLE, "triple.yaml")],
                                RecommendOptions(plan_date=PLAN_DATE))
    assert again.to_json() == tripled.to_json()
    assert canonical_json(again.scenarios[0].comparison) == canonical_json(tripled.scenarios[0].comparison)
