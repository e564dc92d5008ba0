"""Serving API, fleet export on /metrics, and uptime probes, through the real app."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from mlvitals.errors import ConfigError
from mlvitals.server import create_app
from mlvitals.server.serving.prober import ProbeTarget, load_probes, probe_once
from mlvitals.settings import Settings
from mlvitals.sketches import QuantileSketch
from mlvitals.store import Store
from tests.conftest import require_service
from tests.records import batch, instance_sample
from tests.server.conftest import MakeClient

NOW = 1_800_000_000.0


def window(instance: str, start: float, latencies: np.ndarray, **extra: Any) -> dict[str, Any]:
    lat, cpu = QuantileSketch(), QuantileSketch()
    lat.add_many(latencies)
    cpu.add_many(latencies / 3)
    return {
        "kind": "serving_window",
        "service": "fraud",
        "version": "2.0",
        "operation": "POST /predict",
        "instance": instance,
        "start": start,
        "length": 10.0,
        "calls": len(latencies),
        "latency": lat.to_dict(),
        "cpu": cpu.to_dict(),
        "cpu_seconds": float(np.sum(latencies / 3)),
        "peak_rss_bytes": 300_000_000,
        "peak_in_flight": 3,
        **extra,
    }


@pytest.fixture
def fleet(make_client: MakeClient) -> tuple[TestClient, np.ndarray]:
    client = make_client(clock=lambda: NOW)
    rng = np.random.default_rng(11)
    records, everything = [], []
    for i, instance in enumerate(("pod-a", "pod-b", "pod-c")):
        for k in range(6):
            values = rng.lognormal(-3 + i * 0.5, 0.5, 200)
            everything.append(values)
            failures = {"TimeoutError": 2, "ValueError": 1} if k == 0 else {}
            records.append(
                window(instance, NOW - 60 + 10 * k, values, failures=failures, client_errors=1)
            )
        records.append(instance_sample(service="fraud", instance=instance, t=NOW - 5))
    r = client.post("/api/v1/ingest", json=batch(records))
    assert r.json()["stored"] == 21, r.text
    return client, np.concatenate(everything)


def test_services_and_series(fleet: tuple[TestClient, np.ndarray]) -> None:
    client, values = fleet
    services = client.get("/api/v1/services").json()
    assert [s["service"] for s in services] == ["fraud"]
    assert services[0]["instances_up"] == 3 and services[0]["calls"] == 3600
    r = client.get(
        "/api/v1/services/fraud/series",
        params={"start": str(NOW - 60), "end": str(NOW), "step": "60", "group_by": "instance"},
    )
    body = r.json()
    assert [s["labels"]["instance"] for s in body["series"]] == ["pod-a", "pod-b", "pod-c"]
    total = body["total"]
    assert total["calls"] == 3600 and total["errors"] == 9 and total["client_errors"] == 18
    assert total["failures"] == {"TimeoutError": 6, "ValueError": 3}
    true_p99 = float(np.quantile(values, 0.99, method="lower"))
    assert total["latency_p99"] == pytest.approx(true_p99, rel=0.011)
    assert client.get("/api/v1/services/nope/series").status_code == 404
    bad = client.get("/api/v1/services/fraud/series", params={"start": "yesterday"})
    assert bad.status_code == 400 and "start" in bad.json()["error"]
    inst = client.get("/api/v1/services/fraud/instances").json()
    assert [i["up"] for i in inst["instances"]] == [True, True, True]


def test_an_instance_that_stopped_leaves_the_roster_counts_and_gauges(
    fleet: tuple[TestClient, np.ndarray],
) -> None:
    client, _ = fleet
    # A clean stop: its sample comes with the last window it closed, which ends at NOW.
    stopped = {**instance_sample(service="fraud", instance="pod-b", t=NOW), "stopped": True}
    assert client.post("/api/v1/ingest", json=batch([stopped])).json()["stored"] == 1
    (service,) = client.get("/api/v1/services").json()
    assert (service["instances"], service["instances_up"], service["instances_stopped"]) == (
        2,
        2,
        1,
    )
    inst = client.get("/api/v1/services/fraud/instances").json()["instances"]
    assert [(i["instance"], i["up"], i["stopped"]) for i in inst] == [
        ("pod-a", True, False),
        ("pod-b", False, True),
        ("pod-c", True, False),
    ]
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    rss = families["mlvitals_process_resident_memory_bytes"].samples
    assert sorted(s.labels["instance"] for s in rss) == ["pod-a", "pod-c"]


def test_metrics_export_the_fleet_exactly(fleet: tuple[TestClient, np.ndarray]) -> None:
    client, values = fleet
    text = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    calls = {
        s.labels["outcome"]: s.value
        for s in families["mlvitals_calls"].samples
        if s.name == "mlvitals_calls_total"
    }
    assert calls == {"ok": 3600 - 9 - 18, "error": 9, "client_error": 18}
    hist = {
        s.labels["le"]: s.value
        for s in families["mlvitals_call_duration_seconds"].samples
        if s.name.endswith("_bucket")
    }
    assert hist["+Inf"] == 3600
    # Cumulative counts at each bound match numpy, up to values within 1% of a bound.
    for le, count in hist.items():
        if le == "+Inf":
            continue
        bound = float(le)
        assert np.sum(values <= bound * 0.99) <= count <= np.sum(values <= bound * 1.01)
    rss = [s for s in families["mlvitals_process_resident_memory_bytes"].samples]
    assert len(rss) == 3
    if shutil.which("promtool") is None:
        require_service("promtool is missing: apt-get install prometheus")
    check = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


class _Flaky(BaseHTTPRequestHandler):
    calls = 0

    def do_GET(self) -> None:
        type(self).calls += 1
        self.send_response(200 if type(self).calls % 2 else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health"
    server.shutdown()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_probe_once_reports_status_latency_and_errors(flaky_url: str) -> None:
    async def run() -> list[Any]:
        async with httpx.AsyncClient() as client:
            http = ProbeTarget("api", flaky_url)
            tcp_down = ProbeTarget("net", f"tcp://127.0.0.1:{closed_port()}", timeout=2)
            return [
                await probe_once(http, client),
                await probe_once(http, client),
                await probe_once(tcp_down, client),
            ]

    first, second, down = asyncio.run(run())
    assert (first.ok, first.status) == (True, 200) and first.latency_seconds is not None
    assert (second.ok, second.status, second.error) == (False, 503, "unexpected status 503")
    assert not down.ok and down.error


def test_prober_loop_records_availability(tmp_path: Path, store: Store, flaky_url: str) -> None:
    probes = tmp_path / "probes.yaml"
    probes.write_text(
        f"probes:\n  - name: api\n    url: {flaky_url}\n    interval: 1\n    timeout: 1\n"
    )
    app = create_app(Settings(probes_file=str(probes)), store)
    with TestClient(app) as client:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            rows = client.get("/api/v1/probes").json()
            if rows and rows[0]["checks"] >= 4:
                break
            time.sleep(0.2)
    assert rows[0]["target"] == "api"
    assert rows[0]["ok"] == (rows[0]["checks"] + 1) // 2  # every other check fails
    assert rows[0]["availability"] == pytest.approx(rows[0]["ok"] / rows[0]["checks"])


def test_probes_file_errors_name_the_probe(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("probes:\n  - name: x\n    url: ftp://nope\n")
    with pytest.raises(ConfigError, match=r"probe 1 \(x\): 'url'"):
        load_probes(str(path))
    path.write_text("probes:\n  - name: x\n    url: http://a\n    interval: 1\n    timeout: 5\n")
    with pytest.raises(ConfigError, match="timeout <= interval"):
        load_probes(str(path))


def test_probe_interval_and_timeout_take_durations(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "probes:\n"
        "  - name: api\n    url: http://a\n    interval: 1m30s\n    timeout: 500ms\n"
        "  - name: db\n    url: tcp://b:5432\n    interval: 45\n    timeout: 2.5\n"
        "  - name: web\n    url: http://c\n"
    )
    assert [(t.name, t.interval, t.timeout) for t in load_probes(str(path))] == [
        ("api", 90.0, 0.5),
        ("db", 45.0, 2.5),
        ("web", 30.0, 5.0),
    ]
    path.write_text("probes:\n  - name: x\n    url: http://a\n    interval: 5 minutes\n")
    with pytest.raises(
        ConfigError, match=r"probe 1 \(x\): 'interval': not a duration: '5 minutes'"
    ):
        load_probes(str(path))
    path.write_text("probes:\n  - name: x\n    url: http://a\n    timeout: 1H\n")
    with pytest.raises(ConfigError, match=r"probe 1 \(x\): 'timeout': units are lower case"):
        load_probes(str(path))
