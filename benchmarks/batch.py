"""``python -m benchmarks.batch [--regions 14] [--employees-total 100000] [--workers 1 2] [--json FILE]``.

A generated province (cached as CSV under benchmarks/data/, which git ignores) run with
:func:`mutasi_rules.batch.run_batch` on a LocalCluster of 1, then 2, single-threaded
worker processes, each run with fresh output and audit folders (so nothing is reused).
The cluster's start-up is timed apart;
the batch's wall time runs from submitting the tasks to the summary written. Per region: the
task's wall and CPU seconds (the task thread's rusage: what the region costs
on a core of its own, whatever else runs on the machine) and the worker's RSS while it ran
(sampled from /proc every 20 ms; a long-lived worker's RSS stays at the largest task it has
run, so memory per task is measured apart: ``--memory-regions`` regions spread over the
sizes, each run alone in a fresh process, peak RSS: VmHWM). Per run: the 1-minute load
average before and after (the machine is shared). Then the projection of
docs/scale.md: per-region time and memory fitted to the region's size, applied to a country
of generated region sizes, scheduled largest first on N workers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from mutasi_rules.batch import LOCAL_SCHEDULER, Region, RegionReport, discover_regions, run_batch, run_region
from mutasi_rules.core.atomic import write_text
from mutasi_rules.planning.recommendation import RecommendOptions

from .__main__ import DATA, _child, machine

SEED = 7
NATIONAL_EMPLOYEES = 4_300_000
NATIONAL_REGIONS = 542  # provinces, regencies and cities (Kemendagri); regions of unequal size
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def province_dir(regions: int, total: int, seed: int = SEED) -> Path:
    """The cached generated province (one CSV folder per region)."""
    from mutasi_rules.data.generator import generate_regions
    from mutasi_rules.data.loading import save_dataset

    root = DATA / f"province-r{regions}-n{total}-s{seed}"
    marker = root / ".complete"
    if not marker.exists():
        root.mkdir(parents=True, exist_ok=True)
        for plan, dataset in generate_regions(regions, total, seed):
            save_dataset(dataset, root / plan.slug, "csv")
        marker.write_text("ok\n")
    return root


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE_MB


def measured_region(region: Region, options: RecommendOptions, out_dir: str, audit_dir: str) -> RegionReport:
    """:func:`run_region`, with the worker's RSS sampled while it runs (written beside the outputs)."""
    peak = base = _rss_mb()
    cpu = resource.getrusage(resource.RUSAGE_THREAD)
    running = True

    def sample() -> None:
        nonlocal peak
        while running:
            peak = max(peak, _rss_mb())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        report = run_region(region, options, out_dir, audit_dir)
    finally:
        running = False
        sampler.join()
    peak = max(peak, _rss_mb())
    used = resource.getrusage(resource.RUSAGE_THREAD)
    cpu_seconds = (used.ru_utime - cpu.ru_utime) + (used.ru_stime - cpu.ru_stime)
    write_text(Path(out_dir) / f".memory-{region.name}.json",
               json.dumps({"base_mb": round(base, 1), "peak_mb": round(peak, 1), "cpu_seconds": round(cpu_seconds, 2),
                           "pid": os.getpid()}))
    return report


def run_once(root: Path, workers: int) -> dict[str, Any]:
    """One batch on a fresh LocalCluster; the cluster's start-up is timed apart from the batch."""
    from distributed import LocalCluster

    regions = discover_regions([root])
    with tempfile.TemporaryDirectory(prefix="mutasi-batch-bench-") as tmp:
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, scheduler_kwargs=LOCAL_SCHEDULER) as cluster:
            startup = time.perf_counter() - started
            started = time.perf_counter()
            summary = run_batch(regions, RecommendOptions(), Path(tmp) / "out", Path(tmp) / "audit",
                                scheduler=cluster.scheduler_address, task=measured_region,
                                on_region=lambda r: print(f"  {r.region}: {r.status} {r.employees} employees "
                                                          f"{r.elapsed_seconds:.1f} s", flush=True))
            wall = time.perf_counter() - started
        load_after = os.getloadavg()[0]
        per_region = []
        for report in summary.regions:
            memory = json.loads((Path(tmp) / "out" / f".memory-{report.region}.json").read_text())
            per_region.append({"region": report.region, "status": report.status, "employees": report.employees,
                               "moves": report.moves, "seconds": round(report.elapsed_seconds, 2), **memory})
    bad = [r["region"] for r in per_region if r["status"] != "ok"]
    if bad:
        raise RuntimeError(f"regions did not run: {bad}")
    task_wall = sum(r["seconds"] for r in per_region)
    task_cpu = sum(r["cpu_seconds"] for r in per_region)
    return {"workers": workers, "cluster_startup_seconds": round(startup, 1), "wall_seconds": round(wall, 1),
            "load_1min_before": round(load_before, 2), "load_1min_after": round(load_after, 2),
            "task_seconds_total": round(task_wall, 1), "task_cpu_seconds_total": round(task_cpu, 1),
            # How much of a core a task got while it ran: 1.0 on an idle machine, less when shared.
            "cpu_share_of_tasks": round(task_cpu / task_wall, 2) if task_wall else None,
            # Useful work per wall second: how many cores the batch kept busy.
            "busy_cores": round(task_cpu / wall, 2) if wall else None,
            "regions": per_region}


_REGION_ALONE = """
import json, resource, sys, tempfile, time
from mutasi_rules.batch import Region, run_region
from mutasi_rules.planning.recommendation import RecommendOptions
from benchmarks.pipeline import peak_rss_mb
baseline = peak_rss_mb()
with tempfile.TemporaryDirectory() as tmp:
    started = time.process_time()
    report = run_region(Region(sys.argv[1], sys.argv[2]), RecommendOptions(), tmp + "/out", tmp + "/audit")
    cpu = time.process_time() - started
print(json.dumps({"status": report.status, "employees": report.employees, "cpu_seconds": round(cpu, 2),
                  "import_mb": round(baseline, 1),
                  "peak_mb": round(peak_rss_mb(), 1)}))
"""


def memory_alone(root: Path, count: int) -> list[dict[str, Any]]:
    """Peak RSS of one region's task in a fresh process (a worker's first task), for ``count`` regions
    spread over the sizes: in a long-lived worker, RSS stays at the largest task it has run."""
    regions = sorted(discover_regions([root]), key=lambda r: sum(p.stat().st_size for p in Path(r.path).iterdir()))
    picks = sorted({round(i * (len(regions) - 1) / max(count - 1, 1)) for i in range(count)})
    out = []
    for index in picks:
        region = regions[index]
        measured = _child(_REGION_ALONE, region.name, region.path)
        print(f"  alone {region.name}: {measured}", flush=True)
        out.append({"region": region.name, **measured})
    return out


def _fit_power(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """y = c * x**k by least squares on logarithms: (c, k)."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    k = sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum((a - mx) ** 2 for a in lx)
    return math.exp(my - k * mx), k


def _fit_line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """y = a + b * x by least squares: (a, b)."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def _makespan(durations: list[float], workers: int) -> float:
    """Largest first onto the least-loaded worker (the batch's priority order)."""
    loads = [0.0] * workers
    for d in sorted(durations, reverse=True):
        i = loads.index(min(loads))
        loads[i] += d
    return max(loads)


def projection(one_worker: dict[str, Any], memory: list[dict[str, Any]], workers: list[int]) -> dict[str, Any]:
    """Wall time and memory per task for 4.3 million civil servants, from the measured per-region figures
    (CPU seconds from the 1-worker batch, peak RSS from regions run alone)."""
    from mutasi_rules.data.generator import region_sizes

    rows = one_worker["regions"]
    # CPU seconds of each task: what the region costs on a core of its own, whatever the load of the day.
    c, k = _fit_power([r["employees"] for r in rows], [r["cpu_seconds"] for r in rows])
    a, b = _fit_line([r["employees"] for r in memory], [r["peak_mb"] for r in memory])
    sizes = region_sizes(NATIONAL_REGIONS, NATIONAL_EMPLOYEES, seed=SEED)
    durations = [c * n**k for n in sizes]
    return {
        "time_fit": f"CPU seconds = {c:.3g} * employees^{k:.3f}",
        "memory_fit": f"peak RSS of a task alone, MB = {a:.0f} + {b * 1000:.1f} per 1,000 employees",
        "regions": NATIONAL_REGIONS,
        "employees": NATIONAL_EMPLOYEES,
        "largest_region": max(sizes),
        "median_region": sorted(sizes)[len(sizes) // 2],
        "largest_task_seconds": round(max(durations), 1),
        "largest_task_memory_mb": round(a + b * max(sizes)),
        "task_seconds_total": round(sum(durations)),
        "wall_seconds": {n: round(_makespan(durations, n)) for n in workers},
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch")
    parser.add_argument("--regions", type=int, default=14)
    parser.add_argument("--employees-total", type=int, default=100_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--memory-regions", type=int, default=4, metavar="K",
                        help="regions (spread over the sizes) run alone in fresh processes for memory per task")
    args = parser.parse_args()
    root = province_dir(args.regions, args.employees_total)
    runs = []
    for workers in args.workers:
        print(f"{args.regions} regions, {args.employees_total} employees, {workers} worker(s):", flush=True)
        runs.append(run_once(root, workers))
        print(f"  wall {runs[-1]['wall_seconds']} s (load {runs[-1]['load_1min_before']} -> "
              f"{runs[-1]['load_1min_after']})", flush=True)
    by_workers = {r["workers"]: r for r in runs}
    report: dict[str, Any] = {"machine": machine(), "regions": args.regions, "employees_total": args.employees_total,
                              "runs": runs}
    print("memory per task (regions alone, fresh processes):", flush=True)
    report["memory_alone"] = memory_alone(root, args.memory_regions) if args.memory_regions > 1 else []
    if 1 in by_workers and report["memory_alone"]:
        base = by_workers[1]["wall_seconds"]
        report["speedup"] = {n: round(base / r["wall_seconds"], 2) for n, r in by_workers.items()}
        report["projection"] = projection(by_workers[1], report["memory_alone"], [1, 2, 8, 16, 32, 64, 128])
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=2))
    if args.json:
        write_text(args.json, json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
