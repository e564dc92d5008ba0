"""The SDK's exposition against the real Prometheus tools: promtool accepts it, and a real
Prometheus server that scrapes an instrumented app answers PromQL with the exact count."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from mlvitals import Monitor
from tests.conftest import free_port, require_service


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


def test_real_prometheus_scrapes_the_exact_call_count(
    tmp_path: Path, instrumented_app: tuple[str, Monitor]
) -> None:
    url, _ = instrumented_app
    exercise(url, 120)
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: model\n"
        f"    static_configs: [{{targets: ['{url.removeprefix('http://')}']}}]\n"
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
    query = (
        'sum by (outcome) (mlvitals_calls_total{service="scraped",operation="GET /predict/{item}"})'
    )
    got: dict[str, float] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                result = httpx.get(api, params={"query": query}, timeout=2).json()
                got = {
                    r["metric"]["outcome"]: float(r["value"][1]) for r in result["data"]["result"]
                }
                if sum(got.values()) >= 126:
                    break
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(30)
    # Every fifth call raised: 24 errors, 96 successes and 6 client errors, exactly.
    assert got == {"ok": 96.0, "error": 24.0, "client_error": 6.0}
