"""The plan optimiser: global optimum, every constraint honoured, deterministic ties."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from mutasi_rules.plan import MinStaff, MoveOption, PlanProblem, solve


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

    import scipy.optimize  # plan.solve imports milp from here when it runs

    problem = PlanProblem(
        options=[option("A", "s", "t1", 10), option("A", "s", "t2", 8), option("B", "s", "t1", 9)],
        receive_limit={"t1": 1, "t2": 1},
        release_limit={"s": 5},
    )
    expected = solve(problem)
    calls = []
    real = scipy.optimize.milp

    def fractional_relaxation(**kwargs):
        calls.append(int(kwargs["integrality"].max()))
        result = real(**kwargs)
        if calls[-1] == 0:
            result.x = np.full_like(result.x, 0.5)
        return result

    monkeypatch.setattr(scipy.optimize, "milp", fractional_relaxation)
    assert solve(problem) == expected
    assert calls == [0, 1]
