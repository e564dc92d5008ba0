"""The SDK's exposition against the real Prometheus tools: promtool accepts it, and a real
Prometheus server that scrapes an instrumented app answers PromQL with the exact count and
with quantiles close to NumPy's percentiles of the true latencies."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI

from mlvitals import Monitor
from tests.conftest import free_port, require_service
from tests.sdk.conftest import FakeClock


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        require_service(f"{name} is missing: apt-get install prometheus")
    assert path is not None
    return path


@pytest.fixture
def instrumented_app() -> Iterator[tuple[str, Monitor]]:
    """A FastAPI app behind the middleware, with the monitor's /metrics, on a real server."""
    monitor = Monitor("scraped", "1.0", background=False)
    api = FastAPI()

    @api.get("/predict/{item}")
    def predict(item: int) -> dict[str, int]:
        if item % 5 == 0:
            raise ValueError("bad item")
        return {"item": item}

    api.mount("/metrics", monitor.metrics_app())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(monitor.asgi(api), host="127.0.0.1", port=port, log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/metrics", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    try:
        yield url, monitor
    finally:
        server.should_exit = True
        thread.join(10)
        monitor.close()


def exercise(url: str, calls: int, bad: int = 6) -> None:
    with httpx.Client(base_url=url) as client:
        for i in range(1, calls + 1):
            # A call that raises makes uvicorn close its connection once the 500 is sent; on
            # a connection of its own, the next call never races that close.
            client.get(f"/predict/{i}", headers={"Connection": "close"} if i % 5 == 0 else None)
        for _ in range(bad):
            client.get("/predict/not-a-number")  # 422: a client error


def test_promtool_accepts_the_sdk_exposition(instrumented_app: tuple[str, Monitor]) -> None:
    url, _ = instrumented_app
    exercise(url, 50)
    text = httpx.get(url + "/metrics", follow_redirects=True).text
    assert "mlvitals_calls_total{" in text
    check = subprocess.run(
        [tool("promtool"), "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


@contextmanager
def prometheus(tmp_path: Path, target: str) -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """A real Prometheus scraping ``target`` every second; yields a PromQL instant query."""
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: model\n"
        f"    static_configs: [{{targets: ['{target.removeprefix('http://')}']}}]\n"
    )
    proc = subprocess.Popen(
        [
            tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api/v1/query"

    def query(promql: str) -> list[dict[str, Any]]:
        try:
            result: list[dict[str, Any]] = httpx.get(
                api, params={"query": promql}, timeout=2
            ).json()["data"]["result"]
            return result
        except (httpx.HTTPError, KeyError, ValueError):
            return []

    try:
        yield query
    finally:
        proc.terminate()
        proc.wait(30)


def test_real_prometheus_scrapes_the_exact_call_count(
    tmp_path: Path, instrumented_app: tuple[str, Monitor]
) -> None:
    url, _ = instrumented_app
    exercise(url, 120)
    query = (
        'sum by (outcome) (mlvitals_calls_total{service="scraped",operation="GET /predict/{item}"})'
    )
    got: dict[str, float] = {}
    with prometheus(tmp_path, url) as promql:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = {r["metric"]["outcome"]: float(r["value"][1]) for r in promql(query)}
            if sum(got.values()) >= 126:
                break
            time.sleep(0.5)
    # Every fifth call raised: 24 errors, 96 successes and 6 client errors, exactly.
    assert got == {"ok": 96.0, "error": 24.0, "client_error": 6.0}


def latency_samples() -> dict[str, np.ndarray[Any, np.dtype[np.float64]]]:
    rng = np.random.default_rng(7)
    return {
        # A model service whose p95 is about 59 ms.
        "model": rng.lognormal(np.log(0.025), 0.52, 4000),
        # Spread evenly on a log scale over the whole range the buckets promise.
        "spread": np.exp(rng.uniform(np.log(0.001), np.log(60.0), 4000)),
        # Two modes: a cache hit and a miss.
        "cache": np.concatenate([rng.normal(0.004, 0.0004, 3000), rng.normal(0.9, 0.08, 1000)]),
    }


def test_histogram_quantile_is_within_five_percent_of_the_true_quantiles(
    tmp_path: Path,
) -> None:
    samples = latency_samples()
    timer = FakeClock(0.0)
    monitor = Monitor("latency", "1.0", background=False, nvml=False, timer=timer)
    for operation, latencies in samples.items():
        for seconds in latencies:
            with monitor.track(operation):
                timer.advance(float(seconds))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(monitor.metrics_app(), host="127.0.0.1", port=port, log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    quantiles = (0.5, 0.9, 0.95, 0.99)
    got: dict[tuple[str, float], float] = {}
    try:
        with prometheus(tmp_path, f"http://127.0.0.1:{port}") as promql:
            deadline = time.monotonic() + 60
            while len(got) < len(samples) * len(quantiles) and time.monotonic() < deadline:
                for q in quantiles:
                    for r in promql(
                        f"histogram_quantile({q}, mlvitals_call_duration_seconds_bucket"
                        '{service="latency"})'
                    ):
                        got[(r["metric"]["operation"], q)] = float(r["value"][1])
                time.sleep(0.5)
    finally:
        server.should_exit = True
        thread.join(10)
        monitor.close()
    errors = {}
    for operation, latencies in samples.items():
        for q in quantiles:
            true = float(np.percentile(latencies, q * 100))
            errors[(operation, q)] = abs(got[(operation, q)] - true) / true
    worst = max(errors, key=errors.__getitem__)
    # 5 % between neighbouring bounds, plus the sketch's 1 % for values next to a bound.
    assert errors[worst] <= 0.06, (worst, errors[worst], got[worst])
