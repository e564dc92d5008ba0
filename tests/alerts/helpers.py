"""Test helpers for alerting: a settable clock, serving rows, a local webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from mlvitals.sketches import QuantileSketch
from mlvitals.store import Store

T0 = 1_750_000_000.0


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def window_row(
    service: str,
    instance: str,
    start: float,
    latencies: Sequence[float],
    errors: int = 0,
    *,
    version: str = "1",
    operation: str = "predict",
    length: float = 10.0,
    peak_rss_bytes: int | None = 1000,
) -> dict[str, Any]:
    """A ``serving_windows`` row holding these calls (the first ``errors`` failed)."""
    lat, cpu = QuantileSketch(), QuantileSketch()
    values = np.asarray(latencies, dtype=float)
    if len(values):
        lat.add_many(values)
        cpu.add_many(values / 4)
    return {
        "service": service,
        "version": version,
        "operation": operation,
        "instance": instance,
        "start": start,
        "length": length,
        "calls": len(values),
        "errors": errors,
        "client_errors": 0,
        "failures": json.dumps({"ValueError": errors} if errors else {}),
        "latency": json.dumps(lat.to_dict()),
        "cpu": json.dumps(cpu.to_dict()),
        "cpu_seconds": float(np.sum(values / 4)),
        "peak_rss_bytes": peak_rss_bytes,
        "gpu_busy_seconds": None,
        "gpu_peak_memory_bytes": None,
        "peak_in_flight": 1,
        "batch_id": "b",
    }


def traffic(
    store: Store,
    service: str,
    start: float,
    end: float,
    *,
    calls: int = 50,
    errors: int = 0,
    latency: float = 0.05,
    instance: str = "pod-1",
    version: str = "1",
) -> None:
    """One 10-second window every 10 s in ``[start, end)``, each with ``calls`` calls of
    ``latency`` seconds, ``errors`` of them failed."""
    rows = []
    t = start
    while t < end:
        rows.append(window_row(service, instance, t, [latency] * calls, errors, version=version))
        t += 10.0
    store.insert("serving_windows", rows)


@dataclass
class Sink:
    """A local HTTP receiver: records every POSTed JSON body; answers with ``statuses``
    in turn (then 200)."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    gate: threading.Barrier | None = None  # each request waits here for the others
    bodies: list[Any] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Sink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length))
                if sink.delay:
                    threading.Event().wait(sink.delay)
                if sink.gate is not None:
                    try:
                        sink.gate.wait()
                    except threading.BrokenBarrierError:
                        self.send_response(503)  # the others never came
                        self.send_header("content-length", "0")
                        self.end_headers()
                        return
                sink.bodies.append(body)
                sink.paths.append(self.path)
                sink.headers.append(dict(self.headers))
                status = sink.statuses.pop(0) if sink.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def alerts(self) -> list[dict[str, Any]]:
        return [a for body in self.bodies for a in body["alerts"]]
