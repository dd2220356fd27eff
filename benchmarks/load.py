"""Dataset loading alone: the columnar reader against the row-by-row reader (issue 19, load stage).

Not a test: run ``.venv/bin/python -m benchmarks.load [--sizes 7000 100000] [--formats csv csv-id xlsx]
[--readers columnar rows] [--repeat N] [--json FILE]``.

For each size and format the generated dataset is cached under ``benchmarks/data/`` (git
ignores it): ``csv`` as ``mutasi-rules generate`` writes it, ``csv-id`` as Excel writes CSV
under Indonesian settings (``;``, DD/MM/YYYY, decimal comma, BOM), ``xlsx`` one workbook
per table. Each measurement runs ``validate_dataset`` in a fresh interpreter (so the peak
RSS is that load's alone) and reports wall and CPU seconds, peak RSS, the number of
problems (0 expected) and the dataset's canonical SHA-256, which must be the same for
both readers. Target: 100,000 employees from CSV well under 10 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks.__main__ import DATA, SEED, _child, dataset_dir, machine

FORMATS = ("csv", "csv-id", "xlsx")
READERS = ("columnar", "rows")

_LOAD = """
import json, resource, sys, time
from mutasi_rules.core.canonical import sha256_of
from mutasi_rules.data.loading import validate_dataset
from benchmarks.pipeline import peak_rss_mb
wall, cpu = time.perf_counter(), time.process_time()
dataset, problems = validate_dataset(sys.argv[1], columnar=sys.argv[2] == "columnar")
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                  "peak_rss_mb": round(peak_rss_mb(), 1),
                  "problems": len(problems), "employees": len(dataset.employees) if dataset else None,
                  "sha256": sha256_of(dataset) if dataset else None}))
"""


def formatted_dir(size: int, fmt: str) -> Path:
    """The cached dataset of ``size`` employees in ``fmt`` (generated on first use)."""
    if fmt == "csv":
        return dataset_dir(size)
    path = DATA / f"n{size}-s{SEED}-{fmt}"
    if not path.exists():  # written beside it, then renamed: an interrupted run leaves no half dataset
        import shutil

        from mutasi_rules.data.loading import load_dataset, save_dataset

        dataset = load_dataset(dataset_dir(size))
        partial = path.with_name(path.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        if fmt == "csv-id":
            save_dataset(dataset, partial, "csv", csv_dialect="id")
        else:
            save_dataset(dataset, partial, "xlsx")
        partial.rename(path)
    return path


def measure(size: int, fmt: str, reader: str, repeat: int) -> dict[str, Any]:
    path = formatted_dir(size, fmt)
    runs = [_child(_LOAD, str(path), reader) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["wall_seconds"])
    return {"employees": size, "format": fmt, "reader": reader, "runs": [r["wall_seconds"] for r in runs],
            "median_wall_seconds": statistics.median(r["wall_seconds"] for r in runs), **best}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("--sizes", type=int, nargs="+", default=[7000, 100000])
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=["csv"])
    parser.add_argument("--readers", nargs="+", choices=READERS, default=list(READERS))
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per measurement (default 3)")
    parser.add_argument("--json", metavar="FILE", help="write the records to FILE")
    args = parser.parse_args(argv)
    records = []
    for size in args.sizes:
        for fmt in args.formats:
            for reader in args.readers:
                record = measure(size, fmt, reader, args.repeat)
                records.append(record)
                print(f"{size:,} {fmt} {reader}: {record['median_wall_seconds']:.2f} s median wall, "
                      f"cpu {record['cpu_seconds']:.2f} s, peak {record['peak_rss_mb']:.0f} MB", file=sys.stderr,
                      flush=True)
    shas = {(r["employees"], r["format"]): set() for r in records}
    for r in records:
        shas[(r["employees"], r["format"])].add(r["sha256"])
    m = machine()
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['memory_gb']} GB, Python {m['python']}")
    print("| employees | format | reader | median wall s | best wall s | CPU s | peak RSS MB | problems "
          "| same dataset |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in records:
        same = len(shas[(r["employees"], r["format"])]) == 1
        print(f"| {r['employees']:,} | {r['format']} | {r['reader']} | {r['median_wall_seconds']:.2f} | "
              f"{r['wall_seconds']:.2f} | {r['cpu_seconds']:.2f} | {r['peak_rss_mb']:.0f} | {r['problems']} | {same} |")
    if args.json:
        from mutasi_rules.core.atomic import write_text

        write_text(args.json, json.dumps({"machine": m, "records": records}, indent=2) + "\n")
    return 0 if all(len(s) == 1 for s in shas.values()) and all(r["problems"] == 0 for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
