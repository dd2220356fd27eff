"""The training plan of a result: batches within capacity, completed before the plan date."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutasi_rules import RecommendOptions, load_dataset
from mutasi_rules.cli import main
from mutasi_rules.planning.training_plan import batch_sizes, render_markdown, schedule, training_plan
from mutasi_rules.service import Service

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pontianak"
AS_OF = dt.date(2026, 7, 1)


@settings(deadline=None)  # a shared, busy machine must not turn a slow example into a failure
@given(
    participants=st.integers(min_value=0, max_value=300),
    capacity=st.one_of(st.none(), st.integers(min_value=1, max_value=60)),
    days=st.integers(min_value=1, max_value=30),
    lead=st.integers(min_value=0, max_value=500),
    as_of=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31)),
)
def test_batches_hold_everyone_within_capacity_and_finish_before_the_plan_date(participants, capacity, days, lead,
                                                                              as_of):
    nips = [f"{i:018d}" for i in range(participants)]
    plan_date = as_of + dt.timedelta(days=lead)
    batches, on_time = schedule(nips, capacity, days, as_of, plan_date)
    # Everyone exactly once, in order; no batch above capacity; sizes differ by at most one.
    assert [n for b in batches for n in b.participants] == nips
    sizes = [len(b.participants) for b in batches]
    assert all(size >= 1 and (capacity is None or size <= capacity) for size in sizes)
    assert not sizes or max(sizes) - min(sizes) <= 1
    assert len(batches) == len(batch_sizes(participants, capacity))
    # One class at a time: consecutive, non-overlapping batches of the stated length.
    for before, after in itertools.pairwise(batches):
        assert after.start == before.end + dt.timedelta(days=1)
    assert all((b.end - b.start).days + 1 == days for b in batches)
    if batches:
        fits = len(batches) * days <= lead
        assert on_time == fits
        if fits:  # the latest schedule: ends the day before the plan date, starts no earlier than as_of
            assert batches[-1].end == plan_date - dt.timedelta(days=1)
            assert batches[0].start >= as_of
        else:  # as early as possible; the moves wait for it
            assert batches[0].start == as_of and batches[-1].end >= plan_date - dt.timedelta(days=1)


@pytest.fixture(scope="module")
def example_result():
    return Service().recommend(load_dataset(EXAMPLE), RecommendOptions(plan_date=dt.date(2026, 8, 3)),
                               record=False).result


@pytest.fixture(scope="module")
def example_surge(surge_report):
    """The bundled surge scenario's result: conditional moves into several posts, some time-bounded."""
    return surge_report.scenarios[0].result


def test_the_plan_lists_participants_hours_provider_and_latest_start(example_result):
    plan = training_plan(example_result)
    assert [t.name for t in plan.trainings] == ["Pelatihan Vaksinator"]
    vaccinator = plan.trainings[0]
    needing = sorted(m.nip for m in example_result.moves if m.trainings_required)
    assert [p.nip for p in vaccinator.participants] == needing
    assert vaccinator.hours == 40 and vaccinator.total_hours == 40 * len(needing)
    assert vaccinator.provider.startswith("Bapelkes") and vaccinator.capacity == 30
    assert vaccinator.latest_start == dt.date(2026, 7, 29) and vaccinator.completes == dt.date(2026, 8, 2)
    assert vaccinator.status == "on_time"
    assert all(m.effective_date == dt.date(2026, 8, 3) for m in plan.moves)


def test_a_conditional_move_takes_effect_after_its_training(example_result):
    """With the plan date on as_of there is no time to train first: conditional moves wait for the batch."""
    hurried = example_result.model_copy(update={"run": example_result.run.model_copy(
        update={"plan_date": AS_OF})})
    plan = training_plan(hurried)
    assert plan.trainings[0].status == "late" and plan.warnings
    completes = plan.trainings[0].completes
    for move in plan.moves:
        if move.status == "conditional":
            assert move.effective_date == completes + dt.timedelta(days=1) > AS_OF
        else:
            assert move.effective_date == AS_OF


def test_a_training_outside_the_catalogue_is_listed_without_a_schedule(example_result):
    moves = [m.model_copy(update={"trainings_required": [n.model_copy(update={"offer": None})
                                                         for n in m.trainings_required]})
             for m in example_result.moves]
    plan = training_plan(example_result.model_copy(update={"moves": moves}))
    assert plan.trainings[0].status == "not_in_catalogue" and not plan.trainings[0].batches
    assert all(m.effective_date is None for m in plan.moves if m.status == "conditional")
    assert "tidak ada di katalog" in render_markdown(plan)


def test_explain_writes_the_training_plan_as_md_json_and_xlsx(tmp_path, capsys):
    db = tmp_path / "audit.sqlite"
    assert main(["recommend", str(EXAMPLE), "--plan-date", "2026-08-03", "--audit-db", str(db),
                 "--out", str(tmp_path / "plan.txt")]) == 0
    run_id = Service(db).runs()[-1].run_id
    assert main(["explain", run_id, "--audit-db", str(db), "--training-plan", str(tmp_path / "tp.md"),
                 "--report", str(tmp_path / "r.md")]) == 0
    for name in ("tp.json", "tp.xlsx"):
        assert main(["explain", run_id, "--audit-db", str(db), "--training-plan", str(tmp_path / name)]) == 0
    assert "Pelatihan Vaksinator" in (tmp_path / "tp.md").read_text(encoding="utf-8")
    data = json.loads((tmp_path / "tp.json").read_text(encoding="utf-8"))
    assert data["format"] == "mutasi-rules.training-plan/1" and data["trainings"][0]["batches"]
    from openpyxl import load_workbook

    assert load_workbook(tmp_path / "tp.xlsx").sheetnames == ["Pelatihan", "Angkatan", "Peserta", "Mutasi"]
    report = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "Jadwal pelatihan" in report and "2026-07-29" in report
    assert main(["explain", run_id, "--audit-db", str(db), "--training-plan", str(tmp_path / "tp.txt")]) == 2


@settings(deadline=None, max_examples=50)
@given(capacity=st.one_of(st.none(), st.integers(min_value=1, max_value=12)),
       days=st.one_of(st.none(), st.integers(min_value=1, max_value=15)),
       lead=st.integers(min_value=0, max_value=150))
def test_any_catalogue_and_plan_date_give_batches_within_capacity_before_the_plan_date(example_surge, capacity, days,
                                                                                      lead):
    """The law on a whole result: every conditional move's person is in one batch within capacity, and
    takes effect no earlier than the day after it; on-time trainings end before the plan date."""
    plan_date = AS_OF + dt.timedelta(days=lead)
    moves = [m.model_copy(update={"trainings_required": [
        n.model_copy(update={"offer": n.offer.model_copy(update={"capacity": capacity, "duration_days": days})})
        for n in m.trainings_required]}) for m in example_surge.moves]
    result = example_surge.model_copy(update={"moves": moves, "run": example_surge.run.model_copy(
        update={"plan_date": plan_date})})
    plan = training_plan(result)
    batch_end = {}
    for training in plan.trainings:
        placed = [nip for b in training.batches for nip in b.participants]
        assert sorted(placed) == [p.nip for p in training.participants]
        assert all(capacity is None or len(b.participants) <= capacity for b in training.batches)
        assert all(b.start >= AS_OF for b in training.batches)
        if training.status == "on_time":
            assert training.completes < plan_date and training.latest_start >= AS_OF
        batch_end.update({nip: b.end for b in training.batches for nip in b.participants})
    for move in plan.moves:
        if move.status == "conditional":
            assert move.effective_date >= max(plan_date, batch_end[move.nip] + dt.timedelta(days=1))
        else:
            assert move.effective_date >= plan_date


def test_overlapping_batches_of_one_person_are_warned(example_result):
    """Two trainings scheduled for the same days: the plan says so rather than pretend both fit."""
    conditional = [m for m in example_result.moves if m.trainings_required]
    need = conditional[0].trainings_required[0]
    second = need.model_copy(update={"name": "Pelatihan Rantai Dingin",
                                     "offer": need.offer.model_copy(update={"name": "Pelatihan Rantai Dingin"})})
    moves = [m.model_copy(update={"trainings_required": [*m.trainings_required, second]}) if m.trainings_required
             else m for m in example_result.moves]
    plan = training_plan(example_result.model_copy(update={"moves": moves}))
    assert len(plan.trainings) == 2
    overlaps = [w for w in plan.warnings if "overlap" in w]
    assert sorted(w.split(":")[0] for w in overlaps) == sorted(m.nip for m in conditional)
