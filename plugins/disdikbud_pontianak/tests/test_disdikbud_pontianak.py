"""The Disdikbud Pontianak plugin on its own: teacher posts, rules, plan constraints."""

from __future__ import annotations

import datetime as dt

import mutasi_rules_disdikbud_pontianak as disdikbud
import pytest

from mutasi_rules.data.models import Dataset
from mutasi_rules.plugins import PluginError, PluginManager, PluginSettings

AS_OF = dt.date(2026, 1, 1)
NAME = disdikbud.PLUGIN_NAME


def employee(nip: str, position: str, unit: str) -> dict:
    birth = f"{nip[0:4]}-{nip[4:6]}-{nip[6:8]}"
    return {"nip": nip, "name": nip[-3:], "status": "PNS", "gender": "L" if nip[14] == "1" else "P",
            "birth_date": birth, "rank": "III/a", "position_id": position, "unit_id": unit,
            "position_start": "2018-01-01", "education": {"level": "S1", "field": "Pendidikan"}}


def dataset(teachers_sd1: int = 3) -> Dataset:
    staff = [employee(f"19900101201503100{i}", "guru-sd1", "sd-1") for i in range(1, teachers_sd1 + 1)]
    staff += [employee(f"19910101201503200{i}", "guru-sd2", "sd-2") for i in range(1, 9)]
    return Dataset.model_validate(
        {
            "metadata": {"name": "disdikbud", "as_of": AS_OF},
            "units": [
                {"id": "disdikbud", "name": "Dinas Pendidikan dan Kebudayaan", "kind": "dinas"},
                {"id": "sd-1", "name": "SD Negeri 1", "kind": "sekolah", "parent_id": "disdikbud"},
                {"id": "sd-2", "name": "SD Negeri 2", "kind": "sekolah", "parent_id": "disdikbud"},
                {"id": "sd-3", "name": "SD Negeri 3", "kind": "sekolah", "parent_id": "disdikbud"},
                {"id": "other", "name": "Kantor Lain", "kind": "kantor"},
                {"id": "sekolah-lain", "name": "Sekolah di luar Disdikbud", "kind": "sekolah", "parent_id": "other"},
            ],
            "positions": [
                {"id": "guru-sd1", "name": "Guru Kelas", "kind": "fungsional", "level": "ahli_pertama", "kelas": 8,
                 "unit_id": "sd-1"},
                {"id": "tu-sd1", "name": "Pengelola Tata Usaha", "kind": "pelaksana", "kelas": 5, "unit_id": "sd-1"},
                {"id": "guru-sd2", "name": "GURU Mata Pelajaran", "kind": "fungsional", "level": "ahli_muda",
                 "kelas": 9, "unit_id": "sd-2"},
                {"id": "tu-sd3", "name": "Pengelola Tata Usaha", "kind": "pelaksana", "kelas": 5, "unit_id": "sd-3"},
                {"id": "guru-lain", "name": "Guru Kelas", "kind": "fungsional", "level": "ahli_pertama", "kelas": 8,
                 "unit_id": "sekolah-lain"},
            ],
            "employees": staff,
        }
    )


def manager(**options: object) -> PluginManager:
    settings = PluginSettings(entry_points=False, options={NAME: options} if options else {})
    m = PluginManager(settings, environ={})
    m.register(disdikbud, NAME, version=disdikbud.__version__)
    return m


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Guru Kelas", True), ("GURU Mata Pelajaran", True), ("Guru", True), ("Pengelola Tata Usaha", False),
     ("Pengawas Sekolah", False), ("Kepala Sekolah", False)],
)
def test_teacher_posts(name, expected):
    assert disdikbud.is_teacher_post(name) is expected


def test_positions_are_enriched_with_guru():
    m = manager()
    data = dataset()
    positions = {p.id: p for p in data.positions}
    assert m.enrich("position", "guru-sd1", positions["guru-sd1"], None, data, AS_OF) == {"guru": True}
    assert m.enrich("position", "tu-sd1", positions["tu-sd1"], None, data, AS_OF) == {"guru": False}
    assert m.enrich("employee", "x", data.employees[0], None, data, AS_OF) == {}


def test_rule_set_loads_with_its_attribute():
    [loaded] = manager().rulesets()
    assert loaded.ruleset.applies_to.units == ["disdikbud"]
    rules = {r.id: r for r in loaded.rules}
    assert rules["guru-sertifikat-pendidik-dalam-jabatan"].training == "Sertifikat Pendidik"
    assert rules["non-guru-tanpa-sertifikat-pendidik"].effect.value == "block"


def test_each_school_keeps_its_teachers():
    constraints = {c.unit_id: c for c in manager().plan_constraints(dataset(teachers_sd1=3), AS_OF)}
    # sd-3 has no teacher post; the school outside Disdikbud is not this plugin's business.
    assert sorted(constraints) == ["sd-1", "sd-2"]
    assert constraints["sd-1"].min_staff == 3  # below the default 6: keep what it has
    assert constraints["sd-2"].min_staff == 6
    assert constraints["sd-1"].positions(dataset()) == ["guru-sd1"]
    # The plugin counts teachers the way the constraint selects them.
    assert constraints["sd-1"].current_staff(dataset(teachers_sd1=3)) == 3
    assert constraints["sd-2"].reason.id == "SD Negeri 2 harus tetap memiliki sekurang-kurangnya 6 guru setelah mutasi."
    assert all(c.source == f"plugin:{NAME}=={disdikbud.__version__}" for c in constraints.values())

    constraints = {c.unit_id: c for c in manager(min_teachers_per_school=2).plan_constraints(dataset(), AS_OF)}
    assert (constraints["sd-1"].min_staff, constraints["sd-2"].min_staff) == (2, 2)


def test_bad_option_is_a_plugin_error():
    with pytest.raises(PluginError, match="min_teachers_per_school must be a whole number") as err:
        manager(min_teachers_per_school=-1).plan_constraints(dataset(), AS_OF)
    assert err.value.plugin == NAME


def test_notice_contact():
    m = manager()
    assert "Pendidikan dan Kebudayaan" in m.notice_contact("sd-1", dataset()).office
    assert m.notice_contact("sekolah-lain", dataset()) is None


def test_teacher_rules_through_the_engine():
    """A teacher without the certificate may obtain it in post; a non-teacher is blocked."""
    from mutasi_rules.data.facts import (
        CandidateScope,
        DatasetIndex,
        candidate_facts,
        context_facts,
        employee_facts,
        position_facts,
        unit_facts,
    )
    from mutasi_rules.rules.engine import RuleEngine

    base = dataset(teachers_sd1=2)
    certified = {**employee("19900101201503100" + "1", "guru-sd1", "sd-1"),
                 "certificates": [{"name": "Sertifikat Pendidik", "completed": "2020-01-01"}]}
    clerk = employee("199303032017031004", "tu-sd1", "sd-1")
    data = Dataset.model_validate(
        {**base.model_dump(mode="json"),
         "employees": [certified, employee("199001012015031002", "guru-sd1", "sd-1"), clerk]}
    )
    m = manager()
    index = DatasetIndex(data)

    def pos(p):
        return m.enrich_model("position", p.id, p, position_facts(p, index), data, AS_OF)

    target = index.positions["guru-sd2"]
    facts, subjects = [], []
    for person in data.employees:
        source = index.positions[person.position_id]
        cand = candidate_facts(
            person, employee_facts(person, index, AS_OF), pos(target), pos(source),
            unit_facts(index.units[source.unit_id], index), unit_facts(index.units[target.unit_id], index),
            target, AS_OF,
        )
        facts.append(CandidateScope(as_of=AS_OF, context=context_facts(AS_OF, data), candidate=cand))
        subjects.append(f"{person.nip}->guru-sd2")
    with RuleEngine(m.rulesets(), AS_OF, m.fact_attributes()) as engine:
        results = engine.evaluate("candidate", facts, subjects)
    fired = [{f.rule_id: f for f in found} for found in results]
    assert fired[0] == {}  # certified teacher
    assert set(fired[1]) == {"guru-sertifikat-pendidik-dalam-jabatan"}
    assert fired[1]["guru-sertifikat-pendidik-dalam-jabatan"].training == "Sertifikat Pendidik"
    assert set(fired[2]) == {"non-guru-tanpa-sertifikat-pendidik"}
    assert fired[2]["non-guru-tanpa-sertifikat-pendidik"].source == f"plugin:{NAME}=={disdikbud.__version__}"
