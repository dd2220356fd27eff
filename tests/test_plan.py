"""The plan optimiser: global optimum, every constraint honoured, deterministic ties."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutasi_rules.planning.plan import MinStaff, MoveOption, PlanError, PlanProblem, PlanSolver, solve


def option(nip: str, source: str, target: str, score: float, su: str = "u1", tu: str = "u2") -> MoveOption:
    return MoveOption(nip=nip, source_position_id=source, source_unit_id=su,
                      target_position_id=target, target_unit_id=tu, score=score)


def test_global_choice_beats_greedy():
    # Greedy on t1 first takes A (10 > 9) and leaves t2 with nobody; the optimum fills both.
    problem = PlanProblem(
        options=[option("A", "s", "t1", 10), option("A", "s", "t2", 8), option("B", "s", "t1", 9)],
        receive_limit={"t1": 1, "t2": 1},
        release_limit={"s": 5},
    )
    solution = solve(problem)
    assert solution.chosen == [("A", "t2"), ("B", "t1")]
    assert solution.objective == 17


def test_ties_break_by_nip_then_target():
    problem = PlanProblem(
        options=[option("B", "s", "t1", 5), option("A", "s", "t1", 5)],
        receive_limit={"t1": 1},
        release_limit={"s": 5},
    )
    assert solve(problem).chosen == [("A", "t1")]


def test_min_staff_and_max_moves():
    problem = PlanProblem(
        options=[option(n, "s", "t1", 5) for n in "ABCD"],
        receive_limit={"t1": 4},
        release_limit={"s": 4},
        min_staff=[MinStaff(name="school", position_ids=frozenset({"s"}), current=5, minimum=3)],
    )
    assert len(solve(problem).chosen) == 2
    capped = problem.model_copy(update={"max_moves": 1})
    assert len(solve(capped).chosen) == 1


def test_negative_moves_are_not_made():
    problem = PlanProblem(options=[option("A", "s", "t1", -1)], receive_limit={"t1": 1}, release_limit={"s": 1})
    assert solve(problem).chosen == []


@st.composite
def problems(draw):
    nips = [f"N{i}" for i in range(draw(st.integers(1, 6)))]
    sources = ["s1", "s2"]
    targets = ["t1", "t2", "t3"]
    options = {}
    for nip in nips:
        source = draw(st.sampled_from(sources))
        for target in draw(st.lists(st.sampled_from(targets), unique=True, max_size=3)):
            options[(nip, target)] = option(nip, source, target, draw(st.integers(-3, 20)),
                                            su="u-" + source, tu="u-" + target)
    return PlanProblem(
        options=list(options.values()),
        receive_limit={t: draw(st.integers(0, 2)) for t in targets},
        release_limit={s: draw(st.integers(0, 3)) for s in sources},
        unit_release_limit={"u-s1": draw(st.integers(0, 3))},
        max_moves=draw(st.none() | st.integers(0, 4)),
    )


@settings(max_examples=60, deadline=None)
@given(problems())
def test_plan_respects_every_constraint(problem):
    solution = solve(problem)
    chosen = {key: o for o in problem.options if (key := o.key) in set(solution.chosen)}
    assert len(chosen) == len(solution.chosen)
    assert max(Counter(n for n, _ in chosen).values(), default=0) <= 1
    for target, count in Counter(o.target_position_id for o in chosen.values()).items():
        assert count <= problem.receive_limit[target]
    for source, count in Counter(o.source_position_id for o in chosen.values()).items():
        assert count <= problem.release_limit[source]
    assert sum(o.source_unit_id == "u-s1" for o in chosen.values()) <= problem.unit_release_limit["u-s1"]
    if problem.max_moves is not None:
        assert len(chosen) <= problem.max_moves
    assert all(o.score >= 0 for o in chosen.values())
    assert solve(problem) == solution  # deterministic


def test_fractional_relaxation_falls_back_to_the_integer_program(monkeypatch):
    """When the relaxation is fractional the integer program decides (and gives the same plan)."""
    import numpy as np

    from mutasi_rules.planning import plan

    problem = PlanProblem(
        options=[option("A", "s", "t1", 10), option("A", "s", "t2", 8), option("B", "s", "t1", 9)],
        receive_limit={"t1": 1, "t2": 1},
        release_limit={"s": 5},
    )
    expected = solve(problem)
    calls = []
    real = plan.PlanSolver._run

    def fractional_relaxation(self, *, integer):
        calls.append(integer)
        x = real(self, integer=integer)
        return x if integer else np.full_like(x, 0.5)

    monkeypatch.setattr(plan.PlanSolver, "_run", fractional_relaxation)
    assert solve(problem) == expected
    assert calls == [False, True]


# ------------------------------------------------------------------ marginal workload effects


def test_two_arrivals_are_credited_with_their_real_marginal_effect():
    """Two short posts of unequal need, two eligible people from one surplus post.

    t1 (EJ 3.0 with one person: 3 needed) relieves 1.5 EJ with a first arrival but only 0.5
    with a second; t2 (EJ 2.0, 2 needed) relieves 1.0 with its first. Credited as if each
    arrival were the first, both go to t1 (1.5 + 1.5 = 3.0 > 2.5); by real marginal effect,
    one to each removes more imbalance (1.5 + 1.0 = 2.5 > 1.5 + 0.5 = 2.0).
    """
    from mutasi_rules.planning.scoring import arrival_gains, imbalance, workload_benefit

    hours, effective = {"t1": 3000.0, "t2": 2000.0, "s": 1000.0}, 1000.0
    points = 50.0
    t1 = [round(g * points, 6) for g in arrival_gains(hours["t1"], 1, 2, effective)]
    t2 = [round(g * points, 6) for g in arrival_gains(hours["t2"], 1, 1, effective)]
    assert t1 == [75.0, 25.0] and t2 == [50.0]  # EJ 3.0 -> 1.5 -> 1.0; 2.0 -> 1.0

    def person(nip: str, target: str) -> MoveOption:
        first = round(workload_benefit(None, 5, hours[target], 1, effective) * points, 6)
        return option(nip, "s", target, 10 + first, su="u-s", tu="u-" + target).model_copy(
            update={"balance_points": first})

    options = [person(n, t) for n in "AB" for t in ("t1", "t2")]
    limits = {"receive_limit": {"t1": 2, "t2": 1}, "release_limit": {"s": 2}}
    as_if_first = solve(PlanProblem(options=[o.model_copy(update={"balance_points": 0.0}) for o in options], **limits))
    assert sorted(t for _, t in as_if_first.chosen) == ["t1", "t1"]  # the defect: both to the neediest post
    marginal = solve(PlanProblem(options=options, arrival_gain={"t1": t1, "t2": t2}, **limits))
    assert sorted(t for _, t in marginal.chosen) == ["t1", "t2"]
    assert marginal.objective == 20 + 75 + 50
    # The balance itself agrees: the imbalance left at the two posts.
    left = {plan: sum(imbalance(hours[t] / ((1 + n) * effective)) for t, n in plan)
            for plan in ((("t1", 2), ("t2", 0)), (("t1", 1), ("t2", 1)))}
    assert left[(("t1", 1), ("t2", 1))] < left[(("t1", 2), ("t2", 0))]


@st.composite
def curved_problems(draw):
    problem = draw(problems())
    targets, sources = ["t1", "t2", "t3"], ["s1", "s2"]
    gains = st.lists(st.integers(-5, 30).map(float), max_size=3)
    # Any curve, concave or not (a vacancy's first arrival, a source's growing departures).
    options = [o.model_copy(update={"balance_points": float(draw(st.integers(0, 8)))}) for o in problem.options]
    return problem.model_copy(update={
        "options": options,
        "arrival_gain": {t: draw(gains) for t in targets if draw(st.booleans())},
        "departure_gain": {s: draw(gains) for s in sources if draw(st.booleans())},
        "forbidden": frozenset(draw(st.sets(st.sampled_from([o.key for o in options]))) if options else ()),
    })


def _feasible(problem: PlanProblem, chosen: list[MoveOption]) -> bool:
    if len({o.nip for o in chosen}) < len(chosen) or any(o.key in problem.forbidden for o in chosen):
        return False
    if any(n > problem.receive_limit.get(t, 0) for t, n in Counter(o.target_position_id for o in chosen).items()):
        return False
    if any(n > problem.release_limit.get(s, 0) for s, n in Counter(o.source_position_id for o in chosen).items()):
        return False
    for unit, limit in problem.unit_release_limit.items():
        if sum(o.source_unit_id == unit for o in chosen) - sum(o.target_unit_id == unit for o in chosen) > limit:
            return False
    return problem.max_moves is None or len(chosen) <= problem.max_moves


@settings(max_examples=60, deadline=None)
@given(curved_problems())
def test_the_plan_value_is_the_best_sum_of_marginal_effects(problem):
    """Brute force over every feasible plan: the solver finds the best value of base scores plus curve gains."""
    from itertools import combinations

    solver = PlanSolver(problem)
    solution = solver.solve(forbidden=problem.forbidden)
    best = 0.0
    for size in range(1, len(problem.options) + 1):
        for subset in combinations(problem.options, size):
            if _feasible(problem, list(subset)):
                best = max(best, solver.value([o.key for o in subset]))
    assert _feasible(problem, [o for o in problem.options if o.key in set(solution.chosen)])
    assert abs(solution.objective - best) < 1e-6


@settings(max_examples=40, deadline=None)
@given(curved_problems(), st.data())
def test_a_warm_started_solve_equals_a_cold_one(problem, data):
    """Re-solving one model with other forced/forbidden moves gives what a fresh model gives."""
    keys = sorted(o.key for o in problem.options)
    solver = PlanSolver(problem)
    for _ in range(3):
        forbidden = frozenset(data.draw(st.sets(st.sampled_from(keys))) if keys else ())
        chosen_cold = solve(problem.model_copy(update={"forbidden": forbidden})).chosen
        assert solver.solve(forbidden=forbidden).chosen == chosen_cold
        if chosen_cold:  # forcing what is optimal anyway changes nothing
            assert solver.solve(forced=chosen_cold[:1], forbidden=forbidden).chosen == chosen_cold


def test_forced_moves_are_made_over_the_limits():
    problem = PlanProblem(
        options=[option("A", "s", "t1", 5), option("B", "s", "t1", 9), option("C", "s", "t2", -4)],
        receive_limit={"t1": 1, "t2": 0},
        release_limit={"s": 1},
    )
    assert solve(problem).chosen == [("B", "t1")]
    forced = solve(problem.model_copy(update={"forced": frozenset({("A", "t1"), ("C", "t2")})}))
    # Limits are raised to what the pins need; the rest of the plan fits in what is left (nothing).
    assert forced.chosen == [("A", "t1"), ("C", "t2")]
    with pytest.raises(PlanError):
        solve(problem.model_copy(update={"forced": frozenset({("A", "t1")}), "forbidden": frozenset({("A", "t1")})}))


def test_a_re_solve_after_one_decision_starts_from_the_last_basis():
    """Forbidding one chosen move re-solves from the previous basis: far fewer simplex iterations than anew."""
    import random

    rng = random.Random(7)
    targets = [f"t{i}" for i in range(30)]
    options = [option(f"N{n:03d}", f"s{n % 12}", target, rng.randint(1, 60), su=f"u{n % 5}", tu="u-target")
               for n in range(120) for target in rng.sample(targets, 6)]
    problem = PlanProblem(options=options, receive_limit=dict.fromkeys(targets, 2),
                          release_limit={f"s{i}": 4 for i in range(12)},
                          arrival_gain={t: [9.0, 4.0] for t in targets})
    solver = PlanSolver(problem)
    first = solver.solve()
    cold_iterations = solver.highs.getInfo().simplex_iteration_count
    rejected = frozenset({first.chosen[0]})
    warm = solver.solve(forbidden=rejected)
    warm_iterations = solver.highs.getInfo().simplex_iteration_count
    fresh = PlanSolver(problem)
    assert fresh.solve(forbidden=rejected) == warm
    assert warm_iterations * 3 < fresh.highs.getInfo().simplex_iteration_count
    assert cold_iterations > 10 and first.chosen[0] not in warm.chosen
