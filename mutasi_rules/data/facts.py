"""Facts: what rule conditions can read, derived from a dataset for one ``as_of`` date.

Rules never see the raw domain records. For each scope the library builds a *fact*:
a flat-ish pydantic model whose fields are the names a rule expression may use
(``employee.years_in_position``, ``candidate.position.min_rank``, ``as_of``...).
These models are the *fact schema*: the rule checker derives the names, types and
allowed values of every path from them (:func:`fact_schema`), so a rule that names an
unknown field or compares a rank with a date is rejected when it is loaded.

Plugins may add derived attributes under ``<entity>.ext.<name>``; they declare each
attribute's type so the schema stays checkable (:class:`ExtensionAttribute`).

Nothing here reads the wall clock: every derived value comes from ``as_of``.
"""

from __future__ import annotations

import builtins
import calendar
import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.data.models import (
    CompetencyLevel,
    Dataset,
    EducationLevel,
    Employee,
    EmployeeStatus,
    Golongan,
    JabatanKind,
    JabatanLevel,
    OrderedEnum,
    Position,
    Predikat,
    SanctionLevel,
    Unit,
    UnitKind,
)

Scope = Literal["employee", "position", "unit", "candidate"]
SCOPES: tuple[Scope, ...] = ("employee", "position", "unit", "candidate")

ExtValue = bool | int | float | str | dt.date | list[str] | None


# --------------------------------------------------------------------------- date arithmetic


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` plus whole calendar years; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months, clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def elapsed_years(start: dt.date, end: dt.date) -> float:
    """Calendar-exact years from ``start`` to ``end`` (negative when ``end`` is earlier).

    Whole years are counted on the calendar (an anniversary is exactly 1.0), the rest
    as the fraction of the following year elapsed, so ``elapsed_years(s, e) >= n`` holds
    exactly from ``add_years(s, n)`` on. Rounded to 6 places so output is stable.
    """
    if end < start:
        return -elapsed_years(end, start)
    whole = end.year - start.year
    if add_years(start, whole) > end:
        whole -= 1
    anchor = add_years(start, whole)
    following = add_years(start, whole + 1)
    fraction = (end - anchor).days / (following - anchor).days
    return round(whole + fraction, 6)


def calendar_difference(anchor: dt.date, other: dt.date) -> tuple[int, int, int]:
    """Whole years, months and days between two dates, counted on the calendar from ``anchor``.

    Counted as HR documents and statutes count (a *masa kerja* from its TMT; "6 bulan
    sebelum tanggal penetapan" back from the determination): whole months from ``anchor``
    towards ``other`` first (forward when ``other`` is later, backward when earlier; a month
    from 31 January is the last day of February, as :func:`add_months` clamps), then
    the days left. Forward, ``years >= n`` exactly when ``other >= add_years(anchor, n)``, the
    edge of :func:`elapsed_years`, so a duration shown never disagrees with a
    threshold on the fact.
    """
    step = 1 if other >= anchor else -1
    months = _whole_months(anchor, other)
    years, months_left = divmod(months, 12)
    return years, months_left, abs((other - add_months(anchor, step * months)).days)


def _whole_months(anchor: dt.date, other: dt.date) -> int:
    """Whole calendar months from ``anchor`` towards ``other`` (either direction)."""
    step = 1 if other >= anchor else -1
    months = abs((other.year - anchor.year) * 12 + other.month - anchor.month)
    while months > 0 and (add_months(anchor, step * months) - other).days * step > 0:
        months -= 1
    return months


def calendar_months(anchor: dt.date, other: dt.date) -> float:
    """Signed calendar months from ``anchor`` to ``other`` (negative when ``other`` is earlier).

    Counted from ``anchor`` as a statute counts "6 bulan sebelum / sejak tanggal X": whole
    months, then the fraction of the next month, so ``abs(calendar_months(a, o)) <= n`` holds
    exactly while ``o`` lies within ``add_months(a, +-n)``. Rounded to 6 places.
    """
    step = 1 if other >= anchor else -1
    whole = _whole_months(anchor, other)
    base, following = add_months(anchor, step * whole), add_months(anchor, step * (whole + 1))
    fraction = abs((other - base).days) / abs((following - base).days)
    return step * round(whole + fraction, 6)



def whole_years(start: dt.date, end: dt.date) -> int:
    """Completed years (age in the everyday sense)."""
    return int(elapsed_years(start, end)) if end >= start else -int(elapsed_years(end, start))


# --------------------------------------------------------------------------- fact models


class FactModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContextFacts(FactModel):
    """Facts about the run itself, readable from every scope as ``context.*``."""

    as_of: dt.date = Field(description="The date the run is computed for")
    plan_date: dt.date = Field(description="Intended date of the transfers (default: as_of)")
    candidate_determination: dt.date | None = Field(
        default=None, description="Election: penetapan pasangan calon, if scheduled"
    )
    inauguration: dt.date | None = Field(default=None, description="Election: pelantikan kepala daerah, if any")
    months_to_candidate_determination: float | None = Field(
        default=None,
        description="Calendar months from plan_date to the candidate determination, counted back from the "
        "determination (negative: past)",
    )
    months_since_inauguration: float | None = Field(
        default=None,
        description="Calendar months from the inauguration to plan_date, counted from the inauguration "
        "(negative: not yet)",
    )


class EmployeeFacts(FactModel):
    nip: str
    name: str
    status: EmployeeStatus
    gender: str
    age: int = Field(description="Completed years of age on as_of")
    birth_date: dt.date
    rank: Golongan | None = Field(description="Golongan/ruang")
    position_id: str
    position_name: str
    position_kind: JabatanKind
    position_level: JabatanLevel | None
    kelas: int = Field(description="Kelas jabatan of the current position")
    unit_id: str
    opd_id: str = Field(description="Top-level unit (OPD) of the current unit")
    unit_path: list[str] = Field(description="The current unit and all its ancestors")
    position_start: dt.date = Field(description="TMT jabatan")
    years_in_position: float = Field(description="Calendar-exact years in the current position on as_of")
    tmt_cpns: dt.date
    years_of_service: float = Field(description="Years since TMT CPNS")
    retirement_age: int = Field(description="BUP for the current position")
    retirement_date: dt.date = Field(description="Date the employee reaches BUP")
    years_to_retirement: float = Field(description="Years from as_of to retirement_date")
    education_level: EducationLevel
    education_field: str | None
    competencies: list[str] = Field(description="Names of competencies held, any level")
    trainings: list[str] = Field(description="Trainings valid on as_of")
    certificates: list[str] = Field(description="Certificates valid on as_of")
    expired_certificates: list[str] = Field(description="Certificates held but expired on as_of")
    latest_predikat: Predikat | None = Field(description="Predikat of the most recent year on record")
    latest_predikat_year: int | None
    under_sanction: bool = Field(description="A disciplinary sanction is active on as_of")
    sanction_level: SanctionLevel | None = Field(description="Heaviest active sanction")
    sanction_end: dt.date | None = Field(description="Last day of the active sanction(s); null if open")
    under_investigation: bool
    willing_to_move: bool | None
    positions_held: int = Field(description="Positions held, including the current one")
    ext: dict[str, ExtValue] = Field(default_factory=dict, description="Plugin-derived attributes")


class WorkloadFigures(FactModel):
    """Workload-analysis figures of one position or unit (None where unknown)."""

    workload_hours: float | None = None
    staff_needed: float | None = None
    bezetting: int = 0
    gap: float | None = None
    ej: float | None = None
    ej_grade: str | None = None


class PositionFacts(FactModel):
    id: str
    name: str
    kind: JabatanKind
    level: JabatanLevel | None
    kelas: int
    unit_id: str
    opd_id: str
    unit_path: list[str] = Field(description="The position's unit and all its ancestors")
    min_rank: Golongan | None
    max_rank: Golongan | None
    min_education: EducationLevel | None
    education_fields: list[str]
    required_competencies: list[str]
    required_trainings: list[str]
    required_certificates: list[str]
    programmes: list[str]
    retirement_age: int = Field(description="BUP for holders of this position")
    has_workload_data: bool
    workload_hours: float | None = None
    staff_needed: float | None = None
    bezetting: int = Field(default=0, description="Current staff")
    gap: float | None = Field(default=None, description="staff_needed - bezetting")
    ej: float | None = Field(default=None, description="Efisiensi jabatan")
    ej_grade: str | None = None
    vacancy: bool = Field(default=False, description="No current staff")
    temporary_until: dt.date | None = Field(
        default=None, description="End of the position's temporary (surge) workload, the latest if several; "
        "null: all its workload is permanent")
    temporary_workload_hours: float = Field(default=0.0, description="Hours per year of temporary (surge) tasks")
    ext: dict[str, ExtValue] = Field(default_factory=dict)


class UnitFacts(FactModel):
    id: str
    name: str
    kind: UnitKind
    parent_id: str | None
    opd_id: str
    unit_path: list[str] = Field(description="The unit and all its ancestors")
    position_count: int = Field(description="Positions in the unit and its sub-units")
    has_workload_data: bool
    workload_hours: float | None = None
    staff_needed: float | None = None
    bezetting: int = 0
    gap: float | None = None
    ej: float | None = None
    ej_grade: str | None = None
    ext: dict[str, ExtValue] = Field(default_factory=dict)


class CandidateFacts(FactModel):
    """One employee considered for one target position."""

    employee: EmployeeFacts
    position: PositionFacts = Field(description="The target position")
    source_position: PositionFacts
    source_unit: UnitFacts
    target_unit: UnitFacts
    education_field_ok: bool = Field(description="Target accepts any field, or the employee's field")
    missing_competencies: list[str] = Field(description="Required competencies absent or below level")
    missing_trainings: list[str] = Field(description="Required trainings not valid on as_of")
    missing_certificates: list[str] = Field(description="Required certificates not valid on as_of")
    same_unit: bool
    same_opd: bool
    kelas_change: int = Field(description="Target kelas minus current kelas")
    target_retirement_age: int
    years_to_retirement_at_target: float
    ext: dict[str, ExtValue] = Field(default_factory=dict)


class EmployeeScope(FactModel):
    as_of: dt.date
    context: ContextFacts
    employee: EmployeeFacts


class PositionScope(FactModel):
    as_of: dt.date
    context: ContextFacts
    position: PositionFacts
    unit: UnitFacts


class UnitScope(FactModel):
    as_of: dt.date
    context: ContextFacts
    unit: UnitFacts


class CandidateScope(FactModel):
    as_of: dt.date
    context: ContextFacts
    candidate: CandidateFacts


SCOPE_MODELS: dict[Scope, type[FactModel]] = {
    "employee": EmployeeScope,
    "position": PositionScope,
    "unit": UnitScope,
    "candidate": CandidateScope,
}


# --------------------------------------------------------------------------- schema


class FieldType(str, Enum):
    NUMBER = "number"
    STRING = "string"
    BOOL = "bool"
    DATE = "date"
    ORDINAL = "ordinal"  # ordered enumeration: rank, education level, predikat, competency level
    LIST = "list"  # list of strings


@dataclass(frozen=True)
class FieldSpec:
    """What the rule checker knows about one readable path."""

    path: str
    type: FieldType
    nullable: bool = False
    enum: builtins.type[Enum] | None = None
    description: str = ""

    @property
    def values(self) -> tuple[str, ...]:
        """Allowed literal values, in order for ordinals; empty when free."""
        return tuple(str(m.value) for m in self.enum) if self.enum else ()

    @property
    def ordered(self) -> builtins.type[OrderedEnum] | None:
        """The enumeration of an ordinal field, whose members rank by declaration order."""
        if self.type is FieldType.ORDINAL and self.enum is not None and issubclass(self.enum, OrderedEnum):
            return self.enum
        return None

    @property
    def type_name(self) -> str:
        if self.enum is not None and self.type is FieldType.ORDINAL:
            return f"ordinal {self.enum.__name__}"
        return self.type.value


@dataclass(frozen=True)
class ExtensionAttribute:
    """A derived attribute a plugin adds to an entity's facts, declared up front."""

    entity: Literal["employee", "position", "unit", "candidate"]
    name: str
    type: FieldType
    nullable: bool = True
    description: str = ""
    source: str = ""  # plugin name


@dataclass
class FactSchema:
    """Every path a rule of one scope may read."""

    scope: Scope
    fields: dict[str, FieldSpec] = field(default_factory=dict)

    def get(self, path: str) -> FieldSpec | None:
        return self.fields.get(path)

    def paths(self) -> list[str]:
        return sorted(self.fields)


def _spec_for(path: str, annotation: Any, description: str) -> FieldSpec | None:
    nullable = False
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not NoneType]
        nullable = len(args) != len(get_args(annotation))
        if len(args) != 1:
            return None  # ext values: declared per attribute, not derived here
        annotation = args[0]
        origin = get_origin(annotation)
    if origin is list:
        return FieldSpec(path, FieldType.LIST, nullable, None, description)
    if annotation is bool:
        return FieldSpec(path, FieldType.BOOL, nullable, None, description)
    if annotation in (int, float):
        return FieldSpec(path, FieldType.NUMBER, nullable, None, description)
    if annotation is str:
        return FieldSpec(path, FieldType.STRING, nullable, None, description)
    if annotation is dt.date:
        return FieldSpec(path, FieldType.DATE, nullable, None, description)
    if isinstance(annotation, type) and issubclass(annotation, OrderedEnum):
        return FieldSpec(path, FieldType.ORDINAL, nullable, annotation, description)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return FieldSpec(path, FieldType.STRING, nullable, annotation, description)
    return None


def _walk(model: type[BaseModel], prefix: str, out: dict[str, FieldSpec]) -> None:
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _walk(annotation, path + ".", out)
            continue
        spec = _spec_for(path, annotation, info.description or "")
        if spec is not None:
            out[path] = spec


_ENTITY_PREFIXES: dict[Scope, dict[str, tuple[str, ...]]] = {
    "employee": {"employee": ("employee.",)},
    "position": {"position": ("position.",), "unit": ("unit.",)},
    "unit": {"unit": ("unit.",)},
    "candidate": {
        "candidate": ("candidate.",),
        "employee": ("candidate.employee.",),
        "position": ("candidate.position.", "candidate.source_position."),
        "unit": ("candidate.source_unit.", "candidate.target_unit."),
    },
}


def fact_schema(scope: Scope, extensions: Iterable[ExtensionAttribute] = ()) -> FactSchema:
    """The schema of ``scope``: model fields plus declared plugin attributes under ``ext``."""
    schema = FactSchema(scope)
    _walk(SCOPE_MODELS[scope], "", schema.fields)
    for attr in extensions:
        for prefix in _ENTITY_PREFIXES[scope].get(attr.entity, ()):
            path = f"{prefix}ext.{attr.name}"
            schema.fields[path] = FieldSpec(path, attr.type, attr.nullable, None, attr.description)
    return schema


# --------------------------------------------------------------------------- builders


class DatasetIndex:
    """Look-ups over a dataset that fact builders share (built once per run)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.units: dict[str, Unit] = dataset.unit_by_id()
        self.positions: dict[str, Position] = dataset.position_by_id()
        self.bezetting: dict[str, int] = {}
        for employee in dataset.employees:
            self.bezetting[employee.position_id] = self.bezetting.get(employee.position_id, 0) + 1
        self._paths: dict[str, list[str]] = {}
        self._subtree: tuple[dict[str, int], dict[str, int]] | None = None

    def _subtree_totals(self) -> tuple[dict[str, int], dict[str, int]]:
        if self._subtree is None:
            positions: dict[str, int] = {}
            staff: dict[str, int] = {}
            for position in self.positions.values():
                for ancestor in self.unit_path(position.unit_id):
                    positions[ancestor] = positions.get(ancestor, 0) + 1
                    staff[ancestor] = staff.get(ancestor, 0) + self.bezetting.get(position.id, 0)
            self._subtree = (positions, staff)
        return self._subtree

    def subtree_position_count(self, unit_id: str) -> int:
        return self._subtree_totals()[0].get(unit_id, 0)

    def subtree_bezetting(self, unit_id: str) -> int:
        return self._subtree_totals()[1].get(unit_id, 0)

    def unit_path(self, unit_id: str) -> list[str]:
        """The unit and its ancestors, nearest first (cycles and dangling parents stop the walk)."""
        if unit_id in self._paths:
            return self._paths[unit_id]
        path = [unit_id]
        current = unit_id
        while True:
            unit = self.units.get(current)
            if unit is None or unit.parent_id is None or unit.parent_id in path:
                break
            current = unit.parent_id
            path.append(current)
        self._paths[unit_id] = path
        return path

    def opd_of(self, unit_id: str) -> str:
        """The top-level ancestor of a unit: its OPD."""
        return self.unit_path(unit_id)[-1]


def context_facts(as_of: dt.date, dataset: Dataset, plan_date: dt.date | None = None) -> ContextFacts:
    plan = plan_date or as_of
    election = dataset.metadata.election

    return ContextFacts(
        as_of=as_of,
        plan_date=plan,
        candidate_determination=election.candidate_determination,
        inauguration=election.inauguration,
        months_to_candidate_determination=(
            -calendar_months(election.candidate_determination, plan) if election.candidate_determination else None
        ),
        months_since_inauguration=calendar_months(election.inauguration, plan) if election.inauguration else None,
    )


def employee_facts(employee: Employee, index: DatasetIndex, as_of: dt.date) -> EmployeeFacts:
    position = index.positions[employee.position_id]
    bup = position.retirement_age
    # Retirement falls at the end of the month BUP is reached; the first of the next month
    # is the TMT pensiun (PP 11/2017 art. 239 and 355).
    reaches = add_years(employee.birth_date, bup)
    retirement = add_months(reaches.replace(day=1), 1)
    active = [s for s in employee.sanctions if s.active_on(as_of)]
    heaviest = max(active, key=lambda s: list(SanctionLevel).index(s.level)) if active else None
    ends = [s.end for s in active]
    latest = max(employee.performance, key=lambda p: p.year) if employee.performance else None
    return EmployeeFacts(
        nip=employee.nip,
        name=employee.name,
        status=employee.status,
        gender=employee.gender.value,
        age=whole_years(employee.birth_date, as_of),
        birth_date=employee.birth_date,
        rank=employee.rank,
        position_id=position.id,
        position_name=position.name,
        position_kind=position.kind,
        position_level=position.level,
        kelas=position.kelas,
        unit_id=employee.unit_id,
        opd_id=index.opd_of(employee.unit_id),
        unit_path=index.unit_path(employee.unit_id),
        position_start=employee.position_start,
        years_in_position=elapsed_years(employee.position_start, as_of),
        tmt_cpns=employee.tmt_cpns,
        years_of_service=elapsed_years(employee.tmt_cpns, as_of),
        retirement_age=bup,
        retirement_date=retirement,
        years_to_retirement=elapsed_years(as_of, retirement),
        education_level=employee.education.level,
        education_field=employee.education.field,
        competencies=sorted({c.name for c in employee.competencies}),
        trainings=sorted({t.name for t in employee.trainings if t.valid_on(as_of)}),
        certificates=sorted({c.name for c in employee.certificates if c.valid_on(as_of)}),
        expired_certificates=sorted(
            {c.name for c in employee.certificates if not c.valid_on(as_of)}
            - {c.name for c in employee.certificates if c.valid_on(as_of)}
        ),
        latest_predikat=latest.predikat if latest else None,
        latest_predikat_year=latest.year if latest else None,
        under_sanction=bool(active),
        sanction_level=heaviest.level if heaviest else None,
        sanction_end=None if not active or any(e is None for e in ends) else max(e for e in ends if e),
        under_investigation=employee.under_investigation,
        willing_to_move=employee.preferences.willing_to_move,
        positions_held=len(employee.position_history) + 1,
    )


def position_facts(
    position: Position, index: DatasetIndex, figures: WorkloadFigures | None = None
) -> PositionFacts:
    req = position.requirements
    figures = figures or WorkloadFigures(bezetting=index.bezetting.get(position.id, 0))
    temporary = [t for t in position.tasks or () if t.temporary_until is not None]
    return PositionFacts(
        id=position.id,
        name=position.name,
        kind=position.kind,
        level=position.level,
        kelas=position.kelas,
        unit_id=position.unit_id,
        opd_id=index.opd_of(position.unit_id),
        unit_path=index.unit_path(position.unit_id),
        min_rank=req.min_rank,
        max_rank=req.max_rank,
        min_education=req.min_education,
        education_fields=sorted(req.education_fields),
        required_competencies=sorted({c.name for c in req.competencies}),
        required_trainings=sorted(req.trainings),
        required_certificates=sorted(req.certificates),
        programmes=sorted(position.programmes),
        retirement_age=position.retirement_age,
        has_workload_data=position.tasks is not None,
        workload_hours=figures.workload_hours,
        staff_needed=figures.staff_needed,
        bezetting=figures.bezetting,
        gap=figures.gap,
        ej=figures.ej,
        ej_grade=figures.ej_grade,
        vacancy=figures.bezetting == 0,
        temporary_until=max((t.temporary_until for t in temporary if t.temporary_until is not None), default=None),
        temporary_workload_hours=round(math.fsum(t.volume_per_year * t.norm_minutes / 60.0 for t in temporary), 4),
    )


def unit_facts(unit: Unit, index: DatasetIndex, figures: WorkloadFigures | None = None) -> UnitFacts:
    """Facts of a unit; like its workload figures, counts cover the unit and its sub-units."""
    if figures is None:
        figures = WorkloadFigures(bezetting=index.subtree_bezetting(unit.id))
    return UnitFacts(
        id=unit.id,
        name=unit.name,
        kind=unit.kind,
        parent_id=unit.parent_id,
        opd_id=index.opd_of(unit.id),
        unit_path=index.unit_path(unit.id),
        position_count=index.subtree_position_count(unit.id),
        has_workload_data=figures.workload_hours is not None,
        workload_hours=figures.workload_hours,
        staff_needed=figures.staff_needed,
        bezetting=figures.bezetting,
        gap=figures.gap,
        ej=figures.ej,
        ej_grade=figures.ej_grade,
    )


def candidate_facts(
    employee: Employee,
    employee_fact: EmployeeFacts,
    target: PositionFacts,
    source: PositionFacts,
    source_unit: UnitFacts,
    target_unit: UnitFacts,
    target_position: Position,
    as_of: dt.date,
) -> CandidateFacts:
    req = target_position.requirements
    held = {c.name: c.level.ordinal for c in employee.competencies}
    missing_competencies = sorted(
        {c.name for c in req.competencies if held.get(c.name, 0) < c.min_level.ordinal}
    )
    fields_ok = not req.education_fields or (
        employee.education.field is not None
        and employee.education.field.casefold() in {f.casefold() for f in req.education_fields}
    )
    bup = target_position.retirement_age
    retirement = add_months(add_years(employee.birth_date, bup).replace(day=1), 1)
    return CandidateFacts(
        employee=employee_fact,
        position=target,
        source_position=source,
        source_unit=source_unit,
        target_unit=target_unit,
        education_field_ok=fields_ok,
        missing_competencies=missing_competencies,
        missing_trainings=sorted(set(req.trainings) - set(employee_fact.trainings)),
        missing_certificates=sorted(set(req.certificates) - set(employee_fact.certificates)),
        same_unit=employee_fact.unit_id == target.unit_id,
        same_opd=employee_fact.opd_id == target.opd_id,
        kelas_change=target.kelas - employee_fact.kelas,
        target_retirement_age=bup,
        years_to_retirement_at_target=elapsed_years(as_of, retirement),
    )


# --------------------------------------------------------------------------- reading values


@functools.lru_cache(maxsize=4096)
def _path_parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


# Facts are read hundreds of thousands of times per run; ``isinstance`` against the ABCs
# Mapping and BaseModel goes through ABCMeta each time, so the answer is kept per type.


@functools.cache
def is_mapping(cls: type) -> bool:
    """Whether instances of ``cls`` are read by key (dicts, mappings) rather than by attribute."""
    return issubclass(cls, Mapping)


@functools.cache
def is_model(cls: type) -> bool:
    """Whether ``cls`` is a pydantic model."""
    return issubclass(cls, BaseModel)


@functools.cache
def is_frozen_model(cls: type) -> bool:
    """Whether ``cls`` is a frozen pydantic model (its instances never change)."""
    return issubclass(cls, BaseModel) and bool(cls.model_config.get("frozen"))


def read_path(facts: BaseModel | Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a fact (``None`` when any step is missing)."""
    return read_parts(facts, _path_parts(path))


def read_parts(facts: BaseModel | Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    """:func:`read_path` for a path already split into its parts."""
    current: Any = facts
    for part in parts:
        if current is None:
            return None
        cls = type(current)
        # typeshed types functools.cache arguments as Hashable, which mypy does not grant a class
        if is_mapping(cls):  # type: ignore[arg-type]
            current = current.get(part)
        elif is_model(cls):  # type: ignore[arg-type]
            current = getattr(current, part, None)
        else:
            return None
    return current


def display_value(value: Any) -> Any:
    """A fact value as people read it (enum labels, ISO dates), for explanations."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [display_value(v) for v in value]
    return value


__all__ = [
    "SCOPES",
    "CandidateFacts",
    "CandidateScope",
    "CompetencyLevel",
    "ContextFacts",
    "DatasetIndex",
    "EmployeeFacts",
    "EmployeeScope",
    "ExtensionAttribute",
    "FactSchema",
    "FieldSpec",
    "FieldType",
    "PositionFacts",
    "PositionScope",
    "Scope",
    "UnitFacts",
    "UnitScope",
    "WorkloadFigures",
    "add_months",
    "add_years",
    "candidate_facts",
    "context_facts",
    "display_value",
    "elapsed_years",
    "employee_facts",
    "fact_schema",
    "is_frozen_model",
    "is_mapping",
    "is_model",
    "position_facts",
    "read_parts",
    "read_path",
    "unit_facts",
    "whole_years",
]
