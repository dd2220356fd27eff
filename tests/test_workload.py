"""Workload analysis: hand-computed figures, edge cases, balance, determinism, labels.

The small dataset below is built in the test so every figure can be checked by hand.
Effective hours are 1,250 per person-year unless a test says otherwise.

Positions (workload = sum(volume x minutes / 60)):

  DINKES-KADIS          unit DINKES        500 x 150 min        = 1,250 h   staff 1
  DINKES.P2P-VAK        unit DINKES.P2P    1200 x 60 + 300 x 100 = 1,200 + 500 = 1,700 h   staff 1
  DINKES.P2P-ADM        unit DINKES.P2P    2400 x 25 min        = 1,000 h   staff 2
  DINKES.PKM1-PERAWAT   unit DINKES.PKM1   3125 x 60 min        = 3,125 h   staff 0 (vacancy)
  DINKES.PKM1-BIDAN     unit DINKES.PKM1   tasks unknown                    staff 1
  DISDIK-STAF           unit DISDIK        1000 x 45 min        =   750 h   staff 1
  DISDIK-GURU           unit DISDIK        1100 x 60 min        = 1,100 h   staff 1
  SATPOL-ANGGOTA        unit SATPOL        tasks unknown                    staff 2
  (unit BKPSDM has no positions)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from mutasi_rules.analysis.workload import (
    GradeBand,
    WorkloadCalculator,
    WorkloadSettings,
    analyse_workload,
    balance_figure,
    balance_of,
    compute_positions,
    compute_units,
    figures_report,
)
from mutasi_rules.cli import EXIT_PROBLEMS, EXIT_USAGE, main
from mutasi_rules.cli.workload import positions_in, render_csv, render_table, write_chart
from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.data.models import Dataset
from mutasi_rules.explain.charts import chart_units
from mutasi_rules.problems import InputError

AS_OF = dt.date(2025, 1, 1)


def _task(name: str, volume: float, minutes: float) -> dict[str, Any]:
    return {"name": name, "volume_per_year": volume, "norm_minutes": minutes}


def _position(pid: str, unit: str, tasks: list[dict[str, Any]] | None, kind: str = "pelaksana",
              level: str | None = None) -> dict[str, Any]:
    return {"id": pid, "name": pid.title(), "kind": kind, "level": level, "kelas": 7, "unit_id": unit,
            "tasks": tasks}


def _employee(serial: int, position_id: str, unit_id: str) -> dict[str, Any]:
    return {
        "nip": f"19850312201001100{serial}" if serial < 10 else f"1985031220100110{serial:02d}",
        "name": f"Pegawai {serial}",
        "status": "PNS",
        "gender": "L",
        "birth_date": "1985-03-12",
        "rank": "III/a",
        "position_id": position_id,
        "unit_id": unit_id,
        "position_start": "2020-01-01",
        "education": {"level": "S1"},
    }


BASE_POSITIONS: list[dict[str, Any]] = [
    _position("DINKES-KADIS", "DINKES", [_task("memimpin", 500, 150)], "jpt", "pratama"),
    _position("DINKES.P2P-VAK", "DINKES.P2P",
              [_task("vaksinasi", 1200, 60), _task("laporan", 300, 100)], "fungsional", "ahli_pertama"),
    _position("DINKES.P2P-ADM", "DINKES.P2P", [_task("surat", 2400, 25)]),
    _position("DINKES.PKM1-PERAWAT", "DINKES.PKM1", [_task("asuhan", 3125, 60)], "fungsional", "terampil"),
    _position("DINKES.PKM1-BIDAN", "DINKES.PKM1", None, "fungsional", "terampil"),
    _position("DISDIK-STAF", "DISDIK", [_task("arsip", 1000, 45)]),
    _position("DISDIK-GURU", "DISDIK", [_task("mengajar", 1100, 60)], "fungsional", "ahli_pertama"),
    _position("SATPOL-ANGGOTA", "SATPOL", None),
]

BASE_STAFF = {
    "DINKES-KADIS": 1,
    "DINKES.P2P-VAK": 1,
    "DINKES.P2P-ADM": 2,
    "DINKES.PKM1-PERAWAT": 0,
    "DINKES.PKM1-BIDAN": 1,
    "DISDIK-STAF": 1,
    "DISDIK-GURU": 1,
    "SATPOL-ANGGOTA": 2,
}


def make_dataset(positions: list[dict[str, Any]] | None = None, staff: dict[str, int] | None = None,
                 hours: float | None = None) -> Dataset:
    positions = BASE_POSITIONS if positions is None else positions
    staff = BASE_STAFF if staff is None else staff
    unit_of = {p["id"]: p["unit_id"] for p in positions}
    employees = []
    serial = 1
    for pid in sorted(staff):
        for _ in range(staff[pid]):
            employees.append(_employee(serial, pid, unit_of[pid]))
            serial += 1
    metadata: dict[str, Any] = {"name": "uji", "as_of": AS_OF.isoformat()}
    if hours is not None:
        metadata["effective_hours_per_year"] = hours
    return Dataset.model_validate({
        "metadata": metadata,
        "units": [
            {"id": "BKPSDM", "name": "BKPSDM", "kind": "badan"},
            {"id": "DINKES", "name": "Dinas Kesehatan", "kind": "dinas"},
            {"id": "DINKES.P2P", "name": "Bidang P2P", "kind": "bidang", "parent_id": "DINKES"},
            {"id": "DINKES.PKM1", "name": "Puskesmas 1", "kind": "puskesmas", "parent_id": "DINKES"},
            {"id": "DISDIK", "name": "Dinas Pendidikan", "kind": "dinas"},
            {"id": "SATPOL", "name": "Satpol PP", "kind": "satpol_pp"},
        ],
        "positions": positions,
        "employees": employees,
    })


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return make_dataset()


def _by_id(items: list[Any], attr: str) -> dict[str, Any]:
    return {getattr(i, attr): i for i in items}


# --------------------------------------------------------------------------- positions


def test_position_figures_by_hand(dataset: Dataset) -> None:
    pos = _by_id(compute_positions(dataset), "position_id")
    assert list(pos) == sorted(pos)  # sorted by position id

    kadis = pos["DINKES-KADIS"]
    # 500 x 150 / 60 = 1250 h; needed 1250/1250 = 1.0; EJ 1250/(1 x 1250) = 1.00 -> B (A needs > 1.00)
    assert (kadis.workload_hours, kadis.staff_needed, kadis.staff_needed_rounded) == (1250.0, 1.0, 1)
    assert (kadis.ej, kadis.ej_grade, kadis.gap, kadis.gap_raw) == (1.0, "B", 0, 0.0)

    vak = pos["DINKES.P2P-VAK"]
    # 1200 x 60/60 + 300 x 100/60 = 1200 + 500 = 1700 h; needed 1.36 -> half_up 1; EJ 1.36 -> A
    assert (vak.workload_hours, vak.staff_needed, vak.staff_needed_rounded) == (1700.0, 1.36, 1)
    assert (vak.ej, vak.ej_grade, vak.gap, vak.gap_raw, vak.task_count) == (1.36, "A", 0, 0.36, 2)

    adm = pos["DINKES.P2P-ADM"]
    # 2400 x 25/60 = 1000 h; needed 0.8 -> 1; staff 2: EJ 1000/2500 = 0.4 -> E; gap 1 - 2 = -1
    assert (adm.workload_hours, adm.staff_needed, adm.staff_needed_rounded, adm.bezetting) == (1000.0, 0.8, 1, 2)
    assert (adm.ej, adm.ej_grade, adm.gap, adm.gap_raw) == (0.4, "E", -1, -1.2)

    staf, guru = pos["DISDIK-STAF"], pos["DISDIK-GURU"]
    # 1000 x 45/60 = 750 h -> EJ 0.6 -> D; 1100 h -> EJ 0.88 -> C
    assert (staf.workload_hours, staf.ej, staf.ej_grade) == (750.0, 0.6, "D")
    assert (guru.workload_hours, guru.ej, guru.ej_grade) == (1100.0, 0.88, "C")


def test_vacancy_has_no_ej_and_full_gap(dataset: Dataset) -> None:
    perawat = _by_id(compute_positions(dataset), "position_id")["DINKES.PKM1-PERAWAT"]
    # 3125 x 60/60 = 3125 h; needed 2.5 -> half_up 3; nobody holds it: EJ unknown, gap 3 - 0 = 3
    assert perawat.vacancy and perawat.bezetting == 0
    assert (perawat.workload_hours, perawat.staff_needed, perawat.staff_needed_rounded) == (3125.0, 2.5, 3)
    assert (perawat.ej, perawat.ej_grade, perawat.gap, perawat.gap_raw) == (None, None, 3, 2.5)


def test_unknown_workload_is_none_not_zero(dataset: Dataset) -> None:
    bidan = _by_id(compute_positions(dataset), "position_id")["DINKES.PKM1-BIDAN"]
    assert not bidan.has_workload_data and bidan.bezetting == 1 and not bidan.vacancy
    assert bidan.task_count == 0
    for field in ("workload_hours", "staff_needed", "staff_needed_rounded", "gap", "gap_raw", "ej", "ej_grade"):
        assert getattr(bidan, field) is None, field


def test_empty_task_list_is_zero_workload() -> None:
    # tasks == [] is known workload of zero hours (unlike tasks None): 0 needed, minimum-one does not apply.
    positions = [_position("A-1", "DISDIK", [])]
    ds = make_dataset(positions, {"A-1": 1})
    (p,) = compute_positions(ds)
    assert (p.workload_hours, p.staff_needed, p.staff_needed_rounded, p.gap, p.ej, p.ej_grade) == (
        0.0, 0.0, 0, -1, 0.0, "E")


@pytest.mark.parametrize(
    ("rounding", "minimum_one", "perawat", "adm"),
    [
        # perawat needs 2.5, adm needs 0.8
        ("half_up", True, 3, 1),  # 2.5 -> 3 (>= .5 rounds up); 0.8 -> 1
        ("ceil", True, 3, 1),
        ("floor", True, 2, 1),  # 0.8 floors to 0, raised to 1: the position has work
        ("floor", False, 2, 0),
        ("none", True, 2.5, 1),  # 0.8 kept, raised to the minimum of 1
        ("none", False, 2.5, 0.8),
    ],
)
def test_rounding_modes(dataset: Dataset, rounding: str, minimum_one: bool, perawat: float, adm: float) -> None:
    s = WorkloadSettings(rounding=rounding, minimum_one=minimum_one)  # type: ignore[arg-type]
    pos = _by_id(compute_positions(dataset, s), "position_id")
    assert pos["DINKES.PKM1-PERAWAT"].staff_needed_rounded == perawat
    assert pos["DINKES.P2P-ADM"].staff_needed_rounded == adm
    assert pos["DINKES.P2P-ADM"].gap == pytest.approx(adm - 2)
    assert pos["DINKES.P2P-ADM"].staff_needed == 0.8  # raw value never changes
    # whole persons are integers; "none" keeps floats throughout (JSON 1.0, not 1)
    expected_type = float if rounding == "none" else int
    assert type(pos["DINKES.P2P-ADM"].staff_needed_rounded) is expected_type


def test_round_staff_is_not_fooled_by_float_noise() -> None:
    s = WorkloadSettings()
    assert s.round_staff(2.4999999999999996) == 3  # an exact 2.5 after float arithmetic
    assert WorkloadSettings(rounding="ceil").round_staff(2.0000000000000004) == 2
    assert s.round_staff(2.49) == 2
    assert s.round_staff(0.0) == 0
    assert s.round_staff(0.01) == 1


@pytest.mark.parametrize(
    ("ej", "grade"),
    [(1.0001, "A"), (1.0, "B"), (0.9, "B"), (0.8999, "C"), (0.7, "C"), (0.6999, "D"), (0.5, "D"),
     (0.4999, "E"), (0.0, "E"), (None, None)],
)
def test_grade_boundaries(ej: float | None, grade: str | None) -> None:
    assert WorkloadSettings().grade(ej) == grade


def test_grades_are_configurable() -> None:
    s = WorkloadSettings(grades=[GradeBand(grade="tinggi", minimum=1.0, inclusive=True)], lowest_grade="rendah")
    assert (s.grade(1.0), s.grade(0.99)) == ("tinggi", "rendah")
    with pytest.raises(ValueError, match="highest minimum down"):
        WorkloadSettings(grades=[GradeBand(grade="X", minimum=0.5), GradeBand(grade="Y", minimum=0.9)])
    with pytest.raises(ValueError, match="band_low"):
        WorkloadSettings(band_low=1.2, band_high=1.1)


def test_effective_hours_setting_overrides_dataset() -> None:
    ds = make_dataset(hours=1000)
    # dataset says 1000 h: kadis needs 1250/1000 = 1.25, EJ 1.25 -> A
    kadis = _by_id(compute_positions(ds), "position_id")["DINKES-KADIS"]
    assert (kadis.staff_needed, kadis.ej, kadis.ej_grade) == (1.25, 1.25, "A")
    # setting says 1300 h (older guidance): 1250/1300 = 0.961538... -> 0.9615, grade B
    kadis = _by_id(compute_positions(ds, WorkloadSettings(effective_hours_per_year=1300)), "position_id")[
        "DINKES-KADIS"]
    assert (kadis.staff_needed, kadis.ej, kadis.ej_grade) == (0.9615, 0.9615, "B")
    # default metadata value is 1250
    assert WorkloadCalculator(make_dataset()).hours == 1250.0


# --------------------------------------------------------------------------- units


def test_unit_rollup_over_sub_units(dataset: Dataset) -> None:
    units = _by_id(compute_units(dataset), "unit_id")
    assert list(units) == sorted(units)

    p2p = units["DINKES.P2P"]
    # VAK 1700 + ADM 1000 = 2700 h; needed 2.16; rounded 1 + 1 = 2; staff 1 + 2 = 3
    # EJ 2700 / (3 x 1250) = 0.72 -> C; gap 2 - 3 = -1; raw 2.16 - 3 = -0.84
    assert (p2p.workload_hours, p2p.staff_needed, p2p.staff_needed_rounded, p2p.bezetting) == (2700.0, 2.16, 2, 3)
    assert (p2p.ej, p2p.ej_grade, p2p.gap, p2p.gap_raw, p2p.is_opd) == (0.72, "C", -1, -0.84, False)

    dinkes = units["DINKES"]
    # KADIS 1250 + VAK 1700 + ADM 1000 + PERAWAT 3125 = 7075 h (BIDAN unknown, excluded)
    # needed 7075/1250 = 5.66; rounded 1 + 1 + 1 + 3 = 6; staff 1 + 1 + 2 + 0 = 4 with data, 5 in all
    # EJ 7075 / (4 x 1250) = 1.415 -> A; gap 6 - 4 = 2; raw 5.66 - 4 = 1.66
    assert dinkes.is_opd and dinkes.position_count == 5
    assert (dinkes.positions_with_data, dinkes.positions_without_data) == (4, 1)
    assert dinkes.unknown_position_ids == ["DINKES.PKM1-BIDAN"]
    assert (dinkes.bezetting, dinkes.bezetting_with_data) == (5, 4)
    assert (dinkes.workload_hours, dinkes.staff_needed, dinkes.staff_needed_rounded) == (7075.0, 5.66, 6)
    assert (dinkes.ej, dinkes.ej_grade, dinkes.gap, dinkes.gap_raw) == (1.415, "A", 2, 1.66)

    disdik = units["DISDIK"]
    # 750 + 1100 = 1850 h; needed 1.48; rounded 1 + 1 = 2; EJ 1850/2500 = 0.74 -> C
    assert (disdik.workload_hours, disdik.staff_needed_rounded, disdik.ej, disdik.ej_grade) == (1850.0, 2, 0.74, "C")


def test_unit_with_known_work_but_no_staff_in_it_is_a_vacancy(dataset: Dataset) -> None:
    pkm = _by_id(compute_units(dataset), "unit_id")["DINKES.PKM1"]
    # PERAWAT 3125 h with 0 staff; BIDAN unknown with 1 staff: EJ cannot be computed
    assert pkm.vacancy and (pkm.bezetting, pkm.bezetting_with_data) == (1, 0)
    assert (pkm.workload_hours, pkm.staff_needed_rounded, pkm.gap, pkm.ej) == (3125.0, 3, 3, None)


def test_unit_without_positions_and_unit_with_only_unknown(dataset: Dataset) -> None:
    units = _by_id(compute_units(dataset), "unit_id")
    empty = units["BKPSDM"]
    assert (empty.position_count, empty.bezetting, empty.workload_hours, empty.ej, empty.gap) == (
        0, 0, None, None, None)
    assert not empty.vacancy
    satpol = units["SATPOL"]
    assert (satpol.position_count, satpol.positions_without_data, satpol.bezetting) == (1, 1, 2)
    assert (satpol.workload_hours, satpol.ej, satpol.unknown_position_ids) == (None, None, ["SATPOL-ANGGOTA"])


# --------------------------------------------------------------------------- balance


def test_balance_before_and_after_a_plan(dataset: Dataset) -> None:
    calc = WorkloadCalculator(dataset)
    before = calc.balance()
    # OPDs with an EJ: DINKES 1.415, DISDIK 0.74 (BKPSDM: no positions, SATPOL: unknown)
    # mean 1.0775; population sd = |1.415 - 0.74| / 2 = 0.3375; both outside [0.90, 1.10]
    assert before.unit_ids == ["DINKES", "DISDIK"] and before.units_excluded == ["BKPSDM", "SATPOL"]
    assert (before.ej_mean, before.ej_std, before.ej_min, before.ej_max) == (1.0775, 0.3375, 0.74, 1.415)
    assert (before.ej_min_unit, before.ej_max_unit) == ("DISDIK", "DINKES")
    assert before.outside_band == ["DINKES", "DISDIK"] and before.outside_band_share == 1.0

    # Move one person from DISDIK-STAF to the vacant DINKES.PKM1-PERAWAT:
    # DINKES 7075 / (5 x 1250) = 1.132; DISDIK 1850 / (1 x 1250) = 1.48
    # mean 1.306; sd (1.48 - 1.132) / 2 = 0.174: more even, though both still outside the band
    delta = {"DISDIK-STAF": -1, "DINKES.PKM1-PERAWAT": +1}
    after = calc.balance(delta)
    assert (after.ej_mean, after.ej_std, after.ej_min, after.ej_max) == (1.306, 0.174, 1.132, 1.48)
    assert after.ej_std < before.ej_std
    assert after == balance_figure(dataset, bezetting_delta=delta)
    # the dataset itself is untouched
    assert calc.balance() == before

    # Two nurses hired into DINKES instead: 7075 / (6 x 1250) = 0.943333 -> inside the band
    hired = calc.balance({"DINKES.PKM1-PERAWAT": 2})
    assert hired.outside_band == ["DISDIK"] and hired.outside_band_share == 0.5


def test_balance_delta_errors_name_every_bad_entry(dataset: Dataset) -> None:
    calc = WorkloadCalculator(dataset)
    with pytest.raises(ValueError, match="NOPE") as info:
        calc.balance({"NOPE": 1, "DISDIK-STAF": -2})
    assert "'NOPE'" in str(info.value) and "'DISDIK-STAF'" in str(info.value)


def test_balance_with_no_measurable_opd() -> None:
    ds = make_dataset([_position("S-1", "SATPOL", None)], {"S-1": 1})
    b = balance_figure(ds)
    assert b.units_considered == 0 and b.ej_std is None and b.outside_band_share is None


@hyp_settings(max_examples=40, deadline=None)
@given(
    volume=st.floats(min_value=0, max_value=1e5, allow_nan=False),
    minutes=st.floats(min_value=0, max_value=600, allow_nan=False),
    staff=st.integers(min_value=1, max_value=30),
    added=st.integers(min_value=0, max_value=30),
)
def test_adding_staff_never_increases_ej(volume: float, minutes: float, staff: int, added: int) -> None:
    ds = make_dataset([_position("X-1", "DISDIK", [_task("t", volume, minutes)])], {"X-1": staff})
    calc = WorkloadCalculator(ds)
    (before,) = calc.positions()
    (after,) = calc.positions({"X-1": added})
    assert before.ej is not None and after.ej is not None
    assert after.ej <= before.ej
    unit_before = _by_id(calc.units(), "unit_id")["DISDIK"]
    unit_after = _by_id(calc.units({"X-1": added}), "unit_id")["DISDIK"]
    assert unit_after.ej is not None and unit_before.ej is not None and unit_after.ej <= unit_before.ej


@hyp_settings(max_examples=40, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(sorted(BASE_STAFF)), st.integers(min_value=0, max_value=4)))
def test_fast_balance_equals_balance_of_the_full_unit_figures(changes: dict[str, int]) -> None:
    # The planner's fast path must give exactly the figure the full recomputation gives.
    calc = WorkloadCalculator(make_dataset())
    delta = {pid: change - BASE_STAFF[pid] // 2 for pid, change in changes.items()}  # some moves out
    assert calc.balance(delta) == balance_of(calc.units(delta), calc.settings)


# --------------------------------------------------------------------------- determinism


def test_figures_json_is_deterministic(dataset: Dataset) -> None:
    a = canonical_json([p.model_dump(mode="json") for p in compute_positions(dataset)], indent=2)
    b = canonical_json([p.model_dump(mode="json") for p in compute_positions(make_dataset())], indent=2)
    assert a == b
    assert "-0.0" not in a


def test_figures_report_json_is_byte_identical(dataset: Dataset) -> None:
    a = canonical_json(figures_report(dataset), indent=2)
    b = canonical_json(figures_report(make_dataset()), indent=2)
    assert a == b
    data = json.loads(a)
    assert data["format"] == "mutasi-rules.workload/1" and data["effective_hours_per_year"] == 1250.0
    assert [u["unit_id"] for u in data["units"]] == sorted(u["unit_id"] for u in data["units"])
    assert data["warnings"] == ["2 of 8 positions have no workload data; unit sums exclude them"]


def test_report_rejects_position_in_unknown_unit() -> None:
    ds = make_dataset([_position("X-1", "NOWHERE", None)], {})
    with pytest.raises(InputError) as info:
        figures_report(ds)
    assert "NOWHERE" in str(info.value) and "unit_id" in str(info.value)


# --------------------------------------------------------------------------- CLI renderers and chart


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_chart_is_written_non_empty_and_deterministic(dataset: Dataset, tmp_path: Path, suffix: str) -> None:
    report = figures_report(dataset)
    first, second = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
    write_chart(report, first)
    write_chart(report, second)
    data = first.read_bytes()
    assert len(data) > 1000 and data == second.read_bytes()
    if suffix == "png":
        assert data.startswith(b"\x89PNG")
    else:
        assert data.lstrip().startswith(b"<?xml") and b"<dc:date>" not in data
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write leaves no temporary file


def test_chart_units_of_a_unit_are_its_children(dataset: Dataset) -> None:
    report = figures_report(dataset)
    assert [u.unit_id for u in chart_units(report, None)] == ["BKPSDM", "DINKES", "DISDIK", "SATPOL"]
    assert [u.unit_id for u in chart_units(report, "DINKES")] == ["DINKES.P2P", "DINKES.PKM1"]
    assert [u.unit_id for u in chart_units(report, "DISDIK")] == ["DISDIK"]


def test_csv_has_one_row_per_position_with_empty_unknowns(dataset: Dataset) -> None:
    report = figures_report(dataset)
    rows = list(csv.DictReader(io.StringIO(render_csv(positions_in(report, "DINKES")))))
    assert [r["position_id"] for r in rows] == [
        "DINKES-KADIS", "DINKES.P2P-ADM", "DINKES.P2P-VAK", "DINKES.PKM1-BIDAN", "DINKES.PKM1-PERAWAT"]
    bidan = rows[3]
    assert (bidan["has_workload_data"], bidan["workload_hours"], bidan["ej"], bidan["bezetting"]) == (
        "false", "", "", "1")
    assert (rows[2]["staff_needed"], rows[2]["staff_needed_rounded"], rows[2]["ej"]) == ("1.36", "1", "1.36")


def test_table_shows_opd_balance_and_unit_positions(dataset: Dataset) -> None:
    text = render_table(figures_report(dataset), "DINKES.P2P", lang="en")
    assert "DISDIK" in text and "spread (sd) 0.3375" in text
    assert "DINKES.P2P-VAK" in text and "DISDIK-GURU" not in text


def _write_dataset(ds: Dataset, path: Path) -> Path:
    path.write_text(canonical_json(ds, indent=2), encoding="utf-8")
    return path


def test_cli_usage_and_input_errors(dataset: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write_dataset(dataset, tmp_path / "ds.json")
    assert main(["workload", str(good), "--chart", str(tmp_path / "c.gif")]) == EXIT_USAGE
    assert ".png atau .svg" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"metadata": {"name": "x", "as_of": "2025-13-01"}, "units": [], "positions": [], '
                   '"employees": []}', encoding="utf-8")
    assert main(["workload", str(bad)]) == EXIT_PROBLEMS
    assert "as_of" in capsys.readouterr().err
    broken_rules = tmp_path / "r.yaml"
    broken_rules.write_text("ruleset: {id: x}\n", encoding="utf-8")
    assert main(["workload", str(good), "--rules", str(broken_rules)]) == EXIT_PROBLEMS
    assert "r.yaml" in capsys.readouterr().err


# --------------------------------------------------------------------------- labels from the real rules

@pytest.fixture(scope="module")
def national_rules() -> list[Any]:
    from mutasi_rules.rules.rulesets import default_rules_dir, load_rulesets

    return load_rulesets([default_rules_dir()])


def test_labels_come_from_the_staffing_norm_rules(dataset: Dataset, national_rules: list[Any]) -> None:
    report = analyse_workload(dataset, national_rules)
    labels = {p.position_id: p.labels for p in report.positions}
    assert labels == {
        "DINKES-KADIS": ["seimbang"],  # EJ 1.00 in [0.90, 1.10]
        "DINKES.P2P-ADM": ["kelebihan"],  # EJ 0.40 < 0.90
        "DINKES.P2P-VAK": ["kekurangan"],  # EJ 1.36 > 1.10
        "DINKES.PKM1-BIDAN": ["tidak_diketahui"],  # no task data
        "DINKES.PKM1-PERAWAT": ["kekurangan"],  # vacant, needs 2.5
        "DISDIK-GURU": ["kelebihan"],  # EJ 0.88
        "DISDIK-STAF": ["kelebihan"],  # EJ 0.60
        "SATPOL-ANGGOTA": ["tidak_diketahui"],
    }
    assert {u.unit_id: u.labels for u in report.units} == {
        "BKPSDM": ["tidak_diketahui"],  # no positions at all
        "DINKES": ["kekurangan"],  # EJ 1.415
        "DINKES.P2P": ["kelebihan"],  # EJ 0.72
        "DINKES.PKM1": ["kekurangan"],  # known work (3,125 h), nobody in those positions
        "DISDIK": ["kelebihan"],  # EJ 0.74
        "SATPOL": ["tidak_diketahui"],
    }
    vak = report.position("DINKES.P2P-VAK")
    assert vak is not None
    (finding,) = vak.findings
    assert (finding.ruleset_id, finding.rule_id, finding.effect) == (
        "national.staffing-norms", "position-kekurangan", "classify")
    assert finding.facts_read == {"position.ej": 1.36}
    # the message reads the raw need (1.36 -> "1.4"), consistent with the overload label
    assert "1.4" in finding.message.en and "1 in post" in finding.message.en
    assert "1,4" in finding.message.id  # Indonesian decimal comma
    assert [r.id for r in report.rulesets] == sorted(r.id for r in national_rules)
    assert not any("not loaded" in w for w in report.warnings)


def test_labels_follow_a_bezetting_delta_and_the_date(dataset: Dataset, national_rules: list[Any]) -> None:
    # Three nurses for PERAWAT: EJ 3125 / (3 x 1250) = 0.8333 -> kelebihan
    after = analyse_workload(dataset, national_rules, bezetting_delta={"DINKES.PKM1-PERAWAT": 3})
    perawat = after.position("DINKES.PKM1-PERAWAT")
    assert perawat is not None and (perawat.ej, perawat.labels) == (0.8333, ["kelebihan"])
    # Before national.staffing-norms took effect (2020-01-01) nothing labels the figures.
    early = analyse_workload(dataset, national_rules, as_of=dt.date(2019, 6, 1))
    assert early.as_of == dt.date(2019, 6, 1) and all(not p.labels for p in early.positions)


def test_agency_rules_add_labels_and_missing_norms_are_reported(
    dataset: Dataset, national_rules: list[Any], tmp_path: Path
) -> None:
    from mutasi_rules.rules.rulesets import load_rulesets

    agency = tmp_path / "agency.yaml"
    agency.write_text(
        """ruleset:
  id: pontianak.prioritas
  version: "1"
  title: {id: Prioritas, en: Priority}
  authority: BKPSDM Kota Pontianak
  source: uji
  effective_from: 2020-01-01
rules:
  - id: prioritas
    title: {id: Prioritas, en: Priority}
    scope: position
    when: position.ej > 1.3
    effect: classify
    label: prioritas
    message: {id: "EJ {position.ej:.2f}", en: "EJ {position.ej:.2f}"}
    legal_basis: uji
""",
        encoding="utf-8",
    )
    extra = load_rulesets([agency])
    both = analyse_workload(dataset, [*national_rules, *extra])
    vak = both.position("DINKES.P2P-VAK")
    assert vak is not None and vak.labels == ["kekurangan", "prioritas"]
    alone = analyse_workload(dataset, extra)
    assert any("national.staffing-norms is not loaded" in w for w in alone.warnings)
    kadis = alone.position("DINKES-KADIS")
    assert kadis is not None and kadis.labels == []


def test_cli_json_csv_chart_end_to_end(dataset: Dataset, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_dataset(dataset, tmp_path / "ds.json")
    outs = []
    for name in ("a.json", "b.json"):
        assert main(["workload", str(path), "--format", "json", "--out", str(tmp_path / name)]) == 0
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1]  # byte-identical runs
    data = json.loads(outs[0])
    assert data["balance"]["ej_std"] == 0.3375
    assert {u["unit_id"]: u["labels"] for u in data["units"]}["DINKES"] == ["kekurangan"]

    assert main(["workload", str(path), "--format", "csv", "--unit", "DISDIK", "--effective-hours", "1000",
                 "--chart", str(tmp_path / "ej.svg")]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    # 1000 h a year: STAF 750/1000 = 0.75, GURU 1100/1000 = 1.1 (in the band)
    assert [(r["position_id"], r["ej"], r["labels"]) for r in rows] == [
        ("DISDIK-GURU", "1.1", "seimbang"), ("DISDIK-STAF", "0.75", "kelebihan")]
    assert (tmp_path / "ej.svg").stat().st_size > 1000

    assert main(["workload", str(path), "--unit", "DINKES"]) == 0
    table = capsys.readouterr().out
    assert "kekurangan" in table and "DINKES.PKM1-PERAWAT" in table
    assert main(["workload", str(path), "--unit", "NOPE"]) == EXIT_USAGE


@given(st.floats(0, 3, allow_nan=False), st.sampled_from([2, 3]))
def test_an_ej_shown_never_reads_as_the_neighbouring_grade_or_band(ej: float, places: int) -> None:
    settings = WorkloadSettings()
    shown = settings.ej_shown(ej, places)
    assert settings.grade(shown) == settings.grade(ej)
    assert (shown < settings.band_low) == (ej < settings.band_low)
    assert (shown > settings.band_high) == (ej > settings.band_high)
    assert abs(shown - ej) < 10 ** -places + 1e-12


def test_an_ej_just_above_an_edge_is_shown_above_it() -> None:
    settings = WorkloadSettings()
    assert settings.ej_shown(1.004) == 1.01 and settings.grade(1.004) == "A"
    assert settings.ej_shown(0.8996) == 0.89 and settings.ej_shown(1.1004) == 1.11
    assert settings.ej_shown(0.95) == 0.95 and settings.ej_shown(1.5) == 1.5
