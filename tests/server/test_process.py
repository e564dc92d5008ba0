"""The real server process: durability across kill -9, graceful shutdown, two servers on
one PostgreSQL, the bind refusal."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson

from mlvitals.server.database import open_database
from tests.conftest import ServerProcess, free_port
from tests.records import batch, samples

# Within the accepted time range and the raw retention, so every record stays stored.
RECENT = time.time() - 6 * 3600


def count(db: str) -> int:
    store = open_database(db)
    try:
        return int(store.fetch("SELECT COUNT(*) AS n FROM instance_samples")[0]["n"])
    finally:
        store.close()


def test_kill_9_right_after_ack_loses_nothing(
    tmp_path: Path, server_factory: type[ServerProcess]
) -> None:
    db = str(tmp_path / "durable.db")
    server = server_factory(db)
    acked = 0
    with httpx.Client(base_url=server.url) as client:
        for i in range(20):
            r = client.post("/api/v1/ingest", json=batch(samples(250, start=RECENT + i * 1000)))
            assert r.status_code == 200
            acked += r.json()["stored"]
    server.proc.send_signal(signal.SIGKILL)  # no shutdown hook runs
    server.proc.wait()
    assert count(db) == acked == 5000
    restarted = server_factory(db)
    summary = httpx.get(restarted.url + "/api/v1/summary").json()
    assert summary["records"] == 5000 and summary["batches"] == 20


def test_sigterm_finishes_in_flight_batches(
    tmp_path: Path, server_factory: type[ServerProcess]
) -> None:
    db = str(tmp_path / "graceful.db")
    server = server_factory(db)
    replies: list[int] = []
    started = threading.Barrier(7)

    def send(i: int) -> None:
        raw = orjson.dumps(batch(samples(2000, start=RECENT + i * 10_000)))

        def slow_body() -> Iterator[bytes]:
            yield raw[:1000]
            started.wait()  # every request is in flight when SIGTERM arrives
            time.sleep(0.5)
            yield raw[1000:]

        r = httpx.post(server.url + "/api/v1/ingest", content=slow_body(), timeout=30)
        replies.append(r.json()["stored"])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    started.wait()
    server.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join()
    # uvicorn re-raises the signal once shutdown is complete, hence -SIGTERM.
    assert server.proc.wait(30) in (0, -signal.SIGTERM)
    output = server.proc.stdout.read() if server.proc.stdout else ""
    assert "Application shutdown complete" in output
    assert replies == [2000] * 6
    assert count(db) == sum(replies)


def test_two_servers_on_one_postgres_lose_and_double_nothing(
    pg_url: str, server_factory: type[ServerProcess]
) -> None:
    a, b = server_factory(pg_url), server_factory(pg_url)
    bodies = [batch(samples(300, start=RECENT + i * 200)) for i in range(30)]  # rows overlap
    errors: list[str] = []

    def send(url: str, chunk: list[dict[str, object]]) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            for body in chunk:
                r = client.post("/api/v1/ingest", json=body)
                if r.status_code != 200:
                    errors.append(r.text)

    # Every batch goes to both servers at once; each record overlaps its neighbour batch.
    threads = [
        threading.Thread(target=send, args=(a.url, bodies)),
        threading.Thread(target=send, args=(b.url, bodies[::-1])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    store = open_database(pg_url)
    try:
        n = store.fetch("SELECT COUNT(*) AS n FROM instance_samples")[0]["n"]
        batches = store.fetch("SELECT COUNT(*) AS n, SUM(inserted) AS s FROM ingest_batches")[0]
    finally:
        store.close()
    assert n == 29 * 200 + 300
    assert (batches["n"], batches["s"]) == (30, n)


def test_non_loopback_bind_is_refused_without_tokens(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "mlvitals.cli", "serve", "--db", str(tmp_path / "x.db")]
    out = subprocess.run([*cmd, "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "refusing to bind 0.0.0.0 without authentication" in out.stderr


def test_non_loopback_bind_with_tokens_or_insecure_starts(
    tmp_path: Path, server_factory: type[ServerProcess]
) -> None:
    port = free_port()
    server = server_factory(str(tmp_path / "a.db"), "--host", "0.0.0.0", "--insecure", port=port)
    assert httpx.get(server.url + "/healthz").json()["status"] == "ok"
    token = "tok-" + uuid.uuid4().hex
    other = server_factory(str(tmp_path / "b.db"), "--host", "0.0.0.0", "--tokens", f"{token}:read")
    assert httpx.get(other.url + "/api/v1/summary").status_code == 401
    ok = httpx.get(other.url + "/api/v1/summary", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200


def test_two_workers_share_one_sqlite_file(
    tmp_path: Path, server_factory: type[ServerProcess]
) -> None:
    db = str(tmp_path / "workers.db")
    server = server_factory(db, "--workers", "2")
    bodies = [batch(samples(200, start=RECENT + i * 200)) for i in range(24)]
    stored: list[int] = []

    def send(chunk: list[dict[str, object]]) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for body in chunk:
                stored.append(client.post("/api/v1/ingest", json=body).json()["stored"])

    threads = [threading.Thread(target=send, args=(bodies[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stored == [200] * 24
    assert count(db) == 24 * 200
