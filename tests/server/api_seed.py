"""One store with data in every area, seeded through the real app, at a fixed time.

Used to read every JSON route with real answers (serving windows and samples, probes, checks
and profiles, pipeline runs with steps, datasets and environments, cost with a budget, alerts
with a silence, an acknowledgement and a failed delivery).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from mlvitals.alerts.notifiers import Dispatcher, Retry
from mlvitals.pipelines import Environment, PipelineConfig, capture_environment
from mlvitals.pipelines.wire import dataset_record, run_record, step_record
from mlvitals.quality import profile
from mlvitals.sdk.quality import profile_record
from mlvitals.server import create_app
from mlvitals.server.alerts.evaluator import Evaluator
from mlvitals.server.alerts.rules_source import rules_source
from mlvitals.server.serving.prober import ProbeResult, save_result
from mlvitals.settings import Settings
from mlvitals.sketches import QuantileSketch
from mlvitals.store import Store
from tests.quality_server.helpers import frames, ingest, record
from tests.records import instance_sample

NOW = 1_800_000_000.0
RULES = """
rules:
  - name: HighErrorRate
    kind: serving
    metric: error_rate
    threshold: 0.05
    window: 1m
    severity: critical
receivers:
  - name: ops
    webhooks: [{url: "http://127.0.0.1:9/hook"}]
"""


@dataclass(frozen=True, slots=True)
class Seeded:
    client: TestClient
    service: str
    dataset: str
    check_id: str
    profile_id: str
    pipeline: str
    run_id: str
    failed_run_id: str
    environment_hash: str
    budget: str
    alert_id: str
    silence_id: str


def _window(instance: str, start: float, rng: np.random.Generator, errors: int) -> dict[str, Any]:
    latencies = rng.lognormal(-3.0, 0.4, 40)
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
        "failures": {"ValueError": errors} if errors else {},
        "client_errors": 1,
        "latency": lat.to_dict(),
        "cpu": cpu.to_dict(),
        "cpu_seconds": float(np.sum(latencies / 3)),
        "peak_rss_bytes": 300_000_000,
        "gpu_busy_seconds": 2.5,
        "gpu_peak_memory_bytes": 2_000_000_000,
        "peak_in_flight": 3,
    }


def _post(client: TestClient, records: list[dict[str, Any]]) -> dict[str, Any]:
    answer = client.post("/api/v1/ingest", json={"batch_id": str(uuid.uuid4()), "records": records})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["errors"] == [], body
    return body


def _serving(client: TestClient, store: Store) -> None:
    rng = np.random.default_rng(3)
    records: list[dict[str, Any]] = []
    for instance in ("pod-1", "pod-2"):
        for i in range(60):
            start = NOW - 600 + i * 10
            records.append(_window(instance, start, rng, errors=8 if i >= 50 else 0))
            sample = instance_sample("fraud", instance, start + 10)
            sample["gpus"] = [{"index": 0, "name": "H100", "utilization": 0.25}]
            records.append(sample)
    _post(client, records)
    save_result(store, ProbeResult("fraud", NOW - 60, True, 200, 0.012, None))
    save_result(store, ProbeResult("fraud", NOW - 30, False, 503, 0.020, "unexpected status 503"))


def _quality(store: Store) -> tuple[str, str]:
    current, _ = frames()
    check = record("drift", time=NOW - 900, data_bytes=200)
    prof = copy.deepcopy(profile_record(profile(current), dataset="features", time=NOW - 800))
    ingest(store, [record("good", time=NOW - 3000, data_bytes=100), check, prof], NOW)
    return str(check["id"]), str(prof["id"])


def _pipelines(client: TestClient) -> tuple[str, str, str]:
    good_env = capture_environment()
    name = sorted(good_env.packages)[0]
    bad_env = Environment(
        good_env.python,
        good_env.implementation,
        good_env.platform,
        dict(good_env.packages) | {name: good_env.packages[name] + ".post1"},
    )
    good, bad, step = "run-good", "run-bad", "step-1"
    base = NOW - 7200
    ref = {"name": "warehouse.orders", "format": "parquet", "rows": 250, "bytes": 4096}
    _post(
        client,
        [
            PipelineConfig("features", schedule="0 * * * *", grace_seconds=300).to_wire(base),
            {"kind": "environment", **good_env.to_dict()},
            {"kind": "environment", **bad_env.to_dict()},
            run_record(good, "start", base, "features", environment_hash=good_env.hash),
            step_record(good, step, "start", base + 1, "extract"),
            dataset_record(good, step, "input", "start", base + 2, ref),
            step_record(good, step, "complete", base + 30, "extract"),
            run_record(good, "complete", base + 60, "features", resources={"wall_seconds": 60.0}),
            PipelineConfig("nightly", max_duration_seconds=60).to_wire(base),
            run_record("run-stuck", "start", NOW - 600, "nightly"),
            run_record(bad, "start", base + 3600, "features", environment_hash=bad_env.hash),
            run_record(
                bad,
                "fail",
                base + 3620,
                "features",
                error={"type": "ImportError", "message": "cannot import x", "traceback": ""},
            ),
        ],
    )
    return "features", good, good_env.hash


def seed(store: Store, folder: Path) -> Seeded:
    """Fill ``store`` through a client of the real app whose clock stands at ``NOW``."""
    rules = folder / "rules.yaml"
    rules.write_text(RULES)
    client = TestClient(
        create_app(Settings(rules_file=str(rules)), store, clock=lambda: NOW, background=False)
    )
    _serving(client, store)
    check_id, profile_id = _quality(store)
    pipeline, run_id, env_hash = _pipelines(client)
    put = client.put("/api/v1/cost/budgets/serving", json={"limit": 5.0, "period": "daily"})
    assert put.status_code == 200, put.text
    dispatcher = Dispatcher("http://x", retry=Retry(attempts=1), sleep=lambda s: None)
    Evaluator(store, rules_source(str(rules)), dispatcher=dispatcher, clock=lambda: NOW).run_once()
    (alert,) = client.get("/api/v1/alerts").json()["alerts"]
    silence = client.post("/api/v1/silences", json={"matchers": ["service=risk"], "duration": "1h"})
    assert silence.status_code == 201, silence.text
    assert client.post(f"/api/v1/alerts/{alert['id']}/ack", json={"by": "ana"}).status_code == 200
    return Seeded(
        client=client,
        service="fraud",
        dataset="features",
        check_id=check_id,
        profile_id=profile_id,
        pipeline=pipeline,
        run_id=run_id,
        failed_run_id="run-bad",
        environment_hash=env_hash,
        budget="serving",
        alert_id=alert["id"],
        silence_id=silence.json()["id"],
    )
