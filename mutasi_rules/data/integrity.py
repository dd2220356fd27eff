"""Integrity of a whole :class:`~mutasi_rules.data.models.Dataset`: the checks that span records.

A record on its own is checked by its pydantic model. What a model cannot see is the
dataset around it: a position in a unit that does not exist, an employee placed in two
positions, unit parents that form a cycle, a date after ``as_of``. The file loader
(:mod:`mutasi_rules.data.loading`) reports these at the file, row and column at fault; this module
reports the same problems, with the same codes, for a dataset built in memory (a host
application's ``Dataset.model_validate(...)``), so that nothing is dropped silently whichever
way the data came in. Records are named ``employees[3] (NIP 1984...)``, fields by their
dotted path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from mutasi_rules.data.models import Dataset, Employee
from mutasi_rules.problems import Problem, Problems


def _where(kind: str, index: int, key: str | None) -> str:
    label = {"units": "unit", "positions": "position", "employees": "NIP"}[kind]
    return f"{kind}[{index}]" + (f" ({label} {key})" if key else "")


def dataset_problems(dataset: Dataset) -> Problems:
    """Every cross-record problem of ``dataset`` (codes as the loader's: ``ref.unknown_unit`` …)."""
    out = Problems()

    def add(code: str, message: str, kind: str, index: int, key: str | None, field: str, value: object) -> None:
        out.add(Problem(code=code, message=message, record=_where(kind, index, key), field=field, value=value))

    def first_index(kind: str, ids: list[str]) -> dict[str, int]:
        """Each id's first record; every later record with the same id is a duplicate."""
        first: dict[str, int] = {}
        for i, ident in enumerate(ids):
            if ident in first:
                add("id.duplicate", f"{kind[:-1]} id {ident!r} is already used at {kind}[{first[ident]}]",
                    kind, i, ident, "id", ident)
            else:
                first[ident] = i
        return first

    unit_ids = first_index("units", [u.id for u in dataset.units])
    position_first = first_index("positions", [p.id for p in dataset.positions])
    position_unit = {ident: dataset.positions[i].unit_id for ident, i in position_first.items()}

    parents: dict[str, str] = {}
    for i, unit in enumerate(dataset.units):
        if unit.parent_id is None:
            continue
        if unit.parent_id not in unit_ids:
            add("ref.unknown_unit", f"parent unit {unit.parent_id!r} does not exist", "units", i, unit.id,
                "parent_id", unit.parent_id)
        else:
            parents.setdefault(unit.id, unit.parent_id)
    for cycle in parent_cycles([u.id for u in dataset.units], parents):
        first = cycle[0]
        add("unit.parent_cycle", "unit parents form a cycle: " + " -> ".join([*cycle, first]), "units",
            unit_ids[first], first, "parent_id", parents[first])

    for i, position in enumerate(dataset.positions):
        if position.unit_id not in unit_ids:
            add("ref.unknown_unit", f"unit {position.unit_id!r} does not exist", "positions", i, position.id,
                "unit_id", position.unit_id)

    placed: dict[str, int] = {}
    for i, employee in enumerate(dataset.employees):
        nip = employee.nip
        if nip in placed:
            earlier = dataset.employees[placed[nip]]
            if employee.position_id != earlier.position_id:
                add("employee.two_positions",
                    f"NIP {nip} is placed in two positions: {earlier.position_id} at employees[{placed[nip]}] and "
                    f"{employee.position_id} here; an employee holds one position",
                    "employees", i, nip, "position_id", employee.position_id)
            else:
                add("nip.duplicate", f"NIP {nip} is already used at employees[{placed[nip]}]", "employees", i, nip,
                    "nip", nip)
        else:
            placed[nip] = i
        if employee.position_id not in position_unit:
            add("ref.unknown_position", f"position {employee.position_id!r} does not exist", "employees", i, nip,
                "position_id", employee.position_id)
        if employee.unit_id not in unit_ids:
            add("ref.unknown_unit", f"unit {employee.unit_id!r} does not exist", "employees", i, nip, "unit_id",
                employee.unit_id)
        elif employee.position_id in position_unit and position_unit[employee.position_id] != employee.unit_id \
                and position_unit[employee.position_id] in unit_ids:
            add("employee.unit_mismatch",
                f"position {employee.position_id} belongs to unit {position_unit[employee.position_id]}, "
                f"but unit_id is {employee.unit_id}", "employees", i, nip, "unit_id", employee.unit_id)
        for j, preferred in enumerate(employee.preferences.preferred_unit_ids):
            if preferred not in unit_ids:
                add("ref.unknown_unit", f"preferred unit {preferred!r} does not exist", "employees", i, nip,
                    f"preferences.preferred_unit_ids.{j}", preferred)
        for field, day, what in _dates(employee):
            if day > dataset.metadata.as_of:
                add("date.after_as_of", f"{what} {day} is after the dataset's as_of {dataset.metadata.as_of}",
                    "employees", i, nip, field, day)
        for j, record in enumerate(employee.performance):
            if record.year > dataset.metadata.as_of.year:
                add("date.after_as_of",
                    f"performance year {record.year} is after the as_of year {dataset.metadata.as_of.year}",
                    "employees", i, nip, f"performance.{j}.year", record.year)
    return out


def _dates(employee: Employee) -> Iterable[tuple[str, dt.date, str]]:
    """The employee's dates that cannot lie after ``as_of``, with their field path (as the loader checks)."""
    yield "birth_date", employee.birth_date, "birth date"
    yield "position_start", employee.position_start, "TMT jabatan"
    for name in ("trainings", "certificates"):
        for j, item in enumerate(getattr(employee, name)):
            yield f"{name}.{j}.completed", item.completed, "completion date"
    for j, sanction in enumerate(employee.sanctions):
        yield f"sanctions.{j}.start", sanction.start, "sanction start"
    for j, entry in enumerate(employee.position_history):
        yield f"position_history.{j}.start", entry.start, "history start"


def parent_cycles(order: list[str], parents: dict[str, str]) -> list[list[str]]:
    """Each cycle of unit parents once, rotated to start at its first unit in ``order``."""
    rank = {uid: i for i, uid in reversed(list(enumerate(order)))}
    done: set[str] = set()
    cycles: list[list[str]] = []
    for start in order:
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in done and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = parents.get(node)
        if node is not None and node in on_path:
            cycle = path[path.index(node):]
            first = min(cycle, key=lambda u: rank[u])
            cycles.append(cycle[cycle.index(first):] + cycle[: cycle.index(first)])
        done.update(path)
    return cycles


__all__ = ["dataset_problems", "parent_cycles"]
