"""The service layer: one place that checks, prepares, runs, records and notifies."""

from __future__ import annotations

import datetime as dt
import textwrap
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutasi_rules.audit.log import AuditError
from mutasi_rules.data.integrity import dataset_problems
from mutasi_rules.data.loading import load_dataset, save_dataset, validate_dataset
from mutasi_rules.data.models import Dataset
from mutasi_rules.planning import recommendation
from mutasi_rules.planning.recommendation import RecommendOptions, recommend
from mutasi_rules.planning.whynot import UnknownSubject
from mutasi_rules.plugins.manager import PluginSettings
from mutasi_rules.problems import InputError
from mutasi_rules.service import Service, dataset_sha256

SMALL = Path(__file__).resolve().parent / "data" / "good" / "small.yaml"
NO_PLUGINS = RecommendOptions(use_plugins=False)


def fixed_clock() -> dt.datetime:
    return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def small() -> Dataset:
    return load_dataset(SMALL)


def _with(dataset: Dataset, table: str, index: int, **changes: object) -> Dataset:
    data = dataset.model_dump(mode="json")
    data[table][index].update(changes)
    return Dataset.model_validate(data)


# ------------------------------------------------------------------ integrity of in-memory datasets

# Each corruption of the small dataset, as a host application might build it in memory.
CORRUPTIONS = {
    "unknown position": ("employees", 0, {"position_id": "NO.SUCH.POST"}, "ref.unknown_position"),
    "unknown unit": ("employees", 1, {"unit_id": "NOWHERE"}, "ref.unknown_unit"),
    "position in unknown unit": ("positions", 2, {"unit_id": "NOWHERE"}, "ref.unknown_unit"),
    "unknown parent": ("units", 1, {"parent_id": "NOWHERE"}, "ref.unknown_unit"),
    "parent cycle": ("units", 0, {"parent_id": "DINKES.P2P"}, "unit.parent_cycle"),
    "duplicate position id": ("positions", 1, {"id": "DINKES.P2P.VAKS"}, "id.duplicate"),
    "start after as_of": ("employees", 0, {"position_start": "2030-01-01"}, "date.after_as_of"),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_a_dataset_built_in_memory_gets_the_problems_a_file_gets(name, small, tmp_path):
    table, index, changes, code = CORRUPTIONS[name]
    broken = _with(small, table, index, **changes)
    in_memory = {p.code for p in dataset_problems(broken).errors}
    assert code in in_memory
    save_dataset(broken, tmp_path / "broken.json", "json")
    _, from_file = validate_dataset(tmp_path / "broken.json")
    assert in_memory == {p.code for p in from_file.errors}


def test_recommend_refuses_a_dataset_that_would_lose_an_employee(small):
    """The README promises nothing is dropped silently: an unplaced employee is an error, not a skip."""
    broken = _with(small, "employees", 0, position_id="NO.SUCH.POST")
    with pytest.raises(InputError) as caught:
        recommend(broken, NO_PLUGINS)
    (problem,) = caught.value.problems
    assert problem.code == "ref.unknown_position" and problem.field == "position_id"
    assert problem.value == "NO.SUCH.POST" and problem.record.startswith("employees[0] (NIP ")


def test_two_positions_for_one_nip_is_named_as_such(small):
    data = small.model_dump(mode="json")
    twin = dict(data["employees"][0], position_id=data["positions"][3]["id"], unit_id=data["positions"][3]["unit_id"])
    data["employees"].append(twin)
    problems = dataset_problems(Dataset.model_validate(data)).errors
    assert [p.code for p in problems] == ["employee.two_positions"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations(range(4)))
def test_a_valid_dataset_has_no_integrity_problems_in_any_order(small, order):
    data = small.model_dump(mode="json")
    data["employees"] = [data["employees"][i] for i in order]
    assert not dataset_problems(Dataset.model_validate(data))


# ------------------------------------------------------------------ runs, records, audit sinks


def test_recommend_records_the_decision_and_notifies_the_sinks_after(tmp_path, small):
    sink = tmp_path / "sink.txt"
    plugin = tmp_path / "sink_plugin.py"
    db = tmp_path / "audit.sqlite"
    plugin.write_text(textwrap.dedent(f"""
        from mutasi_rules.audit.log import AuditLog

        def mutasi_rules_decision_made(decision):
            with AuditLog({str(db)!r}, create=False) as log:  # already committed when the sink hears of it
                assert log.get(decision.run_id).result_sha256 == decision.result_sha256
            with open({str(sink)!r}, "a", encoding="utf-8") as handle:
                handle.write(decision.run_id + "\\n")
    """), encoding="utf-8")
    options = RecommendOptions(plugins=PluginSettings(explicit=[str(plugin)], entry_points=False))
    service = Service(db, clock=fixed_clock)
    outcome = service.recommend(small, options)
    assert outcome.record is not None and outcome.run_id == outcome.record.run_id
    assert sink.read_text(encoding="utf-8").splitlines() == [outcome.run_id]
    assert service.recorded_run(outcome.run_id).result_sha256 == outcome.record.result_sha256
    assert [r.run_id for r in service.runs()] == [outcome.run_id]
    assert service.verify().ok
    assert service.replay(outcome.run_id).identical
    # The service's result is the library's result: the layer adds a record, not a different decision.
    assert outcome.result.to_json() == recommend(small, options).to_json()


def test_a_run_not_recorded_leaves_no_log(tmp_path, small):
    service = Service(tmp_path / "audit.sqlite")
    outcome = service.recommend(small, NO_PLUGINS, record=False)
    assert outcome.record is None and not (tmp_path / "audit.sqlite").exists()
    with pytest.raises(AuditError):
        service.runs()  # a reader never creates an empty log


def test_a_failed_run_records_nothing(tmp_path, small, monkeypatch):
    from mutasi_rules.rules.engine import EngineError

    def failing(*args, **kwargs):
        raise EngineError("boom")

    monkeypatch.setattr(recommendation, "run_prepared", failing)
    with pytest.raises(EngineError):
        Service(tmp_path / "audit.sqlite").recommend(small, NO_PLUGINS)
    assert not (tmp_path / "audit.sqlite").exists()


# ------------------------------------------------------------------ prepared contexts


def test_why_not_prepares_once_per_dataset_and_options(small, monkeypatch):
    calls: list[int] = []
    real = recommendation.prepare

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(recommendation, "prepare", counting)
    nip = small.employees[0].nip
    with Service() as service:
        first = service.why_not(small, nip, "DINKES.P2P.VAKS", NO_PLUGINS)
        again = service.why_not(small, nip, "DINKES.P2P.VAKS", NO_PLUGINS)
        other = service.why_not(small, nip, "BKPSDM.ANALIS", NO_PLUGINS)
        assert len(calls) == 1
        service.why_not(small, nip, "DINKES.P2P.VAKS", RecommendOptions(use_plugins=False, max_moves=1))
        assert len(calls) == 2  # other options, another context
    assert first.to_json() == again.to_json() and other.position.position_id == "BKPSDM.ANALIS"


def test_why_not_answers_concurrent_queries_as_it_answers_one(small):
    nips = [e.nip for e in small.employees]
    targets = [p.id for p in small.positions]
    with Service() as service:
        expected = {(n, t): service.why_not(small, n, t, NO_PLUGINS).to_json() for n in nips for t in targets}
        got: dict[tuple[str, str], str] = {}
        errors: list[BaseException] = []

        def ask(n: str) -> None:
            try:
                for t in targets:
                    got[(n, t)] = service.why_not(small, n, t, NO_PLUGINS).to_json()
            except BaseException as error:  # noqa: BLE001  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=ask, args=(n,)) for n in nips]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not errors and got == expected


def test_why_not_rejects_unknown_subjects_before_preparing(small, monkeypatch):
    monkeypatch.setattr(recommendation, "prepare", lambda *a, **k: pytest.fail("prepared for a typo"))
    with pytest.raises(UnknownSubject):
        Service().why_not(small, "199901012020011001", "DINKES.P2P.VAKS", NO_PLUGINS)


def test_dataset_id_is_the_canonical_hash_the_record_carries(small):
    result = recommend(small, NO_PLUGINS)
    assert dataset_sha256(small) == result.run.dataset_sha256
