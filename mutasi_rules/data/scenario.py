"""Workload scenarios: "what if" changes applied to a dataset before the analysis.

A scenario file (YAML, schema ``mutasi-rules schema scenario``) names a scenario and lists
changes, applied in order to a copy of the dataset:

* ``scale_volume: F`` / ``set_volume: V`` on the tasks a ``select`` picks (by position id,
  unit subtree, programme and task-name pattern, all given criteria together);
* ``add_position: {...}`` (a position record, as in a dataset) and ``remove_position: ID``;
* ``set_effective_hours: H`` (jam kerja efektif per person-year).

Each change may be time-bounded (``from``, ``until``). Extra workload with an end date is
kept apart from the permanent workload, as *temporary tasks* (``temporary_from`` /
``temporary_until`` on :class:`~mutasi_rules.data.models.WorkloadTask`): the analysis sees the
peak, and the plan may meet it with time-bounded assignments (docs/scenarios.md).

Every problem names the file, line and column (``scenario.*`` codes), and all of them are
reported at once: the file's shape when it is read, the selections and ids when it is
applied to a dataset. Applying a scenario never changes the dataset given.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mutasi_rules.data.models import Dataset, DatasetMetadata, Id, Name, Position, WorkloadTask
from mutasi_rules.problems import InputError, Problems

SCENARIO_FORMAT: Final = "mutasi-rules.scenario/1"
MAX_SCENARIO_BYTES = 1_000_000
TEMPORARY_SUFFIX = " (tambahan sementara)"
"""Appended to the name of the temporary task that carries a time-bounded increase."""

ACTIONS = ("scale_volume", "set_volume", "add_position", "remove_position", "set_effective_hours")


class TaskSelector(BaseModel):
    """Which tasks a volume change applies to: every criterion given must hold.

    ``position``: position ids; ``unit``: a unit and all its sub-units; ``programme``: a
    programme the position serves (case-insensitive); ``task``: a shell-style pattern on the
    task name (case-insensitive, ``"*imunisasi*"``). Without ``task``, all tasks of the
    selected positions.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    position: list[Id] = Field(default_factory=list, description="Position ids")
    unit: Id | None = Field(default=None, description="A unit id; its sub-units are included")
    programme: Name | None = Field(default=None, description="A programme the position serves")
    task: Name | None = Field(default=None, description="Shell-style pattern on the task name")

    @model_validator(mode="after")
    def _not_empty(self) -> TaskSelector:
        if not (self.position or self.unit or self.programme or self.task):
            raise ValueError("select by at least one of 'position', 'unit', 'programme', 'task'")
        return self


class ScenarioChange(BaseModel):
    """One change; exactly one action key (``scale_volume``, ``set_volume``, ``add_position``,
    ``remove_position``, ``set_effective_hours``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    scale_volume: float | None = Field(default=None, ge=0, description="Multiply the selected tasks' yearly volume")
    set_volume: float | None = Field(default=None, ge=0, description="Set the selected tasks' yearly volume")
    select: TaskSelector | None = Field(default=None, description="With scale_volume / set_volume")
    add_position: Position | None = Field(default=None, description="A new position (same fields as a dataset's)")
    remove_position: Id | None = Field(default=None, description="A position id")
    set_effective_hours: float | None = Field(default=None, gt=0, description="Effective hours per person-year")
    from_: dt.date | None = Field(default=None, alias="from", description="The change starts on this date")
    until: dt.date | None = Field(default=None, description="The change ends on this date (time-bounded)")
    note: str = Field(default="", description="Why (shown in the comparison)")

    @model_validator(mode="after")
    def _one_action(self) -> ScenarioChange:
        given = [a for a in ACTIONS if getattr(self, a) is not None]
        if len(given) != 1:
            raise ValueError(f"a change has exactly one of {', '.join(ACTIONS)}; "
                             f"got {', '.join(given) if given else 'none'}")
        if given[0] in ("scale_volume", "set_volume") and self.select is None:
            raise ValueError(f"{given[0]} needs 'select' (which tasks)")
        if given[0] not in ("scale_volume", "set_volume") and self.select is not None:
            raise ValueError(f"'select' goes with scale_volume or set_volume, not {given[0]}")
        if self.from_ is not None and self.until is not None and self.until < self.from_:
            raise ValueError(f"until {self.until} is before from {self.from_}")
        return self

    @property
    def action(self) -> str:
        return next(a for a in ACTIONS if getattr(self, a) is not None)


class Scenario(BaseModel):
    """A named set of changes to a dataset (a scenario file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["mutasi-rules.scenario/1"] = SCENARIO_FORMAT
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
                      description="Short id, shown in the comparison")
    title: str = Field(default="", max_length=200)
    description: str = ""
    changes: list[ScenarioChange] = Field(min_length=1)


class LoadedScenario(BaseModel):
    """A scenario and where it came from (to locate problems found when it is applied)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    scenario: Scenario
    origin: str
    locations: dict[str, tuple[int, int]] = Field(
        default_factory=dict, description="'changes[i]' or 'changes[i].<key>' -> (line, column)")

    def where(self, index: int, key: str | None = None) -> dict[str, Any]:
        """Problem location keywords of change ``index`` (its key ``key`` if known)."""
        path = f"changes[{index}]" + (f".{key}" if key else "")
        line, column = self.locations.get(path) or self.locations.get(f"changes[{index}]") or (None, None)
        return {"file": self.origin, "line": line, "column": column, "field": path}


# --------------------------------------------------------------------------- reading


def load_scenario_text(text: str, origin: str) -> LoadedScenario:
    """Parse and check a scenario's YAML text; raise :class:`InputError` with every problem."""
    from mutasi_rules.data.yaml_source import YamlSource, compose, pydantic_problems

    problems = Problems()
    source = YamlSource(text, origin)
    data = compose(text, source, problems, prefix="scenario")
    if data is not None and not isinstance(data, dict):
        problems.error("scenario.invalid", "a scenario file is a mapping with 'name', 'description' and 'changes'",
                       file=origin, line=1, column=1)
    scenario = None
    if isinstance(data, dict):
        try:
            scenario = Scenario.model_validate(data)
        except ValidationError as exc:
            pydantic_problems(exc, source, problems, code="scenario.invalid")
    problems.raise_if_errors(f"scenario {origin}")
    assert scenario is not None
    locations: dict[str, tuple[int, int]] = {}
    for path in source.nodes:
        if len(path) >= 2 and path[0] == "changes" and isinstance(path[1], int) and len(path) <= 3:
            line, column = source.locate(path, key=True)
            if line is not None and column is not None:
                key = f"changes[{path[1]}]" + (f".{path[2]}" if len(path) == 3 else "")
                locations[key] = (line, column)
    return LoadedScenario(scenario=scenario, origin=origin, locations=locations)


def load_scenario(path: str | os.PathLike[str]) -> LoadedScenario:
    """Read a scenario file; raise :class:`InputError` naming file:line:column of every problem."""
    origin = os.fspath(path)
    problems = Problems()
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        problems.error("scenario.unreadable", f"cannot read the file: {error.strerror or error}", file=origin)
        raise InputError(f"scenario {origin}", list(problems)) from None
    if len(raw) > MAX_SCENARIO_BYTES:
        problems.error("scenario.too_large", f"the file is larger than {MAX_SCENARIO_BYTES} bytes", file=origin)
        raise InputError(f"scenario {origin}", list(problems))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        problems.error("scenario.encoding", f"not UTF-8 text (byte {error.start})", file=origin)
        raise InputError(f"scenario {origin}", list(problems)) from None
    return load_scenario_text(text, origin)


def load_scenarios(paths: Sequence[str | os.PathLike[str]]) -> list[LoadedScenario]:
    """Read several scenario files; every problem of every file, and repeated names, in one error."""
    problems: list[Any] = []
    loaded: list[LoadedScenario] = []
    for path in paths:
        try:
            loaded.append(load_scenario(path))
        except InputError as error:
            problems.extend(error.problems)
    seen: dict[str, str] = {}
    checks = Problems(problems)
    for item in loaded:
        name = item.scenario.name
        if name in seen:
            checks.error("scenario.duplicate_name", f"scenario name {name!r} is also used by {seen[name]}",
                         file=item.origin, field="name", value=name)
        seen.setdefault(name, item.origin)
    checks.raise_if_errors("scenarios")
    return loaded


# --------------------------------------------------------------------------- applying


class AppliedChange(BaseModel):
    """What one change did to the dataset (shown with the comparison)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    index: int
    action: str
    summary: str
    positions: list[str] = Field(description="Ids of the positions changed, sorted")
    tasks_changed: int = 0
    temporary: bool = Field(description="The change added temporary (time-bounded) workload")
    from_: dt.date | None = Field(default=None, alias="from")
    until: dt.date | None = None
    note: str = ""


def _subtree(dataset: Dataset, unit_id: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for unit in dataset.units:
        if unit.parent_id is not None:
            children.setdefault(unit.parent_id, []).append(unit.id)
    found = {unit_id}
    stack = [unit_id]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _did_you_mean(value: str, known: Sequence[str]) -> str:
    from mutasi_rules.rules.language.checker import did_you_mean

    return did_you_mean(value, list(known), quote="'")


def _temporary_part(task: WorkloadTask, extra_volume: float, change: ScenarioChange) -> WorkloadTask:
    return WorkloadTask(name=(task.name + TEMPORARY_SUFFIX)[:200], volume_per_year=extra_volume,
                        norm_minutes=task.norm_minutes, temporary_from=change.from_, temporary_until=change.until)


def _changed_tasks(tasks: list[WorkloadTask], picked: set[int], change: ScenarioChange,
                   problems: Problems, where: dict[str, Any]) -> list[WorkloadTask]:
    """The task list with the volume change applied to the tasks at ``picked``.

    A time-bounded increase keeps the task and adds its increase as a temporary task; a
    time-bounded decrease is applied as it is, with a warning (a temporary drop in work is
    not a reason to move people for good, and the plan cannot say when they come back).
    """
    out: list[WorkloadTask] = []
    warned = False
    for i, task in enumerate(tasks):
        if i not in picked:
            out.append(task)
            continue
        new = (task.volume_per_year * change.scale_volume if change.scale_volume is not None
               else float(change.set_volume or 0.0))
        if change.until is None or new <= task.volume_per_year:
            if change.until is not None and new < task.volume_per_year and not warned:
                problems.warning("scenario.temporary_decrease",
                                 "a time-bounded decrease is analysed as if it lasted: the plan may release staff "
                                 "the post needs again after 'until'", **where)
                warned = True
            out.append(task.model_copy(update={"volume_per_year": new}))
        else:
            out.append(task)
            out.append(_temporary_part(task, new - task.volume_per_year, change))
    return out


def apply_scenario(dataset: Dataset, loaded: LoadedScenario) -> tuple[Dataset, list[AppliedChange], Problems]:
    """The dataset with the scenario's changes applied, what each did, and warnings.

    Raises :class:`InputError` with every problem (a selection that matches nothing, an
    unknown id, a period that ends before the analysis date...), each located in the file.
    """
    scenario = loaded.scenario
    problems = Problems()
    positions: dict[str, Position] = {p.id: p for p in dataset.positions}
    order = [p.id for p in dataset.positions]
    units = {u.id for u in dataset.units}
    staffed: dict[str, int] = {}
    for employee in dataset.employees:
        staffed[employee.position_id] = staffed.get(employee.position_id, 0) + 1
    metadata = dataset.metadata
    applied: list[AppliedChange] = []
    for index, change in enumerate(scenario.changes):
        action = change.action
        where = loaded.where(index, action)
        if change.until is not None and change.until <= metadata.as_of:
            problems.error("scenario.period_over", f"until {change.until} is not after the dataset's as_of "
                           f"{metadata.as_of}: the change would be over before the analysis date",
                           **loaded.where(index, "until"), value=change.until.isoformat())
            continue
        temporary = change.until is not None
        changed: list[str] = []
        tasks_changed = 0
        if action in ("scale_volume", "set_volume"):
            selector = change.select
            assert selector is not None
            bad = False
            for pid in selector.position:
                if pid not in positions:
                    problems.error("scenario.unknown_position", f"position {pid!r} is not in the dataset"
                                   + _did_you_mean(pid, sorted(positions)), **loaded.where(index, "select"),
                                   value=pid)
                    bad = True
            if selector.unit is not None and selector.unit not in units:
                problems.error("scenario.unknown_unit", f"unit {selector.unit!r} is not in the dataset"
                               + _did_you_mean(selector.unit, sorted(units)), **loaded.where(index, "select"),
                               value=selector.unit)
                bad = True
            if bad:
                continue
            in_units = _subtree(dataset, selector.unit) if selector.unit is not None else None
            pattern = re.compile(fnmatch.translate(selector.task), re.IGNORECASE) if selector.task else None
            programme = selector.programme.casefold() if selector.programme else None
            for pid in order:
                position = positions.get(pid)
                if position is None or position.tasks is None:
                    continue
                if selector.position and pid not in selector.position:
                    continue
                if in_units is not None and position.unit_id not in in_units:
                    continue
                if programme is not None and programme not in {p.casefold() for p in position.programmes}:
                    continue
                picked = {i for i, t in enumerate(position.tasks)
                          if t.temporary_until is None and (pattern is None or pattern.match(t.name))}
                if not picked:
                    continue
                positions[pid] = position.model_copy(
                    update={"tasks": _changed_tasks(list(position.tasks), picked, change, problems, where)})
                changed.append(pid)
                tasks_changed += len(picked)
            if not changed:
                problems.error("scenario.no_match", "the selection matches no task of a position with workload data "
                               f"({selector.model_dump(exclude_defaults=True)})", **loaded.where(index, "select"))
                continue
            amount = (f"x{change.scale_volume:g}" if change.scale_volume is not None
                      else f"= {change.set_volume:g} per year")
            summary = f"volume {amount} on {tasks_changed} task(s) of {len(changed)} position(s)"
        elif action == "add_position":
            position = change.add_position
            assert position is not None
            if position.id in positions:
                problems.error("scenario.duplicate_position", f"position {position.id!r} is already in the dataset",
                               **loaded.where(index, "add_position"), value=position.id)
                continue
            if position.unit_id not in units:
                problems.error("scenario.unknown_unit", f"unit {position.unit_id!r} is not in the dataset"
                               + _did_you_mean(position.unit_id, sorted(units)),
                               **loaded.where(index, "add_position"), value=position.unit_id)
                continue
            if temporary:
                if not position.tasks:
                    problems.error("scenario.temporary_without_tasks",
                                   "a time-bounded new position needs tasks (the workload that ends on 'until')",
                                   **loaded.where(index, "add_position"), value=position.id)
                    continue
                position = position.model_copy(update={"tasks": [
                    t.model_copy(update={"temporary_from": change.from_, "temporary_until": change.until})
                    for t in position.tasks]})
            positions[position.id] = position
            order.append(position.id)
            changed.append(position.id)
            tasks_changed = len(position.tasks or ())
            summary = f"new position {position.id} ({position.name}) in unit {position.unit_id}"
        elif action == "remove_position":
            assert change.remove_position is not None
            pid = change.remove_position
            if pid not in positions:
                problems.error("scenario.unknown_position", f"position {pid!r} is not in the dataset"
                               + _did_you_mean(pid, sorted(positions)), **where, value=pid)
                continue
            if temporary:
                problems.error("scenario.temporary_removal",
                               "a position cannot be removed for a period; use scale_volume: 0 with 'until'",
                               **loaded.where(index, "until"), value=pid)
                continue
            if staffed.get(pid):
                # Its staff stay on record: with no work left they are surplus, for the plan to place.
                positions[pid] = positions[pid].model_copy(update={"tasks": []})
                summary = (f"position {pid} abolished: its workload is zero and its {staffed[pid]} staff are "
                           "surplus to place")
            else:
                del positions[pid]
                order.remove(pid)
                summary = f"position {pid} removed (no staff)"
            changed.append(pid)
        else:  # set_effective_hours
            hours = change.set_effective_hours
            assert hours is not None
            before = metadata.effective_hours_per_year
            if temporary and hours < before:
                # Fewer hours for a period is more work per person for that period: the same
                # peak as scaling every task, kept apart as temporary workload.
                factor = before / hours
                for pid in order:
                    position = positions[pid]
                    if not position.tasks:
                        continue
                    picked = {i for i, t in enumerate(position.tasks) if t.temporary_until is None}
                    scaled = change.model_copy(update={"scale_volume": factor, "set_effective_hours": None})
                    positions[pid] = position.model_copy(
                        update={"tasks": _changed_tasks(list(position.tasks), picked, scaled, problems, where)})
                    changed.append(pid)
                summary = (f"effective hours {hours:g} instead of {before:g} until {change.until}: "
                           f"every task's volume x{factor:.4g} for the period, as temporary workload")
            else:
                if temporary:
                    problems.warning("scenario.temporary_decrease",
                                     "more effective hours for a period is analysed as if it lasted", **where)
                metadata = metadata.model_copy(update={"effective_hours_per_year": hours})
                summary = f"effective hours per person-year {hours:g} (was {before:g})"
        applied.append(AppliedChange(index=index, action=action, summary=summary, positions=sorted(changed),
                                     tasks_changed=tasks_changed, temporary=temporary and action != "remove_position",
                                     from_=change.from_, until=change.until, note=change.note))
    problems.raise_if_errors(f"scenario {loaded.origin}")
    touched = {pid for change in applied for pid in change.positions}
    # Changed records are validated again, so a change can never smuggle in an inconsistent one;
    # the rest of the dataset is shared with the input, unchanged.
    result = dataset.model_copy(update={
        "metadata": DatasetMetadata.model_validate(
            {**metadata.model_dump(), "name": f"{metadata.name} [skenario {scenario.name}]"[:200]}),
        "positions": [Position.model_validate(positions[pid].model_dump()) if pid in touched else positions[pid]
                      for pid in order],
    })
    return result, applied, problems


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file (``mutasi-rules schema scenario``)."""
    return Scenario.model_json_schema(by_alias=True)


__all__ = [
    "AppliedChange",
    "LoadedScenario",
    "Scenario",
    "ScenarioChange",
    "TaskSelector",
    "apply_scenario",
    "load_scenario",
    "load_scenario_text",
    "load_scenarios",
    "scenario_json_schema",
]
