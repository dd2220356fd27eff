"""The plan stages: the plan problem, review decisions applied to it, and the balanced optimum.

Input: the rule stages' output (mutasi_rules.planning.candidates). :func:`prepare_planning`
gives the decision-independent :class:`Planning` (kept on the run context, so re-plans
reuse it); :func:`apply_review` turns review decisions into forced and forbidden moves
(:class:`Review`); :func:`balanced_plan` solves (HiGHS, warm-started) and withholds moves
that would worsen the balance across agencies (:class:`Choice`); :func:`after_plan` gives
the workload figures after the chosen moves (:class:`After`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mutasi_rules.analysis.workload import PositionWorkload, UnitWorkload
from mutasi_rules.data.decisions import AppliedDecision, MoveReview
from mutasi_rules.data.models import Employee
from mutasi_rules.planning.candidates import CandidateRules, CandidateStage
from mutasi_rules.planning.context import (
    RunContext,
    blocking,
    pair_subject,
    rule_overridable,
)
from mutasi_rules.planning.plan import PlanError, PlanProblem, PlanSolver
from mutasi_rules.planning.results import ExcludedEmployee
from mutasi_rules.planning.scoring import arrival_gains, departure_gains
from mutasi_rules.rules.engine import RuleEngine
from mutasi_rules.rules.findings import Finding


@dataclass
class Planning:
    """The part of a run review decisions do not change, prepared once per context and reused by re-plans.

    Employee rules, the candidate stage (every pair's findings and score), the plan problem
    and, once solved, the solver holding its last basis (a re-plan warm-starts from it).
    """

    employee_findings: dict[str, list[Finding]]
    excluded: list[ExcludedEmployee]
    targets: list[str]
    stage: CandidateStage
    engine: RuleEngine  # closed; still answers which rules apply (Move.rules_passed)
    problem: PlanProblem
    solver: PlanSolver | None = None

    def options_by(self, what: Literal["nip", "target"]) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for option in self.problem.options:
            found[option.nip if what == "nip" else option.target_position_id].append(option.key)
        return found

    def option_keys(self) -> set[tuple[str, str]]:
        return {option.key for option in self.problem.options}



@dataclass
class Review:
    """The review decisions of one run applied to its planning: what the plan must and must not do."""

    evaluated: dict[tuple[str, str], dict[str, Any]]
    employee_findings: dict[str, list[Finding]]
    by_target: dict[str, list[Employee]]  # shortage lists that gained a pinned person
    forced: set[tuple[str, str]] = field(default_factory=set)
    forbidden: set[tuple[str, str]] = field(default_factory=set)
    reasons: dict[tuple[str, str], AppliedDecision] = field(default_factory=dict)  # why a move is forbidden
    held: dict[str, AppliedDecision] = field(default_factory=dict)
    pins: dict[tuple[str, str], MoveReview] = field(default_factory=dict)
    solver: PlanSolver | None = None



#: The warning of a plan whose pinned moves alone worsen the balance across agencies.
PINS_WORSEN_BALANCE = ("the pinned moves worsen the workload balance across agencies; they are kept as the reviewers "
                       "decided")


@dataclass
class Choice:
    """The plan chosen: the moves, those withheld for the balance across agencies, and warnings."""

    chosen: set[tuple[str, str]]
    withheld: set[tuple[str, str]]
    warnings: list[str] = field(default_factory=list)


@dataclass
class After:
    """Workload figures after the chosen moves."""

    delta: dict[str, int]  # position -> change in staff
    positions: dict[str, PositionWorkload]
    units: dict[str, UnitWorkload]
    units_list: list[UnitWorkload]


def gain_points(ctx: RunContext, position_id: str, count: int, *, arrival: bool) -> list[float]:
    """Points of the 1st, 2nd, ... ``count``-th arrival at (or departure from) a position."""
    figures = ctx.pw[position_id]
    curve = arrival_gains if arrival else departure_gains
    points = ctx.options.scoring.workload_points
    return [round(g * points, 6)
            for g in curve(figures.workload_hours, figures.bezetting, count, ctx.calc.hours)]


def prepare_planning(ctx: RunContext, rules: CandidateRules) -> Planning:
    """Employee rules, candidate rules and scores, and the plan problem: the decision-independent part of a run."""
    with ctx.engine() as engine:
        people = rules.people(engine)
        targets = sorted(ctx.shortages)
        stage = rules.candidates(engine, people.movable, targets, people.findings)
    return Planning(employee_findings=people.findings, excluded=people.excluded, targets=targets, stage=stage,
                    engine=engine, problem=plan_problem(ctx, stage))


def plan_problem(ctx: RunContext, stage: CandidateStage) -> PlanProblem:
    """The plan problem over the eligible pairs: limits per post and agency, plugin constraints, gain curves."""
    unit_release = {
        u.unit_id: max(0, int(u.bezetting_with_data - (u.staff_needed_rounded or 0)))
        for u in ctx.report.units if u.is_opd and u.staff_needed_rounded is not None
    }
    constraints = ctx.plugins.plan_constraints(ctx.dataset, ctx.as_of) if ctx.plugins else []
    return PlanProblem(
        options=stage.options,
        receive_limit=ctx.shortages,
        release_limit=ctx.surplus,
        unit_release_limit=unit_release,
        min_staff=[c.to_min_staff(ctx.dataset, ctx.index.bezetting) for c in constraints],
        max_moves=ctx.options.max_moves,
        arrival_gain={t: gain_points(ctx, t, n, arrival=True) for t, n in ctx.shortages.items()},
        departure_gain={s: gain_points(ctx, s, n, arrival=False) for s, n in ctx.surplus.items()},
    )


def apply_review(ctx: RunContext, planning: Planning, decisions: Sequence[AppliedDecision],
                 rules: CandidateRules) -> Review:
    """The plan problem with the review decisions: rejected, held and excluded moves forbidden, pins forced.

    A pin on a pair that is already a plan option only forces it, and the prepared solver
    is reused (a warm start). A pin on any other pair (blocked by overridable rules only,
    or outside the surplus/shortage pool) is evaluated here through the engine, scored and
    added as an option; its blocking rules become the recorded human override.
    """
    review = Review(evaluated=planning.stage.evaluated, employee_findings=planning.employee_findings,
                     by_target={})
    options_of_person: dict[str, list[tuple[str, str]]] = planning.options_by("nip")
    options_to: dict[str, list[tuple[str, str]]] = planning.options_by("target")
    pin_decisions: list[AppliedDecision] = []
    for decision in decisions:
        if decision.action == "reject":
            review.reasons.setdefault(decision.move, decision)
            review.forbidden.add(decision.move)
        elif decision.action == "exclude_employee":
            for key in options_of_person.get(decision.nip_given, ()):
                review.reasons.setdefault(key, decision)
                review.forbidden.add(key)
        elif decision.action == "hold_position":
            review.held[decision.position_given] = decision
            for key in options_to.get(decision.position_given, ()):
                review.reasons.setdefault(key, decision)
                review.forbidden.add(key)
        else:
            pin_decisions.append(decision)
    known = planning.option_keys()
    outside = [d for d in pin_decisions if d.pair not in known]
    for decision in pin_decisions:
        review.forced.add(decision.move)
    review.forbidden -= review.forced  # validation refuses such conflicts; a pin wins if one slips through
    if not outside:
        if planning.solver is None:
            planning.solver = PlanSolver(planning.problem)
        review.solver = planning.solver
        for decision in pin_decisions:
            review.pins[decision.move] = MoveReview(
                decision=decision.id, reviewer=decision.reviewer, reason=decision.reason, date=decision.date)
        return review
    # Pins outside the prepared options: evaluate and score them, then solve a model that includes them.
    review.evaluated = dict(planning.stage.evaluated)
    review.employee_findings = dict(planning.employee_findings)
    scratch = CandidateStage(considered={}, by_target=defaultdict(list))
    with ctx.engine() as engine:
        people = sorted({d.nip_given for d in outside if d.nip_given not in review.employee_findings})
        found = engine.evaluate("employee", [ctx.employee_scope(n) for n in people], people)
        review.employee_findings.update(zip(people, found, strict=True))
        # Pairs the engine never saw, and blocked ones (evaluated but never scored): again, scored.
        pairs = [(ctx.employees[d.nip_given], d.position_given) for d in outside
                 if "pair_score" not in review.evaluated.get(d.move, {})]
        rules.evaluate_pairs(engine, pairs, review.employee_findings, scratch, force=True)
    review.evaluated.update(scratch.evaluated)
    new_options = {o.key: o for o in scratch.options}
    for decision in pin_decisions:
        nip, target = decision.move
        entry = review.evaluated[(nip, target)]
        if entry["vetoes"]:
            raise PlanError(f"pin {decision.id}: {pair_subject(nip, target)} is vetoed by an agency plugin; "
                            "a veto cannot be overridden")
        overridden = [*blocking(review.employee_findings[nip]), *entry["blocked"]]
        not_overridable = [f.rule_key for f in overridden if not rule_overridable(ctx.rulesets, f)]
        if not_overridable:
            raise PlanError(f"pin {decision.id}: {pair_subject(nip, target)} is blocked by rules that cannot be "
                            f"overridden: {', '.join(not_overridable)}")
        if (nip, target) not in known and (nip, target) not in new_options:
            new_options[(nip, target)] = rules.option(ctx.employees[nip], target, entry)
        review.pins[(nip, target)] = MoveReview(
            decision=decision.id, reviewer=decision.reviewer, reason=decision.reason, date=decision.date,
            overridden=sorted({f.rule_key for f in overridden}))
        if target in planning.stage.by_target and (nip, target) not in known:
            listed = review.by_target.setdefault(target, list(planning.stage.by_target[target]))
            if all(e.nip != nip for e in listed):
                listed.append(ctx.employees[nip])
                listed.sort(key=lambda e: e.nip)
    problem = planning.problem
    arrival, departure = dict(problem.arrival_gain), dict(problem.departure_gain)
    for option in new_options.values():
        pinned_to = sum(1 for d in pin_decisions if d.position == option.target_position_id)
        pinned_from = sum(1 for d in pin_decisions
                          if ctx.employees[d.nip_given].position_id == option.source_position_id)
        target, source = option.target_position_id, option.source_position_id
        arrival[target] = gain_points(ctx, target, problem.receive_limit.get(target, 0) + pinned_to, arrival=True)
        departure[source] = gain_points(ctx, source, problem.release_limit.get(source, 0) + pinned_from,
                                             arrival=False)
    review.solver = PlanSolver(problem.model_copy(update={
        "options": [*problem.options, *new_options.values()], "arrival_gain": arrival,
        "departure_gain": departure,
    }))
    return review


def balanced_plan(ctx: RunContext, review: Review) -> Choice:
    """The optimal plan that does not make the city balance worse.

    Moves are chosen for score, and each one relieves its own positions, but a set of
    moves can still widen the spread between agencies (a move into a post that is short
    inside an agency that is in surplus overall). When the optimum would worsen the
    balance figure (EJ spread or the share of agencies outside the band), the move whose
    removal helps the balance most is withheld and the plan solved again, from the last
    basis (a warm start). The empty plan never worsens the balance, so this ends; ties go
    to the lowest (NIP, position) key. Pinned moves are never withheld: when they alone
    worsen the balance, the plan keeps them and says so in a warning.
    """
    if review.solver is None:
        raise ValueError("the review's plan model is missing")
    solver, forced, forbidden = review.solver, review.forced, review.forbidden
    before = ctx.report.balance
    limit = (before.ej_std or 0.0, before.outside_band_share or 0.0)
    tolerance = 1e-9
    withheld: set[tuple[str, str]] = set()
    while True:
        chosen = set(solver.solve(forced, forbidden | withheld).chosen)
        std, share = balance_key(ctx, chosen)
        if std <= limit[0] + tolerance and share <= limit[1] + tolerance:
            return Choice(chosen, withheld)
        optional = sorted(chosen - forced)
        if not optional:
            return Choice(chosen, withheld, [PINS_WORSEN_BALANCE])
        worst = min(optional, key=lambda key: balance_key(ctx, chosen - {key}))
        withheld.add(worst)


def delta(ctx: RunContext, chosen: set[tuple[str, str]]) -> dict[str, int]:
    """Change in staff per position if the moves ``chosen`` are made."""
    delta: dict[str, int] = defaultdict(int)
    for nip, target in chosen:
        delta[ctx.employees[nip].position_id] -= 1
        delta[target] += 1
    return dict(delta)


def balance_key(ctx: RunContext, chosen: set[tuple[str, str]]) -> tuple[float, float]:
    after = ctx.calc.balance(delta(ctx, chosen))
    return (after.ej_std or 0.0, after.outside_band_share or 0.0)


def after_plan(ctx: RunContext, chosen: set[tuple[str, str]]) -> After:
    """Workload figures of every post and unit after the moves ``chosen``."""
    change = delta(ctx, chosen)
    positions = {p.position_id: p for p in ctx.calc.positions(change)}
    units_list = ctx.calc.units(change, list(positions.values()))
    return After(delta=change, positions=positions, units={u.unit_id: u for u in units_list}, units_list=units_list)


__all__ = ["After", "Choice", "Planning", "Review", "after_plan", "apply_review", "balanced_plan", "gain_points",
           "plan_problem", "prepare_planning"]
