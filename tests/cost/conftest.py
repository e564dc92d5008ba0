"""Seeding serving windows and instance samples as the SDK ships them, and an app client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mlvitals.server import create_app
from mlvitals.settings import Settings
from mlvitals.sketches import QuantileSketch
from mlvitals.store import Store

GIB = 2**30
#: 2026-11-02 00:00 UTC, a Monday.
T = datetime(2026, 11, 2, tzinfo=UTC).timestamp()
EMPTY_SKETCH = json.dumps(QuantileSketch().to_dict())


def window(
    start: float,
    *,
    service: str = "iris",
    version: str = "1",
    operation: str = "predict",
    instance: str = "pod-1",
    calls: int = 50,
    cpu_seconds: float = 1.0,
    gpu_busy_seconds: float | None = None,
    length: float = 10.0,
) -> dict[str, Any]:
    return {
        "service": service,
        "version": version,
        "operation": operation,
        "instance": instance,
        "start": start,
        "length": length,
        "calls": calls,
        "errors": 0,
        "client_errors": 0,
        "failures": "{}",
        "latency": EMPTY_SKETCH,
        "cpu": EMPTY_SKETCH,
        "cpu_seconds": cpu_seconds,
        "peak_rss_bytes": GIB,
        "gpu_busy_seconds": gpu_busy_seconds,
        "gpu_peak_memory_bytes": None,
        "peak_in_flight": 1,
        "batch_id": "seed",
    }


def sample(
    t: float,
    *,
    service: str = "iris",
    version: str = "1",
    instance: str = "pod-1",
    cores: float | None = 2.0,
    memory: int | None = 4 * GIB,
    host_memory: int | None = 16 * GIB,
    rss: int | None = GIB,
    gpus: tuple[str, ...] = (),
) -> dict[str, Any]:
    readings = [{"index": i, "name": n, "utilization": 0.5} for i, n in enumerate(gpus)]
    return {
        "service": service,
        "version": version,
        "instance": instance,
        "time": t,
        "process_start": t - 100,
        "cpu_percent": 10.0,
        "rss_bytes": rss,
        "host_memory_used_bytes": 8 * GIB,
        "host_memory_total_bytes": host_memory,
        "open_fds": 10,
        "cpu_cores_allocated": cores,
        "memory_allocated_bytes": memory,
        "gpus": json.dumps(readings),
        "batch_id": "seed",
    }


def seed_instance(
    store: Store, start: float, end: float, step: float = 10.0, **fields: Any
) -> None:
    """Samples at ``start``, ``start + step``, ... ``end`` (inclusive)."""
    n = round((end - start) / step)
    store.insert("instance_samples", [sample(start + i * step, **fields) for i in range(n + 1)])


def seed_windows(store: Store, start: float, end: float, step: float = 10.0, **fields: Any) -> None:
    """Windows starting at ``start``, ``start + step``, ... before ``end``."""
    n = round((end - start) / step)
    store.insert("serving_windows", [window(start + i * step, **fields) for i in range(n)])


@pytest.fixture
def make_client(store: Store) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(now: float, **settings: Any) -> TestClient:
        app = create_app(Settings().replace(**settings), store, clock=lambda: now)
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()
