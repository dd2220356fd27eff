"""The service as a multi-user host offers it: keys checked, agencies scoped, datasets kept by id.

:class:`HostedService` is what the HTTP API (:mod:`mutasi_rules.http`) and the web
application call; neither checks a role, filters a result or reads a dataset on its own.
Every method takes the caller (:class:`~mutasi_rules.hosting.access.Principal`) first, checks the
caller's role (:class:`~mutasi_rules.hosting.access.AccessDenied`), and for an ``agency`` caller cuts
what it returns to the caller's unit subtree (:mod:`mutasi_rules.hosting.unitscope`); what lies outside
is reported exactly as what does not exist (:class:`NotFound`).

A client chooses only :class:`RunOptions` (dates, limits, scoring and workload settings);
which rule files and plugins a run uses is the host's configuration, never a client's: a
path or a plugin module in a request would let a client read server files or run code.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules import __version__
from mutasi_rules.analysis.workload import WorkloadReport, WorkloadSettings
from mutasi_rules.audit.log import DecisionRecord, RecordSummary, ReviewRecord, UnknownRun, VerifyReport
from mutasi_rules.data.decisions import ReviewDecision
from mutasi_rules.data.models import Dataset
from mutasi_rules.documents import RuleCheckReport, RuleTestSummary
from mutasi_rules.errors import MutasiRulesError
from mutasi_rules.explain.explanations import explain_employee, explain_result, explanation_json, knows_employee
from mutasi_rules.hosting.access import (
    Action,
    KeyStore,
    Principal,
    ServiceConfig,
    authorize,
    default_data_dir,
    private_directory,
)
from mutasi_rules.hosting.datasets_store import (
    DatasetStore,
    DatasetSummary,
    StoredDataset,
    UnknownDataset,
    UploadLimits,
    read_upload,
)
from mutasi_rules.hosting.unitscope import OutOfScope, UnitScope
from mutasi_rules.planning.comparison import ScenarioReport
from mutasi_rules.planning.diff import RunDiff
from mutasi_rules.planning.recommendation import RecommendationResult, RecommendOptions
from mutasi_rules.planning.scoring import ScoringSettings
from mutasi_rules.planning.whynot import UnknownSubject, WhyNotReport
from mutasi_rules.problems import InputError, Problem, Problems
from mutasi_rules.service import Service

Lang = Literal["id", "en"]


class NotFound(MutasiRulesError, LookupError):
    """An unknown dataset, run, person or position -- or one outside the caller's unit subtree.

    ``code`` says what was not found (``dataset.unknown``, ``audit.unknown_run``,
    ``query.unknown_subject``); what lies outside an agency's subtree gets the same code and
    wording as what does not exist.
    """

    kind = "query"
    code = "query.not_found"


class RunOptions(BaseModel):
    """The run options a client may choose (rule files and plugins are the host's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: dt.date | None = Field(default=None, description="Default: the dataset's metadata.as_of")
    plan_date: dt.date | None = Field(default=None, description="Intended transfer date; default: as_of")
    max_moves: int | None = Field(default=None, ge=0)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    workload: WorkloadSettings = Field(default_factory=WorkloadSettings)
    alternatives_per_position: int = Field(default=5, ge=0, le=1000)


class DatasetInfo(BaseModel):
    """A stored dataset: its id and what was found when it was read."""

    id: str = Field(description="SHA-256 of the dataset's canonical JSON")
    name: str
    as_of: dt.date
    units: int
    positions: int
    employees: int
    problems: list[Problem] = Field(description="Warnings (a dataset with errors is not stored)")


class RunView(BaseModel):
    """A recorded run: its place in the decision log and its result."""

    run_id: str
    seq: int
    recorded_at: dt.datetime
    dataset_sha256: str
    dataset_name: str
    as_of: dt.date
    plan_date: dt.date
    moves: int = Field(description="Moves of the whole run (the result shown may be cut to a unit subtree)")
    record_hash: str
    result: RecommendationResult


class ReplayView(BaseModel):
    """A replay's outcome (the command line's ``AuditReplayReport`` names the log's path: a server's is not shown)."""

    run_id: str
    identical: bool
    verifiable: bool
    recorded_sha256: str
    replayed_sha256: str | None
    differences: list[str]


class HostedService:
    """A :class:`~mutasi_rules.service.Service` behind keys and roles, with a dataset store.

    ``config_path``: the configuration file (keys are re-read from it when it changes; the
    default data folder lies beside it). ``clock``: for the decision log's ``recorded_at`` only.
    """

    def __init__(self, config: ServiceConfig, *, config_path: str | os.PathLike[str] | None = None,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        if config.data_dir is None and config_path is None:
            raise ValueError("a configuration without data_dir needs its file's path (the data folder lies beside it)")
        self.config = config
        data_dir = Path(config.data_dir) if config.data_dir else default_data_dir(config_path or ".")
        self.data_dir = private_directory(data_dir)
        self.store = DatasetStore(self.data_dir / "datasets", memory=max(config.cache_size, 2))
        audit_db = Path(config.audit_db) if config.audit_db else self.data_dir / "audit.sqlite"
        self.service = Service(audit_db, cache_size=config.cache_size, clock=clock)
        with self.service.open_log(create=True):  # readers find a log, never "no audit log"
            pass
        self.keys = KeyStore(config_path, config)
        self.upload_limits = UploadLimits(config.limits.max_archive_members, config.limits.max_unpacked_bytes)
        self._lock = threading.Lock()
        self._scopes: OrderedDict[tuple[str, str], UnitScope] = OrderedDict()
        # (dataset id, unit) -> the agency's view's summary, None when the unit is not in it. Stored
        # datasets never change (an id is a content hash), so an entry never goes stale.
        self._agency_summaries: dict[tuple[str, str | None], DatasetSummary | None] = {}
        self._results: OrderedDict[str, RecommendationResult] = OrderedDict()
        self._default_options: RecommendOptions | None = None

    def close(self) -> None:
        self.service.close()

    # ------------------------------------------------------------------ callers

    def authenticate(self, key: str | None) -> Principal:
        return self.keys.authenticate(key)

    def options(self, options: RunOptions | None) -> RecommendOptions:
        """The full run options: the client's choices with the host's rule files and plugins."""
        if options is None and self._default_options is not None:
            return self._default_options
        chosen = (options or RunOptions()).model_dump()
        full = RecommendOptions(rules=self.config.rules, plugins=self.config.plugins,
                                use_plugins=self.config.use_plugins, **chosen)
        if options is None:
            self._default_options = full  # immutable; most requests use it
        return full

    def _remember(self, cache: OrderedDict[Any, Any], key: Any, value: Any, keep: int = 16) -> None:
        with self._lock:
            cache[key] = value
            cache.move_to_end(key)
            while len(cache) > keep:
                cache.popitem(last=False)

    def _scope(self, principal: Principal, dataset_sha256: str, dataset: Callable[[], Dataset]) -> UnitScope | None:
        """The agency's view of a dataset (None for other roles); NotFound when its unit is not in it."""
        if principal.unit_id is None:
            return None
        key = (dataset_sha256, principal.unit_id)
        with self._lock:
            scope = self._scopes.get(key)
        if scope is None:
            try:
                scope = UnitScope.of(dataset(), principal.unit_id)
            except OutOfScope as error:
                raise NotFound(f"dataset {dataset_sha256} is not known; upload it first (POST /v1/datasets)",
                               code="dataset.unknown") from error
            self._remember(self._scopes, key, scope, keep=64)
        return scope

    # ------------------------------------------------------------------ datasets

    def _stored(self, dataset_id: str) -> StoredDataset:
        try:
            return self.store.get(dataset_id)
        except UnknownDataset:
            raise NotFound(f"dataset {dataset_id} is not known; upload it first (POST /v1/datasets)",
                           code="dataset.unknown") from None

    def add_dataset(self, principal: Principal, data: bytes, filename: str, *,
                    kind: str | None = None) -> DatasetInfo:
        """Read, check and store an upload (JSON, YAML, xlsx, zip of CSV); InputError with every problem."""
        authorize(principal, Action.DATASET_WRITE)
        dataset, problems = read_upload(data, filename, kind=kind, limits=self.upload_limits,
                                        workspace=self.data_dir / "uploads")
        if dataset is None:
            raise InputError(f"dataset {filename}", list(problems) or [
                Problem(code="dataset.invalid", message="the dataset could not be read", file=filename)])
        stored = self.store.put(dataset)
        return DatasetInfo(id=stored.id, **DatasetSummary.of(dataset).model_dump(), problems=list(problems))

    def datasets(self, principal: Principal) -> list[DatasetInfo]:
        """The stored datasets the caller may open (an agency: those that hold its unit), by name.

        Listing reads each dataset's summary, not the dataset; an agency's view of a dataset is
        worked out once per process and unit (it needs the unit tree) and then remembered.
        """
        authorize(principal, Action.DATASET_READ)
        found = []
        for ident in self.store.ids():
            if principal.unit_id is None:
                summary: DatasetSummary | None = self.store.summary(ident)
            else:
                summary = self._agency_summary(principal, ident)
            if summary is not None:
                found.append(DatasetInfo(id=ident, **summary.model_dump(), problems=[]))
        return sorted(found, key=lambda info: (info.name, info.as_of, info.id))

    def _agency_summary(self, principal: Principal, ident: str) -> DatasetSummary | None:
        key = (ident, principal.unit_id)
        with self._lock:
            if key in self._agency_summaries:
                return self._agency_summaries[key]
        stored = self._stored(ident)
        try:
            scope = self._scope(principal, stored.id, lambda: stored.dataset)
        except NotFound:
            summary = None
        else:
            summary = DatasetSummary.of(scope.dataset(stored.dataset) if scope else stored.dataset)
        with self._lock:
            self._agency_summaries[key] = summary
        return summary

    def dataset(self, principal: Principal, dataset_id: str) -> Dataset:
        """A stored dataset; an agency sees its unit subtree."""
        authorize(principal, Action.DATASET_READ)
        stored = self._stored(dataset_id)
        scope = self._scope(principal, stored.id, lambda: stored.dataset)
        return scope.dataset(stored.dataset) if scope else stored.dataset

    def _inline_or_stored(self, dataset_id: str | None, dataset: dict[str, Any] | None) -> StoredDataset:
        if (dataset_id is None) == (dataset is None):
            raise InputError("request", [Problem(code="request.dataset", field="dataset_id",
                                                 message="give exactly one of dataset_id and dataset")])
        if dataset_id is not None:
            return self._stored(dataset_id)
        from mutasi_rules.core.canonical import canonical_json

        found, problems = read_upload(canonical_json(dataset).encode("utf-8"), "dataset.json", kind="json",
                                      limits=self.upload_limits, workspace=self.data_dir / "uploads")
        if found is None:
            raise InputError("dataset", list(problems))
        return self.store.put(found)

    def workload(self, principal: Principal, *, dataset_id: str | None = None, dataset: dict[str, Any] | None = None,
                 options: RunOptions | None = None) -> WorkloadReport:
        authorize(principal, Action.WORKLOAD)
        if dataset is not None:
            authorize(principal, Action.DATASET_WRITE)
        stored = self._inline_or_stored(dataset_id, dataset)
        scope = self._scope(principal, stored.id, lambda: stored.dataset)
        report = self.service.workload(stored.dataset, self.options(options))
        return scope.workload(report) if scope else report

    def recommend(self, principal: Principal, *, dataset_id: str | None = None, dataset: dict[str, Any] | None = None,
                  options: RunOptions | None = None) -> RunView:
        """Run and record (the decision log's chain holds under concurrent calls)."""
        authorize(principal, Action.RECOMMEND)
        stored = self._inline_or_stored(dataset_id, dataset)
        outcome = self.service.recommend(stored.dataset, self.options(options))
        assert outcome.record is not None  # recorded: Service.recommend(record=True)
        self._remember(self._results, outcome.record.run_id, outcome.result, keep=8)
        return _view(outcome.record, outcome.result)

    def why_not(self, principal: Principal, *, dataset_id: str, nip: str, position_id: str,
                options: RunOptions | None = None) -> WhyNotReport:
        authorize(principal, Action.WHY_NOT)
        stored = self._stored(dataset_id)
        scope = self._scope(principal, stored.id, lambda: stored.dataset)
        try:
            if scope is not None:
                scope.require(nip=nip, position_id=position_id)
            return self.service.why_not(stored.dataset, nip, position_id, self.options(options))
        except (OutOfScope, UnknownSubject) as error:
            raise NotFound(str(error), code=UnknownSubject.code) from error

    # ------------------------------------------------------------------ recorded runs

    def _record(self, run_id: str) -> DecisionRecord:
        try:
            return self.service.recorded_run(run_id)
        except UnknownRun:
            raise NotFound(f"run {run_id!r} is not in the decision log", code=UnknownRun.code) from None

    def run(self, principal: Principal, run_id: str) -> RunView:
        """A recorded run; an agency sees the moves, shortages and exclusions that touch its subtree."""
        authorize(principal, Action.RUN_READ)
        record = self._record(run_id)
        result = self._result(record)
        try:
            scope = self._scope(principal, record.dataset_sha256, lambda: self._run_dataset(record))
        except NotFound:  # the agency's unit is not in this run's dataset: the run does not exist for it
            raise NotFound(f"run {run_id!r} is not in the decision log", code=UnknownRun.code) from None
        if scope is not None:
            result = scope.result(result)
        return _view(record, result)

    def _result(self, record: DecisionRecord) -> RecommendationResult:
        with self._lock:
            cached = self._results.get(record.run_id)
        if cached is None:
            cached = record.result()
            self._remember(self._results, record.run_id, cached, keep=8)
        return cached

    def _dataset_of_run(self, run_id: str) -> Dataset:
        return self._run_dataset(self._record(run_id))

    def _run_dataset(self, record: DecisionRecord) -> Dataset:
        if record.dataset_sha256 in self.store:
            return self.store.get(record.dataset_sha256).dataset
        return record.dataset()

    def explanation(self, principal: Principal, run_id: str, *, lang: Lang = "id", nip: str | None = None,
                    fmt: Literal["json", "md", "text"] = "json") -> dict[str, Any] | str:
        """Why each move (or one person's) was recommended, as recorded; nothing is recomputed."""
        view = self.run(principal, run_id)
        result = view.result
        if nip is not None and not knows_employee(result, nip):
            raise NotFound(f"employee NIP {nip!r} is not named in run {view.run_id}", code=UnknownSubject.code)
        if fmt == "json":
            return explanation_json(result, nip=nip, lang=lang, run_id=view.run_id)
        if nip is not None:
            return explain_employee(result, nip, lang, fmt, run_id=view.run_id)
        return explain_result(result, lang, fmt, run_id=view.run_id)

    def notices(self, principal: Principal, run_id: str, *, lang: Lang = "id") -> dict[str, str]:
        """Letter drafts (Markdown) to the people moved, by file name."""
        from mutasi_rules.explain.notices import render_notices

        view = self.run(principal, run_id)
        return render_notices(view.result, langs=(lang,), run_id=view.run_id)

    def report(self, principal: Principal, run_id: str, *, lang: Lang = "id",
               fmt: Literal["md", "html"] = "md") -> str:
        """The report for the head of the region (an agency's shows its subtree's moves)."""
        from mutasi_rules.explain.report import report_html, report_markdown

        view = self.run(principal, run_id)
        render = report_html if fmt == "html" else report_markdown
        return render(view.result, lang=lang, run_id=view.run_id)

    def plan_workbook(self, principal: Principal, run_id: str, *, lang: Lang = "id") -> bytes:
        """The plan as an Excel workbook (an agency's holds its subtree's part)."""
        from mutasi_rules.explain.spreadsheet import plan_workbook

        return plan_workbook(self.run(principal, run_id).result, lang)

    def notices_docx(self, principal: Principal, run_id: str, *, lang: Lang = "id") -> bytes:
        """Word letter drafts to the people moved, as one zip (file names as ``explain --notices``)."""
        import io
        import zipfile

        from mutasi_rules.explain.notice_docx import render_docx_notices

        view = self.run(principal, run_id)
        letters = render_docx_notices(view.result, langs=(lang,), run_id=view.run_id, record_hash=view.record_hash)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:  # fixed dates and order: same run, same bytes
            for name in sorted(letters):
                archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), letters[name],
                                 compress_type=zipfile.ZIP_DEFLATED)
        return buffer.getvalue()

    def scenario(self, principal: Principal, dataset_id: str, text: str, filename: str,
                 options: RunOptions | None = None) -> ScenarioReport:
        """A what-if: the baseline and one uploaded scenario planned with the same rules, compared
        (not recorded). The scenario file is data (YAML), checked with every problem located."""
        from mutasi_rules.data.scenario import load_scenario_text

        authorize(principal, Action.RECOMMEND)
        stored = self._stored(dataset_id)
        loaded = load_scenario_text(text, filename)
        return self.service.scenarios(stored.dataset, [loaded], self.options(options))

    # ------------------------------------------------------------------ review

    def reviews(self, principal: Principal, run_id: str) -> list[ReviewRecord]:
        authorize(principal, Action.RUN_READ)
        record = self._record(run_id)
        return self.service.reviews(record.run_id)

    def review(self, principal: Principal, run_id: str, decisions: Sequence[ReviewDecision], *,
               origin: str = "web") -> ReviewRecord:
        """Record review decisions on a run (checked against its lineage; refused whole with every reason).

        ``origin`` names where the decisions came from in their problems ("web", "request body")."""
        authorize(principal, Action.REVIEW)
        record = self._record(run_id)
        return self.service.review(record.run_id, decisions, origin=origin)

    def replan(self, principal: Principal, run_id: str) -> RunView:
        """A new recorded run honouring every decision in ``run_id``'s lineage."""
        authorize(principal, Action.REVIEW)
        record = self._record(run_id)
        outcome = self.service.replan(record.run_id)
        assert outcome.record is not None
        self._remember(self._results, outcome.record.run_id, outcome.result, keep=8)
        return _view(outcome.record, outcome.result)

    def diff(self, principal: Principal, run_a: str, run_b: str) -> RunDiff:
        """What changed from run A to run B (an agency: the changes that touch its subtree)."""
        authorize(principal, Action.RUN_READ)
        a, b = self._record(run_a), self._record(run_b)
        found = self.service.diff(a.run_id, b.run_id)
        scope = self._scope(principal, b.dataset_sha256, lambda: self._run_dataset(b))
        if scope is None:
            return found
        return found.model_copy(update={"changes": [
            change for change in found.changes
            if any(ref is not None and ref.unit_id in scope.units for ref in (change.before, change.after))
            or change.nip in scope.employees]})

    # ------------------------------------------------------------------ rules

    def check_rules(self, principal: Principal, files: Sequence[tuple[str, str]]) -> RuleCheckReport:
        authorize(principal, Action.RULES_CHECK)
        self._rule_file_count(files)
        loaded, problems = self.service.check_rules(files, self.options(None))
        return RuleCheckReport.of(loaded, list(problems))

    def test_rules(self, principal: Principal, files: Sequence[tuple[str, str]]) -> RuleTestSummary:
        """Run the posted test files against the posted rule files; InputError when they do not load."""
        authorize(principal, Action.RULES_CHECK)
        self._rule_file_count(files)
        report, problems = self.service.test_rules(files, self.options(None))
        if report is None:
            raise InputError("rule tests", list(problems))
        return RuleTestSummary.of(report, list(problems))

    def _rule_file_count(self, files: Sequence[tuple[str, str]]) -> None:
        problems = Problems()
        if not files:
            problems.error("request.no_files", "no rule files were sent", field="files")
        if len(files) > self.config.limits.max_rule_files:
            problems.error("request.too_many_files", f"{len(files)} files; the limit is "
                           f"{self.config.limits.max_rule_files}", field="files", value=len(files))
        problems.raise_if_errors("rule files")

    # ------------------------------------------------------------------ the decision log

    def runs(self, principal: Principal) -> list[RecordSummary]:
        authorize(principal, Action.AUDIT_READ)
        return self.service.runs()

    def recorded_runs(self, principal: Principal) -> list[RecordSummary]:
        """The runs the caller may open (an agency: runs over datasets that hold its unit), newest first."""
        authorize(principal, Action.RUN_READ)
        runs = self.service.runs()
        if principal.unit_id is not None:
            visible = []
            for summary in runs:
                try:
                    self._scope(principal, summary.dataset_sha256,
                                functools.partial(self._dataset_of_run, summary.run_id))
                except NotFound:
                    continue
                visible.append(summary)
            runs = visible
        return sorted(runs, key=lambda summary: -summary.seq)

    def verify(self, principal: Principal) -> VerifyReport:
        authorize(principal, Action.AUDIT_READ)
        return self.service.verify()

    def replay(self, principal: Principal, run_id: str) -> ReplayView:
        authorize(principal, Action.AUDIT_REPLAY)
        record = self._record(run_id)
        report = self.service.replay(record.run_id)
        return ReplayView.model_validate(report, from_attributes=True)

    # ------------------------------------------------------------------ about

    @staticmethod
    def version() -> dict[str, str]:
        from mutasi_rules.analysis.workload import REPORT_FORMAT as WORKLOAD_FORMAT
        from mutasi_rules.planning.recommendation import RESULT_FORMAT
        from mutasi_rules.planning.whynot import REPORT_FORMAT as WHY_NOT_FORMAT

        return {"library_version": __version__, "api": "v1", "result_format": RESULT_FORMAT,
                "why_not_format": WHY_NOT_FORMAT, "workload_format": WORKLOAD_FORMAT}


def _view(record: DecisionRecord, result: RecommendationResult) -> RunView:
    return RunView(run_id=record.run_id, seq=record.seq, recorded_at=record.recorded_at,
                   dataset_sha256=record.dataset_sha256, dataset_name=record.dataset_name, as_of=record.as_of,
                   plan_date=record.plan_date, moves=record.moves, record_hash=record.record_hash, result=result)


__all__ = [
    "DatasetInfo",
    "HostedService",
    "NotFound",
    "ReplayView",
    "RunOptions",
    "RunView",
]
