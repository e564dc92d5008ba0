"""Ingest over real HTTP: records/s and batch latency on SQLite and PostgreSQL.

One client process sends gzip'd batches of 1,000 realistic records (serving windows with
latency and CPU sketches, and instance samples, as the SDK ships them) to a real
``mlvitals serve`` subprocess, over a few keep-alive connections.

    python -m benchmarks.bench_ingest [--batches 60] [--concurrency 4] [--backend both]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.records import realistic_records

from benchmarks.databases import database


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def server(db: str, workers: int = 1) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "mlvitals.cli", "serve", "--db", db, "--port", str(port)]
    cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def run(backend: str, batches: int, concurrency: int, size: int, workers: int) -> dict[str, Any]:
    bodies = [
        gzip.compress(
            orjson.dumps({"batch_id": str(uuid.uuid4()), "records": realistic_records(size, i)})
        )
        for i in range(batches)
    ]
    latencies: list[float] = []
    lock = threading.Lock()
    with database(backend) as db, server(db, workers) as url:
        # Warm up the connection and the server's code paths with one batch.
        warm = orjson.dumps({"batch_id": str(uuid.uuid4()), "records": realistic_records(10, -1)})
        httpx.post(url + "/api/v1/ingest", content=warm).raise_for_status()

        def worker(chunk: list[bytes]) -> None:
            headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
            with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
                for body in chunk:
                    t0 = time.perf_counter()
                    r = client.post("/api/v1/ingest", content=body)
                    dt = time.perf_counter() - t0
                    r.raise_for_status()
                    assert r.json()["accepted"] == size, r.text
                    with lock:
                        latencies.append(dt)

        threads = [
            threading.Thread(target=worker, args=(bodies[k::concurrency],))
            for k in range(concurrency)
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        stored = httpx.get(url + "/api/v1/summary").json()["records"]
    assert stored == batches * size + 10, f"stored {stored}"
    latencies.sort()
    return {
        "backend": backend,
        "workers": workers,
        "records": batches * size,
        "records_per_s": batches * size / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="server processes to try"
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(
        f"{'backend':<12}{'workers':>8}{'records':>10}{'records/s':>12}{'p50 ms':>10}{'p99 ms':>10}"
    )
    for backend in backends:
        for workers in args.workers:
            r = run(backend, args.batches, args.concurrency, args.size, workers)
            print(
                f"{r['backend']:<12}{workers:>8}{r['records']:>10}{r['records_per_s']:>12,.0f}"
                f"{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
