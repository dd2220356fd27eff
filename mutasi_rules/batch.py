"""Many regions in one batch: each region's whole pipeline is one task on Dask distributed.

A province or the national civil-service agency runs the same needs analysis for every
regional government. Each region plans its own transfers, so the work partitions by region:
one task reads a region's dataset, runs and records it through the :class:`~mutasi_rules.service.Service`
and writes its result files; the client gathers one small :class:`RegionReport` per region
and writes the provincial or national summary. The engine is Dask distributed: a
:class:`distributed.LocalCluster` by default, or any running scheduler (docs/scale.md).

Failure handling:

* a region whose data has problems is reported (``invalid``, with every problem, file, row
  and field) and never stops the others; a runtime failure (a plugin, the engine, the log)
  is reported as ``failed``;
* a worker that dies mid-task is Dask's to retry: the scheduler reruns the task on another
  worker. Recording is idempotent (``Service.recommend(once=True)``): a region whose run is
  already in its decision log -- the retried task of a worker that died after recording, or
  a batch rerun -- is not recorded or run again, so each region's run is recorded once.

Each region has its own decision log, ``<audit-dir>/<region>.sqlite``: regions never wait
for each other's write lock, and a regional government's log holds only its own decisions.

Dask is an optional dependency (``pip install 'mutasi-rules[scale]'``); only
:func:`run_batch` imports it, so :func:`run_region` runs (and is tested) without a cluster.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.analysis.workload import BalanceFigure, compute_units
from mutasi_rules.core.atomic import write_bytes, write_text
from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.core.i18n import N_, translator
from mutasi_rules.data.loading import ALL_TABLES, TABLE_EXTENSIONS
from mutasi_rules.errors import MutasiRulesError, UsageError
from mutasi_rules.planning.recommendation import RecommendationResult, RecommendOptions
from mutasi_rules.problems import InputError, Problem

SUMMARY_FORMAT: Final = "mutasi-rules.batch-summary/1"
#: Problems of an invalid region listed in the summary; all of them are in the region's problems.json.
SUMMARY_PROBLEMS = 50
#: Output folders hold personal data (names, NIP): owner and group only.
OUTPUT_DIR_MODE = 0o700  # results name people: owner only, as every output (atomic.py)
DOCUMENT_EXTENSIONS = (".json", ".yaml", ".yml", ".xlsx")
#: The local scheduler's HTTP endpoints (health, metrics; no dashboard) on 127.0.0.1 and a free port.
LOCAL_SCHEDULER = {"dashboard": False, "dashboard_address": "127.0.0.1:0"}

Status = Literal["ok", "invalid", "failed"]


class BatchUsageError(UsageError):
    """The regions or batch options given cannot make a batch (exit code 2)."""

    code = "usage.batch"


class BatchEngineError(MutasiRulesError):
    """Dask is not installed or the scheduler cannot be reached (exit code 3)."""

    kind = "failure"
    code = "batch.scheduler"


# --------------------------------------------------------------------------- regions


@dataclass(frozen=True)
class Region:
    """One regional government's dataset: its name (folder or file name) and absolute path."""

    name: str
    path: str


def _is_dataset_folder(path: Path) -> bool:
    return any(p.is_file() and p.stem.lower() in ALL_TABLES and p.suffix.lower() in TABLE_EXTENSIONS
               for p in path.iterdir())


def discover_regions(paths: Iterable[str | os.PathLike[str]],
                     exclude: Iterable[str | os.PathLike[str]] = ()) -> list[Region]:
    """The regions named by ``paths``, sorted by name.

    A dataset folder (it holds a table file such as ``employees.csv``) or a dataset file
    (``.json``, ``.yaml``, ``.xlsx``) is one region; any other folder is a parent whose
    sub-folders and dataset files are the regions, except the folders in ``exclude`` (the
    batch's own output and log folders, when they sit beside the regions). A path that does
    not exist is kept as a region: its run reports the problem. Two regions of one name are
    a usage error.
    """
    skip = {Path(p).absolute() for p in exclude}
    regions: list[Region] = []
    for given in paths:
        path = Path(given).absolute()
        if path.is_dir() and not _is_dataset_folder(path):
            children = [c for c in sorted(path.iterdir()) if not c.name.startswith(".") and c not in skip
                        and (c.is_dir() or c.suffix.lower() in DOCUMENT_EXTENSIONS)]
            if not children:
                raise BatchUsageError(f"{given}: neither a dataset nor a folder of regions (no sub-folders "
                                      "or dataset files in it)")
            regions += [Region(_region_name(c), str(c)) for c in children]
        else:
            regions.append(Region(_region_name(path), str(path)))
    seen: dict[str, str] = {}
    for region in regions:
        if region.name in seen:
            raise BatchUsageError(f"two regions are named {region.name!r}: {seen[region.name]} and {region.path}")
        seen[region.name] = region.path
    return sorted(regions, key=lambda r: r.name)


def _region_name(path: Path) -> str:
    return path.name if path.is_dir() or not path.suffix else path.stem


def region_size(region: Region) -> int:
    """Bytes of the region's files: the scheduling priority (largest first shortens the batch's tail)."""
    path = Path(region.path)
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


def audit_path(audit_dir: str | os.PathLike[str], region: Region) -> Path:
    """The region's own decision log in ``audit_dir``."""
    return Path(audit_dir) / f"{region.name}.sqlite"


# --------------------------------------------------------------------------- reports


class AgencySummary(BaseModel):
    """One OPD of a region: EJ and staff before and after the region's plan."""

    model_config = ConfigDict(frozen=True)

    unit_id: str
    name: str
    bezetting_before: int
    bezetting_after: int
    ej_before: float | None
    ej_after: float | None
    moves_in: int
    moves_out: int


class TrainingCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    moves: int = Field(description="Conditional moves that need the training")


class RegionReport(BaseModel):
    """What one region's task reports back: its status and the figures of its plan."""

    model_config = ConfigDict(frozen=True)

    region: str
    path: str
    status: Status
    problem_count: int = Field(default=0, description="Errors in the region's data (invalid regions)")
    problems: list[Problem] = Field(default_factory=list,
                                    description=f"The first {SUMMARY_PROBLEMS} errors; all in problems.json")
    error: str | None = Field(default=None, description="Why a failed region failed")
    run_id: str | None = None
    reused: bool = Field(default=False, description="The run was already in the decision log: not run again")
    dataset_name: str | None = None
    dataset_sha256: str | None = None
    employees: int = 0
    positions: int = 0
    moves: int = 0
    conditional_moves: int = 0
    shortage_positions: int = 0
    shortage_persons: int = Field(default=0, description="Persons the short positions may receive")
    shortage_filled: int = 0
    shortage_remaining: int = 0
    excluded: int = Field(default=0, description="Surplus staff blocked for any move")
    balance_before: BalanceFigure | None = None
    balance_after: BalanceFigure | None = None
    agencies: list[AgencySummary] = Field(default_factory=list)
    trainings: list[TrainingCount] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list, description="Files written, relative to the batch folder")
    elapsed_seconds: float = Field(default=0.0, exclude=True, description="Wall time of the task (not published)")


class BatchTotals(BaseModel):
    model_config = ConfigDict(frozen=True)

    regions: int
    regions_ok: int
    regions_invalid: list[str] = Field(description="Regions whose data has problems (nothing run for them)")
    regions_failed: list[str] = Field(description="Regions whose run failed (a plugin, the engine, the log, a worker)")
    employees: int
    moves: int
    conditional_moves: int
    shortage_persons: int
    shortage_filled: int
    shortage_remaining: int
    trainings: list[TrainingCount]


class BatchSummary(BaseModel):
    """The provincial or national summary of a batch (``summary.json``)."""

    model_config = ConfigDict(frozen=True)

    format: Literal["mutasi-rules.batch-summary/1"] = SUMMARY_FORMAT
    totals: BatchTotals
    regions: list[RegionReport] = Field(description="Sorted by region name")


# --------------------------------------------------------------------------- one region (a Dask task)


def run_region(region: Region, options: RecommendOptions, out_dir: str, audit_dir: str) -> RegionReport:
    """Read, run, record (once) and write one region; never raises for the region's own problems.

    Runs on a Dask worker; everything it needs comes in its arguments (paths on storage the
    workers share). Writing is idempotent: a retried task rewrites the same bytes atomically.
    """
    from mutasi_rules.plugins.manager import PluginError
    from mutasi_rules.rules.engine import EngineError
    from mutasi_rules.service import Service

    started = time.perf_counter()
    target = Path(out_dir) / region.name
    base: dict[str, Any] = {"region": region.name, "path": region.path}

    def done(**fields: Any) -> RegionReport:
        return RegionReport(**base, **fields, elapsed_seconds=time.perf_counter() - started)

    def invalid(problems: Sequence[Problem]) -> RegionReport:
        errors = [p for p in problems if p.severity == "error"]
        _make_dir(target)
        write_text(target / "problems.json", canonical_json([p.model_dump(mode="json") for p in problems]) + "\n")
        return done(status="invalid", problem_count=len(errors), problems=errors[:SUMMARY_PROBLEMS],
                    outputs=[f"{region.name}/problems.json"])

    service = Service(audit_path(audit_dir, region), cache_size=0)
    dataset, problems = service.read_dataset(region.path)
    if dataset is None:
        return invalid(list(problems))
    base.update(dataset_name=dataset.metadata.name, employees=len(dataset.employees),
                positions=len(dataset.positions))
    try:
        outcome = service.recommend(dataset, options, once=True)
    except InputError as error:
        return invalid(error.problems)
    except (PluginError, EngineError) as error:
        return done(status="failed", error=f"{type(error).__name__}: {error}")
    except Exception as error:  # noqa: BLE001 - the log (AuditError) or anything unforeseen: this region fails, not the batch
        return done(status="failed", error=f"{type(error).__name__}: {error}")
    result = outcome.result
    outputs = _write_region(target, result)
    record = outcome.record
    return done(status="ok", run_id=record.run_id if record else None, reused=outcome.reused,
                dataset_sha256=result.run.dataset_sha256, outputs=[f"{region.name}/{name}" for name in outputs],
                **plan_figures(dataset, result, options))


def _make_dir(path: Path) -> None:
    path.mkdir(mode=OUTPUT_DIR_MODE, parents=True, exist_ok=True)


def _write_region(target: Path, result: RecommendationResult) -> list[str]:
    from mutasi_rules.explain.explanations import render_markdown

    _make_dir(target)
    files = {"result.json": result.to_json(indent=2) + "\n", "result.md": render_markdown(result, "id")}
    for name, text in files.items():
        write_text(target / name, text)
    return list(files)


def plan_figures(dataset: Any, result: RecommendationResult, options: RecommendOptions) -> dict[str, Any]:
    """The region's figures for the summary: plan counts, balance, per-OPD EJ and staff, trainings."""
    delta: dict[str, int] = {}
    moves_out: dict[str, int] = {}
    moves_in: dict[str, int] = {}
    for move in result.moves:
        delta[move.from_.position_id] = delta.get(move.from_.position_id, 0) - 1
        delta[move.to.position_id] = delta.get(move.to.position_id, 0) + 1
        moves_out[move.from_.opd_id] = moves_out.get(move.from_.opd_id, 0) + 1
        moves_in[move.to.opd_id] = moves_in.get(move.to.opd_id, 0) + 1
    before = {u.unit_id: u for u in compute_units(dataset, options.workload) if u.is_opd}
    after = {u.unit_id: u for u in compute_units(dataset, options.workload, bezetting_delta=delta) if u.is_opd}
    agencies = [AgencySummary(unit_id=uid, name=u.name, bezetting_before=u.bezetting,
                              bezetting_after=after[uid].bezetting, ej_before=u.ej, ej_after=after[uid].ej,
                              moves_in=moves_in.get(uid, 0), moves_out=moves_out.get(uid, 0))
                for uid, u in sorted(before.items())]
    trainings: dict[str, int] = {}
    for move in result.moves:
        for need in move.trainings_required:
            trainings[need.name] = trainings.get(need.name, 0) + 1
    return {
        "moves": len(result.moves),
        "conditional_moves": sum(1 for m in result.moves if m.status == "conditional"),
        "shortage_positions": len(result.shortages),
        "shortage_persons": sum(s.shortage for s in result.shortages),
        "shortage_filled": sum(s.received for s in result.shortages),
        "shortage_remaining": sum(s.remaining for s in result.shortages),
        "excluded": len(result.excluded),
        "balance_before": result.balance_before,
        "balance_after": result.balance_after,
        "agencies": agencies,
        "trainings": [TrainingCount(name=n, moves=c) for n, c in sorted(trainings.items())],
    }


# --------------------------------------------------------------------------- the batch


def summarise(reports: Iterable[RegionReport]) -> BatchSummary:
    """The summary of finished regions (sorted by name); totals count the regions that ran."""
    ordered = sorted(reports, key=lambda r: r.region)
    ok = [r for r in ordered if r.status == "ok"]
    trainings: dict[str, int] = {}
    for report in ok:
        for item in report.trainings:
            trainings[item.name] = trainings.get(item.name, 0) + item.moves
    totals = BatchTotals(
        regions=len(ordered),
        regions_ok=len(ok),
        regions_invalid=[r.region for r in ordered if r.status == "invalid"],
        regions_failed=[r.region for r in ordered if r.status == "failed"],
        employees=sum(r.employees for r in ok),
        moves=sum(r.moves for r in ok),
        conditional_moves=sum(r.conditional_moves for r in ok),
        shortage_persons=sum(r.shortage_persons for r in ok),
        shortage_filled=sum(r.shortage_filled for r in ok),
        shortage_remaining=sum(r.shortage_remaining for r in ok),
        trainings=[TrainingCount(name=n, moves=c) for n, c in sorted(trainings.items())],
    )
    return BatchSummary(totals=totals, regions=ordered)


Scheduler = str  # "local" or a scheduler address such as tcp://10.0.0.5:8786


def run_batch(
    regions: Sequence[Region],
    options: RecommendOptions,
    out_dir: str | os.PathLike[str],
    audit_dir: str | os.PathLike[str] | None = None,
    *,
    scheduler: Scheduler = "local",
    workers: int | None = None,
    on_region: Callable[[RegionReport], None] | None = None,
    cluster_options: dict[str, Any] | None = None,
    task: Callable[[Region, RecommendOptions, str, str], RegionReport] = run_region,
    lang: str = "id",
) -> BatchSummary:
    """Run every region as one Dask task and write the summary into ``out_dir``.

    ``scheduler``: ``"local"`` starts a :class:`distributed.LocalCluster` of ``workers``
    single-threaded worker processes on 127.0.0.1 (default: one per core) and stops it at the
    end; an address connects to a running scheduler, whose workers must see the same paths
    (docs/scale.md). ``audit_dir``: where the per-region decision logs are (default:
    ``<out_dir>/audit``). ``on_region`` is called in the client as each region finishes.
    ``task``: the function run per region (a module-level function the workers can import;
    the benchmark wraps :func:`run_region` to sample memory).
    Raises :class:`BatchEngineError` when Dask is missing or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise BatchEngineError("the batch runs on Dask distributed, which is not installed: "
                               "pip install 'mutasi-rules[scale]'") from exc
    out = Path(out_dir).absolute()
    audit = Path(audit_dir).absolute() if audit_dir is not None else out / "audit"
    _make_dir(out)
    _make_dir(audit)
    cluster: Any = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None,
                                   scheduler_kwargs=LOCAL_SCHEDULER, **(cluster_options or {}))
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise BatchEngineError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from exc
    reports: list[RegionReport] = []
    try:
        # Largest first, in submission order too (the first tasks are placed before the rest arrive):
        # a big region started last would be the batch's tail.
        sized = sorted(((region_size(region), region) for region in regions), key=lambda p: (-p[0], p[1].name))
        futures = {
            client.submit(task, region, options, str(out), str(audit), pure=False, priority=size,
                          key=f"mutasi-region-{region.name}-{os.urandom(4).hex()}"): region
            for size, region in sized
        }
        for future in as_completed(futures):
            region = futures[future]
            try:
                report = future.result()
            except Exception as error:  # noqa: BLE001 - KilledWorker (died too often), a lost connection, a bug
                report = RegionReport(region=region.name, path=region.path, status="failed",
                                      error=f"{type(error).__name__}: {error}")
            reports.append(report)
            if on_region is not None:
                on_region(report)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    summary = summarise(reports)
    write_summary(summary, out, lang)
    return summary


# --------------------------------------------------------------------------- summary files


def write_summary(summary: BatchSummary, out_dir: Path, lang: str = "id") -> list[Path]:
    """``summary.json``, ``summary.md`` (in ``lang``) and ``summary.xlsx`` in ``out_dir``, each written atomically."""
    written = [out_dir / "summary.json", out_dir / "summary.md", out_dir / "summary.xlsx"]
    write_text(written[0], summary.model_dump_json(indent=2) + "\n")
    write_text(written[1], summary_markdown(summary, lang))
    write_bytes(written[2], summary_xlsx(summary))
    return written


def _num(value: float | None, places: int = 3) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def _row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def summary_markdown(summary: BatchSummary, lang: str = "id") -> str:
    """The summary for people: totals, one row per region, the OPDs of each region, problems (Bahasa
    Indonesia by default)."""
    _ = translator(lang)
    t = summary.totals
    lines = [
        "# " + _("Transfer summary (batch)"),
        "",
        _("Regions: {regions} ({ok} succeeded, {invalid} with data problems, {failed} failed). Employees: "
          "{employees}. Moves: {moves} ({conditional} conditional). Staff needed: {needed}, filled {filled}, "
          "left {left}.").format(
            regions=t.regions, ok=t.regions_ok, invalid=len(t.regions_invalid), failed=len(t.regions_failed),
            employees=t.employees, moves=t.moves, conditional=t.conditional_moves, needed=t.shortage_persons,
            filled=t.shortage_filled, left=t.shortage_remaining),
        "",
        _row(_(w) for w in (N_("region"), N_("status"), N_("employees"), N_("moves"), N_("conditional"),
                            N_("staff needed"), N_("filled"), N_("left"), N_("EJ sd before"), N_("EJ sd after"),
                            N_("run"))),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary.regions:
        before = r.balance_before.ej_std if r.balance_before else None
        after = r.balance_after.ej_std if r.balance_after else None
        lines.append(f"| {r.region} | {r.status} | {r.employees} | {r.moves} | {r.conditional_moves} | "
                     f"{r.shortage_persons} | {r.shortage_filled} | {r.shortage_remaining} | {_num(before)} | "
                     f"{_num(after)} | {r.run_id or '-'} |")
    if t.trainings:
        lines += ["", "## " + _("Training needs"), "", _row((_("training"), _("moves"))), "|---|---|"]
        lines += [f"| {item.name} | {item.moves} |" for item in t.trainings]
    for r in summary.regions:
        if r.status == "ok":
            lines += ["", "## " + _("{region}: EJ per OPD").format(region=r.region), "",
                      _row(["OPD", *(_(w) for w in (N_("staff before"), N_("after"), N_("EJ before"),
                                                     N_("EJ after"), N_("in"), N_("out")))]),
                      "|---|---|---|---|---|---|---|"]
            lines += [f"| {a.name} | {a.bezetting_before} | {a.bezetting_after} | {_num(a.ej_before)} | "
                      f"{_num(a.ej_after)} | {a.moves_in} | {a.moves_out} |" for a in r.agencies]
        elif r.status == "invalid":
            lines += ["", "## " + _("{region}: data problems ({count} errors)").format(region=r.region,
                                                                                    count=r.problem_count), ""]
            lines += [f"- {p}" for p in r.problems]
            if r.problem_count > len(r.problems):
                lines.append("- " + _("... all in {path}").format(path=f"{r.region}/problems.json"))
        else:
            lines += ["", "## " + _("{region}: failed").format(region=r.region), "", f"- {r.error}"]
    return "\n".join(lines) + "\n"


def summary_xlsx(summary: BatchSummary) -> bytes:
    """A workbook of regions, of OPDs (one row per region and OPD) and of trainings; no timestamps."""
    from mutasi_rules.data.loading import (
        _workbook_bytes,  # the dataset writer's deterministic workbook: equal data, equal bytes
    )

    regions = [[r.region, r.status, r.employees, r.positions, r.moves, r.conditional_moves, r.shortage_persons,
                r.shortage_filled, r.shortage_remaining, r.excluded,
                r.balance_before.ej_std if r.balance_before else None,
                r.balance_after.ej_std if r.balance_after else None, r.problem_count, r.error, r.run_id]
               for r in summary.regions]
    agencies = [[r.region, a.unit_id, a.name, a.bezetting_before, a.bezetting_after, a.ej_before, a.ej_after,
                 a.moves_in, a.moves_out] for r in summary.regions for a in r.agencies]
    return _workbook_bytes({
        "regions": (["region", "status", "employees", "positions", "moves", "conditional_moves", "shortage_persons",
                     "shortage_filled", "shortage_remaining", "excluded", "ej_std_before", "ej_std_after",
                     "problems", "error", "run_id"], regions),
        "agencies": (["region", "unit_id", "name", "bezetting_before", "bezetting_after", "ej_before", "ej_after",
                      "moves_in", "moves_out"], agencies),
        "trainings": (["training", "moves"], [[t.name, t.moves] for t in summary.totals.trainings]),
    })


__all__ = [
    "AgencySummary",
    "BatchEngineError",
    "BatchSummary",
    "BatchTotals",
    "BatchUsageError",
    "Region",
    "RegionReport",
    "TrainingCount",
    "audit_path",
    "discover_regions",
    "run_batch",
    "run_region",
    "summarise",
    "write_summary",
]
