"""The alerts API through the real app: scopes, silences, acknowledgements, rules, history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlvitals.alerts.notifiers import Dispatcher, Retry
from mlvitals.server import create_app
from mlvitals.server.alerts.evaluator import Evaluator
from mlvitals.server.alerts.rules_source import rules_source
from mlvitals.server.database import open_database
from mlvitals.settings import Settings
from mlvitals.store import Store
from tests.alerts.helpers import T0, Clock, Sink, traffic

READ, ADMIN = "reader-token", "admin-token"
RULES = """
rules:
  - name: HighErrorRate
    kind: serving
    metric: error_rate
    threshold: 0.05
    window: 1m
    severity: critical
receivers:
  - name: ops
    webhooks: [{{url: "{url}"}}]
"""


def client_for(store: Store, rules_file: Path, clock: Clock) -> TestClient:
    settings = Settings(rules_file=str(rules_file), tokens=f"{READ}:read;{ADMIN}:admin")
    return TestClient(create_app(settings, store, clock=clock, background=False))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def rules_file(tmp_path: Path, sink: Sink) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.format(url=sink.url))
    return path


def evaluator(store: Store, rules_file: Path, clock: Clock) -> Evaluator:
    dispatcher = Dispatcher("http://x", retry=Retry(backoff=0.0), sleep=lambda s: None)
    return Evaluator(store, rules_source(str(rules_file)), dispatcher=dispatcher, clock=clock)


def test_alerts_silences_and_acks_end_to_end(store: Store, rules_file: Path, sink: Sink) -> None:
    clock = Clock(T0)
    client = client_for(store, rules_file, clock)
    traffic(store, "fraud", T0 - 60, T0 + 3600, errors=10)
    traffic(store, "risk", T0 - 60, T0 + 3600, errors=10)

    # A silence for one service, created before the alerts fire.
    body = {
        "matchers": ["service=fraud"],
        "duration": "30m",
        "comment": "deploy",
        "created_by": "ana",
    }
    assert client.post("/api/v1/silences", json=body, headers=auth(READ)).status_code == 403
    created = client.post("/api/v1/silences", json=body, headers=auth(ADMIN))
    assert created.status_code == 201, created.text
    silence = created.json()
    assert (silence["status"], silence["ends_at"], silence["matchers"]) == (
        "active",
        T0 + 1800,
        ['service="fraud"'],
    )

    ev = evaluator(store, rules_file, clock)
    ev.run_once()
    alerts = client.get("/api/v1/alerts", headers=auth(READ)).json()["alerts"]
    assert {a["labels"]["service"]: a["silenced_by"] for a in alerts} == {
        "fraud": [silence["id"]],
        "risk": [],
    }
    # Only the unsilenced alert was notified.
    assert [[a["labels"]["service"] for a in b["alerts"]] for b in sink.bodies] == [["risk"]]

    # Acknowledge it; ending the silence notifies the other one.
    risk = next(a for a in alerts if a["labels"]["service"] == "risk")
    acked = client.post(f"/api/v1/alerts/{risk['id']}/ack", json={"by": "bo"}, headers=auth(ADMIN))
    assert acked.status_code == 200 and acked.json()["acked_by"] == "bo"
    assert client.post("/api/v1/alerts/nope/ack", headers=auth(ADMIN)).status_code == 404
    ended = client.delete(f"/api/v1/silences/{silence['id']}", headers=auth(ADMIN))
    assert ended.json()["status"] == "expired"
    clock.tick(60)
    ev.run_once()
    assert len(sink.bodies) == 2
    assert {a["labels"]["service"] for a in sink.bodies[1]["alerts"]} == {"fraud", "risk"}

    listed = client.get("/api/v1/silences", headers=auth(READ)).json()["silences"]
    assert listed == []
    everything = client.get("/api/v1/silences?expired=true", headers=auth(READ)).json()["silences"]
    assert [s["id"] for s in everything] == [silence["id"]]

    firing = client.get("/api/v1/alerts?state=firing", headers=auth(READ)).json()["alerts"]
    by_service = {a["labels"]["service"]: a for a in firing}
    assert by_service["risk"]["ack"]["acked_by"] == "bo" and by_service["fraud"]["ack"] is None
    one = client.get(f"/api/v1/alerts/{risk['id']}", headers=auth(READ)).json()
    assert one["alert"]["id"] == risk["id"]
    assert [(h["from"], h["to"]) for h in one["history"]] == [("inactive", "firing")]
    history = client.get("/api/v1/alerts/history", headers=auth(READ)).json()["history"]
    assert len(history) == 2
    deliveries = client.get("/api/v1/alerts/deliveries", headers=auth(READ)).json()["deliveries"]
    assert [d["ok"] for d in deliveries] == [True, True]


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = open_database(str(tmp_path / "a.db"))
    yield s
    s.close()


def test_reading_needs_read_and_changing_needs_admin(sqlite_store: Store, rules_file: Path) -> None:
    client = client_for(sqlite_store, rules_file, Clock())
    for path in ("/api/v1/alerts", "/api/v1/rules", "/api/v1/silences", "/api/v1/alerts/history"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=auth(READ)).status_code == 200
    silence = {"matchers": ["service=fraud"], "duration": "1h"}
    assert client.post("/api/v1/silences", json=silence).status_code == 401
    assert client.post("/api/v1/silences", json=silence, headers=auth(READ)).status_code == 403
    assert client.delete("/api/v1/silences/x", headers=auth(READ)).status_code == 403
    assert client.delete("/api/v1/silences/x", headers=auth(ADMIN)).status_code == 404
    assert client.post("/api/v1/alerts/x/ack", headers=auth(READ)).status_code == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"matchers": ["service"], "duration": "1h"}, "not a matcher"),
        ({"matchers": ["service=~.*"], "duration": "1h"}, "would silence every alert"),
        ({"matchers": ["a=b"]}, "either 'ends_at' or 'duration'"),
        ({"matchers": ["a=b"], "duration": "1h", "ends_at": T0 + 10}, "either 'ends_at'"),
        ({"matchers": ["a=b"], "duration": "soon"}, "'duration': not a duration"),
        ({"matchers": ["a=b"], "ends_at": T0 - 10}, "must end after it starts"),
    ],
)
def test_bad_silences_are_refused_with_the_reason(
    sqlite_store: Store, rules_file: Path, body: dict[str, object], message: str
) -> None:
    client = client_for(sqlite_store, rules_file, Clock(T0))
    reply = client.post("/api/v1/silences", json=body, headers=auth(ADMIN))
    assert reply.status_code == 400 and message in reply.json()["error"], reply.text


def test_rules_show_settings_alert_counts_and_health(sqlite_store: Store, rules_file: Path) -> None:
    clock = Clock(T0)
    client = client_for(sqlite_store, rules_file, clock)
    traffic(sqlite_store, "fraud", T0 - 60, T0, errors=10)
    Evaluator(sqlite_store, rules_source(str(rules_file)), clock=clock).run_once()
    rules = client.get("/api/v1/rules", headers=auth(READ)).json()
    assert rules["source"] == f"rules file {rules_file}"
    (rule,) = rules["rules"]
    assert (rule["name"], rule["kind"], rule["severity"]) == (
        "HighErrorRate",
        "serving",
        "critical",
    )
    assert rule["spec"]["metric"] == "error_rate" and rule["spec"]["window"] == 60.0
    assert rule["alerts"] == {"pending": 0, "firing": 1, "resolved": 0}
    assert rule["health"]["error"] is None and rule["health"]["samples"] == 1


def test_the_default_pack_is_served_without_a_rules_file(sqlite_store: Store) -> None:
    client = TestClient(create_app(Settings(), sqlite_store, background=False))
    rules = client.get("/api/v1/rules").json()
    assert rules["source"] == "default rule pack"
    assert "ErrorBudgetBurn" in [r["name"] for r in rules["rules"]]


def test_a_broken_rules_file_stops_the_app_from_starting(
    sqlite_store: Store, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {name: X, kind: serving, metric: error_rate}\n")
    from mlvitals.errors import ConfigError

    with pytest.raises(ConfigError, match="rule 'X', field 'threshold': is required"):
        create_app(Settings(rules_file=str(bad)), sqlite_store, background=False)
