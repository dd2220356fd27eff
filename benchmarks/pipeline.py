"""One size of the benchmark, in the current process: the full pipeline, then (separately) the peers.

``measure_pipeline``: load the cached CSV dataset, run :func:`mutasi_rules.planning.recommendation.recommend`
(stage times from its progress callback), write the result JSON and the explanation of
every move atomically, and report per stage the wall time, the CPU time of this process
(on a shared machine the wall time follows the load, the CPU time much less) and the peak
RSS reached by its end, plus the process's peak RSS. The harness runs it in a fresh
subprocess per size so the peak belongs to that size alone.

Stages of recommend(): ``workload`` (prepare: rule sets, workload analysis), ``employee
rules``, ``candidate screen`` (every candidate rule over every pair, numpy), ``candidate
rules`` (vetoes and scores of the pairs the screen lets through, or the engine on them when
the screen cannot decide every block and score rule exactly), ``plan`` (HiGHS), ``result
rules`` (durable_rules on the pairs in the result, which must agree with the screen).
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from mutasi_rules.core.atomic import write_text
from mutasi_rules.data.loading import load_dataset
from mutasi_rules.explain.explanations import explain_result
from mutasi_rules.planning.recommendation import recommend


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MB.

    Linux's VmHWM, which belongs to this program's memory; ``ru_maxrss`` would do elsewhere,
    but on Linux it carries over the parent's peak across fork and exec, so a benchmark child
    started by a large parent would report the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class StageClock:
    """Turns recommend()'s progress reports into seconds per stage.

    A stage runs from its first report to its last; the stages are sequential, so the
    time between them (fact building, reports) is booked as ``other``.
    """

    def __init__(self) -> None:
        self.first: dict[str, tuple[float, float]] = {}
        self.last: dict[str, tuple[float, float]] = {}
        self.totals: dict[str, int] = {}
        self.peak: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = (time.perf_counter(), time.process_time())
        self.first.setdefault(stage, now)
        self.last[stage] = now
        self.totals[stage] = total
        self.peak[stage] = round(peak_rss_mb(), 1)

    def seconds(self) -> dict[str, float]:
        return {stage: round(self.last[stage][0] - self.first[stage][0], 3) for stage in self.first}

    def cpu_seconds(self) -> dict[str, float]:
        return {stage: round(self.last[stage][1] - self.first[stage][1], 3) for stage in self.first}


def measure_pipeline(dataset_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Whole pipeline on one dataset directory; the result JSON and explanations go to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    load_average = os.getloadavg()[0]
    start, start_cpu = time.perf_counter(), time.process_time()
    dataset = load_dataset(dataset_dir)
    loaded, loaded_cpu = time.perf_counter(), time.process_time()
    loaded_peak = peak_rss_mb()
    clock = StageClock()
    result = recommend(dataset, progress=clock)
    recommended, recommended_cpu = time.perf_counter(), time.process_time()
    recommended_peak = peak_rss_mb()
    write_text(out_dir / "result.json", result.to_json(indent=2) + "\n")
    written, written_cpu = time.perf_counter(), time.process_time()
    write_text(out_dir / "explanations.md", explain_result(result, "id", "md"))
    done, done_cpu = time.perf_counter(), time.process_time()
    stages = {"load": round(loaded - start, 3), **clock.seconds()}
    booked = sum(v for k, v in stages.items() if k != "load")
    stages["other_recommend"] = round((recommended - loaded) - booked, 3)
    stages["json_written"] = round(written - recommended, 3)
    stages["explanations"] = round(done - written, 3)
    cpu = {"load": round(loaded_cpu - start_cpu, 3), **clock.cpu_seconds()}
    cpu["other_recommend"] = round((recommended_cpu - loaded_cpu) - sum(v for k, v in cpu.items() if k != "load"), 3)
    cpu["json_written"] = round(written_cpu - recommended_cpu, 3)
    cpu["explanations"] = round(done_cpu - written_cpu, 3)
    peaks = {"load": round(loaded_peak, 1), **clock.peak, "recommend": round(recommended_peak, 1)}
    pairs = sum(s.candidates_considered for s in result.shortages)
    candidate_seconds = (stages.get("candidate screen", 0.0) + stages.get("candidate rules", 0.0)
                         + stages.get("result rules", 0.0))
    return {
        "employees": len(dataset.employees),
        "total_seconds": round(done - start, 3),
        "total_cpu_seconds": round(done_cpu - start_cpu, 3),
        "load_average_at_start": round(load_average, 2),
        "stage_seconds": stages,
        "stage_cpu_seconds": cpu,
        "peak_rss_mb_by_stage_end": peaks,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "pairs": pairs,
        # Pairs durable_rules evaluated: with the screen scoring (issue 19) only those in the result.
        "engine_pairs": clock.totals.get("result rules", clock.totals.get("candidate rules", 0)),
        "screen_scored_pairs": clock.totals.get("candidate rules", 0) if "result rules" in clock.totals else 0,
        "candidate_stage_seconds": round(candidate_seconds, 3),
        "pairs_per_second": round(pairs / candidate_seconds) if candidate_seconds > 0 else None,
        "moves": len(result.moves),
        "shortages": len(result.shortages),
    }


if __name__ == "__main__":  # pragma: no cover - used by the harness through a subprocess
    import json

    print(json.dumps(measure_pipeline(Path(sys.argv[1]), Path(sys.argv[2]))))
