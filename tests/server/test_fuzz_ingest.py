"""Fuzzing the real ingest endpoint on both stores: hostile text, numbers and times never
fail a batch with a 5xx, and well-formed records sent afterwards arrive.

Records are built as JSON directly: the SDK refuses much of this before it is sent, and a
server must hold against any client.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlvitals.store import Store
from tests.records import instance_sample, realistic_records

HOSTILE_TEXT = st.one_of(
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "\ud800",
            "x\udfff",
            "\ud83d",
            "\x1b[31m",
            "\n",
            "\t x \t",
            "   ",
            "",
            "\u202e",
            "\ufeff",
            "x" * 100_000,
            "é" * 50_000,
        ]
    ),
    st.text(
        alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=[]),
        max_size=50,
    ),
)
EXTREME_NUMBERS = st.sampled_from(
    [
        2**63 - 1,
        2**63,
        2**64 - 1,
        2**64,
        2**100,
        -(2**63),
        -(2**63) - 1,
        -1,
        0,
        1e308,
        -1e308,
        5e-324,
        -0.0,
        "inf",
        "-inf",
        "NaN",
        "1e999",
        True,
        None,
    ]
)
FAR_TIMES = st.sampled_from([0, 1.0, 1e12, -1e12, 1e15, 1e300, 32503680000.0, -62135596800.0])
HOSTILE = st.one_of(HOSTILE_TEXT, EXTREME_NUMBERS, FAR_TIMES, st.builds(lambda: {"\x00": "\ud800"}))


def _bases(now: float) -> list[dict[str, Any]]:
    window = next(r for r in realistic_records(10, 7) if r["kind"] == "serving_window")
    run = {
        "kind": "run",
        "run_id": "run-1",
        "event": "fail",
        "time": now,
        "pipeline": "etl",
        "params": {"lr": 0.1},
        "error": {"type": "ValueError", "message": "boom", "traceback": "..."},
        "resources": {"cpu_seconds": 1.0, "peak_rss_bytes": 10},
    }
    step = {"kind": "step", "run_id": "run-1", "step_id": "s-1", "event": "start", "time": now}
    step["name"] = "load"
    dataset = {
        "kind": "dataset",
        "run_id": "run-1",
        "direction": "input",
        "event": "start",
        "time": now,
        "name": "s3://bucket/data.parquet",
        "files": [{"path": "a.parquet", "bytes": 10, "type": "parquet"}],
    }
    return [
        {**window, "start": now},
        instance_sample(t=now),
        {**instance_sample(t=now), "gpus": [{"index": 0, "name": "H100", "utilization": 0.5}]},
        run,
        step,
        dataset,
    ]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            if k != "kind":
                out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def hostile_record(draw: st.DrawFn) -> dict[str, Any]:
    record = copy.deepcopy(draw(st.sampled_from(_bases(time.time() - 30))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(record)))
        target = record
        for part in path[:-1]:
            target = target[part]
        if draw(st.booleans()) and isinstance(target, dict):
            target[draw(HOSTILE_TEXT)] = draw(HOSTILE)  # a hostile key, too
        else:
            target[path[-1]] = draw(HOSTILE)
    return record


def _body(records: list[Any]) -> bytes:
    # The standard library writes lone surrogates as escapes and integers of any size.
    return json.dumps({"batch_id": str(uuid.uuid4()), "records": records}).encode()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=st.lists(hostile_record(), min_size=1, max_size=8))
def test_hostile_batches_never_fail_and_later_records_arrive(
    client: TestClient, store: Store, records: list[dict[str, Any]]
) -> None:
    r = client.post("/api/v1/ingest", content=_body(records))
    assert r.status_code == 200, r.text
    reply = r.json()
    assert reply["accepted"] + reply["rejected"] == len(records)
    for error in reply["errors"]:
        assert error["field"] or error["reason"], error

    # Well-formed records sent afterwards arrive, whatever came before.
    instance = f"after-{uuid.uuid4().hex[:8]}"
    good = [instance_sample(service="fuzz-after", instance=instance, t=time.time() - 5)]
    r = client.post("/api/v1/ingest", content=_body(good))
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text
    rows = store.fetch("SELECT COUNT(*) AS n FROM instance_samples WHERE instance = ?", [instance])
    assert rows[0]["n"] == 1


def test_pages_answer_after_hostile_input(client: TestClient) -> None:
    now = time.time() - 30
    hostile: list[Any] = []
    for base in _bases(now):
        for value in ("\x00", "\ud800", 2**64, 1e12, "inf", " ", "\x1b"):
            for key in base:
                if key != "kind":
                    hostile.append({**base, key: value})
    r = client.post("/api/v1/ingest", content=_body(hostile))
    assert r.status_code == 200
    for path in (
        "/",
        "/services",
        "/pipelines",
        "/api/v1/services",
        "/api/v1/pipelines",
        "/metrics",
    ):
        assert client.get(path).status_code == 200, path
