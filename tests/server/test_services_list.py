"""The services list, paged: ``GET /api/v1/services`` and the services page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mlvitals.server.serving.queries import services_health
from mlvitals.sketches import QuantileSketch
from mlvitals.store import Store
from tests.records import batch, instance_sample
from tests.server.conftest import MakeClient

NOW = 1_800_000_000.0


def window(service: str, instance: str, calls: int, start: float = NOW - 60) -> dict[str, Any]:
    sketch = QuantileSketch()
    sketch.add_many([0.01 * (k + 1) for k in range(calls)])
    return {
        "kind": "serving_window",
        "service": service,
        "version": "1",
        "operation": "POST /predict",
        "instance": instance,
        "start": start,
        "length": 10.0,
        "calls": calls,
        "latency": sketch.to_dict(),
        "cpu": sketch.to_dict(),
    }


def fleet(n: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """``n`` services, each with two instances; the calls each service made."""
    records, calls = [], {}
    for s in range(n):
        name = f"svc-{s:03d}"
        records += [window(name, "pod-a", s + 1), window(name, "pod-b", 2 * s + 1)]
        calls[name] = (s + 1) + (2 * s + 1)
    records.append(instance_sample(service="zz-samples-only", instance="pod-a", t=NOW - 5))
    calls["zz-samples-only"] = 0
    return records, calls


def test_the_services_api_pages_and_says_how_many_there_are(make_client: MakeClient) -> None:
    client = make_client(clock=lambda: NOW)
    records, calls = fleet(6)
    assert client.post("/api/v1/ingest", json=batch(records)).json()["accepted"] == 13
    names = sorted(calls)

    first = client.get("/api/v1/services", params={"limit": 3})
    assert first.status_code == 200
    assert [s["service"] for s in first.json()] == names[:3]
    assert first.headers["X-Total-Count"] == "7"
    link = first.headers["Link"]
    assert 'rel="next"' in link and "offset=3" in link and "limit=3" in link

    last = client.get("/api/v1/services", params={"limit": 3, "offset": 6})
    assert [s["service"] for s in last.json()] == names[6:]
    assert last.headers["X-Total-Count"] == "7" and "Link" not in last.headers
    assert client.get("/api/v1/services", params={"offset": 7}).json() == []

    everything = client.get("/api/v1/services").json()
    assert {s["service"]: s["calls"] for s in everything} == calls
    assert all(s["instances"] == 2 for s in everything if s["service"] != "zz-samples-only")


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": 0}, "'limit'"),
        ({"limit": 5001}, "'limit'"),
        ({"limit": "ten"}, "'limit'"),
        ({"offset": -1}, "'offset'"),
    ],
)
def test_a_bad_page_is_a_clear_400(
    make_client: MakeClient, params: dict[str, Any], named: str
) -> None:
    r = make_client(clock=lambda: NOW).get("/api/v1/services", params=params)
    assert r.status_code == 400 and named in r.json()["error"]


class CountingStore:
    """A store that counts the queries made through it."""

    def __init__(self, store: Store) -> None:
        self.store, self.queries = store, 0

    def fetch(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        self.queries += 1
        return self.store.fetch(sql, params)


def test_services_health_makes_the_same_queries_for_3_or_40_services(
    make_client: MakeClient, store: Store
) -> None:
    client = make_client(clock=lambda: NOW)
    records, calls = fleet(40)
    client.post("/api/v1/ingest", json=batch(records))
    counts = []
    for subset in (sorted(calls)[:3], sorted(calls)):
        counting = CountingStore(store)
        health = services_health(counting, NOW, services=subset)  # type: ignore[arg-type]
        assert {h["service"]: h["calls"] for h in health} == {s: calls[s] for s in subset}
        counts.append(counting.queries)
    assert counts[0] == counts[1]
    everything = CountingStore(store)
    assert len(services_health(everything, NOW)) == 41  # type: ignore[arg-type]
    assert everything.queries == counts[0]


def test_the_services_page_pages(make_client: MakeClient) -> None:
    client = make_client(clock=lambda: NOW)
    records, calls = fleet(120)
    client.post("/api/v1/ingest", json=batch(records))

    def listed(html: str) -> list[str]:
        return re.findall(r'href="/services/([^"?]+)"', html)

    first = client.get("/services")
    assert listed(first.text) == sorted(calls)[:100]
    assert "121 services" in first.text and 'href="/services?page=2"' in first.text
    second = client.get("/services", params={"page": 2})
    assert listed(second.text) == sorted(calls)[100:]
    assert 'href="/services?page=1"' in second.text
    # A page that is not a number shows the first, one past the end the last.
    assert listed(client.get("/services", params={"page": "x"}).text) == sorted(calls)[:100]
    assert listed(client.get("/services", params={"page": 9}).text) == sorted(calls)[100:]
