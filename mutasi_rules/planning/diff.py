"""What changed between two plans: moves added, removed and changed, each with its reason.

The reason of a change is a review decision when one explains it (a reject, an exclusion,
a held post, a pin), and otherwise what the optimiser traded: the plan that no longer has
a move says, in its shortage report, what became of that candidate (placed elsewhere,
outscored, withheld for the balance ...), and the plan that gained one says why it had not
been chosen before. The balance figures of both plans are part of the diff.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.analysis.workload import BalanceFigure
from mutasi_rules.core.i18n import N_, NC_, localized, translator
from mutasi_rules.data.decisions import AppliedDecision
from mutasi_rules.planning.recommendation import Alternative, PositionRef, RecommendationResult
from mutasi_rules.rules.rulesets import Localized

DIFF_FORMAT: Final = "mutasi-rules.diff/1"
ChangeKind = Literal["added", "removed", "changed"]


class MoveChange(BaseModel):
    """One person whose move differs between the two plans."""

    model_config = ConfigDict(frozen=True)

    kind: ChangeKind
    nip: str
    name: str
    before: PositionRef | None = Field(description="Target in plan A (null: not moved)")
    after: PositionRef | None = Field(description="Target in plan B (null: not moved)")
    score_before: float | None
    score_after: float | None
    reason: Localized
    decision: str | None = Field(default=None, description="The review decision that explains it, if any")


class RunDiff(BaseModel):
    """Plan B compared with plan A (``mutasi-rules diff RUN_A RUN_B``)."""

    model_config = ConfigDict(frozen=True)

    format: Literal["mutasi-rules.diff/1"] = DIFF_FORMAT
    run_a: str
    run_b: str
    decisions: list[AppliedDecision] = Field(description="Review decisions B honours that A did not")
    changes: list[MoveChange] = Field(description="Sorted by NIP")
    moves_a: int
    moves_b: int
    balance_a_before: BalanceFigure
    balance_a_after: BalanceFigure
    balance_b_before: BalanceFigure
    balance_b_after: BalanceFigure

    @property
    def added(self) -> list[MoveChange]:
        return [c for c in self.changes if c.kind == "added"]

    @property
    def removed(self) -> list[MoveChange]:
        return [c for c in self.changes if c.kind == "removed"]

    @property
    def changed(self) -> list[MoveChange]:
        return [c for c in self.changes if c.kind == "changed"]


def _explaining(decisions: list[AppliedDecision], nip: str, lost: str | None,
                gained: str | None) -> AppliedDecision | None:
    """The decision that explains losing the move to ``lost`` or gaining the one to ``gained``."""
    for d in decisions:
        if d.action == "pin" and d.nip == nip and d.position == gained:
            return d
        if lost is not None and ((d.action == "reject" and d.pair == (nip, lost))
                                 or (d.action == "exclude_employee" and d.nip == nip)
                                 or (d.action == "hold_position" and d.position == lost)):
            return d
    return None


def _alternative(result: RecommendationResult, nip: str, target: str) -> Alternative | None:
    for shortage in result.shortages:
        if shortage.position.position_id == target:
            return next((a for a in shortage.alternatives if a.nip == nip), None)
    return None


def diff_results(run_a: str, a: RecommendationResult, run_b: str, b: RecommendationResult) -> RunDiff:
    """How plan ``b`` differs from plan ``a``, person by person, with the reason for each change."""
    known = {d.id for d in a.run.review_decisions}
    new_decisions = [d for d in b.run.review_decisions if d.id not in known]
    moves_a = {m.nip: m for m in a.moves}
    moves_b = {m.nip: m for m in b.moves}
    changes: list[MoveChange] = []
    for nip in sorted(moves_a.keys() | moves_b.keys()):
        before, after = moves_a.get(nip), moves_b.get(nip)
        if before is not None and after is not None and before.to.position_id == after.to.position_id:
            continue
        kind: ChangeKind = "added" if before is None else "removed" if after is None else "changed"
        lost = before.to.position_id if before is not None else None
        gained = after.to.position_id if after is not None else None
        decision = _explaining(new_decisions, nip, lost, gained)
        if decision is not None:
            said = (f"{decision.id} ({decision.action}, {decision.reviewer}, {decision.date.isoformat()}): "
                    f"{decision.reason}")
            reason = Localized.of(N_("Review decision {decision}"), decision=said)
        elif lost is not None and (alternative := _alternative(b, nip, lost)) is not None:
            reason = Localized.of(N_("In plan B, for {position}: {reason}"), position=lost, reason=alternative.reason)
        elif gained is not None and (alternative := _alternative(a, nip, gained)) is not None:
            reason = Localized.of(N_("Chosen in plan B; in plan A, for {position}: {reason}"), position=gained,
                                  reason=alternative.reason)
        else:
            reason = Localized.of(N_("The optimiser re-made the plan around the review decisions."))
        either = before or after
        assert either is not None, "the NIP is moved in one of the two plans"
        changes.append(MoveChange(
            kind=kind, nip=nip, name=either.name,
            before=before.to if before is not None else None, after=after.to if after is not None else None,
            score_before=before.score if before is not None else None,
            score_after=after.score if after is not None else None,
            reason=reason, decision=decision.id if decision is not None else None,
        ))
    return RunDiff(run_a=run_a, run_b=run_b, decisions=new_decisions, changes=changes, moves_a=len(a.moves),
                   moves_b=len(b.moves), balance_a_before=a.balance_before, balance_a_after=a.balance_after,
                   balance_b_before=b.balance_before, balance_b_after=b.balance_after)


def diff_markdown(diff: RunDiff, lang: str = "id") -> str:
    """The diff as Markdown (the table format prints the same lines)."""
    _ = translator(lang)
    lines = ["# " + _("Plan {run_a} → {run_b}").format(run_a=diff.run_a, run_b=diff.run_b), ""]
    if diff.decisions:
        lines.append("## " + _("Review decisions applied"))
        lines += [f"- `{d.id}` {d.describe()} — {d.reviewer}, {d.date.isoformat()}: {d.reason}" for d in diff.decisions]
        lines.append("")
    for kind, title in (("added", NC_("diff", "Moves added")), ("removed", NC_("diff", "Moves removed")),
                        ("changed", NC_("diff", "Moves changed"))):
        items = [c for c in diff.changes if c.kind == kind]
        lines.append(f"## {localized(title, lang)} ({len(items)})")
        for c in items:
            where = " → ".join(p.position_id if p else "-" for p in (c.before, c.after))
            lines.append(f"- {c.nip} {c.name}: {where} — {c.reason.get(lang)}")
        lines.append("")
    lines.append("## " + _("Balance (EJ spread across agencies)"))
    lines.append("")
    lines.append("| | " + " | ".join(_(w) for w in (N_("moves"), N_("EJ std before"), N_("EJ std after"),
                                                    N_("outside band after"))) + " |")
    lines.append("| --- | --- | --- | --- | --- |")
    for name, moves, before, after in (("A " + diff.run_a, diff.moves_a, diff.balance_a_before, diff.balance_a_after),
                                       ("B " + diff.run_b, diff.moves_b, diff.balance_b_before, diff.balance_b_after)):
        lines.append(f"| {name} | {moves} | {before.ej_std} | {after.ej_std} | {after.outside_band_share} |")
    return "\n".join(lines) + "\n"


__all__ = ["DIFF_FORMAT", "MoveChange", "RunDiff", "diff_markdown", "diff_results"]
