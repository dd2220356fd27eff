"""Latency of one why-not query on a loaded 7,000-employee dataset (issue 8 targets 50 ms).

Not a test: run ``.venv/bin/python benchmarks/whynot_latency.py [--employees N] [--queries Q]``.
The dataset is generated (``generator.generate_dataset(N, seed=1)``), the run context and the
``WhyNot`` service are built once (timed separately), then Q queries are timed one by one over
a fixed, seeded sample of (person in a surplus post, short post) pairs plus some pairs of
people outside the candidate pool. Prints the median, 95th percentile and worst query.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

from mutasi_rules.data.generator import generate_dataset
from mutasi_rules.planning.recommendation import RecommendOptions, prepare
from mutasi_rules.planning.whynot import WhyNot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=7000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    dataset = generate_dataset(args.employees, seed=args.seed)
    generated = time.perf_counter()
    ctx = prepare(dataset, RecommendOptions())
    prepared = time.perf_counter()
    service = WhyNot(ctx)
    built = time.perf_counter()

    rng = random.Random(args.seed)
    pool = sorted(e.nip for e in dataset.employees if e.position_id in ctx.surplus)
    everyone = sorted(e.nip for e in dataset.employees)
    targets = sorted(ctx.shortages)
    pairs = [(rng.choice(pool), rng.choice(targets)) for _ in range(args.queries * 3 // 4)]
    pairs += [(rng.choice(everyone), rng.choice(targets)) for _ in range(args.queries - len(pairs))]

    service.query(*pairs[0])  # first query warms caches (position and unit facts)
    times: list[float] = []
    counterfactuals = 0
    for nip, target in pairs:
        start = time.perf_counter()
        report = service.query(nip, target)
        times.append((time.perf_counter() - start) * 1000)
        counterfactuals += len(report.counterfactuals)
    service.close()

    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"dataset: {len(dataset.employees)} employees, {len(dataset.positions)} positions; "
          f"{len(pool)} in surplus posts, {len(targets)} short posts")
    print(f"generate {generated - started:.2f} s, prepare {prepared - generated:.2f} s, "
          f"WhyNot() {(built - prepared) * 1000:.1f} ms")
    print(f"{len(times)} queries ({counterfactuals} counterfactuals): median {statistics.median(times):.1f} ms, "
          f"p95 {p95:.1f} ms, worst {times[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
