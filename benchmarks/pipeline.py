"""One size of the benchmark, in the current process: the full pipeline, then (separately) the peers.

``measure_pipeline``: load the cached CSV dataset, run :func:`mutasi_rules.planning.recommendation.recommend`
(stage times from its progress callback), write the result JSON and the explanation of
every move atomically, and report wall time per stage and the process's peak RSS. The
harness runs it in a fresh subprocess per size so the peak belongs to that size alone.
"""

from __future__ import annotations

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
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class StageClock:
    """Turns recommend()'s progress reports into seconds per stage.

    A stage runs from its first report to its last; the stages are sequential, so the
    time between them (fact building, reports) is booked as ``other``.
    """

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.totals: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.first.setdefault(stage, now)
        self.last[stage] = now
        self.totals[stage] = total

    def seconds(self) -> dict[str, float]:
        return {stage: round(self.last[stage] - self.first[stage], 3) for stage in self.first}


def measure_pipeline(dataset_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Whole pipeline on one dataset directory; the result JSON and explanations go to ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    dataset = load_dataset(dataset_dir)
    loaded = time.perf_counter()
    clock = StageClock()
    result = recommend(dataset, progress=clock)
    recommended = time.perf_counter()
    write_text(out_dir / "result.json", result.to_json(indent=2) + "\n")
    written = time.perf_counter()
    write_text(out_dir / "explanations.md", explain_result(result, "id", "md"))
    done = time.perf_counter()
    stages = {"load": round(loaded - start, 3), **clock.seconds()}
    booked = sum(v for k, v in stages.items() if k != "load")
    stages["other_recommend"] = round((recommended - loaded) - booked, 3)
    stages["json_written"] = round(written - recommended, 3)
    stages["explanations"] = round(done - written, 3)
    pairs = sum(s.candidates_considered for s in result.shortages)
    candidate_seconds = (stages.get("candidate screen", 0.0) + stages.get("candidate rules", 0.0)
                         + stages.get("result rules", 0.0))
    return {
        "employees": len(dataset.employees),
        "total_seconds": round(done - start, 3),
        "stage_seconds": stages,
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
