"""Two servers on one PostgreSQL and a receiver slower than the alert lease: the firing
notification is delivered exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from mlvitals.server.alerts.evaluator import CycleReport
from mlvitals.server.database import open_database
from mlvitals.store import Store
from tests.alerts.helpers import Sink, traffic
from tests.alerts.test_restart import evaluator, ruleset

LEASE = 3.0
RECEIVER_DELAY = 2.5 * LEASE  # under the webhook timeout (10 s): no retry


@pytest.fixture
def two_servers(pg_url: str) -> Iterator[tuple[Store, Store]]:
    """Two independent stores (connection pools) on one database, as two servers have."""
    first, second = open_database(pg_url), open_database(pg_url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
def test_a_receiver_slower_than_the_lease_is_notified_once(
    two_servers: tuple[Store, Store],
) -> None:
    sink = Sink(delay=RECEIVER_DELAY).start()
    try:
        first_store, second_store = two_servers
        now = time.time()
        traffic(first_store, "fraud", now - 120, now + 60, errors=10)
        rules = ruleset(sink.url)
        first = evaluator(first_store, rules, lease_ttl=LEASE)
        second = evaluator(second_store, rules, lease_ttl=LEASE)
        reports: list[CycleReport] = []
        slow = threading.Thread(target=lambda: reports.append(first.run_once()))
        slow.start()
        # The other server keeps trying while the first one waits on the receiver, well
        # past the lease; it must never evaluate and send again.
        deadline = time.monotonic() + 120
        others: list[CycleReport] = []
        while slow.is_alive() and time.monotonic() < deadline:
            others.append(second.run_once())
            time.sleep(LEASE / 5)
        slow.join(timeout=120)
        assert not slow.is_alive()
        assert [b["status"] for b in sink.bodies] == ["firing"]
        assert reports[0].sent == 1
        assert others and all(r.skipped for r in others)
        # Cycles after the delivery: the notification is logged, nobody sends it again.
        for ev in (first, second, first, second):
            ev.run_once()
        assert [b["status"] for b in sink.bodies] == ["firing"]
    finally:
        sink.stop()
