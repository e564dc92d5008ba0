"""The store contract: one suite, run unchanged on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from mlvitals.errors import StoreError
from mlvitals.server.areas import MIGRATIONS
from mlvitals.server.database import open_database
from mlvitals.store import Batch, Store
from mlvitals.store.migrations import FOUNDATION


def sample_row(t: float, batch_id: str = "b", instance: str = "i-1") -> dict[str, Any]:
    return {
        "service": "svc",
        "version": "1",
        "instance": instance,
        "time": t,
        "process_start": None,
        "cpu_percent": 12.5,
        "rss_bytes": 1000 + int(t),
        "host_memory_used_bytes": None,
        "host_memory_total_bytes": None,
        "open_fds": 3,
        "cpu_cores_allocated": 2.0,
        "memory_allocated_bytes": 4 * 1024**3,
        "gpus": "[]",
        "batch_id": batch_id,
    }


def count(store: Store, table: str = "instance_samples") -> int:
    return int(store.fetch(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def test_migrations_apply_once_and_reach_latest(store: Store) -> None:
    assert store.schema_version() == max(m.version for m in (*FOUNDATION, *MIGRATIONS))
    assert store.migrate(MIGRATIONS) == []


def test_batch_is_stored_with_its_rows(store: Store) -> None:
    bid = str(uuid.uuid4())
    rows = [sample_row(t, bid) for t in range(10)]
    result = store.write_batch(Batch(bid, 100.0, {"instance_samples": rows}, rejected=2))
    assert (result.duplicate, result.inserted, result.already_stored) == (False, 10, 0)
    assert count(store) == 10
    got = store.fetch("SELECT accepted, rejected, inserted FROM ingest_batches")
    assert got == [{"accepted": 10, "rejected": 2, "inserted": 10}]


def test_duplicate_batch_id_writes_nothing(store: Store) -> None:
    bid = str(uuid.uuid4())
    rows = [sample_row(t, bid) for t in range(5)]
    store.write_batch(Batch(bid, 1.0, {"instance_samples": rows}))
    again = store.write_batch(Batch(bid, 2.0, {"instance_samples": [sample_row(99, bid)]}))
    assert again.duplicate and again.inserted == 0
    assert count(store) == 5
    assert count(store, "ingest_batches") == 1


def test_natural_key_never_double_counts(store: Store) -> None:
    first = [sample_row(t, "a") for t in range(5)]
    store.write_batch(Batch(str(uuid.uuid4()), 1.0, {"instance_samples": first}))
    overlap = [sample_row(t, "b") for t in range(3, 8)]
    result = store.write_batch(Batch(str(uuid.uuid4()), 2.0, {"instance_samples": overlap}))
    assert (result.inserted, result.already_stored) == (3, 2)
    assert count(store) == 8


def test_fetch_binds_parameters_and_returns_dicts(store: Store) -> None:
    store.insert("instance_samples", [sample_row(t) for t in range(4)])
    rows = store.fetch(
        "SELECT time, rss_bytes FROM instance_samples WHERE time >= ? ORDER BY time", (2.0,)
    )
    assert rows == [{"time": 2.0, "rss_bytes": 1002}, {"time": 3.0, "rss_bytes": 1003}]
    # A literal percent sign must survive the placeholder translation on PostgreSQL.
    assert store.fetch("SELECT COUNT(*) AS n FROM instance_samples WHERE service LIKE 's%'") == [
        {"n": 4}
    ]


def test_execute_reports_rows_affected(store: Store) -> None:
    store.insert("instance_samples", [sample_row(t) for t in range(4)])
    assert store.execute("DELETE FROM instance_samples WHERE time < ?", (2.0,)) == 2
    assert count(store) == 2


def test_failed_write_keeps_store_usable(store: Store) -> None:
    with pytest.raises(StoreError):
        store.insert("instance_samples", [{**sample_row(1), "service": None}])
    assert count(store) == 0
    store.insert("instance_samples", [sample_row(1)])
    assert count(store) == 1


def test_bad_query_raises_store_error(store: Store) -> None:
    with pytest.raises(StoreError):
        store.fetch("SELECT nope FROM nowhere")


def test_concurrent_writers_lose_and_double_nothing(store: Store) -> None:
    """Eight threads send overlapping batches, some twice: every record lands once."""
    ids = [str(uuid.uuid4()) for _ in range(40)]
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(k, 40, 4):  # two threads share each batch id
                rows = [sample_row(i * 10 + j, ids[i]) for j in range(15)]  # overlaps next
                store.write_batch(Batch(ids[i], 1.0, {"instance_samples": rows}))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k % 4,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert count(store, "ingest_batches") == 40
    assert count(store) == 39 * 10 + 15
    stored = store.fetch("SELECT SUM(inserted) AS n FROM ingest_batches")[0]["n"]
    assert int(stored) == 39 * 10 + 15


def test_data_survives_reopen(store_url: str) -> None:
    first = open_database(store_url)
    first.write_batch(Batch(str(uuid.uuid4()), 1.0, {"instance_samples": [sample_row(1)]}))
    first.close()
    second = open_database(store_url)
    try:
        assert count(second) == 1
    finally:
        second.close()


def test_execute_many_upserts_in_one_call(store: Store) -> None:
    store.insert("instance_samples", [sample_row(t) for t in range(3)])
    n = store.execute_many(
        "UPDATE instance_samples SET rss_bytes = ? WHERE time = ?", [(7, 0.0), (8, 1.0), (9, 5.0)]
    )
    assert n == 2
    rows = store.fetch("SELECT rss_bytes FROM instance_samples ORDER BY time")
    assert [r["rss_bytes"] for r in rows] == [7, 8, 1002]
