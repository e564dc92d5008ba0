"""HttpSink against a real local HTTP server: the shared retry policy, drops counted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlvitals.pipelines import HttpSink
from tests.sdk.conftest import Receiver, free_port


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def test_5xx_is_retried_with_the_same_batch_and_a_4xx_is_not(receiver: Receiver) -> None:
    receiver.statuses = [503, 502]
    sink = HttpSink(receiver.url, token="t", retries=3, backoff=0.001)
    assert sink.send([{"kind": "run", "n": 1}])
    assert len(receiver.requests) == 3
    assert len({r["body"] for r in receiver.requests}) == 1
    assert receiver.records == [{"kind": "run", "n": 1}]

    receiver.statuses = [400]
    assert not sink.send([{"kind": "run", "n": 2}])
    assert len(receiver.requests) == 4  # refused once, never repeated
    assert (sink.sent, sink.dropped) == (1, 1)


def test_a_dead_server_costs_the_record_never_an_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = HttpSink(f"http://127.0.0.1:{free_port()}", retries=1, backoff=0.001)
    sink({"kind": "run"})
    assert sink.dropped == 1
    assert "dropped 1 record(s): cannot reach the server" in caplog.text
