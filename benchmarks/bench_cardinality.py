"""Cardinality: what many services and series cost the read side of a real server.

Stores ``--services`` services with ``--series`` serving series in all (operations x
instances per service, a few recent 10 s windows each) through ``POST /api/v1/ingest`` of a
real ``mlvitals serve``, then times a ``/metrics`` scrape, ``/healthz`` while scrapes run,
the services page and ``GET /api/v1/services`` (each also as a ratio to ``/healthz`` alone
in the same run, for a loaded machine).

    .venv/bin/python -m benchmarks.bench_cardinality [--services 1000] [--series 20000]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import threading
import time
import uuid
from typing import Any

import httpx
import orjson

from benchmarks.bench_ingest import server
from benchmarks.databases import database
from mlvitals.sketches import QuantileSketch


def records(services: int, series: int, now: float, windows: int = 3) -> list[dict[str, Any]]:
    per_service = max(1, series // services)
    ops = max(1, min(8, per_service))
    instances = max(1, per_service // ops)
    latency = QuantileSketch()
    for k in range(200):
        latency.add(0.01 + k * 0.0005)
    packed = latency.to_dict(packed=True)
    out = []
    for s in range(services):
        for o in range(ops):
            for i in range(instances):
                for w in range(windows):
                    out.append(
                        {
                            "kind": "serving_window",
                            "service": f"svc-{s:05d}",
                            "version": "1",
                            "operation": f"op-{o}",
                            "instance": f"pod-{i}",
                            "start": now - 10.0 * (w + 1),
                            "length": 10.0,
                            "calls": 200,
                            "failures": {},
                            "client_errors": 0,
                            "latency": packed,
                            "cpu": packed,
                            "cpu_seconds": 1.0,
                            "peak_in_flight": 2,
                        }
                    )
    return out


def spread(times: list[float]) -> str:
    return f"p50 {statistics.median(times) * 1e3:,.1f} ms, max {max(times) * 1e3:,.1f} ms"


def timed(client: httpx.Client, path: str, rounds: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = client.get(path)
        times.append(time.perf_counter() - t0)
        r.raise_for_status()
        size = len(r.content)
    return times, size


def run(backend: str, services: int, series: int, rounds: int) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with database(backend) as db, server(db) as url, httpx.Client(base_url=url, timeout=600) as c:
        recs = records(services, series, time.time())
        t0 = time.perf_counter()
        accepted = rejected = 0
        for i in range(0, len(recs), 1000):
            body = gzip.compress(
                orjson.dumps({"batch_id": str(uuid.uuid4()), "records": recs[i : i + 1000]})
            )
            r = c.post(
                "/api/v1/ingest",
                content=body,
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
            r.raise_for_status()
            accepted += r.json()["accepted"]
            rejected += r.json()["rejected"]
        rows.append(
            (
                "ingest",
                f"{len(recs):,} windows in {time.perf_counter() - t0:.1f} s"
                f" ({accepted:,} accepted, {rejected:,} rejected)",
            )
        )
        alone, _ = timed(c, "/healthz", 40)
        base = statistics.median(alone)
        rows.append(("/healthz alone (the baseline)", spread(alone)))
        m, size = timed(c, "/metrics", rounds)
        rows.append(
            (
                "/metrics",
                f"{spread(m)}, {size / 1e6:.1f} MB, p50 {statistics.median(m) / base:,.0f}x",
            )
        )
        stop = threading.Event()

        def scrape() -> None:
            with httpx.Client(base_url=url, timeout=600) as s:
                while not stop.is_set():
                    s.get("/metrics")

        scraper = threading.Thread(target=scrape)
        scraper.start()
        try:
            h, _ = timed(c, "/healthz", 40)
        finally:
            stop.set()
            scraper.join()
        rows.append(
            (
                "/healthz during scrapes",
                f"{spread(h)}, p50 {statistics.median(h) / base:,.1f}x the baseline",
            )
        )
        p, _ = timed(c, "/services", rounds)
        rows.append(
            (
                "services page",
                f"{spread(p)}, p50 {statistics.median(p) / base:,.0f}x the baseline",
            )
        )
        a, size = timed(c, "/api/v1/services", rounds)
        rows.append(
            (
                "GET /api/v1/services",
                f"{spread(a)}, {size / 1e3:,.0f} kB, p50 {statistics.median(a) / base:,.0f}x"
                f" the baseline",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--series", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        print(f"\n{backend}: {args.services:,} services, {args.series:,} series")
        print("| what | measured |\n|---|---|")
        for what, value in run(backend, args.services, args.series, args.rounds):
            print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
