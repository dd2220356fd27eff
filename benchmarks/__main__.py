"""``python -m benchmarks run [--sizes 1000 7000 30000 100000] [--json FILE]``.

For each size: generate the example dataset (cached as CSV under benchmarks/data/, which
git ignores), then in a fresh subprocess run the whole pipeline (load from CSV,
workload, rules, plan, result JSON and explanations written) and read its wall time per
stage and peak RSS, then in another subprocess measure the peers on the same rules and
data (docs/performance.md). Prints a table; ``--json`` writes a list with one object per
size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mutasi_rules.core.atomic import write_text

DATA = Path(__file__).resolve().parent / "data"
SEED = 7


def dataset_dir(size: int, seed: int = SEED) -> Path:
    """The cached CSV dataset of ``size`` employees (generated on first use)."""
    path = DATA / f"n{size}-s{seed}"
    if not (path / "employees.csv").exists():
        from mutasi_rules.data.generator import generate_dataset
        from mutasi_rules.data.loading import save_dataset

        DATA.mkdir(parents=True, exist_ok=True)
        save_dataset(generate_dataset(size, seed=seed), path, "csv")
    return path


def _child(code: str, *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; its last stdout line is a JSON object."""
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


_PIPELINE = """
import json, sys
from pathlib import Path
from benchmarks.pipeline import measure_pipeline
print(json.dumps(measure_pipeline(Path(sys.argv[1]), Path(sys.argv[2]))))
"""

_PEERS = """
import json, sys
from mutasi_rules.data.loading import load_dataset
from benchmarks.peers import measure_peers
print(json.dumps(measure_peers(load_dataset(sys.argv[1]), sample=int(sys.argv[2]), zen_sample=int(sys.argv[3]))))
"""


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    return {"nproc": os.cpu_count(), "cpu": model, "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version()}


def run_size(size: int, *, peers: bool, sample: int, zen_sample: int) -> dict[str, Any]:
    data = dataset_dir(size)
    with tempfile.TemporaryDirectory(prefix="mutasi-bench-") as out:
        record = _child(_PIPELINE, str(data), out)
    if peers:
        measured = _child(_PEERS, str(data), str(sample), str(zen_sample))
        measured["zen_engine"].pop("expressions", None)
        record["peers"] = measured
    return record


def _rate(value: Any) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ratio(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f}x"


def table(records: list[dict[str, Any]]) -> str:
    head = ["employees", "total s", "peak RSS MB", "pairs", "engine pairs", "pairs/s (candidate stage)",
            "decisions/s (pipeline path: screen + engine on the result)", "x naive durable", "x zen",
            "screen pairs/s", "naive durable pairs/s", "zen pairs/s (eval only)",
            "zen pairs/s (with contexts)", "numpy bound pairs/s", "agree"]
    rows = []
    for r in records:
        p = r.get("peers", {})
        agree = all(p.get(k, {}).get("agrees_with_screen", True) for k in ("naive_durable", "zen_engine",
                                                                              "vectorised_bound")) if p else "-"
        rows.append([f"{r['employees']:,}", f"{r['total_seconds']:.1f}", f"{r['peak_rss_mb']:.0f}", f"{r['pairs']:,}",
                     f"{r['engine_pairs']:,}", _rate(r["pairs_per_second"]),
                     _rate(p.get("screen", {}).get("decisions_per_second")),
                     _ratio(p.get("ratios", {}).get("vs_naive_durable")),
                     _ratio(p.get("ratios", {}).get("vs_zen_engine")),
                     _rate(p.get("screen", {}).get("pairs_per_second")),
                     _rate(p.get("naive_durable", {}).get("pairs_per_second")),
                     _rate(p.get("zen_engine", {}).get("pairs_per_second")),
                     _rate(p.get("zen_engine", {}).get("pairs_per_second_with_contexts")),
                     _rate(p.get("vectorised_bound", {}).get("pairs_per_second")), str(agree)])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    stages = ["", "Seconds per stage:", ""]
    for r in records:
        stages.append(f"- {r['employees']:,}: " + ", ".join(f"{k} {v:.2f}" for k, v in r["stage_seconds"].items()))
    stages += ["", "CPU seconds per stage (total; load average when the size started):", ""]
    for r in records:
        if "stage_cpu_seconds" in r:
            stages.append(f"- {r['employees']:,} ({r['total_cpu_seconds']:.1f} s; load {r['load_average_at_start']}): "
                          + ", ".join(f"{k} {v:.2f}" for k, v in r["stage_cpu_seconds"].items()))
    stages += ["", "Peak RSS MB by the end of each stage:", ""]
    for r in records:
        if "peak_rss_mb_by_stage_end" in r:
            stages.append(f"- {r['employees']:,}: " + ", ".join(f"{k} {v:.0f}"
                                                               for k, v in r["peak_rss_mb_by_stage_end"].items()))
    return "\n".join(lines + stages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="measure the pipeline and its peers")
    run.add_argument("--sizes", type=int, nargs="+", default=[1000, 7000])
    run.add_argument("--json", metavar="FILE", help="write the records to FILE")
    run.add_argument("--no-peers", action="store_true", help="measure the pipeline only")
    run.add_argument("--sample", type=int, default=3000, help="pairs sampled for naive durable (default 3000)")
    run.add_argument("--zen-sample", type=int, default=20000, help="pairs sampled for zen-engine (default 20000)")
    args = parser.parse_args(argv)
    if any(size < 1 for size in args.sizes):
        parser.error("sizes must be positive")
    records = []
    for size in args.sizes:
        record = run_size(size, peers=not args.no_peers, sample=args.sample, zen_sample=args.zen_sample)
        record["machine"] = machine()
        records.append(record)
        print(f"{size:,} employees: {record['total_seconds']:.1f} s, peak RSS {record['peak_rss_mb']:.0f} MB",
              file=sys.stderr, flush=True)
        if args.json:  # after every size, so a long run leaves what it measured
            write_text(args.json, json.dumps(records, indent=2) + "\n")
    m = machine()
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['memory_gb']} GB, Python {m['python']}")
    print(table(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
