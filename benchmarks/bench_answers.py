"""The cost of answering the hot routes with or without validating their response models.

``GET /api/v1/services/{service}/series`` (4 series of 120 points) and
``POST /api/v1/ingest`` (a batch of 1,000 records, 50 of them rejected) are answered as
they are and documented by their models; this measures what validating them against
those models would add, against serialising the same body the way the routes did before
(a plain ``dict[str, Any]`` answer), all in one process.

    python -m benchmarks.bench_answers [--repeat 200]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from mlvitals.server.ingest_api import IngestAnswer
from mlvitals.server.serving.api import SeriesAnswer
from mlvitals.server.web.answers import json_answer


def _measures(rng: random.Random) -> dict[str, Any]:
    calls = rng.randint(100, 5000)
    return {
        "calls": calls,
        "calls_per_second": calls / 60,
        "errors": calls // 50,
        "client_errors": calls // 100,
        "error_rate": 0.02,
        "failures": {"ValueError": calls // 50},
        "latency_p50": rng.random() / 10,
        "latency_p90": rng.random() / 5,
        "latency_p95": rng.random() / 4,
        "latency_p99": rng.random() / 2,
        "latency_mean": rng.random() / 10,
        "cpu_per_call": rng.random() / 30,
        "cpu_p99": rng.random() / 10,
        "cpu_seconds": rng.random() * 100,
        "peak_rss_bytes": 300_000_000,
        "gpu_utilization": None,
        "gpu_peak_memory_bytes": None,
        "peak_in_flight": 3,
    }


def series_body() -> dict[str, Any]:
    rng = random.Random(1)
    series = [
        {
            "labels": {"instance": f"pod-{g}"},
            "points": [{"time": 1.8e9 + 60.0 * i, **_measures(rng)} for i in range(120)],
        }
        for g in range(4)
    ]
    return {
        "start": 1.8e9,
        "end": 1.8e9 + 7200,
        "step": 60.0,
        "total": _measures(rng),
        "series": series,
    }


def ingest_body() -> dict[str, Any]:
    errors = [
        {"index": i, "kind": "serving_window", "field": "calls", "reason": "Input should be >= 0"}
        for i in range(50)
    ]
    return {
        "batch_id": "7a0e3c43-8d5e-4d1c-9a3e-2c4f1d1b0a11",
        "duplicate": False,
        "accepted": 950,
        "rejected": 50,
        "stored": 950,
        "already_stored": 0,
        "errors": errors,
    }


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in microseconds (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    plain: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
    for name, body, model in (
        ("series", series_body(), SeriesAnswer),
        ("ingest", ingest_body(), IngestAnswer),
    ):
        typed: TypeAdapter[Any] = TypeAdapter(model)

        def old(b: dict[str, Any] = body) -> bytes:
            return plain.dump_json(plain.validate_python(b))

        def checked(b: dict[str, Any] = body, t: TypeAdapter[Any] = typed) -> bytes:
            return t.dump_json(t.validate_python(b))

        def answered(b: dict[str, Any] = body) -> object:
            return json_answer(b)

        before = best_of(old, args.repeat)
        now = best_of(answered, args.repeat)
        validated = best_of(checked, args.repeat)
        print(
            f"{name:7s} {len(plain.dump_json(body)):>8,d} bytes  before {before:8.1f} us  "
            f"as answered {now:8.1f} us ({now / before:.2f}x)  "
            f"validated by the model {validated:8.1f} us ({validated / before:.2f}x)"
        )


if __name__ == "__main__":
    main()
