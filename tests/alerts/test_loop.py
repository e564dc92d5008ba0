"""The alert loop runs inside the server, notifies, and survives a broken rule."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from mlvitals.server import create_app
from mlvitals.server.database import open_database
from mlvitals.settings import Settings
from tests.alerts.helpers import Sink, traffic


def test_the_server_loop_evaluates_and_notifies(tmp_path: Path, sink: Sink) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"""
rules:
  - {{name: Broken, kind: availability, below: 0.9}}
  - {{name: HighErrorRate, kind: serving, metric: error_rate, threshold: 0.05, window: 1m}}
receivers: [{{name: ops, webhooks: [{{url: "{sink.url}"}}]}}]
"""
    )
    store = open_database(str(tmp_path / "loop.db"))
    now = time.time()
    traffic(store, "fraud", now - 60, now + 600, errors=10)
    store.execute("DROP TABLE probe_results")  # the availability rule cannot read its data
    settings = Settings(
        rules_file=str(rules), alert_interval=0.2, external_url="https://mlv.example/"
    )
    app = create_app(settings, store)
    try:
        with TestClient(app) as client:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not sink.bodies:
                time.sleep(0.05)
            alerts = client.get("/api/v1/alerts").json()["alerts"]
            rules_seen = {
                r["name"]: r["health"] for r in client.get("/api/v1/rules").json()["rules"]
            }
        assert [a["labels"]["service"] for a in alerts] == ["fraud"]
        assert len(sink.bodies) == 1
        assert sink.bodies[0]["externalURL"] == "https://mlv.example"
        assert "probe_results" in rules_seen["Broken"]["error"]
        assert rules_seen["HighErrorRate"]["error"] is None
        # Shutting down gave up the lease: the next process evaluates at once.
        lease = store.fetch("SELECT expires_at FROM alert_lease")
        assert [r["expires_at"] for r in lease] == [0.0]
    finally:
        store.close()


def test_one_cycle_sends_to_every_receiver_at_once(tmp_path: Path) -> None:
    """Each receiver answers only once all three were called: sent one after the other, the
    first would wait for the others and fail."""
    import threading

    from mlvitals.alerts.notifiers import Dispatcher, Retry
    from mlvitals.server.alerts.evaluator import Evaluator
    from mlvitals.server.alerts.rules_source import rules_source

    gate = threading.Barrier(3, timeout=10)
    sinks = [Sink(gate=gate).start() for _ in range(3)]
    rules = tmp_path / "rules.yaml"
    hooks = ", ".join(f'{{url: "{s.url}"}}' for s in sinks)
    rules.write_text(
        f"""
rules:
  - {{name: HighErrorRate, kind: serving, metric: error_rate, threshold: 0.05, window: 1m}}
receivers: [{{name: ops, webhooks: [{hooks}]}}]
"""
    )
    store = open_database(str(tmp_path / "cycle.db"))
    try:
        now = time.time()
        traffic(store, "fraud", now - 60, now + 600, errors=10)
        dispatcher = Dispatcher("http://x", retry=Retry(attempts=1), sleep=lambda s: None)
        evaluator = Evaluator(store, rules_source(str(rules)), dispatcher=dispatcher)
        report = evaluator.run_once(now)
        assert (report.sent, report.failed) == (3, 0)
        assert [len(s.bodies) for s in sinks] == [1, 1, 1]
        assert all(s.alerts()[0]["labels"]["service"] == "fraud" for s in sinks)
        evaluator.close()
        dispatcher.close()
    finally:
        store.close()
        for s in sinks:
            s.stop()
