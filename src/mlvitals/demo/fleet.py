"""The demo's model service: three replicas of the model, each a uvicorn server with its
own ``Monitor`` (``monitor.asgi``), and open-loop traffic to each, as a load balancer would
spread it.

The replicas start listening before the mlvitals server does (so its uptime probes find
them up from the first check); their monitors are attached once the server answers."""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field

import httpx
import uvicorn

from mlvitals.demo.history import SERVICE
from mlvitals.demo.model import Faults, TrainedModel, create_model_app
from mlvitals.demo.traffic import Traffic, TrafficMix
from mlvitals.sdk.asgi import ASGIApp, Receive, Scope, Send
from mlvitals.sdk.monitor import Monitor

log = logging.getLogger("mlvitals.demo")

# Calls per second over all replicas: few enough that the replicas (threads of the demo's
# one process) keep up on a busy machine, so clean calls are not queued into slow ones.
TOTAL_RATE = 25.0
# instance, model version it serves, share of the traffic
REPLICAS = (("replica-a", "1.4.0", 0.4), ("replica-b", "1.4.0", 0.4), ("canary", "1.5.0", 0.2))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(url: str, timeout: float = 60.0) -> None:
    """Wait until ``url`` answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


class _Swappable:
    """An ASGI app that forwards to ``app``, which can be replaced while serving: a replica
    listens (and answers its health checks) before its monitor is attached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@dataclass
class Replica:
    instance: str
    version: str
    weight: float
    port: int
    app: _Swappable
    server: uvicorn.Server
    thread: threading.Thread
    faults: Faults
    monitor: Monitor | None = None
    traffic: Traffic | None = None
    stopped: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop taking traffic, stop the server and ship the monitor's last window (which
        says that the instance stopped: a clean shutdown raises no alert)."""
        if self.stopped:
            return
        self.stopped = True
        if self.traffic is not None:
            self.traffic.stop()
        self.server.should_exit = True
        self.thread.join(5)
        if self.monitor is not None:
            self.monitor.close(timeout=1.0)

    def crash(self) -> None:
        """Stop as a killed process does: its monitor ships nothing more, not even that it
        stopped, and the server stops answering."""
        if self.stopped:
            return
        self.stopped = True
        if self.traffic is not None:
            self.traffic.stop()
        if self.monitor is not None:
            self.monitor._abandon()
        self.server.should_exit = True
        self.thread.join(5)


@dataclass
class Fleet:
    """The replicas, by instance name."""

    trained: TrainedModel
    replicas: dict[str, Replica] = field(default_factory=dict)

    @classmethod
    def serve(cls, trained: TrainedModel, ports: dict[str, int]) -> Fleet:
        """Start every replica's server on its port (not yet monitored, no traffic)."""
        fleet = cls(trained)
        for instance, version, weight in REPLICAS:
            faults = Faults()
            app = _Swappable(create_model_app(trained, faults))
            # The model raises on purpose; its tracebacks would only bury the demo's output.
            config = uvicorn.Config(
                app, host="127.0.0.1", port=ports[instance], log_level="critical"
            )
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, name=f"demo-{instance}", daemon=True)
            thread.start()
            fleet.replicas[instance] = Replica(
                instance, version, weight, ports[instance], app, server, thread, faults
            )
        for replica in fleet.replicas.values():
            wait_for(replica.url + "/health")
            # A first few predictions load what the model's first call loads lazily.
            row = trained.sample[0].tolist()
            with httpx.Client(base_url=replica.url, timeout=10) as client:
                for _ in range(3):
                    client.post("/predict", json={"features": row})
        return fleet

    def instrument(self, server_url: str, window: float) -> None:
        """Attach a ``Monitor`` to each replica (``monitor.asgi``); from now on each sends a
        resource sample every window, calls or not."""
        for replica in self.replicas.values():
            monitor = Monitor(
                SERVICE,
                replica.version,
                server=server_url,
                window=window,
                instance=replica.instance,
            )
            replica.monitor = monitor
            replica.app.app = monitor.asgi(replica.app.app)

    def start_traffic(self) -> None:
        """Start each replica's share of the traffic."""
        for replica in self.replicas.values():
            mix = TrafficMix(rate=TOTAL_RATE * replica.weight)
            replica.traffic = Traffic(
                replica.url, self.trained.sample, mix, max_in_flight=10, seed=replica.port
            )
            replica.traffic.start()
        log.info("demo traffic running against %d replicas", len(self.replicas))

    def __getitem__(self, instance: str) -> Replica:
        return self.replicas[instance]

    def stop(self) -> None:
        for replica in self.replicas.values():
            replica.stop()
