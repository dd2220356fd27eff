"""The rule stages: employee rules for the candidate pool, and candidate rules, vetoes and scores of pairs.

Input: the :class:`~mutasi_rules.planning.context.RunContext`. Output: :class:`People`
(every pool member's employee findings; who is movable, who is excluded and why) and
:class:`CandidateStage` (per pair evaluated: findings, vetoes, score; the plan options).

The vectorised screen (mutasi_rules.rules.screen) evaluates every candidate rule over all
pairs. Pairs some ``block`` rule certainly stops are not evaluated further; when the
screen decides every block and score rule exactly, it also scores the pairs it lets
through, and durable_rules, the authority, evaluates only the pairs that reach the result
(:meth:`CandidateRules.confirm`), which must agree with the screen (else
:class:`~mutasi_rules.rules.backend.EngineError`). Otherwise the engine evaluates every
pair the screen lets through. See docs/performance.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mutasi_rules.data.facts import CandidateScope, read_path
from mutasi_rules.data.models import Employee
from mutasi_rules.planning.context import (
    ContextReader,
    Progress,
    RunContext,
    blocking,
    pair_subject,
)
from mutasi_rules.planning.plan import MoveOption
from mutasi_rules.planning.results import ExcludedEmployee
from mutasi_rules.planning.scoring import (
    ScoreComponentResult,
    ScoringSettings,
    profile_total,
    profile_total_read,
    profile_totals,
    workload_benefit,
)
from mutasi_rules.plugins.types import ScoreComponent
from mutasi_rules.rules.backend import EngineError
from mutasi_rules.rules.engine import RuleEngine
from mutasi_rules.rules.findings import Finding
from mutasi_rules.rules.rulesets import Effect
from mutasi_rules.rules.screen import PairScreen

_EMPLOYEE_PATH = "candidate.employee."

_POSITION_PATH = "candidate.position."



def score_points(finding: Finding) -> float:
    """The points of a score finding (the checker requires them on every score rule)."""
    if finding.points is None:
        raise ValueError(f"score rule {finding.rule_key} gave no points")
    return finding.points


@dataclass(frozen=True, slots=True)
class PairScore:
    """The score of one eligible pair as plain numbers.

    Every eligible pair needs its total (the plan maximises it); only moves show the
    breakdown. Both come from :meth:`points`, so the total is the sum of the breakdown.
    """

    profile: float  # profile-matching score, 0-5
    benefit: float  # EJ imbalance the move removes
    rule_points: tuple[float, ...]  # points of the score rules that fired for the person and the pair, in order
    plugins: tuple[ScoreComponent, ...]
    settings: ScoringSettings
    #: The engine's score findings behind ``rule_points`` (for the breakdown); empty for a pair
    #: the screen scored, until the engine confirms it (CandidateRules.confirm).
    rules: tuple[Finding, ...] = ()

    def points(self) -> list[float]:
        return [
            round(self.profile * self.settings.profile_points, 6),
            round(self.benefit * self.settings.workload_points, 6),
            *self.rule_points,
            *(c.points for c in self.plugins),
        ]

    @property
    def total(self) -> float:
        return round(sum(self.points()), 6)

    def breakdown(self) -> list[ScoreComponentResult]:
        points = self.points()
        parts = [
            ScoreComponentResult(name="profile_matching", origin="profile", points=points[0],
                                 source="mutasi_rules.scoring (GAP)",
                                 detail={"score": self.profile, "points_per_unit": self.settings.profile_points}),
            ScoreComponentResult(name="workload_balance", origin="workload", points=points[1],
                                 source="mutasi_rules.scoring (EJ)",
                                 detail={"imbalance_removed": self.benefit,
                                         "points_per_unit": self.settings.workload_points}),
        ]
        if len(self.rules) != len(self.rule_points):
            raise RuntimeError("a score breakdown needs the engine's findings (the pair was only screened)")
        parts.extend(
            ScoreComponentResult(
                name=f.component or f.rule_id, origin="rule", points=score_points(f),
                source=f"{f.ruleset_id}/{f.rule_id}@{f.ruleset_version} ({f.source})",
            )
            for f in self.rules
        )
        parts.extend(
            ScoreComponentResult(name=c.name, origin="plugin", points=c.points, source=c.source,
                                 detail={"reason": c.reason.model_dump()})
            for c in self.plugins
        )
        return parts



@dataclass
class CandidateStage:
    """What the candidate stage hands to the plan and the reports."""

    considered: dict[str, int]  # target -> pairs considered (screened ones included)
    by_target: dict[str, list[Employee]]  # target -> employees evaluated for it (engine or screen), by NIP
    evaluated: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    items: list[tuple[tuple[Employee, str], dict[str, Any]]] = field(default_factory=list)
    options: list[MoveOption] = field(default_factory=list)
    #: The screen's answer for the pairs it scored without the engine (None: none was).
    screened: ScreenedRules | None = None



@dataclass
class ScreenedRules:
    """Which non-block candidate rules the screen found firing, per pair it let through.

    An entry the screen scored holds its index here (``entry["screened"]``); the engine
    must agree on every pair that reaches the result (:meth:`CandidateRules.confirm`).
    """

    fires: dict[str, Any]  # rule key -> bool array over the screened-in pairs, in the engine's rule order
    inexact: frozenset[str]  # rules the screen evaluated as a lower bound only (not block or score rules)

    def fired(self, index: int) -> set[str]:
        return {key for key, where in self.fires.items() if where[index]}



@dataclass
class People:
    """The candidate pool after the employee rules."""

    findings: dict[str, list[Finding]]  # NIP -> the person's employee-scope findings
    movable: list[Employee]  # by NIP: no employee rule blocks them
    excluded: list[ExcludedEmployee]  # by NIP: an employee rule blocks any move


class CandidateRules(ContextReader):
    """Evaluates the rules of a run's candidate pool and pairs (see the module docstring)."""

    def __init__(self, ctx: RunContext, progress: Progress, *, screen: bool, screen_scores: bool) -> None:
        self.ctx = ctx
        self.progress = progress
        #: Pre-screen candidate pairs with the vectorised rules (mutasi_rules.rules.screen); off,
        #: every pair goes through the engine (the reference the screened run must equal).
        self.screen = screen
        #: The screen also scores the pairs it lets through (when it decides every block and score
        #: rule exactly); only pairs that reach the result go through the engine, which must agree.
        self.screen_scores = screen and screen_scores
        # Per-pair hooks no plugin implements are not called (a call costs ~2 to 60 us per pair).
        self.vetoing = bool(ctx.plugins and ctx.plugins.call_order("mutasi_rules_veto_candidate"))
        self.scoring_plugins = bool(ctx.plugins and ctx.plugins.call_order("mutasi_rules_score_candidate"))
        #: Some plugin reads whole pair facts (a veto, a score or a pair attribute): build them for every pair.
        self.needs_pair_facts = self.vetoing or self.scoring_plugins or ctx.enrich_candidates
        self._opd_of_position: dict[str, str] = {}
        self._benefit: dict[tuple[str, str], float] = {}  # (source position, target) -> EJ imbalance removed

    def people(self, engine: RuleEngine) -> People:
        """Employee rules for the candidate pool: staff of surplus posts, by NIP."""
        ctx = self.ctx
        pool = sorted((e for e in self.dataset.employees if e.position_id in ctx.surplus), key=lambda e: e.nip)
        self.progress("employee rules", 0, len(pool))
        findings = dict(zip(
            [e.nip for e in pool],
            engine.evaluate("employee", [ctx.employee_scope(e.nip) for e in pool], [e.nip for e in pool]),
            strict=True,
        ))
        self.progress("employee rules", len(pool), len(pool))
        return People(
            findings=findings,
            movable=[e for e in pool if not blocking(findings[e.nip])],
            excluded=[ExcludedEmployee(nip=e.nip, name=e.name, position_id=e.position_id, findings=findings[e.nip])
                      for e in pool if blocking(findings[e.nip])],
        )

    def candidates(self, engine: RuleEngine, movable: list[Employee], targets: list[str],
                   employee_findings: dict[str, list[Finding]]) -> CandidateStage:
        """Candidate rules, vetoes and scores for every (movable employee, short position) pair.

        The vectorised screen (mutasi_rules.rules.screen) marks the pairs some ``block`` rule
        surely stops. When it decides every block and score rule exactly, it also scores the
        pairs it lets through (each eligible unless a plugin vetoes it), and only the pairs
        that reach the result go through the engine, after the plan (:meth:`confirm`);
        otherwise the engine evaluates every pair it lets through. Of the blocked pairs the
        engine evaluates those a shortage report lists as alternatives (the first by NIP after
        the eligible ones), so every finding in the result is the engine's.
        """
        ctx = self.ctx
        n, m = len(movable), len(targets)
        column = {t: j for j, t in enumerate(targets)}
        own = np.array([column.get(e.position_id, -1) for e in movable], dtype=np.int64)
        pair = np.ones((n, m), dtype=bool)
        inside = np.flatnonzero(own >= 0)
        pair[inside, own[inside]] = False  # nobody is a candidate for the post they hold
        screen, screened, parts = self.run_screen(movable, targets, pair)
        rows, cols = np.nonzero(pair & ~screened)  # row-major: by NIP, then position id
        stage = CandidateStage(
            considered={t: int(pair[:, j].sum()) for j, t in enumerate(targets)},
            by_target={t: [] for t in targets},
        )
        survivors = [(movable[i], targets[j]) for i, j in zip(rows.tolist(), cols.tolist(), strict=True)]
        self.progress("candidate rules", 0, len(survivors))
        decisive = [key for key, _ in screen.rules] + list(screen.points) if screen is not None else []
        if screen is not None and self.screen_scores and screen.exact(decisive):
            # The screen decided every block and score rule as the engine would: the survivors
            # are eligible (unless vetoed) and their rule points are known. The engine evaluates
            # only the pairs that reach the result (confirm), and must agree.
            stage.screened = self.screened_rules(parts, screen, len(survivors))
            profiles = None if self.needs_pair_facts else profile_totals(
                self.options.scoring, movable, [ctx.employee_facts(e.nip) for e in movable],
                [self.index.positions[t] for t in targets], [ctx.position_facts(t) for t in targets], rows, cols)
            self.score_screened_pairs(survivors, stage.screened, screen.points, employee_findings, stage,
                                      None if profiles is None else profiles.tolist())
        else:
            self.evaluate_pairs(engine, survivors, employee_findings, stage)
        self.progress("candidate rules", len(survivors), len(survivors))
        self.evaluate_listed_blocked(engine, movable, targets, screened, employee_findings, stage)
        for (employee, target), entry in stage.items[len(survivors):]:
            if not entry["blocked"]:
                raise EngineError(f"screen error: {pair_subject(employee.nip, target)} was screened out but the "
                                  "engine does not block it")
        for target in targets:
            stage.by_target[target].sort(key=lambda e: e.nip)
        return stage

    def run_screen(self, movable: list[Employee], targets: list[str],
                   pair: Any) -> tuple[PairScreen | None, Any, list[tuple[Any, Any, dict[str, Any]]]]:
        """The screen over every pair: the screen, the pairs it blocks and, when it is to score, per
        chunk of targets the screened-in pairs (rows, columns) and where each non-block rule fires there."""
        n, m = len(movable), len(targets)
        screened = np.zeros((n, m), dtype=bool)
        parts: list[tuple[Any, Any, dict[str, Any]]] = []
        if not (self.screen and n and m):
            return None, screened, parts
        self.progress("candidate screen", 0, m)
        screen = PairScreen(self.ctx, [e.nip for e in movable], targets)
        for start, stop, blocked, fired in screen.evaluations():
            screened[:, start:stop] = blocked
            if self.screen_scores:
                rows, cols = np.nonzero(pair[:, start:stop] & ~blocked)
                parts.append((rows, cols + start, {key: where[rows, cols] for key, where in fired.items()}))
            self.progress("candidate screen", stop, m)
        return screen, screened & pair, parts

    def evaluate_listed_blocked(self, engine: RuleEngine, movable: list[Employee], targets: list[str],
                                screened: Any, employee_findings: dict[str, list[Finding]],
                                stage: CandidateStage) -> None:
        """Through the engine: the screened-out pairs a shortage report may list as blocked alternatives
        (per target, the first by NIP after the unblocked ones), so their blocking findings are the engine's."""
        n, m = len(movable), len(targets)
        column = {t: j for j, t in enumerate(targets)}
        extra: list[tuple[Employee, str]] = []
        engine_blocked = np.zeros((n, m), dtype=bool)
        row_of = {e.nip: i for i, e in enumerate(movable)}
        for (employee, target), entry in stage.items:
            if entry["blocked"]:
                engine_blocked[row_of[employee.nip], column[target]] = True
        for j, target in enumerate(targets):
            unblocked = sum(1 for e in stage.by_target[target] if not stage.evaluated[(e.nip, target)]["blocked"])
            room = max(self.options.alternatives_per_position, self.ctx.shortages[target]) - unblocked
            if room <= 0 or not screened[:, j].any():
                continue
            shown = np.flatnonzero(screened[:, j] | engine_blocked[:, j])[:room]
            extra.extend((movable[i], target) for i in shown.tolist() if screened[i, j])
        extra.sort(key=lambda pair_: (pair_[0].nip, pair_[1]))
        self.evaluate_pairs(engine, extra, employee_findings, stage)

    @staticmethod
    def screened_rules(parts: list[tuple[Any, Any, dict[str, Any]]], screen: PairScreen,
                       count: int) -> ScreenedRules:
        """The screen's per-chunk answers for the screened-in pairs, in row-major order (by NIP, then position)."""
        keys = [key for key, _ in screen.other_rules]
        if not parts:
            return ScreenedRules(fires={key: np.zeros(0, dtype=bool) for key in keys},
                                  inexact=frozenset(screen.inexact))
        rows = np.concatenate([r for r, _, _ in parts])
        cols = np.concatenate([c for _, c, _ in parts])
        order = np.lexsort((cols, rows))
        if len(order) != count:
            raise EngineError(f"screen error: {len(order)} screened-in pairs, {count} expected")
        fires = {key: np.concatenate([fired[key] for _, _, fired in parts])[order] for key in keys}
        return ScreenedRules(fires=fires, inexact=frozenset(screen.inexact))

    def score_screened_pairs(self, pairs: Sequence[tuple[Employee, str]], screened: ScreenedRules,
                             points: dict[str, float], employee_findings: dict[str, list[Finding]],
                             stage: CandidateStage, profiles: list[float] | None = None) -> None:
        """Vetoes, scores and plan options of the pairs the screen let through, without the engine.

        Rule points are the person's score findings, then the pair's score rules the screen
        found firing, in the engine's finding order (so the total is the same float). The
        entry holds no findings yet: the engine supplies them if the pair reaches the result.
        ``profiles``: the pairs' profile-matching scores computed at once
        (:func:`~mutasi_rules.scoring.profile_totals`), else computed per pair.
        """
        person_points = {nip: tuple(score_points(f) for f in found
                                    if f.effect is Effect.SCORE and f.points is not None)
                         for nip, found in employee_findings.items()}
        fired = [(value, screened.fires[key].tolist()) for key, value in points.items()]
        for index, (employee, target) in enumerate(pairs):
            # A pair's fact is built only for a plugin that reads it (veto, score, pair attributes).
            fact = self.ctx.candidate_scope(employee.nip, target) if self.needs_pair_facts else None
            rule_points = person_points[employee.nip] + tuple(value for value, where in fired if where[index])
            self.add_entry(employee, target, fact, [], employee_findings, stage, rule_points=rule_points,
                           screened=index, profile=None if profiles is None else profiles[index])

    def evaluate_pairs(self, engine: RuleEngine, pairs: Sequence[tuple[Employee, str]],
                       employee_findings: dict[str, list[Finding]], stage: CandidateStage, *,
                       force: bool = False) -> None:
        """Findings, vetoes and (when eligible) scores and plan options of ``pairs``, into ``stage``.

        An eligible pair keeps its score as numbers (:class:`PairScore`); the pydantic
        breakdown is built only for the pairs that become moves (``Reporter.move``). ``force``
        (pinned pairs): a blocked pair is scored too, and no option is added.
        """
        ctx = self.ctx
        facts = [ctx.candidate_scope(e.nip, t) for e, t in pairs]
        found_all = engine.evaluate("candidate", facts, [pair_subject(e.nip, t) for e, t in pairs])
        for (employee, target), fact, found in zip(pairs, facts, found_all, strict=True):
            self.add_entry(employee, target, fact, found, employee_findings, stage, force=force)

    def add_entry(self, employee: Employee, target: str, fact: CandidateScope | None, found: list[Finding],
                  employee_findings: dict[str, list[Finding]], stage: CandidateStage, *, force: bool = False,
                  rule_points: tuple[float, ...] | None = None, screened: int | None = None,
                  profile: float | None = None) -> None:
        """One evaluated pair into ``stage``: vetoes, and for an eligible pair its score and plan option.

        ``screened``: the pair's index in the stage's screened rules (its rules were decided by
        the screen, ``found`` is empty and ``rule_points`` are the screen's).
        """
        key = (employee.nip, target)
        vetoes = (self.plugins.veto_candidate(fact.candidate, self.dataset, self.as_of)  # type: ignore[union-attr]
                  if self.plugins and self.vetoing else [])
        blocked = blocking(found)
        entry: dict[str, Any] = {"findings": found, "vetoes": vetoes, "blocked": blocked}
        if screened is not None:
            entry["screened"] = screened
        stage.evaluated[key] = entry
        stage.items.append(((employee, target), entry))
        stage.by_target[target].append(employee)
        if vetoes or (blocked and not force):
            return
        person = employee_findings[employee.nip]
        pair_score = self.pair_score(employee, target, fact, person if screened is not None else [*person, *found],
                                     rule_points, profile)
        points = pair_score.points()
        entry["pair_score"], entry["score"] = pair_score, round(sum(points), 6)  # PairScore.total
        if not blocked and not force:
            stage.options.append(self.option(employee, target, entry, points[1]))

    def pair_reader(self, nip: str, target: str) -> Callable[[str], Any]:
        """Candidate-scope paths of a pair read from the person's and the target's facts, which are
        the objects a candidate fact holds (``candidate.employee``, ``candidate.position``); any
        other path builds the pair's fact (once)."""
        ctx = self.ctx
        employee, position = ctx.employee_facts(nip), ctx.position_facts(target)
        built: list[CandidateScope] = []

        def read(path: str) -> Any:
            if path.startswith(_EMPLOYEE_PATH):
                return read_path(employee, path[len(_EMPLOYEE_PATH):])
            if path.startswith(_POSITION_PATH):
                return read_path(position, path[len(_POSITION_PATH):])
            if not built:
                built.append(ctx.candidate_scope(nip, target))
            return read_path(built[0], path)

        return read

    def pair_score(self, employee: Employee, target: str, fact: CandidateScope | None, found: Sequence[Finding],
                   rule_points: tuple[float, ...] | None = None, profile: float | None = None) -> PairScore:
        """The score components of one eligible pair.

        ``found``: the person's and the pair's findings; ``rule_points`` (a pair the screen
        scored): the points of its score rules, ``found`` then holds the person's findings only.
        ``fact``: the pair's fact, None when no plugin needs it (paths are read from the
        person's and the position's facts). ``profile``: the profile-matching score, if known.
        """
        settings = self.options.scoring
        source, goal = self.ctx.pw[employee.position_id], self.ctx.pw[target]
        plugin_parts = (tuple(self.plugins.score_candidate(fact.candidate, self.dataset, self.as_of))  # type: ignore[union-attr]
                        if self.plugins and self.scoring_plugins else ())
        position = self.index.positions[target]
        # Employee-scope score rules (e.g. due for rotation) count for every pair of the person.
        rules = tuple(f for f in found if f.effect is Effect.SCORE and f.points is not None)
        benefit = self._benefit.get((employee.position_id, target))
        if benefit is None:
            benefit = self._benefit[(employee.position_id, target)] = workload_benefit(
                source.workload_hours, source.bezetting, goal.workload_hours, goal.bezetting, self.calc.hours)
        return PairScore(
            profile=(profile if profile is not None
                     else profile_total(fact, employee, position, settings) if fact is not None
                     else profile_total_read(self.pair_reader(employee.nip, target), employee, position, settings)),
            benefit=benefit,
            rule_points=tuple(score_points(f) for f in rules) if rule_points is None else rule_points,
            plugins=plugin_parts,
            settings=settings,
            rules=rules if rule_points is None else (),
        )

    def option(self, employee: Employee, target: str, entry: dict[str, Any],
               balance_points: float | None = None) -> MoveOption:
        """The plan option of an eligible pair (``balance_points``: its workload points, if known)."""
        if balance_points is None:
            balance_points = entry["pair_score"].points()[1]
        # Built without validation: one per eligible pair (~200,000 in a city), every value typed here.
        return MoveOption.model_construct(
            nip=employee.nip,
            source_position_id=employee.position_id,
            source_unit_id=self.opd_of_position(employee.position_id),
            target_position_id=target,
            target_unit_id=self.opd_of_position(target),
            score=entry["score"],
            balance_points=balance_points,
        )

    def opd_of_position(self, position_id: str) -> str:
        found = self._opd_of_position.get(position_id)
        if found is None:
            found = self._opd_of_position[position_id] = self.index.opd_of(self.index.positions[position_id].unit_id)
        return found

    def confirm(self, pairs: Sequence[tuple[str, str]], employee_findings: dict[str, list[Finding]],
                      evaluated: dict[tuple[str, str], dict[str, Any]], screened: ScreenedRules | None) -> None:
        """The engine's findings for the screened pairs that reach the result; the engine must agree.

        The engine stays the authority: a pair the screen scored must not be blocked, every
        rule the screen decides exactly must fire in the engine exactly where the screen said
        (the others at least there), and the score must be the same, else the screen is
        unsound and the run stops (:class:`EngineError`). The entries then hold the engine's
        findings, as an unscreened run's do (kept for re-plans on the same context).
        """
        pending = [p for p in pairs if "screened" in evaluated[p]]
        if not pending:
            return
        if screened is None:
            raise EngineError("screen error: screened pairs without the screen's answer")
        self.progress("result rules", 0, len(pending))
        ctx = self.ctx
        facts = [ctx.candidate_scope(nip, target) for nip, target in pending]
        with ctx.engine() as engine:
            found_all = engine.evaluate("candidate", facts, [pair_subject(nip, t) for nip, t in pending])
        for (nip, target), fact, found in zip(pending, facts, found_all, strict=True):
            entry = evaluated[(nip, target)]
            subject = pair_subject(nip, target)
            if blocking(found):
                raise EngineError(f"screen error: the engine blocks {subject}, which the screen found eligible "
                                  f"({', '.join(f.rule_key for f in blocking(found))})")
            said = screened.fired(entry["screened"])
            fired = {f.rule_key for f in found}
            exact_differ = (said ^ fired) - screened.inexact
            if exact_differ or not said <= fired:
                raise EngineError(f"screen error: the rules firing for {subject} differ between the screen and the "
                                  f"engine ({', '.join(sorted(exact_differ or said - fired))})")
            score: PairScore | None = entry.get("pair_score")
            if score is not None:
                confirmed = self.pair_score(self.employees[nip], target, fact, [*employee_findings[nip], *found])
                if confirmed.rule_points != score.rule_points or confirmed.total != entry["score"]:
                    raise EngineError(f"screen error: the score of {subject} differs between the screen and the "
                                      "engine")
                entry["pair_score"] = confirmed
            entry["findings"] = found
            del entry["screened"]
        self.progress("result rules", len(pending), len(pending))


__all__ = ["CandidateRules", "CandidateStage", "PairScore", "People", "ScreenedRules"]
