"""What an agency sees: one unit and every unit under it, their positions, employees and moves.

An ``agency`` key (:mod:`mutasi_rules.hosting.access`) is bound to one unit. Everything it reads goes
through a :class:`UnitScope` built from the dataset's unit tree: datasets, workload reports
and recommendation results are cut down to the subtree, and a why-not query about a person
or position outside it is answered as if they did not exist (the HTTP service answers 404,
so an agency cannot even learn that a NIP exists elsewhere).

A move belongs to the scope when it leaves or enters the subtree; a shortage when its
position is inside; a ranked alternative only when the person is inside (the people of other
agencies considered for a post are theirs to see). Region-wide figures without personal data
(balance before and after, rule-set references) stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mutasi_rules.data.models import Dataset

if TYPE_CHECKING:
    from mutasi_rules.analysis.workload import WorkloadReport
    from mutasi_rules.planning.recommendation import RecommendationResult
    from mutasi_rules.planning.whynot import WhyNotReport


class OutOfScope(LookupError):
    """The unit, person or position is not in the caller's subtree (shown as 'not found')."""


def subtree(unit_id: str, parents: Mapping[str, str | None]) -> frozenset[str]:
    """``unit_id`` and every unit whose chain of parents reaches it (cycles are cut, never followed twice)."""
    children: dict[str, list[str]] = {}
    for child, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    seen: set[str] = set()
    stack = [unit_id] if unit_id in parents else []
    while stack:
        unit = stack.pop()
        if unit in seen:
            continue
        seen.add(unit)
        stack.extend(children.get(unit, ()))
    return frozenset(seen)


@dataclass(frozen=True)
class UnitScope:
    """The units, positions and employees one agency may see in one dataset."""

    unit_id: str
    units: frozenset[str]
    positions: frozenset[str]
    employees: frozenset[str]

    @classmethod
    def of(cls, dataset: Dataset, unit_id: str) -> UnitScope:
        """The subtree of ``unit_id`` in ``dataset``; raises :class:`OutOfScope` if the unit is not in it."""
        units = subtree(unit_id, {u.id: u.parent_id for u in dataset.units})
        if not units:
            raise OutOfScope(f"unit {unit_id!r} is not in the dataset")
        positions = frozenset(p.id for p in dataset.positions if p.unit_id in units)
        employees = frozenset(e.nip for e in dataset.employees if e.unit_id in units)
        return cls(unit_id, units, positions, employees)

    # ------------------------------------------------------------------ checks

    def require(self, *, nip: str | None = None, position_id: str | None = None) -> None:
        """Raise :class:`OutOfScope` (worded as the dataset not having them) for what lies outside."""
        missing = []
        if nip is not None and nip not in self.employees:
            missing.append(f"employee NIP {nip!r} is not in the dataset")
        if position_id is not None and position_id not in self.positions:
            missing.append(f"position {position_id!r} is not in the dataset")
        if missing:
            raise OutOfScope("; ".join(missing))

    # ------------------------------------------------------------------ filters

    def dataset(self, dataset: Dataset) -> Dataset:
        """The records of the subtree; a unit whose parent lies outside becomes a root."""
        units = [u if u.parent_id is None or u.parent_id in self.units else u.model_copy(update={"parent_id": None})
                 for u in dataset.units if u.id in self.units]
        return dataset.model_copy(update={
            "units": units,
            "positions": [p for p in dataset.positions if p.id in self.positions],
            "employees": [e for e in dataset.employees if e.nip in self.employees],
        })

    def workload(self, report: WorkloadReport) -> WorkloadReport:
        return report.model_copy(update={
            "units": [u for u in report.units if u.unit_id in self.units],
            "positions": [p for p in report.positions if p.position_id in self.positions],
        })

    def result(self, result: RecommendationResult) -> RecommendationResult:
        """The moves, shortages, units and exclusions that touch the subtree (of the run's dataset)."""
        inside = self.units
        shortages = [
            shortage.model_copy(update={"alternatives": [a for a in shortage.alternatives
                                                         if a.from_position_id in self.positions]})
            for shortage in result.shortages if shortage.position.unit_id in inside
        ]
        moves = [m for m in result.moves if m.from_.unit_id in inside or m.to.unit_id in inside]
        needed = {need.name for move in moves for need in move.trainings_required}
        return result.model_copy(update={
            "moves": moves,
            "shortages": shortages,
            "units": [u for u in result.units if u.unit_id in inside],
            "excluded": [x for x in result.excluded if x.position_id in self.positions],
            "trainings_total": [t for t in result.trainings_total if t.name in needed],
        })

    def why_not(self, report: WhyNotReport) -> WhyNotReport:
        """A why-not report is about one person and one position, both checked with :meth:`require` first."""
        self.require(nip=report.employee.nip, position_id=report.position.position_id)
        return report


__all__ = ["OutOfScope", "UnitScope", "subtree"]
