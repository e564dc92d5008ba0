"""Shipping over real HTTP: format, auth, retries, refusals, a server that goes away."""

from __future__ import annotations

import gzip
import json
import socket
import time
import uuid
from typing import Any

import pytest
from prometheus_client import generate_latest

from mlvitals import Monitor
from mlvitals.sdk import HttpTransport
from tests.sdk.conftest import FakeClock, Receiver, free_port, validate_wire


def records(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"kind": "test", "n": i} for i in range(start, start + n)]


def fast(url: str, **kw: Any) -> HttpTransport:
    return HttpTransport(url, backoff=0.01, max_backoff=0.05, timeout=2.0, **kw)


def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_batches_are_gzip_json_with_a_batch_id_and_bearer_token(receiver: Receiver) -> None:
    t = fast(receiver.url, token="s3cret", batch_size=4)
    t.send(records(10))
    assert t.flush(5)
    assert [len(b["records"]) for b in receiver.batches] == [4, 4, 2]
    assert [r["n"] for r in receiver.records] == list(range(10))
    for req in receiver.requests:
        assert req["path"] == "/api/v1/ingest"
        assert req["headers"]["Authorization"] == "Bearer s3cret"
        assert req["headers"]["Content-Encoding"] == "gzip"
        assert req["headers"]["Content-Type"] == "application/json"
    for b in receiver.batches:
        assert uuid.UUID(b["batch_id"]).version == 4
    assert t.sent == 10 and t.dropped == 0
    t.close(1)


def test_no_token_no_authorization_header(receiver: Receiver) -> None:
    t = fast(receiver.url)
    t.send(records(1))
    assert t.flush(5)
    assert "Authorization" not in receiver.requests[0]["headers"]
    t.close(1)


def test_5xx_and_429_are_retried_with_the_same_batch_id(receiver: Receiver) -> None:
    receiver.statuses = [503, 429, 500]
    receiver.retry_after = "0"
    t = fast(receiver.url)
    t.send(records(3))
    assert t.flush(5)
    assert len(receiver.requests) == 4
    assert len({r["body"] for r in receiver.requests}) == 1  # the very same body each time
    assert [r["n"] for r in receiver.records] == [0, 1, 2]
    t.close(1)


def test_4xx_is_not_retried_and_the_batch_is_counted_as_rejected(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.statuses = [400]
    t = fast(receiver.url, batch_size=2)
    t.send(records(4))
    assert t.flush(5)
    assert len(receiver.requests) == 2  # the refused batch once, then the next batch
    assert t.rejected == 2 and t.sent == 2 and t.dropped == 2
    assert "dropped 2 records (refused by the server: 2)" in caplog.text
    assert "answered HTTP 400: nope" in caplog.text
    assert caplog.records[-1].levelname == "ERROR"
    t.close(1)


def test_backoff_grows_exponentially_with_jitter() -> None:
    picks = iter([0.0, 1.0, 0.5, 1.0, 1.0, 1.0])
    t = HttpTransport("http://127.0.0.1:1", backoff=1.0, max_backoff=8.0, rng=lambda: next(picks))
    delays = [t._delay(a, None) for a in range(4)]
    assert delays == [0.5, 2.0, 3.0, 8.0]  # d in [1, 2, 4, 8], a pick in [d/2, d]
    assert t._delay(10, retry_after=5.0) == 8.0  # capped at max_backoff
    assert t._delay(0, retry_after=100.0) == 8.0
    t.close(0)


def test_server_down_then_back_bounded_buffer_counts_drops_and_recovers() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t = fast(url, max_buffer=50, batch_size=10)
    # Nobody listens: the first batch is in flight, retried; the buffer keeps the newest 50.
    t.send(records(10))
    wait_until(lambda: t.pending == 10 and t._in_flight == 10)
    for i in range(10):
        t.send(records(10, start=10 + i * 10))
    assert t.pending <= 50 + 10  # bounded: the buffer plus one batch in flight
    assert t.dropped == 50
    assert not t.flush(0.2)  # cannot finish while the server is down

    receiver = Receiver(port).start()
    try:
        assert t.flush(5)
        got = sorted(r["n"] for r in receiver.records)
        # The batch in flight when the server went away, then the newest 50 records.
        assert got == list(range(10)) + list(range(60, 110))
        assert t.dropped == 50 and t.sent == 60
        # It keeps working.
        t.send(records(1, start=500))
        assert t.flush(5)
        assert receiver.records[-1]["n"] == 500
    finally:
        t.close(1)
        receiver.stop()


def test_a_receiver_stopped_and_restarted_on_the_same_port() -> None:
    receiver = Receiver().start()
    t = fast(receiver.url)
    try:
        t.send(records(2))
        assert t.flush(5)
        receiver.stop()
        t.send(records(3, start=2))
        assert not t.flush(0.3)
        receiver = Receiver(receiver.port).start()
        assert t.flush(5)
        assert [r["n"] for r in receiver.records] == [2, 3, 4]
    finally:
        t.close(1)
        receiver.stop()


def test_close_counts_what_it_could_not_send() -> None:
    t = fast(f"http://127.0.0.1:{free_port()}", batch_size=5)
    t.send(records(12))
    assert not t.close(0.2)
    assert t.dropped == 12 and t.sent == 0
    t.send(records(1))  # after close: dropped, never raises
    assert t.dropped == 13


def test_monitor_ships_windows_to_a_real_receiver(receiver: Receiver) -> None:
    m = Monitor("svc", version="2", server=receiver.url, token="tok", nvml=False)
    try:
        predict = m.track("predict")(lambda x: x)
        for i in range(25):
            predict(i)
        assert m.flush(5)
    finally:
        m.close()
    shipped = receiver.records
    validate_wire(shipped)
    windows = [r for r in shipped if r["kind"] == "serving_window"]
    assert sum(w["calls"] for w in windows) == 25
    assert {w["instance"] for w in windows} == {m.instance}
    assert any(r["kind"] == "instance_sample" for r in shipped)
    assert receiver.requests[0]["headers"]["Authorization"] == "Bearer tok"


def test_the_model_never_waits_for_a_dead_server() -> None:
    m = Monitor("svc", server=f"http://127.0.0.1:{free_port()}", window=0.05, nvml=False)
    predict = m.track("predict")(lambda: None)
    started = time.perf_counter()
    for _ in range(2_000):
        predict()
    elapsed = time.perf_counter() - started
    m.flush(0.2)
    m.close(0.1)
    assert elapsed < 1.0  # 2,000 calls: microseconds each, whatever the server does


def test_monitor_with_the_server_away_drops_the_oldest_then_recovers() -> None:
    port = free_port()
    clock = FakeClock(1_000.0)
    transport = fast(f"http://127.0.0.1:{port}", max_buffer=6, batch_size=2)
    m = Monitor("svc", transport=transport, background=False, nvml=False, clock=clock, window=10.0)
    predict = m.track("predict")(lambda: None)
    for _ in range(10):  # ten windows of one call: 20 records (window + instance sample)
        predict()
        clock.advance(10)
        m.collect()
    wait_until(lambda: transport._in_flight == 2)
    assert m.dropped_records == 20 - 6 - 2  # all but the buffer and the batch in flight
    exposition = generate_latest(m.prometheus_registry).decode()
    assert 'mlvitals_sdk_dropped_records_total{service="svc",version=""} 12.0' in exposition

    receiver = Receiver(port).start()
    try:
        assert m.flush(5)
        windows = [r for r in receiver.records if r["kind"] == "serving_window"]
        starts = sorted(w["start"] for w in windows)
        # The first window (in flight all along), then the newest three: 1070, 1080, 1090.
        assert starts == [1000.0, 1070.0, 1080.0, 1090.0]
        assert len(receiver.records) == 2 + 6  # the batch in flight and the buffer
    finally:
        m.close(1)
        receiver.stop()


def poisoned(batch: dict[str, Any]) -> bool:
    return any(r.get("poison") for r in batch["records"])


def test_a_batch_the_server_fails_forever_is_dropped_and_newer_records_still_ship(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.fails = poisoned
    t = fast(receiver.url, batch_size=2, attempts=3)
    try:
        t.send([{"kind": "test", "n": -1, "poison": True}, {"kind": "test", "n": -2}])
        t.send(records(4))
        wait_until(lambda: len(receiver.records) == 4)
        assert [r["n"] for r in receiver.records] == [0, 1, 2, 3]
        assert t.flush(5)
        tries = [r for r in receiver.requests if poisoned(json.loads(gzip.decompress(r["body"])))]
        assert len(tries) == 3  # bounded: the poisoned batch was tried three times in all
        assert t.failed == 2 and t.dropped == 2 and t.sent == 4
        assert "dropped 2 records" in caplog.text and "HTTP 500" in caplog.text
    finally:
        t.close(1)


def test_close_returns_within_its_timeout_when_the_server_never_answers() -> None:
    with socket.socket() as silent:  # the kernel accepts connections; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        t = HttpTransport(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=60.0)
        t.send(records(3))
        wait_until(lambda: t._in_flight == 3)
        started = time.monotonic()
        assert not t.close(timeout=1.0)
        elapsed = time.monotonic() - started
    # A reply would take the request's 60 s timeout; close must give up at its own 1 s.
    assert 0.9 <= elapsed < 1.5


def test_monitor_close_returns_within_its_timeout_when_the_server_never_answers() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        m = Monitor("svc", server=f"http://127.0.0.1:{silent.getsockname()[1]}", nvml=False)
        m.track("predict")(lambda: None)()
        m.flush(0.1)
        started = time.monotonic()
        assert not m.close(timeout=1.0)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5


def test_drops_are_logged_at_most_once_per_interval_with_their_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(0.0)
    t = fast(f"http://127.0.0.1:{free_port()}", max_buffer=5, batch_size=5, clock=clock)
    try:
        t.send(records(5))
        wait_until(lambda: t._in_flight == 5)
        for _ in range(30):  # the buffer keeps the newest 5 of 180 records
            t.send(records(6))
        t.send(records(5))
        drops = [r for r in caplog.records if "dropped" in r.getMessage()]
        assert len(drops) == 1 and "buffer full" in drops[0].getMessage()
        clock.advance(61)
        t.send(records(1))
        drops = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
        assert len(drops) == 2
        assert t.dropped == (180 - 5) + 5 + 1
        # The second line counts every drop since the first one was logged.
        first = int(drops[0].split("dropped ")[1].split()[0])
        second = int(drops[1].split("dropped ")[1].split()[0])
        assert first + second == t.dropped
    finally:
        t.close(0)
