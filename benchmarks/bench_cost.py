"""Cost of one service over 30 days of 10 s windows: query time on SQLite (and PostgreSQL).

One instance serving one operation for 30 days: 259,200 serving windows (with latency and
CPU sketches, as the SDK ships them) and an instance sample every 10 s (259,200 samples).
Timed, in the same run and on the same database:

- ``python``: the baseline a user would write first: load every window and sample of the
  month into Python and add them up;
- ``raw SQL``: mlvitals' own aggregation in SQL over the raw tables (LAG for up time), which
  is what a query costs before any rollup exists;
- ``first query``: a cost query on a database never rolled up, which rolls the month up;
- ``cost query``: the same query afterwards (the steady state: hourly rollups + raw tail),
  ``GET /api/v1/cost`` minus HTTP. The target is under 200 ms.

    python -m benchmarks.bench_cost [--days 30] [--repeat 20] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.databases import database
from mlvitals.cost.config import DEFAULT_CONFIG
from mlvitals.cost.serving import InstanceUsage, OperationUsage, serving_lines
from mlvitals.server.cost.queries import cost_report
from mlvitals.server.cost.usage import serving_usage
from mlvitals.server.database import open_database
from mlvitals.sketches import QuantileSketch
from mlvitals.store import Store

DAY = 86400.0
STEP = 10.0
T0 = 1_790_000_000.0 - 1_790_000_000.0 % DAY
GIB = 2**30


def seed(store: Store, days: int) -> int:
    rng = random.Random(7)
    sketches = []
    for _ in range(16):
        latency, cpu = QuantileSketch(), QuantileSketch()
        for _ in range(200):
            latency.add(rng.lognormvariate(-3.5, 0.6))
            cpu.add(rng.lognormvariate(-5.0, 0.5))
        sketches.append((json.dumps(latency.to_dict()), json.dumps(cpu.to_dict()), cpu.sum))
    n = int(days * DAY / STEP)
    chunk = 20_000
    for lo in range(0, n, chunk):
        windows, samples = [], []
        for i in range(lo, min(n, lo + chunk)):
            t = T0 + i * STEP
            latency, cpu, cpu_sum = sketches[i % len(sketches)]
            windows.append(
                {
                    "service": "fraud-model",
                    "version": "2.3.1",
                    "operation": "POST /predict",
                    "instance": "pod-1",
                    "start": t,
                    "length": STEP,
                    "calls": 200,
                    "errors": 0,
                    "client_errors": 0,
                    "failures": "{}",
                    "latency": latency,
                    "cpu": cpu,
                    "cpu_seconds": cpu_sum,
                    "peak_rss_bytes": 700_000_000,
                    "gpu_busy_seconds": None,
                    "gpu_peak_memory_bytes": None,
                    "peak_in_flight": 4,
                    "batch_id": "bench",
                }
            )
            samples.append(
                {
                    "service": "fraud-model",
                    "version": "2.3.1",
                    "instance": "pod-1",
                    "time": t + 5.0,
                    "process_start": T0 - 60,
                    "cpu_percent": 35.0,
                    "rss_bytes": 700_000_000,
                    "host_memory_used_bytes": 6 * GIB,
                    "host_memory_total_bytes": 16 * GIB,
                    "open_fds": 40,
                    "cpu_cores_allocated": 2.0,
                    "memory_allocated_bytes": 4 * GIB,
                    "gpus": "[]",
                    "batch_id": "bench",
                }
            )
        store.insert("serving_windows", windows)
        store.insert("instance_samples", samples)
    return n


def python_baseline(store: Store, start: float, end: float) -> float:
    """Load the month's rows and add them up in Python, per hour."""
    windows = store.fetch(
        "SELECT version, operation, instance, start, calls, cpu_seconds, gpu_busy_seconds"
        " FROM serving_windows WHERE service = ? AND start >= ? AND start < ?",
        ("fraud-model", start, end),
    )
    samples = store.fetch(
        "SELECT version, instance, time, cpu_cores_allocated, memory_allocated_bytes,"
        " rss_bytes FROM instance_samples WHERE service = ? AND time >= ? AND time < ?"
        " ORDER BY instance, time",
        ("fraud-model", start, end),
    )
    ops: dict[tuple[Any, ...], list[float]] = {}
    for w in windows:
        hour = w["start"] // 3600 * 3600
        acc = ops.setdefault((w["version"], w["operation"], w["instance"], hour), [0, 0, 0])
        acc[0] += w["calls"]
        acc[1] += w["cpu_seconds"]
        acc[2] += w["gpu_busy_seconds"] or 0.0
    inst: dict[tuple[Any, ...], list[float]] = {}
    prev: dict[str, float] = {}
    for s in samples:
        p = prev.get(s["instance"])
        prev[s["instance"]] = s["time"]
        if p is None or s["time"] - p > 30.0:
            continue
        dt = s["time"] - p
        acc = inst.setdefault((s["version"], s["instance"], p // 3600 * 3600), [0, 0, 0, 0])
        acc[0] += dt
        acc[1] += (s["cpu_cores_allocated"] or 0) * dt
        acc[2] += (s["memory_allocated_bytes"] or 0) * dt
        acc[3] += (s["rss_bytes"] or 0) * dt
    result = serving_lines(
        [
            InstanceUsage("fraud-model", v, i, h, h + 3600, a[0], a[1], 0, a[2], 0, a[3])
            for (v, i, h), a in inst.items()
        ],
        [
            OperationUsage("fraud-model", v, o, i, h, h + 3600, int(a[0]), a[1], a[2])
            for (v, o, i, h), a in ops.items()
        ],
        DEFAULT_CONFIG,
        start=start,
        end=end,
    )
    return result.amount


def raw_sql(store: Store, start: float, end: float) -> float:
    instances, operations = serving_usage(store, start, end, service="fraud-model")
    return serving_lines(instances, operations, DEFAULT_CONFIG, start=start, end=end).amount


def timed(fn: Callable[[], float], repeat: int) -> tuple[list[float], float]:
    times, value = [], 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t)
    return times, value


def run(backend: str, days: int, repeat: int) -> dict[str, Any]:
    with database(backend) as url:
        store = open_database(url)
        try:
            t = time.perf_counter()
            n = seed(store, days)
            seeded = time.perf_counter() - t
            start, end = T0, T0 + days * DAY
            now = end + 600

            def query() -> float:
                return cost_report(
                    store, DEFAULT_CONFIG, start, end, now, service="fraud-model"
                ).total

            py_times, py_total = timed(lambda: python_baseline(store, start, end), 2)
            sql_times, sql_total = timed(lambda: raw_sql(store, start, end), 2)
            first_times, first_total = timed(query, 1)
            warm_times, warm_total = timed(query, repeat)
        finally:
            store.close()
    for total in (sql_total, first_total, warm_total):
        assert abs(total - py_total) <= 1e-9 * py_total, (total, py_total)
    return {
        "backend": backend,
        "windows": n,
        "samples": n,
        "seed_s": seeded,
        "total": warm_total,
        "python_ms": min(py_times) * 1e3,
        "raw_sql_ms": min(sql_times) * 1e3,
        "first_ms": first_times[0] * 1e3,
        "p50_ms": statistics.median(warm_times) * 1e3,
        "max_ms": max(warm_times) * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        r = run(backend, args.days, args.repeat)
        print(
            f"{r['backend']}: {r['windows']:,} windows + {r['samples']:,} samples "
            f"(seeded in {r['seed_s']:.0f} s); cost {r['total']:.4f} USD\n"
            f"  python (load rows)   {r['python_ms']:9.1f} ms\n"
            f"  raw SQL aggregation  {r['raw_sql_ms']:9.1f} ms\n"
            f"  first query (rolls)  {r['first_ms']:9.1f} ms\n"
            f"  cost query           {r['p50_ms']:9.1f} ms p50, {r['max_ms']:.1f} ms max "
            f"of {args.repeat}  (target < 200 ms)\n"
            f"  speed-up of the cost query: {r['python_ms'] / r['p50_ms']:,.0f}x over python, "
            f"{r['raw_sql_ms'] / r['p50_ms']:,.0f}x over raw SQL"
        )


if __name__ == "__main__":
    main()
