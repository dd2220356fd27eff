"""The transfer plan: a global choice of moves by linear / mixed-integer optimisation (HiGHS).

Every eligible (employee, target position) pair is a binary variable. The plan maximises
the value of the chosen moves subject to:

* each person moves at most once;
* a target position receives at most its shortage;
* a source position releases at most its surplus, and a source unit is never left with
  fewer staff than its own workload needs;
* plugin constraints (``min_staff``: a set of positions keeps at least N staff);
* an optional cap on the number of moves;
* review decisions: ``forced`` moves (pins) are made, ``forbidden`` ones are not.

Choosing globally rather than position by position matters: a greedy pass gives the best
candidate to whichever shortage it looks at first and can leave a later shortage with
nobody, where the optimum fills both.

**The value of a move's workload effect depends on how many others move with it.** The
second person into a short post relieves it less than the first (its job efficiency falls
by ever smaller steps), and the k-th departure from a surplus post changes it by a
different amount than the first. A move's own score credits its first-arrival,
first-departure effect (``balance_points``); the plan replaces that by piecewise-linear
curves (``arrival_gain``, ``departure_gain``: the points of the 1st, 2nd, ... arrival at a
target or departure from a source), so that the plan's value of k arrivals is the real
sum of their marginal effects. The curves are concave (falling gains) for a short post,
and the linear relaxation is then exact. A curve that is not concave -- a surplus post's
departures relieve it by growing steps as it empties, until its release limit -- is
replaced by its least concave majorant (:func:`concave_majorant`): the gains of such a run
of departures are spread evenly over it, exact for the run as a whole, and the plan stays a
linear programme whose optimum is integral (an exact integer model of a convex curve took
HiGHS 20+ s at 7,000 employees, against 0.6 s).

Ties are broken deterministically: among equal-value alternatives the solver is steered to
the option that comes first by (employee NIP, target position id), through an objective
perturbation smaller than the resolution of scores (scores are rounded to 1e-6). The
perturbation is convex in the key's rank, so that of two equal-value swaps (A to t1 and B
to t2, or A to t2 and B to t1) the one giving the earlier person the earlier post wins; a
linear one would tie them again.

:class:`PlanSolver` keeps the model in HiGHS between solves: a later solve that only forbids
or forces moves, or changes limits (the balance guard withholding a move, a re-plan after a
review decision), changes bounds and starts the simplex from the previous basis.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.errors import MutasiRulesError

if TYPE_CHECKING:
    import highspy  # imported when a plan is solved: it is slow to import

SCORE_RESOLUTION = 1e-6
INTEGRALITY_TOLERANCE = 1e-9

Key = tuple[str, str]


class MoveOption(BaseModel):
    """An eligible move the optimiser may choose."""

    model_config = ConfigDict(frozen=True)

    nip: str
    source_position_id: str
    source_unit_id: str
    target_position_id: str
    target_unit_id: str
    score: float
    balance_points: float = Field(
        default=0.0,
        description="Points of score that credit the first arrival and first departure; the plan's curves "
                    "replace them (0: the score is taken as it is)",
    )

    @property
    def key(self) -> Key:
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
    arrival_gain: dict[str, list[float]] = Field(
        default_factory=dict,
        description="Target position -> points of its 1st, 2nd, ... arrival (the last repeats beyond)",
    )
    departure_gain: dict[str, list[float]] = Field(
        default_factory=dict,
        description="Source position -> points of its 1st, 2nd, ... departure (the last repeats beyond)",
    )
    forced: frozenset[Key] = Field(default_factory=frozenset, description="Moves that must be made (pins)")
    forbidden: frozenset[Key] = Field(default_factory=frozenset, description="Moves that must not be made")


class PlanSolution(BaseModel):
    model_config = ConfigDict(frozen=True)

    chosen: list[Key] = Field(description="(nip, target position id) of chosen moves, sorted")
    objective: float
    status: str


class PlanError(MutasiRulesError):
    """The plan cannot be made (the forced moves cannot all be made together, or the solver failed)."""

    kind = "failure"
    code = "plan.failed"


_BANNER_LOCK = threading.Lock()
_BANNER_DONE = threading.Event()


def _new_highs() -> highspy.Highs:
    """A silent HiGHS instance.

    The first instance in a process prints HiGHS's banner on the C stdout before any option
    can be set; a command writing JSON to stdout must not get it, so that one construction
    runs with file descriptor 1 pointed at the null device.
    """
    import highspy

    with _BANNER_LOCK:
        if _BANNER_DONE.is_set():
            highs = highspy.Highs()
        else:
            # Python's own buffer is not flushed while descriptor 1 is redirected (constructing
            # HiGHS runs no Python code), so nothing of the program's output is lost.
            saved = os.dup(1)
            try:
                with open(os.devnull, "w") as null:
                    os.dup2(null.fileno(), 1)
                    try:
                        highs = highspy.Highs()
                    finally:
                        # No C library handle: nothing buffered to drop.
                        with contextlib.suppress(OSError, AttributeError):
                            ctypes.CDLL(None).fflush(None)
                        os.dup2(saved, 1)
            finally:
                os.close(saved)
            _BANNER_DONE.set()
    highs.setOptionValue("output_flag", False)
    # The tie-breaking perturbation is below HiGHS's default optimality tolerance (1e-7).
    highs.setOptionValue("dual_feasibility_tolerance", 1e-10)
    highs.setOptionValue("primal_feasibility_tolerance", 1e-10)
    return highs


class PlanSolver:
    """The plan model of one :class:`PlanProblem`, kept in HiGHS between solves.

    :meth:`solve` takes forced and forbidden moves; only bounds change between solves, so
    each later solve starts from the last optimal basis (a warm start). Structural data
    (options, curves, constraints) are fixed at construction.
    """

    def __init__(self, problem: PlanProblem) -> None:
        import highspy

        self._highspy = highspy
        self.problem = problem
        self.options = sorted(problem.options, key=lambda o: o.key)
        self.column = {o.key: i for i, o in enumerate(self.options)}
        n = self.n = len(self.options)
        costs: list[float] = []
        # Only positive moves are worth making; the perturbation prefers earlier keys on ties (convex: see above).
        tie = SCORE_RESOLUTION / 4 * (np.arange(n, 0, -1) / max(n, 1)) ** 2
        base = np.array([o.score - o.balance_points for o in self.options], dtype=float)
        costs.extend((-(base + tie)).tolist())

        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        self.row_lower: list[float] = []
        self.row_upper: list[float] = []
        col_upper: list[float] = [1.0] * n
        row = 0

        def add_row(members: Iterable[tuple[int, float]], lo: float, hi: float) -> int:
            nonlocal row
            for col, coefficient in members:
                rows.append(row)
                cols.append(col)
                vals.append(coefficient)
            self.row_lower.append(lo)
            self.row_upper.append(hi)
            row += 1
            return row - 1

        def add_col(cost: float) -> int:
            costs.append(-cost)
            col_upper.append(1.0)
            return len(costs) - 1

        by_person: dict[str, list[int]] = defaultdict(list)
        by_target: dict[str, list[int]] = defaultdict(list)
        by_source: dict[str, list[int]] = defaultdict(list)
        by_source_unit: dict[str, list[int]] = defaultdict(list)
        by_target_unit: dict[str, list[int]] = defaultdict(list)
        for i, option in enumerate(self.options):
            by_person[option.nip].append(i)
            by_target[option.target_position_id].append(i)
            by_source[option.source_position_id].append(i)
            by_source_unit[option.source_unit_id].append(i)
            by_target_unit[option.target_unit_id].append(i)
        #: Rows whose upper bound is a limit (``<=`` rows): (row, {column: coefficient}).
        self._limit_rows: list[tuple[int, dict[int, float]]] = []
        inf = np.inf

        def limit_row(members: dict[int, float], hi: float) -> None:
            self._limit_rows.append((add_row(sorted(members.items()), -inf, hi), members))

        for nip in sorted(by_person):
            if len(by_person[nip]) > 1:
                add_row([(i, 1.0) for i in by_person[nip]], -inf, 1)
        for target in sorted(by_target):
            limit_row(dict.fromkeys(by_target[target], 1.0), problem.receive_limit.get(target, 0))
        for source in sorted(by_source):
            limit_row(dict.fromkeys(by_source[source], 1.0), problem.release_limit.get(source, 0))
        for unit in sorted(by_source_unit):
            if unit in problem.unit_release_limit:
                # Net departures: moves out of the unit minus moves into it.
                members: dict[int, float] = dict.fromkeys(by_source_unit[unit], 1.0)
                for i in by_target_unit.get(unit, []):
                    members[i] = members.get(i, 0.0) - 1.0
                limit_row({i: c for i, c in members.items() if c}, problem.unit_release_limit[unit])
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
                limit_row(members, max(0, constraint.current - constraint.minimum))
        if problem.max_moves is not None:
            limit_row(dict.fromkeys(range(n), 1.0), problem.max_moves)

        # Piecewise-linear workload curves: segment variables s_k in [0, 1] with
        # sum(moves into/out of the position) == sum(s_k); concave, so s_k fill in order.
        self.curves: dict[tuple[str, str], list[float]] = {}
        for kind, gains, groups in (("arrival", problem.arrival_gain, by_target),
                                    ("departure", problem.departure_gain, by_source)):
            for position_id in sorted(groups):
                if not gains.get(position_id):
                    continue
                curve = concave_majorant(gains[position_id])
                segments = [add_col(g) for g in curve]
                # Moves beyond the curve (only forced ones exceed a limit) gain what its last step gains.
                segments.append(add_col(curve[-1]))
                col_upper[-1] = np.inf
                add_row([*((i, 1.0) for i in groups[position_id]), *((s, -1.0) for s in segments)], 0.0, 0.0)
                self.curves[(kind, position_id)] = curve

        self.num_col = len(costs)
        self.num_row = row
        matrix_rows, matrix_cols, matrix_vals = (np.array(rows, dtype=np.int32), np.array(cols, dtype=np.int32),
                                                 np.array(vals, dtype=float))
        order = np.lexsort((matrix_rows, matrix_cols))  # column-wise for HiGHS
        starts = np.searchsorted(matrix_cols[order], np.arange(self.num_col + 1)).astype(np.int32)
        lp = highspy.HighsLp()
        lp.num_col_ = self.num_col
        lp.num_row_ = self.num_row
        lp.col_cost_ = np.array(costs, dtype=float)
        lp.col_lower_ = np.zeros(self.num_col)
        lp.col_upper_ = np.array(col_upper, dtype=float)
        lp.row_lower_ = np.array(self.row_lower, dtype=float)
        lp.row_upper_ = np.array(self.row_upper, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = matrix_rows[order]
        lp.a_matrix_.value_ = matrix_vals[order]
        self.highs = _new_highs()
        self.highs.passModel(lp)
        self._lower = np.zeros(n)
        self._upper = np.ones(n)
        self._row_upper = np.array(self.row_upper, dtype=float)
        self.solves = 0

    def solve(self, forced: Iterable[Key] = (), forbidden: Iterable[Key] = ()) -> PlanSolution:
        """The optimal plan with every ``forced`` move made and no ``forbidden`` one.

        A forced move that is not an option, or is also forbidden, raises :class:`PlanError`.
        A limit that the forced moves alone exceed is raised to what they need (a pin is a
        human decision over the plan's limits); the other moves then fit in what is left.
        """
        forced, forbidden = set(forced), set(forbidden)
        unknown = sorted(k for k in forced if k not in self.column)
        if unknown:
            raise PlanError(f"forced move(s) not among the plan's options: {unknown}")
        both = sorted(forced & forbidden)
        if both:
            raise PlanError(f"move(s) both forced and forbidden: {both}")
        if self.n == 0:
            return PlanSolution(chosen=[], objective=0.0, status="empty")
        lower = np.zeros(self.n)
        upper = np.ones(self.n)
        forced_cols = [self.column[k] for k in forced]
        lower[forced_cols] = 1.0
        upper[[self.column[k] for k in forbidden if k in self.column]] = 0.0
        self._set_bounds(lower, upper)
        self._set_limits(set(forced_cols))
        x = self._run(integer=False)
        if x is None or np.any(np.abs(x - np.round(x)) > INTEGRALITY_TOLERANCE):
            # The plan is a b-matching with a few side constraints, whose linear relaxation is
            # almost always integral already (~15x faster than branch and bound on large cities);
            # otherwise the integer program is solved exactly.
            x = self._run(integer=True)
        if x is None:
            raise PlanError(f"plan optimisation failed: {self.highs.modelStatusToString(self.highs.getModelStatus())}"
                            + (" (the forced moves cannot all be made together)" if forced else ""))
        chosen_cols = [i for i in range(self.n) if x[i] > 0.5]
        chosen = sorted(self.options[i].key for i in chosen_cols)
        return PlanSolution(chosen=chosen, objective=self.value(chosen), status="optimal")

    def value(self, chosen: Iterable[Key]) -> float:
        """The plan value of the moves ``chosen``: base scores plus the gains of the counts they make.

        The gains are the model's curves (a non-concave curve's concave majorant).
        """
        picked = [self.options[self.column[k]] for k in chosen]
        total = sum(o.score - o.balance_points for o in picked)
        arrivals: dict[str, int] = defaultdict(int)
        departures: dict[str, int] = defaultdict(int)
        for option in picked:
            arrivals[option.target_position_id] += 1
            departures[option.source_position_id] += 1
        for kind, counts in (("arrival", arrivals), ("departure", departures)):
            for position_id, count in counts.items():
                curve = self.curves.get((kind, position_id), [])
                total += sum(curve[:count]) + (max(0, count - len(curve)) * curve[-1] if curve else 0.0)
        return round(total, 6)

    def _set_bounds(self, lower: np.ndarray, upper: np.ndarray) -> None:
        changed = np.flatnonzero((lower != self._lower) | (upper != self._upper))
        if changed.size:
            self.highs.changeColsBounds(int(changed.size), changed.astype(np.int32), lower[changed], upper[changed])
            self._lower, self._upper = lower, upper

    def _set_limits(self, forced_cols: set[int]) -> None:
        upper = np.array(self.row_upper, dtype=float)
        if forced_cols:
            for row, members in self._limit_rows:
                need = sum(c for i, c in members.items() if i in forced_cols)
                upper[row] = max(upper[row], need)
        changed = np.flatnonzero(upper != self._row_upper)
        if changed.size:
            # In highspy since 1.7 but missing from its stubs (_core/__init__.pyi lists changeRowBounds only).
            self.highs.changeRowsBounds(int(changed.size), changed.astype(np.int32),  # type: ignore[attr-defined]
                                        np.array(self.row_lower, dtype=float)[changed], upper[changed])
            self._row_upper = upper

    def _run(self, *, integer: bool) -> np.ndarray | None:
        highspy = self._highspy
        columns = np.arange(self.num_col, dtype=np.int32)
        kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
        if integer or self._integer:
            self.highs.changeColsIntegrality(self.num_col, columns, np.array([kind] * self.num_col))
            self._integer = integer
        if integer:
            self.highs.setOptionValue("mip_rel_gap", 0.0)
        self.highs.run()
        self.solves += 1
        status = self.highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            return None
        return np.array(self.highs.getSolution().col_value, dtype=float)

    _integer = False


def solve(problem: PlanProblem) -> PlanSolution:
    """The optimal plan of ``problem`` (its forced and forbidden moves honoured)."""
    return PlanSolver(problem).solve(problem.forced, problem.forbidden)


def concave_gains(values: Sequence[float]) -> bool:
    """Whether a curve's gains never rise (the linear relaxation is then exact for it)."""
    return all(later <= earlier + 1e-12 for earlier, later in itertools.pairwise(values))


def concave_majorant(gains: Sequence[float]) -> list[float]:
    """The gains of the least concave majorant of a curve.

    The curve's value after k steps is the sum of its first k gains; the majorant is the upper
    hull of those points, so its gains never rise, equal the curve's where the curve is
    concave, and its value after a hull vertex equals the curve's.
    """
    curve = list(gains)
    if concave_gains(curve):
        return list(curve)
    points = [(0, 0.0)]
    total = 0.0
    for k, gain in enumerate(curve, start=1):
        total += gain
        points.append((k, total))
    hull: list[tuple[int, float]] = []
    for point in points:
        # Drop the last vertex while it lies on or below the chord to the new point.
        while len(hull) >= 2 and ((hull[-1][1] - hull[-2][1]) * (point[0] - hull[-2][0])
                                  <= (point[1] - hull[-2][1]) * (hull[-1][0] - hull[-2][0])):
            hull.pop()
        hull.append(point)
    out: list[float] = []
    for (k0, v0), (k1, v1) in itertools.pairwise(hull):
        out.extend([(v1 - v0) / (k1 - k0)] * (k1 - k0))
    return out


__all__ = ["MinStaff", "MoveOption", "PlanError", "PlanProblem", "PlanSolution", "PlanSolver", "concave_gains",
           "concave_majorant", "solve"]
