"""Re-plan after one review decision on a prepared 7,000-employee run (issue 15 targets 1 s).

Not a test: run ``.venv/bin/python benchmarks/replan_latency.py [--employees N] [--rounds R]``.
The dataset is generated (``generator.generate_dataset(N, seed=1)``); a :class:`Service`
with a decision log in a temporary folder makes and records the first run (the prepared
context is then cached). Each round records one decision (a ``reject`` of a move of the
latest plan, so the plan really changes) and re-plans; timed separately:

* ``review``: checking the decision against the run and its lineage and recording it;
* ``replan+record``: ``Service.replan``: the new plan on the prepared context (the HiGHS model
  warm-started) and its record in the decision log (dataset, rule texts, result JSON);
* ``replan``: the same re-plan again without recording it (the plan alone).

Prints each round and the median of each part.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mutasi_rules.data.decisions import ReviewDecision
from mutasi_rules.data.generator import generate_dataset
from mutasi_rules.service import Service


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=7000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    dataset = generate_dataset(args.employees, seed=args.seed)
    generated = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        service = Service(Path(folder) / "audit.sqlite", cache_size=1)
        first = service.recommend(dataset)
        ran = time.perf_counter()
        print(f"dataset: {len(dataset.employees)} employees; generate {generated - started:.2f} s, "
              f"first run (prepare, rules, plan, record) {ran - generated:.2f} s, {len(first.result.moves)} moves")
        run_id, moves = first.run_id, first.result.moves
        parts: dict[str, list[float]] = {"review": [], "replan+record": [], "replan": []}
        for round_ in range(1, args.rounds + 1):
            move = moves[(round_ * 7) % len(moves)]
            decision = ReviewDecision(action="reject", nip=move.nip, position=move.to.position_id,
                                      reason=f"benchmark round {round_}", reviewer="benchmark",
                                      date=dt.date(2026, 12, 1))
            t0 = time.perf_counter()
            service.review(run_id, [decision])
            t1 = time.perf_counter()
            outcome = service.replan(run_id)
            t2 = time.perf_counter()
            service.replan(run_id, record=False)  # the same re-plan again, without recording it
            t3 = time.perf_counter()
            run_id, moves = outcome.run_id, outcome.result.moves
            for name, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                parts[name].append(value * 1000)
            print(f"round {round_}: review {parts['review'][-1]:.0f} ms, replan and record "
                  f"{parts['replan+record'][-1]:.0f} ms, replan alone {parts['replan'][-1]:.0f} ms; "
                  f"{len(moves)} moves, {len(outcome.result.run.review_decisions)} decisions in the lineage")
        both = statistics.median(a + b for a, b in zip(parts["review"], parts["replan+record"], strict=True))
        print("median: " + ", ".join(f"{name} {statistics.median(values):.0f} ms" for name, values in parts.items())
              + f"; review + replan and record {both:.0f} ms")
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
