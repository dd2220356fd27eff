"""The service layer: the one entry point every front end calls.

The command line, the HTTP API, the web application and batch runs do not assemble the
pipeline themselves: they call a :class:`Service`, which

* reads and checks datasets (files through :mod:`mutasi_rules.data.loading`, models built in
  memory through :mod:`mutasi_rules.data.integrity`: the same problems with the same codes);
* prepares runs (plugins, rule sets, labelled workload) and keeps prepared contexts, keyed by
  what decides them (dataset hash, options, rule-set hashes, plugin versions), so repeated
  why-not queries on one dataset do not prepare again;
* runs the pipeline, records the decision in the hash-chained decision log and then hands
  the record to the plugins' audit sinks (``mutasi_rules_decision_made``), in that order,
  so a decision that is shown has been recorded and a sink never sees an unrecorded one;
* reads recorded runs back for explanations, replays and verification.

A host application embedding the library in Python uses it the same way::

    from mutasi_rules.service import Service
    service = Service(audit_db="/var/lib/simpeg/mutasi-audit.sqlite")
    outcome = service.recommend(dataset, RecommendOptions(max_moves=20))
    print(outcome.record.run_id, len(outcome.result.moves))

The lower-level :func:`mutasi_rules.recommend` stays for callers that want a result without a
record. A ``Service`` is safe to share between threads: the context cache is locked, and each
prepared why-not engine answers one query at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mutasi_rules.core.canonical import canonical_json, sha256_of
from mutasi_rules.data.integrity import dataset_problems
from mutasi_rules.data.models import Dataset
from mutasi_rules.problems import InputError, Problem, Problems

if TYPE_CHECKING:  # the pipeline's modules are imported when a method needs them: start-up stays cheap
    from mutasi_rules.analysis.trend import WorkloadTrend
    from mutasi_rules.analysis.workload import WorkloadReport
    from mutasi_rules.audit.log import (
        AuditLog,
        DecisionRecord,
        RecordSummary,
        ReplayReport,
        ReviewRecord,
        VerifyReport,
    )
    from mutasi_rules.data.decisions import AppliedDecision, ReviewDecision
    from mutasi_rules.data.facts import ExtensionAttribute
    from mutasi_rules.data.scenario import LoadedScenario
    from mutasi_rules.planning.comparison import ScenarioReport
    from mutasi_rules.planning.diff import RunDiff
    from mutasi_rules.planning.recommendation import RecommendationResult, RecommendOptions, RunContext
    from mutasi_rules.planning.training_plan import TrainingPlan
    from mutasi_rules.planning.whynot import WhyNot, WhyNotReport
    from mutasi_rules.plugins.manager import PluginManager
    from mutasi_rules.rules.rulesets import LoadedRuleSet
    from mutasi_rules.rules.ruletests import RuleTestReport

Progress = Callable[[str, int, int], None]

#: The library's messages (never printed: the host application or the CLI decides where they go).
logger = logging.getLogger(__name__)


@dataclass
class RunOutcome:
    """A finished run: its result, its decision-log record (None when not recorded) and what it ran with.

    ``reused``: the run was already recorded for these inputs (``recommend(once=True)``); ``record``
    is that earlier record and ``result`` its stored result.
    """

    result: RecommendationResult
    record: DecisionRecord | None
    rulesets: list[LoadedRuleSet]
    plugins: PluginManager | None
    dataset: Dataset
    reused: bool = False

    @property
    def run_id(self) -> str | None:
        return self.record.run_id if self.record is not None else None


@dataclass
class _Prepared:
    """A cached run context and its why-not service, used one query at a time."""

    ctx: RunContext
    lock: threading.Lock = field(default_factory=threading.Lock)
    whynot: WhyNot | None = None

    def close(self) -> None:
        if self.whynot is not None:
            self.whynot.close()
            self.whynot = None


_INPUTS_KEPT = 8


@dataclass(frozen=True)
class _KnownDataset:
    """What is remembered of a dataset object while it lives: its id and its keys."""

    ref: weakref.ref[Dataset]
    sha256: str
    nips: frozenset[str]
    position_ids: frozenset[str]


def _inputs_key(options: RecommendOptions) -> str:
    """What decides a run's plugins and rule sets: the options that name them and the files' stamps."""
    from mutasi_rules.plugins.manager import ENV_DISABLE
    from mutasi_rules.rules.rulesets import default_rules_dir

    stamps: list[tuple[str, int, int]] = []

    def stamp(path: str) -> None:
        try:
            info = os.stat(path)
        except OSError:
            stamps.append((path, -1, -1))
            return
        stamps.append((path, info.st_mtime_ns, info.st_size))
        if stat.S_ISDIR(info.st_mode):
            with os.scandir(path) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    stamp(entry.path)

    for root in [*(options.rules or [str(default_rules_dir())]),
                 *(p for p in options.plugins.explicit if p.endswith(".py"))]:
        stamp(os.fspath(root))
    return repr((options.rules, options.plugins.model_dump_json(), options.use_plugins,
                 os.environ.get(ENV_DISABLE, ""), stamps))


def _is_test_name(name: str) -> bool:
    from mutasi_rules.rules.rulesets import is_test_file

    return is_test_file(Path(name))


def dataset_sha256(dataset: Dataset) -> str:
    """The dataset's id: SHA-256 of its canonical JSON (as the run record and the HTTP API name it)."""
    return sha256_of(dataset)  # canonical_json dumps a model in JSON mode: the one recipe for its identity


class Service:
    """Prepare, run, record and explain decisions; the layer under every front end.

    ``audit_db``: the decision log (default: :func:`mutasi_rules.audit.log.default_audit_path`).
    ``cache_size``: how many prepared run contexts are kept (least recently used go first).
    ``clock``: the wall clock used only for a record's ``recorded_at`` (tests pass a fixed one);
    decisions never read it.
    """

    def __init__(self, audit_db: str | os.PathLike[str] | None = None, *, cache_size: int = 4,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self._audit_db = Path(audit_db) if audit_db is not None else None
        self._clock = clock
        self._cache_size = max(cache_size, 0)
        self._cache: OrderedDict[str, _Prepared] = OrderedDict()
        self._inputs: OrderedDict[str, tuple[PluginManager | None, list[LoadedRuleSet]]] = OrderedDict()
        self._datasets: dict[int, _KnownDataset] = {}
        self._lock = threading.Lock()
        #: Recorded run id -> its prepared-context key (a re-plan of it reuses the context).
        self._run_keys: dict[str, str] = {}
        #: Recorded run id -> (parent run id, the decisions it honoured): its place in a lineage.
        self._lineage: dict[str, tuple[str | None, tuple[AppliedDecision, ...]]] = {}

    # ------------------------------------------------------------------ datasets

    @staticmethod
    def read_dataset(path: str | os.PathLike[str]) -> tuple[Dataset | None, Problems]:
        """Read a dataset file or folder: the dataset (None when it has errors) and every problem found."""
        from mutasi_rules.data.loading import validate_dataset

        return validate_dataset(path)

    @staticmethod
    def load_dataset(path: str | os.PathLike[str]) -> Dataset:
        """Read a dataset; raise :class:`InputError` with every problem if it has errors."""
        dataset, problems = Service.read_dataset(path)
        if dataset is None:
            raise InputError(f"dataset {os.fspath(path)}", list(problems))
        return dataset

    @staticmethod
    def check_dataset(dataset: Dataset) -> Problems:
        """The cross-record problems of a dataset built in memory (the loader reports these for files)."""
        return dataset_problems(dataset)

    def dataset_id(self, dataset: Dataset) -> str:
        """:func:`dataset_sha256`, remembered while the dataset object lives (hashing 7,000 employees takes ~1 s).

        Datasets are immutable models, so an object's hash cannot change while it lives.
        """
        return self._known(dataset).sha256

    def _known(self, dataset: Dataset) -> _KnownDataset:
        key = id(dataset)
        with self._lock:
            known = self._datasets.get(key)
            if known is not None and known.ref() is dataset:
                return known

        def forget(_: object, key: int = key) -> None:
            # Runs inside garbage collection, perhaps while this thread holds self._lock: it must not take
            # it (a deadlock). Dict operations are atomic; at worst a live entry is dropped and recomputed.
            entry = self._datasets.get(key)
            if entry is not None and entry.ref() is None:
                self._datasets.pop(key, None)

        known = _KnownDataset(weakref.ref(dataset, forget), dataset_sha256(dataset),
                              frozenset(e.nip for e in dataset.employees), frozenset(p.id for p in dataset.positions))
        with self._lock:
            self._datasets[key] = known
        return known

    # ------------------------------------------------------------------ rule files

    def _extensions(self, options: RecommendOptions | None) -> list[ExtensionAttribute]:
        from mutasi_rules.planning.recommendation import RecommendOptions

        plugins, _ = self.load_inputs(options or RecommendOptions())
        return plugins.fact_attributes() if plugins is not None else []

    def check_rules(self, files: Sequence[tuple[str, str]],
                    options: RecommendOptions | None = None) -> tuple[list[LoadedRuleSet], Problems]:
        """Check rule files given as (name, text) together, against the fact schema with the plugins' attributes.

        Test files (``*.tests.yaml``) among them are skipped, as ``rules check`` skips them.
        """
        from mutasi_rules.rules.rulesets import collect_ruleset_texts

        rules = [(name, text) for name, text in files if not _is_test_name(name)]
        return collect_ruleset_texts(rules, extensions=self._extensions(options))

    def test_rules(self, files: Sequence[tuple[str, str]],
                   options: RecommendOptions | None = None) -> tuple[RuleTestReport | None, Problems]:
        """Run the test files (``*.tests.yaml``) among ``files`` against the rule files among them.

        The report is None when the files have errors (then every problem is returned).
        """
        from mutasi_rules.rules.rulesets import collect_ruleset_texts
        from mutasi_rules.rules.ruletests import load_rule_test_texts, run_loaded_rule_tests

        extensions = self._extensions(options)
        tests = [(name, text) for name, text in files if _is_test_name(name)]
        rules = [(name, text) for name, text in files if not _is_test_name(name)]
        loaded, problems = collect_ruleset_texts(rules, extensions=extensions)
        if not tests:
            problems.error("ruletest.none", "no test files (*.tests.yaml) among the files given")
        if problems.errors:
            return None, problems
        try:
            cases = load_rule_test_texts(tests, loaded, extensions=extensions)
        except InputError as error:
            return None, Problems([*problems, *error.problems])
        return run_loaded_rule_tests(cases, loaded, extensions=extensions), problems

    # ------------------------------------------------------------------ runs

    def load_inputs(self, options: RecommendOptions) -> tuple[PluginManager | None, list[LoadedRuleSet]]:
        """The plugins and rule sets a run with ``options`` uses (what the decision log stores).

        Kept while the rule files (and explicit plugin files) are unchanged on disk: loading
        and checking them takes ~50 ms, more than a why-not query.
        """
        from mutasi_rules.planning.recommendation import load_run_rulesets
        from mutasi_rules.plugins.manager import load_plugins

        key = _inputs_key(options)
        with self._lock:
            cached = self._inputs.get(key)
            if cached is not None:
                self._inputs.move_to_end(key)
                return cached
        plugins = load_plugins(options.plugins) if options.use_plugins else None
        loaded = plugins, load_run_rulesets(options, plugins)
        with self._lock:
            self._inputs[key] = loaded
            while len(self._inputs) > _INPUTS_KEPT:
                self._inputs.popitem(last=False)
        return loaded

    def recommend(self, dataset: Dataset, options: RecommendOptions | None = None, *, record: bool = True,
                  progress: Progress | None = None, once: bool = False) -> RunOutcome:
        """Run the pipeline on ``dataset`` and (by default) record the decision.

        ``once``: idempotent recording, for batches and retried tasks. If the decision log
        already holds a run of the same inputs (dataset hash, rule sets, options, plugins,
        library version: :meth:`AuditLog.find_run`), nothing runs and that record is returned
        (``reused``); if an identical run is recorded by someone else while this one runs, this
        one is not recorded again. A reused record is not handed to the audit sinks again.

        Raises :class:`InputError` (bad data or rules), :class:`~mutasi_rules.plugins.manager.PluginError`,
        :class:`~mutasi_rules.rules.engine.EngineError` and :class:`~mutasi_rules.audit.log.AuditError`
        (the run could not be recorded; nothing was recorded then). A failing audit sink is a
        :class:`PluginError` raised after the record is in the log.
        """
        from mutasi_rules.planning.recommendation import plugin_refs, run_prepared

        if progress:
            progress("workload", 0, 1)
        key, prepared = self._prepared_entry(dataset, options)
        if progress:
            progress("workload", 1, 1)
        ctx = prepared.ctx
        if record and once:
            with self.open_log(create=True) as log:
                found = log.find_run(ctx.dataset_sha256, ctx.rulesets, ctx.options, plugin_refs(ctx.plugins))
            if found is not None:
                return RunOutcome(result=found.result(), record=found, rulesets=ctx.rulesets, plugins=ctx.plugins,
                                  dataset=dataset, reused=True)
        with prepared.lock:
            result = run_prepared(ctx, progress=progress)
        for skipped in result.run.skipped_plugins:  # also in the result; the CLI says it in the user's language
            logger.info("plugin skipped: %s", skipped)
        logger.info("recommended %d move(s) for %s, as of %s", len(result.moves), result.run.dataset,
                    result.run.as_of.isoformat())
        if not record:
            return RunOutcome(result=result, record=None, rulesets=ctx.rulesets, plugins=ctx.plugins, dataset=dataset)
        recorded, created = self._record(result, dataset, ctx.rulesets, ctx.plugins, dataset_blob=ctx.dataset_blob,
                                         once=once)
        if not created:  # recorded meanwhile by another attempt: its result is the one of record
            result = recorded.result()
        self._remember(recorded.run_id, key, None, ())
        return RunOutcome(result=result, record=recorded, rulesets=ctx.rulesets, plugins=ctx.plugins, dataset=dataset,
                          reused=not created)

    def record(self, result: RecommendationResult, dataset: Dataset, rulesets: list[LoadedRuleSet],
               plugins: PluginManager | None, *, dataset_blob: bytes | None = None) -> DecisionRecord:
        """Append a run to the decision log, then hand the record to the plugins' audit sinks.

        ``dataset_blob``: the dataset as the log stores it, when a prepared context has it.
        """
        return self._record(result, dataset, rulesets, plugins, dataset_blob=dataset_blob, once=False)[0]

    def _record(self, result: RecommendationResult, dataset: Dataset, rulesets: list[LoadedRuleSet],
                plugins: PluginManager | None, *, dataset_blob: bytes | None,
                once: bool) -> tuple[DecisionRecord, bool]:
        with self.open_log(create=True) as log:
            if once:
                recorded, created = log.append_once(result, dataset, rulesets, dataset_blob=dataset_blob)
            else:
                recorded, created = log.append(result, dataset, rulesets, dataset_blob=dataset_blob), True
        if plugins is not None and created:
            plugins.decision_made(recorded)
        return recorded, created

    def prepare(self, dataset: Dataset, options: RecommendOptions | None = None) -> RunContext:
        """A prepared run context (cached): what why-not queries and re-plans start from."""
        return self._prepared(dataset, options).ctx

    def why_not(self, dataset: Dataset, nip: str, position_id: str,
                options: RecommendOptions | None = None) -> WhyNotReport:
        """Every reason ``nip`` is not moved to ``position_id``, with verified counterfactuals.

        Raises :class:`~mutasi_rules.planning.whynot.UnknownSubject` for an unknown NIP or position
        before anything is prepared.
        """
        from mutasi_rules.planning.whynot import WhyNot, check_subject

        known = self._known(dataset)
        check_subject(known.nips, known.position_ids, nip, position_id)
        prepared = self._prepared(dataset, options)
        with prepared.lock:
            if prepared.whynot is None:
                prepared.whynot = WhyNot(prepared.ctx)
            return prepared.whynot.query(nip, position_id)

    def workload(self, dataset: Dataset, options: RecommendOptions | None = None) -> WorkloadReport:
        """The labelled workload analysis the run with ``options`` starts from."""
        return self._prepared(dataset, options).ctx.report

    # ------------------------------------------------------------------ scenarios, training, trends

    def scenarios(self, dataset: Dataset, scenarios: Sequence[LoadedScenario],
                  options: RecommendOptions | None = None, *, progress: Progress | None = None) -> ScenarioReport:
        """Plan the baseline and each scenario with the same rules and options, and compare them.

        Every scenario is applied to ``dataset`` first (all problems of all scenarios are
        raised together as one :class:`InputError`, before anything is planned). The runs
        are what-if analyses and are not recorded in the decision log.
        """
        from mutasi_rules.data.scenario import apply_scenario
        from mutasi_rules.planning.comparison import ScenarioReport, outcome
        from mutasi_rules.planning.recommendation import RecommendOptions, recommend
        from mutasi_rules.planning.training_plan import training_plan

        options = options or RecommendOptions()
        problems: list[Problem] = []
        applied = []
        names: dict[str, str] = {}
        for loaded in scenarios:
            name = loaded.scenario.name
            if name in names:
                problems.append(Problem(code="scenario.duplicate_name", file=loaded.origin, field="name", value=name,
                                        message=f"scenario name {name!r} is also used by {names[name]}"))
            names.setdefault(name, loaded.origin)
            try:
                applied.append((loaded, *apply_scenario(dataset, loaded)))
            except InputError as error:
                problems.extend(error.problems)
        if any(p.severity == "error" for p in problems):
            raise InputError("scenarios", problems)
        plugins, rulesets = self.load_inputs(options)
        baseline = recommend(dataset, options, plugins=plugins, rulesets=rulesets, progress=progress)
        baseline_plan = training_plan(baseline)
        outcomes = []
        for loaded, changed, changes, warnings in applied:
            result = recommend(changed, options, plugins=plugins, rulesets=rulesets, progress=progress)
            scenario = loaded.scenario
            outcomes.append(outcome(scenario.name, scenario.title, scenario.description, loaded.origin, changes,
                                    [str(w) for w in warnings], dataset, baseline, baseline_plan, changed, result))
        return ScenarioReport(baseline=baseline, baseline_training_plan=baseline_plan, scenarios=outcomes)

    @staticmethod
    def training_plan(result: RecommendationResult) -> TrainingPlan:
        """The training plan ``result`` implies: participants, JP, provider, batches, latest start, effective dates."""
        from mutasi_rules.planning.training_plan import training_plan

        return training_plan(result)

    def recorded_training_plan(self, run_id: str) -> TrainingPlan:
        """The training plan of a recorded run."""
        return self.training_plan(self.recorded_run(run_id).result())

    def trend(self, datasets: Sequence[Dataset], options: RecommendOptions | None = None,
              sources: Sequence[str] | None = None) -> WorkloadTrend:
        """EJ per agency across dataset snapshots, ordered by their ``as_of``
        (see :mod:`mutasi_rules.analysis.trend`)."""
        from mutasi_rules.analysis.trend import workload_trend
        from mutasi_rules.planning.recommendation import RecommendOptions

        options = options or RecommendOptions()
        return workload_trend(datasets, options.workload, sources=sources)

    def _prepared(self, dataset: Dataset, options: RecommendOptions | None) -> _Prepared:
        return self._prepared_entry(dataset, options)[1]

    def _prepared_entry(self, dataset: Dataset, options: RecommendOptions | None) -> tuple[str, _Prepared]:
        from mutasi_rules.planning.recommendation import RecommendOptions, prepare

        options = options or RecommendOptions()
        plugins, rulesets = self.load_inputs(options)
        key = sha256_of(canonical_json({
            "dataset": self.dataset_id(dataset),
            "options": options.model_dump(mode="json"),
            "rulesets": sorted([r.id, r.version, r.origin, r.sha256] for r in rulesets),
            "plugins": sorted([i.name, i.version, i.status] for i in plugins.infos.values()) if plugins else [],
        }))
        return key, self._cached(key, lambda: prepare(dataset, options, plugins=plugins, rulesets=rulesets))

    def _cached(self, key: str, make: Callable[[], RunContext]) -> _Prepared:
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        from mutasi_rules.core.runtime import fewer_collections

        with fewer_collections():
            prepared = _Prepared(make())
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:  # another thread prepared it meanwhile
                return cached
            if self._cache_size:
                self._cache[key] = prepared
                while len(self._cache) > self._cache_size:
                    _, old = self._cache.popitem(last=False)
                    with old.lock:
                        old.close()
        return prepared

    def _prepared_for_run(self, record: DecisionRecord) -> tuple[str, _Prepared]:
        """The prepared context of a recorded run: the cached one it ran on, or one prepared from its stored inputs."""
        from mutasi_rules.audit.log import replay_inputs
        from mutasi_rules.planning.recommendation import prepare

        key = self._run_keys.get(record.run_id) or sha256_of(canonical_json({
            "recorded": [record.dataset_sha256, record.options.model_dump(mode="json"),
                         sorted([r.id, r.version, r.origin, r.sha256] for r in record.rulesets),
                         sorted([p.name, p.version, p.source] for p in record.plugins)],
        }))

        def make() -> RunContext:
            inputs = replay_inputs(record)
            return prepare(inputs.dataset, inputs.options, plugins=inputs.plugins, rulesets=inputs.rulesets)

        return key, self._cached(key, make)

    def _remember(self, run_id: str, key: str, parent: str | None, decisions: Sequence[AppliedDecision]) -> None:
        with self._lock:
            self._run_keys[run_id] = key
            self._lineage[run_id] = (parent, tuple(decisions))

    def close(self) -> None:
        """Free the prepared engines."""
        with self._lock:
            for prepared in self._cache.values():
                with prepared.lock:
                    prepared.close()
            self._cache.clear()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the decision log

    @property
    def audit_path(self) -> Path:
        from mutasi_rules.audit.log import default_audit_path

        return self._audit_db if self._audit_db is not None else Path(default_audit_path())

    def open_log(self, *, create: bool = False) -> AuditLog:
        """The decision log; ``create=False`` (readers): a missing log is an error, never a new empty one."""
        from mutasi_rules.audit.log import AuditLog

        return AuditLog(self.audit_path, create=create, clock=self._clock)

    @contextmanager
    def _log(self) -> Iterator[AuditLog]:
        with self.open_log() as log:
            yield log

    def recorded_run(self, run_id: str, *, expect_head: str | None = None) -> DecisionRecord:
        """A recorded run (a unique prefix of its id will do), read only from a log that verifies.

        Raises :class:`~mutasi_rules.audit.log.TamperedLogError` when the log fails verification
        (hashes, chain, head, or the ``expect_head`` anchor) and AuditError for an unknown run id:
        explanations, letters, reports, reviews and re-plans are never built from an edited record.
        """
        from mutasi_rules.audit.log import verified_record

        with self._log() as log:
            return verified_record(log, run_id, expect_head=expect_head)

    def runs(self) -> list[RecordSummary]:
        """Every recorded run, in sequence order."""
        with self._log() as log:
            return list(log.summaries())

    def verify(self, expect_head: str | None = None) -> VerifyReport:
        """Check every record's hashes and the chain, the runs' and the reviews' (and that the log still holds
        ``expect_head``, an anchor printed on a letter or report)."""
        from mutasi_rules.audit.log import verify_with_reviews

        with self._log() as log:
            return verify_with_reviews(log, expect_head=expect_head)

    def replay(self, run_id: str) -> ReplayReport:
        """Re-run a recorded decision from its stored inputs and compare byte for byte."""
        from mutasi_rules.audit.log import replay

        with self._log() as log:
            return replay(log, run_id)

    # ------------------------------------------------------------------ review and re-plan

    def _place(self, log: AuditLog, run_id: str) -> tuple[str | None, tuple[AppliedDecision, ...]]:
        """(parent run id, decisions honoured) of a recorded run, read from its result once."""
        import json

        from mutasi_rules.data.decisions import AppliedDecision

        with self._lock:
            known = self._lineage.get(run_id)
        if known is not None:
            return known
        run = json.loads(log.get(run_id).result_json).get("run", {})
        place = (run.get("parent_run_id"), tuple(AppliedDecision.model_validate(d)
                                                 for d in run.get("review_decisions", [])))
        with self._lock:
            self._lineage[run_id] = place
        return place

    def lineage(self, run_id: str) -> tuple[list[str], list[AppliedDecision]]:
        """The run and its ancestors (oldest first), and every decision recorded in that lineage.

        The decisions: those the runs honoured and those recorded on any of them since, each
        once, by id.
        """
        from mutasi_rules.audit.log import AuditError, reviews_of

        with self._log() as log:
            runs = [log.get(run_id).run_id]
            decisions: dict[str, AppliedDecision] = {}
            while True:
                parent, honoured = self._place(log, runs[0])
                decisions.update((d.id, d) for d in honoured)
                if parent is None:
                    break
                if parent in runs:
                    raise AuditError(f"run {run_id}: its lineage loops at {parent}")
                runs.insert(0, parent)
            for review in reviews_of(log, runs):
                decisions.update((d.id, d) for d in review.decisions)
        return runs, [decisions[k] for k in sorted(decisions)]

    def review(self, run_id: str, decisions: Sequence[ReviewDecision], *, origin: str | None = None) -> ReviewRecord:
        """Check ``decisions`` against the run and its lineage and record them, linked to the run.

        Raises :class:`InputError` with every refused decision (nothing is recorded then) and
        :class:`~mutasi_rules.audit.log.AuditError` for an unknown run or an unwritable log.
        """
        from mutasi_rules.audit.log import append_review
        from mutasi_rules.planning.review import check_decisions

        if not decisions:
            raise InputError(f"review of run {run_id}", [Problem(code="decisions.empty", message="no decisions given",
                                                                 file=origin)])
        record = self.recorded_run(run_id)
        _, lineage = self.lineage(record.run_id)
        _, prepared = self._prepared_for_run(record)
        with prepared.lock:
            problems = check_decisions(prepared.ctx, decisions, lineage, origin=origin)
        problems.raise_if_errors(f"review of run {record.run_id}: decisions refused")
        with self.open_log() as log:
            return append_review(log, record.run_id, decisions)

    def replan(self, run_id: str, *, record: bool = True, progress: Progress | None = None) -> RunOutcome:
        """Make (and record) a new run that honours every decision in ``run_id``'s lineage.

        It runs on the recorded run's inputs (stored dataset, rule-set texts, recorded plugins,
        options), on the prepared context when the service has it (a warm start from the last
        plan). Its result names the parent run and the decisions applied; ``audit replay``
        reproduces it. Raises :class:`~mutasi_rules.planning.plan.PlanError` when the pins cannot all be made.
        """
        from mutasi_rules.planning.recommendation import run_prepared

        parent = self.recorded_run(run_id)
        _, decisions = self.lineage(parent.run_id)
        key, prepared = self._prepared_for_run(parent)
        ctx = prepared.ctx
        with prepared.lock:
            result = run_prepared(ctx, decisions=decisions, parent_run_id=parent.run_id, progress=progress)
        recorded = (self.record(result, ctx.dataset, ctx.rulesets, ctx.plugins, dataset_blob=ctx.dataset_blob)
                    if record else None)
        if recorded is not None:
            self._remember(recorded.run_id, key, parent.run_id, decisions)
        return RunOutcome(result=result, record=recorded, rulesets=ctx.rulesets, plugins=ctx.plugins,
                          dataset=ctx.dataset)

    def reviews(self, run_id: str | None = None) -> list[ReviewRecord]:
        """The recorded reviews (of one run, or all), in the order recorded."""
        from mutasi_rules.audit.log import reviews_of

        with self._log() as log:
            return reviews_of(log, [log.get(run_id).run_id] if run_id else None)

    def diff(self, run_a: str, run_b: str) -> RunDiff:
        """Moves added, removed and changed from run A to run B, each with its reason, and both balances."""
        from mutasi_rules.planning.diff import diff_results

        a, b = self.recorded_run(run_a), self.recorded_run(run_b)
        return diff_results(a.run_id, a.result(), b.run_id, b.result())


__all__ = ["RunOutcome", "Service", "dataset_sha256"]
