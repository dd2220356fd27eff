"""Side-by-side plans: a baseline and scenarios planned with the same rules and options.

:func:`compare` says what a scenario changes against the baseline: the EJ of every
agency (OPD) before and after each plan, the moves added and removed (by NIP and target
position), and the trainings needed in addition (participants and JP, from each result's
training plan). :class:`ScenarioReport` is the JSON of ``mutasi-rules scenario``::

    {"baseline": RESULT, "scenarios": [{"name", "result": RESULT, "comparison"}, ...]}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.analysis.workload import WorkloadCalculator, WorkloadSettings
from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.core.i18n import N_, translate_message, translator
from mutasi_rules.core.runtime import fewer_collections
from mutasi_rules.data.models import Dataset
from mutasi_rules.data.scenario import AppliedChange
from mutasi_rules.planning.recommendation import Move, RecommendationResult
from mutasi_rules.planning.training_plan import TrainingPlan, training_plan

if TYPE_CHECKING:
    from mutasi_rules.explain.spreadsheet import Sheet

SCENARIO_REPORT_FORMAT: Final = "mutasi-rules.scenarios/1"


class AgencyEj(BaseModel):
    """EJ of one OPD: in the baseline data and the scenario's, each before and after its plan."""

    model_config = ConfigDict(frozen=True)

    unit_id: str
    name: str
    baseline_before: float | None
    baseline_after: float | None
    scenario_before: float | None
    scenario_after: float | None


class MoveRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    nip: str
    name: str
    from_position_id: str
    to_position_id: str
    to_opd_id: str
    status: Literal["recommended", "conditional"]
    assignment_until: dt.date | None = Field(description="End of a time-bounded assignment; null: a transfer")


class TrainingChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    baseline_participants: int
    scenario_participants: int
    added: list[str] = Field(description="NIPs who need it in the scenario only")
    removed: list[str] = Field(description="NIPs who need it in the baseline only")
    hours_added: float | None = Field(description="JP of the added participants minus the removed; null: not in "
                                                  "the catalogue")


class Comparison(BaseModel):
    model_config = ConfigDict(frozen=True)

    agencies: list[AgencyEj] = Field(description="Every OPD, sorted by unit id")
    moves_baseline: int
    moves_scenario: int
    moves_added: list[MoveRef] = Field(description="In the scenario's plan only, by NIP")
    moves_removed: list[MoveRef] = Field(description="In the baseline's plan only, by NIP")
    moves_changed: list[MoveRef] = Field(description="Same person and target, but a different kind (transfer or "
                                                     "time-bounded assignment) or status; as in the scenario")
    moves_into: dict[str, list[int]] = Field(description="OPD id -> [baseline moves into it, scenario moves into it]")
    time_bounded_assignments: int = Field(description="Time-bounded assignments in the scenario's plan")
    trainings: list[TrainingChange] = Field(description="Every training either plan needs, by name")
    training_participants_baseline: int
    training_participants_scenario: int
    training_hours_baseline: float
    training_hours_scenario: float
    balance_std_baseline_after: float | None
    balance_std_scenario_after: float | None


class ScenarioOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    description: str
    source: str = Field(description="The scenario file")
    changes: list[AppliedChange]
    warnings: list[str] = Field(default_factory=list)
    result: RecommendationResult
    training_plan: TrainingPlan
    comparison: Comparison


class ScenarioReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: Literal["mutasi-rules.scenarios/1"] = SCENARIO_REPORT_FORMAT
    baseline: RecommendationResult
    baseline_training_plan: TrainingPlan
    scenarios: list[ScenarioOutcome]

    def to_json(self, *, indent: int | None = 2) -> str:
        with fewer_collections():
            return canonical_json(self.model_dump(mode="json", by_alias=True), indent=indent)


def _delta(moves: Sequence[Move]) -> dict[str, int]:
    delta: dict[str, int] = {}
    for move in moves:
        delta[move.from_.position_id] = delta.get(move.from_.position_id, 0) - 1
        delta[move.to.position_id] = delta.get(move.to.position_id, 0) + 1
    return delta


def _ref(move: Move) -> MoveRef:
    return MoveRef(nip=move.nip, name=move.name, from_position_id=move.from_.position_id,
                   to_position_id=move.to.position_id, to_opd_id=move.to.opd_id, status=move.status,
                   assignment_until=move.assignment.until if move.assignment else None)


def _opd_ej(dataset: Dataset, settings: WorkloadSettings, moves: Sequence[Move]) -> tuple[dict[str, float | None],
                                                                                            dict[str, float | None],
                                                                                            dict[str, str]]:
    calc = WorkloadCalculator(dataset, settings)
    before = {u.unit_id: u.ej for u in calc.units() if u.is_opd}
    after_units = calc.units(_delta(moves))
    after = {u.unit_id: u.ej for u in after_units if u.is_opd}
    return before, after, {u.unit_id: u.name for u in after_units if u.is_opd}


def compare(baseline_dataset: Dataset, baseline: RecommendationResult, baseline_plan: TrainingPlan,
            scenario_dataset: Dataset, scenario: RecommendationResult, scenario_plan: TrainingPlan) -> Comparison:
    """What the scenario's plan changes against the baseline's (both run with the same options)."""
    settings = baseline.run.options.workload
    b_before, b_after, names = _opd_ej(baseline_dataset, settings, baseline.moves)
    s_before, s_after, s_names = _opd_ej(scenario_dataset, settings, scenario.moves)
    names = {**s_names, **names}
    agencies = [AgencyEj(unit_id=u, name=names[u], baseline_before=b_before.get(u), baseline_after=b_after.get(u),
                         scenario_before=s_before.get(u), scenario_after=s_after.get(u))
                for u in sorted(set(b_before) | set(s_before))]
    base_moves = {(m.nip, m.to.position_id): m for m in baseline.moves}
    scen_moves = {(m.nip, m.to.position_id): m for m in scenario.moves}
    added = [_ref(scen_moves[k]) for k in sorted(set(scen_moves) - set(base_moves))]
    removed = [_ref(base_moves[k]) for k in sorted(set(base_moves) - set(scen_moves))]
    changed = [_ref(scen_moves[k]) for k in sorted(set(scen_moves) & set(base_moves))
               if _ref(scen_moves[k]) != _ref(base_moves[k])]
    into: dict[str, list[int]] = {}
    for index, moves in enumerate((baseline.moves, scenario.moves)):
        for move in moves:
            if move.from_.opd_id != move.to.opd_id:
                into.setdefault(move.to.opd_id, [0, 0])[index] += 1
    base_t = {t.name.casefold(): t for t in baseline_plan.trainings}
    scen_t = {t.name.casefold(): t for t in scenario_plan.trainings}
    trainings = []
    for key in sorted(set(base_t) | set(scen_t)):
        b, s = base_t.get(key), scen_t.get(key)
        b_nips = {p.nip for p in b.participants} if b else set()
        s_nips = {p.nip for p in s.participants} if s else set()
        either = s or b
        assert either is not None, "the key comes from one of the two plans"
        hours = either.hours
        plus, minus = sorted(s_nips - b_nips), sorted(b_nips - s_nips)
        trainings.append(TrainingChange(
            name=either.name,
            baseline_participants=len(b_nips), scenario_participants=len(s_nips), added=plus, removed=minus,
            hours_added=None if hours is None else round(hours * (len(plus) - len(minus)), 4)))
    return Comparison(
        agencies=agencies,
        moves_baseline=len(baseline.moves),
        moves_scenario=len(scenario.moves),
        moves_added=added,
        moves_removed=removed,
        moves_changed=changed,
        moves_into={k: into[k] for k in sorted(into)},
        time_bounded_assignments=sum(1 for m in scenario.moves if m.assignment is not None),
        trainings=trainings,
        training_participants_baseline=baseline_plan.participants_total,
        training_participants_scenario=scenario_plan.participants_total,
        training_hours_baseline=baseline_plan.hours_total,
        training_hours_scenario=scenario_plan.hours_total,
        balance_std_baseline_after=baseline.balance_after.ej_std,
        balance_std_scenario_after=scenario.balance_after.ej_std,
    )


def outcome(name: str, title: str, description: str, source: str, changes: list[AppliedChange],
            warnings: list[str], baseline_dataset: Dataset, baseline: RecommendationResult,
            baseline_plan: TrainingPlan, dataset: Dataset, result: RecommendationResult) -> ScenarioOutcome:
    plan = training_plan(result)
    return ScenarioOutcome(
        name=name, title=title, description=description, source=source, changes=changes, warnings=warnings,
        result=result, training_plan=plan,
        comparison=compare(baseline_dataset, baseline, baseline_plan, dataset, result, plan),
    )


# --------------------------------------------------------------------------- rendering


def _ej(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def render_markdown(report: ScenarioReport, lang: str = "id") -> str:
    """The baseline and every scenario side by side, as Markdown (Bahasa Indonesia or English)."""
    _ = translator(lang)
    base = report.baseline
    baseline, scenario = _("Baseline"), _("Scenario")
    lines = [
        "# " + _("Scenarios against the baseline"),
        "",
        _("Dataset {dataset}, as of {as_of}, plan date {plan_date}; every plan uses the same rules and options.")
        .format(dataset=base.run.dataset, as_of=base.run.as_of, plan_date=base.run.plan_date),
        "",
        "- " + _("Baseline: {moves} moves, {places} training places, EJ spread {before} -> {after}").format(
            moves=len(base.moves), places=report.baseline_training_plan.participants_total,
            before=_ej(base.balance_before.ej_std), after=_ej(base.balance_after.ej_std)),
        "",
    ]
    for item in report.scenarios:
        c = item.comparison
        lines += [f"## {item.title or item.name} (`{item.name}`)", ""]
        if item.description:
            lines += [item.description, ""]
        lines += ["**" + _("Changes") + "**", ""]
        for change in item.changes:
            period = ""
            if change.until is not None:
                period = f" ({change.from_ or '…'} – {change.until})"
            note = f": {change.note}" if change.note else ""
            lines.append(f"- {translate_message(change.summary, lang)}{period}{note}")
        lines += ["", f"| | {baseline} | {scenario} |",
                  "| --- | --- | --- |",
                  f"| {_('Moves')} | {c.moves_baseline} | {c.moves_scenario} |",
                  f"| {_('Time-bounded assignments')} | "
                  f"{sum(1 for m in base.moves if m.assignment)} | {c.time_bounded_assignments} |",
                  f"| {_('Training places')} | {c.training_participants_baseline} | "
                  f"{c.training_participants_scenario} |",
                  f"| JP | {c.training_hours_baseline:g} | {c.training_hours_scenario:g} |",
                  f"| {_('EJ spread after the plan')} | "
                  f"{_ej(c.balance_std_baseline_after)} | {_ej(c.balance_std_scenario_after)} |", ""]
        lines += ["**" + _("EJ per agency (before -> after the plan)") + "**", "",
                  f"| OPD | {baseline} | {scenario} |",
                  "| --- | --- | --- |"]
        for agency in c.agencies:
            if (agency.baseline_before, agency.baseline_after) == (agency.scenario_before, agency.scenario_after):
                continue
            lines.append(f"| {agency.unit_id} | {_ej(agency.baseline_before)} -> {_ej(agency.baseline_after)} | "
                         f"{_ej(agency.scenario_before)} -> {_ej(agency.scenario_after)} |")
        lines += ["", _("(Agencies the scenario leaves as in the baseline are not listed.)"), ""]
        for title, moves in ((N_("Moves added"), c.moves_added), (N_("Moves removed"), c.moves_removed),
                             (N_("Moves changed"), c.moves_changed)):
            if not moves:
                continue
            lines += [f"**{_(title)}**", "",
                      "| NIP | " + " | ".join(_(w) for w in (N_("Name"), N_("From"), N_("To"), N_("Kind"))) + " |",
                      "| --- | --- | --- | --- | --- |"]
            for m in moves:
                kind = (_("assignment until {date}").format(date=m.assignment_until) if m.assignment_until
                        else _("transfer"))
                lines.append(f"| {m.nip} | {m.name} | {m.from_position_id} | {m.to_position_id} | {kind} |")
            lines.append("")
        added = [t for t in c.trainings if t.added or t.removed]
        if added:
            lines += ["**" + _("Training needs added") + "**", "",
                      "| " + " | ".join((_("Training"), baseline, scenario, _("JP added"))) + " |",
                      "| --- | --- | --- | --- |"]
            lines += [f"| {t.name} | {t.baseline_participants} | {t.scenario_participants} | "
                      f"{'-' if t.hours_added is None else f'{t.hours_added:g}'} |" for t in added]
            lines.append("")
        for warning in [*item.warnings, *item.training_plan.warnings]:
            lines.append(f"- {_('warning')}: {translate_message(warning, lang)}")
        if item.warnings or item.training_plan.warnings:
            lines.append("")
    return "\n".join(lines)


def xlsx_sheets(report: ScenarioReport) -> list[Sheet]:
    """The comparison as worksheets (the full results are in the JSON)."""
    from mutasi_rules.explain.spreadsheet import Sheet

    summary = Sheet("Ringkasan", ["scenario", "moves", "time_bounded", "training_places", "training_jp",
                                  "ej_spread_before", "ej_spread_after"])
    base = report.baseline
    summary.rows.append(["(baseline)", len(base.moves), sum(1 for m in base.moves if m.assignment),
                         report.baseline_training_plan.participants_total, report.baseline_training_plan.hours_total,
                         base.balance_before.ej_std, base.balance_after.ej_std])
    agencies = Sheet("EJ per OPD", ["scenario", "unit_id", "name", "baseline_before", "baseline_after",
                                    "scenario_before", "scenario_after"])
    moves = Sheet("Mutasi", ["scenario", "change", "nip", "name", "from_position_id", "to_position_id", "to_opd_id",
                             "status", "assignment_until"])
    trainings = Sheet("Pelatihan", ["scenario", "training", "baseline_participants", "scenario_participants",
                                    "added", "removed", "jp_added"])
    for item in report.scenarios:
        c, r = item.comparison, item.result
        summary.rows.append([item.name, len(r.moves), c.time_bounded_assignments, c.training_participants_scenario,
                             c.training_hours_scenario, r.balance_before.ej_std, r.balance_after.ej_std])
        agencies.rows += [[item.name, a.unit_id, a.name, a.baseline_before, a.baseline_after, a.scenario_before,
                           a.scenario_after] for a in c.agencies]
        for label, refs in (("added", c.moves_added), ("removed", c.moves_removed), ("changed", c.moves_changed)):
            moves.rows += [[item.name, label, m.nip, m.name, m.from_position_id, m.to_position_id, m.to_opd_id,
                            m.status, m.assignment_until] for m in refs]
        trainings.rows += [[item.name, t.name, t.baseline_participants, t.scenario_participants, len(t.added),
                            len(t.removed), t.hours_added] for t in c.trainings]
    return [summary, agencies, moves, trainings]


__all__ = [
    "AgencyEj",
    "Comparison",
    "MoveRef",
    "ScenarioOutcome",
    "ScenarioReport",
    "TrainingChange",
    "compare",
    "outcome",
    "render_markdown",
    "xlsx_sheets",
]
