"""Profile matching (GAP method): every configured factor counts, and the totals agree."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mutasi_rules.data.loading import load_dataset
from mutasi_rules.planning.recommendation import RunContext, prepare
from mutasi_rules.planning.scoring import (
    Aspect,
    Factor,
    ScoringSettings,
    gap_weight,
    profile_score,
    profile_total,
    profile_totals,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pontianak"


@functools.lru_cache(maxsize=1)
def context() -> RunContext:
    return prepare(load_dataset(EXAMPLE))


def pairs() -> list[tuple[str, str]]:
    ctx = context()
    movers = sorted(e.nip for e in ctx.dataset.employees if e.position_id in ctx.surplus)[:40]
    return [(nip, target) for nip in movers for target in sorted(ctx.shortages)
            if ctx.employees[nip].position_id != target]


def test_gap_weights_follow_the_method_table():
    assert [gap_weight(g) for g in (0, 1, -1, 2, -2, 3, -3, 4, -4)] == [5, 4.5, 4, 3.5, 3, 2.5, 2, 1.5, 1]
    assert gap_weight(7) == 1.5 and gap_weight(-9) == 1.0  # beyond +-4 clips
    assert gap_weight(0.5) == 4.5 and gap_weight(-0.5) == 4.0  # half away from zero


def test_every_default_factor_reads_the_pair_and_is_computed_by_hand():
    ctx = context()
    nip, target = next((n, t) for n, t in pairs()
                       if ctx.employees[n].latest_predikat() is not None
                       and ctx.index.positions[t].requirements.min_education is not None
                       and ctx.index.positions[t].requirements.min_rank is not None)
    employee, position = ctx.employees[nip], ctx.index.positions[target]
    facts = ctx.employee_facts(nip)
    profile = profile_score(ctx.candidate_scope(nip, target), employee, position, ScoringSettings())
    factors = {f.factor: f for aspect in profile.aspects for f in aspect.factors}
    assert {"pendidikan", "golongan", "predikat", "masa_kerja"} <= set(factors)

    education = factors["pendidikan"]
    assert education.value == facts.education_level.value
    assert education.gap == facts.education_level.ordinal - position.requirements.min_education.ordinal
    assert education.weight == gap_weight(education.gap)
    rank = factors["golongan"]
    assert rank.gap == facts.rank.ordinal - position.requirements.min_rank.ordinal and not rank.core
    predikat = factors["predikat"]
    assert predikat.target == "Sangat Baik"
    assert predikat.gap == facts.latest_predikat.ordinal - type(facts.latest_predikat)("Sangat Baik").ordinal
    service = factors["masa_kerja"]
    assert service.gap == round((facts.years_of_service - 10) / 2.0, 6)

    def aspect(name: str, core: list[float], secondary: list[float]) -> float:
        if not secondary:
            return round(sum(core) / len(core), 6)
        return round(0.6 * sum(core) / len(core) + 0.4 * sum(secondary) / len(secondary), 6)

    by_name = {a.aspect: a for a in profile.aspects}
    assert by_name["kualifikasi"].score == aspect("kualifikasi", [education.weight], [rank.weight])
    assert by_name["kinerja"].score == aspect("kinerja", [predikat.weight], [service.weight])
    scored = [a for a in profile.aspects if a.score is not None]
    expected = sum(a.weight * a.score for a in scored) / sum(a.weight for a in scored)
    assert profile.score == round(expected, 6)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_the_plan_total_is_the_explained_total(data):
    ctx = context()
    nip, target = data.draw(st.sampled_from(pairs()))
    fact = ctx.candidate_scope(nip, target)
    employee, position = ctx.employees[nip], ctx.index.positions[target]
    detailed = profile_score(fact, employee, position, ctx.options.scoring)
    assert profile_total(fact, employee, position, ctx.options.scoring) == detailed.score
    assert 0 <= detailed.score <= 5


_FACTORS = [
    Factor(name="pendidikan", value="candidate.employee.education_level", target="candidate.position.min_education"),
    Factor(name="golongan", value="candidate.employee.rank", target="candidate.position.min_rank", core=False),
    Factor(name="golongan-maks", value="candidate.position.max_rank", target="candidate.employee.rank", scale=0.7),
    Factor(name="predikat", value="candidate.employee.latest_predikat", target_value="Baik"),
    Factor(name="masa_kerja", value="candidate.employee.years_of_service", target_value=7.5, core=False, scale=3.0),
    Factor(name="umur", value="candidate.employee.age", target_value=41, scale=0.3),
    Factor(name="kelas", value="candidate.position.kelas", target="candidate.employee.kelas", core=False),
]

settings_drawn = st.builds(
    lambda core_share, above, aspects: ScoringSettings(core_share=core_share, above_target=above, aspects=aspects),
    st.sampled_from([0.0, 0.6, 1 / 3, 0.85, 1.0]),
    st.sampled_from(["symmetric", "exact_match"]),
    st.lists(st.builds(lambda weight, factors, competencies: Aspect(name="a", weight=weight, factors=factors,
                                                                    competencies=competencies),
                       st.sampled_from([0.3, 0.1, 1.0, 2.7]), st.lists(st.sampled_from(_FACTORS), max_size=4),
                       st.booleans()),
             min_size=1, max_size=3),
)


@settings(max_examples=25, deadline=None)
@given(scoring=settings_drawn)
def test_profile_scores_computed_at_once_equal_the_scores_of_each_pair(scoring):
    """The pipeline scores the pairs the screen lets through all at once (numpy); each total is the
    same float :func:`profile_total` gives for the pair alone, whatever the settings."""
    ctx = context()
    found = pairs()
    people = sorted({n for n, _ in found})
    targets = sorted({t for _, t in found})
    row, col = {n: i for i, n in enumerate(people)}, {t: j for j, t in enumerate(targets)}
    totals = profile_totals(scoring, [ctx.employees[n] for n in people], [ctx.employee_facts(n) for n in people],
                            [ctx.index.positions[t] for t in targets], [ctx.position_facts(t) for t in targets],
                            np.array([row[n] for n, _ in found]), np.array([col[t] for _, t in found]))
    assert totals is not None
    each = [profile_total(ctx.candidate_scope(n, t), ctx.employees[n], ctx.index.positions[t], scoring)
            for n, t in found]
    assert totals.tolist() == each


def test_profile_scores_of_a_factor_reading_the_pair_itself_are_computed_per_pair():
    scoring = ScoringSettings(aspects=[Aspect(name="a", weight=1, factors=[
        Factor(name="k", value="candidate.kelas_change", target_value=0)])])
    assert profile_totals(scoring, [], [], [], [], np.zeros(0, dtype=int), np.zeros(0, dtype=int)) is None


@pytest.mark.parametrize(
    ("factor", "message"),
    [
        ({"value": "candidate.employee.educaton_level", "target_value": 3},
         "'candidate.employee.educaton_level' is not a candidate-scope fact path; "
         "did you mean 'candidate.employee.education_level'?"),
        ({"value": "employee.education_level", "target_value": 3}, "is not a candidate-scope fact path"),
        ({"value": "candidate.employee.name", "target_value": 1}, "'candidate.employee.name' is string"),
        ({"value": "candidate.employee.rank", "target": "candidate.position.min_rnk"},
         "'candidate.position.min_rnk' is not a candidate-scope fact path"),
    ],
)
def test_a_factor_reading_no_comparable_fact_is_refused_when_configured(factor, message):
    with pytest.raises(ValidationError, match=message.replace("?", r"\?")):
        Factor(name="f", **factor)


def test_plugin_attributes_are_accepted_as_factor_paths():
    assert Factor(name="f", value="candidate.employee.ext.str_years", target_value=1).value.endswith("str_years")


# --------------------------------------------------------------------------- a published worked example
#
# The classic profile-matching example ("evaluasi kinerja karyawan untuk promosi jabatan",
# Kusrini 2007; reproduced in course material such as W. Setiyaningsih's DSS slides and
# M. N. Sutoyo's notes): aspect Kecerdasan, ten factors rated 1-5. Target profile and the
# ratings of employee K1001, with the published gap and gap-weight rows for K1001.
KECERDASAN = ["Common Sense", "Verbalisasi Ide", "Sistematika Berpikir", "Penalaran dan Solusi Real", "Konsentrasi",
              "Logika Praktis", "Fleksibilitas Berpikir", "Imajinasi Kreatif", "Antisipasi", "Potensi Kecerdasan"]
CLASSIC_TARGET = [3, 3, 4, 4, 3, 4, 4, 5, 3, 4]
K1001 = [2, 4, 3, 3, 2, 2, 4, 3, 2, 3]
K1001_GAPS = [-1, 1, -1, -1, -1, -2, 0, -2, -1, -1]
K1001_WEIGHTS = [4, 4.5, 4, 4, 4, 3, 5, 3, 4, 4]
# A published assignment with the same ten factors marks each core or secondary and weighs
# core 55 % : secondary 45 % (PT "Jaya Selalu Senantiasa", profile-matching exercise):
# (target, core?) per factor, in the order above.
TYPED_TARGET = [(4, True), (3, False), (4, True), (4, True), (3, False), (5, True), (4, True), (3, False), (4, True),
                (3, False)]


def _competency_profile(targets: list[tuple[int, bool]], ratings: list[int], **settings: object):
    from mutasi_rules.data.models import Competency, CompetencyRequirement, ProfileFactor
    from mutasi_rules.planning.scoring import Aspect

    ctx = context()
    nip, target = pairs()[0]
    position = ctx.index.positions[target]
    requirements = position.requirements.model_copy(update={"competencies": [
        CompetencyRequirement(name=name, min_level=str(level),
                              factor=ProfileFactor.CORE if core else ProfileFactor.SECONDARY)
        for name, (level, core) in zip(KECERDASAN, targets, strict=True)]})
    employee = ctx.employees[nip].model_copy(update={"competencies": [
        Competency(name=name, level=str(level)) for name, level in zip(KECERDASAN, ratings, strict=True)]})
    scoring = ScoringSettings(aspects=[Aspect(name="kecerdasan", weight=1.0, competencies=True)], **settings)
    return profile_score(ctx.candidate_scope(nip, target), employee,
                         position.model_copy(update={"requirements": requirements}), scoring)


def test_the_published_gap_and_weight_rows_are_reproduced():
    profile = _competency_profile([(t, True) for t in CLASSIC_TARGET], K1001)
    factors = {f.factor.removeprefix("kompetensi:"): f for f in profile.aspects[0].factors}
    assert [factors[name].gap for name in KECERDASAN] == K1001_GAPS
    assert [factors[name].weight for name in KECERDASAN] == K1001_WEIGHTS
    assert profile.score == pytest.approx(sum(K1001_WEIGHTS) / 10)  # all core: the plain mean, 3.95


def test_core_and_secondary_competencies_split_the_aspect():
    # By hand: core weights 3, 4, 4, 2, 5, 3 -> NCF 3.5; secondary 4.5, 4, 5, 5 -> NSF 4.625.
    typed = _competency_profile(TYPED_TARGET, K1001, core_share=0.55)
    factors = {f.factor.removeprefix("kompetensi:"): f for f in typed.aspects[0].factors}
    assert [factors[name].core for name in KECERDASAN] == [core for _, core in TYPED_TARGET]
    assert typed.score == pytest.approx(0.55 * 3.5 + 0.45 * 4.625)  # 4.00625
    assert _competency_profile(TYPED_TARGET, K1001).score == pytest.approx(0.6 * 3.5 + 0.4 * 4.625)  # p = 60 %


def test_above_the_target_profile_is_a_setting():
    # Verbalisasi Ide is one above its target (+1 -> 4.5 in the published method).
    symmetric = _competency_profile(TYPED_TARGET, K1001, core_share=0.55)
    exact = _competency_profile(TYPED_TARGET, K1001, core_share=0.55, above_target="exact_match")
    by_name = lambda p: {f.factor.removeprefix("kompetensi:"): f for f in p.aspects[0].factors}  # noqa: E731
    assert by_name(symmetric)["Verbalisasi Ide"].weight == 4.5 and by_name(exact)["Verbalisasi Ide"].weight == 5
    assert by_name(exact)["Verbalisasi Ide"].gap == 1  # the gap shown stays the real one
    assert exact.score == pytest.approx(0.55 * 3.5 + 0.45 * (5 + 4 + 5 + 5) / 4)  # 4.0625
    # Below the target nothing changes; above it the candidate is never worse than an exact match.
    assert [f.weight for f in by_name(exact).values() if f.gap < 0] == \
        [f.weight for f in by_name(symmetric).values() if f.gap < 0]
    with pytest.raises(ValidationError):
        ScoringSettings(above_target="generous")
