"""A server holding the demo's story with its incidents firing, one alert of every rule kind.

The serving history is the demo's own backfill (:func:`mlvitals.demo.history.backfill`),
with the incidents of the demo written into its last minutes:

- ``replica-b`` fails 30 % of its calls over the last 15 minutes (``HighErrorRate``,
  ``ErrorBudgetBurn``);
- a deployment run of ``tumour-deploy`` puts version ``1.5.0`` on the ``canary`` replica
  ``DEPLOY_AGO`` seconds ago; from then on the canary's calls take 0.6 s more
  (``HighLatencyP90`` for ``version=1.5.0``);
- ``replica-c`` stopped sending 20 minutes ago (``InstanceDown``);
- the uptime probe ``tumour-classifier-replica-c`` points at a closed port
  (``ProbeFailing``);
- the retraining run failed after scikit-learn changed between its environment and the
  previous run's (``PipelineRunFailed``, ``EnvironmentChanged``);
- the latest check of the ``biopsies`` dataset failed and drifted (``DataCheckFailed``,
  ``DatasetDrift``);
- a daily budget on the service is far below what it costs (``BudgetForecastOver``).

Rules use windows long enough that the seeded incidents keep firing while the tests run.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from mlvitals.demo.history import SERVICE, backfill
from mlvitals.pipelines import Environment, HttpSink, RunTracker
from mlvitals.sketches import QuantileSketch

from .datasets_seed import current_frame, reference_frame
from .harness import LiveServer, _free_port, _wait_healthy
from .pipelines_seed import SeedClock, SeedMeter

HISTORY_HOURS = 1.0
INCIDENT = 900.0  # seconds the serving incidents have lasted when the seed ends
DEPLOY_AGO = 900.0
STOPPED_AGO = 1200.0
FEATURES, RETRAIN, DEPLOY = "tumour-features", "tumour-retrain", "tumour-deploy"
DATASET = "biopsies"
BUDGET = "classifier-daily"
PROBE = f"{SERVICE}-replica-c"
NEW_VERSION = "1.5.0"

PACKAGES = {"numpy": "2.1.0", "pandas": "2.2.2", "scikit-learn": "1.5.2", "scipy": "1.14.1"}
ENV = Environment("3.12.4", "cpython", "Linux-6.1-x86_64", PACKAGES)
UPGRADED = Environment(
    "3.12.4", "cpython", "Linux-6.1-x86_64", {**PACKAGES, "scikit-learn": "1.6.0"}
)

# Every rule kind, each with windows the seeded incidents fill for the whole test run.
RULES = """
rules:
  - {name: ServiceDown, kind: absence, duration: 2h, severity: critical}
  - name: InstanceDown
    kind: absence
    group_by: [instance]
    duration: 5m
    forget_after: 6h
    severity: warning
    annotations: {summary: "{service}/{instance} has sent no data for {value:.0f}s"}
  - name: HighErrorRate
    kind: serving
    metric: error_rate
    op: ">"
    threshold: 0.05
    window: 10m
    group_by: [instance]
    min_calls: 20
    severity: critical
    annotations: {summary: "{service} {instance}: {value:.1%} of calls failed"}
  - name: HighLatencyP90
    kind: serving
    metric: latency_p90
    op: ">"
    threshold: 0.4
    window: 10m
    group_by: [version]
    min_calls: 10
    severity: warning
    annotations: {summary: "{service} {version}: p90 latency {value:.3f}s"}
  - name: ErrorBudgetBurn
    kind: burn_rate
    objective: 0.99
    windows: [{long: 1h, short: 10m, factor: 3}]
    min_calls: 20
    severity: critical
  - {name: ProbeFailing, kind: availability, below: 0.5, window: 10m, min_checks: 2,
     severity: critical}
  - {name: PipelineRunFailed, kind: pipeline, condition: failed, severity: critical}
  - {name: EnvironmentChanged, kind: environment_changed, severity: info}
  - {name: DataCheckFailed, kind: check_failed, severity: warning}
  - {name: DatasetDrift, kind: drift, threshold: 0.3, severity: warning}
  - {name: BudgetForecastOver, kind: budget, threshold: 1.0, severity: warning}
"""

KINDS = (
    "absence",
    "serving",
    "burn_rate",
    "availability",
    "pipeline",
    "environment_changed",
    "check_failed",
    "drift",
    "budget",
)


@dataclass
class Incidents:
    """What was seeded, for the tests to compare the pages with."""

    now: float
    failed_run: str = ""
    deploy_run: str = ""
    good_runs: list[str] = field(default_factory=list)


def _sketch(values: np.ndarray) -> dict[str, Any]:
    sketch = QuantileSketch()
    sketch.add_many(values)
    return sketch.to_dict()


def _serving(now: float) -> list[list[dict[str, Any]]]:
    """The demo's backfill with the incidents above written into it."""
    rng = np.random.default_rng(11)
    deployed = now - DEPLOY_AGO
    batches = []
    for batch in backfill(now, HISTORY_HOURS):
        kept = []
        for r in batch:
            t = float(r.get("start", r.get("time", 0.0)))
            if r["instance"] == "replica-a" and t >= now - STOPPED_AGO:
                continue  # this replica stopped (renamed below: replica-c)
            if r["instance"] == "canary":
                r["version"] = NEW_VERSION if t >= deployed else "1.4.0"
            if r["kind"] == "serving_window":
                calls = int(r["calls"])
                if r["instance"] == "canary" and t >= deployed:
                    r["latency"] = _sketch(rng.lognormal(-4.2, 0.35, calls) + 0.6)
                if r["instance"] == "replica-b" and t >= now - INCIDENT:
                    r["failures"] = {"demo.model.ModelError": int(rng.binomial(calls, 0.3))}
            if r["instance"] == "replica-a":
                r["instance"] = "replica-c"
            kept.append(r)
        batches.append(kept)
    return batches


def _post(url: str, records: list[dict[str, Any]]) -> None:
    body = {"batch_id": str(uuid.uuid4()), "records": records}
    reply = httpx.post(f"{url}/api/v1/ingest", json=body, timeout=60)
    reply.raise_for_status()
    assert reply.json()["stored"] == len(records), reply.text


def _runs(url: str, now: float, seeded: Incidents) -> None:
    sink = HttpSink(url, retries=0)
    records: list[dict[str, Any]] = []
    clock = SeedClock(now)
    for k in (4, 3, 2, 1):
        clock.now = now - k * 1800.0
        tracker = RunTracker(
            records.append, clock=clock, environment=lambda: ENV, meter=SeedMeter(clock)
        )
        with (
            tracker.run(FEATURES, kind="data", trigger="schedule") as run,
            run.step("validate") as s,
        ):
            s.output(f"warehouse.{DATASET}", rows=1000)
            clock.advance(40.0)
        seeded.good_runs.append(run.id)
    for env, fail, ago in ((ENV, False, 4 * 3600.0), (UPGRADED, True, 2400.0)):
        clock.now = now - ago
        tracker = RunTracker(
            records.append, clock=clock, environment=lambda e=env: e, meter=SeedMeter(clock)
        )
        try:
            with tracker.run(RETRAIN, kind="training", trigger="drift_alert") as run:
                with run.step("fit"):
                    clock.advance(300.0)
                    if fail:
                        raise TypeError("fit() got an unexpected keyword argument 'sparse'")
                run.set_model_version("1.5.0")
        except TypeError:
            seeded.failed_run = run.id
    clock.now = now - DEPLOY_AGO - 120.0
    tracker = RunTracker(records.append, clock=clock, environment=False, meter=SeedMeter(clock))
    with tracker.run(DEPLOY, kind="deployment", trigger="upstream") as run:
        run.set_model_version(NEW_VERSION)
        run.set_deployment(SERVICE, NEW_VERSION)
        with run.step("rollout"):
            clock.advance(120.0)
    seeded.deploy_run = run.id
    assert sink.send(records), "the server did not take the runs"


def _checks(url: str, now: float) -> None:
    from mlvitals import Monitor

    clock = [now - 3 * 3600.0]
    monitor = Monitor("feature-etl", server=url, background=False, clock=lambda: clock[0])
    reference = reference_frame()
    monitor.check(current_frame(0.0, 1800, 100, False), reference=reference, dataset=DATASET)
    clock[0] = now - 600.0
    monitor.check(current_frame(1.0, 2000, 101, True), reference=reference, dataset=DATASET)
    assert monitor.flush(timeout=30.0), "the checks did not reach the server"
    monitor.close()


def seed_incidents(url: str, now: float) -> Incidents:
    """Send everything above to the server at ``url``."""
    seeded = Incidents(now)
    # Newest first, as the demo sends it: no replica looks silent while it is stored.
    for batch in reversed(_serving(now)):
        _post(url, batch)
    _runs(url, now, seeded)
    _checks(url, now)
    reply = httpx.put(
        f"{url}/api/v1/cost/budgets/{BUDGET}",
        json={"limit": 0.0001, "period": "daily", "scope": "service", "subject": SERVICE},
        timeout=10,
    )
    reply.raise_for_status()
    return seeded


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on a free port: its URL and the payloads it received."""
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def start_incident_server(directory: Path, hook_url: str | None = None) -> LiveServer:
    """``mlvitals serve`` with the rules above (evaluated every second), a probe of a
    closed port, and, with ``hook_url``, a webhook receiver for every alert."""
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    closed = _free_port()
    rules = RULES
    if hook_url is not None:
        rules += f"receivers:\n  - name: hook\n    webhooks:\n      - url: {hook_url}\n"
    (directory / "rules.yaml").write_text(rules)
    (directory / "probes.yaml").write_text(
        "probes:\n"
        f'  - {{name: {PROBE}, url: "tcp://127.0.0.1:{closed}", interval: 1, timeout: 1}}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLVITALS_")}
    env["MLVITALS_PROBES_FILE"] = str(directory / "probes.yaml")
    env["MLVITALS_RULES_FILE"] = str(directory / "rules.yaml")
    env["MLVITALS_ALERT_INTERVAL"] = "1"
    log = directory / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("mlvitals")),
                "serve",
                "--db",
                str(directory / "mlvitals.db"),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    _wait_healthy(server, deadline_s=90.0)  # a busy machine starts Python slowly
    return server


def wait_for_alerts(url: str, rules: set[str], deadline_s: float = 60.0) -> list[dict[str, Any]]:
    """Poll ``GET /api/v1/alerts`` until every rule in ``rules`` fires; the firing alerts."""
    import time

    deadline = time.monotonic() + deadline_s
    firing: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        firing = httpx.get(f"{url}/api/v1/alerts", params={"state": "firing"}, timeout=10).json()[
            "alerts"
        ]
        if rules <= {a["rule"] for a in firing}:
            return firing
        time.sleep(0.5)
    seen = sorted({a["rule"] for a in firing})
    raise AssertionError(f"rules {sorted(rules - set(seen))} did not fire in {deadline_s} s")
