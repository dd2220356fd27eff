"""Values plugins hand back to mutasi-rules, as pydantic models.

Every hook result is validated against these models (``pydantic.TypeAdapter``) before the
library uses it, so a plugin that returns the wrong shape is reported by name rather than
failing somewhere downstream. ``source`` fields are filled in by the plugin manager with the
contributing plugin's origin (``plugin:<name>==<version>``); whatever a plugin puts there is
overwritten, so the provenance shown in explanations cannot be forged by another plugin.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mutasi_rules.data.models import ScorePoints
from mutasi_rules.rules.rulesets import Localized

if TYPE_CHECKING:  # plan is only needed when a constraint is turned into a MinStaff
    from mutasi_rules.data.models import Dataset
    from mutasi_rules.planning.plan import MinStaff


class _Value(BaseModel):
    # revalidate_instances: a value a plugin built with model_construct() (no checks) is checked
    # when the manager validates the hook's result, so NaN points cannot slip through.
    model_config = ConfigDict(extra="forbid", frozen=True, revalidate_instances="always")


class RuleSetContribution(_Value):
    """A rule set a plugin contributes: a YAML file (package data) or YAML text.

    Use :meth:`from_package` for a file shipped inside the plugin package; it works for
    installed, editable and zipped packages alike.
    """

    path: Path | None = Field(default=None, description="A YAML rule file on disk")
    text: str | None = Field(default=None, description="YAML text of a rule file")
    name: str | None = Field(default=None, description="How to name text in problem reports (e.g. the resource)")

    @model_validator(mode="after")
    def _exactly_one(self) -> RuleSetContribution:
        if (self.path is None) == (self.text is None):
            raise ValueError("give exactly one of 'path' or 'text'")
        return self

    @classmethod
    def from_package(cls, package: str, resource: str) -> RuleSetContribution:
        """The rule file ``resource`` (e.g. ``"rules/dinkes.yaml"``) inside ``package``."""
        from importlib.resources import files

        ref = files(package).joinpath(resource)
        if isinstance(ref, Path):
            return cls(path=ref)
        return cls(text=ref.read_text(encoding="utf-8"), name=f"{package}/{resource}")

    def label(self) -> str:
        return str(self.path) if self.path is not None else (self.name or "<text>")


class ScoreComponent(_Value):
    """Points a plugin adds to (or, negative, subtracts from) one candidate's score."""

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_.\-]*$", description="Score component name")
    points: ScorePoints = Field(description="Finite, -10000 to 10000")
    reason: Localized
    source: str = ""


class Veto(_Value):
    """A plugin's objection to one candidate: the move is not recommended. Every veto is shown."""

    reason: Localized
    legal_basis: str = Field(min_length=1, description="Dasar hukum of the veto")
    source: str = ""


class TrainingOffer(_Value):
    """A training (or certificate programme) an agency can provide to a moved employee."""

    name: str = Field(min_length=1, description="Exactly as rules name it in require_training")
    hours: float = Field(gt=0, description="Jam pelajaran (JP) or hours")
    provider: str = Field(min_length=1)
    description: str = ""
    capacity: int | None = Field(default=None, ge=1,
                                 description="Participants per batch (angkatan); null: no limit, one batch")
    duration_days: int | None = Field(default=None, ge=1,
                                      description="Calendar days one batch takes; null: hours / 8 JP per day, "
                                      "rounded up")
    sources: tuple[str, ...] = Field(default=(), description="Plugins offering it (set by the manager)")


class NoticeContact(_Value):
    """Where a moved employee turns to ask about or object to a transfer."""

    office: str = Field(min_length=1)
    address: str = ""
    email: str = ""
    phone: str = ""
    source: str = ""


class PlanConstraint(_Value):
    """A linear constraint on the plan: a set of positions keeps at least ``min_staff`` staff.

    Positions are selected either by ``position_ids`` or by ``unit_id`` (with its sub-units
    unless ``include_sub_units`` is false) and an optional ``position_name_pattern``: a
    shell-style pattern matched case-insensitively against the position name (``"Guru*"``).
    Both selectors may be combined; a position matching either is counted.

    The plan optimiser reads it as ``sum(staff after the plan over selected positions) >=
    min(min_staff, current)``: a constraint never forces moves into a set that is already
    below its minimum, it only forbids making it worse.
    """

    kind: Literal["min_staff"] = "min_staff"
    id: str = Field(min_length=1, description="Stable name shown when the constraint binds")
    position_ids: list[str] = Field(default_factory=list)
    unit_id: str | None = None
    include_sub_units: bool = True
    position_name_pattern: str | None = None
    min_staff: int = Field(ge=0)
    reason: Localized
    source: str = ""

    @model_validator(mode="after")
    def _has_selector(self) -> PlanConstraint:
        if not self.position_ids and self.unit_id is None:
            raise ValueError("select positions by 'position_ids' or by 'unit_id' (with 'position_name_pattern')")
        if self.position_name_pattern is not None and self.unit_id is None:
            raise ValueError("'position_name_pattern' needs 'unit_id'")
        return self

    def positions(self, dataset: Dataset) -> list[str]:
        """Ids of the positions of ``dataset`` this constraint covers, sorted."""
        selected = set(self.position_ids)
        if self.unit_id is not None:
            units = {self.unit_id}
            if self.include_sub_units:
                children: dict[str, list[str]] = {}
                for unit in dataset.units:
                    if unit.parent_id is not None:
                        children.setdefault(unit.parent_id, []).append(unit.id)
                stack = [self.unit_id]
                while stack:
                    for child in children.get(stack.pop(), ()):
                        if child not in units:
                            units.add(child)
                            stack.append(child)
            pattern = (
                re.compile(fnmatch.translate(self.position_name_pattern), re.IGNORECASE)
                if self.position_name_pattern is not None
                else None
            )
            for position in dataset.positions:
                if position.unit_id in units and (pattern is None or pattern.match(position.name)):
                    selected.add(position.id)
        known = {p.id for p in dataset.positions}
        return sorted(selected & known)

    def current_staff(self, dataset: Dataset, bezetting: Mapping[str, int] | None = None) -> int:
        """Staff in the covered positions now; ``bezetting`` (position id -> staff) saves a scan."""
        covered = self.positions(dataset)
        if bezetting is not None:
            return sum(bezetting.get(p, 0) for p in covered)
        ids = set(covered)
        return sum(1 for e in dataset.employees if e.position_id in ids)

    def to_min_staff(self, dataset: Dataset, bezetting: Mapping[str, int] | None = None) -> MinStaff:
        """The constraint in the plan optimiser's form (:class:`mutasi_rules.planning.plan.MinStaff`).

        Pass the run's ``bezetting`` when converting many constraints: scanning every
        employee per constraint is quadratic on a city with hundreds of schools.
        """
        from mutasi_rules.planning.plan import MinStaff

        covered = self.positions(dataset)
        current = self.current_staff(dataset, bezetting)
        return MinStaff(
            name=f"{self.source or 'plugin'}:{self.id}",
            position_ids=frozenset(covered),
            current=current,
            minimum=self.min_staff,
        )


__all__ = [
    "NoticeContact",
    "PlanConstraint",
    "RuleSetContribution",
    "ScoreComponent",
    "TrainingOffer",
    "Veto",
]
