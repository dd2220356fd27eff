"""Builders shared by the engine tests: rule sets built in code, and complete fact models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from mutasi_rules.data import facts as F
from mutasi_rules.rules.language.ast import Expr
from mutasi_rules.rules.language.parser import parse
from mutasi_rules.rules.rulesets import LoadedRuleSet, Rule, RuleSet

AS_OF = dt.date(2024, 7, 1)


def rule(rule_id: str, when: str, scope: str = "employee", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": rule_id,
        "title": {"id": f"Judul {rule_id}", "en": f"Title {rule_id}"},
        "scope": scope,
        "when": when,
        "effect": "warn",
        "message": {"id": f"Pesan {rule_id}", "en": f"Message {rule_id}"},
        "legal_basis": f"Dasar {rule_id}",
    }
    data.update(extra)
    return data


def ruleset(
    ruleset_id: str,
    rules: Sequence[dict[str, Any]],
    *,
    units: Iterable[str] = (),
    kinds: Iterable[str] = (),
    effective_from: dt.date = dt.date(2020, 1, 1),
    effective_until: dt.date | None = None,
    version: str = "2024.1",
    expressions: dict[str, Expr] | None = None,
) -> LoadedRuleSet:
    model = RuleSet(
        id=ruleset_id,
        version=version,
        title={"id": ruleset_id, "en": ruleset_id},
        authority="BKN",
        source="Peraturan BKN 5/2019",
        applies_to={"units": list(units), "position_kinds": list(kinds)},
        effective_from=effective_from,
        effective_until=effective_until,
    )
    built = tuple(Rule.model_validate(r) for r in rules)
    exprs = {r.id: parse(r.when) for r in built}
    exprs.update(expressions or {})
    return LoadedRuleSet(model, built, origin=f"rules/{ruleset_id}.yaml", sha256="0" * 64, expressions=exprs)


def _changed(model: Any, changes: dict[str, Any]) -> Any:
    """A validated copy with some fields changed (model_copy would skip validation)."""
    if not changes:
        return model
    data = dict(model)
    data.update(changes)
    return type(model).model_validate(data)


def context(as_of: dt.date = AS_OF) -> F.ContextFacts:
    return F.ContextFacts(as_of=as_of, plan_date=as_of)


def employee(**changes: Any) -> F.EmployeeFacts:
    base = F.EmployeeFacts(
        nip="198001012005011001",
        name="Budi Santoso",
        status="PNS",
        gender="L",
        age=44,
        birth_date=dt.date(1980, 1, 1),
        rank="III/b",
        position_id="pos-staf",
        position_name="Pengadministrasi Umum",
        position_kind="pelaksana",
        position_level=None,
        kelas=6,
        unit_id="bidang-umum",
        opd_id="setda",
        unit_path=["bidang-umum", "setda"],
        position_start=dt.date(2020, 3, 1),
        years_in_position=4.33,
        tmt_cpns=dt.date(2005, 1, 1),
        years_of_service=19.5,
        retirement_age=58,
        retirement_date=dt.date(2038, 2, 1),
        years_to_retirement=13.6,
        education_level="S1",
        education_field="Hukum",
        competencies=["Pelayanan Publik"],
        trainings=[],
        certificates=[],
        expired_certificates=[],
        latest_predikat="Baik",
        latest_predikat_year=2023,
        under_sanction=False,
        sanction_level=None,
        sanction_end=None,
        under_investigation=False,
        willing_to_move=True,
        positions_held=2,
    )
    return _changed(base, changes)


def position(**changes: Any) -> F.PositionFacts:
    base = F.PositionFacts(
        id="pos-vaksinator",
        name="Vaksinator",
        kind="fungsional",
        level="terampil",
        kelas=7,
        unit_id="puskesmas-1",
        opd_id="dinkes",
        unit_path=["puskesmas-1", "dinkes"],
        min_rank="II/c",
        max_rank="III/d",
        min_education="D3",
        education_fields=["Kesehatan Masyarakat", "Keperawatan"],
        required_competencies=[],
        required_trainings=["Vaksinator"],
        required_certificates=[],
        programmes=["imunisasi"],
        retirement_age=58,
        has_workload_data=True,
        workload_hours=2600.0,
        staff_needed=2.08,
        bezetting=1,
        gap=1.08,
        ej=2.08,
        ej_grade="A",
    )
    return _changed(base, changes)


def unit(**changes: Any) -> F.UnitFacts:
    base = F.UnitFacts(
        id="puskesmas-1",
        name="Puskesmas Kampung Dalam",
        kind="puskesmas",
        parent_id="dinkes",
        opd_id="dinkes",
        unit_path=["puskesmas-1", "dinkes"],
        position_count=4,
        has_workload_data=True,
        ej=1.3,
    )
    return _changed(base, changes)


def employee_scope(as_of: dt.date = AS_OF, **changes: Any) -> F.EmployeeScope:
    return F.EmployeeScope(as_of=as_of, context=context(as_of), employee=employee(**changes))


def position_scope(as_of: dt.date = AS_OF, unit_changes: dict[str, Any] | None = None,
                   **changes: Any) -> F.PositionScope:
    return F.PositionScope(
        as_of=as_of, context=context(as_of), position=position(**changes), unit=unit(**(unit_changes or {}))
    )


def unit_scope(as_of: dt.date = AS_OF, **changes: Any) -> F.UnitScope:
    return F.UnitScope(as_of=as_of, context=context(as_of), unit=unit(**changes))


def candidate_scope(
    as_of: dt.date = AS_OF,
    employee_changes: dict[str, Any] | None = None,
    position_changes: dict[str, Any] | None = None,
    **changes: Any,
) -> F.CandidateScope:
    worker = employee(**(employee_changes or {}))
    target = position(**(position_changes or {}))
    source = position(
        id=worker.position_id,
        name=worker.position_name,
        kind=worker.position_kind,
        level=None,
        unit_id=worker.unit_id,
        opd_id=worker.opd_id,
        unit_path=worker.unit_path,
    )
    candidate = F.CandidateFacts(
        employee=worker,
        position=target,
        source_position=source,
        source_unit=unit(id=worker.unit_id, unit_path=worker.unit_path, opd_id=worker.opd_id, kind="bidang"),
        target_unit=unit(id=target.unit_id, unit_path=target.unit_path, opd_id=target.opd_id),
        education_field_ok=False,
        missing_competencies=[],
        missing_trainings=sorted(set(target.required_trainings) - set(worker.trainings)),
        missing_certificates=[],
        same_unit=worker.unit_id == target.unit_id,
        same_opd=worker.opd_id == target.opd_id,
        kelas_change=target.kelas - worker.kelas,
        target_retirement_age=target.retirement_age,
        years_to_retirement_at_target=13.6,
    )
    candidate = _changed(candidate, changes)
    return F.CandidateScope(as_of=as_of, context=context(as_of), candidate=candidate)
