"""Input the stores cannot hold is refused record by record, on both backends; pages survive
whatever a database already holds."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from mlvitals.server import create_app
from mlvitals.server.serving.fast import instance_row, window_row
from mlvitals.settings import Settings
from mlvitals.store import Store
from tests.records import batch, instance_sample, realistic_records
from tests.server.conftest import MakeClient

INT64_MAX = 2**63 - 1


def now_sample(**changes: Any) -> dict[str, Any]:
    return {**instance_sample(t=time.time() - 60), **changes}


def now_window(**changes: Any) -> dict[str, Any]:
    window = next(r for r in realistic_records(10, 5) if r["kind"] == "serving_window")
    return {**window, "start": time.time() - 60, **changes}


def post(client: TestClient, records: list[Any]) -> dict[str, Any]:
    # The standard library writes integers of any size (orjson stops at 2**64).
    r = client.post("/api/v1/ingest", content=json.dumps(batch(records)))
    assert r.status_code == 200, r.text
    reply: dict[str, Any] = r.json()
    return reply


def errors_by_index(reply: dict[str, Any]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for e in reply["errors"]:
        out.setdefault(e["index"], set()).add(e["field"])
    return out


def count(store: Store, table: str) -> int:
    return int(store.fetch(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def test_nul_in_any_text_field_rejects_that_record_alone(client: TestClient, store: Store) -> None:
    run = {
        "kind": "run",
        "run_id": "r-1",
        "event": "fail",
        "time": time.time() - 60,
        "pipeline": "etl",
        "error": {"type": "ValueError", "message": "bad byte \x00 here"},
    }
    records = [
        now_sample(instance="ok-1"),
        now_sample(instance="pod\x001"),
        run,
        now_window(failures={"Bad\x00Error": 1}),
        {**run, "run_id": "r-2", "error": None, "params": {"k\x00": "v"}},
        now_sample(instance="ok-2", time=time.time() - 30),
    ]
    reply = post(client, records)
    assert errors_by_index(reply) == {
        1: {"instance"},
        2: {"error.message"},
        3: {"failures.Bad\\x00Error"},
        4: {"params.k\\x00"},
    }
    assert all("NUL" in e["reason"] or "control" in e["reason"] for e in reply["errors"])
    assert (reply["accepted"], reply["rejected"]) == (2, 4)
    assert count(store, "instance_samples") == 2
    assert count(store, "run_events") == 0


def test_lone_surrogates_reject_their_record_alone(client: TestClient, store: Store) -> None:
    good = orjson.dumps(now_sample(instance="ok")).decode()
    bad = orjson.dumps(now_sample(instance="SURROGATE", time=time.time() - 30)).decode()
    lone = bad.replace("SURROGATE", "pod-\\ud800")
    body = f'{{"batch_id": "{uuid.uuid4()}", "records": [{good}, {lone}]}}'.encode()
    r = client.post("/api/v1/ingest", content=body)
    assert r.status_code == 200, r.text
    assert errors_by_index(r.json()) == {1: {"instance"}}
    assert count(store, "instance_samples") == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rss_bytes", 2**63),
        ("rss_bytes", 2**64 - 1),
        ("open_fds", 2**64),  # parsed as a float, coerced to an integer by the model
        ("rss_bytes", str(2**63)),
        ("cpu_percent", "inf"),
        ("cpu_percent", "NaN"),
    ],
)
def test_numbers_beyond_what_the_stores_hold_reject_their_record(
    client: TestClient, store: Store, field: str, value: Any
) -> None:
    reply = post(client, [now_sample(instance="ok"), now_sample(**{field: value})])
    assert errors_by_index(reply) == {1: {field}}
    assert count(store, "instance_samples") == 1


def test_the_largest_integer_both_stores_hold_is_stored(client: TestClient, store: Store) -> None:
    reply = post(client, [now_sample(rss_bytes=INT64_MAX)])
    assert reply["errors"] == []
    assert store.fetch("SELECT rss_bytes FROM instance_samples")[0]["rss_bytes"] == INT64_MAX


def test_failure_counts_that_overflow_when_summed_reject_the_window(
    client: TestClient, store: Store
) -> None:
    window = now_window(failures={"A": INT64_MAX, "B": INT64_MAX})
    reply = post(client, [window])
    assert errors_by_index(reply) == {0: {"failures"}}
    assert count(store, "serving_windows") == 0


def test_times_far_from_now_are_rejected_naming_the_field(client: TestClient, store: Store) -> None:
    now = time.time()
    records = [
        now_window(start=1e12),  # the year 33658
        now_sample(time=now - 11 * 365 * 86400),
        now_sample(time=now + 3 * 86400),
        now_sample(time=now - 9 * 365 * 86400),
        now_sample(time=now + 3600),
    ]
    reply = post(client, records)
    assert errors_by_index(reply) == {0: {"start"}, 1: {"time"}, 2: {"time"}}
    assert "ahead" in next(e["reason"] for e in reply["errors"] if e["index"] == 2)
    assert count(store, "instance_samples") == 2


def test_the_accepted_time_range_is_configurable(make_client: MakeClient, store: Store) -> None:
    client = make_client(max_record_age=3600.0, max_record_ahead=60.0)
    now = time.time()
    reply = post(client, [now_sample(time=now - 7200), now_sample(time=now - 60)])
    assert errors_by_index(reply) == {0: {"time"}}


def test_names_are_trimmed_and_blank_or_control_names_refused(
    client: TestClient, store: Store
) -> None:
    now = time.time()
    records = [
        now_sample(service="   "),
        now_sample(instance="pod\n1"),
        now_sample(service="bad\x1bname"),
        now_sample(service="  iris  ", instance="\tpod-1 ", time=now - 60),
        now_window(operation="POST /predict\x7f"),
        now_window(service=" fraud "),
    ]
    reply = post(client, records)
    assert errors_by_index(reply) == {
        0: {"service"},
        1: {"instance"},
        2: {"service"},
        4: {"operation"},
    }
    reasons = {e["index"]: e["reason"] for e in reply["errors"]}
    assert "blank" in reasons[0] and "control character" in reasons[1]
    rows = store.fetch("SELECT service, instance FROM instance_samples")
    assert rows == [{"service": "iris", "instance": "pod-1"}]
    assert store.fetch("SELECT service FROM serving_windows") == [{"service": "fraud"}]


def test_a_nul_in_a_query_parameter_or_path_is_a_400(client: TestClient) -> None:
    for path in (
        "/api/v1/services/iris/series?instance=%00",
        "/api/v1/services?x=a%00b",
        "/api/v1/services/ir%00is/instances",
        "/services/ir%00is",
    ):
        r = client.get(path)
        assert r.status_code == 400, (path, r.status_code)
        assert "NUL" in r.json()["error"], path


def test_every_gzip_member_of_a_body_is_read(client: TestClient, store: Store) -> None:
    raw = orjson.dumps(batch([now_sample(instance=f"pod-{i}") for i in range(10)]))
    half = len(raw) // 2
    body = gzip.compress(raw[:half]) + gzip.compress(raw[half:])
    r = client.post("/api/v1/ingest", content=body, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert r.json()["stored"] == 10 and count(store, "instance_samples") == 10
    trailing = gzip.compress(raw) + b"trailing bytes"
    r = client.post("/api/v1/ingest", content=trailing, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 400 and "after the gzip data" in r.json()["error"]


def test_pages_survive_any_time_already_stored(store: Store) -> None:
    # Rows written before times were bounded (or by another tool) must not break a page.
    batch_id = str(uuid.uuid4())
    far = [1e12, -1e12, 1e300]
    windows, samples = [], []
    for i, when in enumerate(far):
        w = window_row(now_window(service="far", instance=f"p{i}"))
        s = instance_row(now_sample(service="far", instance=f"p{i}"))
        assert w is not None and s is not None
        windows.append({**w, "start": when, "batch_id": batch_id})
        samples.append({**s, "time": when, "process_start": when, "batch_id": batch_id})
    store.insert("serving_windows", windows)
    store.insert("instance_samples", samples)
    client = TestClient(create_app(Settings(), store), raise_server_exceptions=False)
    for path in ("/", "/services", "/services/far", "/api/v1/services", "/metrics"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)


SILENCE = {"matchers": ["service=fraud"], "duration": "1h"}


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/silences", {**SILENCE, "comment": "deploy\x00"}, "comment"),
        ("POST", "/api/v1/silences", {**SILENCE, "created_by": "ops-\ud800"}, "created_by"),
        (
            "PUT",
            "/api/v1/cost/budgets/team",
            {"limit": 5, "scope": "service", "subject": "fraud\x00"},
            "subject",
        ),
    ],
)
def test_other_json_bodies_refuse_what_the_stores_cannot_hold(
    client: TestClient, store: Store, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    # Written by the standard library, which escapes a lone surrogate (httpx cannot send it).
    r = client.request(
        method, path, content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", field]
    assert any(word in error["msg"] for word in ("NUL", "surrogate", "unicode"))
    fixed = {**body, field: "fraud"}
    assert client.request(method, path, json=fixed).status_code < 300
