"""The live demo: backfilled history, three model replicas instrumented with the middleware,
and traffic through a simple load balancer, all shipping to the demo server."""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field

import httpx
import uvicorn

from mlvitals.demo.history import SERVICE, backfill, envelope
from mlvitals.demo.model import create_model_app, train
from mlvitals.demo.traffic import Traffic, TrafficMix
from mlvitals.sdk.monitor import Monitor

log = logging.getLogger("mlvitals.demo")

REPLICAS = (("replica-a", "1.4.0", 0.4), ("replica-b", "1.4.0", 0.4), ("canary", "1.5.0", 0.2))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Replica:
    instance: str
    version: str
    weight: float
    monitor: Monitor
    server: uvicorn.Server
    url: str
    thread: threading.Thread


@dataclass
class Demo:
    server_url: str
    replicas: list[Replica] = field(default_factory=list)
    traffic: list[Traffic] = field(default_factory=list)

    def start(self) -> None:
        self._wait_for_server()
        now = time.time()
        with httpx.Client(base_url=self.server_url, timeout=60) as client:
            for records in backfill(now):
                client.post("/api/v1/ingest", json=envelope(records)).raise_for_status()
        trained = train()
        for instance, version, weight in REPLICAS:
            monitor = Monitor(
                SERVICE, version, server=self.server_url, window=5.0, instance=instance
            )
            app = monitor.asgi(create_model_app(trained))
            port = _free_port()
            # The model raises on purpose; its tracebacks would only bury the demo's output.
            config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical")
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, name=f"demo-{instance}", daemon=True)
            thread.start()
            self.replicas.append(
                Replica(
                    instance, version, weight, monitor, server, f"http://127.0.0.1:{port}", thread
                )
            )
        for replica in self.replicas:
            self._wait(replica.url + "/health")
            traffic = Traffic(replica.url, trained.sample, TrafficMix(rate=40 * replica.weight))
            traffic.start()
            self.traffic.append(traffic)
        log.info("demo traffic running against %d replicas", len(self.replicas))

    def stop(self) -> None:
        """Stop traffic and replicas; the server may be gone already, so ship briefly."""
        logging.getLogger("mlvitals.sdk").setLevel(logging.ERROR)
        for traffic in self.traffic:
            traffic.stop()
        for replica in self.replicas:
            replica.server.should_exit = True
            replica.thread.join(5)
            replica.monitor.close(timeout=1.0)

    def _wait_for_server(self) -> None:
        self._wait(self.server_url + "/healthz")

    @staticmethod
    def _wait(url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")
