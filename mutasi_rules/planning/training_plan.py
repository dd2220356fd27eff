"""The training plan a transfer plan implies: who takes which training, in which batch, by when.

From any :class:`~mutasi_rules.planning.recommendation.RecommendationResult`: for each training the
conditional moves need, the participants, the hours (JP), the provider, and batches
(angkatan) within the capacity the plugins' training catalogue declares, scheduled so that
the last batch completes the day before the plan date; the *latest start* is the first
batch's first day. Batches of one training run one after another (one provider, one
class at a time); a batch takes ``duration_days`` calendar days (the catalogue's, else
hours / :data:`JP_PER_DAY` rounded up).

When the batches do not fit between ``as_of`` and the plan date, they are scheduled from
``as_of`` on instead and the training is marked late: the moves conditional on it take
effect the day after their batch completes, never before (a conditional move's effective
date follows its training's completion). A training the catalogue does not offer gets its
participants listed and no schedule; its moves have no effective date until it is
arranged.

Deterministic: participants by NIP, trainings by name; batch sizes differ by at most one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.core.i18n import N_, NC_, localized, translate_message, translator
from mutasi_rules.planning.recommendation import RecommendationResult
from mutasi_rules.plugins.types import TrainingOffer

if TYPE_CHECKING:
    from mutasi_rules.explain.spreadsheet import Sheet

TRAINING_PLAN_FORMAT: Final = "mutasi-rules.training-plan/1"
JP_PER_DAY = 8
"""Jam pelajaran per training day when the catalogue states no duration (a JP is 45 minutes)."""


class Participant(BaseModel):
    model_config = ConfigDict(frozen=True)

    nip: str
    name: str
    to_position_id: str
    to_opd_id: str


class Batch(BaseModel):
    """One angkatan: at most the catalogue's capacity, ``start`` to ``end`` inclusive."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1)
    start: dt.date
    end: dt.date
    participants: list[str] = Field(description="NIPs, sorted")


class TrainingSchedule(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    in_catalogue: bool
    hours: float | None = Field(description="Jam pelajaran (JP) per participant")
    provider: str | None
    capacity: int | None = Field(description="Participants per batch; null: no limit")
    duration_days: int | None
    participants: list[Participant] = Field(description="Sorted by NIP")
    total_hours: float | None = Field(description="hours x participants")
    batches: list[Batch]
    latest_start: dt.date | None = Field(description="Latest first day that still completes before the plan date")
    completes: dt.date | None = Field(description="Last day of the last batch")
    status: Literal["on_time", "late", "not_in_catalogue"]
    required_by: list[str]


class MoveSchedule(BaseModel):
    """When a move can take effect: the plan date, or after the person's last training."""

    model_config = ConfigDict(frozen=True)

    nip: str
    name: str
    to_position_id: str
    status: Literal["recommended", "conditional"]
    trainings: list[str]
    ready_on: dt.date | None = Field(description="Day after the person's last batch; null: a training is unscheduled")
    effective_date: dt.date | None = Field(description="max(plan date, ready_on, the start of a time-bounded "
                                                       "assignment); null while a training is unscheduled")
    assignment_until: dt.date | None = Field(default=None, description="End of a time-bounded assignment")


class TrainingPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: Literal["mutasi-rules.training-plan/1"] = TRAINING_PLAN_FORMAT
    dataset: str
    as_of: dt.date
    plan_date: dt.date
    trainings: list[TrainingSchedule] = Field(description="Sorted by name")
    moves: list[MoveSchedule] = Field(description="Every move of the result, sorted by NIP")
    participants_total: int = Field(description="Participant places over all trainings")
    hours_total: float = Field(description="JP over all scheduled trainings and participants")
    warnings: list[str] = Field(default_factory=list)


def batch_sizes(participants: int, capacity: int | None) -> list[int]:
    """Sizes of the fewest batches of at most ``capacity`` that hold everyone, as even as possible."""
    if participants <= 0:
        return []
    count = 1 if capacity is None else math.ceil(participants / capacity)
    base, extra = divmod(participants, count)
    return [base + 1 if i < extra else base for i in range(count)]


def schedule(nips: list[str], capacity: int | None, duration_days: int, as_of: dt.date,
             plan_date: dt.date) -> tuple[list[Batch], bool]:
    """Consecutive batches ending the day before ``plan_date``; from ``as_of`` on when that is too late.

    Returns the batches and whether they complete before the plan date.
    """
    sizes = batch_sizes(len(nips), capacity)
    span = dt.timedelta(days=duration_days * len(sizes))
    first = plan_date - span
    on_time = first >= as_of
    if not on_time:
        first = as_of
    batches = []
    taken = 0
    for number, size in enumerate(sizes, 1):
        start = first + dt.timedelta(days=duration_days * (number - 1))
        batches.append(Batch(number=number, start=start, end=start + dt.timedelta(days=duration_days - 1),
                             participants=nips[taken:taken + size]))
        taken += size
    return batches, on_time


def training_plan(result: RecommendationResult) -> TrainingPlan:
    """The training plan of ``result`` (see the module docstring)."""
    as_of, plan_date = result.run.as_of, result.run.plan_date
    needs: dict[str, list[Participant]] = {}
    names: dict[str, str] = {}
    offers: dict[str, TrainingOffer] = {}
    required: dict[str, set[str]] = {}
    for move in result.moves:
        for need in move.trainings_required:
            key = need.name.casefold()
            names.setdefault(key, need.name)
            needs.setdefault(key, []).append(Participant(nip=move.nip, name=move.name,
                                                         to_position_id=move.to.position_id,
                                                         to_opd_id=move.to.opd_id))
            required.setdefault(key, set()).update(need.required_by)
            if need.offer is not None:
                offers[key] = need.offer
    trainings: list[TrainingSchedule] = []
    ready: dict[str, list[dt.date | None]] = {}
    warnings: list[str] = []
    for key in sorted(needs):
        people = sorted(needs[key], key=lambda p: p.nip)
        offer = offers.get(key)
        if offer is None:
            for person in people:
                ready.setdefault(person.nip, []).append(None)
            warnings.append(f"training {names[key]!r} is not in the training catalogue: {len(people)} participant(s) "
                            "listed, no batches scheduled")
            trainings.append(TrainingSchedule(
                name=names[key], in_catalogue=False, hours=None, provider=None, capacity=None, duration_days=None,
                participants=people, total_hours=None, batches=[], latest_start=None, completes=None,
                status="not_in_catalogue", required_by=sorted(required[key])))
            continue
        days = offer.duration_days or max(1, math.ceil(offer.hours / JP_PER_DAY))
        batches, on_time = schedule([p.nip for p in people], offer.capacity, days, as_of, plan_date)
        for batch in batches:
            for nip in batch.participants:
                ready.setdefault(nip, []).append(batch.end + dt.timedelta(days=1))
        if not on_time:
            warnings.append(f"training {offer.name!r}: {len(batches)} batch(es) of {days} day(s) do not fit between "
                            f"{as_of} and the plan date {plan_date}; scheduled from {as_of}, completing "
                            f"{batches[-1].end}: the moves conditional on it take effect later")
        trainings.append(TrainingSchedule(
            name=offer.name, in_catalogue=True, hours=offer.hours, provider=offer.provider,
            capacity=offer.capacity, duration_days=days, participants=people,
            total_hours=round(offer.hours * len(people), 4), batches=batches,
            latest_start=plan_date - dt.timedelta(days=days * len(batches)), completes=batches[-1].end,
            status="on_time" if on_time else "late", required_by=sorted(required[key])))
    # Trainings are scheduled one by one: say so where one person's batches overlap.
    periods: dict[str, list[tuple[dt.date, dt.date, str]]] = {}
    for training in trainings:
        for batch in training.batches:
            for nip in batch.participants:
                periods.setdefault(nip, []).append((batch.start, batch.end, training.name))
    for nip in sorted(periods):
        spans = sorted(periods[nip])
        for (_, end, first), (start, _, second) in itertools.pairwise(spans):
            if start <= end:
                warnings.append(f"{nip}: batches of {first!r} and {second!r} overlap ({start} to {end}); "
                                "arrange one of them at another time")
    moves = []
    for move in sorted(result.moves, key=lambda m: m.nip):
        dates = ready.get(move.nip, [])
        ready_on = None if None in dates else max((d for d in dates if d is not None), default=None)
        unscheduled = None in dates
        start = move.assignment.start if move.assignment is not None else plan_date
        effective = None if unscheduled else max(plan_date, start, ready_on or plan_date)
        moves.append(MoveSchedule(
            nip=move.nip, name=move.name, to_position_id=move.to.position_id, status=move.status,
            trainings=[n.name for n in move.trainings_required], ready_on=ready_on, effective_date=effective,
            assignment_until=move.assignment.until if move.assignment is not None else None))
        if move.assignment is not None and effective is not None and effective >= move.assignment.until:
            warnings.append(f"{move.nip}: training completes {ready_on}, not before the end of the time-bounded "
                            f"assignment ({move.assignment.until})")
    return TrainingPlan(
        dataset=result.run.dataset, as_of=as_of, plan_date=plan_date, trainings=trainings, moves=moves,
        participants_total=sum(len(t.participants) for t in trainings),
        hours_total=round(math.fsum(t.total_hours or 0.0 for t in trainings), 4),
        warnings=warnings,
    )


# --------------------------------------------------------------------------- rendering


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


#: What a training's schedule status means, by status.
_STATUS_TEXT: dict[str, str | tuple[str, str]] = {
    "on_time": N_("completes before the plan date"),
    "late": N_("LATE: completes after the plan date"),
    "not_in_catalogue": NC_("training plan", "not in the training catalogue"),
}


def render_markdown(plan: TrainingPlan, lang: str = "id") -> str:
    """The training plan as Markdown (Bahasa Indonesia by default, or English)."""
    _ = translator(lang)
    to_position = localized(NC_("training plan", "To position"), lang)
    lines = [
        f"# {_('Training plan')}: {plan.dataset}",
        "",
        _("As of {as_of}; plan date {plan_date}. {places} participant place(s), {hours} JP in all.").format(
            as_of=plan.as_of, plan_date=plan.plan_date, places=plan.participants_total, hours=f"{plan.hours_total:g}"),
        "",
    ]
    if not plan.trainings:
        lines += [_("No move needs training first."), ""]
    for training in plan.trainings:
        lines += [f"## {training.name}", ""]
        rows = [
            (_("Provider"), training.provider or "-"),
            (_("Hours (JP) per participant"), f"{training.hours:g}" if training.hours is not None else "-"),
            (_("Participants"), str(len(training.participants))),
            (_("Capacity per batch"), str(training.capacity) if training.capacity else _("no limit")),
            (_("Days per batch"), str(training.duration_days or "-")),
            (_("Latest start"), str(training.latest_start or "-")),
            (_("Completes"), str(training.completes or "-")),
            (_("Status"), localized(_STATUS_TEXT[training.status], lang)),
        ]
        lines += ["| | |", "| --- | --- |"]
        lines += [_row(r) for r in rows]
        lines.append("")
        if training.batches:
            lines += [_row([_("Batch"), _("Start"), _("End"), _("Participants")]), "| --- | --- | --- | --- |"]
            lines += [_row([b.number, b.start, b.end, len(b.participants)]) for b in training.batches]
            lines.append("")
        batch_of = {nip: b.number for b in training.batches for nip in b.participants}
        lines += [_row(["NIP", _("Name"), to_position, _("Batch")]), "| --- | --- | --- | --- |"]
        lines += [_row([p.nip, p.name, p.to_position_id, batch_of.get(p.nip, "-")]) for p in training.participants]
        lines.append("")
    lines += ["## " + _("When each move takes effect"), ""]
    lines += [_row(["NIP", _("Name"), to_position, _("Trainings"), _("Ready on"), _("Effective"),
                    _("Assignment until")]), "| --- | --- | --- | --- | --- | --- | --- |"]
    for move in plan.moves:
        lines.append(_row([move.nip, move.name, move.to_position_id, ", ".join(move.trainings) or "-",
                           move.ready_on or "-", move.effective_date or "-", move.assignment_until or "-"]))
    lines.append("")
    if plan.warnings:
        lines += ["## " + _("Warnings"), ""]
        lines += [f"- {translate_message(w, lang)}" for w in plan.warnings]
        lines.append("")
    return "\n".join(lines)


def xlsx_sheets(plan: TrainingPlan) -> list[Sheet]:
    """The training plan as worksheets: trainings, batches, participants, and when each move takes effect."""
    from mutasi_rules.explain.spreadsheet import Sheet

    trainings = Sheet("Pelatihan", ["training", "provider", "hours_jp", "participants", "capacity", "duration_days",
                                    "batches", "latest_start", "completes", "status"])
    batches = Sheet("Angkatan", ["training", "batch", "start", "end", "participants"])
    participants = Sheet("Peserta", ["training", "nip", "name", "to_position_id", "to_opd_id", "batch"])
    for t in plan.trainings:
        trainings.rows.append([t.name, t.provider, t.hours, len(t.participants), t.capacity, t.duration_days,
                               len(t.batches), t.latest_start, t.completes, t.status])
        batch_of = {nip: b.number for b in t.batches for nip in b.participants}
        batches.rows += [[t.name, b.number, b.start, b.end, len(b.participants)] for b in t.batches]
        participants.rows += [[t.name, p.nip, p.name, p.to_position_id, p.to_opd_id, batch_of.get(p.nip)]
                              for p in t.participants]
    moves = Sheet("Mutasi", ["nip", "name", "to_position_id", "status", "trainings", "ready_on", "effective_date",
                             "assignment_until"],
                  [[m.nip, m.name, m.to_position_id, m.status, "; ".join(m.trainings), m.ready_on, m.effective_date,
                    m.assignment_until] for m in plan.moves])
    return [trainings, batches, participants, moves]


__all__ = [
    "JP_PER_DAY",
    "Batch",
    "MoveSchedule",
    "Participant",
    "TrainingPlan",
    "TrainingSchedule",
    "batch_sizes",
    "render_markdown",
    "schedule",
    "training_plan",
    "xlsx_sheets",
]
