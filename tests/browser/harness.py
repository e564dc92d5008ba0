"""The browser-test harness: the real server process, seeding, and page issue tracking."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Response

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
READ_TOKEN = "reader-token-0001"
INGEST_TOKEN = "ingester-token-0002"


@dataclass
class LiveServer:
    """A running ``mlvitals serve`` process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def ingest(self, records: list[dict[str, Any]], *, token: str | None = None) -> dict[str, Any]:
        """POST one batch of records through the real ingest API; return its answer."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        reply = httpx.post(
            f"{self.url}/api/v1/ingest",
            json={"batch_id": str(uuid.uuid4()), "records": records},
            headers=headers,
            timeout=10,
        )
        reply.raise_for_status()
        body: dict[str, Any] = reply.json()
        return body


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_healthy(server: LiveServer, deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"mlvitals serve exited early:\n{server.log.read_text()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(
        f"mlvitals serve did not answer /healthz in {deadline_s} s:\n{server.log.read_text()}"
    )


def start_server(directory: Path, *extra_args: str) -> LiveServer:
    """Start ``mlvitals serve`` on a fresh SQLite file and wait until /healthz answers."""
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = directory / "server.log"
    executable = Path(sys.executable).with_name("mlvitals")
    # Only the flags below configure the server: no MLVITALS_* variable of the caller leaks in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLVITALS_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(executable),
                "serve",
                "--db",
                str(directory / "mlvitals.db"),
                "--port",
                str(port),
                "--log-level",
                "warning",
                *extra_args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    _wait_healthy(server)
    return server


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def serving_windows(n: int, *, service: str = "recommender") -> list[dict[str, Any]]:
    """``n`` consecutive 10-second ``serving_window`` records with real latency sketches."""
    from mlvitals.sketches import QuantileSketch

    start = (time.time() // 10) * 10 - 10 * n
    records = []
    for i in range(n):
        latency, cpu = QuantileSketch(), QuantileSketch()
        latency.add_many([0.010 + 0.001 * k for k in range(20)])
        cpu.add_many([0.002] * 20)
        records.append(
            {
                "kind": "serving_window",
                "service": service,
                "operation": "predict",
                "instance": "host-0",
                "start": start + 10 * i,
                "length": 10.0,
                "calls": 20,
                "failures": {"TimeoutError": 1} if i % 3 == 0 else {},
                "latency": latency.to_dict(),
                "cpu": cpu.to_dict(),
                "cpu_seconds": 0.04,
            }
        )
    return records


def instance_samples(n: int, *, service: str = "recommender") -> list[dict[str, Any]]:
    """``n`` distinct ``instance_sample`` records (distinct natural keys)."""
    now = time.time()
    return [
        {
            "kind": "instance_sample",
            "service": service,
            "instance": f"host-{i % 4}",
            "time": now - i,
            "cpu_percent": 10.0 + i % 50,
            "rss_bytes": 100_000_000 + i,
        }
        for i in range(n)
    ]


def wait_for_charts(page: Page) -> None:
    """Wait until every chart on the page is drawn; fail if one could not be."""
    page.wait_for_function(
        "() => !document.querySelector('[data-chart][data-state=pending]')", timeout=10_000
    )
    errors = page.locator("[data-chart][data-state=error]").count()
    assert errors == 0, f"{errors} chart(s) could not be drawn"


@dataclass
class PageIssues:
    """Console errors, uncaught exceptions, failed requests and HTTP errors seen by a page."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_responses: list[str] = field(default_factory=list)
    off_server: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} at {message.location}")

    def _request(self, request: Request) -> None:
        # The dashboard must work offline: everything comes from the server under test.
        if not request.url.startswith(("http://127.0.0.1:", "data:")):
            self.off_server.append(request.url)

    def _failed(self, request: Request) -> None:
        # Chromium asks for the icon after a page has loaded and cancels that request when the
        # test navigates on at once: not a failure of the page (a missing icon is a 404
        # response, which is still caught).
        cancelled_icon = "/favicon." in request.url and request.failure == "net::ERR_ABORTED"
        if not cancelled_icon:
            self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.error_responses.append(f"{response.status} {response.url}")

    def assert_none(self) -> None:
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.failed_requests == []
        assert self.error_responses == []
        assert self.off_server == []


@dataclass
class BrowserPage:
    page: Page
    issues: PageIssues
