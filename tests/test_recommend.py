"""The recommendation pipeline end to end, and the laws every plan obeys."""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutasi_rules.analysis.workload import WorkloadCalculator
from mutasi_rules.data.generator import generate_dataset
from mutasi_rules.data.loading import load_dataset
from mutasi_rules.planning.recommendation import RecommendationResult, RecommendOptions, recommend
from mutasi_rules.rules.rulesets import Effect

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pontianak"


@functools.lru_cache(maxsize=1)
def example_result() -> RecommendationResult:
    return recommend(load_dataset(EXAMPLE))


def test_example_plan_is_explained_and_relieves_dinkes():
    result = example_result()
    assert result.moves, "the Pontianak example must produce a plan"
    into_dinkes = [m for m in result.moves if m.to.opd_id == "dinkes"]
    assert into_dinkes, "Dinas Kesehatan is the short agency of the example"
    before = {u.unit_id: u for u in result.units}["dinkes"]
    assert before.moves_in >= 1 and before.ej_after < before.ej_before
    for move in result.moves:
        assert move.findings or move.rules_passed, "every move says which rules it was checked against"
        assert move.score_breakdown and abs(sum(c.points for c in move.score_breakdown) - move.score) < 1e-6
        for finding in move.findings:
            assert finding.message.id and finding.message.en and finding.legal_basis and finding.source


def test_example_vaccination_moves_are_conditional_on_vaccinator_training():
    result = example_result()
    vaccination = [m for m in result.moves if "vaksin" in m.to.position_id]
    assert vaccination, "the example has moves into vaccination-programme positions"
    for move in vaccination:
        assert move.status == "conditional"
        names = [need.name for need in move.trainings_required]
        assert "Pelatihan Vaksinator" in names
        need = next(n for n in move.trainings_required if n.name == "Pelatihan Vaksinator")
        assert need.offer is not None, "the Dinkes plugin's catalogue offers the training"
        assert any("dinkes" in r for r in need.required_by), need.required_by


def test_output_is_byte_identical_across_runs():
    dataset = load_dataset(EXAMPLE)
    assert recommend(dataset).to_json() == recommend(dataset).to_json()


def test_max_moves_caps_the_plan():
    dataset = load_dataset(EXAMPLE)
    capped = recommend(dataset, RecommendOptions(max_moves=1))
    assert len(capped.moves) <= 1


def check_plan_laws(dataset, result: RecommendationResult) -> None:
    calc = WorkloadCalculator(dataset)
    before = {p.position_id: p for p in calc.positions()}
    # No recommended person is blocked by any rule, for the person or the pair.
    for move in result.moves:
        assert not [f for f in move.findings if f.effect is Effect.BLOCK]
    # Each person moves at most once.
    assert max(Counter(m.nip for m in result.moves).values(), default=0) <= 1
    # No position receives more than its shortage; none releases more than its surplus.
    received = Counter(m.to.position_id for m in result.moves)
    for report in result.shortages:
        assert received[report.position.position_id] == report.received <= report.shortage
    released = Counter(m.from_.position_id for m in result.moves)
    for position_id, count in released.items():
        assert before[position_id].gap is not None and count <= -before[position_id].gap
    # No source agency ends below what its own workload needs.
    delta: Counter[str] = Counter()
    for move in result.moves:
        delta[move.from_.position_id] -= 1
        delta[move.to.position_id] += 1
    after_units = {u.unit_id: u for u in calc.units(dict(delta))}
    for opd in {m.from_.opd_id for m in result.moves}:
        unit = after_units[opd]
        leaving = sum(1 for m in result.moves if m.from_.opd_id == opd)
        net_out = leaving - sum(1 for m in result.moves if m.to.opd_id == opd)
        if net_out > 0 and unit.staff_needed_rounded is not None:
            assert unit.bezetting_with_data >= unit.staff_needed_rounded
    # Moves keep both posts inside the balanced band: a source is not left overloaded, a
    # target is not pushed into surplus (a vacancy may always take its first person).
    after_positions = {p.position_id: p for p in calc.positions(dict(delta))}
    for position_id in released:
        ej = after_positions[position_id].ej
        assert ej is not None and ej <= calc.settings.band_high + 1e-9, (position_id, ej)
    for position_id, count in received.items():
        ej = after_positions[position_id].ej
        first_of_vacancy = before[position_id].bezetting == 0 and count == 1
        assert first_of_vacancy or (ej is not None and ej >= calc.settings.band_low - 1e-9), (position_id, ej)
    # The balance figure is never worse after the plan.
    assert (result.balance_after.ej_std or 0) <= (result.balance_before.ej_std or 0) + 1e-9
    assert (result.balance_after.outside_band_share or 0) <= (result.balance_before.outside_band_share or 0) + 1e-9


def test_example_plan_obeys_the_laws():
    check_plan_laws(load_dataset(EXAMPLE), example_result())


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=1, max_value=10_000), size=st.integers(min_value=150, max_value=260))
def test_generated_plans_obey_the_laws_and_are_deterministic(seed, size):
    dataset = generate_dataset(employees=size, seed=seed)
    options = RecommendOptions(alternatives_per_position=2)
    first = recommend(dataset, options)
    check_plan_laws(dataset, first)
    assert recommend(dataset, options).to_json() == first.to_json()


def test_limits_keep_posts_inside_the_band():
    from mutasi_rules.analysis.workload import PositionWorkload
    from mutasi_rules.planning.recommendation import receive_limit, release_limit

    def post(needed: float, bezetting: int, rounded: int) -> PositionWorkload:
        return PositionWorkload(
            position_id="p", name="p", kind="pelaksana", unit_id="u", opd_id="u", has_workload_data=True,
            task_count=1, workload_hours=needed * 1250, staff_needed=needed, staff_needed_rounded=rounded,
            bezetting=bezetting, gap=rounded - bezetting, gap_raw=needed - bezetting,
            ej=None if bezetting == 0 else needed / bezetting, ej_grade=None, vacancy=bezetting == 0,
        )

    # 2 people on a post needing 1.4 (rounds to 1): releasing one leaves EJ 1.40 > 1.10.
    assert release_limit(post(1.4, 2, 1), 1.10) == 0
    # 4 people on a post needing 2.0: two may go (EJ 1.00).
    assert release_limit(post(2.0, 4, 2), 1.10) == 2
    # A post with work keeps at least one person, however little the work.
    assert release_limit(post(0.3, 2, 1), 1.10) == 1
    # 1 person on a post needing 2.5 (rounds to 3): one more (EJ 1.25), not two (EJ 0.83).
    assert receive_limit(post(2.5, 1, 3), 0.90) == 1
    # A vacancy may always take its first person, even for 0.6 of a person's work.
    assert receive_limit(post(0.6, 0, 1), 0.90) == 1
    assert receive_limit(post(3.0, 1, 3), 0.90) == 2
