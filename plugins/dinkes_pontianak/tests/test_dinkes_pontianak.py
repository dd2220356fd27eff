"""The Dinkes Pontianak plugin on its own: attributes, rules, catalogue, contact."""

from __future__ import annotations

import datetime as dt

import mutasi_rules_dinkes_pontianak as dinkes
import pytest

from mutasi_rules.data.facts import DatasetIndex, employee_facts
from mutasi_rules.data.models import Dataset
from mutasi_rules.plugins import PluginManager, PluginSettings

AS_OF = dt.date(2026, 1, 1)


def dataset(field: str | None = "D3 Keperawatan") -> Dataset:
    return Dataset.model_validate(
        {
            "metadata": {"name": "dinkes", "as_of": AS_OF},
            "units": [
                {"id": "dinkes", "name": "Dinas Kesehatan", "kind": "dinas"},
                {"id": "pkm-1", "name": "Puskesmas Satu", "kind": "puskesmas", "parent_id": "dinkes"},
                {"id": "bappeda", "name": "Bappeda", "kind": "badan"},
            ],
            "positions": [
                {"id": "p-vak", "name": "Vaksinator", "kind": "pelaksana", "kelas": 6, "unit_id": "pkm-1",
                 "programmes": ["vaksinasi"]},
                {"id": "p-plan", "name": "Perencana", "kind": "pelaksana", "kelas": 6, "unit_id": "bappeda"},
                {"id": "p-perawat", "name": "Perawat Terampil", "kind": "fungsional", "level": "terampil",
                 "kelas": 7, "unit_id": "pkm-1", "requirements": {"certificates": ["STR"]}},
            ],
            "employees": [
                {"nip": "198503122010011002", "name": "A", "status": "PNS", "gender": "L",
                 "birth_date": "1985-03-12", "rank": "III/a", "position_id": "p-plan", "unit_id": "bappeda",
                 "position_start": "2018-01-01", "education": {"level": "D3", "field": field}},
                {"nip": "199001012015032001", "name": "B", "status": "PNS", "gender": "P",
                 "birth_date": "1990-01-01", "rank": "II/c", "position_id": "p-plan", "unit_id": "bappeda",
                 "position_start": "2018-01-01", "education": {"level": "D3", "field": "Kebidanan"},
                 "trainings": [{"name": "Pelatihan Vaksinator", "completed": "2024-05-01"}],
                 "certificates": [{"name": "STR", "completed": "2019-01-01", "expires": "2024-01-01"}]},
            ],
        }
    )


def manager() -> PluginManager:
    m = PluginManager(PluginSettings(entry_points=False), environ={})
    m.register(dinkes, "mutasi-rules-dinkes-pontianak", version=dinkes.__version__)
    return m


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("D3 Keperawatan", True),
        ("S1 Kesehatan Masyarakat", True),
        ("D4 Kebidanan", True),
        ("Pendidikan Dokter", True),
        ("S1 Farmasi", True),
        ("D3 Gizi", True),
        ("S1 Teknik Sipil", False),
        ("Ilmu Pemerintahan", False),
        (None, None),
        ("  ", None),
    ],
)
def test_health_education_keywords(field, expected):
    assert dinkes.is_health_education(field) is expected


def test_enrichment_sets_the_declared_attribute():
    m = manager()
    [attr] = m.fact_attributes()
    assert (attr.entity, attr.name, attr.type.value, attr.nullable) == ("employee", "health_education", "bool", True)
    for field, expected in (("D3 Keperawatan", True), ("S1 Ekonomi", False), (None, None)):
        data = dataset(field)
        employee = data.employees[0]
        facts = employee_facts(employee, DatasetIndex(data), AS_OF)
        enriched = m.enrich_model("employee", employee.nip, employee, facts, data, AS_OF)
        assert enriched.ext == {"health_education": expected}
    assert m.enrich("position", "p-vak", dataset().positions[0], None, dataset(), AS_OF) == {}


def test_rule_set_loads_applies_to_dinkes_and_uses_exact_names():
    [loaded] = manager().rulesets()
    assert loaded.id == "agency.dinkes-pontianak"
    assert loaded.origin == f"plugin:mutasi-rules-dinkes-pontianak=={dinkes.__version__}"
    assert loaded.ruleset.applies_to.units == ["dinkes"]
    rules = {r.id: r for r in loaded.rules}
    vaccinator = rules["vaksinator-training"]
    assert (vaccinator.scope, vaccinator.effect.value, vaccinator.training) == (
        "candidate", "require_training", "Pelatihan Vaksinator"
    )
    assert '"vaksinasi" in candidate.position.programmes' in vaccinator.when
    assert '"Pelatihan Vaksinator" not in candidate.employee.trainings' in vaccinator.when
    assert rules["str-expired"].effect.value == "block"
    assert "candidate.employee.expired_certificates" in rules["str-expired"].message.id
    health = rules["pendidikan-kesehatan"]
    assert (health.component, health.points) == ("pendidikan_kesehatan", 10)


def test_catalogue_offers_the_vaccinator_training():
    [offer] = manager().training_catalogue()
    assert offer.name == dinkes.VACCINATOR_TRAINING == "Pelatihan Vaksinator"
    assert offer.hours > 0 and "Bapelkes" in offer.provider


def test_notice_contact_only_for_dinkes_units():
    m = manager()
    assert "Dinas Kesehatan" in m.notice_contact("pkm-1", dataset()).office
    assert m.notice_contact("bappeda", dataset()) is None


def test_rules_through_the_engine():
    """Vaccinator training, expired or missing STR, and the health-education score, as findings."""
    from mutasi_rules.data.facts import CandidateScope, candidate_facts, context_facts, position_facts, unit_facts
    from mutasi_rules.rules.engine import RuleEngine

    m = manager()
    data = dataset("D3 Teknik Sipil")
    index = DatasetIndex(data)
    facts, subjects = [], []
    for employee in data.employees:
        emp = m.enrich_model("employee", employee.nip, employee, employee_facts(employee, index, AS_OF), data, AS_OF)
        source = index.positions[employee.position_id]
        for target_id in ("p-vak", "p-perawat"):
            target = index.positions[target_id]
            cand = candidate_facts(
                employee, emp, position_facts(target, index), position_facts(source, index),
                unit_facts(index.units[source.unit_id], index), unit_facts(index.units[target.unit_id], index),
                target, AS_OF,
            )
            facts.append(CandidateScope(as_of=AS_OF, context=context_facts(AS_OF, data), candidate=cand))
            subjects.append(f"{employee.nip}->{target_id}")
    with RuleEngine(m.rulesets(), AS_OF, m.fact_attributes()) as engine:
        results = engine.evaluate("candidate", facts, subjects)
    fired = {s: {f.rule_id: f for f in found} for s, found in zip(subjects, results, strict=True)}
    origin = f"plugin:mutasi-rules-dinkes-pontianak=={dinkes.__version__}"

    a_vak, a_str, b_vak, b_str = (fired[s] for s in subjects)
    assert set(a_vak) == {"vaksinator-training"} and a_vak["vaksinator-training"].source == origin
    assert a_vak["vaksinator-training"].training == "Pelatihan Vaksinator"
    assert set(a_str) == {"str-missing"}  # no STR at all; civil engineering is no health education
    assert set(b_vak) == {"pendidikan-kesehatan"}  # trained vaccinator, midwifery education
    assert set(b_str) == {"str-expired", "pendidikan-kesehatan"}
    assert "(sertifikat kedaluwarsa: STR)" in b_str["str-expired"].message.id
    assert b_str["str-expired"].effect.value == "block"
