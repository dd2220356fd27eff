"""Domain model: units (OPD), positions (jabatan), employees (pegawai) and datasets.

These pydantic models are the single source of truth for the data shapes the library
reads and writes, and for the published JSON Schemas (`mutasi-rules schema dataset`).
Derived values (age, years in position, years to retirement) are never stored: they are
computed relative to an explicit ``as_of`` date by :mod:`mutasi_rules.data.facts`.

Ordered enumerations (golongan, education level, predikat) carry their rank through
``.ordinal`` so rules can compare them (``employee.rank < position.min_rank``).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from enum import Enum
from typing import Annotated, Literal, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

# --------------------------------------------------------------------------- enums


class OrderedEnum(str, Enum):
    """A string enumeration whose declaration order is its ranking (1-based)."""

    @property
    def ordinal(self) -> int:
        return _ordinals(type(self))[self]  # hot in fact building and scoring: a cached look-up

    @classmethod
    def from_ordinal(cls, ordinal: int) -> OrderedEnum:
        return list(cls)[ordinal - 1]


@functools.cache
def _ordinals(enum: type[OrderedEnum]) -> dict[OrderedEnum, int]:
    return {member: rank for rank, member in enumerate(enum, 1)}


class Golongan(OrderedEnum):
    """Rank (golongan/ruang) of a PNS, 17 steps from I/a to IV/e."""

    I_A = "I/a"
    I_B = "I/b"
    I_C = "I/c"
    I_D = "I/d"
    II_A = "II/a"
    II_B = "II/b"
    II_C = "II/c"
    II_D = "II/d"
    III_A = "III/a"
    III_B = "III/b"
    III_C = "III/c"
    III_D = "III/d"
    IV_A = "IV/a"
    IV_B = "IV/b"
    IV_C = "IV/c"
    IV_D = "IV/d"
    IV_E = "IV/e"


class EducationLevel(OrderedEnum):
    """Highest completed education, in order. SMA and SMK are the same level."""

    SD = "SD"
    SMP = "SMP"
    SMA = "SMA/SMK"
    D1 = "D1"
    D2 = "D2"
    D3 = "D3"
    D4 = "D4"
    S1 = "S1"
    S2 = "S2"
    S3 = "S3"

    @classmethod
    def _missing_(cls, value: object) -> EducationLevel | None:
        # HR files write the upper-secondary level in several ways.
        if isinstance(value, str) and value.strip().upper() in {"SMA", "SMK", "SMA/SMK", "SLTA", "MA"}:
            return cls.SMA
        return None


class Predikat(OrderedEnum):
    """Yearly performance rating (PermenPANRB 6/2022), worst first so order means better."""

    SANGAT_KURANG = "Sangat Kurang"
    KURANG = "Kurang"
    BUTUH_PERBAIKAN = "Butuh Perbaikan"
    BAIK = "Baik"
    SANGAT_BAIK = "Sangat Baik"


class CompetencyLevel(OrderedEnum):
    """Proficiency level 1-5 as used in the ASN competency standard (PermenPANRB 38/2017)."""

    L1 = "1"
    L2 = "2"
    L3 = "3"
    L4 = "4"
    L5 = "5"


class EmployeeStatus(str, Enum):
    PNS = "PNS"
    CPNS = "CPNS"
    PPPK = "PPPK"


class Gender(str, Enum):
    """As coded in the 15th digit of the NIP."""

    MALE = "L"
    FEMALE = "P"


class UnitKind(str, Enum):
    SEKRETARIAT = "sekretariat"
    INSPEKTORAT = "inspektorat"
    BADAN = "badan"
    DINAS = "dinas"
    KANTOR = "kantor"
    SATPOL_PP = "satpol_pp"
    RSUD = "rsud"
    PUSKESMAS = "puskesmas"
    SEKOLAH = "sekolah"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"
    BIDANG = "bidang"
    UPT = "upt"
    OTHER = "other"


class JabatanKind(str, Enum):
    """Position type (jenis jabatan)."""

    JPT = "jpt"
    ADMINISTRATOR = "administrator"
    PENGAWAS = "pengawas"
    PELAKSANA = "pelaksana"
    FUNGSIONAL = "fungsional"


class JabatanLevel(str, Enum):
    """Level within a position type: JPT tiers and functional levels (jenjang)."""

    UTAMA = "utama"
    MADYA = "madya"
    PRATAMA = "pratama"
    AHLI_PERTAMA = "ahli_pertama"
    AHLI_MUDA = "ahli_muda"
    AHLI_MADYA = "ahli_madya"
    AHLI_UTAMA = "ahli_utama"
    PEMULA = "pemula"
    TERAMPIL = "terampil"
    MAHIR = "mahir"
    PENYELIA = "penyelia"


JPT_LEVELS = frozenset({JabatanLevel.UTAMA, JabatanLevel.MADYA, JabatanLevel.PRATAMA})
FUNGSIONAL_KEAHLIAN = frozenset(
    {JabatanLevel.AHLI_PERTAMA, JabatanLevel.AHLI_MUDA, JabatanLevel.AHLI_MADYA, JabatanLevel.AHLI_UTAMA}
)
FUNGSIONAL_KETERAMPILAN = frozenset(
    {JabatanLevel.PEMULA, JabatanLevel.TERAMPIL, JabatanLevel.MAHIR, JabatanLevel.PENYELIA}
)


class CompetencyKind(str, Enum):
    TEKNIS = "teknis"
    MANAJERIAL = "manajerial"
    SOSIAL_KULTURAL = "sosial_kultural"


class ProfileFactor(str, Enum):
    """Profile matching (GAP method): a core factor (faktor utama) weighs with the aspect's core
    share (commonly 60 %), a secondary factor (faktor pendukung) with the rest."""

    CORE = "core"
    SECONDARY = "secondary"


class SanctionLevel(str, Enum):
    """Disciplinary sanction severity (PP 94/2021)."""

    RINGAN = "ringan"
    SEDANG = "sedang"
    BERAT = "berat"


def retirement_age(kind: JabatanKind, level: JabatanLevel | None) -> int:
    """Batas usia pensiun (BUP), PP 11/2017 art. 239.

    58 for administrasi, fungsional ahli pertama / ahli muda and keterampilan; 60 for JPT
    and fungsional ahli madya; 65 for fungsional ahli utama.
    """
    if kind is JabatanKind.JPT:
        return 60
    if kind is JabatanKind.FUNGSIONAL:
        if level is JabatanLevel.AHLI_UTAMA:
            return 65
        if level is JabatanLevel.AHLI_MADYA:
            return 60
    return 58


# --------------------------------------------------------------------------- NIP

NIP_PATTERN = re.compile(r"^\d{18}$")


class NipParts(NamedTuple):
    """The fields encoded in an 18-digit NIP.

    A named tuple, not a model: every employee's NIP is parsed when it is validated (twice)
    and again for facts, and a model instance cost 1.2 s of loading 100,000 employees.
    """

    birth_date: dt.date
    tmt_cpns_year: int
    tmt_cpns_month: int
    gender: Gender
    serial: int


@functools.lru_cache(maxsize=1024)
def parse_nip(nip: str) -> NipParts:
    """Split a NIP into its parts; raise ``ValueError`` naming the bad part.

    Cached: validating an employee parses its NIP twice (the field, then the consistency check).
    """
    if not NIP_PATTERN.match(nip):
        raise ValueError(f"NIP must be exactly 18 digits, got {len(nip)} characters")
    try:
        birth = dt.date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        raise ValueError(f"NIP digits 1-8 ({nip[0:8]}) are not a valid birth date YYYYMMDD") from None
    year, month = int(nip[8:12]), int(nip[12:14])
    if not 1 <= month <= 12:
        raise ValueError(f"NIP digits 9-14 ({nip[8:14]}) are not a valid TMT CPNS YYYYMM")
    if year < birth.year + 15:
        raise ValueError(f"NIP TMT CPNS {nip[8:14]} is less than 15 years after the birth date {birth}")
    digit = nip[14]
    if digit not in "12":
        raise ValueError(f"NIP digit 15 (gender) must be 1 or 2, got {digit}")
    return NipParts(
        birth_date=birth,
        tmt_cpns_year=year,
        tmt_cpns_month=month,
        gender=Gender.MALE if digit == "1" else Gender.FEMALE,
        serial=int(nip[15:18]),
    )


# --------------------------------------------------------------------------- base


class Model(BaseModel):
    """Base for all domain records: unknown fields are errors, records are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, str_strip_whitespace=True)


Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
#: No control characters (NUL, escape sequences, C1 controls) in names: they reach letters,
#: reports and terminals. Checked by pattern (fast, and published in the JSON Schema).
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
#: Free text may hold tabs and line breaks, nothing else of the control range.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_CONTROL_PATTERN)]
Text = Annotated[str, Field(max_length=10_000, pattern=TEXT_PATTERN)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]

# Plausible bounds (docs/data-format.md, "Plausible values"). A value outside them is a located
# problem, never silently used: ``1.250`` (Indonesian for 1,250) read as 1.25 hours would make
# every job efficiency absurd while the dataset "is valid".
#: Effective working hours per person-year (PermenPANRB 1/2020 sets 1,250).
EFFECTIVE_HOURS_RANGE = (500.0, 3000.0)
#: Units of output of one task per year (a large city's yearly civil registrations fit easily).
MAX_VOLUME_PER_YEAR = 100_000_000.0
#: Minutes to produce one unit of output (about 13 working years of one person).
MAX_NORM_MINUTES = 1_000_000.0
#: Hours of one training.
MAX_TRAINING_HOURS = 10_000.0

#: Dates a run may be computed for (``as_of``, ``plan_date``): anything else is a typing slip,
#: and ``9999-12-31`` would overflow every date computed from it.
PLAUSIBLE_RUN_DATES = (dt.date(1950, 1, 1), dt.date(2200, 12, 31))

#: Score points of one rule or plugin component, either sign: finite and of a plausible size
#: (the built-in scores are a few dozen points; 1e308 would break the plan optimiser).
MAX_SCORE_POINTS = 10_000.0
ScorePoints = Annotated[float, Field(ge=-MAX_SCORE_POINTS, le=MAX_SCORE_POINTS, allow_inf_nan=False)]

EffectiveHours = Annotated[float, Field(ge=EFFECTIVE_HOURS_RANGE[0], le=EFFECTIVE_HOURS_RANGE[1],
                                        allow_inf_nan=False)]


# --------------------------------------------------------------------------- units


class Unit(Model):
    """An organisational unit: an OPD, a kecamatan or kelurahan, an RSUD, a school, ..."""

    id: Id
    name: Name
    kind: UnitKind
    parent_id: Id | None = None


# --------------------------------------------------------------------------- positions


class CompetencyRequirement(Model):
    name: Name
    kind: CompetencyKind = CompetencyKind.TEKNIS
    min_level: CompetencyLevel = CompetencyLevel.L1
    factor: ProfileFactor = Field(
        default=ProfileFactor.CORE,
        description="Profile matching: a core or a secondary factor of the competency aspect",
    )


class Requirements(Model):
    """Syarat jabatan: what a person must have to hold the position."""

    min_rank: Golongan | None = None
    max_rank: Golongan | None = None
    min_education: EducationLevel | None = None
    education_fields: list[Name] = Field(default_factory=list, description="Accepted fields; empty means any")
    competencies: list[CompetencyRequirement] = Field(default_factory=list)
    trainings: list[Name] = Field(default_factory=list, description="Trainings (diklat) required")
    certificates: list[Name] = Field(default_factory=list, description="Certificates required, e.g. STR")

    @model_validator(mode="after")
    def _rank_range_ordered(self) -> Requirements:
        if self.min_rank and self.max_rank and self.min_rank.ordinal > self.max_rank.ordinal:
            raise ValueError(f"min_rank {self.min_rank.value} is above max_rank {self.max_rank.value}")
        return self


class WorkloadTask(Model):
    """One task of a position in workload analysis (ABK, PermenPANRB 1/2020)."""

    name: Name
    volume_per_year: NonNegative = Field(le=MAX_VOLUME_PER_YEAR,
                                         description="Beban kerja: units of output per year (plausible: 0 to 1e8)")
    norm_minutes: NonNegative = Field(le=MAX_NORM_MINUTES,
                                      description="Norma waktu: minutes to produce one unit (plausible: 0 to 1e6)")
    temporary_from: dt.date | None = Field(
        default=None, description="A temporary task (a surge): its workload starts on this date; null: already running"
    )
    temporary_until: dt.date | None = Field(
        default=None,
        description="A temporary task (a surge): its workload ends on this date; null: permanent. Moves that "
        "only serve temporary work may become time-bounded assignments (docs/scenarios.md)",
    )

    @model_validator(mode="after")
    def _period_ordered(self) -> WorkloadTask:
        if self.temporary_from is not None and self.temporary_until is None:
            raise ValueError("temporary_from needs temporary_until (a temporary task ends)")
        if self.temporary_from and self.temporary_until and self.temporary_until < self.temporary_from:
            raise ValueError(f"temporary_until {self.temporary_until} is before temporary_from {self.temporary_from}")
        return self

    @model_serializer(mode="wrap")
    def _omit_unset_period(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # A permanent task serialises exactly as before these fields existed, so the canonical
        # hash of every existing dataset (recorded in results and the decision log) is unchanged.
        data: dict[str, object] = handler(self)
        for key in ("temporary_from", "temporary_until"):
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @property
    def is_temporary(self) -> bool:
        return self.temporary_until is not None


class Position(Model):
    """A jabatan in a unit, with its requirements and workload tasks."""

    id: Id
    name: Name
    kind: JabatanKind
    level: JabatanLevel | None = None
    kelas: int = Field(ge=1, le=17, description="Kelas jabatan 1-17")
    unit_id: Id
    requirements: Requirements = Field(default_factory=Requirements)
    tasks: list[WorkloadTask] | None = Field(
        default=None, description="Workload tasks; null means no workload data (unknown, not zero)"
    )
    programmes: list[Name] = Field(default_factory=list, description="Programmes served, e.g. vaksinasi")

    @model_validator(mode="after")
    def _level_fits_kind(self) -> Position:
        allowed: frozenset[JabatanLevel] = {
            JabatanKind.JPT: JPT_LEVELS,
            JabatanKind.FUNGSIONAL: FUNGSIONAL_KEAHLIAN | FUNGSIONAL_KETERAMPILAN,
        }.get(self.kind, frozenset())
        if allowed and self.level is None:
            raise ValueError(f"a {self.kind.value} position needs a level")
        if self.level is not None and self.level not in allowed:
            raise ValueError(f"level {self.level.value} does not belong to position kind {self.kind.value}")
        return self

    @property
    def retirement_age(self) -> int:
        return retirement_age(self.kind, self.level)


# --------------------------------------------------------------------------- employees


class Competency(Model):
    name: Name
    kind: CompetencyKind = CompetencyKind.TEKNIS
    level: CompetencyLevel


class Training(Model):
    """A completed training (diklat) or a certificate, with its validity."""

    name: Name
    completed: dt.date
    expires: dt.date | None = None
    hours: Annotated[float, Field(ge=0, le=MAX_TRAINING_HOURS, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _expiry_after_completion(self) -> Training:
        if self.expires is not None and self.expires < self.completed:
            raise ValueError(f"expires {self.expires} is before completed {self.completed}")
        return self

    def valid_on(self, day: dt.date) -> bool:
        return self.completed <= day and (self.expires is None or day <= self.expires)


class PerformanceRecord(Model):
    year: int = Field(ge=1950, le=2200)
    predikat: Predikat


class Sanction(Model):
    """A disciplinary sanction (hukuman disiplin) and the period it runs."""

    level: SanctionLevel
    description: Text = ""
    start: dt.date
    end: dt.date | None = Field(default=None, description="Null: open-ended")

    @model_validator(mode="after")
    def _end_after_start(self) -> Sanction:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class PositionHistoryEntry(Model):
    position_name: Name
    unit_id: Id | None = None
    position_id: Id | None = None
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _end_after_start(self) -> PositionHistoryEntry:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Preferences(Model):
    willing_to_move: bool | None = None
    preferred_unit_ids: list[Id] = Field(default_factory=list)


class Education(Model):
    level: EducationLevel
    field: Name | None = None


class Employee(Model):
    """A pegawai (ASN) with the facts transfer rules read."""

    nip: str = Field(description="18 digits: birth date, TMT CPNS YYYYMM, gender digit, serial")
    name: Name
    status: EmployeeStatus
    gender: Gender
    birth_date: dt.date
    rank: Golongan | None = Field(default=None, description="Golongan/ruang; required for PNS and CPNS")
    position_id: Id
    unit_id: Id
    position_start: dt.date = Field(description="TMT jabatan: start in the current position")
    education: Education
    competencies: list[Competency] = Field(default_factory=list)
    trainings: list[Training] = Field(default_factory=list)
    certificates: list[Training] = Field(default_factory=list)
    performance: list[PerformanceRecord] = Field(default_factory=list)
    sanctions: list[Sanction] = Field(default_factory=list)
    under_investigation: bool = False
    position_history: list[PositionHistoryEntry] = Field(default_factory=list)
    preferences: Preferences = Field(default_factory=Preferences)

    @field_validator("nip", mode="before")
    @classmethod
    def _nip_is_text(cls, value: object) -> object:
        # Spreadsheets turn NIPs into numbers; 18 digits survive int but not float.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("nip")
    @classmethod
    def _nip_well_formed(cls, value: str) -> str:
        parse_nip(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Employee:
        parts = parse_nip(self.nip)
        if parts.birth_date != self.birth_date:
            raise ValueError(f"NIP birth date {parts.birth_date} disagrees with birth_date {self.birth_date}")
        if parts.gender is not self.gender:
            raise ValueError(f"NIP gender digit says {parts.gender.value}, gender is {self.gender.value}")
        if self.status in (EmployeeStatus.PNS, EmployeeStatus.CPNS) and self.rank is None:
            raise ValueError(f"rank is required for status {self.status.value}")
        years = [p.year for p in self.performance]
        if len(years) != len(set(years)):
            raise ValueError("performance has more than one predikat for the same year")
        return self

    @property
    def tmt_cpns(self) -> dt.date:
        parts = parse_nip(self.nip)
        return dt.date(parts.tmt_cpns_year, parts.tmt_cpns_month, 1)

    def latest_predikat(self) -> Predikat | None:
        if not self.performance:
            return None
        return max(self.performance, key=lambda p: p.year).predikat


# --------------------------------------------------------------------------- dataset


class ElectionCalendar(Model):
    """Regional-election dates that restrict transfers (UU 10/2016 art. 71(2), 162(3))."""

    candidate_determination: dt.date | None = Field(default=None, description="Penetapan pasangan calon")
    inauguration: dt.date | None = Field(default=None, description="Pelantikan kepala daerah")


class DatasetMetadata(Model):
    name: Name
    as_of: dt.date = Field(description="Date every derived value is computed for")
    description: Text = ""
    source: Text = ""
    effective_hours_per_year: EffectiveHours = Field(
        default=1250.0, description="Jam kerja efektif per person-year (PermenPANRB 1/2020; plausible: 500 to 3000)"
    )
    election: ElectionCalendar = Field(default_factory=ElectionCalendar)


class Dataset(Model):
    """Everything one run reads: units, positions, employees and metadata."""

    schema_version: Literal["1"] = "1"
    metadata: DatasetMetadata
    units: list[Unit]
    positions: list[Position]
    employees: list[Employee]

    def unit_by_id(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}

    def position_by_id(self) -> dict[str, Position]:
        return {p.id: p for p in self.positions}

    def employee_by_nip(self) -> dict[str, Employee]:
        return {e.nip: e for e in self.employees}
