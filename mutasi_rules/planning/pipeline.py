"""The recommendation pipeline: named stages that pass data, from a prepared context to the result.

    prepare (context.py)          dataset, options -> RunContext (rule sets, workload, labels, facts)
    rules (candidates.py)         -> People (employee rules), CandidateStage (screen, scores, options)
    plan problem (solving.py)     -> Planning (kept on the context: re-plans reuse it)
    review (solving.py)           decisions -> Review (forced and forbidden moves, pins)
    plan (solving.py)             -> Choice (HiGHS; moves withheld for the balance across agencies)
    rank (reporting.py)           -> Ranking per short position
    confirm (candidates.py)       durable_rules on the pairs in the result; must agree with the screen
    report (reporting.py)         -> moves, shortage reports, OPDs, trainings, run info
                                  -> RecommendationResult (results.py)

The rule engine is the authority on eligibility: a pair is eligible only if no ``block``
finding fired for the person or the pair and no plugin vetoed it; every finding in the
result is the engine's (docs/performance.md). Determinism: the pipeline reads no clock;
every list is sorted by a documented key.
"""

from __future__ import annotations

from collections.abc import Sequence

from mutasi_rules.core.runtime import fewer_collections
from mutasi_rules.data.decisions import AppliedDecision
from mutasi_rules.data.models import Dataset
from mutasi_rules.planning.candidates import CandidateRules
from mutasi_rules.planning.context import Progress, RunContext, prepare
from mutasi_rules.planning.options import RecommendOptions
from mutasi_rules.planning.reporting import Reporter
from mutasi_rules.planning.results import RecommendationResult
from mutasi_rules.planning.solving import (
    Planning,
    after_plan,
    apply_review,
    balanced_plan,
    prepare_planning,
)
from mutasi_rules.plugins.manager import PluginManager
from mutasi_rules.rules.rulesets import LoadedRuleSet

#: The vectorised candidate screen is on; tests switch it off per run (_Run(screen=False)).
_SCREEN = True
#: The screen also decides the score (and every other) candidate rule of the pairs it lets
#: through, so only pairs that reach the result go through the engine (CandidateRules.confirm);
#: tests switch it off per run (_Run(screen_scores=False)).
_SCREEN_SCORES = True


class _Run:
    """One pipeline run over a prepared :class:`RunContext` (kept out of the public API).

    ``decisions``: review decisions to honour (a re-plan); ``parent_run_id``: the run re-planned.
    ``screen`` / ``screen_scores``: internal switches (the differential tests compare the modes).
    """

    def __init__(self, ctx: RunContext, progress: Progress | None, *, screen: bool | None = None,
                 screen_scores: bool | None = None, decisions: Sequence[AppliedDecision] = (),
                 parent_run_id: str | None = None) -> None:
        self.ctx = ctx
        self.decisions = sorted(decisions, key=lambda d: d.id)
        self.parent_run_id = parent_run_id
        self.progress: Progress = progress or (lambda stage, done, total: None)
        screen = _SCREEN if screen is None else screen
        self.rules = CandidateRules(ctx, self.progress, screen=screen,
                                    screen_scores=_SCREEN_SCORES if screen_scores is None else screen_scores)

    def planning(self) -> Planning:
        """The decision-independent part of the run, computed once per context (re-plans reuse it)."""
        mode = (self.rules.screen, self.rules.screen_scores)
        cached = self.ctx.planning.get(mode)
        if cached is None:
            cached = self.ctx.planning[mode] = prepare_planning(self.ctx, self.rules)
        return cached

    def run(self) -> RecommendationResult:
        ctx = self.ctx
        planning = self.planning()
        review = apply_review(ctx, planning, self.decisions, self.rules)
        self.progress("plan", 0, 1)
        choice = balanced_plan(ctx, review)
        self.progress("plan", 1, 1)
        after = after_plan(ctx, choice.chosen)
        report = Reporter(ctx)
        rankings = report.rankings(planning, review, choice)
        # The pairs the screen scored that reach the result get the engine's findings (which must agree).
        self.rules.confirm(report.result_pairs(rankings, choice), review.employee_findings, review.evaluated,
                           planning.stage.screened)
        moves = report.moves(planning, review, choice, after)
        return RecommendationResult(
            run=report.run_info(self.decisions, self.parent_run_id),
            balance_before=ctx.report.balance,
            balance_after=ctx.calc.balance(after.delta, after.units_list),
            moves=moves,
            shortages=report.shortage_reports(planning, review, rankings, after),
            units=report.unit_changes(moves, after),
            excluded=planning.excluded,
            trainings_total=report.training_totals(moves),
            warnings=report.warnings(choice),
        )


def recommend(
    dataset: Dataset,
    options: RecommendOptions | None = None,
    *,
    plugins: PluginManager | None = None,
    rulesets: Sequence[LoadedRuleSet] | None = None,
    progress: Progress | None = None,
    decisions: Sequence[AppliedDecision] = (),
    parent_run_id: str | None = None,
) -> RecommendationResult:
    """Run the whole pipeline on ``dataset``: the main entry point for embedding.

    See :func:`prepare` for ``plugins`` and ``rulesets``, :func:`run_prepared` for
    ``decisions`` and ``parent_run_id``. Raises :class:`~mutasi_rules.problems.InputError`
    for bad rules and :class:`~mutasi_rules.plugins.manager.PluginError` for a failing plugin.
    """
    with fewer_collections():
        if progress:
            progress("workload", 0, 1)
        ctx = prepare(dataset, options, plugins=plugins, rulesets=rulesets)
        if progress:
            progress("workload", 1, 1)
        return _Run(ctx, progress, decisions=decisions, parent_run_id=parent_run_id).run()



def run_prepared(ctx: RunContext, *, decisions: Sequence[AppliedDecision] = (), parent_run_id: str | None = None,
                 progress: Progress | None = None) -> RecommendationResult:
    """Run the pipeline over a prepared context, honouring review ``decisions`` (a re-plan of ``parent_run_id``).

    The rules, candidates and scores are computed once per context and kept in it; a later
    run with other decisions re-solves the plan from the last basis. The result is the one
    :func:`recommend` gives for the same inputs and decisions. Not thread-safe: one run per
    context at a time (the service holds the context's lock). Raises
    :class:`~mutasi_rules.planning.plan.PlanError` when the pins cannot be honoured.
    """
    with fewer_collections():
        return _Run(ctx, progress, decisions=decisions, parent_run_id=parent_run_id).run()



__all__ = ["recommend", "run_prepared"]
