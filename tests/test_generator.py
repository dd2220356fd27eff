"""The Kota Pontianak example generator: determinism, validity, the deliberate imbalances, the committed example."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

import pytest

from mutasi_rules.cli import main
from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.data.facts import elapsed_years
from mutasi_rules.data.generator import (
    CERT_PENDIDIK,
    CERT_STR,
    MIN_EMPLOYEES,
    PROGRAMME_VAKSINASI,
    SURPLUS_OPD,
    TRAINING_VAKSINATOR,
    generate_dataset,
)
from mutasi_rules.data.loading import load_dataset, save_dataset
from mutasi_rules.data.models import (
    Dataset,
    Employee,
    EmployeeStatus,
    JabatanKind,
    Position,
    Predikat,
    UnitKind,
    parse_nip,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pontianak"
HOURS = 1250.0
HEALTH_FIELDS = {"Keperawatan", "Kebidanan", "Kesehatan Masyarakat"}


@pytest.fixture(scope="module")
def small() -> Dataset:
    return generate_dataset(300, seed=7)


@pytest.fixture(scope="module")
def medium() -> Dataset:
    return generate_dataset(2000, seed=11)


def workload_hours(position: Position) -> float:
    assert position.tasks is not None
    return sum(t.volume_per_year * t.norm_minutes / 60 for t in position.tasks)


def bezetting(dataset: Dataset) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for e in dataset.employees:
        counts[e.position_id] += 1
    return counts


def opd_of(dataset: Dataset) -> dict[str, str]:
    parents = {u.id: u.parent_id for u in dataset.units}
    out = {}
    for uid in parents:
        node = uid
        while parents[node] is not None:
            node = parents[node]  # type: ignore[assignment]
        out[uid] = node
    return out


# --------------------------------------------------------------------------- determinism and size


def test_same_arguments_give_identical_json() -> None:
    first = canonical_json(generate_dataset(300, seed=7, as_of=dt.date(2026, 7, 1)))
    second = canonical_json(generate_dataset(300, seed=7, as_of=dt.date(2026, 7, 1)))
    assert first == second


def test_different_seeds_or_dates_differ() -> None:
    base = canonical_json(generate_dataset(300, seed=1))
    assert canonical_json(generate_dataset(300, seed=2)) != base
    assert canonical_json(generate_dataset(300, seed=1, as_of=dt.date(2027, 1, 1))) != base


@pytest.mark.parametrize("employees", [MIN_EMPLOYEES, 301, 1234])
def test_size_is_honoured(employees: int) -> None:
    ds = generate_dataset(employees, seed=3)
    assert len(ds.employees) == employees
    assert len({e.nip for e in ds.employees}) == employees
    assert len({p.id for p in ds.positions}) == len(ds.positions)
    assert len({u.id for u in ds.units}) == len(ds.units)


def test_too_few_employees_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        generate_dataset(MIN_EMPLOYEES - 1)


def test_units_scale_mildly_with_size(small: Dataset, medium: Dataset) -> None:
    assert len(small.units) < len(medium.units) < 4 * len(small.units)


# --------------------------------------------------------------------------- content


def test_city_structure(small: Dataset) -> None:
    units = small.unit_by_id()
    kecamatan = [u for u in small.units if u.kind is UnitKind.KECAMATAN]
    kelurahan = [u for u in small.units if u.kind is UnitKind.KELURAHAN]
    assert len(kecamatan) == 6 and len(kelurahan) == 29
    assert all(units[k.parent_id].kind is UnitKind.KECAMATAN for k in kelurahan)  # type: ignore[index]
    assert {"Kelurahan Pal Lima", "Kelurahan Mariana", "Kelurahan Tengah"} <= {k.name for k in kelurahan}
    for opd in ("setda", "setwan", "inspektorat", "bappeda", "bkpsdm", "bkd", "disdikbud", "dinkes", "rsud",
                "disdukcapil", "dishub", "satpolpp", "dp2kbp3a"):
        assert opd in units and units[opd].parent_id is None
    assert any(u.kind is UnitKind.PUSKESMAS and u.parent_id == "dinkes" for u in small.units)
    assert any(u.kind is UnitKind.SEKOLAH and u.parent_id == "disdikbud" for u in small.units)
    assert all(u.parent_id is None or u.parent_id in units for u in small.units)
    assert {p.unit_id for p in small.positions} <= set(units)


def test_metadata_and_election_calendar() -> None:
    ds = generate_dataset(300, seed=7)
    assert ds.metadata.name == "Kota Pontianak (contoh sintetis)"
    assert ds.metadata.as_of == dt.date(2026, 7, 1)
    assert ds.metadata.effective_hours_per_year == HOURS
    assert ds.metadata.election.candidate_determination is None and ds.metadata.election.inauguration is None
    with_election = generate_dataset(
        300, seed=7, candidate_determination=dt.date(2029, 9, 1), inauguration=dt.date(2025, 2, 20)
    )
    assert with_election.metadata.election.candidate_determination == dt.date(2029, 9, 1)
    assert with_election.metadata.election.inauguration == dt.date(2025, 2, 20)


def test_every_nip_is_valid_and_consistent(medium: Dataset) -> None:
    as_of = medium.metadata.as_of
    positions = medium.position_by_id()
    for e in medium.employees:
        parts = parse_nip(e.nip)
        assert parts.birth_date == e.birth_date, e.nip
        assert parts.gender is e.gender, e.nip
        tmt = dt.date(parts.tmt_cpns_year, parts.tmt_cpns_month, 1)
        assert 18 <= elapsed_years(e.birth_date, tmt) < 36, e.nip
        assert tmt < as_of, e.nip
        age = elapsed_years(e.birth_date, as_of)
        assert 22 <= age < positions[e.position_id].retirement_age, e.nip
        assert tmt <= e.position_start <= as_of, e.nip
        if e.status is EmployeeStatus.CPNS:
            assert elapsed_years(tmt, as_of) < 2, e.nip
        for h in e.position_history:
            assert tmt <= h.start <= h.end < e.position_start, e.nip
        for s in e.sanctions:
            assert tmt <= s.start <= as_of, e.nip


def test_ranks_and_education_fit_their_posts(medium: Dataset) -> None:
    positions = medium.position_by_id()
    for e in medium.employees:
        req = positions[e.position_id].requirements
        if e.rank is not None and e.status is EmployeeStatus.PNS:
            assert req.min_rank is None or e.rank.ordinal >= req.min_rank.ordinal, e.nip
            assert req.max_rank is None or e.rank.ordinal <= req.max_rank.ordinal, e.nip
        assert req.min_education is None or e.education.level.ordinal >= req.min_education.ordinal, e.nip


def test_status_mix_and_variety(medium: Dataset) -> None:
    as_of = medium.metadata.as_of
    n = len(medium.employees)
    positions = medium.position_by_id()
    status = defaultdict(int)
    for e in medium.employees:
        status[e.status] += 1
    assert 0.78 < status[EmployeeStatus.PNS] / n < 0.92
    assert 0.05 < status[EmployeeStatus.PPPK] / n < 0.15
    assert 0.02 < status[EmployeeStatus.CPNS] / n < 0.08
    assert any(e.status is EmployeeStatus.PPPK and e.rank is None for e in medium.employees)
    assert any(any(s.active_on(as_of) for s in e.sanctions) for e in medium.employees)
    assert any(e.under_investigation for e in medium.employees)
    assert any(positions[e.position_id].retirement_age - elapsed_years(e.birth_date, as_of) <= 1
               for e in medium.employees)
    latest = [e.latest_predikat() for e in medium.employees]
    assert latest.count(Predikat.BAIK) > n / 2
    assert Predikat.SANGAT_BAIK in latest
    assert any(p is not None and p.ordinal < Predikat.BAIK.ordinal for p in latest)
    assert any(not t.valid_on(as_of) for e in medium.employees for t in e.trainings)
    assert any(t.expires is not None for e in medium.employees for t in e.trainings)
    assert any(e.preferences.willing_to_move for e in medium.employees)
    assert any(e.position_history for e in medium.employees)
    held = bezetting(medium)
    assert any(p.tasks is None for p in medium.positions)
    assert any(held[p.id] == 0 for p in medium.positions)
    assert {p.kind for p in medium.positions} == set(JabatanKind)


def test_certificates_required_by_profession(small: Dataset) -> None:
    for p in small.positions:
        if p.kind is JabatanKind.FUNGSIONAL and p.name.split()[0] in ("Perawat", "Bidan", "Dokter"):
            assert CERT_STR in p.requirements.certificates, p.id
        if p.name.startswith("Guru"):
            assert CERT_PENDIDIK in p.requirements.certificates, p.id


# --------------------------------------------------------------------------- the imbalances


def test_dinkes_vaccination_positions_are_short(small: Dataset) -> None:
    opd = opd_of(small)
    held = bezetting(small)
    vaccination = [p for p in small.positions if PROGRAMME_VAKSINASI in p.programmes]
    assert vaccination
    assert all(opd[p.unit_id] == "dinkes" for p in vaccination)
    assert any(p.unit_id.startswith("pkm-") for p in vaccination)
    assert all(TRAINING_VAKSINATOR in p.requirements.trainings for p in vaccination)
    needed = sum(workload_hours(p) / HOURS for p in vaccination)
    current = sum(held[p.id] for p in vaccination)
    assert needed > current * 1.25
    for p in vaccination:
        assert held[p.id] > 0
        assert 1.25 <= workload_hours(p) / (held[p.id] * HOURS) <= 1.85, p.id


def test_surplus_units_exist(small: Dataset, medium: Dataset) -> None:
    for ds in (small, medium):
        opd = opd_of(ds)
        held = bezetting(ds)
        totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for p in ds.positions:
            if p.tasks is not None:
                totals[opd[p.unit_id]][0] += workload_hours(p)
                totals[opd[p.unit_id]][1] += held[p.id]
        ej = {o: h / (b * HOURS) for o, (h, b) in totals.items() if b}
        surplus = {o for o, v in ej.items() if v < 0.85}
        assert surplus and surplus <= set(SURPLUS_OPD), ej
        assert ej["dinkes"] > 1.2
        for p in ds.positions:
            if opd[p.unit_id] in SURPLUS_OPD and p.kind is JabatanKind.PELAKSANA and p.tasks is not None:
                assert 0.45 <= workload_hours(p) / (held[p.id] * HOURS) <= 0.85, p.id


def test_surplus_staff_could_fill_the_shortage_after_training(medium: Dataset) -> None:
    as_of = medium.metadata.as_of
    opd = opd_of(medium)
    fields = {f for p in medium.positions if PROGRAMME_VAKSINASI in p.programmes
              for f in p.requirements.education_fields}
    movable = [e for e in medium.employees if opd[e.unit_id] in SURPLUS_OPD and e.education.field in HEALTH_FIELDS]
    assert len(movable) >= 6
    assert {e.education.field for e in movable} <= fields
    untrained = [e for e in movable
                 if not any(t.name == TRAINING_VAKSINATOR and t.valid_on(as_of) for t in e.trainings)]
    assert len(untrained) > len(movable) / 2
    assert any(c.name == CERT_STR and c.valid_on(as_of) for e in movable for c in e.certificates)

    def missing(e: Employee, p: Position) -> set[str]:
        req = p.requirements
        held = {c.name: c.level.ordinal for c in e.competencies}
        gaps = {f"training:{t}" for t in req.trainings
                if not any(x.name == t and x.valid_on(as_of) for x in e.trainings)}
        gaps |= {f"certificate:{c}" for c in req.certificates
                 if not any(x.name == c and x.valid_on(as_of) for x in e.certificates)}
        gaps |= {f"competency:{c.name}" for c in req.competencies if held.get(c.name, 0) < c.min_level.ordinal}
        if e.rank is None or not (req.min_rank.ordinal <= e.rank.ordinal <= req.max_rank.ordinal):  # type: ignore[union-attr]
            gaps.add("rank")
        if e.education.level.ordinal < req.min_education.ordinal or e.education.field not in req.education_fields:  # type: ignore[union-attr]
            gaps.add("education")
        return gaps

    vaccination = [p for p in medium.positions if PROGRAMME_VAKSINASI in p.programmes]
    after_training = [e for e in untrained
                      if any(missing(e, p) == {f"training:{TRAINING_VAKSINATOR}"} for p in vaccination)]
    assert len(after_training) >= len(movable) / 3


# --------------------------------------------------------------------------- files and CLI


def test_round_trip_through_csv(small: Dataset, tmp_path: Path) -> None:
    save_dataset(small, tmp_path / "csv", "csv")
    assert canonical_json(load_dataset(tmp_path / "csv")) == canonical_json(small)


def test_committed_example_equals_a_fresh_generation() -> None:
    committed = load_dataset(EXAMPLE)
    match = re.fullmatch(
        r"mutasi_rules\.generator\.generate_dataset\(employees=(\d+), seed=(-?\d+), as_of=(\d{4}-\d{2}-\d{2})\)",
        committed.metadata.source,
    )
    assert match, committed.metadata.source
    employees, seed, as_of = int(match[1]), int(match[2]), dt.date.fromisoformat(match[3])
    assert (employees, seed, as_of) == (500, 7, dt.date(2026, 7, 1))  # as examples/README.md says
    fresh = generate_dataset(employees, seed, as_of)
    assert canonical_json(committed) == canonical_json(fresh), (
        "examples/pontianak is stale: regenerate it with the command in examples/README.md"
    )
    assert sum(f.stat().st_size for f in EXAMPLE.iterdir()) < 1_000_000


def test_cli_generate_writes_and_summarises(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new" / "pontianak"
    assert main(["generate", "--employees", "200", "--seed", "3", "--as-of", "2026-01-01", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "200 pegawai" in lines[0] and "seed 3" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["pontianak"]  # no staging directory left over
    assert canonical_json(load_dataset(out)) == canonical_json(generate_dataset(200, 3, dt.date(2026, 1, 1)))
    # Writing again over the same directory gives the same dataset.
    assert main(["generate", "--employees", "200", "--seed", "3", "--as-of", "2026-01-01", "--out", str(out)]) == 0
    assert canonical_json(load_dataset(out)) == canonical_json(generate_dataset(200, 3, dt.date(2026, 1, 1)))


def test_cli_generate_json_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--employees", "150", "--format", "json", "--out", str(tmp_path / "j"),
                 "--inauguration", "2025-02-20"]) == 0
    loaded = load_dataset(tmp_path / "j" / "dataset.json")
    assert loaded.metadata.election.inauguration == dt.date(2025, 2, 20)
    assert len(loaded.employees) == 150
    for bad in (["--employees", "10"], ["--as-of", "2026-02-30"], ["--format", "pdf"]):
        assert main(["generate", "--out", str(tmp_path / "x"), *bad]) == 2
    (tmp_path / "file").write_text("not a directory")
    assert main(["generate", "--employees", "150", "--out", str(tmp_path / "file")]) == 2
    assert "bukan folder" in capsys.readouterr().err
