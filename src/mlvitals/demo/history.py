"""Backfilled history, so the demo's charts show hours of data at first glance.

Windows are built the way the SDK builds them (a sketch per window, an instance sample at
the end of each window) from simulated calls: a daily traffic curve, a canary version, and
an error burst two hours ago. The history ends where the live replicas took over.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import numpy as np

from mlvitals.sketches import QuantileSketch

SERVICE = "tumour-classifier"
OPERATIONS = ("POST /predict", "POST /predict/batch")


def _window(
    rng: np.random.Generator,
    instance: str,
    version: str,
    op: str,
    start: float,
    calls: int,
    slow: float,
    error_share: float,
) -> dict[str, Any]:
    base = -4.2 if op == "POST /predict" else -2.6
    latencies = rng.lognormal(base + slow, 0.35, calls)
    cpu = latencies * rng.uniform(0.55, 0.8)
    lat_sketch, cpu_sketch = QuantileSketch(), QuantileSketch()
    lat_sketch.add_many(latencies)
    cpu_sketch.add_many(cpu)
    errors = int(rng.binomial(calls, error_share))
    return {
        "kind": "serving_window",
        "service": SERVICE,
        "version": version,
        "operation": op,
        "instance": instance,
        "start": start,
        "length": 10.0,
        "calls": calls,
        "failures": {"demo.model.ModelError": errors} if errors else {},
        "client_errors": int(rng.binomial(calls, 0.02)),
        "latency": lat_sketch.to_dict(),
        "cpu": cpu_sketch.to_dict(),
        "cpu_seconds": float(cpu.sum()),
        "peak_rss_bytes": int(380e6 + rng.normal(0, 5e6)),
        "peak_in_flight": int(rng.integers(1, 6)),
    }


def backfill(
    now: float, hours: float = 6.0, seed: int = 7, rate: float = 40.0
) -> list[list[dict[str, Any]]]:
    """Batches of records for the ``hours`` before ``now`` (10-second windows ending by
    ``now``), at about ``rate`` calls per second in all, as the live traffic sends."""
    rng = np.random.default_rng(seed)
    replicas = [("replica-a", "1.4.0", 0.0), ("replica-b", "1.4.0", 0.0), ("canary", "1.5.0", 0.15)]
    # Windows end exactly at ``now``, where the replicas' own monitors take over.
    start = now - math.floor(hours * 360) * 10
    burst = (now - 2 * 3600, now - 2 * 3600 + 600)
    batches: list[list[dict[str, Any]]] = []
    records: list[dict[str, Any]] = []
    t = start
    while t + 10 <= now:
        # A daily curve that meets the live rate at ``now``.
        daily = 1.0 + 0.5 * math.sin(2 * math.pi * (t - now) / 86400)
        for instance, version, slow in replicas:
            share = 0.2 if instance == "canary" else 0.4
            in_burst = burst[0] <= t < burst[1]
            for op in OPERATIONS:
                op_share = 0.9 if op == OPERATIONS[0] else 0.1
                calls = int(rng.poisson(10 * rate * share * daily * op_share))
                if calls:
                    err = 0.25 if in_burst and instance == "replica-b" else 0.01
                    records.append(_window(rng, instance, version, op, t, calls, slow, err))
            # One instance sample at the end of each window, as the SDK sends.
            records.append(
                {
                    "kind": "instance_sample",
                    "service": SERVICE,
                    "version": version,
                    "instance": instance,
                    "time": t + 10,
                    "cpu_percent": float(rng.uniform(20, 60) * daily),
                    "rss_bytes": int(380e6 + rng.normal(0, 5e6)),
                    "host_memory_used_bytes": int(6e9),
                    "host_memory_total_bytes": int(16e9),
                    "cpu_cores_allocated": 2.0,
                    "memory_allocated_bytes": 4 * 1024**3,
                }
            )
        if len(records) >= 2000:
            batches.append(records)
            records = []
        t += 10
    if records:
        batches.append(records)
    return batches


def envelope(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"batch_id": str(uuid.uuid4()), "records": records}
