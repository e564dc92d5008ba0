"""POST /api/v1/ingest through the real app, on both backends."""

from __future__ import annotations

import gzip
import uuid

import orjson
from fastapi.testclient import TestClient

from mlvitals.store import Store
from tests.records import batch, instance_sample, samples
from tests.server.conftest import MakeClient


def stored(store: Store) -> int:
    return int(store.fetch("SELECT COUNT(*) AS n FROM instance_samples")[0]["n"])


def test_valid_batch_is_stored(client: TestClient, store: Store) -> None:
    body = batch(samples(50))
    r = client.post("/api/v1/ingest", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "batch_id": body["batch_id"],
        "duplicate": False,
        "accepted": 50,
        "rejected": 0,
        "stored": 50,
        "already_stored": 0,
        "errors": [],
    }
    assert stored(store) == 50


def test_gzip_body_is_accepted(client: TestClient, store: Store) -> None:
    raw = orjson.dumps(batch(samples(20)))
    r = client.post(
        "/api/v1/ingest", content=gzip.compress(raw), headers={"Content-Encoding": "gzip"}
    )
    assert r.status_code == 200 and r.json()["accepted"] == 20
    assert stored(store) == 20


def test_mixed_batch_keeps_valid_records_and_names_the_bad_ones(
    client: TestClient, store: Store
) -> None:
    good = samples(3)
    bad_value = {**instance_sample(t=1.75e9 + 5), "rss_bytes": -1}
    missing = {k: v for k, v in instance_sample(t=1.75e9 + 6).items() if k != "instance"}
    records = [good[0], bad_value, good[1], {"kind": "telemetry"}, missing, "x", good[2]]
    r = client.post("/api/v1/ingest", json=batch(records))
    assert r.status_code == 200
    reply = r.json()
    assert (reply["accepted"], reply["rejected"], reply["stored"]) == (3, 4, 3)
    errors = {(e["index"], e["field"]) for e in reply["errors"]}
    assert errors == {(1, "rss_bytes"), (3, "kind"), (4, "instance"), (5, "")}
    assert "unknown record kind 'telemetry'" in {e["reason"] for e in reply["errors"]}
    assert stored(store) == 3


def test_duplicate_batch_id_is_a_no_op(client: TestClient, store: Store) -> None:
    body = batch(samples(10))
    assert client.post("/api/v1/ingest", json=body).json()["stored"] == 10
    again = client.post("/api/v1/ingest", json=body).json()
    assert again["duplicate"] is True and again["stored"] == 0
    assert stored(store) == 10


def test_resent_records_in_a_new_batch_are_not_double_counted(
    client: TestClient, store: Store
) -> None:
    records = samples(10)
    client.post("/api/v1/ingest", json=batch(records))
    r = client.post("/api/v1/ingest", json=batch(records + samples(5, start=1.75e9))).json()
    assert (r["accepted"], r["stored"], r["already_stored"]) == (15, 5, 10)
    assert stored(store) == 15


def test_malformed_bodies_get_400_naming_the_problem(client: TestClient) -> None:
    cases = {
        b"{not json": "not valid JSON",
        b"": "empty",
        b"[1, 2]": "JSON object",
        orjson.dumps({"records": []}): "'batch_id' is required",
        orjson.dumps({"batch_id": "abc", "records": []}): "not a UUID",
        orjson.dumps({"batch_id": str(uuid.uuid4())}): "'records' is required",
        orjson.dumps({"batch_id": str(uuid.uuid4()), "records": [], "x": 1}): "unknown envelope",
    }
    for body, message in cases.items():
        r = client.post("/api/v1/ingest", content=body)
        assert r.status_code == 400, body
        assert message in r.json()["error"], (body, r.json())
    r = client.post(
        "/api/v1/ingest", content=b"definitely not gzip", headers={"Content-Encoding": "gzip"}
    )
    assert r.status_code == 400 and "gzip" in r.json()["error"]
    truncated = gzip.compress(orjson.dumps(batch(samples(50))))[:-20]
    r = client.post("/api/v1/ingest", content=truncated, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 400 and "gzip" in r.json()["error"]
    r = client.post("/api/v1/ingest", content=b"{}", headers={"Content-Encoding": "br"})
    assert r.status_code == 400 and "Content-Encoding" in r.json()["error"]


def test_oversized_bodies_get_413(make_client: MakeClient, store: Store) -> None:
    client = make_client(max_body_bytes=10_000)
    big = orjson.dumps(batch(samples(200)))
    assert len(big) > 10_000
    r = client.post("/api/v1/ingest", content=big)
    assert r.status_code == 413 and "limit of 10000" in r.json()["error"]
    # A gzip bomb: small on the wire, large once decoded.
    bomb = gzip.compress(b" " * 5_000_000)
    assert len(bomb) < 10_000
    r = client.post("/api/v1/ingest", content=bomb, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 413
    # Chunked upload without Content-Length is counted as it streams.
    r = client.post("/api/v1/ingest", content=iter([big[:6000], big[6000:]]))
    assert r.status_code == 413
    assert stored(store) == 0


def test_server_metrics_count_records_by_kind_and_result(client: TestClient) -> None:
    client.post("/api/v1/ingest", json=batch([*samples(4), {"kind": "bogus"}]))
    client.post("/api/v1/ingest", content=b"nope")
    text = client.get("/metrics").text
    assert 'mlvitals_server_records_total{kind="instance_sample",result="accepted"} 4.0' in text
    assert 'mlvitals_server_records_total{kind="unknown",result="rejected"} 1.0' in text
    assert 'mlvitals_server_batches_total{result="invalid"} 1.0' in text
    assert "mlvitals_server_ingest_duration_seconds_count 1.0" in text
