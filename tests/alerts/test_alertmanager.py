"""Interoperability with a real Alertmanager: pushes through ``POST /api/v2/alerts``, and
the webhook payload it sends is the one mlvitals sends."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from mlvitals.alerts.config import parse_rules
from mlvitals.alerts.grouping import Notification
from mlvitals.alerts.notifiers import Dispatcher, Retry
from mlvitals.alerts.payloads import webhook_payload
from mlvitals.server.alerts.evaluator import Evaluator
from mlvitals.server.alerts.notify_log import load_deliveries
from mlvitals.server.alerts.persistence import load_states
from mlvitals.server.database import open_database
from tests.alerts.helpers import Sink, traffic
from tests.conftest import free_port, require_service

BINARY = "prometheus-alertmanager"


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.fixture
def alertmanager(tmp_path: Path, sink: Sink) -> Iterator[str]:
    binary = shutil.which(BINARY)
    if binary is None:
        require_service(f"{BINARY} is not installed; run scripts/system-deps.sh")
    config = {
        "route": {
            "receiver": "sink",
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {"name": "sink", "webhook_configs": [{"url": sink.url + "/am", "send_resolved": True}]}
        ],
    }
    (tmp_path / "am.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    proc = subprocess.Popen(
        [
            str(binary),
            f"--config.file={tmp_path / 'am.yml'}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(
                f"alertmanager exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            return httpx.get(url + "/-/ready", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_alerts_pushed_to_alertmanager_are_listed_and_resolved(
    alertmanager: str, sink: Sink, tmp_path: Path
) -> None:
    doc = yaml.safe_load(
        f"""
rules:
  - name: HighErrorRate
    kind: serving
    metric: error_rate
    threshold: 0.05
    window: 1m
    severity: critical
    labels: {{team: risk}}
    annotations: {{summary: "{{service}}: {{value:.0%}} of calls fail"}}
receivers:
  - name: am
    alertmanager: [{{url: "{alertmanager}"}}]
"""
    )
    store = open_database(str(tmp_path / "m.db"))
    now = time.time()  # Alertmanager compares endsAt with its own clock
    traffic(store, "fraud", now - 60, now, errors=10)
    traffic(store, "risk", now - 60, now, errors=25)
    dispatcher = Dispatcher("http://mlvitals.local:8765", retry=Retry(backoff=0.1))
    ev = Evaluator(store, parse_rules(doc, "t"), dispatcher=dispatcher)
    report = ev.run_once(now)
    assert report.sent == 1, load_deliveries(store)

    listed = httpx.get(alertmanager + "/api/v2/alerts").json()
    ours = {s.labels["service"]: s for s in load_states(store)["HighErrorRate"].values()}
    assert {a["labels"]["service"] for a in listed} == {"fraud", "risk"}
    for a in listed:
        mine = ours[a["labels"]["service"]]
        assert a["labels"] == dict(mine.labels)
        # Alertmanager computes the fingerprint itself: it must equal ours.
        assert a["fingerprint"] == mine.fingerprint
        assert a["annotations"]["summary"] == mine.annotations["summary"]
        assert a["status"]["state"] == "active"
        # The link leads to the service the alert is about.
        assert a["generatorURL"] == f"http://mlvitals.local:8765/services/{mine.labels['service']}"
    assert ours["risk"].annotations["summary"] == "risk: 50% of calls fail"

    # Alertmanager's own webhook notification has exactly the fields of ours.
    wait_for(lambda: any(p == "/am" for p in sink.paths))
    theirs = sink.bodies[sink.paths.index("/am")]
    assert theirs["version"] == "4"
    n = Notification(
        "sink",
        "webhook/0",
        None,
        theirs["groupKey"],
        {"alertname": "HighErrorRate"},
        tuple(ours.values()),
        None,
    )
    mine_payload = webhook_payload(n, "http://mlvitals.local:8765")
    assert set(mine_payload) == set(theirs)
    assert set(mine_payload["alerts"][0]) == set(theirs["alerts"][0])
    assert theirs["commonLabels"] == mine_payload["commonLabels"]
    assert {a["fingerprint"] for a in theirs["alerts"]} == {a.fingerprint for a in ours.values()}

    # The errors stop: the resolution reaches Alertmanager, which stops listing the alerts
    # and tells its own receiver.
    store.execute("DELETE FROM serving_windows")
    later = time.time()
    traffic(store, "fraud", later - 60, later, errors=0)
    traffic(store, "risk", later - 60, later, errors=0)
    report = ev.run_once(later)
    assert report.sent == 1
    wait_for(lambda: httpx.get(alertmanager + "/api/v2/alerts").json() == [])
    wait_for(lambda: any(b.get("status") == "resolved" for b in sink.bodies))
    ev.close()
    dispatcher.close()
    store.close()
