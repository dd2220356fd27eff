"""Workload analysis (ABK, analisis beban kerja; PermenPANRB 1/2020).

Figures are plain arithmetic, computed here in Python:

* per position: workload hours = sum(volume per year x norm minutes / 60); staff needed
  = workload / effective hours per person-year; bezetting (current staff); gap = staff
  needed (rounded) - bezetting; job efficiency EJ = workload / (bezetting x effective
  hours) with its grade A-E (Permendagri 12/2008);
* per unit: the same figures summed over the positions of the unit and all its sub-units;
* for the city: a balance figure over the OPD-level units (spread of EJ, share outside
  the band), which a transfer plan can recompute with bezetting changes.

The *labels* (kekurangan, kelebihan, seimbang, tidak_diketahui) are not decided here:
they come from the staffing-norm rule set evaluated by the rule engine
(:func:`analyse_workload`), so an agency can change the norm without touching code.

docs/workload.md documents every choice (rounding, what a vacancy is, how units with
unknown workload are summed) and the JSON of :class:`WorkloadReport`.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mutasi_rules.data.facts import (
    DatasetIndex,
    PositionScope,
    UnitScope,
    WorkloadFigures,
    context_facts,
    position_facts,
    unit_facts,
)
from mutasi_rules.data.models import Dataset, EffectiveHours, JabatanKind, UnitKind
from mutasi_rules.problems import Problems
from mutasi_rules.rules.engine import Finding, RuleEngine
from mutasi_rules.rules.rulesets import Effect, RuleSetRef

REPORT_FORMAT: Final = "mutasi-rules.workload/1"
"""Identifies the JSON layout of :class:`WorkloadReport`; bumped on incompatible change."""

DEFAULT_EFFECTIVE_HOURS = 1250.0
"""Jam kerja efektif per person-year, PermenPANRB 1/2020 (the dataset may say otherwise)."""

STAFFING_RULESET_ID = "national.staffing-norms"
"""The rule set whose ``classify`` rules label positions and units."""

Rounding = Literal["half_up", "ceil", "floor", "none"]


# --------------------------------------------------------------------------- settings


class GradeBand(BaseModel):
    """One EJ grade: the EJ must be above ``minimum`` (or equal to it when ``inclusive``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grade: str = Field(min_length=1, max_length=8)
    minimum: float = Field(ge=0)
    inclusive: bool = True


def _default_grades() -> list[GradeBand]:
    # Permendagri 12/2008: A > 1.00; B 0.90-1.00; C 0.70-0.89; D 0.50-0.69; E < 0.50.
    # "0.70-0.89" is read as [0.70, 0.90): grades are contiguous, no EJ falls between.
    return [
        GradeBand(grade="A", minimum=1.00, inclusive=False),
        GradeBand(grade="B", minimum=0.90),
        GradeBand(grade="C", minimum=0.70),
        GradeBand(grade="D", minimum=0.50),
    ]


class WorkloadSettings(BaseModel):
    """How the figures are computed. Every convention is a setting, none is hard-coded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    effective_hours_per_year: EffectiveHours | None = Field(
        default=None,
        description="Jam kerja efektif per person-year (plausible: 500 to 3000); null: the dataset metadata's value "
        f"(default {DEFAULT_EFFECTIVE_HOURS:g}, PermenPANRB 1/2020)",
    )
    rounding: Rounding = Field(
        default="half_up",
        description="Rounding of staff needed to whole persons: half_up (>= .5 rounds up, the ABK "
        "practice), ceil, floor, or none (keep the fraction)",
    )
    minimum_one: bool = Field(
        default=True,
        description="A position or unit with any workload needs at least 1 person after rounding",
    )
    grades: list[GradeBand] = Field(
        default_factory=_default_grades,
        description="EJ grades from the highest down (Permendagri 12/2008); an EJ below all of them "
        "gets lowest_grade",
    )
    lowest_grade: str = Field(default="E", min_length=1, max_length=8)
    band_low: float = Field(default=0.90, ge=0, description="Balanced EJ band, lower bound (inclusive)")
    band_high: float = Field(default=1.10, gt=0, description="Balanced EJ band, upper bound (inclusive)")
    decimals: int = Field(default=4, ge=0, le=10, description="Decimal places of every float in the output")

    @model_validator(mode="after")
    def _consistent(self) -> WorkloadSettings:
        minima = [g.minimum for g in self.grades]
        if minima != sorted(minima, reverse=True) or len(set(minima)) != len(minima):
            raise ValueError(f"grades must go from the highest minimum down, without repeats; got {minima}")
        names = [g.grade for g in self.grades] + [self.lowest_grade]
        if len(set(names)) != len(names):
            raise ValueError(f"grade names must be distinct; got {names}")
        if self.band_low > self.band_high:
            raise ValueError(f"band_low {self.band_low} is above band_high {self.band_high}")
        return self

    def hours_for(self, dataset: Dataset) -> float:
        """The effective hours used for ``dataset``: this setting, else the dataset's."""
        return self.effective_hours_per_year or dataset.metadata.effective_hours_per_year

    def ej_shown(self, ej: float, places: int = 2) -> float:
        """``ej`` rounded to ``places`` for people, on its own side of every grade and balance-band
        edge: a figure shown next to its grade or label never reads as the neighbouring one
        (1.004 is grade A, "above 1.00": shown 1.01, not 1.00; 0.8996 is C: 0.89, not 0.90)."""
        nearest = round(ej, places)
        if self._sides(nearest) == self._sides(ej):
            return nearest
        step = Decimal(1).scaleb(-places)
        toward = ROUND_FLOOR if nearest > ej else ROUND_CEILING
        return float(Decimal(repr(ej)).quantize(step, rounding=toward))

    def _sides(self, ej: float) -> tuple[str | None, bool, bool]:
        return self.grade(ej), ej < self.band_low, ej > self.band_high

    def grade(self, ej: float | None) -> str | None:
        """The grade of an EJ value (None for an unknown EJ)."""
        if ej is None:
            return None
        for band in self.grades:
            if ej > band.minimum or (band.inclusive and ej == band.minimum):
                return band.grade
        return self.lowest_grade

    def round_staff(self, needed: float | None) -> float | int | None:
        """Staff needed in whole persons (or the fraction when rounding is ``none``).

        The value is first rounded to ``decimals`` places so that float noise
        (2.4999999999 for an exact 2.5) does not decide the rounding.
        """
        if needed is None:
            return None
        exact = Decimal(repr(round(needed, self.decimals)))
        if self.rounding == "none":
            value: float | int = float(exact)
        else:
            mode = {"half_up": ROUND_HALF_UP, "ceil": ROUND_CEILING, "floor": ROUND_FLOOR}[self.rounding]
            value = int(exact.quantize(Decimal(1), rounding=mode))
        if self.minimum_one and needed > 0 and value < 1:
            value = 1 if isinstance(value, int) else 1.0
        return value


# --------------------------------------------------------------------------- figures


class PositionWorkload(BaseModel):
    """Workload figures of one position. Floats are rounded to ``settings.decimals``."""

    model_config = ConfigDict(frozen=True)

    position_id: str
    name: str
    kind: JabatanKind
    unit_id: str
    opd_id: str
    has_workload_data: bool = Field(description="False: tasks unknown; figures are null, never 0")
    task_count: int
    workload_hours: float | None
    staff_needed: float | None = Field(description="Raw: workload_hours / effective hours")
    staff_needed_rounded: float | int | None = Field(description="Whole persons per the rounding setting")
    bezetting: int
    gap: float | int | None = Field(description="staff_needed_rounded - bezetting (used to plan moves)")
    gap_raw: float | None = Field(description="staff_needed - bezetting")
    ej: float | None = Field(description="workload / (bezetting x effective hours); null for a vacancy")
    ej_grade: str | None
    vacancy: bool = Field(description="No current staff (bezetting 0)")
    labels: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)

    def figures(self) -> WorkloadFigures:
        """The figures rule conditions read (``position.gap``, ``position.ej``...).

        Rules see the raw staff needed and the raw gap: the labels are decided on EJ, and
        a message such as "1.4 needed, 1 in post" must agree with it (the rounded "1
        needed" would contradict an overload label).
        """
        return WorkloadFigures(
            workload_hours=self.workload_hours,
            staff_needed=self.staff_needed,
            bezetting=self.bezetting,
            gap=self.gap_raw,
            ej=self.ej,
            ej_grade=self.ej_grade,
        )


class UnitWorkload(BaseModel):
    """Figures of a unit summed over its positions and those of all its sub-units."""

    model_config = ConfigDict(frozen=True)

    unit_id: str
    name: str
    kind: UnitKind
    parent_id: str | None
    opd_id: str
    is_opd: bool = Field(description="Top-level unit (no parent): an OPD row of the city")
    position_count: int = Field(description="Positions in the unit and its sub-units")
    positions_with_data: int
    positions_without_data: int
    unknown_position_ids: list[str] = Field(description="Positions excluded from the sums: workload unknown")
    bezetting: int = Field(description="All current staff of the unit and its sub-units")
    bezetting_with_data: int = Field(description="Staff in positions with known workload (EJ and gap use this)")
    workload_hours: float | None = Field(description="Null when no position has workload data")
    staff_needed: float | None
    staff_needed_rounded: float | int | None = Field(description="Sum of the positions' rounded values")
    gap: float | int | None = Field(description="staff_needed_rounded - bezetting_with_data")
    gap_raw: float | None = Field(description="staff_needed - bezetting_with_data")
    ej: float | None = Field(description="workload / (bezetting_with_data x effective hours)")
    ej_grade: str | None
    vacancy: bool = Field(description="Known workload but no staff in those positions")
    labels: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)

    def figures(self) -> WorkloadFigures:
        """The figures rule conditions read (``unit.ej``, ``unit.bezetting``...).

        As for positions, staff needed and gap are raw. Where the workload is known,
        ``bezetting`` is the staff of the positions with workload data, so that EJ, gap
        and bezetting describe the same positions and a unit whose only staff sit in
        positions of unknown workload reads as unstaffed for the work that is known.
        """
        known = self.workload_hours is not None
        return WorkloadFigures(
            workload_hours=self.workload_hours,
            staff_needed=self.staff_needed,
            bezetting=self.bezetting_with_data if known else self.bezetting,
            gap=self.gap_raw,
            ej=self.ej,
            ej_grade=self.ej_grade,
        )


class BalanceFigure(BaseModel):
    """How even job efficiency is across the OPD-level units (before or after a plan)."""

    model_config = ConfigDict(frozen=True)

    band_low: float
    band_high: float
    units_considered: int = Field(description="OPD-level units with known workload and staff")
    unit_ids: list[str]
    units_excluded: list[str] = Field(description="OPD-level units without an EJ (unknown workload or no staff)")
    ej_mean: float | None
    ej_std: float | None = Field(description="Population standard deviation of the units' EJ")
    ej_min: float | None
    ej_min_unit: str | None
    ej_max: float | None
    ej_max_unit: str | None
    outside_band: list[str] = Field(description="Units whose EJ is outside [band_low, band_high]")
    outside_band_share: float | None = Field(description="len(outside_band) / units_considered")


def _r(value: float | None, places: int) -> float | None:
    # "+ 0.0" turns -0.0 into 0.0 so the JSON never shows a signed zero.
    return None if value is None else round(value, places) + 0.0


class WorkloadCalculator:
    """Workload figures of one dataset, recomputable under bezetting changes.

    Task sums and the unit tree are computed once; :meth:`positions`, :meth:`units` and
    :meth:`balance` take a ``bezetting_delta`` (position id -> change in staff) so a
    transfer plan can report before and after without rebuilding the dataset.
    """

    def __init__(self, dataset: Dataset, settings: WorkloadSettings | None = None,
                 index: DatasetIndex | None = None) -> None:
        self.dataset = dataset
        self.settings = settings or WorkloadSettings()
        self.index = index or DatasetIndex(dataset)
        self.hours = self.settings.hours_for(dataset)
        self._workload: dict[str, float | None] = {}
        for position in dataset.positions:
            if position.tasks is None:
                self._workload[position.id] = None
            else:
                # fsum: exact sum, independent of the order float errors would otherwise depend on.
                self._workload[position.id] = math.fsum(
                    t.volume_per_year * t.norm_minutes / 60.0 for t in position.tasks
                )
        # unit id -> ids of positions in the unit and its sub-units, sorted.
        self._members: dict[str, list[str]] = {u.id: [] for u in dataset.units}
        for position in sorted(dataset.positions, key=lambda p: p.id):
            for unit_id in self.index.unit_path(position.unit_id):
                if unit_id in self._members:
                    self._members[unit_id].append(position.id)
        # For the fast balance: OPD-level unit -> fsum of its known workload (the same sum
        # units() computes), and position -> the OPD-level unit whose EJ its staff count in.
        self._opd_workload: dict[str, float | None] = {}
        self._opd_of_position: dict[str, str] = {}
        for unit in sorted(dataset.units, key=lambda u: u.id):
            if unit.parent_id is not None:
                continue
            known = [pid for pid in self._members[unit.id] if self._workload[pid] is not None]
            self._opd_workload[unit.id] = math.fsum(self._workload[pid] or 0.0 for pid in known) if known else None
            for pid in known:
                self._opd_of_position[pid] = unit.id

    # ----------------------------------------------------------------- bezetting

    def bezetting(self, bezetting_delta: Mapping[str, int] | None = None) -> dict[str, int]:
        """Staff per position after applying ``bezetting_delta``.

        Raises ``ValueError`` naming every unknown position id and every position whose
        staff would fall below zero.
        """
        staff = {p.id: self.index.bezetting.get(p.id, 0) for p in self.dataset.positions}
        for position_id, change in self._checked_delta(bezetting_delta).items():
            staff[position_id] += change
        return staff

    def _checked_delta(self, bezetting_delta: Mapping[str, int] | None) -> dict[str, int]:
        if not bezetting_delta:
            return {}
        errors = []
        for position_id, change in sorted(bezetting_delta.items()):
            if position_id not in self._workload:
                errors.append(f"bezetting_delta: unknown position id {position_id!r}")
                continue
            current = self.index.bezetting.get(position_id, 0)
            if current + change < 0:
                errors.append(
                    f"bezetting_delta: position {position_id!r} has {current} staff, "
                    f"change {change:+d} would leave {current + change}"
                )
        if errors:
            raise ValueError("; ".join(errors))
        return dict(bezetting_delta)

    # ----------------------------------------------------------------- positions

    def positions(self, bezetting_delta: Mapping[str, int] | None = None) -> list[PositionWorkload]:
        """Figures of every position, sorted by position id."""
        staff = self.bezetting(bezetting_delta)
        places = self.settings.decimals
        out = []
        for position in sorted(self.dataset.positions, key=lambda p: p.id):
            workload = self._workload[position.id]
            bezetting = staff[position.id]
            needed = None if workload is None else workload / self.hours
            rounded = self.settings.round_staff(needed)
            ej = None if workload is None or bezetting == 0 else _r(workload / (bezetting * self.hours), places)
            out.append(
                PositionWorkload(
                    position_id=position.id,
                    name=position.name,
                    kind=position.kind,
                    unit_id=position.unit_id,
                    opd_id=self.index.opd_of(position.unit_id),
                    has_workload_data=workload is not None,
                    task_count=len(position.tasks or ()),
                    workload_hours=_r(workload, places),
                    staff_needed=_r(needed, places),
                    staff_needed_rounded=rounded,
                    bezetting=bezetting,
                    gap=None if rounded is None else _gap(rounded, bezetting, places),
                    gap_raw=None if needed is None else _r(needed - bezetting, places),
                    ej=ej,
                    # Graded on the rounded EJ, the value people see, so the grade matches it.
                    ej_grade=self.settings.grade(ej),
                    vacancy=bezetting == 0,
                )
            )
        return out

    # ----------------------------------------------------------------- units

    def units(
        self,
        bezetting_delta: Mapping[str, int] | None = None,
        positions: Sequence[PositionWorkload] | None = None,
    ) -> list[UnitWorkload]:
        """Figures of every unit (its positions and its sub-units' positions), sorted by unit id."""
        if positions is None:
            positions = self.positions(bezetting_delta)
        by_id = {p.position_id: p for p in positions}
        staff = self.bezetting(bezetting_delta)
        places = self.settings.decimals
        out = []
        for unit in sorted(self.dataset.units, key=lambda u: u.id):
            members = self._members[unit.id]
            known = [pid for pid in members if self._workload[pid] is not None]
            unknown = [pid for pid in members if self._workload[pid] is None]
            bezetting = sum(staff[pid] for pid in members)
            bezetting_known = sum(staff[pid] for pid in known)
            if known:
                known_hours = math.fsum(self._workload[pid] or 0.0 for pid in known)
                workload: float | None = known_hours
                needed: float | None = known_hours / self.hours
                rounded_values = [by_id[pid].staff_needed_rounded for pid in known]
                rounded: float | int | None = (
                    sum(v for v in rounded_values if isinstance(v, int))
                    if self.settings.rounding != "none"
                    else _r(math.fsum(float(v or 0) for v in rounded_values), places)
                )
            else:
                workload = needed = rounded = None
            ej = (
                None
                if workload is None or bezetting_known == 0
                else _r(workload / (bezetting_known * self.hours), places)
            )
            out.append(
                UnitWorkload(
                    unit_id=unit.id,
                    name=unit.name,
                    kind=unit.kind,
                    parent_id=unit.parent_id,
                    opd_id=self.index.opd_of(unit.id),
                    is_opd=unit.parent_id is None,
                    position_count=len(members),
                    positions_with_data=len(known),
                    positions_without_data=len(unknown),
                    unknown_position_ids=unknown,
                    bezetting=bezetting,
                    bezetting_with_data=bezetting_known,
                    workload_hours=_r(workload, places),
                    staff_needed=_r(needed, places),
                    staff_needed_rounded=rounded,
                    gap=None if rounded is None else _gap(rounded, bezetting_known, places),
                    gap_raw=None if needed is None else _r(needed - bezetting_known, places),
                    ej=ej,
                    ej_grade=self.settings.grade(ej),
                    vacancy=workload is not None and bezetting_known == 0,
                )
            )
        return out

    # ----------------------------------------------------------------- balance

    def balance(
        self,
        bezetting_delta: Mapping[str, int] | None = None,
        units: Sequence[UnitWorkload] | None = None,
    ) -> BalanceFigure:
        """The balance figure over the OPD-level units (see docs/workload.md).

        Without ``units`` only the OPD sums are recomputed (no per-position records), so a
        planner can call this for many candidate plans; the result is identical to
        ``balance_of(self.units(bezetting_delta))``.
        """
        if units is not None:
            return balance_of(units, self.settings)
        staff: dict[str, int] = {}
        for pid, opd in self._opd_of_position.items():
            staff[opd] = staff.get(opd, 0) + self.index.bezetting.get(pid, 0)
        for pid, change in self._checked_delta(bezetting_delta).items():
            owner = self._opd_of_position.get(pid)
            if owner is not None:
                staff[owner] = staff.get(owner, 0) + change
        places = self.settings.decimals
        ejs: list[tuple[str, float | None]] = []
        for opd, workload in self._opd_workload.items():
            count = staff.get(opd, 0)
            ejs.append((opd, None if workload is None or count == 0 else _r(workload / (count * self.hours), places)))
        return _balance(ejs, self.settings)


def _gap(rounded: float | int, bezetting: int, places: int) -> float | int:
    if isinstance(rounded, int):
        return rounded - bezetting
    return round(rounded - bezetting, places) + 0.0


def balance_of(units: Sequence[UnitWorkload], settings: WorkloadSettings) -> BalanceFigure:
    """Balance over the OPD-level units of ``units`` (those without a parent)."""
    return _balance([(u.unit_id, u.ej) for u in units if u.is_opd], settings)


def _balance(ejs: Sequence[tuple[str, float | None]], settings: WorkloadSettings) -> BalanceFigure:
    """Balance over (OPD id, EJ) pairs; OPDs without an EJ are listed as excluded.

    Spread is the population standard deviation (the OPDs are the whole population,
    not a sample); the band is inclusive at both ends; ties for min and max go to the
    lowest unit id.
    """
    places = settings.decimals
    ordered = sorted(ejs)
    considered = [(uid, ej) for uid, ej in ordered if ej is not None]
    values = [ej for _, ej in considered]
    outside = [uid for uid, ej in considered if not settings.band_low <= ej <= settings.band_high]
    low = min(considered, key=lambda c: (c[1], c[0])) if considered else None
    high = min(considered, key=lambda c: (-c[1], c[0])) if considered else None
    return BalanceFigure(
        band_low=settings.band_low,
        band_high=settings.band_high,
        units_considered=len(considered),
        unit_ids=[uid for uid, _ in considered],
        units_excluded=[uid for uid, ej in ordered if ej is None],
        ej_mean=_r(statistics.fmean(values), places) if values else None,
        ej_std=_r(statistics.pstdev(values), places) if values else None,
        ej_min=low[1] if low else None,
        ej_min_unit=low[0] if low else None,
        ej_max=high[1] if high else None,
        ej_max_unit=high[0] if high else None,
        outside_band=outside,
        outside_band_share=_r(len(outside) / len(values), places) if values else None,
    )


def compute_positions(dataset: Dataset, settings: WorkloadSettings | None = None,
                      *, bezetting_delta: Mapping[str, int] | None = None) -> list[PositionWorkload]:
    """Figures of every position of ``dataset`` (no labels)."""
    return WorkloadCalculator(dataset, settings).positions(bezetting_delta)


def compute_units(dataset: Dataset, settings: WorkloadSettings | None = None,
                  *, bezetting_delta: Mapping[str, int] | None = None) -> list[UnitWorkload]:
    """Figures of every unit of ``dataset``, rolled up over sub-units (no labels)."""
    return WorkloadCalculator(dataset, settings).units(bezetting_delta)


def balance_figure(dataset: Dataset, settings: WorkloadSettings | None = None,
                   *, bezetting_delta: Mapping[str, int] | None = None) -> BalanceFigure:
    """The city balance figure, optionally after bezetting changes (a transfer plan)."""
    return WorkloadCalculator(dataset, settings).balance(bezetting_delta)


# --------------------------------------------------------------------------- labels through the rules


class WorkloadReport(BaseModel):
    """The workload analysis of one dataset on one date; JSON documented in docs/workload.md."""

    model_config = ConfigDict(frozen=True)

    format: Literal["mutasi-rules.workload/1"] = REPORT_FORMAT
    dataset: str = Field(description="Dataset name (metadata.name)")
    as_of: dt.date
    effective_hours_per_year: float = Field(description="Effective hours actually used")
    settings: WorkloadSettings
    rulesets: list[RuleSetRef] = Field(description="Rule sets evaluated, sorted by id")
    balance: BalanceFigure
    units: list[UnitWorkload] = Field(description="Sorted by unit id")
    positions: list[PositionWorkload] = Field(description="Sorted by position id")
    warnings: list[str] = Field(default_factory=list)

    def opd_units(self) -> list[UnitWorkload]:
        return [u for u in self.units if u.is_opd]

    def unit(self, unit_id: str) -> UnitWorkload | None:
        return next((u for u in self.units if u.unit_id == unit_id), None)

    def position(self, position_id: str) -> PositionWorkload | None:
        return next((p for p in self.positions if p.position_id == position_id), None)


def _labels(findings: Sequence[Finding]) -> list[str]:
    return sorted({f.label for f in findings if f.effect is Effect.CLASSIFY and f.label})


def figures_report(
    dataset: Dataset,
    *,
    as_of: dt.date | None = None,
    settings: WorkloadSettings | None = None,
    bezetting_delta: Mapping[str, int] | None = None,
) -> WorkloadReport:
    """The workload report without labels: figures and balance only (no rule engine)."""
    settings = settings or WorkloadSettings()
    problems = Problems()
    unit_ids = {u.id for u in dataset.units}
    for position in dataset.positions:
        if position.unit_id not in unit_ids:
            problems.error("position.unknown_unit", "the position's unit is not in the dataset",
                           record=f"position {position.id}", field="unit_id", value=position.unit_id)
    problems.raise_if_errors(f"dataset {dataset.metadata.name}")
    calc = WorkloadCalculator(dataset, settings)
    positions = calc.positions(bezetting_delta)
    units = calc.units(bezetting_delta, positions)
    warnings = []
    unknown = sum(1 for p in positions if not p.has_workload_data)
    if unknown:
        warnings.append(f"{unknown} of {len(positions)} positions have no workload data; unit sums exclude them")
    return WorkloadReport(
        dataset=dataset.metadata.name,
        as_of=as_of or dataset.metadata.as_of,
        effective_hours_per_year=calc.hours,
        settings=settings,
        rulesets=[],
        balance=calc.balance(units=units),
        units=units,
        positions=positions,
        warnings=warnings,
    )


def label_report(
    report: WorkloadReport,
    dataset: Dataset,
    rulesets: Sequence[Any],
    *,
    extensions: Sequence[Any] = (),
) -> WorkloadReport:
    """``report`` with each position and unit labelled by the rules' position/unit findings.

    ``dataset`` must be the one the report was computed from (its records give the
    non-workload facts). Every finding is attached; the labels are those of ``classify``
    findings, sorted.
    """

    day = report.as_of
    index = DatasetIndex(dataset)
    context = context_facts(day, dataset)
    unit_fact = {u.unit_id: unit_facts(index.units[u.unit_id], index, u.figures()) for u in report.units}
    # A position's unit fact is its own unit's, with that unit's rolled-up figures.
    position_scopes = [
        PositionScope(
            as_of=day,
            context=context,
            position=position_facts(index.positions[p.position_id], index, p.figures()),
            unit=unit_fact[p.unit_id],
        )
        for p in report.positions
    ]
    unit_scopes = [UnitScope(as_of=day, context=context, unit=unit_fact[u.unit_id]) for u in report.units]

    with RuleEngine(list(rulesets), as_of=day, extensions=tuple(extensions)) as engine:
        position_findings = engine.evaluate("position", position_scopes, [p.position_id for p in report.positions])
        unit_findings = engine.evaluate("unit", unit_scopes, [u.unit_id for u in report.units])

    positions = []
    for figures, raw in zip(report.positions, position_findings, strict=True):
        found = list(raw)
        positions.append(figures.model_copy(update={"findings": found, "labels": _labels(found)}))
    units = []
    for unit_figures, raw in zip(report.units, unit_findings, strict=True):
        found = list(raw)
        units.append(unit_figures.model_copy(update={"findings": found, "labels": _labels(found)}))

    warnings = list(report.warnings)
    if STAFFING_RULESET_ID not in {r.id for r in rulesets}:
        warnings.append(f"rule set {STAFFING_RULESET_ID} is not loaded: labels come only from the rule sets given")
    refs = [RuleSetRef(id=r.id, version=r.version, sha256=r.sha256, origin=str(r.origin)) for r in rulesets]
    return report.model_copy(update={
        "rulesets": sorted(refs, key=lambda r: (r.id, r.version, r.origin)),
        "positions": positions,
        "units": units,
        "warnings": warnings,
    })


def analyse_workload(
    dataset: Dataset,
    rulesets: Sequence[Any],
    *,
    as_of: dt.date | None = None,
    settings: WorkloadSettings | None = None,
    bezetting_delta: Mapping[str, int] | None = None,
    extensions: Sequence[Any] = (),
) -> WorkloadReport:
    """Figures of every position and unit, labelled by the rule sets' position/unit rules.

    ``rulesets`` are :class:`~mutasi_rules.rules.rulesets.LoadedRuleSet` (normally including
    ``national.staffing-norms``); the labels are the ``classify`` findings of the rules,
    and each position or unit carries every finding the engine reported for it.
    ``as_of`` defaults to the dataset's ``metadata.as_of``; ``bezetting_delta`` analyses
    the dataset as it would be after a transfer plan.
    """
    report = figures_report(dataset, as_of=as_of, settings=settings, bezetting_delta=bezetting_delta)
    return label_report(report, dataset, rulesets, extensions=extensions)
