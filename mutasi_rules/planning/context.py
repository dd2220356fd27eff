"""The run context: what one run prepares once and every later stage reads.

:func:`prepare` loads plugins and rule sets and builds a :class:`RunContext` (dataset
index, dates, labelled workload report, short and surplus posts, cached plugin-enriched
facts). The pipeline stages (mutasi_rules.planning.pipeline), why-not queries and audit
replays all read their facts from it, so a fact means the same thing wherever it is
evaluated.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mutasi_rules.analysis.workload import (
    PositionWorkload,
    UnitWorkload,
    WorkloadCalculator,
    WorkloadReport,
    figures_report,
    label_report,
)
from mutasi_rules.core.canonical import canonical_json, sha256_of
from mutasi_rules.data.facts import (
    CandidateScope,
    DatasetIndex,
    EmployeeFacts,
    EmployeeScope,
    PositionFacts,
    UnitFacts,
    candidate_facts,
    context_facts,
    employee_facts,
    position_facts,
    unit_facts,
)
from mutasi_rules.data.integrity import dataset_problems
from mutasi_rules.data.models import PLAUSIBLE_RUN_DATES, Dataset, Employee, Position
from mutasi_rules.planning.options import RecommendOptions
from mutasi_rules.planning.results import PositionRef
from mutasi_rules.plugins.manager import PluginManager, load_plugins
from mutasi_rules.problems import Problems
from mutasi_rules.rules.engine import DURABLE, RuleEngine
from mutasi_rules.rules.findings import Finding
from mutasi_rules.rules.rulesets import (
    EFFECTS,
    LoadedRuleSet,
    default_rules_dir,
    load_rulesets,
)

if TYPE_CHECKING:
    from mutasi_rules.planning.solving import Planning

SHORT_LABEL = "kekurangan"

SURPLUS_LABEL = "kelebihan"


Progress = Callable[[str, int, int], None]  # (stage, done, total)



def position_ref(position: Position, index: DatasetIndex) -> PositionRef:
    return PositionRef(
        position_id=position.id,
        position_name=position.name,
        unit_id=position.unit_id,
        unit_name=index.units[position.unit_id].name,
        opd_id=index.opd_of(position.unit_id),
    )



def blocking(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if EFFECTS[f.effect].blocks]



def pair_subject(nip: str, position_id: str) -> str:
    """The subject id of a candidate pair in findings."""
    return f"{nip}->{position_id}"



def rule_overridable(rulesets: Sequence[LoadedRuleSet], finding: Finding) -> bool:
    """Whether the rule behind ``finding`` allows an override (``overridable: true``): a reviewer's pin
    may set it aside."""
    for loaded in rulesets:
        if loaded.id == finding.ruleset_id and loaded.version == finding.ruleset_version:
            return any(rule.overridable for rule in loaded.rules if rule.id == finding.rule_id)
    return False



def run_date_problems(dataset: Dataset, options: RecommendOptions) -> Problems:
    """Problems of the dates a run is computed for: implausible, a plan before ``as_of``, nobody born yet.

    Checked by :class:`RunContext` (an :class:`InputError`); front ends check first and
    report a usage error.
    """
    problems = Problems()
    as_of = options.as_of or dataset.metadata.as_of
    plan_date = options.plan_date or as_of
    low, high = PLAUSIBLE_RUN_DATES
    for name, day in (("as_of", as_of), ("plan_date", plan_date)):
        if not low <= day <= high:
            problems.error("options.date_implausible", f"{name} {day.isoformat()} is not a plausible date for a run "
                           f"({low.isoformat()} to {high.isoformat()})", field=name, value=day.isoformat())
    if plan_date < as_of:
        problems.error("options.plan_before_as_of", f"plan_date {plan_date.isoformat()} is before as_of "
                       f"{as_of.isoformat()}: a transfer is planned on or after the day the data describes",
                       field="plan_date", value=plan_date.isoformat())
    births = [e.birth_date for e in dataset.employees]
    if births and as_of < min(births):
        problems.error("options.as_of_before_births", f"as_of {as_of.isoformat()} is before every employee's birth "
                       f"date (the earliest is {min(births).isoformat()}): a typing slip?", field="as_of",
                       value=as_of.isoformat())
    return problems



class RunContext:
    """What one run prepares once and every later step reads.

    The dataset index, the ``as_of`` date, the labelled workload report (which positions
    are short and which have surplus), and fact builders that cache and apply plugin
    enrichment. The recommendation pipeline, why-not queries and audit replays all build
    their facts here, so a fact means the same thing wherever it is evaluated.
    """

    def __init__(self, dataset: Dataset, options: RecommendOptions, plugins: PluginManager | None,
                 rulesets: list[LoadedRuleSet]) -> None:
        self.dataset = dataset
        self.options = options
        self.plugins = plugins
        self.rulesets = rulesets
        run_date_problems(dataset, options).raise_if_errors("run dates")
        self.as_of = options.as_of or dataset.metadata.as_of
        self.plan_date = options.plan_date or self.as_of
        self.index = DatasetIndex(dataset)
        self.context = context_facts(self.as_of, dataset, self.plan_date)
        self.extensions = plugins.fact_attributes() if plugins else []
        #: The enrich hook runs per candidate pair only if some plugin declares a candidate attribute.
        self.enrich_candidates = any(attr.entity == "candidate" for attr in self.extensions)
        self.calc = WorkloadCalculator(dataset, options.workload, self.index)
        self.employees = {e.nip: e for e in dataset.employees}
        self.report: WorkloadReport = label_report(
            figures_report(dataset, as_of=self.as_of, settings=options.workload),
            dataset, rulesets, extensions=self.extensions,
        )
        self.pw: dict[str, PositionWorkload] = {p.position_id: p for p in self.report.positions}
        self.uw: dict[str, UnitWorkload] = {u.unit_id: u for u in self.report.units}
        #: Target position -> persons it may receive (short by the staffing-norm labels).
        settings = options.workload
        self.shortages: dict[str, int] = {
            pid: limit for pid, p in self.pw.items()
            if SHORT_LABEL in p.labels and (limit := receive_limit(p, settings.band_low)) >= 1
        }
        #: Source position -> persons it may release.
        self.surplus: dict[str, int] = {
            pid: limit for pid, p in self.pw.items()
            if SURPLUS_LABEL in p.labels and (limit := release_limit(p, settings.band_high)) >= 1
        }
        #: Per screen setting (screen, screen scores): the decision-independent part of a run
        #: (:class:`~mutasi_rules.planning.solving.Planning`, kept for re-plans).
        self.planning: dict[tuple[bool, bool], Planning] = {}
        self._positions: dict[str, PositionFacts] = {}
        self._units: dict[str, UnitFacts] = {}
        self._employees: dict[str, EmployeeFacts] = {}

    @functools.cached_property
    def dataset_json(self) -> str:
        """The dataset's canonical JSON (~1 s at 7,000 employees: built once per context)."""
        return canonical_json(self.dataset)

    @functools.cached_property
    def dataset_sha256(self) -> str:
        """SHA-256 of the dataset's canonical JSON (the result's ``run.dataset_sha256``)."""
        return sha256_of(self.dataset_json)

    @functools.cached_property
    def dataset_blob(self) -> bytes:
        """The canonical JSON zlib-compressed, as the decision log stores it (re-plans record it again)."""
        return zlib.compress(self.dataset_json.encode("utf-8"), 9)

    def engine(self, as_of: dt.date | None = None) -> RuleEngine:
        """An evaluator of the run's rule sets (on ``as_of``, default the run's) from the rule backend."""
        return DURABLE.evaluator(self.rulesets, as_of or self.as_of, self.extensions)

    def enrich(self, entity: str, subject: str, record: Any, facts: Any) -> Any:
        if self.plugins is None:
            return facts
        return self.plugins.enrich_model(entity, subject, record, facts, self.dataset, self.as_of)

    def position_facts(self, pid: str) -> PositionFacts:
        if pid not in self._positions:
            position = self.index.positions[pid]
            base = position_facts(position, self.index, self.pw[pid].figures())
            self._positions[pid] = self.enrich("position", pid, position, base)
        return self._positions[pid]

    def unit_facts(self, uid: str) -> UnitFacts:
        if uid not in self._units:
            base = unit_facts(self.index.units[uid], self.index, self.uw[uid].figures())
            self._units[uid] = self.enrich("unit", uid, self.index.units[uid], base)
        return self._units[uid]

    def employee_facts(self, nip: str) -> EmployeeFacts:
        if nip not in self._employees:
            employee = self.employees[nip]
            base = employee_facts(employee, self.index, self.as_of)
            self._employees[nip] = self.enrich("employee", nip, employee, base)
        return self._employees[nip]

    def employee_scope(self, nip: str) -> EmployeeScope:
        return EmployeeScope(as_of=self.as_of, context=self.context, employee=self.employee_facts(nip))

    def candidate_scope(self, nip: str, target: str) -> CandidateScope:
        employee = self.employees[nip]
        source = employee.position_id
        base = candidate_facts(
            employee, self.employee_facts(nip), self.position_facts(target), self.position_facts(source),
            self.unit_facts(self.index.positions[source].unit_id),
            self.unit_facts(self.index.positions[target].unit_id),
            self.index.positions[target], self.as_of,
        )
        if self.enrich_candidates:
            base = self.enrich("candidate", pair_subject(nip, target), employee, base)
        return CandidateScope(as_of=self.as_of, context=self.context, candidate=base)



def receive_limit(position: PositionWorkload, band_low: float) -> int:
    """Persons a short position may receive.

    At most its staffing gap (rounded staff needed - bezetting), and no more than keeps
    its job efficiency inside the balanced band: a post needing 2.5 people with 1 in post
    takes 1 more (EJ 1.25), not 2 (EJ 0.83, then in surplus). A vacancy with any workload
    may always take its first person.
    """
    if position.gap is None or position.staff_needed is None:
        return 0
    in_band = (math.floor(round(position.staff_needed / band_low, 6)) - position.bezetting if band_low > 0
               else position.gap)
    if position.bezetting == 0 and position.staff_needed > 0:
        in_band = max(in_band, 1)
    return max(0, min(int(position.gap), int(in_band)))



def release_limit(position: PositionWorkload, band_high: float) -> int:
    """Persons a surplus position may release.

    At most its surplus (bezetting - rounded staff needed), and no more than keeps its job
    efficiency inside the band: two people on a post needing 1.4 may not become one
    (EJ 1.40, overloaded). A post with any workload keeps at least one person.
    """
    if position.gap is None or position.staff_needed is None:
        return 0
    keep = math.ceil(round(position.staff_needed / band_high, 6))
    if position.staff_needed > 0:
        keep = max(keep, 1)
    return max(0, min(int(-position.gap), position.bezetting - keep))



class ContextReader:
    """A stage of a run: reads the run's :class:`RunContext` (its dataset, options, index, ...)."""

    ctx: RunContext

    @property
    def dataset(self) -> Dataset:
        return self.ctx.dataset

    @property
    def options(self) -> RecommendOptions:
        return self.ctx.options

    @property
    def plugins(self) -> PluginManager | None:
        return self.ctx.plugins

    @property
    def rulesets(self) -> list[LoadedRuleSet]:
        return self.ctx.rulesets

    @property
    def as_of(self) -> dt.date:
        return self.ctx.as_of

    @property
    def plan_date(self) -> dt.date:
        return self.ctx.plan_date

    @property
    def index(self) -> DatasetIndex:
        return self.ctx.index

    @property
    def calc(self) -> WorkloadCalculator:
        return self.ctx.calc

    @property
    def employees(self) -> dict[str, Employee]:
        return self.ctx.employees


def load_run_rulesets(options: RecommendOptions, plugins: PluginManager | None) -> list[LoadedRuleSet]:
    """National (or given) rule sets plus every enabled plugin's, checked together."""
    extensions = plugins.fact_attributes() if plugins else []
    paths = [Path(p) for p in options.rules] or [default_rules_dir()]
    national = load_rulesets(paths, extensions=extensions)
    contributed = plugins.rulesets(national) if plugins else []
    return [*national, *contributed]



def prepare(
    dataset: Dataset,
    options: RecommendOptions | None = None,
    *,
    plugins: PluginManager | None = None,
    rulesets: Sequence[LoadedRuleSet] | None = None,
) -> RunContext:
    """Load plugins and rule sets as ``options`` say and prepare a run over ``dataset``.

    ``plugins``: a loaded manager to use; by default the installed and explicit plugins
    named by ``options.plugins`` are loaded (unless ``options.use_plugins`` is false).
    ``rulesets``: the exact rule sets to use (an audit replay passes the recorded ones);
    by default ``options.rules`` (or the bundled rules) plus every plugin's.
    Raises :class:`~mutasi_rules.problems.InputError` when the dataset's records do not fit
    together (an unknown position, a duplicate NIP …: :func:`mutasi_rules.data.integrity.dataset_problems`).
    """
    options = options or RecommendOptions()
    # A dataset built in memory has not been through the file loader's cross-record checks.
    dataset_problems(dataset).raise_if_errors(f"dataset {dataset.metadata.name!r}")
    if plugins is None and options.use_plugins:
        plugins = load_plugins(options.plugins)
    loaded = list(rulesets) if rulesets is not None else load_run_rulesets(options, plugins)
    return RunContext(dataset, options, plugins, loaded)



__all__ = [
    "SHORT_LABEL",
    "SURPLUS_LABEL",
    "ContextReader",
    "Progress",
    "RunContext",
    "blocking",
    "load_run_rulesets",
    "pair_subject",
    "position_ref",
    "prepare",
    "receive_limit",
    "release_limit",
    "rule_overridable",
    "run_date_problems",
]
