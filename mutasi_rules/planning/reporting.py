"""The report stage: from the chosen plan to the explained result.

Input: the planning (:class:`~mutasi_rules.planning.solving.Planning`), the review applied
to it and the plan chosen (:class:`~mutasi_rules.planning.solving.Choice`), with the pairs
in the result confirmed by the engine. Output: the parts of a
:class:`~mutasi_rules.planning.results.RecommendationResult`: moves with their findings,
score breakdown, trainings and EJ effects; a report per short position with its ranked
alternatives; the OPDs touched; the training totals; the run's provenance.

Determinism: moves by NIP, shortages by position id, alternatives chosen first, then the
eligible by score, then vetoed, then blocked, ties by NIP.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mutasi_rules import __version__
from mutasi_rules.analysis.workload import PositionWorkload, UnitWorkload
from mutasi_rules.core.i18n import N_
from mutasi_rules.data.decisions import AppliedDecision, MoveReview
from mutasi_rules.data.models import Employee
from mutasi_rules.planning.candidates import PairScore
from mutasi_rules.planning.context import (
    ContextReader,
    RunContext,
    pair_subject,
    position_ref,
    receive_limit,
)
from mutasi_rules.planning.results import (
    OUTCOME_ORDER,
    TEMPORARY_LABEL,
    Alternative,
    EjChange,
    Move,
    Outcome,
    RunInfo,
    ShortageReport,
    TimeBoundedAssignment,
    TrainingNeed,
    UnitChange,
    plugin_refs,
)
from mutasi_rules.planning.scoring import profile_score
from mutasi_rules.planning.solving import After, Choice, Planning, Review
from mutasi_rules.plugins.types import TrainingOffer
from mutasi_rules.rules.engine import RuleEngine
from mutasi_rules.rules.findings import Finding
from mutasi_rules.rules.rulesets import EFFECTS, Effect, Localized, RuleSetRef


@dataclass
class Ranking:
    """A short position's evaluated candidates with their outcomes, best first: chosen, then the
    eligible by score, then vetoed, then blocked; ties by NIP. Also the NIPs and scores chosen
    for it and where each chosen person goes."""

    chosen_here: list[str]
    chosen_scores: list[float]
    moved_to: dict[str, str]
    ranked: list[tuple[int, float, str, Employee, dict[str, Any], Outcome]]

    @property
    def received(self) -> int:
        return len(self.chosen_here)



class Reporter(ContextReader):
    """Builds the result's parts for one run (see the module docstring)."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def rankings(self, planning: Planning, review: Review, choice: Choice) -> dict[str, Ranking]:
        """Every short position's candidates ranked with their outcomes (see :meth:`ranking`)."""
        return {
            target: self.ranking(target, self.ctx.shortages[target],
                                 review.by_target.get(target, planning.stage.by_target[target]),
                                 review.evaluated, choice.chosen, choice.withheld, review)
            for target in planning.targets
        }

    def result_pairs(self, rankings: dict[str, Ranking], choice: Choice) -> list[tuple[str, str]]:
        """The pairs that appear in the result: the moves and every alternative a shortage report lists."""
        shown = set(choice.chosen)
        for target, ranking in rankings.items():
            shown.update((r[2], target) for r in ranking.ranked[: self.listed(ranking.received)])
        return sorted(shown)

    def moves(self, planning: Planning, review: Review, choice: Choice, after: After) -> list[Move]:
        """The chosen moves, explained (by NIP), time-bounded assignments marked."""
        catalogue = {o.name.casefold(): o for o in (self.plugins.training_catalogue() if self.plugins else [])}
        moves = [
            # applicable_rule_keys reads only the compiled rules, so the closed engine still answers.
            self.move(nip, target, review.evaluated[(nip, target)], review.employee_findings[nip],
                      self.checked_rules(planning.engine, nip, target),
                      self.ctx.pw, self.ctx.uw, after.positions, after.units, catalogue,
                      review.pins.get((nip, target)))
            for nip, target in sorted(choice.chosen)
        ]
        return self.time_bounded(moves)

    def shortage_reports(self, planning: Planning, review: Review, rankings: dict[str, Ranking],
                         after: After) -> list[ShortageReport]:
        """One report per short position, by position id."""
        return [
            self.shortage_report(target, self.ctx.shortages[target], planning.stage.considered[target],
                                 rankings[target], self.ctx.pw, after.positions, review)
            for target in planning.targets
        ]

    def unit_changes(self, moves: Sequence[Move], after: After) -> list[UnitChange]:
        """The OPDs the plan touches, by id: moves out and in, EJ before and after."""
        touched = sorted({m.from_.opd_id for m in moves} | {m.to.opd_id for m in moves})
        return [
            UnitChange(
                unit_id=u,
                name=self.index.units[u].name,
                moves_out=sum(1 for m in moves if m.from_.opd_id == u and m.to.opd_id != u),
                moves_in=sum(1 for m in moves if m.to.opd_id == u and m.from_.opd_id != u),
                ej_before=self.ctx.uw[u].ej,
                ej_after=after.units[u].ej,
            )
            for u in touched
        ]

    @staticmethod
    def training_totals(moves: Sequence[Move]) -> list[TrainingNeed]:
        """Every training the conditional moves need, by name, with every rule that requires it."""
        totals: dict[str, TrainingNeed] = {}
        for move in moves:
            for need in move.trainings_required:
                key = need.name.casefold()
                previous = totals.get(key)
                rules = sorted(set(need.required_by) | set(previous.required_by if previous else []))
                totals[key] = need.model_copy(update={"required_by": rules})
        return [totals[k] for k in sorted(totals)]

    def warnings(self, choice: Choice) -> list[str]:
        warnings = list(self.ctx.report.warnings)
        if not self.ctx.shortages:
            warnings.append("no position is short of staff by the staffing-norm rules: nothing to plan")
        return [*warnings, *choice.warnings]

    def ranking(self, target: str, shortage: int, reported: Sequence[Employee],
                evaluated: dict[tuple[str, str], dict[str, Any]], chosen: set[tuple[str, str]],
                withheld: set[tuple[str, str]], review: Review) -> Ranking:
        """The evaluated candidates of ``target`` with their outcomes, best first (see :class:`Ranking`).

        ``reported``: the pairs evaluated for ``target`` (see CandidateStage). Pairs the
        screen blocked and the engine never saw are blocked, so not eligible, and sort after
        every reported one (blocked last, by NIP): the truncated list is the same.
        """
        chosen_here = [nip for nip, t in chosen if t == target]
        chosen_scores = sorted(evaluated[(n, target)]["score"] for n in chosen_here)
        moved_to = dict(chosen)
        ranked: list[tuple[int, float, str, Employee, dict[str, Any], Outcome]] = []
        for employee in reported:
            entry = evaluated[(employee.nip, target)]
            score = entry.get("score")
            outcome: Outcome
            if (employee.nip, target) in chosen:
                outcome = "chosen"
            elif entry["blocked"]:
                outcome = "blocked"
            elif entry["vetoes"]:
                outcome = "vetoed"
            elif (employee.nip, target) in review.reasons:
                outcome = "review"
            elif (employee.nip, target) in withheld:
                outcome = "withheld_for_balance"
            elif employee.nip in moved_to:
                outcome = "chosen_elsewhere"
            elif chosen_scores and len(chosen_here) >= shortage and score is not None and score <= chosen_scores[0]:
                outcome = "outscored"
            else:
                outcome = "constraint"
            ranked.append((OUTCOME_ORDER[outcome], -(score if score is not None else -math.inf), employee.nip,
                           employee, entry, outcome))
        # Sorted and cut before any model is built: a city has ~100,000 pairs, a report lists a few.
        ranked.sort(key=lambda r: r[:3])
        return Ranking(chosen_here=chosen_here, chosen_scores=chosen_scores, moved_to=moved_to, ranked=ranked)

    def listed(self, received: int) -> int:
        """How many ranked alternatives a shortage report lists."""
        return max(self.options.alternatives_per_position, received)

    def shortage_report(self, target: str, shortage: int, considered: int, ranking: Ranking,
                        pw: dict[str, PositionWorkload], after_p: dict[str, PositionWorkload],
                        review: Review) -> ShortageReport:
        """The report of one short position; ``considered``: its pairs (screened-out ones included)."""
        position = self.index.positions[target]
        chosen_here, chosen_scores, moved_to, ranked = (ranking.chosen_here, ranking.chosen_scores,
                                                        ranking.moved_to, ranking.ranked)
        received = len(chosen_here)
        alternatives = [
            Alternative(nip=employee.nip, name=employee.name, from_position_id=employee.position_id,
                        score=entry.get("score"), outcome=outcome,
                        reason=self.alternative_reason(outcome, entry, moved_to.get(employee.nip), chosen_scores,
                                                       review.reasons.get((employee.nip, target))),
                        blocking=entry["blocked"], vetoes=entry["vetoes"])
            for _, _, _, employee, entry, outcome in ranked[: self.listed(received)]
        ]
        eligible = sum(1 for r in ranked if r[5] not in ("blocked", "vetoed"))
        unfilled = None
        if received < shortage:
            if target in review.held:
                held = review.held[target]
                unfilled = Localized.of(N_("Held by review decision {decision} ({reviewer}, {date}): {reason}"),
                                        decision=held.id, reviewer=held.reviewer, date=held.date.isoformat(),
                                        reason=held.reason)
            elif not considered:
                unfilled = Localized.of(N_("No staff from surplus positions to consider."))
            elif eligible == 0:
                unfilled = Localized.of(N_("No eligible candidate."))
            else:
                unfilled = Localized.of(N_("Eligible candidates were needed elsewhere or held back by plan "
                                           "constraints."))
        return ShortageReport(
            position=position_ref(position, self.index),
            shortage=shortage,
            received=received,
            remaining=shortage - received,
            ej_before=pw[target].ej,
            ej_after=after_p[target].ej,
            candidates_considered=considered,
            candidates_eligible=eligible,
            alternatives=alternatives,
            unfilled_reason=unfilled,
        )

    @staticmethod
    def alternative_reason(outcome: Outcome, entry: dict[str, Any], placed: str | None,
                           chosen_scores: list[float], decision: AppliedDecision | None = None) -> Localized:
        """Why an alternative ended as it did, in both languages."""
        if outcome == "review" and decision is not None:
            said = (f"{decision.id} ({decision.action}, {decision.reviewer}, {decision.date.isoformat()}): "
                    f"{decision.reason}")
            return Localized.of(N_("Not chosen because of review decision {decision}"), decision=said)
        if outcome == "chosen":
            return Localized.of(N_("Chosen in the transfer plan."))
        if outcome == "blocked":
            rules = ", ".join(f.rule_key for f in entry["blocked"])
            return Localized.of(N_("Not eligible under the rules: {rules}."), rules=rules)
        if outcome == "vetoed":
            # The plugins' reasons are joined as they are (each already in both languages).
            reasons = Localized.model_construct(id="; ".join(v.reason.id for v in entry["vetoes"]),
                                                en="; ".join(v.reason.en for v in entry["vetoes"]))
            return Localized.of(N_("Vetoed by agency rules: {reasons}"), reasons=reasons)
        if outcome == "withheld_for_balance":
            return Localized.of(N_("Withheld because the plan as a whole would worsen the workload balance across "
                                   "agencies."))
        if outcome == "chosen_elsewhere":
            return Localized.of(N_("Placed in position {position} instead (higher overall plan value)."),
                                position=placed)
        if outcome == "outscored":
            return Localized.of(N_("Score {score} below the chosen candidates (lowest {lowest})."),
                                score=f"{entry['score']:.2f}", lowest=f"{chosen_scores[0]:.2f}")
        return Localized.of(N_("Not chosen because of a plan constraint (source surplus, receiving limit, move cap or "
                               "an agency constraint) or a score that is not positive."))

    def move(self, nip: str, target: str, entry: dict[str, Any], employee_found: list[Finding],
             checked: list[str], pw: dict[str, PositionWorkload], uw: dict[str, UnitWorkload],
             after_p: dict[str, PositionWorkload], after_u: dict[str, UnitWorkload],
             catalogue: dict[str, TrainingOffer], review: MoveReview | None = None) -> Move:
        employee = self.employees[nip]
        source_position = self.index.positions[employee.position_id]
        target_position = self.index.positions[target]
        findings: list[Finding] = sorted([*employee_found, *entry["findings"]],
                                         key=lambda f: (f.scope, f.ruleset_id, f.rule_id))
        fired = {f.rule_key for f in findings}
        needs: dict[str, TrainingNeed] = {}
        for finding in findings:
            if EFFECTS[finding.effect].conditional:
                for name in finding.trainings:
                    key = name.casefold()
                    rules = needs[key].required_by if key in needs else []
                    needs[key] = TrainingNeed(name=name, required_by=sorted({*rules, finding.rule_key}),
                                              offer=catalogue.get(key))
        pair_score: PairScore = entry["pair_score"]
        profile = profile_score(self.ctx.candidate_scope(nip, target), employee, target_position,
                                self.options.scoring)
        if profile.score != pair_score.profile:  # one computation (scoring._profile) behind both
            raise RuntimeError(f"profile score of {pair_subject(nip, target)} changed between plan and result")
        src_opd, dst_opd = self.index.opd_of(source_position.unit_id), self.index.opd_of(target_position.unit_id)
        return Move(
            nip=nip,
            name=employee.name,
            from_=position_ref(source_position, self.index),
            to=position_ref(target_position, self.index),
            status="conditional" if needs else "recommended",
            score=pair_score.total,
            score_breakdown=pair_score.breakdown(),
            profile=profile,
            findings=findings,
            rules_passed=sorted(set(checked) - fired),
            trainings_required=[needs[k] for k in sorted(needs)],
            source_effect=EjChange(position_ej_before=pw[source_position.id].ej,
                                   position_ej_after=after_p[source_position.id].ej,
                                   opd_ej_before=uw[src_opd].ej, opd_ej_after=after_u[src_opd].ej),
            target_effect=EjChange(position_ej_before=pw[target].ej, position_ej_after=after_p[target].ej,
                                   opd_ej_before=uw[dst_opd].ej, opd_ej_after=after_u[dst_opd].ej),
            review=review,
        )

    def checked_rules(self, engine: RuleEngine, nip: str, target: str) -> list[str]:
        """The rules a move was checked against: the employee rules that apply to the person's
        post and the candidate rules that apply to the target (a teacher's move is not checked
        against Dinas Kesehatan's rules, so it does not claim to pass them)."""
        source = self.index.positions[self.employees[nip].position_id]
        goal = self.index.positions[target]
        return [
            *engine.applicable_rule_keys("employee", self.index.unit_path(source.unit_id), source.kind.value),
            *engine.applicable_rule_keys("candidate", self.index.unit_path(goal.unit_id), goal.kind.value),
        ]

    def time_bounded(self, moves: list[Move]) -> list[Move]:
        """Mark the moves that serve only a target's temporary workload as time-bounded assignments.

        A post with temporary tasks keeps as permanent transfers the moves its permanent
        workload alone would take (:func:`receive_limit` on the figures without the
        temporary tasks), the best scores first (ties: NIP); each further move into it
        becomes a time-bounded assignment, if a candidate rule labelled the pair
        ``penugasan_sementara`` (``national.temporary-assignment``; an agency may forbid it
        by replacing that rule). Otherwise it stays a transfer.
        """
        by_target: dict[str, list[Move]] = defaultdict(list)
        for move in moves:
            by_target[move.to.position_id].append(move)
        assigned: dict[str, TimeBoundedAssignment] = {}
        for target, into in by_target.items():
            position = self.index.positions[target]
            temporary = [t for t in position.tasks or () if t.temporary_until is not None]
            figures = self.ctx.pw[target]
            if not temporary or figures.workload_hours is None:
                continue
            permanent_hours = figures.workload_hours - math.fsum(t.volume_per_year * t.norm_minutes / 60.0
                                                                 for t in temporary)
            needed = max(0.0, permanent_hours) / self.calc.hours
            rounded = self.options.workload.round_staff(needed) or 0
            permanent = receive_limit(figures.model_copy(update={"staff_needed": needed,
                                                                  "gap": rounded - figures.bezetting}),
                                      self.options.workload.band_low)
            until = max(t.temporary_until for t in temporary if t.temporary_until is not None)
            starts = [t.temporary_from for t in temporary if t.temporary_from is not None]
            start = max(self.plan_date, min(starts)) if len(starts) == len(temporary) else self.plan_date
            ranked = sorted(into, key=lambda m: (-m.score, m.nip))
            for move in ranked[permanent:]:
                allowed = sorted(f.rule_key for f in move.findings
                                 if f.effect is Effect.CLASSIFY and f.label == TEMPORARY_LABEL
                                 and f.scope == "candidate")
                if allowed and until > start:
                    assigned[move.nip] = TimeBoundedAssignment(start=start, until=until, return_to=move.from_,
                                                               allowed_by=allowed)
        return [m.model_copy(update={"assignment": assigned[m.nip]}) if m.nip in assigned else m for m in moves]

    def run_info(self, decisions: Sequence[AppliedDecision], parent_run_id: str | None) -> RunInfo:
        """What the run was made from: library, dataset hash, dates, rule sets, plugins, options, lineage."""
        skipped = [f"{s.plugin} ({s.hook}): {s.reason}" for s in (self.plugins.skipped if self.plugins else [])]
        return RunInfo(
            library_version=__version__,
            dataset=self.dataset.metadata.name,
            dataset_sha256=self.ctx.dataset_sha256,
            as_of=self.as_of,
            plan_date=self.plan_date,
            rulesets=sorted(
                (RuleSetRef(id=r.id, version=r.version, origin=r.origin, sha256=r.sha256) for r in self.rulesets),
                key=lambda r: (r.id, r.version, r.origin),
            ),
            plugins=plugin_refs(self.plugins),
            skipped_plugins=skipped,
            options=self.options,
            parent_run_id=parent_run_id,
            review_decisions=list(decisions),
        )


__all__ = ["Ranking", "Reporter"]
