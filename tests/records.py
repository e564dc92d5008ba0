"""Realistic wire records for tests and benchmarks."""

from __future__ import annotations

import random
import uuid
from typing import Any


def instance_sample(
    service: str = "iris", instance: str = "host-1", t: float = 1.7e9
) -> dict[str, Any]:
    return {
        "kind": "instance_sample",
        "service": service,
        "version": "1.2.0",
        "instance": instance,
        "time": t,
        "process_start": t - 3600,
        "cpu_percent": 37.5,
        "rss_bytes": 512 * 1024 * 1024,
        "host_memory_used_bytes": 6 * 1024**3,
        "host_memory_total_bytes": 16 * 1024**3,
        "open_fds": 42,
        "cpu_cores_allocated": 2.0,
        "memory_allocated_bytes": 4 * 1024**3,
        "gpus": [],
    }


def batch(records: list[dict[str, Any]], batch_id: str | None = None) -> dict[str, Any]:
    return {"batch_id": batch_id or str(uuid.uuid4()), "records": records}


def samples(n: int, *, start: float = 1.7e9, instance: str = "host-1") -> list[dict[str, Any]]:
    rng = random.Random(n)
    out = []
    for i in range(n):
        rec = instance_sample(instance=instance, t=start + i)
        rec["cpu_percent"] = rng.uniform(0, 100)
        out.append(rec)
    return out


def realistic_records(n: int, seed: int, *, window: float = 10.0) -> list[dict[str, Any]]:
    """What a fleet ships: mostly serving windows (with sketches), some instance samples."""
    try:
        from mlvitals.sketches import QuantileSketch
    except ImportError:  # sketches not built yet: samples only
        return samples(n, start=1e9 + seed * n)
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    ops = ["POST /predict", "POST /batch", "GET /health", "POST /explain"]
    for i in range(n):
        instance = f"pod-{i % 50}"
        start = 1.7e9 + (seed * n + i) * window
        if i % 10 == 9:
            out.append(instance_sample(instance=instance, t=start))
            continue
        latency, cpu = QuantileSketch(), QuantileSketch()
        calls = rng.randint(50, 400)
        for _ in range(calls):
            latency.add(rng.lognormvariate(-3.5, 0.6))
            cpu.add(rng.lognormvariate(-5.0, 0.5))
        errors = rng.randint(0, 3)
        out.append(
            {
                "kind": "serving_window",
                "service": "fraud-model",
                "version": "2.3.1",
                "operation": ops[i % len(ops)],
                "instance": instance,
                "start": start,
                "length": window,
                "calls": calls,
                "failures": {"TimeoutError": errors} if errors else {},
                "client_errors": rng.randint(0, 2),
                "latency": latency.to_dict(packed=True),
                "cpu": cpu.to_dict(packed=True),
                "cpu_seconds": cpu.sum,
                "peak_rss_bytes": 700_000_000,
                "peak_in_flight": rng.randint(1, 8),
            }
        )
    return out
