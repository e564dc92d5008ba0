"""Bounded cardinality: services and series per service, through the real app."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from mlvitals.server.serving.cardinality import CardinalityGuard
from mlvitals.server.serving.rollup import Retention, apply_retention
from mlvitals.sketches import QuantileSketch
from mlvitals.store import Store
from tests.records import batch, instance_sample
from tests.server.conftest import MakeClient

NOW = 1_800_000_000.0
DAY = 86400.0


def window(service: str, instance: str, start: float = NOW - 30, **extra: Any) -> dict[str, Any]:
    sketch = QuantileSketch()
    sketch.add_many([0.01, 0.02, 0.03])
    return {
        "kind": "serving_window",
        "service": service,
        "version": "1",
        "operation": "POST /predict",
        "instance": instance,
        "start": start,
        "length": 10.0,
        "calls": 3,
        "latency": sketch.to_dict(),
        "cpu": sketch.to_dict(),
        **extra,
    }


def over_limit_total(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "mlvitals_server_records_total" and s.labels["result"] == "over_limit":
                out[s.labels["kind"]] = s.value
    return out


def stored_instances(store: Store, service: str) -> set[str]:
    rows = store.fetch(
        "SELECT DISTINCT instance FROM serving_windows WHERE service = ?", (service,)
    )
    return {r["instance"] for r in rows}


def test_a_batch_past_the_series_limit_holds_it_and_names_the_rest(
    make_client: MakeClient, store: Store
) -> None:
    client = make_client(clock=lambda: NOW, max_series_per_service=5)
    records = [window("fraud", f"pod-{i}") for i in range(8)]
    records += [window("spam", "pod-0"), {"kind": "serving_window", "service": "broken"}]
    answer = client.post("/api/v1/ingest", json=batch(records)).json()

    assert answer["accepted"] == 6 and answer["stored"] == 6 and answer["rejected"] == 4
    refused = {e["index"]: e for e in answer["errors"] if "series" in e["reason"]}
    assert sorted(refused) == [5, 6, 7]
    for index, error in refused.items():
        assert error["kind"] == "serving_window" and error["field"] == "service"
        assert "--max-series-per-service" in error["reason"]
        assert f"'pod-{index}'" in error["reason"] and "'fraud'" in error["reason"]
    # The invalid record is still reported as invalid, not as over a limit.
    assert any(e["index"] == 9 and e["field"] == "start" for e in answer["errors"])
    assert stored_instances(store, "fraud") == {f"pod-{i}" for i in range(5)}
    assert stored_instances(store, "spam") == {"pod-0"}

    # Known series keep flowing; a new one is still refused.
    later = [window("fraud", f"pod-{i}", start=NOW - 20) for i in range(5)]
    later.append(window("fraud", "pod-9", start=NOW - 20))
    answer = client.post("/api/v1/ingest", json=batch(later)).json()
    assert answer["accepted"] == 5 and answer["stored"] == 5
    assert [e["index"] for e in answer["errors"]] == [5]

    assert over_limit_total(client) == {"serving_window": 4.0}
    limits = {u["limit"]: u for u in client.get("/api/v1/summary").json()["limits"]}
    assert limits["series_per_service"] == {
        "limit": "series_per_service",
        "used": 5,
        "max": 5,
        "rejected": 4,
    }
    assert limits["services"]["used"] == 2 and limits["services"]["rejected"] == 0


def test_new_services_past_the_limit_are_refused_samples_included(
    make_client: MakeClient, store: Store
) -> None:
    client = make_client(clock=lambda: NOW, max_services=2)
    records = [
        window("fraud", "pod-0"),
        instance_sample(service="spam", instance="pod-0", t=NOW - 5),
        window("churn", "pod-0"),
        instance_sample(service="ranker", instance="pod-0", t=NOW - 5),
        instance_sample(service="fraud", instance="pod-1", t=NOW - 5),
        window("spam", "pod-0"),
    ]
    answer = client.post("/api/v1/ingest", json=batch(records)).json()
    assert answer["accepted"] == 4
    errors = {e["index"]: e for e in answer["errors"]}
    assert sorted(errors) == [2, 3]
    assert "'churn'" in errors[2]["reason"] and "--max-services" in errors[2]["reason"]
    assert errors[3]["kind"] == "instance_sample" and "'ranker'" in errors[3]["reason"]
    services = {r["service"] for r in store.fetch("SELECT service FROM instance_samples")}
    assert services == {"spam", "fraud"}
    assert over_limit_total(client) == {"serving_window": 1.0, "instance_sample": 1.0}


def test_retention_frees_slots_after_a_refresh(make_client: MakeClient, store: Store) -> None:
    now = [NOW]
    client = make_client(clock=lambda: now[0], max_series_per_service=2)
    old = [window("fraud", f"pod-{i}", start=NOW - 30) for i in range(2)]
    assert client.post("/api/v1/ingest", json=batch(old)).json()["accepted"] == 2
    new = window("fraud", "pod-new", start=NOW + 9 * DAY)
    assert client.post("/api/v1/ingest", json=batch([new])).json()["accepted"] == 0

    now[0] = NOW + 9 * DAY
    apply_retention(store, now[0], Retention(raw_days=8.0))
    answer = client.post("/api/v1/ingest", json=batch([new])).json()
    assert answer["accepted"] == 1, answer
    assert stored_instances(store, "fraud") == {"pod-new"}


def test_a_restarted_server_counts_the_stored_series(make_client: MakeClient, store: Store) -> None:
    first = make_client(clock=lambda: NOW, max_series_per_service=3)
    records = [window("fraud", f"pod-{i}") for i in range(3)]
    assert first.post("/api/v1/ingest", json=batch(records)).json()["accepted"] == 3
    second = make_client(clock=lambda: NOW, max_series_per_service=3)
    answer = second.post("/api/v1/ingest", json=batch([window("fraud", "pod-3")])).json()
    assert answer["accepted"] == 0 and "has 3 series" in answer["errors"][0]["reason"]


def test_the_defaults_stay_quiet_for_a_normal_fleet(make_client: MakeClient) -> None:
    client = make_client(clock=lambda: NOW)
    records = [
        window(f"svc-{s}", f"pod-{i % 5}", operation=f"op-{i // 5}")
        for s in range(50)
        for i in range(20)
    ]
    records += [instance_sample(service=f"svc-{s}", t=NOW - 5) for s in range(50)]
    answer = client.post("/api/v1/ingest", json=batch(records)).json()
    assert answer["errors"] == [] and answer["accepted"] == len(records) == 1050
    assert over_limit_total(client) == {}
    limits = {u["limit"]: u for u in client.get("/api/v1/summary").json()["limits"]}
    assert limits["services"]["used"] == 50 and limits["series_per_service"]["used"] == 20
    assert all(u["rejected"] == 0 for u in limits.values())


def test_the_guard_holds_its_limit_under_concurrent_batches(store: Store) -> None:
    guard = CardinalityGuard(store, max_services=1000, max_series=100)
    admitted: list[int] = []
    lock = threading.Lock()

    def send(thread: int) -> None:
        ok = 0
        for i in range(200):
            row = {
                "service": "fraud",
                "operation": "op",
                "version": "1",
                "instance": f"{thread}-{i}",
            }
            ok += guard.admit("serving_window", row) is None
        with lock:
            admitted.append(ok)

    threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(admitted) == 100
    assert guard.usage()[1] == {
        "limit": "series_per_service",
        "used": 100,
        "max": 100,
        "rejected": 700,
    }


def test_otlp_points_over_the_limit_are_reported_as_a_partial_success(
    make_client: MakeClient, store: Store
) -> None:
    client = make_client(clock=lambda: NOW, max_series_per_service=2)

    def point(route: str) -> dict[str, Any]:
        return {
            "startTimeUnixNano": str(int((NOW - 10) * 1e9)),
            "timeUnixNano": str(int(NOW * 1e9)),
            "count": "5",
            "sum": 0.5,
            "explicitBounds": [0.1, 1.0],
            "bucketCounts": ["3", "2", "0"],
            "attributes": [
                {"key": "http.request.method", "value": {"stringValue": "GET"}},
                {"key": "http.route", "value": {"stringValue": route}},
            ],
        }

    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]}
    histogram = {"aggregationTemporality": 1, "dataPoints": [point(r) for r in ("/a", "/b", "/c")]}
    metric = {"name": "http.server.request.duration", "unit": "s", "histogram": histogram}
    body = {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": [metric]}]}]}
    reply = client.post("/v1/metrics", json=body)
    assert reply.status_code == 200, reply.text
    partial = reply.json()["partialSuccess"]
    assert partial["rejectedDataPoints"] == 1
    assert "'GET /c'" in partial["errorMessage"]
    rows = store.fetch("SELECT operation FROM serving_windows WHERE service = 'web'")
    assert sorted(r["operation"] for r in rows) == ["GET /a", "GET /b"]
