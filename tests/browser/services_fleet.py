"""A fleet of model services to seed a server with, and a server started with a probes file.

Two services, each with two versions on three instances, send 10-second serving windows over
the last 55 minutes and an instance sample every 10 seconds. The raw latencies of every
window are kept, so tests check the dashboard's percentiles against numpy on the same values.
One instance of ``recommender`` went silent five minutes ago, so it shows as down.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlvitals.sketches import QuantileSketch

from .harness import LiveServer, _free_port, _wait_healthy

WINDOW = 10.0
WINDOWS = 330  # 55 minutes: every window stays inside a 1-hour range for a while
SILENT_FOR = 300.0  # how long ago the down instance last reported
VERSIONS = ("v1", "v2")
SERVICES = {
    "recommender": ("rec-1", "rec-2", "rec-3"),
    "fraud": ("fraud-1", "fraud-2", "fraud-3"),
}
DOWN = ("recommender", "rec-3")
GPU_SERVICE = "fraud"
MIB = 1024 * 1024


@dataclass(frozen=True)
class SeededWindow:
    service: str
    version: str
    operation: str
    instance: str
    start: float
    latencies: np.ndarray

    @property
    def calls(self) -> int:
        return len(self.latencies)


@dataclass
class Fleet:
    """What was sent: the records, and every window with its raw latencies."""

    records: list[dict[str, Any]]
    windows: list[SeededWindow]

    def calls(self, service: str, since: float, **labels: str) -> int:
        return sum(w.calls for w in self.select(service, since, **labels))

    def latencies(self, service: str, since: float, **labels: str) -> np.ndarray:
        return np.concatenate([w.latencies for w in self.select(service, since, **labels)])

    def select(self, service: str, since: float, **labels: str) -> list[SeededWindow]:
        return [
            w
            for w in self.windows
            if w.service == service
            and w.start >= since
            and all(getattr(w, k) == v for k, v in labels.items())
        ]


def _window_record(w: SeededWindow, index: int, gpu: bool) -> dict[str, Any]:
    latency, cpu = QuantileSketch(), QuantileSketch()
    latency.add_many(w.latencies)
    cpu_values = w.latencies * 0.3
    cpu.add_many(cpu_values)
    failures = {}
    if index % 7 == 0:
        failures["TimeoutError"] = 1
    if index % 11 == 0:
        failures["ValueError"] = 2
    record: dict[str, Any] = {
        "kind": "serving_window",
        "service": w.service,
        "version": w.version,
        "operation": w.operation,
        "instance": w.instance,
        "start": w.start,
        "length": WINDOW,
        "calls": w.calls,
        "failures": failures,
        "latency": latency.to_dict(),
        "cpu": cpu.to_dict(),
        "cpu_seconds": float(cpu_values.sum()),
        "peak_rss_bytes": (300 + 40 * int(w.instance[-1])) * MIB,
    }
    if gpu:
        record["gpu_busy_seconds"] = WINDOW * (0.2 + 0.1 * int(w.instance[-1])) / 2
        record["gpu_peak_memory_bytes"] = (2048 + 256 * int(w.instance[-1])) * MIB
    return record


def build_fleet(now: float, seed: int = 7) -> Fleet:
    rng = np.random.default_rng(seed)
    first = (now // WINDOW) * WINDOW - WINDOW * WINDOWS
    records: list[dict[str, Any]] = []
    windows: list[SeededWindow] = []
    for service, instance_names in SERVICES.items():
        for instance in instance_names:
            silent_since = now - SILENT_FOR if (service, instance) == DOWN else now
            for k in range(WINDOWS):
                start = first + WINDOW * k
                if start + WINDOW > silent_since:
                    break
                series = [(v, "predict") for v in VERSIONS]
                if service == "recommender" and instance == "rec-1":
                    series.append(("v2", "explain"))  # a second, slower operation
                for version, operation in series:
                    mu = {"v1": -3.5, "v2": -3.0}[version] + (1.0 if operation == "explain" else 0)
                    n = int(rng.integers(4, 16))
                    w = SeededWindow(
                        service, version, operation, instance, start, rng.lognormal(mu, 0.5, n)
                    )
                    windows.append(w)
                    records.append(_window_record(w, k, gpu=service == GPU_SERVICE))
                records.append(
                    {
                        "kind": "instance_sample",
                        "service": service,
                        "version": VERSIONS[k % 2],
                        "instance": instance,
                        "time": start + WINDOW,
                        "cpu_percent": 20.0 + 5 * int(instance[-1]) + k % 5,
                        "rss_bytes": (280 + 40 * int(instance[-1])) * MIB + 1024 * k,
                    }
                )
    return Fleet(records, windows)


def ingest_fleet(server: LiveServer, fleet: Fleet, batch: int = 1500) -> None:
    for i in range(0, len(fleet.records), batch):
        part = fleet.records[i : i + batch]
        reply = server.ingest(part)
        assert reply["stored"] == len(part), reply


@contextmanager
def listening_port() -> Iterator[int]:
    """A TCP port that accepts connections (the kernel completes them from its backlog)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1024)
        yield int(s.getsockname()[1])


def closed_port() -> int:
    """A port nothing listens on: connecting to it is refused."""
    return _free_port()


def start_server_with_probes(directory: Path, probes_yaml: str) -> LiveServer:
    """``mlvitals serve`` on a fresh SQLite file, probing the targets of ``probes_yaml``.

    The probes file is a setting without a ``serve`` flag, so it is passed in the
    environment (``MLVITALS_PROBES_FILE``), the way a deployment would set it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    probes = directory / "probes.yaml"
    probes.write_text(probes_yaml)
    port = _free_port()
    log = directory / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLVITALS_")}
    env["MLVITALS_PROBES_FILE"] = str(probes)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("mlvitals")),
                "serve",
                "--db",
                str(directory / "mlvitals.db"),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    _wait_healthy(server)
    return server


def wait_for_probes(server: LiveServer, targets: set[str], deadline_s: float = 15.0) -> None:
    import httpx

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        seen = {p["target"] for p in httpx.get(f"{server.url}/api/v1/probes").json()}
        if targets <= seen:
            return
        time.sleep(0.2)
    raise AssertionError(f"probes {sorted(targets)} did not report within {deadline_s} s")
