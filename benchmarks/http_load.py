"""Load benchmark of the HTTP API against a real ``mutasi-rules serve`` (uvicorn) on 127.0.0.1 (issue 14).

Not a test: run ``.venv/bin/python benchmarks/http_load.py [--employees 7000] [--clients 20]``.

1. A dataset is generated (``generate_dataset(N, seed)``) and recommended in process through
   :class:`~mutasi_rules.service.Service` (the in-process time, best of ``--repeat``).
2. The server is started as a subprocess (the real CLI, a fresh configuration with one analyst
   key and a private data folder), the dataset is uploaded as JSON, and the run context is
   prepared by a first why-not query (timed).
3. why-not latency: in process (``Service.why_not`` and the report's JSON, same queries), over
   HTTP from one client, and with ``--clients`` concurrent clients (keep-alive connections), two ways:
   *paced* -- each client sends one query every ``--interval`` seconds (the offered load of an
   HR office: 20 people clicking), and *saturated* -- each client sends its next query as soon
   as the last is answered (the server's throughput; latency is then queueing).
4. recommend over HTTP (best of ``--repeat``), compared with the in-process time.
5. ``--mixed`` requests (default 1,000) from ``--clients`` concurrent clients: mostly why-not,
   with workload, run reads, explanations, audit listings and a few recommends; then
   ``mutasi-rules audit verify`` on the server's decision log.

Every phase is bounded by ``--budget`` seconds; the server is stopped at the end. Prints a
JSON summary (the figures in docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.data.generator import generate_dataset
from mutasi_rules.hosting.access import Role, ServiceConfig, add_key, write_config
from mutasi_rules.planning.recommendation import RecommendOptions
from mutasi_rules.service import Service

Call = Callable[[httpx.Client], httpx.Response]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def summary(times: list[float]) -> dict[str, float]:
    return {"count": len(times), "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1), "max_ms": round(max(times), 1)}


def drive(base: str, headers: dict[str, str], calls: list[Call], clients: int, budget: float,
          interval: float = 0.0) -> tuple[list[float], Counter[int], float]:
    """Run ``calls`` from ``clients`` threads (each its own keep-alive connection); latencies in ms."""
    queue = list(reversed(calls))
    lock = threading.Lock()
    times: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + budget

    def client(index: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=600) as http:
            next_at = time.monotonic() + interval * index / max(clients, 1)  # spread the first sends
            while time.monotonic() < deadline:
                with lock:
                    if not queue:
                        return
                    call = queue.pop()
                if interval:
                    pause = next_at - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    next_at = max(next_at + interval, time.monotonic())
                started = time.perf_counter()
                answer = call(http)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    times.append(elapsed)
                    statuses[answer.status_code] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, statuses, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=7000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--queries", type=int, default=400, help="why-not queries per latency phase")
    parser.add_argument("--interval", type=float, default=1.0, help="paced phase: seconds between a client's sends")
    parser.add_argument("--mixed", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per phase at most")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (serve --workers)")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {"employees": args.employees, "clients": args.clients, "workers": args.workers,
                               "cpus": os.cpu_count(), "load_average": os.getloadavg()[0]}

    folder = Path(tempfile.mkdtemp(prefix="mutasi-http-bench-"))  # 0700: holds (synthetic) personal data
    server: subprocess.Popen[bytes] | None = None
    try:
        dataset = generate_dataset(args.employees, seed=args.seed)
        options = RecommendOptions()
        with Service(folder / "in-process.sqlite") as service:
            in_process = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                outcome = service.recommend(dataset, options)
                in_process.append(time.perf_counter() - started)
            context = service.prepare(dataset, options)
            pool = sorted(e.nip for e in dataset.employees if e.position_id in context.surplus)
            short = sorted(context.shortages)
            # The query population of benchmarks/whynot_latency.py: 3/4 a person in a surplus post asking
            # about a short post (why was I not moved there?), 1/4 anyone asking about a short post.
            rng = random.Random(args.seed)
            nips = sorted(e.nip for e in dataset.employees)
            count = max(args.queries, args.mixed)
            pairs = [(rng.choice(pool), rng.choice(short)) for _ in range(count * 3 // 4)]
            pairs += [(rng.choice(nips), rng.choice(short)) for _ in range(count - len(pairs))]
            rng.shuffle(pairs)
            service.why_not(dataset, *pairs[0], options)
            local = []
            for nip, position_id in pairs[:args.queries]:
                started = time.perf_counter()
                service.why_not(dataset, nip, position_id, options).to_json()
                local.append((time.perf_counter() - started) * 1000)
        figures["why_not_in_process"] = summary(local)
        figures["recommend_in_process_s"] = round(min(in_process), 2)
        figures["moves"] = len(outcome.result.moves)

        config, key = add_key(ServiceConfig(data_dir=str(folder / "data")), "bench", Role.ANALYST)
        config_path = folder / "service.yaml"
        write_config(config_path, config)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed with the folder
        server = subprocess.Popen([sys.executable, "-m", "mutasi_rules", "serve", "--port", str(port), "--config",
                                   str(config_path), "--workers", str(args.workers)], stdout=log,
                                  stderr=subprocess.STDOUT)
        headers = {"Authorization": f"Bearer {key}"}
        started = time.perf_counter()
        while True:
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > 60 or server.poll() is not None:
                raise SystemExit("the server did not start; see " + str(folder / "server.log"))
            time.sleep(0.2)
        figures["server_start_s"] = round(time.perf_counter() - started, 2)

        with httpx.Client(base_url=base, headers=headers, timeout=600) as http:
            body = canonical_json(dataset.model_dump(mode="json")).encode("utf-8")
            started = time.perf_counter()
            answer = http.post("/v1/datasets", content=body, headers={"content-type": "application/json"})
            answer.raise_for_status()
            figures["upload_s"] = round(time.perf_counter() - started, 2)
            figures["upload_mb"] = round(len(body) / 1e6, 1)
            dataset_id = answer.json()["id"]

            positions = sorted(p.id for p in dataset.positions)

            def why_not(pair: tuple[str, str]) -> Call:
                payload = {"dataset_id": dataset_id, "nip": pair[0], "position_id": pair[1]}
                return lambda client: client.post("/v1/why-not", json=payload)

            started = time.perf_counter()
            http.post("/v1/why-not", json={"dataset_id": dataset_id, "nip": nips[0], "position_id": positions[0]})
            figures["first_why_not_prepare_s"] = round(time.perf_counter() - started, 2)
            if args.workers > 1:  # every worker prepares its own context: warm them all before measuring
                drive(base, headers, [why_not(p) for p in pairs[:args.clients * 4]], args.clients, args.budget)

            single, single_status, _ = drive(base, headers, [why_not(p) for p in pairs[:args.queries]], 1,
                                             args.budget)
            figures["why_not_one_client"] = {**summary(single), "statuses": dict(single_status)}
            paced, paced_status, _paced_wall = drive(base, headers, [why_not(p) for p in pairs[:args.queries]],
                                                    args.clients, args.budget, args.interval)
            figures["why_not_paced"] = {**summary(paced), "offered_per_s": round(args.clients / args.interval, 1),
                                        "statuses": dict(paced_status)}
            hot, hot_status, hot_wall = drive(base, headers, [why_not(p) for p in pairs[:args.queries]],
                                              args.clients, args.budget)
            figures["why_not_saturated"] = {**summary(hot), "per_s": round(len(hot) / hot_wall, 1),
                                            "statuses": dict(hot_status)}

            over_http = []
            run_id = None
            for _ in range(args.repeat):
                started = time.perf_counter()
                answer = http.post("/v1/recommend", json={"dataset_id": dataset_id})
                answer.raise_for_status()
                run = answer.json()
                over_http.append(time.perf_counter() - started)
                run_id = run["run_id"]
            figures["recommend_http_s"] = round(min(over_http), 2)
            figures["recommend_ratio"] = round(min(over_http) / min(in_process), 2)
            moved = [m["nip"] for m in run["result"]["moves"]] or nips[:1]

        kinds: list[tuple[str, Call]] = []
        for index in range(args.mixed):
            share = index % 100
            if share < 80:
                kinds.append(("why-not", why_not(pairs[index])))
            elif share < 86:
                nip = moved[index % len(moved)]
                kinds.append(("explanation",
                              lambda c, n=nip: c.get(f"/v1/runs/{run_id}/explanation", params={"nip": n})))
            elif share < 90:
                kinds.append(("workload", lambda c: c.post("/v1/workload", json={"dataset_id": dataset_id})))
            elif share < 94:
                kinds.append(("audit list", lambda c: c.get("/v1/audit/runs")))
            elif share < 97:
                kinds.append(("run", lambda c: c.get(f"/v1/runs/{run_id}")))
            elif share < 99:
                kinds.append(("verify", lambda c: c.get("/v1/audit/verify")))
            else:
                kinds.append(("recommend", lambda c: c.post("/v1/recommend", json={"dataset_id": dataset_id})))
        rng.shuffle(kinds)
        mixed, mixed_status, mixed_wall = drive(base, headers, [call for _, call in kinds], args.clients,
                                                args.budget)
        figures["mixed"] = {**summary(mixed), "wall_s": round(mixed_wall, 1), "statuses": dict(mixed_status),
                            "by_kind": dict(Counter(kind for kind, _ in kinds))}
        figures["server_errors"] = sum(n for status, n in (single_status + paced_status + hot_status
                                                           + mixed_status).items()
                                       if status >= 500)
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    verify = subprocess.run([sys.executable, "-m", "mutasi_rules", "audit", "verify", "--audit-db",
                             str(folder / "data" / "audit.sqlite")], capture_output=True, text=True, check=False)
    figures["audit_verify"] = {"exit": verify.returncode, "output": verify.stdout.strip().split(": ", 1)[-1]}
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    return 0 if figures.get("server_errors", 1) == 0 and verify.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
