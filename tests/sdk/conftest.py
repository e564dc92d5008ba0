"""SDK test helpers: an in-memory transport, a settable clock and a real HTTP receiver."""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mlvitals.sdk import Monitor
from mlvitals.server.serving.records import InstanceSample, ServingWindow
from mlvitals.sketches import QuantileSketch


class MemoryTransport:
    """Keeps every record the monitor ships (a real Transport, in memory)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.dropped = 0

    def send(self, records: list[dict[str, Any]]) -> None:
        self.records.extend(records)

    def flush(self, timeout: float) -> bool:
        return True

    def close(self, timeout: float) -> bool:
        return True

    def after_fork(self) -> None:
        self.records = []

    def windows(self, operation: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.records
            if r["kind"] == "serving_window" and operation in (None, r["operation"])
        ]

    def samples(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == "instance_sample"]


class FakeClock:
    """One settable time source, used as both the wall clock and the latency timer."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def validate_wire(records: list[dict[str, Any]]) -> None:
    """Every record must pass the server's own ingest models."""
    for r in records:
        model = ServingWindow if r["kind"] == "serving_window" else InstanceSample
        model.model_validate(r)


def latency(record: dict[str, Any]) -> QuantileSketch:
    return QuantileSketch.from_dict(record["latency"])


def cpu(record: dict[str, Any]) -> QuantileSketch:
    return QuantileSketch.from_dict(record["cpu"])


@pytest.fixture
def memory() -> MemoryTransport:
    return MemoryTransport()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def monitor(memory: MemoryTransport) -> Iterator[Monitor]:
    """A monitor with real clocks, no background thread, shipping to memory."""
    m = Monitor("svc", version="1.0", transport=memory, background=False, nvml=False)
    yield m
    m.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Receiver:
    """A real HTTP server that plays an ingest endpoint: stores decoded batches.

    ``statuses`` is a queue of status codes to answer with first (then 200);
    ``fails(batch)`` True answers 500 to that batch, every time.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.batches: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.retry_after: str | None = None
        self.fails: Callable[[dict[str, Any]], bool] = lambda batch: False
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    batch = json.loads(gzip.decompress(body))
                    if status == 200 and receiver.fails(batch):
                        status = 500
                    if status == 200:
                        receiver.batches.append(batch)
                self.send_response(status)
                if status in (429, 503) and receiver.retry_after:
                    self.send_header("Retry-After", receiver.retry_after)
                reply = b'{"error":"nope"}' if status >= 400 else b'{"accepted":1}'
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for b in self.batches for r in b["records"]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()
