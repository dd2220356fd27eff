"""The vectorised candidate screen (mutasi_rules.rules.screen) against the rule engine.

* Soundness on generated rules: whatever a hypothesis-generated rule says (block, score,
  warn, require_training, classify), a pair the screen finds it firing for is one the
  engine fires it for (and, as every generated atom is one the screen evaluates, the two
  agree exactly).
* On the bundled rule sets and plugins, screen and engine agree on every rule and pair.
* The screened pipeline's result JSON equals the unscreened one's (every pair through the
  engine), counts and listed alternatives included: with the screen deciding block rules
  only, and with it scoring the pairs it lets through (only pairs in the result go through
  the engine); with generated score and warn rules; with review decisions (rejects,
  exclusions, held positions, pins).
* When the screen and the engine disagree on a pair in the result, the run stops.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import numpy as np
import pytest
from engine_support import rule, ruleset
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mutasi_rules.data import generator
from mutasi_rules.data.decisions import AppliedDecision
from mutasi_rules.planning.pipeline import _Run
from mutasi_rules.planning.recommendation import (
    RecommendationResult,
    RecommendOptions,
    RunContext,
    pair_subject,
    prepare,
)
from mutasi_rules.plugins.manager import PluginManager, PluginSettings
from mutasi_rules.plugins.types import ScoreComponent, Veto
from mutasi_rules.rules.backend import EngineError
from mutasi_rules.rules.engine import RuleEngine
from mutasi_rules.rules.rulesets import Effect, Localized
from mutasi_rules.rules.screen import PairScreen, _Chunk


class Pairs:
    """A prepared run over a generated dataset and its candidate pairs' facts (built once)."""

    def __init__(self, size: int, seed: int) -> None:
        self.ctx: RunContext = prepare(generator.generate_dataset(size, seed=seed))
        ctx = self.ctx
        self.pool = sorted(e.nip for e in ctx.dataset.employees if e.position_id in ctx.surplus)
        self.targets = sorted(ctx.shortages)
        self.cells = [(i, j) for i, nip in enumerate(self.pool) for j, t in enumerate(self.targets)
                      if ctx.employees[nip].position_id != t]
        self.facts = [ctx.candidate_scope(self.pool[i], self.targets[j]) for i, j in self.cells]
        self.subjects = [pair_subject(self.pool[i], self.targets[j]) for i, j in self.cells]

    def screen(self, rulesets: list[Any]) -> PairScreen:
        ctx = copy.copy(self.ctx)  # shares the fact caches; only the rule sets differ
        ctx.rulesets = rulesets
        return PairScreen(ctx, self.pool, self.targets)

    def engine_fires(self, rulesets: list[Any]) -> dict[str, np.ndarray]:
        """Per rule key, where the engine fires it."""
        with RuleEngine(rulesets, as_of=self.ctx.as_of, extensions=self.ctx.extensions) as engine:
            found = engine.evaluate("candidate", self.facts, self.subjects)
            keys = engine.rule_keys("candidate")
        fires = {k: np.zeros((len(self.pool), len(self.targets)), dtype=bool) for k in keys}
        for (i, j), findings in zip(self.cells, found, strict=True):
            for f in findings:
                fires[f.rule_key][i, j] = True
        return fires

    def mask(self) -> np.ndarray:
        m = np.zeros((len(self.pool), len(self.targets)), dtype=bool)
        for i, j in self.cells:
            m[i, j] = True
        return m


@pytest.fixture(scope="module")
def pairs() -> Pairs:
    return Pairs(450, 5)


# --------------------------------------------------------------------------- generated rules

NUMBERS = ["candidate.employee.age", "candidate.employee.years_in_position", "candidate.kelas_change",
           "candidate.years_to_retirement_at_target", "candidate.position.kelas", "candidate.position.gap",
           "candidate.target_unit.ej", "candidate.source_position.bezetting", "candidate.employee.kelas",
           "context.months_to_candidate_determination", "candidate.target_retirement_age"]
BOOLS = ["candidate.same_opd", "candidate.same_unit", "candidate.education_field_ok",
         "candidate.employee.under_sanction", "candidate.employee.willing_to_move", "candidate.position.vacancy",
         "candidate.position.ext.guru", "candidate.source_position.ext.guru", "candidate.employee.ext.health_education"]
LISTS = ["candidate.employee.trainings", "candidate.employee.certificates", "candidate.missing_trainings",
         "candidate.missing_certificates", "candidate.missing_competencies", "candidate.position.unit_path",
         "candidate.position.programmes", "candidate.employee.expired_certificates",
         "candidate.position.required_certificates", "candidate.employee.unit_path"]
ITEMS = ["Pelatihan Vaksinator", "STR", "dinkes", "disdikbud", "Sertifikat Pendidik", "vaksinasi", "tidak-ada"]
RANKS = ["II/a", "III/a", "III/c", "IV/a"]
COMPARE = ["<", "<=", ">", ">=", "==", "!="]


def _number() -> st.SearchStrategy[str]:
    return st.sampled_from([-2, 0, 1, 2.5, 5, 9, 30, 45]).map(str)


atoms = st.one_of(
    st.builds(lambda p, op, v: f"{p} {op} {v}", st.sampled_from(NUMBERS), st.sampled_from(COMPARE), _number()),
    st.builds(lambda a, op, b: f"{a} {op} {b}", st.sampled_from(NUMBERS), st.sampled_from(COMPARE[:4]),
              st.sampled_from(NUMBERS)),
    st.builds(lambda a, b, op, v: f"{a} + 2 * {b} {op} {v}", st.sampled_from(NUMBERS), st.sampled_from(NUMBERS),
              st.sampled_from(COMPARE[:4]), _number()),
    st.builds(lambda op, r: f'candidate.employee.rank {op} "{r}"', st.sampled_from(COMPARE), st.sampled_from(RANKS)),
    st.builds(lambda op, side: f"candidate.employee.rank {op} candidate.position.{side}",
              st.sampled_from(COMPARE), st.sampled_from(["min_rank", "max_rank"])),
    st.builds(lambda op: f"candidate.employee.education_level {op} candidate.position.min_education",
              st.sampled_from(COMPARE)),
    st.builds(lambda op, d: f'candidate.employee.position_start {op} date("{d}")', st.sampled_from(COMPARE[:4]),
              st.sampled_from(["2015-01-01", "2021-06-30", "2024-01-01"])),
    st.builds(lambda n: f"as_of - candidate.employee.position_start >= {n}", st.sampled_from([0, 365, 730, 2000])),
    st.builds(lambda op, k: f'candidate.position.kind {op} "{k}"', st.sampled_from(["==", "!="]),
              st.sampled_from(["fungsional", "pelaksana", "pengawas"])),
    st.builds(lambda neg, vs: f"candidate.employee.status {'not in' if neg else 'in'} [{vs}]", st.booleans(),
              st.sampled_from(['"PNS"', '"PPPK"', '"PNS", "CPNS"'])),
    st.builds(lambda p: p, st.sampled_from(BOOLS)),
    st.builds(lambda it, neg, p: f'"{it}" {"not in" if neg else "in"} {p}', st.sampled_from(ITEMS), st.booleans(),
              st.sampled_from(LISTS)),
    st.builds(lambda p: f"empty({p})", st.sampled_from(LISTS)),
    st.builds(lambda p: f"exists({p})", st.sampled_from(["candidate.employee.rank", "candidate.position.min_rank",
                                                         "candidate.employee.willing_to_move",
                                                         "candidate.employee.latest_predikat"])),
    st.builds(lambda p: f'candidate.employee.latest_predikat {p} "Baik"', st.sampled_from(COMPARE)),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        children.map(lambda e: f"not ({e})"),
        st.lists(children, min_size=2, max_size=3).map(lambda es: " and ".join(f"({e})" for e in es)),
        st.lists(children, min_size=2, max_size=2).map(lambda es: " or ".join(f"({e})" for e in es)),
    )


conditions = st.recursive(atoms, _combine, max_leaves=5)

#: A generated rule's effect and the parameters it needs.
EFFECT_PARAMETERS: dict[str, dict[str, Any]] = {
    "block": {}, "warn": {}, "score": {"component": "generated", "points": 7.25},
    "require_training": {"training": "Pelatihan Umum"}, "classify": {"label": "generated"},
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Missing values both ways (PPPK staff have no rank; posts without a minimum rank), lists with the sentinel.
@example(when='candidate.employee.rank != "III/a"', units=[], kinds=[], effect="block")
@example(when="not (candidate.employee.rank == candidate.position.min_rank)", units=[], kinds=[], effect="score")
@example(when='not (candidate.employee.latest_predikat == "Baik") or not exists(candidate.position.max_rank)',
         units=["dinkes"], kinds=[], effect="warn")
@example(when='"STR" not in candidate.missing_certificates and empty(candidate.missing_competencies)',
         units=[], kinds=["fungsional"], effect="block")
@example(when="not candidate.employee.willing_to_move", units=[], kinds=[], effect="require_training")
@given(when=conditions, units=st.sampled_from([[], ["dinkes"], ["disdikbud", "setda"]]),
       kinds=st.sampled_from([[], ["fungsional"], ["pelaksana", "pengawas"]]),
       effect=st.sampled_from(sorted(EFFECT_PARAMETERS)))
def test_the_screen_never_fires_a_rule_the_engine_does_not(pairs: Pairs, when: str, units: list[str],
                                                           kinds: list[str], effect: str) -> None:
    generated = ruleset("gen.screen", [rule("r", when, scope="candidate", effect=effect,
                                            **EFFECT_PARAMETERS[effect])],
                        units=units, kinds=kinds, effective_from=dt.date(2000, 1, 1))
    screen = pairs.screen([generated])
    screen_fires = screen.fires(0, len(pairs.targets))
    engine_fires = pairs.engine_fires([generated])
    mask = pairs.mask()
    screened = screen_fires.get("gen.screen/r", np.zeros(mask.shape, dtype=bool)) & mask
    engine = engine_fires.get("gen.screen/r", np.zeros(mask.shape, dtype=bool))
    assert not (screened & ~engine).any(), f"screen fires ({effect}) where the engine does not: {when}"
    assert not screen.inexact, f"every generated atom is one the screen evaluates: {when}"
    assert (screened == engine).all(), f"screen and engine disagree on {when}"


def test_an_atom_the_screen_cannot_evaluate_never_blocks(pairs: Pairs) -> None:
    chunk = _Chunk(pairs.screen(pairs.ctx.rulesets), 0, 2)
    assert not np.any(chunk.condition({"$and": [{"t": "candidate"}, {"$mt": {"candidate.position.name": ".*"}}]}))
    assert not np.any(chunk.condition({"$iany": {"candidate.employee.trainings": {"$i": {"$m": "x"}}}}))
    assert not np.any(chunk.condition({"$lt": {"candidate.ext.unknown": 3}}))
    # A disjunction keeps the branches it can evaluate.
    both = chunk.condition({"$or": [{"$mt": {"a": "b"}}, {"t": "candidate"}]})
    assert np.all(both)
    assert chunk.unsupported  # and the rule is marked as decided only as a lower bound


#: A score rule the screen cannot decide exactly: it cannot evaluate a membership whose item is a field.
INEXACT_WHEN = "candidate.position.name in candidate.employee.trainings or candidate.employee.age > 20"
INEXACT_SCORE = rule("inexact", INEXACT_WHEN, scope="candidate", effect="score", component="inexact", points=3)


def test_an_inexact_rule_is_reported(pairs: Pairs) -> None:
    exact = rule("exact", "candidate.employee.age > 40", scope="candidate", effect="score", component="c", points=2)
    screen = pairs.screen([ruleset("gen.inexact", [exact, INEXACT_SCORE], effective_from=dt.date(2000, 1, 1))])
    fires = screen.fires(0, len(pairs.targets))
    assert screen.inexact == {"gen.inexact/inexact"}
    assert screen.exact(["gen.inexact/exact"]) and not screen.exact(["gen.inexact/inexact"])
    assert fires["gen.inexact/inexact"].any()  # the branch it can evaluate still counts (a lower bound)


# --------------------------------------------------------------------------- real rule sets


def test_screen_and_engine_agree_on_the_bundled_rules_and_plugins(pairs: Pairs) -> None:
    screen = pairs.screen(pairs.ctx.rulesets)
    fires = screen.fires(0, len(pairs.targets))
    engine = pairs.engine_fires(pairs.ctx.rulesets)
    mask = pairs.mask()
    assert screen.rules, "the bundled rules have candidate-scope block rules"
    for key, _ in screen.rules:
        assert ((fires[key] & mask) == engine[key]).all(), key
    blocked = screen.blocked(0, len(pairs.targets)) & mask
    assert 0 < blocked.sum() < mask.sum()  # the data exercise both outcomes
    chunks = np.concatenate([b for _, _, b in screen.chunks()], axis=1)
    assert (chunks == screen.blocked(0, len(pairs.targets))).all()


def test_small_chunks_give_the_same_answer(pairs: Pairs, monkeypatch: pytest.MonkeyPatch) -> None:
    screen = pairs.screen(pairs.ctx.rulesets)
    whole = screen.blocked(0, len(pairs.targets))
    monkeypatch.setattr("mutasi_rules.rules.screen.CHUNK_CELLS", len(pairs.pool) * 3)
    assert screen.chunk_size() == 3
    assert (np.concatenate([b for _, _, b in screen.chunks()], axis=1) == whole).all()


# --------------------------------------------------------------------------- whole pipeline


MODES = {"engine": {"screen": False}, "screen blocks": {"screen": True, "screen_scores": False},
         "screen scores": {"screen": True, "screen_scores": True}}


def _results(ctx: RunContext, decisions: tuple[AppliedDecision, ...] = (),
             modes: tuple[str, ...] = tuple(MODES)) -> dict[str, RecommendationResult]:
    """The run without the screen (every pair through the engine), with the screen deciding block
    rules only, and with it also scoring the pairs it lets through (the default)."""
    return {mode: _Run(ctx, None, decisions=decisions, **MODES[mode]).run() for mode in modes}


def _assert_equal(results: dict[str, RecommendationResult]) -> RecommendationResult:
    texts = {mode: result.to_json() for mode, result in results.items()}
    reference = texts["engine"]
    assert all(text == reference for text in texts.values()), [m for m, t in texts.items() if t != reference]
    return results["engine"]


@pytest.mark.parametrize(("size", "seed", "alternatives"), [(400, 3, 5), (500, 11, 40), (300, 7, 0)])
def test_screened_pipeline_result_equals_the_unscreened_one(size: int, seed: int, alternatives: int) -> None:
    ctx = prepare(generator.generate_dataset(size, seed=seed),
                  RecommendOptions(alternatives_per_position=alternatives))
    screened = _assert_equal(_results(ctx))
    assert ctx.planning[(True, True)].stage.screened is not None  # the screen scored the pairs it let through
    # The comparison means something: moves, eligible and blocked candidates are all there.
    assert screened.moves
    assert any(s.candidates_eligible < s.candidates_considered for s in screened.shortages)
    if alternatives:
        listed = [a for s in screened.shortages for a in s.alternatives]
        assert any(a.outcome == "blocked" and a.blocking for a in listed)
        assert all(f.effect is Effect.BLOCK for a in listed if a.outcome == "blocked" for f in a.blocking)


@pytest.fixture(scope="module")
def small_dataset() -> Any:
    return generator.generate_dataset(500, seed=1)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(score_when="candidate.employee.age > 40", warn_when='candidate.position.kind == "fungsional"', points=2.5)
@given(score_when=conditions, warn_when=conditions, points=st.sampled_from([-3.0, 0.5, 2.5, 40.0]))
def test_generated_score_and_warn_rules_give_the_same_result_screened_or_not(
        small_dataset: Any, score_when: str, warn_when: str, points: float) -> None:
    base = prepare(small_dataset)
    generated = ruleset("gen.pipeline", [
        rule("score", score_when, scope="candidate", effect="score", component="generated", points=points),
        rule("warn", warn_when, scope="candidate", effect="warn"),
    ], effective_from=dt.date(2000, 1, 1))
    ctx = prepare(small_dataset, rulesets=[*base.rulesets, generated])
    _assert_equal(_results(ctx, modes=("engine", "screen scores")))


def test_an_inexact_score_rule_sends_every_pair_through_the_engine(small_dataset: Any) -> None:
    base = prepare(small_dataset)
    ctx = prepare(small_dataset, rulesets=[*base.rulesets, ruleset("gen.inexact", [INEXACT_SCORE],
                                                                   effective_from=dt.date(2000, 1, 1))])
    result = _assert_equal(_results(ctx))
    assert any(f.rule_id == "inexact" for m in result.moves for f in m.findings)
    assert ctx.planning[(True, True)].stage.screened is None  # the engine scored every pair the screen let through


def test_an_inexact_warn_rule_keeps_the_screen_scoring_and_the_engine_supplies_its_findings(
        small_dataset: Any) -> None:
    """A rule the screen can only bound that neither blocks nor scores does not change the plan: the
    screen still scores, and the engine's findings of the pairs in the result include it."""
    warn = rule("inexact-warn", INEXACT_WHEN, scope="candidate", effect="warn")
    base = prepare(small_dataset)
    ctx = prepare(small_dataset, rulesets=[*base.rulesets, ruleset("gen.warn", [warn],
                                                                   effective_from=dt.date(2000, 1, 1))])
    result = _assert_equal(_results(ctx))
    screened = ctx.planning[(True, True)].stage.screened
    assert screened is not None and screened.inexact == {"gen.warn/inexact-warn"}
    assert any(f.rule_id == "inexact-warn" for m in result.moves for f in m.findings)


class PairHooks:
    """A plugin that reads whole pair facts: vetoes some pairs and scores others (so the screen builds them)."""

    def mutasi_rules_veto_candidate(self, candidate: Any) -> Any:
        if int(candidate.employee.nip[6:8]) % 3 == 0:  # born on the 3rd, 6th, ... of a month
            return Veto(reason=Localized(id="Ditolak uji", en="Vetoed by the test"), legal_basis="Uji")
        return None

    def mutasi_rules_score_candidate(self, candidate: Any) -> Any:
        if candidate.position.kelas is not None and candidate.position.kelas % 2 == 0:
            return [ScoreComponent(name="uji", points=3.5, reason=Localized(id="Uji", en="Test"))]
        return None


def test_plugins_that_veto_and_score_pairs_give_the_same_result_screened_or_not(small_dataset: Any) -> None:
    plugins = PluginManager(PluginSettings(entry_points=False), environ={})
    plugins.register(PairHooks(), "pair-hooks", version="1.0")
    ctx = prepare(small_dataset, RecommendOptions(alternatives_per_position=40), plugins=plugins)
    result = _assert_equal(_results(ctx, modes=("engine", "screen scores")))
    stage = ctx.planning[(True, True)].stage
    assert stage.screened is not None
    assert any(entry["vetoes"] for entry in stage.evaluated.values())
    assert any(c.name == "uji" for m in result.moves for c in m.score_breakdown)


def _decision(number: int, action: str, nip: str | None = None, position: str | None = None) -> AppliedDecision:
    return AppliedDecision(action=action, nip=nip, position=position, reason=f"alasan {number}",  # type: ignore[arg-type]
                           reviewer="Baperjakat", date=dt.date(2026, 12, 1), id=f"review-1/{number}", run_id="run-1")


def test_screened_and_unscreened_agree_under_review_decisions() -> None:
    """Rejects, exclusions, held positions, pins of listed alternatives and of pairs blocked only by
    overridable rules: the screened run (which confirms only the pairs in the result) equals the
    engine's, in a first plan and in re-plans on the same prepared context."""
    ctx = prepare(generator.generate_dataset(500, seed=11), RecommendOptions(alternatives_per_position=40))
    first = _assert_equal(_results(ctx))
    moves = first.moves
    assert len(moves) >= 3
    # Moves with score findings and findings of other effects, which the engine supplied after the plan.
    effects = {f.effect for m in moves for f in m.findings if f.scope == "candidate"}
    assert Effect.SCORE in effects and effects - {Effect.SCORE}
    decisions = [
        _decision(1, "reject", moves[0].nip, moves[0].to.position_id),
        _decision(2, "exclude_employee", moves[1].nip),
        _decision(3, "hold_position", position=moves[2].to.position_id),
    ]
    taken = {moves[0].nip, moves[1].nip, moves[2].nip}
    held = {moves[2].to.position_id, moves[0].to.position_id}
    eligible = [(a.nip, s.position.position_id) for s in first.shortages for a in s.alternatives
                if a.outcome in ("outscored", "constraint", "chosen_elsewhere") and a.nip not in taken
                and s.position.position_id not in held]
    nip, target = eligible[0]
    decisions.append(_decision(4, "pin", nip, target))
    overridable = [(a.nip, s.position.position_id) for s in first.shortages for a in s.alternatives
                   if a.outcome == "blocked" and a.nip not in taken | {nip} and s.position.position_id not in held
                   and s.position.position_id != target
                   and all(f.rule_id == "missing-competencies" for f in a.blocking)]
    if overridable:
        decisions.append(_decision(5, "pin", *overridable[0]))
    replanned = _assert_equal(_results(ctx, tuple(decisions)))
    plan = {m.nip: m.to.position_id for m in replanned.moves}
    assert plan.get(nip) == target and moves[1].nip not in plan
    assert plan.get(moves[0].nip) != moves[0].to.position_id
    assert moves[2].to.position_id not in plan.values()
    # A fresh context, decisions from the start: the same plan again.
    fresh = prepare(ctx.dataset, ctx.options)
    assert _Run(fresh, None, decisions=tuple(decisions)).run().to_json() == replanned.to_json()


def test_a_screen_that_disagrees_with_the_engine_stops_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine stays the authority: a wrong screen answer on a pair in the result is an error, not a result."""
    dataset = generator.generate_dataset(300, seed=7)
    monkeypatch.setattr("mutasi_rules.planning.candidates.ScreenedRules.fired", lambda self, index: set())
    with pytest.raises(EngineError, match=r"screen error: the rules firing for .* differ"):
        _Run(prepare(dataset), None).run()
    monkeypatch.undo()
    original = PairScreen.__init__

    def wrong_points(self: PairScreen, *args: Any) -> None:
        original(self, *args)
        self.points = {key: value + 1.0 for key, value in self.points.items()}

    monkeypatch.setattr(PairScreen, "__init__", wrong_points)
    with pytest.raises(EngineError, match=r"screen error: the score of .* differs"):
        _Run(prepare(dataset), None).run()


def test_zen_translation_agrees_with_the_screen_on_a_sample(pairs: Pairs) -> None:
    pytest.importorskip("zen")
    from benchmarks.peers import Universe, run_screen, run_zen

    universe = Universe(pairs.ctx.dataset)
    sample = universe.sample(400, seed=5)
    _, _, screened = run_screen(universe, sample)
    measured, decided = run_zen(universe, sample)
    assert decided is not None and measured["sampled_pairs"] == len(decided)
    assert any(decided.values()) and not all(decided.values())
    assert all(screened[p] == v for p, v in decided.items())
