"""The vectorised candidate screen (mutasi_rules.rules.screen) against the rule engine.

* Soundness on generated rules: whatever a hypothesis-generated block rule says, a pair
  the screen blocks is one the engine blocks (and, as every generated atom is one the
  screen evaluates, the two agree exactly).
* On the bundled rule sets and plugins, screen and engine agree on every blocked pair.
* The screened pipeline's result JSON equals the unscreened one's (every pair through the
  engine), counts and listed alternatives included.
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
from mutasi_rules.planning.recommendation import (
    RecommendOptions,
    RunContext,
    _Run,
    pair_subject,
    prepare,
)
from mutasi_rules.rules.engine import RuleEngine
from mutasi_rules.rules.rulesets import Effect
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


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Missing values both ways (PPPK staff have no rank; posts without a minimum rank), lists with the sentinel.
@example(when='candidate.employee.rank != "III/a"', units=[], kinds=[])
@example(when="not (candidate.employee.rank == candidate.position.min_rank)", units=[], kinds=[])
@example(when='not (candidate.employee.latest_predikat == "Baik") or not exists(candidate.position.max_rank)',
         units=["dinkes"], kinds=[])
@example(when='"STR" not in candidate.missing_certificates and empty(candidate.missing_competencies)',
         units=[], kinds=["fungsional"])
@example(when="not candidate.employee.willing_to_move", units=[], kinds=[])
@given(when=conditions, units=st.sampled_from([[], ["dinkes"], ["disdikbud", "setda"]]),
       kinds=st.sampled_from([[], ["fungsional"], ["pelaksana", "pengawas"]]))
def test_the_screen_never_blocks_a_pair_the_engine_accepts(pairs: Pairs, when: str, units: list[str],
                                                             kinds: list[str]) -> None:
    generated = ruleset("gen.screen", [rule("r", when, scope="candidate", effect="block")], units=units,
                        kinds=kinds, effective_from=dt.date(2000, 1, 1))
    screen_fires = pairs.screen([generated]).fires(0, len(pairs.targets))
    engine_fires = pairs.engine_fires([generated])
    mask = pairs.mask()
    screened = screen_fires.get("gen.screen/r", np.zeros(mask.shape, dtype=bool)) & mask
    engine = engine_fires.get("gen.screen/r", np.zeros(mask.shape, dtype=bool))
    assert not (screened & ~engine).any(), f"screen blocks pairs the engine accepts: {when}"
    assert (screened == engine).all(), f"screen and engine disagree on {when}"


def test_an_atom_the_screen_cannot_evaluate_never_blocks(pairs: Pairs) -> None:
    chunk = _Chunk(pairs.screen(pairs.ctx.rulesets), 0, 2)
    assert not np.any(chunk.condition({"$and": [{"t": "candidate"}, {"$mt": {"candidate.position.name": ".*"}}]}))
    assert not np.any(chunk.condition({"$iany": {"candidate.employee.trainings": {"$i": {"$m": "x"}}}}))
    assert not np.any(chunk.condition({"$lt": {"candidate.ext.unknown": 3}}))
    # A disjunction keeps the branches it can evaluate.
    both = chunk.condition({"$or": [{"$mt": {"a": "b"}}, {"t": "candidate"}]})
    assert np.all(both)


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


@pytest.mark.parametrize(("size", "seed", "alternatives"), [(400, 3, 5), (500, 11, 40), (300, 7, 0)])
def test_screened_pipeline_result_equals_the_unscreened_one(size: int, seed: int, alternatives: int) -> None:
    ctx = prepare(generator.generate_dataset(size, seed=seed),
                  RecommendOptions(alternatives_per_position=alternatives))
    screened = _Run(ctx, None, screen=True).run()
    plain = _Run(ctx, None, screen=False).run()
    assert screened.to_json() == plain.to_json()
    # The comparison means something: moves, eligible and blocked candidates are all there.
    assert screened.moves
    assert any(s.candidates_eligible < s.candidates_considered for s in screened.shortages)
    if alternatives:
        listed = [a for s in screened.shortages for a in s.alternatives]
        assert any(a.outcome == "blocked" and a.blocking for a in listed)
        assert all(f.effect is Effect.BLOCK for a in listed if a.outcome == "blocked" for f in a.blocking)


def test_zen_translation_agrees_with_the_screen_on_a_sample(pairs: Pairs) -> None:
    pytest.importorskip("zen")
    from benchmarks.peers import Universe, run_screen, run_zen

    universe = Universe(pairs.ctx.dataset)
    _, screened = run_screen(universe)
    measured, decided = run_zen(universe, universe.sample(400, seed=5))
    assert decided is not None and measured["sampled_pairs"] == len(decided)
    assert any(decided.values()) and not all(decided.values())
    assert all(screened[p] == v for p, v in decided.items())
