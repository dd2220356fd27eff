"""Idempotent recording: a run of the same inputs is in the decision log once (batches, retried tasks)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mutasi_rules.audit.log import AuditLog
from mutasi_rules.data.loading import load_dataset
from mutasi_rules.data.models import Dataset
from mutasi_rules.planning.recommendation import RecommendOptions, plugin_refs, recommend
from mutasi_rules.service import Service, dataset_sha256

SMALL = Path(__file__).resolve().parent / "data" / "good" / "small.yaml"
NO_PLUGINS = RecommendOptions(use_plugins=False)


@pytest.fixture(scope="module")
def small() -> Dataset:
    return load_dataset(SMALL)


def test_recommend_once_runs_and_records_a_run_once_and_then_returns_the_record(small, tmp_path):
    service = Service(tmp_path / "log.sqlite")
    first = service.recommend(small, NO_PLUGINS, once=True)
    again = service.recommend(small, NO_PLUGINS, once=True)
    assert not first.reused and again.reused
    assert again.run_id == first.run_id
    assert again.result.to_json() == first.result.to_json()
    other = service.recommend(small, NO_PLUGINS.model_copy(update={"max_moves": 0}), once=True)
    assert not other.reused and other.run_id != first.run_id  # other options: another run
    plain = service.recommend(small, NO_PLUGINS)  # without once, every call is recorded
    assert plain.run_id not in (first.run_id, other.run_id)
    with service.open_log() as log:
        assert len(log) == 3 and log.verify().ok


def test_find_run_matches_dataset_rules_options_and_plugins(small, tmp_path):
    service = Service(tmp_path / "log.sqlite")
    plugins, rulesets = service.load_inputs(NO_PLUGINS)
    recorded = service.recommend(small, NO_PLUGINS).record
    with service.open_log() as log:
        found = log.find_run(dataset_sha256(small), rulesets, NO_PLUGINS, plugin_refs(plugins))
        assert found is not None and found.run_id == recorded.run_id
        assert log.find_run("0" * 64, rulesets, NO_PLUGINS, []) is None
        assert log.find_run(dataset_sha256(small), rulesets[1:], NO_PLUGINS, []) is None
        later = NO_PLUGINS.model_copy(update={"alternatives_per_position": 2})
        assert log.find_run(dataset_sha256(small), rulesets, later, []) is None


def test_concurrent_append_once_of_one_run_records_it_once(small, tmp_path):
    """Two attempts of one task (a retry while the first still runs) race to record: one record."""
    service = Service(tmp_path / "log.sqlite")
    plugins, rulesets = service.load_inputs(NO_PLUGINS)
    result = recommend(small, NO_PLUGINS, plugins=plugins, rulesets=rulesets)
    AuditLog(tmp_path / "log.sqlite").close()  # create the schema first, as a batch does
    outcomes: list[tuple[str, bool]] = []
    start = threading.Barrier(4)

    def attempt() -> None:
        start.wait()
        with AuditLog(tmp_path / "log.sqlite") as log:
            record, created = log.append_once(result, small, rulesets)
        outcomes.append((record.run_id, created))

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created for _, created in outcomes) == [False, False, False, True]
    assert len({run_id for run_id, _ in outcomes}) == 1
    with AuditLog(tmp_path / "log.sqlite", create=False) as log:
        assert len(log) == 1
