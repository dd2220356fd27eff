"""The transfer plan: a global choice of moves by mixed-integer optimisation (scipy / HiGHS).

Every eligible (employee, target position) pair is a binary variable. The plan maximises
the total score of the chosen moves subject to:

* each person moves at most once;
* a target position receives at most its shortage;
* a source position releases at most its surplus, and a source unit is never left with
  fewer staff than its own workload needs;
* plugin constraints (``min_staff``: a set of positions keeps at least N staff);
* an optional cap on the number of moves.

Choosing globally rather than position by position matters: a greedy pass gives the best
candidate to whichever shortage it looks at first and can leave a later shortage with
nobody, where the optimum fills both.

Ties are broken deterministically: among equal-score alternatives the solver is steered to
the option that comes first by (employee NIP, target position id), through an objective
perturbation smaller than the resolution of scores (scores are rounded to 1e-6).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

SCORE_RESOLUTION = 1e-6
INTEGRALITY_TOLERANCE = 1e-9


class MoveOption(BaseModel):
    """An eligible move the optimiser may choose."""

    model_config = ConfigDict(frozen=True)

    nip: str
    source_position_id: str
    source_unit_id: str
    target_position_id: str
    target_unit_id: str
    score: float

    @property
    def key(self) -> tuple[str, str]:
        return (self.nip, self.target_position_id)


class MinStaff(BaseModel):
    """A set of positions must keep at least ``minimum`` staff after the plan."""

    model_config = ConfigDict(frozen=True)

    name: str
    position_ids: frozenset[str]
    current: int
    minimum: int


class PlanProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    options: list[MoveOption]
    receive_limit: dict[str, int] = Field(description="Target position -> most people it may receive")
    release_limit: dict[str, int] = Field(description="Source position -> most people it may release")
    unit_release_limit: dict[str, int] = Field(
        default_factory=dict, description="Source unit -> most net departures its own workload allows"
    )
    min_staff: list[MinStaff] = Field(default_factory=list)
    max_moves: int | None = Field(default=None, ge=0)


class PlanSolution(BaseModel):
    model_config = ConfigDict(frozen=True)

    chosen: list[tuple[str, str]] = Field(description="(nip, target position id) of chosen moves, sorted")
    objective: float
    status: str


def solve(problem: PlanProblem) -> PlanSolution:
    # Imported here: scipy.optimize alone takes 0.6 s to import, which commands that only
    # read results (audit, explain) should not pay.
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    options = sorted(problem.options, key=lambda o: o.key)
    n = len(options)
    if n == 0:
        return PlanSolution(chosen=[], objective=0.0, status="empty")

    # Only positive moves are worth making; the perturbation prefers earlier keys on ties.
    tie = SCORE_RESOLUTION / 4 * (np.arange(n, 0, -1) / n)
    cost = -(np.array([o.score for o in options]) + tie)

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    upper: list[float] = []
    lower: list[float] = []
    row = 0

    def add_row(members: Sequence[tuple[int, float]], lo: float, hi: float) -> None:
        nonlocal row
        for col, coefficient in members:
            rows.append(row)
            cols.append(col)
            vals.append(coefficient)
        lower.append(lo)
        upper.append(hi)
        row += 1

    by_person: dict[str, list[int]] = defaultdict(list)
    by_target: dict[str, list[int]] = defaultdict(list)
    by_source: dict[str, list[int]] = defaultdict(list)
    by_source_unit: dict[str, list[int]] = defaultdict(list)
    by_target_unit: dict[str, list[int]] = defaultdict(list)
    for i, option in enumerate(options):
        by_person[option.nip].append(i)
        by_target[option.target_position_id].append(i)
        by_source[option.source_position_id].append(i)
        by_source_unit[option.source_unit_id].append(i)
        by_target_unit[option.target_unit_id].append(i)

    for nip in sorted(by_person):
        if len(by_person[nip]) > 1:
            add_row([(i, 1.0) for i in by_person[nip]], -np.inf, 1)
    for target in sorted(by_target):
        add_row([(i, 1.0) for i in by_target[target]], -np.inf, problem.receive_limit.get(target, 0))
    for source in sorted(by_source):
        add_row([(i, 1.0) for i in by_source[source]], -np.inf, problem.release_limit.get(source, 0))
    for unit in sorted(by_source_unit):
        if unit in problem.unit_release_limit:
            # Net departures: moves out of the unit minus moves into it.
            members: dict[int, float] = {i: 1.0 for i in by_source_unit[unit]}
            for i in by_target_unit.get(unit, []):
                members[i] = members.get(i, 0.0) - 1.0
            add_row(sorted(members.items()), -np.inf, problem.unit_release_limit[unit])
    for constraint in problem.min_staff:
        # Departures minus arrivals over the covered positions (a move inside the set nets 0).
        members = {}
        for position_id in constraint.position_ids:
            for i in by_source.get(position_id, ()):
                members[i] = members.get(i, 0.0) + 1.0
            for i in by_target.get(position_id, ()):
                members[i] = members.get(i, 0.0) - 1.0
        members = {i: c for i, c in members.items() if c}
        if members:
            add_row(sorted(members.items()), -np.inf, max(0, constraint.current - constraint.minimum))
    if problem.max_moves is not None:
        add_row([(i, 1.0) for i in range(n)], -np.inf, problem.max_moves)

    constraints = []
    if row:
        matrix = coo_array((vals, (rows, cols)), shape=(row, n)).tocsr()
        constraints.append(LinearConstraint(matrix, np.array(lower), np.array(upper)))
    bounds = Bounds(np.zeros(n), np.ones(n))
    # The plan is a b-matching with a few side constraints, whose linear relaxation is almost
    # always integral already; solving it first is ~15x faster than branch and bound on
    # large cities. An integral relaxation optimum is the integer optimum; otherwise the
    # integer program is solved exactly.
    result = milp(c=cost, constraints=constraints, integrality=np.zeros(n), bounds=bounds, options={"disp": False})
    if result.x is None or np.any(np.minimum(result.x, 1 - result.x) > INTEGRALITY_TOLERANCE):
        result = milp(
            c=cost,
            constraints=constraints,
            integrality=np.ones(n),
            bounds=bounds,
            options={"mip_rel_gap": 0.0, "disp": False},
        )
    if result.x is None:
        raise RuntimeError(f"plan optimisation failed: {result.message}")
    chosen = [options[i].key for i in range(n) if result.x[i] > 0.5]
    objective = round(sum(options[i].score for i in range(n) if result.x[i] > 0.5), 6)
    return PlanSolution(chosen=sorted(chosen), objective=objective, status=str(result.message))
