"""Start-up and small-job wall time of the installed ``mutasi-rules`` command (issue 12 targets).

Not a test: run ``.venv/bin/python benchmarks/startup.py [--repeat N] [--command PATH]``.
Each measurement is a fresh process started the way another program starts the command
(its console script), timed from spawn to exit; prints the median and the worst of
``--repeat`` runs for:

- ``mutasi-rules --version`` and ``mutasi-rules --help`` (target: 0.3 s);
- ``mutasi-rules recommend <bundled example> --format json --no-audit`` (target: 1.5 s),
  the Kota Pontianak example shipped with the package (500 employees), plugins included.

Also lists the heavy libraries (numpy, scipy, durable, matplotlib, openpyxl, rich, pydantic)
that ``--help`` imports: none is expected.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"--version": 0.3, "--help": 0.3, "recommend": 1.5}
HEAVY = ("numpy", "scipy", "durable", "matplotlib", "openpyxl", "rich", "pydantic")


def _time(argv: list[str], cwd: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one run. CPU (user + system of the child) is what the wall time
    would be on an idle machine; on a shared one, the wall time also holds the wait for a core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--command", default=shutil.which("mutasi-rules", path=str(Path(sys.executable).parent))
                        or "mutasi-rules", help="the console script to time (default: this venv's)")
    args = parser.parse_args(argv)

    from mutasi_rules.core.locations import bundled_example_dir

    example = str(bundled_example_dir())
    cases = {
        "--version": [args.command, "--version"],
        "--help": [args.command, "--help"],
        "recommend": [args.command, "recommend", example, "--format", "json", "--no-audit"],
    }
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"n={args.repeat}, {os.cpu_count()} CPUs, load average {load}")
    print(f"{'command':<12} {'wall median':>11} {'wall worst':>10} {'CPU median':>10} {'target':>7}")
    with tempfile.TemporaryDirectory() as elsewhere:  # outside the checkout, as a user runs it
        for name, command in cases.items():
            _time(command, elsewhere)  # warm the file cache (.pyc) once
            runs = [_time(command, elsewhere) for _ in range(args.repeat)]
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            verdict = "ok" if wall <= TARGETS[name] else "over (wall)" if cpu <= TARGETS[name] else "OVER"
            slowest = max(w for w, _ in runs)
            print(f"{name:<12} {wall:11.3f} {slowest:10.3f} {cpu:10.3f} {TARGETS[name]:7.1f}  {verdict}")
    probe = ("import sys; from mutasi_rules.cli import build_parser; build_parser(); "
             f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))) or 'none')")
    heavy = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    print(f"heavy libraries imported by --help: {heavy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
